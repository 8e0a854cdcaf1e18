/*
 * governance.c: the `spotcheck` commands of rectification governance
 * (docs/client.md; docs/data-model.md §4): the notice, sign-for, the plan
 * and sending it back, extensions and their decisions, a supervisor's
 * deadline change.  Acceptance is `revisit --acceptance` (main.c).  Each
 * command is one call of the public API; what it refuses, and why, is the
 * library's message.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* One command: its name, its usage line and what it does, for --help. */
typedef struct gov_cmd {
    const char *name;
    const char *help;
    int (*run)(cli *k, int argc, char **argv);
} gov_cmd;

/* {"ok":true,"id":FINDING,"op":OP} or "what FINDING (op OP)". */
static int done_op(cli *k, sc_status s, const char *id, const char *what, const char *op)
{
    if (s != SC_OK)
        return fail(k, s, NULL);
    char line[256];
    snprintf(line, sizeof line, "%s %s (op %s)", what, id, op);
    return emit_pack(k, json_pack("{s:b,s:s,s:s}", "ok", 1, "id", id, "op", op), line);
}

static int cmd_notice(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--responsible", 1, "ORG", NULL, "the org unit that rectifies (default the finding's)"},
        {"--deadline", 1, "YYYY-MM-DD", NULL, "the deadline (default the finding's)"},
        {"--note", 1, "T", NULL, "a note on the notice"}};
    parsed p;
    PARSE(1);
    int rc;
    if ((rc = need(p.pos[0], "FINDING")))
        return rc;
    return done_id(
        k, sc_notice(k->c, p.pos[0], OPT("--responsible"), OPT("--deadline"), OPT("--note")),
        p.pos[0], "notice issued for");
}

static int cmd_sign_for(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {{"--note", 1, "T", NULL, "a note on the sign-for"}};
    parsed p;
    PARSE(1);
    int rc;
    if ((rc = need(p.pos[0], "FINDING")))
        return rc;
    return done_id(k, sc_sign_for(k->c, p.pos[0], OPT("--note")), p.pos[0], "signed for");
}

static int cmd_plan(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--person", 1, "LOGIN", NULL, "the responsible person, a user of the register"},
        {"--person-name", 1, "N", NULL, "or their name..."},
        {"--person-phone", 1, "P", NULL, "...and phone number"},
        {"--measures", 1, "T", NULL, "the measures (required)"},
        {"--funds", 1, "AMOUNT", NULL, "a major hazard's funds, such as 12000.50"},
        {"--funds-source", 1, "T", NULL, "where the funds come from"},
        {"--interim", 1, "T", NULL, "the interim controls or contingency plan"},
        {"--lead-official", 1, "NAME", NULL, "the lead official (牵头领导)"}};
    parsed p;
    PARSE(1);
    int rc;
    if ((rc = need(p.pos[0], "FINDING")) || (rc = need(OPT("--measures"), "--measures")))
        return rc;
    if (!OPT("--person") && !(OPT("--person-name") && OPT("--person-phone")))
        return usage_error("%s", "a plan names its responsible person: --person LOGIN, or "
                                 "--person-name NAME and --person-phone PHONE");
    sc_plan_params pp = {.size = sizeof pp,
                         .person = OPT("--person"),
                         .person_name = OPT("--person-name"),
                         .person_phone = OPT("--person-phone"),
                         .measures = OPT("--measures"),
                         .funds = OPT("--funds"),
                         .funds_source = OPT("--funds-source"),
                         .interim = OPT("--interim"),
                         .lead_official = OPT("--lead-official")};
    char op[SC_HASH_HEX_LEN];
    sc_status s = sc_plan(k->c, p.pos[0], &pp, op);
    return done_op(k, s, p.pos[0], "plan filed for", op);
}

static int cmd_plan_return(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {{"--reason", 1, "T", NULL, "why it goes back (required)"},
                                   {"--plan", 1, "OP", NULL, "the plan's op (default the one in effect)"}};
    parsed p;
    PARSE(1);
    int rc;
    if ((rc = need(p.pos[0], "FINDING")) || (rc = need(OPT("--reason"), "--reason")))
        return rc;
    return done_id(k, sc_plan_return(k->c, p.pos[0], OPT("--plan"), OPT("--reason")), p.pos[0],
                   "plan sent back for");
}

