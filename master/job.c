/* job.c -- the master's job table: jobs, tasks and attempts. */
#include "master/job.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

const char *dmr_job_state_name(dmr_job_state_t s)
{
    switch (s) {
    case DMR_JOB_RUNNING: return "running";
    case DMR_JOB_SUCCEEDED: return "succeeded";
    case DMR_JOB_FAILED: return "failed";
    }
    return "?";
}

const char *dmr_att_state_name(dmr_att_state_t s)
{
    switch (s) {
    case DMR_ATT_RUNNING: return "running";
    case DMR_ATT_OK: return "ok";
    case DMR_ATT_FAILED: return "failed";
    case DMR_ATT_LOST: return "lost";
    case DMR_ATT_KILLED: return "killed";
    }
    return "?";
}

static int s_param_u64(const dmr_msg_t *m, const char *key, uint64_t def,
                       uint64_t max, uint64_t *out, char *err, size_t errlen)
{
    const char *v = dmr_msg_param(m, key);
    *out = def;
    if (!v)
        return 0;
    if (dmr_parse_u64(v, out) != 0 || *out > max) {
        snprintf(err, errlen, "-D %s=%s: expected an integer from 0 to %llu",
                 key, v, (unsigned long long)max);
        return DMR_EINVAL;
    }
    return 0;
}

int dmr_job_new(uint64_t id, const dmr_msg_t *m, int64_t now, dmr_job_t **out,
                char *err, size_t errlen)
{
    uint64_t split_mb, whole, spec, timeout, sort_mb, reduce_mb, level, lanes;
    if (s_param_u64(m, "split_mb", 64, 1u << 20, &split_mb, err, errlen) ||
        s_param_u64(m, "whole_files", 0, 1, &whole, err, errlen) ||
        s_param_u64(m, "speculative", 1, 1, &spec, err, errlen) ||
        s_param_u64(m, "task_timeout_ms", 0, 86400000, &timeout, err, errlen) ||
        s_param_u64(m, "sort_mb", 100, 1u << 16, &sort_mb, err, errlen) ||
        s_param_u64(m, "reduce_mb", 100, 1u << 16, &reduce_mb, err, errlen) ||
        s_param_u64(m, "compress", 1, 9, &level, err, errlen) ||
        s_param_u64(m, "fetchers", 4, 64, &lanes, err, errlen))
        return DMR_EINVAL;
    if (split_mb == 0) {
        snprintf(err, errlen, "-D split_mb=0: a split needs at least 1 MiB");
        return DMR_EINVAL;
    }
    if (sort_mb == 0 || reduce_mb == 0) {
        snprintf(err, errlen, "-D %s=0: it needs at least 1 MiB",
                 sort_mb ? "reduce_mb" : "sort_mb");
        return DMR_EINVAL;
    }
    if (lanes == 0) {
        snprintf(err, errlen, "-D fetchers=0: a reducer needs at least one");
        return DMR_EINVAL;
    }
    uint64_t stage, stages, prev;
    if (s_param_u64(m, "dmr.stage", 0, 63, &stage, err, errlen) ||
        s_param_u64(m, "dmr.stages", 1, 64, &stages, err, errlen) ||
        s_param_u64(m, "dmr.prev", 0, UINT64_MAX, &prev, err, errlen))
        return DMR_EINVAL;
    if (stages == 0 || stage >= stages) {
        snprintf(err, errlen, "stage %llu of a %llu-stage job",
                 (unsigned long long)stage, (unsigned long long)stages);
        return DMR_EINVAL;
    }
    const char *final = dmr_msg_param(m, "dmr.output");
    if (stages > 1 && (!final || !*final)) {
        snprintf(err, errlen, "a multi-stage job needs -D dmr.output");
        return DMR_EINVAL;
    }
    if (m->nreduce == 0 || m->nreduce > 100000) {
        snprintf(err, errlen, "the number of reduce tasks must be 1..100000");
        return DMR_EINVAL;
    }
    for (size_t i = 0; i < m->nitems; i++) {
        if (m->items[i].type != DMR_MSG_FILE_INFO) {
            snprintf(err, errlen, "input list holds a %s item",
                     dmr_msg_type_name(m->items[i].type));
            return DMR_EINVAL;
        }
    }

    dmr_job_t *job = dmr_calloc(1, sizeof *job);
    job->id = id;
    job->name = dmr_strdup(m->name);
    job->hash = dmr_strdup(m->hash);
    job->output = dmr_strdup(m->output);
    job->store_out = !strncmp(job->output, "dmr:", 4);
    job->nreduce = m->nreduce;
    job->flags = m->flags;
    job->nparams = m->nparams;
    job->params = dmr_calloc(m->nparams, sizeof *job->params);
    for (size_t i = 0; i < m->nparams; i++) {
        job->params[i].key = dmr_strdup(m->params[i].key);
        job->params[i].val = dmr_strdup(m->params[i].val);
    }
    job->nfiles = m->nitems;
    job->files = dmr_calloc(m->nitems, sizeof *job->files);
    for (size_t i = 0; i < m->nitems; i++) {
        job->files[i].path = dmr_strdup(m->items[i].path);
        job->files[i].name = dmr_strdup(m->items[i].name);
        job->files[i].size = m->items[i].total;
        job->files[i].block = m->items[i].length;
        job->store_in |= !strncmp(job->files[i].path, "dmr:", 4);
    }
    size_t nsplits = 0;
    int rc = dmr_input_cut(job->files, job->nfiles, split_mb << 20, (int)whole,
                           &job->splits, &nsplits);
    if (rc || nsplits > 1000000) {
        snprintf(err, errlen, "cannot cut the input into splits: %s",
                 rc ? dmr_strerror(rc) : "more than a million splits");
        dmr_job_destroy(&job);
        return DMR_EINVAL;
    }
    job->nmap = (uint32_t)nsplits;
    job->maps = dmr_calloc(job->nmap, sizeof *job->maps);
    for (uint32_t i = 0; i < job->nmap; i++)
        job->maps[i] = (dmr_task_t){.kind = DMR_TASK_MAP, .index = i};
    job->reduces = dmr_calloc(job->nreduce, sizeof *job->reduces);
    for (uint32_t i = 0; i < job->nreduce; i++)
        job->reduces[i] = (dmr_task_t){.kind = DMR_TASK_REDUCE, .index = i};
    job->state = DMR_JOB_RUNNING;
    job->start_ms = now;
    job->speculative = (int)spec;
    job->task_timeout_ms = (int64_t)timeout;
    job->stage = (uint32_t)stage;
    job->stages = (uint32_t)stages;
    job->prev = prev;
    job->final_output = job->output;
    for (size_t i = 0; i < job->nparams; i++)
        if (!strcmp(job->params[i].key, "dmr.output"))
            job->final_output = job->params[i].val;
    *out = job;
    return 0;
}

