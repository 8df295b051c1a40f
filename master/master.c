/* master.c -- the dmr master daemon: registry, failure detector, clients.
 *
 * Events arrive as messages on the ROUTER: worker REGISTER / HEARTBEAT /
 * TASK_DONE / JOB_FETCH, reduce task MAP_QUERY, client SUBMIT / STATUS /
 * JOBS / WORKERS. The cron declares workers dead after dead_after_ms of
 * silence (or, with the phi-accrual detector, when their silence is too
 * unlikely given their heartbeat history) -- their running tasks and the
 * map outputs on their disks go back to idle -- and then sched.c times
 * out hung attempts, launches backups and schedules. Every state change
 * that matters after a crash goes to the journal first (recover.c). */
#include "master/master.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/net.h"
#include "common/util.h"
#include "master/job.h"
#include "master/master_int.h"

#define CRON_MS 100
#define MAP_LOCS_MAX 1024 /* map log entries per MAP_LOCS reply */

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

/* ------------------------------------------------------------ helpers */

void dmr_m_send(dmr_master_t *ms, const dmr_peer_t *to, const dmr_msg_t *m)
{
    if (ms->replaying)
        return;
    int rc = dmr_net_send(ms->sock, to, m);
    if (rc)
        dmr_debug("net", "cannot send %s: %s", dmr_msg_type_name(m->type),
                  dmr_strerror(rc));
}

void dmr_m_reply_error(dmr_master_t *ms, const dmr_peer_t *to, int status,
                       const char *text)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_ERROR);
    m.status = status;
    m.error = text;
    dmr_m_send(ms, to, &m);
}

dmr_mworker_t *dmr_m_worker(dmr_master_t *ms, const char *wid)
{
    for (size_t i = 0; i < ms->nworkers; i++)
        if (!strcmp(ms->workers[i].wid, wid))
            return &ms->workers[i];
    return NULL;
}

dmr_job_t *dmr_m_job(dmr_master_t *ms, uint64_t id)
{
    for (size_t i = 0; i < ms->njobs; i++)
        if (ms->jobs[i]->id == id)
            return ms->jobs[i];
    return NULL;
}

static char *s_job_object_path(dmr_master_t *ms, const char *hash)
{
    return dmr_sprintf("%s/%s.so", ms->jobs_dir, hash);
}

static int s_valid_hash(const char *h)
{
    if (strlen(h) != 64)
        return 0;
    for (const char *p = h; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

static const char *s_kind(uint32_t kind)
{
    return kind == DMR_TASK_MAP ? "map" : "reduce";
}

void dmr_m_event(dmr_master_t *ms, dmr_job_t *job, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const dmr_job_event_t *e = dmr_job_event(job, dmr_wall_ms(), "%s", text);
    dmr_m_log_event(ms, job, e);
    if (!ms->replaying)
        dmr_info("job", "job %llu: %s", (unsigned long long)job->id, text);
}

/* Tells every live worker that a job's intermediate files may go. */
static void s_broadcast_cancel(dmr_master_t *ms, uint64_t job)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_CANCEL);
    m.job = job;
    for (size_t i = 0; i < ms->nworkers; i++)
        if (ms->workers[i].alive && !ms->workers[i].restored)
            dmr_m_send(ms, &ms->workers[i].peer, &m);
}

static int s_add_job(dmr_master_t *ms, const dmr_msg_t *m, dmr_job_t **out,
                     char *err, size_t errlen);

dmr_job_t *dmr_m_next_stage(const dmr_master_t *ms, const dmr_job_t *job)
{
    for (size_t i = 0; job->stage + 1 < job->stages && i < ms->njobs; i++)
        if (ms->jobs[i]->prev == job->id)
            return ms->jobs[i];
    return NULL;
}

/* A job parameter, or NULL. */
static const char *s_job_param(const dmr_job_t *job, const char *key)
{
    for (size_t i = 0; i < job->nparams; i++)
        if (!strcmp(job->params[i].key, key))
            return job->params[i].val;
    return NULL;
}

/* The output directory of stage k of the multi-stage job job belongs to:
 * the user's for the last stage, else a _stage-K directory in it. */
static char *s_stage_output(const dmr_job_t *job, uint32_t k)
{
    if (k + 1 == job->stages)
        return dmr_strdup(job->final_output);
    return dmr_sprintf("%s/_stage-%u", job->final_output, k);
}

/* Submits the stage after job, which succeeded, over its output parts:
 * -D reduces.K and whole_files.K (K the new stage, from 0) override the
 * reduce count and whole_files, dmr.name.K names it. Returns 0 or an
 * error code with err set. */
