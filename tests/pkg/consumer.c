/*
 * consumer.c: a program from outside the tree, built only with what an
 * install provides (spotcheck.h and `pkg-config spotcheck`), by
 * tests/pkg/install.sh and deb.sh.  It prints the library's version and
 * the status of an in-memory replica, which runs SQLite and libsodium
 * through libspotcheck.
 */
#include <spotcheck.h>
#include <stdio.h>

int main(void)
{
    sc_client *c = NULL;
    char err[256];
    sc_status s = sc_client_open(":memory:", NULL, &c, err, sizeof err);
    if (s != SC_OK) {
        fprintf(stderr, "consumer: sc_client_open: %s: %s\n", sc_status_name(s), err);
        return 1;
    }
    char *json = NULL;
    s = sc_client_status(c, &json);
    if (s != SC_OK) {
        fprintf(stderr, "consumer: sc_client_status: %s: %s\n", sc_status_name(s),
                sc_client_errmsg(c));
        sc_client_close(c);
        return 1;
    }
    printf("libspotcheck %s protocol %u\n%s\n", sc_version(), sc_protocol_version(), json);
    sc_json_free(c, json);
    sc_client_close(c);
    return 0;
}