static void s_counters_free(dmr_counter_t *c, size_t n);

static void s_task_free(dmr_task_t *t)
{
    for (size_t i = 0; i < t->natt; i++)
        free(t->att[i].error);
    free(t->att);
    free(t->out_endpoint);
    s_counters_free(t->ctr, t->nctr);
}

void dmr_job_destroy(dmr_job_t **jp)
{
    dmr_job_t *job = *jp;
    if (!job)
        return;
    for (uint32_t i = 0; i < job->nmap; i++)
        s_task_free(&job->maps[i]);
    for (uint32_t i = 0; job->reduces && i < job->nreduce; i++)
        s_task_free(&job->reduces[i]);
    for (size_t i = 0; i < job->nparams; i++) {
        free((char *)job->params[i].key);
        free((char *)job->params[i].val);
    }
    for (size_t i = 0; i < job->ncounters; i++)
        free((char *)job->counters[i].name);
    for (size_t i = 0; i < job->nevents; i++)
        free(job->events[i].text);
    free(job->events);
    free(job->wstats);
    free(job->map_log);
    dmr_input_files_free(job->files, job->nfiles);
    free(job->counters);
    free(job->params);
    free(job->splits);
    free(job->maps);
    free(job->reduces);
    free(job->name);
    free(job->hash);
    free(job->output);
    free(job->error);
    free(job);
    *jp = NULL;
}

