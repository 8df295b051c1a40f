/* sort.c -- `dmr sort`: TeraSort as a command. Samples the input to pick
 * the cut points of a range partitioner (as TeraSort's client does),
 * submits the bundled sort job with them, and with --validate checks the
 * result: every record in order across the output parts, and the same
 * multiset of records as the input (count and a sum of per-record CRC32s,
 * as TeraValidate checksums).
 *
 * Inputs and outputs may be local paths or dmr:/ paths in the chunk store;
 * both are read here through one small reader. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "cli/cli.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "storage/dfs.h"
#include "storage/input.h"

#define REC 100 /* bytes of a record: key, payload, '\n' */
#define KEY 10
#define WINDOWS 10 /* places of the input samples are read from */

static const dmr_opt_t s_opts[] = {
    {"input", 'i', DMR_OPT_LIST, "PATH", NULL,
     "input file, directory or glob (local or dmr:/); more may follow", 0, 0},
    {"output", 'o', DMR_OPT_STR, "DIR", NULL, "output directory", 0, 0},
    {"reduces", 'R', DMR_OPT_INT, "N", "2",
     "reduce tasks: the output is N files, each a key range", 1, 65537},
    {"sample", 0, DMR_OPT_INT, "N", "0",
     "keys to sample for the cut points (0: 100 per reduce, at least 1000)", 0,
     10000000},
    {"validate", 0, DMR_OPT_FLAG, NULL, NULL,
     "after sorting, check the order and the records against the input", 0, 0},
    {"validate-only", 0, DMR_OPT_FLAG, NULL, NULL,
     "only check DIR (sorted earlier) against the input", 0, 0},
    {"define", 'D', DMR_OPT_LIST, "KEY=VALUE", NULL,
     "job parameter, passed to dmr submit", 0, 0},
    {"overwrite", 0, DMR_OPT_FLAG, NULL, NULL,
     "replace the output of an earlier job in DIR", 0, 0},
    {"master", 'm', DMR_OPT_STR, "ENDPOINT", NULL, "the master to submit to", 0,
     0},
    {"quiet", 'q', DMR_OPT_FLAG, NULL, NULL, "no progress output", 0, 0},
};

static const dmr_cmd_t s_cmd = {
    "dmr sort",
    "--input PATH... --output DIR [-R N] [--validate]",
    "Sorts 100-byte records (a 10-byte key, an 89-byte payload, a newline:\n"
    "what dmr-gensort writes) into a total order over N output files,\n"
    "part-00000 holding the smallest keys. The input is sampled to choose\n"
    "the N-1 cut points, then the bundled sort job runs with them. With\n"
    "--validate the output is read back: every record must be in key\n"
    "order, within and across the parts, and the records must be those of\n"
    "the input (their count and the sum of their CRC32s). Exit status: 0\n"
    "when sorted (and valid), 1 when the job failed or the output is not\n"
    "valid, 2 for a usage error.",
    s_opts,
    sizeof s_opts / sizeof *s_opts,
    0,
    4096};

/* ----------------------------------------------------- reading files */

/* One file, local or in the store. */
typedef struct {
    char *name;
    uint64_t size;
    int fd;             /* local */
    dmr_dfs_file_t *sf; /* in the store (one, with chunks) */
    size_t nsf;
} src_t;

typedef struct {
    src_t *v;
    size_t n;
    dmr_dfs_t *d; /* opened on the first dmr:/ path */
    const char *master;
} srcs_t;

static int s_src_cmp(const void *a, const void *b)
{
    return strcmp(((const src_t *)a)->name, ((const src_t *)b)->name);
}

static void s_add(srcs_t *s, src_t x)
{
    s->v = dmr_realloc(s->v, (s->n + 1) * sizeof *s->v);
    s->v[s->n++] = x;
}

static int s_store(srcs_t *s, char *err, size_t errlen)
{
    if (s->d)
        return 0;
    dmr_client_t cl;
    if (dmr_client_open(&cl, s->master)) {
        snprintf(err, errlen, "no master to read the store from");
        return DMR_EUNAVAIL;
    }
    int rc = dmr_dfs_open(cl.endpoint, &s->d, err, errlen);
    dmr_client_close(&cl);
    return rc;
}

