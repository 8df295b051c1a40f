/* test_run.c -- the run file: round trips, the index, and corruption.
 *
 * Every test writes into its own temporary directory. Corruption tests
 * check the format's promise: a damaged file yields DMR_ECORRUPT or the
 * exact original records, never different ones. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "shuffle/run.h"
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

TestSuite(run, .init = s_setup, .fini = s_teardown, .timeout = 60);

/* ---- fixtures ---------------------------------------------------------- */

typedef struct {
    uint32_t part;
    char *key;
    size_t klen;
    char *val;
    size_t vlen;
} rec_t;

typedef struct {
    rec_t *r;
    size_t n, cap;
} recs_t;

static uint64_t s_rng = 0x9e3779b97f4a7c15ULL;

static uint64_t s_rand(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static void s_push(recs_t *rs, uint32_t part, const void *k, size_t klen,
                   const void *v, size_t vlen)
{
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? 2 * rs->cap : 64;
        rs->r = dmr_realloc(rs->r, rs->cap * sizeof *rs->r);
    }
    rec_t *r = &rs->r[rs->n++];
    r->part = part;
    r->key = dmr_malloc(klen + 1);
    r->val = dmr_malloc(vlen + 1);
    if (klen)
        memcpy(r->key, k, klen);
    if (vlen)
        memcpy(r->val, v, vlen);
    r->klen = klen;
    r->vlen = vlen;
}

static void s_free(recs_t *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        free(rs->r[i].key);
        free(rs->r[i].val);
    }
    free(rs->r);
    memset(rs, 0, sizeof *rs);
}

/* Fills buf with n bytes: random, or text-like (compressible). */
static void s_fill(char *buf, size_t n, int compressible)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = compressible ? "abcab cabd"[s_rand() % 10]
                              : (char)(s_rand() & 0xff);
}

/* Random records spread over nparts partitions, in partition order. Sizes
 * cover empty keys and values and, with big, every bin header size
 * (bin8/16/32) -- some records then exceed the block target. */
static void s_make(recs_t *rs, uint32_t nparts, size_t n, int compressible,
                   int big)
{
    static const size_t sizes[] = {0,    1,     7,     255,  256,
                                   1000, 65535, 65536, 70000};
    char *buf = dmr_malloc(80000);
    char *kb = dmr_malloc(80000);
    for (uint32_t p = 0; p < nparts; p++) {
        for (size_t i = 0; i < n / nparts; i++) {
            size_t klen = s_rand() % 24, vlen = s_rand() % 200;
            size_t nsizes = big ? 9 : 6;
            if (s_rand() % 50 == 0)
                vlen = sizes[s_rand() % nsizes];
            if (s_rand() % 200 == 0)
                klen = sizes[s_rand() % nsizes];
            s_fill(kb, klen, compressible);
            s_fill(buf, vlen, compressible);
            s_push(rs, p, kb, klen, buf, vlen);
        }
    }
    free(buf);
    free(kb);
}

static void s_write(const char *path, const recs_t *rs, uint32_t nparts,
                    int level, dmr_run_part_t *parts_out)
{
    dmr_run_writer_t *w = NULL;
    int rc = dmr_run_writer_open(path, nparts, level, &w);
    cr_assert_eq(rc, 0, "open: %s", dmr_strerror(rc));
    for (size_t i = 0; i < rs->n; i++) {
        const rec_t *r = &rs->r[i];
        rc = dmr_run_writer_add(w, r->part, (dmr_slice){r->key, r->klen},
                                (dmr_slice){r->val, r->vlen});
        cr_assert_eq(rc, 0, "add %zu: %s", i, dmr_strerror(rc));
    }
    rc = dmr_run_writer_finish(w);
    cr_assert_eq(rc, 0, "finish: %s", dmr_strerror(rc));
    if (parts_out)
        memcpy(parts_out, dmr_run_writer_parts(w), nparts * sizeof *parts_out);
    dmr_run_writer_destroy(&w);
    cr_assert_null(w);
}

static int s_rec_eq(const rec_t *r, dmr_slice k, dmr_slice v)
{
    return r->klen == k.len && r->vlen == v.len &&
           (k.len == 0 || memcmp(r->key, k.ptr, k.len) == 0) &&
           (v.len == 0 || memcmp(r->val, v.ptr, v.len) == 0);
}

