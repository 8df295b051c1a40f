/* check.c -- split, check and describe (check.h). */
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "common/alloc.h"
#include "common/error.h"

static uint64_t s_str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

void dmr_check_split(const dmr_history_t *h, const dmr_model_t *model,
                     dmr_part_t **parts, size_t *nparts)
{
    dmr_part_t *p = NULL;
    size_t np = 0, cap = 0;
    if (!model->by_key) {
        p = dmr_calloc(1, sizeof *p);
        p->key = dmr_strdup("");
        p->ops = dmr_malloc((h->nops ? h->nops : 1) * sizeof *p->ops);
        for (size_t i = 0; i < h->nops; i++)
            p->ops[i] = (uint32_t)i;
        p->nops = h->nops;
        *parts = p;
        *nparts = 1;
        return;
    }
    /* Keys in order of first appearance; a small hash index over them. */
    size_t nslots = 64;
    uint32_t *slots = dmr_calloc(nslots, sizeof *slots);
    size_t *caps = NULL;
    for (size_t i = 0; i < h->nops; i++) {
        char *key = dmr_model_part_key(h, i);
        size_t j = s_str_hash(key) & (nslots - 1);
        while (slots[j] && strcmp(p[slots[j] - 1].key, key))
            j = (j + 1) & (nslots - 1);
        size_t at;
        if (slots[j]) {
            at = slots[j] - 1;
            free(key);
        } else {
            if (np == cap) {
                cap = cap ? 2 * cap : 16;
                p = dmr_realloc(p, cap * sizeof *p);
                caps = dmr_realloc(caps, cap * sizeof *caps);
            }
            at = np++;
            p[at] = (dmr_part_t){key, NULL, 0};
            caps[at] = 0;
            slots[j] = (uint32_t)np;
            if (2 * np > nslots) {
                free(slots);
                nslots *= 2;
                slots = dmr_calloc(nslots, sizeof *slots);
                for (size_t q = 0; q < np; q++) {
                    size_t j2 = s_str_hash(p[q].key) & (nslots - 1);
                    while (slots[j2])
                        j2 = (j2 + 1) & (nslots - 1);
                    slots[j2] = (uint32_t)q + 1;
                }
            }
        }
        dmr_part_t *part = &p[at];
        if (part->nops == caps[at]) {
            caps[at] = caps[at] ? 2 * caps[at] : 16;
            part->ops = dmr_realloc(part->ops, caps[at] * sizeof *part->ops);
        }
        part->ops[part->nops++] = (uint32_t)i;
    }
    free(slots);
    free(caps);
    if (np == 0) {
        p = dmr_calloc(1, sizeof *p);
        p->key = dmr_strdup("");
        np = 1;
    }
    *parts = p;
    *nparts = np;
}

void dmr_parts_free(dmr_part_t *parts, size_t nparts)
{
    for (size_t i = 0; i < nparts; i++) {
        free(parts[i].key);
        free(parts[i].ops);
    }
    free(parts);
}

static int s_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void dmr_check_write_part(const dmr_history_t *h, const dmr_part_t *p,
                          FILE *out)
{
    /* The events of the part's ops, in history order. */
    uint32_t *ev = dmr_malloc((2 * p->nops + 1) * sizeof *ev);
    size_t n = 0;
    for (size_t i = 0; i < p->nops; i++) {
        const dmr_op_t *op = &h->ops[p->ops[i]];
        ev[n++] = op->inv;
        if (op->ret != UINT32_MAX)
            ev[n++] = op->ret;
    }
    qsort(ev, n, sizeof *ev, s_u32_cmp);
    for (size_t i = 0; i < n; i++)
        dmr_history_write_event_json(h, ev[i], 1, out);
    free(ev);
}

/* ---- result lines ------------------------------------------------------- */

static void s_json_str(FILE *out, const char *s)
{
    dmr_val_t v = {.type = DMR_V_STR, .u.str = {s, strlen(s)}};
    dmr_val_print_json(&v, out);
}

static void s_json_op(FILE *out, const dmr_history_t *h, uint32_t i)
{
    const dmr_op_t *op = &h->ops[i];
    const dmr_event_t *inv = &h->ev[op->inv];
    char vb[256];
    fprintf(out, "{\"line\":%u,\"ret_line\":", inv->line);
    if (op->ret != UINT32_MAX)
        fprintf(out, "%u", h->ev[op->ret].line);
    else
        fputs("null", out);
    fprintf(out,
            ",\"process\":%lld,\"type\":\"%s\",\"f\":", (long long)inv->process,
            dmr_evtype_name(op->type));
    s_json_str(out, inv->f);
    fputs(",\"value\":", out);
    s_json_str(out, dmr_val_format(dmr_op_value(h, i), vb, sizeof vb));
    if (op->type == DMR_EV_OK && op->ret != UINT32_MAX &&
        h->ev[op->ret].result == 0)
        fputs(",\"result\":false", out);
    fputs("}", out);
}

static void s_head(FILE *out, const char *file, const char *key,
                   const char *verdict)
{
    fputs("{\"file\":", out);
    s_json_str(out, file);
    fputs(",\"part\":", out);
    s_json_str(out, key);
    fprintf(out, ",\"verdict\":\"%s\"", verdict);
}

void dmr_check_error_line(const char *file, const char *why, FILE *out)
{
    s_head(out, file, "", "error");
    fputs(",\"why\":", out);
    s_json_str(out, why);
    fputs("}", out);
}

/* "FILE:L: why" from a model's "line L: why", as the readers write theirs;
 * "FILE: why" for a message with no line. */