/* Adds the files of each path; with parts, only part-* files, in order. */
static int s_collect(srcs_t *s, const char *const *paths, size_t n, int parts,
                     char *err, size_t errlen)
{
    const char **local = dmr_calloc(n ? n : 1, sizeof *local);
    size_t nlocal = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strncmp(paths[i], "dmr:", 4)) {
            dmr_dfs_file_t *f = NULL;
            size_t nf = 0;
            int rc = s_store(s, err, errlen);
            if (rc == 0)
                rc = dmr_dfs_stat(s->d, paths[i] + 4, 1, 1, &f, &nf, NULL, err,
                                  errlen);
            if (rc) {
                free(local);
                return rc;
            }
            for (size_t k = 0; k < nf; k++) {
                const char *base = strrchr(f[k].path, '/');
                base = base ? base + 1 : f[k].path;
                if (parts ? strncmp(base, "part-", 5) : base[0] == '_')
                    continue;
                dmr_dfs_file_t *one = dmr_calloc(1, sizeof *one);
                *one = f[k];
                f[k] = (dmr_dfs_file_t){0};
                s_add(s, (src_t){dmr_sprintf("dmr:%s", one->path), one->size,
                                 -1, one, 1});
            }
            dmr_dfs_files_free(f, nf);
            continue;
        }
        local[nlocal++] = paths[i];
    }
    /* Local paths expand as dmr submit expands them: in one list, each
     * file once. */
    dmr_input_file_t *files = NULL;
    size_t nfiles = 0;
    int rc = nlocal
                 ? dmr_input_expand(local, nlocal, &files, &nfiles, err, errlen)
                 : 0;
    free(local);
    for (size_t k = 0; rc == 0 && k < nfiles; k++) {
        const char *base = strrchr(files[k].path, '/');
        base = base ? base + 1 : files[k].path;
        if (parts && strncmp(base, "part-", 5))
            continue;
        int fd = open(files[k].path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            snprintf(err, errlen, "cannot open %s: %s", files[k].path,
                     strerror(errno));
            rc = DMR_EIO;
            break;
        }
        s_add(s,
              (src_t){dmr_strdup(files[k].path), files[k].size, fd, NULL, 0});
    }
    dmr_input_files_free(files, nfiles);
    if (rc)
        return rc;
    qsort(s->v, s->n, sizeof *s->v, s_src_cmp);
    /* a store file named twice counts once */
    size_t kept = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (kept && !strcmp(s->v[kept - 1].name, s->v[i].name)) {
            free(s->v[i].name);
            if (s->v[i].fd >= 0)
                close(s->v[i].fd);
            dmr_dfs_files_free(s->v[i].sf, s->v[i].nsf);
            continue;
        }
        s->v[kept++] = s->v[i];
    }
    s->n = kept;
    return 0;
}

static void s_srcs_free(srcs_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].name);
        if (s->v[i].fd >= 0)
            close(s->v[i].fd);
        dmr_dfs_files_free(s->v[i].sf, s->v[i].nsf);
    }
    free(s->v);
    dmr_dfs_close(&s->d);
    *s = (srcs_t){0};
}

/* Reads up to n bytes of file x at off; *got short only at its end. */
static int s_read(srcs_t *s, src_t *x, uint64_t off, char *buf, size_t n,
                  size_t *got, char *err, size_t errlen)
{
    *got = 0;
    while (*got < n) {
        size_t g = 0;
        if (x->fd >= 0) {
            ssize_t r = pread(x->fd, buf + *got, n - *got, (off_t)(off + *got));
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                snprintf(err, errlen, "reading %s: %s", x->name,
                         strerror(errno));
                return DMR_EIO;
            }
            g = (size_t)r;
        } else {
            int rc = dmr_dfs_file_read(s->d, x->sf, off + *got, buf + *got,
                                       n - *got, &g, err, errlen);
            if (rc)
                return rc;
        }
        if (g == 0)
            break;
        *got += g;
    }
    return 0;
}

/* ---------------------------------------------------------- sampling */

static int s_key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, KEY);
}

/* The R-1 cut points, as -D cuts=HEX,... (caller frees), from nsample keys
 * read in WINDOWS runs spread over the input. */
