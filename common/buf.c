/* buf.c -- a growable byte buffer. */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

void dmr_buf_reserve(dmr_buf_t *b, size_t extra)
{
    if (b->cap - b->len > extra)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len <= extra)
        cap *= 2;
    b->data = dmr_realloc(b->data, cap);
    b->cap = cap;
}

void dmr_buf_append(dmr_buf_t *b, const void *p, size_t n)
{
    dmr_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void dmr_buf_putc(dmr_buf_t *b, char c)
{
    dmr_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void dmr_buf_printf(dmr_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    dmr_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void dmr_buf_clear(dmr_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void dmr_buf_free(dmr_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *dmr_buf_detach(dmr_buf_t *b, size_t *len)
{
    dmr_buf_reserve(b, 0);
    b->data[b->len] = '\0';
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

static size_t s_fmt_u64(char *out, uint64_t v)
{
    char t[20];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = t[n - 1 - i];
    return n;
}

size_t dmr_fmt_i64(char *out, int64_t v)
{
    if (v >= 0)
        return s_fmt_u64(out, (uint64_t)v);
    out[0] = '-';
    return 1 + s_fmt_u64(out + 1, 0 - (uint64_t)v);
}

void dmr_buf_u64(dmr_buf_t *b, uint64_t v)
{
    dmr_buf_reserve(b, 21);
    b->len += s_fmt_u64(b->data + b->len, v);
    b->data[b->len] = '\0';
}

void dmr_buf_i64(dmr_buf_t *b, int64_t v)
{
    dmr_buf_reserve(b, 21);
    b->len += dmr_fmt_i64(b->data + b->len, v);
    b->data[b->len] = '\0';
}
