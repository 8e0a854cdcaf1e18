/*
 * test_serve_config.c: the syncd command line and its settings: usage
 * errors exit 2, every command and every admin command answers --help on
 * stdout with exit 0 and names itself in "unknown option --x" (exit 2),
 * deploy/syncd.conf.example loads as shipped, a bad setting stops start-up
 * with the line that is wrong, and a running server answers /healthz and
 * /metrics.  Each request's log line names its client: the peer, or behind
 * a trusted proxy the address the proxy gives, which a client talking to
 * syncd directly cannot choose; a port in use is named in the message and
 * the log.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "sctest.h"
#include "sctest_fixture.h"
#include "sctest_server.h"

static char tmp[512], data[600];

static void setup(void)
{
    sct_tempdir(tmp, sizeof tmp);
    snprintf(data, sizeof data, "%s/data", tmp);
}

static void teardown(void)
{
    sct_rmtree(tmp);
}

START_TEST(usage)
{
    char out[4096];
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, NULL, NULL), 2);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "frobnicate", NULL), 2);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "--help", NULL), 0);
    ck_assert(strstr(out, "serve") != NULL && strstr(out, "audit") != NULL);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "serve", NULL), 2);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "serve", "--data", data, "extra", NULL), 2);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "serve", "--bogus", NULL), 2);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "serve", "--help", NULL), 0);
    ck_assert(strstr(out, "--listen") != NULL);
    ck_assert_int_eq(
        sct_syncd_run(out, sizeof out, "serve", "--data", data, "--listen", "nonsense", NULL), 2);
    /* A data directory that was never made: refused, exit 1. */
    ck_assert_int_eq(
        sct_syncd_run(out, sizeof out, "serve", "--data", data, "--listen", "127.0.0.1:0", NULL),
        1);
}
END_TEST

/* `syncd WORDS... --help` (words NULL-terminated, at most 3): usage on stdout, exit 0. */
static void help_of(const char *want, const char *w1, const char *w2, const char *w3)
{
    char out[8192];
    int st = w3   ? sct_syncd_run(out, sizeof out, w1, w2, w3, "--help", NULL)
             : w2 ? sct_syncd_run(out, sizeof out, w1, w2, "--help", NULL)
                  : sct_syncd_run(out, sizeof out, w1, "--help", NULL);
    ck_assert_msg(st == 0, "syncd %s %s --help exited %d", w1, w2 ? w2 : "", st);
    ck_assert_msg(strncmp(out, want, strlen(want)) == 0,
                  "--help of %s %s: \"%s\" is not first in %s", w1, w2 ? w2 : "", want, out);
}

/* `syncd WORDS... --bogus x`: exit 2, "syncd WORDS: unknown option --bogus" and the usage. */
static void unknown_option(const char *who, const char *w1, const char *w2, const char *w3)
{
    char out[8192], want[128];
    int st = w3   ? sct_syncd_run_all(out, sizeof out, w1, w2, w3, "--bogus", "x", NULL)
             : w2 ? sct_syncd_run_all(out, sizeof out, w1, w2, "--bogus", "x", NULL)
                  : sct_syncd_run_all(out, sizeof out, w1, "--bogus", "x", NULL);
    ck_assert_msg(st == 2, "syncd %s --bogus exited %d: %s", who, st, out);
    snprintf(want, sizeof want, "syncd %s: unknown option --bogus\n", who);
    ck_assert_msg(strstr(out, want) != NULL, "\"%s\" not in: %s", want, out);
    ck_assert_msg(strstr(out, "usage: syncd ") != NULL, "no usage after the error: %s", out);
}

