/* values.c -- the default key order and partitioner.
 *
 * Both are part of the on-the-wire contract between map and reduce tasks:
 * every worker must agree on them, so they depend only on the key bytes
 * (dmr_hash64 is the same on every machine). Pure functions;
 * thread-safe. */
#include "shuffle/values.h"

#include <string.h>

#include "common/alloc.h"
#include "common/util.h"

int dmr_key_compare(dmr_slice a, dmr_slice b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c != 0)
        return c;
    return (a.len > b.len) - (a.len < b.len);
}

uint32_t dmr_hash_partition(uint64_t hash, uint32_t nparts)
{
    DMR_ASSERT(nparts > 0);
    /* The high 32 bits scaled to [0, nparts): uniform like a modulo,
     * without a division, and independent of the low bits that index the
     * map side's combining table. */
    return (uint32_t)(((hash >> 32) * nparts) >> 32);
}

uint32_t dmr_key_partition(dmr_slice key, uint32_t nparts)
{
    return dmr_hash_partition(dmr_hash64(key.ptr, key.len), nparts);
}
