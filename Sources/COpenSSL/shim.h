#ifndef PORTCTL_COPENSSL_SHIM_H
#define PORTCTL_COPENSSL_SHIM_H
#include <openssl/err.h>
#include <openssl/ssl.h>

/* SSL_set_tlsext_host_name is a macro over SSL_ctrl, which Swift cannot import. */
static inline int portctl_ssl_set_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
#endif