/* Reads [off, off+len) of path and compares with the records of part.
 * With may_fail, DMR_ECORRUPT (at open or after a correct prefix) is
 * accepted; returns 1 if the read failed that way. */
static int s_check_part(const char *path, uint64_t off, uint64_t len,
                        const recs_t *rs, uint32_t part, int may_fail)
{
    dmr_run_reader_t *r = NULL;
    int rc = dmr_run_reader_open(path, off, len, &r);
    if (may_fail && rc == DMR_ECORRUPT)
        return 1;
    cr_assert_eq(rc, 0, "reader open: %s", dmr_strerror(rc));
    size_t i = 0;
    while (i < rs->n && rs->r[i].part < part)
        i++;
    dmr_slice k, v;
    int failed = 0;
    for (;;) {
        rc = dmr_run_reader_next(r, &k, &v);
        if (rc != 1)
            break;
        cr_assert(i < rs->n && rs->r[i].part == part,
                  "part %u: extra record (key len %zu)", part, k.len);
        cr_assert(s_rec_eq(&rs->r[i], k, v),
                  "part %u record %zu differs: key len %zu vs %zu, value "
                  "len %zu vs %zu",
                  part, i, rs->r[i].klen, k.len, rs->r[i].vlen, v.len);
        i++;
    }
    if (may_fail && rc == DMR_ECORRUPT) {
        failed = 1;
    } else {
        cr_assert_eq(rc, 0, "part %u: %s", part, dmr_strerror(rc));
        cr_assert(i == rs->n || rs->r[i].part != part,
                  "part %u ended early at record %zu", part, i);
        /* The end is sticky. */
        cr_assert_eq(dmr_run_reader_next(r, &k, &v), 0);
    }
    dmr_run_reader_destroy(&r);
    cr_assert_null(r);
    return failed;
}

static void s_check_file(const char *path, const recs_t *rs, uint32_t nparts)
{
    uint32_t n = 0;
    dmr_run_part_t *parts = NULL;
    int rc = dmr_run_index_load(path, &n, &parts);
    cr_assert_eq(rc, 0, "index: %s", dmr_strerror(rc));
    cr_assert_eq(n, nparts);
    for (uint32_t p = 0; p < n; p++)
        s_check_part(path, parts[p].offset, parts[p].length, rs, p, 0);
    free(parts);
}

