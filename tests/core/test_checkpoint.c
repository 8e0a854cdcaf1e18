/*
 * test_checkpoint.c: C2SP signed-note checkpoints (core/checkpoint.c).
 *
 * Known answers come from tests/vectors/c2sp-notes.txt (Go's sumdb/note
 * test keys and signature, and a real go.sum database checkpoint).  The
 * other tests build notes by hand and sign them with sc_sign_raw, so a note
 * is refused for the property under test and not for a bad signature.
 */
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checkpoint.h"
#include "sctest.h"

#define ORIGIN  "spotcheck.example/log"
#define EM_DASH "\xe2\x80\x94"

/* ---- vectors ---- */

/* The value of `field` in c2sp-notes.txt, with \n unescaped, NUL-terminated; *len its length. */
static char *note_vector(const char *field, size_t *len)
{
    size_t flen = 0, flen_field = strlen(field);
    uint8_t *file = sct_read_vector("c2sp-notes.txt", &flen);
    const char *p = (const char *)file, *end = p + flen;
    char *val = NULL;
    while (p < end && !val) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > flen_field && memcmp(p, field, flen_field) == 0 &&
            p[flen_field] == ' ') {
            const char *v = p + flen_field + 1;
            val = malloc((size_t)(eol - v) + 1);
            ck_assert_ptr_nonnull(val);
            size_t n = 0;
            for (const char *q = v; q < eol; q++) {
                if (q + 1 < eol && q[0] == '\\' && q[1] == 'n') {
                    val[n++] = '\n';
                    q++;
                } else {
                    val[n++] = *q;
                }
            }
            val[n] = '\0';
            *len = n;
        }
        p = eol + 1;
    }
    free(file);
    ck_assert_msg(val != NULL, "no %s in c2sp-notes.txt", field);
    return val;
}

/*
 * Split a Go key string "[PRIVATE+KEY+]<name>+<hex id>+<base64(0x01 || key)>"
 * into its name, id and 32-byte key.
 */
