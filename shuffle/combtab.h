/* combtab.h -- the map-side combining table: emitted pairs of a job with a
 * combiner, grouped by (partition, key) in a hash table as they are
 * emitted, so that the combiner runs on a key's values as soon as a few
 * have gathered instead of after a sort of every pair.
 *
 * For a job like word count, whose map emits the same keys over and over,
 * this is what a hand-written program does (count in a hash table): the
 * table holds each distinct key once, and only combined values ever reach
 * a run. It is built for that case:
 *
 *   - a group is one 64-byte slot, one cache line, holding its key (up to
 *     24 bytes) and its first small values inline, so adding a pair to a
 *     group already seen touches one line;
 *   - pairs can be queued (dmr_combtab_put): the slot of a queued pair is
 *     prefetched and the pair is added a few pairs later, when its line
 *     has arrived, which hides the cache misses a table larger than the
 *     cache would otherwise cost on every pair.
 *
 * A job whose combine is a sum of counts (DMR_JOB_COMBINE_SUM) uses the
 * leaner summing table instead (sumtab.h).
 *
 * A group asks to be combined (its full callback or add's return) when its
 * inline space cannot take another value like the last, or when it holds
 * many values out of line; the caller then takes the values, runs the
 * combiner and puts what it emits back with dmr_combtab_add_to.
 *
 * Single-threaded. */
#ifndef DMR_SHUFFLE_COMBTAB_H
#define DMR_SHUFFLE_COMBTAB_H

#include <stddef.h>
#include <stdint.h>

#include "shuffle/sortbuf.h"
#include "shuffle/values.h"

typedef struct dmr_combtab dmr_combtab_t;

/* Called with a group that should be combined now; a non-zero return is
 * handed back by the put or sync that called it. */
typedef int (*dmr_combtab_full_fn)(void *arg, uint32_t group);

/* full is called by put and sync (arg is its argument). */
dmr_combtab_t *dmr_combtab_new(dmr_combtab_full_fn full, void *arg);

/* Adds a pair under its (part, key) now, hash being dmr_hash64(key) (the
 * caller has it from partitioning). Returns 1 if the group should be
 * combined (not done here), else 0; *group is its handle, valid until
 * the next add. */
int dmr_combtab_add(dmr_combtab_t *t, uint64_t hash, uint32_t part,
                    dmr_slice key, dmr_slice val, uint32_t *group);
/* The same a few pairs later: copies the pair into a short queue and
 * prefetches its slot; adds the oldest queued pair when the queue is full
 * (calling full if its group should be combined). Returns 0 or full's
 * return. */
int dmr_combtab_put(dmr_combtab_t *t, uint64_t hash, uint32_t part,
                    dmr_slice key, dmr_slice val);
/* Adds every queued pair. Call before anything else reads the table. */
int dmr_combtab_sync(dmr_combtab_t *t);
/* Adds a value to group g if key is g's key (returns 0); else returns -1
 * and adds nothing. Never asks for a combine: for what a combiner
 * emits. */
int dmr_combtab_add_to(dmr_combtab_t *t, uint32_t g, dmr_slice key,
                       dmr_slice val);
/* Takes the values of group g out of it, for a combiner: *key is the
 * group's key, *vals an iterator over the values taken (valid until the
 * next take or until the table is emptied); pairs added to the group
 * after this start it afresh. */
void dmr_combtab_take(dmr_combtab_t *t, uint32_t g, uint32_t *part,
                      dmr_slice *key, dmr_values **vals);
/* Says the combiner has run on group g and put its output back: a group
 * whose values the combiner does not shrink is then combined only after
 * its values have doubled. */
void dmr_combtab_combined(dmr_combtab_t *t, uint32_t g);
/* Bytes the table holds (slots, keys and values out of line). */
size_t dmr_combtab_bytes(const dmr_combtab_t *t);
/* Distinct (part, key) groups. */
size_t dmr_combtab_groups(const dmr_combtab_t *t);
/* Adds what is queued, then calls fn once per group that holds values, in
 * (part, key) order (cmp NULL: dmr_key_compare), with them; then empties
 * the table, keeping its allocations. A non-zero return from fn stops and
 * is returned (the table is emptied anyway). */
int dmr_combtab_drain(dmr_combtab_t *t, dmr_cmp_fn cmp, dmr_group_fn fn,
                      void *arg);
void dmr_combtab_destroy(dmr_combtab_t **t);

#endif
