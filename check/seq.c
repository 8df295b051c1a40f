/* seq.c -- the sequential consistency search (seq.h explains what it
 * checks, how, and what it costs) and its report.
 *
 * A configuration is pos[p] (completed ops of process p ordered), the set
 * of info ops ordered (obits) and the state of each register (regs). Its
 * key, as memoised, is those three packed into words: the positions at
 * pw = 1, 2 or 4 bytes each (the fewest that hold the longest process),
 * then obits, then regs. The seen-set is an open-addressing table of
 * slots (hash, key words); the hash is kept incrementally, as the xor of
 * one mixed word per (process, position), per info op ordered and per
 * (register, state), so a move costs O(1) to hash and O(key) to look up.
 *
 * The walk is iterative: a frame per move holds what to undo (the
 * candidate, the register's previous state) and where the parent's
 * choice resumes (its pass and cursor). Candidates are numbered: c < np
 * is process c's next completed op, c >= np is info op c - np. Within a
 * pass they are tried in order of their index in the ops array (which is
 * the order of invocation); the cursor is the index after the last one
 * tried. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/check.h"
#include "check/edn.h"
#include "check/seq.h"
#include "common/alloc.h"
#include "common/error.h"

#define NIL UINT32_MAX

/* The passes over a configuration's candidates, in order. */
enum {
    P_READ, /* an accepted read of some process: taken alone */
    P_COMP, /* the processes' next completed ops, by invocation */
    P_OPEN, /* the info ops whose process has got past them */
    P_NONE, /* every candidate tried: a dead end */
};

typedef struct {
    uint32_t cand; /* the move: see the file comment */
    uint32_t op;   /* its op */
    uint32_t cur;  /* the parent's cursor after it */
    uint64_t old;  /* the state of its register before it */
    uint8_t pass;  /* the parent's pass */
} frame_t;

typedef struct {
    dmr_mctx_t *m;
    const dmr_model_t *model;
    const dmr_lop_t *ops;
    size_t n;
    uint32_t *reg; /* op -> register */
    size_t nreg;
    /* completed ops by process, in program order */
    uint32_t np;
    uint32_t *chain;  /* op indices, process by process */
    uint32_t *start;  /* np + 1 offsets into chain */
    uint32_t *pos;    /* per process: ops of its chain ordered */
    size_t ncomp;     /* ops in chains */
    size_t placed;    /* of those, ordered */
    /* info ops that change state, in order of invocation */
    uint32_t *open;   /* op indices */
    uint32_t *oproc;  /* their processes */
    uint32_t *oafter; /* completed ops of the process before each */
    size_t nopen, owords;
    uint64_t *obits;  /* ordered */
    uint64_t *regs;   /* the state of each register */
    /* memo */
    size_t pw, pwords, kw; /* position bytes, their words, key words */
    uint64_t *key;
    uint64_t hash;
    uint64_t *tab; /* cap slots of 1 + kw words; word 0 = 0: empty */
    size_t cap, nseen;
    /* budget */
    size_t max_bytes;
    double timeout_s, t0;
    uint64_t max_steps, steps;
    uint64_t ticks; /* candidates tried: the clock is read every 1024 */
    /* the walk */
    frame_t *stack;
    size_t sp;
    size_t best; /* 1 + completed ops of the deepest dead end; 0: none */
    dmr_seq_result_t *res;
} seq_t;

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t s_fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static uint64_t s_zpos(uint32_t p, uint32_t v)
{
    return s_fmix(((uint64_t)p << 32 | v) + 0x9e3779b97f4a7c15ull);
}

static uint64_t s_zopen(size_t k)
{
    return s_fmix((uint64_t)k * 0xbf58476d1ce4e5b9ull + 0x2545f4914f6cdd1dull);
}

static uint64_t s_zreg(size_t r, uint64_t state)
{
    return s_fmix(s_fmix(state + 0x632be59bd9b4e019ull) ^
                  ((uint64_t)r * 0x94d049bb133111ebull));
}

/* ---- dense numbering ------------------------------------------------------ */

typedef struct {
    int64_t v;
    uint32_t i;
} vi_t;

