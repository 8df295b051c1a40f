/* recover.c -- the master's journal: what it writes, and the replay.
 *
 * <data>/journal (common/journal.c: CRC per record, torn tail dropped)
 * holds one MessagePack message per record:
 *
 *   JNL_JOB      a submitted job: what SUBMIT said, minus the object bytes
 *                (kept in <data>/jobs/<sha256>.so), plus its id and time
 *   JNL_ATTEMPT  an attempt began ("running") or ended ("ok", "failed",
 *                "lost", "killed"); for an ok map, where its output is.
 *                "lost" for an attempt that was ok means its map output
 *                is gone.
 *   JNL_EVENT    a line of the job's event log
 *   JNL_JOB_END  the job succeeded or failed
 *
 * Commit points -- a job accepted, a task done, a job ended -- are
 * fsynced before anyone is told; the rest is written without a sync (a
 * killed master loses nothing the kernel has, and a lost "running" record
 * only means an attempt number is reused on a fresh directory).
 *
 * Replay feeds the records through the same job.c functions the live
 * master uses. Then attempts that were running are lost ("the master
 * restarted"); workers holding finished map outputs are expected back
 * (state "awaited") for dead_after_ms, and re-join with their outputs if
 * they re-register from the same shuffle endpoint; jobs that had finished
 * but not been closed are closed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "master/master_int.h"

static void s_append(dmr_master_t *ms, const dmr_msg_t *m, int sync)
{
    if (ms->replaying || !ms->jnl)
        return;
    dmr_buf_t b = DMR_BUF_INIT;
    int rc = dmr_msg_encode(m, &b);
    if (rc == 0)
        rc = dmr_journal_append(ms->jnl, b.data, b.len);
    if (rc == 0 && sync)
        rc = dmr_journal_sync(ms->jnl);
    if (rc)
        dmr_error("journal",
                  "cannot write a %s record: %s; a restart "
                  "would not know of it",
                  dmr_msg_type_name(m->type), dmr_strerror(rc));
    dmr_buf_free(&b);
}

void dmr_m_log_job(dmr_master_t *ms, const dmr_job_t *job)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_JNL_JOB);
    m.job = job->id;
    m.name = job->name;
    m.hash = job->hash;
    m.output = job->output;
    m.nreduce = job->nreduce;
    m.flags = job->flags;
    m.start_ms = job->start_ms;
    m.params = job->params;
    m.nparams = job->nparams;
    m.items = dmr_calloc(job->nfiles + 1, sizeof *m.items);
    m.nitems = job->nfiles;
    for (size_t i = 0; i < job->nfiles; i++) {
        dmr_msg_init(&m.items[i], DMR_MSG_FILE_INFO);
        m.items[i].path = job->files[i].path;
        m.items[i].name = job->files[i].name;
        m.items[i].total = job->files[i].size;
        m.items[i].length = job->files[i].block;
    }
    s_append(ms, &m, 1);
    free(m.items);
}

void dmr_m_log_attempt(dmr_master_t *ms, const dmr_job_t *job,
                       const dmr_task_t *t, const dmr_attempt_t *a,
                       const char *endpoint, const dmr_msg_t *counters)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_JNL_ATTEMPT);
    m.job = job->id;
    m.kind = t->kind;
    m.task = t->index;
    m.attempt = a->n;
    m.wid = a->wid;
    m.state = dmr_att_state_name(a->state);
    m.start_ms = a->start_ms;
    m.end_ms = a->end_ms;
    m.error = a->error;
    m.flags = a->speculative ? 1 : 0;
    if (a->state == DMR_ATT_OK) {
        m.endpoint = endpoint;
        if (counters) {
            m.counters = counters->counters;
            m.ncounters = counters->ncounters;
        }
    }
    s_append(ms, &m, a->state == DMR_ATT_OK);
}

void dmr_m_log_event(dmr_master_t *ms, const dmr_job_t *job,
                     const dmr_job_event_t *e)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_JNL_EVENT);
    m.job = job->id;
    m.start_ms = e->ms;
    m.text = e->text;
    s_append(ms, &m, 0);
}

void dmr_m_log_end(dmr_master_t *ms, const dmr_job_t *job)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_JNL_JOB_END);
    m.job = job->id;
    m.state = dmr_job_state_name(job->state);
    m.end_ms = job->end_ms;
    m.error = job->error;
    s_append(ms, &m, 1);
}

void dmr_m_log_file(dmr_master_t *ms, const dmr_ns_file_t *f)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_JNL_FILE);
    m.job = f->id;
    m.path = f->path;
    m.total = f->size;
    m.replication = f->replication;
    m.start_ms = f->mtime_ms;
    m.items = dmr_calloc(f->nchunks + 1, sizeof *m.items);
    for (uint32_t i = 0; i < f->nchunks; i++) {
        const dmr_ns_chunk_t *c = dmr_ns_chunk(ms->ns, f->chunks[i]);
        dmr_msg_t *it = &m.items[m.nitems++];
        dmr_msg_init(it, DMR_MSG_CHUNK_INFO);
        it->chunk = f->chunks[i];
        it->length = c ? c->length : 0;
        it->version = c ? c->version : 1;
        it->part = i;
    }
    s_append(ms, &m, 1);
    free(m.items);
}

void dmr_m_log_fs_rm(dmr_master_t *ms, const char *path, int recursive)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_JNL_FS_RM);
    m.path = path;
    m.flags = recursive ? 1 : 0;
    s_append(ms, &m, 1);
}

void dmr_m_log_fs_mv(dmr_master_t *ms, const char *from, const char *to)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_JNL_FS_MV);
    m.path = from;
    m.output = to;
    s_append(ms, &m, 1);
}

void dmr_m_log_worker(dmr_master_t *ms, const char *wid, const char *node)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_JNL_WORKER);
    m.wid = wid;
    m.name = node;
    s_append(ms, &m, 1);
}

void dmr_m_log_ids(dmr_master_t *ms, uint64_t limit)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_JNL_IDS);
    m.offset = limit;
    s_append(ms, &m, 1);
}

/* -------------------------------------------------------------- replay */

