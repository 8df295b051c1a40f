/* test_input.c -- input expansion, split cutting and the line reader.
 *
 * The heart is a property test: for random files (empty lines, lines longer
 * than the read buffer, CRLF, stray '\r' and NUL bytes, with or without a
 * final newline) and many ways of cutting them (dmr_input_cut with split
 * sizes down to one byte, and random partitions), the lines read from all
 * splits, in split order, are exactly the file's lines, each once, with the
 * right offsets and line numbers. The reference is an independent, naive
 * line splitter over the whole file.
 *
 * Each test runs in its own process (Criterion's default) inside a fresh
 * mkdtemp directory, removed by the fixture. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"
#include "storage/input.h"

static char s_tmp[PATH_MAX];

static void s_setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(s_tmp, sizeof s_tmp, "%s/dmr-test-input-XXXXXX",
             base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(s_tmp), "mkdtemp: %s", strerror(errno));
}

static void s_teardown(void)
{
    dmr_lines_set_bufsize(0);
    if (s_tmp[0])
        dmr_rmtree(s_tmp);
}

TestSuite(input, .init = s_setup, .fini = s_teardown, .timeout = 60);

/* ----- helpers -------------------------------------------------------------
 */

/* Writes data to s_tmp/rel (creating parent dirs); returns the full path,
 * which the caller frees. */
