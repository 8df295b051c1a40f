/* test_journal.c -- the journal: round trips, recovery from torn tails and
 * torn headers, refusal of damage in the middle, compaction.
 *
 * Every test works in its own temporary directory. The recovery tests cut
 * or flip bytes of a file the journal wrote and check the format's promise:
 * a crash's torn tail is dropped and everything before it replayed, while
 * damage followed by intact records fails with DMR_ECORRUPT and leaves the
 * file exactly as it was. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/journal.h"
#include "tests/unit/tmpdir.h"

static char *s_dir;
static char *s_path;

static void s_setup(void)
{
    s_dir = tmpdir_make();
    s_path = tmpdir_path(s_dir, "journal");
}

static void s_teardown(void)
{
    DMR_FREE(&s_path);
    tmpdir_remove(&s_dir);
}

TestSuite(journal, .init = s_setup, .fini = s_teardown, .timeout = 60);

/* ---- fixtures ---------------------------------------------------------- */

#define S_PAYLOAD_MAX 70000

/* Record i of the test sequence: sizes cycle through empty payloads, sizes
 * around the 12-byte record header and records larger than the reader's
 * 64 KiB read-ahead; the bytes depend on i. Returns the length. */
static size_t s_payload(unsigned i, unsigned char *buf)
{
    static const size_t sizes[] = {0,   1,    7, 12, 13,    100, 0,
                                   255, 4096, 3, 0,  65539, 1000};
    size_t n = sizes[i % (sizeof sizes / sizeof sizes[0])];
    for (size_t b = 0; b < n; b++)
        buf[b] = (unsigned char)(i * 131 + b * 7 + (b >> 8));
    return n;
}

/* Records a callback saw (copies), and optionally a failure to return. */
typedef struct {
    size_t n, cap;
    unsigned char **data;
    size_t *len;
    size_t fail_at; /* return fail_rc on this record (0-based) ... */
    int fail_rc;    /* ... when non-zero */
} seen_t;

static int s_collect(void *arg, const void *data, size_t len)
{
    seen_t *s = arg;
    if (s->fail_rc && s->n == s->fail_at)
        return s->fail_rc;
    cr_assert(data != NULL, "record %zu: NULL data", s->n);
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->data = dmr_realloc(s->data, s->cap * sizeof *s->data);
        s->len = dmr_realloc(s->len, s->cap * sizeof *s->len);
    }
    s->data[s->n] = dmr_malloc(len + 1);
    if (len)
        memcpy(s->data[s->n], data, len);
    s->len[s->n] = len;
    s->n++;
    return 0;
}

static void s_seen_free(seen_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->data[i]);
    free(s->data);
    free(s->len);
    memset(s, 0, sizeof *s);
}

/* Checks that s->data[at..at+count) are test records first..first+count. */
static void s_expect(const seen_t *s, size_t at, unsigned first, size_t count)
{
    static unsigned char want[S_PAYLOAD_MAX];
    cr_assert_geq(s->n, at + count, "saw %zu records, want at least %zu", s->n,
                  at + count);
    for (size_t k = 0; k < count; k++) {
        size_t n = s_payload(first + (unsigned)k, want);
        cr_assert_eq(s->len[at + k], n, "record %zu: length %zu, want %zu",
                     at + k, s->len[at + k], n);
        cr_assert(n == 0 || memcmp(s->data[at + k], want, n) == 0,
                  "record %zu: payload differs", at + k);
    }
}

static dmr_journal_t *s_open_ok(seen_t *seen, dmr_journal_info_t *info)
{
    char err[256] = "";
    dmr_journal_t *j = NULL;
    int rc =
        dmr_journal_open(s_path, s_collect, seen, &j, info, err, sizeof err);
    cr_assert_eq(rc, 0, "open: %s: %s", dmr_strerror(rc), err);
    cr_assert_not_null(j);
    return j;
}

