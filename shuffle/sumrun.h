/* sumrun.h -- the reduce side of a job whose combine sums counts
 * (DMR_JOB_COMBINE_SUM): the map outputs fetched so far, folded into one
 * sorted run of (key, count).
 *
 * Each map output holds the reduce's keys in order, once each, with their
 * counts; folding one in is a merge of two sorted sequences into a third,
 * which reads and writes memory in order. A hash table would take each
 * record at a random place in a table of all the keys (tens of MiB for a
 * word count), in the cache the running maps need. And the run comes out
 * sorted, so reduce can start on it at once, where a table would first
 * have to be sorted: that sort would be on the job's critical path, after
 * the last map.
 *
 * A fold is begin, add per record in the job's key order, then end; abort
 * (or any error of add) leaves the run as it was before begin.
 * Single-threaded. */
#ifndef DMR_SHUFFLE_SUMRUN_H
#define DMR_SHUFFLE_SUMRUN_H

#include <stddef.h>
#include <stdint.h>

#include "shuffle/sortbuf.h"
#include "shuffle/values.h"

typedef struct dmr_sumrun dmr_sumrun_t;

/* An empty run in cmp's order (NULL: bytewise). */
dmr_sumrun_t *dmr_sumrun_new(dmr_cmp_fn cmp);
void dmr_sumrun_begin(dmr_sumrun_t *s);
/* n more for key. Keys must come in order, each at most once per fold
 * (a repeated key is summed too): 0, DMR_ECORRUPT for a key out of
 * order, DMR_ETOOBIG for a sum past 64 bits or a run past 4 GiB. */
int dmr_sumrun_add(dmr_sumrun_t *s, dmr_slice key, uint64_t n);
/* The run is now the fold of the old one and the keys added. */
void dmr_sumrun_end(dmr_sumrun_t *s);
/* The run stays as before begin. */
void dmr_sumrun_abort(dmr_sumrun_t *s);
/* Keys in the run. */
size_t dmr_sumrun_keys(const dmr_sumrun_t *s);
/* Memory held, including a fold in progress. */
size_t dmr_sumrun_bytes(const dmr_sumrun_t *s);
/* Calls fn(arg, 0, key, its count in decimal) for each key in order;
 * stops at (and returns) the first nonzero answer. */
int dmr_sumrun_each(dmr_sumrun_t *s, dmr_group_fn fn, void *arg);
void dmr_sumrun_destroy(dmr_sumrun_t **s);

#endif