static int s_vi_cmp(const void *a, const void *b)
{
    const vi_t *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* out[i] = the rank of v[i] among v's distinct values in order of first
 * appearance; returns how many there are. */
static uint32_t s_dense(const int64_t *v, size_t n, uint32_t *out)
{
    vi_t *a = dmr_malloc((n ? n : 1) * sizeof *a);
    for (size_t i = 0; i < n; i++)
        a[i] = (vi_t){v[i], (uint32_t)i};
    qsort(a, n, sizeof *a, s_vi_cmp);
    /* first[k]: the first index of the k-th distinct value (sorted) */
    vi_t *first = dmr_malloc((n ? n : 1) * sizeof *first);
    size_t nd = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || a[i].v != a[i - 1].v) {
            first[nd] = (vi_t){(int64_t)a[i].i, (uint32_t)nd};
            nd++;
        }
    /* rank the distinct values by first index */
    qsort(first, nd, sizeof *first, s_vi_cmp);
    uint32_t *rank = dmr_malloc((nd ? nd : 1) * sizeof *rank);
    for (size_t k = 0; k < nd; k++)
        rank[first[k].i] = (uint32_t)k;
    for (size_t i = 0, k = 0; i < n; i++) {
        if (i && a[i].v != a[i - 1].v)
            k++;
        out[a[i].i] = rank[k];
    }
    free(rank);
    free(first);
    free(a);
    return (uint32_t)nd;
}

/* ---- the reachable states of each register ------------------------------- */

/* A set of states (UINT64_MAX is never one: it marks an empty slot). */
typedef struct {
    uint64_t *t;
    size_t cap, n;
} uset_t;

static int s_uset_add(uset_t *s, uint64_t v)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 64;
        uint64_t *t = dmr_malloc(ncap * 8);
        memset(t, 0xff, ncap * 8);
        for (size_t i = 0; i < s->cap; i++) {
            if (s->t[i] == UINT64_MAX)
                continue;
            size_t j = s_fmix(s->t[i]) & (ncap - 1);
            while (t[j] != UINT64_MAX)
                j = (j + 1) & (ncap - 1);
            t[j] = s->t[i];
        }
        free(s->t);
        s->t = t;
        s->cap = ncap;
    }
    size_t j = s_fmix(v) & (s->cap - 1);
    for (; s->t[j] != UINT64_MAX; j = (j + 1) & (s->cap - 1))
        if (s->t[j] == v)
            return 0;
    s->t[j] = v;
    s->n++;
    return 1;
}

#define REACH_MAX_STATES 16384
#define REACH_MAX_WORK (1u << 25)

/* The first completed op (lowest index) that no state of its register
 * accepts, of those states any sequence of the register's ops can reach
 * from the initial state (a superset of what an order respecting the
 * processes reaches); NIL if there is none, or if a register has too many
 * states to tell (that register is then left to the search). */
static uint32_t s_impossible(seq_t *s)
{
    const dmr_lop_t *ops = s->ops;
    size_t n = s->n, nreg = s->nreg;
    /* ops grouped by register, each group in index order */
    uint32_t *first = dmr_calloc(nreg + 1, sizeof *first);
    uint32_t *by = dmr_malloc((n ? n : 1) * sizeof *by);
    for (size_t i = 0; i < n; i++)
        first[s->reg[i] + 1]++;
    for (size_t r = 0; r < nreg; r++)
        first[r + 1] += first[r];
    uint32_t *fill = dmr_malloc((nreg ? nreg : 1) * sizeof *fill);
    memcpy(fill, first, nreg * sizeof *fill);
    for (size_t i = 0; i < n; i++)
        by[fill[s->reg[i]]++] = (uint32_t)i;
    free(fill);
    uint32_t bad = NIL;
    uint64_t init = dmr_mctx_init(s->m), work = 0;
    uint64_t *list = dmr_malloc(REACH_MAX_STATES * sizeof *list);
    for (size_t r = 0; r < nreg && work <= REACH_MAX_WORK; r++) {
        const uint32_t *g = by + first[r];
        size_t ng = first[r + 1] - first[r], nl = 0;
        uset_t set = {0};
        s_uset_add(&set, init);
        list[nl++] = init;
        /* every state reached, each stepped by every op that may change
         * the state */
        int gave_up = 0;
        for (size_t k = 0; k < nl && !gave_up; k++) {
            for (size_t j = 0; j < ng && !gave_up; j++) {
                const dmr_lop_t *o = &ops[g[j]];
                uint64_t next;
                if (o->ro || !s->model->step(s->m, list[k], o, &next) ||
                    !s_uset_add(&set, next))
                    continue;
                if (nl == REACH_MAX_STATES)
                    gave_up = 1;
                else
                    list[nl++] = next;
            }
            work += ng;
            gave_up |= work > REACH_MAX_WORK;
        }
        /* then each completed op against them all */
        for (size_t j = 0; j < ng && !gave_up && g[j] < bad; j++) {
            const dmr_lop_t *o = &ops[g[j]];
            if (o->open)
                continue;
            size_t k = 0;
            uint64_t next;
            while (k < nl && !s->model->step(s->m, list[k], o, &next))
                k++;
            if (k == nl)
                bad = g[j];
            work += k + 1;
            gave_up |= work > REACH_MAX_WORK;
        }
        free(set.t);
    }
    s->steps += work;
    free(list);
    free(by);
    free(first);
    return bad;
}

