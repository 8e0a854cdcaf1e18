/*
 * help.c: `spotcheck COMMAND [SUBCOMMAND] --help`: what the command does,
 * its usage, and its options.  The options are the command's own table
 * (the optspec its parser reads, printed by help_options), and the values
 * an option takes are the library's (sc_value_name): the names the calls
 * check against, so no list here can drift from what is accepted.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* One command or subcommand: its usage and what it does. */
typedef struct help_entry {
    const char *cmd, *sub;  /* sub NULL: the command itself */
    bool leaf;              /* it has options of its own (else: its subcommands do) */
    const char *usage;      /* after "usage: spotcheck " */
    const char *what;       /* what it does; may name values as {field} (sc_value_name) */
} help_entry;

static const help_entry entries[] = {
    {"enroll", NULL, true, "enroll --server URL --code CODE [--label TEXT] [--no-sync] [--plain-key]",
     "Enroll this replica as a device of a user, with the one-time code an admin gave them, and\n"
     "pull the register (targets, score sheets, assignments) at once."},
    {"key", NULL, true, "key protect --new-passphrase-env VAR",
     "Encrypt a device key kept plain in the replica under a new passphrase."},
    {"sync", NULL, true, "sync [--quiet]",
     "Push the outbox, upload photos, pull what is new, check the log's checkpoint."},
    {"status", NULL, false, "status", "This replica: its device, user, outbox, replica hash."},
    {"outbox", NULL, true, "outbox [--all | --last N]",
     "This device's ops: queued, proven in the log, rejected; photos waiting to upload."},
    {"verify", NULL, false, "verify", "Check the replica's log proofs and refold every entity."},
    {"prove", NULL, false, "prove OP",
     "Prove one op (its id, as show's history lists it) is in syncd's log: fetch its inclusion\n"
     "proof under the last checkpoint this replica verified, and check it."},
    {"verify-bundle", NULL, false, "verify-bundle FILE",
     "Check an audit bundle (syncd export) without a replica."},
    {"server", NULL, false, "server set-url URL", "Reach the same register at another address."},
    {"server", "set-url", false, "server set-url URL",
     "Reach the same register at another address; it must answer with the same log."},
    {"assign", NULL, true,
     "assign --target CODE --inspector LOGIN... --kind KIND --disclosure D [--due YYYY-MM-DD]\n"
     "                        [--template ID|CODE] [--note T]",
     "A supervisor plans a check: the inspectors who will do it, on what, and by when."},
    {"check", NULL, false, "check open|score|submit|amend|sign-off ...",
     "An inspection: open a draft, score its items, submit it (signed as a whole), amend it,\n"
     "have the inspected unit sign it off.\n"
     "spotcheck check SUBCOMMAND --help says more."},
    {"check", "open", true,
     "check open --target CODE --kind KIND --disclosure D [--template ID|CODE]\n"
     "                            [--assignment ID] [--relation R]",
     "Open a draft inspection of a target, on a score sheet (spotcheck list templates).\n"
     "With --assignment, the kind, disclosure and target default to the assignment's."},
    {"check", "score", true,
     "check score CHECK --item CODE --status S [--points N | --deduct N] [--measured V]\n"
     "                            [--relapse-prone] [--note T]",
     "Record one item's result on a draft; a later score of the item replaces it.\n"
     "spotcheck show CHECK lists the items still unscored; an item with sub-items is scored\n"
     "by them, and a deduction item (扣分) by the points deducted from its maximum."},
    {"check", "submit", true, "check submit CHECK [--remarks T]",
     "Sign the inspection as a whole, with its findings and photos; it issues the notice of\n"
     "every finding not fixed on the spot."},
    {"check", "amend", true,
     "check amend CHECK --reason T --item CODE --status S [--points N | --deduct N] [--note T]",
     "Correct an item of a submitted inspection, stating why."},
    {"check", "sign-off", true,
     "check sign-off CHECK --name NAME --role POST --signature FILE [--gps LAT,LON]\n"
     "       spotcheck check sign-off CHECK --countersign [--note T] [--gps LAT,LON]",
     "The inspected unit's sign-off (共同签字确认) of a submitted inspection: its representative\n"
     "signs on this tablet, and the record keeps their name, post, the drawn signature (an\n"
     "image, attached as a photo and uploaded with the next sync) and the time; several parties\n"
     "may sign.  A representative with a device of their own enrolled countersigns on it\n"
     "instead (--countersign), once.  spotcheck show CHECK lists the sign-offs."},
    {"finding", NULL, false, "finding add|set ...",
     "A finding (hazard): record one, or change its fields before the notice."},
    {"finding", "add", true,
     "finding add --check CHECK|--target CODE --desc T --grade G [--category C] [--item CODE]\n"
     "                            [--location T] [--deadline YYYY-MM-DD] [--responsible ORG]\n"
     "                            [--source S] [--fixed-on-spot] [--photo FILE]...",
     "Record a finding in an inspection, or on a target (a complaint, a hotline call)."},
    {"finding", "set", true,
     "finding set FINDING [--deadline D] [--desc T] [--grade G] [--responsible ORG]\n"
     "                            [--category C] [--location T]",
     "Change a finding's fields (the deadline only before the notice)."},
    {"photo", NULL, false,
     "photo add ENTITY FILE [--caption T] [--item CODE] [--gps LAT,LON] | photo get SHA256 FILE",
     "Attach a photo to an inspection or a finding, or copy one out of the replica."},
    {"photo", "get", true, "photo get SHA256 FILE [--quiet]",
     "Copy a photo (by its SHA-256, as show lists it) out of the replica's photo store into a\n"
     "new file, checking its bytes against the hash; an existing file is never overwritten."},
    {"photo", "add", true, "photo add ENTITY FILE [--caption T] [--item CODE] [--gps LAT,LON]",
     "Attach a photo to an inspection or a finding; it uploads with the next sync.  --item\n"
     "names the score sheet item a check's photo shows (an item that asks for a photo when\n"
     "not met is submitted only with one)."},
    {"console", NULL, true, "console [--listen 127.0.0.1:PORT]",
     "Serve the review console over this replica on a loopback address, and print its URL with\n"
     "a one-time token: open it in a browser on this machine.  Every action in the console is\n"
     "a signed op of this device, as the commands make them.  Ctrl-C stops it."},
    {"rectify", NULL, true, "rectify FINDING --note T [--measures T] [--photo FILE]...",
     "The responsible unit reports a finding rectified, with its evidence."},
    {"revisit", NULL, true,
     "revisit FINDING --result R [--note T] [--look-back] [--acceptance] [--photo FILE]...",
     "Go back and see: a rectified finding is verified, one not rectified opens again."},
    {"close", NULL, true, "close FINDING [--note T]", "A supervisor closes a verified finding (销号)."},
    {"reopen", NULL, true, "reopen FINDING --reason T", "Open a verified or closed finding again."},
    {"void", NULL, true, "void ID --reason T",
     "Take a wrong record back: an entity, or one photo, note or item result (by its op)."},
    {"note", NULL, true, "note ENTITY --text T", "Add a note to an assignment, inspection or finding."},
    {"show", NULL, false, "show ID|CODE",
     "One entity with its history: a check with its score and the items still unscored, a\n"
     "score sheet (by its id or code) with its sections, items, points, veto items and pass mark."},
    {"list", NULL, true,
     "list WHAT [--status S] [--overdue] [--target CODE] [--assignment ID] [--include-voided]",
     "WHAT is one of: {list}.  Targets and score sheets are listed whole."},
    {"campaign", NULL, true, "campaign --template ID|CODE --org ORG",
     "A score sheet's campaign rule over an org unit: each target of the rule's types in its\n"
     "subtree, its latest submitted check on the sheet, and whether enough of them pass\n"
     "(002 L30: a township whose communities and villages pass at 80%)."},
    {"report", NULL, false, "report ledger|stats|period ...",
     "Reports of what this replica holds, which is what its user may see.\n"
     "spotcheck report ledger --help, report stats --help and report period --help say more."},
    {"report", "ledger", true,
     "report ledger [--findings|--checks] --format csv|xlsx --out FILE [--lang zh|en]\n"
     "                     [--org ORG] [--target CODE] [--period P] [--grade G] [--status S]\n"
     "                     [--kind K] [--source S] [--as-of YYYY-MM-DD]",
     "A ledger (台账) of findings or checks, one row each, as CSV (UTF-8 with a BOM, for\n"
     "Excel) or XLSX, with Chinese headers unless --lang en (docs/reports.md lists the\n"
     "columns).  Days overdue are counted to --as-of (default today)."},
    {"report", "stats", true,
     "report stats [--by org|target|day|week|month|quarter] [--format table|json|csv]\n"
     "                    [--lang zh|en] [--period P] [--as-of YYYY-MM-DD]",
     "Statistics of checks and findings, by org unit (rolled up the tree, ranked among\n"
     "siblings by 整改率), target or period: checks by kind and disclosure, average score,\n"
     "pass rate, findings by grade, rectified on time and late, overdue, 整改率, mean days to\n"
     "close, look-backs, reopen rate (docs/reports.md defines each)."},
    {"report", "period", true,
     "report period --org ORG --period P [--lang zh|en] [--as-of YYYY-MM-DD] [--out FILE]",
     "The period report of an org unit (a month, say) as one self-contained HTML page that\n"
     "prints to A4: the statistics of the unit and its child units, charts of 整改率 per\n"
     "child unit and of findings found against closed, the open major hazards with their\n"
     "rectification plans (整改方案), the findings overdue on --as-of and the escalations of\n"
     "the period.  Chinese unless --lang en.  --out writes FILE whole or not at all."},
    {"review", NULL, false, "review", "A supervisor's queue: what awaits closure, revisit, or a resolve."},
    {"conflicts", NULL, false, "conflicts", "Every entity with an open conflict."},
    {"resolve", NULL, true, "resolve ID --field F [--value V] [--item CODE]",
     "Settle a conflict with a write that has seen every side of it."},
};

