/* worker.h -- the dmr worker daemon.
 *
 * One poll loop over a DEALER to the master, a ROUTER serving map output
 * to reducers (the shuffle server), and one pipe per running task. Each
 * task attempt runs in a child process (`dmr task`, see task.h), so job
 * code that crashes takes down only its attempt. */
#ifndef DMR_WORKER_H
#define DMR_WORKER_H

typedef struct {
    const char *master;    /* master endpoint, tcp://HOST:PORT */
    const char *advertise; /* host other machines use to reach us, or NULL */
    const char *bind;      /* shuffle server bind endpoint */
    const char *data_dir;  /* map outputs, task logs, job object cache */
    int slots;             /* tasks run at once */
    int heartbeat_ms;      /* heartbeat interval; 0: as the master says */
} dmr_worker_config_t;

/* Runs the worker until SIGINT or SIGTERM. Returns 0 on a clean stop, or a
 * negative DMR_E* code when it cannot start. */
int dmr_worker_run(const dmr_worker_config_t *cfg);

#endif
