/* worker.c -- the dmr worker daemon: task launcher and shuffle server.
 *
 * Life of a task: the master sends TASK; if the job object (by SHA-256) is
 * not in <data>/cache yet, the worker pulls it from the master in pieces
 * (JOB_FETCH / JOB_BLOB) and queues the task meanwhile. It then forks
 * `dmr task` on an attempt directory, reads the child's TASK_DONE from a
 * pipe when the child exits, and forwards it -- or, when the child died,
 * a failure naming the signal or exit status with the tail of its stderr.
 * While the child runs it sends PROGRESS frames on the same pipe; the
 * latest of each rides on the next HEARTBEAT, which is how the master
 * sees hung tasks and stragglers. CANCEL of one attempt (a losing
 * speculative copy, a timed-out task) kills that child and removes its
 * files; CANCEL of a whole job removes everything the job left here.
 *
 * The shuffle server answers FETCH(job, map task, attempt, partition,
 * offset, length) with at most DMR_MSG_PIECE bytes of that partition of
 * the committed run file, so no transfer is ever one giant frame. */
#include "worker/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/net.h"
#include "common/util.h"
#include "shuffle/run.h"
#include "worker/chunkserver.h"
#include "worker/task.h"

#define REGISTER_RETRY_MS 1000
#define CRON_MS 100
#define REAP_MS 1 /* see the main loop */
#define CHUNK_REPORT_MS 60000
#define INDEX_CACHE 32
#define STDERR_TAIL 2000

typedef struct {
    pid_t pid;
    int fd;         /* read end of the child's stdout; -1 at EOF */
    dmr_buf_t out;  /* frames not parsed yet */
    dmr_msg_t done; /* the child's TASK_DONE, once it arrived */
    int have_done;
    int cancelled; /* killed on the master's word: report nothing */
    uint32_t ppm;  /* latest progress */
    uint64_t work;
    char phase[16];
    uint64_t job;
    uint32_t kind, task, attempt;
    char *dir;        /* attempt directory */
    int64_t start_ms; /* wall clock */
} child_t;

typedef struct {
    dmr_buf_t msg; /* the encoded TASK message */
    char hash[65];
} pending_t;

typedef struct {
    char *path;
    uint64_t job;
    int fd;
    uint32_t nparts;
    dmr_run_part_t *parts;
    int64_t used;
} run_index_t;

typedef struct {
    const dmr_worker_config_t *cfg;
    void *zctx;
    void *master;       /* DEALER to the master */
    void *shuffle;      /* ROUTER serving map outputs */
    char endpoint[300]; /* advertised shuffle endpoint */
    char host[256];
    char wid[32];
    uint64_t inc;
    int registered;
    int heartbeat_ms;
    int64_t next_register, next_heartbeat;
    child_t *children;
    size_t nchildren;
    pending_t *pending;
    size_t npending;
    char fetching[65]; /* job object being downloaded, "" if none */
    int64_t fetch_sent;
    run_index_t idx[INDEX_CACHE];
    char *cache_dir, *jobs_dir;
    dmr_cs_t *cs;  /* chunk replicas */
    char node[40]; /* the data directory id: same directory, same worker */
    int64_t next_report; /* next full replica report */
} worker_t;

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static void s_send_master(worker_t *w, const dmr_msg_t *m)
{
    int rc = dmr_net_send(w->master, NULL, m);
    if (rc)
        dmr_debug("net", "cannot send %s to the master: %s",
                  dmr_msg_type_name(m->type), dmr_strerror(rc));
}

static void s_register(worker_t *w)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_REGISTER);
    m.host = w->host;
    m.pid = getpid();
    m.endpoint = w->endpoint;
    m.slots = (uint32_t)w->cfg->slots;
    if (w->wid[0]) {
        m.wid = w->wid;
        m.inc = w->inc;
    }
    m.name = w->node;
    m.nitems = dmr_cs_report(w->cs, &m.items);
    s_send_master(w, &m);
    free(m.items);
    w->next_register = dmr_now_ms() + REGISTER_RETRY_MS;
}

/* Reads <data>/node-id, making it the first time: 32 random hex digits
 * that tell the master a restarted process is the same worker, holding
 * the same replicas. */
