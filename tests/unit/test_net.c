/* test_net.c -- dmr_net: framing between a ROUTER and a DEALER, bad peers,
 * request timeouts and advertised endpoints.
 *
 * Each test runs in its own process with one ZeroMQ context, a ROUTER bound
 * to an inproc endpoint and a DEALER (routing id "dealer-1") connected to
 * it, all made in .init and closed in .fini. Sockets a test adds go in
 * s_extra so that .fini closes them even when an assertion fails. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/error.h"
#include "common/net.h"
#include "common/proto.h"
#include "common/util.h"

#define ENDPOINT "inproc://test-net"
#define DEALER_ID "dealer-1"

static void *s_zctx, *s_router, *s_dealer;
static void *s_extra[2];

static void s_setup(void)
{
    s_zctx = zmq_ctx_new();
    cr_assert_not_null(s_zctx);
    s_router = dmr_net_socket(s_zctx, ZMQ_ROUTER);
    s_dealer = dmr_net_socket(s_zctx, ZMQ_DEALER);
    cr_assert(s_router && s_dealer, "cannot make sockets");
    cr_assert_eq(
        zmq_setsockopt(s_dealer, ZMQ_ROUTING_ID, DEALER_ID, strlen(DEALER_ID)),
        0);
    char actual[256] = "";
    cr_assert_eq(dmr_net_bind(s_router, ENDPOINT, actual, sizeof actual), 0);
    cr_assert_str_eq(actual, ENDPOINT);
    cr_assert_eq(dmr_net_connect(s_dealer, ENDPOINT), 0);
}

static void s_teardown(void)
{
    for (size_t i = 0; i < sizeof s_extra / sizeof *s_extra; i++)
        dmr_net_close(&s_extra[i]);
    dmr_net_close(&s_dealer);
    dmr_net_close(&s_router);
    if (s_zctx)
        zmq_ctx_term(s_zctx);
    s_zctx = NULL;
}

TestSuite(net, .init = s_setup, .fini = s_teardown);

/* Waits until sock has a message to read. */
static void s_wait_readable(void *sock)
{
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    int n = zmq_poll(&it, 1, 2000);
    cr_assert_eq(n, 1, "no message arrived within 2 s (poll: %d)", n);
}

/* Waits for and receives one message; returns dmr_net_recv's code. */
static int s_recv(void *sock, dmr_peer_t *from, dmr_msg_t *m, char *err,
                  size_t errlen)
{
    s_wait_readable(sock);
    return dmr_net_recv(sock, from, m, err, errlen);
}

static void s_send_heartbeat(void *sock, const dmr_peer_t *to, uint64_t inc)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_HEARTBEAT);
    m.wid = "w7";
    m.inc = inc;
    m.running = 3;
    int rc = dmr_net_send(sock, to, &m);
    cr_assert_eq(rc, 0, "send: %s", dmr_strerror(rc));
}

/* Receives on the ROUTER and expects the heartbeat s_send_heartbeat sent
 * from the DEALER. */
static void s_expect_heartbeat(uint64_t inc)
{
    dmr_peer_t from;
    dmr_msg_t m;
    char err[256] = "";
    int rc = s_recv(s_router, &from, &m, err, sizeof err);
    cr_assert_eq(rc, 0, "recv: %s (%s)", dmr_strerror(rc), err);
    cr_assert_eq(m.type, DMR_MSG_HEARTBEAT, "got a %s",
                 dmr_msg_type_name(m.type));
    cr_assert_str_eq(m.wid, "w7");
    cr_assert_eq(m.inc, inc, "inc: got %llu, want %llu",
                 (unsigned long long)m.inc, (unsigned long long)inc);
    cr_assert_eq(from.len, strlen(DEALER_ID), "routing id of %zu bytes",
                 from.len);
    cr_assert(memcmp(from.id, DEALER_ID, from.len) == 0,
              "routing id \"%.*s\", want \"" DEALER_ID "\"", (int)from.len,
              (const char *)from.id);
    dmr_msg_clear(&m);
}

/* Nothing more is waiting on sock. */
static void s_expect_nothing(void *sock, int is_router)
{
    dmr_peer_t from;
    dmr_msg_t m;
    char err[256] = "";
    int rc = dmr_net_recv(sock, is_router ? &from : NULL, &m, err, sizeof err);
    cr_assert_eq(rc, DMR_EUNAVAIL, "got %d (%s), want DMR_EUNAVAIL; %s", rc,
                 dmr_strerror(rc), err);
}

