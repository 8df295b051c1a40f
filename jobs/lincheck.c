/* lincheck.c -- linearizability of recorded histories, as a MapReduce job.
 *
 *     dmr check --model MODEL FILE...          (submits this job)
 *     dmr submit lincheck -i FILE... -o OUT -D whole_files=1 -D model=MODEL
 *
 * map reads one whole history file, splits it into the parts its model
 * checks independently (one per :key for kv; P-compositionality: a history
 * is linearizable iff every per-key sub-history is) and emits each part as
 * a JSON-lines sub-history under the key "FILE\0PART". reduce checks one
 * part and emits (FILE, result line); the result line is described in
 * check/check.h. A file that cannot be read or compiled yields one "error"
 * line instead of failing the job, so the other files still get verdicts.
 *
 * Parameters (-D): model (required), format (edn, etcd, json; default:
 * detected), init (initial value, EDN), timeout_s (per part; 0: none),
 * max_mb (memory per part for the search's seen-set; default 1024).
 *
 * Unlike the other bundled jobs this one links dmr's check/ layer into
 * the object (see the Makefile); it still needs nothing from the dmr
 * binary at run time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "check/edn.h"
#include "common/alloc.h"
#include "jobs/dmr_job.h"

typedef struct {
    const dmr_model_t *model;
    const char *format;
    dmr_arena_t *arena; /* holds init */
    dmr_val_t *init;
    dmr_lin_budget_t budget;
} s_lc_t;

static int s_setup(dmr_ctx *ctx)
{
    char err[256];
    const char *model = dmr_param(ctx, "model");
    const char *init = dmr_param(ctx, "init");
    const char *tmo = dmr_param(ctx, "timeout_s");
    const char *mb = dmr_param(ctx, "max_mb");
    s_lc_t *lc = dmr_calloc(1, sizeof *lc);
    ctx->user = lc;
    lc->model = model ? dmr_model_find(model) : NULL;
    if (!lc->model) {
        dmr_fail(ctx, model ? "lincheck: unknown -D model"
                            : "lincheck: -D model=NAME is required");
        return -1;
    }
    lc->format = dmr_param(ctx, "format");
    lc->budget.timeout_s = tmo ? strtod(tmo, NULL) : 0;
    lc->budget.max_bytes = (size_t)(mb ? strtoull(mb, NULL, 10) : 1024) << 20;
    if (init) {
        size_t pos = 0;
        uint32_t line = 1;
        lc->arena = dmr_arena_new();
        if (dmr_edn_read(lc->arena, init, strlen(init), &pos, &line, &lc->init,
                         err, sizeof err) != 0) {
            dmr_fail(ctx, "lincheck: -D init is not an EDN value");
            return -1;
        }
    }
    return 0;
}

static void s_teardown(dmr_ctx *ctx)
{
    s_lc_t *lc = ctx->user;
    if (!lc)
        return;
    dmr_arena_destroy(&lc->arena);
    free(lc);
    ctx->user = NULL;
}

/* Emits key "file\0part" with the bytes of a memstream. */
static int s_emit_part(dmr_ctx *ctx, dmr_slice file, const char *part,
                       const char *val, size_t len)
{
    size_t pl = strlen(part);
    char *key = dmr_malloc(file.len + 1 + pl);
    memcpy(key, file.ptr, file.len);
    key[file.len] = 0;
    memcpy(key + file.len + 1, part, pl);
    int rc = dmr_emit(ctx, (dmr_slice){key, file.len + 1 + pl},
                      (dmr_slice){val, len});
    free(key);
    return rc;
}

static int s_map(dmr_ctx *ctx, const dmr_record *in)
{
    s_lc_t *lc = ctx->user;
    char err[512];
    char *name = dmr_strndup(in->file.ptr, in->file.len);
    dmr_history_t *h = NULL;
    char *buf = NULL;
    size_t len = 0;
    int rc = 0;
    FILE *f;
    if (dmr_history_parse(name, in->value.ptr, in->value.len, lc->format, &h,
                          err, sizeof err) != 0) {
        f = open_memstream(&buf, &len);
        dmr_check_error_line(name, err, f);
        fclose(f);
        rc = s_emit_part(ctx, in->file, "", buf, len);
        free(buf);
        free(name);
        return rc;
    }
    dmr_part_t *parts;
    size_t np;
    dmr_check_split(h, lc->model, &parts, &np);
    for (size_t i = 0; i < np && rc == 0; i++) {
        f = open_memstream(&buf, &len);
        dmr_check_write_part(h, &parts[i], f);
        fclose(f);
        rc = s_emit_part(ctx, in->file, parts[i].key, buf, len);
        free(buf);
        buf = NULL;
    }
    dmr_parts_free(parts, np);
    dmr_history_destroy(&h);
    free(name);
    return rc;
}

static int s_reduce(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    s_lc_t *lc = ctx->user;
    const char *nul = memchr(key.ptr, 0, key.len);
    size_t flen = nul ? (size_t)(nul - key.ptr) : key.len;
    char *file = dmr_strndup(key.ptr, flen);
    char *part =
        nul ? dmr_strndup(nul + 1, key.len - flen - 1) : dmr_strdup("");
    dmr_slice v;
    int rc = 0;
    while (rc == 0 && dmr_next(ctx, vals, &v)) {
        char err[512];
        char *buf = NULL;
        size_t len = 0;
        dmr_history_t *h = NULL;
        if (v.len && v.ptr[0] == '{' && v.len > 8 &&
            !memcmp(v.ptr, "{\"file\":", 8)) {
            /* an error line from map: passed through */
            rc = dmr_emit(ctx, (dmr_slice){file, flen}, v);
            continue;
        }
        FILE *f = open_memstream(&buf, &len);
        if (dmr_history_parse(file, v.ptr, v.len, "json", &h, err,
                              sizeof err) != 0) {
            dmr_check_error_line(file, err, f);
        } else {
            dmr_part_t p = {part, dmr_malloc((h->nops ? h->nops : 1) * 4),
                            h->nops};
            for (size_t i = 0; i < h->nops; i++)
                p.ops[i] = (uint32_t)i;
            dmr_check_part(lc->model, lc->init, h, &p, file, &lc->budget, f);
            free(p.ops);
        }
        fclose(f);
        rc = dmr_emit(ctx, (dmr_slice){file, flen}, (dmr_slice){buf, len});
        free(buf);
        dmr_history_destroy(&h);
    }
    free(file);
    free(part);
    return rc;
}

DMR_JOB_DEFINE(.name = "lincheck", .flags = DMR_JOB_WHOLE_FILE,
               .setup = s_setup, .teardown = s_teardown, .map = s_map,
               .reduce = s_reduce);
