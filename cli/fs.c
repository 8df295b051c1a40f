/* fs.c -- `dmr fs`: the chunk store from the command line.
 *
 *   dmr fs put LOCAL dmr:/PATH     dmr fs get dmr:/PATH LOCAL
 *   dmr fs cat dmr:/PATH           dmr fs ls [-l] [dmr:/DIR]
 *   dmr fs rm [-r] dmr:/PATH       dmr fs stat dmr:/PATH
 *   dmr fs fsck [dmr:/DIR]
 *
 * Exit status: 0 on success (fsck: every chunk healthy), 1 when the
 * operation failed (fsck: something is not healthy), 2 for a usage
 * error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"
#include "storage/dfs.h"

static const dmr_opt_t s_opts[] = {
    {"master", 'm', DMR_OPT_STR, "ENDPOINT", NULL, "the master to ask", 0, 0},
    {"replication", 'R', DMR_OPT_INT, "N", "3",
     "put: replicas of each chunk (fewer when fewer workers live)", 1, 64},
    {"chunk", 'c', DMR_OPT_STR, "SIZE", "64m",
     "put: chunk size, e.g. 64m, 256k (at most 1g)", 0, 0},
    {"long", 'l', DMR_OPT_FLAG, NULL, NULL,
     "ls: size, replication, chunks and time of each file", 0, 0},
    {"recursive", 'r', DMR_OPT_FLAG, NULL, NULL,
     "rm: remove a directory and everything under it", 0, 0},
    {"force", 'f', DMR_OPT_FLAG, NULL, NULL,
     "get: overwrite an existing local file", 0, 0},
};

static const dmr_cmd_t s_cmd = {
    "dmr fs",
    "put|get|cat|ls|rm|stat|fsck ARGS... [options]",
    "The replicated chunk store. Paths in the store are written dmr:/PATH.\n"
    "  put LOCAL dmr:/PATH   store a local file (- reads standard input)\n"
    "  get dmr:/PATH LOCAL   copy a file out (- writes standard output)\n"
    "  cat dmr:/PATH         print a file\n"
    "  ls [-l] [dmr:/DIR]    list a directory (default dmr:/)\n"
    "  rm [-r] dmr:/PATH     remove a file, or with -r a directory\n"
    "  stat dmr:/PATH        a file's chunks and where each replica is\n"
    "  fsck [dmr:/DIR]       check every chunk: healthy, under-replicated,\n"
    "                        corrupt or missing; exit 1 unless all healthy",
    s_opts,
    sizeof s_opts / sizeof *s_opts,
    1,
    3};

static int s_is_store(const char *p)
{
    return !strncmp(p, "dmr:", 4);
}

static const char *s_store_path(const char *p)
{
    return p + 4; /* after "dmr:" */
}

static int s_open(const dmr_args_t *a, dmr_dfs_t **d)
{
    dmr_client_t c;
    if (dmr_client_open(&c, dmr_args_get(&s_cmd, a, "master")->str) != 0)
        return 1;
    char err[512];
    int rc = dmr_dfs_open(c.endpoint, d, err, sizeof err);
    dmr_client_close(&c);
    if (rc) {
        fprintf(stderr, "dmr fs: %s\n", err);
        return 1;
    }
    return 0;
}

static int s_put(const dmr_args_t *a, dmr_dfs_t *d)
{
    const char *local = a->pos[1], *remote = a->pos[2];
    uint64_t chunk;
    if (dmr_parse_size(dmr_args_get(&s_cmd, a, "chunk")->str, &chunk) != 0 ||
        chunk == 0 || chunk > (1ull << 30)) {
        fprintf(stderr, "dmr fs put: --chunk takes a size from 1 to 1g\n");
        return 2;
    }
    FILE *in = strcmp(local, "-") ? fopen(local, "rb") : stdin;
    if (!in) {
        fprintf(stderr, "dmr fs put: cannot open %s: %s\n", local,
                strerror(errno));
        return 1;
    }
    char err[1024];
    dmr_dfs_writer_t *w;
    int rc =
        dmr_dfs_create(d, s_store_path(remote),
                       (uint32_t)dmr_args_get(&s_cmd, a, "replication")->num,
                       (size_t)chunk, &w, err, sizeof err);
    if (rc == 0) {
        size_t cap = 1 << 20;
        char *buf = dmr_malloc(cap);
        size_t n;
        while (rc == 0 && (n = fread(buf, 1, cap, in)) > 0)
            rc = dmr_dfs_write(w, buf, n, err, sizeof err);
        if (rc == 0 && ferror(in)) {
            snprintf(err, sizeof err, "reading %s: %s", local, strerror(errno));
            rc = DMR_EIO;
        }
        free(buf);
        if (rc == 0)
            rc = dmr_dfs_commit(&w, err, sizeof err);
        else
            dmr_dfs_abort(&w);
    }
    if (in != stdin)
        fclose(in);
    if (rc) {
        fprintf(stderr, "dmr fs put: %s\n", err);
        return 1;
    }
    return 0;
}

