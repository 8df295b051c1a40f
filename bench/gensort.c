/* gensort.c -- dmr-gensort: deterministic TeraSort-shaped records for the
 * sort benchmark and tests.
 *
 *     dmr-gensort (--records N | --bytes SIZE) [--seed S] [--start I]
 *                 [--files K --dir DIR] [--skew]
 *
 * Writes N records of exactly 100 bytes, numbered I = start, start+1, ...
 *
 *     bytes  0..9    key: 10 printable ASCII characters ' '..'~' (95
 *                    values, never a tab or a newline), uniform
 *     bytes 10..11   two spaces
 *     bytes 12..43   the record number I as 32 uppercase hex digits
 *     bytes 44..45   two spaces
 *     bytes 46..98   53 filler letters 'A'..'Z' cycling from letter I % 26
 *     byte  99       '\n'
 *
 * so a line is 99 characters. The record number makes every line unique,
 * and LC_ALL=C sort orders the lines by key (ties by record number).
 *
 * Record I depends only on (seed, I): its key comes from a counter-based
 * generator, splitmix64 started at splitmix64(seed) ^ I * 0xd1b54a32d192ed03,
 * whose first two outputs each give five base-95 digits (multiply-high
 * digit extraction, bias < 95^5 / 2^64). So --start lets several processes
 * write disjoint slices of one data set, and --files K cuts the N records
 * into K files DIR/part-00000.txt ... of N/K records each (the last takes
 * the remainder) that concatenate to exactly what a single run writes.
 *
 * --skew makes the keys non-uniform, to exercise a sampled range
 * partitioner: for 90% of the records (chosen by a third output of the same
 * generator) the first key byte is one of 'P', 'Q', 'R', 'S'; the other
 * records and the other nine bytes stay uniform.
 *
 * No per-record allocation or stdio: records are formatted in place in a
 * 1 MB buffer whose constant bytes are filled once, and written with
 * write(2). Exits 0, or 2 on any error (bad option, a path that cannot be
 * created, a failed write). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

#define REC 100    /* bytes of a record */
#define KEYLEN 10  /* bytes of its key */
#define HEXOFF 12  /* the 32 hex digits of the record number */
#define FILLOFF 46 /* the filler letters */
#define FILLLEN 53
#define BUFRECS 10000 /* records in the output buffer (1 MB) */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ----- random numbers ---------------------------------------------------- */

#define GOLDEN 0x9e3779b97f4a7c15ULL

/* The splitmix64 output function (Stafford's mix 13). */
static uint64_t s_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Writes five base-95 digits of the fraction x / 2^64 as ' '..'~'. */
static void s_digits5(char *p, uint64_t x)
{
    for (int k = 0; k < 5; k++) {
        unsigned __int128 m = (unsigned __int128)x * 95;
        p[k] = (char)(' ' + (unsigned)(m >> 64));
        x = (uint64_t)m;
    }
}

/* The key of record i; base is splitmix64(seed). */
static void s_key(char *p, uint64_t base, uint64_t i, int skew)
{
    uint64_t x = base ^ (i * 0xd1b54a32d192ed03ULL);
    s_digits5(p, s_mix(x + GOLDEN));
    s_digits5(p + 5, s_mix(x + 2 * GOLDEN));
    if (skew) {
        uint64_t u = s_mix(x + 3 * GOLDEN);
        if ((((u >> 32) * 10) >> 32) < 9) /* 90% */
            p[0] = (char)('P' + (((u & 0xffffffffu) * 4) >> 32));
    }
}

/* ----- records ----------------------------------------------------------- */

static uint16_t s_hex2[256]; /* byte -> its two uppercase hex digits */
static char s_letters[26 + FILLLEN];

static void s_tables(void)
{
    static const char digits[] = "0123456789ABCDEF";
    for (int b = 0; b < 256; b++) {
        char two[2] = {digits[b >> 4], digits[b & 15]};
        memcpy(&s_hex2[b], two, 2);
    }
    for (size_t k = 0; k < sizeof s_letters; k++)
        s_letters[k] = (char)('A' + k % 26);
}

/* Fills the bytes every record shares: spaces, the high 16 hex digits (a
 * 64-bit record number leaves them zero) and the newline. */
static void s_template(char *buf, size_t nrec)
{
    for (size_t r = 0; r < nrec; r++) {
        char *p = buf + r * REC;
        memset(p, ' ', REC);
        memset(p + HEXOFF, '0', 16);
        p[REC - 1] = '\n';
    }
}

/* Formats record i over a template slot. */
static void s_record(char *p, uint64_t base, uint64_t i, int skew)
{
    s_key(p, base, i, skew);
    char *h = p + HEXOFF + 16;
    for (int k = 0; k < 8; k++)
        memcpy(h + 2 * k, &s_hex2[(i >> (56 - 8 * k)) & 0xff], 2);
    memcpy(p + FILLOFF, s_letters + i % 26, FILLLEN);
}

/* Writes records [first, first + n) to fd. */
static int s_generate(int fd, char *buf, uint64_t base, uint64_t first,
                      uint64_t n, int skew)
{
    while (n > 0) {
        size_t batch = n < BUFRECS ? (size_t)n : BUFRECS;
        for (size_t r = 0; r < batch; r++)
            s_record(buf + r * REC, base, first + r, skew);
        if (dmr_write_all(fd, buf, batch * REC) != 0)
            return DMR_EIO;
        first += batch;
        n -= batch;
    }
    return 0;
}

