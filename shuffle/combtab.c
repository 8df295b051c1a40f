/* combtab.c -- the map-side combining table (combtab.h).
 *
 * Groups live in the slots of an open-addressing table (linear probing)
 * keyed by a hash of (part, key). A slot is one cache line: the hash, the
 * key inline (or, past KEY_INLINE bytes, a pointer to it) and a small
 * area of values, each a length byte and its bytes. Values that do not
 * fit there go to the group's out-of-line array (an s_ovf), a block of
 * slices that doubles as it fills; taking the values for the combiner
 * gives the group a fresh block. Blocks, long keys and out-of-line value
 * bytes live in a pool (common/pool.h) until the table is emptied.
 *
 * put() queues a pair (its key zero-padded, as the slot keeps it) and
 * prefetches its slot; the pair is added QUEUE puts later, when the line
 * has had time to arrive. drain() lists the groups with their key's first
 * 16 bytes, sorts that list (most comparisons never touch a slot) and
 * visits the slots in order, prefetching a few ahead. */
#include "shuffle/combtab.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/pool.h"
#include "common/error.h"
#include "common/util.h"
#include "shuffle/keyorder.h"

#define KEY_INLINE 24
#define VAL_INLINE 18
/* A group with values out of line is combined once it holds this many
 * (or twice what its last combine left, if more). */
#define COMBINE_AT 16
/* Pairs queued by put before they are added, and the value bytes a
 * queued pair may have (pairs with a longer value, or a key longer than
 * KEY_INLINE, are added at once). */
#define QUEUE 16
#define QVAL 16

typedef struct {
    uint64_t hash; /* 0: an empty slot */
    uint32_t part, klen;
    union {
        char in[KEY_INLINE]; /* klen <= KEY_INLINE */
        const char *out;     /* in the pool */
    } key;
    uint32_t ovf;  /* 1 + index of the group's s_ovf, or 0 */
    uint8_t nin;   /* values in vin */
    uint8_t vused; /* bytes of vin in use */
    char vin[VAL_INLINE];
} s_slot;

_Static_assert(sizeof(s_slot) == 64, "a slot is one cache line");

typedef struct {
    const char *p;
    size_t len;
} s_val;

typedef struct {
    s_val *v; /* the block, in the pool */
    uint32_t n, cap;
    uint32_t limit; /* combine when the group holds this many values */
} s_ovf;

/* A key looked up: its table hash and, if it is short enough to be
 * inline, its bytes zero-padded to KEY_INLINE, which compare with a slot's
 * (zero-padded too) as three words. */
typedef struct {
    uint64_t h;
    uint32_t part, klen;
    const char *key;
    uint64_t pad[KEY_INLINE / 8];
} s_probe;

/* A queued pair: its probe (key inline) and value. */
typedef struct {
    s_probe p;
    uint32_t vlen;
    char val[QVAL];
} s_queued;

/* The values handed to a combiner or to drain's callback: the inline ones
 * (copied, since what the combiner emits goes back into the slot), then
 * the block's. */
typedef struct {
    dmr_values vals; /* must be first */
    char in[VAL_INLINE];
    uint32_t inpos, inused;
    const s_val *v;
    uint32_t i, n;
} s_iter;

struct dmr_combtab {
    s_slot *slots; /* capslots, a power of two, cache-line aligned */
    size_t ngroups, capslots;
    s_ovf *ovfs;
    size_t novfs, capovfs;
    dmr_pool_t pool; /* blocks, long keys, out-of-line values */
    s_queued q[QUEUE];
    unsigned qhead, qn;
    dmr_combtab_full_fn full;
    void *arg;
    s_iter it;
    dmr_keyent_t *order; /* drain's */
    size_t caporder;
};

static int s_iter_next(dmr_values *self, dmr_slice *out)
{
    s_iter *it = (s_iter *)self;
    if (it->inpos < it->inused) {
        uint32_t len = (unsigned char)it->in[it->inpos];
        out->ptr = it->in + it->inpos + 1;
        out->len = len;
        it->inpos += 1 + len;
        return 1;
    }
    if (it->i == it->n)
        return 0;
    out->ptr = it->v[it->i].p;
    out->len = it->v[it->i].len;
    it->i++;
    return 1;
}

