/* txncheck.c -- transactional anomalies (Elle's analysis, check/elle.h) as
 * a four-stage MapReduce job, so that a history is read, paired, inferred
 * and searched by the cluster, never held whole by one process.
 *
 *     dmr check --model list-append|rw-register FILE   (submits this job)
 *
 * Transactions are named by the line of their invocation (their global
 * id: unique, and in invocation order). Records between stages are text
 * lines of blank-separated tokens (check/txn.h, "the wire").
 *
 * stage 0  map: one line of the history -> its op, by process
 *              key "p<process>" (or "a": no :process), value
 *              "LINE OFF EV INDEX MOP..."; MOP is "a K V", "w K V",
 *              "r K" (read, result unknown), "v K V" (register read),
 *              "l K N E1 .. EN" (list read).
 *          reduce (a process): pairs invocations with completions, as
 *              check/txn.c does, and emits each transaction twice over:
 *              "o" -> "ID ST LINE PROC INDEX VOFF" (its metadata; VOFF is
 *              the byte offset of the op map whose micro-ops count), and
 *              per key K it touches "k<K>" -> "ID ST LINE IDX CODE ARGS..".
 * stage 1  reduce "k<K>": a key's transactions -> the key's edges ("e")
 *              and anomalies ("a" whole, "c" counted), dmr_elle_infer;
 *          reduce "o": every transaction -> process and real-time edges
 *              when the models need them (dmr_elle_order), the metadata
 *              again ("t") and the totals ("n").
 * stage 2  one reduce task: the whole graph -> its strongly connected
 *              components (Tarjan); each component of two or more
 *              transactions goes on, as its members and inner edges,
 *              under key "s<component>"; the anomalies of stage 1 go on
 *              with the metadata of the transactions they name.
 * stage 3  reduce "s<C>": one component -> the shortest cycle of each
 *              anomaly class in it (dmr_elle_cycles), with the metadata of
 *              its transactions.
 * The output is lines "x\tKIND ..." (KIND a, c, t, n, s, E) and errors
 * "!\tCLASS LINE message" (class 0: reading, 1: inference); dmr check
 * reads them, fetches the op maps of the named transactions from the
 * history, and prints the result as the local check does.
 *
 * Parameters (-D): txn.workload (list-append or rw-register, required),
 * txn.format (edn or json; default: each line tells), txn.name (the name
 * errors give), txn.models and txn.anomalies (bit sets of
 * dmr_elle_model_name and dmr_elle_anomaly_name, hexadecimal),
 * txn.process and txn.realtime (1: add those orders), txn.witnesses
 * (whole anomalies of each type each task passes on; default 8). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/elle.h"
#include "check/txn.h"
#include "check/value.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "jobs/dmr_job.h"

typedef struct {
    dmr_txn_workload_t w;
    const char *format;
    char *name;
    dmr_elle_opts_t o;
    size_t cap;
    size_t shown[DMR_ELLE_NTYPES];
    dmr_txn_reader_t *rd; /* stage 0 map */
    int failed;           /* stage 0 map: an error was passed on */
    int order;            /* process or real-time edges are wanted */
    dmr_buf_t b, b2;
    dmr_ctx *ctx;
    int rc;
} s_tc_t;

static uint64_t s_hexparam(dmr_ctx *ctx, const char *k)
{
    const char *v = dmr_param(ctx, k);
    return v ? strtoull(v, NULL, 16) : 0;
}

static int s_setup(dmr_ctx *ctx)
{
    s_tc_t *tc = dmr_calloc(1, sizeof *tc);
    ctx->user = tc;
    tc->ctx = ctx;
    const char *w = dmr_param(ctx, "txn.workload");
    if (!w || (strcmp(w, "list-append") && strcmp(w, "rw-register"))) {
        dmr_fail(ctx, "txncheck: -D txn.workload=list-append|rw-register "
                      "is required");
        return -1;
    }
    tc->w = !strcmp(w, "list-append") ? DMR_TXN_LIST_APPEND
                                      : DMR_TXN_RW_REGISTER;
    tc->format = dmr_param(ctx, "txn.format");
    const char *name = dmr_param(ctx, "txn.name");
    tc->name = dmr_strdup(name ? name : "history");
    tc->o.models = s_hexparam(ctx, "txn.models");
    tc->o.anomalies = s_hexparam(ctx, "txn.anomalies");
    tc->o.process = s_hexparam(ctx, "txn.process") != 0;
    tc->o.realtime = s_hexparam(ctx, "txn.realtime") != 0;
    const char *cap = dmr_param(ctx, "txn.witnesses");
    tc->cap = cap ? strtoul(cap, NULL, 10) : 0;
    if (tc->cap == 0)
        tc->cap = 8;
    tc->o.max_witnesses = tc->cap;
    dmr_elle_result_t *r = dmr_elle_new(NULL, &tc->o);
    tc->order = dmr_elle_wants_process(r) || dmr_elle_wants_realtime(r);
    dmr_elle_result_destroy(&r);
    return 0;
}

static void s_teardown(dmr_ctx *ctx)
{
    s_tc_t *tc = ctx->user;
    if (!tc)
        return;
    dmr_txn_reader_destroy(&tc->rd);
    dmr_buf_free(&tc->b);
    dmr_buf_free(&tc->b2);
    free(tc->name);
    free(tc);
    ctx->user = NULL;
}

static int s_emit(dmr_ctx *ctx, const char *k, size_t kn, const char *v,
                  size_t vn)
{
    return dmr_emit(ctx, (dmr_slice){k, kn}, (dmr_slice){v, vn});
}

static int s_emit_buf(dmr_ctx *ctx, const char *k, const dmr_buf_t *b)
{
    return s_emit(ctx, k, strlen(k), b->len ? b->data : "", b->len);
}

