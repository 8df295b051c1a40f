/* sortbuf.c -- the map-side buffer of emitted pairs.
 *
 * Each pair is copied into one arena, key then value back to back; an
 * entry array records where (the value starts right after the key). Drain
 * sorts the entries with an introsort (quicksort, median of three,
 * insertion sort for short ranges, heapsort when recursion runs deep).
 *
 * The default order never calls a comparison function and rarely touches
 * the arena. Each entry caches 8 key bytes from some depth d as a
 * big-endian integer, zero-padded (its "chunk"), and entries are sorted by
 * (part, chunk, min(klen - d, 9)). Among keys equal in their first d
 * bytes that is bytewise order: a smaller chunk means a smaller key, and
 * with equal chunks a key ending inside the chunk is a prefix of any
 * longer one. Runs still tied with keys longer than d + 8 are re-sorted
 * with the next chunk (MSD style), so the arena is read once per entry per
 * level rather than on every comparison. Past S_MAX_DEPTH bytes a tied run
 * is sorted by full comparison of the remaining bytes instead, which
 * bounds the work on many copies of one long key.
 *
 * A custom cmp is called for every key comparison. Ties between equal keys
 * are broken by arena offset, i.e. by insertion order, so a group's values
 * come out in the order they were added and its key is the first one
 * added.
 *
 * After drain (also a failed one) the buffer is empty but keeps its
 * allocations for the next round. Single-threaded. */
#include "shuffle/sortbuf.h"

#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"

#define S_MAX_DEPTH 32 /* key bytes sorted by chunks before full compares */
#define S_AHEAD 8      /* drain: entries prefetched ahead of the writer */

typedef struct {
    uint64_t chunk; /* default order: 8 key bytes from the current depth,
                     * big-endian, zero-padded; unused with a custom cmp */
    uint64_t off;   /* arena offset of the key; the value follows it */
    uint32_t part;
    uint32_t klen;
    uint32_t vlen;
    uint32_t unused;
} s_entry;

/* A range of entries still to sort, tied in their first depth key bytes. */
typedef struct {
    size_t lo, n;
    uint32_t depth;
} s_range;

struct dmr_sortbuf {
    uint32_t nparts;
    dmr_cmp_fn cmp;  /* custom order, or NULL for dmr_key_compare */
    dmr_buf_t arena; /* keys and values */
    s_entry *ents;
    size_t n, cap;
    uint32_t depth; /* default order: key depth of the range being sorted */
    s_range *todo;  /* default order: ranges left to sort (a stack) */
    size_t ntodo, captodo;
};

/* The iterator over one group's values, ents[pos..end). */
typedef struct {
    dmr_values vals; /* must be first */
    const dmr_sortbuf_t *sb;
    size_t pos, end;
} s_group;

static dmr_slice s_key(const dmr_sortbuf_t *sb, const s_entry *e)
{
    return (dmr_slice){sb->arena.data + e->off, e->klen};
}

/* Key bytes left after d, capped at 9 ("more than a chunk"). */
static uint32_t s_rest(uint32_t klen, uint32_t d)
{
    return klen - d < 9 ? klen - d : 9;
}

/* The sort order: (part, key, insertion order), for entries whose keys
 * agree in their first sb->depth bytes. */
static int s_less(const dmr_sortbuf_t *sb, const s_entry *a, const s_entry *b)
{
    if (a->part != b->part)
        return a->part < b->part;
    int c = 0;
    if (sb->cmp) {
        c = sb->cmp(s_key(sb, a), s_key(sb, b));
    } else if (sb->depth < S_MAX_DEPTH) {
        if (a->chunk != b->chunk)
            return a->chunk < b->chunk;
        uint32_t ra = s_rest(a->klen, sb->depth);
        uint32_t rb = s_rest(b->klen, sb->depth);
        if (ra != rb)
            return ra < rb;
    } else {
        dmr_slice ka = s_key(sb, a), kb = s_key(sb, b);
        ka.ptr += sb->depth;
        ka.len -= sb->depth;
        kb.ptr += sb->depth;
        kb.len -= sb->depth;
        c = dmr_key_compare(ka, kb);
    }
    return c != 0 ? c < 0 : a->off < b->off;
}

