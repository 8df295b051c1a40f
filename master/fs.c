/* fs.c -- the master's side of the chunk store.
 *
 * Clients ask for a write session (FS_CREATE), a chunk with its replica
 * targets (FS_ALLOC: the writer's own worker first when it is one, then
 * the live workers in rotation, so replicas spread), report where each
 * chunk landed (FS_WRITTEN), and commit (FS_COMMIT), which journals the
 * file and makes it visible at once. Readers get a file's chunks and
 * their live replicas (FS_STAT) and report a replica that failed its
 * checksum (FS_BAD): it stops counting and its worker deletes it.
 *
 * Workers report the replicas they hold when they register; replicas of
 * unknown or stale chunks are deleted. A dead worker's replicas are
 * forgotten. Every half second the cron expires abandoned write sessions,
 * deletes garbage (chunks of removed files and failed writes), deletes
 * surplus replicas, and asks workers to copy under-replicated chunks from
 * a live replica (REPLICATE; the copy reports CHUNK_ADDED), at most four
 * copies in flight per target worker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "master/master_int.h"

#define SESSION_IDLE_MS 120000
#define COPY_TIMEOUT_MS 300000
#define COPIES_PER_WORKER 4
#define ID_BLOCK 4096

static int s_late_output(dmr_master_t *ms, const char *path);

static void s_reply_ok(dmr_master_t *ms, const dmr_peer_t *to, uint64_t total)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_FS_OK);
    m.total = total;
    dmr_m_send(ms, to, &m);
}

static dmr_mworker_t *s_live(dmr_master_t *ms, const char *wid)
{
    dmr_mworker_t *w = dmr_m_worker(ms, wid);
    return w && w->alive && !w->restored ? w : NULL;
}

static void s_delete_on(dmr_master_t *ms, const char *wid, uint64_t chunk)
{
    dmr_mworker_t *w = s_live(ms, wid);
    if (!w)
        return;
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_CHUNK_DELETE);
    m.chunk = chunk;
    dmr_m_send(ms, &w->peer, &m);
}

/* Ids are journaled in blocks before use, so they never repeat. */
static void s_reserve(dmr_master_t *ms)
{
    if (dmr_ns_next_id(ms->ns) + 2 < dmr_ns_id_limit(ms->ns))
        return;
    uint64_t limit = dmr_ns_next_id(ms->ns) + ID_BLOCK;
    dmr_m_log_ids(ms, limit);
    dmr_ns_reserve_ids(ms->ns, limit);
}

/* --------------------------------------------------------------- writes */

static void s_on_create(dmr_master_t *ms, const dmr_peer_t *from,
                        const dmr_msg_t *m)
{
    char err[DMR_NS_PATH_MAX + 128];
    uint64_t session;
    if (s_late_output(ms, m->path)) {
        dmr_m_reply_error(ms, from, DMR_EEXIST,
                          "the job that wrote there has ended");
        return;
    }
    s_reserve(ms);
    int rc = dmr_ns_create(ms->ns, m->path, m->replication, dmr_now_ms(),
                           &session, err, sizeof err);
    if (rc) {
        dmr_m_reply_error(ms, from, rc, err);
        return;
    }
    dmr_msg_t r;
    dmr_msg_init(&r, DMR_MSG_FS_OK);
    r.job = session;
    dmr_m_send(ms, from, &r);
}

