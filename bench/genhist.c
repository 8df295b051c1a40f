/* genhist.c -- dmr-genhist: random concurrent histories from a seeded
 * simulation of a store, for measuring and testing the checkers.
 *
 *   dmr-genhist [--model register|cas-register|kv] [--ops N] [--procs P]
 *               [--keys K] [--values V] [--info RATE] [--faulty RATE]
 *               [--seed S]
 *
 * writes a history in dmr's JSON-lines format to standard output.
 *
 * The simulation: P client processes share one store (a register, or K
 * registers for kv). Each step picks a random process. An idle process
 * invokes a random operation; a process with an operation in flight either
 * applies it to the store (once: its linearisation point) or, once
 * applied, completes it with the result the store gave. So every
 * operation takes effect at one instant between its invocation and its
 * completion: the history is linearizable by construction.
 *
 * --info RATE: an operation in flight may instead crash, with or without
 * having applied; it completes as :info and its process comes back under a
 * new number, as in Jepsen. Still linearizable.
 *
 * --faulty RATE: the store is broken: a read returns, with this
 * probability, the value before the latest write (a stale read) instead of
 * the current one. Such a history is almost always NOT linearizable (it
 * can be by chance, when the stale value is also a legal answer).
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
static double s_unit(void)
{
    return (double)(s_next() >> 11) / 9007199254740992.0;
}

enum { M_REGISTER, M_CAS, M_KV };
enum { F_READ, F_WRITE, F_CAS, F_APPEND };

typedef struct {
    long proc; /* current process number */
    int busy;  /* an op in flight */
    int applied;
    int f;
    int key;
    long a, b; /* write value / cas old,new */
    long got;  /* read result (register); -1 nil */
    int cas_ok;
    char *sgot;    /* kv read result */
    char sarg[48]; /* kv put/append argument */
} proc_t;

typedef struct {
    long cur, prev;     /* register value, previous value; -1 nil */
    char *scur, *sprev; /* kv string value, previous */
} reg_t;

static void s_json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

static void s_value(long v)
{
    if (v < 0)
        printf("null");
    else
        printf("%ld", v);
}

static const char *const s_fname[3][4] = {
    {"read", "write", "cas", "append"},
    {"read", "write", "cas", "append"},
    {"get", "put", "cas", "append"},
};

static void s_event(int model, proc_t *p, const char *type, int completion)
{
    printf("{\"process\":%ld,\"type\":\"%s\",\"f\":\"%s\"", p->proc, type,
           s_fname[model][p->f]);
    if (model == M_KV)
        printf(",\"key\":\"%d\"", p->key);
    printf(",\"value\":");
    if (model == M_KV) {
        if (p->f == F_READ)
            completion && p->sgot ? s_json_str(p->sgot) : (void)printf("null");
        else
            s_json_str(p->sarg);
    } else if (p->f == F_READ) {
        completion ? s_value(p->got) : (void)printf("null");
    } else if (p->f == F_WRITE) {
        s_value(p->a);
    } else {
        printf("[%ld,%ld]", p->a, p->b);
    }
    printf("}\n");
}

