/* main.c -- the dmr command: one binary, many subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "worker/chunkserver.h"
#include "worker/task.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} subcmd_t;

static const subcmd_t s_cmds[] = {
    {"master", dmr_cmd_master, "run the master daemon"},
    {"worker", dmr_cmd_worker, "run a worker daemon"},
    {"cluster", dmr_cmd_cluster,
     "start or stop a local cluster, kill a worker"},
    {"submit", dmr_cmd_submit, "run a job and wait for it"},
    {"status", dmr_cmd_status, "show a job with every task attempt"},
    {"jobs", dmr_cmd_jobs, "list jobs"},
    {"workers", dmr_cmd_workers, "list workers with their heartbeat age"},
    {"fs", dmr_cmd_fs, "the replicated chunk store: put, get, ls, fsck..."},
    {"sort", dmr_cmd_sort,
     "sort 100-byte records (TeraSort): sample, sort, validate"},
    {"check", dmr_cmd_check, "check histories for linearizability"},
    {"history", dmr_cmd_history,
     "validate, describe or convert a history file"},
    {"task", dmr_task_main, NULL},          /* internal: run by workers */
    {"chunk-copy", dmr_cs_copy_main, NULL}, /* internal: run by workers */
};

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "dmr -- batch MapReduce over ZeroMQ\n\n"
        "usage: dmr COMMAND [options]    (dmr COMMAND --help for details)\n\n"
        "commands:\n");
    for (size_t i = 0; i < sizeof s_cmds / sizeof *s_cmds; i++)
        if (s_cmds[i].help)
            fprintf(out, "  %-9s %s\n", s_cmds[i].name, s_cmds[i].help);
    fprintf(out, "  %-9s %s\n", "help", "this text, or help COMMAND");
    fprintf(
        out,
        "\nclient commands find the master from --master, else $DMR_MASTER,\n"
        "else the local cluster started in ./.dmr by 'dmr cluster up'.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        s_usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "help") || !strcmp(name, "--help") ||
        !strcmp(name, "-h")) {
        if (argc > 2) {
            for (size_t i = 0; i < sizeof s_cmds / sizeof *s_cmds; i++)
                if (!strcmp(s_cmds[i].name, argv[2])) {
                    char *hargv[] = {argv[2], "--help", NULL};
                    return s_cmds[i].run(2, hargv);
                }
        }
        s_usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof s_cmds / sizeof *s_cmds; i++)
        if (!strcmp(s_cmds[i].name, name))
            return s_cmds[i].run(argc - 1, argv + 1);
    fprintf(stderr, "dmr: unknown command '%s'\n\n", name);
    s_usage(stderr);
    return 2;
}