static void s_on_alloc(dmr_master_t *ms, const dmr_peer_t *from,
                       const dmr_msg_t *m)
{
    const char *path = dmr_ns_session_path(ms->ns, m->job);
    if (!path) {
        dmr_m_reply_error(ms, from, DMR_ENOENT,
                          "no such write session (it expired, or the master "
                          "restarted)");
        return;
    }
    /* Targets: the writer's own worker first, then live workers from a
     * rotating start, up to the replication factor. */
    size_t live = 0;
    for (size_t i = 0; i < ms->nworkers; i++)
        live += ms->workers[i].alive && !ms->workers[i].restored;
    if (live == 0) {
        dmr_m_reply_error(ms, from, DMR_EUNAVAIL,
                          "no live workers: the store has nowhere to put data");
        return;
    }
    s_reserve(ms);
    dmr_ns_chunk_t *c;
    dmr_ns_alloc_chunk(ms->ns, m->job, dmr_now_ms(), &c);
    size_t want = c->replication < live ? c->replication : live;
    dmr_msg_t *items = dmr_calloc(want, sizeof *items);
    size_t n = 0;
    dmr_mworker_t *self = m->wid ? s_live(ms, m->wid) : NULL;
    if (self) {
        dmr_msg_init(&items[n], DMR_MSG_REPLICA);
        items[n].chunk = c->id;
        items[n].wid = self->wid;
        items[n].endpoint = self->endpoint;
        n++;
    }
    for (size_t k = 0; k < ms->nworkers && n < want; k++) {
        dmr_mworker_t *w = &ms->workers[(ms->place_next + k) % ms->nworkers];
        if (!w->alive || w->restored || w == self)
            continue;
        dmr_msg_init(&items[n], DMR_MSG_REPLICA);
        items[n].chunk = c->id;
        items[n].wid = w->wid;
        items[n].endpoint = w->endpoint;
        n++;
    }
    ms->place_next = (ms->place_next + 1) % (ms->nworkers ? ms->nworkers : 1);
    dmr_msg_t r;
    dmr_msg_init(&r, DMR_MSG_FS_OK);
    r.job = m->job;
    r.chunk = c->id;
    r.version = c->version;
    r.items = items;
    r.nitems = n;
    dmr_m_send(ms, from, &r);
    free(items);
}

static void s_on_written(dmr_master_t *ms, const dmr_peer_t *from,
                         const dmr_msg_t *m)
{
    const char **wids = dmr_calloc(m->nitems + 1, sizeof *wids);
    size_t n = 0;
    for (size_t i = 0; i < m->nitems; i++)
        if (m->items[i].type == DMR_MSG_REPLICA && m->items[i].wid &&
            dmr_m_worker(ms, m->items[i].wid))
            wids[n++] = m->items[i].wid;
    int rc = dmr_ns_chunk_written(ms->ns, m->job, m->chunk, m->length, wids, n,
                                  dmr_now_ms());
    free(wids);
    if (rc)
        dmr_m_reply_error(ms, from, rc, "no such chunk in this write session");
    else
        s_reply_ok(ms, from, 0);
}

static void s_on_commit(dmr_master_t *ms, const dmr_peer_t *from,
                        const dmr_msg_t *m)
{
    char err[DMR_NS_PATH_MAX + 128];
    dmr_ns_file_t *f;
    /* Replicas count only on workers alive now (one that was declared
     * dead and came back still has its files: it is alive again). */
    const uint64_t *ids;
    size_t n = dmr_ns_session_chunks(ms->ns, m->job, &ids);
    for (size_t i = 0; i < n; i++) {
        dmr_ns_chunk_t *c = dmr_ns_chunk(ms->ns, ids[i]);
        for (uint32_t k = 0; c && k < c->nlocs;) {
            if (s_live(ms, c->locs[k])) {
                k++;
                continue;
            }
            char wid[32];
            snprintf(wid, sizeof wid, "%s", c->locs[k]);
            dmr_ns_drop_replica(ms->ns, c->id, wid);
        }
    }
    int rc = dmr_ns_commit(ms->ns, m->job, dmr_wall_ms(), &f, err, sizeof err);
    if (rc) {
        dmr_m_reply_error(ms, from, rc, err);
        return;
    }
    dmr_m_log_file(ms, f); /* durable before the client hears of it */
    dmr_info("fs", "dmr:%s written: %llu bytes in %u chunks", f->path,
             (unsigned long long)f->size, f->nchunks);
    s_reply_ok(ms, from, f->size);
}

