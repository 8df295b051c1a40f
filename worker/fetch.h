/* fetch.h -- the reducer's side of the shuffle.
 *
 * Pulls one partition of every map output of a job from the workers that
 * hold them, in pieces of at most DMR_MSG_PIECE bytes, and stores each as
 * a file in the attempt directory. A reduce may start before every map is
 * done: it begins with the map outputs its TASK lists and learns of the
 * others from the master as their maps finish. Runs in the task child
 * with a ZeroMQ context of its own. */
#ifndef DMR_WORKER_FETCH_H
#define DMR_WORKER_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

typedef struct dmr_fetch dmr_fetch_t;

/* One map output: where it comes from and where its copy goes. */
typedef struct {
    uint32_t attempt;     /* the map attempt that wrote it */
    const char *endpoint; /* the shuffle server holding it */
    const char *wid;      /* that server's worker */
    const char *path;     /* the local copy of this partition */
    uint64_t length;      /* its bytes, once complete */
    int complete;         /* all of it is in path */
} dmr_fetch_output_t;

/* Called as the fetch goes on: map outputs complete, bytes fetched, and
 * answers from the master while some map is not done yet (each a sign
 * that a reduce waiting for maps is alive). */
typedef void (*dmr_fetch_progress_fn)(void *arg, size_t outputs, uint64_t bytes,
                                      uint64_t answers);

/* A fetch of partition spec->task of the spec->nmap map outputs of a
 * reduce TASK into dir. master (an endpoint) and wid (this task's worker)
 * are for asking where the outputs the TASK does not list are; master may
 * be NULL when it lists them all. spec, dir, master and wid must outlive
 * the fetch. Never fails: errors come from dmr_fetch_run. */
dmr_fetch_t *dmr_fetch_new(const dmr_msg_t *spec, const char *dir,
                           const char *master, const char *wid);
void dmr_fetch_destroy(dmr_fetch_t **f);

/* Fetches every map output; blocks until all are here or something
 * failed. Returns 0; DMR_EFETCH when a source failed (it answered with an
 * error or garbage, or stayed silent for -D fetch_timeout_ms, default
 * 30000): dmr_fetch_failed names the map, so that the master can re-run
 * it; DMR_ENOENT when the master no longer runs this attempt (the job
 * ended, the attempt was stopped); or another error. err says what
 * happened. progress may be NULL. */
int dmr_fetch_run(dmr_fetch_t *f, dmr_fetch_progress_fn progress, void *arg,
                  char *err, size_t errlen);

/* Map output `map`, or NULL while its location is unknown. All are known
 * and complete after dmr_fetch_run returned 0. Owned by f. */
const dmr_fetch_output_t *dmr_fetch_output(const dmr_fetch_t *f, uint32_t map);
/* The map whose output was the i-th to complete: i below the outputs
 * the progress function was last told of (all of them once
 * dmr_fetch_run returned 0). */
uint32_t dmr_fetch_completed(const dmr_fetch_t *f, size_t i);
/* The map whose output could not be fetched, or -1. */
long dmr_fetch_failed(const dmr_fetch_t *f);

#endif