static int s_submit_next_stage(dmr_master_t *ms, dmr_job_t *job, char *err,
                               size_t errlen)
{
    uint32_t k = job->stage + 1;
    char key[64], stage_s[16], prev_s[24];
    const char *v;
    uint64_t nred = job->nreduce;
    snprintf(key, sizeof key, "reduces.%u", k);
    if ((v = s_job_param(job, key)) &&
        (dmr_parse_u64(v, &nred) || nred == 0 || nred > 100000)) {
        snprintf(err, errlen, "-D %s=%s: expected 1 to 100000", key, v);
        return DMR_EINVAL;
    }
    snprintf(key, sizeof key, "whole_files.%u", k);
    const char *whole = s_job_param(job, key);
    snprintf(key, sizeof key, "dmr.name.%u", k);
    const char *name = s_job_param(job, key);
    snprintf(stage_s, sizeof stage_s, "%u", k);
    snprintf(prev_s, sizeof prev_s, "%llu", (unsigned long long)job->id);

    dmr_kv_t *params = dmr_calloc(job->nparams + 3, sizeof *params);
    size_t np = 0;
    for (size_t i = 0; i < job->nparams; i++) {
        const char *pk = job->params[i].key;
        if (strcmp(pk, "dmr.stage") && strcmp(pk, "dmr.prev") &&
            strcmp(pk, "whole_files"))
            params[np++] = job->params[i];
    }
    params[np++] = (dmr_kv_t){"dmr.stage", stage_s};
    params[np++] = (dmr_kv_t){"dmr.prev", prev_s};
    params[np++] = (dmr_kv_t){"whole_files", whole ? whole : "0"};

    dmr_msg_t *items = dmr_calloc(job->nreduce + 1, sizeof *items);
    char **paths = dmr_calloc(job->nreduce + 1, sizeof *paths);
    int rc = 0;
    for (uint32_t r = 0; r < job->nreduce && !rc; r++) {
        paths[r] = dmr_sprintf("%s/part-%05u", job->output, r);
        dmr_msg_init(&items[r], DMR_MSG_FILE_INFO);
        items[r].path = items[r].name = paths[r];
        struct stat st;
        if (!job->store_out) {
            if (stat(paths[r], &st) != 0) {
                snprintf(err, errlen, "cannot read %s: %s", paths[r],
                         strerror(errno));
                rc = DMR_EIO;
            }
            items[r].total = (uint64_t)st.st_size;
        }
    }
    char *out = s_stage_output(job, k);
    if (!rc) {
        dmr_msg_t sub;
        dmr_msg_init(&sub, DMR_MSG_SUBMIT);
        sub.name = name ? name : job->name;
        sub.hash = job->hash;
        sub.output = out;
        sub.nreduce = (uint32_t)nred;
        sub.flags = job->flags;
        sub.params = params;
        sub.nparams = np;
        sub.items = items;
        sub.nitems = job->nreduce;
        dmr_job_t *next = NULL;
        rc = s_add_job(ms, &sub, &next, err, errlen);
        if (!rc) {
            dmr_m_event(ms, job, "stage %u of %u done; stage %u runs as job %llu",
                        job->stage + 1, job->stages, k + 1,
                        (unsigned long long)next->id);
            if (next->nmap == 0 && next->nreduce == 0)
                dmr_m_job_finished(ms, next);
        }
    }
    free(out);
    for (uint32_t r = 0; r < job->nreduce; r++)
        free(paths[r]);
    free(paths);
    free(items);
    free(params);
    return rc;
}

/* The last stage of a multi-stage job succeeded: the outputs of the
 * stages before it go. */
static void s_remove_stage_outputs(dmr_master_t *ms, const dmr_job_t *job)
{
    for (uint32_t k = 0; k + 1 < job->stages; k++) {
        char *dir = s_stage_output(job, k);
        if (job->store_out)
            dmr_m_fs_remove_tree(ms, dir);
        else
            dmr_rmtree(dir);
        free(dir);
    }
}

void dmr_m_job_finished(dmr_master_t *ms, dmr_job_t *job)
{
    if (job->ended)
        return;
    job->ended = 1;
    /* Attempts still running (backups, or the rest after a failure) are
     * stopped; their results would be ignored anyway. */
    for (int kind = 0; kind < 2; kind++) {
        uint32_t n = kind == DMR_TASK_MAP ? job->nmap : job->nreduce;
        for (uint32_t i = 0; i < n; i++) {
            dmr_task_t *t = dmr_job_task(job, (uint32_t)kind, i);
            for (size_t a = 0; a < t->natt; a++)
                if (t->att[a].state == DMR_ATT_RUNNING)
                    dmr_m_cancel(ms, job, t, &t->att[a], DMR_ATT_KILLED,
                                 "the job ended");
        }
    }
    if (job->store_out)
        dmr_m_fs_job_end(ms, job);
    char *tmp = dmr_sprintf("%s/_temporary", job->output);
    if (!job->store_out)
        dmr_rmtree(tmp);
    free(tmp);
    if (job->state == DMR_JOB_SUCCEEDED && !job->store_out) {
        char *ok = dmr_sprintf("%s/_SUCCESS", job->output);
        if (dmr_write_file_atomic(ok, "", 0) != 0) {
            job->state = DMR_JOB_FAILED;
            job->error =
                dmr_sprintf("cannot write %s: %s", ok, strerror(errno));
        }
        free(ok);
    }
    /* A multi-stage job goes on: the next stage is journaled before this
     * one's end, and is submitted once only (a replayed end submits
     * nothing; a stage already submitted before a crash is found). */
    if (job->state == DMR_JOB_SUCCEEDED && job->stage + 1 < job->stages &&
        !ms->replaying && !dmr_m_next_stage(ms, job)) {
        char err[512];
        if (s_submit_next_stage(ms, job, err, sizeof err) != 0) {
            job->state = DMR_JOB_FAILED;
            job->error = dmr_sprintf("cannot start stage %u: %s",
                                     job->stage + 2, err);
        }
    }
    if (job->state == DMR_JOB_SUCCEEDED && job->stages > 1 &&
        job->stage + 1 == job->stages && !ms->replaying)
        s_remove_stage_outputs(ms, job);
    if (job->state == DMR_JOB_SUCCEEDED)
        dmr_info("job", "job %llu (%s) succeeded in %.2fs",
                 (unsigned long long)job->id, job->name,
                 (double)(job->end_ms - job->start_ms) / 1000.0);
    else
        dmr_warn("job", "job %llu (%s) failed: %s", (unsigned long long)job->id,
                 job->name, job->error ? job->error : "?");
    dmr_m_log_end(ms, job);
    s_broadcast_cancel(ms, job->id);
}

void dmr_m_map_lost(dmr_master_t *ms, dmr_job_t *job, dmr_task_t *t,
                    const char *why)
{
    if (t->kind != DMR_TASK_MAP || t->state != DMR_TASK_DONE)
        return;
    dmr_attempt_t *a = dmr_task_attempt(t, t->out_att);
    dmr_job_map_output_lost(job, t, why);
    if (a)
        dmr_m_log_attempt(ms, job, t, a, NULL, NULL);
}

