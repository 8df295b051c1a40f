/* test_chunk.c -- chunk replicas: round trips at every block edge, the
 * writer's retransmission rules, commit and abort, damage detection in
 * data and meta, and the directory listing's clean-up.
 *
 * Every test works in its own temporary directory. The damage tests flip,
 * cut or replace bytes of files the module wrote and check its promise: a
 * block that fails its CRC is never returned, only reads touching it fail,
 * and a damaged meta makes the replica corrupt, never silently different. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "storage/chunk.h"
#include "tests/unit/tmpdir.h"

#define B ((size_t)DMR_CHUNK_BLOCK)

static char *s_dir;

static void s_setup(void)
{
    s_dir = tmpdir_make();
}

static void s_teardown(void)
{
    tmpdir_remove(&s_dir);
}

TestSuite(chunk, .init = s_setup, .fini = s_teardown, .timeout = 60);

/* ---- fixtures ---------------------------------------------------------- */

/* n pseudo-random bytes that depend on seed (xorshift32). */
static unsigned char *s_bytes(size_t n, uint32_t seed)
{
    unsigned char *p = dmr_malloc(n + 1);
    uint32_t x = seed * 2654435761u + 0x9e3779b9u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)(x >> 24);
    }
    return p;
}

/* DIR/<id><suffix>; caller frees. */
static char *s_file(uint64_t id, const char *suffix)
{
    return dmr_sprintf("%s/%016" PRIx64 "%s", s_dir, id, suffix);
}

static int s_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static int s_id_file_exists(uint64_t id, const char *suffix)
{
    char *p = s_file(id, suffix);
    int e = s_exists(p);
    free(p);
    return e;
}

/* Number of entries in the test directory (without . and ..). */
static size_t s_nfiles(void)
{
    DIR *d = opendir(s_dir);
    cr_assert_not_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static unsigned char *s_slurp(const char *path, size_t *len)
{
    dmr_buf_t b = DMR_BUF_INIT;
    int rc = dmr_read_file(path, SIZE_MAX / 2, &b);
    cr_assert_eq(rc, 0, "read %s: %s", path, dmr_strerror(rc));
    return (unsigned char *)dmr_buf_detach(&b, len);
}

static void s_spit(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0, "create %s", path);
    cr_assert_eq(write(fd, data, len), (ssize_t)len, "write %s", path);
    close(fd);
}

/* XORs the byte at off of DIR/<id><suffix> with mask. */
static void s_flip(uint64_t id, const char *suffix, uint64_t off,
                   unsigned char mask)
{
    char *path = s_file(id, suffix);
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0, "open %s", path);
    unsigned char c;
    cr_assert_eq(pread(fd, &c, 1, (off_t)off), 1, "%s: no byte at %" PRIu64,
                 path, off);
    c ^= mask;
    cr_assert_eq(pwrite(fd, &c, 1, (off_t)off), 1);
    close(fd);
    free(path);
}

static void s_truncate(uint64_t id, const char *suffix, uint64_t len)
{
    char *path = s_file(id, suffix);
    cr_assert_eq(truncate(path, (off_t)len), 0, "truncate %s", path);
    free(path);
}

/* Sets the modification time of path to ago seconds before now. */
static void s_age(const char *path, time_t ago)
{
    struct timespec ts[2];
    ts[0].tv_sec = ts[1].tv_sec = time(NULL) - ago;
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0, "utimensat %s", path);
}

static dmr_chunk_writer_t *s_open(uint64_t id, uint32_t version)
{
    dmr_chunk_writer_t *w = NULL;
    int rc = dmr_chunk_writer_open(s_dir, id, version, &w);
    cr_assert_eq(rc, 0, "writer_open %016" PRIx64 ": %s", id, dmr_strerror(rc));
    cr_assert_not_null(w);
    return w;
}

static void s_write(dmr_chunk_writer_t *w, uint64_t off, const void *p,
                    size_t n)
{
    int rc = dmr_chunk_writer_write(w, off, p, n);
    cr_assert_eq(rc, 0, "write %zu bytes at %" PRIu64 ": %s", n, off,
                 dmr_strerror(rc));
}

static void s_commit(dmr_chunk_writer_t **w, uint64_t length)
{
    int rc = dmr_chunk_writer_commit(w, length);
    cr_assert_eq(rc, 0, "commit %" PRIu64 " bytes: %s", length,
                 dmr_strerror(rc));
    cr_assert_null(*w);
}

/* Writes replica id of len bytes in pieces cycling through piece sizes
 * (starting at the start-th) and commits it. */
static void s_put(uint64_t id, uint32_t version, const unsigned char *data,
                  size_t len, size_t start)
{
    static const size_t pieces[] = {1, 4093, 7, 65537, 3, 100003, 65535, 2};
    size_t np = sizeof pieces / sizeof pieces[0];
    dmr_chunk_writer_t *w = s_open(id, version);
    size_t off = 0;
    for (size_t i = start; off < len; i++) {
        size_t n = pieces[i % np];
        if (n > len - off)
            n = len - off;
        s_write(w, off, data + off, n);
        off += n;
        cr_assert_eq(dmr_chunk_writer_size(w), off);
    }
    s_commit(&w, len);
}

static dmr_chunk_info_t s_stat_ok(uint64_t id)
{
    char err[256] = "";
    dmr_chunk_info_t info;
    int rc = dmr_chunk_stat(s_dir, id, &info, err, sizeof err);
    cr_assert_eq(rc, 0, "stat %016" PRIx64 ": %s: %s", id, dmr_strerror(rc),
                 err);
    cr_assert_eq(info.id, id);
    return info;
}

/* Reads [off, off + n) of replica id, which holds data (len bytes), and
 * checks what comes back and that nothing past it in buf was touched. */
