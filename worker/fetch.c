/* fetch.c -- the reducer's side of the shuffle.
 *
 * The map outputs held by one endpoint are dealt round-robin into up to
 * -D fetchers (default 4) lanes; each lane gets a DEALER of its own and
 * works through its queue one piece at a time, so a reply always answers
 * the one request in flight on that socket, while several outputs of one
 * worker come at once. */
#include "worker/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/net.h"
#include "common/util.h"

typedef struct {
    const char *endpoint;
    void *sock;
    size_t *queue; /* indexes of map outputs still to fetch */
    size_t nqueue, head;
    uint64_t offset; /* next byte of the current map output */
    int fd;          /* its local file */
    int64_t sent_ms; /* when the request in flight went out */
} source_t;

void dmr_fetch_result_free(dmr_fetch_result_t *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++)
        free(r[i].path);
    free(r);
}

static void s_request(source_t *src, const dmr_msg_t *spec,
                      const dmr_msg_t *loc)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_FETCH);
    m.job = spec->job;
    m.task = loc->task;
    m.attempt = loc->attempt;
    m.part = spec->task;
    m.offset = src->offset;
    m.length = DMR_MSG_PIECE;
    dmr_net_send(src->sock, NULL, &m);
    src->sent_ms = dmr_now_ms();
}

