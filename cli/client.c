/* client.c -- what the client subcommands share: finding and calling the
 * master, argument parsing with uniform errors. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/net.h"
#include "common/util.h"

int dmr_cli_parse(const dmr_cmd_t *cmd, int argc, char **argv, dmr_args_t *args,
                  int *exit_code)
{
    char err[512];
    if (dmr_args_parse(cmd, argc, argv, args, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        dmr_args_free(args);
        *exit_code = 2;
        return 1;
    }
    if (args->help) {
        dmr_cmd_usage(cmd, stdout);
        dmr_args_free(args);
        *exit_code = 0;
        return 1;
    }
    return 0;
}

static int s_read_state_endpoint(char *out, size_t len)
{
    dmr_buf_t b = DMR_BUF_INIT;
    int rc = dmr_read_file(DMR_CLUSTER_STATE "/master.endpoint", 4096, &b);
    if (rc == 0) {
        while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == ' '))
            b.data[--b.len] = '\0';
        snprintf(out, len, "%s", b.data);
        rc = b.len ? 0 : DMR_ENOENT;
    }
    dmr_buf_free(&b);
    return rc;
}

int dmr_client_open(dmr_client_t *c, const char *flag_master)
{
    memset(c, 0, sizeof *c);
    const char *env = getenv("DMR_MASTER");
    if (flag_master && *flag_master)
        snprintf(c->endpoint, sizeof c->endpoint, "%s", flag_master);
    else if (env && *env)
        snprintf(c->endpoint, sizeof c->endpoint, "%s", env);
    else if (s_read_state_endpoint(c->endpoint, sizeof c->endpoint) != 0) {
        fprintf(stderr, "dmr: no master given: use --master tcp://HOST:PORT, "
                        "set DMR_MASTER, or start a local cluster with "
                        "'dmr cluster up'\n");
        return 1;
    }
    c->zctx = zmq_ctx_new();
    c->sock = dmr_net_socket(c->zctx, ZMQ_DEALER);
    if (!c->sock || dmr_net_connect(c->sock, c->endpoint) != 0) {
        fprintf(stderr, "dmr: bad master endpoint '%s': %s\n", c->endpoint,
                zmq_strerror(zmq_errno()));
        dmr_client_close(c);
        return 1;
    }
    return 0;
}

int dmr_client_call(dmr_client_t *c, const dmr_msg_t *req, dmr_msg_t *rep,
                    int timeout_ms)
{
    char err[512];
    int rc = dmr_net_request(c->sock, req, rep, timeout_ms, err, sizeof err);
    if (rc == DMR_ETIMEDOUT || rc == DMR_EUNAVAIL) {
        fprintf(stderr,
                "dmr: no answer from the master at %s within %d s; "
                "is it running?\n",
                c->endpoint, timeout_ms / 1000);
        return 1;
    }
    if (rc) {
        fprintf(stderr, "dmr: master at %s: %s\n", c->endpoint, err);
        return 1;
    }
    if (rep->type == DMR_MSG_ERROR) {
        fprintf(stderr, "dmr: %s\n", rep->error);
        dmr_msg_clear(rep);
        return 1;
    }
    return 0;
}

void dmr_client_close(dmr_client_t *c)
{
    dmr_net_close(&c->sock);
    if (c->zctx)
        zmq_ctx_term(c->zctx);
    c->zctx = NULL;
}

const char *dmr_cli_duration(int64_t ms, char *buf, size_t len)
{
    if (ms < 0)
        ms = 0;
    if (ms < 60000)
        snprintf(buf, len, "%.2fs", (double)ms / 1000.0);
    else
        snprintf(buf, len, "%lldm%02llds", (long long)(ms / 60000),
                 (long long)(ms % 60000) / 1000);
    return buf;
}
