/* net.c -- ZeroMQ sockets carrying dmr messages. */
#include "common/net.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "common/error.h"
#include "common/util.h"

void *dmr_net_socket(void *zctx, int type)
{
    void *s = zmq_socket(zctx, type);
    if (!s)
        return NULL;
    int zero = 0, one = 1;
    int64_t max = DMR_MSG_MAX + 4096;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt(s, ZMQ_TCP_KEEPALIVE, &one, sizeof one);
    if (type == ZMQ_ROUTER)
        zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    return s;
}

void dmr_net_close(void **sock)
{
    if (*sock)
        zmq_close(*sock);
    *sock = NULL;
}

int dmr_net_bind(void *sock, const char *endpoint, char *actual,
                 size_t actual_len)
{
    char ep[1024];
    snprintf(ep, sizeof ep, "%s", endpoint);
    size_t n = strlen(ep);
    /* Accept ":0" as the familiar spelling of "any free port". */
    if (n > 2 && strcmp(ep + n - 2, ":0") == 0)
        snprintf(ep + n - 1, sizeof ep - (n - 1), "*");
    if (zmq_bind(sock, ep) != 0)
        return DMR_EIO;
    if (actual) {
        size_t len = actual_len;
        if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, actual, &len) != 0)
            return DMR_EIO;
    }
    return 0;
}

int dmr_net_connect(void *sock, const char *endpoint)
{
    return zmq_connect(sock, endpoint) == 0 ? 0 : DMR_EIO;
}

int dmr_net_send(void *sock, const dmr_peer_t *to, const dmr_msg_t *m)
{
    dmr_buf_t body = DMR_BUF_INIT;
    int rc = dmr_msg_encode(m, &body);
    if (rc)
        goto out;
    if (to && zmq_send(sock, to->id, to->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        rc =
            (errno == EHOSTUNREACH || errno == EAGAIN) ? DMR_EUNAVAIL : DMR_EIO;
        goto out;
    }
    if (zmq_send(sock, body.data, body.len, ZMQ_DONTWAIT) < 0)
        rc =
            (errno == EHOSTUNREACH || errno == EAGAIN) ? DMR_EUNAVAIL : DMR_EIO;
out:
    dmr_buf_free(&body);
    return rc;
}

/* Discards the remaining frames of a multipart message. */
static void s_drain(void *sock)
{
    int more = 1;
    size_t len = sizeof more;
    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &len) == 0 && more) {
        zmq_msg_t f;
        zmq_msg_init(&f);
        zmq_msg_recv(&f, sock, 0);
        zmq_msg_close(&f);
        len = sizeof more;
    }
}

static int s_more(void *sock)
{
    int more = 0;
    size_t len = sizeof more;
    zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &len);
    return more;
}

int dmr_net_recv(void *sock, dmr_peer_t *from, dmr_msg_t *m, char *err,
                 size_t errlen)
{
    zmq_msg_t f;
    int rc;
    if (err && errlen)
        err[0] = '\0';
    if (from) {
        zmq_msg_init(&f);
        if (zmq_msg_recv(&f, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&f);
            return errno == EAGAIN ? DMR_EUNAVAIL : DMR_EIO;
        }
        size_t n = zmq_msg_size(&f);
        from->len = n < sizeof from->id ? n : sizeof from->id;
        memcpy(from->id, zmq_msg_data(&f), from->len);
        zmq_msg_close(&f);
        if (!s_more(sock)) {
            snprintf(err, errlen, "message has a routing id but no body");
            return DMR_EPROTO;
        }
    }
    zmq_msg_init(&f);
    if (zmq_msg_recv(&f, sock, from ? 0 : ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&f);
        return errno == EAGAIN ? DMR_EUNAVAIL : DMR_EIO;
    }
    if (s_more(sock)) {
        s_drain(sock);
        snprintf(err, errlen, "message has more frames than one body");
        rc = DMR_EPROTO;
    } else {
        rc = dmr_msg_decode(zmq_msg_data(&f), zmq_msg_size(&f), m, err, errlen);
    }
    zmq_msg_close(&f);
    return rc;
}

int dmr_net_request(void *sock, const dmr_msg_t *req, dmr_msg_t *rep,
                    int timeout_ms, char *err, size_t errlen)
{
    int64_t deadline = dmr_now_ms() + timeout_ms;
    int rc = dmr_net_send(sock, NULL, req);
    if (rc == DMR_EUNAVAIL) {
        /* A DEALER with no connected peer yet queues nothing: retry until
         * the deadline, the connection may still be coming up. */
        while (rc == DMR_EUNAVAIL && dmr_now_ms() < deadline) {
            zmq_pollitem_t it = {sock, 0, ZMQ_POLLOUT, 0};
            zmq_poll(&it, 1, 50);
            rc = dmr_net_send(sock, NULL, req);
        }
    }
    if (rc) {
        snprintf(err, errlen, "cannot send %s: %s",
                 dmr_msg_type_name(req->type), dmr_strerror(rc));
        return rc;
    }
    int64_t left = deadline - dmr_now_ms();
    return dmr_net_recv_wait(sock, rep, left > 0 ? (int)left : 0, timeout_ms,
                             err, errlen);
}

int dmr_net_recv_wait(void *sock, dmr_msg_t *m, int wait_ms, int said_ms,
                      char *err, size_t errlen)
{
    int64_t deadline = dmr_now_ms() + wait_ms;
    for (;;) {
        int64_t left = deadline - dmr_now_ms();
        if (left <= 0)
            break;
        zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&it, 1, (long)left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return DMR_EIO;
        if (n == 0)
            break;
        int rc = dmr_net_recv(sock, NULL, m, err, errlen);
        if (rc == DMR_EUNAVAIL)
            continue;
        return rc;
    }
    snprintf(err, errlen, "no answer within %d ms", said_ms);
    return DMR_ETIMEDOUT;
}

void dmr_net_advertise(const char *bound, const char *host, char *out,
                       size_t outlen)
{
    const char *colon = strrchr(bound, ':');
    const char *scheme = strstr(bound, "://");
    /* Only host:port endpoints have a host to replace; in "ipc://..." or
     * "inproc://..." the last colon is the scheme's own. */
    if (!colon || !scheme || colon < scheme + 3) {
        snprintf(out, outlen, "%s", bound);
        return;
    }
    const char *h = scheme + 3;
    size_t hl = (size_t)(colon - h);
    int wildcard =
        (hl == 1 && h[0] == '*') || (hl == 7 && !memcmp(h, "0.0.0.0", 7));
    if (host && *host)
        snprintf(out, outlen, "tcp://%s%s", host, colon);
    else if (wildcard)
        snprintf(out, outlen, "tcp://127.0.0.1%s", colon);
    else
        snprintf(out, outlen, "%s", bound);
}
