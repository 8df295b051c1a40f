/* fetch.c -- the reducer's side of the shuffle.
 *
 * Where the map outputs are: the TASK lists those of the maps done when
 * the reduce was assigned, and its "off" is where the job's map log (the
 * maps in the order they finished, master/job.h) stood then. While some
 * map output is unknown the reduce asks the master for what the log
 * holds from there on (MAP_QUERY, answered by MAP_LOCS). The master holds
 * a question that has no news yet until a map is done (or half a second
 * has passed), and the reduce asks again ASK_MS after each answer, so
 * each output is fetched as soon as its map is done, without polling. Each map
 * output is fetched once: from the location first learnt, or from a newer one
 * learnt before its fetch began; a map re-executed after that changes
 * nothing here. The master's answer also says whether this attempt still
 * runs, so a reduce waiting for maps stops when it was given up.
 *
 * The map outputs held by one endpoint go to up to -D fetchers (default
 * 4) lanes; each lane has a DEALER of its own and works through its queue
 * one piece at a time, so a reply always answers the one request in
 * flight on that socket, while several outputs of one worker come at
 * once. A new output goes to an idle lane of its endpoint, else to a new
 * lane while the endpoint has fewer than -D fetchers, else to its lane
 * with the least work queued. Pieces go to disk as they arrive: memory
 * holds at most one piece per lane. */
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

#define ASK_MS 20         /* pause between an answer and the next question */
#define ASK_AGAIN_MS 2000 /* a question unanswered this long is asked again */
#define POLL_MS 200

enum { OUT_UNKNOWN, OUT_QUEUED, OUT_FETCHING, OUT_DONE };

typedef struct {
    dmr_fetch_output_t pub; /* its strings are the ones below */
    int state;              /* OUT_* */
    char *endpoint, *wid, *path;
    size_t lane; /* the lane it is queued on */
} output_t;

typedef struct {
    char *endpoint;
    void *sock;
    uint32_t *queue; /* maps whose outputs are still to fetch */
    size_t nqueue, head, cap;
    long cur;        /* the map being fetched, -1 when idle */
    uint64_t offset; /* next byte of its output */
    int fd;          /* its local file */
    int64_t sent_ms; /* when the request in flight went out */
} lane_t;

struct dmr_fetch {
    const dmr_msg_t *spec;
    const char *dir, *master_ep, *wid;
    void *zctx;
    void *master;     /* DEALER to the master, made when first needed */
    uint64_t log_pos; /* how far the job's map log has been read */
    int64_t next_ask; /* when to ask the master next */
    int64_t asked;    /* when the unanswered question went out; 0: none */
    output_t *out;    /* one per map */
    uint32_t n, known, done;
    uint32_t *order; /* order[i]: the map whose output was i-th complete */
    lane_t *lanes;
    size_t nlanes;
    int64_t timeout;     /* -D fetch_timeout_ms */
    size_t per_endpoint; /* -D fetchers */
    long bad;            /* the map whose output failed, or -1 */
    uint64_t bytes, answers;
};

dmr_fetch_t *dmr_fetch_new(const dmr_msg_t *spec, const char *dir,
                           const char *master, const char *wid)
{
    dmr_fetch_t *f = dmr_calloc(1, sizeof *f);
    f->spec = spec;
    f->dir = dir;
    f->master_ep = master;
    f->wid = wid ? wid : "";
    f->zctx = zmq_ctx_new();
    f->n = spec->nmap;
    f->out = dmr_calloc(f->n + 1, sizeof *f->out);
    f->order = dmr_calloc(f->n + 1, sizeof *f->order);
    f->bad = -1;
    f->timeout = 30000;
    const char *tp = dmr_msg_param(spec, "fetch_timeout_ms");
    if (tp && (dmr_parse_i64(tp, &f->timeout) != 0 || f->timeout <= 0))
        f->timeout = 30000;
    int64_t lanes = 4;
    const char *fp = dmr_msg_param(spec, "fetchers");
    if (fp && (dmr_parse_i64(fp, &lanes) != 0 || lanes < 1 || lanes > 64))
        lanes = 4;
    f->per_endpoint = (size_t)lanes;
    return f;
}

