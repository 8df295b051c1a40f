/* test_merge.c -- the k-way merge against a reference built by sorting.
 *
 * Runs are written with the real run writer and read through real
 * readers; the reference is every pair sorted by (key, run, position), the
 * order the merge promises. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "shuffle/merge.h"
#include "shuffle/sortbuf.h"
#include "tests/unit/tmpdir.h"

static char *s_dir;

static void s_setup(void)
{
    s_dir = tmpdir_make();
}

static void s_teardown(void)
{
    tmpdir_remove(&s_dir);
}

TestSuite(merge, .init = s_setup, .fini = s_teardown, .timeout = 60);

/* ---- fixtures ---------------------------------------------------------- */

typedef struct {
    char key[16];
    size_t klen;
    char val[24];
    size_t vlen;
    int run, seq;
} pair_t;

static uint64_t s_rng = 88172645463325252ULL;

static uint64_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

/* Keys that share prefixes, hold NUL and 0xff bytes, or are empty. */
static void s_random_key(pair_t *p)
{
    if (s_rand() % 3) {
        p->klen = (size_t)snprintf(p->key, sizeof p->key, "k%03u",
                                   (unsigned)(s_rand() % 300));
        return;
    }
    static const char alphabet[] = {'\0', 'a', 'A', '\xff'};
    p->klen = (size_t)(s_rand() % 11);
    for (size_t i = 0; i < p->klen; i++)
        p->key[i] = alphabet[s_rand() % 4];
}

static dmr_cmp_fn s_cmp = dmr_key_compare;

