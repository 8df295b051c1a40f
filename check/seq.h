/* seq.h -- the sequential consistency checker (Lamport 1979): is there a
 * total order of a history's operations that respects each process's
 * program order and that the model (model.h: register, cas-register, kv,
 * mutex, set, fifo, multi-register) accepts? Linearizability without
 * real time: an operation of one process may be ordered before one that
 * another process invoked long after it returned, or after it. Every
 * linearizable history is sequentially consistent, not the converse.
 *
 * What takes part:
 *   ok     must be ordered, after its process's earlier operations and
 *          before its later ones;
 *   fail   did not happen: dropped (as the model drops it);
 *   info   (or no completion) may have taken effect or not: it is ordered
 *          anywhere after its process's earlier operations, or nowhere.
 *          In Jepsen histories it is its process's last operation (a
 *          process id is never reused after :info), so that is exact
 *          program order. An info op followed by more ops of its process
 *          (possible in dmr JSON-lines) may still be ordered after them,
 *          as lin.h lets it take effect at any time after its invocation:
 *          so that, as it must, every linearizable history is
 *          sequentially consistent here too. Reads of unknown result
 *          constrain nothing and are dropped.
 *
 * The search is a depth-first walk over configurations (how many of each
 * process's completed operations are ordered, which info operations are,
 * and the model state), memoising every configuration entered in a hash
 * set: one entered again has failed already, so each configuration is
 * explored at most once. From a configuration the candidates are the next
 * completed operation of each process and the info operations whose
 * process has got past their position:
 *   - a read (an op that never changes the state) that the model accepts
 *     is ordered at once and nothing else is tried: moved to the front of
 *     any order that works from here, it still works;
 *   - the others in order of invocation, so that an order close to the
 *     real-time one (the right one for a linearizable history) is tried
 *     first; info operations last, so that one is ordered only when an
 *     operation needs its effect.
 *
 * Before the search, an over-approximation of the states each register
 * can reach (from the initial state, by every operation in every order,
 * ignoring program order) finds an operation that no reachable state
 * accepts -- a read of a value nobody wrote, a cas from one -- which makes
 * the history inconsistent at once. It gives up silently (leaving the
 * search to decide) when a register could reach more than 16384 states.
 *
 * kv: sequential consistency is NOT local (compositional): each key may
 * be sequentially consistent on its own while the whole is not, e.g. the
 * store-buffer pattern p0: put x 1, get y nil; p1: put y 1, get x nil.
 * So a kv history is checked as one: the state is a vector of per-key
 * registers (one word each), an operation steps its key's register with
 * the kv model. No split by key is done.
 *
 * Cost: checking sequential consistency is NP-complete even for one
 * register (Gibbons & Korach 1997). The configurations are bounded by
 * the product over processes of (completed ops + 1), times 2^(info ops),
 * times the reachable states: exponential in the number of processes (and
 * of info operations), polynomial in the length of each process for a
 * fixed number of processes. A budget bounds each check: time, memory
 * of the seen-set (with the model's intern tables) and model steps; when
 * one runs out the verdict is DMR_SEQ_UNKNOWN, never a guess. A memoised
 * configuration costs 8 * (1 + words) bytes, words = the positions packed
 * (1, 2 or 4 bytes each) + the info set (one bit each) + one word per
 * register, at a load of at most one half.
 *
 * Single-threaded; independent checks may run in parallel. */
#ifndef DMR_CHECK_SEQ_H
#define DMR_CHECK_SEQ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "check/history.h"
#include "check/model.h"

typedef enum {
    DMR_SEQ_OK,        /* sequentially consistent */
    DMR_SEQ_VIOLATION, /* not sequentially consistent */
    DMR_SEQ_UNKNOWN,   /* a budget ran out */
} dmr_seq_verdict_t;

typedef struct {
    double timeout_s;   /* 0: none */
    size_t max_bytes;   /* seen-set plus intern tables; 0: none */
    uint64_t max_steps; /* model steps; 0: none */
} dmr_seq_budget_t;