static void parse_go_key(const char *text, int private_key, char name[64], uint8_t id[4],
                         uint8_t key[32])
{
    if (private_key) {
        ck_assert(strncmp(text, "PRIVATE+KEY+", 12) == 0);
        text += 12;
    }
    const char *plus1 = strchr(text, '+');
    ck_assert_ptr_nonnull(plus1);
    ck_assert_uint_lt((size_t)(plus1 - text), 64);
    memcpy(name, text, (size_t)(plus1 - text));
    name[plus1 - text] = '\0';
    const char *plus2 = strchr(plus1 + 1, '+');
    ck_assert_ptr_nonnull(plus2);
    ck_assert_uint_eq((size_t)(plus2 - plus1 - 1), 8);
    char hex[9];
    memcpy(hex, plus1 + 1, 8);
    hex[8] = '\0';
    size_t idlen = 0;
    uint8_t *idbin = sct_unhex(hex, &idlen);
    ck_assert_uint_eq(idlen, 4);
    memcpy(id, idbin, 4);
    free(idbin);
    uint8_t raw[33];
    size_t rawlen = 0;
    ck_assert_int_eq(sodium_base642bin(raw, sizeof raw, plus2 + 1, strlen(plus2 + 1), NULL, &rawlen,
                                       NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    ck_assert_uint_eq(rawlen, 33);
    ck_assert_uint_eq(raw[0], 0x01); /* Ed25519 */
    memcpy(key, raw + 1, 32);
}

/* ---- building notes by hand ---- */

/* A signature line "— name base64(id || Ed25519(body))\n" by kp, appended at out + *len. */
static void add_sig_line(char *out, size_t cap, size_t *len, const sc_keypair *kp, const char *name,
                         const char *body, size_t blen)
{
    uint8_t blob[4 + SC_SIG_LEN];
    sc_checkpoint_key_id(name, sc_keypair_public(kp), blob);
    ck_assert_int_eq(sc_sign_raw(kp, (const uint8_t *)body, blen, blob + 4), SC_OK);
    char b64[sodium_base64_ENCODED_LEN(sizeof blob, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(out + *len, cap - *len, EM_DASH " %s %s\n", name, b64);
    ck_assert(n > 0 && (size_t)n < cap - *len);
    *len += (size_t)n;
}

/* body + blank line + one signature line by kp under `name`; returns the length. */
static size_t make_note(char *out, size_t cap, const char *body, const sc_keypair *kp,
                        const char *name)
{
    size_t blen = strlen(body), len = 0;
    ck_assert_uint_lt(blen + 1, cap);
    memcpy(out, body, blen);
    out[blen] = '\n';
    len = blen + 1;
    add_sig_line(out, cap, &len, kp, name, body, blen);
    return len;
}

/* Open and check the fail-closed contract: on failure *out is all zero and the code is in err. */
static sc_status open_note(const char *note, size_t len, const uint8_t *pub, const char *want,
                           sc_checkpoint *out, sc_err *err)
{
    memset(out, 0x5a, sizeof *out);
    sc_status rc = sc_checkpoint_open(note, len, pub, want, out, err);
    ck_assert_int_eq(err->code, rc);
    if (rc != SC_OK) {
        ck_assert(sct_all_zero(out, sizeof *out));
        ck_assert_msg(err->msg[0] != '\0', "failure without a message");
    }
    return rc;
}

/* The status of opening a note built from body, signed by key 1 under ORIGIN. */
static sc_status open_body(const char *body, sc_checkpoint *out, sc_err *err)
{
    char note[4 * SC_CHECKPOINT_NOTE_MAX];
    sc_keypair *kp = sct_key(1);
    size_t len = make_note(note, sizeof note, body, kp, ORIGIN);
    sc_status rc = open_note(note, len, sc_keypair_public(kp), NULL, out, err);
    sc_keypair_free(kp);
    return rc;
}

static sc_checkpoint sample_cp(void)
{
    sc_checkpoint cp;
    memset(&cp, 0, sizeof cp);
    memcpy(cp.origin, ORIGIN, sizeof ORIGIN);
    cp.size = 1234567;
    for (int i = 0; i < SC_HASH_LEN; i++)
        cp.root[i] = (uint8_t)(i * 7 + 3);
    cp.time_ms = INT64_C(1795392000123);
    return cp;
}

/* ---- tests ---- */

START_TEST(test_key_id_vectors)
{
    const char *fields[] = {"peter.vkey", "enoch.vkey", "sumdb.vkey"};
    for (size_t i = 0; i < 3; i++) {
        size_t len = 0;
        char *vkey = note_vector(fields[i], &len);
        char name[64];
        uint8_t id[4], pub[32], got[4];
        parse_go_key(vkey, 0, name, id, pub);
        sc_checkpoint_key_id(name, pub, got);
        ck_assert_mem_eq(got, id, 4);
        free(vkey);
    }
}
END_TEST

/* Signing Go's test note with Go's test key gives Go's signature line byte for byte. */
START_TEST(test_sign_raw_vector)
{
    size_t len = 0;
    char *skey = note_vector("peter.skey", &len);
    char *vkey = note_vector("peter.vkey", &len);
    size_t tlen = 0;
    char *text = note_vector("peter.text", &tlen);
    char *want = note_vector("peter.sig", &len);
    char name[64], vname[64];
    uint8_t id[4], vid[4], seed[32], pub[32];
    parse_go_key(skey, 1, name, id, seed);
    parse_go_key(vkey, 0, vname, vid, pub);
    ck_assert_str_eq(name, vname);
    ck_assert_mem_eq(id, vid, 4);

    sc_keypair *kp = NULL;
    ck_assert_int_eq(sc_keypair_from_seed(seed, &kp), SC_OK);
    ck_assert_mem_eq(sc_keypair_public(kp), pub, 32);
    char note[512];
    size_t nlen = make_note(note, sizeof note, text, kp, name);
    char expect[512];
    int n = snprintf(expect, sizeof expect, "%s\n" EM_DASH " %s %s\n", text, name, want);
    ck_assert(n > 0 && (size_t)n < sizeof expect);
    ck_assert_uint_eq(nlen, (size_t)n);
    ck_assert_mem_eq(note, expect, nlen);

    /* EnochRoot's signature over the same text verifies as plain Ed25519 over the text. */
    char *evkey = note_vector("enoch.vkey", &len);
    char *esig = note_vector("enoch.sig", &len);
    uint8_t epub[32], blob[68];
    size_t blen = 0;
    parse_go_key(evkey, 0, name, id, epub);
    ck_assert_int_eq(sodium_base642bin(blob, sizeof blob, esig, strlen(esig), NULL, &blen, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    ck_assert_uint_eq(blen, 68);
    ck_assert_mem_eq(blob, id, 4);
    ck_assert_int_eq(crypto_sign_verify_detached(blob + 4, (const uint8_t *)text, tlen, epub), 0);

    sc_keypair_free(kp);
    free(skey), free(vkey), free(text), free(want), free(evkey), free(esig);
}
END_TEST

/*
 * A real go.sum checkpoint parses (its failure is CHECKPOINT, not
 * MALFORMED): its key name sum.golang.org is not its origin, and our
 * checkpoints are signed by their origin.  Its signature is what we
 * produce: Ed25519 over the text including its last newline.
 */
START_TEST(test_sumdb_checkpoint)
{
    size_t len = 0, nlen = 0;
    char *vkey = note_vector("sumdb.vkey", &len);
    char *note = note_vector("sumdb.note", &nlen);
    char name[64];
    uint8_t id[4], pub[32];
    parse_go_key(vkey, 0, name, id, pub);
    sc_checkpoint cp;
    sc_err err;
    ck_assert_int_eq(open_note(note, nlen, pub, "go.sum database tree", &cp, &err),
                     SC_ERR_CHECKPOINT);
    ck_assert_int_eq(open_note(note, nlen, pub, NULL, &cp, &err), SC_ERR_CHECKPOINT);
    ck_assert_int_eq(open_note(note, nlen, pub, "sum.golang.org", &cp, &err), SC_ERR_CHECKPOINT);

    const char *blank = strstr(note, "\n\n");
    ck_assert_ptr_nonnull(blank);
    size_t blen = (size_t)(blank - note) + 1;
    const char *b64 = strrchr(note, ' ') + 1;
    uint8_t blob[68];
    size_t got = 0;
    ck_assert_int_eq(sodium_base642bin(blob, sizeof blob, b64, strlen(b64) - 1, NULL, &got, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    ck_assert_uint_eq(got, 68);
    ck_assert_mem_eq(blob, id, 4);
    ck_assert_int_eq(crypto_sign_verify_detached(blob + 4, (const uint8_t *)note, blen, pub), 0);
    free(vkey), free(note);
}
END_TEST

START_TEST(test_round_trip)
{
    sct_env t;
    sct_env_init(&t, 1);
    sc_keypair *kp = sct_key(1);
    const int64_t times[] = {INT64_C(1795392000123), 0, 1, INT64_MAX};
    const uint64_t sizes[] = {1234567, 0, 1, UINT64_MAX};
    for (size_t i = 0; i < 4; i++) {
        sc_checkpoint cp = sample_cp(), got;
        cp.time_ms = times[i];
        cp.size = sizes[i];
        char note[SC_CHECKPOINT_NOTE_MAX];
        size_t len = 99;
        sc_err err;
        ck_assert_int_eq(sc_checkpoint_sign(&t.env, kp, &cp, note, sizeof note, &len, &err), SC_OK);
        ck_assert_uint_eq(strlen(note), len);
        ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), ORIGIN, &got, &err), SC_OK);
        ck_assert_int_eq(err.code, SC_OK);
        ck_assert_mem_eq(&got, &cp, sizeof cp);
    }

    /* The exact layout of the header's format, checked independently of the parser. */
    sc_checkpoint cp = sample_cp();
    char note[SC_CHECKPOINT_NOTE_MAX], root64[64], body[256];
    size_t len = 0;
    ck_assert_int_eq(sc_checkpoint_sign(&t.env, kp, &cp, note, sizeof note, &len, NULL), SC_OK);
    sodium_bin2base64(root64, sizeof root64, cp.root, SC_HASH_LEN, sodium_base64_VARIANT_ORIGINAL);
    int blen = snprintf(body, sizeof body, ORIGIN "\n1234567\n%s\ntime 1795392000123\n", root64);
    ck_assert(blen > 0 && (size_t)blen < sizeof body);
    ck_assert_mem_eq(note, body, (size_t)blen);
    const char *line = ("\n" EM_DASH " " ORIGIN " ");
    ck_assert_mem_eq(note + blen, line, strlen(line));
    const char *b64 = note + blen + strlen(line);
    ck_assert_uint_eq(note[len - 1], '\n');
    uint8_t blob[68], id[4];
    size_t got = 0;
    ck_assert_int_eq(sodium_base642bin(blob, sizeof blob, b64, (size_t)(note + len - 1 - b64), NULL,
                                       &got, NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    ck_assert_uint_eq(got, 68);
    sc_checkpoint_key_id(ORIGIN, sc_keypair_public(kp), id);
    ck_assert_mem_eq(blob, id, 4);
    ck_assert_int_eq(crypto_sign_verify_detached(blob + 4, (const uint8_t *)body, (size_t)blen,
                                                 sc_keypair_public(kp)),
                     0);

    /* Time 0 means no time line. */
    cp.time_ms = 0;
    ck_assert_int_eq(sc_checkpoint_sign(&t.env, kp, &cp, note, sizeof note, &len, NULL), SC_OK);
    ck_assert_ptr_null(strstr(note, "time"));

    /* A UTF-8 origin round-trips too. */
    sc_checkpoint u = sample_cp(), back;
    const char utf[] = "inspecci\xc3\xb3n.example/\xe6\x97\xa5\xe5\xbf\x97";
    memcpy(u.origin, utf, sizeof utf);
    sc_err err;
    ck_assert_int_eq(sc_checkpoint_sign(&t.env, kp, &u, note, sizeof note, &len, &err), SC_OK);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), utf, &back, &err), SC_OK);
    ck_assert_str_eq(back.origin, utf);
    sc_keypair_free(kp);
}
END_TEST

START_TEST(test_wrong_key_or_origin)
{
    sc_keypair *kp = sct_key(1), *other = sct_key(2);
    sc_checkpoint cp = sample_cp(), got;
    char note[SC_CHECKPOINT_NOTE_MAX];
    size_t len = 0;
    sc_err err;
    ck_assert_int_eq(sc_checkpoint_sign(NULL, kp, &cp, note, sizeof note, &len, &err), SC_OK);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(other), NULL, &got, &err),
                     SC_ERR_CHECKPOINT);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), "other.example/log", &got, &err),
                     SC_ERR_CHECKPOINT);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), ORIGIN "x", &got, &err),
                     SC_ERR_CHECKPOINT);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), "", &got, &err),
                     SC_ERR_CHECKPOINT);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), ORIGIN, &got, &err), SC_OK);
    sc_keypair_free(kp);
    sc_keypair_free(other);
}
END_TEST