static int s_get(const dmr_args_t *a, dmr_dfs_t *d, const char *remote,
                 const char *local)
{
    char err[1024];
    int to_stdout = !local || !strcmp(local, "-");
    char *tmp = NULL;
    FILE *out = stdout;
    if (!to_stdout) {
        struct stat st;
        if (!dmr_args_get(&s_cmd, a, "force")->num && stat(local, &st) == 0) {
            fprintf(stderr, "dmr fs get: %s exists (use -f to overwrite)\n",
                    local);
            return 1;
        }
        tmp = dmr_sprintf("%s.dmr-get.%d", local, (int)getpid());
        out = fopen(tmp, "wb");
        if (!out) {
            fprintf(stderr, "dmr fs get: cannot create %s: %s\n", tmp,
                    strerror(errno));
            free(tmp);
            return 1;
        }
    }
    int rc = dmr_dfs_get(d, s_store_path(remote), out, err, sizeof err);
    if (!to_stdout) {
        if (fclose(out) != 0 && rc == 0) {
            snprintf(err, sizeof err, "writing %s: %s", local, strerror(errno));
            rc = DMR_EIO;
        }
        if (rc == 0 && rename(tmp, local) != 0) {
            snprintf(err, sizeof err, "cannot rename to %s: %s", local,
                     strerror(errno));
            rc = DMR_EIO;
        }
        if (rc)
            unlink(tmp);
        free(tmp);
    } else if (fflush(stdout) != 0 && rc == 0) {
        snprintf(err, sizeof err, "writing standard output: %s",
                 strerror(errno));
        rc = DMR_EIO;
    }
    if (rc) {
        fprintf(stderr, "dmr fs %s: %s\n", local ? "get" : "cat", err);
        return 1;
    }
    return 0;
}

static const char *s_when(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
    return buf;
}

/* ls: the immediate children of dir: files, and directories (once). */
static int s_ls(const dmr_args_t *a, dmr_dfs_t *d)
{
    const char *arg = a->npos > 1 ? a->pos[1] : "dmr:/";
    char err[1024];
    dmr_dfs_file_t *fs;
    size_t n;
    int is_dir;
    int rc = dmr_dfs_stat(d, s_store_path(arg), 1, 0, &fs, &n, &is_dir, err,
                          sizeof err);
    if (rc) {
        fprintf(stderr, "dmr fs ls: %s\n", err);
        return 1;
    }
    int lng = (int)dmr_args_get(&s_cmd, a, "long")->num;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", s_store_path(arg));
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dir[--dl] = '\0';
    const char *last_sub = "";
    size_t last_len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = fs[i].path;
        if (!is_dir) {
            /* ls of a file: the file itself */
        } else {
            p += dl == 1 ? 1 : dl + 1;
            const char *slash = strchr(p, '/');
            if (slash) {
                size_t len = (size_t)(slash - p);
                if (len == last_len && !strncmp(p, last_sub, len))
                    continue;
                last_sub = p;
                last_len = len;
                if (lng)
                    printf("%-14s %4s %7s %-16s %.*s/\n", "-", "-", "-", "dir",
                           (int)len, p);
                else
                    printf("%.*s/\n", (int)len, p);
                continue;
            }
        }
        char when[32];
        if (lng)
            printf("%-14llu %4u %7u %-16s %s\n", (unsigned long long)fs[i].size,
                   fs[i].replication, fs[i].nchunks,
                   s_when(fs[i].mtime_ms, when, sizeof when), p);
        else
            printf("%s\n", p);
    }
    dmr_dfs_files_free(fs, n);
    return 0;
}

static int s_rm(const dmr_args_t *a, dmr_dfs_t *d)
{
    char err[1024];
    uint64_t count = 0;
    int rc = dmr_dfs_rm(d, s_store_path(a->pos[1]),
                        (int)dmr_args_get(&s_cmd, a, "recursive")->num, &count,
                        err, sizeof err);
    if (rc) {
        fprintf(stderr, "dmr fs rm: %s\n", err);
        return 1;
    }
    return 0;
}

static void s_print_chunks(const dmr_dfs_file_t *f)
{
    for (uint32_t c = 0; c < f->nchunks; c++) {
        const dmr_dfs_chunk_t *ch = &f->chunks[c];
        printf("  chunk %-4u %016llx  %10llu bytes  v%u  %-16s", c,
               (unsigned long long)ch->id, (unsigned long long)ch->length,
               ch->version, ch->state);
        for (size_t r = 0; r < ch->nrep; r++)
            printf(" %s%s", ch->rep[r].wid, ch->rep[r].good ? "" : "(bad)");
        printf("\n");
    }
}