static int s_node_id(worker_t *w)
{
    char *path = dmr_sprintf("%s/node-id", w->cfg->data_dir);
    dmr_buf_t b = DMR_BUF_INIT;
    int rc = dmr_read_file(path, 64, &b);
    if (rc == 0 && b.len >= 32) {
        snprintf(w->node, sizeof w->node, "%.32s", b.data);
    } else {
        unsigned char r[16];
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, r, sizeof r) : -1;
        if (fd >= 0)
            close(fd);
        if (n != (ssize_t)sizeof r) {
            uint64_t x = dmr_hash64(w->host, strlen(w->host)) ^
                         (uint64_t)getpid() ^ (uint64_t)dmr_wall_ms();
            memcpy(r, &x, 8);
            memcpy(r + 8, &x, 8);
        }
        for (size_t i = 0; i < sizeof r; i++)
            snprintf(w->node + 2 * i, 3, "%02x", r[i]);
        rc = dmr_write_file_atomic(path, w->node, 32);
    }
    dmr_buf_free(&b);
    free(path);
    return rc;
}

static char *s_object_path(worker_t *w, const char *hash)
{
    return dmr_sprintf("%s/%s.so", w->cache_dir, hash);
}

static int s_have_object(worker_t *w, const char *hash)
{
    char *p = s_object_path(w, hash);
    struct stat st;
    int ok = stat(p, &st) == 0;
    free(p);
    return ok;
}

static void s_remove_attempt(worker_t *w, uint64_t job, uint32_t kind,
                             uint32_t task, uint32_t att, const char *dir);

/* ---------------------------------------------------------- task results */

static void s_report(worker_t *w, const child_t *c, int64_t status,
                     const char *error, const dmr_msg_t *done)
{
    dmr_msg_t m;
    if (done)
        m = *done;
    else
        dmr_msg_init(&m, DMR_MSG_TASK_DONE);
    m.type = DMR_MSG_TASK_DONE;
    m.wid = w->wid;
    m.job = c->job;
    m.kind = c->kind;
    m.task = c->task;
    m.attempt = c->attempt;
    m.status = status;
    if (error)
        m.error = error;
    m.owned_ = NULL;
    m.nowned_ = 0;
    s_send_master(w, &m);
}

static char *s_stderr_tail(const char *dir)
{
    char *path = dmr_sprintf("%s/stderr", dir);
    char *tail = NULL;
    int fd = open(path, O_RDONLY);
    free(path);
    if (fd < 0)
        return dmr_strdup("");
    off_t end = lseek(fd, 0, SEEK_END);
    off_t start = end > STDERR_TAIL ? end - STDERR_TAIL : 0;
    tail = dmr_calloc(STDERR_TAIL + 1, 1);
    ssize_t n = pread(fd, tail, STDERR_TAIL, start);
    close(fd);
    if (n < 0)
        n = 0;
    tail[n] = '\0';
    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == ' '))
        tail[--n] = '\0';
    return tail;
}

/* The child has closed its stdout and exited; report how it went. */
static void s_child_finished(worker_t *w, size_t i, int wstatus)
{
    child_t *c = &w->children[i];
    const char *kind = c->kind == DMR_TASK_MAP ? "map" : "reduce";
    if (c->cancelled) {
        dmr_debug("task", "job %llu %s %u attempt %u cancelled",
                  (unsigned long long)c->job, kind, c->task, c->attempt);
        s_remove_attempt(w, c->job, c->kind, c->task, c->attempt, c->dir);
    } else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 &&
               c->have_done) {
        dmr_debug("task", "job %llu %s %u attempt %u finished (status %lld)",
                  (unsigned long long)c->job, kind, c->task, c->attempt,
                  (long long)c->done.status);
        s_report(w, c, c->done.status, NULL, &c->done);
    } else {
        char how[128];
        if (WIFSIGNALED(wstatus))
            snprintf(how, sizeof how, "killed by signal %d (%s)",
                     WTERMSIG(wstatus), strsignal(WTERMSIG(wstatus)));
        else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0)
            snprintf(how, sizeof how, "exited with status %d",
                     WEXITSTATUS(wstatus));
        else
            snprintf(how, sizeof how, "exited without reporting a result");
        char *tail = s_stderr_tail(c->dir);
        char *msg = dmr_sprintf("%s task %u attempt %u on %s %s%s%s", kind,
                                c->task, c->attempt, w->wid, how,
                                tail[0] ? "; stderr: " : "", tail);
        dmr_warn("task", "%s", msg);
        s_report(w, c, DMR_EJOB, msg, NULL);
        free(msg);
        free(tail);
    }
    if (c->fd >= 0)
        close(c->fd);
    dmr_msg_clear(&c->done);
    dmr_buf_free(&c->out);
    free(c->dir);
    w->children[i] = w->children[--w->nchildren];
}

