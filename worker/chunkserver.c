/* chunkserver.c -- a worker's replicas of the store's chunks (see .h). */
#include "worker/chunkserver.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "storage/chunk.h"
#include "storage/dfs.h"

#define WRITE_IDLE_MS 60000
#define MAX_COPIES 4

typedef struct {
    uint64_t chunk;
    dmr_chunk_writer_t *w;
    int64_t touched;
} write_t;

typedef struct {
    pid_t pid;
    int errfd; /* the child's stderr */
    uint64_t chunk, length;
    uint32_t version;
} copy_t;

struct dmr_cs {
    char *dir;
    uint64_t *deletes; /* replicas to delete, a few per cron tick */
    size_t ndeletes;
    write_t *writes;
    size_t nwrites;
    copy_t copies[MAX_COPIES];
    size_t ncopies;
};

int dmr_cs_open(const char *data_dir, dmr_cs_t **out)
{
    dmr_cs_t *cs = dmr_calloc(1, sizeof *cs);
    cs->dir = dmr_sprintf("%s/chunks", data_dir);
    if (dmr_mkdirs(cs->dir) != 0) {
        int e = errno;
        dmr_cs_close(&cs);
        errno = e;
        return DMR_EIO;
    }
    /* No writer is running yet: every temporary file is a leftover. */
    dmr_chunk_info_t *list = NULL;
    size_t n = 0;
    dmr_chunk_list(cs->dir, 0, &list, &n, NULL, NULL);
    free(list);
    *out = cs;
    return 0;
}

void dmr_cs_close(dmr_cs_t **csp)
{
    dmr_cs_t *cs = *csp;
    if (!cs)
        return;
    for (size_t i = 0; i < cs->nwrites; i++)
        dmr_chunk_writer_abort(&cs->writes[i].w);
    for (size_t i = 0; i < cs->ncopies; i++) {
        kill(cs->copies[i].pid, SIGKILL);
        waitpid(cs->copies[i].pid, NULL, 0);
        close(cs->copies[i].errfd);
    }
    free(cs->writes);
    free(cs->deletes);
    free(cs->dir);
    free(cs);
    *csp = NULL;
}

const char *dmr_cs_dir(const dmr_cs_t *cs)
{
    return cs->dir;
}

size_t dmr_cs_report(dmr_cs_t *cs, dmr_msg_t **items)
{
    dmr_chunk_info_t *list = NULL;
    uint64_t *bad = NULL;
    size_t n = 0, nbad = 0;
    dmr_chunk_list(cs->dir, 3600, &list, &n, &bad, &nbad);
    for (size_t i = 0; i < nbad; i++) {
        dmr_warn("chunks", "replica of chunk %016llx is damaged; deleting it",
                 (unsigned long long)bad[i]);
        dmr_chunk_delete(cs->dir, bad[i]);
    }
    free(bad);
    *items = dmr_calloc(n + 1, sizeof **items);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int doomed = 0;
        for (size_t j = 0; j < cs->ndeletes && !doomed; j++)
            doomed = cs->deletes[j] == list[i].id;
        if (doomed)
            continue;
        dmr_msg_init(&(*items)[k], DMR_MSG_REPLICA);
        (*items)[k].chunk = list[i].id;
        (*items)[k].version = list[i].version;
        (*items)[k].length = list[i].length;
        k++;
    }
    free(list);
    return k;
}

/* ---------------------------------------------------------------- serve */

static void s_ack(void *router, const dmr_peer_t *to, uint64_t chunk,
                  uint64_t off, int status, const char *err)
{
    dmr_msg_t r;
    dmr_msg_init(&r, DMR_MSG_CHUNK_ACK);
    r.chunk = chunk;
    r.offset = off;
    r.status = status;
    r.error = err;
    dmr_net_send(router, to, &r);
}

static void s_undelete(dmr_cs_t *cs, uint64_t chunk);

static write_t *s_write(dmr_cs_t *cs, uint64_t chunk)
{
    for (size_t i = 0; i < cs->nwrites; i++)
        if (cs->writes[i].chunk == chunk)
            return &cs->writes[i];
    return NULL;
}

static void s_write_end(dmr_cs_t *cs, write_t *w)
{
    dmr_chunk_writer_abort(&w->w);
    *w = cs->writes[--cs->nwrites];
}