int dmr_m_finish(dmr_master_t *ms, dmr_job_t *job, dmr_task_t *t, uint32_t n,
                 dmr_att_state_t state, const char *error, const char *endpoint,
                 const dmr_msg_t *counters)
{
    dmr_attempt_t *a = dmr_task_attempt(t, n);
    if (!a || a->state != DMR_ATT_RUNNING)
        return 0;
    dmr_mworker_t *w = dmr_m_worker(ms, a->wid);
    if (w && w->running > 0)
        w->running--;
    if (w && w->reduces > 0 && t->kind == DMR_TASK_REDUCE)
        w->reduces--;
    int was_done = t->state == DMR_TASK_DONE;
    int changed =
        dmr_job_finish_attempt(job, t, n, state, error, endpoint,
                               (uint32_t)ms->cfg->max_attempts, dmr_wall_ms());
    if (state == DMR_ATT_OK && !was_done && counters)
        dmr_task_set_counters(t, counters);
    dmr_m_log_attempt(ms, job, t, a, endpoint,
                      a->state == DMR_ATT_OK ? counters : NULL);
    if (a->state == DMR_ATT_OK) {
        for (size_t i = 0; i < t->natt; i++) {
            dmr_attempt_t *o = &t->att[i];
            if (o->state != DMR_ATT_RUNNING)
                continue;
            char why[96];
            snprintf(why, sizeof why, "attempt %u on %s finished first", n,
                     a->wid);
            dmr_m_event(ms, job,
                        "%s %u: attempt %u on %s won; killing "
                        "attempt %u on %s",
                        s_kind(t->kind), t->index, n, a->wid, o->n, o->wid);
            dmr_m_cancel(ms, job, t, o, DMR_ATT_KILLED, why);
        }
    }
    if (state == DMR_ATT_FAILED && job->state == DMR_JOB_RUNNING) {
        dmr_m_event(ms, job,
                    "%s %u attempt %u failed on %s (failure %u of "
                    "%d): %s",
                    s_kind(t->kind), t->index, n, a->wid, t->failures,
                    ms->cfg->max_attempts, error ? error : "(no message)");
        if (dmr_job_count_failure(job, a->wid,
                                  (uint32_t)ms->cfg->blacklist_after))
            dmr_m_event(ms, job,
                        "worker %s blacklisted for this job after "
                        "%d failed attempts",
                        a->wid, ms->cfg->blacklist_after);
    }
    if (changed)
        dmr_m_job_finished(ms, job);
    return changed;
}

/* ----------------------------------------------------- failure handling */

/* Puts back to idle what a lost worker held: its running attempts, and
 * the done map tasks whose output lived on its disk while some reduce of
 * the job still needs it. Reduces still fetching lose an input, so they
 * are stopped too; they run again once no map waits for a slot. */
static void s_worker_lost(dmr_master_t *ms, dmr_mworker_t *w, const char *why)
{
    w->alive = 0;
    dmr_m_fs_worker_lost(ms, w);
    uint32_t total = 0;
    for (size_t j = 0; j < ms->njobs; j++) {
        dmr_job_t *job = ms->jobs[j];
        if (job->state != DMR_JOB_RUNNING)
            continue;
        uint32_t maps = 0, reduces = 0, outputs = 0;
        char lost[160];
        snprintf(lost, sizeof lost, "worker %s lost (%s)", w->wid, why);
        for (int kind = 0; kind < 2; kind++) {
            uint32_t n = kind == DMR_TASK_MAP ? job->nmap : job->nreduce;
            for (uint32_t i = 0; i < n; i++) {
                dmr_task_t *t = dmr_job_task(job, (uint32_t)kind, i);
                for (size_t a = 0; a < t->natt; a++) {
                    if (t->att[a].state == DMR_ATT_RUNNING &&
                        !strcmp(t->att[a].wid, w->wid)) {
                        dmr_m_finish(ms, job, t, t->att[a].n, DMR_ATT_LOST,
                                     lost, NULL, NULL);
                        if (kind == DMR_TASK_MAP)
                            maps++;
                        else
                            reduces++;
                    }
                }
                if (kind == DMR_TASK_MAP && t->state == DMR_TASK_DONE &&
                    !strcmp(t->out_wid, w->wid) &&
                    job->reduces_done < job->nreduce) {
                    dmr_m_map_lost(ms, job, t, lost);
                    outputs++;
                }
            }
        }
        uint32_t stopped = 0;
        for (uint32_t i = 0; outputs && i < job->nreduce; i++) {
            dmr_task_t *t = &job->reduces[i];
            for (size_t a = 0; a < t->natt; a++) {
                dmr_attempt_t *at = &t->att[a];
                if (at->state == DMR_ATT_RUNNING &&
                    strcmp(at->phase, "reduce") != 0) {
                    dmr_m_cancel(ms, job, t, at, DMR_ATT_LOST,
                                 "an input map output was lost with its "
                                 "worker");
                    stopped++;
                }
            }
        }
        if (maps + reduces + outputs == 0)
            continue;
        total += maps + reduces + outputs;
        char extra[96] = "";
        if (stopped)
            snprintf(extra, sizeof extra,
                     "; stopping %u reduce task%s still fetching", stopped,
                     stopped == 1 ? "" : "s");
        dmr_m_event(ms, job,
                    "worker %s lost (%s): re-running %u map task%s "
                    "(%u running, %u done) and %u reduce task%s%s",
                    w->wid, why, maps + outputs, maps + outputs == 1 ? "" : "s",
                    maps, outputs, reduces, reduces == 1 ? "" : "s", extra);
    }
    w->running = 0;
    w->reduces = 0;
    dmr_warn("workers", "worker %s lost (%s): %u tasks to re-run", w->wid, why,
             total);
}

static void s_heard(dmr_mworker_t *w, int64_t now)
{
    w->unreachable = 0;
    dmr_hb_heard(&w->hb, now);
}

/* ------------------------------------------------------------- workers */

/* Which worker a REGISTER speaks for: its claimed id, unless that id
 * belongs to another data directory; else the worker known by its data
 * directory's node id (a process restarted there is the same worker, in a
 * new incarnation, with the same replicas on disk). */
