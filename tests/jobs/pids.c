/* pids.c -- wordcount that logs which process ran each task attempt.
 *
 * For tests that count executions of tasks and watch them run in parallel.
 * Every attempt that reaches teardown appends one line to DIR/log:
 *
 *     KIND TASK ATTEMPT PID START_MS END_MS FIRST_MS
 *
 * KIND is "map" or "reduce"; START_MS (taken in setup), END_MS (taken in
 * teardown) and FIRST_MS (when the attempt's first map or reduce call
 * began, 0 if it made none) are CLOCK_REALTIME in milliseconds. (A reduce
 * may start before the last map ends, but calls reduce only once it has
 * every map output: FIRST_MS shows when.) The line goes out in a single
 * write(2) to a file opened with O_APPEND, so lines from concurrent
 * processes never interleave. An attempt that dies before teardown logs
 * nothing.
 *
 * Parameters:
 *     -D pidlog=DIR   required; DIR is created if missing (not its parents)
 *     -D sleep_ms=N   sleep N ms in the setup of map tasks, so that maps
 *                     overlap visibly in time; default 0, at most 3600000
 *     -D reduce_sleep_ms=N  the same in the setup of reduce tasks, which
 *                     puts off their fetches (a reduce may otherwise start
 *                     at once, in its worker's reduce slot); default 0
 *     -D slow_map=T   make map task T a straggler: its first attempt (only)
 *     -D slow_ms=N    sleeps N ms more (default 5000) in setup, so a
 *                     speculative backup can overtake it
 *     -D slow_calls=K or spread over its first K map calls instead, so
 *                     that it is slow but makes progress (and no task
 *                     timeout takes it for hung); default 0: in setup
 *
 * Apart from that it is jobs/wordcount.c: a word is a maximal run of
 * [A-Za-z], values are decimal counts, combine and reduce are the same sum,
 * so the output is exactly wordcount's. It does not set
 * DMR_JOB_COMBINE_SUM, so it takes the general combining path; pidsum.c
 * is the same job with the flag. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "jobs/dmr_job.h"
#include "tests/jobs/wc.h"

/* Largest sleep_ms accepted: an hour. */
#define PIDS_MAX_SLEEP_MS 3600000u

/* The attempt's record, begun in setup; ctx->user points to it. */
typedef struct {
    int fd;             /* DIR/log, opened for appending */
    pid_t pid;          /* this task process */
    uint64_t start_ms;  /* when setup began */
    uint64_t first_ms;  /* when the first map or reduce call began; 0 */
    unsigned slow_left; /* map calls still to slow down */
    unsigned slow_each; /* ms each of them sleeps */
} pids_t;

/* ------------------------------------------------------------- logging */

static uint64_t s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Opens DIR/log for appending, creating DIR if missing. The log is opened
 * here rather than in teardown so that a bad DIR fails the task clearly. */
static int s_setup(dmr_ctx *ctx)
{
    uint64_t start = s_now_ms();
    const char *dir = dmr_param(ctx, "pidlog");
    unsigned sleep_ms, reduce_sleep_ms, slow_map, slow_ms, slow_calls;
    if (!dir || dir[0] == '\0') {
        dmr_fail(ctx, "pids: -D pidlog=DIR is required");
        return -1;
    }
    if (tj_param_uint(ctx, "pids", "sleep_ms", 0, PIDS_MAX_SLEEP_MS,
                      &sleep_ms) != 0 ||
        tj_param_uint(ctx, "pids", "reduce_sleep_ms", 0, PIDS_MAX_SLEEP_MS,
                      &reduce_sleep_ms) != 0 ||
        tj_param_uint(ctx, "pids", "slow_map", UINT32_MAX, PIDS_MAX_SLEEP_MS,
                      &slow_map) != 0 ||
        tj_param_uint(ctx, "pids", "slow_ms", 5000, PIDS_MAX_SLEEP_MS,
                      &slow_ms) != 0 ||
        tj_param_uint(ctx, "pids", "slow_calls", 0, PIDS_MAX_SLEEP_MS,
                      &slow_calls) != 0)
        return -1;

    char path[PATH_MAX];
    char msg[PATH_MAX + 128];
    if ((size_t)snprintf(path, sizeof path, "%s/log", dir) >= sizeof path) {
        dmr_fail(ctx, "pids: -D pidlog=DIR is too long");
        return -1;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        snprintf(msg, sizeof msg, "pids: cannot create %s: %s", dir,
                 strerror(errno));
        dmr_fail(ctx, msg);
        return -1;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        snprintf(msg, sizeof msg, "pids: cannot open %s: %s", path,
                 strerror(errno));
        dmr_fail(ctx, msg);
        return -1;
    }
    pids_t *p = malloc(sizeof *p);
    if (!p) {
        close(fd);
        dmr_fail(ctx, "pids: out of memory");
        return -1;
    }
    p->fd = fd;
    p->pid = getpid();
    p->start_ms = start;
    p->first_ms = 0;
    p->slow_left = 0;
    p->slow_each = 0;
    ctx->user = p;

    if (ctx->kind == DMR_KIND_MAP && ctx->task == slow_map &&
        ctx->attempt == 1) {
        if (slow_calls > 0) {
            p->slow_left = slow_calls;
            p->slow_each = slow_ms / slow_calls;
        } else {
            sleep_ms += slow_ms;
        }
    }
    if (ctx->kind == DMR_KIND_MAP && sleep_ms > 0)
        tj_sleep_ms(sleep_ms);
    if (ctx->kind == DMR_KIND_REDUCE && reduce_sleep_ms > 0)
        tj_sleep_ms(reduce_sleep_ms);
    return 0;
}

/* Appends the attempt's line in one write. teardown cannot fail the task,
 * so a failed write is only reported on stderr; the test will miss the
 * line. */
static void s_teardown(dmr_ctx *ctx)
{
    pids_t *p = ctx->user;
    if (!p)
        return;
    char line[160];
    int len = snprintf(
        line, sizeof line, "%s %u %u %ld %llu %llu %llu\n",
        ctx->kind == DMR_KIND_MAP ? "map" : "reduce", ctx->task, ctx->attempt,
        (long)p->pid, (unsigned long long)p->start_ms,
        (unsigned long long)s_now_ms(), (unsigned long long)p->first_ms);
    ssize_t n = write(p->fd, line, (size_t)len);
    if (n != (ssize_t)len)
        fprintf(stderr, "pids: cannot append to the log: %s\n",
                n < 0 ? strerror(errno) : "short write");
    close(p->fd);
    free(p);
    ctx->user = NULL;
}

/* Notes when the attempt's first map or reduce call began. */
static void s_first_call(dmr_ctx *ctx)
{
    pids_t *p = ctx->user;
    if (p && !p->first_ms)
        p->first_ms = s_now_ms();
}

static int s_map(dmr_ctx *ctx, const dmr_record *in)
{
    pids_t *p = ctx->user;
    s_first_call(ctx);
    if (p && p->slow_left > 0) {
        p->slow_left--;
        tj_sleep_ms(p->slow_each);
    }
    return wc_map(ctx, in);
}

static int s_reduce(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    s_first_call(ctx);
    return wc_sum(ctx, key, vals);
}

#ifndef PIDS_NAME /* pidsum.c builds this again as a summing job */
#define PIDS_NAME "pids"
#define PIDS_FLAGS 0
#endif

DMR_JOB_DEFINE(.name = PIDS_NAME, .flags = PIDS_FLAGS, .setup = s_setup,
               .teardown = s_teardown, .map = s_map, .combine = wc_sum,
               .reduce = s_reduce);
