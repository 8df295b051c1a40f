/* job.h -- the master's job table: jobs, their tasks and task attempts.
 *
 * A job holds M map tasks (one per input split) and R reduce tasks. A task
 * moves idle -> running -> done; each launch is an attempt, numbered from
 * 1, with the worker, times and outcome kept for `dmr status`. Reduces
 * become runnable when every map is done. No networking here: master.c
 * feeds events in and sends what these functions decide. Single-threaded. */
#ifndef DMR_MASTER_JOB_H
#define DMR_MASTER_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"
#include "storage/input.h"

typedef enum {
    DMR_TASK_IDLE,
    DMR_TASK_RUNNING,
    DMR_TASK_DONE
} dmr_task_state_t;

typedef enum {
    DMR_ATT_RUNNING,
    DMR_ATT_OK,
    DMR_ATT_FAILED, /* the attempt reported an error or crashed */
    DMR_ATT_LOST,   /* its worker died or its output was lost */
} dmr_att_state_t;

typedef enum {
    DMR_JOB_RUNNING,
    DMR_JOB_SUCCEEDED,
    DMR_JOB_FAILED
} dmr_job_state_t;

typedef struct {
    uint32_t n;
    char wid[32];
    int64_t start_ms, end_ms; /* wall clock */
    dmr_att_state_t state;
    char *error;
} dmr_attempt_t;

typedef struct {
    uint32_t kind, index;
    dmr_task_state_t state;
    uint32_t failures;  /* attempts that failed (not lost) */
    dmr_attempt_t *att; /* every attempt, in order */
    size_t natt;
    /* For a done map: where its output lives. */
    char out_wid[32];
    char *out_endpoint;
    uint32_t out_att;
} dmr_task_t;

typedef struct {
    uint64_t id;
    char *name, *hash, *output;
    uint32_t nreduce, flags;
    dmr_kv_t *params; /* owned copies */
    size_t nparams;
    dmr_input_file_t *files;
    size_t nfiles;
    dmr_split_t *splits;
    uint32_t nmap;
    dmr_task_t *maps, *reduces;
    uint32_t maps_done, reduces_done;
    dmr_job_state_t state;
    char *error;
    int64_t start_ms, end_ms;
    dmr_counter_t *counters; /* owned names */
    size_t ncounters;
} dmr_job_t;

/* Builds a job from a SUBMIT message. Reserved parameters split_mb and
 * whole_files shape the splits. Returns 0 or DMR_EINVAL with err set. */
int dmr_job_new(uint64_t id, const dmr_msg_t *submit, dmr_job_t **out,
                char *err, size_t errlen);
void dmr_job_destroy(dmr_job_t **job);

const char *dmr_job_state_name(dmr_job_state_t s);
const char *dmr_att_state_name(dmr_att_state_t s);

/* The task of kind and index, or NULL. */
dmr_task_t *dmr_job_task(dmr_job_t *job, uint32_t kind, uint32_t index);
/* The next idle task a worker may run, or NULL: maps first, reduces only
 * when every map is done. */
dmr_task_t *dmr_job_next_task(dmr_job_t *job);
/* Starts a new attempt of t on worker wid; returns its number. */
uint32_t dmr_job_start_attempt(dmr_job_t *job, dmr_task_t *t, const char *wid);
/* The attempt numbered n of t, or NULL. */
dmr_attempt_t *dmr_task_attempt(dmr_task_t *t, uint32_t n);

/* Records the end of attempt n of t. ok: the task is done (a map records
 * where its output is). Otherwise the attempt failed (counted against
 * max_attempts) or was lost (not counted); the task goes back to idle.
 * Returns 1 when the job's state changed (finished or failed). */
int dmr_job_finish_attempt(dmr_job_t *job, dmr_task_t *t, uint32_t n,
                           dmr_att_state_t state, const char *error,
                           const char *endpoint, uint32_t max_attempts);
/* Adds a finished attempt's counters to the job's. */
void dmr_job_add_counters(dmr_job_t *job, const dmr_msg_t *done);

/* Fills a JOB_INFO message describing job; with attempts, items lists every
 * attempt (items, and strings, borrow from job; free with
 * dmr_job_info_free). */
void dmr_job_info(const dmr_job_t *job, int attempts, dmr_msg_t *m);
void dmr_job_info_free(dmr_msg_t *m);

#endif
