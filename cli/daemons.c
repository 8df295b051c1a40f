/* daemons.c -- `dmr master` and `dmr worker`: option tables to configs. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "master/master.h"
#include "worker/worker.h"

static const dmr_opt_t s_master_opts[] = {
    {"bind", 'b', DMR_OPT_STR, "ENDPOINT", "tcp://0.0.0.0:7070",
     "where workers and clients reach the master", 0, 0},
    {"data", 'd', DMR_OPT_STR, "DIR", "./dmr-master",
     "directory for job objects and master state", 0, 0},
    {"endpoint-file", 0, DMR_OPT_STR, "FILE", NULL,
     "write the bound endpoint here (useful with port 0)", 0, 0},
    {"heartbeat-ms", 0, DMR_OPT_INT, "MS", "250",
     "heartbeat interval workers are told to use", 10, 60000},
    {"dead-after-ms", 0, DMR_OPT_INT, "MS", "2000",
     "a worker silent this long is declared dead", 50, 3600000},
    {"max-attempts", 0, DMR_OPT_INT, "N", "4",
     "failed attempts of one task before its job fails", 1, 100},
    {"task-timeout-ms", 0, DMR_OPT_INT, "MS", "60000",
     "an attempt without progress this long is hung (0: never); a job may "
     "set -D task_timeout_ms",
     0, 86400000},
    {"blacklist-after", 0, DMR_OPT_INT, "N", "3",
     "failed attempts on one worker after which a job stops using it "
     "(0: never)",
     0, 1000},
    {"detector", 0, DMR_OPT_STR, "fixed|phi", "fixed",
     "failure detector: a fixed timeout (--dead-after-ms) or phi accrual", 0,
     0},
    {"write-lease-ms", 0, DMR_OPT_INT, "MS", "60000",
     "a store write silent this long may be taken over by another writer", 1000,
     86400000},
    {"phi-threshold", 0, DMR_OPT_INT, "PHI", "8",
     "with --detector phi: suspicion level at which a worker is dead", 1, 100},
};

static const dmr_cmd_t s_master_cmd = {
    "dmr master",
    "[options]",
    "Runs the master: accepts workers, schedules map and reduce tasks onto\n"
    "them, and serves clients (submit, status, jobs, workers).",
    s_master_opts,
    sizeof s_master_opts / sizeof *s_master_opts,
    0,
    0};

int dmr_cmd_master(int argc, char **argv)
{
    dmr_args_t a;
    int code;
    if (dmr_cli_parse(&s_master_cmd, argc, argv, &a, &code))
        return code;
    const dmr_cmd_t *c = &s_master_cmd;
    dmr_master_config_t cfg = {
        .bind = dmr_args_get(c, &a, "bind")->str,
        .data_dir = dmr_args_get(c, &a, "data")->str,
        .endpoint_file = dmr_args_get(c, &a, "endpoint-file")->str,
        .heartbeat_ms = (int)dmr_args_get(c, &a, "heartbeat-ms")->num,
        .dead_after_ms = (int)dmr_args_get(c, &a, "dead-after-ms")->num,
        .max_attempts = (int)dmr_args_get(c, &a, "max-attempts")->num,
        .task_timeout_ms = (int)dmr_args_get(c, &a, "task-timeout-ms")->num,
        .blacklist_after = (int)dmr_args_get(c, &a, "blacklist-after")->num,
        .phi_threshold = (double)dmr_args_get(c, &a, "phi-threshold")->num,
        .write_lease_ms = (int)dmr_args_get(c, &a, "write-lease-ms")->num,
    };
    const char *det = dmr_args_get(c, &a, "detector")->str;
    if (!strcmp(det, "phi")) {
        cfg.phi = 1;
    } else if (strcmp(det, "fixed") != 0) {
        fprintf(stderr, "dmr master: --detector %s: expected fixed or phi\n",
                det);
        dmr_args_free(&a);
        return 2;
    }
    dmr_log_set_role("master");
    int rc = dmr_master_run(&cfg);
    dmr_args_free(&a);
    return rc ? 1 : 0;
}

static const dmr_opt_t s_worker_opts[] = {
    {"master", 'm', DMR_OPT_STR, "ENDPOINT", NULL,
     "the master, e.g. tcp://10.0.0.1:7070 (required)", 0, 0},
    {"advertise", 'a', DMR_OPT_STR, "HOST", NULL,
     "host name or address other machines use to reach this worker", 0, 0},
    {"bind", 'b', DMR_OPT_STR, "ENDPOINT", "tcp://0.0.0.0:0",
     "where the shuffle server listens (port 0: any free port)", 0, 0},
    {"data", 'd', DMR_OPT_STR, "DIR", "./dmr-worker",
     "directory for map outputs, task logs and cached job objects", 0, 0},
    {"slots", 's', DMR_OPT_INT, "N", "2", "tasks to run at once", 1, 256},
    {"heartbeat-ms", 0, DMR_OPT_INT, "MS", "0",
     "heartbeat interval (0: the one the master asks for)", 0, 60000},
};

static const dmr_cmd_t s_worker_cmd = {
    "dmr worker",
    "--master ENDPOINT [options]",
    "Runs a worker: registers with the master, heartbeats, runs the tasks\n"
    "it is given (each in a child process) and serves its map outputs to\n"
    "reducers on other machines. Give --advertise when the master and other\n"
    "workers reach this machine by a name other than 127.0.0.1.",
    s_worker_opts,
    sizeof s_worker_opts / sizeof *s_worker_opts,
    0,
    0};

int dmr_cmd_worker(int argc, char **argv)
{
    dmr_args_t a;
    int code;
    if (dmr_cli_parse(&s_worker_cmd, argc, argv, &a, &code))
        return code;
    const dmr_cmd_t *c = &s_worker_cmd;
    dmr_worker_config_t cfg = {
        .master = dmr_args_get(c, &a, "master")->str,
        .advertise = dmr_args_get(c, &a, "advertise")->str,
        .bind = dmr_args_get(c, &a, "bind")->str,
        .data_dir = dmr_args_get(c, &a, "data")->str,
        .slots = (int)dmr_args_get(c, &a, "slots")->num,
        .heartbeat_ms = (int)dmr_args_get(c, &a, "heartbeat-ms")->num,
    };
    if (!cfg.master) {
        fprintf(stderr, "dmr worker: --master ENDPOINT is required "
                        "(e.g. --master tcp://127.0.0.1:7070)\n");
        dmr_args_free(&a);
        return 2;
    }
    dmr_log_set_role("worker");
    int rc = dmr_worker_run(&cfg);
    dmr_args_free(&a);
    return rc ? 1 : 0;
}
