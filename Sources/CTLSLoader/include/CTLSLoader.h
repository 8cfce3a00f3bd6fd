#ifndef PORTCTL_CTLSLOADER_H
#define PORTCTL_CTLSLOADER_H
/* The system's OpenSSL for portctl's TLS probe, loaded with dlopen(3) the first time a TLS check
   runs. Linked in, libssl and libcrypto cost every portctl command about a millisecond of start-up
   (their relocations), and only `probe` of an RTMPS or HTTPS port uses them (bench/README.md,
   issue 13). The headers give the types and constants; nothing here links against the libraries. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stddef.h>

typedef struct {
    const SSL_METHOD *(*TLS_client_method)(void);
    SSL_CTX *(*SSL_CTX_new)(const SSL_METHOD *method);
    void (*SSL_CTX_free)(SSL_CTX *context);
    void (*SSL_CTX_set_verify)(SSL_CTX *context, int mode, SSL_verify_cb callback);
    SSL *(*SSL_new)(SSL_CTX *context);
    void (*SSL_free)(SSL *session);
    int (*SSL_set_fd)(SSL *session, int descriptor);
    long (*SSL_ctrl)(SSL *session, int command, long larg, void *parg);
    int (*SSL_connect)(SSL *session);
    int (*SSL_read)(SSL *session, void *buffer, int count);
    int (*SSL_write)(SSL *session, const void *buffer, int count);
    int (*SSL_get_error)(const SSL *session, int result);
    void (*ERR_clear_error)(void);
    unsigned long (*ERR_get_error)(void);
    const char *(*ERR_reason_error_string)(unsigned long code);
} portctl_tls_api;

/* The functions, loaded once (thread-safe); NULL when libssl.so.3 or one of them is missing,
   and then portctl_tls_error() says which. */
const portctl_tls_api *portctl_tls_load(void);
const char *portctl_tls_error(void);

#endif
