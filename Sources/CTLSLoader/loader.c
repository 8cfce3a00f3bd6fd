#include "CTLSLoader.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static portctl_tls_api api;
static const portctl_tls_api *loaded;
static char error[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

#define LOAD(name)                                                                                       \
    do {                                                                                                 \
        *(void **)(&api.name) = dlsym(library, #name);                                                   \
        if (!api.name) {                                                                                 \
            snprintf(error, sizeof error, "libssl.so.3 has no %s (OpenSSL 3 is needed)", #name);         \
            return;                                                                                      \
        }                                                                                                \
    } while (0)

static void load(void) {
    /* libssl.so.3 brings libcrypto.so.3 (its DT_NEEDED), where the ERR_ functions are. */
    void *library = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        const char *reason = dlerror();
        snprintf(error, sizeof error, "cannot load OpenSSL (%s); install libssl3", reason ? reason : "libssl.so.3");
        return;
    }
    LOAD(TLS_client_method);
    LOAD(SSL_CTX_new);
    LOAD(SSL_CTX_free);
    LOAD(SSL_CTX_set_verify);
    LOAD(SSL_new);
    LOAD(SSL_free);
    LOAD(SSL_set_fd);
    LOAD(SSL_ctrl);
    LOAD(SSL_connect);
    LOAD(SSL_read);
    LOAD(SSL_write);
    LOAD(SSL_get_error);
    LOAD(ERR_clear_error);
    LOAD(ERR_get_error);
    LOAD(ERR_reason_error_string);
    loaded = &api;
}

const portctl_tls_api *portctl_tls_load(void) {
    pthread_once(&once, load);
    return loaded;
}

const char *portctl_tls_error(void) {
    pthread_once(&once, load);
    return loaded ? NULL : error;
}
