/* cluster.c -- `dmr cluster up|down|kill|start`: a local cluster.
 *
 * `up` starts a master on a free loopback port and N workers, each its own
 * session (they outlive the command), with logs and data under the state
 * directory:
 *
 *   STATE/master.endpoint   the master's endpoint (client commands read it)
 *   STATE/pids              "NAME PID" per process, master first
 *   STATE/NAME.cmd          the arguments NAME runs with, one per line
 *   STATE/master.log, STATE/worker-I.log
 *   STATE/master/, STATE/worker-I/   data directories
 *
 * It returns once every worker has registered. `down` sends SIGTERM to
 * every process, waits for them to exit (SIGKILL after 10 s), and removes
 * the pid and endpoint files. `kill NAME` sends SIGKILL -- to a worker by
 * its local name, its master-given id (w2), or to the master -- and
 * `start NAME` runs a killed process again with its saved arguments: the
 * master on the same port and data directory (so it resumes from its
 * journal), a worker on the same data directory. */
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
    {"master-arg", 'M', DMR_OPT_LIST, "ARG", NULL,
     "one more argument for the master, e.g. -M --max-attempts=8 (up)", 0, 0},
    {"worker-arg", 'W', DMR_OPT_LIST, "ARG", NULL,
     "one more argument for every worker (up)", 0, 0},
};

