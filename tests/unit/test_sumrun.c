/* test_sumrun.c -- the reduce-side fold of a summing job: sorted runs of
 * counts folded one after another come out as one run, in order, each key
 * once with its total (against a brute-force count), in bytewise order or
 * a job's; a key out of order or a sum past 64 bits fails the fold and
 * leaves the run as it was. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "shuffle/sumrun.h"

TestSuite(sumrun, .timeout = 60);

/* The run as "key=count" lines (bytes escaped), in order. */
static int s_line(void *arg, uint32_t part, dmr_slice key, dmr_values *vals)
{
    FILE *f = arg;
    cr_assert_eq(part, 0);
    for (size_t i = 0; i < key.len; i++) {
        unsigned char c = (unsigned char)key.ptr[i];
        if (c >= 0x21 && c < 0x7f && c != '=')
            fputc(c, f);
        else
            fprintf(f, "\\%02x", c);
    }
    dmr_slice v;
    cr_assert(dmr_values_next(vals, &v));
    fprintf(f, "=%.*s\n", (int)v.len, v.ptr);
    cr_assert_not(dmr_values_next(vals, &v), "one value per key");
    return 0;
}

static char *s_dump(dmr_sumrun_t *s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_eq(dmr_sumrun_each(s, s_line, f), 0);
    fclose(f);
    return text;
}

/* Keys 0..nkeys-1 as strings that sort bytewise in a different order from
 * their numbers, with NUL and 0xff bytes and lengths 0 to 19. */
static dmr_slice s_keyname(unsigned i, char *buf)
{
    size_t n = 0;
    for (unsigned x = i * 2654435761u; n < i % 20; x = x * 69069u + 1)
        buf[n++] = "\0ab\xff z"[(x >> 16) % 6];
    return (dmr_slice){buf, n};
}

static int s_bytewise(const void *a, const void *b)
{
    const dmr_slice *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->ptr, y->ptr, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

typedef struct {
    dmr_slice key;
    uint64_t count;
} rec_t;

static int s_rec_cmp(const void *a, const void *b)
{
    return s_bytewise(&((const rec_t *)a)->key, &((const rec_t *)b)->key);
}

Test(sumrun, folds_runs_into_one_sorted_total)
{
    enum { NKEYS = 3000, RUNS = 7 };
    static char names[NKEYS][20];
    dmr_slice keys[NKEYS];
    uint64_t want[NKEYS] = {0};
    for (unsigned i = 0; i < NKEYS; i++)
        keys[i] = s_keyname(i, names[i]);
    dmr_sumrun_t *s = dmr_sumrun_new(NULL);
    uint64_t seed = 9;
    for (int r = 0; r < RUNS; r++) {
        /* a map output: a random subset of the keys, sorted, with counts */
        rec_t *recs = dmr_calloc(NKEYS, sizeof *recs);
        size_t n = 0;
        for (unsigned i = 0; i < NKEYS; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            if ((seed >> 33) % 3 == 0)
                continue;
            recs[n].key = keys[i];
            recs[n].count = 1 + (seed >> 40) % 1000;
            want[i] += recs[n].count;
            n++;
        }
        qsort(recs, n, sizeof *recs, s_rec_cmp);
        dmr_sumrun_begin(s);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(dmr_sumrun_add(s, recs[i].key, recs[i].count), 0);
        dmr_sumrun_end(s);
        free(recs);
    }
    /* the expected run, from the brute-force totals */
    rec_t *all = dmr_calloc(NKEYS, sizeof *all);
    size_t n = 0;
    for (unsigned i = 0; i < NKEYS; i++) {
        /* keys of equal bytes (the empty key, say) are one key */
        int dup = 0;
        for (size_t j = 0; j < n && !dup; j++)
            if (s_bytewise(&all[j].key, &keys[i]) == 0) {
                all[j].count += want[i];
                dup = 1;
            }
        if (!dup && want[i])
            all[n++] = (rec_t){keys[i], want[i]};
    }
    qsort(all, n, sizeof *all, s_rec_cmp);
    char *expect = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&expect, &len);
    for (size_t i = 0; i < n; i++) {
        dmr_count_values_t it;
        dmr_values *v = dmr_count_values(&it, all[i].count);
        s_line(f, 0, all[i].key, v);
    }
    fclose(f);
    char *got = s_dump(s);
    cr_assert_eq(dmr_sumrun_keys(s), n);
    cr_assert_str_eq(got, expect);
    free(got);
    free(expect);
    free(all);
    dmr_sumrun_destroy(&s);
}

Test(sumrun, a_repeated_key_is_summed_and_disorder_refused)
{
    dmr_sumrun_t *s = dmr_sumrun_new(NULL);
    dmr_sumrun_begin(s);
    cr_assert_eq(dmr_sumrun_add(s, (dmr_slice){"apple", 5}, 2), 0);
    cr_assert_eq(dmr_sumrun_add(s, (dmr_slice){"apple", 5}, 3), 0);
    cr_assert_eq(dmr_sumrun_add(s, (dmr_slice){"applesauce!", 11}, 1), 0);
    dmr_sumrun_end(s);
    char *before = s_dump(s);
    cr_assert_str_eq(before, "apple=5\napplesauce!=1\n");

    /* out of order: refused, and abort leaves the run as it was */
    dmr_sumrun_begin(s);
    cr_assert_eq(dmr_sumrun_add(s, (dmr_slice){"banana", 6}, 1), 0);
    cr_assert_eq(dmr_sumrun_add(s, (dmr_slice){"apple", 5}, 1), DMR_ECORRUPT);
    dmr_sumrun_abort(s);
    char *after = s_dump(s);
    cr_assert_str_eq(after, before);
    free(after);

    /* a sum past 64 bits: refused too */
    dmr_sumrun_begin(s);
    cr_assert_eq(dmr_sumrun_add(s, (dmr_slice){"apple", 5}, UINT64_MAX - 4),
                 DMR_ETOOBIG);
    dmr_sumrun_abort(s);
    after = s_dump(s);
    cr_assert_str_eq(after, before);
    free(after);
    free(before);
    dmr_sumrun_destroy(&s);
}

/* A job's order: longer keys first, then bytewise. */
static int s_longer_first(dmr_slice a, dmr_slice b)
{
    if (a.len != b.len)
        return a.len > b.len ? -1 : 1;
    return memcmp(a.ptr, b.ptr, a.len);
}

Test(sumrun, a_jobs_order)
{
    dmr_sumrun_t *s = dmr_sumrun_new(s_longer_first);
    const char *runs[2][5] = {{"ccc", "aa", "b", NULL},
                              {"zzzz", "ccc", "bb", "a", NULL}};
    for (int r = 0; r < 2; r++) {
        dmr_sumrun_begin(s);
        for (int i = 0; runs[r][i]; i++)
            cr_assert_eq(dmr_sumrun_add(
                             s, (dmr_slice){runs[r][i], strlen(runs[r][i])}, 1),
                         0);
        dmr_sumrun_end(s);
    }
    char *got = s_dump(s);
    cr_assert_str_eq(got, "zzzz=1\nccc=2\naa=1\nbb=1\na=1\nb=1\n");
    free(got);
    /* bytewise, "b" before "bb" would be in order; here it is not */
    dmr_sumrun_begin(s);
    cr_assert_eq(dmr_sumrun_add(s, (dmr_slice){"b", 1}, 1), 0);
    cr_assert_eq(dmr_sumrun_add(s, (dmr_slice){"bb", 2}, 1), DMR_ECORRUPT);
    dmr_sumrun_abort(s);
    dmr_sumrun_destroy(&s);
}
