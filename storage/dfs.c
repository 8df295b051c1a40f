/* dfs.c -- the chunk store's client (see dfs.h). */
#include "storage/dfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/net.h"
#include "common/util.h"
#include "storage/chunk.h"

#define MASTER_TIMEOUT_MS 10000
#define PEER_TIMEOUT_MS 30000
#define WINDOW 8       /* pieces in flight per target */
#define MAX_SOCKETS 64 /* cached worker connections */
#define ALLOC_TRIES 3
#define READ_AHEAD 4 /* pieces in flight per read */

typedef struct {
    char *endpoint;
    void *sock;
} peer_t;

struct dmr_dfs {
    void *zctx;
    char *master_ep;
    void *master;
    peer_t peers[MAX_SOCKETS];
    size_t npeers;
    char wid[32];
    char *chunk_dir;
};

struct dmr_dfs_writer {
    dmr_dfs_t *d;
    uint64_t session;
    char *path;
    uint8_t *buf; /* the chunk being filled */
    size_t len, cap;
    uint64_t written;
};

/* ------------------------------------------------------------ plumbing */

int dmr_dfs_open(const char *master, dmr_dfs_t **out, char *err, size_t errlen)
{
    dmr_dfs_t *d = dmr_calloc(1, sizeof *d);
    d->zctx = zmq_ctx_new();
    d->master_ep = dmr_strdup(master);
    d->master = dmr_net_socket(d->zctx, ZMQ_DEALER);
    if (!d->master || dmr_net_connect(d->master, master) != 0) {
        dmr_errf(err, errlen, "bad master endpoint %s", master);
        dmr_dfs_close(&d);
        return DMR_EINVAL;
    }
    *out = d;
    return 0;
}

void dmr_dfs_close(dmr_dfs_t **dp)
{
    dmr_dfs_t *d = *dp;
    if (!d)
        return;
    for (size_t i = 0; i < d->npeers; i++) {
        dmr_net_close(&d->peers[i].sock);
        free(d->peers[i].endpoint);
    }
    dmr_net_close(&d->master);
    zmq_ctx_term(d->zctx);
    free(d->master_ep);
    free(d->chunk_dir);
    free(d);
    *dp = NULL;
}

void dmr_dfs_set_local(dmr_dfs_t *d, const char *wid, const char *chunk_dir)
{
    snprintf(d->wid, sizeof d->wid, "%s", wid ? wid : "");
    free(d->chunk_dir);
    d->chunk_dir = chunk_dir ? dmr_strdup(chunk_dir) : NULL;
}

/* A request to the master; an ERROR reply becomes its status with err.
 * After a timeout the socket is replaced, so that a late reply cannot be
 * taken for the answer to the next request. */
static int s_ask(dmr_dfs_t *d, const dmr_msg_t *req, dmr_msg_t *rep, char *err,
                 size_t errlen)
{
    char why[256];
    int rc = dmr_net_request(d->master, req, rep, MASTER_TIMEOUT_MS, why,
                             sizeof why);
    if (rc) {
        dmr_errf(err, errlen, "the master at %s: %s", d->master_ep, why);
        dmr_net_close(&d->master);
        d->master = dmr_net_socket(d->zctx, ZMQ_DEALER);
        dmr_net_connect(d->master, d->master_ep);
        return rc == DMR_ETIMEDOUT ? DMR_EUNAVAIL : rc;
    }
    if (rep->type == DMR_MSG_ERROR) {
        dmr_errf(err, errlen, "%s", rep->error);
        rc = rep->status < 0 ? (int)rep->status : DMR_EIO;
        dmr_msg_clear(rep);
        return rc;
    }
    return 0;
}

/* The cached DEALER to a worker (a new one replaces the oldest). */
static void *s_peer(dmr_dfs_t *d, const char *endpoint)
{
    for (size_t i = 0; i < d->npeers; i++)
        if (!strcmp(d->peers[i].endpoint, endpoint))
            return d->peers[i].sock;
    if (d->npeers == MAX_SOCKETS) {
        dmr_net_close(&d->peers[0].sock);
        free(d->peers[0].endpoint);
        memmove(&d->peers[0], &d->peers[1],
                (MAX_SOCKETS - 1) * sizeof *d->peers);
        d->npeers--;
    }
    void *s = dmr_net_socket(d->zctx, ZMQ_DEALER);
    if (!s || dmr_net_connect(s, endpoint) != 0) {
        dmr_net_close(&s);
        return NULL;
    }
    d->peers[d->npeers].endpoint = dmr_strdup(endpoint);
    d->peers[d->npeers].sock = s;
    d->npeers++;
    return s;
}

