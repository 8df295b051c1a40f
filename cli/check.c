/* check.c -- `dmr check` (linearizability of history files, on the cluster
 * or in this process) and `dmr history` (validate, describe and convert a
 * history file).
 *
 * Both paths of `dmr check` produce the part result lines of
 * check/check.h: --local by calling dmr_check_part on every part here,
 * the cluster path by running the lincheck job (jobs/lincheck.c), whose
 * reduce calls the same function, with its output in the chunk store. The
 * lines are then grouped by file and printed the same way. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check/check.h"
#include "check/edn.h"
#include "check/elle.h"
#include "check/html.h"
#include "check/json.h"
#include "check/seq.h"
#include "check/session.h"
#include "check/stale.h"
#include "cli/cli.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/util.h"
#include "storage/dfs.h"
#include "storage/input.h"

/* ------------------------------------------------------------ dmr check */

static const dmr_opt_t s_check_opts[] = {
    {"model", 0, DMR_OPT_STR, "MODEL", NULL,
     "register, cas-register, kv, mutex, set, fifo, multi-register; for "
     "transactions, list-append, rw-register; session; staleness; "
     "sequential",
     0, 0},
    {"seq-model", 0, DMR_OPT_STR, "MODEL", "cas-register",
     "sequential: the object's model (register, cas-register, kv, ...)", 0,
     0},
    {"consistency-models", 0, DMR_OPT_STR, "M,...", NULL,
     "transactions: the models to check (default strict-serializable)", 0, 0},
    {"anomalies", 0, DMR_OPT_STR, "A,...", NULL,
     "transactions: anomalies to look for besides the models' (G0, G1c, ...)",
     0, 0},
    {"realtime", 0, DMR_OPT_FLAG, NULL, NULL,
     "transactions: add real-time order edges", 0, 0},
    {"process", 0, DMR_OPT_FLAG, NULL, NULL,
     "transactions: add process order edges", 0, 0},
    {"max-witnesses", 0, DMR_OPT_INT, "N", "8",
     "transactions: witnesses kept (and shown) per anomaly type", 1, 100000},
    {"format", 'f', DMR_OPT_STR, "FMT", NULL,
     "edn, etcd or json (default: detected from the content)", 0, 0},
    {"init", 0, DMR_OPT_STR, "EDN", NULL,
     "initial value (register, cas-register, kv) or map (multi-register)", 0,
     0},
    {"local", 'l', DMR_OPT_FLAG, NULL, NULL,
     "check in this process instead of on the cluster", 0, 0},
    {"timeout", 't', DMR_OPT_INT, "S", "0",
     "give up on a part after S seconds: unknown (0: never)", 0, 86400},
    {"max-mb", 0, DMR_OPT_INT, "MB", "1024",
     "memory for one part's search before it gives up: unknown", 1, 1 << 20},
    {"all-parts", 0, DMR_OPT_FLAG, NULL, NULL,
     "with --local, check every part even after one is NOT linearizable", 0, 0},
    {"json", 0, DMR_OPT_FLAG, NULL, NULL,
     "print one JSON object per file instead of text", 0, 0},
    {"html", 0, DMR_OPT_STR, "DIR", NULL,
     "write DIR/FILE.html drawing each violating history", 0, 0},
    {"reduces", 'R', DMR_OPT_INT, "N", "8",
     "reduce tasks: parts checked in parallel on the cluster", 1, 10000},
    {"master", 'm', DMR_OPT_STR, "ENDPOINT", NULL, "the master to submit to", 0,
     0},
};

static const dmr_cmd_t s_check_cmd = {
    "dmr check",
    "--model MODEL [options] FILE...",
    "Checks each history FILE (a file, directory or glob) for\n"
    "linearizability against MODEL and prints 'FILE: linearizable', 'FILE:\n"
    "NOT linearizable' (with the operations that cannot be linearised and\n"
    "the longest linearisable prefix) or 'FILE: unknown (why)', then a\n"
    "summary. A history is split into independent parts (one per key for\n"
    "kv) and the parts are checked in parallel by a lincheck job on the\n"
    "cluster, or here with --local, where the parts' searches take turns\n"
    "and the first violation found decides the file. Formats: Jepsen and\n"
    "Knossos EDN, Jepsen etcd logs, Porcupine kv logs, dmr JSON-lines.\n"
    "Exit status: 0 all linearizable, 1 some NOT linearizable (whatever the\n"
    "others), else 2 for an error or an unknown verdict.\n"
    "\n"
    "--model list-append|rw-register finds transactional anomalies as\n"
    "Elle does (G0, G1a-c, G-single, G2-item, ...) with a witness cycle\n"
    "each, and says which consistency models the history violates: exit 1\n"
    "when one of --consistency-models is. It runs as the txncheck job on\n"
    "the cluster (read, infer per key, components, cycles), or here with\n"
    "--local. --model session checks read-your-writes, monotonic reads\n"
    "and writes and writes-follow-reads per process; --model staleness\n"
    "measures how many versions and how long behind each read was.",
    s_check_opts,
    sizeof s_check_opts / sizeof *s_check_opts,
    1,
    100000};

/* One file's results. */
typedef struct {
    char *name;
    dmr_val_t **parts; /* parsed part result lines */
    size_t nparts, cap;
} file_res_t;

typedef struct {
    file_res_t *files;
    size_t nfiles, cap;
    int open; /* files named by results join the list (dmr:/ inputs) */
    dmr_arena_t *arena; /* parsed result lines */
} results_t;

static file_res_t *s_file(results_t *r, const char *name)
{
    for (size_t i = 0; i < r->nfiles; i++)
        if (!strcmp(r->files[i].name, name))
            return &r->files[i];
    if (!r->open)
        return NULL;
    if (r->nfiles == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->files = dmr_realloc(r->files, r->cap * sizeof *r->files);
    }
    r->files[r->nfiles] = (file_res_t){dmr_strdup(name), NULL, 0, 0};
    return &r->files[r->nfiles++];
}

static int s_file_cmp(const void *a, const void *b)
{
    return strcmp(((const file_res_t *)a)->name, ((const file_res_t *)b)->name);
}

/* Adds one result line to its file; a line that does not parse is an
 * internal error, reported and counted as an error. */
static void s_add_line(results_t *r, const char *line, size_t len)
{
    char err[256];
    size_t pos = 0;
    uint32_t ln = 1;
    dmr_val_t *v = NULL;
    if (dmr_json_read(r->arena, line, len, &pos, &ln, &v, err, sizeof err) ||
        v->type != DMR_V_MAP) {
        fprintf(stderr, "dmr check: unreadable result line: %.*s\n",
                (int)(len > 200 ? 200 : len), line);
        return;
    }
    const dmr_val_t *f = dmr_val_get(v, "file");
    if (!f || f->type != DMR_V_STR)
        return;
    file_res_t *fr = s_file(r, f->u.str.s);
    if (!fr) {
        fprintf(stderr, "dmr check: result for a file not asked for: %s\n",
                f->u.str.s);
        return;
    }
    if (fr->nparts == fr->cap) {
        fr->cap = fr->cap ? 2 * fr->cap : 4;
        fr->parts = dmr_realloc(fr->parts, fr->cap * sizeof *fr->parts);
    }
    fr->parts[fr->nparts++] = v;
}

static const char *s_str(const dmr_val_t *m, const char *k)
{
    const dmr_val_t *v = dmr_val_get(m, k);
    return v && v->type == DMR_V_STR ? v->u.str.s : "";
}

static int64_t s_int(const dmr_val_t *m, const char *k)
{
    const dmr_val_t *v = dmr_val_get(m, k);
    return v && v->type == DMR_V_INT ? v->u.i : -1;
}