dmr_task_t *dmr_job_task(dmr_job_t *job, uint32_t kind, uint32_t index)
{
    if (kind == DMR_TASK_MAP && index < job->nmap)
        return &job->maps[index];
    if (kind == DMR_TASK_REDUCE && index < job->nreduce)
        return &job->reduces[index];
    return NULL;
}

int dmr_task_failed_on(const dmr_task_t *t, const char *wid)
{
    for (size_t i = 0; i < t->natt; i++)
        if (t->att[i].state == DMR_ATT_FAILED && !strcmp(t->att[i].wid, wid))
            return 1;
    return 0;
}

/* Distinct workers other than wid on which t failed. */
static uint32_t s_failed_elsewhere(const dmr_task_t *t, const char *wid)
{
    uint32_t n = 0;
    for (size_t i = 0; i < t->natt; i++) {
        const dmr_attempt_t *a = &t->att[i];
        if (a->state != DMR_ATT_FAILED || !strcmp(a->wid, wid))
            continue;
        size_t j = 0;
        while (j < i && !(t->att[j].state == DMR_ATT_FAILED &&
                          !strcmp(t->att[j].wid, a->wid)))
            j++;
        n += j == i;
    }
    return n;
}

static dmr_task_t *s_pick(dmr_task_t *tasks, uint32_t n, const char *wid,
                          uint32_t others)
{
    for (uint32_t i = 0; i < n; i++) {
        dmr_task_t *t = &tasks[i];
        if (t->state != DMR_TASK_IDLE)
            continue;
        if (wid && dmr_task_failed_on(t, wid) &&
            s_failed_elsewhere(t, wid) < others)
            continue;
        return t;
    }
    return NULL;
}

int dmr_job_map_waits(const dmr_job_t *job)
{
    for (uint32_t i = 0; i < job->nmap; i++)
        if (job->maps[i].state == DMR_TASK_IDLE)
            return 1;
    return 0;
}

/* A reduce never takes a slot while a map waits for one, even a map that
 * would not run on wid: maps are what every reduce waits for. */
dmr_task_t *dmr_job_next_task(dmr_job_t *job, const char *wid, uint32_t others)
{
    if (job->state != DMR_JOB_RUNNING)
        return NULL;
    if (dmr_job_map_waits(job))
        return s_pick(job->maps, job->nmap, wid, others);
    return dmr_job_next_reduce(job, wid, others);
}

dmr_task_t *dmr_job_next_reduce(dmr_job_t *job, const char *wid,
                                uint32_t others)
{
    if (job->state != DMR_JOB_RUNNING)
        return NULL;
    return s_pick(job->reduces, job->nreduce, wid, others);
}

/* Since a reduce is offered an ordinary slot only while no map waits, a
 * reduce stopped here gets none until every map has a slot again (a
 * reduce slot, which no map needs, it may get); each call stops one
 * attempt still fetching, so the scheduler, calling it while a map finds
 * no slot, ends with the map placed or no such attempt left. */
dmr_attempt_t *dmr_job_preempt(dmr_job_t *job, uint32_t others, int all_barred,
                               int (*frees)(void *arg, const char *wid),
                               void *arg, dmr_task_t **task, dmr_task_t **map)
{
    dmr_attempt_t *victim = NULL;
    for (uint32_t i = 0; i < job->nreduce; i++) {
        dmr_task_t *t = &job->reduces[i];
        for (size_t k = 0; k < t->natt; k++) {
            dmr_attempt_t *a = &t->att[k];
            if (a->state != DMR_ATT_RUNNING ||
                (a->phase[0] && strcmp(a->phase, "fetch") != 0) ||
                (victim && a->start_ms < victim->start_ms) ||
                (!all_barred && dmr_job_blacklisted(job, a->wid)) ||
                (frees && !frees(arg, a->wid)))
                continue;
            dmr_task_t *m = s_pick(job->maps, job->nmap, a->wid, others);
            if (m)
                victim = a, *task = t, *map = m;
        }
    }
    return victim;
}

