/* stale.c -- k- and t-staleness of reads (stale.h).
 *
 * Per key, the ok writes sorted by completion; a read's C is a prefix of
 * that list (found by binary search), and a write's place in it is kept
 * per op. So a history is measured in O(n log n). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check/session.h"
#include "check/html.h"
#include "check/stale.h"
#include "common/alloc.h"
#include "common/error.h"

typedef struct {
    uint32_t ret; /* completion event */
    uint32_t op;
} s_w_t;

static int s_w_cmp(const void *x, const void *y)
{
    const s_w_t *a = x, *b = y;
    return a->ret < b->ret ? -1 : a->ret > b->ret;
}

static int s_u64_cmp(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* The number of writes in w[0..n) that completed before event inv. */
static size_t s_before(const s_w_t *w, size_t n, uint32_t inv)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w[mid].ret < inv)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Bucket of k: 0, 1, 2, 3, 4-7, 8-15, ... (first = 4); of t: 0, 1, 2-3,
 * 4-7, ... (first = 1). */
static size_t s_bucket(uint64_t x, unsigned first)
{
    if (x < first)
        return (size_t)x;
    size_t b = 63 - (size_t)__builtin_clzll(x);
    return first == 4 ? b + 2 : b + 1;
}

static void s_hist(dmr_stale_bucket_t *bk, size_t *nb, const uint64_t *xs,
                   size_t n, uint64_t max, unsigned first)
{
    *nb = n ? s_bucket(max, first) + 1 : 0;
    for (size_t b = 0; b < *nb; b++) {
        if (b < first) {
            bk[b].lo = bk[b].hi = b;
        } else {
            unsigned e = (unsigned)(first == 4 ? b - 2 : b - 1);
            bk[b].lo = (uint64_t)1 << e;
            bk[b].hi = e == 63 ? UINT64_MAX : ((uint64_t)1 << (e + 1)) - 1;
        }
        bk[b].count = 0;
    }
    for (size_t i = 0; i < n; i++)
        bk[s_bucket(xs[i], first)].count++;
}

static uint64_t s_rank(const uint64_t *sorted, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p * (double)n + 0.999999999);
    return sorted[i ? i - 1 : 0];
}