/* ---- memo ------------------------------------------------------------------ */

static size_t s_bytes(const seq_t *s)
{
    return s->cap * (1 + s->kw) * 8;
}

/* Fills s->key from the current configuration. */
static void s_key(seq_t *s)
{
    uint64_t *k = s->key;
    memset(k, 0, s->pwords * 8);
    unsigned char *b = (unsigned char *)k;
    for (uint32_t p = 0; p < s->np; p++) {
        uint32_t v = s->pos[p];
        if (s->pw == 1) {
            b[p] = (unsigned char)v;
        } else if (s->pw == 2) {
            uint16_t w = (uint16_t)v;
            memcpy(b + 2 * p, &w, 2);
        } else {
            memcpy(b + 4 * (size_t)p, &v, 4);
        }
    }
    memcpy(k + s->pwords, s->obits, s->owords * 8);
    memcpy(k + s->pwords + s->owords, s->regs, s->nreg * 8);
}

/* 0 or -1 when doubling the table would pass the memory budget. */
static int s_grow(seq_t *s)
{
    size_t w = 1 + s->kw, ncap = s->cap ? 2 * s->cap : 1024;
    /* both tables are held while rehashing; the intern tables count */
    if (s->max_bytes &&
        s_bytes(s) + ncap * w * 8 + dmr_mctx_bytes(s->m) > s->max_bytes)
        return -1;
    uint64_t *t = dmr_table_alloc(ncap * w * 8);
    for (size_t i = 0; i < s->cap; i++) {
        const uint64_t *from = s->tab + i * w;
        if (!from[0])
            continue;
        size_t j = from[0] & (ncap - 1);
        while (t[j * w])
            j = (j + 1) & (ncap - 1);
        memcpy(t + j * w, from, w * 8);
    }
    free(s->tab);
    s->tab = t;
    s->cap = ncap;
    return 0;
}

/* The current configuration: 1 if new (now remembered), 0 if seen (it
 * failed: the walk never meets a configuration on its own path again,
 * each move orders one more op), -1 past the memory budget. */
static int s_remember(seq_t *s)
{
    if (2 * (s->nseen + 1) > s->cap && s_grow(s))
        return -1;
    uint64_t h = s->hash ? s->hash : 1; /* 0 marks an empty slot */
    size_t w = 1 + s->kw, mask = s->cap - 1;
    s_key(s);
    for (size_t j = h & mask;; j = (j + 1) & mask) {
        uint64_t *e = s->tab + j * w;
        if (!e[0]) {
            e[0] = h;
            memcpy(e + 1, s->key, s->kw * 8);
            s->nseen++;
            return 1;
        }
        if (e[0] == h && !memcmp(e + 1, s->key, s->kw * 8))
            return 0;
    }
}

/* ---- moves ----------------------------------------------------------------- */

/* The op of candidate c. */
static uint32_t s_op(const seq_t *s, uint32_t c)
{
    return c < s->np ? s->chain[s->start[c] + s->pos[c]] : s->open[c - s->np];
}

/* Makes the move c, to state ns of its op's register; returns the
 * register's state before. */
static uint64_t s_do(seq_t *s, uint32_t c, uint64_t ns)
{
    uint32_t r = s->reg[s_op(s, c)];
    uint64_t old = s->regs[r];
    s->hash ^= s_zreg(r, old) ^ s_zreg(r, ns);
    s->regs[r] = ns;
    if (c < s->np) {
        s->hash ^= s_zpos(c, s->pos[c]) ^ s_zpos(c, s->pos[c] + 1);
        s->pos[c]++;
        s->placed++;
    } else {
        size_t k = c - s->np;
        s->obits[k / 64] |= 1ull << (k % 64);
        s->hash ^= s_zopen(k);
    }
    return old;
}

static void s_undo(seq_t *s, uint32_t c, uint64_t old)
{
    if (c < s->np) {
        s->hash ^= s_zpos(c, s->pos[c]) ^ s_zpos(c, s->pos[c] - 1);
        s->pos[c]--;
        s->placed--;
    } else {
        size_t k = c - s->np;
        s->obits[k / 64] &= ~(1ull << (k % 64));
        s->hash ^= s_zopen(k);
    }
    uint32_t r = s->reg[s_op(s, c)];
    s->hash ^= s_zreg(r, s->regs[r]) ^ s_zreg(r, old);
    s->regs[r] = old;
}