/* Forgets the socket to endpoint (after a failure, so that stale replies
 * die with it). */
static void s_drop_peer(dmr_dfs_t *d, const char *endpoint)
{
    for (size_t i = 0; i < d->npeers; i++) {
        if (!strcmp(d->peers[i].endpoint, endpoint)) {
            dmr_net_close(&d->peers[i].sock);
            free(d->peers[i].endpoint);
            d->peers[i] = d->peers[--d->npeers];
            return;
        }
    }
}

/* ------------------------------------------------------------ metadata */

void dmr_dfs_files_free(dmr_dfs_file_t *f, size_t n)
{
    for (size_t i = 0; f && i < n; i++) {
        for (uint32_t c = 0; f[i].chunks && c < f[i].nchunks; c++)
            free(f[i].chunks[c].rep);
        free(f[i].chunks);
        free(f[i].path);
    }
    free(f);
}

int dmr_dfs_stat(dmr_dfs_t *d, const char *path, int list, int chunks,
                 dmr_dfs_file_t **out, size_t *n, int *is_dir, char *err,
                 size_t errlen)
{
    dmr_msg_t req, rep;
    dmr_msg_init(&req, DMR_MSG_FS_STAT);
    req.path = path;
    req.flags = (list ? 1u : 0u) | (chunks ? 2u : 0u);
    int rc = s_ask(d, &req, &rep, err, errlen);
    if (rc)
        return rc;
    size_t nf = 0;
    for (size_t i = 0; i < rep.nitems; i++)
        nf += rep.items[i].type == DMR_MSG_FS_FILE;
    dmr_dfs_file_t *fs = dmr_calloc(nf + 1, sizeof *fs);
    dmr_dfs_file_t *f = NULL;
    dmr_dfs_chunk_t *c = NULL;
    size_t k = 0;
    for (size_t i = 0; i < rep.nitems; i++) {
        const dmr_msg_t *it = &rep.items[i];
        if (it->type == DMR_MSG_FS_FILE) {
            f = &fs[k++];
            f->path = dmr_strdup(it->path);
            f->size = it->total;
            f->replication = it->replication;
            f->mtime_ms = it->start_ms;
            f->nchunks = (uint32_t)it->job;
            if (chunks)
                f->chunks = dmr_calloc(f->nchunks + 1, sizeof *f->chunks);
            c = NULL;
        } else if (it->type == DMR_MSG_CHUNK_INFO && f && f->chunks &&
                   it->part < f->nchunks) {
            c = &f->chunks[it->part];
            c->id = it->chunk;
            c->length = it->length;
            c->version = it->version;
            snprintf(c->state, sizeof c->state, "%s",
                     it->state ? it->state : "?");
        } else if (it->type == DMR_MSG_REPLICA && c && it->chunk == c->id) {
            c->rep = dmr_realloc(c->rep, (c->nrep + 1) * sizeof *c->rep);
            dmr_dfs_replica_t *r = &c->rep[c->nrep++];
            snprintf(r->wid, sizeof r->wid, "%s", it->wid ? it->wid : "");
            snprintf(r->endpoint, sizeof r->endpoint, "%s",
                     it->endpoint ? it->endpoint : "");
            r->good = it->state && !strcmp(it->state, "good");
        }
    }
    if (is_dir)
        *is_dir = rep.total == 1;
    dmr_msg_clear(&rep);
    *out = fs;
    *n = nf;
    return 0;
}

int dmr_dfs_rm(dmr_dfs_t *d, const char *path, int recursive, uint64_t *count,
               char *err, size_t errlen)
{
    dmr_msg_t req, rep;
    dmr_msg_init(&req, DMR_MSG_FS_RM);
    req.path = path;
    req.flags = recursive ? 1 : 0;
    int rc = s_ask(d, &req, &rep, err, errlen);
    if (rc)
        return rc;
    if (count)
        *count = rep.total;
    dmr_msg_clear(&rep);
    return 0;
}

/* --------------------------------------------------------------- writes */

