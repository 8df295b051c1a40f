/* gentext.c -- dmr-gentext: deterministic Zipf-distributed text for
 * benchmarks and tests.
 *
 *     dmr-gentext --bytes 1G [--seed S] [--vocab V] [--zipf S]
 *                 [--files K --dir DIR]
 *
 * Writes lines of 10..15 words. The vocabulary is V distinct pronounceable
 * words of ASCII letters (consonant-vowel syllables; frequent ranks get
 * shorter words, as in natural language), generated from the seed. Each
 * word is drawn from a Zipf law over the ranks, P(rank r) ~ 1 / r^s, using
 * Walker's alias method (O(1) per draw, exact up to double rounding). Now
 * and then a word is Capitalised or UPPERCASE, a comma follows it, and most
 * lines end with a full stop, so tokenisers meet mixed case and
 * punctuation.
 *
 * Output stops after the line that crosses --bytes, so it is at most one
 * line longer than asked. With --files K the same stream is cut into K
 * files DIR/part-00000.txt ..., each holding about bytes/K (again ending
 * after the crossing line). The same arguments give the same bytes: the
 * generator is xoshiro256** seeded by splitmix64, and everything else is
 * integer arithmetic and IEEE doubles (pow and log10 come from libm, so a
 * different libm could in principle move a draw that lands within an ulp
 * of an alias-table threshold). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

#define GEN_OUTBUF (1u << 20)

/* ----- random numbers ---------------------------------------------------- */

typedef struct {
    uint64_t s[4];
} s_rng_t;

static uint64_t s_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void s_rng_seed(s_rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = s_splitmix(&seed);
}

static uint64_t s_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static uint64_t s_next(s_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t out = s_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl(s[3], 45);
    return out;
}

