/* keyorder.c -- sorting a table's groups for a drain (keyorder.h).
 *
 * Bytewise order is a most-significant-digit radix sort on the cached
 * prefixes. The entries are first distributed in place by (part, first
 * key byte) -- one counting pass, then a permutation along cycles (an
 * "American flag" pass) -- and each bucket is then distributed the same
 * way by its next key byte, and so on, until a bucket is short enough for
 * an insertion sort. A bucket of the first pass is a few thousand entries
 * that fit in the cache, so the later passes run there; and the passes
 * have no data-dependent branches, where a quicksort mispredicts about
 * every other comparison. Keys that agree on all 16 cached bytes (their
 * lengths, or the bytes past the 16th, decide) and inputs too small for
 * the first pass are quicksorted (median of three, insertion sort for
 * short ranges, recursing into the smaller side). A job's order goes
 * through qsort_r, since its comparison dominates. */
#include "shuffle/keyorder.h"

#include <stdlib.h>

#include "common/alloc.h"

/* Fewer entries than this are quicksorted at once. */
#define RADIX_MIN 4096
/* A bucket of at most this many entries is insertion-sorted. */
#define RADIX_SMALL 24
/* Parts beyond which the first pass is skipped (its counters). */
#define RADIX_PARTS 256

typedef struct {
    dmr_keyent_key_fn key;
    const void *owner;
    dmr_cmp_fn cmp;
} s_ctx;

/* Whether a sorts before b in bytewise order. */
static int s_before(const s_ctx *c, const dmr_keyent_t *a,
                    const dmr_keyent_t *b)
{
    if (a->part != b->part)
        return a->part < b->part;
    if (a->p0 != b->p0)
        return a->p0 < b->p0;
    if (a->p1 != b->p1)
        return a->p1 < b->p1;
    if (a->klen <= 16 || b->klen <= 16) /* the padding decides: shorter */
        return a->klen < b->klen;
    dmr_slice x = c->key(c->owner, a->id), y = c->key(c->owner, b->id);
    return dmr_key_compare((dmr_slice){x.ptr + 16, x.len - 16},
                           (dmr_slice){y.ptr + 16, y.len - 16}) < 0;
}