/* A process whose next op is a read the model accepts now (NIL: none). */
static uint32_t s_forced(seq_t *s)
{
    for (uint32_t p = 0; p < s->np; p++) {
        if (s->pos[p] == s->start[p + 1] - s->start[p])
            continue;
        uint32_t o = s->chain[s->start[p] + s->pos[p]];
        uint64_t ns;
        if (!s->ops[o].ro)
            continue;
        s->steps++;
        if (s->model->step(s->m, s->regs[s->reg[o]], &s->ops[o], &ns))
            return p;
    }
    return NIL;
}

/* The candidate of pass (P_COMP or P_OPEN) whose op has the lowest index
 * from cur on (NIL: none). */
static uint32_t s_next(const seq_t *s, int pass, uint32_t cur)
{
    uint32_t best = NIL, bop = NIL;
    if (pass == P_COMP) {
        for (uint32_t p = 0; p < s->np; p++) {
            if (s->pos[p] == s->start[p + 1] - s->start[p])
                continue;
            uint32_t o = s->chain[s->start[p] + s->pos[p]];
            /* a read: refused in P_READ, and the state is the same */
            if (o >= cur && o < bop && !s->ops[o].ro) {
                best = p;
                bop = o;
            }
        }
        return best;
    }
    for (size_t k = 0; k < s->nopen; k++) {
        /* s->open is in index order: the first that can go is it */
        if (s->open[k] < cur || (s->obits[k / 64] >> (k % 64) & 1) ||
            s->pos[s->oproc[k]] < s->oafter[k])
            continue;
        return s->np + (uint32_t)k;
    }
    return NIL;
}

/* A dead end: remembers it if it is the deepest yet, for the report. */
static void s_dead_end(seq_t *s)
{
    dmr_seq_result_t *res = s->res;
    if (s->best > s->placed)
        return;
    s->best = s->placed + 1;
    if (!res->order) {
        res->order = dmr_malloc((s->n ? s->n : 1) * sizeof *res->order);
        res->blocked = dmr_malloc((s->np ? s->np : 1) * sizeof *res->blocked);
        res->bstate = dmr_malloc((s->np ? s->np : 1) * sizeof *res->bstate);
    }
    for (size_t k = 0; k < s->sp; k++)
        res->order[k] = s->stack[k].op;
    res->norder = s->sp;
    res->nblocked = 0;
    for (uint32_t p = 0; p < s->np; p++) {
        if (s->pos[p] == s->start[p + 1] - s->start[p])
            continue;
        uint32_t o = s->chain[s->start[p] + s->pos[p]];
        res->blocked[res->nblocked] = o;
        res->bstate[res->nblocked++] = s->regs[s->reg[o]];
    }
}

/* The walk (see the file comment). */
static dmr_seq_verdict_t s_walk(seq_t *s, const char **why)
{
    const dmr_lop_t *ops = s->ops;
    int pass = P_READ;
    uint32_t cur = 0;
    for (;;) {
        if (s->placed == s->ncomp)
            return DMR_SEQ_OK;
        uint32_t c;
        if (pass == P_READ) {
            c = s_forced(s);
            if (c == NIL) {
                pass = P_COMP;
                cur = 0;
                continue;
            }
        } else if (pass == P_COMP || pass == P_OPEN) {
            c = s_next(s, pass, cur);
            if (c == NIL) {
                pass = pass == P_COMP ? P_OPEN : P_NONE;
                cur = 0;
                continue;
            }
        } else {
            s_dead_end(s);
            if (s->sp == 0)
                return DMR_SEQ_VIOLATION;
            frame_t *f = &s->stack[--s->sp];
            s_undo(s, f->cand, f->old);
            /* an accepted read was the only choice tried */
            pass = f->pass == P_READ ? P_NONE : f->pass;
            cur = f->cur;
            continue;
        }
        if (s->max_steps && s->steps >= s->max_steps) {
            *why = "steps";
            return DMR_SEQ_UNKNOWN;
        }
        if ((++s->ticks & 1023) == 0 && s->timeout_s > 0 &&
            s_now() - s->t0 > s->timeout_s) {
            *why = "timeout";
            return DMR_SEQ_UNKNOWN;
        }
        uint32_t o = s_op(s, c);
        uint64_t ns = s->regs[s->reg[o]];
        if (pass != P_READ) {
            s->steps++;
            if (!s->model->step(s->m, ns, &ops[o], &ns)) {
                cur = o + 1;
                continue;
            }
        }
        uint64_t old = s_do(s, c, ns);
        int r = s_remember(s);
        if (r < 0) {
            *why = "memory";
            return DMR_SEQ_UNKNOWN;
        }
        if (r == 0) {
            s_undo(s, c, old);
            if (pass == P_READ)
                pass = P_NONE;
            else
                cur = o + 1;
            continue;
        }
        s->stack[s->sp++] = (frame_t){c, o, o + 1, old, (uint8_t)pass};
        pass = P_READ;
        cur = 0;
    }
}