/* "a, b, c": the values of a library field. */
static void print_values(const char *field, size_t flen)
{
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)flen, field);
    for (size_t i = 0;; i++) {
        const char *v = sc_value_name(name, i);
        if (!v)
            break;
        printf("%s%s", i ? ", " : "", v);
    }
}

/* Text with {field} replaced by the field's values. */
static void print_text(const char *t)
{
    while (*t) {
        const char *open = strchr(t, '{');
        const char *close = open ? strchr(open, '}') : NULL;
        if (!close) {
            fputs(t, stdout);
            break;
        }
        fwrite(t, 1, (size_t)(open - t), stdout);
        print_values(open + 1, (size_t)(close - open - 1));
        t = close + 1;
    }
    putchar('\n');
}

bool help_usage(const char *cmd, const char *sub, bool *leaf)
{
    const help_entry *e = NULL;
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        const help_entry *h = &entries[i];
        if (strcmp(h->cmd, cmd) != 0)
            continue;
        if (!h->sub && !e)
            e = h;
        if (h->sub && sub && strcmp(h->sub, sub) == 0)
            e = h;
    }
    if (!e)
        return false;
    printf("usage: spotcheck %s\n", e->usage);
    print_text(e->what);
    *leaf = e->leaf;
    return true;
}

void help_options(const optspec *spec, int nspec)
{
    if (nspec == 0)
        return;
    printf("options:\n");
    for (int i = 0; i < nspec; i++) {
        const optspec *o = &spec[i];
        char head[64];
        snprintf(head, sizeof head, "%s%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "",
                 o->kind == 2 ? "..." : "");
        printf("  %-26s %s\n", head, o->help ? o->help : "");
        const char *f = o->values;
        bool several = f && strchr(f, ' ');
        while (f && *f) {
            size_t n = strcspn(f, " ");
            printf("  %-26s %s%.*s%s", "", several ? "" : "one of: ", several ? (int)n : 0, f,
                   several ? ": " : "");
            print_values(f, n);
            putchar('\n');
            f += n;
            f += strspn(f, " ");
        }
    }
    printf("global options (before or after the command): --db FILE --json --passphrase-env VAR\n"
           "  --cacert FILE --capath DIR --pin sha256//BASE64 --proxy URL (spotcheck --help)\n");
}