static void s_insertion(const s_ctx *c, dmr_keyent_t *e, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        dmr_keyent_t x = e[i];
        size_t j = i;
        for (; j > 0 && s_before(c, &x, &e[j - 1]); j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

static void s_sort(const s_ctx *c, dmr_keyent_t *e, size_t n)
{
    while (n > 16) {
        dmr_keyent_t *a = &e[0], *m = &e[n / 2], *z = &e[n - 1], tmp;
#define SWAP(x, y) (tmp = *(x), *(x) = *(y), *(y) = tmp)
        if (s_before(c, m, a))
            SWAP(m, a);
        if (s_before(c, z, m)) {
            SWAP(z, m);
            if (s_before(c, m, a))
                SWAP(m, a);
        }
        dmr_keyent_t pivot = *m;
        size_t i = 0, j = n - 1;
        for (;;) {
            while (s_before(c, &e[i], &pivot))
                i++;
            while (s_before(c, &pivot, &e[j]))
                j--;
            if (i >= j)
                break;
            SWAP(&e[i], &e[j]);
            i++;
            j--;
        }
#undef SWAP
        /* [0, j] <= pivot <= [j + 1, n) */
        size_t left = j + 1;
        if (left < n - left) {
            s_sort(c, e, left);
            e += left;
            n -= left;
        } else {
            s_sort(c, e + left, n - left);
            n = left;
        }
    }
    s_insertion(c, e, n);
}

static size_t s_bucket(const dmr_keyent_t *e)
{
    return (size_t)e->part << 8 | (size_t)(e->p0 >> 56);
}

/* Key byte d (0..15) of an entry, from its prefixes. */
static unsigned s_byte(const dmr_keyent_t *e, unsigned d)
{
    uint64_t w = d < 8 ? e->p0 : e->p1;
    return (unsigned)(w >> (56 - 8 * (d & 7))) & 0xff;
}

/* Sorts e[0..n), all of one part and equal in key bytes 0..d-1, by key
 * byte d and then the rest. */
static void s_msd(const s_ctx *c, dmr_keyent_t *e, size_t n, unsigned d)
{
    for (; n > RADIX_SMALL && d < 16; d++) {
        size_t count[256] = {0}, next[256], end[256];
        for (size_t i = 0; i < n; i++)
            count[s_byte(&e[i], d)]++;
        if (count[s_byte(&e[0], d)] == n)
            continue; /* one byte for all: on to the next */
        size_t at = 0;
        for (unsigned b = 0; b < 256; b++) {
            next[b] = at;
            at += count[b];
            end[b] = at;
        }
        for (unsigned b = 0; b < 256; b++) {
            while (next[b] < end[b]) {
                dmr_keyent_t x = e[next[b]];
                unsigned k = s_byte(&x, d);
                while (k != b) { /* x goes to its bucket; take what was there */
                    dmr_keyent_t y = e[next[k]];
                    e[next[k]++] = x;
                    x = y;
                    k = s_byte(&x, d);
                }
                e[next[b]++] = x;
            }
        }
        for (unsigned b = 0; b < 256; b++)
            if (count[b] > 1)
                s_msd(c, e + (end[b] - count[b]), count[b], d + 1);
        return;
    }
    if (n <= RADIX_SMALL)
        s_insertion(c, e, n);
    else /* 16 equal bytes: lengths and later bytes decide */
        s_sort(c, e, n);
}

/* Distributes e[0..n) in place by s_bucket, then sorts each bucket. */
static void s_radix(const s_ctx *c, dmr_keyent_t *e, size_t n, uint32_t parts)
{
    size_t nb = (size_t)parts << 8;
    size_t *start = dmr_calloc(2 * nb + 1, sizeof *start),
           *next = start + nb + 1;
    for (size_t i = 0; i < n; i++)
        start[s_bucket(&e[i]) + 1]++;
    for (size_t b = 0; b < nb; b++) {
        start[b + 1] += start[b];
        next[b] = start[b];
    }
    for (size_t b = 0; b < nb; b++) {
        while (next[b] < start[b + 1]) {
            dmr_keyent_t x = e[next[b]];
            size_t k = s_bucket(&x);
            while (k != b) { /* x goes to its bucket; take what was there */
                dmr_keyent_t y = e[next[k]];
                e[next[k]++] = x;
                x = y;
                k = s_bucket(&x);
            }
            e[next[b]++] = x;
        }
    }
    for (size_t b = 0; b < nb; b++)
        if (start[b + 1] - start[b] > 1)
            s_msd(c, e + start[b], start[b + 1] - start[b], 1);
    free(start);
}

/* A job's own order, for qsort_r. */
static int s_order(const void *pa, const void *pb, void *arg)
{
    const dmr_keyent_t *a = pa, *b = pb;
    const s_ctx *c = arg;
    if (a->part != b->part)
        return a->part < b->part ? -1 : 1;
    return c->cmp(c->key(c->owner, a->id), c->key(c->owner, b->id));
}

void dmr_keyent_sort(dmr_keyent_t *e, size_t n, dmr_cmp_fn cmp,
                     dmr_keyent_key_fn key, const void *owner)
{
    s_ctx c = {key, owner, cmp};
    if (cmp && cmp != dmr_key_compare) {
        qsort_r(e, n, sizeof *e, s_order, &c);
        return;
    }
    uint32_t parts = 0;
    for (size_t i = 0; n >= RADIX_MIN && i < n && parts <= RADIX_PARTS; i++)
        if (e[i].part >= parts)
            parts = e[i].part + 1;
    if (n >= RADIX_MIN && parts <= RADIX_PARTS)
        s_radix(&c, e, n, parts);
    else
        s_sort(&c, e, n);
}

void dmr_keyent_reserve(dmr_keyent_t **e, size_t *cap, size_t n)
{
    if (n <= *cap)
        return;
    free(*e);
    *cap = n;
    *e = dmr_malloc(n * sizeof **e);
}