int dmr_stale_compute(const dmr_history_t *h, dmr_stale_result_t *out,
                      char *err, size_t errlen)
{
    dmr_session_kv_t *kv = NULL;
    int rc = dmr_session_kv_open(h, &kv, err, errlen);
    if (rc)
        return rc;
    size_t nacc, nkeys = dmr_session_kv_nkeys(kv);
    const dmr_session_acc_t *acc = dmr_session_kv_accesses(kv, &nacc);
    dmr_stale_result_t r = {0};
    r.t_events = 0;
    for (size_t i = 0; i < h->nev && !r.t_events; i++)
        r.t_events = h->ev[i].time < 0;
    r.t_events |= h->nev == 0;
    /* The ok writes of each key, by completion: key k's are
     * w[start[k] .. start[k + 1]). */
    size_t *start = dmr_calloc(nkeys + 2, sizeof *start);
    uint32_t *place = dmr_malloc((h->nops + 1) * sizeof *place);
    s_w_t *w = dmr_malloc((nacc + 1) * sizeof *w);
    uint64_t *ks = dmr_malloc((nacc + 1) * sizeof *ks);
    uint64_t *ts = dmr_malloc((nacc + 1) * sizeof *ts);
    for (size_t i = 0; i < nacc; i++)
        if (acc[i].role == DMR_SESSION_WRITE && acc[i].ok)
            start[acc[i].key + 2]++;
    for (size_t k = 0; k < nkeys; k++)
        start[k + 2] += start[k + 1];
    for (size_t i = 0; i < nacc; i++)
        if (acc[i].role == DMR_SESSION_WRITE && acc[i].ok)
            w[start[acc[i].key + 1]++] =
                (s_w_t){h->ops[acc[i].op].ret, acc[i].op};
    for (size_t k = 0; k < nkeys; k++) {
        qsort(w + start[k], start[k + 1] - start[k], sizeof *w, s_w_cmp);
        for (size_t j = start[k]; j < start[k + 1]; j++)
            place[w[j].op] = (uint32_t)(j - start[k]);
    }
    for (size_t i = 0; i < nacc; i++) {
        const dmr_session_acc_t *a = &acc[i];
        const dmr_op_t *op = &h->ops[a->op];
        const char *f = h->ev[op->inv].f;
        if (a->role != DMR_SESSION_READ || !strcmp(f, "cas"))
            continue;
        const s_w_t *kw = w + start[a->key];
        size_t nw = start[a->key + 1] - start[a->key];
        size_t nc = s_before(kw, nw, op->inv);
        size_t nc_;
        const uint32_t *cand = dmr_session_kv_cands(kv, a, &nc_);
        uint64_t best = UINT64_MAX, bt = 0;
        for (size_t c = 0; c < nc_; c++) {
            uint64_t k;
            size_t next; /* the first newer write, in kw */
            if (cand[c] == DMR_SESSION_INITIAL) {
                k = nc;
                next = 0;
            } else {
                uint32_t wo = cand[c] - 1;
                const dmr_op_t *wop = &h->ops[wo];
                if (wop->type == DMR_EV_OK && wop->ret < op->inv) {
                    k = nc - 1 - place[wo];
                    next = place[wo] + 1;
                } else if (wop->inv < op->ret) {
                    k = 0;
                    next = 0;
                } else {
                    continue; /* written after the read returned */
                }
            }
            uint64_t t = 0;
            if (k) {
                const dmr_event_t *ri = &h->ev[op->inv];
                const dmr_event_t *wr = &h->ev[kw[next].ret];
                int64_t d = r.t_events
                                ? (int64_t)op->inv - (int64_t)kw[next].ret
                                : ri->time - wr->time;
                t = d > 0 ? (uint64_t)d : 0;
            }
            if (k < best || (k == best && t < bt)) {
                best = k;
                bt = t;
            }
        }
        if (best == UINT64_MAX) {
            r.unknown++;
            continue;
        }
        ks[r.reads] = best;
        ts[r.reads] = bt;
        r.fresh += best == 0;
        r.reads++;
    }
    qsort(ks, r.reads, sizeof *ks, s_u64_cmp);
    qsort(ts, r.reads, sizeof *ts, s_u64_cmp);
    if (r.reads) {
        r.k_max = ks[r.reads - 1];
        r.t_max = ts[r.reads - 1];
    }
    r.k_p50 = s_rank(ks, r.reads, 0.5);
    r.k_p99 = s_rank(ks, r.reads, 0.99);
    r.k_p999 = s_rank(ks, r.reads, 0.999);
    r.t_p50 = s_rank(ts, r.reads, 0.5);
    r.t_p99 = s_rank(ts, r.reads, 0.99);
    r.t_p999 = s_rank(ts, r.reads, 0.999);
    s_hist(r.k, &r.nk, ks, r.reads, r.k_max, 4);
    s_hist(r.t, &r.nt, ts, r.reads, r.t_max, 1);
    free(start);
    free(place);
    free(w);
    free(ks);
    free(ts);
    dmr_session_kv_destroy(&kv);
    *out = r;
    return 0;
}

static void s_json_str(const char *s, FILE *out)
{
    dmr_val_t v = {.type = DMR_V_STR, .u.str = {s, strlen(s)}};
    dmr_val_print_json(&v, out);
}

static void s_json_hist(const char *name, const dmr_stale_bucket_t *b, size_t n,
                        FILE *out)
{
    fprintf(out, ",\"%s\":[", name);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s{\"lo\":%llu,\"hi\":%llu,\"count\":%zu}", i ? "," : "",
                (unsigned long long)b[i].lo, (unsigned long long)b[i].hi,
                b[i].count);
    fputc(']', out);
}

