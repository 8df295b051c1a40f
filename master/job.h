/* job.h -- the master's job table: jobs, their tasks and task attempts.
 *
 * A job holds M map tasks (one per input split) and R reduce tasks. A task
 * moves idle -> running -> done; each launch is an attempt, numbered from
 * 1, with the worker, times, progress and outcome kept for `dmr status`.
 * A task may have two attempts running at once (a speculative backup);
 * the first to succeed wins. Reduces become runnable once no map waits
 * for a slot (every map runs or is done), as Hadoop's reduce "slowstart":
 * they fetch map outputs as maps finish, learning of them from the job's
 * map log, and call reduce when they have them all. Each job also keeps a
 * numbered event log ("worker w2 lost: ...") that `dmr submit` follows.
 * No networking and no clock reads for state here: master.c feeds events
 * in, with their times, and sends what these functions decide -- which is
 * what lets the journal replay them. Single-threaded. */
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
    DMR_ATT_KILLED, /* another attempt won, the job ended, or a reduce's
                       slot went to a waiting map */
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
    int speculative;     /* a backup of a slow attempt */
    int local;           /* a map run where a replica of its chunk is */
    uint32_t ppm;        /* latest progress, parts per million */
    uint64_t work;       /* latest work counter */
    char phase[16];      /* "map", "fetch", "reduce", ... */
    int64_t progress_at; /* monotonic ms when work last grew */
} dmr_attempt_t;

typedef struct {
    uint32_t kind, index;
    dmr_task_state_t state;
    uint32_t failures;       /* attempts that failed (not lost) */
    uint32_t fetch_failures; /* reduce attempts lost to unreadable inputs */
    dmr_attempt_t *att;      /* every attempt, in order */
    size_t natt;
    /* For a done map: where its output lives. */
    char out_wid[32];
    char *out_endpoint;
    uint32_t out_att;
    dmr_counter_t *ctr; /* the winning attempt's counters (owned names) */
    size_t nctr;
} dmr_task_t;

typedef struct {
    int64_t ms; /* wall clock */
    char *text;
} dmr_job_event_t;

typedef struct {
    char wid[32];
    uint32_t failures;
    int blacklisted;
} dmr_job_worker_t;

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
    /* The map log: map indexes in the order they finished; a map done
     * again after its output was lost appears again. Reduces read it
     * from where they left off (MAP_QUERY). */
    uint32_t *map_log;
    size_t nmap_log, capmap_log;
    int64_t maps_end_ms; /* wall time the last map was done */
    dmr_job_state_t state;
    char *error;
    int64_t start_ms, end_ms;
    dmr_counter_t *counters; /* owned names */
    size_t ncounters;
    dmr_job_event_t *events;
    size_t nevents;
    dmr_job_worker_t *wstats; /* failures per worker, for the blacklist */
    size_t nwstats;
    int speculative;         /* -D speculative (default 1) */
    int64_t task_timeout_ms; /* -D task_timeout_ms; 0: the master's */
    int ended;               /* end handled: _SUCCESS written, journaled */
    int store_in;            /* some input is a dmr:/ file */
    int store_out;           /* the output is a dmr:/ directory */
    /* A multi-stage job runs as one job per stage, each submitted by the
     * master when the one before succeeds, over its output (see
     * jobs/dmr_job.h). Set from the reserved parameters dmr.stage,
     * dmr.stages, dmr.prev and dmr.output. */
    uint32_t stage, stages; /* this stage (from 0) of how many (1: plain) */
    uint64_t prev;          /* the job of the stage before, or 0 */
    const char *final_output; /* the last stage's output (in params) */
} dmr_job_t;

/* Builds a job from a SUBMIT (or journaled JNL_JOB) message. Reserved
 * parameters: split_mb and whole_files shape the splits; speculative and
 * task_timeout_ms tune fault handling. Returns 0 or DMR_EINVAL with err
 * set. */
int dmr_job_new(uint64_t id, const dmr_msg_t *submit, int64_t now,
                dmr_job_t **out, char *err, size_t errlen);
void dmr_job_destroy(dmr_job_t **job);

const char *dmr_job_state_name(dmr_job_state_t s);
const char *dmr_att_state_name(dmr_att_state_t s);

/* The task of kind and index, or NULL. */
dmr_task_t *dmr_job_task(dmr_job_t *job, uint32_t kind, uint32_t index);
/* 1 if a map of job is idle: it waits for a slot. */
int dmr_job_map_waits(const dmr_job_t *job);
/* The next idle task worker wid may run, or NULL: while a map waits for a
 * slot, only maps; then reduces, whether or not every map is done. A task
 * that already failed on wid is skipped while it has not failed on
 * `others` other workers, so retries go elsewhere when there is an
 * elsewhere. */
