/* test_keyorder.c -- the drain order of the map-side tables: entries come
 * out sorted by (part, key) in bytewise order, against qsort with memcmp,
 * through every path of the sort: inputs too small for the radix passes,
 * buckets that go through all 16 cached bytes (keys that agree on them
 * and differ only in length or past the 16th byte), NUL and 0xff bytes,
 * one byte shared by a whole bucket, many parts; and a job's own order. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "shuffle/keyorder.h"

TestSuite(keys_order, .timeout = 60);

typedef struct {
    char **keys;
    size_t *lens;
    uint32_t *parts;
} owner_t;

static dmr_slice s_key(const void *owner, uint32_t id)
{
    const owner_t *o = owner;
    return (dmr_slice){o->keys[id], o->lens[id]};
}

static int s_bytewise(const owner_t *o, uint32_t a, uint32_t b)
{
    if (o->parts[a] != o->parts[b])
        return o->parts[a] < o->parts[b] ? -1 : 1;
    size_t n = o->lens[a] < o->lens[b] ? o->lens[a] : o->lens[b];
    int c = memcmp(o->keys[a], o->keys[b], n);
    if (c)
        return c;
    return o->lens[a] < o->lens[b] ? -1 : o->lens[a] > o->lens[b];
}

/* xorshift: the same keys on every run. */
static uint64_t s_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* n random keys in parts [0, parts): lengths 0..40 over a small alphabet
 * with NUL and 0xff; a quarter share one 20-byte head, so that they agree
 * on all 16 cached bytes; an eighth are copies of an earlier key. */
static owner_t s_make(size_t n, uint32_t parts, uint64_t seed)
{
    static const char alpha[] = {'\0', 'a', 'b', 'c', 'z', '\x7f', '\xff'};
    owner_t o = {dmr_calloc(n, sizeof(char *)), dmr_calloc(n, sizeof(size_t)),
                 dmr_calloc(n, sizeof(uint32_t))};
    for (size_t i = 0; i < n; i++) {
        uint64_t r = s_next(&seed);
        o.parts[i] = (uint32_t)(r % parts);
        if (i > 0 && (r >> 20) % 8 == 0) { /* a copy */
            size_t j = (size_t)((r >> 24) % i);
            o.lens[i] = o.lens[j];
            o.keys[i] = dmr_malloc(o.lens[i] + 1);
            memcpy(o.keys[i], o.keys[j], o.lens[i]);
            continue;
        }
        size_t len = (size_t)((r >> 8) % 41);
        o.lens[i] = len;
        o.keys[i] = dmr_malloc(len + 1);
        int shared = (r >> 16) % 4 == 0;
        for (size_t k = 0; k < len; k++)
            o.keys[i][k] = shared && k < 20
                               ? "the same twenty byte"[k]
                               : alpha[s_next(&seed) % sizeof alpha];
    }
    return o;
}

static void s_free(owner_t *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(o->keys[i]);
    free(o->keys);
    free(o->lens);
    free(o->parts);
}

static const owner_t *s_cmp_owner;

static int s_qcmp(const void *a, const void *b)
{
    return s_bytewise(s_cmp_owner, *(const uint32_t *)a, *(const uint32_t *)b);
}

/* Sorts n keys with dmr_keyent_sort (under cmp) and checks the order
 * against qsort: the same keys at every position. */
static void s_check(size_t n, uint32_t parts, uint64_t seed, dmr_cmp_fn cmp)
{
    owner_t o = s_make(n, parts, seed);
    dmr_keyent_t *e = dmr_calloc(n, sizeof *e);
    uint32_t *want = dmr_calloc(n, sizeof *want);
    for (uint32_t i = 0; i < n; i++) {
        e[i] = dmr_keyent(o.parts[i], i, s_key(&o, i));
        want[i] = i;
    }
    dmr_keyent_sort(e, n, cmp, s_key, &o);
    s_cmp_owner = &o;
    qsort(want, n, sizeof *want, s_qcmp);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (s_bytewise(&o, e[i].id, want[i]) != 0 && bad++ == 0)
            cr_log_error("n=%zu parts=%u: position %zu differs", n, parts, i);
    cr_expect_eq(bad, 0, "%zu of %zu entries out of place", bad, n);
    free(e);
    free(want);
    s_free(&o, n);
}

Test(keys_order, small_inputs_are_sorted)
{
    for (size_t n = 0; n < 300; n += 7)
        s_check(n, 1 + (uint32_t)(n % 3), 1000 + n, NULL);
}

Test(keys_order, radix_passes_sort_one_part)
{
    s_check(60000, 1, 7, NULL);
}

Test(keys_order, radix_passes_sort_many_parts)
{
    s_check(50000, 37, 11, dmr_key_compare);
}

/* Every key starts with the same 9 bytes: the passes on bytes every
 * entry shares are skipped, not made into one bucket after another. */
Test(keys_order, shared_leading_bytes)
{
    size_t n = 20000;
    owner_t o = {dmr_calloc(n, sizeof(char *)), dmr_calloc(n, sizeof(size_t)),
                 dmr_calloc(n, sizeof(uint32_t))};
    uint64_t seed = 5;
    dmr_keyent_t *e = dmr_calloc(n, sizeof *e);
    for (uint32_t i = 0; i < n; i++) {
        o.lens[i] = 9 + (size_t)(s_next(&seed) % 12);
        o.keys[i] = dmr_malloc(o.lens[i]);
        memcpy(o.keys[i], "prefix://", 9);
        for (size_t k = 9; k < o.lens[i]; k++)
            o.keys[i][k] = (char)('a' + s_next(&seed) % 3);
        e[i] = dmr_keyent(0, i, s_key(&o, i));
    }
    dmr_keyent_sort(e, n, NULL, s_key, &o);
    for (size_t i = 1; i < n; i++)
        cr_assert_leq(s_bytewise(&o, e[i - 1].id, e[i].id), 0,
                      "entries %zu and %zu out of order", i - 1, i);
    free(e);
    s_free(&o, n);
}

/* A job's order: longer keys first, then bytewise. */
static int s_longer_first(dmr_slice a, dmr_slice b)
{
    if (a.len != b.len)
        return a.len > b.len ? -1 : 1;
    return memcmp(a.ptr, b.ptr, a.len);
}

Test(keys_order, a_jobs_order)
{
    size_t n = 5000;
    owner_t o = s_make(n, 2, 3);
    dmr_keyent_t *e = dmr_calloc(n, sizeof *e);
    for (uint32_t i = 0; i < n; i++)
        e[i] = dmr_keyent(o.parts[i], i, s_key(&o, i));
    dmr_keyent_sort(e, n, s_longer_first, s_key, &o);
    for (size_t i = 1; i < n; i++) {
        uint32_t a = e[i - 1].id, b = e[i].id;
        cr_assert(o.parts[a] < o.parts[b] ||
                      (o.parts[a] == o.parts[b] &&
                       s_longer_first(s_key(&o, a), s_key(&o, b)) <= 0),
                  "entries %zu and %zu out of order", i - 1, i);
    }
    free(e);
    s_free(&o, n);
}
