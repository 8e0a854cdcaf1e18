/*
 * checkpoint.c: signed checkpoints as C2SP signed notes (c2sp.org/signed-note,
 * c2sp.org/tlog-checkpoint), written and read byte-exactly so that standard
 * tooling (Go's sumdb/note, transparency-dev/formats) verifies what we sign
 * and we verify what they sign.
 *
 * Invariants.  A note is read only after its length is checked against
 * SC_CHECKPOINT_NOTE_MAX, and every scan stays inside (note, len); nothing
 * assumes a NUL terminator and nothing allocates.  The key name of our
 * signature line is the origin, and the Ed25519 signature covers the note
 * text exactly (no domain prefix, see sc_sign_raw in keys.h).  A note is
 * accepted only when it is well-formed throughout, no line by our key
 * fails, and at least one line by our key verifies; *out is written only
 * then and is zeroed otherwise.
 */
#include "checkpoint.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

/* The signature-line prefix: U+2014 EM DASH, then a space. */
static const char SIG_PREFIX[] = "\xe2\x80\x94 ";
#define SIG_PREFIX_LEN (sizeof SIG_PREFIX - 1)

/* Ed25519 key ids use signature type 0x01 (c2sp.org/signed-note). */
#define ED25519_TYPE 0x01
#define KEY_ID_LEN   4

/* Base64 text of the root hash and of key id || signature, with the NUL. */
#define ROOT_B64_MAX sodium_base64_ENCODED_LEN(SC_HASH_LEN, sodium_base64_VARIANT_ORIGINAL)
#define SIG_B64_MAX                                                                                \
    sodium_base64_ENCODED_LEN(KEY_ID_LEN + SC_SIG_LEN, sodium_base64_VARIANT_ORIGINAL)

/* ---- text helpers ---- */

/*
 * Decode the UTF-8 sequence at s (n > 0 bytes available) into *cp; returns
 * its length, or 0 when it is not valid UTF-8 (overlong forms, surrogates
 * and code points above U+10FFFF are invalid).
 */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char b = s[0];
    size_t len;
    uint32_t c, min;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xc2 && b <= 0xdf) {
        len = 2, c = b & 0x1f, min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
        len = 3, c = b & 0x0f, min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4, c = b & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return len;
}

/* Unicode White_Space, as Go's unicode.IsSpace (which C2SP tooling uses for key names). */
static int is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

/* C0 and C1 controls and DEL: what "printable" excludes. */
static int is_control(uint32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/*
 * Check an origin of n bytes: non-empty, shorter than SC_ORIGIN_MAX, valid
 * printable UTF-8, no space at either end.  With as_key_name, also no space
 * or '+' anywhere, since C2SP key names allow neither.  Returns NULL when
 * fine, else what is wrong.
 */
static const char *origin_problem(const char *s, size_t n, int as_key_name)
{
    if (n == 0)
        return "is empty";
    if (n >= SC_ORIGIN_MAX)
        return "is too long";
    uint32_t c = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_decode((const unsigned char *)s + i, n - i, &c);
        if (k == 0)
            return "is not UTF-8";
        if (is_control(c))
            return "holds a control character";
        if (is_space(c) && (as_key_name || i == 0 || i + k == n))
            return as_key_name ? "holds a space (it is the key name)"
                               : "starts or ends with a space";
        if (c == '+' && as_key_name)
            return "holds '+' (it is the key name)";
        i += k;
    }
    return NULL;
}

/* ASCII decimal with no sign and no leading zero (except "0") that fits max. */
static int parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || (n > 1 && s[0] == '0'))
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *out = v;
    return 1;
}

/*
 * Decode standard padded base64 of n characters into out (cap bytes).
 * libsodium refuses wrong padding and non-zero bits after the last byte,
 * and we refuse anything after the padding, so each value has exactly one
 * accepted spelling.  Returns the length, or -1.
 */
static long base64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
    size_t got = 0;
    const char *end = NULL;
    if (n == 0 ||
        sodium_base642bin(out, cap, s, n, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != s + n)
        return -1;
    return (long)got;
}

/* ---- key id ---- */