static void s_on_abort(dmr_master_t *ms, const dmr_peer_t *from,
                       const dmr_msg_t *m)
{
    dmr_ns_abort(ms->ns, m->job);
    s_reply_ok(ms, from, 0);
}

/* ---------------------------------------------------------------- reads */

static void s_add_file(dmr_master_t *ms, const dmr_ns_file_t *f, int chunks,
                       dmr_msg_t **items, size_t *n, size_t *cap)
{
    size_t need = 1 + (chunks ? f->nchunks * 8 : 0);
    if (*n + need > *cap) {
        *cap = (*n + need) * 2;
        *items = dmr_realloc(*items, *cap * sizeof **items);
    }
    dmr_msg_t *it = &(*items)[(*n)++];
    dmr_msg_init(it, DMR_MSG_FS_FILE);
    it->path = f->path;
    it->total = f->size;
    it->replication = f->replication;
    it->start_ms = f->mtime_ms;
    it->job = f->nchunks;
    if (!chunks)
        return;
    for (uint32_t i = 0; i < f->nchunks; i++) {
        dmr_ns_chunk_t *c = dmr_ns_chunk(ms->ns, f->chunks[i]);
        if (!c)
            continue;
        if (*n + 1 + c->nlocs + c->nbad > *cap) {
            *cap = (*n + 1 + c->nlocs + c->nbad) * 2 + f->nchunks;
            *items = dmr_realloc(*items, *cap * sizeof **items);
        }
        it = &(*items)[(*n)++];
        dmr_msg_init(it, DMR_MSG_CHUNK_INFO);
        it->chunk = c->id;
        it->length = c->length;
        it->version = c->version;
        it->part = i;
        it->state = dmr_ns_health_name(dmr_ns_health(c));
        for (uint32_t k = 0; k < c->nlocs + c->nbad; k++) {
            int good = k < c->nlocs;
            const char *wid = good ? c->locs[k] : c->bad[k - c->nlocs];
            dmr_mworker_t *w = dmr_m_worker(ms, wid);
            it = &(*items)[(*n)++];
            dmr_msg_init(it, DMR_MSG_REPLICA);
            it->chunk = c->id;
            it->wid = wid;
            it->endpoint = w ? w->endpoint : "";
            it->state = good ? "good" : "corrupt";
        }
    }
}

static void s_on_stat(dmr_master_t *ms, const dmr_peer_t *from,
                      const dmr_msg_t *m)
{
    char path[DMR_NS_PATH_MAX + 1], err[DMR_NS_PATH_MAX + 128];
    if (dmr_ns_normalize(m->path, path, sizeof path, err, sizeof err)) {
        dmr_m_reply_error(ms, from, DMR_EINVAL, err);
        return;
    }
    int chunks = (m->flags & 2) != 0;
    dmr_msg_t *items = NULL;
    size_t n = 0, cap = 0;
    dmr_ns_file_t *f = dmr_ns_lookup(ms->ns, path);
    if (f) {
        s_add_file(ms, f, chunks, &items, &n, &cap);
    } else if (dmr_ns_is_dir(ms->ns, path)) {
        dmr_ns_file_t **fs;
        size_t nf = (m->flags & 1) ? dmr_ns_under(ms->ns, path, &fs) : 0;
        for (size_t i = 0; i < nf; i++)
            s_add_file(ms, fs[i], chunks, &items, &n, &cap);
    } else {
        snprintf(err, sizeof err, "dmr:%s: no such file or directory", path);
        dmr_m_reply_error(ms, from, DMR_ENOENT, err);
        return;
    }
    dmr_msg_t r;
    dmr_msg_init(&r, DMR_MSG_FS_FILES);
    r.items = items;
    r.nitems = n;
    r.total = f ? 0 : 1; /* a directory */
    dmr_m_send(ms, from, &r);
    free(items);
}

