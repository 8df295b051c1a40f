/* merge.h -- k-way merge of sorted runs, grouped by key.
 *
 * The reducer opens one dmr_run_reader per fetched map output and hands
 * them to a merge, which yields each distinct key once with an iterator
 * over all its values from every run (a binary heap over the readers'
 * current keys). Single-threaded. */
#ifndef DMR_SHUFFLE_MERGE_H
#define DMR_SHUFFLE_MERGE_H

#include "shuffle/run.h"
#include "shuffle/values.h"

typedef struct dmr_merge dmr_merge_t;

/* cmp NULL means dmr_key_compare. Each input run must be sorted by cmp. */
dmr_merge_t *dmr_merge_new(dmr_cmp_fn cmp);
/* Adds an input; the merge owns and destroys r. Before the first group. */
void dmr_merge_add(dmr_merge_t *m, dmr_run_reader_t *r);
/* Moves to the next distinct key: returns 1 with *key (valid until the next
 * call) and *vals set, 0 when all inputs are exhausted, or a negative
 * DMR_E* error from a reader. Values not consumed by the caller are
 * skipped. A key's values come input by input in the order the inputs
 * were added, each input's in run order; when keys compare equal but
 * differ in bytes, *key is the first of them in that order. A reader
 * error makes *vals return 0 and is returned from every later call. */
int dmr_merge_next(dmr_merge_t *m, dmr_slice *key, dmr_values **vals);
/* After an error: the input (numbered from 0 in the order added) whose
 * reader failed, so a reducer can name the bad map output; -1 if none. */
long dmr_merge_failed_input(const dmr_merge_t *m);
/* Bytes of input read so far over all inputs, for progress reports. */
uint64_t dmr_merge_consumed(const dmr_merge_t *m);
void dmr_merge_destroy(dmr_merge_t **m);

#endif