enum { V_OK, V_BAD, V_UNKNOWN, V_ERROR };

/* The verdict of a file from its parts. */
static int s_verdict(const file_res_t *fr)
{
    int bad = 0, unknown = 0, error = fr->nparts == 0;
    for (size_t i = 0; i < fr->nparts; i++) {
        const char *v = s_str(fr->parts[i], "verdict");
        bad |= !strcmp(v, "violation");
        unknown |= !strcmp(v, "unknown");
        error |= !strcmp(v, "error");
    }
    return error ? V_ERROR : bad ? V_BAD : unknown ? V_UNKNOWN : V_OK;
}

/* s, or its first n bytes and "..." (into buf of n + 4 bytes). */
static const char *s_clip(const char *s, char *buf, size_t n)
{
    if (strlen(s) <= n)
        return s;
    snprintf(buf, n + 4, "%.*s...", (int)n, s);
    return buf;
}

static void s_print_op(const char *lead, const dmr_val_t *op)
{
    char clip[84];
    char lines[64];
    int64_t ret = s_int(op, "ret_line");
    if (ret >= 0)
        snprintf(lines, sizeof lines, "lines %lld-%lld",
                 (long long)s_int(op, "line"), (long long)ret);
    else
        snprintf(lines, sizeof lines, "line %lld-",
                 (long long)s_int(op, "line"));
    const dmr_val_t *res = dmr_val_get(op, "result");
    printf("%s%-16s process %-4lld %s:%s %s%s\n", lead, lines,
           (long long)s_int(op, "process"),
           !strcmp(s_str(op, "type"), "info") ? "(info) " : "", s_str(op, "f"),
           s_clip(s_str(op, "value"), clip, 80),
           res && res->type == DMR_V_BOOL && !res->u.b ? " (false)" : "");
}

static void s_print_violation(const dmr_val_t *p)
{
    const char *key = s_str(p, "part");
    const dmr_val_t *blocked = dmr_val_get(p, "blocked");
    const dmr_val_t *window = dmr_val_get(p, "window");
    const dmr_val_t *states = dmr_val_get(p, "states");
    const dmr_val_t *last = dmr_val_get(p, "prefix_last");
    if (*key)
        printf("  key %s:\n", key);
    if (blocked) {
        printf("    no order of the operations gets past line %lld; "
               "this operation cannot be linearised:\n",
               (long long)s_int(blocked, "ret_line"));
        s_print_op("      ", blocked);
    }
    if (window && dmr_val_is_seq(window) && window->u.seq.n) {
        size_t n = window->u.seq.n, shown = n > 12 ? 12 : n;
        printf("    the operations that cannot be ordered (invoked by then, "
               "not linearised): %zu\n",
               n);
        for (size_t i = 0; i < shown; i++)
            s_print_op("      ", window->u.seq.items[i]);
        if (shown < n)
            printf("      ... and %zu more (--json or --html for all)\n",
                   n - shown);
    }
    printf("    longest linearisable prefix: %lld operations",
           (long long)s_int(p, "prefix"));
    if (last) {
        printf(", ending with\n");
        s_print_op("      ", last);
    } else {
        printf("\n");
    }
    if (states && dmr_val_is_seq(states) && states->u.seq.n) {
        printf("    model states there:");
        for (size_t i = 0; i < states->u.seq.n; i++) {
            char clip[84];
            printf("%s %s", i ? "," : "",
                   s_clip(states->u.seq.items[i]->u.str.s, clip, 80));
        }
        printf("\n");
    }
}

/* Prints every file's verdict, then the summary; returns the exit code. */
static int s_report(const results_t *r, int json, double secs)
{
    size_t count[4] = {0}, parts = 0, ops = 0;
    for (size_t i = 0; i < r->nfiles; i++) {
        const file_res_t *fr = &r->files[i];
        int v = s_verdict(fr);
        count[v]++;
        parts += fr->nparts;
        for (size_t k = 0; k < fr->nparts; k++) {
            int64_t n = s_int(fr->parts[k], "ops");
            ops += n > 0 ? (size_t)n : 0;
        }
        if (json) {
            static const char *const vn[] = {"linearizable", "not linearizable",
                                             "unknown", "error"};
            dmr_val_t name = {.type = DMR_V_STR,
                              .u.str = {fr->name, strlen(fr->name)}};
            printf("{\"file\":");
            dmr_val_print_json(&name, stdout);
            printf(",\"verdict\":\"%s\",\"parts\":[", vn[v]);
            for (size_t k = 0; k < fr->nparts; k++) {
                if (k)
                    printf(",");
                dmr_val_print_json(fr->parts[k], stdout);
            }
            printf("]}\n");
            continue;
        }
        if (v == V_OK) {
            printf("%s: linearizable\n", fr->name);
        } else if (v == V_ERROR) {
            const char *why = "no result";
            for (size_t k = 0; k < fr->nparts; k++)
                if (!strcmp(s_str(fr->parts[k], "verdict"), "error"))
                    why = s_str(fr->parts[k], "why");
            printf("%s: error: %s\n", fr->name, why);
        } else if (v == V_UNKNOWN) {
            size_t nu = 0;
            const char *why = "";
            for (size_t k = 0; k < fr->nparts; k++)
                if (!strcmp(s_str(fr->parts[k], "verdict"), "unknown")) {
                    nu++;
                    why = s_str(fr->parts[k], "why");
                }
            printf("%s: unknown (%s: %zu of %zu parts not decided)\n", fr->name,
                   !strcmp(why, "timeout") ? "out of time" : "out of memory",
                   nu, fr->nparts);
        } else {
            printf("%s: NOT linearizable\n", fr->name);
            for (size_t k = 0; k < fr->nparts; k++)
                if (!strcmp(s_str(fr->parts[k], "verdict"), "violation"))
                    s_print_violation(fr->parts[k]);
        }
    }
    if (!json)
        printf("%zu file%s: %zu linearizable, %zu NOT linearizable, %zu "
               "unknown, %zu error%s (%zu parts, %zu operations, %.2fs)\n",
               r->nfiles, r->nfiles == 1 ? "" : "s", count[V_OK], count[V_BAD],
               count[V_UNKNOWN], count[V_ERROR], count[V_ERROR] == 1 ? "" : "s",
               parts, ops, secs);
    if (count[V_BAD])
        return 1;
    if (count[V_UNKNOWN] || count[V_ERROR])
        return 2;
    return 0;
}

/* Adds every line of buf (result lines, or "key\tline" from job output). */
static void s_add_lines(results_t *r, const char *buf, size_t len, int tabbed)
{
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        const char *s = p;
        if (tabbed) {
            /* A result line holds no raw tab: it starts after the last. */
            for (const char *q = p; q < e; q++)
                if (*q == '\t')
                    s = q + 1;
        }
        if (e > s)
            s_add_line(r, s, (size_t)(e - s));
        p = e + 1;
    }
}

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Checks every file here. */
static void s_check_local(results_t *r, const dmr_model_t *model,
                          const dmr_val_t *init, const char *format,
                          const dmr_lin_budget_t *budget, int all_parts)
{
    for (size_t i = 0; i < r->nfiles; i++) {
        char err[512];
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        dmr_history_t *h = NULL;
        if (dmr_history_load(r->files[i].name, format, &h, err, sizeof err)) {
            dmr_check_error_line(r->files[i].name, err, out);
            fputc('\n', out);
        } else {
            dmr_part_t *parts;
            size_t np;
            dmr_check_split(h, model, &parts, &np);
            dmr_check_parts(model, init, h, parts, np, NULL, budget, !all_parts,
                            out);
            fputc('\n', out);
            dmr_parts_free(parts, np);
            dmr_history_destroy(&h);
        }
        fclose(out);
        s_add_lines(r, buf, len, 0);
        free(buf);
    }
}

