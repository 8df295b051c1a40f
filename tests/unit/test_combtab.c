/* test_combtab.c -- the map-side combining table: every pair added comes
 * out of a drain under its (part, key), in (part, key) order, values in
 * the order added; the inline space asks for a combine when full; take()
 * hands a group's values to a combiner and starts the group afresh;
 * queued pairs (put) land exactly as direct adds would; a combiner that
 * does not shrink its input is not called on every pair; the table is
 * reusable after a drain, and keys and values of any size go through. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/util.h"
#include "shuffle/combtab.h"

TestSuite(combtab, .timeout = 60);

static int s_add(dmr_combtab_t *t, uint32_t part, const char *k, const char *v,
                 uint32_t *g)
{
    dmr_slice key = {k, strlen(k)}, val = {v, strlen(v)};
    return dmr_combtab_add(t, dmr_hash64(key.ptr, key.len), part, key, val, g);
}

static int s_put(dmr_combtab_t *t, uint32_t part, const char *k, const char *v)
{
    dmr_slice key = {k, strlen(k)}, val = {v, strlen(v)};
    return dmr_combtab_put(t, dmr_hash64(key.ptr, key.len), part, key, val);
}

/* "part key=v1,v2" per group, in drain order. */
typedef struct {
    char **lines;
    size_t n;
} dump_t;

static int s_dump(void *arg, uint32_t part, dmr_slice key, dmr_values *vals)
{
    dump_t *d = arg;
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    fprintf(f, "%u %.*s=", part, (int)key.len, key.ptr);
    dmr_slice v;
    int first = 1;
    while (dmr_values_next(vals, &v) > 0) {
        fprintf(f, "%s%.*s", first ? "" : ",", (int)v.len, v.ptr);
        first = 0;
    }
    fclose(f);
    d->lines = dmr_realloc(d->lines, (d->n + 1) * sizeof *d->lines);
    d->lines[d->n++] = line;
    return 0;
}

static void s_dump_free(dump_t *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->lines[i]);
    free(d->lines);
    d->lines = NULL;
    d->n = 0;
}

static int s_never(void *arg, uint32_t g)
{
    (void)arg;
    (void)g;
    cr_assert_fail("full called on a table that should not ask");
    return -1;
}

Test(combtab, groups_by_part_and_key_in_key_order)
{
    dmr_combtab_t *t = dmr_combtab_new(s_never, NULL);
    uint32_t g;
    /* keys around the inline limit (24 bytes) and a long one */
    const char *k24 = "abcdefghijklmnopqrstuvwx";
    const char *k25 = "abcdefghijklmnopqrstuvwxy";
    const char *k40 = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
    cr_assert_eq(s_add(t, 0, "a", "1", &g), 0);
    cr_assert_eq(s_add(t, 1, "a", "2", &g), 0); /* another part */
    cr_assert_eq(s_add(t, 0, "a", "3", &g), 0);
    cr_assert_eq(s_add(t, 0, "", "4", &g), 0); /* the empty key */
    cr_assert_eq(s_add(t, 0, "ab", "5", &g), 0);
    s_add(t, 0, k40, "6", &g);
    s_add(t, 0, k25, "7", &g);
    s_add(t, 0, k24, "8", &g);
    s_add(t, 0, k25, "9", &g);
    s_add(t, 0, "a\001", "x", &g); /* same 8-byte prefix as "a" */
    cr_assert_eq(dmr_combtab_groups(t), 8);
    dump_t d = {0};
    cr_assert_eq(dmr_combtab_drain(t, NULL, s_dump, &d), 0);
    cr_assert_eq(d.n, 8);
    const char *want[] = {
        "0 =4",
        "0 a=1,3",
        "0 a\001=x",
        "0 ab=5",
        "0 abcdefghijklmnopqrstuvwx=8",
        "0 abcdefghijklmnopqrstuvwxy=7,9",
        "0 abcdefghijklmnopqrstuvwxyz0123456789ABCD=6",
        "1 a=2",
    };
    for (size_t i = 0; i < 8; i++)
        cr_assert_str_eq(d.lines[i], want[i]);
    s_dump_free(&d);
    /* emptied, and reusable */
    cr_assert_eq(dmr_combtab_groups(t), 0);
    cr_assert_eq(s_add(t, 0, "a", "6", &g), 0);
    cr_assert_eq(dmr_combtab_drain(t, NULL, s_dump, &d), 0);
    cr_assert_eq(d.n, 1);
    cr_assert_str_eq(d.lines[0], "0 a=6");
    s_dump_free(&d);
    dmr_combtab_destroy(&t);
    cr_assert_null(t);
}

static int s_reverse(dmr_slice a, dmr_slice b)
{
    return -dmr_key_compare(a, b);
}