static void s_read_ok(uint64_t id, const unsigned char *data, size_t len,
                      uint64_t off, size_t n)
{
    unsigned char *buf = dmr_malloc(n + 16);
    memset(buf, 0xa5, n + 16);
    size_t got = (size_t)-1;
    char err[256] = "";
    int rc = dmr_chunk_read(s_dir, id, off, n, buf, &got, err, sizeof err);
    cr_assert_eq(rc, 0, "read %zu at %" PRIu64 " of %zu: %s: %s", n, off, len,
                 dmr_strerror(rc), err);
    size_t want = off + n <= len ? n : len - (size_t)off;
    cr_assert_eq(got, want, "read %zu at %" PRIu64 " of %zu: got %zu, want %zu",
                 n, off, len, got, want);
    cr_assert(memcmp(buf, data + off, got) == 0,
              "read %zu at %" PRIu64 " of %zu: bytes differ", n, off, len);
    for (size_t i = got; i < n + 16; i++)
        cr_assert_eq(buf[i], 0xa5, "read %zu at %" PRIu64 ": byte %zu written",
                     n, off, i);
    free(buf);
}

/* Expects rc from a read of [off, off + n) of replica id, and err to hold
 * each non-NULL phrase. */
static void s_read_fails(uint64_t id, uint64_t off, size_t n, int want,
                         const char *phrase, const char *phrase2)
{
    unsigned char *buf = dmr_malloc(n + 1);
    size_t got = 12345;
    char err[256] = "";
    int rc = dmr_chunk_read(s_dir, id, off, n, buf, &got, err, sizeof err);
    cr_assert_eq(rc, want, "read %zu at %" PRIu64 ": %d (%s), want %s; %s", n,
                 off, rc, dmr_strerror(rc), dmr_strerror(want), err);
    cr_assert_eq(got, 12345, "a failed read wrote *got");
    cr_assert(!phrase || strstr(err, phrase), "err lacks \"%s\": %s", phrase,
              err);
    cr_assert(!phrase2 || strstr(err, phrase2), "err lacks \"%s\": %s", phrase2,
              err);
    free(buf);
}

/* Lists the directory; returns how many replicas, sets *has if id is one
 * of them (with *info) and *isbad if id is among the bad. */
static size_t s_list(int max_age, uint64_t id, int *has, dmr_chunk_info_t *info,
                     int *isbad, size_t *nbad_out)
{
    dmr_chunk_info_t *out = NULL;
    uint64_t *bad = NULL;
    size_t n = 99, nbad = 99;
    int rc = dmr_chunk_list(s_dir, max_age, &out, &n, &bad, &nbad);
    cr_assert_eq(rc, 0, "list: %s", dmr_strerror(rc));
    *has = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i].id == id) {
            cr_assert_eq(*has, 0, "listed twice");
            *has = 1;
            if (info)
                *info = out[i];
        }
    }
    if (isbad) {
        *isbad = 0;
        for (size_t i = 0; i < nbad; i++)
            if (bad[i] == id)
                *isbad = 1;
    }
    if (nbad_out)
        *nbad_out = nbad;
    free(out);
    free(bad);
    return n;
}

/* Opens a writer for id in a child process, writes n bytes of data and
 * has the child killed by SIGKILL, as a worker dying mid-write would be:
 * no abort, no clean-up, and the writer's lock goes with the process. */
static void s_crashed_writer(uint64_t id, const unsigned char *data, size_t n)
{
    int pfd[2];
    cr_assert_eq(pipe(pfd), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(pfd[0]);
        dmr_chunk_writer_t *w = NULL;
        if (dmr_chunk_writer_open(s_dir, id, 1, &w) != 0 ||
            dmr_chunk_writer_write(w, 0, data, n) != 0)
            _exit(1);
        if (write(pfd[1], "w", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    close(pfd[1]);
    char c;
    ssize_t r = read(pfd[0], &c, 1);
    close(pfd[0]);
    kill(pid, SIGKILL);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert_eq(r, 1, "the writer child failed (status 0x%x)", status);
    cr_assert(s_id_file_exists(id, ".chunk.tmp"));
}

/* ---- round trips ------------------------------------------------------- */

/* Offsets and lengths around every interesting edge of a len-byte chunk. */
static void s_read_everywhere(uint64_t id, const unsigned char *data,
                              size_t len)
{
    size_t offs[] = {0,     1,         B - 1,     B,       B + 1,
                     2 * B, 2 * B + 1, len / 2,   len - 1, len,
                     len,   len + 1,   3 * B - 1, 4 * B};
    size_t lens[] = {0,     1,         2,   B - 1,    B,        B + 1,
                     2 * B, 2 * B + 3, len, len + 10, 3 * B + 1};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        if (offs[i] > len)
            continue;
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++)
            s_read_ok(id, data, len, offs[i], lens[k]);
    }
    /* And some anywhere. */
    uint32_t x = 12345;
    for (int i = 0; i < 200; i++) {
        x = x * 1103515245u + 12345u;
        size_t off = (size_t)(x >> 8) % (len + 1);
        x = x * 1103515245u + 12345u;
        size_t n = (size_t)(x >> 8) % (3 * B);
        s_read_ok(id, data, len, off, n);
    }
    s_read_fails(id, (uint64_t)len + 1, 1, DMR_EINVAL, "past the end", NULL);
    s_read_fails(id, UINT64_MAX, 0, DMR_EINVAL, NULL, NULL);
}

Test(chunk, every_size_round_trips_at_every_offset)
{
    const size_t sizes[] = {0,     1,     2,          B - 1, B,
                            B + 1, 2 * B, 3 * B + 17, 4 * B, 10 * B + 12345};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint64_t id = 0x100 + i;
        size_t len = sizes[i];
        unsigned char *data = s_bytes(len, (uint32_t)i);
        s_put(id, (uint32_t)(7 + i), data, len, i);

        dmr_chunk_info_t info = s_stat_ok(id);
        cr_assert_eq(info.length, len, "size %zu: stat length %" PRIu64, len,
                     info.length);
        cr_assert_eq(info.version, 7 + i);
        char err[256] = "";
        int rc = dmr_chunk_verify(s_dir, id, err, sizeof err);
        cr_assert_eq(rc, 0, "verify %zu: %s: %s", len, dmr_strerror(rc), err);
        s_read_everywhere(id, data, len);

        /* The data file is exactly the bytes; no temporary file is left. */
        char *path = s_file(id, ".chunk");
        size_t flen;
        unsigned char *file = s_slurp(path, &flen);
        cr_assert_eq(flen, len);
        cr_assert(len == 0 || memcmp(file, data, len) == 0);
        free(file);
        free(path);
        cr_assert(!s_id_file_exists(id, ".chunk.tmp"));
        cr_assert(!s_id_file_exists(id, ".meta.tmp"));
        free(data);
    }
    cr_assert_eq(s_nfiles(), 2 * (sizeof sizes / sizeof sizes[0]));

    dmr_chunk_info_t info;
    int has, isbad;
    size_t nbad;
    size_t n = s_list(3600, 0x100 + 9, &has, &info, &isbad, &nbad);
    cr_assert_eq(n, sizeof sizes / sizeof sizes[0]);
    cr_assert(has);
    cr_assert_eq(info.length, 10 * B + 12345);
    cr_assert_eq(info.version, 16);
    cr_assert_eq(nbad, 0);
}