static void s_reap(worker_t *w)
{
    for (size_t i = 0; i < w->nchildren;) {
        child_t *c = &w->children[i];
        if (c->fd >= 0) {
            i++;
            continue;
        }
        int st;
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid) {
            s_child_finished(w, i, st);
            continue;
        }
        i++;
    }
}

/* Decodes the complete frames in c->out: PROGRESS updates the child's
 * progress, TASK_DONE is kept for when the child exits. Anything else, or
 * a frame that does not decode, is logged and dropped. */
static void s_child_frames(child_t *c)
{
    size_t off = 0;
    const uint8_t *p = (const uint8_t *)c->out.data;
    while (c->out.len - off >= 4) {
        size_t n = (size_t)p[off] | (size_t)p[off + 1] << 8 |
                   (size_t)p[off + 2] << 16 | (size_t)p[off + 3] << 24;
        if (n > DMR_MSG_MAX) {
            dmr_warn("task",
                     "task %u sent a frame of %zu bytes; ignoring "
                     "the rest of its output",
                     c->task, n);
            off = c->out.len;
            break;
        }
        if (c->out.len - off - 4 < n)
            break;
        dmr_msg_t m;
        char err[256];
        if (dmr_msg_decode(p + off + 4, n, &m, err, sizeof err) != 0) {
            dmr_warn("task", "task %u sent a bad frame: %s", c->task, err);
        } else if (m.type == DMR_MSG_PROGRESS) {
            c->ppm = m.progress;
            c->work = m.work;
            snprintf(c->phase, sizeof c->phase, "%s", m.state ? m.state : "");
            dmr_msg_clear(&m);
        } else if (m.type == DMR_MSG_TASK_DONE && !c->have_done) {
            c->done = m;
            c->have_done = 1;
        } else {
            dmr_msg_clear(&m);
        }
        off += 4 + n;
    }
    if (off > 0) {
        memmove(c->out.data, c->out.data + off, c->out.len - off);
        c->out.len -= off;
    }
}

static void s_child_readable(worker_t *w, child_t *c)
{
    (void)w;
    char buf[65536];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n > 0) {
            dmr_buf_append(&c->out, buf, (size_t)n);
            s_child_frames(c);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        close(c->fd);
        c->fd = -1;
        return;
    }
}

/* ------------------------------------------------------------- launching */

static int s_launch(worker_t *w, const dmr_msg_t *t)
{
    const char *kind = t->kind == DMR_TASK_MAP ? "map" : "reduce";
    char *dir =
        dmr_sprintf("%s/%llu/%s-%u-%u", w->jobs_dir, (unsigned long long)t->job,
                    kind, t->task, t->attempt);
    char *spec = dmr_sprintf("%s/task.msg", dir);
    char *object = s_object_path(w, t->hash);
    char *errpath = dmr_sprintf("%s/stderr", dir);
    dmr_buf_t body = DMR_BUF_INIT;
    int pipefd[2] = {-1, -1};
    int rc = DMR_EIO;

    dmr_rmtree(dir);
    if (dmr_mkdirs(dir) != 0 || dmr_msg_encode(t, &body) != 0 ||
        dmr_write_file_atomic(spec, body.data, body.len) != 0 ||
        pipe2(pipefd, O_CLOEXEC) != 0) {
        dmr_error("task", "cannot prepare %s: %s", dir, strerror(errno));
        goto out;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        dmr_error("task", "fork: %s", strerror(errno));
        goto out;
    }
    if (pid == 0) {
        /* Child: stdin from /dev/null, stdout to the pipe, stderr to a file. */
        int in = open("/dev/null", O_RDONLY);
        int errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || errfd < 0)
            _exit(126);
        dup2(in, 0);
        dup2(pipefd[1], 1);
        dup2(errfd, 2);
        setpgid(0, 0);
        /* A task must not outlive its worker: nobody would read its
         * result, and a reducer would keep fetching. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(125);
        /* What a task needs to reach the chunk store as this worker. */
        setenv("DMR_MASTER", w->cfg->master, 1);
        setenv("DMR_WID", w->wid, 1);
        setenv("DMR_CHUNK_DIR", dmr_cs_dir(w->cs), 1);
        /* The worker's own image, not the path it was started from: a
         * rebuilt or removed bin/dmr must not break running workers, and
         * the task speaks exactly the worker's protocol. */
        execl("/proc/self/exe", "dmr", "task", dir, object, w->cfg->data_dir,
              (char *)NULL);
        dprintf(2,
                "dmr worker: cannot run the task process "
                "(exec /proc/self/exe): %s\n",
                strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    pipefd[1] = -1;
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    w->children =
        dmr_realloc(w->children, (w->nchildren + 1) * sizeof *w->children);
    child_t *c = &w->children[w->nchildren++];
    memset(c, 0, sizeof *c);
    c->pid = pid;
    c->fd = pipefd[0];
    pipefd[0] = -1;
    c->job = t->job;
    c->kind = t->kind;
    c->task = t->task;
    c->attempt = t->attempt;
    c->dir = dir;
    dir = NULL;
    c->start_ms = dmr_wall_ms();
    dmr_debug("task", "started job %llu %s %u attempt %u as pid %d",
              (unsigned long long)t->job, kind, t->task, t->attempt, (int)pid);
    rc = 0;
out:
    if (rc) {
        child_t fake = {.job = t->job,
                        .kind = t->kind,
                        .task = t->task,
                        .attempt = t->attempt};
        s_report(w, &fake, DMR_EIO, "worker could not start the task", NULL);
    }
    if (pipefd[0] >= 0)
        close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    dmr_buf_free(&body);
    free(dir);
    free(spec);
    free(object);
    free(errpath);
    return rc;
}

static void s_fetch_object(worker_t *w, const char *hash, uint64_t offset)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_JOB_FETCH);
    m.hash = hash;
    m.offset = offset;
    snprintf(w->fetching, sizeof w->fetching, "%s", hash);
    w->fetch_sent = dmr_now_ms();
    s_send_master(w, &m);
}

