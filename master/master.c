/* master.c -- the dmr master daemon: registry, scheduler, client service.
 *
 * Events arrive as messages on the ROUTER: worker REGISTER / HEARTBEAT /
 * TASK_DONE / JOB_FETCH, client SUBMIT / STATUS / JOBS / WORKERS. The cron
 * declares workers dead after dead_after_ms of silence -- their running
 * tasks and the map outputs on their disks go back to idle -- and then
 * schedules: each live worker with a free slot gets the next idle task of
 * the oldest running job. */
#include "master/master.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/net.h"
#include "common/util.h"
#include "master/job.h"

#define CRON_MS 100

typedef struct {
    char wid[32];
    uint64_t inc;    /* incarnation: bumps when a worker re-registers */
    dmr_peer_t peer; /* routing id on the master's ROUTER */
    char *endpoint;  /* where its shuffle server listens */
    char *host;
    int64_t pid;
    uint32_t slots;
    uint32_t running; /* attempts assigned and not finished */
    int alive;
    int64_t last_seen; /* monotonic ms */
} worker_t;

typedef struct {
    const dmr_master_config_t *cfg;
    void *zctx;
    void *sock;
    char endpoint[256];
    worker_t *workers;
    size_t nworkers;
    uint32_t next_wid;
    dmr_job_t **jobs;
    size_t njobs;
    uint64_t next_job;
    char *jobs_dir; /* data_dir/jobs: job objects by hash */
} master_t;

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

/* ------------------------------------------------------------ helpers */

static void s_send(master_t *ms, const dmr_peer_t *to, const dmr_msg_t *m)
{
    int rc = dmr_net_send(ms->sock, to, m);
    if (rc)
        dmr_debug("net", "cannot send %s: %s", dmr_msg_type_name(m->type),
                  dmr_strerror(rc));
}

static void s_reply_error(master_t *ms, const dmr_peer_t *to, int status,
                          const char *text)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_ERROR);
    m.status = status;
    m.error = text;
    s_send(ms, to, &m);
}

static worker_t *s_worker_by_wid(master_t *ms, const char *wid)
{
    for (size_t i = 0; i < ms->nworkers; i++)
        if (!strcmp(ms->workers[i].wid, wid))
            return &ms->workers[i];
    return NULL;
}

static dmr_job_t *s_job(master_t *ms, uint64_t id)
{
    for (size_t i = 0; i < ms->njobs; i++)
        if (ms->jobs[i]->id == id)
            return ms->jobs[i];
    return NULL;
}

static char *s_job_object_path(master_t *ms, const char *hash)
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

/* Tells every live worker that a job's intermediate files may go. */
static void s_broadcast_cancel(master_t *ms, uint64_t job)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_CANCEL);
    m.job = job;
    for (size_t i = 0; i < ms->nworkers; i++)
        if (ms->workers[i].alive)
            s_send(ms, &ms->workers[i].peer, &m);
}

static void s_job_finished(master_t *ms, dmr_job_t *job)
{
    if (job->state == DMR_JOB_SUCCEEDED) {
        char *tmp = dmr_sprintf("%s/_temporary", job->output);
        dmr_rmtree(tmp);
        free(tmp);
        char *ok = dmr_sprintf("%s/_SUCCESS", job->output);
        if (dmr_write_file_atomic(ok, "", 0) != 0) {
            job->state = DMR_JOB_FAILED;
            job->error =
                dmr_sprintf("cannot write %s: %s", ok, strerror(errno));
        }
        free(ok);
    }
    if (job->state == DMR_JOB_SUCCEEDED)
        dmr_info("job", "job %llu (%s) succeeded in %.2fs",
                 (unsigned long long)job->id, job->name,
                 (double)(job->end_ms - job->start_ms) / 1000.0);
    else
        dmr_warn("job", "job %llu (%s) failed: %s", (unsigned long long)job->id,
                 job->name, job->error ? job->error : "?");
    s_broadcast_cancel(ms, job->id);
}

