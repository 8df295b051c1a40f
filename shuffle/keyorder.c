/* keyorder.c -- sorting a table's groups for a drain (keyorder.h).
 *
 * Bytewise order: the entries are first distributed in place by (part,
 * first key byte) -- one counting pass, then a permutation along cycles
 * (an "American flag" pass) -- and each such bucket is then quicksorted
 * (median of three, insertion sort for short ranges, recursing into the
 * smaller side) on the cached prefixes. A bucket is a few thousand
 * entries that fit in the cache, where one quicksort of them all would
 * go through memory log n times. A job's order goes through qsort_r,
 * since its comparison dominates. */
#include "shuffle/keyorder.h"

#include <stdlib.h>

#include "common/alloc.h"

/* Fewer entries than this are quicksorted at once. */
#define RADIX_MIN 4096
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
    for (size_t i = 1; i < n; i++) {
        dmr_keyent_t x = e[i];
        size_t j = i;
        for (; j > 0 && s_before(c, &x, &e[j - 1]); j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

static size_t s_bucket(const dmr_keyent_t *e)
{
    return (size_t)e->part << 8 | (size_t)(e->p0 >> 56);
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
            s_sort(c, e + start[b], start[b + 1] - start[b]);
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
