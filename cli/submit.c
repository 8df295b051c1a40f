/* submit.c -- `dmr submit`: ship a job to the master and follow it.
 *
 * The client resolves the job object (a bundled name or a path), checks
 * that it loads and is a dmr job, expands the inputs, prepares the output
 * directory, sends SUBMIT with the object's bytes, and polls STATUS until
 * the job ends, drawing progress on stderr. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/net.h"
#include "common/util.h"
#include "jobs/dmr_job.h"
#include "storage/dfs.h"
#include "storage/input.h"

static const dmr_opt_t s_opts[] = {
    {"input", 'i', DMR_OPT_LIST, "PATH", NULL,
     "input file, directory or glob; more paths may follow", 0, 0},
    {"output", 'o', DMR_OPT_STR, "DIR", NULL,
     "output directory (refused if not empty, unless --overwrite)", 0, 0},
    {"reduces", 'R', DMR_OPT_INT, "N", "1", "number of reduce tasks", 1,
     100000},
    {"define", 'D', DMR_OPT_LIST, "KEY=VALUE", NULL,
     "job parameter; dmr reads split_mb, whole_files, compress, "
     "fetch_timeout_ms",
     0, 0},
    {"overwrite", 0, DMR_OPT_FLAG, NULL, NULL,
     "replace the output of an earlier job in DIR", 0, 0},
    {"master", 'm', DMR_OPT_STR, "ENDPOINT", NULL, "the master to submit to", 0,
     0},
    {"detach", 0, DMR_OPT_FLAG, NULL, NULL,
     "print the job id and return without waiting", 0, 0},
    {"quiet", 'q', DMR_OPT_FLAG, NULL, NULL, "no progress output", 0, 0},
};

static const dmr_cmd_t s_cmd = {
    "dmr submit",
    "JOB --input PATH... --output DIR [-R N] [-D KEY=VALUE]...",
    "Runs JOB over the inputs and writes part-00000 ... part-(N-1) and\n"
    "_SUCCESS into DIR. JOB is a bundled job (wordcount, grep,\n"
    "invertedindex) or the path of a job object (.so) built against\n"
    "jobs/dmr_job.h; the object is shipped to every worker that needs it.\n"
    "Input and output paths must be visible to every worker (a shared\n"
    "filesystem, or one machine). Exit status: 0 when the job succeeds, 1\n"
    "when it fails, 2 for a usage error.",
    s_opts,
    sizeof s_opts / sizeof *s_opts,
    1,
    4096};

/* Finds a bundled job by name, or takes JOB as a path. */
static char *s_resolve_job(const char *job)
{
    struct stat st;
    if (strchr(job, '/') || strstr(job, ".so"))
        return stat(job, &st) == 0 ? realpath(job, NULL) : NULL;
    const char *env = getenv("DMR_JOBS_DIR");
    char *cands[3] = {
        env ? dmr_sprintf("%s/%s.so", env, job) : NULL,
        dmr_sprintf("%s/../lib/dmr/%s.so", dmr_exe_dir(), job),
        dmr_sprintf("/usr/local/lib/dmr/%s.so", job),
    };
    char *found = NULL;
    for (int i = 0; i < 3; i++) {
        if (!found && cands[i] && stat(cands[i], &st) == 0)
            found = realpath(cands[i], NULL);
        free(cands[i]);
    }
    return found;
}

static void s_list_bundled(FILE *out)
{
    char *dir = dmr_sprintf("%s/../lib/dmr", dmr_exe_dir());
    DIR *d = opendir(dir);
    fprintf(out, "bundled jobs:");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t n = strlen(e->d_name);
            if (n > 3 && !strcmp(e->d_name + n - 3, ".so"))
                fprintf(out, " %.*s", (int)(n - 3), e->d_name);
        }
        closedir(d);
    }
    fprintf(out, "\n");
    free(dir);
}

/* Refuses a non-empty output directory unless overwrite; with overwrite,
 * removes only what a dmr job writes there. */
