/* info.c -- `dmr status`, `dmr jobs`, `dmr workers`: what the master knows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/util.h"

static const dmr_opt_t s_master_only[] = {
    {"master", 'm', DMR_OPT_STR, "ENDPOINT", NULL, "the master to ask", 0, 0},
};

static const dmr_cmd_t s_status_cmd = {
    "dmr status",
    "[JOB]",
    "Shows a job (default: the latest): its state, progress, counters and\n"
    "every task attempt with its worker, start, end, outcome and progress,\n"
    "and the job's events (lost workers, re-executed and backup tasks).",
    s_master_only,
    1,
    0,
    1};
static const dmr_cmd_t s_jobs_cmd = {
    "dmr jobs",
    "",
    "Lists every job the master knows, newest last.",
    s_master_only,
    1,
    0,
    0};
static const dmr_cmd_t s_workers_cmd = {
    "dmr workers",
    "",
    "Lists the workers: id, shuffle endpoint, host, pid, slots, running\n"
    "tasks, state, incarnation, the age of the last heartbeat and phi, the "
    "accrual\n"
    "detector's suspicion that the worker is dead (8: one chance in 10^8\n"
    "that it is only slow).",
    s_master_only,
    1,
    0,
    0};

static const char *s_clock(int64_t wall_ms, char *buf, size_t len)
{
    if (wall_ms <= 0)
        return "-";
    time_t t = (time_t)(wall_ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    size_t n = strftime(buf, len, "%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03d", (int)(wall_ms % 1000));
    return buf;
}

/* Parses args, connects and sends req; on success *rep holds the answer. */
static int s_ask(const dmr_cmd_t *cmd, int argc, char **argv, dmr_msg_t *req,
                 dmr_msg_t *rep, int *code)
{
    dmr_args_t a;
    if (dmr_cli_parse(cmd, argc, argv, &a, code))
        return 1;
    if (a.npos == 1) {
        uint64_t id;
        if (dmr_parse_u64(a.pos[0], &id) != 0 || id == 0) {
            fprintf(stderr, "%s: JOB must be a job number, not '%s'\n",
                    cmd->name, a.pos[0]);
            dmr_args_free(&a);
            *code = 2;
            return 1;
        }
        req->job = id;
    }
    dmr_client_t c;
    *code = 1;
    int failed = dmr_client_open(&c, dmr_args_get(cmd, &a, "master")->str) ||
                 dmr_client_call(&c, req, rep, 5000);
    dmr_client_close(&c);
    dmr_args_free(&a);
    return failed;
}

int dmr_cmd_status(int argc, char **argv)
{
    dmr_msg_t req, j;
    int code;
    dmr_msg_init(&req, DMR_MSG_STATUS);
    if (s_ask(&s_status_cmd, argc, argv, &req, &j, &code))
        return code;
    char d[32], b1[32], b2[32];
    int64_t end = j.end_ms ? j.end_ms : dmr_wall_ms();
    printf("job %llu  %s  %s  elapsed %s\n", (unsigned long long)j.job, j.name,
           j.state, dmr_cli_duration(end - j.start_ms, d, sizeof d));
    printf("output   %s\n", j.output ? j.output : "-");
    printf("maps     %u/%u done\nreduces  %u/%u done\n", j.maps_done, j.nmap,
           j.reduces_done, j.nreduce);
    if (j.error)
        printf("error    %s\n", j.error);
    if (j.ncounters) {
        printf("counters\n");
        for (size_t i = 0; i < j.ncounters; i++)
            printf("  %-24s %llu\n", j.counters[i].name,
                   (unsigned long long)j.counters[i].value);
    }
    int header = 0;
    for (size_t i = 0; i < j.nitems; i++) {
        const dmr_msg_t *e = &j.items[i];
        if (e->type != DMR_MSG_EVENT)
            continue;
        if (!header++)
            printf("events\n");
        printf("  [%6.1fs] %s\n", (double)(e->start_ms - j.start_ms) / 1000.0,
               e->text);
    }
    printf("attempts\n  %-6s %5s %3s  %-6s %-12s %-12s %-8s %4s  %s\n", "kind",
           "task", "att", "worker", "start", "end", "outcome", "prog", "error");
    for (size_t i = 0; i < j.nitems; i++) {
        const dmr_msg_t *t = &j.items[i];
        if (t->type != DMR_MSG_ATTEMPT_INFO)
            continue;
        char prog[8];
        snprintf(prog, sizeof prog, "%u%%", t->progress / 10000);
        printf("  %-6s %5u %3u  %-6s %-12s %-12s %-8s %4s  %s\n",
               t->kind == DMR_TASK_MAP ? "map" : "reduce", t->task, t->attempt,
               t->wid, s_clock(t->start_ms, b1, sizeof b1),
               s_clock(t->end_ms, b2, sizeof b2), t->state, prog,
               t->error ? t->error : "");
    }
    int ok = strcmp(j.state, "failed") != 0;
    dmr_msg_clear(&j);
    return ok ? 0 : 1;
}

int dmr_cmd_jobs(int argc, char **argv)
{
    dmr_msg_t req, r;
    int code;
    dmr_msg_init(&req, DMR_MSG_JOBS);
    if (s_ask(&s_jobs_cmd, argc, argv, &req, &r, &code))
        return code;
    printf("%-5s %-16s %-10s %-9s %-9s %-9s %s\n", "job", "name", "state",
           "maps", "reduces", "elapsed", "output");
    for (size_t i = 0; i < r.nitems; i++) {
        const dmr_msg_t *j = &r.items[i];
        char m[32], rd[32], d[32];
        snprintf(m, sizeof m, "%u/%u", j->maps_done, j->nmap);
        snprintf(rd, sizeof rd, "%u/%u", j->reduces_done, j->nreduce);
        int64_t end = j->end_ms ? j->end_ms : dmr_wall_ms();
        printf("%-5llu %-16s %-10s %-9s %-9s %-9s %s\n",
               (unsigned long long)j->job, j->name, j->state, m, rd,
               dmr_cli_duration(end - j->start_ms, d, sizeof d),
               j->output ? j->output : "-");
    }
    dmr_msg_clear(&r);
    return 0;
}

int dmr_cmd_workers(int argc, char **argv)
{
    dmr_msg_t req, r;
    int code;
    dmr_msg_init(&req, DMR_MSG_WORKERS);
    if (s_ask(&s_workers_cmd, argc, argv, &req, &r, &code))
        return code;
    printf("%-6s %-28s %-16s %-8s %-5s %-7s %-7s %-4s %-12s %s\n", "id",
           "endpoint", "host", "pid", "slots", "running", "state", "inc",
           "heartbeat", "phi");
    for (size_t i = 0; i < r.nitems; i++) {
        const dmr_msg_t *w = &r.items[i];
        char age[32];
        snprintf(age, sizeof age, "%lldms ago", (long long)w->age_ms);
        printf("%-6s %-28s %-16s %-8lld %-5u %-7u %-7s %-4llu %-12s %.2f\n",
               w->wid, w->endpoint, w->host, (long long)w->pid, w->slots,
               w->running, w->state, (unsigned long long)w->inc, age,
               w->progress / 100.0);
    }
    dmr_msg_clear(&r);
    return 0;
}