/* ----------------------------------------------------- failure handling */

/* Puts back to idle what a lost worker held: its running attempts, and
 * the done map tasks whose output lived on its disk while some reduce of
 * the job still needs it. */
static void s_worker_lost(master_t *ms, worker_t *w, const char *why)
{
    w->alive = 0;
    uint32_t rerun = 0;
    for (size_t j = 0; j < ms->njobs; j++) {
        dmr_job_t *job = ms->jobs[j];
        if (job->state != DMR_JOB_RUNNING)
            continue;
        for (int kind = 0; kind < 2; kind++) {
            uint32_t n = kind == DMR_TASK_MAP ? job->nmap : job->nreduce;
            for (uint32_t i = 0; i < n; i++) {
                dmr_task_t *t = dmr_job_task(job, (uint32_t)kind, i);
                for (size_t a = 0; a < t->natt; a++) {
                    if (t->att[a].state == DMR_ATT_RUNNING &&
                        !strcmp(t->att[a].wid, w->wid)) {
                        dmr_job_finish_attempt(job, t, t->att[a].n,
                                               DMR_ATT_LOST, why, NULL,
                                               UINT32_MAX);
                        rerun++;
                    }
                }
                if (kind == DMR_TASK_MAP && t->state == DMR_TASK_DONE &&
                    !strcmp(t->out_wid, w->wid) &&
                    job->reduces_done < job->nreduce) {
                    dmr_attempt_t *a = dmr_task_attempt(t, t->out_att);
                    if (a)
                        a->state = DMR_ATT_LOST;
                    t->state = DMR_TASK_IDLE;
                    t->out_wid[0] = '\0';
                    job->maps_done--;
                    rerun++;
                }
            }
        }
    }
    w->running = 0;
    dmr_warn("workers", "worker %s lost (%s): re-running %u tasks", w->wid, why,
             rerun);
}

/* ------------------------------------------------------------- workers */

static void s_on_register(master_t *ms, const dmr_peer_t *from,
                          const dmr_msg_t *m)
{
    worker_t *w = m->wid ? s_worker_by_wid(ms, m->wid) : NULL;
    if (w && w->alive && w->inc == m->inc && w->pid == m->pid) {
        w->peer = *from; /* a repeated REGISTER: same worker, same run */
    } else {
        if (w && w->alive)
            s_worker_lost(ms, w, "re-registered");
        if (!w) {
            ms->workers = dmr_realloc(ms->workers,
                                      (ms->nworkers + 1) * sizeof *ms->workers);
            w = &ms->workers[ms->nworkers++];
            memset(w, 0, sizeof *w);
            snprintf(w->wid, sizeof w->wid, "w%u", ++ms->next_wid);
        }
        w->inc++;
        free(w->endpoint);
        free(w->host);
        w->endpoint = dmr_strdup(m->endpoint);
        w->host = dmr_strdup(m->host);
        w->pid = m->pid;
        w->slots = m->slots ? m->slots : 1;
        w->running = 0;
        w->peer = *from;
        w->alive = 1;
        dmr_info("workers", "worker %s registered: %s pid %lld on %s, %u slots",
                 w->wid, w->endpoint, (long long)w->pid, w->host, w->slots);
    }
    w->last_seen = dmr_now_ms();
    dmr_msg_t r;
    dmr_msg_init(&r, DMR_MSG_WELCOME);
    r.wid = w->wid;
    r.inc = w->inc;
    r.interval = (uint32_t)ms->cfg->heartbeat_ms;
    s_send(ms, from, &r);
}

/* A message from a worker we do not know (or know as dead) gets ERROR
 * ENOENT, which makes it register again. */
static worker_t *s_known_worker(master_t *ms, const dmr_peer_t *from,
                                const char *wid, uint64_t inc)
{
    worker_t *w = s_worker_by_wid(ms, wid);
    if (w && w->alive && w->inc == inc) {
        w->peer = *from;
        w->last_seen = dmr_now_ms();
        return w;
    }
    s_reply_error(ms, from, DMR_ENOENT, "unknown worker: register again");
    return NULL;
}