static void s_start_pending(worker_t *w)
{
    for (size_t i = 0; i < w->npending;) {
        pending_t *p = &w->pending[i];
        if (!s_have_object(w, p->hash)) {
            if (!w->fetching[0])
                s_fetch_object(w, p->hash, 0);
            i++;
            continue;
        }
        dmr_msg_t t;
        char err[256];
        if (dmr_msg_decode(p->msg.data, p->msg.len, &t, err, sizeof err) == 0) {
            s_launch(w, &t);
            dmr_msg_clear(&t);
        }
        dmr_buf_free(&p->msg);
        w->pending[i] = w->pending[--w->npending];
    }
}

static void s_on_task(worker_t *w, const dmr_msg_t *m)
{
    if (s_have_object(w, m->hash)) {
        s_launch(w, m);
        return;
    }
    w->pending =
        dmr_realloc(w->pending, (w->npending + 1) * sizeof *w->pending);
    pending_t *p = &w->pending[w->npending++];
    memset(p, 0, sizeof *p);
    dmr_msg_encode(m, &p->msg);
    snprintf(p->hash, sizeof p->hash, "%s", m->hash);
    if (!w->fetching[0])
        s_fetch_object(w, m->hash, 0);
}

static void s_on_job_blob(worker_t *w, const dmr_msg_t *m)
{
    if (strcmp(m->hash, w->fetching) != 0)
        return;
    char *part = dmr_sprintf("%s/%s.part", w->cache_dir, m->hash);
    int fd =
        open(part, O_WRONLY | O_CREAT | (m->offset == 0 ? O_TRUNC : 0), 0644);
    int ok = fd >= 0 && pwrite(fd, m->blob, m->blob_len, (off_t)m->offset) ==
                            (ssize_t)m->blob_len;
    if (fd >= 0)
        close(fd);
    uint64_t next = m->offset + m->blob_len;
    if (ok && next < m->total && m->blob_len > 0) {
        s_fetch_object(w, m->hash, next);
        free(part);
        return;
    }
    w->fetching[0] = '\0';
    dmr_buf_t data = DMR_BUF_INIT;
    char hex[65] = "";
    if (ok && dmr_read_file(part, DMR_MSG_BLOB_MAX, &data) == 0)
        dmr_sha256_hex(data.data, data.len, hex);
    char *obj = s_object_path(w, m->hash);
    if (ok && !strcmp(hex, m->hash) && rename(part, obj) == 0) {
        dmr_info("cache", "fetched job object %.12s (%zu bytes)", m->hash,
                 data.len);
    } else {
        dmr_warn("cache", "job object %.12s arrived damaged; fetching again",
                 m->hash);
        unlink(part);
    }
    dmr_buf_free(&data);
    free(obj);
    free(part);
    s_start_pending(w);
}

/* ------------------------------------------------------- shuffle server */