static void s_on_rm(dmr_master_t *ms, const dmr_peer_t *from,
                    const dmr_msg_t *m)
{
    char path[DMR_NS_PATH_MAX + 1], err[DMR_NS_PATH_MAX + 128];
    if (dmr_ns_normalize(m->path, path, sizeof path, err, sizeof err)) {
        dmr_m_reply_error(ms, from, DMR_EINVAL, err);
        return;
    }
    if (!strcmp(path, "/") && !(m->flags & 1)) {
        dmr_m_reply_error(ms, from, DMR_EINVAL,
                          "dmr:/ is a directory (use -r)");
        return;
    }
    long n = dmr_ns_remove(ms->ns, path, (m->flags & 1) != 0);
    if (n == DMR_ENOENT) {
        snprintf(err, sizeof err, "dmr:%s: no such file or directory", path);
        dmr_m_reply_error(ms, from, DMR_ENOENT, err);
        return;
    }
    if (n == DMR_EINVAL) {
        snprintf(err, sizeof err, "dmr:%s is a directory (use -r)", path);
        dmr_m_reply_error(ms, from, DMR_EINVAL, err);
        return;
    }
    dmr_m_log_fs_rm(ms, path, (m->flags & 1) != 0);
    dmr_info("fs", "dmr:%s removed (%ld files)", path, n);
    s_reply_ok(ms, from, (uint64_t)n);
}

static void s_on_bad(dmr_master_t *ms, const dmr_peer_t *from,
                     const dmr_msg_t *m)
{
    dmr_ns_chunk_t *c = dmr_ns_chunk(ms->ns, m->chunk);
    if (c) {
        dmr_warn("fs",
                 "replica of chunk %016llx on %s is damaged (%s): "
                 "dropping it",
                 (unsigned long long)m->chunk, m->wid,
                 m->error ? m->error : "checksum mismatch");
        dmr_ns_bad_replica(ms->ns, m->chunk, m->wid);
        s_delete_on(ms, m->wid, m->chunk);
    }
    s_reply_ok(ms, from, 0);
}

/* -------------------------------------------------------------- workers */

static void s_on_added(dmr_master_t *ms, const dmr_msg_t *m)
{
    dmr_mworker_t *w = dmr_m_worker(ms, m->wid);
    for (size_t i = 0; i < ms->ncopies; i++) {
        if (ms->copies[i].chunk == m->chunk &&
            !strcmp(ms->copies[i].wid, m->wid)) {
            ms->copies[i] = ms->copies[--ms->ncopies];
            break;
        }
    }
    if (!w || !w->alive || w->restored || w->inc != m->inc)
        return;
    dmr_ns_chunk_t *c = dmr_ns_chunk(ms->ns, m->chunk);
    if (m->status != 0) {
        dmr_warn("fs", "copy of chunk %016llx to %s failed: %s",
                 (unsigned long long)m->chunk, m->wid,
                 m->error ? m->error : "?");
        return;
    }
    if (!c || c->file == 0 || c->version != m->version ||
        c->length != m->length) {
        s_delete_on(ms, m->wid, m->chunk);
        return;
    }
    dmr_ns_add_replica(ms->ns, m->chunk, m->wid);
    if (dmr_ns_health(c) == DMR_CHUNK_HEALTHY)
        c->nbad = 0; /* the damaged copies were deleted when reported */
    dmr_debug("fs", "chunk %016llx copied to %s (%u of %u replicas)",
              (unsigned long long)m->chunk, m->wid, c->nlocs, c->replication);
}

void dmr_m_fs_register(dmr_master_t *ms, dmr_mworker_t *w, const dmr_msg_t *m)
{
    size_t kept = 0, dropped = 0;
    for (size_t i = 0; i < m->nitems; i++) {
        const dmr_msg_t *it = &m->items[i];
        if (it->type != DMR_MSG_REPLICA)
            continue;
        dmr_ns_chunk_t *c = dmr_ns_chunk(ms->ns, it->chunk);
        if (c && c->file == 0 && c->session != 0)
            continue; /* being written: its writer reports it */
        if (c && c->file != 0 && c->version == it->version &&
            c->length == it->length) {
            dmr_ns_add_replica(ms->ns, c->id, w->wid);
            kept++;
        } else {
            s_delete_on(ms, w->wid, it->chunk);
            dropped++;
        }
    }
    if (kept || dropped)
        dmr_info("fs",
                 "%s holds %zu replicas; %zu stale or unknown ones "
                 "deleted",
                 w->wid, kept, dropped);
}