static void s_on_heartbeat(master_t *ms, const dmr_peer_t *from,
                           const dmr_msg_t *m)
{
    s_known_worker(ms, from, m->wid, m->inc);
}

static void s_on_task_done(master_t *ms, const dmr_peer_t *from,
                           const dmr_msg_t *m)
{
    worker_t *w = s_worker_by_wid(ms, m->wid);
    if (!w || !w->alive || w->peer.len != from->len ||
        memcmp(w->peer.id, from->id, from->len)) {
        dmr_info("sched",
                 "ignoring a result from %s, which is not a live "
                 "worker",
                 m->wid);
        return;
    }
    w->last_seen = dmr_now_ms();
    if (w->running > 0)
        w->running--;
    dmr_job_t *job = s_job(ms, m->job);
    dmr_task_t *t = job ? dmr_job_task(job, m->kind, m->task) : NULL;
    dmr_attempt_t *a = t ? dmr_task_attempt(t, m->attempt) : NULL;
    if (!a || strcmp(a->wid, w->wid) || a->state != DMR_ATT_RUNNING)
        return; /* stale: the attempt was given up already */
    const char *kind = m->kind == DMR_TASK_MAP ? "map" : "reduce";
    int changed;
    if (m->status == 0) {
        dmr_debug("sched", "job %llu %s %u attempt %u done on %s",
                  (unsigned long long)job->id, kind, m->task, m->attempt,
                  w->wid);
        int was_done = t->state == DMR_TASK_DONE;
        changed = dmr_job_finish_attempt(job, t, m->attempt, DMR_ATT_OK, NULL,
                                         w->endpoint,
                                         (uint32_t)ms->cfg->max_attempts);
        if (!was_done)
            dmr_job_add_counters(job, m);
    } else {
        dmr_warn("sched", "job %llu %s %u attempt %u failed on %s: %s",
                 (unsigned long long)job->id, kind, m->task, m->attempt, w->wid,
                 m->error ? m->error : "(no message)");
        changed = dmr_job_finish_attempt(job, t, m->attempt, DMR_ATT_FAILED,
                                         m->error ? m->error : "failed", NULL,
                                         (uint32_t)ms->cfg->max_attempts);
    }
    if (changed)
        s_job_finished(ms, job);
}

static void s_on_job_fetch(master_t *ms, const dmr_peer_t *from,
                           const dmr_msg_t *m)
{
    if (!s_valid_hash(m->hash)) {
        s_reply_error(ms, from, DMR_EINVAL, "not a job object hash");
        return;
    }
    char *path = s_job_object_path(ms, m->hash);
    dmr_buf_t data = DMR_BUF_INIT;
    int rc = dmr_read_file(path, DMR_MSG_BLOB_MAX, &data);
    if (rc || m->offset > data.len) {
        s_reply_error(ms, from, rc ? rc : DMR_EINVAL, "no such job object");
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
        s_send(ms, from, &r);
    }
    dmr_buf_free(&data);
    free(path);
}

/* ------------------------------------------------------------- clients */