static run_index_t *s_index(worker_t *w, const dmr_msg_t *m, int *rc)
{
    char *path =
        dmr_task_map_output(w->cfg->data_dir, m->job, m->task, m->attempt);
    run_index_t *lru = &w->idx[0];
    for (int i = 0; i < INDEX_CACHE; i++) {
        run_index_t *x = &w->idx[i];
        if (x->path && !strcmp(x->path, path)) {
            x->used = dmr_now_ms();
            free(path);
            return x;
        }
        if (x->used < lru->used)
            lru = x;
    }
    uint32_t nparts;
    dmr_run_part_t *parts;
    *rc = dmr_run_index_load(path, &nparts, &parts);
    int fd = *rc == 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    if (*rc == 0 && fd < 0)
        *rc = DMR_ENOENT;
    if (*rc) {
        free(path);
        if (*rc == 0)
            free(parts);
        return NULL;
    }
    free(lru->path);
    free(lru->parts);
    if (lru->fd > 0)
        close(lru->fd);
    *lru = (run_index_t){path, m->job, fd, nparts, parts, dmr_now_ms()};
    return lru;
}

static void s_drop_index(worker_t *w, uint64_t job)
{
    for (int i = 0; i < INDEX_CACHE; i++) {
        run_index_t *x = &w->idx[i];
        if (x->path && (job == 0 || x->job == job)) {
            free(x->path);
            free(x->parts);
            close(x->fd);
            memset(x, 0, sizeof *x);
        }
    }
}

static void s_serve_fetch(worker_t *w, const dmr_peer_t *from,
                          const dmr_msg_t *m)
{
    int rc = 0;
    dmr_msg_t r;
    run_index_t *x = s_index(w, m, &rc);
    if (x && m->part >= x->nparts)
        rc = DMR_EINVAL;
    if (!x || rc) {
        dmr_msg_init(&r, DMR_MSG_ERROR);
        r.status = rc ? rc : DMR_ENOENT;
        char *text = dmr_sprintf("no output of job %llu map %u attempt %u "
                                 "partition %u here: %s",
                                 (unsigned long long)m->job, m->task,
                                 m->attempt, m->part, dmr_strerror(r.status));
        r.error = text;
        r.job = m->job, r.task = m->task, r.attempt = m->attempt;
        r.part = m->part, r.offset = m->offset;
        dmr_net_send(w->shuffle, from, &r);
        free(text);
        return;
    }
    const dmr_run_part_t *p = &x->parts[m->part];
    uint64_t off = m->offset < p->length ? m->offset : p->length;
    uint64_t n = p->length - off;
    if (n > m->length)
        n = m->length;
    if (n > DMR_MSG_PIECE)
        n = DMR_MSG_PIECE;
    uint8_t *buf = dmr_malloc(n ? n : 1);
    ssize_t got = n ? pread(x->fd, buf, n, (off_t)(p->offset + off)) : 0;
    if (got != (ssize_t)n) {
        dmr_msg_init(&r, DMR_MSG_ERROR);
        r.status = DMR_EIO;
        r.error = "cannot read map output";
        r.job = m->job, r.task = m->task, r.attempt = m->attempt;
        r.part = m->part, r.offset = m->offset;
    } else {
        dmr_msg_init(&r, DMR_MSG_FETCH_DATA);
        r.job = m->job, r.task = m->task, r.attempt = m->attempt;
        r.part = m->part, r.offset = off, r.total = p->length;
        r.blob = buf;
        r.blob_len = n;
    }
    int src = dmr_net_send(w->shuffle, from, &r);
    if (src)
        dmr_debug("shuffle", "cannot answer a fetch: %s", dmr_strerror(src));
    free(buf);
}

/* -------------------------------------------------------------- master */

static void s_kill_children(worker_t *w, uint64_t job)
{
    for (size_t i = 0; i < w->nchildren; i++) {
        child_t *c = &w->children[i];
        if (job == 0 || c->job == job) {
            c->cancelled = 1;
            kill(-c->pid, SIGKILL);
            kill(c->pid, SIGKILL);
        }
    }
}

/* Removes what one attempt left here: its directory, and for a map its
 * output file (which reducers may no longer fetch). */
static void s_remove_attempt(worker_t *w, uint64_t job, uint32_t kind,
                             uint32_t task, uint32_t att, const char *dir)
{
    if (dir)
        dmr_rmtree(dir);
    if (kind != DMR_TASK_MAP)
        return;
    char *out = dmr_task_map_output(w->cfg->data_dir, job, task, att);
    char *tmp = dmr_sprintf("%s.tmp", out);
    for (int i = 0; i < INDEX_CACHE; i++) {
        run_index_t *x = &w->idx[i];
        if (x->path && !strcmp(x->path, out)) {
            free(x->path);
            free(x->parts);
            close(x->fd);
            memset(x, 0, sizeof *x);
        }
    }
    unlink(out);
    unlink(tmp);
    free(out);
    free(tmp);
}

