/* master_int.h -- state shared by the master's source files.
 *
 * master.c runs the loop, the worker registry and the client service;
 * sched.c hands tasks to workers, cancels attempts, times out hung ones
 * and launches speculative backups; recover.c writes the journal and
 * replays it on start. All of it runs on the master's one thread. */
#ifndef DMR_MASTER_INT_H
#define DMR_MASTER_INT_H

#include <stdint.h>

#include "common/journal.h"
#include "common/net.h"
#include "master/detector.h"
#include "master/job.h"
#include "master/master.h"
#include "master/ns.h"

typedef struct {
    char wid[32];
    uint64_t inc;    /* incarnation: bumps when a worker re-registers */
    dmr_peer_t peer; /* routing id on the master's ROUTER */
    char *endpoint;  /* where its shuffle server listens */
    char *host;
    int64_t pid;
    uint32_t slots;
    uint32_t running; /* attempts assigned and not finished */
    uint32_t reduces; /* of which reduce attempts (the first has its own
                       * slot: sched.c) */
    int alive;
    int restored;    /* known from the journal, not registered yet */
    int unreachable; /* a send failed; no tasks until we hear from it */
    char node[72];   /* its data directory's id (worker/node-id) */
    dmr_hb_t hb;     /* heartbeat history; hb.last: last heard, monotonic */
} dmr_mworker_t;

typedef struct {
    uint64_t chunk;
    char wid[32];    /* the worker making the copy */
    int64_t started; /* monotonic ms */
} dmr_m_copy_t;

/* A reduce's MAP_QUERY held until a map finishes (master.c). */
typedef struct {
    dmr_peer_t peer;
    uint64_t job;
    uint32_t task, attempt;
    char wid[32];
    uint64_t offset;
    int64_t until; /* monotonic ms: answered by then, news or not */
} dmr_m_held_t;

typedef struct {
    const dmr_master_config_t *cfg;
    void *zctx;
    void *sock;
    char endpoint[256];
    dmr_mworker_t *workers;
    size_t nworkers;
    uint32_t next_wid;
    dmr_job_t **jobs;
    size_t njobs;
    uint64_t next_job;
    char *jobs_dir;       /* data_dir/jobs: job objects by hash */
    dmr_journal_t *jnl;   /* data_dir/journal */
    int replaying;        /* no journal writes, no messages */
    dmr_ns_t *ns;         /* the chunk store's namespace */
    dmr_m_copy_t *copies; /* chunk copies in flight */
    size_t ncopies;
    size_t place_next;  /* rotation for replica placement */
    dmr_m_held_t *held; /* MAP_QUERYs waiting for news */
    size_t nheld, capheld;
} dmr_master_t;

/* master.c */
dmr_mworker_t *dmr_m_worker(dmr_master_t *ms, const char *wid);
dmr_job_t *dmr_m_job(dmr_master_t *ms, uint64_t id);
void dmr_m_send(dmr_master_t *ms, const dmr_peer_t *to, const dmr_msg_t *m);
void dmr_m_reply_error(dmr_master_t *ms, const dmr_peer_t *to, int status,
                       const char *text);
/* Records an event in the job's log, the journal and the master's log. */
void dmr_m_event(dmr_master_t *ms, dmr_job_t *job, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends attempt n of t with state; journals it; cancels the other running
 * attempts when it won; handles the job's end. Returns 1 if the job
 * ended. */
int dmr_m_finish(dmr_master_t *ms, dmr_job_t *job, dmr_task_t *t, uint32_t n,
                 dmr_att_state_t state, const char *error, const char *endpoint,
                 const dmr_msg_t *counters);
/* Cleans up a job that just succeeded or failed: _SUCCESS, _temporary,
 * the workers' intermediate files, the journal. */
void dmr_m_job_finished(dmr_master_t *ms, dmr_job_t *job);
/* The job running the stage after job's, or NULL (none yet, or job is
 * the last stage). */
dmr_job_t *dmr_m_next_stage(const dmr_master_t *ms, const dmr_job_t *job);
/* The output of done map t is gone: journal it and make it idle. */
void dmr_m_map_lost(dmr_master_t *ms, dmr_job_t *job, dmr_task_t *t,
                    const char *why);

/* sched.c */
void dmr_m_schedule(dmr_master_t *ms);
/* Task timeouts and speculative backups; from the cron. */
void dmr_m_watch_tasks(dmr_master_t *ms);
/* Stops attempt a of t: CANCEL to its worker, then dmr_m_finish. */
int dmr_m_cancel(dmr_master_t *ms, dmr_job_t *job, dmr_task_t *t,
                 dmr_attempt_t *a, dmr_att_state_t state, const char *why);

/* fs.c */
/* Handles a chunk-store message; 0 if m is not one. */
int dmr_m_fs_dispatch(dmr_master_t *ms, const dmr_peer_t *from,
                      const dmr_msg_t *m);
/* The replicas a registering worker reports. */
void dmr_m_fs_register(dmr_master_t *ms, dmr_mworker_t *w, const dmr_msg_t *m);
void dmr_m_fs_worker_lost(dmr_master_t *ms, dmr_mworker_t *w);
/* Expiry, garbage, surplus and re-replication. */
void dmr_m_fs_cron(dmr_master_t *ms);
/* A dmr:/ input of a submitted job: its size and chunk size from the
 * namespace (item->total, item->length). */
int dmr_m_fs_input(dmr_master_t *ms, dmr_msg_t *item, char *err, size_t errlen);
/* Commits a reduce attempt's output file in the store. */
int dmr_m_fs_commit_part(dmr_master_t *ms, const dmr_job_t *job, uint32_t task,
                         uint32_t attempt, char *err, size_t errlen);
/* A store-output job ended: _temporary goes, _SUCCESS comes. */
void dmr_m_fs_job_end(dmr_master_t *ms, dmr_job_t *job);
/* Removes dmr:/PATH and everything under it from the store, journaled. */
void dmr_m_fs_remove_tree(dmr_master_t *ms, const char *path);
/* 1 if map task `map` of job reads a chunk with a replica on wid. */
int dmr_m_fs_local(dmr_master_t *ms, const dmr_job_t *job, uint32_t map,
                   const char *wid);

/* recover.c */
/* Opens data_dir/journal and replays it into ms. */
int dmr_m_recover(dmr_master_t *ms);
void dmr_m_log_job(dmr_master_t *ms, const dmr_job_t *job);
void dmr_m_log_attempt(dmr_master_t *ms, const dmr_job_t *job,
                       const dmr_task_t *t, const dmr_attempt_t *a,
                       const char *endpoint, const dmr_msg_t *counters);
void dmr_m_log_event(dmr_master_t *ms, const dmr_job_t *job,
                     const dmr_job_event_t *e);
void dmr_m_log_end(dmr_master_t *ms, const dmr_job_t *job);
void dmr_m_log_file(dmr_master_t *ms, const dmr_ns_file_t *f);
void dmr_m_log_fs_rm(dmr_master_t *ms, const char *path, int recursive);
void dmr_m_log_fs_mv(dmr_master_t *ms, const char *from, const char *to);
void dmr_m_log_ids(dmr_master_t *ms, uint64_t limit);
void dmr_m_log_worker(dmr_master_t *ms, const char *wid, const char *node);

#endif