Test(net, a_message_round_trips_with_its_routing_id, .timeout = 10)
{
    s_send_heartbeat(s_dealer, NULL, 42);
    dmr_peer_t from;
    dmr_msg_t m;
    char err[256] = "";
    cr_assert_eq(s_recv(s_router, &from, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m.type, DMR_MSG_HEARTBEAT);
    cr_assert_str_eq(m.wid, "w7");
    cr_assert_eq(m.inc, 42);
    cr_assert_eq(m.running, 3);
    cr_assert_eq(from.len, strlen(DEALER_ID));
    cr_assert(memcmp(from.id, DEALER_ID, from.len) == 0);
    dmr_msg_clear(&m);

    /* The reply goes back to that routing id. */
    dmr_msg_t rep;
    dmr_msg_init(&rep, DMR_MSG_WELCOME);
    rep.wid = "w7";
    rep.inc = 42;
    rep.interval = 500;
    cr_assert_eq(dmr_net_send(s_router, &from, &rep), 0);
    cr_assert_eq(s_recv(s_dealer, NULL, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m.type, DMR_MSG_WELCOME, "got a %s",
                 dmr_msg_type_name(m.type));
    cr_assert_str_eq(m.wid, "w7");
    cr_assert_eq(m.inc, 42);
    cr_assert_eq(m.interval, 500);
    dmr_msg_clear(&m);

    s_expect_nothing(s_router, 1);
    s_expect_nothing(s_dealer, 0);
}

Test(net, a_two_frame_message_is_rejected_and_the_router_keeps_serving,
     .timeout = 10)
{
    /* A valid body followed by an extra frame is still not one body. */
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_JOBS);
    dmr_buf_t body = DMR_BUF_INIT;
    cr_assert_eq(dmr_msg_encode(&m, &body), 0);
    cr_assert_eq(zmq_send(s_dealer, body.data, body.len, ZMQ_SNDMORE),
                 (int)body.len);
    cr_assert_eq(zmq_send(s_dealer, "extra", 5, ZMQ_SNDMORE), 5);
    cr_assert_eq(zmq_send(s_dealer, "more", 4, 0), 4);
    dmr_buf_free(&body);

    dmr_peer_t from;
    char err[256] = "";
    int rc = s_recv(s_router, &from, &m, err, sizeof err);
    cr_assert_eq(rc, DMR_EPROTO, "got %d (%s), want DMR_EPROTO", rc,
                 dmr_strerror(rc));
    cr_assert(strstr(err, "frames"), "err \"%s\" does not mention frames", err);

    /* The extra frames were drained: the next good message comes whole. */
    s_send_heartbeat(s_dealer, NULL, 1);
    s_expect_heartbeat(1);
    s_expect_nothing(s_router, 1);
}

Test(net, a_garbage_body_is_rejected_and_the_router_keeps_serving,
     .timeout = 10)
{
    static const struct {
        const char *body;
        size_t len;
        const char *mentions;
    } bad[] = {
        {"\xc1garbage", 8, "MessagePack"},
        {"", 0, "MessagePack"},
        {"\x82\xa1v\x02\xa1t\x0b", 7, "version"}, /* version 2 */
        {"\x82\xa1v\x01\xa1t\x63", 7, "type 99"},
        {"\x81\xa1v\x01\xc0", 5, "MessagePack"}, /* trailing byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(zmq_send(s_dealer, bad[i].body, bad[i].len, 0),
                     (int)bad[i].len);
        dmr_peer_t from;
        dmr_msg_t m;
        char err[256] = "";
        int rc = s_recv(s_router, &from, &m, err, sizeof err);
        cr_assert_eq(rc, DMR_EPROTO, "body %zu: got %d (%s), want DMR_EPROTO",
                     i, rc, dmr_strerror(rc));
        cr_assert(strstr(err, bad[i].mentions),
                  "body %zu: err \"%s\" does not mention \"%s\"", i, err,
                  bad[i].mentions);
        s_send_heartbeat(s_dealer, NULL, i);
        s_expect_heartbeat(i);
    }
    s_expect_nothing(s_router, 1);
}

Test(net, a_dealer_rejects_bad_replies_and_keeps_receiving, .timeout = 10)
{
    /* The ROUTER learns the DEALER's routing id from a first message. */
    s_send_heartbeat(s_dealer, NULL, 1);
    s_expect_heartbeat(1);
    dmr_peer_t to = {strlen(DEALER_ID), DEALER_ID};

    cr_assert_eq(zmq_send(s_router, to.id, to.len, ZMQ_SNDMORE), (int)to.len);
    cr_assert_eq(zmq_send(s_router, "\x93\x01\x02", 3, 0), 3);
    dmr_msg_t m;
    char err[256] = "";
    cr_assert_eq(s_recv(s_dealer, NULL, &m, err, sizeof err), DMR_EPROTO);
    cr_assert(err[0], "rejected without a reason");

    cr_assert_eq(zmq_send(s_router, to.id, to.len, ZMQ_SNDMORE), (int)to.len);
    cr_assert_eq(zmq_send(s_router, "a", 1, ZMQ_SNDMORE), 1);
    cr_assert_eq(zmq_send(s_router, "b", 1, 0), 1);
    cr_assert_eq(s_recv(s_dealer, NULL, &m, err, sizeof err), DMR_EPROTO);
    cr_assert(strstr(err, "frames"), "err \"%s\" does not mention frames", err);

    s_send_heartbeat(s_router, &to, 2);
    cr_assert_eq(s_recv(s_dealer, NULL, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m.type, DMR_MSG_HEARTBEAT);
    cr_assert_eq(m.inc, 2);
    dmr_msg_clear(&m);
    s_expect_nothing(s_dealer, 0);
}

Test(net, sending_to_a_gone_peer_is_unavailable, .timeout = 10)
{
    dmr_peer_t nobody = {6, "nobody"};
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_JOBS);
    int rc = dmr_net_send(s_router, &nobody, &m);
    cr_assert_eq(rc, DMR_EUNAVAIL, "got %d (%s), want DMR_EUNAVAIL", rc,
                 dmr_strerror(rc));
}

Test(net, sending_a_message_that_does_not_encode_sends_nothing, .timeout = 10)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_HEARTBEAT); /* lacks wid */
    int rc = dmr_net_send(s_dealer, NULL, &m);
    cr_assert_eq(rc, DMR_EINVAL, "got %d (%s), want DMR_EINVAL", rc,
                 dmr_strerror(rc));
    s_send_heartbeat(s_dealer, NULL, 5);
    s_expect_heartbeat(5);
    s_expect_nothing(s_router, 1);
}