/* Appends test records first..first+count, syncs. */
static void s_append(dmr_journal_t *j, unsigned first, unsigned count)
{
    static unsigned char buf[S_PAYLOAD_MAX];
    for (unsigned i = first; i < first + count; i++) {
        size_t n = s_payload(i, buf);
        int rc = dmr_journal_append(j, buf, n);
        cr_assert_eq(rc, 0, "append %u: %s", i, dmr_strerror(rc));
    }
    int rc = dmr_journal_sync(j);
    cr_assert_eq(rc, 0, "sync: %s", dmr_strerror(rc));
}

/* Creates the journal with test records 0..count-1 and closes it. */
static void s_make(unsigned count)
{
    seen_t seen = {0};
    dmr_journal_t *j = s_open_ok(&seen, NULL);
    s_append(j, 0, count);
    dmr_journal_close(&j);
    cr_assert_null(j);
    s_seen_free(&seen);
}

/* Offset of record k in a journal of test records from 0. */
static uint64_t s_offset(unsigned k)
{
    static unsigned char buf[S_PAYLOAD_MAX];
    uint64_t off = 8;
    for (unsigned i = 0; i < k; i++)
        off += 12 + s_payload(i, buf);
    return off;
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

static uint64_t s_file_size(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "stat %s", path);
    return (uint64_t)st.st_size;
}

/* Opens s_path expecting failure rc; checks the file kept its bytes and
 * err mentions the path and each of the given phrases. */
static void s_open_fails(int want, const unsigned char *bytes, size_t len,
                         const char *phrase, const char *phrase2)
{
    seen_t seen = {0};
    char err[256] = "";
    dmr_journal_t *j = (dmr_journal_t *)&seen; /* must come back NULL */
    int rc =
        dmr_journal_open(s_path, s_collect, &seen, &j, NULL, err, sizeof err);
    cr_assert_eq(rc, want, "open: got %d (%s), want %d; err: %s", rc,
                 dmr_strerror(rc), want, err);
    cr_assert_null(j);
    cr_assert(strstr(err, s_path), "err does not name the path: %s", err);
    cr_assert(!phrase || strstr(err, phrase), "err lacks \"%s\": %s", phrase,
              err);
    cr_assert(!phrase2 || strstr(err, phrase2), "err lacks \"%s\": %s", phrase2,
              err);
    size_t now_len;
    unsigned char *now = s_slurp(s_path, &now_len);
    cr_assert_eq(now_len, len, "file changed size: %zu, was %zu", now_len, len);
    cr_assert(memcmp(now, bytes, len) == 0, "file bytes changed");
    free(now);
    s_seen_free(&seen);
}

/* Hands out test records next..end-1 for a rewrite, or fails with fail_rc
 * at fail_at. */
typedef struct {
    unsigned next, end;
    unsigned fail_at;
    int fail_rc;
    unsigned char buf[S_PAYLOAD_MAX];
} gen_t;

static int s_next(void *arg, const void **data, size_t *len)
{
    gen_t *g = arg;
    if (g->fail_rc && g->next == g->fail_at)
        return g->fail_rc;
    if (g->next == g->end)
        return 0;
    *len = s_payload(g->next++, g->buf);
    *data = g->buf;
    return 1;
}

static void s_assert_no_tmp(void)
{
    char *tmp = dmr_sprintf("%s.tmp", s_path);
    cr_assert_neq(access(tmp, F_OK), 0, "%s was left behind", tmp);
    free(tmp);
}

/* ---- round trips -------------------------------------------------------- */

Test(journal, missing_file_is_created_with_its_header)
{
    seen_t seen = {0};
    dmr_journal_info_t info;
    memset(&info, 0xff, sizeof info);
    dmr_journal_t *j = s_open_ok(&seen, &info);
    cr_assert_eq(seen.n, 0);
    cr_assert_eq(info.records, 0);
    cr_assert_eq(info.bytes, 8);
    cr_assert_eq(info.dropped, 0);
    cr_assert_eq(dmr_journal_size(j), 8);
    dmr_journal_close(&j);
    size_t len;
    unsigned char *b = s_slurp(s_path, &len);
    cr_assert_eq(len, 8);
    cr_assert(memcmp(b, "DMRJNL01", 8) == 0);
    free(b);
    dmr_journal_close(&j); /* NULL is fine */
}