static char *s_cuts(srcs_t *in, size_t r, size_t nsample, char *err,
                    size_t errlen)
{
    uint64_t total = 0;
    for (size_t i = 0; i < in->n; i++)
        total += in->v[i].size / REC;
    if (nsample > total)
        nsample = (size_t)total;
    unsigned char *keys = dmr_malloc((nsample ? nsample : 1) * KEY);
    size_t got_keys = 0, per = (nsample + WINDOWS - 1) / WINDOWS;
    char *buf = dmr_malloc((per ? per : 1) * REC);
    for (size_t w = 0; w < WINDOWS && got_keys < nsample; w++) {
        /* the first record of window w, then which file holds it */
        uint64_t rec = total * w / WINDOWS, before = 0;
        size_t f = 0;
        while (f < in->n && before + in->v[f].size / REC <= rec)
            before += in->v[f++].size / REC;
        if (f == in->n)
            break;
        size_t want = per < nsample - got_keys ? per : nsample - got_keys;
        size_t got = 0;
        if (s_read(in, &in->v[f], (rec - before) * REC, buf, want * REC, &got,
                   err, errlen)) {
            free(buf);
            free(keys);
            return NULL;
        }
        for (size_t k = 0; k + 1 <= got / REC; k++)
            memcpy(keys + (got_keys++) * KEY, buf + k * REC, KEY);
    }
    free(buf);
    qsort(keys, got_keys, KEY, s_key_cmp);
    dmr_buf_t out = DMR_BUF_INIT;
    dmr_buf_printf(&out, "cuts=");
    for (size_t i = 1; i < r; i++) {
        static const unsigned char none[KEY] = "         ";
        const unsigned char *k =
            got_keys ? keys + (got_keys * i / r) * KEY : none;
        if (i > 1)
            dmr_buf_putc(&out, ',');
        for (int j = 0; j < KEY; j++)
            dmr_buf_printf(&out, "%02x", k[j]);
    }
    dmr_buf_putc(&out, 0);
    free(keys);
    return out.data;
}

/* -------------------------------------------------------- validation */

typedef struct {
    uint64_t records, sum; /* count, sum of CRC32s */
    unsigned char last[KEY];
    int have_last;
    uint64_t disorder; /* records smaller than the one before */
    char where[600];   /* the first disorder */
} tally_t;

/* Reads every record of the files in order; checks the order when asked. */
static int s_tally(srcs_t *s, int order, tally_t *t, char *err, size_t errlen)
{
    size_t cap = (1 << 20) / REC * REC; /* whole records */
    char *buf = dmr_malloc(cap);
    int rc = 0;
    for (size_t i = 0; i < s->n && rc == 0; i++) {
        src_t *x = &s->v[i];
        if (x->size % REC) {
            snprintf(err, errlen,
                     "%s: %llu bytes is not a whole number of "
                     "100-byte records",
                     x->name, (unsigned long long)x->size);
            rc = DMR_ECORRUPT;
            break;
        }
        for (uint64_t off = 0; off < x->size && rc == 0;) {
            size_t want = x->size - off < cap ? (size_t)(x->size - off) : cap;
            size_t got = 0;
            rc = s_read(s, x, off, buf, want, &got, err, errlen);
            if (rc == 0 && got != want) {
                snprintf(err, errlen, "%s: short read at byte %llu", x->name,
                         (unsigned long long)off);
                rc = DMR_EIO;
            }
            for (size_t k = 0; rc == 0 && k < got; k += REC) {
                const unsigned char *p = (const unsigned char *)buf + k;
                if (p[REC - 1] != '\n') {
                    snprintf(err, errlen,
                             "%s: the record at byte %llu does not end in a "
                             "newline",
                             x->name, (unsigned long long)(off + k));
                    rc = DMR_ECORRUPT;
                    break;
                }
                t->records++;
                t->sum += crc32(0, p, REC);
                if (order && t->have_last && memcmp(p, t->last, KEY) < 0 &&
                    t->disorder++ == 0)
                    snprintf(t->where, sizeof t->where,
                             "%s: the record at byte %llu has a smaller key "
                             "than the one before it",
                             x->name, (unsigned long long)(off + k));
                memcpy(t->last, p, KEY);
                t->have_last = 1;
            }
            off += got;
        }
    }
    free(buf);
    return rc;
}

