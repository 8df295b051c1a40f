/* grep.c -- the lines that match a POSIX extended regular expression.
 *
 *     dmr submit grep INPUT... -o OUT -D pattern='ERROR|FATAL'
 *
 * map emits ("FILE:LINENO", line) for every matching line, FILE being the
 * input as the user named it and LINENO its 1-based line number (the job
 * sets DMR_JOB_LINENO). The job's key order sorts by FILE bytewise, then by
 * LINENO numerically, so each output part lists its lines in file order.
 * The default hash partitioner spreads lines over the parts; reduce is the
 * identity.
 *
 * The pattern is compiled once per task in setup (REG_EXTENDED|REG_NOSUB);
 * a missing or invalid pattern fails the task with regerror's text. With
 * glibc's REG_STARTEND a line is matched in place (NUL bytes included);
 * elsewhere it is copied and NUL-terminated first.
 *
 * Built with only jobs/dmr_job.h and libc. */
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/dmr_job.h"

/* Per-task state, in ctx->user. */
typedef struct {
    regex_t re; /* the compiled pattern */
    char *buf;  /* scratch for keys (and lines without REG_STARTEND) */
    size_t cap; /* bytes allocated at buf */
} s_grep_t;

static int s_setup(dmr_ctx *ctx)
{
    char msg[512];
    const char *pattern = dmr_param(ctx, "pattern");
    if (!pattern) {
        dmr_fail(ctx, "grep: missing parameter: give -D pattern=REGEX");
        return -1;
    }
    s_grep_t *g = calloc(1, sizeof *g);
    if (!g) {
        dmr_fail(ctx, "grep: out of memory");
        return -1;
    }
    int rc = regcomp(&g->re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[256];
        regerror(rc, &g->re, why, sizeof why);
        snprintf(msg, sizeof msg, "grep: invalid pattern '%s': %s", pattern,
                 why);
        dmr_fail(ctx, msg);
        free(g);
        return -1;
    }
    ctx->user = g;
    return 0;
}

static void s_teardown(dmr_ctx *ctx)
{
    s_grep_t *g = ctx->user;
    if (!g)
        return;
    regfree(&g->re);
    free(g->buf);
    free(g);
    ctx->user = NULL;
}

/* Makes room for n bytes at g->buf; 0 or -1 when out of memory. */
static int s_reserve(s_grep_t *g, size_t n)
{
    if (n <= g->cap)
        return 0;
    size_t cap = g->cap ? g->cap : 256;
    while (cap < n)
        cap *= 2;
    char *p = realloc(g->buf, cap);
    if (!p)
        return -1;
    g->buf = p;
    g->cap = cap;
    return 0;
}

/* 1 if line matches, 0 if not, -1 when out of memory. */
static int s_matches(s_grep_t *g, dmr_slice line)
{
/* AddressSanitizer's regexec reads the string up to a NUL whatever
 * REG_STARTEND says, past the end of an unterminated line: copy there. */
#if defined(REG_STARTEND) && !defined(__SANITIZE_ADDRESS__)
    regmatch_t range[1] = {{0, (regoff_t)line.len}};
    return regexec(&g->re, line.ptr, 1, range, REG_STARTEND) == 0;
#else
    if (s_reserve(g, line.len + 1) != 0)
        return -1;
    memcpy(g->buf, line.ptr, line.len);
    g->buf[line.len] = '\0';
    return regexec(&g->re, g->buf, 0, NULL, 0) == 0;
#endif
}

static int s_map(dmr_ctx *ctx, const dmr_record *in)
{
    s_grep_t *g = ctx->user;
    int m = s_matches(g, in->value);
    if (m == 0)
        return 0;
    /* "FILE:LINENO": ':', up to 20 digits and snprintf's NUL. */
    if (m < 0 || s_reserve(g, in->file.len + 22) != 0) {
        dmr_fail(ctx, "grep: out of memory");
        return -1;
    }
    if (in->file.len)
        memcpy(g->buf, in->file.ptr, in->file.len);
    size_t n = in->file.len;
    n += (size_t)snprintf(g->buf + n, g->cap - n, ":%llu",
                          (unsigned long long)in->lineno);
    dmr_slice key = {g->buf, n};
    return dmr_emit(ctx, key, in->value);
}

static int s_reduce(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    dmr_slice v;
    while (dmr_next(ctx, vals, &v)) {
        int rc = dmr_emit(ctx, key, v);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Splits "FILE:LINENO" at its last ':' into file and digits (digits empty
 * when there is no ':'). */
static void s_split_key(dmr_slice k, dmr_slice *file, dmr_slice *digits)
{
    size_t i = k.len;
    while (i > 0 && k.ptr[i - 1] != ':')
        i--;
    if (i == 0) {
        *file = k;
        *digits = (dmr_slice){k.ptr + k.len, 0};
        return;
    }
    *file = (dmr_slice){k.ptr, i - 1};
    *digits = (dmr_slice){k.ptr + i, k.len - i};
    while (digits->len > 1 && digits->ptr[0] == '0') {
        digits->ptr++;
        digits->len--;
    }
}

/* Bytewise order, a proper prefix first (dmr's default key order). */
static int s_bytes_cmp(dmr_slice a, dmr_slice b)
{
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c != 0)
        return c;
    return (a.len > b.len) - (a.len < b.len);
}

/* By file bytewise, then by line number numerically (a longer digit string
 * is a larger number, as there are no leading zeros), then bytewise on the
 * whole key so that the order stays total on malformed keys. */
static int s_compare(dmr_slice a, dmr_slice b)
{
    dmr_slice fa, da, fb, db;
    s_split_key(a, &fa, &da);
    s_split_key(b, &fb, &db);
    int c = s_bytes_cmp(fa, fb);
    if (c != 0)
        return c;
    if (da.len != db.len)
        return da.len < db.len ? -1 : 1;
    c = s_bytes_cmp(da, db);
    if (c != 0)
        return c;
    return s_bytes_cmp(a, b);
}

DMR_JOB_DEFINE(.name = "grep", .flags = DMR_JOB_LINENO, .setup = s_setup,
               .teardown = s_teardown, .map = s_map, .reduce = s_reduce,
               .compare = s_compare);