void dmr_fetch_destroy(dmr_fetch_t **fp)
{
    dmr_fetch_t *f = *fp;
    if (!f)
        return;
    for (size_t i = 0; i < f->nlanes; i++) {
        if (f->lanes[i].fd >= 0)
            close(f->lanes[i].fd);
        dmr_net_close(&f->lanes[i].sock);
        free(f->lanes[i].endpoint);
        free(f->lanes[i].queue);
    }
    for (uint32_t i = 0; i < f->n; i++) {
        free(f->out[i].endpoint);
        free(f->out[i].wid);
        free(f->out[i].path);
    }
    dmr_net_close(&f->master);
    zmq_ctx_term(f->zctx);
    free(f->lanes);
    free(f->out);
    free(f->order);
    free(f);
    *fp = NULL;
}

const dmr_fetch_output_t *dmr_fetch_output(const dmr_fetch_t *f, uint32_t map)
{
    return map < f->n && f->out[map].state != OUT_UNKNOWN ? &f->out[map].pub
                                                          : NULL;
}

uint32_t dmr_fetch_completed(const dmr_fetch_t *f, size_t i)
{
    DMR_ASSERT(i < f->done);
    return f->order[i];
}

long dmr_fetch_failed(const dmr_fetch_t *f)
{
    return f->bad;
}

/* ---------------------------------------------------------------- lanes */

/* Work queued on a lane (entries of outputs since moved count too). */
static size_t s_load(const lane_t *l)
{
    return (l->cur >= 0) + l->nqueue - l->head;
}

/* The lane a new output of endpoint goes to (see the file comment). */
static int s_lane_for(dmr_fetch_t *f, const char *endpoint, size_t *out,
                      char *err, size_t errlen)
{
    size_t best = 0, count = 0;
    for (size_t i = 0; i < f->nlanes; i++) {
        if (strcmp(f->lanes[i].endpoint, endpoint) != 0)
            continue;
        if (count++ == 0 || s_load(&f->lanes[i]) < s_load(&f->lanes[best]))
            best = i;
    }
    if (count > 0 &&
        (s_load(&f->lanes[best]) == 0 || count >= f->per_endpoint)) {
        *out = best;
        return 0;
    }
    void *sock = dmr_net_socket(f->zctx, ZMQ_DEALER);
    if (!sock || dmr_net_connect(sock, endpoint) != 0) {
        dmr_net_close(&sock);
        snprintf(err, errlen, "cannot connect to %s", endpoint);
        return DMR_EIO;
    }
    f->lanes = dmr_realloc(f->lanes, (f->nlanes + 1) * sizeof *f->lanes);
    f->lanes[f->nlanes] = (lane_t){
        .endpoint = dmr_strdup(endpoint), .sock = sock, .cur = -1, .fd = -1};
    *out = f->nlanes++;
    return 0;
}

static void s_request(dmr_fetch_t *f, lane_t *l)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_FETCH);
    m.job = f->spec->job;
    m.task = (uint32_t)l->cur;
    m.attempt = f->out[l->cur].pub.attempt;
    m.part = f->spec->task;
    m.offset = l->offset;
    m.length = DMR_MSG_PIECE;
    dmr_net_send(l->sock, NULL, &m);
    l->sent_ms = dmr_now_ms();
}

/* Starts the next output queued on idle lane l, if there is one: opens
 * its file and sends the first request. */
