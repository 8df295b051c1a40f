/* crashy.c -- wordcount that crashes or stalls at random, for fault tests.
 *
 * In the spirit of the crash test of MIT 6.824's MapReduce lab: every task
 * attempt decides on its own, in setup, whether to misbehave. With
 * probability crash_pct/2 % it exits with status 1, with probability
 * crash_pct/2 % it sleeps for a random time, otherwise it behaves. The PRNG
 * is seeded from the pid, the clock and the task index, so a re-execution
 * of a task makes a fresh decision.
 *
 * The misbehaviour happens at the start of one map (or reduce) call chosen
 * at random among the attempt's first 20. When the attempt makes fewer calls
 * than that (a split of one line, a reduce task with few or no keys), it
 * happens in teardown instead, after the last call, so that every attempt
 * misbehaves at the chosen rate whatever its size. combine never
 * misbehaves. A line on stderr says what is happening, e.g.
 *
 *     crashy: exiting on purpose in map task 3 attempt 1
 *     crashy: sleeping 1234 ms on purpose in reduce task 0 attempt 2
 *
 * Parameters (whole decimal numbers; anything else fails setup):
 *     -D crash_pct=33        0..100
 *     -D sleep_min_ms=500    0..3600000
 *     -D sleep_max_ms=3000   0..3600000, not less than sleep_min_ms
 *
 * Apart from that it is jobs/wordcount.c: a word is a maximal run of
 * [A-Za-z], values are decimal counts, combine and reduce are the same sum,
 * so the output is exactly wordcount's. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jobs/dmr_job.h"
#include "tests/jobs/wc.h"

/* How many calls the misbehaving one is chosen among. */
#define CRASHY_CALLS 20
/* Largest sleep_min_ms / sleep_max_ms accepted: an hour. */
#define CRASHY_MAX_SLEEP_MS 3600000u

enum { ACT_NONE, ACT_EXIT, ACT_SLEEP };

/* The attempt's decision, made in setup; ctx->user points to it. */
typedef struct {
    int action;        /* ACT_NONE, ACT_EXIT or ACT_SLEEP; NONE once done */
    unsigned sleep_ms; /* how long ACT_SLEEP sleeps */
    unsigned at_call;  /* index of the map/reduce call that misbehaves */
    unsigned calls;    /* map/reduce calls made so far */
} crashy_t;

/* --------------------------------------------------------- misbehaving */

/* Carries out the attempt's decision, once. */
static void s_misbehave(dmr_ctx *ctx, crashy_t *c)
{
    const char *kind = ctx->kind == DMR_KIND_MAP ? "map" : "reduce";
    if (c->action == ACT_EXIT) {
        fprintf(stderr, "crashy: exiting on purpose in %s task %u attempt %u\n",
                kind, ctx->task, ctx->attempt);
        exit(1);
    }
    if (c->action == ACT_SLEEP) {
        fprintf(stderr,
                "crashy: sleeping %u ms on purpose in %s task %u attempt %u\n",
                c->sleep_ms, kind, ctx->task, ctx->attempt);
        tj_sleep_ms(c->sleep_ms);
    }
    c->action = ACT_NONE;
}

/* Counts one map/reduce call and misbehaves if it is the chosen one. */
static void s_tick(dmr_ctx *ctx)
{
    crashy_t *c = ctx->user;
    if (c->calls++ == c->at_call)
        s_misbehave(ctx, c);
}

static int s_setup(dmr_ctx *ctx)
{
    unsigned pct, min_ms, max_ms;
    if (tj_param_uint(ctx, "crashy", "crash_pct", 33, 100, &pct))
        return -1;
    if (tj_param_uint(ctx, "crashy", "sleep_min_ms", 500, CRASHY_MAX_SLEEP_MS,
                      &min_ms))
        return -1;
    if (tj_param_uint(ctx, "crashy", "sleep_max_ms", 3000, CRASHY_MAX_SLEEP_MS,
                      &max_ms))
        return -1;
    if (min_ms > max_ms) {
        char msg[128];
        snprintf(msg, sizeof msg,
                 "crashy: -D sleep_min_ms=%u is more than -D sleep_max_ms=%u",
                 min_ms, max_ms);
        dmr_fail(ctx, msg);
        return -1;
    }
    crashy_t *c = calloc(1, sizeof *c);
    if (!c) {
        dmr_fail(ctx, "crashy: out of memory");
        return -1;
    }

    /* A fresh seed per attempt: another attempt of this task runs in
     * another process, at another time. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t seed = (uint64_t)getpid() ^ (uint64_t)now.tv_sec ^
                    (uint64_t)now.tv_nsec ^ ctx->task;
    unsigned short rng[3] = {(unsigned short)seed, (unsigned short)(seed >> 16),
                             (unsigned short)(seed >> 32)};

    /* Out of 200, so that odd percentages split evenly between the two. */
    long roll = nrand48(rng) % 200;
    if (roll < (long)pct)
        c->action = ACT_EXIT;
    else if (roll < 2 * (long)pct)
        c->action = ACT_SLEEP;
    c->at_call = (unsigned)(nrand48(rng) % CRASHY_CALLS);
    c->sleep_ms = min_ms + (unsigned)(nrand48(rng) % (max_ms - min_ms + 1));
    ctx->user = c;
    return 0;
}

/* Also where a pending misbehaviour happens when the attempt made fewer
 * calls than the chosen index. */
static void s_teardown(dmr_ctx *ctx)
{
    crashy_t *c = ctx->user;
    if (!c)
        return;
    s_misbehave(ctx, c);
    free(c);
    ctx->user = NULL;
}

static int s_map(dmr_ctx *ctx, const dmr_record *in)
{
    s_tick(ctx);
    return wc_map(ctx, in);
}

static int s_reduce(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    s_tick(ctx);
    return wc_sum(ctx, key, vals);
}

DMR_JOB_DEFINE(.name = "crashy", .setup = s_setup, .teardown = s_teardown,
               .map = s_map, .combine = wc_sum, .reduce = s_reduce);
