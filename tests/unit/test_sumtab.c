/* test_sumtab.c -- the summing table: every count put comes out of a drain
 * summed under its key, in (part, key) order, whatever the key's length
 * (around the 8- and 16-byte words a slot keeps, past them, with NUL and
 * 0xff bytes, at the very end of its buffer); the partitioner is asked
 * once per key; a value that is not a count and a sum past 64 bits are
 * refused; the table is reusable after a drain. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"
#include "shuffle/sumtab.h"

TestSuite(sumtab, .timeout = 60);

/* Partitions by a key's first byte, mod 3; counts the calls. */
typedef struct {
    size_t calls;
} parter_t;

static uint32_t s_part(void *arg, dmr_slice key)
{
    ((parter_t *)arg)->calls++;
    return key.len ? (unsigned char)key.ptr[0] % 3 : 0;
}

/* Puts key from a heap copy of exactly its length, so a read past its
 * end is caught under AddressSanitizer and valgrind. */
static int s_put(dmr_sumtab_t *t, const char *k, size_t klen, const char *v)
{
    char *copy = dmr_malloc(klen);
    memcpy(copy, k, klen);
    int rc =
        dmr_sumtab_put(t, (dmr_slice){copy, klen}, (dmr_slice){v, strlen(v)});
    free(copy);
    return rc;
}

/* "part key=count" per group, in drain order. */
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
    fprintf(f, "%u ", part);
    for (size_t i = 0; i < key.len; i++) {
        unsigned char c = (unsigned char)key.ptr[i];
        if (c >= 0x21 && c < 0x7f)
            fputc(c, f);
        else
            fprintf(f, "\\%02x", c);
    }
    fputc('=', f);
    dmr_slice v;
    int n = 0;
    while (dmr_values_next(vals, &v) > 0) {
        fprintf(f, "%s%.*s", n ? "," : "", (int)v.len, v.ptr);
        n++;
    }
    fclose(f);
    cr_assert_eq(n, 1, "a group hands out one value, not %d", n);
    d->lines = dmr_realloc(d->lines, (d->n + 1) * sizeof *d->lines);
    d->lines[d->n++] = line;
    return 0;
}

static void s_dump_free(dump_t *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->lines[i]);
    free(d->lines);
    *d = (dump_t){0};
}

static int s_reverse(dmr_slice a, dmr_slice b)
{
    return -dmr_key_compare(a, b);
}

Test(sumtab, sums_by_key_in_part_then_key_order)
{
    parter_t pc = {0};
    dmr_sumtab_t *t = dmr_sumtab_new(s_part, NULL, &pc);
    const char *k16 = "abcdefghijklmnop";
    const char *k17 = "abcdefghijklmnopq";
    const char *k40 = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
    cr_assert_eq(s_put(t, "a", 1, "1"), 0);
    cr_assert_eq(s_put(t, "a", 1, "22"), 0);
    cr_assert_eq(s_put(t, "", 0, "4"), 0);    /* the empty key */
    cr_assert_eq(s_put(t, "a\0", 2, "5"), 0); /* "a" zero-padded, longer */
    cr_assert_eq(s_put(t, "abcdefgh", 8, "6"), 0);
    cr_assert_eq(s_put(t, "abcdefgh\0", 9, "7"), 0);
    cr_assert_eq(s_put(t, k16, 16, "8"), 0);
    cr_assert_eq(s_put(t, k17, 17, "9"), 0);
    cr_assert_eq(s_put(t, k17, 17, "10"), 0);
    cr_assert_eq(s_put(t, k40, 40, "11"), 0);
    cr_assert_eq(s_put(t, "b", 1, "0"), 0);
    cr_assert_eq(s_put(t, "\xff\xff\xff", 3, "12"), 0);
    cr_assert_eq(s_put(t, "a", 1, "3"), 0);
    cr_assert_eq(dmr_sumtab_sync(t), 0);
    cr_assert_eq(dmr_sumtab_groups(t), 10);
    cr_assert_eq(pc.calls, 10, "the partitioner runs once per key");
    dump_t d = {0};
    cr_assert_eq(dmr_sumtab_drain(t, NULL, s_dump, &d), 0);
    /* 'a' % 3 == 1, 'b' % 3 == 2, 0xff % 3 == 0 */
    const char *want[] = {
        "0 =4",
        "0 \\ff\\ff\\ff=12",
        "1 a=26",
        "1 a\\00=5",
        "1 abcdefgh=6",
        "1 abcdefgh\\00=7",
        "1 abcdefghijklmnop=8",
        "1 abcdefghijklmnopq=19",
        "1 abcdefghijklmnopqrstuvwxyz0123456789ABCD=11",
        "2 b=0",
    };
    cr_assert_eq(d.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < d.n; i++)
        cr_assert_str_eq(d.lines[i], want[i]);
    s_dump_free(&d);
    /* emptied, and reusable, in a job's own order */
    cr_assert_eq(dmr_sumtab_groups(t), 0);
    cr_assert_eq(s_put(t, "a", 1, "1"), 0);
    cr_assert_eq(s_put(t, "c", 1, "2"), 0);
    cr_assert_eq(s_put(t, k40, 40, "3"), 0);
    cr_assert_eq(dmr_sumtab_drain(t, s_reverse, s_dump, &d), 0);
    cr_assert_eq(d.n, 3);
    cr_assert_str_eq(d.lines[0], "0 c=2"); /* 'c' % 3 == 0 */
    cr_assert_str_eq(d.lines[1],
                     "1 abcdefghijklmnopqrstuvwxyz0123456789ABCD=3");
    cr_assert_str_eq(d.lines[2], "1 a=1");
    s_dump_free(&d);
    dmr_sumtab_destroy(&t);
    cr_assert_null(t);
}