static dmr_mworker_t *s_register_whom(dmr_master_t *ms, const dmr_msg_t *m)
{
    dmr_mworker_t *w = m->wid ? dmr_m_worker(ms, m->wid) : NULL;
    if (w && m->name && w->node[0] && strcmp(w->node, m->name) != 0)
        w = NULL;
    for (size_t i = 0; !w && m->name && m->name[0] && i < ms->nworkers; i++)
        if (!strcmp(ms->workers[i].node, m->name))
            w = &ms->workers[i];
    return w;
}

static void s_on_register(dmr_master_t *ms, const dmr_peer_t *from,
                          const dmr_msg_t *m)
{
    dmr_mworker_t *w = s_register_whom(ms, m);
    if (w && w->alive && w->restored && m->wid && !strcmp(w->wid, m->wid) &&
        m->endpoint && !strcmp(w->endpoint, m->endpoint)) {
        /* Known from the journal and back with the same shuffle server:
         * its map outputs are still there. */
        w->restored = 0;
        w->inc = m->inc;
        w->pid = m->pid;
        free(w->host);
        w->host = dmr_strdup(m->host);
        w->slots = m->slots ? m->slots : 1;
        w->running = 0;
        w->reduces = 0;
        w->peer = *from;
        dmr_info("workers",
                 "worker %s re-joined after the restart: %s pid "
                 "%lld on %s",
                 w->wid, w->endpoint, (long long)w->pid, w->host);
    } else if (w && w->alive && !w->restored && w->inc == m->inc &&
               w->pid == m->pid) {
        w->peer = *from; /* a repeated REGISTER: same worker, same run */
    } else {
        if (w && w->alive)
            s_worker_lost(ms, w,
                          w->restored        ? "came back as a new process"
                          : w->pid != m->pid ? "replaced by a new process on "
                                               "its data directory"
                                             : "re-registered");
        if (!w) {
            ms->workers = dmr_realloc(ms->workers,
                                      (ms->nworkers + 1) * sizeof *ms->workers);
            w = &ms->workers[ms->nworkers++];
            memset(w, 0, sizeof *w);
            snprintf(w->wid, sizeof w->wid, "w%u", ++ms->next_wid);
            snprintf(w->node, sizeof w->node, "%s", m->name ? m->name : "");
            /* Ids are never handed out twice, across restarts too. */
            dmr_m_log_worker(ms, w->wid, w->node);
        }
        if (m->inc > w->inc && m->wid && !strcmp(m->wid, w->wid))
            w->inc = m->inc;
        w->inc++;
        free(w->endpoint);
        free(w->host);
        w->endpoint = dmr_strdup(m->endpoint);
        w->host = dmr_strdup(m->host);
        w->pid = m->pid;
        w->slots = m->slots ? m->slots : 1;
        w->running = 0;
        w->reduces = 0;
        w->peer = *from;
        w->alive = 1;
        w->restored = 0;
        w->unreachable = 0;
        dmr_hb_reset(&w->hb);
        dmr_info("workers",
                 "worker %s registered (incarnation %llu): %s pid %lld on "
                 "%s, %u slots",
                 w->wid, (unsigned long long)w->inc, w->endpoint,
                 (long long)w->pid, w->host, w->slots);
    }
    s_heard(w, dmr_now_ms());
    dmr_msg_t r;
    dmr_msg_init(&r, DMR_MSG_WELCOME);
    r.wid = w->wid;
    r.inc = w->inc;
    r.interval = (uint32_t)ms->cfg->heartbeat_ms;
    dmr_m_send(ms, from, &r);
    dmr_m_fs_register(ms, w, m);
}

/* A message from a worker we do not know (or know as dead) gets ERROR
 * ENOENT, which makes it register again. */
static dmr_mworker_t *s_known_worker(dmr_master_t *ms, const dmr_peer_t *from,
                                     const char *wid, uint64_t inc)
{
    dmr_mworker_t *w = dmr_m_worker(ms, wid);
    if (w && w->alive && !w->restored && w->inc == inc) {
        w->peer = *from;
        s_heard(w, dmr_now_ms());
        return w;
    }
    dmr_m_reply_error(ms, from, DMR_ENOENT, "unknown worker: register again");
    return NULL;
}

static void s_on_heartbeat(dmr_master_t *ms, const dmr_peer_t *from,
                           const dmr_msg_t *m)
{
    dmr_mworker_t *w = s_known_worker(ms, from, m->wid, m->inc);
    if (!w)
        return;
    int64_t now = dmr_now_ms();
    for (size_t i = 0; i < m->nitems; i++) {
        const dmr_msg_t *it = &m->items[i];
        if (it->type != DMR_MSG_TASK_PROGRESS)
            continue;
        dmr_job_t *job = dmr_m_job(ms, it->job);
        dmr_task_t *t = job ? dmr_job_task(job, it->kind, it->task) : NULL;
        dmr_attempt_t *a = t ? dmr_task_attempt(t, it->attempt) : NULL;
        if (!a || a->state != DMR_ATT_RUNNING || strcmp(a->wid, w->wid))
            continue;
        const char *phase = it->state ? it->state : "";
        if (it->work != a->work || strcmp(phase, a->phase) != 0)
            a->progress_at = now;
        a->work = it->work;
        a->ppm = it->progress > 1000000 ? 1000000 : it->progress;
        snprintf(a->phase, sizeof a->phase, "%s", phase);
    }
}

/* A reduce could not read map output (task, att): if that is still the
 * map's committed output, it is gone -- the map runs again. */