static int s_prepare_output(const char *dir, int overwrite)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno != ENOENT) {
            fprintf(stderr, "dmr submit: cannot open output %s: %s\n", dir,
                    strerror(errno));
            return 1;
        }
        if (dmr_mkdirs(dir) != 0) {
            fprintf(stderr, "dmr submit: cannot create output %s: %s\n", dir,
                    strerror(errno));
            return 1;
        }
        return 0;
    }
    struct dirent *e;
    int foreign = 0, ours = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (!strncmp(e->d_name, "part-", 5) || !strcmp(e->d_name, "_SUCCESS") ||
            !strcmp(e->d_name, "_temporary"))
            ours++;
        else
            foreign++;
    }
    closedir(d);
    if (ours + foreign == 0)
        return 0;
    if (!overwrite) {
        fprintf(stderr,
                "dmr submit: output directory %s is not empty "
                "(use --overwrite to replace an earlier job's output)\n",
                dir);
        return 1;
    }
    if (foreign) {
        fprintf(stderr,
                "dmr submit: output directory %s holds files that are "
                "not job output; refusing to overwrite it\n",
                dir);
        return 1;
    }
    d = opendir(dir);
    while (d && (e = readdir(d))) {
        if (!strncmp(e->d_name, "part-", 5) || !strcmp(e->d_name, "_SUCCESS") ||
            !strcmp(e->d_name, "_temporary")) {
            char *p = dmr_sprintf("%s/%s", dir, e->d_name);
            dmr_rmtree(p);
            free(p);
        }
    }
    if (d)
        closedir(d);
    return 0;
}

/* Appends the files of the store paths (files, or directories listed
 * recursively, skipping names that start with '_' or '.') to *files. */
static int s_store_inputs(dmr_dfs_t *d, const char *const *paths, size_t n,
                          dmr_input_file_t **files, size_t *nfiles)
{
    for (size_t i = 0; i < n; i++) {
        char err[1024];
        dmr_dfs_file_t *fs;
        size_t nf;
        int is_dir;
        if (dmr_dfs_stat(d, paths[i] + 4, 1, 0, &fs, &nf, &is_dir, err,
                         sizeof err) != 0) {
            fprintf(stderr, "dmr submit: input %s: %s\n", paths[i], err);
            return 1;
        }
        size_t added = 0;
        for (size_t k = 0; k < nf; k++) {
            const char *base = strrchr(fs[k].path, '/');
            base = base ? base + 1 : fs[k].path;
            if (is_dir && (base[0] == '_' || base[0] == '.'))
                continue;
            *files = dmr_realloc(*files, (*nfiles + 1) * sizeof **files);
            dmr_input_file_t *f = &(*files)[(*nfiles)++];
            memset(f, 0, sizeof *f);
            f->path = dmr_sprintf("dmr:%s", fs[k].path);
            f->name = dmr_strdup(f->path);
            f->size = fs[k].size;
            added++;
        }
        dmr_dfs_files_free(fs, nf);
        if (added == 0) {
            fprintf(stderr, "dmr submit: input %s holds no files\n", paths[i]);
            return 1;
        }
    }
    return 0;
}

/* The store version of s_prepare_output: a missing or empty directory is
 * fine; an earlier job's output goes with --overwrite; anything else is
 * refused. */
