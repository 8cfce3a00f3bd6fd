#ifndef PORTCTL_CNFTGENERATION_H
#define PORTCTL_CNFTGENERATION_H
/* What libnftables knows but does not export: the kernel's ruleset generation (NFT_MSG_GETGEN),
   a table's handle without a listing, the network namespace's cookie, and the hand-over of the
   netlink sockets at exit. Plain C in its own target: the system headers it needs
   (sys/socket.h, linux/netlink.h) must not be compiled into a Swift-imported module, where they
   clash with Glibc's. */
#include <stdint.h>

/* A netlink socket for portctl_nft_generation, or -1. Keep it open for the life of the process:
   the kernel makes the release of a netfilter netlink socket wait for the previous commit's
   clean-up (an RCU grace period, 10-15 ms), and a socket closed right after a commit pays it there
   and then, where one closed at exit overlaps it with everything done in between. */
int portctl_nft_generation_socket(void);

/* The network namespace's cookie (Linux 5.14+), never reused within a boot, unlike its inode
   number. Returns 0 and sets *cookie, or -1. */
int portctl_netns_cookie(int fd, uint64_t *cookie);

/* The ruleset generation (NFT_MSG_GETGEN), which the kernel increments on every nftables commit.
   Returns 0 and sets *generation, or -1. One request, one reply, a 1-second bound. */
int portctl_nft_generation(int fd, uint32_t sequence, uint32_t *generation);

/* The handle of table FAMILY NAME (NFT_MSG_GETTABLE for that one table): what libnftables'
   `list tables` would say of it, without loading the library or dumping every table. Returns 0 and
   sets *handle, 1 when there is no such table, or -1 (*error set to the kernel's errno when it
   refused). One request, one reply, a 1-second bound; nothing is changed. */
/* Hands this process's netfilter netlink sockets to a child that outlives it by the kernel's
   clean-up after a commit. Closing the last reference to such a socket waits for that clean-up (an
   RCU grace period, 10-15 ms, which `nft -f` also waits at its exit); the child holds copies of
   them, and nothing else, not even standard output, until this process has exited (the end of a
   pipe, at most 5 s), then exits and pays the wait itself. Call it just before exiting, once a
   commit was made. Returns 1 when a child took them, 0 when there were none, -1 on failure
   (nothing changed: the sockets close at exit as before). */
int portctl_nft_hand_over_sockets(void);

int portctl_nft_table_handle(int fd, uint32_t sequence, uint8_t family, const char *name, uint64_t *handle, int *error);

#endif