static void s_on_cancel(worker_t *w, const dmr_msg_t *m)
{
    if (m->attempt == 0) {
        /* The job is over: everything of it goes. */
        s_kill_children(w, m->job);
        s_drop_index(w, m->job);
        char *dir =
            dmr_sprintf("%s/%llu", w->jobs_dir, (unsigned long long)m->job);
        dmr_rmtree(dir);
        free(dir);
        return;
    }
    /* One attempt: kill it if it runs; its files go when it is reaped. */
    for (size_t i = 0; i < w->nchildren; i++) {
        child_t *c = &w->children[i];
        if (c->job == m->job && c->kind == m->kind && c->task == m->task &&
            c->attempt == m->attempt) {
            dmr_info("task", "cancelling job %llu %s %u attempt %u",
                     (unsigned long long)c->job,
                     c->kind == DMR_TASK_MAP ? "map" : "reduce", c->task,
                     c->attempt);
            c->cancelled = 1;
            kill(-c->pid, SIGKILL);
            kill(c->pid, SIGKILL);
            return;
        }
    }
    char *dir = dmr_sprintf(
        "%s/%llu/%s-%u-%u", w->jobs_dir, (unsigned long long)m->job,
        m->kind == DMR_TASK_MAP ? "map" : "reduce", m->task, m->attempt);
    s_remove_attempt(w, m->job, m->kind, m->task, m->attempt, dir);
    free(dir);
}

static void s_from_master(worker_t *w, const dmr_msg_t *m)
{
    switch (m->type) {
    case DMR_MSG_WELCOME:
        if (!w->registered || strcmp(w->wid, m->wid) || w->inc != m->inc)
            dmr_info("worker", "registered as %s (incarnation %llu)", m->wid,
                     (unsigned long long)m->inc);
        if (w->wid[0] && (strcmp(w->wid, m->wid) || w->inc != m->inc)) {
            /* A new incarnation: the master trusts nothing the old one
             * did, so its map outputs are only litter. (A master that
             * restarted and re-adopts us keeps our id and incarnation,
             * and the outputs it still needs.) */
            s_drop_index(w, 0);
            dmr_rmtree(w->jobs_dir);
            dmr_mkdirs(w->jobs_dir);
        }
        dmr_log_set_role(m->wid);
        snprintf(w->wid, sizeof w->wid, "%s", m->wid);
        w->inc = m->inc;
        w->heartbeat_ms = w->cfg->heartbeat_ms > 0 ? w->cfg->heartbeat_ms
                          : m->interval            ? (int)m->interval
                                                   : 250;
        w->registered = 1;
        w->next_heartbeat = dmr_now_ms() + w->heartbeat_ms;
        w->next_report = dmr_now_ms() + CHUNK_REPORT_MS;
        break;
    case DMR_MSG_TASK:
        if (w->registered)
            s_on_task(w, m);
        break;
    case DMR_MSG_JOB_BLOB: s_on_job_blob(w, m); break;
    case DMR_MSG_CANCEL: s_on_cancel(w, m); break;
    case DMR_MSG_CHUNK_DELETE: dmr_cs_delete(w->cs, m->chunk); break;
    case DMR_MSG_REPLICATE: dmr_cs_replicate(w->cs, m); break;
    case DMR_MSG_ERROR:
        if (m->status == DMR_ENOENT && w->registered) {
            dmr_warn("worker",
                     "the master does not know us (%s); registering "
                     "again",
                     m->error);
            w->registered = 0;
            s_kill_children(w, 0);
            for (size_t i = 0; i < w->npending; i++)
                dmr_buf_free(&w->pending[i].msg);
            w->npending = 0;
            s_register(w);
        } else if (w->fetching[0]) {
            dmr_warn("cache", "master cannot send job object %.12s: %s",
                     w->fetching, m->error);
            w->fetching[0] = '\0';
        } else {
            dmr_warn("worker", "master says: %s", m->error);
        }
        break;
    default:
        dmr_warn("net", "dropping unexpected %s from the master",
                 dmr_msg_type_name(m->type));
    }
}