static char *s_write(const char *rel, const void *data, size_t len)
{
    char *path = dmr_sprintf("%s/%s", s_tmp, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    cr_assert_eq(dmr_mkdirs(path), 0, "mkdirs %s", path);
    *slash = '/';
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
    cr_assert_eq(write(fd, data, len), (ssize_t)len, "write %s", path);
    close(fd);
    return path;
}

static void s_write_str(const char *rel, const char *s)
{
    free(s_write(rel, s, strlen(s)));
}

static uint64_t s_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

static size_t s_below(uint64_t *state, size_t n)
{
    return (size_t)(s_rand(state) % n);
}

/* One line of the reference split. */
typedef struct {
    const char *ptr;
    size_t len;
    uint64_t off;
    uint64_t lineno;
} s_ref_t;

/* The lines of data, by the naive definition: split on '\n', drop one '\r'
 * before each '\n', a non-empty tail without '\n' is a last line. */
static s_ref_t *s_reference(const char *data, size_t n, size_t *count)
{
    s_ref_t *v = dmr_malloc((n + 1) * sizeof *v);
    size_t k = 0, p = 0;
    while (p < n) {
        size_t q = p;
        while (q < n && data[q] != '\n')
            q++;
        size_t len = q - p;
        if (q < n && len > 0 && data[q - 1] == '\r')
            len--;
        v[k] = (s_ref_t){data + p, len, p, k + 1};
        k++;
        p = q + 1;
    }
    *count = k;
    return v;
}

/* Reads [cuts[i], cuts[i+1]) for every i with one reader each, and checks
 * the lines, in order, against ref. */
static void s_check_cuts(const char *path, const uint64_t *cuts, size_t ncuts,
                         const s_ref_t *ref, size_t nref, int want_lineno,
                         const char *what)
{
    size_t k = 0;
    for (size_t i = 0; i + 1 < ncuts; i++) {
        dmr_lines_t *r = NULL;
        uint64_t off = cuts[i], len = cuts[i + 1] - cuts[i];
        int rc = dmr_lines_open(path, off, len, want_lineno, &r);
        cr_assert_eq(rc, 0, "%s: open split [%llu,+%llu): %s", what,
                     (unsigned long long)off, (unsigned long long)len,
                     dmr_strerror(rc));
        dmr_slice line;
        uint64_t loff, lno;
        while ((rc = dmr_lines_next(r, &line, &loff, &lno)) == 1) {
            cr_assert_lt(k, nref,
                         "%s: split [%llu,+%llu) read an extra line at %llu",
                         what, (unsigned long long)off, (unsigned long long)len,
                         (unsigned long long)loff);
            const s_ref_t *want = &ref[k];
            cr_assert_eq(loff, want->off,
                         "%s: line %zu: offset %llu, want %llu (split "
                         "[%llu,+%llu))",
                         what, k, (unsigned long long)loff,
                         (unsigned long long)want->off, (unsigned long long)off,
                         (unsigned long long)len);
            cr_assert_eq(line.len, want->len,
                         "%s: line at %llu: length %zu, want %zu", what,
                         (unsigned long long)loff, line.len, want->len);
            cr_assert(line.len == 0 ||
                          memcmp(line.ptr, want->ptr, line.len) == 0,
                      "%s: line at %llu: bytes differ", what,
                      (unsigned long long)loff);
            uint64_t wantno = want_lineno ? want->lineno : 0;
            cr_assert_eq(lno, wantno,
                         "%s: line at %llu: lineno %llu, want %llu", what,
                         (unsigned long long)loff, (unsigned long long)lno,
                         (unsigned long long)wantno);
            k++;
        }
        cr_assert_eq(rc, 0, "%s: next: %s", what, dmr_strerror(rc));
        cr_assert_eq(dmr_lines_next(r, &line, &loff, &lno), 0,
                     "%s: a finished reader stays finished", what);
        dmr_lines_destroy(&r);
        cr_assert_null(r);
    }
    cr_assert_eq(k, nref, "%s: read %zu lines, the file has %zu", what, k,
                 nref);
}

/* Cuts with dmr_input_cut at split_bytes and checks. */
static void s_check_split_size(const char *path, uint64_t size,
                               uint64_t split_bytes, const s_ref_t *ref,
                               size_t nref, int want_lineno)
{
    dmr_input_file_t f = {(char *)path, (char *)"f", size, 0};
    dmr_split_t *sp = NULL;
    size_t ns = 0;
    cr_assert_eq(dmr_input_cut(&f, 1, split_bytes, 0, &sp, &ns), 0);
    uint64_t *cuts = dmr_malloc((ns + 1) * sizeof *cuts);
    for (size_t i = 0; i < ns; i++) {
        cr_assert_eq(sp[i].offset, i == 0 ? 0 : cuts[i],
                     "splits are contiguous");
        cuts[i] = sp[i].offset;
        cuts[i + 1] = sp[i].offset + sp[i].length;
    }
    cr_assert_eq(cuts[ns], size, "splits cover the file");
    char what[96];
    snprintf(what, sizeof what, "size %llu split %llu lineno %d",
             (unsigned long long)size, (unsigned long long)split_bytes,
             want_lineno);
    s_check_cuts(path, cuts, ns + 1, ref, nref, want_lineno, what);
    free(cuts);
    free(sp);
}

/* Builds a random file: nlines lines of mixed kinds. */
static char *s_random_text(uint64_t *rs, size_t nlines, size_t longlen,
                           size_t *n)
{
    static const char alphabet[] = "abc xyz\r\t\0\x80\xff";
    dmr_buf_t b = DMR_BUF_INIT;
    for (size_t i = 0; i < nlines; i++) {
        size_t kind = s_below(rs, 100), len;
        if (kind < 20)
            len = 0;
        else if (kind < 70)
            len = 1 + s_below(rs, 20);
        else if (kind < 93)
            len = 20 + s_below(rs, 200);
        else
            len = longlen + s_below(rs, 7);
        for (size_t j = 0; j < len; j++)
            dmr_buf_putc(&b, alphabet[s_below(rs, sizeof alphabet - 1)]);
        int last = i + 1 == nlines;
        if (last && s_below(rs, 2))
            break; /* no final newline */
        if (s_below(rs, 100) < 15)
            dmr_buf_putc(&b, '\r');
        dmr_buf_putc(&b, '\n');
    }
    if (!b.data)
        dmr_buf_reserve(&b, 1);
    *n = b.len;
    return b.data;
}

/* Checks one file under every cutting scheme. */
static void s_check_file(const char *data, size_t n, uint64_t *rs, int small)
{
    char *path = s_write("prop.txt", data, n);
    size_t nref;
    s_ref_t *ref = s_reference(data, n, &nref);
    static const uint64_t sizes[] = {1, 2, 3, 5, 17, 64, 1000};
    for (int want = 0; want <= 1; want++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            if (!small && sizes[i] < 5 && (want || sizes[i] > 1))
                continue; /* tiny splits of big files: once is enough */
            s_check_split_size(path, n, sizes[i], ref, nref, want);
        }
        s_check_split_size(path, n, n / 3 + 1, ref, nref, want);
        s_check_split_size(path, n, n ? n : 1, ref, nref, want);
        s_check_split_size(path, n, n + 7, ref, nref, want);
        /* Random partitions, including empty ranges. */
        for (int t = 0; t < 4; t++) {
            size_t ncuts = 2 + s_below(rs, 12);
            uint64_t *cuts = dmr_malloc(ncuts * sizeof *cuts);
            cuts[0] = 0;
            cuts[ncuts - 1] = n;
            for (size_t c = 1; c + 1 < ncuts; c++)
                cuts[c] = s_below(rs, n + 1);
            for (size_t a = 1; a + 1 < ncuts; a++) /* insertion sort */
                for (size_t c = a; c > 1 && cuts[c - 1] > cuts[c]; c--) {
                    uint64_t x = cuts[c];
                    cuts[c] = cuts[c - 1];
                    cuts[c - 1] = x;
                }
            s_check_cuts(path, cuts, ncuts, ref, nref, want, "random cuts");
            free(cuts);
        }
    }
    free(ref);
    free(path);
}

