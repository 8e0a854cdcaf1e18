/*
 * devkey.c: the device key, as the replica keeps it (spotcheck.h, "The
 * device key"): encrypted under a passphrase, held by the app's key
 * custody, or plain when the caller asked for that.
 *
 * Invariants:
 *  - A custody's private key never passes through the library: the
 *    replica's key file says "custody" and nothing more (keys.h), and every
 *    signature is the custody's, checked under the enrolled public key
 *    before it is used (core sc_keypair_external).
 *  - No enrollment stores a plain key unless the caller said so
 *    (SC_ENROLL_PLAIN_KEY); sc_enroll of 0.1 says so for its callers.
 *  - A failed unlock or protect changes nothing; a protect that succeeds
 *    leaves no byte of the plain key file in the replica's file or log.
 */
#include <sodium.h>
#include <string.h>

#include "internal.h"

const char *cl_key_kind(const sc_client *c)
{
    if (sc_keyfile_is_custody(c->id.keyfile, c->id.keyfile_len))
        return "custody";
    return sc_keyfile_is_encrypted(c->id.keyfile, c->id.keyfile_len) ? "passphrase" : "plain";
}

/* The custody's signer, as the core calls it. */
static sc_status custody_sign(void *ctx, const uint8_t pub[SC_KEY_LEN], const uint8_t *msg,
                              size_t len, uint8_t sig[SC_SIG_LEN])
{
    const sc_key_custody *k = ctx;
    return k->sign(k->ctx, pub, msg, len, sig);
}

/* The handle's key pair of its custody; the custody is the handle's, so it outlives the pair. */
static sc_status custody_keypair(sc_client *c, sc_keypair **out)
{
    sc_status s = sc_keypair_external(c->custody.public_key, custody_sign, &c->custody, out);
    if (s != SC_OK)
        return cl_fail(c, s, 0, "could not take the key custody's key");
    return SC_OK;
}

sc_status cl_key(sc_client *c)
{
    if (c->key)
        return SC_OK;
    sc_status s = cl_need_identity(c);
    if (s != SC_OK)
        return s;
    if (sc_keyfile_is_custody(c->id.keyfile, c->id.keyfile_len))
        return cl_fail(c, SC_ERR_BAD_PASSPHRASE, 0,
                       "the device key of %s is held by a key custody, and this handle was given "
                       "none (sc_client_set_key_custody)",
                       c->path);
    if (sc_keyfile_is_encrypted(c->id.keyfile, c->id.keyfile_len))
        return cl_fail(c, SC_ERR_BAD_PASSPHRASE, 0,
                       "the device key of %s is encrypted: give its passphrase", c->path);
    sc_err e;
    sc_err_clear(&e);
    s = sc_keypair_load(c->id.keyfile, c->id.keyfile_len, NULL, 0, &c->key, &e);
    if (s != SC_OK)
        return cl_fail(c, s, 0, "device key: %s", e.msg);
    if (memcmp(sc_keypair_public(c->key), c->id.device_key, SC_KEY_LEN) != 0) {
        sc_keypair_free(c->key);
        c->key = NULL;
        return cl_fail(c, SC_ERR_BAD_PASSPHRASE, 0, "device key does not match the enrolled key");
    }
    return SC_OK;
}

sc_status sc_client_unlock(sc_client *c, const char *pass, size_t pass_len)
{
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    sc_status s = cl_need_identity(c);
    if (s != SC_OK)
        return s;
    if (sc_keyfile_is_custody(c->id.keyfile, c->id.keyfile_len))
        return cl_fail(c, SC_ERR_BAD_PASSPHRASE, 0,
                       "the device key of %s is held by a key custody, not by a passphrase",
                       c->path);
    if (!sc_keyfile_is_encrypted(c->id.keyfile, c->id.keyfile_len))
        return cl_key(c); /* a plain key needs no passphrase; accept one anyway */
    sc_keypair *kp = NULL;
    sc_err e;
    sc_err_clear(&e);
    s = sc_keypair_load(c->id.keyfile, c->id.keyfile_len, pass, pass ? pass_len : 0, &kp, &e);
    if (s == SC_ERR_BAD_PASSPHRASE)
        return cl_fail(c, s, 0, "wrong passphrase for the device key of %s", c->path);
    if (s != SC_OK)
        return cl_fail(c, s, 0, "device key of %s: %s", c->path, e.msg);
    if (memcmp(sc_keypair_public(kp), c->id.device_key, SC_KEY_LEN) != 0) {
        sc_keypair_free(kp);
        return cl_fail(c, SC_ERR_BAD_PASSPHRASE, 0, "device key does not match the enrolled key");
    }
    sc_keypair_free(c->key);
    c->key = kp;
    return SC_OK;
}

/* A custody given to an enrolled replica must be the one it was enrolled with. */
static sc_status custody_matches(sc_client *c, const sc_key_custody *k)
{
    if (!sc_keyfile_is_custody(c->id.keyfile, c->id.keyfile_len))
        return cl_fail(c, SC_ERR_INVALID_ARG, 0,
                       "the device key of %s is kept in the replica (%s), not by a key custody",
                       c->path, cl_key_kind(c));
    if (memcmp(k->public_key, c->id.device_key, SC_KEY_LEN) != 0)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0,
                       "the key custody's public key is not the device key %s was enrolled with",
                       c->path);
    return SC_OK;
}