/* The fail function's record: calls, and the last refusal. */
typedef struct {
    parter_t pc; /* first: the partitioner's argument too */
    int calls, rc;
    char what[64];
} failer_t;

static uint32_t s_fpart(void *arg, dmr_slice key)
{
    return s_part(&((failer_t *)arg)->pc, key);
}

static void s_fail(void *arg, int rc, dmr_slice key, dmr_slice val)
{
    failer_t *f = arg;
    f->calls++;
    f->rc = rc;
    snprintf(f->what, sizeof f->what, "%.*s=%.*s", (int)key.len, key.ptr,
             (int)val.len, val.ptr);
}

Test(sumtab, refuses_what_is_not_a_count_and_sums_past_64_bits)
{
    failer_t f = {0};
    dmr_sumtab_t *t = dmr_sumtab_new(s_fpart, s_fail, &f);
    cr_assert_eq(s_put(t, "k", 1, ""), DMR_EINVAL);
    cr_assert_eq(f.calls, 1, "the fail function hears of each refusal");
    cr_assert_eq(f.rc, DMR_EINVAL);
    cr_assert_str_eq(f.what, "k=");
    cr_assert_eq(s_put(t, "k", 1, "x7"), DMR_EINVAL);
    cr_assert_str_eq(f.what, "k=x7");
    cr_assert_eq(s_put(t, "k", 1, "-1"), DMR_EINVAL);
    cr_assert_eq(s_put(t, "k", 1, "18446744073709551616"), DMR_EINVAL);
    cr_assert_eq(dmr_sumtab_sync(t), 0);
    cr_assert_eq(dmr_sumtab_groups(t), 0, "a refused value adds nothing");
    /* the largest count, then one more: queued, so found at sync */
    cr_assert_eq(s_put(t, "k", 1, "18446744073709551615"), 0);
    cr_assert_eq(s_put(t, "k", 1, "1"), 0);
    cr_assert_eq(dmr_sumtab_sync(t), DMR_ETOOBIG);
    /* a long key is added at once */
    const char *lk = "a key longer than sixteen bytes";
    cr_assert_eq(s_put(t, lk, strlen(lk), "18446744073709551615"), 0);
    int calls = f.calls;
    cr_assert_eq(s_put(t, lk, strlen(lk), "1"), DMR_ETOOBIG);
    cr_assert_eq(f.calls, calls + 1);
    cr_assert_eq(f.rc, DMR_ETOOBIG);
    dump_t d = {0};
    cr_assert_eq(dmr_sumtab_drain(t, NULL, s_dump, &d), 0);
    cr_assert_eq(d.n, 2);
    cr_assert_str_eq(d.lines[0], "1 a\\20key\\20longer\\20than\\20sixteen\\20"
                                 "bytes=18446744073709551615");
    cr_assert_str_eq(d.lines[1], "2 k=18446744073709551615");
    s_dump_free(&d);
    dmr_sumtab_destroy(&t);
}

