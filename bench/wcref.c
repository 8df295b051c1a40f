/* wcref.c -- dmr-wcref: the hand-written word count dmr is measured
 * against: one thread, no framework.
 *
 *     dmr-wcref FILE...
 *
 * prints "word<TAB>count" lines for all the FILEs together, in bytewise
 * order of the words: the lines of dmr's wordcount output, and in the same
 * order as its part files concatenated and sorted (with LC_ALL=C sort;
 * since a word has only letters and TAB sorts below them, sorting the
 * lines sorts the words).
 *
 * Words are defined as in jobs/wordcount.c: a word is a maximal run of
 * ASCII letters [A-Za-z], case kept; every other byte separates words, and
 * so does the end of a file (a word never spans two files).
 *
 * The code a careful user would write instead of using a framework, with
 * the care going where the time goes. Each file is mmap'ed whole
 * (MAP_POPULATE: no page faults while scanning) and scanned once with a
 * 256-entry letter table. Words are counted in one open-addressing table
 * (linear probing, power-of-two size, at most half full, doubled when it
 * would get fuller) of 32-byte slots that hold a word's first 16 bytes
 * inline, its length and its count; keys[] points at each distinct word in
 * its mapping (for the bytes after the 16th, which almost no word has, and
 * for rehashing), so nothing is copied and nothing is allocated per word.
 * The hash and the comparisons work on those 16 bytes as two machine
 * words. Time: a Zipf text of 256 MiB has ~36M words but ~220k distinct
 * ones, so the table (16 MiB) does not fit in the caches and the rarer
 * words miss to memory (~200 ns a miss in this VM: that was 2/3 of the
 * run). Hence the words are handled WC_BATCH at a time: the slots of a
 * batch are prefetched as its words are found, and the misses overlap;
 * this halved the run time here. At the end the slots are sorted with
 * qsort (on the inline bytes) and written through one 1 MiB buffer.
 *
 * Limits: a single word must be shorter than 4 GiB, and there may be at
 * most 2^32 - 1 distinct words (32-bit lengths and ids); the mappings
 * stay until the process exits, so the inputs must fit in the address
 * space (not in memory). Exit status: 0, 1 when a file cannot be read or
 * the output cannot be written, 2 for a usage error. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

#define WC_OUTBUF (1u << 20)
#define WC_INITIAL_SLOTS (1u << 16)
#define WC_BATCH 16 /* words looked up together */

/* 1 for the bytes that make up words (as in jobs/wordcount.c). */
#define L1(c) [c] = 1, [c + 32] = 1
static const unsigned char s_letter[256] = {
    L1('A'), L1('B'), L1('C'), L1('D'), L1('E'), L1('F'), L1('G'),
    L1('H'), L1('I'), L1('J'), L1('K'), L1('L'), L1('M'), L1('N'),
    L1('O'), L1('P'), L1('Q'), L1('R'), L1('S'), L1('T'), L1('U'),
    L1('V'), L1('W'), L1('X'), L1('Y'), L1('Z'),
};
#undef L1

/* ----- words as machine words ------------------------------------------ */

/* masks[k]: the first k bytes of a little-endian (or, on a big-endian
 * machine, big-endian) 8-byte load. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WC_MASK(k) (~UINT64_C(0) >> (64 - 8 * (k)))
#else
#define WC_MASK(k) (~UINT64_C(0) << (64 - 8 * (k)))
#endif
static const uint64_t s_masks[9] = {
    0,          WC_MASK(1), WC_MASK(2), WC_MASK(3),   WC_MASK(4),
    WC_MASK(5), WC_MASK(6), WC_MASK(7), ~UINT64_C(0),
};
#undef WC_MASK

static uint64_t s_load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The first min(n, 16) bytes of the word at w, zero-padded to 16, as two
 * machine words (end: where w's mapping ends; nothing at or past it is
 * read). */
static void s_head(const unsigned char *w, size_t n, const unsigned char *end,
                   uint64_t out[2])
{
    size_t k0 = n < 8 ? n : 8;
    size_t k1 = n < 8 ? 0 : n < 16 ? n - 8 : 8;
    if (end - w >= 16) {
        out[0] = s_load64(w) & s_masks[k0];
        out[1] = s_load64(w + 8) & s_masks[k1];
    } else {
        out[0] = out[1] = 0;
        memcpy(out, w, k0 + k1);
    }
}

/* Hash of a word: its head (s_head) and length, then its bytes after the
 * 16th, 8 at a time (multiply-xorshift), then a final avalanche. The same
 * value whatever end is, so a table can rehash a word it holds without
 * knowing its mapping. */