static int s_prepare_store_output(dmr_dfs_t *d, const char *out, int overwrite)
{
    char err[1024];
    dmr_dfs_file_t *fs;
    size_t nf;
    int is_dir;
    int rc = dmr_dfs_stat(d, out + 4, 1, 0, &fs, &nf, &is_dir, err, sizeof err);
    if (rc == DMR_ENOENT)
        return 0;
    if (rc) {
        fprintf(stderr, "dmr submit: output %s: %s\n", out, err);
        return 1;
    }
    size_t foreign = 0;
    size_t plen = strlen(out + 4);
    for (size_t i = 0; i < nf; i++) {
        const char *rel = fs[i].path + plen + 1;
        if (!is_dir ||
            !(strncmp(rel, "part-", 5) == 0 || !strcmp(rel, "_SUCCESS") ||
              !strncmp(rel, "_temporary/", 11)))
            foreign++;
    }
    dmr_dfs_files_free(fs, nf);
    if (!is_dir) {
        fprintf(stderr, "dmr submit: output %s is a file\n", out);
        return 1;
    }
    if (nf == 0)
        return 0;
    if (!overwrite || foreign) {
        fprintf(stderr,
                foreign && overwrite
                    ? "dmr submit: output %s holds files that are not job "
                      "output; refusing to overwrite it\n"
                    : "dmr submit: output %s is not empty (use --overwrite "
                      "to replace an earlier job's output)\n",
                out);
        return 1;
    }
    if (dmr_dfs_rm(d, out + 4, 1, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "dmr submit: cannot remove %s: %s\n", out, err);
        return 1;
    }
    return 0;
}

static char *s_abs_path(const char *p)
{
    if (p[0] == '/')
        return dmr_strdup(p);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return dmr_strdup(p);
    return dmr_sprintf("%s/%s", cwd, p);
}

static void s_progress(const dmr_msg_t *info, int tty, char *last,
                       size_t lastlen)
{
    char line[256];
    snprintf(line, sizeof line,
             "job %llu: map %u/%u  reduce %u/%u  (%u running)",
             (unsigned long long)info->job, info->maps_done, info->nmap,
             info->reduces_done, info->nreduce, info->running);
    if (tty) {
        unsigned total = info->nmap + info->nreduce;
        unsigned done = info->maps_done + info->reduces_done;
        int width = 30,
            fill = total ? (int)(width * (double)done / total) : width;
        char bar[64];
        for (int i = 0; i < width; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r[%s] map %u/%u reduce %u/%u ", bar, info->maps_done,
                info->nmap, info->reduces_done, info->nreduce);
        fflush(stderr);
        return;
    }
    if (strcmp(line, last)) {
        fprintf(stderr, "%s\n", line);
        snprintf(last, lastlen, "%s", line);
    }
}

static void s_print_counters(const dmr_msg_t *info)
{
    for (size_t i = 0; i < info->ncounters; i++)
        fprintf(stderr, "  %-24s %llu\n", info->counters[i].name,
                (unsigned long long)info->counters[i].value);
}

/* Prints the job's new events (lost workers, re-executions, backups);
 * returns the number of the next event to ask for. */
static uint64_t s_events(const dmr_msg_t *info, uint64_t next, int tty,
                         int quiet)
{
    for (size_t i = 0; i < info->nitems; i++) {
        const dmr_msg_t *e = &info->items[i];
        if (e->type != DMR_MSG_EVENT || e->offset < next)
            continue;
        next = e->offset + 1;
        if (quiet)
            continue;
        double at = (double)(e->start_ms - info->start_ms) / 1000.0;
        fprintf(stderr, "%s[%6.1fs] %s\n", tty ? "\r\033[K" : "", at, e->text);
    }
    return next;
}