/* The same bytes written in pieces of one size each, every size odd
 * relative to the block, give the same replica. */
Test(chunk, pieces_of_any_size_make_the_same_replica)
{
    const size_t len = 3 * B + 5;
    unsigned char *data = s_bytes(len, 99);
    const size_t piece[] = {1, 3, 1000, 4093, B - 1, B + 1, 100003, len};
    unsigned char *first_meta = NULL;
    size_t first_len = 0;
    for (size_t i = 0; i < sizeof piece / sizeof piece[0]; i++) {
        dmr_chunk_writer_t *w = s_open(42, 1);
        for (size_t off = 0; off < len; off += piece[i])
            s_write(w, off, data + off,
                    piece[i] < len - off ? piece[i] : len - off);
        s_commit(&w, len);
        s_read_ok(42, data, len, 0, len);
        char *meta = s_file(42, ".meta");
        size_t mlen;
        unsigned char *m = s_slurp(meta, &mlen);
        free(meta);
        if (!first_meta) {
            first_meta = m;
            first_len = mlen;
            continue;
        }
        cr_assert_eq(mlen, first_len);
        cr_assert(memcmp(m, first_meta, mlen) == 0,
                  "pieces of %zu: meta differs", piece[i]);
        free(m);
    }
    free(first_meta);
    free(data);
}

Test(chunk, meta_bytes_match_the_documented_format)
{
    const uint64_t id = 0x0123456789abcdefull;
    const size_t len = 2 * B + 3;
    unsigned char *data = s_bytes(len, 5);
    s_put(id, 0x01020304u, data, len, 0);

    unsigned char want[40 + 12];
    memcpy(want, "DMRCHNK1", 8);
    const unsigned char fields[] = {
        0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01, /* id */
        0x04, 0x03, 0x02, 0x01,                         /* version */
        0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, /* length */
        0x00, 0x00, 0x01, 0x00,                         /* block size */
        0x03, 0x00, 0x00, 0x00,                         /* blocks */
    };
    memcpy(want + 8, fields, sizeof fields);
    uLong crc = crc32(crc32(0, Z_NULL, 0), want, 36);
    for (int b = 0; b < 4; b++)
        want[36 + b] = (unsigned char)(crc >> (8 * b));
    for (int k = 0; k < 3; k++) {
        size_t n = k < 2 ? B : 3;
        crc = crc32(crc32(0, Z_NULL, 0), data + (size_t)k * B, (uInt)n);
        for (int b = 0; b < 4; b++)
            want[40 + 4 * k + b] = (unsigned char)(crc >> (8 * b));
    }

    char *path = dmr_sprintf("%s/0123456789abcdef.meta", s_dir);
    size_t mlen;
    unsigned char *got = s_slurp(path, &mlen);
    cr_assert_eq(mlen, sizeof want, "meta is %zu bytes, want %zu", mlen,
                 sizeof want);
    for (size_t i = 0; i < mlen; i++)
        cr_assert_eq(got[i], want[i], "byte %zu: 0x%02x, want 0x%02x", i,
                     got[i], want[i]);
    free(got);
    free(path);
    path = dmr_sprintf("%s/0123456789abcdef.chunk", s_dir);
    cr_assert(s_exists(path));
    free(path);

    /* An empty chunk is a bare header with no blocks. */
    s_put(7, 0, NULL, 0, 0);
    path = s_file(7, ".meta");
    got = s_slurp(path, &mlen);
    cr_assert_eq(mlen, 40);
    cr_assert_eq(got[32], 0);
    free(got);
    free(path);
    free(data);
}

Test(chunk, rewriting_an_id_replaces_the_replica)
{
    unsigned char *a = s_bytes(3 * B + 9, 1);
    unsigned char *b = s_bytes(B / 2, 2);
    s_put(9, 1, a, 3 * B + 9, 0);
    s_put(9, 2, b, B / 2, 3);
    dmr_chunk_info_t info = s_stat_ok(9);
    cr_assert_eq(info.version, 2);
    cr_assert_eq(info.length, B / 2);
    s_read_ok(9, b, B / 2, 0, B);
    cr_assert_eq(s_nfiles(), 2);
    free(a);
    free(b);
}

/* ---- the writer's rules ------------------------------------------------ */

