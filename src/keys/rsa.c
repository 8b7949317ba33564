/*
 * RSA private keys: loading (PEM or DER; PKCS#1, PKCS#8 plain or encrypted,
 * PKCS#12), matching to a server certificate by public key, and premaster
 * decryption (RFC 5246 7.4.7.1).
 */
#include <errno.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/keys_int.h"

static void tsc_key_diag(struct tsc_keys *k, const char *origin, const char *fmt, const char *a)
{
    if (k->sink != NULL) {
        struct tsc_where w = {origin, 0, TSC_NO_CONN, -1, -1};
        tsc_diag(k->sink, TSC_DIAG_KEY_FILE, &w, fmt, origin != NULL ? origin : "key", a);
    }
}

/* Password callback: never prompts on a terminal; no password is an empty answer. */
static int tsc_pw_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pw = u;
    if (pw == NULL || size <= 0) {
        return 0;
    }
    size_t n = strlen(pw);
    if (n > (size_t)size) {
        n = (size_t)size;
    }
    memcpy(buf, pw, n);
    return (int)n;
}

static bool tsc_contains(const uint8_t *p, size_t n, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = 0; i + nl <= n; i++) {
        if (memcmp(p + i, needle, nl) == 0) {
            return true;
        }
    }
    return false;
}

static EVP_PKEY *tsc_try_pem(const uint8_t *data, size_t len, const char *password)
{
    BIO *b = BIO_new_mem_buf(data, (int)len);
    if (b == NULL) {
        return NULL;
    }
    EVP_PKEY *pk = PEM_read_bio_PrivateKey(b, NULL, tsc_pw_cb, (void *)password);
    BIO_free(b);
    return pk;
}

static EVP_PKEY *tsc_try_der(const uint8_t *data, size_t len, const char *password)
{
    const unsigned char *q = data;
    EVP_PKEY *pk = d2i_AutoPrivateKey(NULL, &q, (long)len);
    if (pk != NULL) {
        return pk;
    }
    /* Encrypted PKCS#8 DER (EncryptedPrivateKeyInfo, RFC 5958 3). */
    BIO *b = BIO_new_mem_buf(data, (int)len);
    if (b == NULL) {
        return NULL;
    }
    pk = d2i_PKCS8PrivateKey_bio(b, NULL, tsc_pw_cb, (void *)password);
    BIO_free(b);
    return pk;
}

static bool tsc_is_encrypted_p8_der(const uint8_t *data, size_t len)
{
    const unsigned char *q = data;
    X509_SIG *sig = d2i_X509_SIG(NULL, &q, (long)len);
    if (sig == NULL) {
        return false;
    }
    X509_SIG_free(sig);
    return true;
}

/* PKCS#12 (RFC 7292): 1 loaded, 0 not PKCS#12, -1 wrong password, -2 no key inside. */
static int tsc_try_p12(const uint8_t *data, size_t len, const char *password, EVP_PKEY **out)
{
    const unsigned char *q = data;
    PKCS12 *p12 = d2i_PKCS12(NULL, &q, (long)len);
    if (p12 == NULL) {
        return 0;
    }
    const char *pw = password == NULL ? "" : password;
    int rc;
    if (PKCS12_mac_present(p12) && PKCS12_verify_mac(p12, pw, -1) != 1 &&
        !(password == NULL && PKCS12_verify_mac(p12, NULL, 0) == 1)) {
        rc = -1;
    } else {
        EVP_PKEY *pk = NULL;
        X509 *cert = NULL;
        if (PKCS12_parse(p12, pw, &pk, &cert, NULL) != 1 &&
            !(password == NULL && PKCS12_parse(p12, NULL, &pk, &cert, NULL) == 1)) {
            rc = -1;
        } else if (pk == NULL) {
            rc = -2;
        } else {
            *out = pk;
            pk = NULL;
            rc = 1;
        }
        EVP_PKEY_free(pk);
        X509_free(cert);
    }
    PKCS12_free(p12);
    return rc;
}

