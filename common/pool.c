/* pool.c -- pieces from chunks that never move (pool.h). */
#include "common/pool.h"

#include <stdlib.h>

#include "common/alloc.h"

#define CHUNK (1u << 20)

char *dmr_pool_alloc(dmr_pool_t *a, size_t n)
{
    if (n > CHUNK / 4) {
        a->bigs = dmr_realloc(a->bigs, (a->nbigs + 1) * sizeof *a->bigs);
        a->bigs[a->nbigs++] = dmr_malloc(n ? n : 1);
        a->big_bytes += n;
        return a->bigs[a->nbigs - 1];
    }
    if (!a->nchunks || a->used + n > CHUNK) {
        if (a->nchunks && a->cur + 1 < a->nchunks) {
            a->cur++;
        } else {
            a->chunks =
                dmr_realloc(a->chunks, (a->nchunks + 1) * sizeof *a->chunks);
            a->chunks[a->nchunks] = dmr_malloc(CHUNK);
            a->cur = a->nchunks++;
        }
        a->used = 0;
    }
    char *p = a->chunks[a->cur] + a->used;
    a->used += n;
    return p;
}

char *dmr_pool_alloc_aligned(dmr_pool_t *a, size_t n)
{
    a->used = (a->used + 7) & ~(size_t)7;
    return dmr_pool_alloc(a, n);
}

size_t dmr_pool_bytes(const dmr_pool_t *a)
{
    size_t chunks = a->nchunks ? a->cur * (size_t)CHUNK + a->used : 0;
    return chunks + a->big_bytes;
}

void dmr_pool_reset(dmr_pool_t *a)
{
    a->cur = 0;
    a->used = 0;
    for (size_t i = 0; i < a->nbigs; i++)
        free(a->bigs[i]);
    a->nbigs = 0;
    a->big_bytes = 0;
}

void dmr_pool_free(dmr_pool_t *a)
{
    dmr_pool_reset(a);
    for (size_t i = 0; i < a->nchunks; i++)
        free(a->chunks[i]);
    free(a->chunks);
    free(a->bigs);
    *a = (dmr_pool_t){0};
}