static void s_on_submit(master_t *ms, const dmr_peer_t *from,
                        const dmr_msg_t *m)
{
    char err[512];
    char hash[65];
    if (!s_valid_hash(m->hash)) {
        s_reply_error(ms, from, DMR_EINVAL, "job object hash is malformed");
        return;
    }
    dmr_sha256_hex(m->blob, m->blob_len, hash);
    if (strcmp(hash, m->hash)) {
        s_reply_error(ms, from, DMR_ECORRUPT,
                      "job object does not match its hash");
        return;
    }
    dmr_job_t *job = NULL;
    if (dmr_job_new(ms->next_job, m, &job, err, sizeof err) != 0) {
        s_reply_error(ms, from, DMR_EINVAL, err);
        return;
    }
    char *path = s_job_object_path(ms, hash);
    struct stat st;
    if (stat(path, &st) != 0 &&
        dmr_write_file_atomic(path, m->blob, m->blob_len) != 0) {
        snprintf(err, sizeof err,
                 "master cannot store the job object at %s: %s", path,
                 strerror(errno));
        s_reply_error(ms, from, DMR_EIO, err);
        dmr_job_destroy(&job);
        free(path);
        return;
    }
    free(path);
    ms->next_job++;
    ms->jobs = dmr_realloc(ms->jobs, (ms->njobs + 1) * sizeof *ms->jobs);
    ms->jobs[ms->njobs++] = job;
    dmr_info("job",
             "job %llu (%s) submitted: %zu files, %u maps, %u reduces, "
             "output %s",
             (unsigned long long)job->id, job->name, job->nfiles, job->nmap,
             job->nreduce, job->output);
    dmr_msg_t r;
    dmr_msg_init(&r, DMR_MSG_SUBMITTED);
    r.job = job->id;
    s_send(ms, from, &r);
    if (job->nmap == 0 && job->nreduce == 0)
        s_job_finished(ms, job);
}

static void s_on_status(master_t *ms, const dmr_peer_t *from,
                        const dmr_msg_t *m)
{
    dmr_job_t *job = m->job ? s_job(ms, m->job)
                            : (ms->njobs ? ms->jobs[ms->njobs - 1] : NULL);
    if (!job) {
        char err[64];
        snprintf(err, sizeof err, "no such job: %llu",
                 (unsigned long long)m->job);
        s_reply_error(ms, from, DMR_ENOENT, m->job ? err : "no jobs yet");
        return;
    }
    dmr_msg_t r;
    dmr_job_info(job, 1, &r);
    s_send(ms, from, &r);
    dmr_job_info_free(&r);
}

static void s_on_jobs(master_t *ms, const dmr_peer_t *from)
{
    dmr_msg_t r;
    dmr_msg_init(&r, DMR_MSG_JOB_LIST);
    r.items = dmr_calloc(ms->njobs, sizeof *r.items);
    r.nitems = ms->njobs;
    for (size_t i = 0; i < ms->njobs; i++)
        dmr_job_info(ms->jobs[i], 0, &r.items[i]);
    s_send(ms, from, &r);
    free(r.items);
}

static void s_on_workers(master_t *ms, const dmr_peer_t *from)
{
    dmr_msg_t r;
    dmr_msg_init(&r, DMR_MSG_WORKER_LIST);
    r.items = dmr_calloc(ms->nworkers, sizeof *r.items);
    r.nitems = ms->nworkers;
    int64_t now = dmr_now_ms();
    for (size_t i = 0; i < ms->nworkers; i++) {
        worker_t *w = &ms->workers[i];
        dmr_msg_t *it = &r.items[i];
        dmr_msg_init(it, DMR_MSG_WORKER_INFO);
        it->wid = w->wid;
        it->inc = w->inc;
        it->endpoint = w->endpoint;
        it->host = w->host;
        it->pid = w->pid;
        it->slots = w->slots;
        it->running = w->running;
        it->state = w->alive ? "alive" : "dead";
        it->age_ms = now - w->last_seen;
    }
    s_send(ms, from, &r);
    free(r.items);
}

/* ------------------------------------------------------------ scheduler */

