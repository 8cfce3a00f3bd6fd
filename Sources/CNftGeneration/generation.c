#define _GNU_SOURCE
#include "CNftGeneration.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int is_netfilter_socket(int fd) {
    int domain = 0, protocol = 0;
    socklen_t length = sizeof domain;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) != 0 || domain != AF_NETLINK) return 0;
    length = sizeof protocol;
    return getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &length) == 0 && protocol == NETLINK_NETFILTER;
}

static int compare_fds(const void *left, const void *right) {
    int a = *(const int *)left, b = *(const int *)right;
    return (a > b) - (a < b);
}

int portctl_nft_hand_over_sockets(void) {
    /* What is open, read before the fork: the child may only make async-signal-safe calls. */
    int open_fds[1024];
    int kept_fds[64];
    int kept = 0, count = 0;
    DIR *directory = opendir("/proc/self/fd");
    if (!directory) return -1;
    int scanning = dirfd(directory);
    struct dirent *entry;
    while ((entry = readdir(directory)) != NULL) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        int fd = atoi(entry->d_name);
        if (fd == scanning) continue;
        if (count == (int)(sizeof open_fds / sizeof open_fds[0])) {
            closedir(directory);
            return -1;
        }
        if (is_netfilter_socket(fd) && kept < (int)(sizeof kept_fds / sizeof kept_fds[0]) - 1) {
            kept_fds[kept++] = fd;
        } else {
            open_fds[count++] = fd;
        }
    }
    closedir(directory);
    if (kept == 0) return 0;
    int lifeline[2];
    if (pipe2(lifeline, O_CLOEXEC) != 0) return -1;
    kept_fds[kept++] = lifeline[0];
    qsort(kept_fds, (size_t)kept, sizeof kept_fds[0], compare_fds);
    pid_t child = fork();
    if (child < 0) {
        close(lifeline[0]);
        close(lifeline[1]);
        return -1;
    }
    if (child == 0) {
        /* Everything but the sockets and the lifeline, also what another thread opened since the
           scan: close_range over the gaps (Linux 5.9); before that kernel, what the scan saw. */
        unsigned int from = 0;
        int ranged = 1;
        for (int index = 0; index <= kept && ranged; index++) {
            unsigned int to = index < kept ? (unsigned int)kept_fds[index] : ~0U;
            if (to > from && syscall(SYS_close_range, from, index < kept ? to - 1 : ~0U, 0) != 0) ranged = 0;
            if (index < kept) from = (unsigned int)kept_fds[index] + 1;
        }
        if (!ranged) {
            for (int index = 0; index < count; index++) close(open_fds[index]);
            close(lifeline[1]);
        }
        struct pollfd poller = {.fd = lifeline[0], .events = POLLIN};
        poll(&poller, 1, 5000);
        _exit(0);
    }
    /* The write end stays open, unused, until this process exits: then the child sees end-of-file. */
    close(lifeline[0]);
    return 1;
}

int portctl_nft_generation_socket(void) {
    return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
}

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

/* The network namespace's cookie (Linux 5.14+): unlike its inode number, never reused within a
   boot, so a namespace made anew is never taken for the one a generation was applied in.
   Returns 0 and sets *cookie, or -1. */
int portctl_netns_cookie(int fd, uint64_t *cookie) {
    socklen_t length = sizeof *cookie;
    return getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, cookie, &length) == 0 && length == sizeof *cookie ? 0 : -1;
}

/* An nftables request: the netlink header, the nfgenmsg, and room for one attribute (a name). */
struct nft_request {
    struct nlmsghdr header;
    struct nfgenmsg body;
    char payload[NLA_HDRLEN + 256 + 4];
};

/* A request of `type` for `family`, with no attribute yet. */
static void start_request(struct nft_request *request, uint16_t type, uint8_t family, uint32_t sequence) {
    memset(request, 0, sizeof *request);
    request->header.nlmsg_len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
    request->header.nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
    request->header.nlmsg_flags = NLM_F_REQUEST;
    request->header.nlmsg_seq = sequence;
    request->body.nfgen_family = family;
    request->body.version = NFNETLINK_V0;
}

/* Sends the request to the kernel. Returns 0, or -1. */
static int send_request(int fd, const struct nft_request *request) {
    struct sockaddr_nl kernel;
    memset(&kernel, 0, sizeof kernel);
    kernel.nl_family = AF_NETLINK;
    ssize_t length = (ssize_t)request->header.nlmsg_len;
    return sendto(fd, request, (size_t)length, 0, (struct sockaddr *)&kernel, sizeof kernel) == length ? 0 : -1;
}

