/* sortbuf.h -- the map-side buffer of emitted pairs.
 *
 * Map output is appended with its partition; drain() sorts by (partition,
 * key) and hands each (partition, key) group to a callback, which writes it
 * to a run -- through the combiner when the job has one -- and then empties
 * the buffer for reuse. Records live in one arena; sorting moves only
 * fixed-size entries. Single-threaded. */
#ifndef DMR_SHUFFLE_SORTBUF_H
#define DMR_SHUFFLE_SORTBUF_H

#include <stddef.h>
#include <stdint.h>

#include "shuffle/values.h"

typedef struct dmr_sortbuf dmr_sortbuf_t;

/* cmp NULL means dmr_key_compare. */
dmr_sortbuf_t *dmr_sortbuf_new(uint32_t nparts, dmr_cmp_fn cmp);
/* Copies the pair in. part < nparts; key and value each under 4 GiB
 * (both asserted -- the caller bounds record sizes). */
void dmr_sortbuf_add(dmr_sortbuf_t *sb, uint32_t part, dmr_slice key,
                     dmr_slice val);
/* Bytes of memory the buffered pairs occupy (arena plus index). */
size_t dmr_sortbuf_bytes(const dmr_sortbuf_t *sb);
/* Pairs buffered. */
size_t dmr_sortbuf_count(const dmr_sortbuf_t *sb);

/* Called once per distinct (part, key), in (part, key) order, with the
 * group's values in the order they were added; key is the first added of
 * keys that compare equal. key and the values live until fn returns. A
 * non-zero return stops the drain and is returned by it. */
typedef int (*dmr_group_fn)(void *arg, uint32_t part, dmr_slice key,
                            dmr_values *vals);
/* Sorts, visits every group, then empties the buffer (also on error). */
int dmr_sortbuf_drain(dmr_sortbuf_t *sb, dmr_group_fn fn, void *arg);
void dmr_sortbuf_destroy(dmr_sortbuf_t **sb);

#endif