/* Uniform in [0, n), by multiply-high (bias < n / 2^64). */
static uint32_t s_below(s_rng_t *r, uint32_t n)
{
    return (uint32_t)(((s_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* ----- vocabulary ----------------------------------------------------------
 */

typedef struct {
    char *bytes;      /* all words, back to back */
    uint32_t *off;    /* word i is bytes[off[i], off[i+1]) */
    uint32_t n;       /* words */
    uint32_t *set;    /* open-addressing table of word index + 1 (0 empty) */
    uint32_t setmask; /* table size - 1 */
} s_vocab_t;

static const char *const s_onsets[] = {
    "b",  "c",  "d",  "f",  "g",  "h",  "j",  "k",  "l",  "m",  "n",  "p",
    "r",  "s",  "t",  "v",  "w",  "z",  "br", "ch", "cl", "dr", "fl", "gr",
    "pl", "pr", "sh", "sk", "sl", "sp", "st", "th", "tr", "",
};
static const char *const s_vowels[] = {
    "a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ou", "oo", "y",
};
static const char *const s_codas[] = {
    "", "", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck", "ng",
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int s_vocab_has(const s_vocab_t *v, const char *w, size_t len,
                       uint32_t *slot)
{
    uint32_t i = (uint32_t)dmr_hash64(w, len) & v->setmask;
    for (;; i = (i + 1) & v->setmask) {
        uint32_t e = v->set[i];
        if (e == 0) {
            *slot = i;
            return 0;
        }
        e--;
        if (v->off[e + 1] - v->off[e] == len &&
            memcmp(v->bytes + v->off[e], w, len) == 0)
            return 1;
    }
}

/* Builds n distinct words; rank r gets about 1 + log10(r + 1) syllables. */
static void s_vocab_build(s_vocab_t *v, uint32_t n, s_rng_t *r)
{
    uint32_t size = 1;
    while (size < 2 * n)
        size *= 2;
    v->set = dmr_calloc(size, sizeof *v->set);
    v->setmask = size - 1;
    v->off = dmr_malloc(((size_t)n + 1) * sizeof *v->off);
    v->n = 0;
    size_t cap = (size_t)n * 12 + 64, len = 0;
    v->bytes = dmr_malloc(cap);
    v->off[0] = 0;
    char w[128];
    for (uint32_t rank = 0; rank < n; rank++) {
        int syll = 1 + (int)log10((double)rank + 1.0) / 2 + (int)s_below(r, 2);
        for (int tries = 0;; tries++) {
            size_t wl = 0;
            if (tries > 0 && tries % 8 == 0)
                syll++; /* this length is crowded: go longer */
            for (int s = 0; s < syll && wl + 12 < sizeof w; s++) {
                const char *parts[3] = {
                    s_onsets[s_below(r, NELEM(s_onsets))],
                    s_vowels[s_below(r, NELEM(s_vowels))],
                    s == syll - 1 ? s_codas[s_below(r, NELEM(s_codas))] : "",
                };
                for (int k = 0; k < 3; k++) {
                    size_t pl = strlen(parts[k]);
                    memcpy(w + wl, parts[k], pl);
                    wl += pl;
                }
            }
            uint32_t slot;
            if (s_vocab_has(v, w, wl, &slot))
                continue;
            if (len + wl > cap) {
                cap *= 2;
                v->bytes = dmr_realloc(v->bytes, cap);
            }
            memcpy(v->bytes + len, w, wl);
            len += wl;
            v->off[rank + 1] = (uint32_t)len;
            v->n = rank + 1;
            v->set[slot] = rank + 1;
            break;
        }
    }
}

/* ----- Zipf sampler (Walker/Vose alias tables) -----------------------------
 */

typedef struct {
    double *prob;    /* keep column i with this probability... */
    uint32_t *alias; /* ...else take alias[i] */
    uint32_t n;
} s_zipf_t;

static void s_zipf_build(s_zipf_t *z, uint32_t n, double s)
{
    double *p = dmr_malloc((size_t)n * sizeof *p);
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += p[i] = pow((double)i + 1.0, -s);
    for (uint32_t i = 0; i < n; i++)
        p[i] = p[i] / sum * (double)n;
    z->prob = dmr_malloc((size_t)n * sizeof *z->prob);
    z->alias = dmr_malloc((size_t)n * sizeof *z->alias);
    z->n = n;
    uint32_t *small = dmr_malloc((size_t)n * sizeof *small);
    uint32_t *large = dmr_malloc((size_t)n * sizeof *large);
    uint32_t ns = 0, nl = 0;
    for (uint32_t i = n; i-- > 0;) {
        if (p[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
        uint32_t a = small[--ns], g = large[--nl];
        z->prob[a] = p[a];
        z->alias[a] = g;
        p[g] = (p[g] + p[a]) - 1.0;
        if (p[g] < 1.0)
            small[ns++] = g;
        else
            large[nl++] = g;
    }
    while (nl > 0) { /* what rounding leaves is certain */
        uint32_t g = large[--nl];
        z->prob[g] = 1.0;
        z->alias[g] = g;
    }
    while (ns > 0) {
        uint32_t a = small[--ns];
        z->prob[a] = 1.0;
        z->alias[a] = a;
    }
    free(small);
    free(large);
    free(p);
}

static uint32_t s_zipf_draw(const s_zipf_t *z, s_rng_t *r)
{
    uint64_t x = s_next(r);
    uint32_t i = (uint32_t)(((x >> 32) * (uint64_t)z->n) >> 32);
    double u = (double)(x & 0xffffffffu) * (1.0 / 4294967296.0);
    return u < z->prob[i] ? i : z->alias[i];
}

/* ----- output --------------------------------------------------------------
 */

typedef struct {
    int fd;
    char *buf;
    size_t len;
} s_out_t;

static int s_flush(s_out_t *o)
{
    size_t done = 0;
    while (done < o->len) {
        ssize_t w = write(o->fd, o->buf + done, o->len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return DMR_EIO;
        done += (size_t)w;
    }
    o->len = 0;
    return 0;
}

/* Appends one line to o; returns its length. */
static size_t s_line(s_out_t *o, const s_vocab_t *v, const s_zipf_t *z,
                     s_rng_t *r)
{
    char *start = o->buf + o->len, *p = start;
    int words = 10 + (int)s_below(r, 6);
    for (int i = 0; i < words; i++) {
        uint32_t w = s_zipf_draw(z, r);
        size_t wl = v->off[w + 1] - v->off[w];
        memcpy(p, v->bytes + v->off[w], wl);
        uint32_t c = s_below(r, 1000);
        if (i == 0 || c < 30) /* Capitalised */
            p[0] = (char)(p[0] - 'a' + 'A');
        else if (c < 35) /* UPPERCASE */
            for (size_t k = 0; k < wl; k++)
                p[k] = (char)(p[k] - 'a' + 'A');
        p += wl;
        if (i + 1 < words && s_below(r, 100) < 5)
            *p++ = ',';
        *p++ = i + 1 < words ? ' ' : '\n';
    }
    if (s_below(r, 10) < 7) { /* a full stop before the newline */
        p[-1] = '.';
        *p++ = '\n';
    }
    o->len += (size_t)(p - start);
    return (size_t)(p - start);
}

/* Writes lines to o until at least quota bytes went out. */
static int s_generate(s_out_t *o, uint64_t quota, const s_vocab_t *v,
                      const s_zipf_t *z, s_rng_t *r, size_t maxline)
{
    uint64_t written = 0;
    while (written < quota) {
        if (o->len + maxline > GEN_OUTBUF && s_flush(o) != 0)
            return DMR_EIO;
        written += s_line(o, v, z, r);
    }
    return s_flush(o);
}

/* ----- command line --------------------------------------------------------
 */

static void s_usage(FILE *f)
{
    fprintf(f,
            "usage: dmr-gentext --bytes N [--seed S] [--vocab V] [--zipf S]\n"
            "                   [--files K --dir DIR]\n"
            "\n"
            "Writes deterministic text: lines of 10..15 words drawn from a\n"
            "Zipf law over a generated vocabulary of pronounceable words.\n"
            "\n"
            "  --bytes N    stop after the line that crosses N bytes\n"
            "               (suffixes k, m, g: powers of 1024)\n"
            "  --seed S     random seed (default 1); same seed, same bytes\n"
            "  --vocab V    distinct words (default 100000)\n"
            "  --zipf S     Zipf exponent, > 0 (default 1.1)\n"
            "  --files K    write K files DIR/part-NNNNN.txt of ~N/K bytes\n"
            "  --dir DIR    directory for --files (created if missing)\n"
            "  --help       this text\n"
            "\n"
            "Without --files the text goes to standard output.\n");
}

/* 1 if a is an option that takes a value. */
static int s_known(const char *a)
{
    static const char *const opts[] = {"--bytes", "--seed",  "--vocab",
                                       "--zipf",  "--files", "--dir"};
    for (size_t i = 0; i < NELEM(opts); i++)
        if (strcmp(a, opts[i]) == 0)
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t bytes = 0, seed = 1, vocab = 100000, files = 0;
    int have_bytes = 0;
    double zipf = 1.1;
    const char *dir = NULL;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            s_usage(stdout);
            return 0;
        }
        if (!s_known(a)) {
            fprintf(stderr, "dmr-gentext: unknown option %s\n", a);
            s_usage(stderr);
            return 2;
        }
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = val == NULL;
        if (bad) {
            /* reported below */
        } else if (strcmp(a, "--bytes") == 0) {
            bad = dmr_parse_size(val, &bytes) != 0;
            have_bytes = 1;
        } else if (strcmp(a, "--seed") == 0) {
            bad = dmr_parse_u64(val, &seed) != 0;
        } else if (strcmp(a, "--vocab") == 0) {
            bad = dmr_parse_u64(val, &vocab) != 0 || vocab == 0 ||
                  vocab > 50000000;
        } else if (strcmp(a, "--files") == 0) {
            bad =
                dmr_parse_u64(val, &files) != 0 || files == 0 || files > 100000;
        } else if (strcmp(a, "--zipf") == 0) {
            char *end;
            zipf = strtod(val, &end);
            bad = *end != '\0' || !(zipf > 0 && zipf < 100);
        } else {
            dir = val; /* --dir */
        }
        if (bad) {
            fprintf(stderr, "dmr-gentext: bad or missing value for %s\n", a);
            return 2;
        }
    }
    if (!have_bytes || (files > 0) != (dir != NULL)) {
        fprintf(stderr, "dmr-gentext: %s\n",
                !have_bytes ? "--bytes is required"
                            : "--files and --dir go together");
        s_usage(stderr);
        return 2;
    }

    int rc = 0;
    s_rng_t rng;
    s_rng_seed(&rng, seed);
    s_vocab_t v;
    s_vocab_build(&v, (uint32_t)vocab, &rng);
    s_zipf_t z;
    s_zipf_build(&z, (uint32_t)vocab, zipf);
    size_t longest = 0;
    for (uint32_t i = 0; i < v.n; i++)
        if (v.off[i + 1] - v.off[i] > longest)
            longest = v.off[i + 1] - v.off[i];
    size_t maxline = 15 * (longest + 2) + 2;
    s_out_t o = {1, dmr_malloc(GEN_OUTBUF), 0};

    if (files == 0) {
        rc = s_generate(&o, bytes, &v, &z, &rng, maxline);
        if (rc != 0)
            fprintf(stderr, "dmr-gentext: write: %s\n", strerror(errno));
        goto out;
    }
    if (dmr_mkdirs(dir) != 0) {
        fprintf(stderr, "dmr-gentext: cannot create %s: %s\n", dir,
                strerror(errno));
        rc = 1;
        goto out;
    }
    for (uint64_t k = 0; k < files; k++) {
        uint64_t quota = bytes / files + (k + 1 == files ? bytes % files : 0);
        char *path =
            dmr_sprintf("%s/part-%05llu.txt", dir, (unsigned long long)k);
        o.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (o.fd < 0) {
            fprintf(stderr, "dmr-gentext: cannot create %s: %s\n", path,
                    strerror(errno));
            free(path);
            rc = 1;
            goto out;
        }
        rc = s_generate(&o, quota, &v, &z, &rng, maxline);
        if (close(o.fd) != 0 && rc == 0)
            rc = DMR_EIO;
        if (rc != 0)
            fprintf(stderr, "dmr-gentext: write %s: %s\n", path,
                    strerror(errno));
        free(path);
        if (rc != 0)
            goto out;
    }
out:
    free(o.buf);
    free(v.bytes);
    free(v.off);
    free(v.set);
    free(z.prob);
    free(z.alias);
    return rc == 0 ? 0 : 1;
}
