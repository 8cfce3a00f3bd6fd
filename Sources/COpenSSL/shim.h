#ifndef PORTCTL_COPENSSL_SHIM_H
#define PORTCTL_COPENSSL_SHIM_H
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/* SSL_set_tlsext_host_name is a macro over SSL_ctrl, which Swift cannot import. */
static inline int portctl_ssl_set_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
/* A BIO's contents as a NUL-terminated string the caller frees; NULL on failure. */
static inline char *portctl_bio_string(BIO *bio) {
    char *data = NULL;
    long length = BIO_get_mem_data(bio, &data);
    if (length <= 0 || data == NULL) return NULL;
    char *copy = malloc((size_t)length + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, data, (size_t)length);
    copy[length] = 0;
    return copy;
}

/* A self-signed certificate for streamd's TLS ports: ECDSA P-256, SHA-256, valid from an hour ago
   for `days`, subject and issuer CN=common_name, O=organization, basicConstraints critical
   CA:FALSE, subjectAltName DNS:localhost. Both results are PEM strings the caller frees.
   Returns 0, or -1 with OpenSSL's error queue set. */
static inline int portctl_self_signed(
    const char *common_name, const char *organization, long days, char **certificate_pem, char **key_pem) {
    int result = -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *certificate = X509_new();
    BIGNUM *serial = BN_new();
    BIO *certificate_bio = BIO_new(BIO_s_mem());
    BIO *key_bio = BIO_new(BIO_s_mem());
    X509_EXTENSION *constraints = NULL, *names = NULL;
    *certificate_pem = NULL;
    *key_pem = NULL;
    if (!key || !certificate || !serial || !certificate_bio || !key_bio) goto done;
    if (!X509_set_version(certificate, 2)) goto done;
    if (!BN_rand(serial, 64, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY)) goto done;
    if (!BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(certificate))) goto done;
    if (!X509_gmtime_adj(X509_getm_notBefore(certificate), -3600)) goto done;
    if (!X509_gmtime_adj(X509_getm_notAfter(certificate), days * 24 * 3600)) goto done;
    if (!X509_set_pubkey(certificate, key)) goto done;
    X509_NAME *name = X509_get_subject_name(certificate);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)common_name, -1, -1, 0)) goto done;
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)organization, -1, -1, 0)) goto done;
    if (!X509_set_issuer_name(certificate, name)) goto done;
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, certificate, certificate, NULL, NULL, 0);
    constraints = X509V3_EXT_conf_nid(NULL, &context, NID_basic_constraints, "critical,CA:FALSE");
    names = X509V3_EXT_conf_nid(NULL, &context, NID_subject_alt_name, "DNS:localhost");
    if (!constraints || !names || !X509_add_ext(certificate, constraints, -1) || !X509_add_ext(certificate, names, -1)) goto done;
    if (!X509_sign(certificate, key, EVP_sha256())) goto done;
    if (!PEM_write_bio_X509(certificate_bio, certificate)) goto done;
    if (!PEM_write_bio_PrivateKey(key_bio, key, NULL, NULL, 0, NULL, NULL)) goto done;
    *certificate_pem = portctl_bio_string(certificate_bio);
    *key_pem = portctl_bio_string(key_bio);
    if (*certificate_pem && *key_pem) {
        result = 0;
    } else {
        free(*certificate_pem);
        free(*key_pem);
        *certificate_pem = NULL;
        *key_pem = NULL;
    }
done:
    X509_EXTENSION_free(constraints);
    X509_EXTENSION_free(names);
    BIO_free(certificate_bio);
    BIO_free(key_bio);
    BN_free(serial);
    X509_free(certificate);
    EVP_PKEY_free(key);
    return result;
}
#endif