dmr_task_t *dmr_job_next_task(dmr_job_t *job, const char *wid, uint32_t others);
/* The next idle reduce for wid whether or not a map waits (for a worker's
 * reduce slot, which no map may take), with the same rule on `others`;
 * NULL if none or the job is not running. */
dmr_task_t *dmr_job_next_reduce(dmr_job_t *job, const char *wid,
                                uint32_t others);
/* The reduce attempt to stop so that a waiting map gets a slot, when the
 * scheduler found none for it: the newest running attempt still fetching
 * (phase "fetch", or none reported yet) on a worker where a waiting map
 * may run (as dmr_job_next_task decides with `others`; a worker the job
 * blacklisted only when all_barred) and whose stopping would free a slot
 * there (frees(arg, wid), or always if frees is NULL: a worker's first
 * reduce has a slot of its own, sched.c). NULL when there is none; else *task
 * is its task and *map the map that will take its slot. Reduces that
 * start before every map is done may otherwise hold every slot, waiting
 * for a map that can never run. */
dmr_attempt_t *dmr_job_preempt(dmr_job_t *job, uint32_t others, int all_barred,
                               int (*frees)(void *arg, const char *wid),
                               void *arg, dmr_task_t **task, dmr_task_t **map);
/* Starts a new attempt of t on worker wid at wall time now (mono: the
 * monotonic clock, for timeouts); returns its number. */
uint32_t dmr_job_start_attempt(dmr_job_t *job, dmr_task_t *t, const char *wid,
                               int64_t now, int64_t mono);
/* When attempt a of t, running until wall time `until` (its end, or
 * now), could begin its work, for timing it against others: its start,
 * or for a reduce that started before the last map was done (and ran
 * past it), when that map was done -- waiting for maps is not being
 * slow. */
int64_t dmr_job_work_began(const dmr_job_t *job, const dmr_task_t *t,
                           const dmr_attempt_t *a, int64_t until);
/* Running attempts of t. */
int dmr_task_running(const dmr_task_t *t);
/* 1 if an attempt of t failed on wid. */
int dmr_task_failed_on(const dmr_task_t *t, const char *wid);
/* The attempt numbered n of t, or NULL. */
dmr_attempt_t *dmr_task_attempt(dmr_task_t *t, uint32_t n);

/* Records the end of attempt n of t. ok: the task is done (a map records
 * where its output is). Otherwise the attempt failed (counted against
 * max_attempts) or was lost (not counted); the task goes back to idle.
 * Returns 1 when the job's state changed (finished or failed). */
int dmr_job_finish_attempt(dmr_job_t *job, dmr_task_t *t, uint32_t n,
                           dmr_att_state_t state, const char *error,
                           const char *endpoint, uint32_t max_attempts,
                           int64_t now);
/* The output of done map t is gone (its worker died, or a reducer could
 * not read it): its winning attempt becomes lost and the task idle. */
void dmr_job_map_output_lost(dmr_job_t *job, dmr_task_t *t, const char *why);
/* The location of every done map, as MAP_LOC items (room for job->nmap;
 * strings borrowed from job): what a reduce starts with. Returns how many
 * were filled. */
size_t dmr_job_done_maps(const dmr_job_t *job, dmr_msg_t *items);
/* What a reduce that read the map log up to position `from` learns next:
 * the current location of each map logged from there on, at most max
 * entries of the log (room for max items; strings borrowed from job). An
 * entry whose map is no longer done (its output was lost since) is left
 * out: the map is logged again when it is done again. *next is where the
 * next query starts. Returns how many items were filled. */
size_t dmr_job_maps_since(const dmr_job_t *job, uint64_t from, size_t max,
                          dmr_msg_t *items, uint64_t *next);
/* Appends an event (printf-style) at wall time now; returns it. */
const dmr_job_event_t *dmr_job_event(dmr_job_t *job, int64_t now,
                                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Counts a failed attempt against wid; returns 1 when that makes wid
 * blacklisted for the job (after `limit` failures). */
int dmr_job_count_failure(dmr_job_t *job, const char *wid, uint32_t limit);
int dmr_job_blacklisted(const dmr_job_t *job, const char *wid);
/* Keeps the counters of t's winning attempt (from its TASK_DONE). */
void dmr_task_set_counters(dmr_task_t *t, const dmr_msg_t *done);
/* Recomputes job->counters: the sum over done tasks of their winning
 * attempts, so re-executed and backup attempts never count twice. */
void dmr_job_sum_counters(dmr_job_t *job);

/* Fills a JOB_INFO message describing job. items lists every attempt when
 * attempts is set, then the events numbered from first_event on when
 * events is set (items and strings borrow from job; free with
 * dmr_job_info_free). */
void dmr_job_info(const dmr_job_t *job, int attempts, int events,
                  uint64_t first_event, dmr_msg_t *m);
void dmr_job_info_free(dmr_msg_t *m);

#endif