/* Runs the lincheck job over the files and reads its output back from the
 * store. Returns 0, or 2 after printing why. */
static int s_check_cluster(results_t *r, const dmr_cmd_t *c,
                           const dmr_args_t *a, const char *const *inputs)
{
    char err[512];
    dmr_client_t cl;
    const char *master = dmr_args_get(c, a, "master")->str;
    if (dmr_client_open(&cl, master))
        return 2;
    char *out = dmr_sprintf("dmr:/tmp/check-%ld-%lld", (long)getpid(),
                            (long long)time(NULL));
    dmr_buf_t defs[6] = {0};
    const char *argv[64 + 8];
    int n = 0, rc = 2;
    argv[n++] = "submit";
    argv[n++] = "lincheck";
    argv[n++] = "--quiet";
    argv[n++] = "--output";
    argv[n++] = out;
    argv[n++] = "--master";
    argv[n++] = cl.endpoint;
    argv[n++] = "-R";
    argv[n++] = dmr_args_get(c, a, "reduces")->str;
    const char *keys[] = {"model", "format", "init", "timeout", "max-mb"};
    const char *names[] = {"model", "format", "init", "timeout_s", "max_mb"};
    for (int k = 0; k < 5; k++) {
        const dmr_optval_t *v = dmr_args_get(c, a, keys[k]);
        if (!v->str)
            continue;
        dmr_buf_printf(&defs[k], "%s=%s", names[k], v->str);
        dmr_buf_putc(&defs[k], 0);
        argv[n++] = "-D";
        argv[n++] = defs[k].data;
    }
    /* A check may run long without progress reports: only its own
     * --timeout bounds it. */
    long tmo = (long)dmr_args_get(c, a, "timeout")->num;
    dmr_buf_printf(&defs[5], "task_timeout_ms=%ld%c",
                   tmo ? (tmo + 60) * 1000 : 86400000L, 0);
    argv[n++] = "-D";
    argv[n++] = defs[5].data;
    argv[n++] = "-D";
    argv[n++] = "whole_files=1";
    argv[n++] = "--input";
    int first_input = n;
    /* submit takes its inputs as one list; pass them through argv. */
    size_t ninputs = 0;
    while (inputs[ninputs])
        ninputs++;
    const char **full =
        dmr_malloc((size_t)(n + (int)ninputs + 1) * sizeof *full);
    memcpy(full, argv, (size_t)n * sizeof *full);
    for (size_t i = 0; i < ninputs; i++)
        full[n++] = inputs[i];
    full[n] = NULL;
    (void)first_input;
    int src = dmr_cmd_submit(n, (char **)full);
    free(full);
    for (int k = 0; k < 6; k++)
        dmr_buf_free(&defs[k]);
    dmr_dfs_t *d = NULL;
    dmr_dfs_file_t *fs = NULL;
    size_t nf = 0;
    int is_dir = 0;
    if (src != 0) {
        fprintf(stderr, "dmr check: the lincheck job failed\n");
        goto out;
    }
    if (dmr_dfs_open(cl.endpoint, &d, err, sizeof err) ||
        dmr_dfs_stat(d, out + 4, 1, 0, &fs, &nf, &is_dir, err, sizeof err)) {
        fprintf(stderr, "dmr check: reading the results: %s\n", err);
        goto out;
    }
    for (size_t i = 0; i < nf; i++) {
        const char *base = strrchr(fs[i].path, '/');
        base = base ? base + 1 : fs[i].path;
        if (strncmp(base, "part-", 5))
            continue;
        char *buf = NULL;
        size_t len = 0;
        FILE *mf = open_memstream(&buf, &len);
        int g = dmr_dfs_get(d, fs[i].path, mf, err, sizeof err);
        fclose(mf);
        if (g) {
            fprintf(stderr, "dmr check: reading %s: %s\n", fs[i].path, err);
            free(buf);
            goto out;
        }
        s_add_lines(r, buf, len, 1);
        free(buf);
    }
    rc = 0;
out:
    if (d) {
        uint64_t removed = 0;
        dmr_dfs_rm(d, out + 4, 1, &removed, err, sizeof err);
    }
    dmr_dfs_files_free(fs, nf);
    dmr_dfs_close(&d);
    dmr_client_close(&cl);
    free(out);
    return rc;
}

/* Writes DIR/NAME.html for each violating file. */
/* Reads a history from a local file or, for a dmr:/ path, from the chunk
 * store behind master. */
static int s_load(const char *name, const char *format, const char *master,
                  dmr_history_t **h, char *err, size_t errlen)
{
    if (strncmp(name, "dmr:", 4))
        return dmr_history_load(name, format, h, err, errlen);
    dmr_client_t cl;
    dmr_dfs_t *d = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc = -1;
    if (dmr_client_open(&cl, master)) {
        dmr_errf(err, errlen, "%s: no master to read it from", name);
        return -1;
    }
    FILE *mf = open_memstream(&buf, &len);
    if (!dmr_dfs_open(cl.endpoint, &d, err, errlen) &&
        !dmr_dfs_get(d, name + 4, mf, err, errlen)) {
        fclose(mf);
        mf = NULL;
        rc = dmr_history_parse(name, buf, len, format, h, err, errlen);
    }
    if (mf)
        fclose(mf);
    free(buf);
    dmr_dfs_close(&d);
    dmr_client_close(&cl);
    return rc;
}

static int s_write_html(const results_t *r, const char *dir, const char *format,
                        const char *master)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "dmr check: cannot create %s: %s\n", dir,
                strerror(errno));
        return 2;
    }
    for (size_t i = 0; i < r->nfiles; i++) {
        const file_res_t *fr = &r->files[i];
        char err[512];
        if (s_verdict(fr) != V_BAD)
            continue;
        dmr_history_t *h = NULL;
        if (s_load(fr->name, format, master, &h, err, sizeof err)) {
            fprintf(stderr, "dmr check: --html: %s\n", err);
            continue;
        }
        const char *base = strrchr(fr->name, '/');
        base = base ? base + 1 : fr->name;
        /* Two files of one name (in different directories) get pages
         * NAME.html and NAME-2.html, ... in the order they are listed. */
        int same = 0;
        for (size_t k = 0; k < i; k++) {
            const char *b2 = strrchr(r->files[k].name, '/');
            b2 = b2 ? b2 + 1 : r->files[k].name;
            same += s_verdict(&r->files[k]) == V_BAD && !strcmp(b2, base);
        }
        char *path = same ? dmr_sprintf("%s/%s-%d.html", dir, base, same + 1)
                          : dmr_sprintf("%s/%s.html", dir, base);
        FILE *f = fopen(path, "w");
        if (!f) {
            fprintf(stderr, "dmr check: cannot write %s: %s\n", path,
                    strerror(errno));
        } else {
            dmr_check_html(h, (const dmr_val_t *const *)fr->parts, fr->nparts,
                           f);
            if (fclose(f) != 0)
                fprintf(stderr, "dmr check: writing %s: %s\n", path,
                        strerror(errno));
            else
                fprintf(stderr, "dmr check: wrote %s\n", path);
        }
        free(path);
        dmr_history_destroy(&h);
    }
    return 0;
}

/* Parses a comma-separated list of names with find into a bit set;
 * returns 0, or 2 after naming what is unknown. */