static void key_id(const char *name, size_t n, const uint8_t pub[SC_KEY_LEN],
                   uint8_t out[KEY_ID_LEN])
{
    static const uint8_t sep[2] = {'\n', ED25519_TYPE};
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, n);
    crypto_hash_sha256_update(&st, sep, sizeof sep);
    crypto_hash_sha256_update(&st, pub, SC_KEY_LEN);
    crypto_hash_sha256_final(&st, h);
    memcpy(out, h, KEY_ID_LEN);
}

void sc_checkpoint_key_id(const char *name, const uint8_t pub[SC_KEY_LEN], uint8_t out[4])
{
    key_id(name, strlen(name), pub, out);
}

/* ---- signing ---- */

sc_status sc_checkpoint_sign(const sc_env *env, const sc_keypair *kp, const sc_checkpoint *cp,
                             char *out, size_t cap, size_t *len, sc_err *err)
{
    (void)env; /* the time comes from cp; see checkpoint.h */
    sc_status rc = SC_OK;
    char body[SC_CHECKPOINT_NOTE_MAX], root64[ROOT_B64_MAX], sig64[SIG_B64_MAX];
    uint8_t blob[KEY_ID_LEN + SC_SIG_LEN];
    sc_err_clear(err);
    if (len)
        *len = 0;
    if (!kp || !cp || !out || !len || cap == 0) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "checkpoint sign: missing argument");
        goto done;
    }
    const char *nul = memchr(cp->origin, '\0', sizeof cp->origin);
    if (!nul) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "checkpoint origin is not NUL-terminated");
        goto done;
    }
    size_t olen = (size_t)(nul - cp->origin);
    const char *why = origin_problem(cp->origin, olen, 1);
    if (why) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "checkpoint origin %s", why);
        goto done;
    }
    if (cp->time_ms < 0) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "checkpoint time %" PRId64 " is negative",
                        cp->time_ms);
        goto done;
    }

    sodium_bin2base64(root64, sizeof root64, cp->root, SC_HASH_LEN, sodium_base64_VARIANT_ORIGINAL);
    int n = cp->time_ms > 0 ? snprintf(body, sizeof body, "%s\n%" PRIu64 "\n%s\ntime %" PRId64 "\n",
                                       cp->origin, cp->size, root64, cp->time_ms)
                            : snprintf(body, sizeof body, "%s\n%" PRIu64 "\n%s\n", cp->origin,
                                       cp->size, root64);
    /* Cannot happen with an origin below SC_ORIGIN_MAX, but the bound is what keeps it so. */
    if (n < 0 || (size_t)n >= sizeof body) {
        rc = sc_err_set(err, SC_ERR_INTERNAL, 0, "checkpoint body does not fit");
        goto done;
    }
    size_t blen = (size_t)n;

    key_id(cp->origin, olen, sc_keypair_public(kp), blob);
    rc = sc_sign_raw(kp, (const uint8_t *)body, blen, blob + KEY_ID_LEN);
    if (rc != SC_OK) {
        sc_err_set(err, rc, 0, "checkpoint signing failed");
        goto done;
    }
    sodium_bin2base64(sig64, sizeof sig64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    size_t slen = strlen(sig64);

    /* body, blank line, "— <origin> <sig>\n", NUL */
    size_t total = blen + 1 + SIG_PREFIX_LEN + olen + 1 + slen + 1;
    if (total + 1 > cap) {
        rc = sc_err_set(err, SC_ERR_TOO_LARGE, 0, "checkpoint note needs %zu bytes, have %zu",
                        total + 1, cap);
        goto done;
    }
    char *p = out;
    memcpy(p, body, blen);
    p += blen;
    *p++ = '\n';
    memcpy(p, SIG_PREFIX, SIG_PREFIX_LEN);
    p += SIG_PREFIX_LEN;
    memcpy(p, cp->origin, olen);
    p += olen;
    *p++ = ' ';
    memcpy(p, sig64, slen);
    p += slen;
    *p++ = '\n';
    *p = '\0';
    *len = total;
done:
    if (rc != SC_OK && out && cap)
        memset(out, 0, cap);
    return rc;
}