int dmr_dfs_create(dmr_dfs_t *d, const char *path, uint32_t replication,
                   size_t chunk_bytes, dmr_dfs_writer_t **out, char *err,
                   size_t errlen)
{
    if (chunk_bytes == 0 || chunk_bytes > DMR_CHUNK_MAX) {
        dmr_errf(err, errlen, "chunk size must be 1 byte to %llu MiB",
                 (unsigned long long)(DMR_CHUNK_MAX >> 20));
        return DMR_EINVAL;
    }
    dmr_msg_t req, rep;
    dmr_msg_init(&req, DMR_MSG_FS_CREATE);
    req.path = path;
    req.replication = replication;
    int rc = s_ask(d, &req, &rep, err, errlen);
    if (rc)
        return rc;
    dmr_dfs_writer_t *w = dmr_calloc(1, sizeof *w);
    w->d = d;
    w->session = rep.job;
    w->path = dmr_strdup(path);
    w->cap = chunk_bytes;
    dmr_msg_clear(&rep);
    *out = w;
    return 0;
}

typedef struct {
    const char *wid, *endpoint;
    void *sock;
    uint64_t sent;  /* bytes sent */
    uint64_t acked; /* bytes acknowledged */
    int final_sent, done, failed;
    int64_t last; /* when it last made progress */
    char why[256];
} target_t;

static void s_put(target_t *t, uint64_t chunk, uint32_t vers,
                  const uint8_t *buf, size_t len)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_CHUNK_PUT);
    m.chunk = chunk;
    m.version = vers;
    if (t->sent < len) {
        size_t n = len - t->sent;
        if (n > DMR_MSG_PIECE)
            n = DMR_MSG_PIECE;
        m.offset = t->sent;
        m.blob = buf + t->sent;
        m.blob_len = n;
        if (dmr_net_send(t->sock, NULL, &m) == 0)
            t->sent += n;
    } else {
        m.offset = len;
        m.flags = 1; /* final: commit */
        m.total = len;
        if (dmr_net_send(t->sock, NULL, &m) == 0)
            t->final_sent = 1;
    }
}

/* Pushes buf to every target at once; returns how many committed it. */
static size_t s_push(dmr_dfs_t *d, uint64_t chunk, uint32_t vers,
                     const uint8_t *buf, size_t len, target_t *t, size_t nt)
{
    zmq_pollitem_t items[64];
    int64_t now = dmr_now_ms();
    for (size_t i = 0; i < nt; i++) {
        t[i].sock = s_peer(d, t[i].endpoint);
        t[i].last = now;
        if (!t[i].sock) {
            t[i].failed = 1;
            snprintf(t[i].why, sizeof t[i].why, "cannot connect");
        }
    }
    for (;;) {
        size_t active = 0;
        for (size_t i = 0; i < nt; i++) {
            target_t *x = &t[i];
            if (x->failed || x->done)
                continue;
            while (!x->final_sent &&
                   x->sent - x->acked < (uint64_t)WINDOW * DMR_MSG_PIECE) {
                uint64_t before = x->sent;
                int was_final = x->final_sent;
                s_put(x, chunk, vers, buf, len);
                if (x->sent == before && x->final_sent == was_final)
                    break; /* cannot send now: the peer is not connected */
            }
            items[active++] = (zmq_pollitem_t){x->sock, 0, ZMQ_POLLIN, 0};
        }
        if (active == 0)
            break;
        int n = zmq_poll(items, (int)active, 200);
        if (n < 0 && errno != EINTR)
            break;
        now = dmr_now_ms();
        for (size_t i = 0; i < nt; i++) {
            target_t *x = &t[i];
            if (x->failed || x->done)
                continue;
            dmr_msg_t m;
            char why[256];
            while (dmr_net_recv(x->sock, NULL, &m, why, sizeof why) == 0) {
                if (m.type == DMR_MSG_CHUNK_ACK && m.chunk == chunk) {
                    if (m.status != 0) {
                        x->failed = 1;
                        snprintf(x->why, sizeof x->why, "%s",
                                 m.error ? m.error : "refused");
                    } else if (x->final_sent && m.offset == len) {
                        x->done = 1;
                    } else if (m.offset > x->acked && m.offset <= x->sent) {
                        x->acked = m.offset;
                        x->last = now;
                    }
                } else if (m.type == DMR_MSG_ERROR) {
                    x->failed = 1;
                    snprintf(x->why, sizeof x->why, "%s", m.error);
                }
                dmr_msg_clear(&m);
                if (x->failed || x->done)
                    break;
            }
            if (!x->failed && !x->done && now - x->last > PEER_TIMEOUT_MS) {
                x->failed = 1;
                snprintf(x->why, sizeof x->why, "no answer for %d s",
                         PEER_TIMEOUT_MS / 1000);
            }
            if (x->failed)
                s_drop_peer(d, x->endpoint);
        }
    }
    size_t ok = 0;
    for (size_t i = 0; i < nt; i++)
        ok += t[i].done;
    return ok;
}