static int s_name_bits(const char *opt, const char *list,
                       int (*find)(const char *, size_t *),
                       const char *(*name)(size_t), uint64_t *out)
{
    char *copy = dmr_strdup(list), *save = NULL;
    int rc = 0;
    *out = 0;
    for (char *t = strtok_r(copy, ", ", &save); t && !rc;
         t = strtok_r(NULL, ", ", &save)) {
        size_t bit;
        if (*t == ':')
            t++;
        if (find(t, &bit)) {
            fprintf(stderr, "dmr check: --%s: unknown '%s'; known:", opt, t);
            for (size_t k = 0; name(k); k++)
                fprintf(stderr, " %s", name(k));
            fprintf(stderr, "\n");
            rc = 2;
        } else {
            *out |= (uint64_t)1 << bit;
        }
    }
    free(copy);
    return rc;
}

/* Opens DIR/NAME.html for the page of files[i] (NAME-2.html, ... for a
 * name an earlier file already has); NULL, said, if it cannot. */
static FILE *s_page_open(const char *dir, const dmr_input_file_t *files,
                         size_t i, char **path)
{
    const char *base = strrchr(files[i].name, '/');
    base = base ? base + 1 : files[i].name;
    int same = 0;
    for (size_t k = 0; k < i; k++) {
        const char *b2 = strrchr(files[k].name, '/');
        same += !strcmp(b2 ? b2 + 1 : files[k].name, base);
    }
    *path = same ? dmr_sprintf("%s/%s-%d.html", dir, base, same + 1)
                 : dmr_sprintf("%s/%s.html", dir, base);
    FILE *f = fopen(*path, "w");
    if (!f) {
        fprintf(stderr, "dmr check: cannot write %s: %s\n", *path,
                strerror(errno));
        free(*path);
    }
    return f;
}

static void s_page_close(FILE *f, char *path)
{
    if (fclose(f) != 0)
        fprintf(stderr, "dmr check: writing %s: %s\n", path, strerror(errno));
    else
        fprintf(stderr, "dmr check: wrote %s\n", path);
    free(path);
}

/* A file that could not be checked, as a JSON line. */
static void s_json_error(const char *name, const char *err)
{
    dmr_val_t n = {.type = DMR_V_STR, .u.str = {name, strlen(name)}};
    dmr_val_t why = {.type = DMR_V_STR, .u.str = {err, strlen(err)}};
    printf("{\"file\":");
    dmr_val_print_json(&n, stdout);
    printf(",\"valid\":\"error\",\"error\":");
    dmr_val_print_json(&why, stdout);
    printf("}\n");
}

/* Writes the page of files[i], whose result r found anomalies. */
static void s_write_txn_html(const dmr_elle_result_t *r, const char *dir,
                             const dmr_input_file_t *files, size_t i,
                             size_t max_shown)
{
    char *path;
    FILE *f = s_page_open(dir, files, i, &path);
    if (f) {
        dmr_elle_print_html(r, max_shown, f);
        s_page_close(f, path);
    }
}

/* ------------------------------------- transactions on the cluster */

/* Where the named transactions' op maps are read from: a local file or a
 * file of the chunk store. */
typedef struct {
    FILE *f;
    dmr_dfs_t *d;
    dmr_dfs_file_t *df;
    size_t ndf;
} s_src_t;

static int s_src_open(s_src_t *s, const char *path, const char *endpoint,
                      char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (strncmp(path, "dmr:", 4)) {
        s->f = fopen(path, "rb");
        if (!s->f)
            dmr_errf(err, errlen, "%s: cannot read: %s", path,
                     strerror(errno));
        return s->f ? 0 : -1;
    }
    int is_dir = 0;
    if (dmr_dfs_open(endpoint, &s->d, err, errlen) ||
        dmr_dfs_stat(s->d, path + 4, 0, 1, &s->df, &s->ndf, &is_dir, err,
                     errlen))
        return -1;
    if (s->ndf != 1 || is_dir) {
        dmr_errf(err, errlen, "%s: not a file", path);
        return -1;
    }
    return 0;
}

static void s_src_close(s_src_t *s)
{
    if (s->f)
        fclose(s->f);
    dmr_dfs_files_free(s->df, s->ndf);
    dmr_dfs_close(&s->d);
}

/* The line at off (without its newline) into a new buffer. */
static char *s_src_line(s_src_t *s, uint64_t off, size_t *len, char *err,
                        size_t errlen)
{
    size_t cap = 4096, n = 0;
    char *b = dmr_malloc(cap);
    for (;;) {
        size_t got = 0;
        if (s->f) {
            if (fseeko(s->f, (off_t)(off + n), SEEK_SET) == 0)
                got = fread(b + n, 1, cap - n, s->f);
        } else if (dmr_dfs_file_read(s->d, &s->df[0], off + n, b + n, cap - n,
                                     &got, err, errlen)) {
            free(b);
            return NULL;
        }
        char *nl = memchr(b + n, '\n', got);
        if (nl) {
            *len = (size_t)(nl - b);
            return b;
        }
        n += got;
        if (got == 0) {
            *len = n;
            return b;
        }
        if (n == cap) {
            if (cap >= (64u << 20)) {
                dmr_errf(err, errlen, "an op map of more than 64 MiB");
                free(b);
                return NULL;
            }
            cap *= 2;
            b = dmr_realloc(b, cap);
        }
    }
}

/* A transaction's metadata record "ID ST LINE PROC INDEX VOFF". */
typedef struct {
    uint64_t id, voff;
    uint32_t line;
    int64_t process, index;
    int status;
} s_tmeta_t;

static int s_tmeta_cmp(const void *a, const void *b)
{
    const s_tmeta_t *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int s_tmeta_read(const char *rec, size_t len, s_tmeta_t *t)
{
    dmr_txn_tok_t tk = {rec, rec + len};
    const char *s[6];
    size_t n[6];
    uint64_t st, line;
    for (int i = 0; i < 6; i++)
        if (!dmr_txn_tok(&tk, &s[i], &n[i]))
            return -1;
    t->process = -1;
    t->index = -1;
    if (dmr_txn_tok_u64(s[0], n[0], &t->id) ||
        dmr_txn_tok_u64(s[1], n[1], &st) || st > DMR_TXN_FAIL ||
        dmr_txn_tok_u64(s[2], n[2], &line) || line > UINT32_MAX ||
        (!(n[3] == 1 && *s[3] == '~') &&
         dmr_txn_tok_i64(s[3], n[3], &t->process)) ||
        (!(n[4] == 1 && *s[4] == '~') &&
         dmr_txn_tok_i64(s[4], n[4], &t->index)) ||
        dmr_txn_tok_u64(s[5], n[5], &t->voff))
        return -1;
    t->status = (int)st;
    t->line = (uint32_t)line;
    return 0;
}

typedef struct {
    const s_tmeta_t *t;
    size_t n;
} s_tindex_t;

static int s_tlook(void *arg, uint64_t gid, uint32_t *out)
{
    const s_tindex_t *ix = arg;
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->t[mid].id < gid)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == ix->n || ix->t[lo].id != gid)
        return -1;
    *out = (uint32_t)lo;
    return 0;
}

