/* lin.c -- Wing & Gong's linearizability search with Lowe's memoisation
 * (lin.h explains the algorithm and what makes it fast).
 *
 * Entries live in one array: a call entry and a return entry per completed
 * operation, in history order, then a call entry per open operation, then
 * two sentinel heads. Completed operations form the main list; open ones a
 * list of their own, since they never block and are tried only after
 * every completed candidate. Each list is two index arrays (next, prev);
 * lifting an operation unlinks its entries, and undoing re-links them in
 * reverse order (dancing links), so the lists are restored exactly.
 *
 * The seen-set is an open-addressing table whose slots hold (hash, state,
 * bitset) inline, so a probe touches one cache line or two; the hash is the
 * xor of the linearised operations' Zobrist words mixed with the state. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/lin.h"
#include "common/alloc.h"
#include "common/error.h"

#define NIL UINT32_MAX

typedef struct {
    uint32_t entry; /* the call entry linearised */
    uint32_t limit; /* the first return entry then (NIL: none) */
    uint64_t state; /* the state before it */
    uint8_t pass;   /* which candidates it was among (P_*) */
} frame_t;

typedef struct {
    uint64_t *sets; /* n sets of owords words */
    uint32_t n, cap;
} group_t;

struct dmr_lin {
    dmr_mctx_t *m;
    const dmr_model_t *model;
    const dmr_lop_t *ops;
    size_t n;
    /* entries */
    uint32_t *next, *prev;
    uint32_t *opi;   /* entry -> op index */
    uint32_t *match; /* call entry -> its return entry, or NIL */
    uint32_t *pos;   /* entry -> event index */
    uint8_t *call;   /* 1 for call entries */
    uint32_t head;   /* sentinel of the completed operations */
    uint32_t ohead;  /* sentinel of the open operations */
    /* the linearised set. Completed ops are numbered in order of call; a
     * linearised one was invoked before the return of every completed op
     * not linearised, so all of them above the lowest not linearised (f)
     * lie in a window of ww words from f, whose size the history bounds
     * (s_window_words). A configuration's key is f, that window and the
     * set of open ops linearised: a few words, not one bit per op. */
    uint32_t *cidx; /* op -> index among the completed ops, or NIL */
    size_t ncomp, cwords;
    uint64_t *dbits; /* completed ops linearised */
    size_t f;        /* the lowest completed op not linearised */
    size_t ww;       /* window words */
    uint32_t *oidx;  /* op -> index among the open ops, or NIL */
    size_t nopen, owords;
    uint64_t *obits; /* open ops linearised */
    size_t kw;       /* key words: f, the window, the open set */
    uint64_t *key;   /* the current configuration's key (s_key) */
    uint64_t *zob;   /* a random word per op */
    uint64_t zhash;  /* xor of the linearised ops' words */
    uint64_t zdone;  /* the same over completed ops only */
    /* finished configurations by (completed set, state): the open sets
     * linearised with them, none a superset of another */
    uint64_t *gtab; /* slots: hash, state, group + 1, f, window */
    size_t ngroups, gcap, gstride;
    group_t *groups;
    size_t gbytes;
    /* seen-set: cap slots of stride words each */
    uint64_t *tab;
    size_t nseen, cap, stride;
    size_t max_bytes;
    double timeout_s;
    /* the walk */
    frame_t *stack;
    size_t sp;
    uint64_t state;
    uint32_t e, limit;
    uint8_t pass;
    size_t remaining; /* completed ops not yet linearised */
    uint64_t steps;
    double seconds;
    int done;
    /* the result so far */
    dmr_lin_result_t res;
    uint32_t best; /* furthest blocking return position + 1 */
};

static uint64_t s_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t s_mix(uint64_t zh, uint64_t state)
{
    uint64_t h = zh ^ (state * 0x9e3779b97f4a7c15ull);
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h ? h : 1; /* 0 marks an empty slot */
}

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t s_bytes(const dmr_lin_t *s)
{
    return (s->cap * s->stride + s->gcap * s->gstride) * 8 + s->gbytes;
}

/* Doubles an open-addressing table of cap slots of w words each, keyed by
 * the hash in word 0 (0: empty); 0, or -1 past the memory budget. */