Test(net, a_request_nobody_answers_times_out, .timeout = 10)
{
    dmr_msg_t req, rep;
    dmr_msg_init(&req, DMR_MSG_STATUS);
    req.job = 12;
    char err[256] = "";
    int64_t t0 = dmr_now_ms();
    int rc = dmr_net_request(s_dealer, &req, &rep, 150, err, sizeof err);
    int64_t took = dmr_now_ms() - t0;
    cr_assert_eq(rc, DMR_ETIMEDOUT, "got %d (%s), want DMR_ETIMEDOUT; %s", rc,
                 dmr_strerror(rc), err);
    cr_assert(strstr(err, "150 ms"), "err \"%s\" does not name the timeout",
              err);
    cr_assert(took >= 140 && took < 2000, "timed out after %lld ms, want ~150",
              (long long)took);

    /* The request did go out: it was the answer that never came. */
    dmr_peer_t from;
    dmr_msg_t got;
    cr_assert_eq(s_recv(s_router, &from, &got, err, sizeof err), 0, "%s", err);
    cr_assert_eq(got.type, DMR_MSG_STATUS);
    cr_assert_eq(got.job, 12);
    dmr_msg_clear(&got);
}

/* Without a second thread to answer, the ROUTER queues its answer first;
 * dmr_net_request must still send the request and return that answer. An
 * ERROR answer is a success for dmr_net_request. */
Test(net, a_request_returns_the_answer_even_when_it_is_an_error, .timeout = 10)
{
    s_send_heartbeat(s_dealer, NULL, 1);
    s_expect_heartbeat(1);
    dmr_peer_t to = {strlen(DEALER_ID), DEALER_ID};
    dmr_msg_t ans;
    dmr_msg_init(&ans, DMR_MSG_ERROR);
    ans.status = DMR_ENOENT;
    ans.error = "no such job";
    cr_assert_eq(dmr_net_send(s_router, &to, &ans), 0);

    dmr_msg_t req, rep;
    dmr_msg_init(&req, DMR_MSG_STATUS);
    req.job = 99;
    char err[256] = "";
    int rc = dmr_net_request(s_dealer, &req, &rep, 2000, err, sizeof err);
    cr_assert_eq(rc, 0, "got %d (%s): %s", rc, dmr_strerror(rc), err);
    cr_assert_eq(rep.type, DMR_MSG_ERROR, "got a %s",
                 dmr_msg_type_name(rep.type));
    cr_assert_eq(rep.status, DMR_ENOENT);
    cr_assert_str_eq(rep.error, "no such job");
    dmr_msg_clear(&rep);

    dmr_peer_t from;
    dmr_msg_t got;
    cr_assert_eq(s_recv(s_router, &from, &got, err, sizeof err), 0, "%s", err);
    cr_assert_eq(got.type, DMR_MSG_STATUS);
    cr_assert_eq(got.job, 99);
    dmr_msg_clear(&got);
}