Test(chunk, retransmitted_pieces_are_accepted_and_ignored)
{
    const size_t len = 3 * B + 100;
    unsigned char *data = s_bytes(len, 3);
    dmr_chunk_writer_t *w = s_open(1, 1);
    s_write(w, 0, data, 1000);
    s_write(w, 0, data, 1000);        /* the same piece again */
    s_write(w, 500, data + 500, 500); /* its tail */
    s_write(w, 999, data + 999, 1);
    s_write(w, 1000, NULL, 0); /* empty pieces anywhere up to the end */
    s_write(w, 3, NULL, 0);
    cr_assert_eq(dmr_chunk_writer_size(w), 1000);
    /* Straddling the end: the known part must match, the rest appends. */
    s_write(w, 900, data + 900, 2 * B);
    cr_assert_eq(dmr_chunk_writer_size(w), 900 + 2 * B);
    /* A retransmission across block edges, and a whole-prefix one. */
    s_write(w, B - 5, data + B - 5, B + 20);
    s_write(w, 0, data, 900 + 2 * B);
    s_write(w, 900 + 2 * B, data + 900 + 2 * B, len - 900 - 2 * B);
    s_write(w, len - 1, data + len - 1, 1);
    cr_assert_eq(dmr_chunk_writer_size(w), len);
    s_commit(&w, len);
    s_read_ok(1, data, len, 0, len);
    char err[256];
    cr_assert_eq(dmr_chunk_verify(s_dir, 1, err, sizeof err), 0, "%s", err);
    free(data);
}

Test(chunk, gaps_and_conflicting_overlaps_are_refused)
{
    const size_t len = 2 * B + 10;
    unsigned char *data = s_bytes(len, 4);
    unsigned char *other = dmr_malloc(len);
    memcpy(other, data, len);
    other[B + 7] ^= 1;
    dmr_chunk_writer_t *w = s_open(2, 1);
    s_write(w, 0, data, B + 100);

    cr_assert_eq(dmr_chunk_writer_write(w, B + 101, data + B + 101, 5),
                 DMR_EINVAL, "a gap was accepted");
    cr_assert_eq(dmr_chunk_writer_write(w, B + 101, NULL, 0), DMR_EINVAL,
                 "an empty piece past the end was accepted");
    cr_assert_eq(dmr_chunk_writer_write(w, 0, other, B + 100), DMR_EINVAL,
                 "a different overlap was accepted");
    cr_assert_eq(dmr_chunk_writer_write(w, B + 7, other + B + 7, 1),
                 DMR_EINVAL);
    /* Straddling with a wrong known part appends nothing. */
    cr_assert_eq(dmr_chunk_writer_write(w, B, other + B, B), DMR_EINVAL);
    cr_assert_eq(dmr_chunk_writer_size(w), B + 100, "a refused piece counted");

    /* The writer goes on, and the replica holds the first bytes. */
    s_write(w, B + 100, data + B + 100, len - B - 100);
    s_commit(&w, len);
    s_read_ok(2, data, len, 0, len);
    char err[256];
    cr_assert_eq(dmr_chunk_verify(s_dir, 2, err, sizeof err), 0, "%s", err);
    free(other);
    free(data);
}

Test(chunk, pieces_beyond_the_maximum_are_too_big)
{
    unsigned char small[16] = {0};
    dmr_chunk_writer_t *w = s_open(3, 1);
    s_write(w, 0, small, 16);
    cr_assert_eq(dmr_chunk_writer_write(w, DMR_CHUNK_MAX, small, 1),
                 DMR_ETOOBIG);
    cr_assert_eq(dmr_chunk_writer_write(w, UINT64_MAX, small, 1), DMR_ETOOBIG);
    /* Refused before a byte of p is looked at. */
    cr_assert_eq(dmr_chunk_writer_write(w, 0, small, (size_t)DMR_CHUNK_MAX + 1),
                 DMR_ETOOBIG);
    cr_assert_eq(dmr_chunk_writer_write(w, 16, small, (size_t)DMR_CHUNK_MAX),
                 DMR_ETOOBIG);
    cr_assert_eq(dmr_chunk_writer_size(w), 16);
    /* Up to the maximum is merely a gap here. */
    cr_assert_eq(dmr_chunk_writer_write(w, DMR_CHUNK_MAX - 1, small, 1),
                 DMR_EINVAL);
    s_commit(&w, 16);
    s_read_ok(3, small, 16, 0, 16);
}

Test(chunk, commit_with_the_wrong_length_is_refused_and_leaves_nothing)
{
    unsigned char *data = s_bytes(B + 1, 6);
    const uint64_t lengths[] = {B, B + 2, 0};
    for (size_t i = 0; i < 3; i++) {
        dmr_chunk_writer_t *w = s_open(4, 1);
        s_write(w, 0, data, B + 1);
        cr_assert_eq(dmr_chunk_writer_commit(&w, lengths[i]), DMR_EINVAL);
        cr_assert_null(w);
        cr_assert_eq(s_nfiles(), 0, "a refused commit left files");
        dmr_chunk_info_t info;
        cr_assert_eq(dmr_chunk_stat(s_dir, 4, &info, NULL, 0), DMR_ENOENT);
    }

    /* With an earlier replica of the id: it stays as it was. */
    s_put(4, 1, data, 100, 0);
    dmr_chunk_writer_t *w = s_open(4, 2);
    s_write(w, 0, data, B + 1);
    cr_assert_eq(dmr_chunk_writer_commit(&w, B), DMR_EINVAL);
    cr_assert_eq(s_stat_ok(4).version, 1);
    s_read_ok(4, data, 100, 0, 100);
    cr_assert_eq(s_nfiles(), 2);
    free(data);
}

Test(chunk, abort_leaves_nothing)
{
    unsigned char *data = s_bytes(2 * B + 1, 7);
    dmr_chunk_writer_t *w = s_open(5, 1);
    s_write(w, 0, data, 2 * B + 1);
    cr_assert(s_id_file_exists(5, ".chunk.tmp"));
    dmr_chunk_writer_abort(&w);
    cr_assert_null(w);
    cr_assert_eq(s_nfiles(), 0);
    w = s_open(5, 1); /* nothing written */
    dmr_chunk_writer_abort(&w);
    cr_assert_eq(s_nfiles(), 0);
    dmr_chunk_writer_abort(&w); /* NULL is fine */
    dmr_chunk_writer_abort(NULL);
    cr_assert_eq(dmr_chunk_stat(s_dir, 5, &(dmr_chunk_info_t){0}, NULL, 0),
                 DMR_ENOENT);

    /* An abort does not touch a committed replica of the id. */
    s_put(5, 1, data, 10, 0);
    w = s_open(5, 2);
    s_write(w, 0, data, 2 * B);
    dmr_chunk_writer_abort(&w);
    s_read_ok(5, data, 10, 0, 10);
    cr_assert_eq(s_nfiles(), 2);
    free(data);
}

