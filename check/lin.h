/* lin.h -- the linearizability checker: Wing & Gong's search for a legal
 * order of a history's operations, with Lowe's memoisation of
 * (set of linearised operations, model state).
 *
 * The search walks a doubly linked list of call and return entries in
 * history order. The candidates of a configuration are the operations
 * whose call comes before the first return entry still in the list (the
 * limit): each could take effect next. Linearising one needs the model to
 * accept it and the pair (linearised set + it, new state) to be new; then
 * its entries leave the list and the search goes on from the new
 * configuration. When no candidate works, the operation returning at the
 * limit cannot be linearised in time: undo the last choice and try the
 * next candidate there. The history is linearizable when every completed
 * operation is linearised; operations that may or may not have happened
 * (open, info) have no return entry and need not be.
 *
 * What makes it fast:
 *   - the order candidates are tried in. A read the model accepts is
 *     linearised at once and no alternative is tried: it changes no
 *     state, so if any order works, one with it first does. Then the
 *     operation returning at the limit (it must go soon), then the other
 *     completed candidates newest first (a long-running one is rarely
 *     right early), then open operations, so that one is linearised just
 *     before the operation that needs its effect;
 *   - the linearised set is a bitset whose hash is kept incrementally
 *     (Zobrist: one random word per operation, xor-ed in and out), so a
 *     step costs O(1) plus one probe of the seen-set, whatever the size;
 *   - a configuration that differs from a finished (failed) one only by
 *     more open operations linearised is pruned: it can do nothing the
 *     other could not. Finished configurations are grouped by (completed
 *     set, state), each group an antichain of open sets;
 *   - states are interned words (model.h), so a model step is cheap;
 *   - operations that constrain nothing are dropped before the search;
 *   - callers split a history by key first (P-compositionality), and can
 *     interleave the parts' searches in slices (dmr_lin_run) so that the
 *     first violation found decides.
 *
 * A budget of time and of memory for the seen-set bounds each check; when
 * either runs out the verdict is DMR_LIN_UNKNOWN, never a guess.
 *
 * Single-threaded; independent checks may run in parallel. */
#ifndef DMR_CHECK_LIN_H
#define DMR_CHECK_LIN_H

#include <stddef.h>
#include <stdint.h>

#include "check/model.h"

typedef enum {
    DMR_LIN_OK,        /* linearizable */
    DMR_LIN_VIOLATION, /* not linearizable */
    DMR_LIN_UNKNOWN,   /* a budget ran out */
} dmr_lin_verdict_t;

typedef struct {
    double timeout_s; /* 0: none */
    size_t max_bytes; /* seen-set memory; 0: none */
} dmr_lin_budget_t;

#define DMR_LIN_MAX_STATES 8

typedef struct {
    dmr_lin_verdict_t verdict;
    const char *why; /* for UNKNOWN: "timeout" or "memory" */
    uint64_t steps;  /* model steps tried */
    uint64_t seen;   /* (set, state) pairs memoised */
    double seconds;  /* time spent searching */
    /* For a violation (indices into the lops array checked): */
    uint32_t blocked; /* the op that could not be linearised in
                         time: its return is the furthest the search
                         got */
    uint32_t *prefix; /* a linearisation of every op returning
                         before it, in order (caller frees) */
    size_t nprefix;
    uint32_t *window; /* ops invoked before that return and not in
                         the prefix: those that cannot be ordered
                         (caller frees) */
    size_t nwindow;
    uint64_t states[DMR_LIN_MAX_STATES]; /* model states reachable there */
    size_t nstates;
} dmr_lin_result_t;

/* Checks ops[0..n) (in order of invocation, as dmr_model_compile returns
 * them) against m's model from its initial state and fills *res (free it
 * with dmr_lin_result_free). Blocks for at most the budget's time. */
void dmr_lin_check(dmr_mctx_t *m, const dmr_lop_t *ops, size_t n,
                   const dmr_lin_budget_t *budget, dmr_lin_result_t *res);
void dmr_lin_result_free(dmr_lin_result_t *res);

/* The same check in slices, so that a caller can interleave several (a
 * file's parts: one violation decides the file, and an easy one should
 * not wait behind a hard one). dmr_lin_run searches for up to max_steps
 * more steps (0: no limit) and returns 1 once the verdict is known;
 * dmr_lin_finish fills *res (verdict UNKNOWN, why "stopped", if it is not)
 * and frees the search. The budget's time counts only time spent in
 * dmr_lin_run. m and ops must outlive the search. */
typedef struct dmr_lin dmr_lin_t;
dmr_lin_t *dmr_lin_new(dmr_mctx_t *m, const dmr_lop_t *ops, size_t n,
                       const dmr_lin_budget_t *budget);
int dmr_lin_run(dmr_lin_t *s, uint64_t max_steps);
/* The verdict once dmr_lin_run has returned 1. */
dmr_lin_verdict_t dmr_lin_verdict(const dmr_lin_t *s);
void dmr_lin_finish(dmr_lin_t **ps, dmr_lin_result_t *res);

#endif
