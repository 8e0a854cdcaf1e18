/*
 * app.c: a tablet app as it was built against the spotcheck.h of release
 * 0.1 (tests/vectors/abi/0.1/spotcheck.h, the header as it was then), run
 * by tests/abi/old_header.sh against the libspotcheck.so of this build.
 * It uses what a 0.1 app used, with 0.1's struct layouts: options to
 * sc_client_open_v2, sc_check_params, sc_finding_params, sc_filter,
 * sc_net_options and both progress callbacks.
 *
 *   app DB SERVER_URL CODE PHOTO
 *
 * enrolls, syncs, records an inspection with a finding and its photo, a
 * note and the submission, syncs them up, lists and checks the replica,
 * and prints one line per step ("step: JSON"); exit 0 only when every call
 * succeeded.
 */
#include <spotcheck.h>
#include <stdio.h>
#include <string.h>

#ifdef SC_VERSION_MAJOR
#error "app.c must be built against the 0.1 header, which has no SC_VERSION_MAJOR"
#endif

static int failed(sc_client *c, const char *what, sc_status s)
{
    fprintf(stderr, "app: %s: %s (%s)\n", what, c ? sc_client_errmsg(c) : "", sc_status_name(s));
    sc_client_close(c);
    return 1;
}

static void show(sc_client *c, const char *step, char *json)
{
    printf("%s: %s\n", step, json ? json : "null");
    sc_json_free(c, json);
}

static void count_events(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    (void)phase;
    (void)done;
    (void)total;
    ++*(unsigned *)ctx;
}

static int count_events_v2(void *ctx, const char *phase, uint64_t done, uint64_t total)
{
    count_events(ctx, phase, done, total);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: app DB SERVER_URL CODE PHOTO\n");
        return 2;
    }
    const char *db = argv[1], *url = argv[2], *code = argv[3], *photo = argv[4];
    printf("library: %s protocol %u\n", sc_version(), sc_protocol_version());
    sc_client_options opt = {.timeout_ms = 10000, .retries = 2, .backoff_ms = 50,
                             .chunk_bytes = 64 * 1024};
    sc_client *c = NULL;
    char err[512];
    sc_status s = sc_client_open_v2(db, &opt, SC_OPEN_ENROLL, &c, err, sizeof err);
    if (s != SC_OK) {
        fprintf(stderr, "app: open: %s (%s)\n", err, sc_status_name(s));
        return 1;
    }
    char *json = NULL;
    if ((s = sc_enroll(c, url, code, "a 0.1 app", NULL, 0, &json)) != SC_OK)
        return failed(c, "enroll", s);
    show(c, "enroll", json);
    unsigned events = 0;
    if ((s = sc_sync(c, count_events, &events, &json)) != SC_OK)
        return failed(c, "first sync", s);
    show(c, "pull", json);

    sc_check_params cp = {.target = "T-JAHY", .kind = "spot", .disclosure = "open",
                          .template_ = "no-epidemic-100"};
    char check[SC_ID_HEX_LEN], finding[SC_ID_HEX_LEN], sha[SC_HASH_HEX_LEN];
    if ((s = sc_check_open(c, &cp, check)) != SC_OK)
        return failed(c, "check open", s);
    if ((s = sc_check_score(c, check, "org-leadership", "met", 1, 5, NULL)) != SC_OK)
        return failed(c, "score", s);
    const char *photos[] = {photo};
    sc_finding_params fp = {.check = check, .description = "门岗未测温", .grade = "general",
                            .deadline = "2026-12-31", .responsible = "junan-garden",
                            .photos = photos, .n_photos = 1};
    if ((s = sc_finding_add(c, &fp, finding)) != SC_OK)
        return failed(c, "finding add", s);
    if ((s = sc_photo_add(c, finding, photo, "同一张照片", sha)) != SC_OK)
        return failed(c, "photo add", s);
    if ((s = sc_note_add(c, finding, "物业已通知整改")) != SC_OK)
        return failed(c, "note", s);
    if ((s = sc_check_submit(c, check, "检查完毕")) != SC_OK)
        return failed(c, "submit", s);
    printf("recorded: {\"check\":\"%s\",\"finding\":\"%s\",\"photo\":\"%s\"}\n", check, finding,
           sha);

    sc_net_options net = {.version = SC_NET_OPTIONS_VERSION, .proxy = ""};
    if ((s = sc_client_set_net(c, &net)) != SC_OK)
        return failed(c, "set net", s);
    if ((s = sc_sync_v2(c, count_events_v2, &events, &json)) != SC_OK)
        return failed(c, "sync", s);
    show(c, "sync", json);
    printf("events: %u\n", events);

    sc_filter f = {.target = "T-JAHY"};
    if ((s = sc_list(c, "findings", &f, &json)) != SC_OK)
        return failed(c, "list", s);
    show(c, "list", json);
    if ((s = sc_list_v2(c, "checks", NULL, SC_LIST_WITH_VOIDED, &json)) != SC_OK)
        return failed(c, "list_v2", s);
    show(c, "checks", json);
    if ((s = sc_client_status(c, &json)) != SC_OK)
        return failed(c, "status", s);
    show(c, "status", json);
    if ((s = sc_verify_replica(c, &json)) != SC_OK)
        return failed(c, "verify", s);
    show(c, "verify", json);
    printf("strerror: %s\n", sc_strerror(SC_ERR_TLS));
    sc_client_close(c);
    return 0;
}
