/* model.h -- sequential specifications that a history is checked against.
 *
 * A model is a state machine: an initial state and a step function that,
 * given a state and an operation with its observed result, says whether
 * the operation could have returned that result in that state and, if so,
 * what the next state is. The checker (lin.h) searches for an order of the
 * history's operations that the model accepts.
 *
 * States and values are small integers (uint64_t): every value of the
 * history is interned (equal values, one id), and models whose state is
 * more than one value (a set, a queue, a string grown by appends, several
 * registers) intern the state itself. So a state is hashed and compared as
 * one word, whatever the model.
 *
 * The models, their operations, and how results are read:
 *
 *   register       read -> v, write v. Starts nil (or --init).
 *   cas-register   read, write, cas [old new]. A cas that executed with a
 *                  false compare (etcd's ":fail :cas") leaves the state and
 *                  is accepted only if the state differs from old.
 *   kv             a register per :key: get|read -> v, put|write v,
 *                  append v (string concatenation), cas [old new]. Starts
 *                  nil; a nil register reads as "" too (Porcupine's kv).
 *                  Checked one key at a time.
 *   mutex          acquire, release. Starts free.
 *   set            add v, read -> #{...} (the whole set). Starts empty.
 *   fifo           enqueue v, dequeue -> v (nil: the queue was empty).
 *   multi-register txn [[:read k v] [:write k v] ...], atomically;
 *                  registers start nil (or --init {k v}).
 *
 * Operations that constrain nothing are dropped before the search: failed
 * ones (they did not happen) and reads whose result is unknown (info, or a
 * nil read in Knossos EDN). An info operation that changes state is kept as
 * optional: it may be linearised at any point after its invocation, or
 * never.
 *
 * Not thread-safe; one dmr_mctx_t per check. */
#ifndef DMR_CHECK_MODEL_H
#define DMR_CHECK_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "check/history.h"

/* An operation as the checker sees it. */
typedef struct {
    uint32_t op;   /* index into the history's ops */
    uint32_t call; /* event index of the invocation */
    uint32_t ret;  /* event index of the completion; UINT32_MAX if open */
    uint8_t f;     /* model-specific operation code */
    uint8_t open;  /* 1: may or may not have happened (info) */
    uint8_t ro;    /* 1: never changes the state (a read) */
    int8_t result; /* model-specific outcome (cas: 1 done, 0 false) */
    uint64_t a, b; /* arguments (interned ids) */
    uint64_t out;  /* observed result (interned id) */
} dmr_lop_t;

typedef struct dmr_mctx dmr_mctx_t;
typedef struct dmr_model dmr_model_t;

struct dmr_model {
    const char *name;
    const char *summary; /* one line for --help */
    int by_key;          /* 1: split by :key before checking */
    /* Translates history op i into *out. Sets *drop when the op constrains
     * nothing. On a bad op returns DMR_EINVAL with "line L: why" in err. */
    int (*compile)(dmr_mctx_t *m, const dmr_history_t *h, size_t i,
                   dmr_lop_t *out, int *drop, char *err, size_t errlen);
    /* 1 and *next if op may take effect in state, else 0. */
    int (*step)(dmr_mctx_t *m, uint64_t state, const dmr_lop_t *op,
                uint64_t *next);
};

/* The models, NULL-terminated; and lookup by name (NULL if unknown). */
extern const dmr_model_t *const dmr_models[];
const dmr_model_t *dmr_model_find(const char *name);

/* A context holds the intern tables of one check. init, if not NULL, is
 * the initial value (register, cas-register) or map of initial values
 * (multi-register); it is copied. Returns NULL and a message in err when
 * init does not suit the model. */
dmr_mctx_t *dmr_mctx_new(const dmr_model_t *model, const dmr_val_t *init,
                         char *err, size_t errlen);
void dmr_mctx_destroy(dmr_mctx_t **pm);
const dmr_model_t *dmr_mctx_model(const dmr_mctx_t *m);
/* The initial state. */
uint64_t dmr_mctx_init(dmr_mctx_t *m);
/* Writes a short rendering of state (EDN) into buf; returns buf. */
char *dmr_mctx_format_state(dmr_mctx_t *m, uint64_t state, char *buf,
                            size_t len);
/* Bytes held by the intern tables (for the memory budget). */
size_t dmr_mctx_bytes(const dmr_mctx_t *m);

/* The value of history op i: the completion's for an ok op whose
 * completion carries one (a read's result), else the invocation's. */
const dmr_val_t *dmr_op_value(const dmr_history_t *h, size_t i);

/* Compiles ops idx[0..nidx) of h (every op when idx is NULL; nidx is then
 * ignored) into a fresh array (*out, caller frees) of *n lops, in order of
 * invocation, dropping what constrains nothing. */
int dmr_model_compile(dmr_mctx_t *m, const dmr_history_t *h,
                      const uint32_t *idx, size_t nidx, dmr_lop_t **out,
                      size_t *n, char *err, size_t errlen);

/* The partition key of op i of h for a by_key model: the op's :key
 * rendered as EDN, "" when the op has no key. Caller frees. */
char *dmr_model_part_key(const dmr_history_t *h, size_t i);

#endif