/* ----- the line reader -----------------------------------------------------
 */

Test(input, lines_of_random_files_are_read_once_however_cut, .timeout = 120)
{
    static const size_t bufsizes[] = {1, 2, 3, 8, 64, 4096};
    for (uint64_t seed = 1; seed <= 36; seed++) {
        uint64_t rs = seed * 0x9e3779b97f4a7c15ULL;
        size_t bs = bufsizes[seed % (sizeof bufsizes / sizeof bufsizes[0])];
        int small = bs < 64;
        size_t nlines = s_below(&rs, small ? 12 : 60);
        dmr_lines_set_bufsize(bs);
        size_t n;
        char *data = s_random_text(&rs, nlines, 2 * bs + 1, &n);
        s_check_file(data, n, &rs, small);
        free(data);
    }
}

Test(input, edge_case_files_are_read_once_however_cut, .timeout = 60)
{
    static const char *const files[] = {
        "",      "\n",       "\n\n\n", "\r\n",   "\r",     "a",
        "a\n",   "a\r\n",    "\na",    "ab\ncd", "\r\r\n", "x\r\ny\rz\n\r",
        "a\n\n", "\n\r\n\n",
    };
    static const size_t bufsizes[] = {1, 2, 4096};
    for (size_t b = 0; b < 3; b++) {
        dmr_lines_set_bufsize(bufsizes[b]);
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            uint64_t rs = i + 1;
            s_check_file(files[i], strlen(files[i]), &rs, 1);
        }
    }
}

Test(input, lines_longer_than_the_default_buffer_are_whole, .timeout = 120)
{
    size_t big = (5u << 20) / 2; /* 2.5 MiB, over the 1 MiB buffer */
    dmr_buf_t b = DMR_BUF_INIT;
    dmr_buf_append(&b, "first\n", 6);
    for (size_t i = 0; i < big; i++)
        dmr_buf_putc(&b, (char)('a' + i % 26));
    dmr_buf_append(&b, "\r\nmiddle\n", 9);
    for (size_t i = 0; i < big; i++)
        dmr_buf_putc(&b, (char)('A' + i % 26));
    char *path = s_write("big.txt", b.data, b.len);
    size_t nref;
    s_ref_t *ref = s_reference(b.data, b.len, &nref);
    cr_assert_eq(nref, 4);
    s_check_split_size(path, b.len, 1u << 20, ref, nref, 1);
    s_check_split_size(path, b.len, 3u << 20, ref, nref, 0);
    uint64_t cuts[] = {0, 6, 7, 6 + big + 2, 6 + big + 3, b.len - 1, b.len};
    s_check_cuts(path, cuts, sizeof cuts / sizeof cuts[0], ref, nref, 1,
                 "cuts at line edges");
    free(ref);
    free(path);
    dmr_buf_free(&b);
}

