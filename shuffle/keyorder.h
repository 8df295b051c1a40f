/* keyorder.h -- sorting the groups of a map-side table into (part, key)
 * order for a drain.
 *
 * The combining and summing tables list their groups as entries that
 * carry the part, the key's first 16 bytes as two big-endian numbers
 * (dmr_key_prefix, zero-padded) and its length, so that most comparisons
 * never touch the table. The owner maps an entry's id back to its key for
 * the rest: keys longer than 16 bytes that tie on those, and a job's own
 * order, which is asked of every pair. */
#ifndef DMR_SHUFFLE_KEYORDER_H
#define DMR_SHUFFLE_KEYORDER_H

#include <stddef.h>
#include <stdint.h>

#include "shuffle/values.h"

typedef struct {
    uint64_t p0, p1; /* key bytes 0-7 and 8-15, big-endian, zero-padded */
    uint32_t part, id, klen;
} dmr_keyent_t;

/* The key of entry id (the owner's own numbering). */
typedef dmr_slice (*dmr_keyent_key_fn)(const void *owner, uint32_t id);

static inline dmr_keyent_t dmr_keyent(uint32_t part, uint32_t id, dmr_slice key)
{
    return (dmr_keyent_t){dmr_key_prefix(key.ptr, key.len),
                          key.len > 8 ? dmr_key_prefix(key.ptr + 8, key.len - 8)
                                      : 0,
                          part, id, (uint32_t)key.len};
}

/* Makes *e (of *cap entries) hold at least n; what it held is dropped. */
void dmr_keyent_reserve(dmr_keyent_t **e, size_t *cap, size_t n);

/* Sorts e[0..n) by (part, key): cmp's order, or bytewise if cmp is NULL
 * or dmr_key_compare. */
void dmr_keyent_sort(dmr_keyent_t *e, size_t n, dmr_cmp_fn cmp,
                     dmr_keyent_key_fn key, const void *owner);

#endif