static int s_grow(dmr_lin_t *s, uint64_t **tab, size_t *cap, size_t w)
{
    size_t ncap = *cap ? 2 * *cap : 1024;
    /* the old table and the new one are both held while rehashing, and
     * the model's intern tables count too */
    if (s->max_bytes &&
        s_bytes(s) + ncap * w * 8 + dmr_mctx_bytes(s->m) > s->max_bytes)
        return -1;
    uint64_t *t = dmr_calloc(ncap * w, 8);
    for (size_t i = 0; i < *cap; i++) {
        const uint64_t *from = *tab + i * w;
        if (!from[0])
            continue;
        size_t j = from[0] & (ncap - 1);
        while (t[j * w])
            j = (j + 1) & (ncap - 1);
        memcpy(t + j * w, from, w * 8);
    }
    free(*tab);
    *tab = t;
    *cap = ncap;
    return 0;
}

/* Word i of the completed set (0 past its end). */
static uint64_t s_dword(const dmr_lin_t *s, size_t i)
{
    return i < s->cwords ? s->dbits[i] : 0;
}

/* Fills s->key: f, the window of ww words from f, the open set. */
static void s_key(dmr_lin_t *s)
{
    uint64_t *k = s->key;
    size_t base = s->f / 64, sh = s->f % 64;
    k[0] = s->f;
    for (size_t i = 0; i < s->ww; i++) {
        uint64_t lo = s_dword(s, base + i);
        k[1 + i] = sh ? lo >> sh | s_dword(s, base + i + 1) << (64 - sh) : lo;
    }
    memcpy(k + 1 + s->ww, s->obits, s->owords * 8);
}

/* The group of finished configurations with the current completed set and
 * state: its index, or -1 if there is none and !create (or the memory
 * budget is spent). */
static long s_group(dmr_lin_t *s, uint64_t state, int create)
{
    if (create && 2 * (s->ngroups + 1) > s->gcap &&
        s_grow(s, &s->gtab, &s->gcap, s->gstride))
        return -1;
    if (!s->gcap)
        return -1;
    uint64_t h = s_mix(s->zdone, state); /* never 0: an empty slot */
    size_t mask = s->gcap - 1, w = s->gstride, nw = 1 + s->ww;
    for (size_t j = h & mask;; j = (j + 1) & mask) {
        uint64_t *e = s->gtab + j * w;
        if (!e[0]) {
            if (!create)
                return -1;
            e[0] = h;
            e[1] = state;
            e[2] = s->ngroups + 1;
            memcpy(e + 3, s->key, nw * 8);
            s->groups =
                dmr_realloc(s->groups, (s->ngroups + 1) * sizeof *s->groups);
            s->groups[s->ngroups] = (group_t){0};
            s->gbytes += sizeof *s->groups;
            return (long)s->ngroups++;
        }
        if (e[0] != h || e[1] != state)
            continue;
        size_t k = 0;
        while (k < nw && e[3 + k] == s->key[k])
            k++;
        if (k == nw)
            return (long)e[2] - 1;
    }
}

/* 1 if a finished configuration has the current completed set and state
 * and a subset of the current open set: everything the search could do
 * from here it could have done from there, and that failed. (Only
 * finished ones count: one on the current path is still being explored.) */
static int s_dominated(dmr_lin_t *s, uint64_t state)
{
    long g = s_group(s, state, 0);
    if (g < 0)
        return 0;
    const group_t *gr = &s->groups[g];
    size_t ow = s->owords;
    for (uint32_t i = 0; i < gr->n; i++) {
        const uint64_t *f = gr->sets + (size_t)i * ow;
        size_t k = 0;
        while (k < ow && !(f[k] & ~s->obits[k]))
            k++;
        if (k == ow)
            return 1;
    }
    return 0;
}

