#ifndef PORTCTL_CNFTGENERATION_H
#define PORTCTL_CNFTGENERATION_H
/* What libnftables knows but does not export: the kernel's ruleset generation (NFT_MSG_GETGEN)
   and the network namespace's cookie. Plain C in its own target: the system headers it needs
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

#endif