static void s_fetch_failed(dmr_master_t *ms, dmr_job_t *job, dmr_task_t *rt,
                           const dmr_msg_t *m)
{
    for (size_t i = 0; i < m->nitems; i++) {
        const dmr_msg_t *loc = &m->items[i];
        if (loc->type != DMR_MSG_MAP_LOC)
            continue;
        dmr_task_t *mt = dmr_job_task(job, DMR_TASK_MAP, loc->task);
        if (!mt || mt->state != DMR_TASK_DONE || mt->out_att != loc->attempt)
            continue;
        char why[320];
        snprintf(why, sizeof why, "reduce %u could not read it: %.256s",
                 rt->index, m->error ? m->error : "?");
        dmr_m_event(ms, job,
                    "reduce %u could not read the output of map %u on %s "
                    "(%s): re-running map %u",
                    rt->index, mt->index, mt->out_wid,
                    m->error ? m->error : "?", mt->index);
        dmr_m_map_lost(ms, job, mt, why);
    }
}

static void s_on_task_done(dmr_master_t *ms, const dmr_peer_t *from,
                           const dmr_msg_t *m)
{
    dmr_mworker_t *w = dmr_m_worker(ms, m->wid);
    if (!w || !w->alive || w->restored || w->peer.len != from->len ||
        memcmp(w->peer.id, from->id, from->len)) {
        dmr_info("sched",
                 "ignoring a result from %s, which is not a live "
                 "worker",
                 m->wid);
        return;
    }
    s_heard(w, dmr_now_ms());
    dmr_job_t *job = dmr_m_job(ms, m->job);
    dmr_task_t *t = job ? dmr_job_task(job, m->kind, m->task) : NULL;
    dmr_attempt_t *a = t ? dmr_task_attempt(t, m->attempt) : NULL;
    if (!a || strcmp(a->wid, w->wid) || a->state != DMR_ATT_RUNNING)
        return; /* stale: the attempt was given up already */
    const char *kind = s_kind(m->kind);
    if (m->status == 0 && t->kind == DMR_TASK_REDUCE &&
        t->state != DMR_TASK_DONE && job->store_out) {
        char err[DMR_NS_PATH_MAX * 2 + 128];
        if (dmr_m_fs_commit_part(ms, job, t->index, m->attempt, err,
                                 sizeof err) != 0) {
            dmr_m_finish(ms, job, t, m->attempt, DMR_ATT_FAILED, err, NULL,
                         NULL);
            return;
        }
    } else if (m->status == 0 && t->kind == DMR_TASK_REDUCE &&
               t->state != DMR_TASK_DONE) {
        /* Commit: the master alone renames an attempt's file into place,
         * so only the first attempt to finish ever publishes. */
        char *tmp = dmr_sprintf("%s/_temporary/part-%05u.%u", job->output,
                                t->index, m->attempt);
        char *final = dmr_sprintf("%s/part-%05u", job->output, t->index);
        if (rename(tmp, final) != 0 || dmr_fsync_parent(final) != 0) {
            char *err = dmr_sprintf(
                "cannot commit %s as %s: %s (the master must see the "
                "output directory the workers write to)",
                tmp, final, strerror(errno));
            dmr_m_finish(ms, job, t, m->attempt, DMR_ATT_FAILED, err, NULL,
                         NULL);
            free(err);
            free(tmp);
            free(final);
            return;
        }
        free(tmp);
        free(final);
    }
    if (m->status == 0) {
        dmr_debug("sched", "job %llu %s %u attempt %u done on %s",
                  (unsigned long long)job->id, kind, m->task, m->attempt,
                  w->wid);
        dmr_m_finish(ms, job, t, m->attempt, DMR_ATT_OK, NULL, w->endpoint, m);
        return;
    }
    if (m->status == DMR_EFETCH && t->kind == DMR_TASK_REDUCE &&
        m->nitems > 0 &&
        t->fetch_failures < 4 * (uint32_t)ms->cfg->max_attempts) {
        t->fetch_failures++;
        s_fetch_failed(ms, job, t, m);
        dmr_m_finish(ms, job, t, m->attempt, DMR_ATT_LOST,
                     m->error ? m->error : "fetch failed", NULL, NULL);
        return;
    }
    dmr_warn("sched", "job %llu %s %u attempt %u failed on %s: %s",
             (unsigned long long)job->id, kind, m->task, m->attempt, w->wid,
             m->error ? m->error : "(no message)");
    dmr_m_finish(ms, job, t, m->attempt, DMR_ATT_FAILED,
                 m->error ? m->error : "failed", NULL, NULL);
}

static void s_on_job_fetch(dmr_master_t *ms, const dmr_peer_t *from,
                           const dmr_msg_t *m)
{
    if (!s_valid_hash(m->hash)) {
        dmr_m_reply_error(ms, from, DMR_EINVAL, "not a job object hash");
        return;
    }
    char *path = s_job_object_path(ms, m->hash);
    dmr_buf_t data = DMR_BUF_INIT;
    int rc = dmr_read_file(path, DMR_MSG_BLOB_MAX, &data);
    if (rc || m->offset > data.len) {
        dmr_m_reply_error(ms, from, rc ? rc : DMR_EINVAL, "no such job object");
    } else {
        size_t n = data.len - m->offset;
        if (n > DMR_MSG_PIECE)
            n = DMR_MSG_PIECE;
        dmr_msg_t r;
        dmr_msg_init(&r, DMR_MSG_JOB_BLOB);
        r.hash = m->hash;
        r.offset = m->offset;
        r.total = data.len;
        r.blob = (const uint8_t *)data.data + m->offset;
        r.blob_len = n;
        dmr_m_send(ms, from, &r);
    }
    dmr_buf_free(&data);
    free(path);
}

/* A reduce task that lacks map outputs asks which maps finished since
 * position m->offset of its job's map log. The reply also says whether
 * its attempt still runs: a reduce waiting for maps stops when its
 * attempt was given up (the job ended, the master restarted), even if
 * its worker never got the CANCEL. */
/* A reduce that lacks map outputs asks where the maps done since its map
 * log position are. When there is nothing new yet and it allows it
 * (flags 1), the question is held and answered as soon as a map is done
 * or the attempt ends, or after HOLD_MS: the reduce hears of a map at
 * once, without polling. */