/* Any single changed byte anywhere in the note is refused. */
START_TEST(test_flipped_bytes)
{
    sc_keypair *kp = sct_key(1);
    sc_checkpoint cp = sample_cp(), got;
    char note[SC_CHECKPOINT_NOTE_MAX], bad[SC_CHECKPOINT_NOTE_MAX];
    size_t len = 0;
    sc_err err;
    ck_assert_int_eq(sc_checkpoint_sign(NULL, kp, &cp, note, sizeof note, &len, &err), SC_OK);
    const uint8_t masks[] = {0x01, 0x02, 0x20, 0x40, 0x80};
    for (size_t i = 0; i < len; i++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            memcpy(bad, note, len);
            bad[i] = (char)(bad[i] ^ masks[m]);
            sc_status rc = open_note(bad, len, sc_keypair_public(kp), NULL, &got, &err);
            ck_assert_msg(rc != SC_OK, "byte %zu ^ 0x%02x accepted", i, masks[m]);
        }
    }
    /* Truncated anywhere, or extended by a byte, it is refused too. */
    for (size_t n = 0; n < len; n++)
        ck_assert_int_ne(open_note(note, n, sc_keypair_public(kp), NULL, &got, &err), SC_OK);
    memcpy(bad, note, len);
    bad[len] = 'x';
    ck_assert_int_eq(open_note(bad, len + 1, sc_keypair_public(kp), NULL, &got, &err),
                     SC_ERR_MALFORMED);
    sc_keypair_free(kp);
}
END_TEST