/* Records that the search has finished the current configuration. */
static void s_finished(dmr_lin_t *s, uint64_t state)
{
    if (!s->nopen)
        return;
    s_key(s);
    long g = s_group(s, state, 1);
    if (g < 0)
        return; /* out of memory: only fewer configurations pruned */
    group_t *gr = &s->groups[g];
    size_t ow = s->owords;
    /* drop the supersets of the new set: it dominates them */
    for (uint32_t i = 0; i < gr->n;) {
        uint64_t *f = gr->sets + (size_t)i * ow;
        size_t k = 0;
        while (k < ow && !(s->obits[k] & ~f[k]))
            k++;
        if (k == ow) {
            memcpy(f, gr->sets + (size_t)(gr->n - 1) * ow, ow * 8);
            gr->n--;
        } else {
            i++;
        }
    }
    if (gr->n == gr->cap) {
        if (s->max_bytes &&
            s_bytes(s) + (gr->cap + 4) * ow * 8 + dmr_mctx_bytes(s->m) >
                s->max_bytes)
            return;
        s->gbytes += (gr->cap ? gr->cap : 4) * ow * 8;
        gr->cap = gr->cap ? 2 * gr->cap : 4;
        gr->sets = dmr_realloc(gr->sets, (size_t)gr->cap * ow * 8);
    }
    memcpy(gr->sets + (size_t)gr->n++ * ow, s->obits, ow * 8);
}

/* Looks up the current (bitset, state): 1 if it is new (and now
 * remembered), 0 if the search need not enter it (seen, or dominated),
 * -1 when the memory budget is spent. */
static int s_remember(dmr_lin_t *s, uint64_t state)
{
    if (2 * (s->nseen + 1) > s->cap && s_grow(s, &s->tab, &s->cap, s->stride))
        return -1;
    uint64_t h = s_mix(s->zhash, state); /* never 0: an empty slot */
    size_t mask = s->cap - 1, w = s->stride, nw = s->kw;
    s_key(s);
    for (size_t j = h & mask;; j = (j + 1) & mask) {
        uint64_t *e = s->tab + j * w;
        if (!e[0]) {
            if (s->nopen && s_dominated(s, state))
                return 0;
            e[0] = h;
            e[1] = state;
            memcpy(e + 2, s->key, nw * 8);
            s->nseen++;
            return 1;
        }
        if (e[0] != h || e[1] != state)
            continue;
        size_t k = 0;
        while (k < nw && e[2 + k] == s->key[k])
            k++;
        if (k == nw)
            return 0;
    }
}

/* Adds op o to the linearised set, or takes it out. */
static void s_flip(dmr_lin_t *s, uint32_t o)
{
    s->zhash ^= s->zob[o];
    uint32_t k = s->oidx[o];
    if (k != NIL) {
        s->obits[k / 64] ^= 1ull << (k % 64);
        return;
    }
    uint32_t c = s->cidx[o];
    s->zdone ^= s->zob[o];
    s->dbits[c / 64] ^= 1ull << (c % 64);
    if (!(s->dbits[c / 64] >> (c % 64) & 1)) {
        if (c < s->f)
            s->f = c;
        return;
    }
    if (c != s->f)
        return;
    /* the next completed op not linearised: the next 0 bit */
    size_t f = c;
    while (f < s->ncomp) {
        uint64_t free_ = ~s->dbits[f / 64] >> (f % 64);
        if (free_) {
            f += (size_t)__builtin_ctzll(free_);
            break;
        }
        f = (f / 64 + 1) * 64;
    }
    s->f = f < s->ncomp ? f : s->ncomp;
}

static void s_unlink(dmr_lin_t *s, uint32_t e)
{
    s->next[s->prev[e]] = s->next[e];
    if (s->next[e] != NIL)
        s->prev[s->next[e]] = s->prev[e];
}

static void s_relink(dmr_lin_t *s, uint32_t e)
{
    s->next[s->prev[e]] = e;
    if (s->next[e] != NIL)
        s->prev[s->next[e]] = e;
}

static void s_lift(dmr_lin_t *s, uint32_t e)
{
    s_unlink(s, e);
    if (s->match[e] != NIL)
        s_unlink(s, s->match[e]);
}

static void s_unlift(dmr_lin_t *s, uint32_t e)
{
    if (s->match[e] != NIL)
        s_relink(s, s->match[e]);
    s_relink(s, e);
}

typedef struct {
    uint32_t pos;
    uint32_t op;
    uint8_t call;
} ent_t;