uint32_t dmr_job_start_attempt(dmr_job_t *job, dmr_task_t *t, const char *wid,
                               int64_t now, int64_t mono)
{
    (void)job;
    t->att = dmr_realloc(t->att, (t->natt + 1) * sizeof *t->att);
    dmr_attempt_t *a = &t->att[t->natt++];
    memset(a, 0, sizeof *a);
    a->n = (uint32_t)t->natt;
    snprintf(a->wid, sizeof a->wid, "%s", wid);
    a->start_ms = now;
    a->progress_at = mono;
    a->state = DMR_ATT_RUNNING;
    t->state = DMR_TASK_RUNNING;
    return a->n;
}

dmr_attempt_t *dmr_task_attempt(dmr_task_t *t, uint32_t n)
{
    return (n >= 1 && n <= t->natt) ? &t->att[n - 1] : NULL;
}

int64_t dmr_job_work_began(const dmr_job_t *job, const dmr_task_t *t,
                           const dmr_attempt_t *a, int64_t until)
{
    if (t->kind == DMR_TASK_REDUCE && a->start_ms < job->maps_end_ms &&
        job->maps_end_ms <= until)
        return job->maps_end_ms;
    return a->start_ms;
}

int dmr_task_running(const dmr_task_t *t)
{
    int n = 0;
    for (size_t i = 0; i < t->natt; i++)
        n += t->att[i].state == DMR_ATT_RUNNING;
    return n;
}

int dmr_job_finish_attempt(dmr_job_t *job, dmr_task_t *t, uint32_t n,
                           dmr_att_state_t state, const char *error,
                           const char *endpoint, uint32_t max_attempts,
                           int64_t now)
{
    dmr_attempt_t *a = dmr_task_attempt(t, n);
    if (!a || a->state != DMR_ATT_RUNNING)
        return 0;
    a->state = state;
    a->end_ms = now;
    if (error) {
        free(a->error);
        a->error = dmr_strdup(error);
    }
    if (state == DMR_ATT_OK) {
        if (t->state == DMR_TASK_DONE) {
            a->state = DMR_ATT_KILLED; /* another attempt won already */
            return 0;
        }
        t->state = DMR_TASK_DONE;
        a->ppm = 1000000;
        if (t->kind == DMR_TASK_MAP) {
            snprintf(t->out_wid, sizeof t->out_wid, "%s", a->wid);
            free(t->out_endpoint);
            t->out_endpoint = dmr_strdup(endpoint ? endpoint : "");
            t->out_att = n;
            job->maps_done++;
            if (job->nmap_log == job->capmap_log) {
                job->capmap_log =
                    job->capmap_log ? 2 * job->capmap_log : job->nmap;
                job->map_log = dmr_realloc(
                    job->map_log, job->capmap_log * sizeof *job->map_log);
            }
            job->map_log[job->nmap_log++] = t->index;
            if (job->maps_done == job->nmap)
                job->maps_end_ms = now;
        } else {
            job->reduces_done++;
        }
        if (job->maps_done == job->nmap && job->reduces_done == job->nreduce &&
            job->state == DMR_JOB_RUNNING) {
            job->state = DMR_JOB_SUCCEEDED;
            job->end_ms = now;
            return 1;
        }
        return 0;
    }
    if (state == DMR_ATT_FAILED)
        t->failures++;
    if (t->state != DMR_TASK_DONE && dmr_task_running(t) == 0)
        t->state = DMR_TASK_IDLE;
    if (state == DMR_ATT_FAILED && t->failures >= max_attempts &&
        job->state == DMR_JOB_RUNNING) {
        job->state = DMR_JOB_FAILED;
        job->end_ms = now;
        free(job->error);
        job->error =
            dmr_sprintf("%s task %u failed %u times; last error: %s",
                        t->kind == DMR_TASK_MAP ? "map" : "reduce", t->index,
                        t->failures, error ? error : "(none)");
        return 1;
    }
    return 0;
}

void dmr_job_map_output_lost(dmr_job_t *job, dmr_task_t *t, const char *why)
{
    if (t->kind != DMR_TASK_MAP || t->state != DMR_TASK_DONE)
        return;
    dmr_attempt_t *a = dmr_task_attempt(t, t->out_att);
    if (a) {
        a->state = DMR_ATT_LOST;
        free(a->error);
        a->error = dmr_strdup(why);
    }
    t->state = dmr_task_running(t) ? DMR_TASK_RUNNING : DMR_TASK_IDLE;
    t->out_wid[0] = '\0';
    t->out_att = 0;
    job->maps_done--;
}