Test(chunk, nothing_is_visible_before_commit)
{
    unsigned char *data = s_bytes(B, 8);
    dmr_chunk_writer_t *w = s_open(6, 1);
    s_write(w, 0, data, B);
    cr_assert_eq(dmr_chunk_stat(s_dir, 6, &(dmr_chunk_info_t){0}, NULL, 0),
                 DMR_ENOENT);
    s_read_fails(6, 0, 1, DMR_ENOENT, "no replica", NULL);
    int has;
    cr_assert_eq(s_list(3600, 6, &has, NULL, NULL, NULL), 0);
    s_commit(&w, B);
    s_read_ok(6, data, B, 0, B);
    free(data);
}

/* A task process forked after the writer opened must not inherit it. */
Test(chunk, writer_descriptor_is_close_on_exec)
{
    dmr_chunk_writer_t *w = s_open(7, 1);
    char *tmp = s_file(7, ".chunk.tmp");
    assert_cloexec(tmp);
    free(tmp);
    dmr_chunk_writer_abort(&w);
}

/* A write cut short by a full disk (here: a file size limit) is cut back
 * off, so a retry goes on where the writer was. */
Test(chunk, failed_write_is_cut_back_and_the_writer_goes_on)
{
    const size_t len = 3 * B;
    unsigned char *data = s_bytes(len, 9);
    dmr_chunk_writer_t *w = s_open(8, 1);
    s_write(w, 0, data, B);

    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = B + 1000;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = dmr_chunk_writer_write(w, B, data + B, 2 * B);
    cr_assert_eq(rc, DMR_EIO, "write past the limit: %s", dmr_strerror(rc));
    cr_assert_eq(dmr_chunk_writer_size(w), B);
    struct stat st;
    char *tmp = s_file(8, ".chunk.tmp");
    cr_assert_eq(stat(tmp, &st), 0);
    cr_assert_eq((size_t)st.st_size, B, "part of the piece was left");
    free(tmp);

    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    s_write(w, B, data + B, 2 * B);
    s_commit(&w, len);
    s_read_ok(8, data, len, 0, len);
    char err[256];
    cr_assert_eq(dmr_chunk_verify(s_dir, 8, err, sizeof err), 0, "%s", err);

    /* A commit whose meta cannot be written leaves the old replica. */
    w = s_open(8, 2);
    s_write(w, 0, data, 100);
    lim.rlim_cur = 10;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    rc = dmr_chunk_writer_commit(&w, 100);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    cr_assert_eq(rc, DMR_EIO, "commit past the limit: %s", dmr_strerror(rc));
    cr_assert_null(w);
    cr_assert_eq(s_stat_ok(8).version, 1);
    s_read_ok(8, data, len, 0, len);
    cr_assert_eq(s_nfiles(), 2, "a failed commit left files");
    free(data);
}

/* ---- damaged data ------------------------------------------------------ */

Test(chunk, flipped_byte_fails_only_the_reads_of_its_block)
{
    const uint64_t id = 0xabcdef0012345678ull;
    const size_t len = 4 * B + 100;
    unsigned char *data = s_bytes(len, 10);
    s_put(id, 1, data, len, 0);
    s_flip(id, ".chunk", 2 * B + 77, 0x10);

    /* Every range touching block 2 fails, naming chunk, block, offset. */
    const uint64_t offs[] = {2 * B, 2 * B + 77, 3 * B - 1, 2 * B - 1, 0, B};
    const size_t lens[] = {1, 1, 1, 2, len, B + 1};
    for (size_t i = 0; i < sizeof offs / sizeof offs[0]; i++)
        s_read_fails(id, offs[i], lens[i], DMR_ECORRUPT, "abcdef0012345678",
                     "block 2 at offset 131072");
    /* ... and the rest of the chunk reads fine. */
    s_read_ok(id, data, len, 0, 2 * B);
    s_read_ok(id, data, len, 2 * B - 1, 1);
    s_read_ok(id, data, len, 3 * B, len - 3 * B);
    s_read_ok(id, data, len, 3 * B, 1000);
    s_read_ok(id, data, len, len, 10);

    /* Nothing of the bad block reaches the buffer; the blocks before it
     * may. */
    unsigned char *buf = dmr_malloc(len);
    memset(buf, 0xa5, len);
    size_t got = 0;
    cr_assert_eq(dmr_chunk_read(s_dir, id, B, 2 * B, buf, &got, NULL, 0),
                 DMR_ECORRUPT);
    for (size_t i = B; i < 2 * B; i++)
        cr_assert_eq(buf[i], 0xa5, "byte %zu of the bad block was copied", i);
    free(buf);

    char err[256] = "";
    cr_assert_eq(dmr_chunk_verify(s_dir, id, err, sizeof err), DMR_ECORRUPT);
    cr_assert(strstr(err, "block 2 at offset 131072"), "verify: %s", err);
    cr_assert(strstr(err, "abcdef0012345678"), "verify: %s", err);

    /* Stat and list still see the replica: its meta is intact. */
    int has, isbad;
    s_list(0, id, &has, NULL, &isbad, NULL);
    cr_assert(has && !isbad);
    free(data);
}