void dmr_m_fs_worker_lost(dmr_master_t *ms, dmr_mworker_t *w)
{
    size_t n = dmr_ns_drop_worker(ms->ns, w->wid);
    for (size_t i = 0; i < ms->ncopies;) {
        if (!strcmp(ms->copies[i].wid, w->wid))
            ms->copies[i] = ms->copies[--ms->ncopies];
        else
            i++;
    }
    if (n)
        dmr_warn("fs", "%zu chunk replicas lost with %s; re-replicating", n,
                 w->wid);
}

/* ------------------------------------------------------------------ cron */

typedef struct {
    dmr_master_t *ms;
    int64_t now;
    size_t started;
} repair_t;

static uint32_t s_copies_to(const dmr_master_t *ms, const char *wid)
{
    uint32_t n = 0;
    for (size_t i = 0; i < ms->ncopies; i++)
        n += !strcmp(ms->copies[i].wid, wid);
    return n;
}

static int s_copying(const dmr_master_t *ms, uint64_t chunk)
{
    for (size_t i = 0; i < ms->ncopies; i++)
        if (ms->copies[i].chunk == chunk)
            return 1;
    return 0;
}

static void s_repair(void *arg, dmr_ns_chunk_t *c)
{
    repair_t *r = arg;
    dmr_master_t *ms = r->ms;
    if (c->nlocs > c->replication) {
        /* Surplus (a worker came back): drop the last replica listed. */
        char wid[32];
        snprintf(wid, sizeof wid, "%s", c->locs[c->nlocs - 1]);
        dmr_ns_drop_replica(ms->ns, c->id, wid);
        s_delete_on(ms, wid, c->id);
        return;
    }
    if (c->nlocs == 0 || c->nlocs >= c->replication || s_copying(ms, c->id))
        return;
    dmr_mworker_t *src = s_live(ms, c->locs[0]);
    dmr_mworker_t *to = NULL;
    uint32_t best = COPIES_PER_WORKER;
    for (size_t i = 0; src && i < ms->nworkers; i++) {
        dmr_mworker_t *w = &ms->workers[(ms->place_next + i) % ms->nworkers];
        if (!w->alive || w->restored || w->unreachable)
            continue;
        int holds = 0;
        for (uint32_t k = 0; k < c->nlocs && !holds; k++)
            holds = !strcmp(c->locs[k], w->wid);
        uint32_t busy = s_copies_to(ms, w->wid);
        if (!holds && busy < best)
            to = w, best = busy;
    }
    if (!to)
        return;
    ms->place_next = (ms->place_next + 1) % ms->nworkers;
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_REPLICATE);
    m.chunk = c->id;
    m.version = c->version;
    m.length = c->length;
    m.endpoint = src->endpoint;
    m.wid = src->wid;
    dmr_m_send(ms, &to->peer, &m);
    ms->copies =
        dmr_realloc(ms->copies, (ms->ncopies + 1) * sizeof *ms->copies);
    dmr_m_copy_t *cp = &ms->copies[ms->ncopies++];
    cp->chunk = c->id;
    snprintf(cp->wid, sizeof cp->wid, "%s", to->wid);
    cp->started = r->now;
    r->started++;
}

