#include "CNftGeneration.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* The ruleset generation (NFT_MSG_GETGEN), which the kernel increments on every nftables commit.
   libnftables reads it for its cache but does not export it. Returns 0 and sets *generation, or
   -1. One request, one reply, a 1-second bound; nothing is changed. */
int portctl_nft_generation(int fd, uint32_t sequence, uint32_t *generation) {
    struct {
        struct nlmsghdr header;
        struct nfgenmsg body;
    } request;
    memset(&request, 0, sizeof request);
    request.header.nlmsg_len = sizeof request;
    request.header.nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN;
    request.header.nlmsg_flags = NLM_F_REQUEST;
    request.header.nlmsg_seq = sequence;
    request.body.nfgen_family = AF_UNSPEC;
    request.body.version = NFNETLINK_V0;
    struct sockaddr_nl kernel;
    memset(&kernel, 0, sizeof kernel);
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd, &request, sizeof request, 0, (struct sockaddr *)&kernel, sizeof kernel) != (ssize_t)sizeof request) return -1;
    uint32_t buffer[1024];
    for (int attempt = 0; attempt < 8; attempt++) {
        struct pollfd poller = {.fd = fd, .events = POLLIN};
        ssize_t length = poll(&poller, 1, 1000) == 1 ? recv(fd, buffer, sizeof buffer, 0) : -1;
        if (length < (ssize_t)(NLMSG_HDRLEN + sizeof(struct nfgenmsg))) return -1;
        struct nlmsghdr *reply = (struct nlmsghdr *)buffer;
        if (!NLMSG_OK(reply, (size_t)length)) return -1;
        if (reply->nlmsg_seq != sequence) continue; /* a late reply to an earlier request */
        if (reply->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN)) return -1;
        size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));
        while (offset + NLA_HDRLEN <= reply->nlmsg_len) {
            struct nlattr *attribute = (struct nlattr *)((char *)reply + offset);
            if (attribute->nla_len < NLA_HDRLEN || offset + attribute->nla_len > reply->nlmsg_len) return -1;
            if ((attribute->nla_type & NLA_TYPE_MASK) == NFTA_GEN_ID && attribute->nla_len >= NLA_HDRLEN + 4) {
                uint32_t value;
                memcpy(&value, (char *)attribute + NLA_HDRLEN, 4);
                *generation = ntohl(value);
                return 0;
            }
            offset += NLA_ALIGN(attribute->nla_len);
        }
        return -1;
    }
    return -1;
}