void dmr_seq_check(dmr_mctx_t *m, const dmr_lop_t *ops, size_t n,
                   const uint32_t *proc, const uint32_t *reg, size_t nreg,
                   const dmr_seq_budget_t *budget, dmr_seq_result_t *res)
{
    seq_t s = {0};
    memset(res, 0, sizeof *res);
    res->impossible = NIL;
    s.t0 = s_now();
    s.m = m;
    s.model = dmr_mctx_model(m);
    s.ops = ops;
    s.n = n;
    s.res = res;
    if (budget) {
        s.timeout_s = budget->timeout_s;
        s.max_bytes = budget->max_bytes;
        s.max_steps = budget->max_steps;
    }
    size_t n1 = n ? n : 1;
    s.nreg = reg ? (nreg ? nreg : 1) : 1;
    s.reg = dmr_calloc(n1, sizeof *s.reg);
    for (size_t i = 0; reg && i < n; i++) {
        DMR_ASSERT(reg[i] < s.nreg);
        s.reg[i] = reg[i];
    }
    /* processes, dense; completed ops into chains, info ops aside (an
     * info read changes nothing and is never needed: left out) */
    int64_t *pv = dmr_malloc(n1 * sizeof *pv);
    uint32_t *pid = dmr_malloc(n1 * sizeof *pid);
    for (size_t i = 0; i < n; i++)
        pv[i] = proc[i];
    s.np = s_dense(pv, n, pid);
    free(pv);
    res->nproc = s.np;
    s.start = dmr_calloc(s.np + 2, sizeof *s.start);
    s.chain = dmr_malloc(n1 * sizeof *s.chain);
    s.open = dmr_malloc(n1 * sizeof *s.open);
    s.oproc = dmr_malloc(n1 * sizeof *s.oproc);
    s.oafter = dmr_malloc(n1 * sizeof *s.oafter);
    for (size_t i = 0; i < n; i++)
        if (!ops[i].open)
            s.start[pid[i] + 1]++;
    for (uint32_t p = 0; p < s.np; p++)
        s.start[p + 1] += s.start[p];
    s.pos = dmr_calloc(s.np + 1, sizeof *s.pos); /* fill counts, first */
    uint32_t longest = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t p = pid[i];
        if (ops[i].open) {
            if (ops[i].ro)
                continue;
            s.open[s.nopen] = (uint32_t)i;
            s.oproc[s.nopen] = p;
            s.oafter[s.nopen++] = s.pos[p];
            continue;
        }
        s.chain[s.start[p] + s.pos[p]++] = (uint32_t)i;
        s.ncomp++;
        if (s.pos[p] > longest)
            longest = s.pos[p];
    }
    memset(s.pos, 0, (s.np + 1) * sizeof *s.pos);
    free(pid);
    s.owords = (s.nopen + 63) / 64;
    s.obits = dmr_calloc(s.owords + 1, 8);
    s.regs = dmr_malloc(s.nreg * 8);
    s.pw = longest < 0xff ? 1 : longest < 0xffff ? 2 : 4;
    s.pwords = (s.np * s.pw + 7) / 8;
    s.kw = s.pwords + s.owords + s.nreg;
    s.key = dmr_calloc(s.kw + 1, 8);
    s.stack = dmr_malloc((s.ncomp + s.nopen + 1) * sizeof *s.stack);
    uint64_t init = dmr_mctx_init(m);
    for (uint32_t p = 0; p < s.np; p++)
        s.hash ^= s_zpos(p, 0);
    for (size_t r = 0; r < s.nreg; r++) {
        s.regs[r] = init;
        s.hash ^= s_zreg(r, init);
    }

    const char *why = NULL;
    res->impossible = s_impossible(&s);
    if (res->impossible != NIL)
        res->verdict = DMR_SEQ_VIOLATION;
    else
        res->verdict = s_walk(&s, &why);
    res->why = why;
    if (res->verdict != DMR_SEQ_VIOLATION || res->impossible != NIL) {
        free(res->order);
        free(res->blocked);
        free(res->bstate);
        res->order = res->blocked = NULL;
        res->bstate = NULL;
        res->norder = res->nblocked = 0;
    }
    res->steps = s.steps;
    res->seen = s.nseen;
    res->seconds = s_now() - s.t0;
    free(s.reg);
    free(s.start);
    free(s.chain);
    free(s.pos);
    free(s.open);
    free(s.oproc);
    free(s.oafter);
    free(s.obits);
    free(s.regs);
    free(s.key);
    free(s.tab);
    free(s.stack);
}

