/* sched.c -- which worker runs what: assignment, timeouts, speculation.
 *
 * Assignment: jobs in submission order; within a job, round-robin over
 * live workers with a free slot, so tasks spread out. A worker the job has
 * blacklisted gets nothing of it (unless every live worker is
 * blacklisted: a job never waits for a worker that cannot come), and a
 * task that failed on a worker goes elsewhere while there is an
 * elsewhere.
 *
 * Reduces start early, as Hadoop's "slowstart", and fetch map outputs
 * as maps finish. Besides its slots, a worker has one slot for a reduce
 * only, as a TaskTracker of Hadoop 1 had reduce slots apart from its map
 * slots: a reduce takes it as soon as the job runs, and fetches (and, for
 * a summing job, folds) each map output as it appears while every other
 * slot computes maps, so that little is left when the last map ends. A
 * worker's further reduces take ordinary slots, offered once no map waits
 * for a slot (every map runs or is done): an ordinary slot never goes to a
 * reduce while a map waits for one. A map can wait again later (its worker
 * died, its output was lost, it failed), and then every slot it may use can be
 * held by reduces that wait for it: so when a waiting map finds no slot, the
 * newest reduce attempt still fetching in an ordinary slot of a worker where
 * the map may run is stopped (killed, not counted as a failure; the reduce goes
 * back to idle and is offered again once no map waits), and the map takes
 * its slot. A reduce that is merging or reducing has all it needs and is
 * left alone.
 *
 * Hung attempts: an attempt whose work counter (reported on heartbeats)
 * has not grown for task_timeout_ms is killed and counted as failed.
 *
 * Speculation, after the MapReduce paper and Hadoop's LATE scheduler:
 * once a phase has no idle task left, a free slot may run a backup of the
 * running attempt expected to finish last, if it has run 1.5 times as
 * long as the phase's median finished attempt (and at least a second).
 * At most one backup per task at a time, and at most a tenth of the
 * phase's tasks (at least two) at once. The first attempt to finish wins;
 * master.c kills the other. A reduce that started before the last map
 * was done is timed from then: waiting for maps is not being slow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "master/master_int.h"

#define SPEC_MIN_MS 1000

static const char *s_kind(uint32_t kind)
{
    return kind == DMR_TASK_MAP ? "map" : "reduce";
}

int dmr_m_cancel(dmr_master_t *ms, dmr_job_t *job, dmr_task_t *t,
                 dmr_attempt_t *a, dmr_att_state_t state, const char *why)
{
    dmr_mworker_t *w = dmr_m_worker(ms, a->wid);
    if (w && w->alive && !w->restored) {
        dmr_msg_t m;
        dmr_msg_init(&m, DMR_MSG_CANCEL);
        m.job = job->id;
        m.kind = t->kind;
        m.task = t->index;
        m.attempt = a->n;
        dmr_m_send(ms, &w->peer, &m);
    }
    return dmr_m_finish(ms, job, t, a->n, state, why, NULL, NULL);
}

static void s_assign(dmr_master_t *ms, dmr_mworker_t *w, dmr_job_t *job,
                     dmr_task_t *t, int speculative)
{
    uint32_t att =
        dmr_job_start_attempt(job, t, w->wid, dmr_wall_ms(), dmr_now_ms());
    dmr_attempt_t *a = dmr_task_attempt(t, att);
    a->speculative = speculative;
    a->local = t->kind == DMR_TASK_MAP && job->store_in &&
               dmr_m_fs_local(ms, job, t->index, w->wid);
    dmr_m_log_attempt(ms, job, t, a, NULL, NULL);
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_TASK);
    m.job = job->id;
    m.kind = t->kind;
    m.task = t->index;
    m.attempt = att;
    m.hash = job->hash;
    m.name = job->name;
    m.nmap = job->nmap;
    m.nreduce = job->nreduce;
    m.flags = job->flags;
    m.params = job->params;
    m.nparams = job->nparams;
    m.output = job->output;
    dmr_msg_t file;
    if (t->kind == DMR_TASK_MAP) {
        const dmr_split_t *sp = &job->splits[t->index];
        const dmr_input_file_t *f = &job->files[sp->file];
        dmr_msg_init(&file, DMR_MSG_FILE_INFO);
        file.path = f->path;
        file.name = f->name;
        file.total = f->size;
        m.items = &file;
        m.nitems = 1;
        m.offset = sp->offset;
        m.length = sp->length;
    } else {
        /* The maps done so far, and where in the map log the reduce asks
         * the master for the others. */
        m.items = dmr_calloc(job->nmap + 1, sizeof *m.items);
        m.nitems = dmr_job_done_maps(job, m.items);
        m.offset = job->nmap_log;
    }
    int rc = dmr_net_send(ms->sock, &w->peer, &m);
    if (t->kind == DMR_TASK_REDUCE)
        free(m.items);
    w->running++;
    w->reduces += t->kind == DMR_TASK_REDUCE;
    if (rc) {
        dmr_warn("sched",
                 "cannot reach worker %s: %s; no tasks for it until "
                 "it is heard from again",
                 w->wid, dmr_strerror(rc));
        w->unreachable = 1;
        dmr_m_finish(ms, job, t, att, DMR_ATT_LOST, "worker unreachable", NULL,
                     NULL);
        return;
    }
    dmr_debug("sched", "job %llu %s %u attempt %u -> %s%s",
              (unsigned long long)job->id, s_kind(t->kind), t->index, att,
              w->wid, speculative ? " (backup)" : "");
}