#define HOLD_MS 500
#define HOLD_MAX 4096

/* The attempt a MAP_QUERY names, if it is a reduce that runs there. */
static dmr_attempt_t *s_query_attempt(dmr_master_t *ms, uint64_t jid,
                                      uint32_t task, uint32_t att,
                                      const char *wid, dmr_job_t **job)
{
    *job = dmr_m_job(ms, jid);
    dmr_task_t *t = *job ? dmr_job_task(*job, DMR_TASK_REDUCE, task) : NULL;
    dmr_attempt_t *a = t ? dmr_task_attempt(t, att) : NULL;
    return a && !strcmp(a->wid, wid) ? a : NULL;
}

/* Whether a question from map log position offset, about attempt a of
 * job, has nothing to learn yet: what may be held. */
static int s_no_news(const dmr_job_t *job, const dmr_attempt_t *a,
                     uint64_t offset)
{
    return a && a->state == DMR_ATT_RUNNING && offset >= job->nmap_log;
}

/* Answers a MAP_QUERY for (jid, task, att) from map log position offset;
 * a is the attempt s_query_attempt found for it, of job. */
static void s_map_locs(dmr_master_t *ms, const dmr_peer_t *to,
                       const dmr_job_t *job, const dmr_attempt_t *a,
                       uint64_t jid, uint32_t task, uint32_t att,
                       uint64_t offset)
{
    dmr_msg_t r;
    dmr_msg_init(&r, DMR_MSG_MAP_LOCS);
    r.job = jid;
    r.task = task;
    r.attempt = att;
    r.state = a ? dmr_att_state_name(a->state) : "unknown";
    r.offset = offset;
    if (a && a->state == DMR_ATT_RUNNING) {
        size_t room =
            offset < job->nmap_log ? (size_t)(job->nmap_log - offset) : 0;
        if (room > MAP_LOCS_MAX)
            room = MAP_LOCS_MAX;
        r.items = dmr_calloc(room + 1, sizeof *r.items);
        r.nitems = dmr_job_maps_since(job, offset, room, r.items, &r.offset);
        r.total = job->nmap_log;
    }
    dmr_m_send(ms, to, &r);
    free(r.items);
}

static void s_on_map_query(dmr_master_t *ms, const dmr_peer_t *from,
                           const dmr_msg_t *m)
{
    dmr_job_t *job;
    dmr_attempt_t *a =
        s_query_attempt(ms, m->job, m->task, m->attempt, m->wid, &job);
    if ((m->flags & 1) && s_no_news(job, a, m->offset) &&
        ms->nheld < HOLD_MAX && strlen(m->wid) < sizeof ms->held->wid) {
        if (ms->nheld == ms->capheld) {
            ms->capheld = ms->capheld ? 2 * ms->capheld : 16;
            ms->held = dmr_realloc(ms->held, ms->capheld * sizeof *ms->held);
        }
        dmr_m_held_t *h = &ms->held[ms->nheld++];
        h->peer = *from;
        h->job = m->job;
        h->task = m->task;
        h->attempt = m->attempt;
        snprintf(h->wid, sizeof h->wid, "%s", m->wid);
        h->offset = m->offset;
        h->until = dmr_now_ms() + HOLD_MS;
        return;
    }
    s_map_locs(ms, from, job, a, m->job, m->task, m->attempt, m->offset);
}

/* Answers the held questions that have news, whose attempt no longer
 * runs, or that have waited HOLD_MS. */
static void s_answer_held(dmr_master_t *ms)
{
    int64_t now = dmr_now_ms();
    for (size_t i = 0; i < ms->nheld;) {
        dmr_m_held_t *h = &ms->held[i];
        dmr_job_t *job;
        dmr_attempt_t *a =
            s_query_attempt(ms, h->job, h->task, h->attempt, h->wid, &job);
        if (s_no_news(job, a, h->offset) && now < h->until) {
            i++;
            continue;
        }
        s_map_locs(ms, &h->peer, job, a, h->job, h->task, h->attempt,
                   h->offset);
        ms->held[i] = ms->held[--ms->nheld];
    }
}

/* ------------------------------------------------------------- clients */

/* Adds the job a SUBMIT describes, journaled; m->blob NULL: the job
 * object is already stored (a later stage of a multi-stage job). Returns
 * 0 with *out set, or an error code with err set. */
static int s_add_job(dmr_master_t *ms, const dmr_msg_t *m, dmr_job_t **out,
                     char *err, size_t errlen)
{
    char hash[65];
    if (!s_valid_hash(m->hash)) {
        snprintf(err, errlen, "job object hash is malformed");
        return DMR_EINVAL;
    }
    if (m->blob) {
        dmr_sha256_hex(m->blob, m->blob_len, hash);
        if (strcmp(hash, m->hash)) {
            snprintf(err, errlen, "job object does not match its hash");
            return DMR_ECORRUPT;
        }
    }
    /* Inputs in the store: their size and chunking come from the
     * namespace, not from the client. */
    dmr_msg_t sub = *m;
    dmr_msg_t *items = dmr_calloc(m->nitems + 1, sizeof *items);
    for (size_t i = 0; i < m->nitems; i++) {
        items[i] = m->items[i];
        if (items[i].type == DMR_MSG_FILE_INFO &&
            !strncmp(items[i].path, "dmr:", 4) &&
            dmr_m_fs_input(ms, &items[i], err, errlen) != 0) {
            free(items);
            return DMR_ENOENT;
        }
    }
    sub.items = items;
    dmr_job_t *job = NULL;
    int nrc = dmr_job_new(ms->next_job, &sub, dmr_wall_ms(), &job, err, errlen);
    free(items);
    if (nrc != 0)
        return DMR_EINVAL;
    char *path = s_job_object_path(ms, m->hash);
    char *tmpdir = dmr_sprintf("%s/_temporary", job->output);
    struct stat st;
    int rc = 0;
    if (stat(path, &st) != 0 &&
        (!m->blob || dmr_write_file_atomic(path, m->blob, m->blob_len) != 0)) {
        snprintf(err, errlen, "master cannot %s the job object at %s: %s",
                 m->blob ? "store" : "find", path, strerror(errno));
        rc = DMR_EIO;
    } else if (!job->store_out && dmr_mkdirs(tmpdir) != 0) {
        snprintf(err, errlen, "master cannot create %s: %s", tmpdir,
                 strerror(errno));
        rc = DMR_EIO;
    }
    free(path);
    free(tmpdir);
    if (rc) {
        dmr_job_destroy(&job);
        return rc;
    }
    ms->next_job++;
    ms->jobs = dmr_realloc(ms->jobs, (ms->njobs + 1) * sizeof *ms->jobs);
    ms->jobs[ms->njobs++] = job;
    /* Durable before the client hears of it. */
    dmr_m_log_job(ms, job);
    dmr_info("job",
             "job %llu (%s) submitted: %zu files, %u maps, %u reduces, "
             "output %s",
             (unsigned long long)job->id, job->name, job->nfiles, job->nmap,
             job->nreduce, job->output);
    *out = job;
    return 0;
}