START_TEST(test_structure)
{
    sc_keypair *kp = sct_key(1);
    sc_checkpoint cp = sample_cp(), got;
    char note[SC_CHECKPOINT_NOTE_MAX], bad[SC_CHECKPOINT_NOTE_MAX];
    size_t len = 0;
    sc_err err;
    ck_assert_int_eq(sc_checkpoint_sign(NULL, kp, &cp, note, sizeof note, &len, &err), SC_OK);
    const char *blank = strstr(note, "\n\n");
    ck_assert_ptr_nonnull(blank);
    size_t at = (size_t)(blank - note) + 1;

    /* Without the blank line the signature would be read as a body line. */
    memcpy(bad, note, at);
    memcpy(bad + at, note + at + 1, len - at - 1);
    ck_assert_int_eq(open_note(bad, len - 1, sc_keypair_public(kp), NULL, &got, &err),
                     SC_ERR_MALFORMED);
    /* No signature lines at all. */
    ck_assert_int_eq(open_note(note, at + 1, sc_keypair_public(kp), NULL, &got, &err),
                     SC_ERR_MALFORMED);
    /* A blank line after the signatures. */
    memcpy(bad, note, len);
    bad[len] = '\n';
    ck_assert_int_eq(open_note(bad, len + 1, sc_keypair_public(kp), NULL, &got, &err),
                     SC_ERR_MALFORMED);
    /* CRLF line ends are control characters. */
    ck_assert_int_eq(
        open_body(ORIGIN "\r\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", &got, &err),
        SC_ERR_MALFORMED);
    /* Empty input, NUL bytes, bad UTF-8. */
    ck_assert_int_eq(open_note("", 0, sc_keypair_public(kp), NULL, &got, &err), SC_ERR_MALFORMED);
    memcpy(bad, note, len);
    bad[3] = '\0';
    ck_assert_int_eq(open_note(bad, len, sc_keypair_public(kp), NULL, &got, &err),
                     SC_ERR_MALFORMED);
    memcpy(bad, note, len);
    bad[3] = (char)0xff;
    ck_assert_int_eq(open_note(bad, len, sc_keypair_public(kp), NULL, &got, &err),
                     SC_ERR_MALFORMED);
    /* Body lines missing. */
    ck_assert_int_eq(open_body(ORIGIN "\n", &got, &err), SC_ERR_MALFORMED);
    ck_assert_int_eq(open_body(ORIGIN "\n5\n", &got, &err), SC_ERR_MALFORMED);
    ck_assert(strstr(err.msg, "line 3") != NULL);
    /* The smallest good body. */
    ck_assert_int_eq(
        open_body(ORIGIN "\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", &got, &err), SC_OK);
    ck_assert_uint_eq(got.size, 0);
    ck_assert_int_eq(got.time_ms, 0);
    sc_keypair_free(kp);
}
END_TEST