START_TEST(help_and_unknown_options)
{
    char want[128];
    for (size_t i = 0; i < sd_ncommands; i++) {
        const char *name = sd_commands[i].name;
        snprintf(want, sizeof want, "usage: syncd %s ", name);
        help_of(want, name, NULL, NULL);
        help_of(want, name, "-h", NULL);
        unknown_option(name, name, NULL, NULL);
    }
    /* admin --help lists its commands; each answers its own --help and names itself. */
    char out[8192];
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "admin", "--help", NULL), 0);
    const char *list = strstr(out, "Commands:\n");
    ck_assert_ptr_nonnull(list);
    unsigned n = 0;
    for (const char *l = list + strlen("Commands:\n"); *l; l = strchr(l, '\n') + 1, n++) {
        if (strncmp(l, "  ", 2) != 0 || l[2] == ' ') {
            n--; /* a continuation line */
            if (!strchr(l, '\n'))
                break;
            continue;
        }
        char w1[32] = "", w2[32] = "";
        ck_assert_int_ge(sscanf(l + 2, "%31[a-z] %31[a-z]", w1, w2), 1);
        /* The commands of one word; the others have two. */
        bool two = strcmp(w1, "enroll") != 0 && strcmp(w1, "assign") != 0 &&
                   strcmp(w1, "import") != 0 && strcmp(w1, "log") != 0;
        char who[80];
        snprintf(who, sizeof who, "admin %s%s%s", w1, two ? " " : "", two ? w2 : "");
        snprintf(want, sizeof want, "usage: syncd admin --data DIR %s%s%s", w1, two ? " " : "",
                 two ? w2 : "");
        help_of(want, "admin", w1, two ? w2 : NULL);
        unknown_option(who, "admin", w1, two ? w2 : NULL);
        if (!strchr(l, '\n'))
            break;
    }
    ck_assert_uint_ge(n, 8);
    /* A value missing, and an unknown command, are usage errors too. */
    ck_assert_int_eq(sct_syncd_run_all(out, sizeof out, "admin", "org", "add", "X", "--name", NULL),
                     2);
    ck_assert(strstr(out, "syncd admin org add: --name needs a value") != NULL);
    ck_assert_int_eq(sct_syncd_run_all(out, sizeof out, "audit", "--data", NULL), 2);
    ck_assert(strstr(out, "syncd audit: --data needs a value") != NULL);
    ck_assert_int_eq(sct_syncd_run_all(out, sizeof out, "admin", "--data", data, "frob", NULL), 2);
    ck_assert(strstr(out, "syncd admin: unknown command \"frob\"") != NULL);
    ck_assert_int_eq(sct_syncd_run_all(out, sizeof out, "--bogus", NULL), 2);
    ck_assert(strstr(out, "syncd: unknown option --bogus") != NULL);
}
END_TEST

/* `syncd admin ARGS...` (NULL-terminated): exit 2, and what it says (stderr) holds each of want. */
static void admin_usage_error(const char *want1, const char *want2, ...)
{
    const char *argv[10] = {"admin", "--data", data}; /* NULL after the last */
    size_t n = 3;
    va_list ap;
    va_start(ap, want2);
    for (const char *s; n < 9 && (s = va_arg(ap, const char *)) != NULL;)
        argv[n++] = s;
    va_end(ap);
    char out[8192];
    int st = sct_syncd_run_all(out, sizeof out, argv[0], argv[1], argv[2], argv[3], argv[4],
                               argv[5], argv[6], argv[7], argv[8], NULL);
    ck_assert_msg(st == 2, "exit %d, not 2: %s", st, out);
    ck_assert_msg(strstr(out, want1) != NULL, "\"%s\" not in: %s", want1, out);
    ck_assert_msg(strstr(out, want2) != NULL, "\"%s\" not in: %s", want2, out);
}

/*
 * The admin commands' usage errors say what is wrong before the data
 * directory is touched (there is none here): an unknown option named even
 * where it would lack its value, a flag given a value, a word too many or
 * too few, an option a command needs; a group's --help lists its commands.
 */
START_TEST(admin_usage_errors)
{
    admin_usage_error("syncd admin user list: unknown option --jsn\n",
                      "usage: syncd admin --data DIR user list [--json]", "user", "list", "--jsn",
                      NULL);
    admin_usage_error("syncd admin user list: unknown option -j\n", "usage: syncd admin", "user",
                      "list", "-j", NULL);
    admin_usage_error("syncd admin: unknown option -x\n", "Commands:", "-x", NULL);
    admin_usage_error("syncd admin code list: --all takes no value\n", "usage: syncd admin", "code",
                      "list", "--all=yes", NULL);
    admin_usage_error("syncd admin user list: unexpected argument \"extra\"\n",
                      "usage: syncd admin", "user", "list", "extra", NULL);
    admin_usage_error("syncd admin user role: missing ROLE\n",
                      "usage: syncd admin --data DIR user role", "user", "role", "li.wei", NULL);
    admin_usage_error("syncd admin import: missing FILE.csv\n", "usage: syncd admin", "import",
                      "users", NULL);
    admin_usage_error("syncd admin org add: --name is needed\n", "usage: syncd admin", "org", "add",
                      "C01", NULL);
    admin_usage_error("syncd admin assign: --inspector is needed\n", "usage: syncd admin", "assign",
                      "--target", "T1", "--kind", "routine", NULL);
    admin_usage_error("syncd admin: unknown command \"user frob\"\n", "  user disable LOGIN",
                      "user", "frob", NULL);
    char out[8192];
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "admin", "user", "--help", NULL), 0);
    ck_assert(strncmp(out, "usage: syncd admin --data DIR user COMMAND", 42) == 0);
    ck_assert(strstr(out, "  user disable LOGIN") && strstr(out, "  user role LOGIN"));
    ck_assert(strstr(out, "org add") == NULL);
    /* Nothing was made: no command got as far as the data directory. */
    ck_assert_int_ne(access(data, F_OK), 0);
}
END_TEST