Test(chunk, damage_in_the_last_short_block_and_in_the_crc_table_is_found)
{
    const size_t len = 2 * B + 5;
    unsigned char *data = s_bytes(len, 11);
    s_put(10, 1, data, len, 0);
    s_flip(10, ".chunk", len - 1, 0x01);
    s_read_fails(10, len - 1, 1, DMR_ECORRUPT, "block 2 at offset 131072",
                 NULL);
    s_read_ok(10, data, len, 0, 2 * B);
    char err[256] = "";
    cr_assert_eq(dmr_chunk_verify(s_dir, 10, err, sizeof err), DMR_ECORRUPT);
    cr_assert(strstr(err, "block 2"), "%s", err);

    /* A damaged CRC entry (for block 0) condemns its block. */
    s_put(11, 1, data, len, 0);
    s_flip(11, ".meta", 40, 0x80);
    s_read_fails(11, 0, 1, DMR_ECORRUPT, "block 0 at offset 0", NULL);
    s_read_ok(11, data, len, B, len - B);
    cr_assert_eq(dmr_chunk_verify(s_dir, 11, err, sizeof err), DMR_ECORRUPT);

    /* A block of zeros is no excuse either. */
    unsigned char *zeros = dmr_calloc(1, B);
    s_put(12, 1, zeros, B, 0);
    s_flip(12, ".chunk", 0, 0xff);
    s_read_fails(12, 0, B, DMR_ECORRUPT, "block 0", NULL);
    free(zeros);
    free(data);
}

/* ---- damaged meta ------------------------------------------------------ */

/* Checks that stat, read and verify of id fail with ECORRUPT, stat's err
 * holding phrase, and that list reports id as bad. */
static void s_expect_corrupt(uint64_t id, const char *phrase)
{
    char err[256] = "";
    dmr_chunk_info_t info = {0};
    int rc = dmr_chunk_stat(s_dir, id, &info, err, sizeof err);
    cr_assert_eq(rc, DMR_ECORRUPT, "%s: stat %d (%s): %s", phrase, rc,
                 dmr_strerror(rc), err);
    cr_assert(strstr(err, phrase), "stat err lacks \"%s\": %s", phrase, err);
    cr_assert_eq(info.id, 0, "a failed stat wrote *out");
    s_read_fails(id, 0, 1, DMR_ECORRUPT, phrase, NULL);
    rc = dmr_chunk_verify(s_dir, id, err, sizeof err);
    cr_assert_eq(rc, DMR_ECORRUPT, "%s: verify %s", phrase, dmr_strerror(rc));
    int has, isbad;
    s_list(3600, id, &has, NULL, &isbad, NULL);
    cr_assert(!has, "%s: listed as a replica", phrase);
    cr_assert(isbad, "%s: not listed as bad", phrase);
}

Test(chunk, damaged_meta_is_corrupt_and_listed_as_bad)
{
    const size_t len = 3 * B + 1;
    unsigned char *data = s_bytes(len, 12);
    for (uint64_t id = 20; id < 31; id++)
        s_put(id, 1, data, len, id);

    s_flip(20, ".meta", 3, 0x01);
    s_expect_corrupt(20, "bad magic");
    s_flip(21, ".meta", 37, 0x01);
    s_expect_corrupt(21, "header CRC mismatch");
    s_flip(22, ".meta", 16, 0x01); /* version, under the header CRC */
    s_expect_corrupt(22, "header CRC mismatch");
    s_truncate(23, ".meta", 40 + 4 * 4 - 1);
    s_expect_corrupt(23, "CRC table truncated");
    s_truncate(24, ".meta", 40);
    s_expect_corrupt(24, "CRC table truncated");
    s_truncate(25, ".meta", 39);
    s_expect_corrupt(25, "too short");
    s_truncate(26, ".chunk", len - 1);
    s_expect_corrupt(26, "size mismatch");
    char *path = s_file(27, ".chunk");
    int fd = open(path, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "x", 1), 1);
    close(fd);
    free(path);
    s_expect_corrupt(27, "size mismatch");
    path = s_file(28, ".chunk");
    cr_assert_eq(unlink(path), 0);
    free(path);
    s_expect_corrupt(28, "data file missing");
    /* The meta of chunk 30 under the name of chunk 29. */
    char *from = s_file(30, ".meta");
    path = s_file(29, ".meta");
    cr_assert_eq(rename(from, path), 0);
    free(from);
    free(path);
    s_expect_corrupt(29, "id mismatch");
    path = s_file(30, ".meta");
    s_spit(path, "", 0);
    free(path);
    s_expect_corrupt(30, "too short");

    /* Junk after the table, and a header that is consistent (its CRC
     * matches) but whose length disagrees with its block count. */
    s_put(31, 1, data, len, 0);
    path = s_file(31, ".meta");
    fd = open(path, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "abcd", 4), 4);
    close(fd);
    free(path);
    s_expect_corrupt(31, "followed by junk");
    s_put(32, 1, data, len, 0);
    s_flip(32, ".meta", 32, 0x01); /* block count 4 -> 5 */
    path = s_file(32, ".meta");
    size_t mlen;
    unsigned char *m = s_slurp(path, &mlen);
    uLong crc = crc32(crc32(0, Z_NULL, 0), m, 36);
    for (int b = 0; b < 4; b++)
        m[36 + b] = (unsigned char)(crc >> (8 * b));
    s_spit(path, m, mlen);
    free(m);
    free(path);
    s_expect_corrupt(32, "do not agree");

    /* A good replica alongside is still listed, and nothing else is. */
    s_put(33, 1, data, len, 0);
    int has;
    size_t nbad;
    size_t n = s_list(3600, 33, &has, NULL, NULL, &nbad);
    cr_assert_eq(n, 1, "listed %zu replicas", n);
    cr_assert(has);
    cr_assert_eq(nbad, 13, "%zu bad, want 13", nbad);

    /* bad may be NULL. */
    dmr_chunk_info_t *out = NULL;
    n = 0;
    cr_assert_eq(dmr_chunk_list(s_dir, 3600, &out, &n, NULL, NULL), 0);
    cr_assert_eq(n, 1);
    free(out);
    free(data);
}

Test(chunk, a_meta_that_is_not_a_file_is_corrupt)
{
    unsigned char *data = s_bytes(10, 22);
    s_put(34, 1, data, 10, 0);
    char *meta = s_file(34, ".meta");
    cr_assert_eq(unlink(meta), 0);
    cr_assert_eq(mkdir(meta, 0755), 0);
    free(meta);
    s_expect_corrupt(34, "not a regular file");
    free(data);
}