#define ROOT64 "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

START_TEST(test_size_line)
{
    sc_checkpoint got;
    sc_err err;
    ck_assert_int_eq(open_body(ORIGIN "\n18446744073709551615\n" ROOT64 "\n", &got, &err), SC_OK);
    ck_assert_uint_eq(got.size, UINT64_MAX);
    const char *bad[] = {"05",
                         "00",
                         "18446744073709551616",
                         "99999999999999999999999",
                         "-1",
                         "+1",
                         " 5",
                         "5 ",
                         "",
                         "0x10",
                         "1e3",
                         "\xd9\xa1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[256];
        snprintf(body, sizeof body, ORIGIN "\n%s\n" ROOT64 "\n", bad[i]);
        ck_assert_msg(open_body(body, &got, &err) == SC_ERR_MALFORMED, "size '%s' accepted",
                      bad[i]);
        ck_assert_msg(strstr(err.msg, "line 2") != NULL, "message '%s'", err.msg);
    }
}
END_TEST

START_TEST(test_root_line)
{
    sc_checkpoint got;
    sc_err err;
    const char *bad[] = {
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",    /* padding missing */
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFV=",   /* non-canonical last bits */
        "47DEQpj8HBSa-_TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",   /* URL-safe alphabet */
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF==",   /* 31 bytes */
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFUA",   /* 33 bytes */
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hS uFU=",  /* space inside */
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= ",  /* trailing space */
        "",                                               /* empty */
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=AA", /* trailing data */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[256];
        snprintf(body, sizeof body, ORIGIN "\n7\n%s\n", bad[i]);
        ck_assert_msg(open_body(body, &got, &err) == SC_ERR_MALFORMED, "root '%s' accepted",
                      bad[i]);
        ck_assert_msg(strstr(err.msg, "line 3") != NULL, "message '%s'", err.msg);
    }
    ck_assert_int_eq(open_body(ORIGIN "\n7\n" ROOT64 "\n", &got, &err), SC_OK);
    uint8_t empty[SC_HASH_LEN];
    crypto_hash_sha256(empty, (const uint8_t *)"", 0);
    ck_assert_mem_eq(got.root, empty, SC_HASH_LEN);
}
END_TEST