/* ---- parsing ---- */

/* One line of the note: [s, s + n), without its newline; no is 1-based. */
typedef struct line {
    const char *s;
    size_t n;
    unsigned no;
} line;

/* The next line of [*p, end) (which ends in '\n'), advancing *p past its newline. */
static line next_line(const char **p, const char *end, unsigned *no)
{
    line l = {*p, 0, ++*no};
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    l.n = (size_t)(nl - *p);
    *p = nl + 1;
    return l;
}

/* Parse the body's extension lines; only "time <ms>" means anything to us. */
static sc_status parse_extensions(const char *p, const char *end, unsigned *no, int64_t *time_ms,
                                  sc_err *err)
{
    int have_time = 0;
    while (p < end) {
        line l = next_line(&p, end, no);
        if (l.n == 0)
            return sc_err_set(err, SC_ERR_MALFORMED, 0, "checkpoint line %u: empty line", l.no);
        if (l.n < 5 || memcmp(l.s, "time ", 5) != 0)
            continue; /* another extension: opaque, and free of control bytes already */
        uint64_t v = 0;
        if (have_time || !parse_decimal(l.s + 5, l.n - 5, INT64_MAX, &v))
            return sc_err_set(err, SC_ERR_MALFORMED, 0, "checkpoint line %u: bad time line", l.no);
        have_time = 1;
        *time_ms = (int64_t)v;
    }
    return SC_OK;
}

/*
 * Check the signature lines in [p, end) and verify those by (origin, pub).
 * Every line must be well-formed even if it is not ours, so a note either
 * parses the same for every verifier or for none.
 */