/* Whether a and b belong to one group (same part, equal keys). */
static int s_same_group(const dmr_sortbuf_t *sb, const s_entry *a,
                        const s_entry *b)
{
    if (a->part != b->part)
        return 0;
    if (sb->cmp)
        return sb->cmp(s_key(sb, a), s_key(sb, b)) == 0;
    /* equal keys were sorted in the same ranges, so hold equal chunks */
    return a->chunk == b->chunk && a->klen == b->klen &&
           memcmp(sb->arena.data + a->off, sb->arena.data + b->off, a->klen) ==
               0;
}

static void s_swap(s_entry *a, s_entry *b)
{
    s_entry t = *a;
    *a = *b;
    *b = t;
}

static void s_insertion_sort(const dmr_sortbuf_t *sb, s_entry *e, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        s_entry x = e[i];
        size_t j = i;
        for (; j > 0 && s_less(sb, &x, &e[j - 1]); j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

static void s_sift(const dmr_sortbuf_t *sb, s_entry *e, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            return;
        if (c + 1 < n && s_less(sb, &e[c], &e[c + 1]))
            c++;
        if (!s_less(sb, &e[i], &e[c]))
            return;
        s_swap(&e[i], &e[c]);
        i = c;
    }
}

static void s_heap_sort(const dmr_sortbuf_t *sb, s_entry *e, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        s_sift(sb, e, i, n);
    for (size_t k = n; k-- > 1;) {
        s_swap(&e[0], &e[k]);
        s_sift(sb, e, 0, k);
    }
}

static void s_intro_sort(const dmr_sortbuf_t *sb, s_entry *e, size_t n,
                         unsigned budget)
{
    while (n > 16) {
        if (budget-- == 0) {
            s_heap_sort(sb, e, n);
            return;
        }
        /* Median of three to the middle, then Hoare's partition around
         * it; the smaller side recurses, the larger one loops. */
        size_t mid = (n - 1) / 2;
        if (s_less(sb, &e[mid], &e[0]))
            s_swap(&e[mid], &e[0]);
        if (s_less(sb, &e[n - 1], &e[mid]))
            s_swap(&e[n - 1], &e[mid]);
        if (s_less(sb, &e[mid], &e[0]))
            s_swap(&e[mid], &e[0]);
        s_entry pivot = e[mid];
        size_t i = 0, j = n - 1;
        for (;;) {
            while (s_less(sb, &e[i], &pivot))
                i++;
            while (s_less(sb, &pivot, &e[j]))
                j--;
            if (i >= j)
                break;
            s_swap(&e[i], &e[j]);
            i++;
            j--;
        }
        /* e[0..j] <= pivot <= e[j+1..n) */
        size_t left = j + 1;
        if (left < n - left) {
            s_intro_sort(sb, e, left, budget);
            e += left;
            n -= left;
        } else {
            s_intro_sort(sb, e + left, n - left, budget);
            n = left;
        }
    }
    s_insertion_sort(sb, e, n);
}

/* Introsort of e[0..n) in the order s_less gives at the current depth. */
static void s_sort_range(dmr_sortbuf_t *sb, s_entry *e, size_t n)
{
    unsigned budget = 0;
    for (size_t m = n; m > 1; m >>= 1)
        budget += 2;
    s_intro_sort(sb, e, n, budget);
}

static void s_push(dmr_sortbuf_t *sb, size_t lo, size_t n, uint32_t depth)
{
    if (sb->ntodo == sb->captodo) {
        sb->captodo = sb->captodo ? 2 * sb->captodo : 64;
        sb->todo = dmr_realloc(sb->todo, sb->captodo * sizeof *sb->todo);
    }
    sb->todo[sb->ntodo++] = (s_range){lo, n, depth};
}

/* Sorts every entry into (part, key, insertion order). */
static void s_sort(dmr_sortbuf_t *sb)
{
    if (sb->n < 2)
        return;
    if (sb->cmp) {
        s_sort_range(sb, sb->ents, sb->n);
        return;
    }
    /* Chunks for depth 0 were cached by dmr_sortbuf_add. */
    s_push(sb, 0, sb->n, 0);
    while (sb->ntodo > 0) {
        s_range r = sb->todo[--sb->ntodo];
        s_entry *e = sb->ents + r.lo;
        sb->depth = r.depth;
        s_sort_range(sb, e, r.n);
        if (r.depth >= S_MAX_DEPTH)
            continue;
        /* Find runs still tied with keys that go on past this chunk. */
        uint32_t next = r.depth + 8;
        for (size_t i = 0; i < r.n;) {
            size_t j = i + 1;
            if (s_rest(e[i].klen, r.depth) == 9) {
                while (j < r.n && e[j].part == e[i].part &&
                       e[j].chunk == e[i].chunk &&
                       s_rest(e[j].klen, r.depth) == 9)
                    j++;
            }
            if (j - i > 1) {
                for (size_t k = i; next < S_MAX_DEPTH && k < j; k++)
                    e[k].chunk = dmr_key_prefix(
                        sb->arena.data + e[k].off + next, e[k].klen - next);
                s_push(sb, r.lo + i, j - i, next);
            }
            i = j;
        }
    }
}

static int s_group_next(dmr_values *self, dmr_slice *out)
{
    s_group *g = (s_group *)self;
    if (g->pos == g->end)
        return 0;
    const s_entry *e = &g->sb->ents[g->pos++];
    out->ptr = g->sb->arena.data + e->off + e->klen;
    out->len = e->vlen;
    return 1;
}

dmr_sortbuf_t *dmr_sortbuf_new(uint32_t nparts, dmr_cmp_fn cmp)
{
    DMR_ASSERT(nparts > 0);
    dmr_sortbuf_t *sb = dmr_calloc(1, sizeof *sb);
    sb->nparts = nparts;
    sb->cmp = cmp == dmr_key_compare ? NULL : cmp;
    return sb;
}

void dmr_sortbuf_add(dmr_sortbuf_t *sb, uint32_t part, dmr_slice key,
                     dmr_slice val)
{
    DMR_ASSERT(part < sb->nparts);
    DMR_ASSERT(key.len <= UINT32_MAX && val.len <= UINT32_MAX);
    if (sb->n == sb->cap) {
        sb->cap = sb->cap ? 2 * sb->cap : 1024;
        sb->ents = dmr_realloc(sb->ents, sb->cap * sizeof *sb->ents);
        dmr_advise_huge(sb->ents, sb->cap * sizeof *sb->ents);
    }
    s_entry *e = &sb->ents[sb->n++];
    e->off = sb->arena.len;
    e->part = part;
    e->klen = (uint32_t)key.len;
    e->vlen = (uint32_t)val.len;
    e->unused = 0;
    e->chunk = sb->cmp ? 0 : dmr_key_prefix(key.ptr, key.len);
    if (sb->arena.cap - sb->arena.len <= key.len + val.len) {
        /* drain reads the arena in key order, i.e. at random */
        dmr_buf_reserve(&sb->arena, key.len + val.len);
        dmr_advise_huge(sb->arena.data, sb->arena.cap);
    }
    char *p = sb->arena.data + sb->arena.len;
    if (key.len)
        memcpy(p, key.ptr, key.len);
    if (val.len)
        memcpy(p + key.len, val.ptr, val.len);
    sb->arena.len += key.len + val.len;
}

size_t dmr_sortbuf_bytes(const dmr_sortbuf_t *sb)
{
    return sb->arena.len + sb->n * sizeof(s_entry);
}

size_t dmr_sortbuf_count(const dmr_sortbuf_t *sb)
{
    return sb->n;
}

int dmr_sortbuf_drain(dmr_sortbuf_t *sb, dmr_group_fn fn, void *arg)
{
    s_sort(sb);

    int rc = 0;
    s_group g = {.vals = {.next = s_group_next}, .sb = sb};
    for (size_t i = 0; i < sb->n && rc == 0;) {
        const s_entry *first = &sb->ents[i];
        /* Sorted entries point all over the arena: ask for the pairs a
         * few groups ahead, so their misses overlap this one's work. */
        if (i + S_AHEAD < sb->n) {
            const s_entry *e = &sb->ents[i + S_AHEAD];
            const char *p = sb->arena.data + e->off;
            __builtin_prefetch(p);
            __builtin_prefetch(p + e->klen + e->vlen - 1);
        }
        size_t j = i + 1;
        while (j < sb->n && s_same_group(sb, first, &sb->ents[j]))
            j++;
        g.pos = i;
        g.end = j;
        rc = fn(arg, first->part, s_key(sb, first), &g.vals);
        i = j;
    }
    sb->n = 0;
    dmr_buf_clear(&sb->arena);
    return rc;
}

void dmr_sortbuf_destroy(dmr_sortbuf_t **sbp)
{
    dmr_sortbuf_t *sb = *sbp;
    if (!sb)
        return;
    dmr_buf_free(&sb->arena);
    free(sb->ents);
    free(sb->todo);
    free(sb);
    *sbp = NULL;
}