/* Attempts in w's slots: its first reduce has a slot of its own. */
static uint32_t s_used(const dmr_mworker_t *w)
{
    return w->running - (w->reduces > 0);
}

static int s_up(const dmr_mworker_t *w)
{
    return w->alive && !w->restored && !w->unreachable;
}

/* Whether w has a free slot (for any task). */
static int s_usable(const dmr_mworker_t *w)
{
    return s_up(w) && s_used(w) < w->slots;
}

/* Live workers the job may use; *all_barred when every live worker is
 * blacklisted (then the blacklist is ignored). */
static uint32_t s_eligible(dmr_master_t *ms, const dmr_job_t *job,
                           int *all_barred)
{
    uint32_t live = 0, ok = 0;
    for (size_t i = 0; i < ms->nworkers; i++) {
        const dmr_mworker_t *w = &ms->workers[i];
        if (!w->alive || w->restored)
            continue;
        live++;
        ok += !dmr_job_blacklisted(job, w->wid);
    }
    *all_barred = live > 0 && ok == 0;
    return *all_barred ? live : ok;
}

/* An idle map of job reading a chunk that w holds (maps of store inputs
 * go where their data is, as in the MapReduce paper), or NULL. */
static dmr_task_t *s_local_map(dmr_master_t *ms, dmr_job_t *job,
                               const dmr_mworker_t *w)
{
    if (!job->store_in || job->maps_done >= job->nmap)
        return NULL;
    for (uint32_t i = 0; i < job->nmap; i++) {
        dmr_task_t *t = &job->maps[i];
        if (t->state == DMR_TASK_IDLE && !dmr_task_failed_on(t, w->wid) &&
            dmr_m_fs_local(ms, job, i, w->wid))
            return t;
    }
    return NULL;
}

/* Whether stopping a reduce on worker wid frees a slot there: not if it
 * is the worker's only reduce, which sits in the reduce slot. */
static int s_frees(void *arg, const char *wid)
{
    const dmr_mworker_t *w = dmr_m_worker(arg, wid);
    return w && w->reduces >= 2;
}

/* A map of job waits and found no slot: stops a reduce attempt that holds
 * one (see the file comment). Returns 1 if it did. */
static int s_preempt(dmr_master_t *ms, dmr_job_t *job, uint32_t others,
                     int all_barred)
{
    dmr_task_t *t = NULL, *map = NULL;
    dmr_attempt_t *a =
        dmr_job_preempt(job, others, all_barred, s_frees, ms, &t, &map);
    if (!a)
        return 0;
    char why[96];
    snprintf(why, sizeof why, "its slot went to map %u, which waited for one",
             map->index);
    dmr_m_event(ms, job,
                "map %u waits for a slot: stopping reduce %u attempt %u on "
                "%s, still fetching, to free one",
                map->index, t->index, a->n, a->wid);
    dmr_m_cancel(ms, job, t, a, DMR_ATT_KILLED, why);
    return 1;
}

void dmr_m_schedule(dmr_master_t *ms)
{
    for (size_t j = 0; j < ms->njobs; j++) {
        dmr_job_t *job = ms->jobs[j];
        if (job->state != DMR_JOB_RUNNING)
            continue;
        int all_barred;
        uint32_t eligible = s_eligible(ms, job, &all_barred);
        int progress = 1;
        while (progress) {
            progress = 0;
            for (size_t i = 0; i < ms->nworkers; i++) {
                dmr_mworker_t *w = &ms->workers[i];
                if (!s_up(w) ||
                    (!all_barred && dmr_job_blacklisted(job, w->wid)))
                    continue;
                dmr_task_t *t = NULL;
                if (s_used(w) < w->slots) {
                    t = s_local_map(ms, job, w);
                    if (!t)
                        t = dmr_job_next_task(job, w->wid, eligible - 1);
                } else if (!w->reduces) { /* its reduce slot */
                    t = dmr_job_next_reduce(job, w->wid, eligible - 1);
                }
                if (!t)
                    continue;
                s_assign(ms, w, job, t, 0);
                progress = 1;
                if (job->state != DMR_JOB_RUNNING)
                    break;
            }
            if (!progress && job->state == DMR_JOB_RUNNING)
                progress = s_preempt(ms, job, eligible - 1, all_barred);
        }
    }
}

/* ------------------------------------------------------------ timeouts */