static int s_start(dmr_fetch_t *f, size_t li, char *err, size_t errlen)
{
    lane_t *l = &f->lanes[li];
    while (l->cur < 0 && l->head < l->nqueue) {
        output_t *o = &f->out[l->queue[l->head++]];
        if (o->state != OUT_QUEUED || o->lane != li)
            continue; /* it moved to a newer location */
        l->fd = open(o->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (l->fd < 0) {
            snprintf(err, errlen, "cannot create %s: %s", o->path,
                     strerror(errno));
            return DMR_EIO;
        }
        o->state = OUT_FETCHING;
        l->cur = l->queue[l->head - 1];
        l->offset = 0;
        s_request(f, l);
    }
    if (l->head == l->nqueue)
        l->head = l->nqueue = 0;
    return 0;
}

/* Takes in the location of a map output. A map output already fetched, or
 * being fetched, stays where it is; one only queued moves to a newer
 * attempt of its map. */
static int s_learn(dmr_fetch_t *f, const dmr_msg_t *loc, char *err,
                   size_t errlen)
{
    if (loc->type != DMR_MSG_MAP_LOC || loc->task >= f->n) {
        snprintf(err, errlen, "map output list holds a %s for map %u of %u",
                 dmr_msg_type_name(loc->type), loc->task, f->n);
        return DMR_EPROTO;
    }
    output_t *o = &f->out[loc->task];
    if (o->state != OUT_UNKNOWN &&
        (o->state != OUT_QUEUED || loc->attempt <= o->pub.attempt))
        return 0;
    size_t li;
    int rc = s_lane_for(f, loc->endpoint, &li, err, errlen);
    if (rc)
        return rc;
    if (o->state == OUT_UNKNOWN) {
        f->known++;
        o->path = dmr_sprintf("%s/in-%05u.run", f->dir, loc->task);
    }
    free(o->endpoint);
    free(o->wid);
    o->endpoint = dmr_strdup(loc->endpoint);
    o->wid = dmr_strdup(loc->wid);
    o->pub =
        (dmr_fetch_output_t){loc->attempt, o->endpoint, o->wid, o->path, 0, 0};
    o->state = OUT_QUEUED;
    o->lane = li;
    lane_t *l = &f->lanes[li];
    if (l->nqueue == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->queue = dmr_realloc(l->queue, l->cap * sizeof *l->queue);
    }
    l->queue[l->nqueue++] = loc->task;
    return s_start(f, li, err, errlen);
}

/* Takes one reply on lane li: a piece to write, the end of an output (and
 * the start of the next), or a failure of the source. */
static int s_piece(dmr_fetch_t *f, size_t li, char *err, size_t errlen)
{
    lane_t *l = &f->lanes[li];
    dmr_msg_t m;
    char why[256];
    int r = dmr_net_recv(l->sock, NULL, &m, why, sizeof why);
    if (r == DMR_EUNAVAIL)
        return 0;
    if (l->cur < 0) { /* nothing was asked: a stray reply */
        if (r == 0)
            dmr_msg_clear(&m);
        return 0;
    }
    output_t *o = &f->out[l->cur];
    if (r) {
        snprintf(err, errlen, "bad reply from %s: %s", l->endpoint, why);
        f->bad = l->cur;
        return DMR_EFETCH;
    }
    if (m.type == DMR_MSG_ERROR) {
        snprintf(err, errlen, "fetch of map %ld output from %s (%s) failed: %s",
                 l->cur, o->wid, l->endpoint, m.error);
        dmr_msg_clear(&m);
        f->bad = l->cur;
        return DMR_EFETCH;
    }
    if (m.type != DMR_MSG_FETCH_DATA || m.task != (uint32_t)l->cur ||
        m.attempt != o->pub.attempt || m.offset != l->offset ||
        m.offset + m.blob_len > m.total) {
        dmr_msg_clear(&m);
        return 0; /* a late reply to an older request: ignore */
    }
    if (dmr_pwrite_all(l->fd, m.blob, m.blob_len, m.offset) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", o->path, strerror(errno));
        dmr_msg_clear(&m);
        return DMR_EIO;
    }
    l->offset += m.blob_len;
    f->bytes += m.blob_len;
    uint64_t total = m.total;
    int stalled = m.blob_len == 0 && l->offset < total;
    dmr_msg_clear(&m);
    if (stalled) {
        snprintf(err, errlen, "source %s sent an empty piece", l->endpoint);
        f->bad = l->cur;
        return DMR_EFETCH;
    }
    if (l->offset < total) {
        s_request(f, l);
        return 0;
    }
    /* This map output is complete; on to the next in the queue. */
    o->pub.length = total;
    o->pub.complete = 1;
    o->state = OUT_DONE;
    f->order[f->done++] = (uint32_t)l->cur;
    close(l->fd);
    l->fd = -1;
    l->cur = -1;
    return s_start(f, li, err, errlen);
}

/* --------------------------------------------------------------- master */

/* Asks the master where the maps logged since log_pos are, when some
 * output is unknown, no question is out (or it went unanswered for
 * ASK_AGAIN_MS) and it is time. */
static int s_ask(dmr_fetch_t *f, int64_t now, char *err, size_t errlen)
{
    if (f->known == f->n || now < f->next_ask ||
        (f->asked && now - f->asked < ASK_AGAIN_MS))
        return 0;
    if (!f->master) {
        if (!f->master_ep || !*f->master_ep) {
            snprintf(err, errlen,
                     "%u of %u map outputs are not listed, and "
                     "there is no master to ask for them",
                     f->n - f->known, f->n);
            return DMR_EINVAL;
        }
        f->master = dmr_net_socket(f->zctx, ZMQ_DEALER);
        if (!f->master || dmr_net_connect(f->master, f->master_ep) != 0) {
            snprintf(err, errlen, "cannot connect to the master at %s",
                     f->master_ep);
            return DMR_EIO;
        }
    }
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_MAP_QUERY);
    m.job = f->spec->job;
    m.task = f->spec->task;
    m.attempt = f->spec->attempt;
    m.wid = f->wid;
    m.offset = f->log_pos;
    m.flags = 1;                       /* hold it until there is news */
    dmr_net_send(f->master, NULL, &m); /* if it is lost, it is asked again */
    f->asked = now;
    return 0;
}