enum tsc_err tsc_keys_load_rsa_mem(struct tsc_keys *k, const uint8_t *data, size_t len,
                                   const char *origin, const char *password)
{
    TSC_ENSURE(k != NULL && (data != NULL || len == 0), TSC_ERR_ARG);
    if (k->n_rsa >= TSC_RSA_MAX_KEYS) {
        tsc_key_diag(k, origin, "%s: too many RSA keys (cap %s); key ignored", "64");
        return TSC_ERR_LIMIT;
    }
    if (len == 0 || len > TSC_KEYFILE_MAX) {
        tsc_key_diag(k, origin, "%s: %s", len == 0 ? "empty key file" : "key file over 1 MiB");
        return TSC_ERR_DECODE;
    }
    EVP_PKEY *pk = NULL;
    bool pem = tsc_contains(data, len, "-----BEGIN");
    bool encrypted = false;
    if (pem) {
        encrypted = tsc_contains(data, len, "ENCRYPTED");
        pk = tsc_try_pem(data, len, password);
    } else {
        int p12 = tsc_try_p12(data, len, password, &pk);
        if (p12 < 0) {
            ERR_clear_error();
            if (p12 == -1) {
                if (password == NULL) {
                    tsc_key_diag(k, origin, "%s: %s", "PKCS#12 file needs a password (-p)");
                } else {
                    tsc_key_diag(k, origin, "wrong password for %s%s", "");
                }
                return TSC_ERR_CRYPTO;
            }
            tsc_key_diag(k, origin, "%s: %s", "PKCS#12 file holds no private key");
            return TSC_ERR_DECODE;
        }
        if (p12 == 0) {
            encrypted = tsc_is_encrypted_p8_der(data, len);
            pk = tsc_try_der(data, len, password);
        }
    }
    ERR_clear_error();
    if (pk == NULL) {
        if (encrypted) {
            tsc_key_diag(k, origin, password == NULL ? "%s: %s" : "wrong password for %s%s",
                         password == NULL ? "encrypted key needs a password (-p)" : "");
            return TSC_ERR_CRYPTO;
        }
        tsc_key_diag(k, origin, "%s: %s", "not a readable private key (PEM, DER, PKCS#12)");
        return TSC_ERR_DECODE;
    }
    if (!EVP_PKEY_is_a(pk, "RSA")) {
        EVP_PKEY_free(pk);
        tsc_key_diag(k, origin, "%s: %s", "not an RSA private key");
        return TSC_ERR_UNSUPPORTED;
    }
    k->rsa[k->n_rsa++] = pk;
    return TSC_OK;
}

enum tsc_err tsc_keys_load_rsa_file(struct tsc_keys *k, const char *path, const char *password)
{
    TSC_ENSURE(k != NULL && path != NULL, TSC_ERR_ARG);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        tsc_key_diag(k, path, "%s: cannot open: %s", strerror(errno));
        return TSC_ERR_IO;
    }
    uint8_t *buf = malloc(TSC_KEYFILE_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        return TSC_ERR_NOMEM;
    }
    size_t n = fread(buf, 1, TSC_KEYFILE_MAX + 1, f);
    bool err = ferror(f) != 0;
    fclose(f);
    enum tsc_err e;
    if (err) {
        tsc_key_diag(k, path, "%s: %s", "read error");
        e = TSC_ERR_IO;
    } else {
        e = tsc_keys_load_rsa_mem(k, buf, n, path, password);
    }
    OPENSSL_cleanse(buf, n);
    free(buf);
    return e;
}

uint32_t tsc_keys_rsa_count(const struct tsc_keys *k)
{
    return k == NULL ? 0 : k->n_rsa;
}

/*
 * RFC 5246 7.4.7.1:
 *   struct {
 *       ProtocolVersion client_version;
 *       opaque random[46];
 *   } PreMasterSecret;
 * A well-formed premaster is 48 bytes. client_version should equal the
 * ClientHello's; we do not enforce it (RFC 5246 7.4.7.1 lets servers relax
 * it for old clients) and let the Finished check decide.
 */
static bool tsc_rsa_decrypt(const struct tsc_keys *k, EVP_PKEY *pk, const uint8_t *enc,
                            size_t enc_len, uint8_t pms[48])
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
    uint8_t out[1024];
    size_t ol = sizeof(out);
    bool ok = false;
    if (c == NULL || (size_t)EVP_PKEY_get_size(pk) > sizeof(out) ||
        enc_len != (size_t)EVP_PKEY_get_size(pk)) {
        goto out;
    }
    if (EVP_PKEY_decrypt_init(c) != 1 || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1) {
        goto out;
    }
    /* OpenSSL >= 3.2 returns a synthetic plaintext on bad padding (implicit
     * rejection); ask for the explicit error where the parameter exists. */
    unsigned int no = 0;
    OSSL_PARAM p[2];
    p[0] = OSSL_PARAM_construct_uint("rsa_pkcs1_implicit_rejection", &no);
    p[1] = OSSL_PARAM_construct_end();
    (void)EVP_PKEY_CTX_set_params(c, p);
    /* The counter is the only other state written through a const struct tsc_keys *. */
    atomic_fetch_add(&((struct tsc_keys *)k)->rsa_ops, 1);
    if (EVP_PKEY_decrypt(c, out, &ol, enc, enc_len) == 1 && ol == 48) {
        memcpy(pms, out, 48);
        ok = true;
    }