Test(combtab, drain_follows_the_job_order)
{
    dmr_combtab_t *t = dmr_combtab_new(s_never, NULL);
    uint32_t g;
    s_add(t, 0, "b", "1", &g);
    s_add(t, 0, "c", "2", &g);
    s_add(t, 0, "a", "3", &g);
    s_add(t, 1, "z", "4", &g);
    dump_t d = {0};
    cr_assert_eq(dmr_combtab_drain(t, s_reverse, s_dump, &d), 0);
    cr_assert_eq(d.n, 4);
    cr_assert_str_eq(d.lines[0], "0 c=2");
    cr_assert_str_eq(d.lines[1], "0 b=1");
    cr_assert_str_eq(d.lines[2], "0 a=3");
    cr_assert_str_eq(d.lines[3], "1 z=4");
    s_dump_free(&d);
    dmr_combtab_destroy(&t);
}

Test(combtab, full_inline_space_asks_for_a_combine)
{
    dmr_combtab_t *t = dmr_combtab_new(s_never, NULL);
    uint32_t g;
    /* "1" takes 2 bytes of the 18 inline: the 9th fills them */
    for (int i = 1; i <= 8; i++)
        cr_assert_eq(s_add(t, 0, "k", "1", &g), 0, "value %d", i);
    cr_assert_eq(s_add(t, 0, "k", "1", &g), 1);
    /* a value too big to be inline goes out of line and asks only when
     * many have gathered */
    char big[40];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (int i = 1; i < 16; i++)
        cr_assert_eq(s_add(t, 0, "big", big, &g), 0, "value %d", i);
    cr_assert_eq(s_add(t, 0, "big", big, &g), 1);
    dmr_combtab_destroy(&t);
}

Test(combtab, take_hands_over_the_values_and_starts_afresh)
{
    dmr_combtab_t *t = dmr_combtab_new(s_never, NULL);
    uint32_t g;
    char big[30];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = 0;
    s_add(t, 2, "k", "1", &g);
    s_add(t, 2, "k", big, &g); /* out of line */
    s_add(t, 2, "k", "2", &g);
    uint32_t part;
    dmr_slice key;
    dmr_values *vals;
    dmr_combtab_take(t, g, &part, &key, &vals);
    cr_assert_eq(part, 2);
    cr_assert(key.len == 1 && key.ptr[0] == 'k');
    /* what a combiner emits while reading goes into the fresh group and
     * does not disturb what it reads: inline values first, then the rest */
    dmr_slice v;
    int n = 0;
    while (dmr_values_next(vals, &v) > 0) {
        const char *want = n == 0 ? "1" : n == 1 ? "2" : big;
        cr_assert_eq(v.len, strlen(want));
        cr_assert(!memcmp(v.ptr, want, v.len));
        char b[16];
        snprintf(b, sizeof b, "%d", ++n * 10);
        cr_assert_eq(dmr_combtab_add_to(t, g, key, (dmr_slice){b, strlen(b)}),
                     0);
    }
    cr_assert_eq(n, 3);
    cr_assert_eq(
        dmr_combtab_add_to(t, g, (dmr_slice){"j", 1}, (dmr_slice){"0", 1}), -1,
        "another key must be refused");
    dmr_combtab_combined(t, g);
    dump_t d = {0};
    dmr_combtab_drain(t, NULL, s_dump, &d);
    cr_assert_eq(d.n, 1);
    cr_assert_str_eq(d.lines[0], "2 k=10,20,30");
    s_dump_free(&d);
    dmr_combtab_destroy(&t);
}

/* A combiner that sums decimal counts, as word count's does, through the
 * full callback; counts how often it ran. */
typedef struct {
    dmr_combtab_t *t;
    size_t calls;
    int identity; /* emit every value back instead of their sum */
} comb_t;

static int s_comb(void *arg, uint32_t g)
{
    comb_t *c = arg;
    uint32_t part;
    dmr_slice key, v;
    dmr_values *vals;
    dmr_combtab_take(c->t, g, &part, &key, &vals);
    c->calls++;
    unsigned long sum = 0;
    char b[32];
    while (dmr_values_next(vals, &v) > 0) {
        cr_assert(v.len < sizeof b);
        memcpy(b, v.ptr, v.len);
        b[v.len] = 0;
        if (c->identity)
            cr_assert_eq(dmr_combtab_add_to(c->t, g, key, v), 0);
        else
            sum += strtoul(b, NULL, 10);
    }
    if (!c->identity) {
        snprintf(b, sizeof b, "%lu", sum);
        cr_assert_eq(
            dmr_combtab_add_to(c->t, g, key, (dmr_slice){b, strlen(b)}), 0);
    }
    dmr_combtab_combined(c->t, g);
    return 0;
}