/* Takes in the master's answer: the locations of maps since done. */
static int s_answer(dmr_fetch_t *f, const dmr_msg_t *r, int64_t now, char *err,
                    size_t errlen)
{
    if (r->type == DMR_MSG_ERROR) {
        snprintf(err, errlen, "the master cannot say where map outputs are: %s",
                 r->error);
        return DMR_EPROTO;
    }
    if (r->type != DMR_MSG_MAP_LOCS || r->job != f->spec->job ||
        r->task != f->spec->task || r->attempt != f->spec->attempt)
        return 0;
    if (strcmp(r->state, "running") != 0) {
        snprintf(err, errlen,
                 "the master no longer runs this attempt (%s) while it "
                 "waits for %u of %u map outputs",
                 r->state, f->n - f->known, f->n);
        return DMR_ENOENT;
    }
    f->answers++;
    for (size_t i = 0; i < r->nitems; i++) {
        int rc = s_learn(f, &r->items[i], err, errlen);
        if (rc)
            return rc;
    }
    if (r->offset > f->log_pos)
        f->log_pos = r->offset;
    f->asked = 0;
    f->next_ask = f->log_pos < r->total ? now : now + ASK_MS;
    return 0;
}

/* ------------------------------------------------------------------ run */

int dmr_fetch_run(dmr_fetch_t *f, dmr_fetch_progress_fn progress, void *arg,
                  char *err, size_t errlen)
{
    int rc = 0;
    const dmr_msg_t *spec = f->spec;
    for (size_t i = 0; i < spec->nitems && rc == 0; i++)
        rc = s_learn(f, &spec->items[i], err, errlen);
    f->log_pos = spec->offset;
    zmq_pollitem_t *items = NULL;
    while (rc == 0 && f->done < f->n) {
        int64_t now = dmr_now_ms(), wait = POLL_MS;
        rc = s_ask(f, now, err, errlen);
        if (rc)
            break;
        if (f->known < f->n && !f->asked && f->next_ask - now < wait)
            wait = f->next_ask > now ? f->next_ask - now : 0;
        size_t np = f->nlanes + (f->master != NULL);
        items = dmr_realloc(items, (np + 1) * sizeof *items);
        for (size_t i = 0; i < f->nlanes; i++)
            items[i] = (zmq_pollitem_t){f->lanes[i].sock, 0, ZMQ_POLLIN, 0};
        if (f->master)
            items[f->nlanes] = (zmq_pollitem_t){f->master, 0, ZMQ_POLLIN, 0};
        int pn = zmq_poll(items, (int)np, (long)wait);
        if (pn < 0 && errno == EINTR)
            continue;
        if (pn < 0) {
            snprintf(err, errlen, "poll: %s", zmq_strerror(errno));
            rc = DMR_EIO;
            break;
        }
        now = dmr_now_ms();
        size_t polled = f->nlanes; /* lanes made below were not polled */
        if (f->master && (items[polled].revents & ZMQ_POLLIN)) {
            for (int k = 0; rc == 0 && k < 100; k++) {
                dmr_msg_t m;
                char why[256];
                int r = dmr_net_recv(f->master, NULL, &m, why, sizeof why);
                if (r == DMR_EUNAVAIL)
                    break;
                if (r == 0) {
                    rc = s_answer(f, &m, now, err, errlen);
                    dmr_msg_clear(&m);
                }
            }
        }
        for (size_t i = 0; rc == 0 && i < f->nlanes; i++) {
            lane_t *l = &f->lanes[i];
            if (i < polled && (items[i].revents & ZMQ_POLLIN))
                rc = s_piece(f, i, err, errlen);
            else if (l->cur >= 0 && now - l->sent_ms > f->timeout) {
                output_t *o = &f->out[l->cur];
                snprintf(err, errlen,
                         "fetch of map %ld output from %s (%s) timed out "
                         "after %lld ms",
                         l->cur, o->wid, l->endpoint, (long long)f->timeout);
                f->bad = l->cur;
                rc = DMR_EFETCH;
            }
        }
        if (rc == 0 && progress)
            progress(arg, f->done, f->bytes, f->answers);
    }
    free(items);
    return rc;
}