/* An error record: "CLASS LINE message". */
static int s_error(dmr_ctx *ctx, int cls, uint64_t line, const char *msg)
{
    s_tc_t *tc = ctx->user;
    dmr_buf_clear(&tc->b);
    dmr_buf_printf(&tc->b, "%d %" PRIu64 " %s", cls, line, msg);
    return s_emit_buf(ctx, "!", &tc->b);
}

/* Splits a record "KEY\tVALUE" of an earlier stage. */
static void s_split(dmr_slice in, dmr_slice *k, dmr_slice *v)
{
    const char *tab = memchr(in.ptr, '\t', in.len);
    if (!tab) {
        *k = in;
        *v = (dmr_slice){in.ptr + in.len, 0};
        return;
    }
    *k = (dmr_slice){in.ptr, (size_t)(tab - in.ptr)};
    *v = (dmr_slice){tab + 1, in.len - k->len - 1};
}

static int s_is(dmr_slice k, const char *s)
{
    size_t n = strlen(s);
    return k.len == n && !memcmp(k.ptr, s, n);
}

/* Passes every value of key on unchanged. */
static int s_pass(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    dmr_slice v;
    int rc = 0;
    while (rc == 0 && dmr_next(ctx, vals, &v))
        rc = dmr_emit(ctx, key, v);
    return rc;
}

/* ------------------------------------------------------------- stage 0 */

static int s0_map(dmr_ctx *ctx, const dmr_record *in)
{
    s_tc_t *tc = ctx->user;
    char err[512];
    if (tc->failed)
        return 0;
    if (!tc->rd)
        tc->rd = dmr_txn_reader_new(tc->name, tc->format, tc->w);
    dmr_txn_op_t op;
    if (dmr_txn_reader_line(tc->rd, in->value.ptr, in->value.len,
                            (uint32_t)in->lineno, &op, err, sizeof err)) {
        tc->failed = 1;
        return s_error(ctx, 0, in->lineno, err);
    }
    if (op.ev < 0)
        return 0;
    const dmr_txn_hist_t *h = op.h;
    dmr_buf_t *b = &tc->b;
    dmr_buf_clear(b);
    dmr_buf_u64(b, in->lineno);
    dmr_buf_putc(b, ' ');
    dmr_buf_u64(b, in->offset);
    dmr_buf_putc(b, ' ');
    dmr_buf_putc(b, (char)('0' + op.ev));
    dmr_buf_putc(b, ' ');
    if (op.index >= 0)
        dmr_buf_i64(b, op.index);
    else
        dmr_buf_putc(b, '~');
    int la = h->workload == DMR_TXN_LIST_APPEND;
    for (size_t i = 0; i < h->nmop; i++) {
        const dmr_mop_t *m = &h->mops[i];
        const char *kt = dmr_txn_key_text(h, m->key);
        char code = m->f == DMR_MOP_APPEND  ? 'a'
                    : m->f == DMR_MOP_WRITE ? 'w'
                    : !m->known             ? 'r'
                    : la                    ? 'l'
                                            : 'v';
        char cs[3] = {' ', code, ' '};
        dmr_buf_append(b, cs, 3);
        dmr_txn_wire_text(b, kt, strlen(kt));
        if (code == 'a' || code == 'w' || code == 'v') {
            dmr_buf_putc(b, ' ');
            dmr_txn_wire_elem(b, h, m->v);
        } else if (code == 'l') {
            dmr_buf_putc(b, ' ');
            dmr_buf_u64(b, m->n);
            for (uint32_t k = 0; k < m->n; k++) {
                dmr_buf_putc(b, ' ');
                dmr_txn_wire_elem(b, h, h->elems[m->off + k]);
            }
        }
    }
    char key[32];
    int kn = op.has_process
                 ? snprintf(key, sizeof key, "p%" PRId64, op.process)
                 : snprintf(key, sizeof key, "a");
    return s_emit(ctx, key, (size_t)kn, b->data, b->len);
}

/* One op of a process, as stage 0's map wrote it. */
typedef struct {
    uint64_t line, off;
    int ev;
    int64_t index; /* -1: none */
    const char *mops; /* the rest of the record */
    size_t nmops;
    char *rec; /* a copy, in the reduce's arena */
} s_ev_t;

static int s_ev_cmp(const void *a, const void *b)
{
    const s_ev_t *x = a, *y = b;
    return x->line < y->line ? -1 : x->line > y->line;
}

typedef struct {
    uint64_t id, line, voff;
    int64_t index;
    int status;
    const s_ev_t *vals; /* the op whose micro-ops count */
} s_tx_t;

/* Reads "LINE OFF EV INDEX" off a copy of v; 0, or -1 if malformed. */
static int s_ev_read(dmr_arena_t *a, dmr_slice v, s_ev_t *e)
{
    e->rec = dmr_arena_strndup(a, v.ptr, v.len);
    dmr_txn_tok_t tk = {e->rec, e->rec + v.len};
    const char *s[4];
    size_t n[4];
    for (int i = 0; i < 4; i++)
        if (!dmr_txn_tok(&tk, &s[i], &n[i]))
            return -1;
    uint64_t ev;
    if (dmr_txn_tok_u64(s[0], n[0], &e->line) ||
        dmr_txn_tok_u64(s[1], n[1], &e->off) ||
        dmr_txn_tok_u64(s[2], n[2], &ev) || ev > 3)
        return -1;
    e->ev = (int)ev;
    e->index = -1;
    if (!(n[3] == 1 && s[3][0] == '~') &&
        dmr_txn_tok_i64(s[3], n[3], &e->index))
        return -1;
    e->mops = tk.p;
    e->nmops = (size_t)(tk.end - tk.p);
    return 0;
}