/* ----- command line ------------------------------------------------------ */

static void s_usage(FILE *f)
{
    fprintf(f,
            "usage: dmr-gensort (--records N | --bytes SIZE) [--seed S]\n"
            "                   [--start I] [--files K --dir DIR] [--skew]\n"
            "\n"
            "Writes deterministic 100-byte TeraSort records: a 10-byte key\n"
            "of printable ASCII (' '..'~'), two spaces, the record number\n"
            "in 32 hex digits, two spaces, 53 filler letters, a newline.\n"
            "\n"
            "  --records N  write N records\n"
            "  --bytes SIZE write SIZE/100 records (suffixes k, m, g:\n"
            "               powers of 1024)\n"
            "  --seed S     random seed (default 1); same seed, same keys\n"
            "  --start I    number of the first record (default 0); record I\n"
            "               is the same whatever the slice it is written in\n"
            "  --files K    write K files DIR/part-NNNNN.txt of N/K records\n"
            "               (the last takes the remainder)\n"
            "  --dir DIR    directory for --files (created if missing)\n"
            "  --skew       first key byte in 'P'..'S' for 90%% of records\n"
            "  --help       this text\n"
            "\n"
            "Without --files the records go to standard output.\n");
}

/* 1 if a is an option that takes a value. */
static int s_known(const char *a)
{
    static const char *const opts[] = {"--records", "--bytes", "--seed",
                                       "--start",   "--files", "--dir"};
    for (size_t i = 0; i < NELEM(opts); i++)
        if (strcmp(a, opts[i]) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t records = 0, bytes = 0, seed = 1, start = 0, files = 0;
    int have_records = 0, have_bytes = 0, skew = 0;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return 0;
        }
        if (strcmp(a, "--skew") == 0) {
            skew = 1;
            continue;
        }
        if (!s_known(a)) {
            fprintf(stderr, "dmr-gensort: unknown option %s\n", a);
            s_usage(stderr);
            return 2;
        }
        const char *val = i + 1 < argc ? argv[++i] : NULL;
        int bad = val == NULL;
        if (bad) {
            /* reported below */
        } else if (strcmp(a, "--records") == 0) {
            bad = dmr_parse_u64(val, &records) != 0;
            have_records = 1;
        } else if (strcmp(a, "--bytes") == 0) {
            bad = dmr_parse_size(val, &bytes) != 0;
            have_bytes = 1;
        } else if (strcmp(a, "--seed") == 0) {
            bad = dmr_parse_u64(val, &seed) != 0;
        } else if (strcmp(a, "--start") == 0) {
            bad = dmr_parse_u64(val, &start) != 0;
        } else if (strcmp(a, "--files") == 0) {
            bad =
                dmr_parse_u64(val, &files) != 0 || files == 0 || files > 100000;
        } else {
            bad = *val == '\0'; /* --dir */
            dir = val;
        }
        if (bad) {
            fprintf(stderr, "dmr-gensort: bad or missing value for %s%s%s\n", a,
                    val ? ": " : "", val ? val : "");
            return 2;
        }
    }
    const char *why = NULL;
    if (have_records == have_bytes)
        why = "give one of --records N and --bytes SIZE";
    else if ((files > 0) != (dir != NULL))
        why = "--files and --dir go together";
    if (why) {
        fprintf(stderr, "dmr-gensort: %s\n", why);
        s_usage(stderr);
        return 2;
    }
    if (have_bytes)
        records = bytes / REC;
    if (records > 0 && records - 1 > UINT64_MAX - start) {
        fprintf(stderr,
                "dmr-gensort: --start %llu plus %llu records passes 2^64\n",
                (unsigned long long)start, (unsigned long long)records);
        return 2;
    }

    s_tables();
    uint64_t base = seed;
    base = s_mix(base + GOLDEN); /* splitmix64(seed) */
    char *buf = dmr_malloc((size_t)BUFRECS * REC);
    s_template(buf, BUFRECS);
    int rc = 0;

    if (files == 0) {
        rc = s_generate(1, buf, base, start, records, skew);
        if (rc != 0)
            fprintf(stderr, "dmr-gensort: write to standard output: %s\n",
                    strerror(errno));
        goto out;
    }
    if (dmr_mkdirs(dir) != 0) {
        fprintf(stderr, "dmr-gensort: --dir %s: cannot create: %s\n", dir,
                errno == EEXIST ? "exists and is not a directory"
                                : strerror(errno));
        rc = DMR_EIO;
        goto out;
    }
    uint64_t each = records / files, first = start;
    for (uint64_t k = 0; k < files; k++) {
        uint64_t n = k + 1 == files ? records - each * k : each;
        char *path =
            dmr_sprintf("%s/part-%05llu.txt", dir, (unsigned long long)k);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "dmr-gensort: cannot create %s: %s\n", path,
                    strerror(errno));
            free(path);
            rc = DMR_EIO;
            goto out;
        }
        rc = s_generate(fd, buf, base, first, n, skew);
        if (close(fd) != 0 && rc == 0)
            rc = DMR_EIO;
        if (rc != 0)
            fprintf(stderr, "dmr-gensort: write %s: %s\n", path,
                    strerror(errno));
        free(path);
        if (rc != 0)
            goto out;
        first += n;
    }
out:
    free(buf);
    return rc == 0 ? 0 : 2;
}