static int s_strp_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Submits the txncheck job (jobs/txncheck.c) over one history into out. */
static int s_txn_submit(const dmr_cmd_t *c, const dmr_args_t *a,
                        const char *endpoint, const dmr_input_file_t *file,
                        dmr_txn_workload_t w, const dmr_elle_opts_t *o,
                        const char *out)
{
    dmr_buf_t defs[12] = {0};
    const char *argv[48];
    int n = 0, nd = 0;
    argv[n++] = "submit";
    argv[n++] = "txncheck";
    argv[n++] = "--quiet";
    argv[n++] = "--output";
    argv[n++] = out;
    argv[n++] = "--master";
    argv[n++] = endpoint;
    argv[n++] = "-R";
    argv[n++] = dmr_args_get(c, a, "reduces")->str;
    const char *format = dmr_args_get(c, a, "format")->str;
    dmr_buf_printf(&defs[nd++], "txn.workload=%s%c", dmr_txn_workload_name(w),
                   0);
    dmr_buf_printf(&defs[nd++], "txn.name=%s%c", file->name, 0);
    dmr_buf_printf(&defs[nd++], "txn.models=%llx%c",
                   (unsigned long long)o->models, 0);
    dmr_buf_printf(&defs[nd++], "txn.anomalies=%llx%c",
                   (unsigned long long)o->anomalies, 0);
    dmr_buf_printf(&defs[nd++], "txn.process=%d%c", o->process, 0);
    dmr_buf_printf(&defs[nd++], "txn.realtime=%d%c", o->realtime, 0);
    dmr_buf_printf(&defs[nd++], "txn.witnesses=%zu%c",
                   o->max_witnesses ? o->max_witnesses : 8, 0);
    /* the components are found by one task, over the whole graph */
    dmr_buf_printf(&defs[nd++], "reduces.2=1%c", 0);
    dmr_buf_printf(&defs[nd++], "task_timeout_ms=%ld%c", 86400000L, 0);
    /* tasks differ in size by the data (a busy key, a long process), not
     * by the machine: a backup attempt would only take a core */
    dmr_buf_printf(&defs[nd++], "speculative=0%c", 0);
    if (format)
        dmr_buf_printf(&defs[nd++], "txn.format=%s%c", format, 0);
    for (int k = 0; k < nd; k++) {
        argv[n++] = "-D";
        argv[n++] = defs[k].data;
    }
    argv[n++] = "--input";
    argv[n++] = file->name;
    argv[n] = NULL;
    int rc = dmr_cmd_submit(n, (char **)argv);
    for (int k = 0; k < nd; k++)
        dmr_buf_free(&defs[k]);
    return rc;
}

/* Checks one history on the cluster: *out holds the result, *wh the
 * transactions it names. Returns 0, or 2 with err. */
static int s_txn_cluster(const dmr_cmd_t *c, const dmr_args_t *a,
                         dmr_client_t *cl, const dmr_input_file_t *file,
                         dmr_txn_workload_t w, const dmr_elle_opts_t *o,
                         dmr_elle_result_t **out, dmr_txn_hist_t **wh,
                         char *err, size_t errlen)
{
    static unsigned seq;
    char *outp = dmr_sprintf("dmr:/tmp/txncheck-%ld-%lld-%u", (long)getpid(),
                             (long long)time(NULL), seq++);
    const char *format = dmr_args_get(c, a, "format")->str;
    double t0 = s_now();
    dmr_dfs_t *d = NULL;
    dmr_dfs_file_t *fs = NULL;
    size_t nf = 0;
    int is_dir = 0, rc = 2;
    dmr_buf_t all = DMR_BUF_INIT;
    char **recs = NULL; /* 'a' records */
    size_t nrec = 0, caprec = 0;
    s_tmeta_t *tm = NULL;
    size_t ntm = 0, captm = 0;
    char *perr = NULL; /* the first error: class, line */
    uint64_t perr_key = UINT64_MAX;
    dmr_elle_summary_t sum = {0};
    *out = NULL;
    *wh = NULL;
    if (s_txn_submit(c, a, cl->endpoint, file, w, o, outp)) {
        dmr_errf(err, errlen, "%s: the txncheck job failed", file->name);
        goto done;
    }
    if (dmr_dfs_open(cl->endpoint, &d, err, errlen) ||
        dmr_dfs_stat(d, outp + 4, 1, 0, &fs, &nf, &is_dir, err, errlen))
        goto done;
    for (size_t i = 0; i < nf; i++) {
        const char *base = strrchr(fs[i].path, '/');
        base = base ? base + 1 : fs[i].path;
        if (strncmp(base, "part-", 5))
            continue;
        FILE *mf = open_memstream(&all.data, &all.len);
        int g = dmr_dfs_get(d, fs[i].path, mf, err, errlen);
        fclose(mf);
        if (g)
            goto done;
        /* each line: KEY \t KIND REST, or ! \t CLASS LINE MESSAGE */
        char *p = all.data, *end = all.data + all.len;
        while (p < end) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            char *le = nl ? nl : end;
            char *tab = memchr(p, '\t', (size_t)(le - p));
            char *v = tab ? tab + 1 : le;
            size_t vn = (size_t)(le - v);
            if (tab && tab - p == 1 && *p == '!') {
                char *msg = NULL;
                unsigned long long cls = strtoull(v, &msg, 10);
                unsigned long long line = strtoull(msg, &msg, 10);
                uint64_t k = cls << 40 | line;
                if (k < perr_key) {
                    perr_key = k;
                    free(perr);
                    while (msg < le && *msg == ' ')
                        msg++;
                    perr = dmr_strndup(msg, (size_t)(le - msg));
                }
            } else if (vn >= 2 && v[1] == ' ') {
                const char *rec = v + 2;
                size_t rn = vn - 2;
                unsigned long long x[4] = {0};
                if (v[0] == 'a') {
                    if (nrec == caprec) {
                        caprec = caprec ? 2 * caprec : 64;
                        recs = dmr_realloc(recs, caprec * sizeof *recs);
                    }
                    recs[nrec++] = dmr_strndup(rec, rn);
                } else if (v[0] == 'c') {
                    if (nrec == caprec) {
                        caprec = caprec ? 2 * caprec : 64;
                        recs = dmr_realloc(recs, caprec * sizeof *recs);
                    }
                    /* counts sort after the whole anomalies */
                    char *cr = dmr_malloc(rn + 2);
                    cr[0] = '\x7f';
                    memcpy(cr + 1, rec, rn);
                    cr[rn + 1] = 0;
                    recs[nrec++] = cr;
                } else if (v[0] == 't') {
                    if (ntm == captm) {
                        captm = captm ? 2 * captm : 64;
                        tm = dmr_realloc(tm, captm * sizeof *tm);
                    }
                    if (s_tmeta_read(rec, rn, &tm[ntm]) == 0)
                        ntm++;
                } else if (v[0] == 'n' &&
                           sscanf(rec, "%llu %llu %llu %llu", &x[0], &x[1],
                                  &x[2], &x[3]) == 4) {
                    sum.txns += x[0];
                    sum.ok += x[1];
                    sum.fail += x[2];
                    sum.info += x[3];
                } else if (v[0] == 's' &&
                           sscanf(rec, "%llu %llu %llu", &x[0], &x[1],
                                  &x[2]) == 3) {
                    sum.sccs += x[0];
                    if (x[1] > sum.largest_scc)
                        sum.largest_scc = x[1];
                    sum.edges += x[2];
                }
            }
            p = le + 1;
        }
        free(all.data);
        all = (dmr_buf_t)DMR_BUF_INIT;
    }
    if (perr) {
        dmr_errf(err, errlen, "%s", perr);
        goto done;
    }
    /* the named transactions, once each, by id */
    if (ntm)
        qsort(tm, ntm, sizeof *tm, s_tmeta_cmp);
    size_t u = 0;
    for (size_t i = 0; i < ntm; i++)
        if (!u || tm[i].id != tm[u - 1].id)
            tm[u++] = tm[i];
    ntm = u;
    s_src_t src;
    if (ntm && s_src_open(&src, file->path, cl->endpoint, err, errlen)) {
        s_src_close(&src);
        goto done;
    }
    *wh = dmr_txn_hist_new(file->name, format, w);
    for (size_t i = 0; i < ntm; i++) {
        size_t len = 0;
        char *line = s_src_line(&src, tm[i].voff, &len, err, errlen);
        dmr_txn_hist_t *one = NULL;
        char perr2[512];
        if (line && dmr_txn_hist_parse(file->name, line, len, format, w, &one,
                                       perr2, sizeof perr2) == 0 &&
            one->ntxn == 1) {
            dmr_txn_hist_copy(*wh, one, 0);
        } else {
            /* the file changed since: the transaction without its ops */
            dmr_txn_hist_add(*wh, &(dmr_txn_t){.off = UINT64_MAX});
        }
        dmr_txn_t *tx = &(*wh)->txns[(*wh)->ntxn - 1];
        tx->status = (uint8_t)tm[i].status;
        tx->line = tm[i].line;
        tx->invline = (uint32_t)tm[i].id;
        tx->process = tm[i].process;
        tx->index = tm[i].index;
        dmr_txn_hist_destroy(&one);
        free(line);
    }
    if (ntm)
        s_src_close(&src);
    dmr_txn_hist_seal(*wh);
    /* the anomalies, in one order whatever the tasks' */
    if (nrec)
        qsort(recs, nrec, sizeof *recs, s_strp_cmp);
    dmr_elle_result_t *r = dmr_elle_new(*wh, o);
    s_tindex_t ix = {tm, ntm};
    for (size_t i = 0; i < nrec; i++) {
        int bad = recs[i][0] == '\x7f'
                      ? dmr_elle_wire_read_count(r, recs[i] + 1,
                                                 strlen(recs[i] + 1))
                      : dmr_elle_wire_read_anomaly(r, *wh, recs[i],
                                                   strlen(recs[i]), s_tlook,
                                                   &ix);
        if (bad) {
            dmr_errf(err, errlen, "%s: a malformed result record: %.80s",
                     file->name, recs[i]);
            dmr_elle_result_destroy(&r);
            goto done;
        }
    }
    dmr_elle_finish(r);
    sum.us = (s_now() - t0) * 1e6;
    dmr_elle_set_summary(r, &sum);
    *out = r;
    rc = 0;