START_TEST(test_extension_lines)
{
    sc_checkpoint got;
    sc_err err;
    ck_assert_int_eq(open_body(ORIGIN "\n7\n" ROOT64 "\ntime 12\n", &got, &err), SC_OK);
    ck_assert_int_eq(got.time_ms, 12);
    ck_assert_int_eq(
        open_body(ORIGIN "\n7\n" ROOT64 "\nfoo bar\ntime 9223372036854775807\nx\n", &got, &err),
        SC_OK);
    ck_assert_int_eq(got.time_ms, INT64_MAX);
    /* Lines that only look like the time line are other extensions. */
    ck_assert_int_eq(open_body(ORIGIN "\n7\n" ROOT64 "\ntimestamp 5\ntime\n", &got, &err), SC_OK);
    ck_assert_int_eq(got.time_ms, 0);
    const char *bad[] = {"time 012", "time -1", "time 9223372036854775808",
                         "time ",    "time 1 ", "time 12\ntime 12",
                         "foo\tbar", "",        "ok\n\nok"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[256];
        snprintf(body, sizeof body, ORIGIN "\n7\n" ROOT64 "\n%s\n", bad[i]);
        ck_assert_msg(open_body(body, &got, &err) == SC_ERR_MALFORMED, "extension '%s' accepted",
                      bad[i]);
    }
}
END_TEST

START_TEST(test_origin_line)
{
    sc_checkpoint got;
    sc_err err;
    char body[512], origin[SC_ORIGIN_MAX + 1];
    /* 127 bytes is the longest origin; 128 is refused. */
    memset(origin, 'o', SC_ORIGIN_MAX - 1);
    origin[SC_ORIGIN_MAX - 1] = '\0';
    sc_keypair *kp = sct_key(1);
    char note[SC_CHECKPOINT_NOTE_MAX];
    snprintf(body, sizeof body, "%s\n7\n" ROOT64 "\n", origin);
    size_t len = make_note(note, sizeof note, body, kp, origin);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), origin, &got, &err), SC_OK);
    ck_assert_str_eq(got.origin, origin);
    memset(origin, 'o', SC_ORIGIN_MAX);
    origin[SC_ORIGIN_MAX] = '\0';
    snprintf(body, sizeof body, "%s\n7\n" ROOT64 "\n", origin);
    len = make_note(note, sizeof note, body, kp, origin);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), NULL, &got, &err),
                     SC_ERR_MALFORMED);
    ck_assert(strstr(err.msg, "line 1") != NULL);
    sc_keypair_free(kp);

    const char *bad[] = {" lead", "trail ", "del\x7f", "c1\xc2\x85x", "nbsp\xc2\xa0", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(body, sizeof body, "%s\n7\n" ROOT64 "\n", bad[i]);
        ck_assert_msg(open_body(body, &got, &err) == SC_ERR_MALFORMED, "origin '%s' accepted",
                      bad[i]);
    }
    /* Inner spaces are legal in an origin (go.sum's is one), but can never be our key name. */
    ck_assert_int_eq(open_body("go.sum database tree\n7\n" ROOT64 "\n", &got, &err),
                     SC_ERR_CHECKPOINT);
}
END_TEST