static void s_map_loc(const dmr_task_t *t, dmr_msg_t *it)
{
    dmr_msg_init(it, DMR_MSG_MAP_LOC);
    it->task = t->index;
    it->attempt = t->out_att;
    it->endpoint = t->out_endpoint;
    it->wid = t->out_wid;
}

size_t dmr_job_done_maps(const dmr_job_t *job, dmr_msg_t *items)
{
    size_t n = 0;
    for (uint32_t i = 0; i < job->nmap; i++)
        if (job->maps[i].state == DMR_TASK_DONE)
            s_map_loc(&job->maps[i], &items[n++]);
    return n;
}

size_t dmr_job_maps_since(const dmr_job_t *job, uint64_t from, size_t max,
                          dmr_msg_t *items, uint64_t *next)
{
    size_t n = 0;
    uint64_t k = from;
    for (; k < job->nmap_log && k - from < max; k++) {
        const dmr_task_t *t = &job->maps[job->map_log[k]];
        if (t->state == DMR_TASK_DONE)
            s_map_loc(t, &items[n++]);
    }
    *next = k;
    return n;
}

const dmr_job_event_t *dmr_job_event(dmr_job_t *job, int64_t now,
                                     const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    job->events =
        dmr_realloc(job->events, (job->nevents + 1) * sizeof *job->events);
    dmr_job_event_t *e = &job->events[job->nevents++];
    e->ms = now;
    e->text = dmr_strdup(text);
    return e;
}

static dmr_job_worker_t *s_wstat(dmr_job_t *job, const char *wid, int add)
{
    for (size_t i = 0; i < job->nwstats; i++)
        if (!strcmp(job->wstats[i].wid, wid))
            return &job->wstats[i];
    if (!add)
        return NULL;
    job->wstats =
        dmr_realloc(job->wstats, (job->nwstats + 1) * sizeof *job->wstats);
    dmr_job_worker_t *w = &job->wstats[job->nwstats++];
    memset(w, 0, sizeof *w);
    snprintf(w->wid, sizeof w->wid, "%s", wid);
    return w;
}

int dmr_job_count_failure(dmr_job_t *job, const char *wid, uint32_t limit)
{
    dmr_job_worker_t *w = s_wstat(job, wid, 1);
    w->failures++;
    if (limit > 0 && !w->blacklisted && w->failures >= limit) {
        w->blacklisted = 1;
        return 1;
    }
    return 0;
}

int dmr_job_blacklisted(const dmr_job_t *job, const char *wid)
{
    const dmr_job_worker_t *w = s_wstat((dmr_job_t *)job, wid, 0);
    return w && w->blacklisted;
}

static void s_counters_free(dmr_counter_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)c[i].name);
    free(c);
}

void dmr_task_set_counters(dmr_task_t *t, const dmr_msg_t *done)
{
    s_counters_free(t->ctr, t->nctr);
    size_t n = done->ncounters < 64 ? done->ncounters : 64;
    t->ctr = dmr_calloc(n + 1, sizeof *t->ctr);
    t->nctr = n;
    for (size_t i = 0; i < n; i++) {
        t->ctr[i].name = dmr_strdup(done->counters[i].name);
        t->ctr[i].value = done->counters[i].value;
    }
}

static void s_add_counters(dmr_job_t *job, const dmr_task_t *t)
{
    for (size_t i = 0; i < t->nctr; i++) {
        const dmr_counter_t *c = &t->ctr[i];
        size_t j = 0;
        while (j < job->ncounters && strcmp(job->counters[j].name, c->name))
            j++;
        if (j == job->ncounters) {
            if (job->ncounters >= 256)
                continue;
            job->counters = dmr_realloc(
                job->counters, (job->ncounters + 1) * sizeof *job->counters);
            job->counters[j].name = dmr_strdup(c->name);
            job->counters[j].value = 0;
            job->ncounters++;
        }
        job->counters[j].value += c->value;
    }
}