static void s_put(dmr_cs_t *cs, void *router, const dmr_peer_t *from,
                  const dmr_msg_t *m)
{
    write_t *w = s_write(cs, m->chunk);
    int rc = 0;
    char err[256] = "";
    if (!w && m->offset == 0) {
        cs->writes =
            dmr_realloc(cs->writes, (cs->nwrites + 1) * sizeof *cs->writes);
        w = &cs->writes[cs->nwrites];
        memset(w, 0, sizeof *w);
        w->chunk = m->chunk;
        s_undelete(cs, m->chunk);
        rc = dmr_chunk_writer_open(cs->dir, m->chunk, m->version, &w->w);
        if (rc) {
            snprintf(err, sizeof err, "cannot create chunk %016llx: %s",
                     (unsigned long long)m->chunk, strerror(errno));
            s_ack(router, from, m->chunk, m->offset, rc, err);
            return;
        }
        cs->nwrites++;
    }
    if (!w) {
        snprintf(err, sizeof err, "no write of chunk %016llx in progress here",
                 (unsigned long long)m->chunk);
        s_ack(router, from, m->chunk, m->offset, DMR_ENOENT, err);
        return;
    }
    w->touched = dmr_now_ms();
    if (m->blob_len > 0)
        rc = dmr_chunk_writer_write(w->w, m->offset, m->blob, m->blob_len);
    if (rc == 0 && (m->flags & 1)) {
        rc = dmr_chunk_writer_commit(&w->w, m->total);
        if (rc == 0) {
            dmr_debug("chunks", "stored chunk %016llx (%llu bytes)",
                      (unsigned long long)m->chunk,
                      (unsigned long long)m->total);
            s_ack(router, from, m->chunk, m->total, 0, NULL);
        }
        if (rc == 0) {
            s_write_end(cs, w);
            return;
        }
    }
    if (rc) {
        snprintf(err, sizeof err, "chunk %016llx at %llu: %s",
                 (unsigned long long)m->chunk, (unsigned long long)m->offset,
                 dmr_strerror(rc));
        s_ack(router, from, m->chunk, m->offset, rc, err);
        s_write_end(cs, w);
        return;
    }
    s_ack(router, from, m->chunk, m->offset + m->blob_len, 0, NULL);
}

static void s_get(dmr_cs_t *cs, void *router, const dmr_peer_t *from,
                  const dmr_msg_t *m)
{
    dmr_chunk_info_t info;
    char err[512];
    int rc = dmr_chunk_stat(cs->dir, m->chunk, &info, err, sizeof err);
    size_t n = m->length < DMR_MSG_PIECE ? (size_t)m->length : DMR_MSG_PIECE;
    uint8_t *buf = dmr_malloc(n ? n : 1);
    size_t got = 0;
    if (rc == 0 && m->offset > info.length) {
        snprintf(err, sizeof err,
                 "offset %llu is past the end of chunk "
                 "%016llx",
                 (unsigned long long)m->offset, (unsigned long long)m->chunk);
        rc = DMR_EINVAL;
    }
    if (rc == 0)
        rc = dmr_chunk_read(cs->dir, m->chunk, m->offset, n, buf, &got, err,
                            sizeof err);
    dmr_msg_t r;
    if (rc) {
        if (rc == DMR_ECORRUPT)
            dmr_warn("chunks", "%s", err);
        dmr_msg_init(&r, DMR_MSG_ERROR);
        r.status = rc;
        r.error = err;
        r.chunk = m->chunk;
    } else {
        dmr_msg_init(&r, DMR_MSG_CHUNK_DATA);
        r.chunk = m->chunk;
        r.offset = m->offset;
        r.total = info.length;
        r.blob = buf;
        r.blob_len = got;
    }
    dmr_net_send(router, from, &r);
    free(buf);
}

int dmr_cs_serve(dmr_cs_t *cs, void *router, const dmr_peer_t *from,
                 const dmr_msg_t *m)
{
    if (m->type == DMR_MSG_CHUNK_PUT)
        s_put(cs, router, from, m);
    else if (m->type == DMR_MSG_CHUNK_GET)
        s_get(cs, router, from, m);
    else
        return 0;
    return 1;
}

/* Deleting a 64 MiB file can take a tenth of a second (more with
 * discard); a large `dmr fs rm` asks for many at once. Done inline they
 * would stall the worker past its heartbeats, so they are queued and done
 * a little at a time from the cron. */
void dmr_cs_delete(dmr_cs_t *cs, uint64_t chunk)
{
    write_t *w = s_write(cs, chunk);
    if (w)
        s_write_end(cs, w);
    for (size_t i = 0; i < cs->ndeletes; i++)
        if (cs->deletes[i] == chunk)
            return;
    cs->deletes =
        dmr_realloc(cs->deletes, (cs->ndeletes + 1) * sizeof *cs->deletes);
    cs->deletes[cs->ndeletes++] = chunk;
}