Test(journal, record_bytes_match_the_documented_format)
{
    seen_t seen = {0};
    dmr_journal_t *j = s_open_ok(&seen, NULL);
    cr_assert_eq(dmr_journal_append(j, "abc", 3), 0);
    cr_assert_eq(dmr_journal_append(j, NULL, 0), 0);
    cr_assert_eq(dmr_journal_size(j), 8 + 15 + 12);
    dmr_journal_close(&j);

    unsigned char want[8 + 15 + 12];
    memcpy(want, "DMRJNL01", 8);
    const unsigned char rec1[] = {'D', 'M', 'R', 'J', 3, 0, 0, 0};
    memcpy(want + 8, rec1, 8);
    uLong crc = crc32(crc32(0, Z_NULL, 0), rec1 + 4, 4);
    crc = crc32(crc, (const Bytef *)"abc", 3);
    for (int b = 0; b < 4; b++)
        want[16 + b] = (unsigned char)(crc >> (8 * b));
    memcpy(want + 20, "abc", 3);
    const unsigned char rec2[] = {'D', 'M', 'R', 'J', 0, 0, 0, 0};
    memcpy(want + 23, rec2, 8);
    crc = crc32(crc32(0, Z_NULL, 0), rec2 + 4, 4);
    for (int b = 0; b < 4; b++)
        want[31 + b] = (unsigned char)(crc >> (8 * b));

    size_t len;
    unsigned char *got = s_slurp(s_path, &len);
    cr_assert_eq(len, sizeof want, "file is %zu bytes, want %zu", len,
                 sizeof want);
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(got[i], want[i], "byte %zu: 0x%02x, want 0x%02x", i,
                     got[i], want[i]);
    free(got);
}

Test(journal, varied_records_round_trip_across_reopen)
{
    s_make(300);
    seen_t seen = {0};
    dmr_journal_info_t info;
    dmr_journal_t *j = s_open_ok(&seen, &info);
    cr_assert_eq(seen.n, 300, "replayed %zu records, want 300", seen.n);
    s_expect(&seen, 0, 0, 300);
    cr_assert_eq(info.records, 300);
    cr_assert_eq(info.dropped, 0);
    cr_assert_eq(info.bytes, s_offset(300));
    cr_assert_eq(info.bytes, s_file_size(s_path));
    cr_assert_eq(dmr_journal_size(j), info.bytes);
    dmr_journal_close(&j);
    s_seen_free(&seen);
}

Test(journal, append_after_reopen_continues_the_file)
{
    s_make(20);
    for (unsigned round = 1; round <= 3; round++) {
        seen_t seen = {0};
        dmr_journal_t *j = s_open_ok(&seen, NULL);
        cr_assert_eq(seen.n, 20 * round);
        s_append(j, 20 * round, 20);
        cr_assert_eq(dmr_journal_size(j), s_offset(20 * (round + 1)));
        dmr_journal_close(&j);
        s_seen_free(&seen);
    }
    seen_t seen = {0};
    dmr_journal_t *j = s_open_ok(&seen, NULL);
    cr_assert_eq(seen.n, 80);
    s_expect(&seen, 0, 0, 80);
    dmr_journal_close(&j);
    s_seen_free(&seen);
}

Test(journal, largest_record_round_trips_and_larger_is_refused)
{
    unsigned char *big = dmr_malloc(DMR_JOURNAL_MAX + 1);
    for (size_t i = 0; i <= DMR_JOURNAL_MAX; i++)
        big[i] = (unsigned char)(i * 13 + (i >> 12));
    seen_t seen = {0};
    dmr_journal_t *j = s_open_ok(&seen, NULL);
    cr_assert_eq(dmr_journal_append(j, big, DMR_JOURNAL_MAX + 1), DMR_ETOOBIG);
    cr_assert_eq(dmr_journal_size(j), 8, "a refused record left bytes");
    cr_assert_eq(dmr_journal_append(j, big, DMR_JOURNAL_MAX), 0);
    cr_assert_eq(dmr_journal_append(j, "x", 1), 0);
    cr_assert_eq(dmr_journal_sync(j), 0);
    dmr_journal_close(&j);

    j = s_open_ok(&seen, NULL);
    cr_assert_eq(seen.n, 2);
    cr_assert_eq(seen.len[0], DMR_JOURNAL_MAX);
    cr_assert(memcmp(seen.data[0], big, DMR_JOURNAL_MAX) == 0);
    cr_assert_eq(seen.len[1], 1);
    dmr_journal_close(&j);
    s_seen_free(&seen);
    free(big);
}