Test(chunk, missing_meta_means_no_replica)
{
    unsigned char *data = s_bytes(B, 13);
    s_put(40, 1, data, B, 0);
    char *meta = s_file(40, ".meta");
    cr_assert_eq(unlink(meta), 0);
    free(meta);
    char err[256] = "";
    dmr_chunk_info_t info;
    cr_assert_eq(dmr_chunk_stat(s_dir, 40, &info, err, sizeof err), DMR_ENOENT);
    cr_assert(strstr(err, "no replica"), "%s", err);
    s_read_fails(40, 0, 1, DMR_ENOENT, "0000000000000028", NULL);
    cr_assert_eq(dmr_chunk_verify(s_dir, 40, err, sizeof err), DMR_ENOENT);
    int has, isbad;
    size_t nbad;
    cr_assert_eq(s_list(3600, 40, &has, NULL, &isbad, &nbad), 0);
    cr_assert(!has && !isbad && nbad == 0);
    /* The data file is debris: kept while fresh, removed when old. */
    cr_assert(s_id_file_exists(40, ".chunk"));
    s_list(0, 40, &has, NULL, NULL, NULL);
    cr_assert(!s_id_file_exists(40, ".chunk"), "orphan data not removed");
    cr_assert_eq(s_nfiles(), 0);
    free(data);
}

/* ---- the directory ----------------------------------------------------- */

Test(chunk, list_ignores_files_that_are_not_replica_files)
{
    unsigned char *data = s_bytes(100, 14);
    s_put(0x0123456789abcdefull, 3, data, 100, 0);
    const char *names[] = {
        "notes.txt",
        "0123.chunk",
        "0123456789ABCDEF.meta",
        "0123456789ABCDEF.chunk.tmp",
        "0123456789abcdef.chunk.bak",
        "0123456789abcdef.metax",
        "0123456789abcdef.meta.tmp.1",
        "00123456789abcdef.meta",
        "x123456789abcdef.chunk.tmp",
        ".chunk",
        "0123456789abcdeg.meta.tmp",
    };
    size_t nn = sizeof names / sizeof names[0];
    for (size_t i = 0; i < nn; i++) {
        char *p = tmpdir_path(s_dir, names[i]);
        s_spit(p, "junk", 4);
        s_age(p, 7200);
        free(p);
    }
    char *sub = tmpdir_path(s_dir, "fedcba9876543210.chunk.tmp");
    cr_assert_eq(mkdir(sub, 0755), 0); /* a directory, not a file */
    free(sub);

    dmr_chunk_info_t info;
    int has, isbad;
    size_t nbad;
    size_t n = s_list(0, 0x0123456789abcdefull, &has, &info, &isbad, &nbad);
    cr_assert_eq(n, 1);
    cr_assert(has);
    cr_assert_eq(info.version, 3);
    cr_assert_eq(info.length, 100);
    cr_assert_eq(nbad, 0);
    cr_assert_eq(s_nfiles(), nn + 1 + 2, "list removed unrelated files");
    free(data);
}

Test(chunk, list_removes_leftovers_by_age_but_never_an_open_writers)
{
    unsigned char *data = s_bytes(B + 3, 15);
    /* Leftovers of crashed writers: fresh (50, 51), old (52, 53). */
    const char *kinds[] = {".chunk.tmp", ".meta.tmp"};
    for (uint64_t id = 50; id < 54; id++) {
        for (int k = 0; k < 2; k++) {
            char *p = s_file(id, kinds[k]);
            s_spit(p, data, 10);
            if (id >= 52)
                s_age(p, 7200);
            free(p);
        }
    }
    /* An old data file without meta (a commit cut short). */
    char *orphan = s_file(54, ".chunk");
    s_spit(orphan, data, 10);
    s_age(orphan, 7200);
    /* An open writer whose files look old, and a committed replica. */
    dmr_chunk_writer_t *w = s_open(55, 1);
    s_write(w, 0, data, B + 3);
    char *wtmp = s_file(55, ".chunk.tmp");
    s_age(wtmp, 7200);
    s_put(56, 1, data, B + 3, 0);

    int has;
    cr_assert_eq(s_list(3600, 56, &has, NULL, NULL, NULL), 1);
    cr_assert(has);
    for (uint64_t id = 50; id < 54; id++)
        for (int k = 0; k < 2; k++)
            cr_assert_eq(s_id_file_exists(id, kinds[k]), id < 52,
                         "%" PRIu64 "%s: wrong fate", id, kinds[k]);
    cr_assert(!s_exists(orphan), "old orphan data file kept");
    cr_assert(s_exists(wtmp), "an open writer's file was removed");

    /* 0 removes every leftover, still not the open writer's. */
    cr_assert_eq(s_list(0, 56, &has, NULL, NULL, NULL), 1);
    for (uint64_t id = 50; id < 52; id++)
        for (int k = 0; k < 2; k++)
            cr_assert(!s_id_file_exists(id, kinds[k]));
    cr_assert(s_exists(wtmp), "an open writer's file was removed");
    cr_assert_eq(s_nfiles(), 3);
    s_commit(&w, B + 3);
    s_read_ok(55, data, B + 3, 0, B + 3);
    cr_assert_eq(s_list(0, 55, &has, NULL, NULL, NULL), 2);
    cr_assert(has);
    cr_assert_eq(s_nfiles(), 4);
    free(orphan);
    free(wtmp);
    free(data);
}

/* A writer whose process died leaves files that the next list removes:
 * the lock died with the process. */
Test(chunk, list_removes_the_files_of_a_writer_whose_process_died)
{
    unsigned char *data = s_bytes(2 * B, 16);
    s_crashed_writer(60, data, 2 * B);
    int has;
    s_list(3600, 60, &has, NULL, NULL, NULL);
    cr_assert(s_id_file_exists(60, ".chunk.tmp"), "fresh file removed");
    s_list(0, 60, &has, NULL, NULL, NULL);
    cr_assert_eq(s_nfiles(), 0);
    free(data);
}