static int cmd_extension(cli *k, int argc, char **argv)
{
    if (argc < 1 || !*argv[0]) /* `extension --help` has said what the subcommands are */
        return help_wanted ? 0 : usage_error("extension needs a subcommand: %s", "request, approve, reject");
    const char *sub = argv[0];
    argc--;
    argv++;
    static const optspec spec[] = {
        {"--deadline", 1, "YYYY-MM-DD", NULL, "the later deadline asked for (request)"},
        {"--reason", 1, "T", NULL, "why (request, reject: required)"},
        {"--request", 1, "OP", NULL, "the request decided (default the one pending)"}};
    parsed p;
    PARSE(1);
    int rc;
    if ((rc = need(p.pos[0], "FINDING")))
        return rc;
    if (strcmp(sub, "request") == 0) {
        if ((rc = need(OPT("--deadline"), "--deadline")) ||
            (rc = need(OPT("--reason"), "--reason")))
            return rc;
        char op[SC_HASH_HEX_LEN];
        sc_status s = sc_extension_request(k->c, p.pos[0], OPT("--deadline"), OPT("--reason"), op);
        return done_op(k, s, p.pos[0], "extension requested for", op);
    }
    bool approve = strcmp(sub, "approve") == 0;
    if (!approve && strcmp(sub, "reject") != 0)
        return usage_error("unknown extension subcommand \"%s\" (request, approve, reject)", sub);
    if (OPT("--deadline"))
        return usage_error("%s", "--deadline is the request's: a decision takes the date asked");
    if (!approve && (rc = need(OPT("--reason"), "--reason")))
        return rc;
    return done_id(k,
                   sc_extension_decide(k->c, p.pos[0], OPT("--request"), approve, OPT("--reason")),
                   p.pos[0], approve ? "extension approved for" : "extension rejected for");
}

static int cmd_deadline(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {{"--deadline", 1, "YYYY-MM-DD", NULL, "the new deadline"},
                                   {"--reason", 1, "T", NULL, "why it moves (required)"}};
    parsed p;
    PARSE(1);
    int rc;
    if ((rc = need(p.pos[0], "FINDING")) || (rc = need(OPT("--deadline"), "--deadline")) ||
        (rc = need(OPT("--reason"), "--reason")))
        return rc;
    return done_id(k, sc_deadline_change(k->c, p.pos[0], OPT("--deadline"), OPT("--reason")),
                   p.pos[0], "deadline changed for");
}

static int cmd_escalate(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--step", 1, "STEP", "escalation_step", "the rung of the ladder, mildest first (required)"},
        {"--level", 1, "LEVEL", "org_level", "the administrative level that issues it (required)"},
        {"--reason", 1, "T", NULL, "why (required)"},
        {"--photo", 2, "FILE", NULL, "a photo; repeat for each"}};
    parsed p;
    PARSE(1);
    int rc;
    if ((rc = need(p.pos[0], "FINDING")) || (rc = need(OPT("--step"), "--step")) ||
        (rc = need(OPT("--level"), "--level")) || (rc = need(OPT("--reason"), "--reason")))
        return rc;
    sc_escalation_params ep = {.size = sizeof ep,
                               .step = OPT("--step"),
                               .level = OPT("--level"),
                               .reason = OPT("--reason"),
                               .photos = p.rep,
                               .n_photos = (size_t)p.nrep};
    char op[SC_HASH_HEX_LEN];
    sc_status s = sc_escalate(k->c, p.pos[0], &ep, op);
    return done_op(k, s, p.pos[0], "escalated", op);
}

static int cmd_stop_work(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {{"--reason", 1, "T", NULL, "why work stops (required)"}};
    parsed p;
    PARSE(1);
    int rc;
    if ((rc = need(p.pos[0], "FINDING")) || (rc = need(OPT("--reason"), "--reason")))
        return rc;
    char op[SC_HASH_HEX_LEN];
    sc_status s = sc_stop_work(k->c, p.pos[0], OPT("--reason"), op);
    return done_op(k, s, p.pos[0], "work stopped (停工整改) on", op);
}