static void s_copy_done(void *arg, uint64_t chunk, uint32_t version,
                        uint64_t length, int status, const char *err)
{
    worker_t *w = arg;
    if (status)
        dmr_warn("chunks", "copy of chunk %016llx failed: %s",
                 (unsigned long long)chunk, err);
    if (!w->registered)
        return;
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_CHUNK_ADDED);
    m.wid = w->wid;
    m.inc = w->inc;
    m.chunk = chunk;
    m.version = version;
    m.length = length;
    m.status = status;
    m.error = err;
    s_send_master(w, &m);
}

static void s_cron(worker_t *w)
{
    /* A full replica report now and then, as HDFS's block reports: the
     * master deletes what no file owns any more (a write that was never
     * committed, a file removed while this worker was unreachable). */
    if (w->registered && dmr_now_ms() >= w->next_report) {
        dmr_msg_t m;
        dmr_msg_init(&m, DMR_MSG_CHUNK_REPORT);
        m.wid = w->wid;
        m.inc = w->inc;
        m.nitems = dmr_cs_report(w->cs, &m.items);
        s_send_master(w, &m);
        free(m.items);
        w->next_report = dmr_now_ms() + CHUNK_REPORT_MS;
    }
    int64_t now = dmr_now_ms();
    if (!w->registered && now >= w->next_register)
        s_register(w);
    if (w->registered && now >= w->next_heartbeat) {
        dmr_msg_t m;
        dmr_msg_init(&m, DMR_MSG_HEARTBEAT);
        m.wid = w->wid;
        m.inc = w->inc;
        m.running = (uint32_t)w->nchildren;
        dmr_msg_t *items = dmr_calloc(w->nchildren + 1, sizeof *items);
        for (size_t i = 0; i < w->nchildren; i++) {
            const child_t *c = &w->children[i];
            if (c->cancelled)
                continue;
            dmr_msg_t *it = &items[m.nitems++];
            dmr_msg_init(it, DMR_MSG_TASK_PROGRESS);
            it->job = c->job;
            it->kind = c->kind;
            it->task = c->task;
            it->attempt = c->attempt;
            it->progress = c->ppm;
            it->work = c->work;
            it->state = c->phase[0] ? c->phase : NULL;
        }
        m.items = items;
        s_send_master(w, &m);
        free(items);
        w->next_heartbeat = now + w->heartbeat_ms;
    }
    /* After the heartbeat: replica deletes may take a while. */
    dmr_cs_cron(w->cs, s_copy_done, w);
    if (w->fetching[0] && now - w->fetch_sent > 5000) {
        dmr_warn("cache", "no answer for job object %.12s; asking again",
                 w->fetching);
        w->fetching[0] = '\0';
        s_start_pending(w);
    }
    s_reap(w);
}

/* ----------------------------------------------------------------- loop */

static void s_destroy(worker_t *w)
{
    s_kill_children(w, 0);
    for (size_t i = 0; i < w->nchildren; i++) {
        waitpid(w->children[i].pid, NULL, 0);
        if (w->children[i].fd >= 0)
            close(w->children[i].fd);
        dmr_buf_free(&w->children[i].out);
        dmr_msg_clear(&w->children[i].done);
        free(w->children[i].dir);
    }
    for (size_t i = 0; i < w->npending; i++)
        dmr_buf_free(&w->pending[i].msg);
    free(w->children);
    free(w->pending);
    s_drop_index(w, 0);
    dmr_cs_close(&w->cs);
    free(w->cache_dir);
    free(w->jobs_dir);
    dmr_net_close(&w->master);
    dmr_net_close(&w->shuffle);
    if (w->zctx)
        zmq_ctx_term(w->zctx);
}