static uint64_t s_hash(const uint64_t head[2], const unsigned char *w, size_t n,
                       const unsigned char *end)
{
    const uint64_t k = UINT64_C(0x9e3779b97f4a7c15);
    uint64_t h = (UINT64_C(0x2545f4914f6cdd1d) ^ n ^ head[0]) * k;
    h ^= h >> 31;
    h = (h ^ head[1]) * k;
    for (size_t i = 16; i < n; i += 8) {
        size_t m = n - i < 8 ? n - i : 8;
        uint64_t v = 0;
        if (end - (w + i) >= 8)
            v = s_load64(w + i) & s_masks[m];
        else
            memcpy(&v, w + i, m);
        h ^= h >> 31;
        h = (h ^ v) * k;
    }
    h ^= h >> 29;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    return h ^ (h >> 32);
}

/* ----- the table ------------------------------------------------------- */

/* One slot: 32 bytes, two to a cache line. A word of up to 16 bytes (all
 * of them, in practice) is found and counted without reading anything but
 * its slot; a longer one also compares its bytes after the 16th. */
typedef struct {
    uint64_t head[2]; /* the word's first 16 bytes, zero-padded */
    uint64_t count;   /* occurrences so far; 0: an empty slot */
    uint32_t len;     /* bytes of the word */
    uint32_t id;      /* its index in keys (the order words were met) */
} s_slot_t;

typedef struct {
    s_slot_t *slots;
    size_t mask;                /* slots - 1; slots is a power of two */
    const unsigned char **keys; /* keys[id]: the word, in its mapping */
    size_t nkeys, capkeys;      /* distinct words; kept <= slots / 2 */
} s_table_t;

static void s_table_init(s_table_t *t, size_t slots)
{
    t->slots = dmr_calloc(slots, sizeof *t->slots);
    t->mask = slots - 1;
    t->capkeys = slots / 2;
    t->keys = dmr_malloc(t->capkeys * sizeof *t->keys);
    t->nkeys = 0;
}

/* Doubles the table, rehashing every word from its slot (and, past 16
 * bytes, from its mapping). */
static void s_table_grow(s_table_t *t)
{
    s_slot_t *old = t->slots;
    size_t n = t->mask + 1;
    t->slots = dmr_calloc(2 * n, sizeof *t->slots);
    t->mask = 2 * n - 1;
    for (size_t i = 0; i < n; i++) {
        const s_slot_t *o = &old[i];
        if (o->count == 0)
            continue;
        const unsigned char *w = t->keys[o->id];
        size_t j = s_hash(o->head, w, o->len, w + o->len) & t->mask;
        while (t->slots[j].count != 0)
            j = (j + 1) & t->mask;
        t->slots[j] = *o;
    }
    free(old);
    t->capkeys = n;
    t->keys = dmr_realloc(t->keys, t->capkeys * sizeof *t->keys);
}

/* A word met in the text, waiting to be counted. */
typedef struct {
    const unsigned char *w; /* the word, in its mapping */
    size_t n;               /* its length */
    uint64_t head[2];       /* s_head() */
    uint64_t hash;          /* s_hash() */
} s_word_t;

/* Counts one occurrence of the word x. */
static void s_table_add(s_table_t *t, const s_word_t *x)
{
    size_t i = x->hash & t->mask;
    for (;;) {
        s_slot_t *s = &t->slots[i];
        if (s->count == 0)
            break;
        if (s->head[0] == x->head[0] && s->head[1] == x->head[1] &&
            s->len == x->n &&
            (x->n <= 16 ||
             memcmp(t->keys[s->id] + 16, x->w + 16, x->n - 16) == 0)) {
            s->count++;
            return;
        }
        i = (i + 1) & t->mask;
    }
    if (x->n > UINT32_MAX || t->nkeys >= UINT32_MAX) {
        fprintf(stderr,
                "dmr-wcref: a word of %zu bytes, or more than 2^32 "
                "distinct words: more than this program handles\n",
                x->n);
        exit(1);
    }
    uint32_t id = (uint32_t)t->nkeys++;
    t->keys[id] = x->w;
    t->slots[i] = (s_slot_t){{x->head[0], x->head[1]}, 1, (uint32_t)x->n, id};
    if (t->nkeys == t->capkeys)
        s_table_grow(t);
}

/* Counts every word of the bytes [p, end), WC_BATCH words at a time: the
 * slots of a batch are prefetched as its words are found, so that their
 * cache misses overlap instead of coming one after the other. */
static void s_count(s_table_t *t, const unsigned char *p,
                    const unsigned char *end)
{
    s_word_t batch[WC_BATCH];
    while (p < end) {
        size_t nb = 0;
        while (nb < WC_BATCH && p < end) {
            if (!s_letter[*p]) {
                p++;
                continue;
            }
            s_word_t *x = &batch[nb++];
            x->w = p;
            do
                p++;
            while (p < end && s_letter[*p]);
            x->n = (size_t)(p - x->w);
            s_head(x->w, x->n, end, x->head);
            x->hash = s_hash(x->head, x->w, x->n, end);
            __builtin_prefetch(&t->slots[x->hash & t->mask]);
        }
        for (size_t i = 0; i < nb; i++)
            s_table_add(t, &batch[i]);
    }
}

/* ----- input ----------------------------------------------------------- */

/* Maps path and counts its words; the mapping stays (the table points into
 * it). 0, or -1 after printing why. */