void dmr_seq_result_free(dmr_seq_result_t *res)
{
    if (!res)
        return;
    free(res->order);
    free(res->blocked);
    free(res->bstate);
    res->order = res->blocked = NULL;
    res->bstate = NULL;
    res->norder = res->nblocked = 0;
}

int dmr_seq_compile(dmr_mctx_t *m, const dmr_history_t *h, dmr_lop_t **ops,
                    size_t *n, uint32_t **proc, uint32_t **reg, size_t *nreg,
                    char *err, size_t errlen)
{
    dmr_lop_t *l = NULL;
    size_t k = 0;
    int rc = dmr_model_compile(m, h, NULL, 0, &l, &k, err, errlen);
    if (rc)
        return rc;
    size_t k1 = k ? k : 1;
    int64_t *pv = dmr_malloc(k1 * sizeof *pv);
    uint32_t *p = dmr_malloc(k1 * sizeof *p);
    uint32_t *r = dmr_calloc(k1, sizeof *r);
    for (size_t i = 0; i < k; i++)
        pv[i] = h->ev[l[i].call].process;
    s_dense(pv, k, p);
    free(pv);
    size_t nr = 1;
    const dmr_model_t *model = dmr_mctx_model(m);
    if (model->by_key) {
        /* one register per key (check.c's split names the keys); the
         * history is still checked as one: see seq.h */
        dmr_part_t *parts;
        size_t np;
        dmr_check_split(h, model, &parts, &np);
        uint32_t *part = dmr_calloc(h->nops ? h->nops : 1, sizeof *part);
        for (size_t q = 0; q < np; q++)
            for (size_t j = 0; j < parts[q].nops; j++)
                part[parts[q].ops[j]] = (uint32_t)q;
        for (size_t i = 0; i < k; i++)
            r[i] = part[l[i].op];
        nr = np;
        free(part);
        dmr_parts_free(parts, np);
    }
    *ops = l;
    *n = k;
    *proc = p;
    *reg = r;
    *nreg = nr;
    return 0;
}

/* ---- the report ------------------------------------------------------------ */

static void s_json_str(FILE *out, const char *s)
{
    dmr_val_t v = {.type = DMR_V_STR, .u.str = {s, strlen(s)}};
    dmr_val_print_json(&v, out);
}

/* History op i as check.h's OP object, without the closing brace. */
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
}

/* History op i in a line of text: "line L: process P :f VALUE". */
static void s_text_op(FILE *out, const dmr_history_t *h, uint32_t i)
{
    const dmr_op_t *op = &h->ops[i];
    const dmr_event_t *inv = &h->ev[op->inv];
    char vb[128];
    fprintf(out, "line %u: process %lld :%s %s", inv->line,
            (long long)inv->process, inv->f,
            dmr_val_format(dmr_op_value(h, i), vb, sizeof vb));
    if (op->type == DMR_EV_OK && op->ret != UINT32_MAX &&
        h->ev[op->ret].result == 0)
        fputs(" (false)", out);
    if (op->type != DMR_EV_OK)
        fputs(" (info)", out);
}

/* Lines of text at most per list; --json has them all. */
#define TEXT_MAX 16

typedef struct {
    const dmr_history_t *h;
    const char *file;
    const char *model;
    dmr_mctx_t *m;
    const dmr_lop_t *ops;
    size_t n;
    const uint32_t *proc;
    const dmr_seq_result_t *r;
} report_t;

/* Per process (dense id): its id in the history, its completed ops, those
 * in the longest order and the last of them (NIL: none); and the totals
 * of the last two columns. Caller frees the returned block. */
typedef struct {
    int64_t name;
    uint32_t all, in, last;
} tally_t;

static tally_t *s_tally(const report_t *t, size_t *ordered, size_t *ncomp)
{
    const dmr_seq_result_t *r = t->r;
    tally_t *y = dmr_calloc(r->nproc + 1, sizeof *y);
    for (uint32_t p = 0; p < r->nproc; p++)
        y[p].last = NIL;
    *ordered = *ncomp = 0;
    for (size_t i = t->n; i-- > 0;) {
        y[t->proc[i]].name = t->h->ev[t->ops[i].call].process;
        if (!t->ops[i].open) {
            y[t->proc[i]].all++;
            ++*ncomp;
        }
    }
    for (size_t k = 0; k < r->norder; k++) {
        uint32_t o = r->order[k];
        if (t->ops[o].open)
            continue;
        y[t->proc[o]].in++;
        y[t->proc[o]].last = o;
        ++*ordered;
    }
    return y;
}