void dmr_m_fs_cron(dmr_master_t *ms)
{
    int64_t now = dmr_now_ms();
    size_t expired = dmr_ns_expire(ms->ns, now - SESSION_IDLE_MS);
    if (expired)
        dmr_info("fs", "%zu abandoned write sessions expired", expired);
    dmr_ns_chunk_t *g;
    size_t ng = dmr_ns_take_garbage(ms->ns, &g);
    for (size_t i = 0; i < ng; i++) {
        for (uint32_t k = 0; k < g[i].nlocs; k++)
            s_delete_on(ms, g[i].locs[k], g[i].id);
        for (uint32_t k = 0; k < g[i].nbad; k++)
            s_delete_on(ms, g[i].bad[k], g[i].id);
    }
    dmr_ns_chunks_free(g, ng);
    for (size_t i = 0; i < ms->ncopies;) {
        if (now - ms->copies[i].started > COPY_TIMEOUT_MS)
            ms->copies[i] = ms->copies[--ms->ncopies];
        else
            i++;
    }
    if (ms->nworkers == 0)
        return;
    repair_t r = {ms, now, 0};
    dmr_ns_each_chunk(ms->ns, s_repair, &r);
    if (r.started)
        dmr_debug("fs", "%zu chunk copies started", r.started);
}

int dmr_m_fs_dispatch(dmr_master_t *ms, const dmr_peer_t *from,
                      const dmr_msg_t *m)
{
    switch (m->type) {
    case DMR_MSG_FS_CREATE: s_on_create(ms, from, m); return 1;
    case DMR_MSG_FS_ALLOC: s_on_alloc(ms, from, m); return 1;
    case DMR_MSG_FS_WRITTEN: s_on_written(ms, from, m); return 1;
    case DMR_MSG_FS_COMMIT: s_on_commit(ms, from, m); return 1;
    case DMR_MSG_FS_ABORT: s_on_abort(ms, from, m); return 1;
    case DMR_MSG_FS_STAT: s_on_stat(ms, from, m); return 1;
    case DMR_MSG_FS_RM: s_on_rm(ms, from, m); return 1;
    case DMR_MSG_FS_BAD: s_on_bad(ms, from, m); return 1;
    case DMR_MSG_CHUNK_ADDED: s_on_added(ms, m); return 1;
    case DMR_MSG_CHUNK_REPORT: {
        dmr_mworker_t *w = dmr_m_worker(ms, m->wid);
        if (w && w->alive && !w->restored && w->inc == m->inc)
            dmr_m_fs_register(ms, w, m);
        return 1;
    }
    }
    return 0;
}

/* ------------------------------------------------------------------ jobs */

int dmr_m_fs_input(dmr_master_t *ms, dmr_msg_t *item, char *err, size_t errlen)
{
    char path[DMR_NS_PATH_MAX + 1];
    if (dmr_ns_normalize(item->path, path, sizeof path, err, errlen))
        return DMR_EINVAL;
    dmr_ns_file_t *f = dmr_ns_lookup(ms->ns, path);
    if (!f) {
        dmr_errf(err, errlen, "input %s: no such file in the store",
                 item->path);
        return DMR_ENOENT;
    }
    item->total = f->size;
    dmr_ns_chunk_t *c = f->nchunks ? dmr_ns_chunk(ms->ns, f->chunks[0]) : NULL;
    /* One split per chunk: every chunk but the last is full. */
    item->length = c && c->length ? c->length : (f->size ? f->size : 1);
    return 0;
}

