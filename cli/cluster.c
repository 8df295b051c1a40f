/* cluster.c -- `dmr cluster up|down|kill-worker`: a local cluster.
 *
 * `up` starts a master on a free loopback port and N workers, each its own
 * session (they outlive the command), with logs and data under the state
 * directory:
 *
 *   STATE/master.endpoint   the master's endpoint (client commands read it)
 *   STATE/pids              "NAME PID" per process, master first
 *   STATE/master.log, STATE/worker-I.log
 *   STATE/master/, STATE/worker-I/   data directories
 *
 * It returns once every worker has registered. `down` sends SIGTERM to
 * every process, waits for them to exit (SIGKILL after 10 s), and removes
 * the pid and endpoint files. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/net.h"
#include "common/util.h"

static const dmr_opt_t s_opts[] = {
    {"workers", 'n', DMR_OPT_INT, "N", "3", "workers to start (up)", 1, 64},
    {"state", 0, DMR_OPT_STR, "DIR", DMR_CLUSTER_STATE,
     "state directory: endpoint, pids, logs, data", 0, 0},
    {"slots", 's', DMR_OPT_INT, "N", "2", "task slots per worker (up)", 1, 256},
    {"port", 'p', DMR_OPT_INT, "PORT", "0",
     "master port on 127.0.0.1 (0: any free port) (up)", 0, 65535},
    {"heartbeat-ms", 0, DMR_OPT_INT, "MS", "250",
     "worker heartbeat interval (up)", 10, 60000},
    {"dead-after-ms", 0, DMR_OPT_INT, "MS", "2000",
     "silence after which a worker is dead (up)", 50, 3600000},
};

static const dmr_cmd_t s_cmd = {
    "dmr cluster",
    "up|down|kill-worker [ID] [options]",
    "up           start a master and N workers on this machine, in the\n"
    "             background; prints the master endpoint\n"
    "down         stop them all and wait until they have exited\n"
    "kill-worker  SIGKILL one worker (worker-ID, or a random live one)",
    s_opts,
    sizeof s_opts / sizeof *s_opts,
    1,
    2};

typedef struct {
    char name[32];
    pid_t pid;
} proc_t;

static pid_t s_spawn(const char *log, char *const argv[])
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    setsid();
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = open("/dev/null", O_RDONLY);
    if (fd < 0 || in < 0)
        _exit(126);
    dup2(in, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        _exit(126);
    exe[n] = '\0';
    execv(exe, argv);
    _exit(127);
}

static int s_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static size_t s_read_pids(const char *state, proc_t **out)
{
    char *path = dmr_sprintf("%s/pids", state);
    FILE *f = fopen(path, "r");
    free(path);
    *out = NULL;
    if (!f)
        return 0;
    size_t n = 0;
    proc_t p;
    int pid;
    while (fscanf(f, "%31s %d", p.name, &pid) == 2) {
        p.pid = pid;
        *out = dmr_realloc(*out, (n + 1) * sizeof **out);
        (*out)[n++] = p;
    }
    fclose(f);
    return n;
}

static int s_down(const char *state, int quiet)
{
    proc_t *ps;
    size_t n = s_read_pids(state, &ps);
    if (n == 0) {
        if (!quiet)
            fprintf(stderr, "dmr cluster: no cluster is running in %s\n",
                    state);
        return quiet ? 0 : 1;
    }
    /* Workers first, so that the master does not log them as lost. */
    for (size_t i = n; i-- > 0;)
        if (s_alive(ps[i].pid))
            kill(ps[i].pid, SIGTERM);
    int64_t deadline = dmr_now_ms() + 10000;
    for (;;) {
        size_t left = 0;
        for (size_t i = 0; i < n; i++)
            left += s_alive(ps[i].pid);
        if (left == 0)
            break;
        if (dmr_now_ms() > deadline) {
            for (size_t i = 0; i < n; i++)
                if (s_alive(ps[i].pid))
                    kill(ps[i].pid, SIGKILL);
            deadline = dmr_now_ms() + 10000;
        }
        usleep(20000);
    }
    char *p = dmr_sprintf("%s/pids", state);
    unlink(p);
    free(p);
    p = dmr_sprintf("%s/master.endpoint", state);
    unlink(p);
    free(p);
    if (!quiet)
        fprintf(stderr, "dmr cluster: stopped %zu processes\n", n);
    free(ps);
    return 0;
}

static int s_wait_workers(const char *endpoint, long want, int timeout_ms)
{
    dmr_client_t c;
    if (dmr_client_open(&c, endpoint) != 0)
        return 1;
    int64_t deadline = dmr_now_ms() + timeout_ms;
    int rc = 1;
    while (dmr_now_ms() < deadline) {
        dmr_msg_t req, rep;
        char err[256];
        dmr_msg_init(&req, DMR_MSG_WORKERS);
        if (dmr_net_request(c.sock, &req, &rep, 1000, err, sizeof err) == 0) {
            long alive = 0;
            for (size_t i = 0;
                 rep.type == DMR_MSG_WORKER_LIST && i < rep.nitems; i++)
                alive += !strcmp(rep.items[i].state, "alive");
            dmr_msg_clear(&rep);
            if (alive >= want) {
                rc = 0;
                break;
            }
        }
        usleep(50000);
    }
    dmr_client_close(&c);
    return rc;
}

