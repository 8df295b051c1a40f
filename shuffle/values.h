/* values.h -- the iterator over one key's values handed to reduce/combine.
 *
 * Two producers implement it: the map-side sort buffer (shuffle/sortbuf.c)
 * and the reduce-side merge (shuffle/merge.c). Each embeds a dmr_values as
 * its first member and sets next. */
#ifndef DMR_SHUFFLE_VALUES_H
#define DMR_SHUFFLE_VALUES_H

#include "jobs/dmr_job.h"

struct dmr_values {
    /* Returns 1 and sets *out to the next value, 0 when the key's values
     * are exhausted or the producer hit an error (which it reports on its
     * next group call). *out stays valid until the next call. */
    int (*next)(struct dmr_values *self, dmr_slice *out);
};

static inline int dmr_values_next(dmr_values *v, dmr_slice *out)
{
    return v->next(v, out);
}

/* Key order and placement used when a job defines none. */
typedef int (*dmr_cmp_fn)(dmr_slice a, dmr_slice b);
typedef uint32_t (*dmr_part_fn)(dmr_slice key, uint32_t nparts);

/* Bytewise (memcmp) order; a proper prefix sorts first. */
int dmr_key_compare(dmr_slice a, dmr_slice b);

/* Up to 8 bytes at p (n of them; zero-padded past n) as a big-endian
 * number. Keys whose prefixes differ compare under dmr_key_compare as
 * these numbers do; equal prefixes decide nothing. */
static inline uint64_t dmr_key_prefix(const char *p, size_t n)
{
    const unsigned char *k = (const unsigned char *)p;
    uint64_t c = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        c |= (uint64_t)k[i] << (56 - 8 * i);
    return c;
}
/* dmr_hash64(key) mod nparts. nparts > 0. */
uint32_t dmr_key_partition(dmr_slice key, uint32_t nparts);
/* The same from the key's dmr_hash64, for a caller that has it. */
uint32_t dmr_hash_partition(uint64_t hash, uint32_t nparts);

#endif