static int s_follow(dmr_client_t *c, uint64_t id, int quiet)
{
    int tty = isatty(2) && !quiet;
    char last[256] = "";
    int64_t last_ok = dmr_now_ms(), started = last_ok;
    uint64_t next_event = 0;
    int64_t first_start = 0; /* of the first stage of a multi-stage job */
    int silent = 0;
    for (;;) {
        dmr_msg_t req, info;
        dmr_msg_init(&req, DMR_MSG_STATUS);
        req.job = id;
        req.flags = 2; /* events only */
        req.offset = next_event;
        char err[512];
        int rc = dmr_net_request(c->sock, &req, &info, 2000, err, sizeof err);
        if (rc == 0 && info.type == DMR_MSG_ERROR) {
            fprintf(stderr, "%sdmr submit: %s\n", tty ? "\n" : "", info.error);
            dmr_msg_clear(&info);
            return 1;
        }
        if (rc != 0 || info.type != DMR_MSG_JOB_INFO || info.job != id) {
            if (rc == 0)
                dmr_msg_clear(&info);
            int64_t quiet_ms = dmr_now_ms() - last_ok;
            if (!silent && quiet_ms > 2000) {
                fprintf(stderr,
                        "%sdmr submit: the master at %s does not answer; "
                        "waiting for it (it may be restarting)\n",
                        tty ? "\n" : "", c->endpoint);
                silent = 1;
            }
            if (quiet_ms > 120000) {
                fprintf(stderr,
                        "dmr submit: lost contact with the master at %s for "
                        "two minutes: %s\n(the job may still be running: "
                        "dmr status %llu)\n",
                        c->endpoint, err, (unsigned long long)id);
                return 1;
            }
            usleep(200000);
            continue;
        }
        if (silent) {
            fprintf(stderr, "dmr submit: the master answers again\n");
            silent = 0;
        }
        last_ok = dmr_now_ms();
        next_event = s_events(&info, next_event, tty, quiet);
        if (!quiet)
            s_progress(&info, tty, last, sizeof last);
        int done = strcmp(info.state, "running") != 0;
        if (!first_start)
            first_start = info.start_ms;
        if (done && info.next && !strcmp(info.state, "succeeded")) {
            /* The next stage runs as its own job: follow it. */
            id = info.next;
            next_event = 0;
            dmr_msg_clear(&info);
            continue;
        }
        if (done) {
            char dur[32];
            dmr_cli_duration(info.end_ms - first_start, dur, sizeof dur);
            if (tty)
                fprintf(stderr, "\n");
            int ok = !strcmp(info.state, "succeeded");
            if (ok && !quiet) {
                fprintf(stderr, "job %llu succeeded in %s; output in %s\n",
                        (unsigned long long)id, dur, info.output);
                s_print_counters(&info);
            } else if (!ok) {
                fprintf(stderr, "job %llu failed after %s: %s\n",
                        (unsigned long long)id, dur,
                        info.error ? info.error : "(no error given)");
            }
            dmr_msg_clear(&info);
            return ok ? 0 : 1;
        }
        dmr_msg_clear(&info);
        /* often at first, so that a short job's end is seen at once;
         * then less, up to ten times a second */
        int64_t ms = 10 + (dmr_now_ms() - started) / 100;
        usleep((useconds_t)(ms < 100 ? ms : 100) * 1000);
    }
}

