/* invertedindex.c -- for each word, the input files it occurs in.
 *
 *     dmr submit invertedindex INPUT... -o OUT
 *
 * Words are as in wordcount: maximal runs of ASCII letters, case kept. map
 * emits (word, file) once per distinct word of a line (duplicates within a
 * line are dropped); combine reduces a word's values to its distinct file
 * names; reduce emits (word, "f1,f2,...") with the distinct file names in
 * bytewise order, joined by ','. File names are the inputs as the user
 * named them and may themselves contain ',': such a list is ambiguous to
 * split, which this job accepts rather than invent an escape.
 *
 * Per-task scratch lives in ctx->user (setup/teardown). Built with only
 * jobs/dmr_job.h and libc. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/dmr_job.h"

/* Per-task state, in ctx->user. */
typedef struct {
    dmr_slice *v; /* words of a line, or values of a key */
    size_t n;     /* used entries of v */
    size_t cap;   /* allocated entries of v */
    char *bytes;  /* copies of values (they live only until dmr_next) */
    size_t len;   /* used bytes of bytes */
    size_t bcap;  /* allocated bytes of bytes */
} s_index_t;

/* Indexed by unsigned char: 1 for ASCII letters. */
#define L1(c) [c] = 1, [c + 32] = 1
static const unsigned char s_letter[256] = {
    L1('A'), L1('B'), L1('C'), L1('D'), L1('E'), L1('F'), L1('G'),
    L1('H'), L1('I'), L1('J'), L1('K'), L1('L'), L1('M'), L1('N'),
    L1('O'), L1('P'), L1('Q'), L1('R'), L1('S'), L1('T'), L1('U'),
    L1('V'), L1('W'), L1('X'), L1('Y'), L1('Z'),
};
#undef L1

static int s_setup(dmr_ctx *ctx)
{
    ctx->user = calloc(1, sizeof(s_index_t));
    if (!ctx->user) {
        dmr_fail(ctx, "invertedindex: out of memory");
        return -1;
    }
    return 0;
}

static void s_teardown(dmr_ctx *ctx)
{
    s_index_t *x = ctx->user;
    if (!x)
        return;
    free(x->v);
    free(x->bytes);
    free(x);
    ctx->user = NULL;
}

/* Appends a slice to x->v; 0 or -1 when out of memory. */
static int s_push(s_index_t *x, dmr_slice s)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 64;
        dmr_slice *v = realloc(x->v, cap * sizeof *v);
        if (!v)
            return -1;
        x->v = v;
        x->cap = cap;
    }
    x->v[x->n++] = s;
    return 0;
}

/* Bytewise order, a proper prefix first. */
static int s_cmp(const void *pa, const void *pb)
{
    const dmr_slice *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->ptr, b->ptr, n) : 0;
    if (c != 0)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

/* Sorts x->v and drops repeats; returns the number of distinct entries. */
static size_t s_sort_unique(s_index_t *x)
{
    if (x->n == 0)
        return 0;
    qsort(x->v, x->n, sizeof *x->v, s_cmp);
    size_t w = 1;
    for (size_t i = 1; i < x->n; i++)
        if (s_cmp(&x->v[i], &x->v[w - 1]) != 0)
            x->v[w++] = x->v[i];
    x->n = w;
    return w;
}

static int s_map(dmr_ctx *ctx, const dmr_record *in)
{
    s_index_t *x = ctx->user;
    const unsigned char *p = (const unsigned char *)in->value.ptr;
    const unsigned char *end = p + in->value.len;
    x->n = 0;
    while (p < end) {
        while (p < end && !s_letter[*p])
            p++;
        if (p == end)
            break;
        const unsigned char *w = p;
        while (p < end && s_letter[*p])
            p++;
        if (s_push(x, (dmr_slice){(const char *)w, (size_t)(p - w)}) != 0) {
            dmr_fail(ctx, "invertedindex: out of memory");
            return -1;
        }
    }
    size_t n = s_sort_unique(x);
    for (size_t i = 0; i < n; i++) {
        int rc = dmr_emit(ctx, x->v[i], in->file);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Copies the distinct values of the current key into x (sorted, unique).
 * Returns the count, or -1 when out of memory. */
static long s_collect(dmr_ctx *ctx, s_index_t *x, dmr_values *vals)
{
    x->n = 0;
    x->len = 0;
    dmr_slice v, prev = {NULL, 0};
    int have_prev = 0;
    /* First pass: copy, skipping runs of one name (the common case: one map
     * task reads one file). Slices hold offsets until the copy is done. */
    while (dmr_next(ctx, vals, &v)) {
        if (have_prev && s_cmp(&v, &prev) == 0)
            continue;
        if (!x->bytes || x->len + v.len > x->bcap) {
            size_t cap = x->bcap ? x->bcap : 4096;
            while (cap < x->len + v.len)
                cap *= 2;
            char *b = realloc(x->bytes, cap);
            if (!b)
                return -1;
            x->bytes = b;
            x->bcap = cap;
        }
        if (v.len)
            memcpy(x->bytes + x->len, v.ptr, v.len);
        if (s_push(x, (dmr_slice){(const char *)(uintptr_t)x->len, v.len}))
            return -1;
        prev = (dmr_slice){x->bytes + x->len, v.len};
        have_prev = 1;
        x->len += v.len;
    }
    for (size_t i = 0; i < x->n; i++)
        x->v[i].ptr = x->bytes + (uintptr_t)x->v[i].ptr;
    return (long)s_sort_unique(x);
}

static int s_combine(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    s_index_t *x = ctx->user;
    long n = s_collect(ctx, x, vals);
    if (n < 0) {
        dmr_fail(ctx, "invertedindex: out of memory");
        return -1;
    }
    for (long i = 0; i < n; i++) {
        int rc = dmr_emit(ctx, key, x->v[i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int s_reduce(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    s_index_t *x = ctx->user;
    long n = s_collect(ctx, x, vals);
    if (n < 0) {
        dmr_fail(ctx, "invertedindex: out of memory");
        return -1;
    }
    size_t total = 0;
    for (long i = 0; i < n; i++)
        total += x->v[i].len + 1;
    char *list = malloc(total ? total : 1);
    if (!list) {
        dmr_fail(ctx, "invertedindex: out of memory");
        return -1;
    }
    size_t len = 0;
    for (long i = 0; i < n; i++) {
        if (i > 0)
            list[len++] = ',';
        if (x->v[i].len)
            memcpy(list + len, x->v[i].ptr, x->v[i].len);
        len += x->v[i].len;
    }
    int rc = dmr_emit(ctx, key, (dmr_slice){list, len});
    free(list);
    return rc;
}

DMR_JOB_DEFINE(.name = "invertedindex", .setup = s_setup,
               .teardown = s_teardown, .map = s_map, .combine = s_combine,
               .reduce = s_reduce);