START_TEST(example_config_loads)
{
    sct_fixture fx;
    sct_fixture_make(&fx, data);
    char conf[1024];
    snprintf(conf, sizeof conf, "%s/deploy/syncd.conf.example", SC_SOURCE_DIR);
    const char *const extra[] = {"--config", conf, NULL};
    sct_server srv;
    /* --listen 127.0.0.1:0 from the helper overrides the file's 8080. */
    sct_server_start(&srv, data, extra);
    sct_client c;
    sct_client_init(&c, srv.url, NULL);
    sct_resp r;
    ck_assert_int_eq(sct_request(&c, "GET", "/healthz", NULL, 0, NULL, NULL, &r), 200);
    ck_assert_str_eq((char *)r.body, "ok\n");
    sct_resp_dispose(&r);
    ck_assert_int_eq(sct_request(&c, "GET", "/metrics", NULL, 0, NULL, NULL, &r), 200);
    ck_assert(strstr((char *)r.body, "\nsyncd_log_size ") != NULL);
    ck_assert(strstr((char *)r.body, "syncd_http_requests_total{code=\"200\"} 1") != NULL);
    sct_resp_dispose(&r);
    sct_client_dispose(&c);
    ck_assert_int_eq(sct_server_stop(&srv), 0);
    /* The log is JSON lines with the listening event. */
    ck_assert(sct_server_log_has(&srv, "\"msg\":\"listening\""));
}
END_TEST

/* syncd serve with the settings text: refused at start-up, exit 2. */
static void refused_settings(const char *text)
{
    char conf[700], out[4096];
    snprintf(conf, sizeof conf, "%s/bad.conf", tmp);
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(sct_syncd_run(out, sizeof out, "serve", "--data", data, "--listen",
                                   "127.0.0.1:0", "--config", conf, NULL),
                     2);
}

START_TEST(bad_setting_stops_startup)
{
    sct_fixture fx;
    sct_fixture_make(&fx, data);
    refused_settings("# fine\nhttp.threads = 2\nsync.batch_max = 0\n");
    refused_settings("htp.threads = 2\n");
    /* Settings that contradict each other: a largest photo that no device could ever upload. */
    refused_settings("blobs.max_size = 1048576\nblobs.partial_max_bytes = 1048575\n");
}
END_TEST

/* GET /healthz from source (NULL: 127.0.0.1) with the header lines; the log's client and proxy. */
static void logged_as(sct_server *srv, const char *source, const char *const *headers,
                      const char *client, const char *proxy)
{
    sct_client c;
    sct_client_init(&c, srv->url, NULL);
    c.source = source;
    sct_resp r;
    ck_assert_int_eq(sct_request(&c, "GET", "/healthz", NULL, 0, headers, NULL, &r), 200);
    char got[64];
    ck_assert(sct_server_log_field(srv, r.request_id, "client", got, sizeof got));
    ck_assert_msg(strcmp(got, client) == 0, "from %s with %s: logged client %s, not %s",
                  source ? source : "127.0.0.1", headers ? headers[0] : "no header", got, client);
    ck_assert(sct_server_log_field(srv, r.request_id, "proxy", got, sizeof got));
    ck_assert_msg(strcmp(got, proxy) == 0, "logged proxy %s, not %s", got, proxy);
    sct_resp_dispose(&r);
    sct_client_dispose(&c);
}

