/* test_sortbuf.c -- the map-side sort buffer, and the default key order
 * and partitioner it relies on.
 *
 * The sort buffer is checked against a reference: every pair sorted by
 * (partition, key per cmp, insertion order), which is exactly the order
 * in which drain promises groups and their values. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/util.h"
#include "shuffle/sortbuf.h"
#include "shuffle/values.h"

TestSuite(keys, .timeout = 30);
TestSuite(sortbuf, .timeout = 60);

/* ---- keys -------------------------------------------------------------- */

static int s_sign(int x)
{
    return (x > 0) - (x < 0);
}

Test(keys, compare_is_bytewise_and_a_prefix_sorts_first)
{
    static const struct {
        const char *a;
        size_t alen;
        const char *b;
        size_t blen;
        int want;
    } cases[] = {
        {"", 0, "", 0, 0},          {"", 0, "a", 1, -1},
        {"a", 1, "a\0", 2, -1},     {"a\0", 2, "a\1", 2, -1},
        {"ab", 2, "b", 1, -1},      {"abc", 3, "abc", 3, 0},
        {"a", 1, "\xff", 1, -1}, /* bytes are unsigned */
        {"\x7f", 1, "\x80", 1, -1}, {"abcdefghij", 10, "abcdefghi", 9, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dmr_slice a = {cases[i].a, cases[i].alen};
        dmr_slice b = {cases[i].b, cases[i].blen};
        cr_assert_eq(s_sign(dmr_key_compare(a, b)), cases[i].want,
                     "case %zu: got %d, expected %d", i, dmr_key_compare(a, b),
                     cases[i].want);
        cr_assert_eq(s_sign(dmr_key_compare(b, a)), -cases[i].want,
                     "case %zu reversed", i);
    }
}

Test(keys, partition_stays_in_range_and_is_stable)
{
    char key[32];
    for (uint32_t nparts = 1; nparts <= 300; nparts += (nparts < 20 ? 1 : 37))
        for (int i = 0; i < 2000; i++) {
            int n = snprintf(key, sizeof key, "key-%d", i);
            dmr_slice k = {key, (size_t)n};
            uint32_t p = dmr_key_partition(k, nparts);
            cr_assert_lt(p, nparts, "%s: %u of %u", key, p, nparts);
            cr_assert_eq(
                p, dmr_hash_partition(dmr_hash64(key, (size_t)n), nparts));
        }
    cr_assert_eq(dmr_key_partition((dmr_slice){"", 0}, 1), 0);
    cr_assert_lt(dmr_key_partition((dmr_slice){"x", 1}, UINT32_MAX),
                 UINT32_MAX);
    /* The partitioner is a contract between machines: pin one value. */
    cr_assert_eq(dmr_hash64("hello", 5), 0xdab078b884889d76ull);
    cr_assert_eq(dmr_key_partition((dmr_slice){"hello", 5}, 1000), 854);
}

Test(keys, partition_spreads_keys_evenly)
{
    static const uint32_t counts[] = {2, 7, 16, 100};
    char key[32];
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        uint32_t nparts = counts[c];
        size_t *hits = dmr_calloc(nparts, sizeof *hits);
        int total = 200000;
        for (int i = 0; i < total; i++) {
            /* Similar keys, as real data has: words with a counter. */
            int n = snprintf(key, sizeof key, "w%d", i);
            hits[dmr_key_partition((dmr_slice){key, (size_t)n}, nparts)]++;
        }
        double mean = (double)total / nparts, chi2 = 0;
        for (uint32_t p = 0; p < nparts; p++) {
            double d = (double)hits[p] - mean;
            chi2 += d * d / mean;
            cr_assert(hits[p] > mean * 0.9 && hits[p] < mean * 1.1,
                      "%u parts: part %u got %zu keys, mean %.0f", nparts, p,
                      hits[p], mean);
        }
        /* Far above the 99.9% point of chi-square with nparts-1 degrees of
         * freedom would mean the hash is biased. */
        cr_assert_lt(chi2, 3.0 * nparts + 30, "%u parts: chi2 %.1f", nparts,
                     chi2);
        free(hits);
    }
}

/* ---- sort buffer fixtures ---------------------------------------------- */