static void s_print_json(const report_t *t, FILE *out)
{
    const dmr_seq_result_t *r = t->r;
    const dmr_history_t *h = t->h;
    static const char *const valid[] = {"true", "false", "\"unknown\""};
    fputs("{\"file\":", out);
    s_json_str(out, t->file);
    fprintf(out, ",\"valid\":%s,\"model\":", valid[r->verdict]);
    s_json_str(out, t->model);
    fprintf(out,
            ",\"ops\":%zu,\"checked\":%zu,\"processes\":%u,\"steps\":%llu,"
            "\"seen\":%llu,\"us\":%llu",
            h->nops, t->n, r->nproc, (unsigned long long)r->steps,
            (unsigned long long)r->seen,
            (unsigned long long)(r->seconds * 1e6 + 0.5));
    if (r->verdict == DMR_SEQ_UNKNOWN) {
        fputs(",\"why\":", out);
        s_json_str(out, r->why);
    }
    if (r->verdict == DMR_SEQ_VIOLATION && r->impossible != NIL) {
        fputs(",\"witness\":{\"impossible\":", out);
        s_json_op(out, h, t->ops[r->impossible].op);
        fputs("}}", out);
    } else if (r->verdict == DMR_SEQ_VIOLATION) {
        size_t ordered, ncomp;
        tally_t *y = s_tally(t, &ordered, &ncomp);
        fprintf(out, ",\"witness\":{\"ordered\":%zu,\"of\":%zu,\"processes\":[",
                ordered, ncomp);
        for (uint32_t p = 0; p < r->nproc; p++) {
            fprintf(out,
                    "%s{\"process\":%lld,\"ordered\":%u,\"of\":%u,\"last\":",
                    p ? "," : "", (long long)y[p].name, y[p].in, y[p].all);
            if (y[p].last == NIL) {
                fputs("null", out);
            } else {
                s_json_op(out, h, t->ops[y[p].last].op);
                fputc('}', out);
            }
            fputc('}', out);
        }
        fputs("],\"blocked\":[", out);
        for (size_t k = 0; k < r->nblocked; k++) {
            char sb[256];
            if (k)
                fputc(',', out);
            s_json_op(out, h, t->ops[r->blocked[k]].op);
            fputs(",\"state\":", out);
            s_json_str(out,
                       dmr_mctx_format_state(t->m, r->bstate[k], sb, sizeof sb));
            fputc('}', out);
        }
        fputs("],\"order\":[", out);
        for (size_t k = 0; k < r->norder; k++)
            fprintf(out, "%s%u", k ? "," : "",
                    h->ev[t->ops[r->order[k]].call].line);
        fputs("]}}", out);
        free(y);
    } else {
        fputc('}', out);
    }
    fputc('\n', out);
}

static void s_print_text(const report_t *t, FILE *out)
{
    const dmr_seq_result_t *r = t->r;
    const dmr_history_t *h = t->h;
    if (r->verdict == DMR_SEQ_OK) {
        fprintf(out, "%s: sequentially consistent\n", t->file);
        return;
    }
    if (r->verdict == DMR_SEQ_UNKNOWN) {
        fprintf(out, "%s: unknown (%s)\n", t->file, r->why);
        return;
    }
    fprintf(out, "%s: NOT sequentially consistent\n", t->file);
    if (r->impossible != NIL) {
        fputs("  ", out);
        s_text_op(out, h, t->ops[r->impossible].op);
        fputs("\n    takes effect in no state that the history's operations "
              "can reach, in any order\n",
              out);
        return;
    }
    size_t ordered, ncomp, shown = 0;
    tally_t *y = s_tally(t, &ordered, &ncomp);
    fprintf(out,
            "  the longest order found (each process's operations in "
            "program order) has %zu of %zu completed operations:\n",
            ordered, ncomp);
    for (uint32_t p = 0; p < r->nproc; p++) {
        if (y[p].in == y[p].all || shown++ >= TEXT_MAX)
            continue;
        fprintf(out, "    process %lld: %u of %u", (long long)y[p].name,
                y[p].in, y[p].all);
        if (y[p].last != NIL) {
            fputs(", up to ", out);
            s_text_op(out, h, t->ops[y[p].last].op);
        }
        fputc('\n', out);
    }
    if (shown > TEXT_MAX)
        fprintf(out, "    ... and %zu more processes (--json for all)\n",
                shown - TEXT_MAX);
    if (shown < r->nproc)
        fprintf(out, "    and all of the %zu other process%s\n",
                (size_t)r->nproc - shown, r->nproc - shown == 1 ? "" : "es");
    fputs("  and no complete order goes on from there with any of:\n", out);
    for (size_t k = 0; k < r->nblocked && k < TEXT_MAX; k++) {
        char sb[128];
        fputs("    ", out);
        s_text_op(out, h, t->ops[r->blocked[k]].op);
        fprintf(out, "   (state %s)\n",
                dmr_mctx_format_state(t->m, r->bstate[k], sb, sizeof sb));
    }
    if (r->nblocked > TEXT_MAX)
        fprintf(out, "    ... and %zu more (--json for all)\n",
                r->nblocked - TEXT_MAX);
    free(y);
}