Test(journal, open_without_callback_or_info_still_recovers)
{
    s_make(5);
    int fd = open(s_path, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "DMRJ\1", 5), 5);
    close(fd);
    dmr_journal_t *j = NULL;
    cr_assert_eq(dmr_journal_open(s_path, NULL, NULL, &j, NULL, NULL, 0), 0);
    cr_assert_eq(dmr_journal_size(j), s_offset(5));
    dmr_journal_close(&j);
}

/* A write cut short by a full disk (here: a file size limit) must not
 * leave half a record in front of the next one. */
Test(journal, failed_append_is_cut_back_and_the_journal_goes_on)
{
    seen_t seen = {0};
    dmr_journal_t *j = s_open_ok(&seen, NULL);
    s_append(j, 0, 6);
    uint64_t size = dmr_journal_size(j);

    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = size + 40; /* room for part of a 112-byte record */
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    static unsigned char buf[S_PAYLOAD_MAX];
    size_t n = s_payload(5, buf);
    int rc = dmr_journal_append(j, buf, n);
    cr_assert_eq(rc, DMR_EIO, "append past the limit: %s", dmr_strerror(rc));
    cr_assert_eq(dmr_journal_size(j), size);
    cr_assert_eq(s_file_size(s_path), size, "half a record was left");

    /* A rewrite that cannot be written keeps the old journal. */
    lim.rlim_cur = 100;
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    static gen_t g;
    g = (gen_t){.next = 0, .end = 6};
    rc = dmr_journal_rewrite(j, s_next, &g);
    cr_assert_eq(rc, DMR_EIO, "rewrite past the limit: %s", dmr_strerror(rc));
    s_assert_no_tmp();
    cr_assert_eq(s_file_size(s_path), size);

    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    s_append(j, 6, 3);
    dmr_journal_close(&j);
    dmr_journal_info_t info;
    j = s_open_ok(&seen, &info);
    cr_assert_eq(seen.n, 9);
    s_expect(&seen, 0, 0, 9);
    cr_assert_eq(info.dropped, 0);
    dmr_journal_close(&j);
    s_seen_free(&seen);
}

static int s_next_none(void *arg, const void **data, size_t *len)
{
    return 0;
}

Test(journal, descriptor_is_close_on_exec)
{
    seen_t seen = {0};
    dmr_journal_t *j = s_open_ok(&seen, NULL);
    assert_cloexec(s_path);
    cr_assert_eq(dmr_journal_rewrite(j, s_next_none, NULL), 0);
    assert_cloexec(s_path);
    dmr_journal_close(&j);
}

/* ---- torn tails -----------------------------------------------------------
 */

/* Cuts the journal of records 0..n-1 at every offset inside record n-1 and
 * checks each cut is dropped, the rest replayed, and appends work after. */