sc_status sc_client_set_key_custody(sc_client *c, const sc_key_custody *k)
{
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    sc_key_custody kc;
    memset(&kc, 0, sizeof kc);
    sc_status s = k ? cl_sized(c, &kc, sizeof kc, sizeof kc, k, "sc_key_custody") : SC_OK;
    if (s != SC_OK)
        return s;
    if (k && !kc.sign)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "sc_key_custody: no sign callback");
    if (k && c->id.enrolled && (s = custody_matches(c, &kc)) != SC_OK)
        return s;
    /* A key loaded from the custody before signs through the old copy: drop it. */
    if (c->key && (sc_keypair_is_external(c->key) || k)) {
        sc_keypair_free(c->key);
        c->key = NULL;
    }
    c->custody = kc;
    c->has_custody = k != NULL;
    if (k && c->id.enrolled)
        return custody_keypair(c, &c->key);
    return SC_OK;
}

sc_status cl_enroll_key(sc_client *c, const sc_enroll_params *p, sc_keypair **kp,
                        uint8_t *keyfile, size_t cap, size_t *kf_len)
{
    *kp = NULL;
    *kf_len = 0;
    bool plain = (p->flags & SC_ENROLL_PLAIN_KEY) != 0, pass = p->pass && p->pass_len > 0;
    if (p->flags & ~SC_ENROLL_PLAIN_KEY)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "sc_enroll_params: unknown flags 0x%x",
                       p->flags & ~SC_ENROLL_PLAIN_KEY);
    if (p->pass_len > 0 && !p->pass)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "sc_enroll_params: pass_len without pass");
    int keepers = (int)plain + (int)pass + (int)c->has_custody;
    if (keepers != 1)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0,
                       "%s: the device key needs one keeper: a passphrase to encrypt it under, a "
                       "key custody (sc_client_set_key_custody), or SC_ENROLL_PLAIN_KEY to keep "
                       "it unencrypted in the replica",
                       keepers > 1 ? "more than one way to keep the key was given"
                                   : "no passphrase was given");
    sc_status s;
    if (c->has_custody) {
        if ((s = custody_keypair(c, kp)) != SC_OK)
            return s;
        if ((s = sc_keyfile_custody(keyfile, cap, kf_len)) != SC_OK)
            return cl_fail(c, s, 0, "could not write the custody key file");
        return SC_OK;
    }
    if ((s = sc_keypair_generate(&c->env, kp)) != SC_OK)
        return cl_fail(c, s, 0, "could not generate a device key");
    sc_err e;
    sc_err_clear(&e);
    s = sc_keypair_save(&c->env, *kp, p->pass, pass ? p->pass_len : 0, c->opt.kdf_opslimit,
                        c->opt.kdf_memlimit, keyfile, cap, kf_len, &e);
    if (s != SC_OK) {
        sc_keypair_free(*kp);
        *kp = NULL;
        return cl_fail(c, s, 0, "could not save the device key: %s", e.msg);
    }
    return SC_OK;
}

sc_status sc_key_protect(sc_client *c, const char *pass, size_t pass_len)
{
    if (!c)
        return SC_ERR_INVALID_ARG;
    sc_err_clear(&c->err);
    sc_status s;
    if ((s = cl_need_writable(c, "sc_key_protect")) != SC_OK ||
        (s = cl_need_identity(c)) != SC_OK)
        return s;
    if (!pass || pass_len == 0)
        return cl_fail(c, SC_ERR_INVALID_ARG, 0, "sc_key_protect needs the new passphrase");
    if (sc_keyfile_is_custody(c->id.keyfile, c->id.keyfile_len))
        return cl_fail(c, SC_ERR_BAD_PASSPHRASE, 0,
                       "the device key of %s is held by a key custody: there is no key here to "
                       "encrypt",
                       c->path);
    if ((s = cl_key(c)) != SC_OK)
        return s; /* encrypted and not unlocked: the message says so */
    uint8_t keyfile[SC_KEYFILE_MAX];
    size_t kf_len = 0;
    sc_err e;
    sc_err_clear(&e);
    s = sc_keypair_save(&c->env, c->key, pass, pass_len, c->opt.kdf_opslimit, c->opt.kdf_memlimit,
                        keyfile, sizeof keyfile, &kf_len, &e);
    if (s != SC_OK)
        s = cl_fail(c, s, 0, "could not encrypt the device key: %s", e.msg);
    if (s == SC_OK)
        s = st_meta_replace_secret(c, "keyfile", keyfile, kf_len);
    if (s == SC_OK) {
        sodium_memzero(c->id.keyfile, sizeof c->id.keyfile);
        memcpy(c->id.keyfile, keyfile, kf_len);
        c->id.keyfile_len = kf_len;
    }
    sodium_memzero(keyfile, sizeof keyfile);
    return s;
}
