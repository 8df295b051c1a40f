/* alloc.h -- allocation wrappers that abort on out-of-memory.
 *
 * dmr treats running out of memory as fatal: the process prints where it
 * happened and aborts, so callers never carry a NULL-check for malloc.
 * Every allocation in dmr goes through these. Thread-safe (libc is). */
#ifndef DMR_ALLOC_H
#define DMR_ALLOC_H

#include <stddef.h>

void *dmr_malloc(size_t n);
void *dmr_calloc(size_t count, size_t size);
void *dmr_realloc(void *p, size_t n);
/* n bytes at a multiple of align (a power of two, at least
 * sizeof(void *)); free() them. */
void *dmr_aligned_alloc(size_t align, size_t n);
/* Asks for huge pages (2 MiB, where the kernel gives them on request)
 * for the whole 2 MiB pages inside [p, p + n): memory of megabytes read
 * at random would otherwise miss the TLB on nearly every access. Pages
 * already touched stay as they are; a hint, so it cannot fail. */
void dmr_advise_huge(void *p, size_t n);
/* n zeroed bytes for a hash table looked up at random: cache-line
 * aligned, and from 2 MiB on in huge pages (dmr_advise_huge). free()
 * them. */
void *dmr_table_alloc(size_t n);
char *dmr_strdup(const char *s);
/* Copies n bytes of s and NUL-terminates the copy. */
char *dmr_strndup(const char *s, size_t n);
/* Formats into a fresh string; caller frees. */
char *dmr_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Frees *pp and sets it to NULL; accepts NULL. */
#define DMR_FREE(pp)                                                           \
    do {                                                                       \
        free(*(pp));                                                           \
        *(pp) = NULL;                                                          \
    } while (0)

/* Always-on assertion for programmer errors (never for runtime failures). */
#define DMR_ASSERT(expr)                                                       \
    ((expr) ? (void)0 : dmr_assert_fail(#expr, __FILE__, __LINE__))
void dmr_assert_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));

#endif