/* Tokens each micro-op code takes after its key; -1: not a code. */
static int s_code_args(const char *s, size_t n, dmr_txn_tok_t *tk)
{
    if (n != 1)
        return -1;
    switch (s[0]) {
    case 'a':
    case 'w':
    case 'v':
        return 1;
    case 'r':
        return 0;
    case 'l': {
        /* N then N elements: peek at N */
        dmr_txn_tok_t t2 = *tk;
        const char *ks, *ns;
        size_t kn, nn;
        uint64_t cnt;
        if (!dmr_txn_tok(&t2, &ks, &kn) || !dmr_txn_tok(&t2, &ns, &nn) ||
            dmr_txn_tok_u64(ns, nn, &cnt) || cnt > (1u << 30))
            return -1;
        return (int)cnt + 1;
    }
    default:
        return -1;
    }
}

/* "ID ST LINE" */
static void s_head(dmr_buf_t *b, const s_tx_t *t)
{
    dmr_buf_u64(b, t->id);
    dmr_buf_putc(b, ' ');
    dmr_buf_putc(b, (char)('0' + t->status));
    dmr_buf_putc(b, ' ');
    dmr_buf_u64(b, t->line);
}

/* Emits transaction t: its metadata, and one record per key it touches. */
static int s_emit_txn(dmr_ctx *ctx, const s_tx_t *t, int anon,
                      int64_t process)
{
    s_tc_t *tc = ctx->user;
    dmr_buf_t *b = &tc->b;
    dmr_buf_clear(b);
    s_head(b, t);
    dmr_buf_putc(b, ' ');
    if (anon)
        dmr_buf_putc(b, '~');
    else
        dmr_buf_i64(b, process);
    dmr_buf_putc(b, ' ');
    if (t->index >= 0)
        dmr_buf_i64(b, t->index);
    else
        dmr_buf_putc(b, '~');
    dmr_buf_putc(b, ' ');
    dmr_buf_u64(b, t->voff);
    /* to the one task that orders them all, or else spread */
    char mk[8] = "o";
    if (!tc->order)
        snprintf(mk, sizeof mk, "t%u", (unsigned)(t->id % 64));
    int rc = s_emit_buf(ctx, mk, b);
    if (rc || !t->vals)
        return rc;
    /* the micro-ops, grouped by key in order of first appearance */
    typedef struct {
        const char *k;
        size_t kn;
        const char *start, *end; /* the op's tokens after the key */
        uint32_t idx;
        int done;
    } mop_t;
    mop_t *ms = NULL;
    size_t nm = 0, cap = 0;
    dmr_txn_tok_t tk = {t->vals->mops, t->vals->mops + t->vals->nmops};
    const char *s, *k;
    size_t n, kn;
    uint32_t idx = 0;
    while (dmr_txn_tok(&tk, &s, &n)) {
        int args = s_code_args(s, n, &tk);
        const char *code = s;
        if (args < 0 || !dmr_txn_tok(&tk, &k, &kn)) {
            free(ms);
            return s_error(ctx, 0, t->vals->line,
                           "txncheck: a malformed micro-op record");
        }
        const char *end = tk.p;
        for (int i = 0; i < args; i++) {
            const char *a;
            size_t an;
            if (!dmr_txn_tok(&tk, &a, &an)) {
                free(ms);
                return s_error(ctx, 0, t->vals->line,
                               "txncheck: a malformed micro-op record");
            }
            end = a + an;
        }
        if (nm == cap) {
            cap = cap ? 2 * cap : 16;
            ms = dmr_realloc(ms, cap * sizeof *ms);
        }
        ms[nm++] = (mop_t){k, kn, code, end, idx++, 0};
    }
    char *key = NULL;
    size_t keycap = 0;
    for (size_t i = 0; i < nm && rc == 0; i++) {
        if (ms[i].done)
            continue;
        dmr_buf_clear(b);
        s_head(b, t);
        for (size_t j = i; j < nm; j++) {
            if (ms[j].done || ms[j].kn != ms[i].kn ||
                memcmp(ms[j].k, ms[i].k, ms[i].kn))
                continue;
            ms[j].done = 1;
            /* "IDX CODE" then the arguments (the key left out) */
            dmr_buf_putc(b, ' ');
            dmr_buf_u64(b, ms[j].idx);
            char cs[2] = {' ', ms[j].start[0]};
            dmr_buf_append(b, cs, 2);
            const char *after_key = ms[j].k + ms[j].kn;
            if (ms[j].end > after_key)
                dmr_buf_append(b, after_key, (size_t)(ms[j].end - after_key));
        }
        if (ms[i].kn + 2 > keycap) {
            keycap = ms[i].kn + 2;
            key = dmr_realloc(key, keycap);
        }
        key[0] = 'k';
        memcpy(key + 1, ms[i].k, ms[i].kn);
        rc = s_emit(ctx, key, ms[i].kn + 1, b->data, b->len);
    }
    free(key);
    free(ms);
    return rc;
}