static int s_replay_file(dmr_master_t *ms, const dmr_msg_t *m)
{
    size_t n = m->nitems;
    uint64_t *ids = dmr_calloc(n + 1, sizeof *ids);
    uint64_t *lens = dmr_calloc(n + 1, sizeof *lens);
    uint32_t *vers = dmr_calloc(n + 1, sizeof *vers);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (m->items[i].type != DMR_MSG_CHUNK_INFO) {
            rc = DMR_EINVAL;
            break;
        }
        ids[i] = m->items[i].chunk;
        lens[i] = m->items[i].length;
        vers[i] = m->items[i].version;
    }
    if (rc == 0)
        rc = dmr_ns_restore_file(ms->ns, m->job, m->path, m->total,
                                 m->replication, m->start_ms, ids, lens, vers,
                                 (uint32_t)n);
    free(ids);
    free(lens);
    free(vers);
    return rc;
}

static int s_att_state(const char *name, dmr_att_state_t *out)
{
    static const dmr_att_state_t all[] = {DMR_ATT_RUNNING, DMR_ATT_OK,
                                          DMR_ATT_FAILED, DMR_ATT_LOST,
                                          DMR_ATT_KILLED};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (!strcmp(name, dmr_att_state_name(all[i]))) {
            *out = all[i];
            return 0;
        }
    return -1;
}

static void s_note_wid(dmr_master_t *ms, const char *wid)
{
    unsigned n;
    if (sscanf(wid, "w%u", &n) == 1 && n > ms->next_wid)
        ms->next_wid = n;
}

/* A worker id handed out before the restart: known again, as dead until
 * it registers (then by its node id it gets the same id back). */
static void s_replay_worker(dmr_master_t *ms, const dmr_msg_t *m)
{
    s_note_wid(ms, m->wid);
    if (dmr_m_worker(ms, m->wid))
        return;
    ms->workers =
        dmr_realloc(ms->workers, (ms->nworkers + 1) * sizeof *ms->workers);
    dmr_mworker_t *w = &ms->workers[ms->nworkers++];
    memset(w, 0, sizeof *w);
    snprintf(w->wid, sizeof w->wid, "%s", m->wid);
    snprintf(w->node, sizeof w->node, "%s", m->name);
    w->endpoint = dmr_strdup("");
}

typedef struct {
    dmr_master_t *ms;
    uint64_t n;
    uint64_t skipped;
} replay_t;