static void s_cut_every_offset(unsigned n)
{
    s_make(n);
    size_t len;
    unsigned char *orig = s_slurp(s_path, &len);
    uint64_t start = s_offset(n - 1);
    cr_assert_eq(len, s_offset(n));
    for (uint64_t cut = start; cut < len; cut++) {
        s_spit(s_path, orig, cut);
        seen_t seen = {0};
        dmr_journal_info_t info;
        dmr_journal_t *j = s_open_ok(&seen, &info);
        cr_assert_eq(seen.n, n - 1, "cut at %llu: replayed %zu, want %u",
                     (unsigned long long)cut, seen.n, n - 1);
        s_expect(&seen, 0, 0, n - 1);
        cr_assert_eq(info.records, n - 1);
        cr_assert_eq(info.dropped, cut - start, "cut at %llu: dropped %llu",
                     (unsigned long long)cut, (unsigned long long)info.dropped);
        cr_assert_eq(info.bytes, start);
        cr_assert_eq(s_file_size(s_path), start, "cut at %llu: not truncated",
                     (unsigned long long)cut);
        if (cut > start) {
            char at[64];
            snprintf(at, sizeof at,
                     "torn record at offset %llu: ", (unsigned long long)start);
            cr_assert(strstr(info.why, at), "cut at %llu: why = \"%s\"",
                      (unsigned long long)cut, info.why);
        }

        /* Record n-1 again, then one more; both must come back. */
        s_append(j, n - 1, 2);
        dmr_journal_close(&j);
        s_seen_free(&seen);
        j = s_open_ok(&seen, &info);
        cr_assert_eq(seen.n, n + 1, "cut at %llu: after append %zu records",
                     (unsigned long long)cut, seen.n);
        s_expect(&seen, 0, 0, n + 1);
        cr_assert_eq(info.dropped, 0);
        dmr_journal_close(&j);
        s_seen_free(&seen);
    }
    free(orig);
}

Test(journal, torn_tail_is_dropped_at_every_cut_of_the_last_record)
{
    s_cut_every_offset(6); /* last record: 100 bytes of payload */
}

Test(journal, torn_tail_of_an_empty_record_is_dropped)
{
    s_cut_every_offset(7); /* last record: 0 bytes of payload */
}

Test(journal, flipped_byte_in_the_last_payload_is_a_torn_tail)
{
    s_make(6);
    size_t len;
    unsigned char *b = s_slurp(s_path, &len);
    b[s_offset(5) + 12 + 50] ^= 0x20;
    s_spit(s_path, b, len);
    seen_t seen = {0};
    dmr_journal_info_t info;
    dmr_journal_t *j = s_open_ok(&seen, &info);
    cr_assert_eq(seen.n, 5);
    s_expect(&seen, 0, 0, 5);
    cr_assert_eq(info.dropped, 12 + 100);
    cr_assert(strstr(info.why, "CRC mismatch"), "why = \"%s\"", info.why);
    cr_assert_eq(s_file_size(s_path), s_offset(5));
    dmr_journal_close(&j);
    s_seen_free(&seen);
    free(b);
}

Test(journal, oversized_length_at_the_tail_is_torn)
{
    s_make(4);
    unsigned char tail[12 + 40] = {'D', 'M', 'R', 'J'};
    uint32_t n = DMR_JOURNAL_MAX + 1;
    for (int b = 0; b < 4; b++)
        tail[4 + b] = (unsigned char)(n >> (8 * b));
    int fd = open(s_path, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, tail, sizeof tail), (ssize_t)sizeof tail);
    close(fd);

    seen_t seen = {0};
    dmr_journal_info_t info;
    dmr_journal_t *j = s_open_ok(&seen, &info);
    cr_assert_eq(seen.n, 4);
    cr_assert_eq(info.dropped, sizeof tail);
    cr_assert(strstr(info.why, "over the maximum"), "why = \"%s\"", info.why);
    dmr_journal_close(&j);
    s_seen_free(&seen);
}

Test(journal, zeroed_tail_is_torn)
{
    /* What a filesystem may leave when a crash extended the file but lost
     * the data. */
    s_make(4);
    static const unsigned char zeros[4096];
    int fd = open(s_path, O_WRONLY | O_APPEND);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, zeros, sizeof zeros), (ssize_t)sizeof zeros);
    close(fd);

    seen_t seen = {0};
    dmr_journal_info_t info;
    dmr_journal_t *j = s_open_ok(&seen, &info);
    cr_assert_eq(seen.n, 4);
    cr_assert_eq(info.dropped, sizeof zeros);
    cr_assert(strstr(info.why, "bad magic"), "why = \"%s\"", info.why);
    dmr_journal_close(&j);
    s_seen_free(&seen);
}

/* ---- damage in the middle, foreign files ----------------------------------
 */