static int s_count_file(s_table_t *t, const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        fprintf(stderr, "dmr-wcref: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) != 0)
        why = strerror(errno);
    else if (S_ISDIR(st.st_mode))
        why = "a directory (give its files)";
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    if (why != NULL) {
        fprintf(stderr, "dmr-wcref: %s: %s\n", path, why);
        close(fd);
        return -1;
    }
    if (st.st_size == 0) {
        close(fd);
        return 0;
    }
    size_t size = (size_t)st.st_size;
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    int err = errno;
    close(fd);
    if (m == MAP_FAILED) {
        fprintf(stderr, "dmr-wcref: mmap %s: %s\n", path, strerror(err));
        return -1;
    }
    const unsigned char *p = m;
    s_count(t, p, p + size);
    return 0;
}

/* ----- output ---------------------------------------------------------- */

/* A head as an integer that orders like its bytes (memcmp order). */
static uint64_t s_be(uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return __builtin_bswap64(v);
#else
    return v;
#endif
}

static const unsigned char *const *s_sort_keys; /* for s_cmp_slots */

/* Bytewise order of the words (a prefix sorts first), as LC_ALL=C sort:
 * mostly decided by the heads, which are zero-padded (and a word holds no
 * zero byte). */
static int s_cmp_slots(const void *a, const void *b)
{
    const s_slot_t *x = a, *y = b;
    for (int i = 0; i < 2; i++) {
        uint64_t u = s_be(x->head[i]), v = s_be(y->head[i]);
        if (u != v)
            return u < v ? -1 : 1;
    }
    if (x->len > 16 && y->len > 16) {
        size_t n = (x->len < y->len ? x->len : y->len) - 16;
        int c = memcmp(s_sort_keys[x->id] + 16, s_sort_keys[y->id] + 16, n);
        if (c != 0)
            return c;
    }
    return (x->len > y->len) - (x->len < y->len);
}

typedef struct {
    char *buf;
    size_t len;
} s_out_t;

static int s_flush(s_out_t *o)
{
    int rc = dmr_write_all(STDOUT_FILENO, o->buf, o->len);
    o->len = 0;
    return rc;
}

/* Appends "word<TAB>count\n" to o, flushing it as needed. 0 or DMR_EIO. */
static int s_put(s_out_t *o, const s_slot_t *s, const unsigned char *key)
{
    if (o->len + s->len + 22 > WC_OUTBUF && s_flush(o) != 0)
        return DMR_EIO;
    if (s->len <= 16) {
        memcpy(o->buf + o->len, s->head, s->len);
        o->len += s->len;
    } else if ((size_t)s->len + 22 <= WC_OUTBUF) {
        memcpy(o->buf + o->len, key, s->len);
        o->len += s->len;
    } else if (dmr_write_all(STDOUT_FILENO, key, s->len) != 0) {
        return DMR_EIO; /* a huge word, written as it is */
    }
    char digits[20];
    size_t i = sizeof digits;
    uint64_t c = s->count;
    do {
        digits[--i] = (char)('0' + c % 10);
        c /= 10;
    } while (c > 0);
    o->buf[o->len++] = '\t';
    memcpy(o->buf + o->len, digits + i, sizeof digits - i);
    o->len += sizeof digits - i;
    o->buf[o->len++] = '\n';
    return 0;
}

/* Sorts the table's words (in place, packed at the front of the slots) and
 * writes them. 0, or -1 after printing why. */
static int s_write_sorted(s_table_t *t)
{
    size_t n = 0;
    for (size_t i = 0; i <= t->mask; i++)
        if (t->slots[i].count != 0)
            t->slots[n++] = t->slots[i];
    s_sort_keys = t->keys;
    qsort(t->slots, n, sizeof *t->slots, s_cmp_slots);
    s_out_t o = {dmr_malloc(WC_OUTBUF), 0};
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = s_put(&o, &t->slots[i], t->keys[t->slots[i].id]);
    if (rc == 0)
        rc = s_flush(&o);
    free(o.buf);
    if (rc != 0) {
        fprintf(stderr, "dmr-wcref: writing the output: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

/* ----- command line ---------------------------------------------------- */

static void s_usage(FILE *f)
{
    fprintf(f, "usage: dmr-wcref FILE...\n"
               "\n"
               "Counts the words of the FILEs (maximal runs of ASCII letters,\n"
               "case kept, as dmr's wordcount job) and prints word<TAB>count\n"
               "lines in bytewise order of the words. Single-threaded: the\n"
               "hand-written reference dmr's wordcount is measured against.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        s_usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        s_usage(stdout);
        return 0;
    }
    s_table_t t;
    s_table_init(&t, WC_INITIAL_SLOTS);
    for (int i = 1; i < argc; i++)
        if (s_count_file(&t, argv[i]) != 0)
            return 1;
    int rc = s_write_sorted(&t);
    free(t.slots);
    free(t.keys);
    return rc == 0 ? 0 : 1;
}
