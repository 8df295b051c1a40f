/* gentxn.c -- dmr-gentxn: random transaction histories (Elle's list-append
 * and rw-register workloads) from a seeded simulation of a store with a
 * chosen isolation level, for testing and measuring `dmr check`.
 *
 *   dmr-gentxn [--workload list-append|rw-register] [--txns N]
 *              [--procs P] [--keys K] [--max-writes W] [--max-ops M]
 *              [--isolation strict-serializable|snapshot-isolation|
 *                           read-committed|broken]
 *              [--json] [--seed S]
 *
 * writes a Jepsen-style EDN history (or dmr JSON-lines with --json) to
 * standard output.
 *
 * P processes share a store of K live keys; a key retires after W writes
 * and a fresh one takes its place, as Elle's generator does, so lists stay
 * short. Each transaction has 1 to M micro-ops, half reads, half writes
 * (appends), on random live keys. Each step picks a random process: an
 * idle one invokes a new transaction; a busy one completes its own. Time
 * is the event counter. The isolation decides what reads see and what
 * commits:
 *
 *   strict-serializable  the transaction runs at once at its completion:
 *                        a point between invocation and completion.
 *   snapshot-isolation   reads see the committed state when it was
 *                        invoked (and its own writes); it commits at its
 *                        completion unless a key it writes was written
 *                        by a transaction that committed since its
 *                        snapshot (first committer wins): then :fail.
 *   read-committed       each read sees the committed state at a random
 *                        instant between invocation and completion (later
 *                        micro-ops, later instants); writes take long
 *                        locks without waiting: a key committed by
 *                        another since the invocation fails it.
 *   broken               as strict-serializable, but one write in 20 is
 *                        acknowledged and lost, and one transaction in 20
 *                        fails after another read its writes.
 *
 * Deterministic for a given seed (xorshift; no libc rand). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;

static uint64_t s_next(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static uint64_t s_below(uint64_t n)
{
    return s_next() % n;
}

enum { I_SSER, I_SI, I_RC, I_BROKEN };

/* One write to a key, in commit order: what a read at time t sees is the
 * writes committed at or before t (list-append: all of them, in order;
 * rw-register: the last). */
typedef struct {
    int64_t v;
    uint64_t ts; /* commit time; UINT64_MAX: written by a transaction not
                    committed yet (broken: visible to dirty reads) */
    int lost;    /* broken: acknowledged but dropped */
} s_wr_t;

typedef struct {
    s_wr_t *w;
    size_t n, cap;
    int64_t next; /* next value to write */
    uint64_t last_commit;
} s_key_t;

typedef struct {
    int f; /* 0 read, 1 write */
    int64_t key;
    int64_t v; /* write: the value */
    /* read results */
    int64_t *rv;
    size_t nrv, caprv;
    int64_t rreg; /* rw-register read; INT64_MIN: nil */
} s_mop_t;

typedef struct {
    long proc;
    int busy;
    uint64_t start; /* invocation time */
    s_mop_t m[16];
    int nm;
} s_proc_t;

static s_key_t *s_keys;
static size_t s_nkeys, s_capkeys;
static int64_t *s_live; /* live key ids */
static int s_la = 1, s_json, s_iso = I_SSER;
static size_t s_nlive = 10, s_maxw = 32;
static uint64_t s_time, s_index;

static s_key_t *s_key(int64_t k)
{
    while ((size_t)k >= s_capkeys) {
        size_t old = s_capkeys;
        s_capkeys = s_capkeys ? 2 * s_capkeys : 64;
        s_keys = realloc(s_keys, s_capkeys * sizeof *s_keys);
        memset(s_keys + old, 0, (s_capkeys - old) * sizeof *s_keys);
    }
    if ((size_t)k >= s_nkeys)
        s_nkeys = (size_t)k + 1;
    return &s_keys[k];
}

static void s_push(int64_t **a, size_t *n, size_t *cap, int64_t v)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        *a = realloc(*a, *cap * sizeof **a);
    }
    (*a)[(*n)++] = v;
}

/* What a read of k sees at time t (dirty: also uncommitted writes). */
static void s_read(s_mop_t *m, uint64_t t, int dirty)
{
    s_key_t *k = s_key(m->key);
    m->nrv = 0;
    m->rreg = INT64_MIN;
    for (size_t i = 0; i < k->n; i++) {
        const s_wr_t *w = &k->w[i];
        if (w->lost || (w->ts > t && !(dirty && w->ts == UINT64_MAX)))
            continue;
        if (s_la)
            s_push(&m->rv, &m->nrv, &m->caprv, w->v);
        else
            m->rreg = w->v;
    }
}

