/* cli.h -- the dmr command's subcommands and what they share.
 *
 * Each subcommand is `int dmr_cmd_NAME(int argc, char **argv)` with argv[0]
 * the subcommand name; it returns the process exit status. Client
 * commands find the master from --master, else $DMR_MASTER, else the
 * local cluster's state directory (./.dmr). */
#ifndef DMR_CLI_H
#define DMR_CLI_H

#include "common/opt.h"
#include "common/proto.h"

int dmr_cmd_master(int argc, char **argv);
int dmr_cmd_worker(int argc, char **argv);
int dmr_cmd_submit(int argc, char **argv);
int dmr_cmd_status(int argc, char **argv);
int dmr_cmd_jobs(int argc, char **argv);
int dmr_cmd_workers(int argc, char **argv);
int dmr_cmd_cluster(int argc, char **argv);
int dmr_cmd_fs(int argc, char **argv);
int dmr_cmd_check(int argc, char **argv);
int dmr_cmd_history(int argc, char **argv);
int dmr_cmd_sort(int argc, char **argv);

/* Default state directory of `dmr cluster`. */
#define DMR_CLUSTER_STATE ".dmr"

/* A connection from a client command to the master. */
typedef struct {
    void *zctx;
    void *sock;
    char endpoint[512];
} dmr_client_t;

/* Resolves the master endpoint (flag, env, state dir) and connects. On
 * failure prints why to stderr and returns non-zero. */
int dmr_client_open(dmr_client_t *c, const char *flag_master);
/* One request/reply with the master; prints a clear error and returns
 * non-zero when the master does not answer or answers ERROR. */
int dmr_client_call(dmr_client_t *c, const dmr_msg_t *req, dmr_msg_t *rep,
                    int timeout_ms);
void dmr_client_close(dmr_client_t *c);

/* Parses argv against cmd; on --help prints usage and sets *exit_code to
 * 0; on error prints it and sets *exit_code to 2. Returns 1 when the caller
 * should return *exit_code (args already freed), 0 to go on (the caller
 * frees args). */
int dmr_cli_parse(const dmr_cmd_t *cmd, int argc, char **argv, dmr_args_t *args,
                  int *exit_code);

/* Formats a duration in ms as "1.23s" / "2m03s" into buf. */
const char *dmr_cli_duration(int64_t ms, char *buf, size_t len);

#endif