static void s_print_json(const char *name, const dmr_stale_result_t *r,
                         FILE *out)
{
    fputs("{\"file\":", out);
    s_json_str(name, out);
    fprintf(out,
            ",\"reads\":%zu,\"unknown\":%zu,\"fresh\":%zu,\"fresh_pct\":%.2f,"
            "\"t_unit\":\"%s\"",
            r->reads, r->unknown, r->fresh,
            r->reads ? 100.0 * (double)r->fresh / (double)r->reads : 100.0,
            r->t_events ? "events" : "time");
    fprintf(out,
            ",\"k\":{\"max\":%llu,\"p50\":%llu,\"p99\":%llu,\"p999\":%llu}"
            ",\"t\":{\"max\":%llu,\"p50\":%llu,\"p99\":%llu,\"p999\":%llu}",
            (unsigned long long)r->k_max, (unsigned long long)r->k_p50,
            (unsigned long long)r->k_p99, (unsigned long long)r->k_p999,
            (unsigned long long)r->t_max, (unsigned long long)r->t_p50,
            (unsigned long long)r->t_p99, (unsigned long long)r->t_p999);
    s_json_hist("k_hist", r->k, r->nk, out);
    s_json_hist("t_hist", r->t, r->nt, out);
    fputs("}\n", out);
}

#define S_BAR 40 /* characters of the longest bar */

static void s_print_text(const char *name, const dmr_stale_result_t *r,
                         FILE *out)
{
    const char *unit = r->t_events ? "events" : "time units";
    fprintf(out, "%s: staleness of %zu reads", name, r->reads);
    if (r->unknown)
        fprintf(out, " (%zu more of unknown version)", r->unknown);
    fprintf(out, "\n  fresh: %zu (%.1f%%)\n", r->fresh,
            r->reads ? 100.0 * (double)r->fresh / (double)r->reads : 100.0);
    fprintf(out,
            "  k-staleness (versions behind): max %llu, p50 %llu, p99 %llu, "
            "p99.9 %llu\n",
            (unsigned long long)r->k_max, (unsigned long long)r->k_p50,
            (unsigned long long)r->k_p99, (unsigned long long)r->k_p999);
    fprintf(out,
            "  t-staleness (%s): max %llu, p50 %llu, p99 %llu, p99.9 %llu\n",
            unit, (unsigned long long)r->t_max, (unsigned long long)r->t_p50,
            (unsigned long long)r->t_p99, (unsigned long long)r->t_p999);
    size_t most = 0;
    for (size_t b = 0; b < r->nk; b++)
        if (r->k[b].count > most)
            most = r->k[b].count;
    if (r->nk)
        fputs("  k histogram:\n", out);
    for (size_t b = 0; b < r->nk; b++) {
        char lab[48];
        if (r->k[b].lo == r->k[b].hi)
            snprintf(lab, sizeof lab, "%llu", (unsigned long long)r->k[b].lo);
        else
            snprintf(lab, sizeof lab, "%llu-%llu",
                     (unsigned long long)r->k[b].lo,
                     (unsigned long long)r->k[b].hi);
        size_t len = most ? (r->k[b].count * S_BAR + most - 1) / most : 0;
        fprintf(out, "    %11s |", lab);
        for (size_t i = 0; i < len; i++)
            fputc('#', out);
        fprintf(out, " %zu\n", r->k[b].count);
    }
}

int dmr_stale_report(const char *path, const char *format, int json, FILE *out,
                     char *err, size_t errlen)
{
    dmr_history_t *h = NULL;
    dmr_stale_result_t r;
    if (dmr_history_load(path, format, &h, err, errlen))
        return 2;
    if (dmr_stale_compute(h, &r, err, errlen)) {
        dmr_history_destroy(&h);
        return 2;
    }
    if (json)
        s_print_json(h->name, &r, out);
    else
        s_print_text(h->name, &r, out);
    dmr_history_destroy(&h);
    return 0;
}

