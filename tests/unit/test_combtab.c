/* test_combtab.c -- the map-side combining table: every pair added comes
 * out of a flush under its (part, key), values in the order added; take()
 * hands a group's values to a combiner and starts the group afresh; the
 * table is reusable after a flush and keys and values of any size go
 * through. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/util.h"
#include "shuffle/combtab.h"

TestSuite(combtab, .timeout = 60);

static size_t s_add(dmr_combtab_t *t, uint32_t part, const char *k,
                    const char *v, uint32_t *g)
{
    dmr_slice key = {k, strlen(k)}, val = {v, strlen(v)};
    return dmr_combtab_add(t, dmr_hash64(key.ptr, key.len), part, key, val, g);
}

/* Concatenates "part key=v1,v2;" per group into a buffer, groups sorted. */
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

static int s_strcmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void s_dump_free(dump_t *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->lines[i]);
    free(d->lines);
    d->lines = NULL;
    d->n = 0;
}

Test(combtab, groups_by_part_and_key_in_order_added)
{
    dmr_combtab_t *t = dmr_combtab_new();
    uint32_t g;
    cr_assert_eq(s_add(t, 0, "a", "1", &g), 1);
    cr_assert_eq(s_add(t, 1, "a", "2", &g), 1); /* another part */
    cr_assert_eq(s_add(t, 0, "a", "3", &g), 2);
    cr_assert_eq(s_add(t, 0, "", "4", &g), 1); /* the empty key */
    cr_assert_eq(s_add(t, 0, "ab", "5", &g), 1);
    cr_assert_eq(dmr_combtab_groups(t), 4);
    dump_t d = {0};
    cr_assert_eq(dmr_combtab_flush(t, s_dump, &d), 0);
    qsort(d.lines, d.n, sizeof *d.lines, s_strcmp);
    cr_assert_eq(d.n, 4);
    cr_assert_str_eq(d.lines[0], "0 =4");
    cr_assert_str_eq(d.lines[1], "0 a=1,3");
    cr_assert_str_eq(d.lines[2], "0 ab=5");
    cr_assert_str_eq(d.lines[3], "1 a=2");
    s_dump_free(&d);
    /* emptied, and reusable */
    cr_assert_eq(dmr_combtab_groups(t), 0);
    cr_assert_eq(s_add(t, 0, "a", "6", &g), 1);
    cr_assert_eq(dmr_combtab_flush(t, s_dump, &d), 0);
    cr_assert_eq(d.n, 1);
    cr_assert_str_eq(d.lines[0], "0 a=6");
    s_dump_free(&d);
    dmr_combtab_destroy(&t);
    cr_assert_null(t);
}

Test(combtab, take_hands_over_the_values_and_starts_afresh)
{
    dmr_combtab_t *t = dmr_combtab_new();
    uint32_t g;
    s_add(t, 2, "k", "1", &g);
    s_add(t, 2, "k", "2", &g);
    uint32_t part;
    dmr_slice key;
    dmr_values *vals;
    dmr_combtab_take(t, g, &part, &key, &vals);
    cr_assert_eq(part, 2);
    cr_assert(key.len == 1 && key.ptr[0] == 'k');
    /* what a combiner emits while reading goes into the fresh group */
    dmr_slice v;
    int sum = 0;
    while (dmr_values_next(vals, &v) > 0) {
        cr_assert_eq(v.len, 1); /* values are not NUL-terminated */
        sum += v.ptr[0] - '0';
        char b[8];
        snprintf(b, sizeof b, "%d", sum * 10);
        cr_assert_eq(s_add(t, 2, "k", b, &g), (size_t)(sum == 1 ? 1 : 2));
    }
    cr_assert_eq(sum, 3);
    dump_t d = {0};
    dmr_combtab_flush(t, s_dump, &d);
    cr_assert_eq(d.n, 1);
    cr_assert_str_eq(d.lines[0], "2 k=10,30");
    s_dump_free(&d);
    dmr_combtab_destroy(&t);
}

Test(combtab, many_keys_and_big_values_survive_growth)
{
    dmr_combtab_t *t = dmr_combtab_new();
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
    dmr_combtab_flush(t, s_dump, &d);
    cr_assert_eq(d.n, nkeys);
    size_t bigs = 0;
    for (size_t i = 0; i < d.n; i++) {
        size_t len = strlen(d.lines[i]);
        bigs += len > big;
        if (len < 100)
            cr_assert(strstr(d.lines[i], "=v,v,v"), "%s", d.lines[i]);
    }
    cr_assert_eq(bigs, 1);
    s_dump_free(&d);
    free(bigv);
    dmr_combtab_destroy(&t);
}