/* Waits up to a second for the reply to request `sequence`, skipping late replies to earlier ones.
   Returns it, or NULL. */
static struct nlmsghdr *receive_reply(int fd, uint32_t sequence, void *buffer, size_t size) {
    for (int attempt = 0; attempt < 8; attempt++) {
        struct pollfd poller = {.fd = fd, .events = POLLIN};
        ssize_t length = poll(&poller, 1, 1000) == 1 ? recv(fd, buffer, size, 0) : -1;
        if (length < (ssize_t)NLMSG_HDRLEN) return NULL;
        struct nlmsghdr *reply = (struct nlmsghdr *)buffer;
        if (!NLMSG_OK(reply, (size_t)length)) return NULL;
        if (reply->nlmsg_seq != sequence) continue;
        return reply;
    }
    return NULL;
}

/* The payload of attribute `type` (at least `size` bytes) of an nftables reply, or NULL. */
static const void *find_attribute(const struct nlmsghdr *reply, uint16_t type, size_t size) {
    size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
    while (offset + NLA_HDRLEN <= reply->nlmsg_len) {
        const struct nlattr *attribute = (const struct nlattr *)((const char *)reply + offset);
        if (attribute->nla_len < NLA_HDRLEN || offset + attribute->nla_len > reply->nlmsg_len) return NULL;
        if ((attribute->nla_type & NLA_TYPE_MASK) == type && attribute->nla_len >= NLA_HDRLEN + size)
            return (const char *)attribute + NLA_HDRLEN;
        offset += NLA_ALIGN(attribute->nla_len);
    }
    return NULL;
}

/* One table's handle (NFT_MSG_GETTABLE): 0 and *handle set, 1 for no such table, or -1. */
int portctl_nft_table_handle(int fd, uint32_t sequence, uint8_t family, const char *name, uint64_t *handle, int *error) {
    size_t name_length = strlen(name) + 1;
    if (name_length > 256) return -1;
    struct nft_request request;
    start_request(&request, NFT_MSG_GETTABLE, family, sequence);
    struct nlattr attribute = {.nla_len = (uint16_t)(NLA_HDRLEN + name_length), .nla_type = NFTA_TABLE_NAME};
    memcpy(request.payload, &attribute, sizeof attribute);
    memcpy(request.payload + NLA_HDRLEN, name, name_length);
    request.header.nlmsg_len += NLA_ALIGN(attribute.nla_len);
    if (send_request(fd, &request) != 0) return -1;
    uint32_t buffer[2048];
    struct nlmsghdr *reply = receive_reply(fd, sequence, buffer, sizeof buffer);
    if (!reply) return -1;
    if (reply->nlmsg_type == NLMSG_ERROR) {
        if (reply->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nlmsgerr)) return -1;
        int code = -((struct nlmsgerr *)NLMSG_DATA(reply))->error;
        if (code == ENOENT) return 1;
        *error = code;
        return -1;
    }
    if (reply->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE)) return -1;
    const void *value = find_attribute(reply, NFTA_TABLE_HANDLE, 8);
    if (!value) return -1;
    uint64_t big_endian;
    memcpy(&big_endian, value, 8);
    *handle = be64toh(big_endian);
    return 0;
}

/* The ruleset generation (NFT_MSG_GETGEN), which the kernel increments on every nftables commit.
   libnftables reads it for its cache but does not export it. Returns 0 and sets *generation, or
   -1. One request, one reply, a 1-second bound; nothing is changed. */
int portctl_nft_generation(int fd, uint32_t sequence, uint32_t *generation) {
    struct nft_request request;
    start_request(&request, NFT_MSG_GETGEN, AF_UNSPEC, sequence);
    if (send_request(fd, &request) != 0) return -1;
    uint32_t buffer[1024];
    struct nlmsghdr *reply = receive_reply(fd, sequence, buffer, sizeof buffer);
    if (!reply || reply->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg)) return -1;
    if (reply->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN)) return -1;
    const void *value = find_attribute(reply, NFTA_GEN_ID, 4);
    if (!value) return -1;
    uint32_t big_endian;
    memcpy(&big_endian, value, 4);
    *generation = ntohl(big_endian);
    return 0;
}