static uint64_t s_file_size(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static void s_put_file(const char *path, const void *p, size_t n)
{
    int rc = dmr_write_file_atomic(path, p, n);
    cr_assert_eq(rc, 0, "write %s: %s", path, dmr_strerror(rc));
}

static dmr_buf_t s_slurp(const char *path)
{
    dmr_buf_t b = DMR_BUF_INIT;
    int rc = dmr_read_file(path, 1u << 30, &b);
    cr_assert_eq(rc, 0, "read %s: %s", path, dmr_strerror(rc));
    return b;
}

/* ---- round trips ------------------------------------------------------- */

Test(run, round_trip_keeps_every_record)
{
    recs_t rs = {0};
    s_make(&rs, 7, 7000, 1, 1);
    char *path = tmpdir_path(s_dir, "rt.run");
    dmr_run_part_t parts[7];
    s_write(path, &rs, 7, 6, parts);
    s_check_file(path, &rs, 7);

    /* The writer's table is the one on disk, and it adds up. */
    uint32_t n;
    dmr_run_part_t *loaded;
    cr_assert_eq(dmr_run_index_load(path, &n, &loaded), 0);
    for (uint32_t p = 0; p < 7; p++) {
        cr_assert_eq(loaded[p].offset, parts[p].offset);
        cr_assert_eq(loaded[p].length, parts[p].length);
        cr_assert_eq(loaded[p].records, parts[p].records);
        cr_assert_eq(loaded[p].raw, parts[p].raw);
        cr_assert_eq(parts[p].records, 1000, "part %u has %lu records", p,
                     (unsigned long)parts[p].records);
    }
    cr_assert_eq(parts[0].offset, 0);
    cr_assert_eq(parts[6].offset + parts[6].length + 7 * 32 + 24,
                 s_file_size(path));
    free(loaded);
    free(path);
    s_free(&rs);
}

Test(run, empty_partitions)
{
    /* Data in partitions 2 and 5 of 8 only. */
    recs_t rs = {0};
    s_push(&rs, 2, "a", 1, "1", 1);
    s_push(&rs, 2, "b", 1, "", 0);
    s_push(&rs, 5, "", 0, "x", 1);
    char *path = tmpdir_path(s_dir, "sparse.run");
    dmr_run_part_t parts[8];
    s_write(path, &rs, 8, 1, parts);
    s_check_file(path, &rs, 8);
    for (uint32_t p = 0; p < 8; p++) {
        int full = p == 2 || p == 5;
        cr_assert_eq(parts[p].length > 0, full, "part %u length %lu", p,
                     (unsigned long)parts[p].length);
        cr_assert_eq(parts[p].records, p == 2 ? 2u : p == 5 ? 1u : 0u);
    }
    cr_assert_eq(parts[3].offset, parts[2].offset + parts[2].length);
    free(path);

    /* A run with no records at all is a valid run too. */
    recs_t none = {0};
    path = tmpdir_path(s_dir, "empty.run");
    s_write(path, &none, 3, 0, parts);
    cr_assert_eq(s_file_size(path), 3 * 32 + 24);
    s_check_file(path, &none, 3);
    free(path);
    s_free(&rs);
}

Test(run, compression_on_and_off)
{
    recs_t text = {0}, noise = {0};
    s_make(&text, 3, 3000, 1, 1);
    /* Random values big enough that record headers cannot help deflate. */
    char *rnd = dmr_malloc(10000);
    for (uint32_t p = 0; p < 3; p++) {
        for (int i = 0; i < 40; i++) {
            s_fill(rnd, 10000, 0);
            s_push(&noise, p, rnd, 16, rnd + 16, 10000 - 16);
        }
    }
    free(rnd);
    char *p0 = tmpdir_path(s_dir, "text0.run");
    char *p6 = tmpdir_path(s_dir, "text6.run");
    char *n9 = tmpdir_path(s_dir, "noise9.run");
    dmr_run_part_t a[3], b[3], c[3];
    s_write(p0, &text, 3, 0, a);
    s_write(p6, &text, 3, 6, b);
    s_write(n9, &noise, 3, 9, c);
    s_check_file(p0, &text, 3);
    s_check_file(p6, &text, 3);
    s_check_file(n9, &noise, 3);

    for (int p = 0; p < 3; p++) {
        cr_assert_eq(a[p].raw, b[p].raw);
        cr_assert_eq(a[p].records, b[p].records);
        /* Stored blocks: payload plus a 20-byte header each. */
        cr_assert_gt(a[p].length, a[p].raw);
        cr_assert_lt(b[p].length * 2, a[p].raw,
                     "part %d: deflate gave %lu of %lu bytes", p,
                     (unsigned long)b[p].length, (unsigned long)a[p].raw);
        /* Incompressible blocks are stored, never grown by deflate: each
         * costs its payload plus the 20-byte header, and a block holds at
         * least 6 of these ~10 KB records. */
        uint64_t blocks = c[p].records / 6 + 1;
        cr_assert_leq(c[p].length, c[p].raw + 20 * blocks,
                      "part %d: %lu bytes for %lu raw", p,
                      (unsigned long)c[p].length, (unsigned long)c[p].raw);
    }
    free(p0);
    free(p6);
    free(n9);
    s_free(&text);
    s_free(&noise);
}

Test(run, blocks_stay_under_the_target_unless_one_record_is_bigger)
{
    recs_t rs = {0};
    s_make(&rs, 2, 4000, 0, 0);
    char big[200000];
    s_fill(big, sizeof big, 0);
    s_push(&rs, 1, "big", 3, big, sizeof big);
    s_push(&rs, 1, "after", 5, "v", 1);
    char *path = tmpdir_path(s_dir, "blocks.run");
    dmr_run_part_t parts[2];
    s_write(path, &rs, 2, 0, parts);
    s_check_file(path, &rs, 2);

    /* Walk the stored blocks' headers. */
    dmr_buf_t f = s_slurp(path);
    const unsigned char *d = (const unsigned char *)f.data;
    uint64_t end = parts[1].offset + parts[1].length;
    int blocks = 0, huge = 0;
    for (uint64_t at = 0; at < end; blocks++) {
        cr_assert_eq(memcmp(d + at, "DMRB", 4), 0, "no block at %lu",
                     (unsigned long)at);
        uint32_t raw = d[at + 4] | d[at + 5] << 8 | d[at + 6] << 16 |
                       (uint32_t)d[at + 7] << 24;
        if (raw > DMR_RUN_BLOCK_TARGET) {
            huge++;
            cr_assert_eq(raw, 1 + 2 + 3 + 5 + sizeof big);
        }
        at += 20 + raw;
        cr_assert(at <= end);
    }
    cr_assert_eq(huge, 1);
    cr_assert_gt(blocks, 4);
    dmr_buf_free(&f);
    free(path);
    s_free(&rs);
}

Test(run, fetched_partition_reads_from_offset_zero)
{
    recs_t rs = {0};
    s_make(&rs, 4, 4000, 1, 1);
    char *path = tmpdir_path(s_dir, "map.run");
    dmr_run_part_t parts[4];
    s_write(path, &rs, 4, 3, parts);
    dmr_buf_t f = s_slurp(path);

    for (uint32_t p = 0; p < 4; p++) {
        /* Alone in a file, as a reducer stores a fetched copy. */
        char *copy = dmr_sprintf("%s/fetched-%u", s_dir, p);
        s_put_file(copy, f.data + parts[p].offset, parts[p].length);
        s_check_part(copy, 0, parts[p].length, &rs, p, 0);
        free(copy);

        /* Between junk bytes: the reader keeps inside its range. */
        dmr_buf_t padded = DMR_BUF_INIT;
        for (int i = 0; i < 777; i++)
            dmr_buf_putc(&padded, "DMRB\x92\xc4"[i % 6]);
        dmr_buf_append(&padded, f.data + parts[p].offset, parts[p].length);
        for (int i = 0; i < 333; i++)
            dmr_buf_putc(&padded, (char)i);
        char *pad = tmpdir_path(s_dir, "padded");
        s_put_file(pad, padded.data, padded.len);
        s_check_part(pad, 777, parts[p].length, &rs, p, 0);
        free(pad);
        dmr_buf_free(&padded);
    }
    dmr_buf_free(&f);
    free(path);
    s_free(&rs);
}

Test(run, huge_records_round_trip_and_oversized_ones_are_refused)
{
    recs_t rs = {0};
    size_t n = 3 * 1024 * 1024;
    char *big = dmr_malloc(n);
    s_fill(big, n, 1);
    s_push(&rs, 0, big, 70000, big, n);
    s_push(&rs, 0, "k", 1, "v", 1);
    char *path = tmpdir_path(s_dir, "huge.run");
    s_write(path, &rs, 1, 1, NULL);
    s_check_file(path, &rs, 1);
    free(big);

    dmr_run_writer_t *w = NULL;
    cr_assert_eq(dmr_run_writer_open(path, 1, 0, &w), 0);
    char *too = dmr_calloc(1, DMR_RUN_BLOCK_MAX);
    int rc = dmr_run_writer_add(w, 0, (dmr_slice){"k", 1},
                                (dmr_slice){too, DMR_RUN_BLOCK_MAX});
    cr_assert_eq(rc, DMR_ETOOBIG, "got %s", dmr_strerror(rc));
    /* The writer is still usable after a refused record. */
    cr_assert_eq(
        dmr_run_writer_add(w, 0, (dmr_slice){"k", 1}, (dmr_slice){"v", 1}), 0);
    cr_assert_eq(dmr_run_writer_finish(w), 0);
    dmr_run_writer_destroy(&w);
    free(too);
    free(path);
    s_free(&rs);
}

/* ---- misuse and failures ----------------------------------------------- */

Test(run, writer_refuses_bad_arguments)
{
    char *path = tmpdir_path(s_dir, "bad.run");
    dmr_run_writer_t *w = NULL;
    cr_assert_eq(dmr_run_writer_open(path, 0, 0, &w), DMR_EINVAL);
    cr_assert_eq(dmr_run_writer_open(path, 2, 10, &w), DMR_EINVAL);
    cr_assert_eq(dmr_run_writer_open(path, 2, -1, &w), DMR_EINVAL);
    cr_assert_null(w);

    cr_assert_eq(dmr_run_writer_open(path, 3, 0, &w), 0);
    dmr_slice k = {"k", 1};
    cr_assert_eq(dmr_run_writer_add(w, 3, k, k), DMR_EINVAL);
    cr_assert_eq(dmr_run_writer_add(w, 1, k, k), 0);
    cr_assert_eq(dmr_run_writer_add(w, 0, k, k), DMR_EINVAL);
    cr_assert_eq(dmr_run_writer_add(w, 2, k, k), 0);
    cr_assert_eq(dmr_run_writer_finish(w), 0);
    cr_assert_eq(dmr_run_writer_finish(w), DMR_EINVAL);
    cr_assert_eq(dmr_run_writer_add(w, 2, k, k), DMR_EINVAL);
    dmr_run_writer_destroy(&w);
    cr_assert_eq(access(path, F_OK), 0, "a finished run stays");

    char *nodir = tmpdir_path(s_dir, "no/such/dir.run");
    cr_assert_eq(dmr_run_writer_open(nodir, 1, 0, &w), DMR_ENOENT);
    free(nodir);
    free(path);
}

Test(run, unfinished_writer_removes_its_file)
{
    char *path = tmpdir_path(s_dir, "partial.run");
    dmr_run_writer_t *w = NULL;
    cr_assert_eq(dmr_run_writer_open(path, 1, 0, &w), 0);
    cr_assert_eq(
        dmr_run_writer_add(w, 0, (dmr_slice){"k", 1}, (dmr_slice){"v", 1}), 0);
    cr_assert_eq(access(path, F_OK), 0);
    dmr_run_writer_destroy(&w);
    cr_assert_null(w);
    cr_assert_neq(access(path, F_OK), 0);
    dmr_run_writer_destroy(&w); /* NULL is fine */
    free(path);
}

Test(run, missing_files_and_io_errors_are_not_corruption)
{
    char *path = tmpdir_path(s_dir, "absent.run");
    dmr_run_reader_t *r = NULL;
    uint32_t n;
    dmr_run_part_t *parts;
    cr_assert_eq(dmr_run_reader_open(path, 0, 0, &r), DMR_ENOENT);
    cr_assert_eq(dmr_run_index_load(path, &n, &parts), DMR_ENOENT);
    free(path);

    /* Reading a directory fails in read(2): an I/O error. */
    uint64_t size = s_file_size(s_dir);
    cr_assert_eq(dmr_run_index_load(s_dir, &n, &parts), DMR_EIO);
    cr_assert_eq(dmr_run_reader_open(s_dir, 0, size, &r), 0);
    dmr_slice k, v;
    cr_assert_eq(dmr_run_reader_next(r, &k, &v), DMR_EIO);
    dmr_run_reader_destroy(&r);
}

/* ---- corruption -------------------------------------------------------- */

/* Checks the whole file after damage: the index loads as written or is
 * DMR_ECORRUPT, and every partition reads back exactly or fails with
 * DMR_ECORRUPT. Returns how many checks detected damage. */
static int s_check_damaged(const char *path, const recs_t *rs, uint32_t nparts,
                           const dmr_run_part_t *orig)
{
    int detected = 0;
    uint32_t n = 0;
    dmr_run_part_t *parts = NULL;
    int rc = dmr_run_index_load(path, &n, &parts);
    if (rc == 0) {
        cr_assert_eq(n, nparts);
        cr_assert_eq(memcmp(parts, orig, n * sizeof *parts), 0,
                     "a damaged index loaded with different entries");
        free(parts);
    } else {
        cr_assert_eq(rc, DMR_ECORRUPT, "index: %s", dmr_strerror(rc));
        detected++;
    }
    for (uint32_t p = 0; p < nparts; p++)
        detected +=
            s_check_part(path, orig[p].offset, orig[p].length, rs, p, 1);
    return detected;
}

static void s_flip_every_byte(int level)
{
    recs_t rs = {0};
    s_push(&rs, 0, "alpha", 5, "one", 3);
    s_push(&rs, 0, "beta", 4, "", 0);
    s_push(&rs, 0, "beta", 4, "two two two two", 15);
    s_push(&rs, 2, "", 0, "empty key", 9);
    s_push(&rs, 2, "gamma", 5, "three three three three three", 29);
    char *path = tmpdir_path(s_dir, "flip.run");
    dmr_run_part_t parts[3];
    s_write(path, &rs, 3, level, parts);
    uint64_t size = s_file_size(path);
    cr_assert_lt(size, 1000);

    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    static const unsigned char masks[] = {0x01, 0x10, 0x80, 0xff};
    for (uint64_t at = 0; at < size; at++) {
        unsigned char orig;
        cr_assert_eq(pread(fd, &orig, 1, (off_t)at), 1);
        for (size_t m = 0; m < sizeof masks; m++) {
            unsigned char bad = orig ^ masks[m];
            cr_assert_eq(pwrite(fd, &bad, 1, (off_t)at), 1);
            int detected = s_check_damaged(path, &rs, 3, parts);
            cr_assert_gt(detected, 0, "flip 0x%02x at byte %lu went unseen",
                         masks[m], (unsigned long)at);
        }
        cr_assert_eq(pwrite(fd, &orig, 1, (off_t)at), 1);
    }
    close(fd);
    cr_assert_eq(s_check_damaged(path, &rs, 3, parts), 0);
    free(path);
    s_free(&rs);
}

Test(run, flipped_byte_is_detected)
{
    s_flip_every_byte(0);
    s_flip_every_byte(6);
}

Test(run, truncated_file_is_detected)
{
    /* Small records: each partition is a single block. */
    recs_t rs = {0};
    for (uint32_t p = 0; p < 3; p++) {
        for (int i = 0; i < 100; i++) {
            char k[32], v[32];
            int kl = snprintf(k, sizeof k, "key-%u-%03d", p, i);
            int vl = snprintf(v, sizeof v, "value %d", i * i);
            s_push(&rs, p, k, (size_t)kl, v, (size_t)vl);
        }
    }
    char *path = tmpdir_path(s_dir, "trunc.run");
    dmr_run_part_t parts[3];
    s_write(path, &rs, 3, 6, parts);
    uint64_t size = s_file_size(path);
    for (uint64_t len = size; len-- > 0;) {
        cr_assert_eq(truncate(path, (off_t)len), 0);
        uint32_t n;
        dmr_run_part_t *loaded;
        int rc = dmr_run_index_load(path, &n, &loaded);
        cr_assert_eq(rc, DMR_ECORRUPT, "truncated to %lu: %s",
                     (unsigned long)len, dmr_strerror(rc));
        if (len % 97 == 0 || len + 30 > size)
            s_check_damaged(path, &rs, 3, parts);
        /* A fetched copy cut short fails at its end, never before. */
        uint64_t p1end = parts[1].offset + parts[1].length;
        if (len > parts[1].offset && len < p1end) {
            dmr_run_reader_t *r;
            cr_assert_eq(dmr_run_reader_open(path, parts[1].offset,
                                             len - parts[1].offset, &r),
                         0);
            dmr_slice k, v;
            while ((rc = dmr_run_reader_next(r, &k, &v)) == 1)
                ;
            cr_assert_eq(rc, DMR_ECORRUPT, "cut at %lu: %s", (unsigned long)len,
                         dmr_strerror(rc));
            dmr_run_reader_destroy(&r);
        }
    }
    free(path);
    s_free(&rs);
}

Test(run, garbage_is_never_read_as_records)
{
    char *path = tmpdir_path(s_dir, "garbage");
    char buf[5000];
    for (int round = 0; round < 300; round++) {
        size_t len = (size_t)(s_rand() % sizeof buf);
        s_fill(buf, len, round % 2);
        if (len >= 4 && round % 3 == 0)
            memcpy(buf, "DMRB", 4); /* get past the magic check */
        if (len >= 24 && round % 5 == 0)
            memcpy(buf + len - 8, "DMRRUN1", 8);
        s_put_file(path, buf, len);
        uint32_t n;
        dmr_run_part_t *parts;
        cr_assert_eq(dmr_run_index_load(path, &n, &parts), DMR_ECORRUPT);
        dmr_run_reader_t *r;
        cr_assert_eq(dmr_run_reader_open(path, 0, len, &r), 0);
        dmr_slice k, v;
        int rc = dmr_run_reader_next(r, &k, &v);
        cr_assert_eq(rc, len ? DMR_ECORRUPT : 0, "round %d: %d", round, rc);
        dmr_run_reader_destroy(&r);
    }
    /* A range past the end of the file is a short (corrupt) fetch. */
    dmr_run_reader_t *r = NULL;
    cr_assert_eq(dmr_run_reader_open(path, 1, s_file_size(path), &r),
                 DMR_ECORRUPT);
    cr_assert_eq(dmr_run_reader_open(path, UINT64_MAX, 2, &r), DMR_EINVAL);
    free(path);
}

/* Builds one block around payload with a correct CRC. */
static void s_block(dmr_buf_t *out, int codec, uint32_t raw,
                    const void *payload, uint32_t stored)
{
    unsigned char h[20] = {'D', 'M', 'R', 'B'};
    for (int i = 0; i < 4; i++) {
        h[4 + i] = (unsigned char)(raw >> (8 * i));
        h[8 + i] = (unsigned char)(stored >> (8 * i));
    }
    h[16] = (unsigned char)codec;
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, h + 4, 8);
    crc = crc32(crc, h + 16, 4);
    crc = crc32(crc, payload, stored);
    for (int i = 0; i < 4; i++)
        h[12 + i] = (unsigned char)(crc >> (8 * i));
    dmr_buf_append(out, h, sizeof h);
    dmr_buf_append(out, payload, stored);
}