done:
    if (d) {
        uint64_t removed = 0;
        char e2[256];
        dmr_dfs_rm(d, outp + 4, 1, &removed, e2, sizeof e2);
    }
    free(all.data);
    free(perr);
    for (size_t i = 0; i < nrec; i++)
        free(recs[i]);
    free(recs);
    free(tm);
    dmr_dfs_files_free(fs, nf);
    dmr_dfs_close(&d);
    free(outp);
    if (rc)
        dmr_txn_hist_destroy(wh);
    return rc;
}

/* dmr check --model list-append|rw-register: Elle's analysis of each file
 * (see check/elle.h). Exit 0 all valid, 1 some violate a checked model,
 * 2 an error. */
static int s_check_txn(const dmr_cmd_t *c, const dmr_args_t *a,
                       dmr_txn_workload_t w, const dmr_input_file_t *files,
                       size_t nfiles)
{
    dmr_elle_opts_t o = {0};
    const char *ms = dmr_args_get(c, a, "consistency-models")->str;
    const char *as = dmr_args_get(c, a, "anomalies")->str;
    const char *format = dmr_args_get(c, a, "format")->str;
    int json = (int)dmr_args_get(c, a, "json")->num;
    if (ms && s_name_bits("consistency-models", ms, dmr_elle_model_find,
                          dmr_elle_model_name, &o.models))
        return 2;
    if (as && s_name_bits("anomalies", as, dmr_elle_anomaly_find,
                          dmr_elle_anomaly_name, &o.anomalies))
        return 2;
    if (!ms) {
        size_t bit;
        dmr_elle_model_find("strict-serializable", &bit);
        o.models = (uint64_t)1 << bit;
    }
    o.realtime = (int)dmr_args_get(c, a, "realtime")->num;
    o.process = (int)dmr_args_get(c, a, "process")->num;
    o.max_witnesses = (size_t)dmr_args_get(c, a, "max-witnesses")->num;
    const char *html = dmr_args_get(c, a, "html")->str;
    if (html && mkdir(html, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "dmr check: cannot create %s: %s\n", html,
                strerror(errno));
        return 2;
    }
    size_t nvalid = 0, nbad = 0, nerr = 0;
    double t0 = s_now();
    int local = (int)dmr_args_get(c, a, "local")->num;
    dmr_client_t cl;
    if (!local && dmr_client_open(&cl, dmr_args_get(c, a, "master")->str))
        return 2;
    for (size_t i = 0; i < nfiles; i++) {
        char err[512];
        dmr_txn_hist_t *h = NULL;
        dmr_elle_result_t *r = NULL;
        if (local ? dmr_txn_hist_load(files[i].name, format, w, &h, err,
                                      sizeof err) ||
                        dmr_elle_check(h, &o, &r, err, sizeof err)
                  : s_txn_cluster(c, a, &cl, &files[i], w, &o, &r, &h, err,
                                  sizeof err) != 0) {
            fprintf(stderr, "dmr check: %s\n", err);
            if (json) {
                s_json_error(files[i].name, err);
            }
            nerr++;
            dmr_txn_hist_destroy(&h);
            continue;
        }
        if (dmr_elle_valid(r))
            nvalid++;
        else
            nbad++;
        if (html && dmr_elle_found(r))
            s_write_txn_html(r, html, files, i, o.max_witnesses);
        if (json) {
            dmr_elle_print_json(r, stdout);
            putchar('\n');
        } else {
            dmr_elle_print_text(r, o.max_witnesses, stdout);
        }
        dmr_elle_result_destroy(&r);
        dmr_txn_hist_destroy(&h);
    }
    if (!local)
        dmr_client_close(&cl);
    if (!json)
        printf("%zu file%s: %zu valid, %zu NOT valid, %zu error%s (%.2fs)\n",
               nfiles, nfiles == 1 ? "" : "s", nvalid, nbad, nerr,
               nerr == 1 ? "" : "s", s_now() - t0);
    fflush(stdout);
    return nerr ? 2 : nbad ? 1 : 0;
}

/* Writes the page plotting the staleness of files[i]'s reads. */
static void s_write_stale_html(const dmr_input_file_t *files, size_t i,
                               const char *format, const char *dir)
{
    char err[512];
    dmr_history_t *h = NULL;
    dmr_stale_result_t *sr = dmr_calloc(1, sizeof *sr);
    if (dmr_history_load(files[i].name, format, &h, err, sizeof err) ||
        dmr_stale_compute(h, sr, err, sizeof err)) {
        fprintf(stderr, "dmr check: --html: %s\n", err);
    } else {
        char *path;
        FILE *f = s_page_open(dir, files, i, &path);
        if (f) {
            dmr_stale_print_html(files[i].name, sr, f);
            s_page_close(f, path);
        }
    }
    free(sr);
    dmr_history_destroy(&h);
}

/* dmr check --model session|staleness: session guarantees (check/
 * session.h) or read staleness (check/stale.h) of each file, in this
 * process. Exit 0 all hold (staleness: read), 1 some violate a session
 * guarantee, 2 an error. */
