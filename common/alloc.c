/* alloc.c -- allocation wrappers that abort on out-of-memory. */
#include "common/alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void s_oom(size_t n)
{
    fprintf(stderr, "dmr: out of memory allocating %zu bytes\n", n);
    abort();
}

void *dmr_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        s_oom(n);
    return p;
}

void *dmr_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        s_oom(count * size);
    return p;
}

void *dmr_aligned_alloc(size_t align, size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, align, n ? n : align) != 0)
        s_oom(n);
    return p;
}

void dmr_advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(huge - 1);
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

void *dmr_table_alloc(size_t n)
{
    const size_t huge = (size_t)2 << 20;
    void *p = dmr_aligned_alloc(n >= huge ? huge : 64, n);
    dmr_advise_huge(p, n);
    memset(p, 0, n);
    return p;
}

void *dmr_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        s_oom(n);
    return q;
}

char *dmr_strdup(const char *s)
{
    return dmr_strndup(s, strlen(s));
}

char *dmr_strndup(const char *s, size_t n)
{
    char *p = dmr_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *dmr_sprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    DMR_ASSERT(n >= 0);
    char *p = dmr_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void dmr_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "dmr: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