static int s0_reduce(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    s_tc_t *tc = ctx->user;
    if (s_is(key, "!"))
        return s_pass(ctx, key, vals);
    int anon = s_is(key, "a");
    int64_t process = 0;
    if (!anon) {
        char pb[32];
        size_t pn = key.len - 1 < sizeof pb - 1 ? key.len - 1 : sizeof pb - 1;
        memcpy(pb, key.ptr + 1, pn);
        pb[pn] = 0;
        process = strtoll(pb, NULL, 10);
    }
    s_ev_t *ev = NULL;
    size_t n = 0, cap = 0;
    dmr_slice v;
    int rc = 0;
    dmr_arena_t *arena = dmr_arena_new();
    while (dmr_next(ctx, vals, &v)) {
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            ev = dmr_realloc(ev, cap * sizeof *ev);
        }
        if (s_ev_read(arena, v, &ev[n])) {
            rc = s_error(ctx, 0, 0, "txncheck: a malformed op record");
            goto out;
        }
        n++;
    }
    qsort(ev, n, sizeof *ev, s_ev_cmp);
    s_tx_t *tx = dmr_malloc((n + 1) * sizeof *tx);
    size_t nt = 0;
    /* open: the transaction a process has open; for ops without a
     * :process, the queue of open ones, oldest first */
    size_t open = SIZE_MAX;
    size_t *queue = dmr_malloc((n + 1) * sizeof *queue);
    size_t qh = 0, qt = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const s_ev_t *e = &ev[i];
        size_t t = SIZE_MAX;
        if (!anon)
            t = open;
        else if (e->ev != 0 && qh < qt)
            t = queue[qh++];
        if (e->ev == 0) {
            if (!anon && t != SIZE_MAX) {
                char msg[512];
                snprintf(msg, sizeof msg,
                         "%s:%" PRIu64 ": process %" PRId64
                         " invokes a transaction while the one it invoked "
                         "on line %" PRIu64 " is open",
                         tc->name, e->line, process, tx[t].id);
                rc = s_error(ctx, 0, e->line, msg);
                break;
            }
            tx[nt] = (s_tx_t){e->line, e->line, e->off, e->index,
                              DMR_TXN_INFO, e};
            if (anon)
                queue[qt++] = nt;
            else
                open = nt;
            nt++;
            continue;
        }
        int st = e->ev == 1 ? DMR_TXN_OK
                 : e->ev == 2 ? DMR_TXN_FAIL
                              : DMR_TXN_INFO;
        if (t == SIZE_MAX) { /* a completion alone */
            tx[nt++] = (s_tx_t){e->line, e->line, e->off, e->index, st, e};
            continue;
        }
        open = SIZE_MAX;
        tx[t].line = e->line;
        if (e->index >= 0)
            tx[t].index = e->index;
        tx[t].status = st;
        if (e->ev == 1) {
            tx[t].vals = e;
            tx[t].voff = e->off;
        }
    }
    for (size_t t = 0; t < nt && rc == 0; t++)
        rc = s_emit_txn(ctx, &tx[t], anon, process);
    free(tx);
    free(queue);
out:
    dmr_arena_destroy(&arena);
    free(ev);
    return rc;
}

/* Processes are numbered from 0 by Jepsen: process p goes to reduce
 * p mod R, so that the reduces get as many each. */
static uint32_t s0_partition(dmr_slice key, uint32_t nreduce)
{
    uint64_t p = 0;
    if (key.len < 2 || key.ptr[0] != 'p')
        return 0;
    size_t i = 1 + (key.ptr[1] == '-');
    for (; i < key.len && key.ptr[i] >= '0' && key.ptr[i] <= '9'; i++)
        p = p * 10 + (uint64_t)(key.ptr[i] - '0');
    return (uint32_t)(p % nreduce);
}

/* ------------------------------------------------------------- stage 1 */

/* Stages 1 and 3 read records "KEY\tVALUE" and keep their keys. */
static int s_map_same(dmr_ctx *ctx, const dmr_record *in)
{
    dmr_slice k, v;
    s_split(in->value, &k, &v);
    return dmr_emit(ctx, k, v);
}

static void s_put(void *arg, char what, const char *rec, size_t len)
{
    s_tc_t *tc = arg;
    if (tc->rc)
        return;
    dmr_buf_t *b = &tc->b2;
    dmr_buf_clear(b);
    char head[2] = {what, ' '};
    dmr_buf_append(b, head, 2);
    dmr_buf_append(b, rec, len);
    tc->rc = s_emit(tc->ctx, &what, 1, b->data, b->len);
}

typedef struct {
    uint64_t id;
    char *rec; /* in the reduce's arena */
    size_t len;
} s_rec_t;

static int s_rec_cmp(const void *a, const void *b)
{
    const s_rec_t *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Collects the values of a key, each with its leading id. */
static s_rec_t *s_collect(dmr_ctx *ctx, dmr_values *vals, dmr_arena_t *a,
                          size_t *pn)
{
    s_rec_t *r = NULL;
    size_t n = 0, cap = 0;
    dmr_slice v;
    while (dmr_next(ctx, vals, &v)) {
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            r = dmr_realloc(r, cap * sizeof *r);
        }
        r[n].rec = dmr_arena_strndup(a, v.ptr, v.len);
        r[n].len = v.len;
        r[n].id = strtoull(r[n].rec, NULL, 10);
        n++;
    }
    *pn = n;
    return r;
}

static void s_recs_free(s_rec_t *r, dmr_arena_t **a)
{
    dmr_arena_destroy(a);
    free(r);
}

typedef struct {
    const uint64_t *ids;
    size_t n;
} s_ids_t;

/* Binary search over sorted ids. */
static int s_look(void *arg, uint64_t gid, uint32_t *t)
{
    const s_ids_t *ix = arg;
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->ids[mid] < gid)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == ix->n || ix->ids[lo] != gid)
        return -1;
    *t = (uint32_t)lo;
    return 0;
}

