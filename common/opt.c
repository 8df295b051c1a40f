/* opt.c -- table-driven option parsing and help. */
#include "common/opt.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

static int s_set(const dmr_opt_t *o, dmr_optval_t *v, const char *value,
                 int given, char *err, size_t errlen)
{
    switch (o->kind) {
    case DMR_OPT_FLAG: v->num = 1; break;
    case DMR_OPT_STR: v->str = value; break;
    case DMR_OPT_INT: {
        int64_t n;
        if (dmr_parse_i64(value, &n) != 0 || n < o->min || n > o->max) {
            snprintf(err, errlen,
                     "option --%s takes an integer from %lld to %lld, not '%s'",
                     o->name, (long long)o->min, (long long)o->max, value);
            return DMR_EINVAL;
        }
        v->str = value;
        v->num = n;
        break;
    }
    case DMR_OPT_LIST:
        /* The first value given replaces the default, as for STR/INT. */
        if (given && !v->set)
            v->nlist = 0;
        v->list = dmr_realloc(v->list, (v->nlist + 1) * sizeof *v->list);
        v->list[v->nlist++] = value;
        break;
    }
    if (given)
        v->set = 1;
    return 0;
}

static const dmr_opt_t *s_find(const dmr_cmd_t *cmd, const char *name,
                               size_t len, char short_name, size_t *idx)
{
    for (size_t i = 0; i < cmd->nopts; i++) {
        const dmr_opt_t *o = &cmd->opts[i];
        if ((name && strlen(o->name) == len && !strncmp(o->name, name, len)) ||
            (!name && short_name && o->short_name == short_name)) {
            *idx = i;
            return o;
        }
    }
    return NULL;
}

int dmr_args_parse(const dmr_cmd_t *cmd, int argc, char **argv,
                   dmr_args_t *args, char *err, size_t errlen)
{
    memset(args, 0, sizeof *args);
    args->vals = dmr_calloc(cmd->nopts + 1, sizeof *args->vals);
    args->nvals = cmd->nopts;
    args->pos = dmr_calloc((size_t)argc + 1, sizeof *args->pos);
    for (size_t i = 0; i < cmd->nopts; i++)
        if (cmd->opts[i].def && s_set(&cmd->opts[i], &args->vals[i],
                                      cmd->opts[i].def, 0, err, errlen))
            return DMR_EINVAL;

    int only_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || a[0] != '-' || a[1] == '\0') {
            args->pos[args->npos++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_pos = 1;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            args->help = 1;
            continue;
        }
        const dmr_opt_t *o;
        size_t idx = 0;
        const char *value = NULL;
        char shown[64];
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            o = s_find(cmd, name, len, 0, &idx);
            snprintf(shown, sizeof shown, "--%.*s", (int)len, name);
            if (eq)
                value = eq + 1;
        } else {
            o = s_find(cmd, NULL, 0, a[1], &idx);
            snprintf(shown, sizeof shown, "-%c", a[1]);
            if (a[2])
                value = a + 2;
        }
        if (!o) {
            snprintf(err, errlen, "%s: unknown option %s (see %s --help)",
                     cmd->name, shown, cmd->name);
            return DMR_EINVAL;
        }
        if (o->kind == DMR_OPT_FLAG) {
            if (value) {
                snprintf(err, errlen, "%s: option %s takes no value", cmd->name,
                         shown);
                return DMR_EINVAL;
            }
        } else if (!value) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "%s: option %s needs a value (%s)",
                         cmd->name, shown, o->arg ? o->arg : "VALUE");
                return DMR_EINVAL;
            }
            value = argv[++i];
        }
        if (s_set(o, &args->vals[idx], value, 1, err, errlen))
            return DMR_EINVAL;
    }
    if (args->help)
        return 0;
    if (args->npos < cmd->min_pos || args->npos > cmd->max_pos) {
        if (args->npos < cmd->min_pos)
            snprintf(err, errlen, "%s: missing argument (usage: %s %s)",
                     cmd->name, cmd->name, cmd->synopsis);
        else
            snprintf(err, errlen, "%s: unexpected argument '%s' (usage: %s %s)",
                     cmd->name, args->pos[cmd->max_pos], cmd->name,
                     cmd->synopsis);
        return DMR_EINVAL;
    }
    return 0;
}

void dmr_args_free(dmr_args_t *args)
{
    for (size_t i = 0; i < args->nvals; i++)
        free(args->vals[i].list);
    free(args->vals);
    free(args->pos);
    memset(args, 0, sizeof *args);
}

const dmr_optval_t *dmr_args_get(const dmr_cmd_t *cmd, const dmr_args_t *args,
                                 const char *name)
{
    size_t idx = 0;
    const dmr_opt_t *o = s_find(cmd, name, strlen(name), 0, &idx);
    DMR_ASSERT(o != NULL);
    return &args->vals[idx];
}

void dmr_cmd_usage(const dmr_cmd_t *cmd, FILE *out)
{
    fprintf(out, "usage: %s %s\n\n", cmd->name, cmd->synopsis);
    if (cmd->summary)
        fprintf(out, "%s\n", cmd->summary);
    if (cmd->nopts)
        fprintf(out, "\noptions:\n");
    for (size_t i = 0; i < cmd->nopts; i++) {
        const dmr_opt_t *o = &cmd->opts[i];
        char left[80];
        int n = 0;
        if (o->short_name)
            n = snprintf(left, sizeof left, "-%c, ", o->short_name);
        else
            n = snprintf(left, sizeof left, "    ");
        snprintf(left + n, sizeof left - (size_t)n, "--%s%s%s", o->name,
                 o->kind == DMR_OPT_FLAG ? "" : " ",
                 o->kind == DMR_OPT_FLAG ? "" : (o->arg ? o->arg : "VALUE"));
        fprintf(out, "  %-28s %s", left, o->help);
        if (o->def && o->kind != DMR_OPT_FLAG)
            fprintf(out, " (default %s)", o->def);
        if (o->kind == DMR_OPT_LIST)
            fprintf(out, " (repeatable)");
        fprintf(out, "\n");
    }
    fprintf(out, "  -h, --help                   show this help\n");
}