static void s_print_mops(const s_proc_t *p, int done)
{
    putchar('[');
    for (int i = 0; i < p->nm; i++) {
        const s_mop_t *m = &p->m[i];
        const char *f = m->f ? (s_la ? "append" : "w") : "r";
        if (s_json)
            printf("%s[\"%s\",%lld,", i ? "," : "", f, (long long)m->key);
        else
            printf("%s[:%s %lld ", i ? " " : "", f, (long long)m->key);
        if (m->f)
            printf("%lld", (long long)m->v);
        else if (!done)
            printf(s_json ? "null" : "nil");
        else if (!s_la)
            m->rreg == INT64_MIN ? printf(s_json ? "null" : "nil")
                                 : printf("%lld", (long long)m->rreg);
        else {
            putchar('[');
            for (size_t j = 0; j < m->nrv; j++)
                printf(j ? (s_json ? ",%lld" : " %lld") : "%lld",
                       (long long)m->rv[j]);
            putchar(']');
        }
        putchar(']');
    }
    putchar(']');
}

static void s_event(const s_proc_t *p, const char *type, int done)
{
    if (s_json) {
        printf("{\"process\":%ld,\"type\":\"%s\",\"f\":\"txn\",\"value\":",
               p->proc, type);
        s_print_mops(p, done);
        printf(",\"time\":%llu,\"index\":%llu}\n", (unsigned long long)s_time,
               (unsigned long long)s_index);
    } else {
        printf("{:type :%s, :f :txn, :value ", type);
        s_print_mops(p, done);
        printf(", :process %ld, :time %llu, :index %llu}\n", p->proc,
               (unsigned long long)s_time, (unsigned long long)s_index);
    }
    s_index++;
}

static void s_invoke(s_proc_t *p, size_t maxops)
{
    p->busy = 1;
    p->start = s_time;
    p->nm = 1 + (int)s_below(maxops);
    for (int i = 0; i < p->nm; i++) {
        s_mop_t *m = &p->m[i];
        m->f = (int)s_below(2);
        size_t slot = s_below(s_nlive);
        m->key = s_live[slot];
        if (m->f) {
            s_key_t *k = s_key(m->key);
            m->v = ++k->next;
            if ((size_t)k->next >= s_maxw) { /* retire the key */
                s_live[slot] = (int64_t)s_nkeys;
                s_key((int64_t)s_nkeys);
            }
        }
    }
    s_event(p, "invoke", 0);
}

/* Adds p's writes to the store, committed at ts. */
static void s_commit(s_proc_t *p, uint64_t ts, int mayloose)
{
    for (int i = 0; i < p->nm; i++) {
        s_mop_t *m = &p->m[i];
        if (!m->f)
            continue;
        s_key_t *k = s_key(m->key);
        if (k->n == k->cap) {
            k->cap = k->cap ? 2 * k->cap : 8;
            k->w = realloc(k->w, k->cap * sizeof *k->w);
        }
        k->w[k->n++] = (s_wr_t){m->v, ts, mayloose && s_below(20) == 0};
        k->last_commit = ts;
    }
}

/* Own writes seen by a read at position i (list-append: appended after
 * what the store gave; rw-register: the last one replaces it). */
static void s_own(s_proc_t *p, int i)
{
    s_mop_t *m = &p->m[i];
    for (int j = 0; j < i; j++)
        if (p->m[j].f && p->m[j].key == m->key) {
            if (s_la)
                s_push(&m->rv, &m->nrv, &m->caprv, p->m[j].v);
            else
                m->rreg = p->m[j].v;
        }
}

static void s_complete(s_proc_t *p)
{
    int ok = 1;
    if (s_iso == I_SI) {
        for (int i = 0; i < p->nm; i++)
            if (p->m[i].f && s_key(p->m[i].key)->last_commit > p->start)
                ok = 0;
        for (int i = 0; i < p->nm && ok; i++)
            if (!p->m[i].f) {
                s_read(&p->m[i], p->start, 0);
                s_own(p, i);
            }
        if (ok)
            s_commit(p, s_time, 0);
    } else if (s_iso == I_RC) {
        /* long write locks, taken at invocation without waiting: a
         * transaction whose key was committed by another since then
         * did not get its lock, and fails */
        for (int i = 0; i < p->nm; i++)
            if (p->m[i].f && s_key(p->m[i].key)->last_commit > p->start)
                ok = 0;
        uint64_t t = p->start;
        for (int i = 0; i < p->nm && ok; i++)
            if (!p->m[i].f) {
                t += s_below(s_time - t + 1);
                s_read(&p->m[i], t, 0);
                s_own(p, i);
            }
        if (ok)
            s_commit(p, s_time, 0);
    } else {
        int broken = s_iso == I_BROKEN;
        for (int i = 0; i < p->nm; i++)
            if (!p->m[i].f) {
                s_read(&p->m[i], s_time, broken);
                s_own(p, i);
            }
        if (broken && s_below(20) == 0) {
            /* fails after its writes were visible to dirty reads */
            s_commit(p, UINT64_MAX, 0);
            ok = 0;
        } else {
            s_commit(p, s_time, broken);
        }
    }
    s_event(p, ok ? "ok" : "fail", ok);
    p->busy = 0;
}

