/* combtab.c -- the map-side combining table (combtab.h).
 *
 * Groups live in the slots of an open-addressing table keyed by a hash of
 * (part, key), so finding one touches one slot. A group's values are an
 * array of slices, in a block that doubles as it fills (a few values for
 * a rare key, more for a common one); taking them for the combiner gives
 * the group a fresh block. Blocks and the bytes of keys and values are
 * appended to chunks that never move. */
#include "shuffle/combtab.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/util.h"

#define NIL UINT32_MAX
#define CHUNK (1u << 20)

typedef struct {
    const char *p;
    size_t len;
} s_val;

typedef struct {
    uint64_t hash; /* 0: an empty slot */
    const char *key;
    uint32_t klen, part;
    s_val *vals;  /* the block, in a chunk */
    uint32_t n;   /* values held */
    uint32_t cap; /* of the block */
} s_group;

typedef struct {
    dmr_values vals; /* must be first */
    const s_val *v;
    uint32_t i, n;
} s_iter;

struct dmr_combtab {
    char **chunks; /* every chunk allocated; [0, cur] in use */
    size_t nchunks, cur, used;
    char **bigs; /* records over a quarter chunk */
    size_t nbigs, big_bytes;
    s_group *slots; /* capslots a power of two */
    size_t ngroups, capslots;
    s_iter it;
};

static int s_iter_next(dmr_values *self, dmr_slice *out)
{
    s_iter *it = (s_iter *)self;
    if (it->i == it->n)
        return 0;
    out->ptr = it->v[it->i].p;
    out->len = it->v[it->i].len;
    it->i++;
    return 1;
}

dmr_combtab_t *dmr_combtab_new(void)
{
    dmr_combtab_t *t = dmr_calloc(1, sizeof *t);
    t->capslots = 1024;
    t->slots = dmr_calloc(t->capslots, sizeof *t->slots);
    t->it.vals.next = s_iter_next;
    return t;
}

/* n bytes that never move until the table is emptied. */
static char *s_alloc(dmr_combtab_t *t, size_t n)
{
    if (n > CHUNK / 4) { /* a big record: an allocation of its own */
        t->bigs = dmr_realloc(t->bigs, (t->nbigs + 1) * sizeof *t->bigs);
        t->bigs[t->nbigs++] = dmr_malloc(n ? n : 1);
        t->big_bytes += n;
        return t->bigs[t->nbigs - 1];
    }
    if (!t->nchunks || t->used + n > CHUNK) {
        if (t->nchunks && t->cur + 1 < t->nchunks) {
            t->cur++;
        } else {
            t->chunks =
                dmr_realloc(t->chunks, (t->nchunks + 1) * sizeof *t->chunks);
            t->chunks[t->nchunks] = dmr_malloc(CHUNK);
            t->cur = t->nchunks++;
        }
        t->used = 0;
    }
    char *p = t->chunks[t->cur] + t->used;
    t->used += n;
    return p;
}

/* n bytes aligned for s_val. */
static char *s_alloc_aligned(dmr_combtab_t *t, size_t n)
{
    t->used = (t->used + 7) & ~(size_t)7;
    return s_alloc(t, n);
}

static void s_grow_slots(dmr_combtab_t *t)
{
    size_t cap = 2 * t->capslots;
    s_group *g = dmr_calloc(cap, sizeof *g);
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

/* Whether group c holds key (of hash h) in part: the hash first, then
 * the bytes, compared inline (keys are short). */
static int s_is(const s_group *c, uint64_t h, uint32_t part, dmr_slice key)
{
    if (c->hash != h || c->part != part || c->klen != key.len)
        return 0;
    const unsigned char *a = (const unsigned char *)c->key;
    const unsigned char *b = (const unsigned char *)key.ptr;
    size_t i = 0;
    for (; i + 8 <= key.len; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y)
            return 0;
    }
    for (; i < key.len; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

size_t dmr_combtab_add(dmr_combtab_t *t, uint64_t hash, uint32_t part,
                       dmr_slice key, dmr_slice val, uint32_t *group)
{
    DMR_ASSERT(key.len <= UINT32_MAX);
    uint64_t h = (hash ^ (part * 0x9e3779b97f4a7c15ull)) | 1; /* never 0 */
    if (2 * (t->ngroups + 1) > t->capslots)
        s_grow_slots(t);
    size_t mask = t->capslots - 1, j = h & mask;
    s_group *g;
    for (;; j = (j + 1) & mask) {
        g = &t->slots[j];
        if (!g->hash) {
            char *k = s_alloc(t, key.len);
            if (key.len)
                memcpy(k, key.ptr, key.len);
            *g = (s_group){h, k, (uint32_t)key.len, part, NULL, 0, 0};
            t->ngroups++;
            break;
        }
        if (s_is(g, h, part, key))
            break;
    }
    if (g->n == g->cap) {
        uint32_t cap = g->cap ? 2 * g->cap : 2;
        s_val *nv = (s_val *)s_alloc_aligned(t, cap * sizeof *nv);
        if (g->n)
            memcpy(nv, g->vals, g->n * sizeof *nv);
        g->vals = nv;
        g->cap = cap;
    }
    char *v = s_alloc(t, val.len);
    if (val.len)
        memcpy(v, val.ptr, val.len);
    g->vals[g->n] = (s_val){v, val.len};
    *group = (uint32_t)j;
    return ++g->n;
}

void dmr_combtab_take(dmr_combtab_t *t, uint32_t gi, uint32_t *part,
                      dmr_slice *key, dmr_values **vals)
{
    s_group *g = &t->slots[gi];
    *part = g->part;
    *key = (dmr_slice){g->key, g->klen};
    t->it.v = g->vals;
    t->it.i = 0;
    t->it.n = g->n;
    *vals = &t->it.vals;
    /* a fresh block: what the combiner emits must not overwrite what it
     * reads */
    g->vals = NULL;
    g->n = g->cap = 0;
}

size_t dmr_combtab_bytes(const dmr_combtab_t *t)
{
    size_t chunks = t->nchunks ? t->cur * (size_t)CHUNK + t->used : 0;
    return chunks + t->big_bytes + t->capslots * sizeof(s_group);
}

size_t dmr_combtab_groups(const dmr_combtab_t *t)
{
    return t->ngroups;
}

int dmr_combtab_flush(dmr_combtab_t *t, dmr_group_fn fn, void *arg)
{
    int rc = 0;
    for (size_t gi = 0; gi < t->capslots && rc == 0; gi++) {
        s_group *g = &t->slots[gi];
        if (!g->n)
            continue;
        s_iter it = {{s_iter_next}, g->vals, 0, g->n};
        rc = fn(arg, g->part, (dmr_slice){g->key, g->klen}, &it.vals);
    }
    t->ngroups = 0;
    t->cur = 0;
    t->used = 0;
    for (size_t i = 0; i < t->nbigs; i++)
        free(t->bigs[i]);
    t->nbigs = 0;
    t->big_bytes = 0;
    memset(t->slots, 0, t->capslots * sizeof *t->slots);
    return rc;
}

void dmr_combtab_destroy(dmr_combtab_t **tp)
{
    dmr_combtab_t *t = tp ? *tp : NULL;
    if (!t)
        return;
    for (size_t i = 0; i < t->nchunks; i++)
        free(t->chunks[i]);
    free(t->chunks);
    for (size_t i = 0; i < t->nbigs; i++)
        free(t->bigs[i]);
    free(t->bigs);
    free(t->slots);
    free(t);
    *tp = NULL;
}