static void s_usage(void)
{
    fprintf(stderr,
            "usage: dmr-genhist [--model register|cas-register|kv] [--ops N] "
            "[--procs P]\n"
            "                   [--keys K] [--values V] [--info RATE] "
            "[--faulty RATE] [--seed S]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int model = M_CAS, nprocs = 5, nkeys = 1, nvalues = 5;
    long nops = 1000;
    double info = 0, faulty = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (i + 1 >= argc)
            s_usage();
        const char *v = argv[++i];
        if (!strcmp(o, "--model"))
            model = !strcmp(v, "register")       ? M_REGISTER
                    : !strcmp(v, "cas-register") ? M_CAS
                    : !strcmp(v, "kv")           ? M_KV
                                                 : (s_usage(), 0);
        else if (!strcmp(o, "--ops"))
            nops = atol(v);
        else if (!strcmp(o, "--procs"))
            nprocs = atoi(v);
        else if (!strcmp(o, "--keys"))
            nkeys = atoi(v);
        else if (!strcmp(o, "--values"))
            nvalues = atoi(v);
        else if (!strcmp(o, "--info"))
            info = atof(v);
        else if (!strcmp(o, "--faulty"))
            faulty = atof(v);
        else if (!strcmp(o, "--seed"))
            s_rng = strtoull(v, NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
        else
            s_usage();
    }
    if (nprocs < 1 || nkeys < 1 || nvalues < 1 || nops < 0)
        s_usage();
    if (model != M_KV)
        nkeys = 1;
    proc_t *ps = calloc((size_t)nprocs, sizeof *ps);
    reg_t *regs = calloc((size_t)nkeys, sizeof *regs);
    if (!ps || !regs)
        return 1;
    for (int k = 0; k < nkeys; k++) {
        regs[k].cur = regs[k].prev = -1;
        regs[k].scur = strdup("");
        regs[k].sprev = strdup("");
    }
    long next_proc = 0, invoked = 0, seq = 0;
    for (int i = 0; i < nprocs; i++)
        ps[i].proc = next_proc++;
    int inflight = 0;
    while (invoked < nops || inflight > 0) {
        proc_t *p = &ps[s_below((uint64_t)nprocs)];
        if (!p->busy) {
            if (invoked >= nops)
                continue;
            int nf = model == M_REGISTER ? 2 : model == M_CAS ? 3 : 3;
            p->f = (int)s_below((uint64_t)nf);
            if (model == M_KV && p->f == 2)
                p->f = F_APPEND;
            p->key = (int)s_below((uint64_t)nkeys);
            p->a = (long)s_below((uint64_t)nvalues);
            p->b = (long)s_below((uint64_t)nvalues);
            snprintf(p->sarg, sizeof p->sarg, "x %ld %ld y", p->proc, seq++);
            p->busy = 1;
            p->applied = 0;
            s_event(model, p, "invoke", 0);
            invoked++;
            inflight++;
            continue;
        }
        reg_t *r = &regs[p->key];
        if (info > 0 && s_unit() < info) {
            /* crash: may or may not have taken effect */
            if (!p->applied && s_below(2) && p->f != F_READ) {
                if (model == M_KV) {
                    free(r->sprev);
                    r->sprev = r->scur;
                    size_t n = strlen(r->sprev) + strlen(p->sarg) + 1;
                    r->scur = malloc(n);
                    snprintf(r->scur, n, "%s%s",
                             p->f == F_APPEND ? r->sprev : "", p->sarg);
                } else if (p->f == F_WRITE ||
                           (p->f == F_CAS && r->cur == p->a)) {
                    r->prev = r->cur;
                    r->cur = p->f == F_WRITE ? p->a : p->b;
                }
            }
            s_event(model, p, "info", 1);
            p->busy = 0;
            p->proc = next_proc++;
            inflight--;
            continue;
        }
        if (!p->applied) {
            p->applied = 1;
            int stale = p->f == F_READ && faulty > 0 && s_unit() < faulty;
            if (model == M_KV) {
                if (p->f == F_READ) {
                    free(p->sgot);
                    p->sgot = strdup(stale ? r->sprev : r->scur);
                } else {
                    free(r->sprev);
                    r->sprev = r->scur;
                    size_t n = strlen(r->sprev) + strlen(p->sarg) + 1;
                    r->scur = malloc(n);
                    snprintf(r->scur, n, "%s%s",
                             p->f == F_APPEND ? r->sprev : "", p->sarg);
                }
            } else if (p->f == F_READ) {
                p->got = stale ? r->prev : r->cur;
            } else if (p->f == F_WRITE) {
                r->prev = r->cur;
                r->cur = p->a;
            } else {
                p->cas_ok = r->cur == p->a;
                if (p->cas_ok) {
                    r->prev = r->cur;
                    r->cur = p->b;
                }
            }
            continue;
        }
        s_event(model, p,
                p->f == F_CAS && model != M_KV && !p->cas_ok ? "fail" : "ok",
                1);
        p->busy = 0;
        inflight--;
    }
    for (int i = 0; i < nprocs; i++)
        free(ps[i].sgot);
    for (int k = 0; k < nkeys; k++) {
        free(regs[k].scur);
        free(regs[k].sprev);
    }
    free(ps);
    free(regs);
    return fflush(stdout) == 0 ? 0 : 1;
}
