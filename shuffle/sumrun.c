/* sumrun.c -- the folded run of a summing job's reduce (sumrun.h).
 *
 * A run is an array of entries in key order, each with its count, its
 * key's place in a byte arena and, for the bytewise order, the key's first
 * 8 bytes as a big-endian number, which decide most comparisons without
 * touching the arena. A fold writes the merge of the run and the added
 * keys into a second run and then swaps the two, so the old run is intact
 * until end, and abort only forgets the second. */
#include "shuffle/sumrun.h"

#include <stdlib.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

typedef struct {
    uint64_t prefix; /* dmr_key_prefix of the key (bytewise order only) */
    uint64_t count;
    uint32_t off, len; /* the key in the arena */
} s_ent;

typedef struct {
    s_ent *e;
    size_t n, cap;
    dmr_buf_t keys; /* the arena */
} s_side;

struct dmr_sumrun {
    dmr_cmp_fn cmp;  /* NULL: bytewise, through the prefixes */
    s_side run, out; /* the run; the fold being written */
    size_t at;       /* entries of run already passed to out */
    dmr_count_values_t it;
};

static dmr_slice s_key(const s_side *s, const s_ent *e)
{
    return (dmr_slice){s->keys.data + e->off, e->len};
}

/* a's key against key (whose prefix is p): <0, 0, >0. */
static int s_cmp(const dmr_sumrun_t *s, const s_side *side, const s_ent *a,
                 dmr_slice key, uint64_t p)
{
    if (s->cmp)
        return s->cmp(s_key(side, a), key);
    return dmr_key_compare_prefixed(s_key(side, a), a->prefix, key, p);
}

static int s_push(s_side *o, dmr_slice key, uint64_t prefix, uint64_t count)
{
    if (o->keys.len + key.len > UINT32_MAX)
        return DMR_ETOOBIG;
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 1024;
        o->e = dmr_realloc(o->e, o->cap * sizeof *o->e);
    }
    o->e[o->n++] =
        (s_ent){prefix, count, (uint32_t)o->keys.len, (uint32_t)key.len};
    dmr_buf_append(&o->keys, key.ptr, key.len);
    return 0;
}

dmr_sumrun_t *dmr_sumrun_new(dmr_cmp_fn cmp)
{
    dmr_sumrun_t *s = dmr_calloc(1, sizeof *s);
    s->cmp = cmp == dmr_key_compare ? NULL : cmp;
    return s;
}

void dmr_sumrun_begin(dmr_sumrun_t *s)
{
    s->out.n = 0;
    dmr_buf_clear(&s->out.keys);
    s->at = 0;
    /* the fold holds at least the run: grow once, not by doubling */
    if (s->out.cap < s->run.n + s->run.n / 4) {
        s->out.cap = s->run.n + s->run.n / 4;
        s->out.e = dmr_realloc(s->out.e, s->out.cap * sizeof *s->out.e);
    }
    dmr_buf_reserve(&s->out.keys, s->run.keys.len + s->run.keys.len / 4);
}

int dmr_sumrun_add(dmr_sumrun_t *s, dmr_slice key, uint64_t n)
{
    uint64_t p = s->cmp ? 0 : dmr_key_prefix(key.ptr, key.len);
    s_side *o = &s->out;
    /* the keys of the run before this one go first */
    int c = 1;
    while (s->at < s->run.n &&
           (c = s_cmp(s, &s->run, &s->run.e[s->at], key, p)) < 0) {
        const s_ent *e = &s->run.e[s->at++];
        int rc = s_push(o, s_key(&s->run, e), e->prefix, e->count);
        if (rc)
            return rc;
    }
    if (c == 0) { /* the run has it: the sum goes out */
        const s_ent *e = &s->run.e[s->at++];
        if (e->count > UINT64_MAX - n)
            return DMR_ETOOBIG;
        n += e->count;
    }
    /* the added keys must be in order: against the last one out */
    if (o->n > 0) {
        s_ent *last = &o->e[o->n - 1];
        int d = s_cmp(s, o, last, key, p);
        if (d > 0)
            return DMR_ECORRUPT;
        if (d == 0) {
            if (last->count > UINT64_MAX - n)
                return DMR_ETOOBIG;
            last->count += n;
            return 0;
        }
    }
    return s_push(o, key, p, n);
}

void dmr_sumrun_end(dmr_sumrun_t *s)
{
    for (; s->at < s->run.n; s->at++) {
        const s_ent *e = &s->run.e[s->at];
        /* the run held these already, so they fit */
        int rc = s_push(&s->out, s_key(&s->run, e), e->prefix, e->count);
        DMR_ASSERT(rc == 0);
    }
    s_side tmp = s->run;
    s->run = s->out;
    s->out = tmp;
    dmr_sumrun_abort(s);
}

void dmr_sumrun_abort(dmr_sumrun_t *s)
{
    s->out.n = 0;
    dmr_buf_clear(&s->out.keys);
    s->at = 0;
}

size_t dmr_sumrun_keys(const dmr_sumrun_t *s)
{
    return s->run.n;
}

size_t dmr_sumrun_bytes(const dmr_sumrun_t *s)
{
    return (s->run.cap + s->out.cap) * sizeof(s_ent) + s->run.keys.cap +
           s->out.keys.cap;
}

int dmr_sumrun_each(dmr_sumrun_t *s, dmr_group_fn fn, void *arg)
{
    for (size_t i = 0; i < s->run.n; i++) {
        const s_ent *e = &s->run.e[i];
        int rc =
            fn(arg, 0, s_key(&s->run, e), dmr_count_values(&s->it, e->count));
        if (rc)
            return rc;
    }
    return 0;
}

void dmr_sumrun_destroy(dmr_sumrun_t **sp)
{
    dmr_sumrun_t *s = sp ? *sp : NULL;
    if (!s)
        return;
    free(s->run.e);
    free(s->out.e);
    dmr_buf_free(&s->run.keys);
    dmr_buf_free(&s->out.keys);
    free(s);
    *sp = NULL;
}