static void s_replay_attempt(dmr_master_t *ms, dmr_job_t *job,
                             const dmr_msg_t *m, replay_t *rp)
{
    dmr_task_t *t = dmr_job_task(job, m->kind, m->task);
    dmr_att_state_t st;
    if (!t || s_att_state(m->state, &st) != 0) {
        rp->skipped++;
        return;
    }
    s_note_wid(ms, m->wid);
    if (st == DMR_ATT_RUNNING) {
        /* Attempt numbers are dense; fill a gap left by a lost record. */
        while (t->natt + 1 < m->attempt) {
            uint32_t n = dmr_job_start_attempt(job, t, m->wid, m->start_ms, 0);
            dmr_job_finish_attempt(job, t, n, DMR_ATT_LOST,
                                   "not recorded before a master restart", NULL,
                                   UINT32_MAX, m->start_ms);
        }
        if (t->natt + 1 != m->attempt) {
            rp->skipped++;
            return;
        }
        uint32_t n =
            dmr_job_start_attempt(job, t, m->wid, m->start_ms, dmr_now_ms());
        dmr_task_attempt(t, n)->speculative = (m->flags & 1) != 0;
        return;
    }
    dmr_attempt_t *a = dmr_task_attempt(t, m->attempt);
    if (!a) {
        rp->skipped++;
        return;
    }
    if (a->state == DMR_ATT_RUNNING) {
        int was_done = t->state == DMR_TASK_DONE;
        dmr_job_finish_attempt(job, t, m->attempt, st, m->error, m->endpoint,
                               (uint32_t)ms->cfg->max_attempts, m->end_ms);
        if (st == DMR_ATT_OK && !was_done)
            dmr_task_set_counters(t, m);
        if (st == DMR_ATT_FAILED)
            dmr_job_count_failure(job, a->wid,
                                  (uint32_t)ms->cfg->blacklist_after);
    } else if (a->state == DMR_ATT_OK && st == DMR_ATT_LOST &&
               t->out_att == a->n) {
        dmr_job_map_output_lost(job, t, m->error ? m->error : "lost");
    }
}

static int s_replay(void *arg, const void *data, size_t len)
{
    replay_t *rp = arg;
    dmr_master_t *ms = rp->ms;
    dmr_msg_t m;
    char err[256];
    rp->n++;
    if (dmr_msg_decode(data, len, &m, err, sizeof err) != 0) {
        dmr_warn("journal", "record %llu does not decode (%s); skipped",
                 (unsigned long long)rp->n, err);
        rp->skipped++;
        return 0;
    }
    dmr_job_t *job = m.type == DMR_MSG_JNL_JOB ? NULL : dmr_m_job(ms, m.job);
    switch (m.type) {
    case DMR_MSG_JNL_JOB: {
        if (dmr_m_job(ms, m.job)) {
            rp->skipped++;
            break;
        }
        if (dmr_job_new(m.job, &m, m.start_ms, &job, err, sizeof err) != 0) {
            dmr_warn("journal", "job %llu cannot be rebuilt: %s",
                     (unsigned long long)m.job, err);
            rp->skipped++;
            break;
        }
        ms->jobs = dmr_realloc(ms->jobs, (ms->njobs + 1) * sizeof *ms->jobs);
        ms->jobs[ms->njobs++] = job;
        if (m.job >= ms->next_job)
            ms->next_job = m.job + 1;
        break;
    }
    case DMR_MSG_JNL_ATTEMPT:
        if (job)
            s_replay_attempt(ms, job, &m, rp);
        else
            rp->skipped++;
        break;
    case DMR_MSG_JNL_EVENT:
        if (job)
            dmr_job_event(job, m.start_ms, "%s", m.text);
        else
            rp->skipped++;
        break;
    case DMR_MSG_JNL_JOB_END:
        if (!job) {
            rp->skipped++;
            break;
        }
        job->state =
            !strcmp(m.state, "succeeded") ? DMR_JOB_SUCCEEDED : DMR_JOB_FAILED;
        job->end_ms = m.end_ms;
        free(job->error);
        job->error = m.error ? dmr_strdup(m.error) : NULL;
        job->ended = 1;
        break;
    case DMR_MSG_JNL_FILE:
        if (s_replay_file(ms, &m) != 0)
            rp->skipped++;
        break;
    case DMR_MSG_JNL_FS_RM:
        if (dmr_ns_remove(ms->ns, m.path, (m.flags & 1) != 0) < 0)
            rp->skipped++;
        break;
    case DMR_MSG_JNL_FS_MV:
        if (dmr_ns_rename(ms->ns, m.path, m.output) != 0)
            rp->skipped++;
        break;
    case DMR_MSG_JNL_IDS: dmr_ns_reserve_ids(ms->ns, m.offset); break;
    case DMR_MSG_JNL_WORKER: s_replay_worker(ms, &m); break;
    default:
        dmr_warn("journal",
                 "record %llu is a %s, not a journal record; "
                 "skipped",
                 (unsigned long long)rp->n, dmr_msg_type_name(m.type));
        rp->skipped++;
    }
    dmr_msg_clear(&m);
    return 0;
}