/* Order of the reference: key per s_cmp, then run, then position. */
static int s_pair_cmp(const void *a, const void *b)
{
    const pair_t *x = a, *y = b;
    int c = s_cmp((dmr_slice){x->key, x->klen}, (dmr_slice){y->key, y->klen});
    if (c != 0)
        return c;
    if (x->run != y->run)
        return x->run < y->run ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static char *s_run_path(int id)
{
    return dmr_sprintf("%s/run-%d", s_dir, id);
}

/* Opens a reader over partition 0 of run id, as the index says. */
static dmr_run_reader_t *s_open_run(int id)
{
    char *path = s_run_path(id);
    uint32_t n;
    dmr_run_part_t *parts;
    cr_assert_eq(dmr_run_index_load(path, &n, &parts), 0);
    dmr_run_reader_t *r = NULL;
    cr_assert_eq(
        dmr_run_reader_open(path, parts[0].offset, parts[0].length, &r), 0);
    free(parts);
    free(path);
    return r;
}

/* Writes pairs (sorted by the caller) as the one partition of run id --
 * stored for even ids, deflated for odd ones -- and opens a reader. */
static dmr_run_reader_t *s_run(const pair_t *pairs, size_t n, int id)
{
    char *path = s_run_path(id);
    dmr_run_writer_t *w = NULL;
    cr_assert_eq(dmr_run_writer_open(path, 1, id % 2, &w), 0);
    for (size_t i = 0; i < n; i++) {
        int rc =
            dmr_run_writer_add(w, 0, (dmr_slice){pairs[i].key, pairs[i].klen},
                               (dmr_slice){pairs[i].val, pairs[i].vlen});
        cr_assert_eq(rc, 0, "%s", dmr_strerror(rc));
    }
    cr_assert_eq(dmr_run_writer_finish(w), 0);
    dmr_run_writer_destroy(&w);
    free(path);
    return s_open_run(id);
}

/* Makes nruns sorted runs of random pairs, adds them to m, and returns
 * every pair in reference order in *all. */
static size_t s_make_runs(dmr_merge_t *m, int nruns, size_t max_per_run,
                          pair_t **all)
{
    pair_t *every = dmr_malloc(nruns * max_per_run * sizeof *every + 1);
    size_t total = 0;
    for (int run = 0; run < nruns; run++) {
        size_t n = run % 7 == 3 ? 0 : (size_t)(s_rand() % max_per_run);
        pair_t *ps = every + total;
        for (size_t i = 0; i < n; i++) {
            s_random_key(&ps[i]);
            ps[i].vlen = (size_t)snprintf(ps[i].val, sizeof ps[i].val,
                                          "r%d.%zu", run, i);
            ps[i].run = run;
            ps[i].seq = (int)i;
        }
        qsort(ps, n, sizeof *ps, s_pair_cmp);
        dmr_merge_add(m, s_run(ps, n, run));
        total += n;
    }
    qsort(every, total, sizeof *every, s_pair_cmp);
    *all = every;
    return total;
}

static int s_slice_is(dmr_slice s, const char *p, size_t n)
{
    return s.len == n && (n == 0 || memcmp(s.ptr, p, n) == 0);
}

/* Merges and compares with the reference: groups in order, each group's
 * values exactly the reference's run of equal keys. With skip, reads only
 * some values of some groups. */
static void s_check_merge(dmr_merge_t *m, const pair_t *ref, size_t n, int skip)
{
    size_t i = 0;
    int groups = 0;
    dmr_slice key;
    dmr_values *vals;
    int rc;
    while ((rc = dmr_merge_next(m, &key, &vals)) == 1) {
        cr_assert(i < n, "extra group after %zu pairs", n);
        const pair_t *first = &ref[i];
        cr_assert(s_slice_is(key, first->key, first->klen),
                  "group %d: key of %zu bytes, expected %zu bytes", groups,
                  key.len, first->klen);
        char kcopy[16];
        memcpy(kcopy, key.ptr, key.len);
        size_t want = groups % 3 == 1 && skip ? (size_t)groups % 4 : SIZE_MAX;
        size_t got = 0;
        dmr_slice v;
        while (got < want && dmr_values_next(vals, &v) == 1) {
            cr_assert(i < n &&
                          s_cmp(key, (dmr_slice){ref[i].key, ref[i].klen}) == 0,
                      "group %d: more values than the reference", groups);
            cr_assert(s_slice_is(v, ref[i].val, ref[i].vlen),
                      "group %d value %zu: got %.*s, expected %s", groups, got,
                      (int)v.len, v.ptr, ref[i].val);
            got++;
            i++;
        }
        /* The key survives the readers moving on. */
        cr_assert_eq(memcmp(key.ptr, kcopy, key.len), 0);
        if (want == SIZE_MAX) {
            cr_assert(i == n ||
                          s_cmp(key, (dmr_slice){ref[i].key, ref[i].klen}) != 0,
                      "group %d ended early", groups);
            cr_assert_eq(dmr_values_next(vals, &v), 0, "end is sticky");
        }
        while (i < n && s_cmp(key, (dmr_slice){ref[i].key, ref[i].klen}) == 0)
            i++;
        groups++;
    }
    cr_assert_eq(rc, 0, "merge: %s", dmr_strerror(rc));
    cr_assert_eq(i, n, "merge ended after %zu of %zu pairs", i, n);
    cr_assert_eq(dmr_merge_next(m, &key, &vals), 0, "end is sticky");
}

/* ---- tests ------------------------------------------------------------- */

Test(merge, keys_come_out_sorted_and_grouped)
{
    dmr_merge_t *m = dmr_merge_new(NULL);
    pair_t *ref;
    size_t n = s_make_runs(m, 40, 700, &ref);
    cr_assert_gt(n, 10000);
    s_check_merge(m, ref, n, 0);
    dmr_merge_destroy(&m);
    cr_assert_null(m);
    free(ref);
}

Test(merge, values_left_unread_are_skipped)
{
    dmr_merge_t *m = dmr_merge_new(dmr_key_compare);
    pair_t *ref;
    size_t n = s_make_runs(m, 9, 400, &ref);
    s_check_merge(m, ref, n, 1);
    dmr_merge_destroy(&m);
    free(ref);
}

/* ASCII case-insensitive order: keys differing only in case are equal. */
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

Test(merge, custom_compare)
{
    s_cmp = s_nocase;
    dmr_merge_t *m = dmr_merge_new(s_nocase);
    pair_t *ref;
    size_t n = s_make_runs(m, 12, 500, &ref);
    /* The alphabet's 'a'/'A' makes case-only differences common. */
    int mixed = 0;
    for (size_t i = 1; i < n; i++)
        mixed += s_nocase((dmr_slice){ref[i].key, ref[i].klen},
                          (dmr_slice){ref[i - 1].key, ref[i - 1].klen}) == 0 &&
                 !s_slice_is((dmr_slice){ref[i].key, ref[i].klen},
                             ref[i - 1].key, ref[i - 1].klen);
    cr_assert_gt(mixed, 10);
    s_check_merge(m, ref, n, 0);
    dmr_merge_destroy(&m);
    free(ref);
}

Test(merge, no_inputs_or_empty_inputs_give_no_groups)
{
    dmr_slice key;
    dmr_values *vals;
    dmr_merge_t *m = dmr_merge_new(NULL);
    cr_assert_eq(dmr_merge_next(m, &key, &vals), 0);
    dmr_merge_destroy(&m);

    m = dmr_merge_new(NULL);
    for (int i = 0; i < 3; i++)
        dmr_merge_add(m, s_run(NULL, 0, i));
    cr_assert_eq(dmr_merge_next(m, &key, &vals), 0);
    cr_assert_eq(dmr_merge_next(m, &key, &vals), 0);
    dmr_merge_destroy(&m);
    dmr_merge_destroy(&m); /* NULL is fine */
}

/* Flips a payload byte in the last block of run id. */
static void s_damage_last_block(int id)
{
    char *path = s_run_path(id);
    uint32_t n;
    dmr_run_part_t *parts;
    cr_assert_eq(dmr_run_index_load(path, &n, &parts), 0);
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    unsigned char b;
    off_t at = (off_t)(parts[0].offset + parts[0].length - 3);
    cr_assert_eq(pread(fd, &b, 1, at), 1);
    b ^= 0x40;
    cr_assert_eq(pwrite(fd, &b, 1, at), 1);
    close(fd);
    free(parts);
    free(path);
}

Test(merge, reader_error_ends_the_merge)
{
    /* Two stored runs of 6000 x 32-byte records (3 blocks each); the
     * second is damaged in its last block, so the merge fails part way. */
    size_t n = 6000;
    pair_t *ps = dmr_malloc(n * sizeof *ps);
    for (size_t i = 0; i < n; i++) {
        ps[i].klen = (size_t)snprintf(ps[i].key, sizeof ps[i].key, "k%06zu", i);
        ps[i].vlen =
            (size_t)snprintf(ps[i].val, sizeof ps[i].val, "%020zu", i * 7919);
    }
    dmr_run_reader_t *r = s_run(ps, n, 2);
    dmr_run_reader_destroy(&r);
    s_damage_last_block(2);
    dmr_merge_t *m = dmr_merge_new(NULL);
    dmr_merge_add(m, s_run(ps, n, 0));
    dmr_merge_add(m, s_open_run(2));

    dmr_slice key, v;
    dmr_values *vals;
    int rc, groups = 0, values_after_end = 0;
    while ((rc = dmr_merge_next(m, &key, &vals)) == 1) {
        groups++;
        while (dmr_values_next(vals, &v) == 1)
            ;
        /* Once the iterator said 0 it stays 0, error or not. */
        values_after_end += dmr_values_next(vals, &v);
    }
    cr_assert_eq(rc, DMR_ECORRUPT, "got %s", dmr_strerror(rc));
    cr_assert_gt(groups, 1000);
    cr_assert_lt(groups, (int)n);
    cr_assert_eq(values_after_end, 0);
    cr_assert_eq(dmr_merge_next(m, &key, &vals), DMR_ECORRUPT, "sticky");
    cr_assert_eq(dmr_merge_failed_input(m), 1, "the damaged run is input 1");
    dmr_merge_destroy(&m);

    /* Damage in the very first block fails the very first call. */
    r = s_run(ps, 10, 4);
    dmr_run_reader_destroy(&r);
    s_damage_last_block(4);
    m = dmr_merge_new(NULL);
    dmr_merge_add(m, s_run(ps, n, 6));
    dmr_merge_add(m, s_open_run(4));
    cr_assert_eq(dmr_merge_next(m, &key, &vals), DMR_ECORRUPT);
    cr_assert_eq(dmr_merge_next(m, &key, &vals), DMR_ECORRUPT);
    cr_assert_eq(dmr_merge_failed_input(m), 1);
    dmr_merge_destroy(&m);
    free(ps);
}

Test(merge, consumed_bytes_grow_to_the_inputs_size)
{
    size_t n = 6000;
    pair_t *ps = dmr_malloc(n * sizeof *ps);
    for (size_t i = 0; i < n; i++) {
        ps[i].klen = (size_t)snprintf(ps[i].key, sizeof ps[i].key, "k%06zu", i);
        ps[i].vlen = (size_t)snprintf(ps[i].val, sizeof ps[i].val, "v%zu", i);
    }
    uint64_t total = 0;
    dmr_merge_t *m = dmr_merge_new(NULL);
    for (int id = 0; id < 3; id++) {
        dmr_run_reader_t *r = s_run(ps, n, 10 + id);
        dmr_run_reader_destroy(&r);
        char *path = s_run_path(10 + id);
        uint32_t np;
        dmr_run_part_t *parts;
        cr_assert_eq(dmr_run_index_load(path, &np, &parts), 0);
        total += parts[0].length;
        free(parts);
        free(path);
        dmr_merge_add(m, s_open_run(10 + id));
    }
    cr_assert_eq(dmr_merge_consumed(m), 0);
    dmr_slice key;
    dmr_values *vals;
    uint64_t last = 0, mid = 0;
    size_t groups = 0;
    while (dmr_merge_next(m, &key, &vals) == 1) {
        uint64_t now = dmr_merge_consumed(m);
        cr_assert_geq(now, last, "consumed went backwards");
        last = now;
        if (++groups == n / 2)
            mid = now;
    }
    cr_assert_eq(dmr_merge_failed_input(m), -1);
    cr_assert_eq(dmr_merge_consumed(m), total);
    cr_assert(mid > total / 4 && mid < total * 3 / 4,
              "half the keys read %llu of %llu bytes", (unsigned long long)mid,
              (unsigned long long)total);
    dmr_merge_destroy(&m);
    free(ps);
}

/* ---- the whole shuffle: sort buffer -> spills -> per-partition merge ---- */

typedef struct {
    dmr_run_writer_t *w;
} spill_t;

static int s_spill_group(void *arg, uint32_t part, dmr_slice key,
                         dmr_values *vals)
{
    spill_t *sp = arg;
    dmr_slice v;
    while (dmr_values_next(vals, &v) == 1) {
        int rc = dmr_run_writer_add(sp->w, part, key, v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

Test(merge, spills_from_the_sort_buffer_merge_back_per_partition)
{
    enum { NPARTS = 4, NSPILLS = 6, PER_SPILL = 3000 };
    size_t n = NSPILLS * PER_SPILL;
    pair_t *all = dmr_malloc(n * sizeof *all);
    dmr_run_part_t parts[NSPILLS][NPARTS];
    dmr_sortbuf_t *sb = dmr_sortbuf_new(NPARTS, NULL);
    for (int s = 0; s < NSPILLS; s++) {
        for (int i = 0; i < PER_SPILL; i++) {
            pair_t *p = &all[s * PER_SPILL + i];
            s_random_key(p);
            p->vlen = (size_t)snprintf(p->val, sizeof p->val, "s%d.%d", s, i);
            p->run = s;
            p->seq = i;
            uint32_t part =
                dmr_key_partition((dmr_slice){p->key, p->klen}, NPARTS);
            dmr_sortbuf_add(sb, part, (dmr_slice){p->key, p->klen},
                            (dmr_slice){p->val, p->vlen});
        }
        char *path = dmr_sprintf("%s/spill-%d", s_dir, s);
        spill_t sp = {NULL};
        cr_assert_eq(dmr_run_writer_open(path, NPARTS, 1, &sp.w), 0);
        cr_assert_eq(dmr_sortbuf_drain(sb, s_spill_group, &sp), 0);
        cr_assert_eq(dmr_sortbuf_count(sb), 0);
        cr_assert_eq(dmr_run_writer_finish(sp.w), 0);
        memcpy(parts[s], dmr_run_writer_parts(sp.w), sizeof parts[s]);
        dmr_run_writer_destroy(&sp.w);
        free(path);
    }
    dmr_sortbuf_destroy(&sb);
    qsort(all, n, sizeof *all, s_pair_cmp);

    size_t seen = 0;
    for (uint32_t part = 0; part < NPARTS; part++) {
        /* The reference for this partition, in merge order. */
        pair_t *ref = dmr_malloc(n * sizeof *ref);
        size_t nref = 0;
        for (size_t i = 0; i < n; i++)
            if (dmr_key_partition((dmr_slice){all[i].key, all[i].klen},
                                  NPARTS) == part)
                ref[nref++] = all[i];
        dmr_merge_t *m = dmr_merge_new(NULL);
        for (int s = 0; s < NSPILLS; s++) {
            char *path = dmr_sprintf("%s/spill-%d", s_dir, s);
            dmr_run_reader_t *r = NULL;
            cr_assert_eq(dmr_run_reader_open(path, parts[s][part].offset,
                                             parts[s][part].length, &r),
                         0);
            dmr_merge_add(m, r);
            free(path);
        }
        s_check_merge(m, ref, nref, 0);
        dmr_merge_destroy(&m);
        seen += nref;
        free(ref);
    }
    cr_assert_eq(seen, n);
    free(all);
}