Test(net, binding_port_zero_picks_a_port_that_peers_reach, .timeout = 10)
{
    s_extra[0] = dmr_net_socket(s_zctx, ZMQ_ROUTER);
    s_extra[1] = dmr_net_socket(s_zctx, ZMQ_DEALER);
    cr_assert(s_extra[0] && s_extra[1]);
    char bound[256] = "", adv[256] = "";
    cr_assert_eq(
        dmr_net_bind(s_extra[0], "tcp://0.0.0.0:0", bound, sizeof bound), 0);
    cr_assert(strncmp(bound, "tcp://0.0.0.0:", 14) == 0, "bound \"%s\"", bound);
    int port = atoi(bound + 14);
    cr_assert(port > 0 && port < 65536, "bound \"%s\" has no port", bound);

    dmr_net_advertise(bound, NULL, adv, sizeof adv);
    char want[64];
    snprintf(want, sizeof want, "tcp://127.0.0.1:%d", port);
    cr_assert_str_eq(adv, want);

    cr_assert_eq(dmr_net_connect(s_extra[1], adv), 0);
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_SUBMITTED);
    m.job = 77;
    cr_assert_eq(dmr_net_send(s_extra[1], NULL, &m), 0);
    dmr_peer_t from;
    char err[256] = "";
    cr_assert_eq(s_recv(s_extra[0], &from, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m.type, DMR_MSG_SUBMITTED);
    cr_assert_eq(m.job, 77);
    dmr_msg_clear(&m);
}

Test(net, binding_a_bad_endpoint_fails, .timeout = 10)
{
    char actual[256] = "";
    cr_assert_eq(dmr_net_bind(s_router, "nonsense://x", actual, sizeof actual),
                 DMR_EIO);
    cr_assert_eq(dmr_net_bind(s_router, ENDPOINT, actual, sizeof actual),
                 DMR_EIO, "an endpoint bound twice");
    cr_assert_eq(dmr_net_connect(s_dealer, "nonsense://x"), DMR_EIO);
}

static void s_check_advertise(const char *bound, const char *host,
                              const char *want)
{
    char out[256];
    memset(out, 'x', sizeof out);
    dmr_net_advertise(bound, host, out, sizeof out);
    cr_assert_str_eq(
        out, want, "advertise(\"%s\", %s%s%s): got \"%s\", want \"%s\"", bound,
        host ? "\"" : "", host ? host : "NULL", host ? "\"" : "", out, want);
}

Test(net, advertise_rewrites_wildcard_hosts, .timeout = 10)
{
    s_check_advertise("tcp://0.0.0.0:5555", NULL, "tcp://127.0.0.1:5555");
    s_check_advertise("tcp://*:5555", NULL, "tcp://127.0.0.1:5555");
    s_check_advertise("tcp://0.0.0.0:5555", "", "tcp://127.0.0.1:5555");
    s_check_advertise("tcp://0.0.0.0:5555", "node7", "tcp://node7:5555");
    s_check_advertise("tcp://*:6000", "10.0.0.7", "tcp://10.0.0.7:6000");
}

Test(net, advertise_keeps_a_specific_host_unless_told_otherwise, .timeout = 10)
{
    s_check_advertise("tcp://10.1.2.3:5555", NULL, "tcp://10.1.2.3:5555");
    s_check_advertise("tcp://127.0.0.1:7070", "", "tcp://127.0.0.1:7070");
    /* Hosts that merely look like a wildcard are not one. */
    s_check_advertise("tcp://0.0.0.01:5", NULL, "tcp://0.0.0.01:5");
    s_check_advertise("tcp://**:5", NULL, "tcp://**:5");
    /* --advertise names the host peers use, whatever was bound. */
    s_check_advertise("tcp://10.1.2.3:5555", "node7", "tcp://node7:5555");
}

Test(net, advertise_leaves_endpoints_without_a_port_alone, .timeout = 10)
{
    s_check_advertise(ENDPOINT, NULL, ENDPOINT);
    s_check_advertise(ENDPOINT, "node7", ENDPOINT);
    s_check_advertise("ipc:///tmp/dmr.sock", "node7", "ipc:///tmp/dmr.sock");
    s_check_advertise("nonsense", "node7", "nonsense");
}

Test(net, advertise_truncates_to_the_output_buffer, .timeout = 10)
{
    char out[12];
    dmr_net_advertise("tcp://0.0.0.0:5555", "a-long-host-name", out,
                      sizeof out);
    cr_assert_eq(strlen(out), sizeof out - 1, "got \"%s\"", out);
    cr_assert(strncmp(out, "tcp://a-lon", sizeof out - 1) == 0, "got \"%s\"",
              out);
}