START_TEST(client_address_in_the_log)
{
    sct_fixture fx;
    sct_fixture_make(&fx, data);
    char conf[700];
    snprintf(conf, sizeof conf, "%s/proxy.conf", tmp);
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fputs("http.trusted_proxies = 127.0.0.2, fd00::/8\n", f);
    ck_assert_int_eq(fclose(f), 0);
    const char *const extra[] = {"--config", conf, NULL};
    sct_server srv;
    sct_server_start(&srv, data, extra);
    const char *const spoof[] = {"X-Forwarded-For: 203.0.113.9", NULL};
    const char *const prepended[] = {"X-Forwarded-For: 198.51.100.7, 203.0.113.9", NULL};
    const char *const two[] = {"X-Forwarded-For: 203.0.113.9", "X-Forwarded-For: 127.0.0.2", NULL};
    /* A client talking to syncd directly cannot choose the address it is logged under. */
    logged_as(&srv, NULL, NULL, "127.0.0.1", "(absent)");
    logged_as(&srv, NULL, spoof, "127.0.0.1", "(absent)");
    logged_as(&srv, NULL, prepended, "127.0.0.1", "(absent)");
    /* The trusted proxy names the client; what the client wrote before its hop is ignored. */
    logged_as(&srv, "127.0.0.2", spoof, "203.0.113.9", "127.0.0.2");
    logged_as(&srv, "127.0.0.2", prepended, "203.0.113.9", "127.0.0.2");
    logged_as(&srv, "127.0.0.2", two, "203.0.113.9", "127.0.0.2");
    logged_as(&srv, "127.0.0.2", NULL, "127.0.0.2", "(absent)");
    ck_assert_int_eq(sct_server_stop(&srv), 0);
    /* With no trusted proxy, the header is ignored from every peer. */
    sct_server_start(&srv, data, NULL);
    logged_as(&srv, "127.0.0.2", spoof, "127.0.0.2", "(absent)");
    ck_assert_int_eq(sct_server_stop(&srv), 0);
    /* A setting that is not an address is refused, naming it. */
    char out[4096];
    f = fopen(conf, "w");
    fputs("http.trusted_proxies = 127.0.0.1, proxy.example.org\n", f);
    fclose(f);
    ck_assert_int_eq(sct_syncd_run_all(out, sizeof out, "serve", "--data", data, "--listen",
                                       "127.0.0.1:0", "--config", conf, NULL),
                     2);
    ck_assert_msg(strstr(out, "http.trusted_proxies: \"proxy.example.org\" is not an IP address") !=
                      NULL,
                  "%s", out);
}
END_TEST

START_TEST(port_in_use_is_named)
{
    sct_fixture fx;
    sct_fixture_make(&fx, data);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(s, 4), 0);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    char listen_at[64], want[128], out[8192];
    snprintf(listen_at, sizeof listen_at, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    snprintf(want, sizeof want, "cannot listen on %s: Address already in use", listen_at);
    ck_assert_int_eq(
        sct_syncd_run_all(out, sizeof out, "serve", "--data", data, "--listen", listen_at, NULL),
        1);
    close(s);
    /* The message on stderr, and the log's JSON line, both name the port asked for. */
    char plain[256], logged[256];
    snprintf(plain, sizeof plain, "syncd serve: cannot start the HTTP server: %s\n", want);
    snprintf(logged, sizeof logged, "\"error\":\"%s\"", want);
    ck_assert_msg(strstr(out, plain) != NULL, "\"%s\" not in:\n%s", plain, out);
    ck_assert_msg(strstr(out, logged) != NULL, "%s not in the log:\n%s", logged, out);
    ck_assert_msg(strstr(out, "port 0") == NULL, "%s", out);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syncd/serve_config");
    const sct_case cases[] = {
        {"usage", usage},
        {"help_and_unknown_options", help_and_unknown_options},
        {"admin_usage_errors", admin_usage_errors},
        {"client_address_in_the_log", client_address_in_the_log},
        {"port_in_use_is_named", port_in_use_is_named},
        {"example_config_loads", example_config_loads},
        {"bad_setting_stops_startup", bad_setting_stops_startup},
    };
    sct_suite_add(s, cases, SCT_COUNT(cases),
                  &(sct_tcase_opts){.setup = setup, .teardown = teardown, .timeout_s = 120});
    return s;
}

int main(void)
{
    return sct_run(suite());
}