int dmr_worker_run(const dmr_worker_config_t *cfg)
{
    worker_t w = {.cfg = cfg, .heartbeat_ms = 250};
    int rc = 0;
    w.cache_dir = dmr_sprintf("%s/cache", cfg->data_dir);
    w.jobs_dir = dmr_sprintf("%s/jobs", cfg->data_dir);
    /* Intermediate files of an earlier run are never trusted. */
    dmr_rmtree(w.jobs_dir);
    if (dmr_mkdirs(w.cache_dir) != 0 || dmr_mkdirs(w.jobs_dir) != 0 ||
        dmr_cs_open(cfg->data_dir, &w.cs) != 0) {
        dmr_error("worker", "cannot create data directory %s: %s",
                  cfg->data_dir, strerror(errno));
        rc = DMR_EIO;
        goto out;
    }
    if (gethostname(w.host, sizeof w.host) != 0)
        snprintf(w.host, sizeof w.host, "unknown");
    if (s_node_id(&w) != 0) {
        dmr_error("worker", "cannot write %s/node-id: %s", cfg->data_dir,
                  strerror(errno));
        rc = DMR_EIO;
        goto out;
    }
    w.zctx = zmq_ctx_new();
    w.master = dmr_net_socket(w.zctx, ZMQ_DEALER);
    w.shuffle = dmr_net_socket(w.zctx, ZMQ_ROUTER);
    char bound[300];
    if (!w.master || !w.shuffle ||
        dmr_net_bind(w.shuffle, cfg->bind, bound, sizeof bound) != 0) {
        dmr_error("worker", "cannot bind the shuffle server on %s: %s",
                  cfg->bind, zmq_strerror(errno));
        rc = DMR_EIO;
        goto out;
    }
    dmr_net_advertise(bound, cfg->advertise, w.endpoint, sizeof w.endpoint);
    if (dmr_net_connect(w.master, cfg->master) != 0) {
        dmr_error("worker", "bad master endpoint %s: %s", cfg->master,
                  zmq_strerror(errno));
        rc = DMR_EINVAL;
        goto out;
    }
    dmr_info("worker", "shuffle server on %s; master %s; %d slots; data in %s",
             w.endpoint, cfg->master, cfg->slots, cfg->data_dir);

    struct sigaction sa = {.sa_handler = s_on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    s_register(&w);

    int64_t next_cron = dmr_now_ms();
    zmq_pollitem_t *items = NULL;
    while (!s_stop) {
        size_t nitems = 2 + w.nchildren;
        items = dmr_realloc(items, nitems * sizeof *items);
        items[0] = (zmq_pollitem_t){w.master, 0, ZMQ_POLLIN, 0};
        items[1] = (zmq_pollitem_t){w.shuffle, 0, ZMQ_POLLIN, 0};
        for (size_t i = 0; i < w.nchildren; i++)
            items[2 + i] =
                (zmq_pollitem_t){NULL, w.children[i].fd,
                                 w.children[i].fd >= 0 ? ZMQ_POLLIN : 0, 0};
        int64_t wait = next_cron - dmr_now_ms();
        /* A child whose pipe has closed is exiting, but may not be
         * reapable yet (the kernel closes its files first): look again
         * in a millisecond, not at the next cron, so that its slot and
         * its result are not held back by up to CRON_MS. */
        for (size_t i = 0; i < w.nchildren && wait > REAP_MS; i++)
            if (w.children[i].fd < 0)
                wait = REAP_MS;
        int n = zmq_poll(items, (int)nitems, wait > 0 ? (long)wait : 0);
        if (n < 0 && errno != EINTR) {
            dmr_error("worker", "poll: %s", zmq_strerror(errno));
            rc = DMR_EIO;
            break;
        }
        if (n > 0) {
            for (size_t i = 0; i < w.nchildren; i++)
                if (items[2 + i].revents & (ZMQ_POLLIN | ZMQ_POLLERR))
                    s_child_readable(&w, &w.children[i]);
            for (int k = 0; k < 100; k++) {
                dmr_msg_t m;
                char err[256];
                int r = dmr_net_recv(w.master, NULL, &m, err, sizeof err);
                if (r == DMR_EUNAVAIL)
                    break;
                if (r) {
                    dmr_warn("net", "dropped a bad message from the master: %s",
                             err[0] ? err : dmr_strerror(r));
                    continue;
                }
                s_from_master(&w, &m);
                dmr_msg_clear(&m);
            }
            for (int k = 0; k < 100; k++) {
                dmr_peer_t from;
                dmr_msg_t m;
                char err[256];
                int r = dmr_net_recv(w.shuffle, &from, &m, err, sizeof err);
                if (r == DMR_EUNAVAIL)
                    break;
                if (r) {
                    dmr_warn("net", "dropped a bad shuffle request: %s",
                             err[0] ? err : dmr_strerror(r));
                    continue;
                }
                if (m.type == DMR_MSG_FETCH)
                    s_serve_fetch(&w, &from, &m);
                else if (dmr_cs_serve(w.cs, w.shuffle, &from, &m))
                    ;
                else
                    dmr_warn("net",
                             "dropping unexpected %s on the shuffle port",
                             dmr_msg_type_name(m.type));
                dmr_msg_clear(&m);
            }
        }
        s_reap(&w);
        if (dmr_now_ms() >= next_cron) {
            s_cron(&w);
            next_cron = dmr_now_ms() + CRON_MS;
        }
    }
    free(items);
    if (s_stop)
        dmr_info("worker", "stopping");
out:
    s_destroy(&w);
    return rc;
}
