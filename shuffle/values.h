/* values.h -- the iterator over one key's values handed to reduce/combine.
 *
 * Its producers -- the map-side sort buffer (shuffle/sortbuf.c), the
 * reduce-side merge (shuffle/merge.c) and the one count of a summed group
 * (dmr_count_values, below) -- each embed a dmr_values as their first
 * member and set next. */
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

/* dmr_key_compare(a, b) for keys whose dmr_key_prefix are pa and pb: the
 * prefixes decide most pairs, the lengths those where a key fits in them,
 * and only the rest are compared byte by byte, from the ninth. */
static inline int dmr_key_compare_prefixed(dmr_slice a, uint64_t pa,
                                           dmr_slice b, uint64_t pb)
{
    if (pa != pb)
        return pa < pb ? -1 : 1;
    if (a.len <= 8 || b.len <= 8) /* the padding decides: shorter first */
        return (a.len > b.len) - (a.len < b.len);
    return dmr_key_compare((dmr_slice){a.ptr + 8, a.len - 8},
                           (dmr_slice){b.ptr + 8, b.len - 8});
}

/* A whole unsigned decimal count in *n, as DMR_JOB_COMBINE_SUM jobs emit
 * them: 0, or -1 for anything else (empty, a non-digit, past 64 bits). */
static inline int dmr_count_parse(dmr_slice v, uint64_t *n)
{
    unsigned d;
    if (v.len == 1 && (d = (unsigned char)v.ptr[0] - (unsigned)'0') <= 9) {
        *n = d; /* the common case: a count of one */
        return 0;
    }
    if (v.len == 0)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < v.len; i++) {
        d = (unsigned char)v.ptr[i] - (unsigned)'0';
        if (d > 9 || x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *n = x;
    return 0;
}

/* The values of a summed group: its one count, in decimal. */
typedef struct {
    dmr_values vals; /* must be first */
    char digits[20];
    uint32_t at; /* first digit; sizeof digits once taken */
} dmr_count_values_t;

/* Sets it up to hand out c once; returns its dmr_values. */
dmr_values *dmr_count_values(dmr_count_values_t *it, uint64_t c);

/* dmr_hash64(key) mod nparts. nparts > 0. */
uint32_t dmr_key_partition(dmr_slice key, uint32_t nparts);
/* The same from the key's dmr_hash64, for a caller that has it. */
uint32_t dmr_hash_partition(uint64_t hash, uint32_t nparts);

#endif