static int s_validate(srcs_t *in, const char *output, const char *master)
{
    char err[1024];
    srcs_t out = {.master = master};
    tally_t ti = {0}, to = {0};
    int rc = s_collect(&out, &output, 1, 1, err, sizeof err);
    if (rc == 0 && out.n == 0) {
        snprintf(err, sizeof err, "no part-* files in %s", output);
        rc = DMR_ENOENT;
    }
    if (rc == 0)
        rc = s_tally(&out, 1, &to, err, sizeof err);
    if (rc == 0)
        rc = s_tally(in, 0, &ti, err, sizeof err);
    s_srcs_free(&out);
    if (rc) {
        fprintf(stderr, "dmr sort: validate: %s\n", err);
        return 1;
    }
    int ok = to.disorder == 0 && to.records == ti.records && to.sum == ti.sum;
    printf("validate: %llu records in %s, %s; input %llu records; checksum "
           "%016llx %s %016llx: %s\n",
           (unsigned long long)to.records, output,
           to.disorder ? "NOT in order" : "in order",
           (unsigned long long)ti.records, (unsigned long long)to.sum,
           to.sum == ti.sum ? "=" : "!=", (unsigned long long)ti.sum,
           ok ? "valid" : "NOT valid");
    if (to.disorder)
        printf("  %llu out of order; the first: %s\n",
               (unsigned long long)to.disorder, to.where);
    return ok ? 0 : 1;
}

/* ---------------------------------------------------------- the command */

int dmr_cmd_sort(int argc, char **argv)
{
    dmr_args_t a;
    int code;
    if (dmr_cli_parse(&s_cmd, argc, argv, &a, &code))
        return code;
    char err[1024];
    const dmr_optval_t *in = dmr_args_get(&s_cmd, &a, "input");
    const char *output = dmr_args_get(&s_cmd, &a, "output")->str;
    const char *master = dmr_args_get(&s_cmd, &a, "master")->str;
    size_t r = (size_t)dmr_args_get(&s_cmd, &a, "reduces")->num;
    size_t nsample = (size_t)dmr_args_get(&s_cmd, &a, "sample")->num;
    int validate_only = (int)dmr_args_get(&s_cmd, &a, "validate-only")->num;
    srcs_t src = {.master = master};
    char *cuts = NULL;
    code = 2;
    /* the paths after --input's first are positional, as for submit */
    size_t npaths = in->nlist + a.npos;
    const char **paths = dmr_calloc(npaths + 1, sizeof *paths);
    for (size_t i = 0; i < npaths; i++)
        paths[i] = i < in->nlist ? in->list[i] : a.pos[i - in->nlist];
    if (!in->nlist || !output) {
        fprintf(stderr, "dmr sort: --input PATH and --output DIR are "
                        "required\n");
        goto out;
    }
    if (s_collect(&src, paths, npaths, 0, err, sizeof err)) {
        fprintf(stderr, "dmr sort: %s\n", err);
        goto out;
    }
    if (src.n == 0) {
        fprintf(stderr, "dmr sort: no input files in the paths given\n");
        goto out;
    }
    if (validate_only) {
        code = s_validate(&src, output, master);
        goto out;
    }
    if (!nsample)
        nsample = 100 * r > 1000 ? 100 * r : 1000;
    cuts = s_cuts(&src, r, nsample, err, sizeof err);
    if (!cuts) {
        fprintf(stderr, "dmr sort: sampling the input: %s\n", err);
        goto out;
    }
    /* dmr submit sort --input ... --output DIR -R N -D cuts=... [...] */
    const dmr_optval_t *defs = dmr_args_get(&s_cmd, &a, "define");
    size_t max = 16 + npaths + 2 * defs->nlist;
    const char **av = dmr_calloc(max + 1, sizeof *av);
    char rs[32];
    snprintf(rs, sizeof rs, "%zu", r);
    size_t n = 0;
    av[n++] = "submit";
    av[n++] = "sort";
    av[n++] = "--output";
    av[n++] = output;
    av[n++] = "-R";
    av[n++] = rs;
    av[n++] = "-D";
    av[n++] = cuts;
    for (size_t i = 0; i < defs->nlist; i++) {
        av[n++] = "-D";
        av[n++] = defs->list[i];
    }
    if (dmr_args_get(&s_cmd, &a, "overwrite")->num)
        av[n++] = "--overwrite";
    if (dmr_args_get(&s_cmd, &a, "quiet")->num)
        av[n++] = "--quiet";
    if (master) {
        av[n++] = "--master";
        av[n++] = master;
    }
    av[n++] = "--input";
    for (size_t i = 0; i < npaths; i++)
        av[n++] = paths[i];
    code = dmr_cmd_submit((int)n, (char **)av);
    free(av);
    if (code == 0 && dmr_args_get(&s_cmd, &a, "validate")->num)
        code = s_validate(&src, output, master);
out:
    free(paths);
    free(cuts);
    s_srcs_free(&src);
    dmr_args_free(&a);
    return code;
}