int dmr_cmd_submit(int argc, char **argv)
{
    dmr_args_t a;
    int code = 2;
    if (dmr_cli_parse(&s_cmd, argc, argv, &a, &code))
        return code;
    const dmr_cmd_t *c = &s_cmd;
    const char *jobarg = a.pos[0];
    const dmr_optval_t *inputs = dmr_args_get(c, &a, "input");
    const dmr_optval_t *defs = dmr_args_get(c, &a, "define");
    const char *output = dmr_args_get(c, &a, "output")->str;
    char *object = NULL, *outabs = NULL;
    void *dl = NULL;
    dmr_buf_t blob = DMR_BUF_INIT;
    dmr_input_file_t *files = NULL;
    size_t nfiles = 0;
    const char **paths = NULL;
    dmr_kv_t *params = NULL;
    char **kvcopies = NULL;
    dmr_msg_t *items = NULL;
    dmr_client_t cl = {0};
    dmr_dfs_t *dfs = NULL;
    code = 2;

    if (!output) {
        fprintf(stderr, "dmr submit: --output DIR is required\n");
        goto out;
    }
    size_t npaths = inputs->nlist + a.npos - 1;
    if (npaths == 0) {
        fprintf(stderr, "dmr submit: --input PATH is required\n");
        goto out;
    }
    object = s_resolve_job(jobarg);
    if (!object) {
        fprintf(stderr,
                "dmr submit: unknown job '%s': not a bundled job and "
                "not a job object file\n",
                jobarg);
        s_list_bundled(stderr);
        goto out;
    }
    dl = dlopen(object, RTLD_NOW | RTLD_LOCAL);
    const dmr_job *def = dl ? dlsym(dl, DMR_JOB_SYMBOL) : NULL;
    if (!def) {
        fprintf(stderr, "dmr submit: %s is not a dmr job object: %s\n", object,
                dlerror());
        goto out;
    }
    if (!dmr_job_stage(def, 0)) {
        fprintf(stderr,
                "dmr submit: %s: job ABI %u (this dmr speaks 1 to %u) or no "
                "map/reduce function\n",
                object, def->abi, DMR_JOB_ABI);
        goto out;
    }
    uint32_t nstages = 1;
    while (dmr_job_stage(def, nstages))
        nstages++;
    const dmr_job *last = dmr_job_stage(def, nstages - 1);
    if (last->abi >= 2 && last->then) {
        fprintf(stderr,
                "dmr submit: %s: stage %u is not a job this dmr can run "
                "(ABI, map, reduce), or there are more than %d stages\n",
                object, nstages + 1, DMR_JOB_MAX_STAGES);
        goto out;
    }
    const char *jobname = def->name ? def->name : jobarg;
    if (dmr_read_file(object, DMR_MSG_BLOB_MAX, &blob) != 0) {
        fprintf(stderr, "dmr submit: cannot read %s (or it is over %u MiB)\n",
                object, DMR_MSG_BLOB_MAX >> 20);
        goto out;
    }
    char hash[65];
    dmr_sha256_hex(blob.data, blob.len, hash);

    params = dmr_calloc(defs->nlist + 3 + 2 * DMR_JOB_MAX_STAGES,
                        sizeof *params);
    kvcopies = dmr_calloc(defs->nlist + 3 + 4 * DMR_JOB_MAX_STAGES,
                          sizeof(char *));
    for (size_t i = 0; i < defs->nlist; i++) {
        const char *eq = strchr(defs->list[i], '=');
        if (!eq || eq == defs->list[i]) {
            fprintf(stderr, "dmr submit: -D takes KEY=VALUE, not '%s'\n",
                    defs->list[i]);
            goto out;
        }
        kvcopies[i] = dmr_strndup(defs->list[i], (size_t)(eq - defs->list[i]));
        params[i].key = kvcopies[i];
        params[i].val = eq + 1;
    }

    /* Local paths and store paths (dmr:/...) go their own ways. */
    paths = dmr_calloc(npaths, sizeof *paths);
    const char **spaths = dmr_calloc(npaths, sizeof *spaths);
    size_t nlocal = 0, nstore = 0;
    for (size_t i = 0; i < npaths; i++) {
        const char *p =
            i < inputs->nlist ? inputs->list[i] : a.pos[i - inputs->nlist + 1];
        if (!strncmp(p, "dmr:", 4))
            spaths[nstore++] = p;
        else
            paths[nlocal++] = p;
    }
    int store_out = !strncmp(output, "dmr:", 4);
    char err[4096];
    if (nlocal > 0 && dmr_input_expand(paths, nlocal, &files, &nfiles, err,
                                       sizeof err) != 0) {
        fprintf(stderr, "dmr submit: %s\n", err);
        free(spaths);
        goto out;
    }
    if (nstore > 0 || store_out) {
        dmr_client_t sc;
        int bad = dmr_client_open(&sc, dmr_args_get(c, &a, "master")->str);
        if (!bad && dmr_dfs_open(sc.endpoint, &dfs, err, sizeof err) != 0) {
            fprintf(stderr, "dmr submit: %s\n", err);
            bad = 1;
        }
        dmr_client_close(&sc);
        if (!bad)
            bad = s_store_inputs(dfs, spaths, nstore, &files, &nfiles);
        if (bad) {
            free(spaths);
            code = 1;
            goto out;
        }
    }
    free(spaths);
    if (store_out) {
        outabs = dmr_strdup(output);
        if (s_prepare_store_output(
                dfs, outabs, (int)dmr_args_get(c, &a, "overwrite")->num)) {
            code = 2;
            goto out;
        }
    } else {
        outabs = s_abs_path(output);
        if (s_prepare_output(outabs,
                             (int)dmr_args_get(c, &a, "overwrite")->num)) {
            code = 2;
            goto out;
        }
        char *canon = realpath(outabs, NULL);
        if (canon) {
            free(outabs);
            outabs = canon;
        }
    }
    /* A multi-stage job: the stages are told apart by dmr.stage; each
     * but the last writes into OUT/_stage-K (jobs/dmr_job.h). */
    size_t nparams = defs->nlist, ncopies = defs->nlist;
    char *stage0_out = NULL;
    if (nstages > 1) {
        kvcopies[ncopies] = dmr_sprintf("%u", nstages);
        params[nparams++] = (dmr_kv_t){"dmr.stages", kvcopies[ncopies++]};
        params[nparams++] = (dmr_kv_t){"dmr.output", outabs};
        for (uint32_t k = 1; k < nstages; k++) {
            const dmr_job *st = dmr_job_stage(def, k);
            if (st->flags & DMR_JOB_WHOLE_FILE) {
                kvcopies[ncopies] = dmr_sprintf("whole_files.%u", k);
                params[nparams++] = (dmr_kv_t){kvcopies[ncopies++], "1"};
            }
            if (st->name) {
                kvcopies[ncopies] = dmr_sprintf("dmr.name.%u", k);
                params[nparams++] = (dmr_kv_t){kvcopies[ncopies++], st->name};
            }
        }
        stage0_out = dmr_sprintf("%s/_stage-0", outabs);
    }
    items = dmr_calloc(nfiles + 1, sizeof *items);
    for (size_t i = 0; i < nfiles; i++) {
        dmr_msg_init(&items[i], DMR_MSG_FILE_INFO);
        items[i].path = files[i].path;
        items[i].name = files[i].name;
        items[i].total = files[i].size;
    }
    if (dmr_client_open(&cl, dmr_args_get(c, &a, "master")->str) != 0) {
        code = 1;
        goto out;
    }
    dmr_msg_t req, rep;
    dmr_msg_init(&req, DMR_MSG_SUBMIT);
    req.name = jobname;
    req.hash = hash;
    req.blob = (const uint8_t *)blob.data;
    req.blob_len = blob.len;
    req.output = stage0_out ? stage0_out : outabs;
    req.nreduce = (uint32_t)dmr_args_get(c, &a, "reduces")->num;
    req.params = params;
    req.nparams = nparams;
    req.items = items;
    req.nitems = nfiles;
    int called = dmr_client_call(&cl, &req, &rep, 10000);
    free(stage0_out);
    if (called != 0) {
        code = 1;
        goto out;
    }
    uint64_t id = rep.job;
    dmr_msg_clear(&rep);
    int quiet = (int)dmr_args_get(c, &a, "quiet")->num;
    if (dmr_args_get(c, &a, "detach")->num) {
        printf("%llu\n", (unsigned long long)id);
        code = 0;
    } else {
        if (!quiet)
            fprintf(stderr, "job %llu (%s) submitted to %s: %zu input files\n",
                    (unsigned long long)id, jobname, cl.endpoint, nfiles);
        code = s_follow(&cl, id, quiet);
    }
out:
    for (size_t i = 0; kvcopies && kvcopies[i]; i++)
        free(kvcopies[i]);
    free(kvcopies);
    dmr_client_close(&cl);
    dmr_dfs_close(&dfs);
    dmr_input_files_free(files, nfiles);
    free(items);
    free(paths);
    free(params);
    free(object);
    free(outabs);
    dmr_buf_free(&blob);
    if (dl)
        dlclose(dl);
    dmr_args_free(&a);
    return code;
}