Test(journal, flipped_byte_in_a_middle_record_is_refused)
{
    s_make(6);
    size_t len;
    unsigned char *orig = s_slurp(s_path, &len);
    uint64_t start = s_offset(2), end = s_offset(3);
    char at[64];
    snprintf(at, sizeof at, "record at offset %llu is damaged",
             (unsigned long long)start);
    /* Every byte of record 2: magic, length, CRC and payload. */
    for (uint64_t i = start; i < end; i++) {
        unsigned char *b = dmr_malloc(len);
        memcpy(b, orig, len);
        b[i] ^= 0x01;
        s_spit(s_path, b, len);
        s_open_fails(DMR_ECORRUPT, b, len, at, "intact records follow");
        free(b);
    }
    free(orig);
}

Test(journal, middle_damage_replays_only_the_records_before_it)
{
    s_make(6);
    size_t len;
    unsigned char *b = s_slurp(s_path, &len);
    b[s_offset(3) + 14] ^= 0xff;
    s_spit(s_path, b, len);
    seen_t seen = {0};
    char err[256];
    dmr_journal_t *j = NULL;
    int rc =
        dmr_journal_open(s_path, s_collect, &seen, &j, NULL, err, sizeof err);
    cr_assert_eq(rc, DMR_ECORRUPT, "got %s", dmr_strerror(rc));
    cr_assert_null(j);
    cr_assert_eq(seen.n, 3);
    s_expect(&seen, 0, 0, 3);
    cr_assert(strstr(err, "(CRC mismatch)"), "err: %s", err);
    s_seen_free(&seen);
    free(b);
}

Test(journal, foreign_file_is_refused_untouched)
{
    static const char foreign[] = "#!/bin/sh\necho this is no journal\n";
    s_spit(s_path, foreign, sizeof foreign - 1);
    s_open_fails(DMR_ECORRUPT, (const unsigned char *)foreign,
                 sizeof foreign - 1, "not a dmr journal", NULL);

    /* Shorter than a header, but not a prefix of one. */
    s_spit(s_path, "DMX", 3);
    s_open_fails(DMR_ECORRUPT, (const unsigned char *)"DMX", 3,
                 "not a dmr journal", NULL);

    /* A later format version. */
    s_spit(s_path, "DMRJNL02", 8);
    s_open_fails(DMR_ECORRUPT, (const unsigned char *)"DMRJNL02", 8,
                 "not a dmr journal", NULL);
}

Test(journal, empty_file_is_treated_as_missing)
{
    s_spit(s_path, "", 0);
    seen_t seen = {0};
    dmr_journal_info_t info;
    dmr_journal_t *j = s_open_ok(&seen, &info);
    cr_assert_eq(info.records, 0);
    cr_assert_eq(info.bytes, 8);
    cr_assert_eq(s_file_size(s_path), 8);
    s_append(j, 0, 3);
    dmr_journal_close(&j);
    j = s_open_ok(&seen, NULL);
    cr_assert_eq(seen.n, 3);
    s_expect(&seen, 0, 0, 3);
    dmr_journal_close(&j);
    s_seen_free(&seen);
}

Test(journal, torn_header_is_rewritten)
{
    for (size_t n = 1; n < 8; n++) {
        s_spit(s_path, "DMRJNL01", n);
        seen_t seen = {0};
        dmr_journal_info_t info;
        dmr_journal_t *j = s_open_ok(&seen, &info);
        cr_assert_eq(info.records, 0);
        cr_assert_eq(info.bytes, 8, "header cut at %zu", n);
        size_t len;
        unsigned char *b = s_slurp(s_path, &len);
        cr_assert_eq(len, 8);
        cr_assert(memcmp(b, "DMRJNL01", 8) == 0, "header cut at %zu", n);
        free(b);
        s_append(j, 0, 2);
        dmr_journal_close(&j);
        j = s_open_ok(&seen, NULL);
        cr_assert_eq(seen.n, 2);
        dmr_journal_close(&j);
        s_seen_free(&seen);
    }
}

Test(journal, missing_directory_is_enoent)
{
    char *path = tmpdir_path(s_dir, "no/such/journal");
    char err[256] = "";
    dmr_journal_t *j = NULL;
    int rc = dmr_journal_open(path, NULL, NULL, &j, NULL, err, sizeof err);
    cr_assert_eq(rc, DMR_ENOENT, "got %s", dmr_strerror(rc));
    cr_assert_null(j);
    cr_assert(strstr(err, path), "err: %s", err);
    free(path);
}