static int s_arg(int argc, char **argv, int *i, const char *name,
                 const char **val)
{
    if (strcmp(argv[*i], name))
        return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "dmr-gentxn: %s needs a value\n", name);
        exit(2);
    }
    *val = argv[++*i];
    return 1;
}

int main(int argc, char **argv)
{
    size_t ntxn = 1000, nproc = 10, maxops = 5;
    const char *v;
    for (int i = 1; i < argc; i++) {
        if (s_arg(argc, argv, &i, "--txns", &v))
            ntxn = strtoull(v, NULL, 10);
        else if (s_arg(argc, argv, &i, "--procs", &v))
            nproc = strtoull(v, NULL, 10);
        else if (s_arg(argc, argv, &i, "--keys", &v))
            s_nlive = strtoull(v, NULL, 10);
        else if (s_arg(argc, argv, &i, "--max-writes", &v))
            s_maxw = strtoull(v, NULL, 10);
        else if (s_arg(argc, argv, &i, "--max-ops", &v))
            maxops = strtoull(v, NULL, 10);
        else if (s_arg(argc, argv, &i, "--seed", &v))
            s_rng = strtoull(v, NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
        else if (s_arg(argc, argv, &i, "--workload", &v)) {
            if (!strcmp(v, "list-append"))
                s_la = 1;
            else if (!strcmp(v, "rw-register"))
                s_la = 0;
            else {
                fprintf(stderr, "dmr-gentxn: unknown --workload %s "
                                "(list-append, rw-register)\n", v);
                return 2;
            }
        } else if (s_arg(argc, argv, &i, "--isolation", &v)) {
            static const char *const names[] = {
                "strict-serializable", "snapshot-isolation", "read-committed",
                "broken"};
            s_iso = -1;
            for (int k = 0; k < 4; k++)
                if (!strcmp(v, names[k]))
                    s_iso = k;
            if (s_iso < 0) {
                fprintf(stderr, "dmr-gentxn: unknown --isolation %s "
                                "(strict-serializable, snapshot-isolation, "
                                "read-committed, broken)\n", v);
                return 2;
            }
        } else if (!strcmp(argv[i], "--json")) {
            s_json = 1;
        } else {
            fprintf(stderr,
                    "usage: dmr-gentxn [--workload list-append|rw-register] "
                    "[--txns N] [--procs P] [--keys K] [--max-writes W] "
                    "[--max-ops M] [--isolation strict-serializable|"
                    "snapshot-isolation|read-committed|broken] [--json] "
                    "[--seed S]\n");
            return 2;
        }
    }
    if (!nproc || !s_nlive || !s_maxw || !maxops || maxops > 16) {
        fprintf(stderr, "dmr-gentxn: --procs, --keys and --max-writes must be "
                        "positive, --max-ops 1 to 16\n");
        return 2;
    }
    s_live = malloc(s_nlive * sizeof *s_live);
    for (size_t k = 0; k < s_nlive; k++) {
        s_live[k] = (int64_t)k;
        s_key((int64_t)k);
    }
    s_proc_t *ps = calloc(nproc, sizeof *ps);
    for (size_t i = 0; i < nproc; i++)
        ps[i].proc = (long)i;
    size_t started = 0, done = 0;
    while (done < ntxn) {
        s_proc_t *p = &ps[s_below(nproc)];
        s_time++;
        if (!p->busy) {
            if (started == ntxn)
                continue;
            s_invoke(p, maxops);
            started++;
        } else {
            s_complete(p);
            done++;
        }
    }
    for (size_t i = 0; i < nproc; i++)
        for (int k = 0; k < 16; k++)
            free(ps[i].m[k].rv);
    free(ps);
    for (size_t k = 0; k < s_nkeys; k++)
        free(s_keys[k].w);
    free(s_keys);
    free(s_live);
    return fflush(stdout) ? 1 : 0;
}