typedef struct {
    uint32_t part;
    char key[128];
    size_t klen;
    char val[16];
    size_t vlen;
    size_t seq;
} pair_t;

static uint64_t s_rng = 0x2545f4914f6cdd1dULL;

static uint64_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

/* Keys that stress the prefix cache: long shared prefixes that differ
 * after byte 8, short keys, NUL and 0xff bytes, mixed case, empty keys. */
static void s_random_key(pair_t *p)
{
    static const struct {
        const char *s;
        size_t len;
    } stems[] = {{"", 0},         {"a", 1},           {"A", 1},
                 {"abcdefgh", 8}, {"abcdefghij", 10}, {"ABCDEFGH", 8},
                 {"abc\0def", 7}, {"\xff\xff", 2}};
    size_t pick = (size_t)(s_rand() % 8), sl = stems[pick].len;
    memcpy(p->key, stems[pick].s, sl);
    size_t extra = (size_t)(s_rand() % 5);
    for (size_t i = 0; i < extra; i++)
        p->key[sl + i] = "\0aAzZ\xff"[s_rand() % 6];
    p->klen = sl + extra;
}

static dmr_cmp_fn s_cmp = dmr_key_compare;

static int s_pair_cmp(const void *a, const void *b)
{
    const pair_t *x = a, *y = b;
    if (x->part != y->part)
        return x->part < y->part ? -1 : 1;
    int c = s_cmp((dmr_slice){x->key, x->klen}, (dmr_slice){y->key, y->klen});
    if (c != 0)
        return c;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Walks the reference while drain calls back. */
typedef struct {
    const pair_t *ref;
    size_t n, i;
    int groups;
    int read_some; /* read only some values of some groups */
    int fail_at;   /* return -42 at this group (-1: never) */
} walk_t;

static int s_slice_is(dmr_slice s, const char *p, size_t n)
{
    return s.len == n && (n == 0 || memcmp(s.ptr, p, n) == 0);
}

static int s_same_group(const pair_t *a, uint32_t part, dmr_slice key)
{
    return a->part == part && s_cmp((dmr_slice){a->key, a->klen}, key) == 0;
}

static int s_visit(void *arg, uint32_t part, dmr_slice key, dmr_values *vals)
{
    walk_t *w = arg;
    if (w->groups == w->fail_at)
        return -42;
    cr_assert(w->i < w->n, "extra group %d", w->groups);
    const pair_t *first = &w->ref[w->i];
    cr_assert_eq(part, first->part, "group %d: part %u, expected %u", w->groups,
                 part, first->part);
    cr_assert(s_slice_is(key, first->key, first->klen),
              "group %d: key of %zu bytes, expected %zu", w->groups, key.len,
              first->klen);
    size_t want =
        w->read_some && w->groups % 3 == 0 ? (size_t)w->groups % 2 : SIZE_MAX;
    size_t got = 0;
    dmr_slice v;
    while (got < want && dmr_values_next(vals, &v) == 1) {
        cr_assert(w->i < w->n && s_same_group(&w->ref[w->i], part, key),
                  "group %d: more values than the reference", w->groups);
        cr_assert(s_slice_is(v, w->ref[w->i].val, w->ref[w->i].vlen),
                  "group %d value %zu: got %.*s, expected %s", w->groups, got,
                  (int)v.len, v.ptr, w->ref[w->i].val);
        got++;
        w->i++;
    }
    if (want == SIZE_MAX) {
        cr_assert(w->i == w->n || !s_same_group(&w->ref[w->i], part, key),
                  "group %d ended early", w->groups);
        cr_assert_eq(dmr_values_next(vals, &v), 0);
    }
    while (w->i < w->n && s_same_group(&w->ref[w->i], part, key))
        w->i++;
    w->groups++;
    return 0;
}

/* Adds n random pairs over nparts partitions to sb and returns them
 * (caller frees) sorted into reference order. */
static pair_t *s_fill(dmr_sortbuf_t *sb, uint32_t nparts, size_t n)
{
    pair_t *ps = dmr_malloc(n * sizeof *ps + 1);
    for (size_t i = 0; i < n; i++) {
        ps[i].part = (uint32_t)(s_rand() % nparts);
        s_random_key(&ps[i]);
        ps[i].vlen = (size_t)snprintf(ps[i].val, sizeof ps[i].val, "v%zu", i);
        ps[i].seq = i;
        dmr_sortbuf_add(sb, ps[i].part, (dmr_slice){ps[i].key, ps[i].klen},
                        (dmr_slice){ps[i].val, ps[i].vlen});
    }
    qsort(ps, n, sizeof *ps, s_pair_cmp);
    return ps;
}

static void s_check_drain(dmr_sortbuf_t *sb, const pair_t *ref, size_t n,
                          int read_some)
{
    walk_t w = {.ref = ref, .n = n, .read_some = read_some, .fail_at = -1};
    int rc = dmr_sortbuf_drain(sb, s_visit, &w);
    cr_assert_eq(rc, 0);
    cr_assert_eq(w.i, n, "drain stopped after %zu of %zu pairs", w.i, n);
    cr_assert_eq(dmr_sortbuf_count(sb), 0);
    cr_assert_eq(dmr_sortbuf_bytes(sb), 0);
}

/* ---- sort buffer tests ------------------------------------------------- */

Test(sortbuf, groups_come_out_in_part_then_key_order)
{
    dmr_sortbuf_t *sb = dmr_sortbuf_new(5, NULL);
    /* Several rounds: the buffer is reused after each drain. */
    for (size_t round = 0; round < 4; round++) {
        size_t n = 1 + round * 20000;
        pair_t *ref = s_fill(sb, 5, n);
        cr_assert_eq(dmr_sortbuf_count(sb), n);
        s_check_drain(sb, ref, n, round == 2);
        free(ref);
    }
    dmr_sortbuf_destroy(&sb);
    cr_assert_null(sb);
    dmr_sortbuf_destroy(&sb);
}

/* ASCII case-insensitive order. */
static int s_nocase(dmr_slice a, dmr_slice b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a.ptr[i], y = (unsigned char)b.ptr[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return x < y ? -1 : 1;
    }
    return (a.len > b.len) - (a.len < b.len);
}

/* Descending bytewise order: wrong for any prefix shortcut. */
static int s_reverse(dmr_slice a, dmr_slice b)
{
    return dmr_key_compare(b, a);
}

Test(sortbuf, grouping_with_custom_compare)
{
    dmr_cmp_fn cmps[] = {s_nocase, s_reverse, dmr_key_compare};
    for (size_t c = 0; c < 3; c++) {
        s_cmp = cmps[c];
        dmr_sortbuf_t *sb = dmr_sortbuf_new(3, cmps[c]);
        pair_t *ref = s_fill(sb, 3, 30000);
        s_check_drain(sb, ref, 30000, 0);
        free(ref);
        dmr_sortbuf_destroy(&sb);
    }
}

Test(sortbuf, unread_values_are_skipped)
{
    dmr_sortbuf_t *sb = dmr_sortbuf_new(2, NULL);
    pair_t *ref = s_fill(sb, 2, 5000);
    s_check_drain(sb, ref, 5000, 1);
    free(ref);
    dmr_sortbuf_destroy(&sb);
}

Test(sortbuf, callback_error_stops_the_drain_and_empties_the_buffer)
{
    dmr_sortbuf_t *sb = dmr_sortbuf_new(4, NULL);
    pair_t *ref = s_fill(sb, 4, 1000);
    walk_t w = {.ref = ref, .n = 1000, .fail_at = 3};
    cr_assert_eq(dmr_sortbuf_drain(sb, s_visit, &w), -42);
    cr_assert_eq(w.groups, 3);
    cr_assert_eq(dmr_sortbuf_count(sb), 0);
    cr_assert_eq(dmr_sortbuf_bytes(sb), 0);
    free(ref);

    /* Still usable. */
    ref = s_fill(sb, 4, 1000);
    s_check_drain(sb, ref, 1000, 0);
    free(ref);
    dmr_sortbuf_destroy(&sb);
}

static int s_count_groups(void *arg, uint32_t part, dmr_slice key,
                          dmr_values *vals)
{
    (*(int *)arg)++;
    return 0;
}

Test(sortbuf, counts_bytes_and_empty_drains)
{
    dmr_sortbuf_t *sb = dmr_sortbuf_new(1, NULL);
    int groups = 0;
    cr_assert_eq(dmr_sortbuf_drain(sb, s_count_groups, &groups), 0);
    cr_assert_eq(groups, 0);

    dmr_sortbuf_add(sb, 0, (dmr_slice){"", 0}, (dmr_slice){"", 0});
    size_t one = dmr_sortbuf_bytes(sb);
    cr_assert_gt(one, 0);
    dmr_sortbuf_add(sb, 0, (dmr_slice){"key", 3}, (dmr_slice){"value", 5});
    cr_assert_eq(dmr_sortbuf_bytes(sb), 2 * one + 8);
    cr_assert_eq(dmr_sortbuf_count(sb), 2);
    cr_assert_eq(dmr_sortbuf_drain(sb, s_count_groups, &groups), 0);
    cr_assert_eq(groups, 2);
    dmr_sortbuf_destroy(&sb);
}

/* Keys sharing long prefixes -- across the 8-byte chunk boundaries and
 * past the depth where chunk sorting stops -- with NUL and 0xff bytes. */
Test(sortbuf, long_keys_with_shared_prefixes_sort_bytewise)
{
    static const size_t lens[] = {0,  1,  7,  8,  9,  15, 16, 17, 23,
                                  24, 25, 31, 32, 33, 39, 40, 41, 100};
    char common[110];
    for (size_t i = 0; i < sizeof common; i++)
        common[i] = "ab\0\xff"[i % 4];
    size_t n = 40000;
    for (int custom = 0; custom < 2; custom++) {
        s_cmp = custom ? s_reverse : dmr_key_compare;
        dmr_sortbuf_t *sb = dmr_sortbuf_new(2, custom ? s_reverse : NULL);
        pair_t *ps = dmr_malloc(n * sizeof *ps);
        for (size_t i = 0; i < n; i++) {
            pair_t *p = &ps[i];
            size_t l = lens[s_rand() % (sizeof lens / sizeof lens[0])];
            memcpy(p->key, common, l);
            size_t extra = (size_t)(s_rand() % 4);
            for (size_t j = 0; j < extra; j++)
                p->key[l + j] = "\0a\xff"[s_rand() % 3];
            p->klen = l + extra;
            p->part = (uint32_t)(s_rand() % 2);
            p->vlen = (size_t)snprintf(p->val, sizeof p->val, "v%zu", i);
            p->seq = i;
            dmr_sortbuf_add(sb, p->part, (dmr_slice){p->key, p->klen},
                            (dmr_slice){p->val, p->vlen});
        }
        qsort(ps, n, sizeof *ps, s_pair_cmp);
        s_check_drain(sb, ps, n, 0);
        free(ps);
        dmr_sortbuf_destroy(&sb);
    }
}

/* Sorted, reversed and constant inputs are the classic quicksort traps. */
Test(sortbuf, presorted_reversed_and_equal_keys_sort_correctly)
{
    size_t n = 50000;
    for (int shape = 0; shape < 4; shape++) {
        dmr_sortbuf_t *sb = dmr_sortbuf_new(1, shape == 3 ? s_nocase : NULL);
        s_cmp = shape == 3 ? s_nocase : dmr_key_compare;
        pair_t *ps = dmr_malloc(n * sizeof *ps);
        for (size_t i = 0; i < n; i++) {
            size_t k = shape == 0 ? i : shape == 1 ? n - i : 7;
            ps[i].part = 0;
            ps[i].klen = (size_t)snprintf(ps[i].key, sizeof ps[i].key,
                                          "prefix--%08zu", k);
            ps[i].vlen =
                (size_t)snprintf(ps[i].val, sizeof ps[i].val, "%zu", i);
            ps[i].seq = i;
            dmr_sortbuf_add(sb, 0, (dmr_slice){ps[i].key, ps[i].klen},
                            (dmr_slice){ps[i].val, ps[i].vlen});
        }
        qsort(ps, n, sizeof *ps, s_pair_cmp);
        s_check_drain(sb, ps, n, 0);
        free(ps);
        dmr_sortbuf_destroy(&sb);
    }
}
