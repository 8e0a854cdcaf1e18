/*
 * signoff.c: `spotcheck check sign-off`, the inspected unit's sign-off
 * (共同签字确认; docs/client.md): the representative signs on this tablet
 * (their name, post and drawn signature), or, on their own enrolled
 * device, countersigns (--countersign).  And how `show` prints an
 * inspection's sign-offs for people.  Each form is one call of the public
 * API; what it refuses, and why, is the library's message.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int check_sign_off(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--name", 1, "NAME", NULL, "the representative's name (required to sign here)"},
        {"--role", 1, "POST", NULL, "their post: 站长, 物业经理, 安全员 (required to sign here)"},
        {"--signature", 1, "FILE", NULL, "the drawn signature, an image (required to sign here)"},
        {"--countersign", 0, NULL, NULL, "countersign with this device, the representative's own"},
        {"--note", 1, "T", NULL, "a note on the countersign"},
        {"--gps", 1, "LAT,LON", NULL, "where it is signed, in decimal degrees"}};
    parsed p;
    PARSE(1);
    int rc;
    if ((rc = need(p.pos[0], "CHECK")))
        return rc;
    int32_t lat = 0, lon = 0;
    if (OPT("--gps") && (rc = parse_gps(OPT("--gps"), &lat, &lon)))
        return rc;
    char op[SC_HASH_HEX_LEN];
    char line[256];
    sc_status s;
    if (OPT("--countersign")) {
        if (OPT("--name") || OPT("--role") || OPT("--signature"))
            return usage_error("%s", "--countersign signs with this device's own key: --name, "
                                     "--role and --signature are for a signature on the "
                                     "inspector's tablet");
        sc_countersign_params cp = {.size = sizeof cp,
                                    .note = OPT("--note"),
                                    .has_gps = OPT("--gps") != NULL,
                                    .lat_e7 = lat,
                                    .lon_e7 = lon};
        s = sc_check_countersign(k->c, p.pos[0], &cp, op);
        snprintf(line, sizeof line, "countersigned %s (op %s)", p.pos[0], op);
    } else {
        if (OPT("--note"))
            return usage_error("%s", "--note goes with --countersign");
        if ((rc = need(OPT("--name"), "--name")) || (rc = need(OPT("--role"), "--role")) ||
            (rc = need(OPT("--signature"), "--signature")))
            return rc;
        sc_sign_off_params sp = {.size = sizeof sp,
                                 .name = OPT("--name"),
                                 .role = OPT("--role"),
                                 .signature = OPT("--signature"),
                                 .has_gps = OPT("--gps") != NULL,
                                 .lat_e7 = lat,
                                 .lon_e7 = lon};
        s = sc_check_sign_off(k->c, p.pos[0], &sp, op);
        snprintf(line, sizeof line, "signed off %s by %s, %s (op %s)", p.pos[0], OPT("--name"),
                 OPT("--role"), op);
    }
    if (s != SC_OK)
        return fail(k, s, NULL);
    return emit_pack(k, json_pack("{s:b,s:s,s:s}", "ok", 1, "id", p.pos[0], "op", op), line);
}

/* " at LAT,LON" (degrees x 1e7, as ops keep them), or nothing. */
static void print_at(const json_t *gps)
{
    if (json_is_object(gps))
        printf(" at %lld,%lld", (long long)json_integer_value(json_object_get(gps, "lat_e7")),
               (long long)json_integer_value(json_object_get(gps, "lon_e7")));
}

void print_sign_offs(const json_t *sign_offs)
{
    size_t i;
    json_t *e;
    printf("sign-offs:%s\n", json_array_size(sign_offs) ? "" : " (none)");
    json_array_foreach((json_t *)(uintptr_t)sign_offs, i, e)
    {
        const char *by = json_string_value(json_object_get(e, "by"));
        if (strcmp(json_string_value(json_object_get(e, "kind")), "countersign") == 0) {
            const char *note = json_string_value(json_object_get(e, "note"));
            const char *login = json_string_value(json_object_get(e, "signer_login"));
            printf("  countersigned by %s with their own device %s", login ? login : "?",
                   by ? by : "?");
            print_at(json_object_get(e, "gps"));
            if (note && *note)
                printf("  \"%s\"", note);
            printf("\n      op %s\n", json_string_value(json_object_get(e, "op")));
            continue;
        }
        char when[32], taken[32];
        local_time(json_integer_value(json_object_get(e, "signed_ms")), when, sizeof when);
        printf("  signed by %s, %s, %s", json_string_value(json_object_get(e, "name")),
               json_string_value(json_object_get(e, "role")), when);
        print_at(json_object_get(e, "gps"));
        printf(", on the tablet of %s\n", by ? by : "?");
        const json_t *sig = json_object_get(e, "signature");
        local_time(json_integer_value(json_object_get(sig, "captured_ms")), taken, sizeof taken);
        const char *source = json_string_value(json_object_get(sig, "time_source"));
        printf("      signature %s  taken %s", json_string_value(json_object_get(sig, "sha256")),
               taken);
        if (source)
            printf(" (%s time)", strcmp(source, "exif") == 0 ? "EXIF" : "file");
        print_at(json_object_get(sig, "gps"));
        printf("%s\n      op %s\n",
               json_is_true(json_object_get(sig, "present")) ? "" : "  (not on this tablet yet)",
               json_string_value(json_object_get(e, "op")));
    }
}
