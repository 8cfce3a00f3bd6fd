#include "CNftables.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static portctl_nft_api api;
static const portctl_nft_api *loaded;
static char error[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define LOAD(name)                                                                                       \
    do {                                                                                                 \
        *(void **)(&api.name) = dlsym(library, #name);                                                   \
        if (!api.name) {                                                                                 \
            snprintf(error, sizeof error, "libnftables.so.1 has no %s (libnftables 1.0 or later is needed)", #name); \
            return;                                                                                      \
        }                                                                                                \
    } while (0)

static void load(void) {
    void *library = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        const char *reason = dlerror();
        snprintf(error, sizeof error, "cannot load libnftables (%s); install libnftables1", reason ? reason : "libnftables.so.1");
        return;
    }
    LOAD(nft_ctx_new);
    LOAD(nft_ctx_free);
    LOAD(nft_ctx_set_dry_run);
    LOAD(nft_ctx_output_set_flags);
    LOAD(nft_ctx_buffer_output);
    LOAD(nft_ctx_get_output_buffer);
    LOAD(nft_ctx_buffer_error);
    LOAD(nft_ctx_get_error_buffer);
    LOAD(nft_run_cmd_from_buffer);
    loaded = &api;
}

const portctl_nft_api *portctl_nft_load(void) {
    pthread_once(&once, load);
    return loaded;
}

const char *portctl_nft_load_error(void) {
    pthread_once(&once, load);
    return loaded ? NULL : error;
}