static const gov_cmd gov_cmds[] = {
    {"notice",
     "usage: spotcheck notice FINDING [--responsible ORG] [--deadline YYYY-MM-DD] [--note T]\n"
     "Issue a finding's notice (限期整改通知) when it has none; `check submit` issues one for\n"
     "every finding of the inspection.  Without --responsible and --deadline the finding's own\n"
     "are used; a general finding lacking them takes the target's org unit and today plus the\n"
     "register's period (show says \"defaulted\"); a major hazard lacking them is refused.\n"
     "Inspectors and supervisors.\n",
     cmd_notice},
    {"sign-for",
     "usage: spotcheck sign-for FINDING [--note T]\n"
     "The responsible unit signs for the notice (签收), once.  A responsible user signs for\n"
     "findings of their own unit (or one below it).\n",
     cmd_sign_for},
    {"plan",
     "usage: spotcheck plan FINDING --measures T (--person LOGIN | --person-name N --person-phone "
     "P)\n"
     "                      [--funds AMOUNT --funds-source T --interim T --lead-official NAME]\n"
     "File the rectification plan (整改方案) answering the notice; a later plan replaces it.\n"
     "A major hazard's plan also gives the funds (amount such as 12000.50, and source), the\n"
     "interim controls or contingency plan while it is open, and the lead official (牵头领导).\n"
     "Responsible users for their unit; supervisors for a unit that reports on paper.\n",
     cmd_plan},
    {"plan-return",
     "usage: spotcheck plan-return FINDING --reason T [--plan OP]\n"
     "A supervisor sends the plan in effect back (退回) with the reason; the unit files anew.\n",
     cmd_plan_return},
    {"extension",
     "usage: spotcheck extension request FINDING --deadline YYYY-MM-DD --reason T\n"
     "       spotcheck extension approve FINDING [--request OP] [--reason T]\n"
     "       spotcheck extension reject FINDING [--request OP] --reason T\n"
     "The responsible unit asks for a later deadline (延期); a supervisor, not the person who\n"
     "asked, approves or rejects it (--request: which request; default the one pending).  Only\n"
     "an approval moves the deadline; a rejection beats an approval made at the same time.\n",
     cmd_extension},
    {"deadline",
     "usage: spotcheck deadline FINDING --deadline YYYY-MM-DD --reason T\n"
     "After the notice, a supervisor's change of the deadline, stating its reason (before it,\n"
     "use `finding set --deadline`).\n",
     cmd_deadline},
    {"escalate",
     "usage: spotcheck escalate FINDING --step STEP --level LEVEL --reason T [--photo FILE]...\n"
     "A supervisor escalates an overdue or relapsing finding: STEP is the rung of the ladder\n"
     "(提醒函, 通报, 约谈, 黄牌警告, 问责, mildest first), LEVEL who issues it (市, 县/区,\n"
     "街道, ...); the options below list the names.  The reason is required; photos are its\n"
     "evidence.  `review` lists the findings the register's ladder says need escalating; the\n"
     "responsible unit sees the escalations of its findings.\n",
     cmd_escalate},
    {"stop-work",
     "usage: spotcheck stop-work FINDING --reason T\n"
     "A supervisor orders work stopped (停工整改) on a finding until a rectified revisit lifts\n"
     "it (spotcheck revisit FINDING --result rectified --lift-stop-work); nothing else lifts\n"
     "it, and the finding is not closed while it stands.\n",
     cmd_stop_work},
};

static const gov_cmd *find(const char *cmd)
{
    for (size_t i = 0; cmd && i < sizeof gov_cmds / sizeof gov_cmds[0]; i++)
        if (strcmp(gov_cmds[i].name, cmd) == 0)
            return &gov_cmds[i];
    return NULL;
}

bool gov_is_command(const char *cmd)
{
    return find(cmd) != NULL;
}

int gov_command(cli *k, const char *cmd, int argc, char **argv)
{
    const gov_cmd *g = find(cmd);
    return g ? g->run(k, argc, argv) : usage_error("unknown command \"%s\"", cmd);
}

const char *gov_help(const char *cmd)
{
    const gov_cmd *g = find(cmd);
    return g ? g->help : NULL;
}