static int s_stat(const dmr_args_t *a, dmr_dfs_t *d)
{
    char err[1024];
    dmr_dfs_file_t *fs;
    size_t n;
    int is_dir;
    int rc = dmr_dfs_stat(d, s_store_path(a->pos[1]), 0, 1, &fs, &n, &is_dir,
                          err, sizeof err);
    if (rc) {
        fprintf(stderr, "dmr fs stat: %s\n", err);
        return 1;
    }
    if (is_dir)
        printf("dmr:%s: directory\n", s_store_path(a->pos[1]));
    for (size_t i = 0; i < n; i++) {
        char when[32];
        printf("dmr:%s\n  size %llu bytes, replication %u, %u chunks, "
               "written %s\n",
               fs[i].path, (unsigned long long)fs[i].size, fs[i].replication,
               fs[i].nchunks, s_when(fs[i].mtime_ms, when, sizeof when));
        s_print_chunks(&fs[i]);
    }
    dmr_dfs_files_free(fs, n);
    return 0;
}

static int s_fsck(const dmr_args_t *a, dmr_dfs_t *d)
{
    const char *arg = a->npos > 1 ? a->pos[1] : "dmr:/";
    char err[1024];
    dmr_dfs_file_t *fs;
    size_t n;
    int rc = dmr_dfs_stat(d, s_store_path(arg), 1, 1, &fs, &n, NULL, err,
                          sizeof err);
    if (rc) {
        fprintf(stderr, "dmr fs fsck: %s\n", err);
        return 1;
    }
    static const char *const names[] = {"healthy", "under-replicated",
                                        "corrupt", "missing"};
    size_t count[4] = {0}, chunks = 0;
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        int file_bad = 0;
        bytes += fs[i].size;
        for (uint32_t c = 0; c < fs[i].nchunks; c++) {
            const dmr_dfs_chunk_t *ch = &fs[i].chunks[c];
            size_t k = 0;
            while (k < 4 && strcmp(ch->state, names[k]))
                k++;
            if (k == 4)
                k = 3;
            count[k]++;
            chunks++;
            if (k != 0) {
                size_t good = 0;
                for (size_t r = 0; r < ch->nrep; r++)
                    good += ch->rep[r].good;
                if (!file_bad++)
                    printf("dmr:%s:\n", fs[i].path);
                printf("  chunk %u (%016llx): %s, %zu good of %u replicas\n", c,
                       (unsigned long long)ch->id, names[k], good,
                       fs[i].replication);
            }
        }
    }
    size_t healthy = count[0] == chunks;
    printf("%zu files, %llu bytes, %zu chunks: %zu healthy, %zu "
           "under-replicated, %zu corrupt, %zu missing\n",
           n, (unsigned long long)bytes, chunks, count[0], count[1], count[2],
           count[3]);
    printf("status: %s\n", healthy ? "HEALTHY" : "NOT HEALTHY");
    dmr_dfs_files_free(fs, n);
    return healthy ? 0 : 1;
}

int dmr_cmd_fs(int argc, char **argv)
{
    dmr_args_t a;
    int code;
    if (dmr_cli_parse(&s_cmd, argc, argv, &a, &code))
        return code;
    const char *verb = a.pos[0];
    struct {
        const char *name;
        size_t min, max; /* positional arguments after the verb */
        int store[2];    /* which must be dmr:/ paths */
    } verbs[] = {
        {"put", 2, 2, {0, 1}},  {"get", 2, 2, {1, 0}}, {"cat", 1, 1, {1, 0}},
        {"ls", 0, 1, {1, 0}},   {"rm", 1, 1, {1, 0}},  {"stat", 1, 1, {1, 0}},
        {"fsck", 0, 1, {1, 0}},
    };
    size_t v = 0, nv = sizeof verbs / sizeof *verbs;
    while (v < nv && strcmp(verbs[v].name, verb))
        v++;
    code = 2;
    if (v == nv) {
        fprintf(stderr,
                "dmr fs: unknown action '%s' (put, get, cat, ls, rm, "
                "stat, fsck)\n",
                verb);
        goto out;
    }
    size_t nargs = a.npos - 1;
    if (nargs < verbs[v].min || nargs > verbs[v].max) {
        fprintf(stderr,
                "dmr fs %s: wrong number of arguments (see dmr fs "
                "--help)\n",
                verb);
        goto out;
    }
    for (size_t i = 0; i < nargs; i++) {
        if (verbs[v].store[i] && !s_is_store(a.pos[1 + i])) {
            fprintf(stderr, "dmr fs %s: %s is not a store path (dmr:/...)\n",
                    verb, a.pos[1 + i]);
            goto out;
        }
        if (!verbs[v].store[i] && s_is_store(a.pos[1 + i])) {
            fprintf(stderr, "dmr fs %s: %s must be a local path\n", verb,
                    a.pos[1 + i]);
            goto out;
        }
    }
    dmr_dfs_t *d = NULL;
    if (s_open(&a, &d) != 0) {
        code = 1;
        goto out;
    }
    switch (v) {
    case 0: code = s_put(&a, d); break;
    case 1: code = s_get(&a, d, a.pos[1], a.pos[2]); break;
    case 2: code = s_get(&a, d, a.pos[1], NULL); break;
    case 3: code = s_ls(&a, d); break;
    case 4: code = s_rm(&a, d); break;
    case 5: code = s_stat(&a, d); break;
    case 6: code = s_fsck(&a, d); break;
    }
    dmr_dfs_close(&d);
out:
    dmr_args_free(&a);
    return code;
}