/* "FILE:L: why" from a model's "line L: why"; "FILE: why" otherwise. */
static void s_located(const char *file, const char *why, char *err,
                      size_t errlen)
{
    unsigned line;
    int k = 0;
    if (sscanf(why, "line %u: %n", &line, &k) == 1 && k > 0)
        snprintf(err, errlen, "%s:%u: %s", file, line, why + k);
    else
        snprintf(err, errlen, "%s: %s", file, why);
}

static int s_report(const dmr_history_t *h, const char *file,
                    const char *model, const char *init, int json,
                    int timeout_s, int max_mb, FILE *out, char *err,
                    size_t errlen)
{
    char why[512];
    int rc = 2;
    dmr_arena_t *a = NULL;
    dmr_mctx_t *m = NULL;
    dmr_lop_t *ops = NULL;
    uint32_t *proc = NULL, *reg = NULL;
    size_t n = 0, nreg = 0;
    dmr_seq_result_t r = {0};
    if (!model)
        model = "cas-register";
    const dmr_model_t *md = dmr_model_find(model);
    if (!md) {
        size_t at = (size_t)snprintf(why, sizeof why,
                                     "unknown model %s (models:", model);
        for (size_t i = 0; dmr_models[i] && at < sizeof why; i++)
            at += (size_t)snprintf(why + at, sizeof why - at, " %s",
                                   dmr_models[i]->name);
        if (at < sizeof why)
            snprintf(why + at, sizeof why - at, ")");
        s_located(file, why, err, errlen);
        goto out;
    }
    dmr_val_t *iv = NULL;
    if (init) {
        a = dmr_arena_new();
        size_t pos = 0;
        uint32_t line = 1;
        dmr_val_t *extra = NULL;
        int er = dmr_edn_read(a, init, strlen(init), &pos, &line, &iv, why,
                              sizeof why);
        if (er == 1) {
            snprintf(err, errlen, "%s: init: no value in '%s'", file, init);
            goto out;
        }
        if (er) {
            snprintf(err, errlen, "%s: init: %s", file, why);
            goto out;
        }
        if (dmr_edn_read(a, init, strlen(init), &pos, &line, &extra, why,
                         sizeof why) != 1) {
            snprintf(err, errlen, "%s: init: '%s' is not one value", file,
                     init);
            goto out;
        }
    }
    m = dmr_mctx_new(md, iv, why, sizeof why);
    if (!m) {
        s_located(file, why, err, errlen);
        goto out;
    }
    if (dmr_seq_compile(m, h, &ops, &n, &proc, &reg, &nreg, why, sizeof why)) {
        s_located(file, why, err, errlen);
        goto out;
    }
    dmr_seq_budget_t b = {timeout_s > 0 ? timeout_s : 0,
                          max_mb > 0 ? (size_t)max_mb << 20 : 0, 0};
    dmr_seq_check(m, ops, n, proc, reg, nreg, &b, &r);
    report_t t = {h, file, md->name, m, ops, n, proc, &r};
    if (json)
        s_print_json(&t, out);
    else
        s_print_text(&t, out);
    if (r.verdict == DMR_SEQ_UNKNOWN)
        snprintf(err, errlen, "%s: unknown (%s)", file, r.why);
    rc = r.verdict == DMR_SEQ_OK ? 0 : r.verdict == DMR_SEQ_VIOLATION ? 1 : 2;
out:
    dmr_seq_result_free(&r);
    free(ops);
    free(proc);
    free(reg);
    dmr_mctx_destroy(&m);
    dmr_arena_destroy(&a);
    return rc;
}

int dmr_seq_report_buf(const char *name, const char *buf, size_t len,
                       const char *format, const char *model, const char *init,
                       int json, int timeout_s, int max_mb, FILE *out,
                       char *err, size_t errlen)
{
    dmr_history_t *h = NULL;
    if (dmr_history_parse(name, buf, len, format, &h, err, errlen))
        return 2;
    int rc = s_report(h, name, model, init, json, timeout_s, max_mb, out, err,
                      errlen);
    dmr_history_destroy(&h);
    return rc;
}

int dmr_seq_report(const char *path, const char *format, const char *model,
                   const char *init, int json, int timeout_s, int max_mb,
                   FILE *out, char *err, size_t errlen)
{
    dmr_history_t *h = NULL;
    if (dmr_history_load(path, format, &h, err, errlen))
        return 2;
    int rc = s_report(h, h->name, model, init, json, timeout_s, max_mb, out,
                      err, errlen);
    dmr_history_destroy(&h);
    return rc;
}
