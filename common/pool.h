/* pool.h -- memory handed out in pieces that never move, all freed (or
 * kept for reuse) at once.
 *
 * Pieces are cut from 1 MiB chunks in turn; a piece over a quarter chunk
 * gets an allocation of its own, so a chunk never wastes more than a
 * quarter. reset() keeps the chunks for the next round. Single-threaded.
 * Zero-initialise a dmr_pool_t to start. */
#ifndef DMR_COMMON_POOL_H
#define DMR_COMMON_POOL_H

#include <stddef.h>

typedef struct {
    char **chunks; /* every chunk allocated; [0, cur] in use */
    size_t nchunks, cur, used;
    char **bigs; /* pieces over a quarter chunk */
    size_t nbigs, big_bytes;
} dmr_pool_t;

/* n bytes (any alignment). */
char *dmr_pool_alloc(dmr_pool_t *a, size_t n);
/* n bytes aligned to 8. */
char *dmr_pool_alloc_aligned(dmr_pool_t *a, size_t n);
/* Bytes handed out since the last reset, rounded up to whole chunks
 * before the current one. */
size_t dmr_pool_bytes(const dmr_pool_t *a);
/* Takes every piece back; keeps the chunks. */
void dmr_pool_reset(dmr_pool_t *a);
void dmr_pool_free(dmr_pool_t *a);

#endif