/* A new write or copy of chunk supersedes a queued delete of it. */
static void s_undelete(dmr_cs_t *cs, uint64_t chunk)
{
    for (size_t i = 0; i < cs->ndeletes; i++) {
        if (cs->deletes[i] == chunk) {
            cs->deletes[i] = cs->deletes[--cs->ndeletes];
            return;
        }
    }
}

/* --------------------------------------------------------------- copies */

void dmr_cs_replicate(dmr_cs_t *cs, const dmr_msg_t *m)
{
    for (size_t i = 0; i < cs->ncopies; i++)
        if (cs->copies[i].chunk == m->chunk)
            return; /* already on it */
    if (cs->ncopies == MAX_COPIES)
        return; /* the master asks again later */
    s_undelete(cs, m->chunk);
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0)
        return;
    char id[32], vers[16], len[32];
    snprintf(id, sizeof id, "%llu", (unsigned long long)m->chunk);
    snprintf(vers, sizeof vers, "%u", m->version);
    snprintf(len, sizeof len, "%llu", (unsigned long long)m->length);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return;
    }
    if (pid == 0) {
        dup2(pipefd[1], 2);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(125);
        execl("/proc/self/exe", "dmr", "chunk-copy", cs->dir, id, vers, len,
              m->endpoint, (char *)NULL);
        dprintf(2, "cannot run the copy process: %s\n", strerror(errno));
        _exit(127);
    }
    close(pipefd[1]);
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    copy_t *c = &cs->copies[cs->ncopies++];
    c->pid = pid;
    c->errfd = pipefd[0];
    c->chunk = m->chunk;
    c->version = m->version;
    c->length = m->length;
    dmr_debug("chunks", "copying chunk %016llx from %s (%s)",
              (unsigned long long)m->chunk, m->wid, m->endpoint);
}

void dmr_cs_cron(dmr_cs_t *cs, dmr_cs_done_fn done, void *arg)
{
    for (size_t i = 0; i < cs->ncopies;) {
        copy_t *c = &cs->copies[i];
        int st;
        if (waitpid(c->pid, &st, WNOHANG) != c->pid) {
            i++;
            continue;
        }
        char err[512] = "";
        ssize_t n = read(c->errfd, err, sizeof err - 1);
        err[n > 0 ? n : 0] = '\0';
        err[strcspn(err, "\n")] = '\0';
        close(c->errfd);
        int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
        if (!ok && !err[0])
            snprintf(err, sizeof err, "copy process died (status %d)", st);
        done(arg, c->chunk, c->version, c->length, ok ? 0 : DMR_EIO,
             ok ? NULL : err);
        *c = cs->copies[--cs->ncopies];
    }
    int64_t now = dmr_now_ms();
    /* Queued deletes, oldest first, for at most 50 ms a tick. */
    size_t gone = 0;
    while (gone < cs->ndeletes && dmr_now_ms() - now < 50) {
        dmr_chunk_delete(cs->dir, cs->deletes[gone]);
        dmr_debug("chunks", "deleted chunk %016llx",
                  (unsigned long long)cs->deletes[gone]);
        gone++;
    }
    if (gone) {
        memmove(cs->deletes, cs->deletes + gone,
                (cs->ndeletes - gone) * sizeof *cs->deletes);
        cs->ndeletes -= gone;
    }
    for (size_t i = 0; i < cs->nwrites;) {
        if (now - cs->writes[i].touched > WRITE_IDLE_MS) {
            dmr_warn("chunks",
                     "write of chunk %016llx abandoned by its "
                     "writer; dropping it",
                     (unsigned long long)cs->writes[i].chunk);
            s_write_end(cs, &cs->writes[i]);
        } else {
            i++;
        }
    }
}

int dmr_cs_copy_main(int argc, char **argv)
{
    uint64_t id, vers, len;
    if (argc != 6 || dmr_parse_u64(argv[2], &id) != 0 ||
        dmr_parse_u64(argv[3], &vers) != 0 ||
        dmr_parse_u64(argv[4], &len) != 0) {
        fprintf(stderr, "usage: dmr chunk-copy DIR CHUNK VERSION LENGTH "
                        "ENDPOINT (run by the worker)\n");
        return 2;
    }
    char err[512];
    int rc = dmr_dfs_copy_chunk(argv[5], id, (uint32_t)vers, len, argv[1], err,
                                sizeof err);
    if (rc) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    return 0;
}