Test(chunk, list_of_a_missing_directory_is_empty)
{
    char *missing = tmpdir_path(s_dir, "nope");
    dmr_chunk_info_t *out = (dmr_chunk_info_t *)&out;
    uint64_t *bad = (uint64_t *)&bad;
    size_t n = 99, nbad = 99;
    cr_assert_eq(dmr_chunk_list(missing, 0, &out, &n, &bad, &nbad), 0);
    cr_assert_null(out);
    cr_assert_null(bad);
    cr_assert_eq(n, 0);
    cr_assert_eq(nbad, 0);
    /* And an empty one too. */
    cr_assert_eq(dmr_chunk_list(s_dir, 0, &out, &n, &bad, &nbad), 0);
    cr_assert_null(out);
    cr_assert_eq(n, 0);

    dmr_chunk_writer_t *w = (dmr_chunk_writer_t *)&w;
    cr_assert_eq(dmr_chunk_writer_open(missing, 1, 1, &w), DMR_ENOENT);
    cr_assert_null(w);
    cr_assert_eq(dmr_chunk_stat(missing, 1, &(dmr_chunk_info_t){0}, NULL, 0),
                 DMR_ENOENT);
    cr_assert_eq(dmr_chunk_delete(missing, 1), 0);
    free(missing);
}

Test(chunk, delete_is_idempotent)
{
    unsigned char *data = s_bytes(B + 1, 17);
    s_put(70, 1, data, B + 1, 0);
    s_put(71, 1, data, B + 1, 0);
    cr_assert_eq(dmr_chunk_delete(s_dir, 70), 0);
    cr_assert_eq(dmr_chunk_stat(s_dir, 70, &(dmr_chunk_info_t){0}, NULL, 0),
                 DMR_ENOENT);
    cr_assert(!s_id_file_exists(70, ".chunk"));
    cr_assert_eq(dmr_chunk_delete(s_dir, 70), 0);
    cr_assert_eq(dmr_chunk_delete(s_dir, 72), 0);
    s_read_ok(71, data, B + 1, 0, B + 1);

    /* A delete half done (meta gone) is finished by the next one. */
    char *meta = s_file(71, ".meta");
    cr_assert_eq(unlink(meta), 0);
    free(meta);
    cr_assert_eq(dmr_chunk_delete(s_dir, 71), 0);
    cr_assert_eq(s_nfiles(), 0);

    /* Delete leaves an open writer of the id alone. */
    dmr_chunk_writer_t *w = s_open(73, 1);
    s_write(w, 0, data, 10);
    cr_assert_eq(dmr_chunk_delete(s_dir, 73), 0);
    s_commit(&w, 10);
    s_read_ok(73, data, 10, 0, 10);
    free(data);
}

/* ---- writers of the same id -------------------------------------------- */

Test(chunk, reopened_writer_replaces_old_temporary_files)
{
    unsigned char *old = s_bytes(3 * B, 18);
    unsigned char *data = s_bytes(B / 3, 19);
    /* A writer that crashed mid-way, and a stray meta.tmp. */
    s_crashed_writer(80, old, 3 * B);
    char *mtmp = s_file(80, ".meta.tmp");
    s_spit(mtmp, old, 100);
    free(mtmp);

    dmr_chunk_writer_t *w = s_open(80, 2);
    cr_assert_eq(dmr_chunk_writer_size(w), 0);
    cr_assert(!s_id_file_exists(80, ".meta.tmp"), "stray meta.tmp kept");
    char *tmp = s_file(80, ".chunk.tmp");
    struct stat st;
    cr_assert_eq(stat(tmp, &st), 0);
    cr_assert_eq(st.st_size, 0, "old bytes kept");
    free(tmp);
    /* The old bytes are not there to be "retransmitted". */
    cr_assert_eq(dmr_chunk_writer_write(w, 0, old, 10), 0);
    cr_assert_eq(dmr_chunk_writer_write(w, 0, data, 10), DMR_EINVAL);
    dmr_chunk_writer_abort(&w);

    w = s_open(80, 2);
    s_write(w, 0, data, B / 3);
    s_commit(&w, B / 3);
    cr_assert_eq(s_stat_ok(80).version, 2);
    s_read_ok(80, data, B / 3, 0, B);
    cr_assert_eq(s_nfiles(), 2);
    free(old);
    free(data);
}

Test(chunk, a_newer_writer_takes_the_names_from_an_open_one)
{
    unsigned char *a = s_bytes(B + 5, 20);
    unsigned char *b = s_bytes(2 * B + 5, 21);

    /* The older one aborts: the newer one's file stays. */
    dmr_chunk_writer_t *w1 = s_open(90, 1);
    s_write(w1, 0, a, B + 5);
    dmr_chunk_writer_t *w2 = s_open(90, 2);
    s_write(w2, 0, b, 100);
    dmr_chunk_writer_abort(&w1);
    cr_assert(s_id_file_exists(90, ".chunk.tmp"), "abort removed the newer");
    s_write(w2, 100, b + 100, 2 * B + 5 - 100);
    s_commit(&w2, 2 * B + 5);
    s_read_ok(90, b, 2 * B + 5, 0, 2 * B + 5);

    /* The older one commits: refused, and nothing of either changes. */
    w1 = s_open(91, 1);
    s_write(w1, 0, a, B + 5);
    w2 = s_open(91, 2);
    s_write(w2, 0, b, 2 * B + 5);
    cr_assert_eq(dmr_chunk_writer_commit(&w1, B + 5), DMR_EEXIST);
    cr_assert_null(w1);
    cr_assert_eq(dmr_chunk_stat(s_dir, 91, &(dmr_chunk_info_t){0}, NULL, 0),
                 DMR_ENOENT);
    s_commit(&w2, 2 * B + 5);
    cr_assert_eq(s_stat_ok(91).version, 2);
    s_read_ok(91, b, 2 * B + 5, 0, 2 * B + 5);
    cr_assert_eq(s_nfiles(), 4);
    free(a);
    free(b);
}