START_TEST(test_signature_lines)
{
    sc_keypair *kp = sct_key(1), *witness = sct_key(2), *rogue = sct_key(3);
    const char *body = ORIGIN "\n7\n" ROOT64 "\n";
    size_t blen = strlen(body);
    char note[4 * SC_CHECKPOINT_NOTE_MAX];
    sc_checkpoint got;
    sc_err err;
    size_t len;

    /* Only another key's line: not ours, whatever its name. */
    len = make_note(note, sizeof note, body, witness, "witness.example");
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), NULL, &got, &err),
                     SC_ERR_CHECKPOINT);
    len = make_note(note, sizeof note, body, witness, ORIGIN);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), NULL, &got, &err),
                     SC_ERR_CHECKPOINT);

    /* Our line plus unknown ones, before or after: accepted, so witnesses can cosign. */
    len = make_note(note, sizeof note, body, kp, ORIGIN);
    add_sig_line(note, sizeof note, &len, witness, "witness.example", body, blen);
    add_sig_line(note, sizeof note, &len, rogue, ORIGIN, body, blen); /* same name, other id */
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), ORIGIN, &got, &err), SC_OK);
    len = make_note(note, sizeof note, body, witness, "witness.example");
    add_sig_line(note, sizeof note, &len, kp, ORIGIN, body, blen);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), ORIGIN, &got, &err), SC_OK);
    /* Our line twice is fine. */
    add_sig_line(note, sizeof note, &len, kp, ORIGIN, body, blen);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), ORIGIN, &got, &err), SC_OK);

    /* A second line by our key that fails to verify taints the note. */
    len = make_note(note, sizeof note, body, kp, ORIGIN);
    add_sig_line(note, sizeof note, &len, kp, ORIGIN, "other text\n", 11);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), ORIGIN, &got, &err),
                     SC_ERR_CHECKPOINT);

    /* Malformed lines are refused even when a good line is present. */
    const char *bad[] = {
        "- " ORIGIN " AAAAAAA=",    /* not an em dash */
        EM_DASH ORIGIN " AAAAAAA=", /* no space after the dash */
        EM_DASH "  AAAAAAA=",       /* empty name */
        EM_DASH " a+b AAAAAAA=",    /* '+' in the name */
        EM_DASH " a\xe3\x80\x80"
                "b AAAAAAA=",           /* ideographic space in the name */
        EM_DASH " name",                /* no signature */
        EM_DASH " name AAAA",           /* 3 bytes: shorter than a key id */
        EM_DASH " name AAAAAAA= extra", /* extra field */
        EM_DASH " name AAAAAAA",        /* padding missing */
        EM_DASH " name AAAAAAA=\x7f",   /* bad base64 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        len = make_note(note, sizeof note, body, kp, ORIGIN);
        int n = snprintf(note + len, sizeof note - len, "%s\n", bad[i]);
        ck_assert(n > 0);
        ck_assert_msg(open_note(note, len + (size_t)n, sc_keypair_public(kp), NULL, &got, &err) ==
                          SC_ERR_MALFORMED,
                      "signature line %zu accepted", i);
        ck_assert_msg(strstr(err.msg, "line 6") != NULL, "message '%s'", err.msg);
    }
    /* A line with five bytes (id and one signature byte) is well-formed, just not ours. */
    len = make_note(note, sizeof note, body, kp, ORIGIN);
    int n = snprintf(note + len, sizeof note - len, EM_DASH " name AAAAAAA=\n");
    ck_assert_int_eq(open_note(note, len + (size_t)n, sc_keypair_public(kp), NULL, &got, &err),
                     SC_OK);
    sc_keypair_free(kp);
    sc_keypair_free(witness);
    sc_keypair_free(rogue);
}
END_TEST

START_TEST(test_size_limit)
{
    sc_keypair *kp = sct_key(1);
    char note[2 * SC_CHECKPOINT_NOTE_MAX], body[SC_CHECKPOINT_NOTE_MAX];
    sc_checkpoint got;
    sc_err err;
    /* Pad with an extension line so the whole note is exactly the limit. */
    size_t len = make_note(note, sizeof note, ORIGIN "\n7\n" ROOT64 "\n", kp, ORIGIN);
    size_t pad = SC_CHECKPOINT_NOTE_MAX - len - 1;
    int n = snprintf(body, sizeof body, ORIGIN "\n7\n" ROOT64 "\n%0*d\n", (int)pad, 0);
    ck_assert(n > 0);
    len = make_note(note, sizeof note, body, kp, ORIGIN);
    ck_assert_uint_eq(len, SC_CHECKPOINT_NOTE_MAX);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), NULL, &got, &err), SC_OK);
    n = snprintf(body, sizeof body, ORIGIN "\n7\n" ROOT64 "\n%0*d\n", (int)pad + 1, 0);
    len = make_note(note, sizeof note, body, kp, ORIGIN);
    ck_assert_int_eq(open_note(note, len, sc_keypair_public(kp), NULL, &got, &err),
                     SC_ERR_TOO_LARGE);
    /* The cap comes first: oversized garbage is TOO_LARGE, not MALFORMED. */
    memset(note, 0xff, sizeof note);
    ck_assert_int_eq(open_note(note, sizeof note, sc_keypair_public(kp), NULL, &got, &err),
                     SC_ERR_TOO_LARGE);
    sc_keypair_free(kp);
}
END_TEST

