/* sumtab.c -- the summing table (sumtab.h).
 *
 * Open addressing with linear probing over 32-byte slots, at most 3/4
 * full. A key of up to 16 bytes is kept zero-padded in the slot and
 * compared as two machine words; it is read from the caller's bytes with
 * loads that never pass the key's end (two overlapping ones, as
 * dmr_hash64 does), so a key at the very end of a buffer is safe. Such a
 * key's table hash is two multiplies of those words, cheap enough that
 * the slot does not keep it. A longer key is copied to the pool and its
 * slot keeps its dmr_hash64, so that only a matching hash leads to a
 * memcmp.
 *
 * The partition is a function of the key, so it is asked for once per
 * group, when the group is made, not once per pair: for word count that
 * is 30 times fewer calls of the partitioner and its hash.
 *
 * put() parses the count, packs the key and queues both with the slot's
 * index, prefetching the slot; the pair is added QUEUE puts later. */
#include "shuffle/sumtab.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/pool.h"
#include "common/error.h"
#include "common/util.h"
#include "shuffle/keyorder.h"

#define INLINE 16 /* key bytes kept in the slot */
#define QUEUE 16  /* pairs queued before they are added; a power of two */
#define FIRST_SLOTS 1024

typedef struct {
    union {
        uint64_t w[2];     /* klen <= INLINE: the key, zero-padded */
        char in[INLINE];   /* the same bytes */
        struct {           /* klen > INLINE */
            const char *p; /* in the pool */
            uint64_t h;    /* dmr_hash64 of the key */
        } out;
    } key;
    uint64_t count;
    uint32_t klen1; /* key length + 1; 0: an empty slot */
    uint32_t part;
} s_slot;

_Static_assert(sizeof(s_slot) == 32, "two slots to a cache line");

typedef struct {
    uint64_t w[2], h, n;
    uint32_t klen1;
} s_queued;

struct dmr_sumtab {
    s_slot *slots; /* capslots, a power of two */
    size_t ngroups, capslots;
    dmr_sumtab_part_fn part;
    dmr_sumtab_fail_fn fail;
    void *arg;
    dmr_pool_t pool;       /* keys longer than INLINE */
    s_queued q[QUEUE];     /* a ring: the oldest of qn at (qi - qn) */
    unsigned qi, qn;       /* the next to write; how many wait */
    size_t grow_at;        /* groups at which the table grows (3/4 full) */
    dmr_count_values_t it; /* the one value drain hands out */
    dmr_keyent_t *order;   /* drain's */
    size_t caporder;
};

/* The table's hash of a key of up to INLINE bytes, from its words: the
 * low bits index the table, so the high bits are folded into them. */
static uint64_t s_hash_words(const uint64_t w[2], uint32_t klen1)
{
    uint64_t h = (w[0] ^ klen1) * 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 32) ^ w[1]) * 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

/* The first n <= INLINE bytes at p, zero-padded to 16, as the two words
 * a slot's key.in reads as; no byte past p + n is read. */
static void s_pack(const char *p, size_t n, uint64_t w[2])
{
    const unsigned char *k = (const unsigned char *)p;
    uint64_t lo, hi = 0; /* little-endian numbers */
    if (n >= 8) {
        lo = dmr_le64(k);
        if (n > 8) /* bytes 8..n-1, from the last eight */
            hi = dmr_le64(k + n - 8) >> (8 * (16 - n));
    } else if (n >= 4) {
        lo = dmr_le32(k) | dmr_le32(k + n - 4) << (8 * (n - 4));
    } else if (n > 0) {
        lo = (uint64_t)k[0] | (uint64_t)k[n / 2] << (8 * (n / 2)) |
             (uint64_t)k[n - 1] << (8 * (n - 1));
    } else {
        lo = 0;
    }
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    lo = __builtin_bswap64(lo);
    hi = __builtin_bswap64(hi);
#endif
    w[0] = lo;
    w[1] = hi;
}

static const char *s_key(const s_slot *g)
{
    return g->klen1 - 1 <= INLINE ? g->key.in : g->key.out.p;
}

static uint64_t s_hash_of(const s_slot *g)
{
    if (g->klen1 - 1 > INLINE)
        return g->key.out.h;
    return s_hash_words(g->key.w, g->klen1);
}

static s_slot *s_slots_new(size_t n)
{
    return dmr_table_alloc(n * sizeof(s_slot));
}