static int s_sum_group(void *arg, uint32_t part, dmr_slice key,
                       dmr_values *vals)
{
    unsigned long *counts = arg;
    dmr_slice v;
    unsigned long sum = 0;
    while (dmr_values_next(vals, &v) > 0) {
        char b[32];
        memcpy(b, v.ptr, v.len);
        b[v.len] = 0;
        sum += strtoul(b, NULL, 10);
    }
    char k[128];
    cr_assert_lt(key.len, sizeof k);
    memcpy(k, key.ptr, key.len);
    k[key.len] = 0;
    unsigned long i = strtoul(k + 1, NULL, 10);
    cr_assert_eq(part, i % 3);
    cr_assert_eq(counts[i], 0, "key %s drained twice", k);
    counts[i] = sum;
    return 0;
}

Test(combtab, queued_pairs_count_exactly)
{
    comb_t c = {0};
    dmr_combtab_t *t = dmr_combtab_new(s_comb, &c);
    c.t = t;
    enum { KEYS = 5000, PAIRS = 400000 };
    unsigned long *want = dmr_calloc(KEYS, sizeof *want);
    unsigned long *got = dmr_calloc(KEYS, sizeof *got);
    uint64_t x = 88172645463325252ull;
    char longkey[80];
    for (size_t i = 0; i < PAIRS; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* skewed: small indices much more often */
        size_t k = (size_t)((x % KEYS) * ((x >> 32) % KEYS) / KEYS);
        size_t add = 1 + (x >> 60) % 3;
        want[k] += add;
        char key[96], val[8];
        if (k % 97 == 0) { /* a key too long to queue */
            memset(longkey, 'L', sizeof longkey);
            snprintf(key, sizeof key, "k%zu%.60s", k, longkey);
        } else {
            snprintf(key, sizeof key, "k%zu", k);
        }
        snprintf(val, sizeof val, "%zu", add);
        cr_assert_eq(s_put(t, (uint32_t)(k % 3), key, val), 0);
    }
    cr_assert_eq(dmr_combtab_drain(t, NULL, s_sum_group, got), 0);
    for (size_t k = 0; k < KEYS; k++)
        cr_assert_eq(got[k], want[k], "key %zu: %lu, not %lu", k, got[k],
                     want[k]);
    cr_assert_gt(c.calls, PAIRS / 20, "the combiner hardly ran");
    free(want);
    free(got);
    dmr_combtab_destroy(&t);
}

Test(combtab, a_combiner_that_does_not_shrink_runs_rarely)
{
    comb_t c = {.identity = 1};
    dmr_combtab_t *t = dmr_combtab_new(s_comb, &c);
    c.t = t;
    for (int i = 0; i < 20000; i++)
        cr_assert_eq(s_put(t, 0, "k", "1"), 0);
    cr_assert_eq(dmr_combtab_sync(t), 0);
    cr_assert_lt(c.calls, 40, "the combiner ran %zu times", c.calls);
    unsigned long got[1] = {0};
    cr_assert_eq(dmr_combtab_drain(t, NULL, s_sum_group, got), 0);
    cr_assert_eq(got[0], 20000);
    dmr_combtab_destroy(&t);
}

Test(combtab, many_keys_and_big_values_survive_growth)
{
    dmr_combtab_t *t = dmr_combtab_new(s_never, NULL);
    size_t nkeys = 30000, big = 600000;
    char *bigv = dmr_malloc(big + 1);
    memset(bigv, 'x', big);
    bigv[big] = 0;
    uint32_t g;
    for (size_t round = 0; round < 3; round++)
        for (size_t i = 0; i < nkeys; i++) {
            char k[32];
            snprintf(k, sizeof k, "key-%zu", i);
            s_add(t, (uint32_t)(i % 7), k, i == 17 && round == 1 ? bigv : "v",
                  &g);
        }
    cr_assert_eq(dmr_combtab_groups(t), nkeys);
    cr_assert_gt(dmr_combtab_bytes(t), big);
    dump_t d = {0};
    dmr_combtab_drain(t, NULL, s_dump, &d);
    cr_assert_eq(d.n, nkeys);
    size_t bigs = 0;
    for (size_t i = 0; i < d.n; i++) {
        size_t len = strlen(d.lines[i]);
        bigs += len > big;
        if (len < 100)
            cr_assert(strstr(d.lines[i], "=v,v,v"), "%s", d.lines[i]);
        if (i > 0) { /* part, then key */
            unsigned pa = 0, pb = 0;
            char ka[32] = "", kb[32] = "";
            sscanf(d.lines[i - 1], "%u %31[^=]", &pa, ka);
            sscanf(d.lines[i], "%u %31[^=]", &pb, kb);
            cr_assert(pa < pb ||
                          (pa == pb &&
                           dmr_key_compare((dmr_slice){ka, strlen(ka)},
                                           (dmr_slice){kb, strlen(kb)}) < 0),
                      "%s before %s", d.lines[i - 1], d.lines[i]);
        }
    }
    cr_assert_eq(bigs, 1);
    s_dump_free(&d);
    free(bigv);
    dmr_combtab_destroy(&t);
}
