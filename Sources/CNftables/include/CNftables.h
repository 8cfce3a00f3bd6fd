#ifndef PORTCTL_CNFTABLES_H
#define PORTCTL_CNFTABLES_H
/* libnftables, loaded with dlopen(3) the first time a command talks to the kernel's nftables.
   Linked in, it and its libraries (libnftnl, libmnl, libxtables, libjansson, libgmp) cost every
   command half a millisecond of start-up, `plan` and `--version` included (bench/README.md,
   issue 13). The header gives the types and constants; nothing here links against the library. */
#include <nftables/libnftables.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    struct nft_ctx *(*nft_ctx_new)(uint32_t flags);
    void (*nft_ctx_free)(struct nft_ctx *ctx);
    void (*nft_ctx_set_dry_run)(struct nft_ctx *ctx, bool dry);
    void (*nft_ctx_output_set_flags)(struct nft_ctx *ctx, unsigned int flags);
    int (*nft_ctx_buffer_output)(struct nft_ctx *ctx);
    const char *(*nft_ctx_get_output_buffer)(struct nft_ctx *ctx);
    int (*nft_ctx_buffer_error)(struct nft_ctx *ctx);
    const char *(*nft_ctx_get_error_buffer)(struct nft_ctx *ctx);
    int (*nft_run_cmd_from_buffer)(struct nft_ctx *nft, const char *buf);
} portctl_nft_api;

/* The functions, loaded once (thread-safe); NULL when libnftables.so.1 or one of them is
   missing, and then portctl_nft_load_error() says which. */
const portctl_nft_api *portctl_nft_load(void);
const char *portctl_nft_load_error(void);
#endif