static void s_on_submit(dmr_master_t *ms, const dmr_peer_t *from,
                        const dmr_msg_t *m)
{
    char err[512];
    dmr_job_t *job = NULL;
    int rc = m->blob ? s_add_job(ms, m, &job, err, sizeof err) : DMR_EINVAL;
    if (rc) {
        dmr_m_reply_error(ms, from, rc, m->blob ? err : "no job object");
        return;
    }
    dmr_msg_t r;
    dmr_msg_init(&r, DMR_MSG_SUBMITTED);
    r.job = job->id;
    dmr_m_send(ms, from, &r);
    if (job->nmap == 0 && job->nreduce == 0)
        dmr_m_job_finished(ms, job);
}

/* STATUS flags: 1 = list attempts, 2 = list events from m->offset on. A
 * STATUS without flags means both, from event 0. */
static void s_on_status(dmr_master_t *ms, const dmr_peer_t *from,
                        const dmr_msg_t *m)
{
    dmr_job_t *job = m->job ? dmr_m_job(ms, m->job)
                            : (ms->njobs ? ms->jobs[ms->njobs - 1] : NULL);
    if (!job) {
        char err[64];
        snprintf(err, sizeof err, "no such job: %llu",
                 (unsigned long long)m->job);
        dmr_m_reply_error(ms, from, DMR_ENOENT, m->job ? err : "no jobs yet");
        return;
    }
    uint32_t flags = m->flags ? m->flags : 3;
    dmr_job_sum_counters(job);
    dmr_msg_t r;
    dmr_job_info(job, (flags & 1) != 0, (flags & 2) != 0, m->offset, &r);
    const dmr_job_t *next = dmr_m_next_stage(ms, job);
    r.next = next ? next->id : 0;
    dmr_m_send(ms, from, &r);
    dmr_job_info_free(&r);
}

static void s_on_jobs(dmr_master_t *ms, const dmr_peer_t *from)
{
    dmr_msg_t r;
    dmr_msg_init(&r, DMR_MSG_JOB_LIST);
    r.items = dmr_calloc(ms->njobs, sizeof *r.items);
    r.nitems = ms->njobs;
    for (size_t i = 0; i < ms->njobs; i++) {
        dmr_job_sum_counters(ms->jobs[i]);
        dmr_job_info(ms->jobs[i], 0, 0, 0, &r.items[i]);
        const dmr_job_t *next = dmr_m_next_stage(ms, ms->jobs[i]);
        r.items[i].next = next ? next->id : 0;
    }
    dmr_m_send(ms, from, &r);
    free(r.items);
}

static void s_on_workers(dmr_master_t *ms, const dmr_peer_t *from)
{
    dmr_msg_t r;
    dmr_msg_init(&r, DMR_MSG_WORKER_LIST);
    r.items = dmr_calloc(ms->nworkers, sizeof *r.items);
    r.nitems = ms->nworkers;
    int64_t now = dmr_now_ms();
    for (size_t i = 0; i < ms->nworkers; i++) {
        dmr_mworker_t *w = &ms->workers[i];
        dmr_msg_t *it = &r.items[i];
        dmr_msg_init(it, DMR_MSG_WORKER_INFO);
        it->wid = w->wid;
        it->inc = w->inc;
        it->endpoint = w->endpoint;
        it->host = w->host ? w->host : "?";
        it->pid = w->pid;
        it->slots = w->slots;
        it->running = w->running;
        it->state = !w->alive ? "dead" : w->restored ? "awaited" : "alive";
        it->age_ms = now - w->hb.last;
        it->progress =
            (uint32_t)(dmr_hb_phi(&w->hb, now, ms->cfg->heartbeat_ms) * 100);
    }
    dmr_m_send(ms, from, &r);
    free(r.items);
}

/* --------------------------------------------------------------- cron */

static void s_detect(dmr_master_t *ms)
{
    int64_t now = dmr_now_ms();
    for (size_t i = 0; i < ms->nworkers; i++) {
        dmr_mworker_t *w = &ms->workers[i];
        if (!w->alive)
            continue;
        int64_t silence = now - w->hb.last;
        char why[96] = "";
        if (w->restored || !ms->cfg->phi) {
            if (silence > ms->cfg->dead_after_ms)
                snprintf(why, sizeof why, "%s for %lld ms",
                         w->restored ? "not back after the restart"
                                     : "no heartbeat",
                         (long long)silence);
        } else {
            double phi = dmr_hb_phi(&w->hb, now, ms->cfg->heartbeat_ms);
            if (phi > ms->cfg->phi_threshold)
                snprintf(why, sizeof why,
                         "phi %.1f > %.1f after %lld ms of silence", phi,
                         ms->cfg->phi_threshold, (long long)silence);
        }
        if (why[0])
            s_worker_lost(ms, w, why);
    }
}

/* --------------------------------------------------------------- loop */