/* The store path of a job's output part or marker, normalized. */
static int s_out_path(const dmr_job_t *job, const char *suffix, char *out,
                      size_t outlen)
{
    char tmp[DMR_NS_PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s/%s", job->output, suffix);
    return dmr_ns_normalize(tmp, out, outlen, NULL, 0);
}

int dmr_m_fs_commit_part(dmr_master_t *ms, const dmr_job_t *job, uint32_t task,
                         uint32_t attempt, char *err, size_t errlen)
{
    char name[64], from[DMR_NS_PATH_MAX + 1], to[DMR_NS_PATH_MAX + 1];
    snprintf(name, sizeof name, "_temporary/part-%05u.%u", task, attempt);
    if (s_out_path(job, name, from, sizeof from) != 0)
        return DMR_EINVAL;
    snprintf(name, sizeof name, "part-%05u", task);
    if (s_out_path(job, name, to, sizeof to) != 0)
        return DMR_EINVAL;
    int rc = dmr_ns_rename(ms->ns, from, to);
    if (rc) {
        dmr_errf(err, errlen, "cannot commit dmr:%s as dmr:%s: %s", from, to,
                 rc == DMR_ENOENT ? "it is not in the store"
                                  : dmr_strerror(rc));
        return rc;
    }
    dmr_m_log_fs_mv(ms, from, to);
    return 0;
}

void dmr_m_fs_job_end(dmr_master_t *ms, dmr_job_t *job)
{
    char tmp[DMR_NS_PATH_MAX + 1], ok[DMR_NS_PATH_MAX + 1];
    if (s_out_path(job, "_temporary", tmp, sizeof tmp) == 0 &&
        dmr_ns_remove(ms->ns, tmp, 1) > 0)
        dmr_m_log_fs_rm(ms, tmp, 1);
    if (job->state != DMR_JOB_SUCCEEDED ||
        s_out_path(job, "_SUCCESS", ok, sizeof ok) != 0)
        return;
    uint64_t session;
    dmr_ns_file_t *f;
    char err[DMR_NS_PATH_MAX + 128];
    s_reserve(ms);
    if (dmr_ns_create(ms->ns, ok, 1, dmr_now_ms(), &session, err, sizeof err) !=
            0 ||
        dmr_ns_commit(ms->ns, session, dmr_wall_ms(), &f, err, sizeof err) !=
            0) {
        job->state = DMR_JOB_FAILED;
        free(job->error);
        job->error = dmr_sprintf("cannot write dmr:%s: %s", ok, err);
        return;
    }
    dmr_m_log_file(ms, f);
}

void dmr_m_fs_remove_tree(dmr_master_t *ms, const char *path)
{
    char norm[DMR_NS_PATH_MAX + 1];
    if (dmr_ns_normalize(path, norm, sizeof norm, NULL, 0) == 0 &&
        dmr_ns_remove(ms->ns, norm, 1) > 0)
        dmr_m_log_fs_rm(ms, norm, 1);
}

int dmr_m_fs_local(dmr_master_t *ms, const dmr_job_t *job, uint32_t map,
                   const char *wid)
{
    const dmr_split_t *sp = &job->splits[map];
    const dmr_input_file_t *in = &job->files[sp->file];
    if (strncmp(in->path, "dmr:", 4) != 0)
        return 0;
    char path[DMR_NS_PATH_MAX + 1];
    if (dmr_ns_normalize(in->path, path, sizeof path, NULL, 0) != 0)
        return 0;
    dmr_ns_file_t *f = dmr_ns_lookup(ms->ns, path);
    if (!f || f->nchunks == 0)
        return 0;
    uint64_t k = in->block ? sp->offset / in->block : 0;
    if (k >= f->nchunks)
        k = f->nchunks - 1;
    dmr_ns_chunk_t *c = dmr_ns_chunk(ms->ns, f->chunks[k]);
    for (uint32_t i = 0; c && i < c->nlocs; i++)
        if (!strcmp(c->locs[i], wid))
            return 1;
    return 0;
}

/* A write under the _temporary directory of a job that has ended would
 * leave litter next to its _SUCCESS: refused. */
static int s_late_output(dmr_master_t *ms, const char *path)
{
    char tmp[DMR_NS_PATH_MAX + 1], norm[DMR_NS_PATH_MAX + 1];
    if (dmr_ns_normalize(path, norm, sizeof norm, NULL, 0) != 0)
        return 0;
    for (size_t i = 0; i < ms->njobs; i++) {
        const dmr_job_t *job = ms->jobs[i];
        if (!job->store_out || !job->ended ||
            s_out_path(job, "_temporary", tmp, sizeof tmp) != 0)
            continue;
        size_t n = strlen(tmp);
        if (!strncmp(norm, tmp, n) && norm[n] == '/')
            return 1;
    }
    return 0;
}
