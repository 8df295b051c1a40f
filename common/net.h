/* net.h -- ZeroMQ sockets carrying dmr messages.
 *
 * Framing: a DEALER sends and receives one frame, the message body. A
 * ROUTER receives [routing id][body] and sends the same. Anything else --
 * extra frames, an empty body, a body that does not decode -- is drained
 * and reported as DMR_EPROTO; the caller logs it and goes on serving.
 *
 * Every socket made here has linger 0, a receive size limit of
 * DMR_MSG_MAX (ZeroMQ drops a peer that sends more) and TCP keepalive.
 * Not thread-safe: a socket belongs to the thread that made it. */
#ifndef DMR_NET_H
#define DMR_NET_H

#include <stddef.h>
#include <stdint.h>

#include "common/proto.h"

/* A ROUTER's routing id for one peer. */
typedef struct {
    size_t len;
    uint8_t id[255];
} dmr_peer_t;

/* A new socket of ZeroMQ type (ZMQ_ROUTER, ZMQ_DEALER) or NULL. */
void *dmr_net_socket(void *zctx, int type);
void dmr_net_close(void **sock);

/* Binds endpoint; writes the endpoint actually bound (with the port chosen
 * for a "*" or "0" port) into actual. Returns 0 or DMR_EIO. */
int dmr_net_bind(void *sock, const char *endpoint, char *actual,
                 size_t actual_len);
int dmr_net_connect(void *sock, const char *endpoint);

/* Encodes and sends m, to the given peer on a ROUTER (to != NULL) or as a
 * single frame on a DEALER (to == NULL). Does not block: DMR_EUNAVAIL if the
 * peer is gone or its queue is full. */
int dmr_net_send(void *sock, const dmr_peer_t *to, const dmr_msg_t *m);

/* Receives one message. With from != NULL the socket is a ROUTER and the
 * routing id is stored there. Returns 0, DMR_EUNAVAIL when nothing is
 * waiting (non-blocking), DMR_EPROTO / DMR_ETOOBIG with err filled for a
 * bad message (already drained), or DMR_EIO. */
int dmr_net_recv(void *sock, dmr_peer_t *from, dmr_msg_t *m, char *err,
                 size_t errlen);

/* Sends req on a DEALER and waits up to timeout_ms for one reply. Returns
 * 0, DMR_ETIMEDOUT or a receive error. A reply of type ERROR is returned
 * as a success: callers check rep->type. */
int dmr_net_request(void *sock, const dmr_msg_t *req, dmr_msg_t *rep,
                    int timeout_ms, char *err, size_t errlen);

/* Waits up to wait_ms for one message on a DEALER: 0, DMR_ETIMEDOUT
 * (err says "no answer within said_ms ms") or a receive error. */
int dmr_net_recv_wait(void *sock, dmr_msg_t *m, int wait_ms, int said_ms,
                      char *err, size_t errlen);

/* Replaces a wildcard host (star or 0.0.0.0) in a bound endpoint with
 * host, so peers on other machines can reach it. */
void dmr_net_advertise(const char *bound, const char *host, char *out,
                       size_t outlen);

#endif