Test(journal, callback_error_aborts_open_with_its_code)
{
    s_make(8);
    size_t len;
    unsigned char *b = s_slurp(s_path, &len);
    seen_t seen = {.fail_at = 3, .fail_rc = DMR_EPROTO};
    char err[256] = "";
    dmr_journal_t *j = NULL;
    int rc =
        dmr_journal_open(s_path, s_collect, &seen, &j, NULL, err, sizeof err);
    cr_assert_eq(rc, DMR_EPROTO, "got %s", dmr_strerror(rc));
    cr_assert_null(j);
    cr_assert_eq(seen.n, 3);
    char at[64];
    snprintf(at, sizeof at, "offset %llu", (unsigned long long)s_offset(3));
    cr_assert(strstr(err, s_path) && strstr(err, at), "err: %s", err);
    s_seen_free(&seen);

    size_t now_len;
    unsigned char *now = s_slurp(s_path, &now_len);
    cr_assert_eq(now_len, len);
    cr_assert(memcmp(now, b, len) == 0);
    free(now);
    free(b);
}

/* ---- rewrite ------------------------------------------------------------ */

Test(journal, rewrite_replaces_contents_and_appends_continue)
{
    seen_t seen = {0};
    dmr_journal_t *j = s_open_ok(&seen, NULL);
    s_append(j, 0, 50);
    static gen_t g;
    g = (gen_t){.next = 100, .end = 140};
    cr_assert_eq(dmr_journal_rewrite(j, s_next, &g), 0);
    s_assert_no_tmp();
    uint64_t want = 8;
    static unsigned char buf[S_PAYLOAD_MAX];
    for (unsigned i = 100; i < 140; i++)
        want += 12 + s_payload(i, buf);
    cr_assert_eq(dmr_journal_size(j), want);
    cr_assert_eq(s_file_size(s_path), want);
    s_append(j, 140, 5);
    dmr_journal_close(&j);

    j = s_open_ok(&seen, NULL);
    cr_assert_eq(seen.n, 45, "replayed %zu records, want 45", seen.n);
    s_expect(&seen, 0, 100, 45);
    dmr_journal_close(&j);
    s_seen_free(&seen);
}

Test(journal, rewrite_to_nothing_leaves_a_bare_header)
{
    seen_t seen = {0};
    dmr_journal_t *j = s_open_ok(&seen, NULL);
    s_append(j, 0, 10);
    cr_assert_eq(dmr_journal_rewrite(j, s_next_none, NULL), 0);
    cr_assert_eq(dmr_journal_size(j), 8);
    dmr_journal_close(&j);
    j = s_open_ok(&seen, NULL);
    cr_assert_eq(seen.n, 0);
    dmr_journal_close(&j);
    s_seen_free(&seen);
}

Test(journal, failed_rewrite_keeps_the_old_journal)
{
    seen_t seen = {0};
    dmr_journal_t *j = s_open_ok(&seen, NULL);
    s_append(j, 0, 10);
    size_t len;
    unsigned char *before = s_slurp(s_path, &len);

    static gen_t g;
    g = (gen_t){.next = 100, .end = 140, .fail_at = 120, .fail_rc = DMR_EIO};
    cr_assert_eq(dmr_journal_rewrite(j, s_next, &g), DMR_EIO);
    s_assert_no_tmp();
    cr_assert_eq(dmr_journal_size(j), len);
    size_t now_len;
    unsigned char *now = s_slurp(s_path, &now_len);
    cr_assert_eq(now_len, len);
    cr_assert(memcmp(now, before, len) == 0);
    free(now);
    free(before);

    /* The journal is still usable. */
    s_append(j, 10, 5);
    dmr_journal_close(&j);
    j = s_open_ok(&seen, NULL);
    cr_assert_eq(seen.n, 15);
    s_expect(&seen, 0, 0, 15);
    dmr_journal_close(&j);
    s_seen_free(&seen);
}