static sc_status check_signatures(const char *p, const char *end, unsigned no, const char *body,
                                  size_t blen, const char *origin, size_t olen,
                                  const uint8_t pub[SC_KEY_LEN], sc_err *err)
{
    uint8_t id[KEY_ID_LEN], sig[SC_CHECKPOINT_NOTE_MAX];
    unsigned verified = 0, failed = 0, bad_no = 0;
    key_id(origin, olen, pub, id);
    while (p < end) {
        line l = next_line(&p, end, &no);
        if (l.n < SIG_PREFIX_LEN || memcmp(l.s, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
            return sc_err_set(err, SC_ERR_MALFORMED, 0, "checkpoint line %u: not a signature line",
                              l.no);
        const char *name = l.s + SIG_PREFIX_LEN, *stop = l.s + l.n;
        const char *sp = memchr(name, ' ', (size_t)(stop - name));
        if (!sp || sp == name || memchr(name, '+', (size_t)(sp - name)))
            return sc_err_set(err, SC_ERR_MALFORMED, 0, "checkpoint line %u: bad key name", l.no);
        size_t nlen = (size_t)(sp - name);
        uint32_t c = 0;
        for (size_t i = 0, k = 1; i < nlen; i += k) {
            /* Other tools split names at any Unicode space, so a name must hold none. */
            k = utf8_decode((const unsigned char *)name + i, nlen - i, &c);
            if (k == 0 || is_space(c))
                return sc_err_set(err, SC_ERR_MALFORMED, 0, "checkpoint line %u: bad key name",
                                  l.no);
        }
        long slen = base64_decode(sp + 1, (size_t)(stop - sp - 1), sig, sizeof sig);
        if (slen < KEY_ID_LEN + 1)
            return sc_err_set(err, SC_ERR_MALFORMED, 0, "checkpoint line %u: bad signature", l.no);
        if (nlen != olen || memcmp(name, origin, olen) != 0 || memcmp(sig, id, KEY_ID_LEN) != 0)
            continue; /* another key: a witness, or a key we do not know */
        if (slen == KEY_ID_LEN + SC_SIG_LEN &&
            crypto_sign_verify_detached(sig + KEY_ID_LEN, (const uint8_t *)body, blen, pub) == 0) {
            verified++;
        } else if (!failed++) {
            bad_no = l.no;
        }
    }
    /* A line by our key that fails means tampering: refuse even if another one verifies. */
    if (failed)
        return sc_err_set(err, SC_ERR_CHECKPOINT, 0,
                          "checkpoint line %u: signature by %.*s does not verify", bad_no,
                          (int)olen, origin);
    if (!verified)
        return sc_err_set(err, SC_ERR_CHECKPOINT, 0,
                          "checkpoint has no signature by %.*s+%02x%02x%02x%02x", (int)olen, origin,
                          id[0], id[1], id[2], id[3]);
    return SC_OK;
}

sc_status sc_checkpoint_open(const char *note, size_t len, const uint8_t pub[SC_KEY_LEN],
                             const char *want_origin, sc_checkpoint *out, sc_err *err)
{
    sc_status rc = SC_OK;
    sc_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    sc_err_clear(err);
    if (out)
        memset(out, 0, sizeof *out);
    if ((!note && len) || !pub || !out) {
        rc = sc_err_set(err, SC_ERR_INVALID_ARG, 0, "checkpoint open: missing argument");
        goto done;
    }
    if (len > SC_CHECKPOINT_NOTE_MAX) {
        rc = sc_err_set(err, SC_ERR_TOO_LARGE, 0, "checkpoint note is %zu bytes, limit %d", len,
                        SC_CHECKPOINT_NOTE_MAX);
        goto done;
    }
    /* Signed notes are UTF-8 with no control characters but newline (c2sp.org/signed-note). */
    for (size_t i = 0; i < len;) {
        uint32_t c = 0;
        size_t k = utf8_decode((const unsigned char *)note + i, len - i, &c);
        if (k == 0 || (c < 0x20 && c != '\n')) {
            rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "checkpoint byte %zu: %s", i,
                            k ? "control character" : "not UTF-8");
            goto done;
        }
        i += k;
    }
    if (len == 0 || note[len - 1] != '\n') {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "checkpoint does not end in a newline");
        goto done;
    }
    /* The text ends at the last blank line; the signatures follow it. */
    size_t blen = 0;
    for (size_t i = len - 1; i > 0; i--) {
        if (note[i - 1] == '\n' && note[i] == '\n') {
            blen = i;
            break;
        }
    }
    if (blen == 0 || blen + 1 >= len) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0,
                        blen ? "checkpoint has no signature lines"
                             : "checkpoint has no blank line before its signatures");
        goto done;
    }
    const char *p = note, *body_end = note + blen;
    unsigned no = 0;
    line l = next_line(&p, body_end, &no);
    const char *why = origin_problem(l.s, l.n, 0);
    if (why) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "checkpoint line 1: origin %s", why);
        goto done;
    }
    const char *origin = l.s;
    size_t olen = l.n;
    memcpy(cp.origin, origin, olen);
    if (p >= body_end) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "checkpoint line 2: no tree size");
        goto done;
    }
    l = next_line(&p, body_end, &no);
    if (!parse_decimal(l.s, l.n, UINT64_MAX, &cp.size)) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "checkpoint line 2: bad tree size");
        goto done;
    }
    if (p >= body_end) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "checkpoint line 3: no root hash");
        goto done;
    }
    l = next_line(&p, body_end, &no);
    uint8_t root[SC_CHECKPOINT_NOTE_MAX];
    if (base64_decode(l.s, l.n, root, sizeof root) != SC_HASH_LEN) {
        rc = sc_err_set(err, SC_ERR_MALFORMED, 0, "checkpoint line 3: root is not 32 bytes");
        goto done;
    }
    memcpy(cp.root, root, SC_HASH_LEN);
    rc = parse_extensions(p, body_end, &no, &cp.time_ms, err);
    if (rc != SC_OK)
        goto done;
    no++; /* the blank line */
    if (want_origin && (strlen(want_origin) != olen || memcmp(want_origin, origin, olen) != 0)) {
        rc = sc_err_set(err, SC_ERR_CHECKPOINT, 0, "checkpoint origin is '%.*s', want '%s'",
                        (int)olen, origin, want_origin);
        goto done;
    }
    rc = check_signatures(body_end + 1, note + len, no, note, blen, origin, olen, pub, err);
    if (rc != SC_OK)
        goto done;
    *out = cp;
done:
    return rc;
}
