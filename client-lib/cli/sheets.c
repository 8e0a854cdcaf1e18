/*
 * sheets.c: the `spotcheck` commands about score sheets beyond one check:
 * `campaign`, a sheet's campaign rule over an org unit (docs/client.md).
 * Browsing sheets is `list templates` and `show CODE` (main.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void human_campaign(const json_t *o)
{
    const json_t *rule = json_object_get(o, "rule");
    printf("%s v%lld over %s: %lld of %lld targets pass; the rule asks %lld%%: %s\n",
           json_string_value(json_object_get(o, "code")),
           (long long)json_integer_value(json_object_get(o, "version")),
           json_string_value(json_object_get(o, "org")),
           (long long)json_integer_value(json_object_get(o, "passed")),
           (long long)json_integer_value(json_object_get(o, "counted")),
           (long long)json_integer_value(json_object_get(rule, "min_percent")),
           json_is_true(json_object_get(o, "met")) ? "met" : "NOT met");
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(o, "targets"), i, t)
    {
        const char *check = json_string_value(json_object_get(t, "check"));
        printf("  %-12s %s  ", json_string_value(json_object_get(t, "code")),
               json_string_value(json_object_get(t, "name")));
        if (check)
            printf("%lld points, %s (check %s)\n",
                   (long long)json_integer_value(json_object_get(t, "score")),
                   json_is_true(json_object_get(t, "passed")) ? "passed" : "not passed", check);
        else
            printf("no submitted check\n");
    }
}

static int cmd_campaign(cli *k, int argc, char **argv)
{
    static const optspec spec[] = {
        {"--template", 1, "ID|CODE", NULL, "the score sheet with the campaign rule (required)"},
        {"--org", 1, "ORG", NULL, "the org unit (a township) the rule is asked of (required)"}};
    parsed p;
    PARSE(0);
    int rc;
    if ((rc = need(OPT("--template"), "--template")) || (rc = need(OPT("--org"), "--org")))
        return rc;
    char *json = NULL;
    sc_status s = sc_sheet_campaign(k->c, OPT("--template"), OPT("--org"), &json);
    if (s != SC_OK)
        return fail(k, s, NULL);
    if (k->json) {
        puts(json);
    } else {
        json_t *o = cli_loads_for_people(json);
        if (o)
            human_campaign(o);
        json_decref(o);
    }
    sc_json_free(k->c, json);
    return 0;
}

bool sheet_is_command(const char *cmd)
{
    return strcmp(cmd, "campaign") == 0;
}

int sheet_command(cli *k, const char *cmd, int argc, char **argv)
{
    (void)cmd;
    return cmd_campaign(k, argc, argv);
}