Test(input, a_line_starting_at_a_split_start_belongs_to_the_split_before,
     .timeout = 10)
{
    char *path = s_write("own.txt", "ab\ncd\nef\n", 9);
    dmr_lines_t *r = NULL;
    dmr_slice line;
    uint64_t off, no;

    cr_assert_eq(dmr_lines_open(path, 0, 3, 1, &r), 0);
    cr_assert_eq(dmr_lines_next(r, &line, &off, &no), 1);
    cr_assert(line.len == 2 && memcmp(line.ptr, "ab", 2) == 0 && off == 0 &&
              no == 1);
    cr_assert_eq(dmr_lines_next(r, &line, &off, &no), 1);
    cr_assert(line.len == 2 && memcmp(line.ptr, "cd", 2) == 0 && off == 3 &&
                  no == 2,
              "the line at 3 (= split end) is read by [0,3)");
    cr_assert_eq(dmr_lines_next(r, &line, &off, &no), 0);
    dmr_lines_destroy(&r);

    cr_assert_eq(dmr_lines_open(path, 3, 3, 1, &r), 0);
    cr_assert_eq(dmr_lines_next(r, &line, &off, &no), 1);
    cr_assert(line.len == 2 && memcmp(line.ptr, "ef", 2) == 0 && off == 6 &&
                  no == 3,
              "got offset %llu lineno %llu", (unsigned long long)off,
              (unsigned long long)no);
    cr_assert_eq(dmr_lines_next(r, &line, &off, &no), 0);
    dmr_lines_destroy(&r);

    cr_assert_eq(dmr_lines_open(path, 6, 3, 0, &r), 0);
    cr_assert_eq(dmr_lines_next(r, &line, &off, &no), 0,
                 "nothing starts after 6 but the end of the file");
    dmr_lines_destroy(&r);
    free(path);
}

Test(input, a_split_past_the_end_of_the_file_has_no_lines, .timeout = 10)
{
    char *path = s_write("short.txt", "a\nb\n", 4);
    dmr_lines_t *r = NULL;
    dmr_slice line;
    cr_assert_eq(dmr_lines_open(path, 100, 10, 1, &r), 0);
    cr_assert_eq(dmr_lines_next(r, &line, NULL, NULL), 0);
    dmr_lines_destroy(&r);
    dmr_lines_destroy(&r); /* NULL is fine */
    free(path);
}

Test(input, opening_a_missing_file_is_enoent, .timeout = 10)
{
    dmr_lines_t *r = NULL;
    char *path = dmr_sprintf("%s/nope.txt", s_tmp);
    cr_assert_eq(dmr_lines_open(path, 0, 10, 0, &r), DMR_ENOENT);
    cr_assert_null(r, "the out-parameter is untouched on failure");
    free(path);
}

/* ----- split cutting -------------------------------------------------------
 */

static void s_expect_splits(uint64_t size, uint64_t split, int whole,
                            const uint64_t *lengths, size_t nlen)
{
    dmr_input_file_t f = {(char *)"/x", (char *)"x", size, 0};
    dmr_split_t *sp = NULL;
    size_t n = 0;
    cr_assert_eq(dmr_input_cut(&f, 1, split, whole, &sp, &n), 0);
    cr_assert_eq(n, nlen, "size %llu split %llu: %zu splits, want %zu",
                 (unsigned long long)size, (unsigned long long)split, n, nlen);
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(sp[i].file, 0);
        cr_assert_eq(sp[i].offset, off);
        cr_assert_eq(sp[i].length, lengths[i],
                     "size %llu split %llu: split %zu has %llu bytes, want "
                     "%llu",
                     (unsigned long long)size, (unsigned long long)split, i,
                     (unsigned long long)sp[i].length,
                     (unsigned long long)lengths[i]);
        off += sp[i].length;
    }
    free(sp);
}

