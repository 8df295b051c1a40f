/* keyorder.c -- sorting a table's groups for a drain (keyorder.h).
 *
 * Bytewise order is a quicksort (median of three, insertion sort for
 * short ranges, recursing into the smaller side) on the cached prefixes;
 * a job's order goes through qsort_r, since its comparison dominates. */
#include "shuffle/keyorder.h"

#include <stdlib.h>

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
    if (cmp && cmp != dmr_key_compare)
        qsort_r(e, n, sizeof *e, s_order, &c);
    else
        s_sort(&c, e, n);
}
