/* combtab.h -- the map-side combining table: emitted pairs of a job with a
 * combiner, grouped by (partition, key) in a hash table as they are
 * emitted, so that the combiner can run on a key's values as soon as a
 * few have gathered instead of after a sort of every pair.
 *
 * For a job like word count, whose map emits the same keys over and over,
 * this is what a hand-written program does (count in a hash table): the
 * table holds each distinct key once, and only the combined values ever
 * reach the sort buffer. The table's bytes only grow (keys, values and
 * combined values are appended to chunks that never move, so every slice
 * handed out stays valid until the table is emptied); the caller empties
 * it into the sort buffer when it has grown enough.
 *
 * Single-threaded. */
#ifndef DMR_SHUFFLE_COMBTAB_H
#define DMR_SHUFFLE_COMBTAB_H

#include <stddef.h>
#include <stdint.h>

#include "shuffle/sortbuf.h"
#include "shuffle/values.h"

typedef struct dmr_combtab dmr_combtab_t;

dmr_combtab_t *dmr_combtab_new(void);
/* Adds a pair under its (part, key), hash being dmr_hash64(key) (the
 * caller has it from partitioning); returns the number of values the
 * group now holds, and in *group a handle valid until the next add. */
size_t dmr_combtab_add(dmr_combtab_t *t, uint64_t hash, uint32_t part,
                       dmr_slice key, dmr_slice val, uint32_t *group);
/* Takes the values of group g out of it, for a combiner: *key is the
 * group's key, *vals an iterator over the values taken (valid until the
 * table is emptied); pairs added to the group after this start it afresh. */
void dmr_combtab_take(dmr_combtab_t *t, uint32_t g, uint32_t *part,
                      dmr_slice *key, dmr_values **vals);
/* Bytes the table holds (chunks and index). */
size_t dmr_combtab_bytes(const dmr_combtab_t *t);
/* Distinct (part, key) groups. */
size_t dmr_combtab_groups(const dmr_combtab_t *t);
/* Calls fn once per group that holds values (in no particular order)
 * with them; then empties the table, keeping its allocations. A non-zero
 * return from fn stops and is returned (the table is emptied anyway). */
int dmr_combtab_flush(dmr_combtab_t *t, dmr_group_fn fn, void *arg);
void dmr_combtab_destroy(dmr_combtab_t **t);

#endif