/* Stores the buffered chunk: allocate, push, report. */
static int s_flush(dmr_dfs_writer_t *w, char *err, size_t errlen)
{
    dmr_dfs_t *d = w->d;
    char last[512] = "no target";
    for (int attempt = 0; attempt < ALLOC_TRIES; attempt++) {
        dmr_msg_t req, rep;
        dmr_msg_init(&req, DMR_MSG_FS_ALLOC);
        req.job = w->session;
        req.wid = d->wid[0] ? d->wid : NULL;
        int rc = s_ask(d, &req, &rep, err, errlen);
        if (rc)
            return rc;
        size_t nt = rep.nitems < 64 ? rep.nitems : 64;
        target_t t[64];
        memset(t, 0, sizeof t);
        for (size_t i = 0; i < nt; i++) {
            t[i].wid = rep.items[i].wid ? rep.items[i].wid : "";
            t[i].endpoint = rep.items[i].endpoint ? rep.items[i].endpoint : "";
        }
        size_t ok = s_push(d, rep.chunk, rep.version, w->buf, w->len, t, nt);
        for (size_t i = 0; i < nt; i++)
            if (t[i].failed)
                snprintf(last, sizeof last, "%s (%s): %s", t[i].wid,
                         t[i].endpoint, t[i].why);
        if (ok > 0) {
            dmr_msg_t *locs = dmr_calloc(nt, sizeof *locs);
            dmr_msg_t wr, ack;
            dmr_msg_init(&wr, DMR_MSG_FS_WRITTEN);
            wr.job = w->session;
            wr.chunk = rep.chunk;
            wr.length = w->len;
            for (size_t i = 0; i < nt; i++) {
                if (!t[i].done)
                    continue;
                dmr_msg_init(&locs[wr.nitems], DMR_MSG_REPLICA);
                locs[wr.nitems].chunk = rep.chunk;
                locs[wr.nitems].wid = t[i].wid;
                wr.nitems++;
            }
            wr.items = locs;
            rc = s_ask(d, &wr, &ack, err, errlen);
            free(locs);
            dmr_msg_clear(&rep);
            if (rc)
                return rc;
            dmr_msg_clear(&ack);
            w->written += w->len;
            w->len = 0;
            return 0;
        }
        dmr_msg_clear(&rep);
    }
    dmr_errf(err, errlen, "no worker stored a chunk of dmr:%s; last: %s",
             w->path, last);
    return DMR_EUNAVAIL;
}