typedef struct {
    dmr_seq_verdict_t verdict;
    const char *why; /* UNKNOWN: "timeout", "memory" or "steps" */
    uint64_t steps;  /* model steps tried */
    uint64_t seen;   /* configurations memoised */
    double seconds;
    uint32_t nproc; /* processes (distinct proc values) */
    /* For a violation (indices into the ops array checked): */
    uint32_t impossible; /* an op no reachable state accepts (found
                            before the search), or UINT32_MAX */
    uint32_t *order;     /* the longest order the search found (most
                            completed ops), in order (caller frees) */
    size_t norder;
    uint32_t *blocked; /* the next completed op of each process not
                          finished there: none can go next (caller
                          frees) */
    uint64_t *bstate;  /* the state of each blocked op's register there */
    size_t nblocked;
} dmr_seq_result_t;

/* Checks ops[0..n) against m's model from its initial state and fills
 * *res (free it with dmr_seq_result_free). proc[i] names op i's process
 * (any numbers; equal = same process); each process's ops are in program
 * order in the array. reg[i] < nreg is the register op i works on (a kv
 * key; the state is one model state per register); reg NULL is one
 * register for all, nreg then ignored. Blocks for at most the budget's
 * time (budget NULL: no limits). */
void dmr_seq_check(dmr_mctx_t *m, const dmr_lop_t *ops, size_t n,
                   const uint32_t *proc, const uint32_t *reg, size_t nreg,
                   const dmr_seq_budget_t *budget, dmr_seq_result_t *res);
void dmr_seq_result_free(dmr_seq_result_t *res);

/* Compiles every op of h for m's model (dmr_model_compile) into *ops (*n
 * of them), with each one's process (*proc: dense, in order of first
 * appearance) and register (*reg: for a by-key model, the dense index of
 * its :key in order of first appearance, *nreg keys; else all 0, *nreg
 * 1), ready for dmr_seq_check. Caller frees the three arrays. On a bad op
 * returns DMR_EINVAL with "line L: why" in err and sets nothing. */
int dmr_seq_compile(dmr_mctx_t *m, const dmr_history_t *h, dmr_lop_t **ops,
                    size_t *n, uint32_t **proc, uint32_t **reg, size_t *nreg,
                    char *err, size_t errlen);

/* Reads the history at path (format NULL: detected) and checks it against
 * the model named model (NULL: cas-register) from init (EDN text, NULL:
 * the model's default), within timeout_s seconds (0: none) and max_mb MiB
 * (0: none). Prints to out either
 *
 *   PATH: sequentially consistent
 *   PATH: NOT sequentially consistent       then a witness: the op that
 *                                           no state accepts, or the
 *                                           longest order found (how far
 *                                           each process got) and the ops
 *                                           none of which can go next,
 *                                           with their lines in the file
 *   PATH: unknown (timeout|memory|steps)
 *
 * or, with json, one object and a newline:
 *
 *   {"file":F,"valid":true|false|"unknown","model":M,"ops":N,
 *    "checked":N,"processes":N,"steps":N,"seen":N,"us":T,
 *    "why":W,                                      (unknown)
 *    "witness":{"impossible":OP}                   (false, before search)
 *    "witness":{"ordered":N,"of":N,                (false, from search)
 *               "processes":[{"process":P,"ordered":N,"of":N,
 *                             "last":OP|null}...],
 *               "blocked":[OP + "state":EDN ...],
 *               "order":[LINE...]}}
 *
 * with OP = {"line":L,"ret_line":L|null,"process":P,"type":"ok"|"info",
 * "f":F,"value":EDN text[,"result":false]} as in check.h, "ordered" the
 * completed ops in the longest order, and "order" the invocation lines of
 * its ops in order. Returns 0 consistent, 1 not, 2 unknown (the line is
 * printed, and err holds "PATH: unknown (why)") or an error: then nothing
 * is printed and err holds "FILE:LINE: what" (or "FILE: what"). Blocks
 * reading the file and for the search. */
int dmr_seq_report(const char *path, const char *format, const char *model,
                   const char *init, int json, int timeout_s, int max_mb,
                   FILE *out, char *err, size_t errlen);
/* The same for the len bytes at buf, named name. */
int dmr_seq_report_buf(const char *name, const char *buf, size_t len,
                       const char *format, const char *model, const char *init,
                       int json, int timeout_s, int max_mb, FILE *out,
                       char *err, size_t errlen);

#endif