static int s_check_other(const dmr_cmd_t *c, const dmr_args_t *a,
                         const char *mname, const dmr_input_file_t *files,
                         size_t nfiles)
{
    int session = !strcmp(mname, "session");
    int seq = !strcmp(mname, "sequential");
    const char *seq_model = dmr_args_get(c, a, "seq-model")->str;
    const char *init = dmr_args_get(c, a, "init")->str;
    int timeout = (int)dmr_args_get(c, a, "timeout")->num;
    int max_mb = (int)dmr_args_get(c, a, "max-mb")->num;
    const char *format = dmr_args_get(c, a, "format")->str;
    int json = (int)dmr_args_get(c, a, "json")->num;
    size_t maxw = (size_t)dmr_args_get(c, a, "max-witnesses")->num;
    const char *html = session ? NULL : dmr_args_get(c, a, "html")->str;
    if (html && mkdir(html, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "dmr check: cannot create %s: %s\n", html,
                strerror(errno));
        return 2;
    }
    size_t nvalid = 0, nbad = 0, nerr = 0;
    double t0 = s_now();
    for (size_t i = 0; i < nfiles; i++) {
        char err[512];
        int rc = seq ? dmr_seq_report(files[i].name, format, seq_model, init,
                                      json, timeout, max_mb, stdout, err,
                                      sizeof err)
                 : session ? dmr_session_report(files[i].name, format, json,
                                                maxw, stdout, err, sizeof err)
                           : dmr_stale_report(files[i].name, format, json,
                                              stdout, err, sizeof err);
        if (rc == 2 && seq && !strncmp(err, files[i].name,
                                       strlen(files[i].name)) &&
            strstr(err, ": unknown (")) {
            nerr++; /* an unknown verdict: its line is printed */
        } else if (rc == 2) {
            fprintf(stderr, "dmr check: %s\n", err);
            if (json) {
                s_json_error(files[i].name, err);
            } else {
                printf("%s: error: %s\n", files[i].name, err);
            }
            nerr++;
        } else if (rc == 1) {
            nbad++;
        } else {
            nvalid++;
            if (html)
                s_write_stale_html(files, i, format, html);
        }
    }
    if (!json && seq)
        printf("%zu file%s: %zu sequentially consistent, %zu NOT, %zu unknown "
               "or error%s (%.2fs)\n",
               nfiles, nfiles == 1 ? "" : "s", nvalid, nbad, nerr,
               nerr == 1 ? "" : "s", s_now() - t0);
    else if (!json && session)
        printf("%zu file%s: %zu hold, %zu NOT, %zu error%s (%.2fs)\n", nfiles,
               nfiles == 1 ? "" : "s", nvalid, nbad, nerr,
               nerr == 1 ? "" : "s", s_now() - t0);
    else if (!json)
        printf("%zu file%s: %zu measured, %zu error%s (%.2fs)\n", nfiles,
               nfiles == 1 ? "" : "s", nvalid, nerr, nerr == 1 ? "" : "s",
               s_now() - t0);
    fflush(stdout);
    return nerr ? 2 : nbad ? 1 : 0;
}

int dmr_cmd_check(int argc, char **argv)
{
    dmr_args_t a;
    int code = 2;
    if (dmr_cli_parse(&s_check_cmd, argc, argv, &a, &code))
        return code;
    const dmr_cmd_t *c = &s_check_cmd;
    const char *mname = dmr_args_get(c, &a, "model")->str;
    const char *format = dmr_args_get(c, &a, "format")->str;
    const char *init_s = dmr_args_get(c, &a, "init")->str;
    const char *html = dmr_args_get(c, &a, "html")->str;
    int local = (int)dmr_args_get(c, &a, "local")->num;
    results_t r = {0};
    dmr_input_file_t *files = NULL;
    size_t nfiles = 0;
    dmr_val_t *init = NULL;
    const char **inputs = NULL;
    char err[512];
    const dmr_model_t *model = mname ? dmr_model_find(mname) : NULL;
    int txn = mname && (!strcmp(mname, "list-append") ||
                        !strcmp(mname, "rw-register"));
    int other = mname && (!strcmp(mname, "session") ||
                          !strcmp(mname, "staleness") ||
                          !strcmp(mname, "sequential"));
    code = 2;
    r.arena = dmr_arena_new();
    if (other) {
        if (dmr_input_expand((const char **)a.pos, a.npos, &files, &nfiles,
                             err, sizeof err)) {
            fprintf(stderr, "dmr check: %s\n", err);
            goto out;
        }
        if (!nfiles) {
            fprintf(stderr, "dmr check: no history files in the paths given\n");
            goto out;
        }
        code = s_check_other(c, &a, mname, files, nfiles);
        goto out;
    }
    if (txn) {
        /* local paths are expanded (directories, globs); a dmr:/ path
         * names one file of the store, which only the cluster reads */
        const char **plain = dmr_calloc(a.npos + 1, sizeof *plain);
        size_t nplain = 0, nstore = 0;
        for (size_t i = 0; i < a.npos; i++) {
            if (strncmp(a.pos[i], "dmr:", 4))
                plain[nplain++] = a.pos[i];
            else
                nstore++;
        }
        if (nstore && local) {
            fprintf(stderr, "dmr check: --local reads local files only\n");
            free(plain);
            goto out;
        }
        int xr = dmr_input_expand(plain, nplain, &files, &nfiles, err,
                                  sizeof err);
        free(plain);
        if (xr) {
            fprintf(stderr, "dmr check: %s\n", err);
            goto out;
        }
        if (nstore) {
            files = dmr_realloc(files, (nfiles + nstore) * sizeof *files);
            for (size_t i = 0; i < a.npos; i++)
                if (!strncmp(a.pos[i], "dmr:", 4))
                    files[nfiles++] = (dmr_input_file_t){
                        dmr_strdup(a.pos[i]), dmr_strdup(a.pos[i]), 0, 0};
        }
        if (!nfiles) {
            fprintf(stderr, "dmr check: no history files in the paths given\n");
            goto out;
        }
        code = s_check_txn(c, &a,
                           !strcmp(mname, "list-append") ? DMR_TXN_LIST_APPEND
                                                         : DMR_TXN_RW_REGISTER,
                           files, nfiles);
        goto out;
    }
    if (!model) {
        if (mname)
            fprintf(stderr, "dmr check: unknown --model %s; models:", mname);
        else
            fprintf(stderr, "dmr check: --model MODEL is required; models:");
        for (size_t i = 0; dmr_models[i]; i++)
            fprintf(stderr, " %s", dmr_models[i]->name);
        fprintf(stderr, " list-append rw-register session staleness sequential");
        fprintf(stderr, "\n");
        goto out;
    }
    if (format) {
        size_t i = 0;
        while (dmr_history_formats[i] && strcmp(dmr_history_formats[i], format))
            i++;
        if (!dmr_history_formats[i]) {
            fprintf(stderr,
                    "dmr check: unknown --format %s (edn, etcd, json)\n",
                    format);
            goto out;
        }
    }
    if (init_s) {
        size_t pos = 0;
        uint32_t line = 1;
        dmr_val_t *extra = NULL;
        int er = dmr_edn_read(r.arena, init_s, strlen(init_s), &pos, &line,
                              &init, err, sizeof err);
        if (er == 1) {
            fprintf(stderr, "dmr check: --init: no value in '%s'\n", init_s);
            goto out;
        }
        if (er != 0) {
            fprintf(stderr, "dmr check: --init: %s\n", err);
            goto out;
        }
        if (dmr_edn_read(r.arena, init_s, strlen(init_s), &pos, &line, &extra,
                         err, sizeof err) != 1) {
            fprintf(stderr, "dmr check: --init: '%s' is more than one value\n",
                    init_s);
            goto out;
        }
        dmr_mctx_t *m = dmr_mctx_new(model, init, err, sizeof err);
        if (!m) {
            fprintf(stderr, "dmr check: %s\n", err);
            goto out;
        }
        dmr_mctx_destroy(&m);
    }
    /* Local paths are expanded here (directories, globs); dmr:/ paths are
     * the job's to expand, and its results name the files. */
    size_t nstore = 0;
    for (size_t i = 0; i < a.npos; i++)
        if (!strncmp(a.pos[i], "dmr:", 4))
            nstore++;
    if (nstore && local) {
        fprintf(stderr, "dmr check: --local reads local files only\n");
        goto out;
    }
    const char **plain = dmr_calloc(a.npos + 1, sizeof *plain);
    size_t nplain = 0;
    for (size_t i = 0; i < a.npos; i++)
        if (strncmp(a.pos[i], "dmr:", 4))
            plain[nplain++] = a.pos[i];
    int xr = dmr_input_expand(plain, nplain, &files, &nfiles, err, sizeof err);
    free(plain);
    if (xr) {
        fprintf(stderr, "dmr check: %s\n", err);
        goto out;
    }
    if (nfiles == 0 && nstore == 0) {
        fprintf(stderr, "dmr check: no history files in the paths given\n");
        goto out;
    }
    r.files = dmr_calloc(nfiles ? nfiles : 1, sizeof *r.files);
    r.nfiles = r.cap = nfiles;
    r.open = nstore > 0;
    inputs = dmr_calloc(nfiles + nstore + 1, sizeof *inputs);
    for (size_t i = 0; i < nfiles; i++) {
        r.files[i].name = dmr_strdup(files[i].name);
        inputs[i] = files[i].name;
    }
    for (size_t i = 0, k = nfiles; i < a.npos; i++)
        if (!strncmp(a.pos[i], "dmr:", 4))
            inputs[k++] = a.pos[i];
    dmr_lin_budget_t budget = {(double)dmr_args_get(c, &a, "timeout")->num,
                               (size_t)dmr_args_get(c, &a, "max-mb")->num
                                   << 20};
    double t0 = s_now();
    if (local)
        s_check_local(&r, model, init, format, &budget,
                      (int)dmr_args_get(c, &a, "all-parts")->num);
    else if (s_check_cluster(&r, c, &a, inputs))
        goto out;
    if (r.open)
        qsort(r.files, r.nfiles, sizeof *r.files, s_file_cmp);
    code = s_report(&r, (int)dmr_args_get(c, &a, "json")->num, s_now() - t0);
    if (html &&
        s_write_html(&r, html, format, dmr_args_get(c, &a, "master")->str))
        code = 2;
out:
    for (size_t i = 0; i < r.nfiles; i++) {
        free(r.files[i].name);
        free(r.files[i].parts);
    }
    free(r.files);
    free(inputs);
    dmr_arena_destroy(&r.arena);
    dmr_input_files_free(files, nfiles);
    dmr_args_free(&a);
    return code;
}

