/* badpeer.c -- sends malformed messages to a dmr socket, then checks that
 * it still answers a well-formed request.
 *
 *   badpeer ENDPOINT
 *
 * Works against a master (asks WORKERS, expects WORKER_LIST) and against a
 * worker's shuffle server (asks for a missing map output, expects ERROR).
 * Exit status 0 when the peer answered after the garbage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/net.h"
#include "common/proto.h"

static void s_send_raw(void *s, const void *p, size_t n, int more)
{
    zmq_send(s, p, n, more ? ZMQ_SNDMORE : 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: badpeer ENDPOINT\n");
        return 2;
    }
    void *ctx = zmq_ctx_new();
    void *s = dmr_net_socket(ctx, ZMQ_DEALER);
    if (dmr_net_connect(s, argv[1]) != 0)
        return 2;

    /* Random bytes, a non-map, an empty frame, two frames. */
    srand(42);
    for (int i = 0; i < 200; i++) {
        unsigned char junk[64];
        size_t n = (size_t)(rand() % (int)sizeof junk);
        for (size_t k = 0; k < n; k++)
            junk[k] = (unsigned char)rand();
        s_send_raw(s, junk, n, 0);
    }
    s_send_raw(s, "\x93\x01\x02\x03", 4, 0);
    s_send_raw(s, "", 0, 0);
    s_send_raw(s, "\x80", 1, 1);
    s_send_raw(s, "\x80", 1, 0);
    /* A map claiming four billion entries in five bytes. */
    s_send_raw(s, "\xdf\xff\xff\xff\xff", 5, 0);
    /* Unknown type, wrong version, wrong field type. */
    s_send_raw(s, "\x82\xa1v\x01\xa1t\xcc\xfa", 8, 0);
    s_send_raw(s, "\x82\xa1v\x09\xa1t\x0c", 7, 0);
    s_send_raw(s, "\x83\xa1v\x01\xa1t\x0c\xa3job\xa1x", 12, 0);
    /* A valid message cut short. */
    dmr_msg_t m;
    dmr_buf_t b = DMR_BUF_INIT;
    dmr_msg_init(&m, DMR_MSG_REGISTER);
    m.host = "badpeer";
    m.pid = 1;
    m.endpoint = "tcp://127.0.0.1:1";
    m.slots = 1;
    dmr_msg_encode(&m, &b);
    for (size_t cut = 1; cut < b.len; cut += 3)
        s_send_raw(s, b.data, cut, 0);
    dmr_buf_free(&b);

    /* Drain whatever error replies came back, then ask properly. */
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    while (zmq_poll(&it, 1, 300) > 0) {
        zmq_msg_t f;
        zmq_msg_init(&f);
        zmq_msg_recv(&f, s, 0);
        zmq_msg_close(&f);
    }
    dmr_msg_t req, rep;
    dmr_msg_init(&req, DMR_MSG_WORKERS);
    char err[256];
    int rc = dmr_net_request(s, &req, &rep, 5000, err, sizeof err);
    int ok = 0;
    if (rc == 0) {
        /* A master lists workers; a worker refuses WORKERS on its shuffle
         * port without an answer, so ask it for a missing map output. */
        ok = rep.type == DMR_MSG_WORKER_LIST;
        dmr_msg_clear(&rep);
    } else {
        dmr_msg_init(&req, DMR_MSG_FETCH);
        req.job = 999999;
        req.length = 1;
        rc = dmr_net_request(s, &req, &rep, 5000, err, sizeof err);
        ok = rc == 0 && rep.type == DMR_MSG_ERROR;
        if (rc == 0)
            dmr_msg_clear(&rep);
    }
    if (!ok)
        fprintf(stderr, "badpeer: %s did not answer after the garbage: %s\n",
                argv[1], rc ? err : "unexpected reply");
    dmr_net_close(&s);
    zmq_ctx_term(ctx);
    return ok ? 0 : 1;
}
