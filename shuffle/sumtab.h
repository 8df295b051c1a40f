/* sumtab.h -- the map-side table of a job whose combine sums counts
 * (DMR_JOB_COMBINE_SUM): one binary count per key.
 *
 * This is the table a hand-written word count keeps, and is built like
 * one: a group is a 32-byte slot holding its key's first 16 bytes inline
 * (a longer key lives in a pool, with the slot keeping its hash), the
 * count, the key's length and the partition; two to a cache line, so a
 * map of 100 000+ distinct words keeps a table half the size the general
 * combining table (combtab.h) would, which matters most when two maps
 * share one cache. Pairs are queued (put) and added a few pairs later,
 * after their slot was prefetched.
 *
 * The value a drain hands out for a group is its count in decimal.
 * Single-threaded. */
#ifndef DMR_SHUFFLE_SUMTAB_H
#define DMR_SHUFFLE_SUMTAB_H

#include <stddef.h>
#include <stdint.h>

#include "shuffle/sortbuf.h"
#include "shuffle/values.h"

typedef struct dmr_sumtab dmr_sumtab_t;

/* The partition of key; called once per group, when it is made. */
typedef uint32_t (*dmr_sumtab_part_fn)(void *arg, dmr_slice key);
/* Told of each pair put refuses (rc as put returns it), before put
 * returns; for DMR_ETOOBIG key and val are those of the pair being put,
 * which need not be the one whose count overflowed. NULL: not told. */
typedef void (*dmr_sumtab_fail_fn)(void *arg, int rc, dmr_slice key,
                                   dmr_slice val);

dmr_sumtab_t *dmr_sumtab_new(dmr_sumtab_part_fn part, dmr_sumtab_fail_fn fail,
                             void *arg);
/* Adds the count val (unsigned decimal) under key (and so its partition);
 * queued, as dmr_combtab_put. Returns 0; DMR_EINVAL if
 * val is not a decimal count (nothing is added); DMR_ETOOBIG if a key's
 * count would pass 64 bits (this pair's or a queued one's; that count is
 * not added). A caller that hands failures to the fail function can
 * return put's answer as its own (a tail call). */
int dmr_sumtab_put(dmr_sumtab_t *t, dmr_slice key, dmr_slice val);
/* Adds what is queued: 0 or DMR_ETOOBIG. Call before reading the table. */
int dmr_sumtab_sync(dmr_sumtab_t *t);
/* Bytes the table holds (slots and long keys). */
size_t dmr_sumtab_bytes(const dmr_sumtab_t *t);
/* Distinct keys. */
size_t dmr_sumtab_groups(const dmr_sumtab_t *t);
/* Adds what is queued, then calls fn once per group in (part, key) order
 * (cmp NULL: dmr_key_compare) with one value, its count in decimal; then
 * empties the table. A non-zero return (fn's, or DMR_ETOOBIG from the
 * queue) stops and is returned; the table is emptied anyway. */
int dmr_sumtab_drain(dmr_sumtab_t *t, dmr_cmp_fn cmp, dmr_group_fn fn,
                     void *arg);
void dmr_sumtab_destroy(dmr_sumtab_t **t);

#endif