out:
    ERR_clear_error();
    OPENSSL_cleanse(out, sizeof(out));
    EVP_PKEY_CTX_free(c);
    return ok;
}

bool tsc_keys_rsa_decrypt_pms_with(const struct tsc_keys *k, uint32_t i, const uint8_t *enc,
                                   size_t enc_len, uint8_t pms[48])
{
    if (k == NULL || i >= k->n_rsa || enc == NULL) {
        return false;
    }
    return tsc_rsa_decrypt(k, k->rsa[i], enc, enc_len, pms);
}

/* Index of the key whose public half is the certificate's, -1 none; cached per cert hash. */
static int tsc_cert_key(const struct tsc_keys *kc, const uint8_t *der, size_t len)
{
    /* The cache is the only state written through a const pointer; the object
     * itself is never const (tsc_keys_new allocates it), and the mutex guards it. */
    struct tsc_keys *k = (struct tsc_keys *)kc;
    uint8_t h[32];
    unsigned hl = 0;
    if (EVP_Digest(der, len, h, &hl, EVP_sha256(), NULL) != 1) {
        return -1;
    }
    uint32_t slot = ((uint32_t)h[0] | (uint32_t)h[1] << 8) % TSC_CERT_CACHE_SLOTS;
    pthread_mutex_lock(&k->cache_mu);
    struct tsc_cert_match *m = &k->cache[slot];
    if (m->used && memcmp(m->sha256, h, 32) == 0) {
        int idx = m->key_index;
        pthread_mutex_unlock(&k->cache_mu);
        return idx;
    }
    pthread_mutex_unlock(&k->cache_mu);
    int idx = -1;
    const unsigned char *q = der;
    X509 *x = d2i_X509(NULL, &q, (long)len);
    if (x != NULL) {
        EVP_PKEY *pub = X509_get0_pubkey(x);
        for (uint32_t i = 0; pub != NULL && i < k->n_rsa; i++) {
            if (EVP_PKEY_eq(pub, k->rsa[i]) == 1) {
                idx = (int)i;
                break;
            }
        }
        X509_free(x);
    }
    ERR_clear_error();
    pthread_mutex_lock(&k->cache_mu);
    /* A colliding slot is overwritten: the cache is bounded, a miss only costs a compare. */
    m->used = true;
    memcpy(m->sha256, h, 32);
    m->key_index = idx;
    pthread_mutex_unlock(&k->cache_mu);
    return idx;
}

bool tsc_keys_rsa_decrypt_pms(const struct tsc_keys *k, const uint8_t *cert_der, size_t cert_len,
                              const uint8_t *enc, size_t enc_len, uint8_t pms[48], int *key_index,
                              bool *cert_matched)
{
    if (key_index != NULL) {
        *key_index = -1;
    }
    if (cert_matched != NULL) {
        *cert_matched = false;
    }
    if (k == NULL || k->n_rsa == 0 || enc == NULL) {
        return false;
    }
    if (cert_der != NULL && cert_len > 0) {
        int idx = tsc_cert_key(k, cert_der, cert_len);
        if (idx < 0) {
            return false;
        }
        if (cert_matched != NULL) {
            *cert_matched = true;
        }
        if (key_index != NULL) {
            *key_index = idx;
        }
        /* The certificate names the key: one private operation, no trials. */
        return tsc_rsa_decrypt(k, k->rsa[idx], enc, enc_len, pms);
    }
    for (uint32_t i = 0; i < k->n_rsa; i++) {
        if (tsc_rsa_decrypt(k, k->rsa[i], enc, enc_len, pms)) {
            if (key_index != NULL) {
                *key_index = (int)i;
            }
            return true;
        }
    }
    return false;
}