/* Reads a one-block file built from payload; returns the last rc and the
 * number of records read before it. */
static int s_read_block(const char *path, int codec, uint32_t raw,
                        const void *payload, uint32_t stored, int *records)
{
    dmr_buf_t f = DMR_BUF_INIT;
    s_block(&f, codec, raw, payload, stored);
    s_put_file(path, f.data, f.len);
    dmr_run_reader_t *r;
    cr_assert_eq(dmr_run_reader_open(path, 0, f.len, &r), 0);
    dmr_slice k, v;
    int rc;
    *records = 0;
    while ((rc = dmr_run_reader_next(r, &k, &v)) == 1)
        (*records)++;
    /* Errors are sticky. */
    cr_assert_eq(dmr_run_reader_next(r, &k, &v), rc);
    dmr_run_reader_destroy(&r);
    dmr_buf_free(&f);
    return rc;
}

Test(run, bad_record_framing_is_corrupt_even_with_a_good_crc)
{
    char *path = tmpdir_path(s_dir, "framing");
    int n;
    static const struct {
        const char *what;
        const char *bytes;
        uint32_t len;
        int records; /* read before the failure, or -1 if valid */
    } cases[] = {
        {"one valid record", "\x92\xc4\x01k\xc4\x01v", 7, -1},
        {"long headers are valid MessagePack",
         "\x92\xc5\x00\x01k\xc6\x00\x00\x00\x01v", 11, -1},
        {"not an array of two", "\x93\xc4\x01k\xc4\x01v", 7, 0},
        {"str instead of bin", "\x92\xa1k\xc4\x01v", 6, 0},
        {"key runs past the block", "\x92\xc4\x09k\xc4\x01v", 7, 0},
        {"bin32 length overflows", "\x92\xc6\xff\xff\xff\xffk", 7, 0},
        {"header cut short", "\x92\xc4\x01k\xc4\x01v\x92\xc5\x00", 10, 1},
        {"value missing", "\x92\xc4\x01k\xc4\x01v\x92\xc4\x00", 9, 1},
        {"leftover byte", "\x92\xc4\x01k\xc4\x01v\x00", 8, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = s_read_block(path, 0, cases[i].len, cases[i].bytes,
                              cases[i].len, &n);
        int want_rc = cases[i].records < 0 ? 0 : DMR_ECORRUPT;
        int want_n = cases[i].records < 0 ? 1 : cases[i].records;
        cr_assert_eq(rc, want_rc, "%s: rc %d", cases[i].what, rc);
        cr_assert_eq(n, want_n, "%s: %d records", cases[i].what, n);
    }

    /* Header checks: stored length must equal raw for codec 0; codec 2 is
     * unknown; a zero-length block is not a block. */
    const char *rec = "\x92\xc4\x01k\xc4\x01v";
    cr_assert_eq(s_read_block(path, 0, 8, rec, 7, &n), DMR_ECORRUPT);
    cr_assert_eq(s_read_block(path, 2, 7, rec, 7, &n), DMR_ECORRUPT);
    cr_assert_eq(s_read_block(path, 0, 0, rec, 0, &n), DMR_ECORRUPT);

    /* Deflated blocks (raw deflate): the raw length must match exactly,
     * and nothing may follow the deflate stream. */
    unsigned char z[64];
    z_stream zs = {0};
    cr_assert_eq(
        deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
        Z_OK);
    zs.next_in = (Bytef *)rec;
    zs.avail_in = 7;
    zs.next_out = z;
    zs.avail_out = sizeof z - 1;
    cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    uLongf zlen = zs.total_out;
    deflateEnd(&zs);
    /* a zlib-wrapped stream is not what the codec means */
    unsigned char zw[64];
    uLongf zwlen = sizeof zw;
    cr_assert_eq(compress2(zw, &zwlen, (const Bytef *)rec, 7, 6), Z_OK);
    cr_assert_eq(s_read_block(path, 1, 7, zw, (uint32_t)zwlen, &n),
                 DMR_ECORRUPT);
    cr_assert_eq(s_read_block(path, 1, 7, z, (uint32_t)zlen, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(s_read_block(path, 1, 8, z, (uint32_t)zlen, &n), DMR_ECORRUPT);
    cr_assert_eq(s_read_block(path, 1, 6, z, (uint32_t)zlen, &n), DMR_ECORRUPT);
    z[zlen] = 0;
    cr_assert_eq(s_read_block(path, 1, 7, z, (uint32_t)zlen + 1, &n),
                 DMR_ECORRUPT);
    cr_assert_eq(s_read_block(path, 1, 7, rec, 7, &n), DMR_ECORRUPT);
    free(path);
}

Test(run, damaged_index_is_refused)
{
    recs_t rs = {0};
    s_make(&rs, 3, 300, 1, 0);
    char *path = tmpdir_path(s_dir, "index.run");
    dmr_run_part_t parts[3];
    s_write(path, &rs, 3, 6, parts);
    dmr_buf_t f = s_slurp(path);
    size_t iofs = f.len - 24 - 3 * 32;

    /* Partitions that overlap, with the index CRC fixed up to match. */
    dmr_buf_t g = DMR_BUF_INIT;
    dmr_buf_append(&g, f.data, f.len);
    unsigned char *e1 = (unsigned char *)g.data + iofs + 32;
    e1[0] ^= 1; /* parts[1].offset off by one */
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, (const Bytef *)g.data + iofs, 3 * 32);
    unsigned char *foot = (unsigned char *)g.data + f.len - 24;
    for (int i = 0; i < 4; i++)
        foot[4 + i] = (unsigned char)(crc >> (8 * i));
    s_put_file(path, g.data, g.len);
    uint32_t n;
    dmr_run_part_t *loaded;
    cr_assert_eq(dmr_run_index_load(path, &n, &loaded), DMR_ECORRUPT);

    /* Too small to hold a footer. */
    s_put_file(path, f.data + f.len - 23, 23);
    cr_assert_eq(dmr_run_index_load(path, &n, &loaded), DMR_ECORRUPT);

    /* The footer alone, claiming the index starts at 0. */
    s_put_file(path, f.data + f.len - 24, 24);
    cr_assert_eq(dmr_run_index_load(path, &n, &loaded), DMR_ECORRUPT);

    /* Junk prepended: the offsets no longer match the file. */
    dmr_buf_clear(&g);
    dmr_buf_append(&g, "junk", 4);
    dmr_buf_append(&g, f.data, f.len);
    s_put_file(path, g.data, g.len);
    cr_assert_eq(dmr_run_index_load(path, &n, &loaded), DMR_ECORRUPT);

    dmr_buf_free(&g);
    dmr_buf_free(&f);
    free(path);
    s_free(&rs);
}