/* A key's transactions: "ID ST LINE (IDX CODE ARGS)...". */
static int s1_key(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    s_tc_t *tc = ctx->user;
    size_t n;
    dmr_arena_t *arena = dmr_arena_new();
    s_rec_t *rs = s_collect(ctx, vals, arena, &n);
    qsort(rs, n, sizeof *rs, s_rec_cmp);
    dmr_txn_hist_t *h = dmr_txn_hist_new(tc->name, NULL, tc->w);
    char *kt = dmr_malloc(key.len);
    size_t ktn = dmr_txn_unwire(key.ptr + 1, key.len - 1, kt);
    uint32_t kid = dmr_txn_key_id(h, kt, ktn);
    free(kt);
    uint64_t *gid = dmr_malloc((n + 1) * sizeof *gid);
    dmr_txn_elem_t *el = NULL;
    size_t elcap = 0;
    int bad = 0;
    for (size_t i = 0; i < n && !bad; i++) {
        dmr_txn_tok_t tk = {rs[i].rec, rs[i].rec + rs[i].len};
        const char *s[3];
        size_t sn[3];
        uint64_t id, st, line;
        for (int k = 0; k < 3; k++)
            if (!dmr_txn_tok(&tk, &s[k], &sn[k]))
                bad = 1;
        if (bad || dmr_txn_tok_u64(s[0], sn[0], &id) ||
            dmr_txn_tok_u64(s[1], sn[1], &st) || st > DMR_TXN_FAIL ||
            dmr_txn_tok_u64(s[2], sn[2], &line) || line > UINT32_MAX ||
            id > UINT32_MAX) {
            bad = 1;
            break;
        }
        gid[h->ntxn] = id;
        dmr_txn_hist_add(h, &(dmr_txn_t){.process = -1,
                                          .index = -1,
                                          .line = (uint32_t)line,
                                          .invline = (uint32_t)id,
                                          .off = UINT64_MAX,
                                          .status = (uint8_t)st});
        const char *is, *cs;
        size_t in, cn;
        while (!bad && dmr_txn_tok(&tk, &is, &in)) {
            uint64_t idx;
            if (dmr_txn_tok_u64(is, in, &idx) || idx > UINT16_MAX ||
                !dmr_txn_tok(&tk, &cs, &cn) || cn != 1) {
                bad = 1;
                break;
            }
            dmr_mop_t m = {.key = kid, .idx = (uint16_t)idx,
                           .v = DMR_TXN_NIL};
            const char *a;
            size_t an;
            switch (cs[0]) {
            case 'a':
            case 'w':
            case 'v':
                m.f = cs[0] == 'a'   ? DMR_MOP_APPEND
                      : cs[0] == 'w' ? DMR_MOP_WRITE
                                     : DMR_MOP_READ;
                m.known = cs[0] == 'v';
                if (!dmr_txn_tok(&tk, &a, &an) ||
                    dmr_txn_tok_elem(h, a, an, &m.v))
                    bad = 1;
                break;
            case 'r':
                m.f = DMR_MOP_READ;
                break;
            case 'l': {
                uint64_t cnt;
                m.f = DMR_MOP_READ;
                m.known = 1;
                if (!dmr_txn_tok(&tk, &a, &an) ||
                    dmr_txn_tok_u64(a, an, &cnt) || cnt > UINT32_MAX) {
                    bad = 1;
                    break;
                }
                if (cnt > elcap) {
                    elcap = cnt;
                    el = dmr_realloc(el, elcap * sizeof *el);
                }
                for (uint64_t k = 0; k < cnt && !bad; k++)
                    if (!dmr_txn_tok(&tk, &a, &an) ||
                        dmr_txn_tok_elem(h, a, an, &el[k]))
                        bad = 1;
                m.n = (uint32_t)cnt;
                break;
            }
            default:
                bad = 1;
            }
            if (!bad)
                dmr_txn_hist_add_mop(h, &m, el);
        }
    }
    free(el);
    s_recs_free(rs, &arena);
    int rc = 0;
    if (bad) {
        rc = s_error(ctx, 1, 0, "txncheck: a malformed key record");
    } else {
        dmr_txn_hist_seal(h);
        char err[512];
        dmr_elle_result_t *r = dmr_elle_new(h, &tc->o);
        if (dmr_elle_infer(r, err, sizeof err)) {
            rc = s_error(ctx, 1, 0, err);
        } else {
            dmr_buf_t b = DMR_BUF_INIT;
            for (size_t i = 0; i < dmr_elle_nedges(r) && rc == 0; i++) {
                dmr_buf_clear(&b);
                dmr_buf_append(&b, "e ", 2);
                dmr_elle_wire_edge(r, i, gid, &b);
                rc = s_emit(ctx, "g", 1, b.data, b.len);
            }
            dmr_buf_free(&b);
            tc->rc = rc;
            dmr_elle_wire_anomalies(r, gid, tc->cap, tc->shown, s_put, tc);
            rc = tc->rc;
        }
        dmr_elle_result_destroy(&r);
    }
    free(gid);
    dmr_txn_hist_destroy(&h);
    return rc;
}

/* Every transaction's metadata "ID ST LINE PROC INDEX VOFF". */
static int s1_order(dmr_ctx *ctx, dmr_values *vals)
{
    s_tc_t *tc = ctx->user;
    size_t n;
    dmr_arena_t *arena = dmr_arena_new();
    s_rec_t *rs = s_collect(ctx, vals, arena, &n);
    qsort(rs, n, sizeof *rs, s_rec_cmp);
    size_t cnt[3] = {0};
    dmr_txn_hist_t *h = dmr_txn_hist_new(tc->name, NULL, tc->w);
    uint64_t *gid = dmr_malloc((n + 1) * sizeof *gid);
    uint64_t maxline = 0;
    int rc = 0;
    dmr_buf_t b = DMR_BUF_INIT;
    for (size_t i = 0; i < n && rc == 0; i++) {
        dmr_txn_tok_t tk = {rs[i].rec, rs[i].rec + rs[i].len};
        const char *s[4];
        size_t sn[4];
        uint64_t st = 0, line = 0;
        int64_t proc = -1 - (int64_t)i;
        int ok = 1;
        for (int k = 0; k < 4 && ok; k++)
            ok = dmr_txn_tok(&tk, &s[k], &sn[k]);
        if (!ok || dmr_txn_tok_u64(s[1], sn[1], &st) || st > DMR_TXN_FAIL ||
            dmr_txn_tok_u64(s[2], sn[2], &line) || line > UINT32_MAX ||
            rs[i].id > UINT32_MAX ||
            (!(sn[3] == 1 && s[3][0] == '~') &&
             dmr_txn_tok_i64(s[3], sn[3], &proc))) {
            rc = s_error(ctx, 1, 0, "txncheck: a malformed txn record");
            break;
        }
        cnt[st]++;
        if (line > maxline)
            maxline = line;
        if (rs[i].id > maxline)
            maxline = rs[i].id;
        gid[h->ntxn] = rs[i].id;
        uint32_t ret = st == DMR_TXN_OK || line == rs[i].id ? (uint32_t)line
                                                            : UINT32_MAX;
        dmr_txn_hist_add(h, &(dmr_txn_t){.process = proc,
                                          .index = -1,
                                          .line = (uint32_t)line,
                                          .invline = (uint32_t)rs[i].id,
                                          .inv = (uint32_t)rs[i].id,
                                          .ret = ret,
                                          .off = UINT64_MAX,
                                          .status = (uint8_t)st});
        dmr_buf_clear(&b);
        dmr_buf_append(&b, "t ", 2);
        dmr_buf_append(&b, rs[i].rec, rs[i].len);
        rc = s_emit(ctx, "g", 1, b.data, b.len);
    }
    if (rc == 0) {
        h->nevents = (uint32_t)(maxline + 1);
        dmr_elle_result_t *r = dmr_elle_new(h, &tc->o);
        dmr_elle_order(r);
        for (size_t i = 0; i < dmr_elle_nedges(r) && rc == 0; i++) {
            dmr_buf_clear(&b);
            dmr_buf_append(&b, "e ", 2);
            dmr_elle_wire_edge(r, i, gid, &b);
            rc = s_emit(ctx, "g", 1, b.data, b.len);
        }
        dmr_elle_result_destroy(&r);
        dmr_buf_clear(&b);
        dmr_buf_printf(&b, "n %zu %zu %zu %zu", n, cnt[DMR_TXN_OK],
                       cnt[DMR_TXN_FAIL], cnt[DMR_TXN_INFO]);
        if (rc == 0)
            rc = s_emit(ctx, "x", 1, b.data, b.len);
    }
    dmr_buf_free(&b);
    free(gid);
    dmr_txn_hist_destroy(&h);
    s_recs_free(rs, &arena);
    return rc;
}