/* ------------------------------------------------------------------ html */

static void s_html_esc(const char *s, FILE *out)
{
    dmr_html_esc(out, s);
}

/* One histogram as an SVG bar chart, one bar a bucket, heights on a log
 * scale (a few stale reads among thousands of fresh ones stay visible). */
static void s_svg_hist(const dmr_stale_bucket_t *b, size_t n, const char *what,
                       FILE *out)
{
    size_t max = 1;
    for (size_t i = 0; i < n; i++)
        if (b[i].count > max)
            max = b[i].count;
    double bw = 34, hgt = 160, w = 60 + bw * (double)(n ? n : 1);
    fprintf(out,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f'>\n",
            w, hgt + 60);
    for (size_t i = 0; i < n; i++) {
        double h = b[i].count
                       ? hgt * log((double)b[i].count + 1) / log((double)max + 1)
                       : 0;
        double x = 50 + bw * (double)i;
        fprintf(out,
                "<g><title>%s %llu-%llu: %zu reads</title><rect x='%.1f' "
                "y='%.1f' width='%.1f' height='%.1f' fill='%s'/>"
                "<text x='%.1f' y='%.1f' font-size='10' text-anchor='middle'>%zu"
                "</text>",
                what, (unsigned long long)b[i].lo, (unsigned long long)b[i].hi,
                b[i].count, x + 2, 20 + hgt - h, bw - 4, h,
                i == 0 && b[i].lo == 0 ? "#2e8b57" : "#c0392b", x + bw / 2,
                16 + hgt - h, b[i].count);
        if (b[i].lo == b[i].hi)
            fprintf(out,
                    "<text x='%.1f' y='%.1f' font-size='10' "
                    "text-anchor='middle'>%llu</text>",
                    x + bw / 2, hgt + 34, (unsigned long long)b[i].lo);
        else
            fprintf(out,
                    "<text x='%.1f' y='%.1f' font-size='10' "
                    "text-anchor='middle'>%llu-</text>",
                    x + bw / 2, hgt + 34, (unsigned long long)b[i].lo);
        fputs("</g>\n", out);
    }
    fprintf(out,
            "<text x='50' y='%.0f' font-size='11'>%s (log scale of reads)</text>"
            "</svg>\n",
            hgt + 54, what);
}

void dmr_stale_print_html(const char *name, const dmr_stale_result_t *r,
                          FILE *out)
{
    fputs("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>", out);
    s_html_esc(name, out);
    fputs("</title><style>body{font:14px sans-serif;margin:1.5em;color:#222}"
          "h1{font-size:18px}h2{font-size:16px;margin-top:1.4em}</style>"
          "</head><body>\n<h1>",
          out);
    s_html_esc(name, out);
    fprintf(out,
            ": staleness of %zu reads</h1>\n<p>fresh: %zu (%.1f%%); %zu reads "
            "of unknown version not measured</p>\n",
            r->reads, r->fresh,
            r->reads ? 100.0 * (double)r->fresh / (double)r->reads : 100.0,
            r->unknown);
    fprintf(out,
            "<h2>k-staleness: versions behind</h2><p>max %llu, p50 %llu, "
            "p99 %llu, p99.9 %llu</p>\n",
            (unsigned long long)r->k_max, (unsigned long long)r->k_p50,
            (unsigned long long)r->k_p99, (unsigned long long)r->k_p999);
    s_svg_hist(r->k, r->nk, "versions behind", out);
    fprintf(out,
            "<h2>t-staleness: how long behind (%s)</h2><p>max %llu, p50 %llu, "
            "p99 %llu, p99.9 %llu</p>\n",
            r->t_events ? "events" : "time units",
            (unsigned long long)r->t_max, (unsigned long long)r->t_p50,
            (unsigned long long)r->t_p99, (unsigned long long)r->t_p999);
    s_svg_hist(r->t, r->nt, r->t_events ? "events behind" : "time behind", out);
    fputs("</body></html>\n", out);
}