static const dmr_cmd_t s_cmd = {
    "dmr cluster",
    "up|down|kill [NAME]|start NAME [options]",
    "up           start a master and N workers on this machine, in the\n"
    "             background; prints the master endpoint\n"
    "down         stop them all and wait until they have exited\n"
    "kill [NAME]  SIGKILL a process: worker-I (or I), a worker id the\n"
    "             master gave (w2), or master; default a random live worker\n"
    "             (kill-worker is the same)\n"
    "start NAME   run a killed process again with the same arguments: the\n"
    "             master on its port and data (it resumes from its journal)",
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

/* A zombie (killed, not yet reaped by whoever adopted it) is not alive. */
static int s_alive(pid_t pid)
{
    if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM))
        return 0;
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    return !(p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
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

/* ------------------------------------------------------ saved commands */

static int s_save_cmd(const char *state, const char *name, char *const argv[])
{
    dmr_buf_t b = DMR_BUF_INIT;
    for (size_t i = 0; argv[i]; i++)
        dmr_buf_printf(&b, "%s\n", argv[i]);
    char *path = dmr_sprintf("%s/%s.cmd", state, name);
    int rc = dmr_write_file_atomic(path, b.data ? b.data : "", b.len);
    free(path);
    dmr_buf_free(&b);
    return rc;
}

/* The saved argv of name (NULL-terminated; free with s_free_argv). */
static char **s_load_cmd(const char *state, const char *name)
{
    char *path = dmr_sprintf("%s/%s.cmd", state, name);
    dmr_buf_t b = DMR_BUF_INIT;
    int rc = dmr_read_file(path, 1 << 20, &b);
    free(path);
    if (rc)
        return NULL;
    size_t n = 0;
    char **argv = dmr_calloc(1, sizeof *argv);
    char *p = b.data;
    while (p && p < b.data + b.len) {
        char *nl = memchr(p, '\n', (size_t)(b.data + b.len - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(b.data + b.len - p);
        argv = dmr_realloc(argv, (n + 2) * sizeof *argv);
        argv[n++] = dmr_strndup(p, len);
        argv[n] = NULL;
        p = nl ? nl + 1 : NULL;
    }
    dmr_buf_free(&b);
    return argv;
}

static void s_free_argv(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

/* Records name's pid in STATE/pids, replacing an older one. */
static void s_set_pid(const char *state, const char *name, pid_t pid)
{
    proc_t *ps;
    size_t n = s_read_pids(state, &ps);
    dmr_buf_t b = DMR_BUF_INIT;
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(ps[i].name, name))
            ps[i].pid = pid, found = 1;
        dmr_buf_printf(&b, "%s %d\n", ps[i].name, (int)ps[i].pid);
    }
    if (!found)
        dmr_buf_printf(&b, "%s %d\n", name, (int)pid);
    char *path = dmr_sprintf("%s/pids", state);
    dmr_write_file_atomic(path, b.data, b.len);
    free(path);
    dmr_buf_free(&b);
    free(ps);
}

/* Starts name from its saved command, logging to STATE/NAME.log. */
static pid_t s_start_saved(const char *state, const char *name)
{
    char **argv = s_load_cmd(state, name);
    if (!argv || !argv[0])
        return -1;
    char *log = dmr_sprintf("%s/%s.log", state, name);
    pid_t pid = s_spawn(log, argv);
    free(log);
    s_free_argv(argv);
    if (pid > 0)
        s_set_pid(state, name, pid);
    return pid;
}

/* Reads the master's endpoint from STATE/master.endpoint, waiting up to
 * timeout_ms while pid lives. */
static int s_wait_endpoint(const char *epfile, pid_t pid, int timeout_ms,
                           char *endpoint, size_t len)
{
    int64_t deadline = dmr_now_ms() + timeout_ms;
    while (dmr_now_ms() < deadline) {
        dmr_buf_t b = DMR_BUF_INIT;
        if (dmr_read_file(epfile, 4096, &b) == 0 && b.len > 0) {
            snprintf(endpoint, len, "%.*s", (int)strcspn(b.data, "\n"), b.data);
            dmr_buf_free(&b);
            return 0;
        }
        dmr_buf_free(&b);
        if (!s_alive(pid))
            break;
        usleep(20000);
    }
    return -1;
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
    const dmr_optval_t *margs = dmr_args_get(c, a, "master-arg");
    const dmr_optval_t *wargs = dmr_args_get(c, a, "worker-arg");
    char **argv = dmr_calloc(16 + margs->nlist + wargs->nlist, sizeof *argv);
    char bind[64];
    snprintf(bind, sizeof bind, "tcp://127.0.0.1:%lld",
             (long long)dmr_args_get(c, a, "port")->num);
    unlink(epfile);
    unlink(pidfile);
    size_t k = 0;
    argv[k++] = "dmr";
    argv[k++] = "master";
    argv[k++] = "--bind";
    argv[k++] = bind;
    argv[k++] = "--data";
    argv[k++] = mdata;
    argv[k++] = "--endpoint-file";
    argv[k++] = epfile;
    argv[k++] = "--heartbeat-ms";
    argv[k++] = (char *)dmr_args_get(c, a, "heartbeat-ms")->str;
    argv[k++] = "--dead-after-ms";
    argv[k++] = (char *)dmr_args_get(c, a, "dead-after-ms")->str;
    for (size_t i = 0; i < margs->nlist; i++)
        argv[k++] = (char *)margs->list[i];
    argv[k] = NULL;
    int rc = 1;
    char endpoint[512] = "";
    pid_t mpid = -1;
    if (s_save_cmd(state, "master", argv) == 0)
        mpid = s_start_saved(state, "master");
    if (mpid < 0 ||
        s_wait_endpoint(epfile, mpid, 10000, endpoint, sizeof endpoint) != 0) {
        fprintf(stderr, "dmr cluster: the master did not start; see %s\n",
                mlog);
        s_down(state, 1);
        goto out;
    }
    /* A restarted master must come back on the same port. */
    argv[3] = endpoint;
    s_save_cmd(state, "master", argv);
    const char *slots = dmr_args_get(c, a, "slots")->str;
    for (long i = 1; i <= n; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%ld", i);
        char *wdata = dmr_sprintf("%s/%s", state, name);
        k = 0;
        argv[k++] = "dmr";
        argv[k++] = "worker";
        argv[k++] = "--master";
        argv[k++] = endpoint;
        argv[k++] = "--bind";
        argv[k++] = "tcp://127.0.0.1:0";
        argv[k++] = "--data";
        argv[k++] = wdata;
        argv[k++] = "--slots";
        argv[k++] = (char *)slots;
        for (size_t j = 0; j < wargs->nlist; j++)
            argv[k++] = (char *)wargs->list[j];
        argv[k] = NULL;
        if (s_save_cmd(state, name, argv) != 0 ||
            s_start_saved(state, name) < 0)
            fprintf(stderr, "dmr cluster: cannot start %s\n", name);
        free(wdata);
    }
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
    free(argv);
    free(epfile);
    free(pidfile);
    free(mlog);
    free(mdata);
    return rc;
}

/* The pid the master lists for worker id wid, or -1. */
static pid_t s_pid_of_wid(const char *state, const char *wid)
{
    char *epfile = dmr_sprintf("%s/master.endpoint", state);
    char endpoint[512] = "";
    dmr_buf_t b = DMR_BUF_INIT;
    if (dmr_read_file(epfile, 4096, &b) == 0 && b.len > 0)
        snprintf(endpoint, sizeof endpoint, "%.*s", (int)strcspn(b.data, "\n"),
                 b.data);
    dmr_buf_free(&b);
    free(epfile);
    dmr_client_t c;
    if (!endpoint[0] || dmr_client_open(&c, endpoint) != 0)
        return -1;
    pid_t pid = -1;
    dmr_msg_t req, rep;
    char err[256];
    dmr_msg_init(&req, DMR_MSG_WORKERS);
    if (dmr_net_request(c.sock, &req, &rep, 3000, err, sizeof err) == 0) {
        for (size_t i = 0; rep.type == DMR_MSG_WORKER_LIST && i < rep.nitems;
             i++)
            if (!strcmp(rep.items[i].wid, wid) &&
                !strcmp(rep.items[i].state, "alive"))
                pid = (pid_t)rep.items[i].pid;
        dmr_msg_clear(&rep);
    }
    dmr_client_close(&c);
    return pid;
}

static int s_matches(const proc_t *p, const char *which, pid_t wid_pid)
{
    if (!which)
        return !strncmp(p->name, "worker-", 7);
    if (wid_pid > 0)
        return p->pid == wid_pid;
    return !strcmp(p->name, which) ||
           (!strncmp(p->name, "worker-", 7) && !strcmp(p->name + 7, which));
}

static int s_kill(const char *state, const char *which)
{
    proc_t *ps;
    size_t n = s_read_pids(state, &ps);
    pid_t wid_pid = -1;
    if (which && which[0] == 'w' && which[1] >= '0' && which[1] <= '9') {
        wid_pid = s_pid_of_wid(state, which);
        if (wid_pid < 0) {
            fprintf(stderr,
                    "dmr cluster: the master lists no live worker "
                    "%s\n",
                    which);
            free(ps);
            return 1;
        }
    }
    proc_t *live[64];
    size_t nlive = 0;
    for (size_t i = 0; i < n && nlive < 64; i++)
        if (s_alive(ps[i].pid) && s_matches(&ps[i], which, wid_pid))
            live[nlive++] = &ps[i];
    int rc = 1;
    if (nlive == 0) {
        fprintf(stderr, "dmr cluster: no live %s%s in %s\n",
                which ? "process named " : "worker", which ? which : "", state);
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

static int s_start(const char *state, const char *which)
{
    char name[64];
    if (which[0] >= '0' && which[0] <= '9')
        snprintf(name, sizeof name, "worker-%s", which);
    else
        snprintf(name, sizeof name, "%s", which);
    proc_t *ps;
    size_t n = s_read_pids(state, &ps);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(ps[i].name, name) && s_alive(ps[i].pid)) {
            fprintf(stderr, "dmr cluster: %s is running (pid %d)\n", name,
                    (int)ps[i].pid);
            free(ps);
            return 1;
        }
    }
    free(ps);
    pid_t pid = s_start_saved(state, name);
    if (pid < 0) {
        fprintf(stderr, "dmr cluster: no saved command for %s in %s\n", name,
                state);
        return 1;
    }
    printf("%s\n", name);
    fprintf(stderr, "dmr cluster: started %s (pid %d)\n", name, (int)pid);
    return 0;
}

int dmr_cmd_cluster(int argc, char **argv)
{
    dmr_args_t a;
    int code;
    if (dmr_cli_parse(&s_cmd, argc, argv, &a, &code))
        return code;
    const char *verb = a.pos[0];
    const char *state = dmr_args_get(&s_cmd, &a, "state")->str;
    const char *arg = a.npos > 1 ? a.pos[1] : NULL;
    if (!strcmp(verb, "up") && a.npos == 1)
        code = s_up(&a, state);
    else if (!strcmp(verb, "down") && a.npos == 1)
        code = s_down(state, 0);
    else if (!strcmp(verb, "kill-worker") || !strcmp(verb, "kill"))
        code = s_kill(state, arg);
    else if (!strcmp(verb, "start") && arg)
        code = s_start(state, arg);
    else {
        fprintf(stderr,
                "dmr cluster: unknown action '%s' (up, down, kill [NAME], "
                "start NAME)\n",
                verb);
        code = 2;
    }
    dmr_args_free(&a);
    return code;
}