/* Checks the drain against counts[] (indexed by the number in the key). */
typedef struct {
    const unsigned long *want;
    char *met; /* met[i]: key i was drained */
    size_t seen;
    char last[96];
    size_t lastlen;
    uint32_t lastpart;
} check_t;

static int s_check(void *arg, uint32_t part, dmr_slice key, dmr_values *vals)
{
    check_t *c = arg;
    cr_assert_eq(part, s_part(&(parter_t){0}, key));
    if (c->seen) {
        int cmp = dmr_key_compare((dmr_slice){c->last, c->lastlen}, key);
        cr_assert(part > c->lastpart || (part == c->lastpart && cmp < 0),
                  "groups out of order");
    }
    cr_assert_lt(key.len, sizeof c->last);
    memcpy(c->last, key.ptr, key.len);
    c->lastlen = key.len;
    c->lastpart = part;
    char k[96];
    memcpy(k, key.ptr, key.len);
    k[key.len] = 0;
    unsigned long i = strtoul(k + 1, NULL, 10);
    cr_assert_not(c->met[i], "key %s drained twice", k);
    c->met[i] = 1;
    dmr_slice v;
    cr_assert_eq(dmr_values_next(vals, &v), 1);
    char b[32];
    cr_assert_lt(v.len, sizeof b);
    memcpy(b, v.ptr, v.len);
    b[v.len] = 0;
    cr_assert_eq(strtoul(b, NULL, 10), c->want[i], "key %s: %s, not %lu", k, b,
                 c->want[i]);
    c->seen++;
    return 0;
}

Test(sumtab, many_queued_counts_of_skewed_keys_sum_exactly)
{
    parter_t pc = {0};
    dmr_sumtab_t *t = dmr_sumtab_new(s_part, NULL, &pc);
    enum { KEYS = 20000, PAIRS = 600000 };
    unsigned long *want = dmr_calloc(KEYS, sizeof *want);
    char *put = dmr_calloc(KEYS, 1), *met = dmr_calloc(KEYS, 1);
    uint64_t x = 88172645463325252ull;
    for (int round = 0; round < 2; round++) { /* the second after a drain */
        memset(want, 0, KEYS * sizeof *want);
        memset(put, 0, KEYS);
        memset(met, 0, KEYS);
        pc.calls = 0;
        for (size_t i = 0; i < PAIRS; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* skewed: small indices much more often */
            size_t k = (size_t)((x % KEYS) * ((x >> 32) % KEYS) / KEYS);
            size_t add = (x >> 60) % 12;
            /* 2 to 34 bytes: a letter, the number, then dots */
            char key[96], val[8];
            int n = snprintf(key, sizeof key, "%c%zu", "kKzZ"[k % 4], k);
            size_t pad = k % 29;
            memset(key + n, '.', pad);
            snprintf(val, sizeof val, "%zu", add);
            cr_assert_eq(s_put(t, key, (size_t)n + pad, val), 0);
            want[k] += add;
            put[k] = 1;
        }
        cr_assert_eq(dmr_sumtab_sync(t), 0);
        size_t groups = dmr_sumtab_groups(t), keys = 0;
        for (size_t k = 0; k < KEYS; k++)
            keys += put[k];
        cr_assert_eq(groups, keys);
        cr_assert_eq(pc.calls, groups, "partitioner calls %zu, groups %zu",
                     pc.calls, groups);
        cr_assert_geq(dmr_sumtab_bytes(t), groups * 32);
        check_t c = {.want = want, .met = met};
        cr_assert_eq(dmr_sumtab_drain(t, NULL, s_check, &c), 0);
        cr_assert_eq(c.seen, groups);
        cr_assert_lt(dmr_sumtab_bytes(t), 64 * 1024,
                     "a drained table is small again");
    }
    free(want);
    free(put);
    free(met);
    dmr_sumtab_destroy(&t);
}