static int s_ent_cmp(const void *a, const void *b)
{
    const ent_t *x = a, *y = b;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Links entries [from, to) in order after the sentinel head. */
static void s_chain(dmr_lin_t *s, uint32_t head, uint32_t from, uint32_t to)
{
    uint32_t last = head;
    for (uint32_t k = from; k < to; k++) {
        s->prev[k] = last;
        s->next[last] = k;
        last = k;
    }
    s->next[last] = NIL;
    s->prev[head] = NIL;
}

/* Builds the two entry lists of ops[0..n). */
static void s_build(dmr_lin_t *s)
{
    const dmr_lop_t *ops = s->ops;
    size_t n = s->n, ne = 0, no = 0;
    for (size_t i = 0; i < n; i++)
        ops[i].open ? no++ : (ne += 2);
    ent_t *ent = dmr_malloc((ne + no + 1) * sizeof *ent);
    size_t k = 0, ko = ne;
    for (size_t i = 0; i < n; i++) {
        if (ops[i].open) {
            ent[ko++] = (ent_t){ops[i].call, (uint32_t)i, 1};
            continue;
        }
        ent[k++] = (ent_t){ops[i].call, (uint32_t)i, 1};
        ent[k++] = (ent_t){ops[i].ret, (uint32_t)i, 0};
    }
    qsort(ent, ne, sizeof *ent, s_ent_cmp);
    qsort(ent + ne, no, sizeof *ent, s_ent_cmp);
    size_t total = ne + no + 2;
    s->head = (uint32_t)(ne + no);
    s->ohead = s->head + 1;
    s->next = dmr_malloc(total * sizeof *s->next);
    s->prev = dmr_malloc(total * sizeof *s->prev);
    s->opi = dmr_malloc(total * sizeof *s->opi);
    s->match = dmr_malloc(total * sizeof *s->match);
    s->pos = dmr_malloc(total * sizeof *s->pos);
    s->call = dmr_calloc(total, 1);
    uint32_t *callent = dmr_malloc((n ? n : 1) * sizeof *callent);
    for (size_t j = 0; j < ne + no; j++) {
        s->opi[j] = ent[j].op;
        s->pos[j] = ent[j].pos;
        s->call[j] = ent[j].call;
        s->match[j] = NIL;
        if (ent[j].call)
            callent[ent[j].op] = (uint32_t)j;
        else {
            s->match[callent[ent[j].op]] = (uint32_t)j;
            s->match[j] = callent[ent[j].op];
        }
    }
    s->match[s->head] = s->match[s->ohead] = NIL;
    s_chain(s, s->head, 0, (uint32_t)ne);
    s_chain(s, s->ohead, (uint32_t)ne, (uint32_t)(ne + no));
    s->remaining = ne / 2;
    free(callent);
    free(ent);
}

/* The order in which a configuration's candidates are tried. */
enum {
    P_READ,          /* reads: one the model accepts is linearised, no other */
    P_URGENT,        /* the operation returning first */
    P_REST,          /* the other completed candidates, in order of call */
    P_OPEN,          /* open operations invoked before that return */
    P_FORCED = 0x80, /* frame flag: the choice was the only one tried */
};

/* Enters a configuration: its first return entry is the limit. */
static void s_enter(dmr_lin_t *s)
{
    uint32_t r = s->next[s->head];
    while (r != NIL && s->call[r])
        r = s->next[r];
    s->limit = r;
    s->pass = P_READ;
    s->e = s->next[s->head];
}

/* The window: the most completed ops, counting from one (c) up to the last
 * invoked before c returns, that can be linearised while c is not. */
static size_t s_window_words(const dmr_lin_t *s)
{
    const dmr_lop_t *ops = s->ops;
    uint32_t *calls = dmr_malloc((s->ncomp ? s->ncomp : 1) * 4);
    size_t k = 0, widest = 1;
    for (size_t i = 0; i < s->n; i++)
        if (!ops[i].open)
            calls[k++] = ops[i].call;
    k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (ops[i].open)
            continue;
        /* completed ops invoked before op i returns: calls is sorted */
        size_t lo = k, hi = s->ncomp;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (calls[mid] < ops[i].ret)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo - k > widest)
            widest = lo - k;
        k++;
    }
    free(calls);
    return (widest + 63) / 64;
}