Test(input, cut_follows_hadoop_split_slop, .timeout = 10)
{
    s_expect_splits(100, 100, 0, (uint64_t[]){100}, 1);
    s_expect_splits(110, 100, 0, (uint64_t[]){110}, 1);
    s_expect_splits(111, 100, 0, (uint64_t[]){100, 11}, 2);
    s_expect_splits(210, 100, 0, (uint64_t[]){100, 110}, 2);
    s_expect_splits(250, 100, 0, (uint64_t[]){100, 100, 50}, 3);
    s_expect_splits(300, 100, 0, (uint64_t[]){100, 100, 100}, 3);
    s_expect_splits(50, 100, 0, (uint64_t[]){50}, 1);
    s_expect_splits(3, 1, 0, (uint64_t[]){1, 1, 1}, 3);
}

Test(input, an_empty_file_is_one_empty_split, .timeout = 10)
{
    s_expect_splits(0, 100, 0, (uint64_t[]){0}, 1);
    s_expect_splits(0, 100, 1, (uint64_t[]){0}, 1);
}

Test(input, whole_files_make_one_split_per_file, .timeout = 10)
{
    dmr_input_file_t f[3] = {{(char *)"/a", (char *)"a", 1000, 0},
                             {(char *)"/b", (char *)"b", 0, 0},
                             {(char *)"/c", (char *)"c", 5, 0}};
    dmr_split_t *sp = NULL;
    size_t n = 0;
    cr_assert_eq(dmr_input_cut(f, 3, 0, 1, &sp, &n), 0);
    cr_assert_eq(n, 3);
    for (uint32_t i = 0; i < 3; i++) {
        cr_assert_eq(sp[i].file, i);
        cr_assert_eq(sp[i].offset, 0);
        cr_assert_eq(sp[i].length, f[i].size);
    }
    free(sp);
    s_expect_splits(1000, 10, 1, (uint64_t[]){1000}, 1);
}