/* A worker that held map outputs before the restart: expected back. */
static void s_await_worker(dmr_master_t *ms, const char *wid,
                           const char *endpoint)
{
    if (!wid[0])
        return;
    dmr_mworker_t *w = dmr_m_worker(ms, wid);
    if (w && w->alive)
        return;
    if (!w) {
        ms->workers =
            dmr_realloc(ms->workers, (ms->nworkers + 1) * sizeof *ms->workers);
        w = &ms->workers[ms->nworkers++];
        memset(w, 0, sizeof *w);
        snprintf(w->wid, sizeof w->wid, "%s", wid);
    }
    free(w->endpoint);
    w->endpoint = dmr_strdup(endpoint ? endpoint : "");
    w->alive = 1;
    w->restored = 1;
    w->hb.last = dmr_now_ms();
}

int dmr_m_recover(dmr_master_t *ms)
{
    char *path = dmr_sprintf("%s/journal", ms->cfg->data_dir);
    char err[512] = "";
    dmr_journal_info_t info;
    replay_t rp = {.ms = ms};
    ms->replaying = 1;
    int rc =
        dmr_journal_open(path, s_replay, &rp, &ms->jnl, &info, err, sizeof err);
    ms->replaying = 0;
    if (rc) {
        dmr_error("master", "cannot open the journal: %s", err);
        dmr_error("master", "the journal is kept as it is; move it aside to "
                            "start without the jobs it records");
        free(path);
        return rc;
    }
    dmr_ns_replayed(ms->ns);
    /* Garbage of the replay (files removed) has no replicas to delete:
     * locations come from the workers, which report what they hold. */
    dmr_ns_chunk_t *g;
    dmr_ns_chunks_free(g, dmr_ns_take_garbage(ms->ns, &g));
    if (info.dropped)
        dmr_warn("journal", "%s: dropped %llu bytes of torn tail (%s)", path,
                 (unsigned long long)info.dropped, info.why);
    if (rp.skipped)
        dmr_warn("journal",
                 "%llu of %llu records did not apply and were "
                 "skipped",
                 (unsigned long long)rp.skipped, (unsigned long long)rp.n);
    size_t unfinished = 0;
    for (size_t j = 0; j < ms->njobs; j++) {
        dmr_job_t *job = ms->jobs[j];
        for (int kind = 0; kind < 2; kind++) {
            uint32_t n = kind == DMR_TASK_MAP ? job->nmap : job->nreduce;
            for (uint32_t i = 0; i < n; i++) {
                dmr_task_t *t = dmr_job_task(job, (uint32_t)kind, i);
                for (size_t a = 0; a < t->natt; a++)
                    s_note_wid(ms, t->att[a].wid);
                if (job->state != DMR_JOB_RUNNING)
                    continue;
                for (size_t a = 0; a < t->natt; a++)
                    if (t->att[a].state == DMR_ATT_RUNNING)
                        dmr_m_finish(ms, job, t, t->att[a].n, DMR_ATT_LOST,
                                     "the master restarted", NULL, NULL);
                if (kind == DMR_TASK_MAP && t->state == DMR_TASK_DONE)
                    s_await_worker(ms, t->out_wid, t->out_endpoint);
            }
        }
        if (job->state == DMR_JOB_RUNNING) {
            unfinished++;
            dmr_m_event(ms, job,
                        "master restarted: resuming with %u of %u maps and "
                        "%u of %u reduces done",
                        job->maps_done, job->nmap, job->reduces_done,
                        job->nreduce);
        } else if (!job->ended) {
            dmr_m_job_finished(ms, job);
        }
    }
    if (rp.n > 0)
        dmr_info("master",
                 "journal %s: %llu records, %zu jobs, %zu to "
                 "resume",
                 path, (unsigned long long)info.records, ms->njobs, unfinished);
    free(path);
    return 0;
}