dmr_lin_t *dmr_lin_new(dmr_mctx_t *m, const dmr_lop_t *ops, size_t n,
                       const dmr_lin_budget_t *budget)
{
    dmr_lin_t *s = dmr_calloc(1, sizeof *s);
    s->m = m;
    s->model = dmr_mctx_model(m);
    s->ops = ops;
    s->n = n;
    s->max_bytes = budget ? budget->max_bytes : 0;
    s->timeout_s = budget ? budget->timeout_s : 0;
    s_build(s);
    s->zob = dmr_malloc((n ? n : 1) * 8);
    uint64_t seed = 0x5eed;
    s->oidx = dmr_malloc((n ? n : 1) * sizeof *s->oidx);
    s->cidx = dmr_malloc((n ? n : 1) * sizeof *s->cidx);
    for (size_t i = 0; i < n; i++) {
        s->zob[i] = s_splitmix(&seed);
        s->oidx[i] = ops[i].open ? (uint32_t)s->nopen++ : NIL;
        s->cidx[i] = ops[i].open ? NIL : (uint32_t)s->ncomp++;
    }
    s->cwords = s->ncomp ? (s->ncomp + 63) / 64 : 1;
    s->dbits = dmr_calloc(s->cwords, 8);
    s->owords = s->nopen ? (s->nopen + 63) / 64 : 1;
    s->obits = dmr_calloc(s->owords, 8);
    s->ww = s_window_words(s);
    s->kw = 1 + s->ww + s->owords;
    s->key = dmr_calloc(s->kw, 8);
    s->stride = 2 + s->kw;
    s->gstride = 4 + s->ww;
    s->stack = dmr_malloc((n ? n : 1) * sizeof *s->stack);
    s->state = dmr_mctx_init(m);
    s_enter(s);
    return s;
}

/* A dead end at the return entry s->limit: remembers how far the search
 * got, for the report. */
static void s_dead_end(dmr_lin_t *s)
{
    dmr_lin_result_t *res = &s->res;
    if (s->limit == NIL)
        return;
    uint32_t p = s->pos[s->limit] + 1;
    if (p > s->best) {
        s->best = p;
        res->blocked = s->opi[s->limit];
        free(res->prefix);
        res->prefix = dmr_malloc((s->sp ? s->sp : 1) * 4);
        for (size_t k = 0; k < s->sp; k++)
            res->prefix[k] = s->opi[s->stack[k].entry];
        res->nprefix = s->sp;
        res->nstates = 0;
    }
    if (p == s->best && res->nstates < DMR_LIN_MAX_STATES) {
        size_t k = 0;
        while (k < res->nstates && res->states[k] != s->state)
            k++;
        if (k == res->nstates)
            res->states[res->nstates++] = s->state;
    }
}

static int s_decide(dmr_lin_t *s, dmr_lin_verdict_t v, const char *why)
{
    s->res.verdict = v;
    s->res.why = why;
    s->done = 1;
    return 1;
}

int dmr_lin_run(dmr_lin_t *s, uint64_t max_steps)
{
    if (s->done)
        return 1;
    double t0 = s_now();
    uint64_t stop = max_steps ? s->steps + max_steps : UINT64_MAX;
    const dmr_lop_t *ops = s->ops;
    uint64_t state = s->state;
    int rc = 0;
    for (;;) {
        if (s->remaining == 0) {
            rc = s_decide(s, DMR_LIN_OK, NULL);
            break;
        }
        uint32_t e = s->e;
        switch (s->pass) {
        case P_READ:
            if (!s->call[e]) {
                s->pass = P_URGENT;
                s->e = s->match[s->limit];
                continue;
            }
            if (!ops[s->opi[e]].ro) {
                s->e = s->next[e];
                continue;
            }
            break;
        case P_URGENT:
            if (e == NIL || ops[s->opi[e]].ro) {
                s->pass = P_REST;
                s->e = s->prev[s->limit];
                continue;
            }
            break;
        case P_REST:
            if (e == s->head) {
                s->pass = P_OPEN;
                s->e = s->next[s->ohead];
                continue;
            }
            if (e == s->match[s->limit] || ops[s->opi[e]].ro) {
                s->e = s->prev[e];
                continue;
            }
            break;
        default:
            if (e != NIL && s->pos[e] < s->pos[s->limit])
                break;
            /* every candidate tried: back to the previous configuration */
            s->state = state;
            s_dead_end(s);
            if (s->sp == 0) {
                rc = s_decide(s, DMR_LIN_VIOLATION, NULL);
                goto out;
            }
            s_finished(s, state);
            frame_t *f = &s->stack[--s->sp];
            uint32_t o = s->opi[f->entry];
            state = f->state;
            s_flip(s, o);
            s_unlift(s, f->entry);
            if (!ops[o].open)
                s->remaining++;
            s->limit = f->limit;
            if (f->pass & P_FORCED) {
                s->pass = P_OPEN;
                s->e = NIL;
            } else {
                s->pass = f->pass;
                s->e = f->pass == P_URGENT ? NIL
                       : f->pass == P_REST ? s->prev[f->entry]
                                           : s->next[f->entry];
            }
            continue;
        }
        if (s->steps >= stop)
            break;
        if ((++s->steps & 4095) == 0 && s->timeout_s > 0 &&
            s->seconds + (s_now() - t0) > s->timeout_s) {
            rc = s_decide(s, DMR_LIN_UNKNOWN, "timeout");
            break;
        }
        uint32_t o = s->opi[e];
        uint64_t ns;
        if (s->model->step(s->m, state, &ops[o], &ns)) {
            /* A read the model accepts here can go first in any
             * linearisation from here: it changes no state, so the
             * others see the same states without it, and nothing that
             * must precede it is pending. So it is the only choice to
             * try. (Only an op that changes no state in any state: a
             * write of the current value would change a later one.) */
            int forced = ops[o].ro;
            s_flip(s, o);
            int r = s_remember(s, ns);
            if (r < 0) {
                rc = s_decide(s, DMR_LIN_UNKNOWN, "memory");
                break;
            }
            if (r) {
                s->stack[s->sp++] =
                    (frame_t){e, s->limit, state,
                              (uint8_t)(s->pass | (forced ? P_FORCED : 0))};
                state = ns;
                s_lift(s, e);
                if (!ops[o].open)
                    s->remaining--;
                s_enter(s);
                continue;
            }
            s_flip(s, o);
            if (forced) {
                s->pass = P_OPEN;
                s->e = NIL;
                continue;
            }
        }
        s->e = s->pass == P_URGENT ? NIL
               : s->pass == P_REST ? s->prev[e]
                                   : s->next[e];
    }
out:
    s->state = state;
    s->seconds += s_now() - t0;
    return rc;
}