static void s_timeouts(dmr_master_t *ms, dmr_job_t *job, int64_t now)
{
    int64_t limit =
        job->task_timeout_ms ? job->task_timeout_ms : ms->cfg->task_timeout_ms;
    if (limit <= 0)
        return;
    for (int kind = 0; kind < 2 && job->state == DMR_JOB_RUNNING; kind++) {
        uint32_t n = kind == DMR_TASK_MAP ? job->nmap : job->nreduce;
        for (uint32_t i = 0; i < n && job->state == DMR_JOB_RUNNING; i++) {
            dmr_task_t *t = dmr_job_task(job, (uint32_t)kind, i);
            for (size_t k = 0; k < t->natt; k++) {
                dmr_attempt_t *a = &t->att[k];
                if (a->state != DMR_ATT_RUNNING ||
                    now - a->progress_at <= limit)
                    continue;
                char why[128];
                snprintf(why, sizeof why,
                         "no progress for %lld ms (task timeout %lld ms)",
                         (long long)(now - a->progress_at), (long long)limit);
                dmr_m_event(ms, job, "%s %u attempt %u on %s hung: %s",
                            s_kind(t->kind), t->index, a->n, a->wid, why);
                dmr_m_cancel(ms, job, t, a, DMR_ATT_FAILED, why);
                if (job->state != DMR_JOB_RUNNING)
                    break;
            }
        }
    }
}

/* ---------------------------------------------------------- speculation */

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void s_speculate(dmr_master_t *ms, dmr_job_t *job, int64_t wall)
{
    int maps = job->maps_done < job->nmap;
    dmr_task_t *tasks = maps ? job->maps : job->reduces;
    uint32_t n = maps ? job->nmap : job->nreduce;
    if (n == 0)
        return;
    int64_t *dur = dmr_calloc(n, sizeof *dur);
    size_t ndur = 0;
    uint32_t backups = 0;
    for (uint32_t i = 0; i < n; i++) {
        const dmr_task_t *t = &tasks[i];
        if (t->state == DMR_TASK_IDLE) {
            free(dur);
            return; /* plain scheduling comes first */
        }
        for (size_t k = 0; k < t->natt; k++) {
            const dmr_attempt_t *a = &t->att[k];
            if (a->state == DMR_ATT_OK && ndur < n)
                dur[ndur++] =
                    a->end_ms - dmr_job_work_began(job, t, a, a->end_ms);
            if (a->state == DMR_ATT_RUNNING && a->speculative)
                backups++;
        }
    }
    uint32_t cap = n / 10 > 2 ? n / 10 : 2;
    if (ndur == 0 || backups >= cap) {
        free(dur);
        return;
    }
    qsort(dur, ndur, sizeof *dur, s_cmp_i64);
    int64_t median = dur[ndur / 2];
    free(dur);
    int64_t threshold = median + median / 2;
    if (threshold < SPEC_MIN_MS)
        threshold = SPEC_MIN_MS;

    /* The running attempt expected to finish last. */
    dmr_task_t *best = NULL;
    dmr_attempt_t *slow = NULL;
    double best_left = 0;
    for (uint32_t i = 0; i < n; i++) {
        dmr_task_t *t = &tasks[i];
        if (t->state != DMR_TASK_RUNNING || dmr_task_running(t) != 1)
            continue;
        dmr_attempt_t *a = NULL;
        for (size_t k = 0; k < t->natt; k++)
            if (t->att[k].state == DMR_ATT_RUNNING)
                a = &t->att[k];
        int64_t elapsed = wall - dmr_job_work_began(job, t, a, wall);
        if (elapsed < threshold)
            continue;
        double p = a->ppm / 1e6;
        if (p > 0.95)
            continue;
        double left =
            p >= 0.01 ? (double)elapsed * (1 - p) / p : (double)elapsed * 100;
        if (!best || left > best_left)
            best = t, slow = a, best_left = left;
    }
    if (!best)
        return;
    int all_barred;
    s_eligible(ms, job, &all_barred);
    dmr_mworker_t *to = NULL;
    for (size_t i = 0; i < ms->nworkers; i++) {
        dmr_mworker_t *w = &ms->workers[i];
        if (!s_usable(w) || !strcmp(w->wid, slow->wid) ||
            (!all_barred && dmr_job_blacklisted(job, w->wid)) ||
            dmr_task_failed_on(best, w->wid))
            continue;
        if (!to || w->slots - s_used(w) > to->slots - s_used(to))
            to = w;
    }
    if (!to)
        return;
    dmr_m_event(
        ms, job,
        "%s %u is slow (attempt %u on %s at %u%% after %.1f s; median "
        "%.1f s): backup attempt %u on %s",
        s_kind(best->kind), best->index, slow->n, slow->wid, slow->ppm / 10000,
        (double)(wall - dmr_job_work_began(job, best, slow, wall)) / 1000.0,
        (double)median / 1000.0, (uint32_t)best->natt + 1, to->wid);
    s_assign(ms, to, job, best, 1);
}

void dmr_m_watch_tasks(dmr_master_t *ms)
{
    int64_t now = dmr_now_ms(), wall = dmr_wall_ms();
    for (size_t j = 0; j < ms->njobs; j++) {
        dmr_job_t *job = ms->jobs[j];
        if (job->state != DMR_JOB_RUNNING)
            continue;
        s_timeouts(ms, job, now);
        if (job->state == DMR_JOB_RUNNING && job->speculative)
            s_speculate(ms, job, wall);
    }
}