int dmr_fetch_partition(const dmr_msg_t *spec, const char *dir,
                        dmr_fetch_result_t **out, uint64_t *bytes, long *bad,
                        dmr_fetch_progress_fn progress, void *arg, char *err,
                        size_t errlen)
{
    size_t done = 0;
    *bad = -1;
    size_t n = spec->nitems;
    int rc = 0;
    int64_t timeout = 30000;
    const char *tp = dmr_msg_param(spec, "fetch_timeout_ms");
    if (tp && (dmr_parse_i64(tp, &timeout) != 0 || timeout <= 0))
        timeout = 30000;
    int64_t lanes = 4;
    const char *fp = dmr_msg_param(spec, "fetchers");
    if (fp && (dmr_parse_i64(fp, &lanes) != 0 || lanes < 1 || lanes > 64))
        lanes = 4;
    size_t *dealt = dmr_calloc(n ? n : 1, sizeof *dealt); /* per endpoint */
    dmr_fetch_result_t *res = dmr_calloc(n, sizeof *res);
    source_t *src = dmr_calloc(n, sizeof *src);
    size_t nsrc = 0;
    void *zctx = zmq_ctx_new();
    zmq_pollitem_t *items = dmr_calloc(n + 1, sizeof *items);

    for (size_t i = 0; i < n; i++) {
        const dmr_msg_t *loc = &spec->items[i];
        if (loc->type != DMR_MSG_MAP_LOC) {
            snprintf(err, errlen, "reduce task lists a %s as a map output",
                     dmr_msg_type_name(loc->type));
            rc = DMR_EPROTO;
            goto out;
        }
        res[i].path = dmr_sprintf("%s/in-%05zu.run", dir, i);
        /* the first source of this endpoint, and how many it has dealt */
        size_t first = 0;
        while (first < nsrc && strcmp(src[first].endpoint, loc->endpoint))
            first++;
        size_t lane = first < nsrc ? dealt[first]++ % (size_t)lanes : 0;
        /* the lane-th source of this endpoint, or a new one */
        size_t s = first, k = 0;
        for (; s < nsrc; s++)
            if (!strcmp(src[s].endpoint, loc->endpoint) && k++ == lane)
                break;
        if (s == nsrc) {
            src[nsrc].endpoint = loc->endpoint;
            src[nsrc].queue = dmr_calloc(n, sizeof(size_t));
            src[nsrc].fd = -1;
            if (first == nsrc)
                dealt[nsrc] = 1;
            nsrc++;
        }
        src[s].queue[src[s].nqueue++] = i;
    }
    for (size_t s = 0; s < nsrc; s++) {
        src[s].sock = dmr_net_socket(zctx, ZMQ_DEALER);
        if (!src[s].sock || dmr_net_connect(src[s].sock, src[s].endpoint)) {
            snprintf(err, errlen, "cannot connect to %s", src[s].endpoint);
            rc = DMR_EIO;
            goto out;
        }
    }
    /* Open the first file of every source and send its first request. */
    size_t active = 0;
    for (size_t s = 0; s < nsrc; s++) {
        size_t i = src[s].queue[0];
        src[s].fd = open(res[i].path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (src[s].fd < 0) {
            snprintf(err, errlen, "cannot create %s: %s", res[i].path,
                     strerror(errno));
            rc = DMR_EIO;
            goto out;
        }
        s_request(&src[s], spec, &spec->items[i]);
        active++;
    }
    while (active > 0) {
        for (size_t s = 0; s < nsrc; s++)
            items[s] = (zmq_pollitem_t){src[s].sock, 0, ZMQ_POLLIN, 0};
        int pn = zmq_poll(items, (int)nsrc, 200);
        if (pn < 0 && errno == EINTR)
            continue;
        if (pn < 0) {
            snprintf(err, errlen, "poll: %s", zmq_strerror(errno));
            rc = DMR_EIO;
            goto out;
        }
        int64_t now = dmr_now_ms();
        for (size_t s = 0; s < nsrc; s++) {
            source_t *so = &src[s];
            if (so->head >= so->nqueue)
                continue;
            size_t i = so->queue[so->head];
            const dmr_msg_t *loc = &spec->items[i];
            if (!(items[s].revents & ZMQ_POLLIN)) {
                if (now - so->sent_ms > timeout) {
                    snprintf(err, errlen,
                             "fetch of map %u output from %s (%s) "
                             "timed out after %lld ms",
                             loc->task, loc->wid, so->endpoint,
                             (long long)timeout);
                    *bad = (long)i;
                    rc = DMR_EFETCH;
                    goto out;
                }
                continue;
            }
            dmr_msg_t m;
            char why[256];
            int r = dmr_net_recv(so->sock, NULL, &m, why, sizeof why);
            if (r == DMR_EUNAVAIL)
                continue;
            if (r) {
                snprintf(err, errlen, "bad reply from %s: %s", so->endpoint,
                         why);
                *bad = (long)i;
                rc = DMR_EFETCH;
                goto out;
            }
            if (m.type == DMR_MSG_ERROR) {
                snprintf(err, errlen,
                         "fetch of map %u output from %s (%s) "
                         "failed: %s",
                         loc->task, loc->wid, so->endpoint, m.error);
                dmr_msg_clear(&m);
                *bad = (long)i;
                rc = DMR_EFETCH;
                goto out;
            }
            if (m.type != DMR_MSG_FETCH_DATA || m.task != loc->task ||
                m.attempt != loc->attempt || m.offset != so->offset ||
                m.offset + m.blob_len > m.total) {
                dmr_msg_clear(&m);
                continue; /* a late reply to an older request: ignore */
            }
            if (m.blob_len && pwrite(so->fd, m.blob, m.blob_len,
                                     (off_t)m.offset) != (ssize_t)m.blob_len) {
                snprintf(err, errlen, "cannot write %s: %s", res[i].path,
                         strerror(errno));
                dmr_msg_clear(&m);
                rc = DMR_EIO;
                goto out;
            }
            so->offset += m.blob_len;
            *bytes += m.blob_len;
            if (progress)
                progress(arg, done, *bytes);
            uint64_t total = m.total;
            int stalled = m.blob_len == 0 && so->offset < total;
            dmr_msg_clear(&m);
            if (stalled) {
                snprintf(err, errlen, "source %s sent an empty piece",
                         so->endpoint);
                *bad = (long)i;
                rc = DMR_EFETCH;
                goto out;
            }
            if (so->offset < total) {
                s_request(so, spec, loc);
                continue;
            }
            /* This map output is complete; move to the next in the queue. */
            res[i].length = total;
            done++;
            if (progress)
                progress(arg, done, *bytes);
            close(so->fd);
            so->fd = -1;
            so->offset = 0;
            if (++so->head >= so->nqueue) {
                active--;
                continue;
            }
            i = so->queue[so->head];
            so->fd = open(res[i].path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (so->fd < 0) {
                snprintf(err, errlen, "cannot create %s: %s", res[i].path,
                         strerror(errno));
                rc = DMR_EIO;
                goto out;
            }
            s_request(so, spec, &spec->items[i]);
        }
    }
out:
    for (size_t s = 0; s < nsrc; s++) {
        if (src[s].fd >= 0)
            close(src[s].fd);
        dmr_net_close(&src[s].sock);
        free(src[s].queue);
    }
    free(src);
    free(dealt);
    free(items);
    zmq_ctx_term(zctx);
    if (rc) {
        dmr_fetch_result_free(res, n);
        return rc;
    }
    *out = res;
    return 0;
}