static void s_assign(master_t *ms, worker_t *w, dmr_job_t *job, dmr_task_t *t)
{
    uint32_t att = dmr_job_start_attempt(job, t, w->wid);
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
        m.items = dmr_calloc(job->nmap, sizeof *m.items);
        m.nitems = job->nmap;
        for (uint32_t i = 0; i < job->nmap; i++) {
            dmr_msg_t *loc = &m.items[i];
            dmr_msg_init(loc, DMR_MSG_MAP_LOC);
            loc->task = i;
            loc->attempt = job->maps[i].out_att;
            loc->endpoint = job->maps[i].out_endpoint;
            loc->wid = job->maps[i].out_wid;
        }
    }
    int rc = dmr_net_send(ms->sock, &w->peer, &m);
    if (t->kind == DMR_TASK_REDUCE)
        free(m.items);
    if (rc) {
        dmr_warn("sched", "cannot reach worker %s: %s", w->wid,
                 dmr_strerror(rc));
        dmr_job_finish_attempt(job, t, att, DMR_ATT_LOST, "worker unreachable",
                               NULL, UINT32_MAX);
        return;
    }
    w->running++;
    dmr_debug(
        "sched", "job %llu %s %u attempt %u -> %s", (unsigned long long)job->id,
        t->kind == DMR_TASK_MAP ? "map" : "reduce", t->index, att, w->wid);
}

static void s_schedule(master_t *ms)
{
    for (size_t j = 0; j < ms->njobs; j++) {
        dmr_job_t *job = ms->jobs[j];
        if (job->state != DMR_JOB_RUNNING)
            continue;
        /* Round-robin over workers so that tasks spread out. */
        int progress = 1;
        while (progress) {
            progress = 0;
            for (size_t i = 0; i < ms->nworkers; i++) {
                worker_t *w = &ms->workers[i];
                if (!w->alive || w->running >= w->slots)
                    continue;
                dmr_task_t *t = dmr_job_next_task(job);
                if (!t)
                    break;
                s_assign(ms, w, job, t);
                progress = 1;
            }
        }
    }
}

static void s_cron(master_t *ms)
{
    int64_t now = dmr_now_ms();
    for (size_t i = 0; i < ms->nworkers; i++) {
        worker_t *w = &ms->workers[i];
        if (w->alive && now - w->last_seen > ms->cfg->dead_after_ms) {
            char why[64];
            snprintf(why, sizeof why, "no heartbeat for %lld ms",
                     (long long)(now - w->last_seen));
            s_worker_lost(ms, w, why);
        }
    }
    s_schedule(ms);
}

/* --------------------------------------------------------------- loop */

static void s_dispatch(master_t *ms, const dmr_peer_t *from, const dmr_msg_t *m)
{
    switch (m->type) {
    case DMR_MSG_REGISTER: s_on_register(ms, from, m); break;
    case DMR_MSG_HEARTBEAT: s_on_heartbeat(ms, from, m); break;
    case DMR_MSG_TASK_DONE: s_on_task_done(ms, from, m); break;
    case DMR_MSG_JOB_FETCH: s_on_job_fetch(ms, from, m); break;
    case DMR_MSG_SUBMIT: s_on_submit(ms, from, m); break;
    case DMR_MSG_STATUS: s_on_status(ms, from, m); break;
    case DMR_MSG_JOBS: s_on_jobs(ms, from); break;
    case DMR_MSG_WORKERS: s_on_workers(ms, from); break;
    default:
        dmr_warn("net", "dropping unexpected %s message",
                 dmr_msg_type_name(m->type));
        s_reply_error(ms, from, DMR_EPROTO, "unexpected message type");
    }
}

static void s_destroy(master_t *ms)
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
    dmr_net_close(&ms->sock);
    if (ms->zctx)
        zmq_ctx_term(ms->zctx);
}

int dmr_master_run(const dmr_master_config_t *cfg)
{
    master_t ms = {.cfg = cfg, .next_job = 1};
    int rc = 0;
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
    dmr_info("master", "listening on %s (data in %s)", ms.endpoint,
             cfg->data_dir);

    struct sigaction sa = {.sa_handler = s_on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int64_t next_cron = dmr_now_ms();
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
        if (dmr_now_ms() >= next_cron) {
            s_cron(&ms);
            next_cron = dmr_now_ms() + CRON_MS;
        } else {
            s_schedule(&ms);
        }
    }
    if (s_stop)
        dmr_info("master", "stopping");
out:
    s_destroy(&ms);
    return rc;
}