static char *s_located(const char *file, const char *err)
{
    unsigned line;
    int n = 0;
    if (sscanf(err, "line %u: %n", &line, &n) == 1 && n > 0)
        return dmr_sprintf("%s:%u: %s", file, line, err + n);
    return dmr_sprintf("%s: %s", file, err);
}

/* One part being checked. */
typedef struct {
    const dmr_part_t *p;
    dmr_mctx_t *m;
    dmr_lop_t *lops;
    size_t n;
    dmr_lin_t *lin;
    char *error; /* a bad op or init: the part's result */
    int decided;
} task_t;

static void s_result_line(const task_t *t, const dmr_history_t *h,
                          const char *file, const dmr_lin_result_t *r,
                          const char *skipped, FILE *out)
{
    const char *key = t->p ? t->p->key : "";
    if (t->error) {
        s_head(out, file, key, "error");
        fputs(",\"why\":", out);
        s_json_str(out, t->error);
        fputs("}", out);
        return;
    }
    static const char *const names[] = {"linearizable", "violation", "unknown"};
    s_head(out, file, key, skipped ? "skipped" : names[r->verdict]);
    fprintf(out,
            ",\"ops\":%zu,\"checked\":%zu,\"steps\":%llu,\"seen\":%llu,"
            "\"us\":%llu",
            t->p ? t->p->nops : h->nops, t->n, (unsigned long long)r->steps,
            (unsigned long long)r->seen,
            (unsigned long long)(r->seconds * 1e6 + 0.5));
    if (skipped || r->verdict == DMR_LIN_UNKNOWN) {
        fputs(",\"why\":", out);
        s_json_str(out, skipped ? skipped : r->why);
    }
    if (!skipped && r->verdict == DMR_LIN_VIOLATION) {
        fputs(",\"blocked\":", out);
        s_json_op(out, h, t->lops[r->blocked].op);
        fputs(",\"window\":[", out);
        for (size_t k = 0; k < r->nwindow; k++) {
            if (k)
                fputc(',', out);
            s_json_op(out, h, t->lops[r->window[k]].op);
        }
        fprintf(out, "],\"prefix\":%zu", r->nprefix);
        if (r->nprefix) {
            fputs(",\"prefix_last\":", out);
            s_json_op(out, h, t->lops[r->prefix[r->nprefix - 1]].op);
        }
        fputs(",\"states\":[", out);
        for (size_t k = 0; k < r->nstates; k++) {
            char sb[256];
            if (k)
                fputc(',', out);
            s_json_str(
                out, dmr_mctx_format_state(t->m, r->states[k], sb, sizeof sb));
        }
        fputs("]", out);
    }
    fputs("}", out);
}

/* Steps per part per round when parts are interleaved. */
#define SLICE_STEPS 256

int dmr_check_parts(const dmr_model_t *model, const dmr_val_t *init,
                    const dmr_history_t *h, const dmr_part_t *parts,
                    size_t nparts, const char *file,
                    const dmr_lin_budget_t *budget, int first_violation,
                    FILE *out)
{
    char err[512];
    if (!file)
        file = h->name;
    size_t nt = parts ? nparts : 1;
    task_t *t = dmr_calloc(nt ? nt : 1, sizeof *t);
    for (size_t i = 0; i < nt; i++) {
        const dmr_part_t *p = parts ? &parts[i] : NULL;
        t[i].p = p;
        t[i].m = dmr_mctx_new(model, init, err, sizeof err);
        if (!t[i].m ||
            dmr_model_compile(t[i].m, h, p ? p->ops : NULL, p ? p->nops : 0,
                              &t[i].lops, &t[i].n, err, sizeof err)) {
            t[i].error = s_located(file, err);
            t[i].decided = 1;
            continue;
        }
        t[i].lin = dmr_lin_new(t[i].m, t[i].lops, t[i].n, budget);
    }
    /* Round robin, so that a violation in an easy part decides the file
     * before a hard part has used its budget. */
    int violated = 0;
    for (size_t left = nt; left && !(first_violation && violated);) {
        left = 0;
        for (size_t i = 0; i < nt; i++) {
            if (t[i].decided)
                continue;
            if (dmr_lin_run(t[i].lin, nt > 1 ? SLICE_STEPS : 0)) {
                t[i].decided = 1;
                violated |= dmr_lin_verdict(t[i].lin) == DMR_LIN_VIOLATION;
            } else {
                left++;
            }
        }
    }
    int verdict = DMR_LIN_OK, any_error = 0;
    for (size_t i = 0; i < nt; i++) {
        dmr_lin_result_t r = {0};
        int skipped = t[i].lin && !t[i].decided;
        if (t[i].lin)
            dmr_lin_finish(&t[i].lin, &r);
        if (i)
            fputc('\n', out);
        s_result_line(&t[i], h, file, &r,
                      skipped ? "another part is not linearizable" : NULL, out);
        if (t[i].error)
            any_error = 1;
        else if (!skipped && r.verdict == DMR_LIN_VIOLATION)
            verdict = DMR_LIN_VIOLATION;
        else if (!skipped && r.verdict == DMR_LIN_UNKNOWN &&
                 verdict == DMR_LIN_OK)
            verdict = DMR_LIN_UNKNOWN;
        dmr_lin_result_free(&r);
        free(t[i].lops);
        free(t[i].error);
        dmr_mctx_destroy(&t[i].m);
    }
    free(t);
    return any_error ? -1 : verdict;
}

int dmr_check_part(const dmr_model_t *model, const dmr_val_t *init,
                   const dmr_history_t *h, const dmr_part_t *p,
                   const char *file, const dmr_lin_budget_t *budget, FILE *out)
{
    return dmr_check_parts(model, init, h, p, p ? 1 : 0, file, budget, 0, out);
}