/* Metadata no order needs: on to the graph, counted. */
static int s1_meta(dmr_ctx *ctx, dmr_values *vals)
{
    s_tc_t *tc = ctx->user;
    size_t cnt[3] = {0}, n = 0;
    dmr_slice v;
    int rc = 0;
    dmr_buf_t *b = &tc->b;
    while (rc == 0 && dmr_next(ctx, vals, &v)) {
        const char *sp = memchr(v.ptr, ' ', v.len);
        size_t at = sp ? (size_t)(sp - v.ptr) + 1 : v.len;
        if (at < v.len && v.ptr[at] >= '0' && v.ptr[at] <= '2')
            cnt[v.ptr[at] - '0']++;
        n++;
        dmr_buf_clear(b);
        dmr_buf_append(b, "t ", 2);
        dmr_buf_append(b, v.ptr, v.len);
        rc = s_emit(ctx, "g", 1, b->data, b->len);
    }
    if (rc == 0) {
        dmr_buf_clear(b);
        dmr_buf_printf(b, "n %zu %zu %zu %zu", n, cnt[DMR_TXN_OK],
                       cnt[DMR_TXN_FAIL], cnt[DMR_TXN_INFO]);
        rc = s_emit(ctx, "x", 1, b->data, b->len);
    }
    return rc;
}

static int s1_reduce(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    if (key.len >= 2 && key.ptr[0] == 't')
        return s1_meta(ctx, vals);
    if (s_is(key, "!"))
        return s_pass(ctx, key, vals);
    if (s_is(key, "o"))
        return s1_order(ctx, vals);
    if (key.len >= 2 && key.ptr[0] == 'k')
        return s1_key(ctx, key, vals);
    return s_error(ctx, 1, 0, "txncheck: an unknown record in stage 1");
}

/* ------------------------------------------------------------- stage 2 */

/* Stage 1 wrote "g" (the graph, its metadata, anomalies to join) and
 * "x" (counts, totals), and "a"/"c" from s_put: anomalies join the graph
 * and counts go on. */
static int s2_map(dmr_ctx *ctx, const dmr_record *in)
{
    dmr_slice k, v;
    s_split(in->value, &k, &v);
    if (s_is(k, "a"))
        k = (dmr_slice){"g", 1};
    else if (s_is(k, "c"))
        k = (dmr_slice){"x", 1};
    return dmr_emit(ctx, k, v);
}

/* gid -> dense index: open addressing. */
typedef struct {
    uint64_t *key;
    uint32_t *val;
    size_t mask;
} s_map_t;

static void s_map_init(s_map_t *m, size_t n)
{
    size_t cap = 64;
    while (cap < 2 * n + 2)
        cap *= 2;
    m->key = dmr_malloc(cap * sizeof *m->key);
    m->val = dmr_malloc(cap * sizeof *m->val);
    memset(m->val, 0xff, cap * sizeof *m->val);
    m->mask = cap - 1;
}

static uint32_t *s_map_slot(s_map_t *m, uint64_t k)
{
    size_t i = (size_t)((k * 0x9e3779b97f4a7c15ull) >> 20) & m->mask;
    while (m->val[i] != UINT32_MAX && m->key[i] != k)
        i = (i + 1) & m->mask;
    m->key[i] = k;
    return &m->val[i];
}

static uint32_t s_map_get(const s_map_t *m, uint64_t k)
{
    size_t i = (size_t)((k * 0x9e3779b97f4a7c15ull) >> 20) & m->mask;
    while (m->val[i] != UINT32_MAX && m->key[i] != k)
        i = (i + 1) & m->mask;
    return m->val[i];
}

typedef struct {
    uint32_t from, to;
    uint8_t kind;
    uint32_t len;
    const char *text; /* its record */
} s_gedge_t;

static int s_gedge_cmp(const void *a, const void *b)
{
    const s_gedge_t *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->to != y->to)
        return x->to < y->to ? -1 : 1;
    return x->kind - y->kind;
}