static void s_dispatch(dmr_master_t *ms, const dmr_peer_t *from,
                       const dmr_msg_t *m)
{
    switch (m->type) {
    case DMR_MSG_REGISTER: s_on_register(ms, from, m); break;
    case DMR_MSG_HEARTBEAT: s_on_heartbeat(ms, from, m); break;
    case DMR_MSG_TASK_DONE: s_on_task_done(ms, from, m); break;
    case DMR_MSG_JOB_FETCH: s_on_job_fetch(ms, from, m); break;
    case DMR_MSG_MAP_QUERY: s_on_map_query(ms, from, m); break;
    case DMR_MSG_SUBMIT: s_on_submit(ms, from, m); break;
    case DMR_MSG_STATUS: s_on_status(ms, from, m); break;
    case DMR_MSG_JOBS: s_on_jobs(ms, from); break;
    case DMR_MSG_WORKERS: s_on_workers(ms, from); break;
    default:
        if (dmr_m_fs_dispatch(ms, from, m))
            break;
        dmr_warn("net", "dropping unexpected %s message",
                 dmr_msg_type_name(m->type));
        dmr_m_reply_error(ms, from, DMR_EPROTO, "unexpected message type");
    }
}

static void s_destroy(dmr_master_t *ms)
{
    for (size_t i = 0; i < ms->njobs; i++)
        dmr_job_destroy(&ms->jobs[i]);
    for (size_t i = 0; i < ms->nworkers; i++) {
        free(ms->workers[i].endpoint);
        free(ms->workers[i].host);
    }
    free(ms->jobs);
    free(ms->workers);
    free(ms->jobs_dir);
    free(ms->copies);
    free(ms->held);
    dmr_ns_destroy(&ms->ns);
    dmr_journal_close(&ms->jnl);
    dmr_net_close(&ms->sock);
    if (ms->zctx)
        zmq_ctx_term(ms->zctx);
}

int dmr_master_run(const dmr_master_config_t *cfg)
{
    dmr_master_t ms = {.cfg = cfg, .next_job = 1, .ns = dmr_ns_new()};
    dmr_ns_set_lease(ms.ns, cfg->write_lease_ms);
    int rc = 0, lockfd = -1;
    ms.jobs_dir = dmr_sprintf("%s/jobs", cfg->data_dir);
    if (dmr_mkdirs(ms.jobs_dir) != 0) {
        dmr_error("master", "cannot create data directory %s: %s", ms.jobs_dir,
                  strerror(errno));
        rc = DMR_EIO;
        goto out;
    }
    ms.zctx = zmq_ctx_new();
    ms.sock = dmr_net_socket(ms.zctx, ZMQ_ROUTER);
    if (!ms.sock || dmr_net_bind(ms.sock, cfg->bind, ms.endpoint,
                                 sizeof ms.endpoint) != 0) {
        dmr_error("master", "cannot bind %s: %s", cfg->bind,
                  zmq_strerror(errno));
        rc = DMR_EIO;
        goto out;
    }
    /* One master per data directory: a second one would interleave its
     * journal records with ours. The lock dies with the process. */
    char *lock = dmr_sprintf("%s/LOCK", cfg->data_dir);
    lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
        dmr_error("master", "cannot lock %s: %s", lock,
                  errno == EWOULDBLOCK
                      ? "another master is using this data directory"
                      : strerror(errno));
        free(lock);
        rc = DMR_EEXIST;
        goto out;
    }
    free(lock);
    rc = dmr_m_recover(&ms);
    if (rc)
        goto out;
    if (cfg->endpoint_file) {
        char adv[300];
        dmr_net_advertise(ms.endpoint, NULL, adv, sizeof adv);
        char line[320];
        int n = snprintf(line, sizeof line, "%s\n", adv);
        if (dmr_write_file_atomic(cfg->endpoint_file, line, (size_t)n) != 0) {
            dmr_error("master", "cannot write %s: %s", cfg->endpoint_file,
                      strerror(errno));
            rc = DMR_EIO;
            goto out;
        }
    }
    dmr_info("master", "listening on %s (data in %s; %s failure detector)",
             ms.endpoint, cfg->data_dir, cfg->phi ? "phi-accrual" : "fixed");

    struct sigaction sa = {.sa_handler = s_on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int64_t next_cron = dmr_now_ms(), next_fs = next_cron;
    while (!s_stop) {
        int64_t wait = next_cron - dmr_now_ms();
        if (wait < 0)
            wait = 0;
        zmq_pollitem_t it = {ms.sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, (long)wait);
        if (n < 0 && errno != EINTR) {
            dmr_error("master", "poll: %s", zmq_strerror(errno));
            rc = DMR_EIO;
            break;
        }
        /* Drain what is waiting, bounded so the cron still runs. */
        for (int k = 0; n > 0 && k < 1000; k++) {
            dmr_peer_t from;
            dmr_msg_t m;
            char err[256];
            int r = dmr_net_recv(ms.sock, &from, &m, err, sizeof err);
            if (r == DMR_EUNAVAIL)
                break;
            if (r != 0) {
                dmr_warn("net", "dropped a bad message: %s",
                         err[0] ? err : dmr_strerror(r));
                continue;
            }
            s_dispatch(&ms, &from, &m);
            dmr_msg_clear(&m);
        }
        if (ms.nheld)
            s_answer_held(&ms);
        if (dmr_now_ms() >= next_cron) {
            s_detect(&ms);
            dmr_m_watch_tasks(&ms);
            dmr_m_schedule(&ms);
            if (dmr_now_ms() >= next_fs) {
                dmr_m_fs_cron(&ms);
                next_fs = dmr_now_ms() + 500;
            }
            next_cron = dmr_now_ms() + CRON_MS;
        } else {
            dmr_m_schedule(&ms);
        }
    }
    if (s_stop)
        dmr_info("master", "stopping");
out:
    s_destroy(&ms);
    if (lockfd >= 0)
        close(lockfd);
    return rc;
}
