/* buf.h -- a growable byte buffer.
 *
 * A dmr_buf_t is a plain struct (not opaque) because it is embedded in
 * other structs and used on hot paths. data is NULL until the first append.
 * Not thread-safe. */
#ifndef DMR_BUF_H
#define DMR_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} dmr_buf_t;

#define DMR_BUF_INIT                                                           \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

/* Ensures room for extra more bytes. */
void dmr_buf_reserve(dmr_buf_t *b, size_t extra);
void dmr_buf_append(dmr_buf_t *b, const void *p, size_t n);
void dmr_buf_putc(dmr_buf_t *b, char c);
void dmr_buf_printf(dmr_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends v in decimal (without printf: these are on hot paths). */
void dmr_buf_u64(dmr_buf_t *b, uint64_t v);
void dmr_buf_i64(dmr_buf_t *b, int64_t v);
/* Writes v in decimal into out (at least 21 bytes); returns its length. */
size_t dmr_fmt_i64(char *out, int64_t v);
/* Keeps the allocation, forgets the contents. */
void dmr_buf_clear(dmr_buf_t *b);
/* Releases the allocation. */
void dmr_buf_free(dmr_buf_t *b);
/* Hands the contents (NUL-terminated) to the caller and resets b. */
char *dmr_buf_detach(dmr_buf_t *b, size_t *len);

#endif