START_TEST(test_sign_arguments)
{
    sc_keypair *kp = sct_key(1);
    sc_checkpoint cp = sample_cp();
    char note[SC_CHECKPOINT_NOTE_MAX];
    size_t len = 0;
    sc_err err;
    ck_assert_int_eq(sc_checkpoint_sign(NULL, kp, &cp, note, sizeof note, &len, &err), SC_OK);
    size_t need = len + 1;

    /* Exactly enough room, and one byte short (then out is wiped). */
    ck_assert_int_eq(sc_checkpoint_sign(NULL, kp, &cp, note, need, &len, &err), SC_OK);
    ck_assert_int_eq(sc_checkpoint_sign(NULL, kp, &cp, note, need - 1, &len, &err),
                     SC_ERR_TOO_LARGE);
    ck_assert_int_eq(err.code, SC_ERR_TOO_LARGE);
    ck_assert_uint_eq(len, 0);
    ck_assert(sct_all_zero(note, need - 1));

    /* Origins that cannot be a C2SP key name, or are not printable. */
    const char *bad[] = {"",      "a b",     "a+b",           "tab\there",
                         "nl\nx", "del\x7f", "nbsp\xc2\xa0x", "\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sc_checkpoint c = sample_cp();
        memset(c.origin, 0, sizeof c.origin);
        memcpy(c.origin, bad[i], strlen(bad[i]));
        memset(note, 'x', sizeof note);
        ck_assert_msg(sc_checkpoint_sign(NULL, kp, &c, note, sizeof note, &len, &err) ==
                          SC_ERR_INVALID_ARG,
                      "origin '%s' signed", bad[i]);
        ck_assert(sct_all_zero(note, sizeof note));
    }
    sc_checkpoint c = sample_cp();
    memset(c.origin, 'o', sizeof c.origin); /* no NUL */
    ck_assert_int_eq(sc_checkpoint_sign(NULL, kp, &c, note, sizeof note, &len, &err),
                     SC_ERR_INVALID_ARG);
    c = sample_cp();
    c.time_ms = -1;
    ck_assert_int_eq(sc_checkpoint_sign(NULL, kp, &c, note, sizeof note, &len, &err),
                     SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_checkpoint_sign(NULL, NULL, &cp, note, sizeof note, &len, &err),
                     SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_checkpoint_sign(NULL, kp, NULL, note, sizeof note, &len, &err),
                     SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_checkpoint_sign(NULL, kp, &cp, NULL, 0, &len, &err), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_checkpoint_sign(NULL, kp, &cp, note, sizeof note, NULL, &err),
                     SC_ERR_INVALID_ARG);

    sc_checkpoint got;
    ck_assert_int_eq(sc_checkpoint_open(NULL, 5, sc_keypair_public(kp), NULL, &got, &err),
                     SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_checkpoint_open(note, 5, NULL, NULL, &got, &err), SC_ERR_INVALID_ARG);
    ck_assert_int_eq(sc_checkpoint_open(note, 5, sc_keypair_public(kp), NULL, NULL, &err),
                     SC_ERR_INVALID_ARG);
    sc_keypair_free(kp);
}
END_TEST

static Suite *checkpoint_suite(void)
{
    Suite *s = suite_create("core/checkpoint");
    const sct_case cases[] = {
        {"key_id_vectors", test_key_id_vectors},
        {"sign_raw_vector", test_sign_raw_vector},
        {"sumdb_checkpoint", test_sumdb_checkpoint},
        {"round_trip", test_round_trip},
        {"wrong_key_or_origin", test_wrong_key_or_origin},
        {"flipped_bytes", test_flipped_bytes},
        {"structure", test_structure},
        {"size_line", test_size_line},
        {"root_line", test_root_line},
        {"extension_lines", test_extension_lines},
        {"origin_line", test_origin_line},
        {"signature_lines", test_signature_lines},
        {"size_limit", test_size_limit},
        {"sign_arguments", test_sign_arguments},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases), NULL);
    return s;
}

int main(void)
{
    return sct_run(checkpoint_suite());
}
