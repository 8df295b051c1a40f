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

static int s_count_next(dmr_values *self, dmr_slice *out)
{
    dmr_count_values_t *it = (dmr_count_values_t *)self;
    if (it->at == sizeof it->digits)
        return 0;
    out->ptr = it->digits + it->at;
    out->len = sizeof it->digits - it->at;
    it->at = sizeof it->digits;
    return 1;
}

dmr_values *dmr_count_values(dmr_count_values_t *it, uint64_t c)
{
    it->vals.next = s_count_next;
    it->at = sizeof it->digits;
    do {
        it->digits[--it->at] = (char)('0' + c % 10);
        c /= 10;
    } while (c > 0);
    return &it->vals;
}
