/* task.h -- one task attempt, run in a child process of the worker.
 *
 * The worker writes the TASK message to <attempt dir>/task.msg and runs
 * `dmr task ATTEMPT_DIR JOB_OBJECT DATA_DIR`. The child loads the job
 * object, runs the map or reduce, commits its output, and writes one
 * TASK_DONE message (status, error, counters) to its stdout. Its stderr
 * goes to <attempt dir>/stderr, whose tail the worker reports when the
 * child dies. Map output is committed as
 * <data>/jobs/<job>/map-<task>-<att>.run; reduce output as <output>/part-NNNNN,
 * via a temporary name and rename. */
#ifndef DMR_WORKER_TASK_H
#define DMR_WORKER_TASK_H

#include <stdint.h>

/* Entry point of `dmr task`; returns the process exit status. */
int dmr_task_main(int argc, char **argv);

/* Path of a committed map output (caller frees). */
char *dmr_task_map_output(const char *data_dir, uint64_t job, uint32_t task,
                          uint32_t attempt);

#endif