static int s_up(const dmr_args_t *a, const char *state)
{
    const dmr_cmd_t *c = &s_cmd;
    long n = (long)dmr_args_get(c, a, "workers")->num;
    proc_t *old;
    size_t nold = s_read_pids(state, &old);
    for (size_t i = 0; i < nold; i++) {
        if (s_alive(old[i].pid)) {
            fprintf(stderr,
                    "dmr cluster: a cluster is already running in %s "
                    "(pid %d); run 'dmr cluster down' first\n",
                    state, (int)old[i].pid);
            free(old);
            return 1;
        }
    }
    free(old);
    if (dmr_mkdirs(state) != 0) {
        fprintf(stderr, "dmr cluster: cannot create %s: %s\n", state,
                strerror(errno));
        return 1;
    }
    char *epfile = dmr_sprintf("%s/master.endpoint", state);
    char *pidfile = dmr_sprintf("%s/pids", state);
    char *mlog = dmr_sprintf("%s/master.log", state);
    char *mdata = dmr_sprintf("%s/master", state);
    char bind[64];
    snprintf(bind, sizeof bind, "tcp://127.0.0.1:%lld",
             (long long)dmr_args_get(c, a, "port")->num);
    unlink(epfile);
    const char *hb = dmr_args_get(c, a, "heartbeat-ms")->str;
    const char *dead = dmr_args_get(c, a, "dead-after-ms")->str;
    char *margv[] = {"dmr",
                     "master",
                     "--bind",
                     bind,
                     "--data",
                     mdata,
                     "--endpoint-file",
                     epfile,
                     "--heartbeat-ms",
                     (char *)hb,
                     "--dead-after-ms",
                     (char *)dead,
                     NULL};
    FILE *pf = fopen(pidfile, "w");
    int rc = 1;
    char endpoint[512] = "";
    if (!pf) {
        fprintf(stderr, "dmr cluster: cannot write %s: %s\n", pidfile,
                strerror(errno));
        goto out;
    }
    pid_t mpid = s_spawn(mlog, margv);
    fprintf(pf, "master %d\n", (int)mpid);
    fflush(pf);
    int64_t deadline = dmr_now_ms() + 10000;
    while (dmr_now_ms() < deadline) {
        dmr_buf_t b = DMR_BUF_INIT;
        if (dmr_read_file(epfile, 4096, &b) == 0 && b.len > 0) {
            snprintf(endpoint, sizeof endpoint, "%.*s",
                     (int)strcspn(b.data, "\n"), b.data);
            dmr_buf_free(&b);
            break;
        }
        dmr_buf_free(&b);
        if (!s_alive(mpid))
            break;
        usleep(20000);
    }
    if (!endpoint[0]) {
        fprintf(stderr, "dmr cluster: the master did not start; see %s\n",
                mlog);
        fclose(pf);
        s_down(state, 1);
        goto out;
    }
    const char *slots = dmr_args_get(c, a, "slots")->str;
    for (long i = 1; i <= n; i++) {
        char *wlog = dmr_sprintf("%s/worker-%ld.log", state, i);
        char *wdata = dmr_sprintf("%s/worker-%ld", state, i);
        char *wargv[] = {"dmr",         "worker", "--master",
                         endpoint,      "--bind", "tcp://127.0.0.1:0",
                         "--data",      wdata,    "--slots",
                         (char *)slots, NULL};
        pid_t pid = s_spawn(wlog, wargv);
        fprintf(pf, "worker-%ld %d\n", i, (int)pid);
        free(wlog);
        free(wdata);
    }
    fclose(pf);
    if (s_wait_workers(endpoint, n, 15000) != 0) {
        fprintf(stderr,
                "dmr cluster: workers did not all register within 15 s; "
                "see the logs in %s\n",
                state);
        s_down(state, 1);
        goto out;
    }
    printf("%s\n", endpoint);
    fprintf(stderr, "dmr cluster: master %s with %ld workers; state in %s\n",
            endpoint, n, state);
    rc = 0;
out:
    free(epfile);
    free(pidfile);
    free(mlog);
    free(mdata);
    return rc;
}

static int s_kill_worker(const char *state, const char *which)
{
    proc_t *ps;
    size_t n = s_read_pids(state, &ps);
    proc_t *live[64];
    size_t nlive = 0;
    for (size_t i = 0; i < n && nlive < 64; i++) {
        if (strncmp(ps[i].name, "worker-", 7) || !s_alive(ps[i].pid))
            continue;
        if (which && strcmp(ps[i].name, which) && strcmp(ps[i].name + 7, which))
            continue;
        live[nlive++] = &ps[i];
    }
    int rc = 1;
    if (nlive == 0) {
        fprintf(stderr, "dmr cluster: no live worker%s%s in %s\n",
                which ? " named " : "", which ? which : "", state);
    } else {
        srand((unsigned)(time(NULL) ^ getpid()));
        proc_t *p = live[(size_t)rand() % nlive];
        kill(p->pid, SIGKILL);
        printf("%s\n", p->name);
        fprintf(stderr, "dmr cluster: killed %s (pid %d) with SIGKILL\n",
                p->name, (int)p->pid);
        rc = 0;
    }
    free(ps);
    return rc;
}

int dmr_cmd_cluster(int argc, char **argv)
{
    dmr_args_t a;
    int code;
    if (dmr_cli_parse(&s_cmd, argc, argv, &a, &code))
        return code;
    const char *verb = a.pos[0];
    const char *state = dmr_args_get(&s_cmd, &a, "state")->str;
    if (!strcmp(verb, "up") && a.npos == 1)
        code = s_up(&a, state);
    else if (!strcmp(verb, "down") && a.npos == 1)
        code = s_down(state, 0);
    else if (!strcmp(verb, "kill-worker"))
        code = s_kill_worker(state, a.npos > 1 ? a.pos[1] : NULL);
    else {
        fprintf(stderr,
                "dmr cluster: unknown action '%s' (up, down, "
                "kill-worker)\n",
                verb);
        code = 2;
    }
    dmr_args_free(&a);
    return code;
}