static void s_set_counter(dmr_job_t *job, const char *name, uint64_t v)
{
    dmr_task_t one = {0};
    dmr_counter_t c = {name, v};
    one.ctr = &c;
    one.nctr = 1;
    s_add_counters(job, &one);
}

void dmr_job_sum_counters(dmr_job_t *job)
{
    for (size_t i = 0; i < job->ncounters; i++)
        job->counters[i].value = 0;
    if (job->store_in) {
        /* The share of map tasks that ran where their chunk is. */
        uint64_t local = 0, remote = 0;
        for (uint32_t i = 0; i < job->nmap; i++) {
            const dmr_task_t *t = &job->maps[i];
            const dmr_attempt_t *a =
                t->state == DMR_TASK_DONE ? &t->att[t->out_att - 1] : NULL;
            if (a && a->local)
                local++;
            else if (a)
                remote++;
        }
        s_set_counter(job, "data_local_map_tasks", local);
        s_set_counter(job, "remote_map_tasks", remote);
    }
    for (uint32_t i = 0; i < job->nmap; i++)
        if (job->maps[i].state == DMR_TASK_DONE)
            s_add_counters(job, &job->maps[i]);
    for (uint32_t i = 0; i < job->nreduce; i++)
        if (job->reduces[i].state == DMR_TASK_DONE)
            s_add_counters(job, &job->reduces[i]);
}

static void s_attempt_item(const dmr_task_t *t, const dmr_attempt_t *a,
                           dmr_msg_t *it)
{
    dmr_msg_init(it, DMR_MSG_ATTEMPT_INFO);
    it->kind = t->kind;
    it->task = t->index;
    it->attempt = a->n;
    it->wid = a->wid;
    it->state = dmr_att_state_name(a->state);
    it->start_ms = a->start_ms;
    it->end_ms = a->end_ms;
    it->error = a->error;
    it->progress = a->ppm;
}

void dmr_job_info(const dmr_job_t *job, int attempts, int events,
                  uint64_t first_event, dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JOB_INFO);
    m->job = job->id;
    m->name = job->name;
    m->state = dmr_job_state_name(job->state);
    m->nmap = job->nmap;
    m->nreduce = job->nreduce;
    m->maps_done = job->maps_done;
    m->reduces_done = job->reduces_done;
    m->error = job->error;
    m->output = job->output;
    m->start_ms = job->start_ms;
    m->end_ms = job->end_ms;
    m->counters = job->counters;
    m->ncounters = job->ncounters;
    uint32_t running = 0;
    size_t n = 0;
    for (uint32_t i = 0; i < job->nmap; i++)
        n += job->maps[i].natt,
            running += job->maps[i].state == DMR_TASK_RUNNING;
    for (uint32_t i = 0; i < job->nreduce; i++)
        n += job->reduces[i].natt,
            running += job->reduces[i].state == DMR_TASK_RUNNING;
    m->running = running;
    if (!attempts)
        n = 0;
    size_t nev = events && first_event < job->nevents
                     ? job->nevents - (size_t)first_event
                     : 0;
    if (n + nev == 0)
        return;
    m->items = dmr_calloc(n + nev, sizeof *m->items);
    size_t k = 0;
    for (uint32_t i = 0; n && i < job->nmap; i++)
        for (size_t a = 0; a < job->maps[i].natt; a++)
            s_attempt_item(&job->maps[i], &job->maps[i].att[a], &m->items[k++]);
    for (uint32_t i = 0; n && i < job->nreduce; i++)
        for (size_t a = 0; a < job->reduces[i].natt; a++)
            s_attempt_item(&job->reduces[i], &job->reduces[i].att[a],
                           &m->items[k++]);
    for (size_t e = 0; e < nev; e++) {
        dmr_msg_t *it = &m->items[k++];
        const dmr_job_event_t *ev = &job->events[first_event + e];
        dmr_msg_init(it, DMR_MSG_EVENT);
        it->offset = first_event + e;
        it->start_ms = ev->ms;
        it->text = ev->text;
    }
    m->nitems = k;
}

void dmr_job_info_free(dmr_msg_t *m)
{
    free(m->items);
    m->items = NULL;
    m->nitems = 0;
}