/* ---------------------------------------------------------- dmr history */

static const dmr_opt_t s_hist_opts[] = {
    {"format", 'f', DMR_OPT_STR, "FMT", NULL,
     "edn, etcd or json (default: detected from the content)", 0, 0},
    {"ops", 0, DMR_OPT_FLAG, NULL, NULL, "list every operation", 0, 0},
    {"json", 0, DMR_OPT_FLAG, NULL, NULL,
     "convert to dmr JSON-lines on standard output", 0, 0},
};

static const dmr_cmd_t s_hist_cmd = {
    "dmr history",
    "[--format FMT] [--ops | --json] FILE",
    "Validates a history file (- for standard input) and describes it: its\n"
    "format, events, operations by outcome, processes, keys and the\n"
    "operations left open (info: they may or may not have happened).\n"
    "--ops lists every operation; --json converts the history to dmr's\n"
    "JSON-lines format, which every dmr analysis reads. Exit status 2 when\n"
    "the file is not a valid history, naming the line.",
    s_hist_opts,
    sizeof s_hist_opts / sizeof *s_hist_opts,
    1,
    1};

static void s_op_line(const dmr_history_t *h, size_t i)
{
    const dmr_op_t *op = &h->ops[i];
    const dmr_event_t *inv = &h->ev[op->inv];
    char vb[160], lines[48], kb[64] = "";
    if (op->ret != UINT32_MAX)
        snprintf(lines, sizeof lines, "%u-%u", inv->line, h->ev[op->ret].line);
    else
        snprintf(lines, sizeof lines, "%u-", inv->line);
    if (inv->key) {
        char k[48];
        snprintf(kb, sizeof kb, " key %s",
                 dmr_val_format(inv->key, k, sizeof k));
    }
    printf("  %-12s process %-5lld %-6s :%s%s %s%s\n", lines,
           (long long)inv->process, dmr_evtype_name(op->type), inv->f, kb,
           dmr_val_format(dmr_op_value(h, i), vb, sizeof vb),
           op->ret != UINT32_MAX && h->ev[op->ret].result == 0 ? " (false)"
                                                               : "");
}

static int s_i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int dmr_cmd_history(int argc, char **argv)
{
    dmr_args_t a;
    int code = 2;
    if (dmr_cli_parse(&s_hist_cmd, argc, argv, &a, &code))
        return code;
    const dmr_cmd_t *c = &s_hist_cmd;
    char err[512];
    dmr_history_t *h = NULL;
    if (dmr_history_load(a.pos[0], dmr_args_get(c, &a, "format")->str, &h, err,
                         sizeof err)) {
        fprintf(stderr, "dmr history: %s\n", err);
        dmr_args_free(&a);
        return 2;
    }
    if (dmr_args_get(c, &a, "json")->num) {
        dmr_history_write_json(h, stdout);
        goto done;
    }
    size_t by[4] = {0};
    for (size_t i = 0; i < h->nops; i++)
        by[h->ops[i].type]++;
    /* processes and keys */
    int64_t *procs = dmr_malloc((h->nev ? h->nev : 1) * sizeof *procs);
    for (size_t i = 0; i < h->nev; i++)
        procs[i] = h->ev[i].process;
    qsort(procs, h->nev, sizeof *procs, s_i64_cmp);
    size_t np = 0;
    for (size_t i = 0; i < h->nev; i++)
        if (!np || procs[np - 1] != procs[i])
            procs[np++] = procs[i];
    dmr_part_t *parts;
    size_t nk;
    static const dmr_model_t by_key = {"", "", 1, NULL, NULL};
    dmr_check_split(h, &by_key, &parts, &nk);
    int keyed = !(nk == 1 && !parts[0].key[0]);
    printf("%s: %s history, %zu events, %zu operations (%zu ok, %zu failed, "
           "%zu info)\n",
           h->name, h->format, h->nev, h->nops, by[DMR_EV_OK], by[DMR_EV_FAIL],
           by[DMR_EV_INFO]);
    printf("processes: %zu (", np);
    for (size_t i = 0; i < np && i < 20; i++)
        printf("%s%lld", i ? " " : "", (long long)procs[i]);
    printf("%s)\n", np > 20 ? " ..." : "");
    if (keyed) {
        size_t named = 0, shown = 0, unkeyed = 0;
        for (size_t i = 0; i < nk; i++)
            parts[i].key[0] ? named++ : (unkeyed = parts[i].nops);
        printf("keys: %zu (", named);
        for (size_t i = 0; i < nk && shown < 20; i++)
            if (parts[i].key[0])
                printf("%s%s", shown++ ? " " : "", parts[i].key);
        printf("%s)", named > 20 ? " ..." : "");
        if (unkeyed)
            printf(", and %zu operation%s without a key", unkeyed,
                   unkeyed == 1 ? "" : "s");
        printf("\n");
    } else {
        printf("keys: none (one register or object)\n");
    }
    dmr_parts_free(parts, nk);
    free(procs);
    if (dmr_args_get(c, &a, "ops")->num) {
        printf("operations (lines, process, outcome, :f value):\n");
        for (size_t i = 0; i < h->nops; i++)
            s_op_line(h, i);
    } else {
        printf("open operations (info): %zu\n", by[DMR_EV_INFO]);
        size_t shown = 0;
        for (size_t i = 0; i < h->nops && shown < 50; i++)
            if (h->ops[i].type == DMR_EV_INFO) {
                s_op_line(h, i);
                shown++;
            }
        if (shown < by[DMR_EV_INFO])
            printf("  ... and %zu more (--ops lists all)\n",
                   by[DMR_EV_INFO] - shown);
    }
done:
    code = fflush(stdout) == 0 ? 0 : 2;
    dmr_history_destroy(&h);
    dmr_args_free(&a);
    return code;
}