dmr_lin_verdict_t dmr_lin_verdict(const dmr_lin_t *s)
{
    return s->done ? s->res.verdict : DMR_LIN_UNKNOWN;
}

void dmr_lin_finish(dmr_lin_t **ps, dmr_lin_result_t *res)
{
    dmr_lin_t *s = *ps;
    if (!s)
        return;
    *res = s->res;
    if (!s->done) {
        res->verdict = DMR_LIN_UNKNOWN;
        res->why = "stopped";
    }
    if (res->verdict == DMR_LIN_VIOLATION) {
        /* The window: ops invoked before the blocking return and not in
         * the longest linearised prefix. */
        size_t n = s->n;
        uint8_t *in = dmr_calloc(n ? n : 1, 1);
        for (size_t k = 0; k < res->nprefix; k++)
            in[res->prefix[k]] = 1;
        res->window = dmr_malloc((n ? n : 1) * 4);
        for (size_t i = 0; i < n; i++)
            if (!in[i] && s->ops[i].call < s->best)
                res->window[res->nwindow++] = (uint32_t)i;
        free(in);
    } else {
        free(res->prefix);
        res->prefix = NULL;
        res->nprefix = 0;
        res->nstates = 0;
    }
    res->steps = s->steps;
    res->seen = s->nseen;
    res->seconds = s->seconds;
    free(s->next);
    free(s->prev);
    free(s->opi);
    free(s->match);
    free(s->pos);
    free(s->call);
    free(s->dbits);
    free(s->cidx);
    free(s->key);
    free(s->zob);
    free(s->oidx);
    free(s->obits);
    free(s->gtab);
    for (size_t g = 0; g < s->ngroups; g++)
        free(s->groups[g].sets);
    free(s->groups);
    free(s->tab);
    free(s->stack);
    free(s);
    *ps = NULL;
}

void dmr_lin_check(dmr_mctx_t *m, const dmr_lop_t *ops, size_t n,
                   const dmr_lin_budget_t *budget, dmr_lin_result_t *res)
{
    dmr_lin_t *s = dmr_lin_new(m, ops, n, budget);
    dmr_lin_run(s, 0);
    dmr_lin_finish(&s, res);
}

void dmr_lin_result_free(dmr_lin_result_t *res)
{
    if (!res)
        return;
    free(res->prefix);
    free(res->window);
    res->prefix = res->window = NULL;
    res->nprefix = res->nwindow = 0;
}