static void s_grow(dmr_sumtab_t *t)
{
    size_t cap = 2 * t->capslots, mask = cap - 1;
    s_slot *g = s_slots_new(cap);
    for (size_t i = 0; i < t->capslots; i++) {
        if (!t->slots[i].klen1)
            continue;
        size_t j = s_hash_of(&t->slots[i]) & mask;
        while (g[j].klen1)
            j = (j + 1) & mask;
        g[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = g;
    t->capslots = cap;
    t->grow_at = cap / 4 * 3;
}

/* n more for group g: 0, or DMR_ETOOBIG (and g unchanged). */
static int s_count_add(s_slot *g, uint64_t n)
{
    if (g->count > UINT64_MAX - n)
        return DMR_ETOOBIG;
    g->count += n;
    return 0;
}

/* Adds a queued (short-keyed) pair. */
static int s_add(dmr_sumtab_t *t, const s_queued *e)
{
    if (t->ngroups >= t->grow_at)
        s_grow(t);
    size_t mask = t->capslots - 1;
    for (size_t j = e->h & mask;; j = (j + 1) & mask) {
        s_slot *g = &t->slots[j];
        if (g->klen1 == e->klen1 && g->key.w[0] == e->w[0] &&
            g->key.w[1] == e->w[1])
            return s_count_add(g, e->n);
        if (!g->klen1) {
            g->key.w[0] = e->w[0];
            g->key.w[1] = e->w[1];
            g->count = e->n;
            g->klen1 = e->klen1;
            g->part = t->part(t->arg, (dmr_slice){g->key.in, e->klen1 - 1});
            t->ngroups++;
            return 0;
        }
    }
}

/* Adds a pair whose key is longer than INLINE, at once. */
static int s_add_long(dmr_sumtab_t *t, dmr_slice key, uint64_t n)
{
    DMR_ASSERT(key.len < UINT32_MAX);
    uint64_t h = dmr_hash64(key.ptr, key.len);
    if (t->ngroups >= t->grow_at)
        s_grow(t);
    uint32_t klen1 = (uint32_t)key.len + 1;
    size_t mask = t->capslots - 1;
    for (size_t j = h & mask;; j = (j + 1) & mask) {
        s_slot *g = &t->slots[j];
        if (g->klen1 == klen1 && g->key.out.h == h &&
            memcmp(g->key.out.p, key.ptr, key.len) == 0)
            return s_count_add(g, n);
        if (!g->klen1) {
            char *k = dmr_pool_alloc(&t->pool, key.len);
            memcpy(k, key.ptr, key.len);
            g->key.out.p = k;
            g->key.out.h = h;
            g->count = n;
            g->klen1 = klen1;
            g->part = t->part(t->arg, key);
            t->ngroups++;
            return 0;
        }
    }
}

dmr_sumtab_t *dmr_sumtab_new(dmr_sumtab_part_fn part, dmr_sumtab_fail_fn fail,
                             void *arg)
{
    dmr_sumtab_t *t = dmr_calloc(1, sizeof *t);
    t->part = part;
    t->fail = fail;
    t->arg = arg;
    t->capslots = FIRST_SLOTS;
    t->grow_at = FIRST_SLOTS / 4 * 3;
    t->slots = s_slots_new(t->capslots);
    return t;
}

static int s_refused(dmr_sumtab_t *t, int rc, dmr_slice key, dmr_slice val)
{
    if (t->fail)
        t->fail(t->arg, rc, key, val);
    return rc;
}

int dmr_sumtab_put(dmr_sumtab_t *t, dmr_slice key, dmr_slice val)
{
    uint64_t n;
    if (dmr_count_parse(val, &n) != 0)
        return s_refused(t, DMR_EINVAL, key, val);
    int rc = 0;
    if (key.len > INLINE) { /* a sum does not care about order */
        rc = s_add_long(t, key, n);
        return rc ? s_refused(t, rc, key, val) : 0;
    }
    s_queued *e = &t->q[t->qi];
    if (t->qn == QUEUE) /* the oldest is where this one goes */
        rc = s_add(t, e);
    else
        t->qn++;
    t->qi = (t->qi + 1) & (QUEUE - 1);
    s_pack(key.ptr, key.len, e->w);
    e->klen1 = (uint32_t)key.len + 1;
    e->h = s_hash_words(e->w, e->klen1);
    e->n = n;
    __builtin_prefetch(&t->slots[e->h & (t->capslots - 1)], 1);
    return rc ? s_refused(t, rc, key, val) : 0;
}

int dmr_sumtab_sync(dmr_sumtab_t *t)
{
    int rc = 0;
    for (; t->qn; t->qn--) {
        int r = s_add(t, &t->q[(t->qi - t->qn) & (QUEUE - 1)]);
        if (r && !rc)
            rc = r;
    }
    return rc;
}

size_t dmr_sumtab_bytes(const dmr_sumtab_t *t)
{
    return dmr_pool_bytes(&t->pool) + t->capslots * sizeof(s_slot);
}

size_t dmr_sumtab_groups(const dmr_sumtab_t *t)
{
    return t->ngroups;
}

/* The key of group (slot) id, for dmr_keyent_sort. */
static dmr_slice s_ent_key(const void *owner, uint32_t id)
{
    const s_slot *g = &((const dmr_sumtab_t *)owner)->slots[id];
    return (dmr_slice){s_key(g), g->klen1 - 1};
}

int dmr_sumtab_drain(dmr_sumtab_t *t, dmr_cmp_fn cmp, dmr_group_fn fn,
                     void *arg)
{
    int rc = dmr_sumtab_sync(t);
    size_t n = 0;
    dmr_keyent_reserve(&t->order, &t->caporder, t->ngroups);
    for (size_t i = 0; i < t->capslots && rc == 0; i++)
        if (t->slots[i].klen1)
            t->order[n++] = dmr_keyent(t->slots[i].part, (uint32_t)i,
                                       s_ent_key(t, (uint32_t)i));
    if (rc == 0)
        dmr_keyent_sort(t->order, n, cmp, s_ent_key, t);
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* the slots are visited out of order: ask for some ahead */
        if (i + 8 < n)
            __builtin_prefetch(&t->slots[t->order[i + 8].id]);
        const s_slot *g = &t->slots[t->order[i].id];
        rc = fn(arg, g->part, (dmr_slice){s_key(g), g->klen1 - 1},
                dmr_count_values(&t->it, g->count));
    }
    /* empty, and small again: a spill must leave room in the buffer */
    t->ngroups = 0;
    t->qn = 0;
    dmr_pool_reset(&t->pool);
    free(t->slots);
    t->capslots = FIRST_SLOTS;
    t->grow_at = FIRST_SLOTS / 4 * 3;
    t->slots = s_slots_new(t->capslots);
    return rc;
}

void dmr_sumtab_destroy(dmr_sumtab_t **tp)
{
    dmr_sumtab_t *t = tp ? *tp : NULL;
    if (!t)
        return;
    dmr_pool_free(&t->pool);
    free(t->order);
    free(t->slots);
    free(t);
    *tp = NULL;
}
