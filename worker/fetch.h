/* fetch.h -- the reducer's side of the shuffle.
 *
 * Pulls one partition of every map output listed in a reduce TASK from
 * the workers that hold them, in pieces of at most DMR_MSG_PIECE bytes,
 * one request in flight per source worker and every source at once, and
 * stores each as a file in the attempt directory. Runs in the task child
 * with a ZeroMQ context of its own. */
#ifndef DMR_WORKER_FETCH_H
#define DMR_WORKER_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

typedef struct {
    char *path;      /* local copy of the partition */
    uint64_t length; /* its bytes */
} dmr_fetch_result_t;

/* Called as pieces arrive: map outputs complete so far, bytes so far. */
typedef void (*dmr_fetch_progress_fn)(void *arg, size_t outputs,
                                      uint64_t bytes);

/* Fetches partition spec->task from each MAP_LOC item of spec into dir.
 * On success *out has spec->nitems entries (free with
 * dmr_fetch_result_free) and *bytes is increased by what was fetched. On
 * failure err names the source and why; when a source failed (it answered
 * with an error or garbage, or stayed silent for -D fetch_timeout_ms,
 * default 30000) the result is DMR_EFETCH and *bad is the index of its
 * item in spec, so the master can re-run that map task. progress may be
 * NULL. */
int dmr_fetch_partition(const dmr_msg_t *spec, const char *dir,
                        dmr_fetch_result_t **out, uint64_t *bytes, long *bad,
                        dmr_fetch_progress_fn progress, void *arg, char *err,
                        size_t errlen);
void dmr_fetch_result_free(dmr_fetch_result_t *r, size_t n);

#endif