static int s2_graph(dmr_ctx *ctx, dmr_values *vals)
{
    dmr_arena_t *arena = dmr_arena_new(); /* every record's text */
    s_gedge_t *e = NULL;
    size_t ne = 0, cape = 0;
    const char **toff = NULL; /* metadata records */
    uint64_t *tids = NULL;
    uint32_t *tlen = NULL;
    size_t nt = 0, capt = 0;
    const char **aoff = NULL;
    uint32_t *alen = NULL;
    size_t na = 0, capa = 0;
    /* edges name gids; resolved once every txn is known */
    uint64_t *efrom = NULL, *eto = NULL;
    dmr_slice v;
    int rc = 0;
    while (dmr_next(ctx, vals, &v)) {
        if (v.len < 2)
            continue;
        const char *at = dmr_arena_strndup(arena, v.ptr + 2, v.len - 2);
        const char *rec = at;
        size_t rlen = v.len - 2;
        if (v.ptr[0] == 't') {
            if (nt == capt) {
                capt = capt ? 2 * capt : 4096;
                toff = dmr_realloc(toff, capt * sizeof *toff);
                tlen = dmr_realloc(tlen, capt * sizeof *tlen);
                tids = dmr_realloc(tids, capt * sizeof *tids);
            }
            toff[nt] = at;
            tlen[nt] = (uint32_t)rlen;
            tids[nt++] = strtoull(at, NULL, 10);
        } else if (v.ptr[0] == 'a') {
            if (na == capa) {
                capa = capa ? 2 * capa : 64;
                aoff = dmr_realloc(aoff, capa * sizeof *aoff);
                alen = dmr_realloc(alen, capa * sizeof *alen);
            }
            aoff[na] = at;
            alen[na++] = (uint32_t)rlen;
        } else if (v.ptr[0] == 'e') {
            dmr_txn_tok_t tk = {rec, rec + rlen};
            const char *s[3];
            size_t sn[3];
            uint64_t f, t, k;
            if (!dmr_txn_tok(&tk, &s[0], &sn[0]) ||
                !dmr_txn_tok(&tk, &s[1], &sn[1]) ||
                !dmr_txn_tok(&tk, &s[2], &sn[2]) ||
                dmr_txn_tok_u64(s[0], sn[0], &f) ||
                dmr_txn_tok_u64(s[1], sn[1], &t) ||
                dmr_txn_tok_u64(s[2], sn[2], &k) || k > 4)
                continue; /* not ours: cannot be in a cycle we report */
            if (ne == cape) {
                cape = cape ? 2 * cape : 65536;
                e = dmr_realloc(e, cape * sizeof *e);
                efrom = dmr_realloc(efrom, cape * sizeof *efrom);
                eto = dmr_realloc(eto, cape * sizeof *eto);
            }
            efrom[ne] = f;
            eto[ne] = t;
            e[ne++] = (s_gedge_t){0, 0, (uint8_t)k, (uint32_t)rlen, at};
        }
    }
    s_map_t m;
    s_map_init(&m, nt);
    for (size_t i = 0; i < nt; i++)
        *s_map_slot(&m, tids[i]) = (uint32_t)i;
    size_t u = 0;
    for (size_t i = 0; i < ne; i++) {
        uint32_t f = s_map_get(&m, efrom[i]), t = s_map_get(&m, eto[i]);
        if (f == UINT32_MAX || t == UINT32_MAX || f == t)
            continue;
        e[u] = e[i];
        e[u].from = f;
        e[u].to = t;
        u++;
    }
    free(efrom);
    free(eto);
    if (u)
        qsort(e, u, sizeof *e, s_gedge_cmp);
    ne = 0;
    for (size_t i = 0; i < u; i++)
        if (!ne || s_gedge_cmp(&e[i], &e[ne - 1]))
            e[ne++] = e[i];
    uint32_t *off = dmr_calloc(nt + 2, sizeof *off);
    uint32_t *adj = dmr_malloc((ne + 1) * sizeof *adj);
    for (size_t i = 0; i < ne; i++) {
        off[e[i].from + 1]++;
        adj[i] = e[i].to;
    }
    for (size_t t = 0; t < nt; t++)
        off[t + 1] += off[t];
    uint32_t *comp = dmr_malloc((nt + 1) * sizeof *comp);
    size_t ncomp = dmr_elle_tarjan(nt, off, adj, comp);
    uint32_t *csize = dmr_calloc(ncomp + 1, sizeof *csize);
    for (size_t t = 0; t < nt; t++)
        csize[comp[t]]++;
    size_t nscc = 0, largest = 0;
    for (size_t c = 0; c < ncomp; c++)
        if (csize[c] >= 2) {
            nscc++;
            if (csize[c] > largest)
                largest = csize[c];
        }
    dmr_buf_t b = DMR_BUF_INIT;
    char key[32];
    for (size_t t = 0; t < nt && rc == 0; t++) {
        if (csize[comp[t]] < 2)
            continue;
        int kn = snprintf(key, sizeof key, "s%u", comp[t]);
        dmr_buf_clear(&b);
        dmr_buf_append(&b, "t ", 2);
        dmr_buf_append(&b, toff[t], tlen[t]);
        rc = s_emit(ctx, key, (size_t)kn, b.data, b.len);
    }
    for (size_t i = 0; i < ne && rc == 0; i++) {
        uint32_t c = comp[e[i].from];
        if (csize[c] < 2 || comp[e[i].to] != c)
            continue;
        int kn = snprintf(key, sizeof key, "s%u", c);
        dmr_buf_clear(&b);
        dmr_buf_append(&b, "e ", 2);
        dmr_buf_append(&b, e[i].text, e[i].len);
        rc = s_emit(ctx, key, (size_t)kn, b.data, b.len);
    }
    /* anomalies, with the metadata of what they name (once each) */
    uint8_t *sent = dmr_calloc(nt + 1, 1);
    for (size_t i = 0; i < na && rc == 0; i++) {
        const char *rec = aoff[i];
        dmr_buf_clear(&b);
        dmr_buf_append(&b, "a ", 2);
        dmr_buf_append(&b, rec, alen[i]);
        rc = s_emit(ctx, "x", 1, b.data, b.len);
        uint64_t ids[64];
        size_t k = dmr_elle_wire_txns(rec, alen[i], ids, 64);
        for (size_t j = 0; j < k && rc == 0; j++) {
            uint32_t t = s_map_get(&m, ids[j]);
            if (t == UINT32_MAX || sent[t])
                continue;
            sent[t] = 1;
            dmr_buf_clear(&b);
            dmr_buf_append(&b, "t ", 2);
            dmr_buf_append(&b, toff[t], tlen[t]);
            rc = s_emit(ctx, "x", 1, b.data, b.len);
        }
    }
    if (rc == 0) {
        dmr_buf_clear(&b);
        dmr_buf_printf(&b, "s %zu %zu %zu", nscc, largest, ne);
        rc = s_emit(ctx, "x", 1, b.data, b.len);
    }
    free(sent);
    dmr_buf_free(&b);
    free(csize);
    free(comp);
    free(off);
    free(adj);
    free(m.key);
    free(m.val);
    free(e);
    free(toff);
    free(tlen);
    free(tids);
    free(aoff);
    free(alen);
    dmr_arena_destroy(&arena);
    return rc;
}