int dmr_dfs_write(dmr_dfs_writer_t *w, const void *p, size_t n, char *err,
                  size_t errlen)
{
    const uint8_t *c = p;
    while (n > 0) {
        if (!w->buf)
            w->buf = dmr_malloc(w->cap);
        size_t room = w->cap - w->len;
        size_t k = n < room ? n : room;
        memcpy(w->buf + w->len, c, k);
        w->len += k;
        c += k;
        n -= k;
        if (w->len == w->cap) {
            int rc = s_flush(w, err, errlen);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static void s_writer_free(dmr_dfs_writer_t *w)
{
    free(w->buf);
    free(w->path);
    free(w);
}

int dmr_dfs_commit(dmr_dfs_writer_t **wp, char *err, size_t errlen)
{
    dmr_dfs_writer_t *w = *wp;
    int rc = 0;
    /* An empty file has no chunk; otherwise the partial last one. */
    if (w->len > 0)
        rc = s_flush(w, err, errlen);
    if (rc == 0) {
        dmr_msg_t req, rep;
        dmr_msg_init(&req, DMR_MSG_FS_COMMIT);
        req.job = w->session;
        rc = s_ask(w->d, &req, &rep, err, errlen);
        if (rc == 0)
            dmr_msg_clear(&rep);
    }
    if (rc) {
        dmr_dfs_abort(wp);
        return rc;
    }
    s_writer_free(w);
    *wp = NULL;
    return 0;
}

void dmr_dfs_abort(dmr_dfs_writer_t **wp)
{
    dmr_dfs_writer_t *w = *wp;
    if (!w)
        return;
    dmr_msg_t req, rep;
    char err[64];
    dmr_msg_init(&req, DMR_MSG_FS_ABORT);
    req.job = w->session;
    if (s_ask(w->d, &req, &rep, err, sizeof err) == 0)
        dmr_msg_clear(&rep);
    s_writer_free(w);
    *wp = NULL;
}

/* ---------------------------------------------------------------- reads */

static void s_report_bad(dmr_dfs_t *d, uint64_t id, const char *wid,
                         const char *why)
{
    dmr_msg_t req, rep;
    char err[64];
    dmr_msg_init(&req, DMR_MSG_FS_BAD);
    req.chunk = id;
    req.wid = wid;
    req.error = why;
    if (s_ask(d, &req, &rep, err, sizeof err) == 0)
        dmr_msg_clear(&rep);
}

/* Reads [off, off+n) of c from replica r. */
static int s_read_from(dmr_dfs_t *d, const dmr_dfs_chunk_t *c,
                       const dmr_dfs_replica_t *r, uint64_t off, uint8_t *buf,
                       size_t n, size_t *got, char *err, size_t errlen)
{
    if (d->chunk_dir && d->wid[0] && !strcmp(r->wid, d->wid))
        return dmr_chunk_read(d->chunk_dir, c->id, off, n, buf, got, err,
                              errlen);
    void *sock = s_peer(d, r->endpoint);
    if (!sock) {
        dmr_errf(err, errlen, "cannot connect to %s", r->endpoint);
        return DMR_EIO;
    }
    /* Up to READ_AHEAD pieces in flight; a DEALER gets one peer's replies
     * in order, and any failure drops the socket with its late replies. */
    uint64_t end = off + n < c->length ? off + n : c->length;
    uint64_t asked = off, total = 0;
    int inflight = 0;
    while (off + total < end) {
        while (inflight < READ_AHEAD && asked < end) {
            dmr_msg_t req;
            dmr_msg_init(&req, DMR_MSG_CHUNK_GET);
            req.chunk = c->id;
            req.offset = asked;
            req.length =
                end - asked < DMR_MSG_PIECE ? end - asked : DMR_MSG_PIECE;
            if (dmr_net_send(sock, NULL, &req) != 0)
                break;
            asked += req.length;
            inflight++;
        }
        if (inflight == 0) {
            dmr_errf(err, errlen, "%s: cannot send a request", r->endpoint);
            s_drop_peer(d, r->endpoint);
            return DMR_EIO;
        }
        dmr_msg_t rep;
        char why[256];
        int rc = dmr_net_recv_wait(sock, &rep, PEER_TIMEOUT_MS, PEER_TIMEOUT_MS,
                                   why, sizeof why);
        if (rc == 0 && rep.type == DMR_MSG_ERROR) {
            dmr_errf(err, errlen, "%s: %s", r->endpoint, rep.error);
            rc = rep.status < 0 ? (int)rep.status : DMR_EIO;
            dmr_msg_clear(&rep);
        } else if (rc == 0 &&
                   (rep.type != DMR_MSG_CHUNK_DATA || rep.chunk != c->id ||
                    rep.offset != off + total || rep.blob_len == 0 ||
                    rep.blob_len > end - (off + total))) {
            dmr_errf(err, errlen, "%s: unexpected %s", r->endpoint,
                     dmr_msg_type_name(rep.type));
            dmr_msg_clear(&rep);
            rc = DMR_EPROTO;
        } else if (rc) {
            dmr_errf(err, errlen, "%s: %s", r->endpoint, why);
        }
        if (rc) {
            s_drop_peer(d, r->endpoint);
            return rc;
        }
        memcpy(buf + total, rep.blob, rep.blob_len);
        total += rep.blob_len;
        inflight--;
        dmr_msg_clear(&rep);
    }
    *got = (size_t)total;
    return 0;
}

int dmr_dfs_read(dmr_dfs_t *d, const dmr_dfs_chunk_t *c, uint64_t off,
                 void *buf, size_t n, size_t *got, char *err, size_t errlen)
{
    if (off > c->length) {
        dmr_errf(err, errlen, "read past the end of chunk %016llx",
                 (unsigned long long)c->id);
        return DMR_EINVAL;
    }
    if (off + n > c->length)
        n = (size_t)(c->length - off);
    char last[600] = "no replica is known";
    /* Local replica first, then the others in the master's order. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < c->nrep; i++) {
            const dmr_dfs_replica_t *r = &c->rep[i];
            int local = d->wid[0] && !strcmp(r->wid, d->wid);
            if (!r->good || (pass == 0) != local)
                continue;
            char why[512];
            int rc = s_read_from(d, c, r, off, buf, n, got, why, sizeof why);
            if (rc == 0 && *got == n)
                return 0;
            if (rc == 0)
                snprintf(why, sizeof why, "short read (%zu of %zu bytes)", *got,
                         n);
            if (rc == DMR_ECORRUPT)
                s_report_bad(d, c->id, r->wid, why);
            snprintf(last, sizeof last, "replica on %s: %.500s", r->wid, why);
        }
    }
    dmr_errf(err, errlen, "no replica of chunk %016llx could be read; last: %s",
             (unsigned long long)c->id, last);
    return DMR_EUNAVAIL;
}

int dmr_dfs_file_read(dmr_dfs_t *d, const dmr_dfs_file_t *f, uint64_t off,
                      void *buf, size_t n, size_t *got, char *err,
                      size_t errlen)
{
    uint64_t start = 0;
    *got = 0;
    for (uint32_t i = 0; i < f->nchunks; i++) {
        const dmr_dfs_chunk_t *c = &f->chunks[i];
        if (off < start + c->length) {
            uint64_t in = off - start;
            size_t k = n < c->length - in ? n : (size_t)(c->length - in);
            return dmr_dfs_read(d, c, in, buf, k, got, err, errlen);
        }
        start += c->length;
    }
    return 0; /* at or past the end */
}

int dmr_dfs_get(dmr_dfs_t *d, const char *path, FILE *out, char *err,
                size_t errlen)
{
    dmr_dfs_file_t *f;
    size_t nf;
    int is_dir;
    int rc = dmr_dfs_stat(d, path, 0, 1, &f, &nf, &is_dir, err, errlen);
    if (rc)
        return rc;
    if (nf != 1) {
        dmr_errf(err, errlen, "%s is a directory", path);
        dmr_dfs_files_free(f, nf);
        return DMR_EINVAL;
    }
    size_t cap = DMR_MSG_PIECE * 8;
    uint8_t *buf = dmr_malloc(cap);
    for (uint32_t i = 0; rc == 0 && i < f->nchunks; i++) {
        const dmr_dfs_chunk_t *c = &f->chunks[i];
        for (uint64_t off = 0; rc == 0 && off < c->length;) {
            size_t got = 0;
            rc = dmr_dfs_read(d, c, off, buf, cap, &got, err, errlen);
            if (rc == 0 && fwrite(buf, 1, got, out) != got) {
                dmr_errf(err, errlen, "cannot write the output: %s",
                         strerror(errno));
                rc = DMR_EIO;
            }
            off += got;
        }
    }
    free(buf);
    dmr_dfs_files_free(f, nf);
    return rc;
}

/* ---------------------------------------------------------------- copies */

int dmr_dfs_copy_chunk(const char *endpoint, uint64_t id, uint32_t version,
                       uint64_t length, const char *dir, char *err,
                       size_t errlen)
{
    /* A client with no master: the chunk's one source is given, read with
     * the same pieces in flight as any read. */
    dmr_dfs_t *d = dmr_calloc(1, sizeof *d);
    d->zctx = zmq_ctx_new();
    dmr_dfs_replica_t src = {.good = 1};
    snprintf(src.endpoint, sizeof src.endpoint, "%s", endpoint);
    dmr_dfs_chunk_t c = {
        .id = id, .length = length, .version = version, .rep = &src, .nrep = 1};
    dmr_chunk_writer_t *w = NULL;
    size_t cap = DMR_MSG_PIECE * READ_AHEAD;
    uint8_t *buf = dmr_malloc(cap);
    int rc = dmr_chunk_writer_open(dir, id, version, &w);
    for (uint64_t off = 0; rc == 0 && off < length;) {
        size_t want = length - off < cap ? (size_t)(length - off) : cap;
        size_t got = 0;
        rc = s_read_from(d, &c, &src, off, buf, want, &got, err, errlen);
        if (rc == 0)
            rc = dmr_chunk_writer_write(w, off, buf, got);
        off += got;
    }
    if (rc == 0) {
        rc = dmr_chunk_writer_commit(&w, length);
        if (rc)
            dmr_errf(err, errlen, "cannot store chunk %016llx in %s: %s",
                     (unsigned long long)id, dir, dmr_strerror(rc));
    }
    dmr_chunk_writer_abort(&w);
    free(buf);
    dmr_dfs_close(&d);
    return rc;
}