Test(input, cut_numbers_splits_by_file_in_order, .timeout = 10)
{
    dmr_input_file_t f[2] = {{(char *)"/a", (char *)"a", 21, 0},
                             {(char *)"/b", (char *)"b", 10, 0}};
    /* 21 over 10: 21/10 > 1.1 cuts 10; 11/10 is not > 1.1, so 11 is left. */
    dmr_split_t *sp = NULL;
    size_t n = 0;
    cr_assert_eq(dmr_input_cut(f, 2, 10, 0, &sp, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert(sp[0].file == 0 && sp[0].offset == 0 && sp[0].length == 10);
    cr_assert(sp[1].file == 0 && sp[1].offset == 10 && sp[1].length == 11,
              "the last byte is within the slop of the split before");
    cr_assert(sp[2].file == 1 && sp[2].offset == 0 && sp[2].length == 10);
    free(sp);
}

Test(input, a_zero_split_size_is_invalid, .timeout = 10)
{
    dmr_input_file_t f = {(char *)"/a", (char *)"a", 25, 0};
    dmr_split_t *sp = NULL;
    size_t n = 0;
    cr_assert_eq(dmr_input_cut(&f, 1, 0, 0, &sp, &n), DMR_EINVAL);
    cr_assert_null(sp);
}

/* ----- expansion -----------------------------------------------------------
 */

/* Builds the tree the expansion tests share, and enters s_tmp. */
static void s_tree(void)
{
    s_write_str("d/a.txt", "a\n");
    s_write_str("d/b.txt", "bb\n");
    s_write_str("d/.hidden", "h\n");
    s_write_str("d/_SUCCESS", "");
    s_write_str("d/sub/c.txt", "ccc");
    s_write_str("d/sub/.git/x.txt", "x\n");
    s_write_str("d/_logs/y.txt", "y\n");
    s_write_str("e.txt", "eeee\n");
    cr_assert_eq(chdir(s_tmp), 0);
}

/* Expands args and checks the names (and that paths are the realpaths). */
static void s_expect_names(const char *const *args, size_t nargs,
                           const char *const *names, size_t nnames)
{
    dmr_input_file_t *f = NULL;
    size_t n = 0;
    char err[256] = "";
    int rc = dmr_input_expand(args, nargs, &f, &n, err, sizeof err);
    cr_assert_eq(rc, 0, "expand: %s (%s)", dmr_strerror(rc), err);
    for (size_t i = 0; i < n && i < nnames; i++) {
        cr_assert_str_eq(f[i].name, names[i], "entry %zu: %s, want %s", i,
                         f[i].name, names[i]);
        char *real = realpath(names[i], NULL);
        cr_assert_not_null(real);
        cr_assert_str_eq(f[i].path, real);
        struct stat st;
        cr_assert_eq(stat(real, &st), 0);
        cr_assert_eq(f[i].size, (uint64_t)st.st_size);
        free(real);
    }
    cr_assert_eq(n, nnames, "%zu files, want %zu", n, nnames);
    dmr_input_files_free(f, n);
}

Test(input, a_directory_is_its_visible_files_recursively, .timeout = 10)
{
    s_tree();
    const char *args[] = {"d"};
    const char *names[] = {"d/a.txt", "d/b.txt", "d/sub/c.txt"};
    s_expect_names(args, 1, names, 3);
    const char *slash[] = {"d/"};
    s_expect_names(slash, 1, names, 3);
}

Test(input, globs_expand_and_skip_hidden_matches, .timeout = 10)
{
    s_tree();
    const char *args[] = {"e.txt", "d/*"};
    const char *names[] = {"d/a.txt", "d/b.txt", "d/sub/c.txt", "e.txt"};
    s_expect_names(args, 2, names, 4);
    const char *brace[] = {"d/{b,a}.txt"};
    s_expect_names(brace, 1, names, 2);
}

Test(input, the_same_file_named_twice_is_listed_once, .timeout = 10)
{
    s_tree();
    const char *args[] = {"e.txt", "d/a.txt", "./e.txt", "d", "e.txt"};
    const char *names[] = {"./e.txt", "d/a.txt", "d/b.txt", "d/sub/c.txt"};
    s_expect_names(args, 5, names, 4);
}

Test(input, explicit_files_are_taken_even_if_hidden, .timeout = 10)
{
    s_tree();
    const char *args[] = {"d/_SUCCESS"};
    const char *names[] = {"d/_SUCCESS"};
    s_expect_names(args, 1, names, 1);
}

Test(input, an_absolute_argument_keeps_its_spelling, .timeout = 10)
{
    s_tree();
    char *abs = dmr_sprintf("%s/e.txt", s_tmp);
    const char *args[] = {abs};
    const char *names[] = {abs};
    s_expect_names(args, 1, names, 1);
    free(abs);
}

Test(input, symlinked_files_count_and_symlinked_dirs_do_not, .timeout = 10)
{
    s_tree();
    s_write_str("l/real.txt", "r\n");
    cr_assert_eq(symlink("../e.txt", "l/link.txt"), 0);
    cr_assert_eq(symlink("../d", "l/dirlink"), 0);
    cr_assert_eq(symlink("nowhere", "l/dangling"), 0);
    dmr_input_file_t *f = NULL;
    size_t n = 0;
    const char *args[] = {"l"};
    cr_assert_eq(dmr_input_expand(args, 1, &f, &n, NULL, 0), 0);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(f[0].name, "l/link.txt");
    char *real = realpath("e.txt", NULL);
    cr_assert_str_eq(f[0].path, real, "a link's path is its target");
    cr_assert_str_eq(f[1].name, "l/real.txt");
    free(real);
    dmr_input_files_free(f, n);
}

Test(input, an_empty_directory_is_no_files_and_no_error, .timeout = 10)
{
    s_tree();
    cr_assert_eq(dmr_mkdirs("empty"), 0);
    dmr_input_file_t *f = NULL;
    size_t n = 7;
    const char *args[] = {"empty"};
    cr_assert_eq(dmr_input_expand(args, 1, &f, &n, NULL, 0), 0);
    cr_assert_eq(n, 0);
    dmr_input_files_free(f, n);
}

static void s_expect_missing(const char *arg, const char *msg)
{
    const char *args[] = {"d", arg};
    dmr_input_file_t *f = NULL;
    size_t n = 99;
    char err[256] = "";
    int rc = dmr_input_expand(args, 2, &f, &n, err, sizeof err);
    cr_assert_eq(rc, DMR_ENOENT, "%s: rc %d", arg, rc);
    cr_assert_str_eq(err, msg);
    cr_assert_null(f, "out-parameters are untouched on failure");
    cr_assert_eq(n, 99);
}

Test(input, a_path_that_matches_nothing_is_enoent_with_its_name, .timeout = 10)
{
    s_tree();
    s_expect_missing("missing.txt", "input path does not exist: missing.txt");
    s_expect_missing("nope/*.txt", "input path does not exist: nope/*.txt");
    s_expect_missing("d/_*", "input path does not exist: d/_*");
}

Test(input, a_special_file_named_explicitly_is_invalid, .timeout = 10)
{
    s_tree();
    const char *args[] = {"/dev/null"};
    dmr_input_file_t *f = NULL;
    size_t n = 0;
    char err[256] = "";
    cr_assert_eq(dmr_input_expand(args, 1, &f, &n, err, sizeof err),
                 DMR_EINVAL);
    cr_assert_str_eq(err, "input path is not a regular file or directory: "
                          "/dev/null");
}

/* ----- block sizes and sources ------------------------------------------ */

Test(input, a_file_block_size_overrides_the_split_size, .timeout = 10)
{
    dmr_input_file_t f[2] = {{(char *)"dmr:/a", (char *)"a", 40, 16},
                             {(char *)"/b", (char *)"b", 25, 0}};
    dmr_split_t *sp = NULL;
    size_t n = 0;
    cr_assert_eq(dmr_input_cut(f, 2, 10, 0, &sp, &n), 0);
    /* a: chunks of 16 -> 16, 16, 8; b: split size 10 -> 10, 10, 5. */
    cr_assert_eq(n, 6);
    cr_assert(sp[0].offset == 0 && sp[0].length == 16);
    cr_assert(sp[1].offset == 16 && sp[1].length == 16);
    cr_assert(sp[2].offset == 32 && sp[2].length == 8);
    cr_assert(sp[3].file == 1 && sp[3].length == 10);
    cr_assert(sp[4].file == 1 && sp[4].offset == 10 && sp[4].length == 10);
    cr_assert(sp[5].file == 1 && sp[5].offset == 20 && sp[5].length == 5);
    free(sp);
}

/* A source that hands out at most 3 bytes per read, as a store file does
 * at its chunk boundaries. */
typedef struct {
    const char *data;
    size_t len;
} s_mem_t;

static int s_mem_read(void *arg, char *p, size_t n, uint64_t off)
{
    const s_mem_t *m = arg;
    if (off >= m->len)
        return 0;
    size_t k = m->len - off < n ? m->len - (size_t)off : n;
    if (k > 3)
        k = 3;
    memcpy(p, m->data + off, k);
    return (int)k;
}

Test(input, a_source_with_short_reads_gives_the_same_lines, .timeout = 10)
{
    static const char text[] = "alpha\nbe\n\ngamma delta\nz";
    s_mem_t mem = {text, sizeof text - 1};
    const char *want[] = {"be", "", "gamma delta"};
    /* Split [4, 20): skips the line it starts inside, ends with the line
     * that starts at or before 20. */
    dmr_lines_t *r = NULL;
    cr_assert_eq(dmr_lines_open_source(s_mem_read, &mem, 4, 16, 1, &r), 0);
    dmr_slice line;
    uint64_t off, lno;
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(dmr_lines_next(r, &line, &off, &lno), 1);
        cr_assert_eq(line.len, strlen(want[i]));
        cr_assert(memcmp(line.ptr, want[i], line.len) == 0);
        cr_assert_eq(lno, i + 2, "line numbers count across the prefix");
    }
    cr_assert_eq(dmr_lines_next(r, &line, &off, &lno), 0);
    dmr_lines_destroy(&r);
    cr_assert_eq(dmr_lines_open_source(NULL, &mem, 0, 1, 0, &r), DMR_EINVAL);
}