/* n empty slots. A table of megabytes is looked up at random, so each
 * lookup would also miss the TLB with 4 KiB pages; dmr_table_alloc asks
 * for huge pages where the kernel gives them on request. */
static s_slot *s_slots_new(size_t n)
{
    return dmr_table_alloc(n * sizeof(s_slot));
}

dmr_combtab_t *dmr_combtab_new(dmr_combtab_full_fn full, void *arg)
{
    dmr_combtab_t *t = dmr_calloc(1, sizeof *t);
    t->capslots = 1024; /* as s_clear leaves it */
    t->slots = s_slots_new(t->capslots);
    t->full = full;
    t->arg = arg;
    return t;
}

static const char *s_key(const s_slot *g)
{
    return g->klen <= KEY_INLINE ? g->key.in : g->key.out;
}

/* The table's hash of (part, key); never 0, which marks an empty slot. */
static uint64_t s_mix(uint64_t hash, uint32_t part)
{
    return (hash ^ (part * 0x9e3779b97f4a7c15ull)) | 1;
}

static void s_grow_slots(dmr_combtab_t *t)
{
    size_t cap = 2 * t->capslots;
    s_slot *g = s_slots_new(cap);
    for (size_t i = 0; i < t->capslots; i++) {
        if (!t->slots[i].hash)
            continue;
        size_t j = t->slots[i].hash & (cap - 1);
        while (g[j].hash)
            j = (j + 1) & (cap - 1);
        g[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = g;
    t->capslots = cap;
}

static void s_probe_init(s_probe *p, uint64_t hash, uint32_t part,
                         dmr_slice key)
{
    DMR_ASSERT(key.len <= UINT32_MAX);
    p->h = s_mix(hash, part);
    p->part = part;
    p->klen = (uint32_t)key.len;
    p->key = key.ptr;
    if (key.len <= KEY_INLINE) {
        /* copied in pieces of fixed size, which compile to moves */
        char *d = (char *)p->pad;
        const char *k = key.ptr;
        size_t n = key.len, i = 0;
        memset(p->pad, 0, sizeof p->pad);
        for (; i + 8 <= n; i += 8)
            memcpy(d + i, k + i, 8);
        if (n - i >= 4) {
            memcpy(d + i, k + i, 4);
            i += 4;
        }
        if (n - i >= 2) {
            memcpy(d + i, k + i, 2);
            i += 2;
        }
        if (n - i)
            d[i] = k[i];
        p->key = d;
    }
}

/* Whether slot c holds p's key and part: the hash first, then the key,
 * as three words when inline. */
static int s_is(const s_slot *c, const s_probe *p)
{
    if (c->hash != p->h || c->part != p->part || c->klen != p->klen)
        return 0;
    if (p->klen > KEY_INLINE)
        return !memcmp(c->key.out, p->key, p->klen);
    uint64_t w[KEY_INLINE / 8];
    memcpy(w, c->key.in, sizeof w);
    return ((w[0] ^ p->pad[0]) | (w[1] ^ p->pad[1]) | (w[2] ^ p->pad[2])) == 0;
}

/* The slot of p's (part, key), made if it is new. */
static uint32_t s_find(dmr_combtab_t *t, const s_probe *p)
{
    if (4 * (t->ngroups + 1) > 3 * t->capslots) /* load 3/4 at most */
        s_grow_slots(t);
    size_t mask = t->capslots - 1, j = p->h & mask;
    for (;; j = (j + 1) & mask) {
        s_slot *g = &t->slots[j];
        if (!g->hash) {
            g->hash = p->h;
            g->part = p->part;
            g->klen = p->klen;
            if (p->klen <= KEY_INLINE) {
                memcpy(g->key.in, p->pad, KEY_INLINE);
            } else {
                char *k = dmr_pool_alloc(&t->pool, p->klen);
                memcpy(k, p->key, p->klen);
                g->key.out = k;
            }
            t->ngroups++;
            return (uint32_t)j;
        }
        if (s_is(g, p))
            return (uint32_t)j;
    }
}

static s_ovf *s_ovf_of(dmr_combtab_t *t, s_slot *g)
{
    if (!g->ovf) {
        if (t->novfs == t->capovfs) {
            t->capovfs = t->capovfs ? 2 * t->capovfs : 64;
            t->ovfs = dmr_realloc(t->ovfs, t->capovfs * sizeof *t->ovfs);
        }
        t->ovfs[t->novfs] = (s_ovf){NULL, 0, 0, COMBINE_AT};
        g->ovf = (uint32_t)++t->novfs;
    }
    return &t->ovfs[g->ovf - 1];
}

/* Adds val to group g; returns whether g should now be combined. */
static int s_add_val(dmr_combtab_t *t, s_slot *g, dmr_slice val)
{
    size_t need = 1 + val.len;
    if (val.len < VAL_INLINE && g->vused + need <= VAL_INLINE) {
        g->vin[g->vused] = (char)val.len;
        if (val.len)
            memcpy(g->vin + g->vused + 1, val.ptr, val.len);
        g->vused = (uint8_t)(g->vused + need);
        g->nin++;
        if (!g->ovf) /* full when another value like this one won't fit */
            return g->nin >= 2 && g->vused + need > VAL_INLINE;
        const s_ovf *o = &t->ovfs[g->ovf - 1];
        return o->n + g->nin >= o->limit;
    }
    s_ovf *o = s_ovf_of(t, g);
    if (o->n == o->cap) {
        uint32_t cap = o->cap ? 2 * o->cap : 4;
        s_val *nv = (s_val *)dmr_pool_alloc_aligned(&t->pool, cap * sizeof *nv);
        if (o->n)
            memcpy(nv, o->v, o->n * sizeof *nv);
        o->v = nv;
        o->cap = cap;
    }
    char *v = dmr_pool_alloc(&t->pool, val.len);
    if (val.len)
        memcpy(v, val.ptr, val.len);
    o->v[o->n++] = (s_val){v, val.len};
    return o->n + g->nin >= o->limit;
}

/* Adds val under p. */
static int s_add(dmr_combtab_t *t, const s_probe *p, dmr_slice val,
                 uint32_t *group)
{
    uint32_t j = s_find(t, p); /* may move the slots */
    *group = j;
    return s_add_val(t, &t->slots[j], val);
}

int dmr_combtab_add(dmr_combtab_t *t, uint64_t hash, uint32_t part,
                    dmr_slice key, dmr_slice val, uint32_t *group)
{
    s_probe p;
    s_probe_init(&p, hash, part, key);
    return s_add(t, &p, val, group);
}

int dmr_combtab_add_to(dmr_combtab_t *t, uint32_t gi, dmr_slice key,
                       dmr_slice val)
{
    s_slot *g = &t->slots[gi];
    s_probe p;
    s_probe_init(&p, 0, g->part, key);
    p.h = g->hash;
    if (!s_is(g, &p))
        return -1;
    s_add_val(t, g, val);
    return 0;
}

/* Adds a pair and calls full if its group asks for it. */
static int s_add_full(dmr_combtab_t *t, const s_probe *p, dmr_slice val)
{
    uint32_t g;
    int rc = s_add(t, p, val, &g);
    return rc == 1 ? t->full(t->arg, g) : rc;
}

/* Adds the oldest queued pair. */
static int s_pop(dmr_combtab_t *t)
{
    s_queued *e = &t->q[t->qhead];
    t->qhead = (t->qhead + 1) % QUEUE;
    t->qn--;
    e->p.key = (const char *)e->p.pad;
    return s_add_full(t, &e->p, (dmr_slice){e->val, e->vlen});
}

int dmr_combtab_put(dmr_combtab_t *t, uint64_t hash, uint32_t part,
                    dmr_slice key, dmr_slice val)
{
    int rc = 0;
    if (key.len > KEY_INLINE || val.len > QVAL) {
        /* added at once, after what waits: values keep their order */
        if ((rc = dmr_combtab_sync(t)) != 0)
            return rc;
        s_probe p;
        s_probe_init(&p, hash, part, key);
        return s_add_full(t, &p, val);
    }
    if (t->qn == QUEUE)
        rc = s_pop(t);
    s_queued *e = &t->q[(t->qhead + t->qn++) % QUEUE];
    s_probe_init(&e->p, hash, part, key);
    __builtin_prefetch(&t->slots[e->p.h & (t->capslots - 1)], 1);
    e->vlen = (uint32_t)val.len;
    if (val.len)
        memcpy(e->val, val.ptr, val.len);
    return rc;
}

int dmr_combtab_sync(dmr_combtab_t *t)
{
    int rc = 0;
    while (t->qn && rc == 0)
        rc = s_pop(t);
    return rc;
}

/* Points the table's iterator at group g's values. */
static dmr_values *s_values(dmr_combtab_t *t, const s_slot *g)
{
    s_iter *it = &t->it;
    it->vals.next = s_iter_next;
    it->inpos = 0;
    memcpy(it->in, g->vin, VAL_INLINE); /* a constant size: two moves */
    it->inused = g->vused;
    const s_ovf *o = g->ovf ? &t->ovfs[g->ovf - 1] : NULL;
    it->v = o ? o->v : NULL;
    it->i = 0;
    it->n = o ? o->n : 0;
    return &it->vals;
}

void dmr_combtab_take(dmr_combtab_t *t, uint32_t gi, uint32_t *part,
                      dmr_slice *key, dmr_values **vals)
{
    s_slot *g = &t->slots[gi];
    *part = g->part;
    *key = (dmr_slice){s_key(g), g->klen};
    *vals = s_values(t, g);
    /* a fresh start: what the combiner emits must not overwrite what it
     * reads (the inline values were copied; the block is left behind) */
    g->nin = g->vused = 0;
    if (g->ovf) {
        s_ovf *o = &t->ovfs[g->ovf - 1];
        o->v = NULL;
        o->n = o->cap = 0;
    }
}

void dmr_combtab_combined(dmr_combtab_t *t, uint32_t gi)
{
    const s_slot *g = &t->slots[gi];
    if (!g->ovf)
        return;
    s_ovf *o = &t->ovfs[g->ovf - 1];
    uint32_t now = o->n + g->nin;
    o->limit = now > COMBINE_AT / 2 ? 2 * now : COMBINE_AT;
}

size_t dmr_combtab_bytes(const dmr_combtab_t *t)
{
    return dmr_pool_bytes(&t->pool) + t->capslots * sizeof(s_slot) +
           t->capovfs * sizeof(s_ovf);
}

size_t dmr_combtab_groups(const dmr_combtab_t *t)
{
    return t->ngroups;
}

/* The key of group (slot) id, for dmr_keyent_sort. */
static dmr_slice s_ent_key(const void *owner, uint32_t id)
{
    const s_slot *g = &((const dmr_combtab_t *)owner)->slots[id];
    return (dmr_slice){s_key(g), g->klen};
}

/* Empties the table, keeping its allocations. */
static void s_clear(dmr_combtab_t *t)
{
    t->ngroups = 0;
    t->novfs = 0;
    dmr_pool_reset(&t->pool);
    /* back to a small table: a spill must leave room in the buffer */
    free(t->slots);
    t->capslots = 1024;
    t->slots = s_slots_new(t->capslots);
}

int dmr_combtab_drain(dmr_combtab_t *t, dmr_cmp_fn cmp, dmr_group_fn fn,
                      void *arg)
{
    int rc = dmr_combtab_sync(t);
    size_t n = 0;
    dmr_keyent_reserve(&t->order, &t->caporder, t->ngroups);
    for (size_t i = 0; i < t->capslots && rc == 0; i++) {
        const s_slot *g = &t->slots[i];
        if (!g->hash ||
            (!g->nin && (!g->ovf || !t->ovfs[g->ovf - 1].n))) /* taken */
            continue;
        t->order[n++] =
            dmr_keyent(g->part, (uint32_t)i, (dmr_slice){s_key(g), g->klen});
    }
    if (rc == 0)
        dmr_keyent_sort(t->order, n, cmp, s_ent_key, t);
    for (size_t i = 0; i < n && rc == 0; i++) {
        /* the slots are visited out of order: ask for one ahead */
        if (i + 8 < n)
            __builtin_prefetch(&t->slots[t->order[i + 8].id]);
        const s_slot *g = &t->slots[t->order[i].id];
        rc = fn(arg, g->part, (dmr_slice){s_key(g), g->klen}, s_values(t, g));
    }
    s_clear(t);
    return rc;
}

void dmr_combtab_destroy(dmr_combtab_t **tp)
{
    dmr_combtab_t *t = tp ? *tp : NULL;
    if (!t)
        return;
    dmr_pool_free(&t->pool);
    free(t->ovfs);
    free(t->order);
    free(t->slots);
    free(t);
    *tp = NULL;
}