static int s2_reduce(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    if (s_is(key, "g"))
        return s2_graph(ctx, vals);
    return s_pass(ctx, key, vals);
}

/* ------------------------------------------------------------- stage 3 */

typedef struct {
    s_tc_t *tc;
    const s_rec_t *members; /* sorted by id */
    size_t n;
    int rc;
} s_scc_put_t;

/* Passes an anomaly of a component on, with its transactions' metadata. */
static void s_put_scc(void *arg, char what, const char *rec, size_t len)
{
    s_scc_put_t *p = arg;
    s_put(p->tc, what, rec, len);
    if (what != 'a' || p->tc->rc)
        return;
    uint64_t ids[64];
    size_t k = dmr_elle_wire_txns(rec, len, ids, 64);
    for (size_t j = 0; j < k && !p->tc->rc; j++) {
        int dup = 0;
        for (size_t i = 0; i < j; i++)
            dup |= ids[i] == ids[j];
        for (size_t i = 0; i < p->n && !dup; i++)
            if (p->members[i].id == ids[j]) {
                s_put(p->tc, 't', p->members[i].rec, p->members[i].len);
                break;
            }
    }
}

static int s3_scc(dmr_ctx *ctx, dmr_values *vals)
{
    s_tc_t *tc = ctx->user;
    size_t n;
    dmr_arena_t *arena = dmr_arena_new();
    s_rec_t *rs = s_collect(ctx, vals, arena, &n);
    /* members ("t ID ...") first, by id; then edges */
    s_rec_t *mem = dmr_malloc((n + 1) * sizeof *mem);
    size_t nm = 0;
    for (size_t i = 0; i < n; i++)
        if (rs[i].len > 2 && rs[i].rec[0] == 't') {
            mem[nm] = (s_rec_t){strtoull(rs[i].rec + 2, NULL, 10),
                                rs[i].rec + 2, rs[i].len - 2};
            nm++;
        }
    qsort(mem, nm, sizeof *mem, s_rec_cmp);
    uint64_t *gid = dmr_malloc((nm + 1) * sizeof *gid);
    dmr_txn_hist_t *h = dmr_txn_hist_new(tc->name, NULL, tc->w);
    for (size_t i = 0; i < nm; i++) {
        gid[i] = mem[i].id;
        dmr_txn_hist_add(h, &(dmr_txn_t){.process = -1, .index = -1,
                                          .off = UINT64_MAX});
    }
    s_ids_t ix = {gid, nm};
    dmr_elle_result_t *r = dmr_elle_new(h, &tc->o);
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        if (rs[i].len > 2 && rs[i].rec[0] == 'e' &&
            dmr_elle_wire_read_edge(r, h, rs[i].rec + 2, rs[i].len - 2,
                                    s_look, &ix)) {
            rc = s_error(ctx, 1, 0, "txncheck: a malformed edge record");
            break;
        }
    if (rc == 0) {
        dmr_txn_hist_seal(h);
        dmr_elle_cycles(r);
        s_scc_put_t p = {tc, mem, nm, 0};
        tc->rc = 0;
        dmr_elle_wire_anomalies(r, gid, tc->cap, tc->shown, s_put_scc, &p);
        rc = tc->rc;
    }
    dmr_elle_result_destroy(&r);
    dmr_txn_hist_destroy(&h);
    free(gid);
    free(mem);
    s_recs_free(rs, &arena);
    return rc;
}

static int s3_reduce(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    if (key.len >= 2 && key.ptr[0] == 's')
        return s3_scc(ctx, vals);
    return s_pass(ctx, key, vals);
}

static const dmr_job s_stage3 = {.abi = DMR_JOB_ABI,
                                 .name = "txncheck-cycles",
                                 .setup = s_setup,
                                 .teardown = s_teardown,
                                 .map = s_map_same,
                                 .reduce = s3_reduce};
static const dmr_job s_stage2 = {.abi = DMR_JOB_ABI,
                                 .name = "txncheck-components",
                                 .setup = s_setup,
                                 .teardown = s_teardown,
                                 .map = s2_map,
                                 .reduce = s2_reduce,
                                 .then = &s_stage3};
static const dmr_job s_stage1 = {.abi = DMR_JOB_ABI,
                                 .name = "txncheck-infer",
                                 .setup = s_setup,
                                 .teardown = s_teardown,
                                 .map = s_map_same,
                                 .reduce = s1_reduce,
                                 .then = &s_stage2};

DMR_JOB_DEFINE(.name = "txncheck", .flags = DMR_JOB_LINENO,
               .setup = s_setup, .teardown = s_teardown, .map = s0_map,
               .reduce = s0_reduce, .partition = s0_partition,
               .then = &s_stage1);
