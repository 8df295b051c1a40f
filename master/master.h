/* master.h -- the dmr master daemon.
 *
 * One poll loop over one ROUTER socket that workers and clients connect
 * to, plus a cron tick (every 100 ms) that detects dead workers, times out
 * hung attempts, launches speculative backups and hands idle tasks to
 * workers with free slots. Job and task state is journaled in the data
 * directory, so a master restarted there resumes every unfinished job.
 * All state lives in one struct owned by the loop; no threads. */
#ifndef DMR_MASTER_H
#define DMR_MASTER_H

typedef struct {
    const char *bind;          /* e.g. "tcp://0.0.0.0:7070" */
    const char *data_dir;      /* job objects and master state */
    const char *endpoint_file; /* if set, the bound endpoint is written here */
    int heartbeat_ms;          /* interval workers are told to use */
    int dead_after_ms;         /* silence after which a worker is dead */
    int max_attempts;          /* failed attempts before a job fails */
    int task_timeout_ms;       /* attempt without progress this long: hung */
    int blacklist_after;       /* failures on one worker that bar it */
    int phi;                   /* 1: phi-accrual detector, 0: fixed timeout */
    double phi_threshold;      /* suspicion at which a worker is dead */
    int write_lease_ms;        /* a silent store writer loses its path */
} dmr_master_config_t;

/* Runs the master until SIGINT or SIGTERM. Returns 0 on a clean stop, or a
 * negative DMR_E* code when it cannot start (bind failure, bad data dir). */
int dmr_master_run(const dmr_master_config_t *cfg);

#endif
