/* task.c -- one task attempt, run in a child process of the worker.
 *
 * Map: read the split's lines, call map, buffer the pairs, sort them by
 * (partition, key), run the combiner over each group if the job has one,
 * write one run file and commit it by rename.
 *
 * Reduce: fetch this partition of every map output (fetch.c) -- as the
 * maps finish, when the reduce started before they all had -- merge the
 * runs, call reduce once per key, and write "key<TAB>value" lines to
 * <output>/_temporary/part-NNNNN.ATTEMPT, fsynced. The master, which alone
 * decides which attempt of a task wins, commits it by renaming it to
 * part-NNNNN; so two attempts of one reduce can never both publish.
 *
 * The child talks to the worker over its stdout in frames (a 4-byte
 * little-endian length, then one message): PROGRESS a few times a second
 * while it works, and one TASK_DONE at the end carrying the status, the
 * error and the counters. Exit status 0 means the TASK_DONE was written
 * (it may itself report a failure). A reduce that cannot fetch or read a
 * map output reports DMR_EFETCH and names that map output, so the master
 * re-runs the map instead of blaming the reduce. */
#include "worker/task.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/util.h"
#include "shuffle/combtab.h"
#include "shuffle/merge.h"
#include "shuffle/run.h"
#include "shuffle/sortbuf.h"
#include "shuffle/sumrun.h"
#include "shuffle/sumtab.h"
#include "storage/dfs.h"
#include "storage/input.h"
#include "worker/fetch.h"

/* MODE_PRECOMBINE: the combiner runs on values gathered in the combining
 * table, and what it emits goes back there. */
enum { MODE_MAP, MODE_COMBINE, MODE_PRECOMBINE, MODE_REDUCE };

enum {
    C_MAP_IN_RECORDS,
    C_MAP_IN_BYTES,
    C_MAP_OUT_RECORDS,
    C_MAP_OUT_BYTES,
    C_COMBINE_IN,
    C_COMBINE_OUT,
    C_SPILLED,
    C_SPILLS,
    C_SHUFFLE_BYTES,
    C_MERGE_RUNS,
    C_RED_GROUPS,
    C_RED_IN_RECORDS,
    C_RED_OUT_RECORDS,
    C_RED_OUT_BYTES,
    C_COUNT
};

static const char *const s_counter_names[C_COUNT] = {
    "map_input_records",     "map_input_bytes",
    "map_output_records",    "map_output_bytes",
    "combine_input_records", "combine_output_records",
    "spilled_records",       "map_spills",
    "shuffle_bytes",         "reduce_merge_runs",
    "reduce_input_groups",   "reduce_input_records",
    "reduce_output_records", "reduce_output_bytes",
};

typedef struct {
    dmr_ctx pub; /* must be first: job code sees this */
    const dmr_job *job;
    const dmr_msg_t *spec;
    int mode;
    dmr_part_fn partition;
    dmr_sortbuf_t *sb;
    dmr_run_writer_t *rw;
    uint32_t cur_part;
    uint32_t cur_group; /* MODE_PRECOMBINE: the table's group */
    FILE *out;
    int emit_error;
    char *error;
    uint64_t ctr[C_COUNT];
    dmr_fetch_t *fetch;  /* reduce: the map outputs and where they were */
    long bad_map;        /* the map whose output is unreadable, or -1 */
    uint64_t answers;    /* the master's answers while maps were missing */
    const char *phase;   /* "map", "fetch", "reduce" */
    uint32_t ppm;        /* progress, parts per million */
    uint32_t ticks;      /* calls since the clock was last read */
    uint64_t groups_out; /* map output groups written (progress in sort) */
    int64_t next_report;
    /* map side: the buffer spills to a run when it holds sort_bytes */
    size_t sort_bytes;
    char *spill_base; /* spills are spill_base.N */
    char **spills;
    size_t nspills;
    dmr_combtab_t *ct; /* jobs with a combiner: pairs gather here first */
    dmr_sumtab_t *st;  /* or here, if it sums counts (DMR_JOB_COMBINE_SUM) */
    int part_error;    /* the partition function answered out of range */
    /* reduce side of a summing job: the fetched outputs folded so far */
    dmr_sumrun_t *fold; /* NULL: not folding (or given up) */
    size_t nfolded;   /* the first outputs to complete (dmr_fetch_completed) */
    uint64_t fold_in; /* records folded (work; combine input if kept) */
    size_t fold_budget;  /* -D reduce_mb */
    uint64_t fold_total; /* groups to reduce, progress of the fold path */
} task_t;

#define REPORT_MS 200

static int s_spill(task_t *t);

/* ------------------------------------------------------------- reporting */

/* Writes one frame (length, message) to stdout, the pipe to the worker. */
static int s_send_frame(const dmr_msg_t *m)
{
    dmr_buf_t out = DMR_BUF_INIT;
    uint8_t len[4];
    if (dmr_msg_encode(m, &out) != 0)
        return DMR_EINVAL;
    for (int i = 0; i < 4; i++)
        len[i] = (uint8_t)(out.len >> (8 * i));
    int rc = 0;
    const uint8_t *parts[2] = {len, (const uint8_t *)out.data};
    size_t sizes[2] = {4, out.len};
    for (int p = 0; p < 2 && rc == 0; p++) {
        size_t off = 0;
        while (off < sizes[p]) {
            ssize_t w = write(1, parts[p] + off, sizes[p] - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                rc = DMR_EIO;
                break;
            }
            off += (size_t)w;
        }
    }
    dmr_buf_free(&out);
    return rc;
}

/* The work counter: anything that grows while the task does something. */
static uint64_t s_work(const task_t *t)
{
    return t->ctr[C_MAP_IN_BYTES] + t->ctr[C_MAP_OUT_RECORDS] +
           t->ctr[C_SHUFFLE_BYTES] + t->ctr[C_RED_IN_RECORDS] +
           t->ctr[C_RED_GROUPS] + t->ctr[C_COMBINE_IN] + t->groups_out +
           t->answers + t->fold_in;
}

static void s_report_progress(task_t *t)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_PROGRESS);
    m.job = t->spec->job;
    m.kind = t->spec->kind;
    m.task = t->spec->task;
    m.attempt = t->spec->attempt;
    m.progress = t->ppm > 1000000 ? 1000000 : t->ppm;
    m.work = s_work(t);
    m.state = t->phase;
    s_send_frame(&m);
    t->next_report = dmr_now_ms() + REPORT_MS;
}

/* Called per record: reads the clock every 64 calls, reports when due. */
static int s_tick(task_t *t)
{
    if (++t->ticks < 64)
        return 0;
    t->ticks = 0;
    return dmr_now_ms() >= t->next_report;
}

static void s_set_error(task_t *t, const char *msg)
{
    if (!t->error)
        t->error = dmr_strdup(msg);
}

/* ---------------------------------------------------------- job services */

/* Whether the job's combine sums counts, so that dmr sums for it. */
static int s_sums(const task_t *t)
{
    return t->job->combine && (t->job->flags & DMR_JOB_COMBINE_SUM);
}

/* Why a summing table refused a pair (DMR_JOB_COMBINE_SUM). */
static void s_sum_error(task_t *t, int rc, dmr_slice key, dmr_slice val)
{
    char *msg =
        rc == DMR_EINVAL
            ? dmr_sprintf("the job says its values are decimal counts "
                          "(DMR_JOB_COMBINE_SUM), but map emitted \"%.*s\" "
                          "for key \"%.*s\"",
                          (int)(val.len < 40 ? val.len : 40), val.ptr,
                          (int)(key.len < 80 ? key.len : 80), key.ptr)
            : dmr_sprintf("a key's count passes 64 bits (DMR_JOB_COMBINE_SUM)");
    s_set_error(t, msg);
    free(msg);
}

static void s_part_error(task_t *t, uint32_t p)
{
    char msg[128];
    snprintf(msg, sizeof msg,
             "partition function returned %u for %u reduce tasks", p,
             t->pub.nreduce);
    s_set_error(t, msg);
    t->part_error = 1;
}

/* The summing table's partitioner, called once per distinct key. A bad
 * answer fails the task: the map sees emit_error when the job's map
 * returns, and s_sync looks at part_error. */
static uint32_t s_sum_part(void *arg, dmr_slice key)
{
    task_t *t = arg;
    uint32_t p = t->job->partition ? t->partition(key, t->pub.nreduce)
                                   : dmr_key_partition(key, t->pub.nreduce);
    if (p < t->pub.nreduce)
        return p;
    if (!t->part_error)
        s_part_error(t, p);
    if (!t->emit_error)
        t->emit_error = DMR_EJOB;
    return 0;
}

/* A pair the summing table refused: the task fails, naming it. */
static void s_sum_fail(void *arg, int rc, dmr_slice key, dmr_slice val)
{
    task_t *t = arg;
    s_sum_error(t, rc, key, val);
    if (!t->emit_error)
        t->emit_error = rc;
}

static int s_emit(dmr_ctx *ctx, dmr_slice key, dmr_slice val)
{
    task_t *t = (task_t *)ctx;
    int rc = 0;
    switch (t->mode) {
    case MODE_MAP: {
        t->ctr[C_MAP_OUT_RECORDS]++;
        t->ctr[C_MAP_OUT_BYTES] += key.len + val.len;
        /* a table grows by a slot at most per pair: a look every 64
         * pairs keeps it within the buffer closely enough */
        int look = (t->ctr[C_MAP_OUT_RECORDS] & 63) == 0;
        /* the default partitioner's hash serves the combining table too */
        uint64_t h =
            t->ct || !t->job->partition ? dmr_hash64(key.ptr, key.len) : 0;
        uint32_t p = t->job->partition ? t->partition(key, t->pub.nreduce)
                                       : dmr_hash_partition(h, t->pub.nreduce);
        if (p >= t->pub.nreduce) {
            s_part_error(t, p);
            rc = DMR_EJOB;
            break;
        }
        if (t->ct) {
            rc = dmr_combtab_put(t->ct, h, p, key, val);
            if (rc == 0 && look && dmr_combtab_bytes(t->ct) >= t->sort_bytes)
                rc = s_spill(t);
            break;
        }
        dmr_sortbuf_add(t->sb, p, key, val);
        if (dmr_sortbuf_bytes(t->sb) >= t->sort_bytes)
            rc = s_spill(t);
        break;
    }
    case MODE_PRECOMBINE:
        if (dmr_combtab_add_to(t->ct, t->cur_group, key, val) != 0) {
            s_set_error(t, "combine emitted a key other than the one it "
                           "was given");
            rc = DMR_EJOB;
        }
        t->ctr[C_COMBINE_OUT]++;
        break;
    case MODE_COMBINE:
        rc = dmr_run_writer_add(t->rw, t->cur_part, key, val);
        t->ctr[C_COMBINE_OUT]++;
        break;
    case MODE_REDUCE:
        int raw = (t->job->flags & DMR_JOB_RAW_OUTPUT) != 0;
        if (fwrite_unlocked(key.ptr, 1, key.len, t->out) != key.len ||
            (!raw && putc_unlocked('\t', t->out) == EOF) ||
            fwrite_unlocked(val.ptr, 1, val.len, t->out) != val.len ||
            putc_unlocked('\n', t->out) == EOF)
            rc = DMR_EIO;
        t->ctr[C_RED_OUT_RECORDS]++;
        t->ctr[C_RED_OUT_BYTES] += key.len + val.len + (raw ? 1 : 2);
        break;
    }
    if (rc && !t->emit_error)
        t->emit_error = rc;
    return rc;
}

static const char *s_param(dmr_ctx *ctx, const char *name)
{
    return dmr_msg_param(((task_t *)ctx)->spec, name);
}

static void s_fail(dmr_ctx *ctx, const char *msg)
{
    s_set_error((task_t *)ctx, msg);
}

static int s_next(dmr_values *vals, dmr_slice *value)
{
    return dmr_values_next(vals, value);
}

static const dmr_ctx_ops s_ops = {s_emit, s_param, s_fail, s_next};

/* emit of a summing job's map (DMR_JOB_COMBINE_SUM), which runs once per
 * word of a word count, so it does as little as it can: the summing table
 * takes the pair, partitioning once per key (s_sum_part) and naming what
 * it refuses (s_sum_fail); every pair is combine input, counted once the
 * map has ended. */
static int s_emit_sum(dmr_ctx *ctx, dmr_slice key, dmr_slice val)
{
    task_t *t = (task_t *)ctx;
    if (t->mode != MODE_MAP) /* the combiner, as the table is written */
        return s_emit(ctx, key, val);
    t->ctr[C_MAP_OUT_BYTES] += key.len + val.len;
    /* the table grows by a slot at most per pair: a look every 64 pairs
     * keeps it within the buffer closely enough */
    int rc;
    if ((++t->ctr[C_MAP_OUT_RECORDS] & 63) == 0 &&
        dmr_sumtab_bytes(t->st) >= t->sort_bytes && (rc = s_spill(t))) {
        if (!t->emit_error)
            t->emit_error = rc;
        return rc;
    }
    return dmr_sumtab_put(t->st, key, val);
}

static const dmr_ctx_ops s_sum_ops = {s_emit_sum, s_param, s_fail, s_next};

/* Wraps a values iterator to count what reduce/combine consumes. */
typedef struct {
    dmr_values base;
    dmr_values *inner;
    uint64_t *count;
} counting_values_t;

static int s_counting_next(dmr_values *v, dmr_slice *out)
{
    counting_values_t *cv = (counting_values_t *)v;
    int r = dmr_values_next(cv->inner, out);
    if (r > 0)
        (*cv->count)++;
    return r;
}

/* ------------------------------------------------------------------ map */

/* Runs the job's combiner on one key's values; what it emits goes where
 * mode says (MODE_COMBINE: the run being written; MODE_PRECOMBINE: back
 * into the combining table). */
static int s_combine(task_t *t, int mode, uint32_t part, dmr_slice key,
                     dmr_values *vals)
{
    counting_values_t cv = {{s_counting_next}, vals, &t->ctr[C_COMBINE_IN]};
    t->mode = mode;
    t->cur_part = part;
    int rc = t->job->combine(&t->pub, key, &cv.base);
    t->mode = MODE_MAP;
    if (rc || t->emit_error) {
        s_set_error(t, "combine returned an error");
        return t->emit_error ? t->emit_error : DMR_EJOB;
    }
    return 0;
}

static int s_write_group(void *arg, uint32_t part, dmr_slice key,
                         dmr_values *vals)
{
    task_t *t = arg;
    t->groups_out++;
    if (s_tick(t))
        s_report_progress(t); /* a long sort must not look hung */
    if (t->job->combine)
        return s_combine(t, MODE_COMBINE, part, key, vals);
    dmr_slice v;
    while (dmr_values_next(vals, &v) > 0) {
        int rc = dmr_run_writer_add(t->rw, part, key, v);
        if (rc)
            return rc;
    }
    return 0;
}

/* Drain's callback over a summing table: a group is one count, already
 * what the job's combine would make of it, so it is written as it is. */
static int s_write_count(void *arg, uint32_t part, dmr_slice key,
                         dmr_values *vals)
{
    task_t *t = arg;
    dmr_slice v;
    t->groups_out++;
    t->ctr[C_COMBINE_OUT]++;
    if (s_tick(t))
        s_report_progress(t);
    if (dmr_values_next(vals, &v) <= 0)
        return DMR_EINVAL;
    return dmr_run_writer_add(t->rw, part, key, v);
}

/* A size parameter in MiB (the master checked it at submit). */
static uint64_t s_param_mb(task_t *t, const char *name, int64_t def)
{
    const char *c = dmr_param(&t->pub, name);
    int64_t v = def;
    if (c && (dmr_parse_i64(c, &v) != 0 || v < 1 || v > (1 << 16)))
        v = def;
    return (uint64_t)v;
}

static int s_level(task_t *t)
{
    const char *c = dmr_param(&t->pub, "compress");
    int64_t level = 1;
    if (c && (dmr_parse_i64(c, &level) != 0 || level < 0 || level > 9))
        level = 1;
    return (int)level;
}

/* Adds the pairs a table still queues. A summing table's failure here
 * is a queued count that overflowed. */
static int s_sync(task_t *t)
{
    if (t->ct)
        return dmr_combtab_sync(t->ct);
    int rc = t->st ? dmr_sumtab_sync(t->st) : 0;
    if (rc)
        s_sum_error(t, rc, (dmr_slice){"", 0}, (dmr_slice){"", 0});
    return rc ? rc : t->part_error ? DMR_EJOB : 0;
}

/* Writes what the map has buffered (the combining table or the sort
 * buffer) to t->rw in (partition, key) order, through the combiner, and
 * empties it. */
static int s_drain(task_t *t)
{
    int rc = s_sync(t);
    if (rc)
        return rc;
    if (t->st) {
        t->ctr[C_SPILLED] += dmr_sumtab_groups(t->st);
        return dmr_sumtab_drain(t->st, t->job->compare, s_write_count, t);
    }
    if (t->ct) {
        t->ctr[C_SPILLED] += dmr_combtab_groups(t->ct);
        return dmr_combtab_drain(t->ct, t->job->compare, s_write_group, t);
    }
    t->ctr[C_SPILLED] += dmr_sortbuf_count(t->sb);
    return dmr_sortbuf_drain(t->sb, s_write_group, t);
}

/* Writes the buffer to a new spill run and empties it: map memory stays
 * within sort_mb whatever the split holds. */
static int s_spill(task_t *t)
{
    char *path = dmr_sprintf("%s.%zu", t->spill_base, t->nspills);
    int mode = t->mode;
    int rc = dmr_run_writer_open(path, t->pub.nreduce, s_level(t), &t->rw);
    if (rc == 0) {
        dmr_run_writer_nosync(t->rw);
        t->phase = "spill";
        rc = s_drain(t);
        if (rc == 0)
            rc = dmr_run_writer_finish(t->rw);
    }
    dmr_run_writer_destroy(&t->rw);
    t->mode = mode;
    t->phase = "map";
    if (rc) {
        unlink(path);
        free(path);
        if (!t->error)
            s_set_error(t, "cannot write a map spill");
        return rc;
    }
    t->spills = dmr_realloc(t->spills, (t->nspills + 1) * sizeof *t->spills);
    t->spills[t->nspills++] = path;
    t->ctr[C_SPILLS]++;
    return 0;
}

/* The combining table's full callback: runs the combiner over the values
 * group g has gathered; what it emits goes back into the group. */
static int s_precombine(void *arg, uint32_t g)
{
    task_t *t = arg;
    uint32_t part;
    dmr_slice key;
    dmr_values *vals;
    dmr_combtab_take(t->ct, g, &part, &key, &vals);
    t->cur_group = g;
    int rc = s_combine(t, MODE_PRECOMBINE, part, key, vals);
    dmr_combtab_combined(t->ct, g);
    return rc;
}

static void s_spills_remove(task_t *t)
{
    for (size_t i = 0; i < t->nspills; i++) {
        unlink(t->spills[i]);
        free(t->spills[i]);
    }
    free(t->spills);
    t->spills = NULL;
    t->nspills = 0;
}

/* Merges the spills into t->rw, partition by partition, running the
 * combiner again over each key's values from every spill. */
static int s_merge_spills(task_t *t)
{
    uint32_t np = t->pub.nreduce;
    dmr_run_part_t **idx = dmr_calloc(t->nspills, sizeof *idx);
    int rc = 0;
    for (size_t i = 0; i < t->nspills && rc == 0; i++) {
        uint32_t n = 0;
        rc = dmr_run_index_load(t->spills[i], &n, &idx[i]);
        if (rc == 0 && n != np)
            rc = DMR_ECORRUPT;
    }
    t->phase = "merge";
    for (uint32_t p = 0; p < np && rc == 0; p++) {
        dmr_merge_t *m = dmr_merge_new(t->job->compare);
        for (size_t i = 0; i < t->nspills && rc == 0; i++) {
            if (!idx[i][p].length)
                continue;
            dmr_run_reader_t *r = NULL;
            rc = dmr_run_reader_open(t->spills[i], idx[i][p].offset,
                                     idx[i][p].length, &r);
            if (rc == 0)
                dmr_merge_add(m, r);
        }
        dmr_slice key;
        dmr_values *vals;
        int r;
        while (rc == 0 && (r = dmr_merge_next(m, &key, &vals)) != 0) {
            if (r < 0) {
                rc = r;
                break;
            }
            rc = s_write_group(t, p, key, vals);
        }
        dmr_merge_destroy(&m);
    }
    for (size_t i = 0; i < t->nspills; i++)
        free(idx[i]);
    free(idx);
    return rc;
}

/* ----------------------------------------------------------- the store */

/* A connection to the chunk store for this task: the worker passes the
 * master's endpoint, its own id and its replica directory in the
 * environment, so reads of local replicas skip the network and the first
 * replica of what the task writes lands on this worker. */
static int s_store_connect(dmr_dfs_t **d, char *err, size_t errlen)
{
    const char *master = getenv("DMR_MASTER");
    if (!master || !*master) {
        dmr_errf(err, errlen, "no DMR_MASTER: cannot reach the chunk store");
        return DMR_EINVAL;
    }
    int rc = dmr_dfs_open(master, d, err, errlen);
    if (rc == 0)
        dmr_dfs_set_local(*d, getenv("DMR_WID"), getenv("DMR_CHUNK_DIR"));
    return rc;
}

typedef struct {
    dmr_dfs_t *d;
    dmr_dfs_file_t *f;
    size_t nf;
    char err[512];
} store_src_t;

static int s_store_read(void *arg, char *p, size_t n, uint64_t off)
{
    store_src_t *src = arg;
    size_t got = 0;
    if (n > INT32_MAX)
        n = INT32_MAX;
    int rc = dmr_dfs_file_read(src->d, src->f, off, p, n, &got, src->err,
                               sizeof src->err);
    return rc ? rc : (int)got;
}

static void s_store_src_close(store_src_t *src)
{
    dmr_dfs_files_free(src->f, src->nf);
    dmr_dfs_close(&src->d);
}

static ssize_t s_cookie_write(void *cookie, const char *p, size_t n)
{
    char err[512];
    if (dmr_dfs_write(cookie, p, n, err, sizeof err) != 0) {
        fprintf(stderr, "dmr task: writing to the store: %s\n", err);
        errno = EIO;
        return -1;
    }
    return (ssize_t)n;
}

/* A reduce's local output file. Its dirty pages are handed to the disk
 * every WRITEBACK_BYTES (sync_file_range), so the fsync before commit
 * waits for the last few megabytes instead of the whole file, and the
 * disk writes while reduce still computes: what RocksDB calls
 * bytes_per_sync. */
#define WRITEBACK_BYTES (8u << 20)

typedef struct {
    int fd;
    uint64_t off;    /* bytes written */
    uint64_t queued; /* bytes handed to writeback */
} local_out_t;

static ssize_t s_local_write(void *cookie, const char *p, size_t n)
{
    local_out_t *o = cookie;
    if (dmr_write_all(o->fd, p, n) != 0)
        return -1;
    o->off += n;
    if (o->off - o->queued >= WRITEBACK_BYTES) {
        /* only a hint: fsync at the end is what makes the output durable */
        (void)sync_file_range(o->fd, (off64_t)o->queued,
                              (off64_t)(o->off - o->queued),
                              SYNC_FILE_RANGE_WRITE);
        o->queued = o->off;
    }
    return (ssize_t)n;
}

static int s_local_close(void *cookie)
{
    local_out_t *o = cookie;
    int rc = close(o->fd);
    free(o);
    return rc;
}

/* Creates path (which must not exist) for writing; NULL and errno set.
 * *fd gets its descriptor, for the fsync after the last fflush. */
static FILE *s_local_create(const char *path, int *fd)
{
    *fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (*fd < 0)
        return NULL;
    local_out_t *o = dmr_calloc(1, sizeof *o);
    o->fd = *fd;
    cookie_io_functions_t io = {NULL, s_local_write, NULL, s_local_close};
    FILE *f = fopencookie(o, "w", io);
    if (!f) {
        int e = errno;
        close(*fd);
        free(o);
        errno = e;
    }
    return f;
}

static int s_run_map(task_t *t, const char *data_dir)
{
    const dmr_msg_t *s = t->spec;
    int rc = 0;
    dmr_lines_t *lines = NULL;
    char *final = NULL, *tmp = NULL;
    if (s->nitems != 1 || s->items[0].type != DMR_MSG_FILE_INFO) {
        s_set_error(t, "map task has no input split");
        return DMR_EPROTO;
    }
    const dmr_msg_t *file = &s->items[0];
    int lineno = (t->job->flags & DMR_JOB_LINENO) != 0;
    store_src_t src = {0};
    if (!strncmp(file->path, "dmr:", 4)) {
        int is_dir = 0;
        rc = s_store_connect(&src.d, src.err, sizeof src.err);
        if (rc == 0)
            rc = dmr_dfs_stat(src.d, file->path + 4, 0, 1, &src.f, &src.nf,
                              &is_dir, src.err, sizeof src.err);
        if (rc == 0 && src.nf != 1) {
            snprintf(src.err, sizeof src.err, "%s is not a file", file->path);
            rc = DMR_EINVAL;
        }
        if (rc == 0)
            rc = dmr_lines_open_source(s_store_read, &src, s->offset, s->length,
                                       lineno, &lines);
        if (rc) {
            char *msg = dmr_sprintf("cannot read input %s: %s", file->path,
                                    src.err[0] ? src.err : dmr_strerror(rc));
            s_set_error(t, msg);
            free(msg);
            s_store_src_close(&src);
            return rc;
        }
    } else {
        rc = dmr_lines_open(file->path, s->offset, s->length, lineno, &lines);
    }
    if (rc) {
        char *msg =
            dmr_sprintf("cannot open input %s: %s", file->path,
                        rc == DMR_EIO || rc == DMR_ENOENT ? strerror(errno)
                                                          : dmr_strerror(rc));
        s_set_error(t, msg);
        free(msg);
        return rc;
    }
    if (s_sums(t)) {
        t->st = dmr_sumtab_new(s_sum_part, s_sum_fail, t);
        t->pub.ops = &s_sum_ops;
    } else if (t->job->combine)
        t->ct = dmr_combtab_new(s_precombine, t);
    else
        t->sb = dmr_sortbuf_new(t->pub.nreduce, t->job->compare);
    t->sort_bytes = (size_t)s_param_mb(t, "sort_mb", 100) << 20;
    final = dmr_task_map_output(data_dir, s->job, s->task, s->attempt);
    tmp = dmr_sprintf("%s.tmp", final);
    t->spill_base = dmr_sprintf("%s.spill", final);
    t->mode = MODE_MAP;
    t->phase = "map";
    s_report_progress(t);
    dmr_record rec = {.file = dmr_str(file->name)};
    int whole = (t->job->flags & DMR_JOB_WHOLE_FILE) != 0;
    dmr_buf_t all = {0};
    if (whole && (s->offset != 0 || s->length < file->total)) {
        s_set_error(t, "this job reads whole files: submit it with "
                       "-D whole_files=1");
        rc = DMR_EINVAL;
        goto out;
    }
    for (;;) {
        int r = dmr_lines_next(lines, &rec.value, &rec.offset, &rec.lineno);
        if (whole && r > 0) {
            /* Gather the lines; map sees them once, as one record. */
            dmr_buf_append(&all, rec.value.ptr, rec.value.len);
            dmr_buf_putc(&all, '\n');
            t->ctr[C_MAP_IN_BYTES] += rec.value.len + 1;
            continue;
        }
        if (whole && r == 0) {
            whole = 0;
            rec.value = (dmr_slice){all.data ? all.data : "", all.len};
            rec.offset = 0;
            rec.lineno = 1;
            r = 1;
            t->ctr[C_MAP_IN_BYTES] -= all.len;
        }
        if (r < 0) {
            char *msg = dmr_sprintf("reading %s: %s", file->path,
                                    src.err[0] ? src.err : dmr_strerror(r));
            s_set_error(t, msg);
            free(msg);
            rc = r;
            goto out;
        }
        if (r == 0)
            break;
        t->ctr[C_MAP_IN_RECORDS]++;
        t->ctr[C_MAP_IN_BYTES] += rec.value.len + 1;
        if (s_tick(t)) {
            uint64_t at = rec.offset > s->offset ? rec.offset - s->offset : 0;
            t->ppm = s->length ? (uint32_t)(at * 1000000 / s->length) : 0;
            s_report_progress(t);
        }
        if (t->job->map(&t->pub, &rec) != 0 || t->emit_error) {
            char *msg = dmr_sprintf("map failed at %s offset %llu", file->name,
                                    (unsigned long long)rec.offset);
            s_set_error(t, msg);
            free(msg);
            rc = t->emit_error ? t->emit_error : DMR_EJOB;
            goto out;
        }
    }
    if (t->st) /* a summing map's pairs all went to the table */
        t->ctr[C_COMBINE_IN] += t->ctr[C_MAP_OUT_RECORDS];
    if ((rc = s_sync(t)) != 0)
        goto out;
    /* What is still buffered joins the spills, if there are any. */
    if (t->nspills &&
        (t->st   ? dmr_sumtab_groups(t->st)
         : t->ct ? dmr_combtab_groups(t->ct)
                 : dmr_sortbuf_count(t->sb)) &&
        (rc = s_spill(t)) != 0)
        goto out;
    rc = dmr_run_writer_open(tmp, t->pub.nreduce, s_level(t), &t->rw);
    if (rc) {
        s_set_error(t, "cannot create the map output file");
        goto out;
    }
    /* Not fsynced: a map output is only ever needed again while its worker
     * lives, and one lost with its machine is made again by re-running the
     * map. A torn file after a crash fails its CRCs when fetched, which
     * re-runs the map too. */
    dmr_run_writer_nosync(t->rw);
    t->ppm = 1000000;
    t->phase = "sort";
    s_report_progress(t);
    rc = t->nspills ? s_merge_spills(t) : s_drain(t);
    if (rc == 0)
        rc = dmr_run_writer_finish(t->rw);
    if (rc == 0 && rename(tmp, final) != 0)
        rc = DMR_EIO;
    if (rc)
        s_set_error(t, "cannot write the map output file");
out:
    dmr_buf_free(&all);
    dmr_run_writer_destroy(&t->rw);
    s_spills_remove(t);
    free(t->spill_base);
    t->spill_base = NULL;
    if (rc && tmp)
        unlink(tmp);
    dmr_lines_destroy(&lines);
    s_store_src_close(&src);
    dmr_sortbuf_destroy(&t->sb);
    dmr_combtab_destroy(&t->ct);
    dmr_sumtab_destroy(&t->st);
    free(final);
    free(tmp);
    return rc;
}

/* --------------------------------------------------------------- reduce */

/* A summing job's reduce folds each map output into one sorted run of
 * (key, count) (sumrun.h) as soon as it is fetched, while the last maps
 * still run, as a combiner run on the reduce side (Hadoop runs the
 * combiner in its reduce-side merges too): after the last map only its
 * output is left to fold, and reduce then sees each key once, with its
 * total, instead of after a k-way merge of every output. Folding is given
 * up -- the run dropped, and the fetched files merged as for any job --
 * when the run would pass reduce_mb or a file does not read back cleanly,
 * so that the merge names the bad output as it always does.
 *
 * s_fold_one folds map m's fetched output, or gives folding up. */
static void s_fold_one(task_t *t, uint32_t m)
{
    const dmr_fetch_output_t *o = dmr_fetch_output(t->fetch, m);
    dmr_run_reader_t *r = NULL;
    int rc = dmr_run_reader_open(o->path, 0, o->length, &r);
    dmr_slice key, val;
    uint64_t n;
    dmr_sumrun_begin(t->fold);
    while (rc == 0 && (rc = dmr_run_reader_next(r, &key, &val)) > 0) {
        rc = dmr_count_parse(val, &n) ? DMR_EINVAL
                                      : dmr_sumrun_add(t->fold, key, n);
        /* work: a long fold must not look hung */
        if (rc == 0 && (++t->fold_in & 1023) == 0) {
            if (dmr_sumrun_bytes(t->fold) > t->fold_budget)
                rc = DMR_ETOOBIG;
            else if (dmr_now_ms() >= t->next_report)
                s_report_progress(t);
        }
    }
    dmr_run_reader_destroy(&r);
    if (rc == 0 && dmr_sumrun_bytes(t->fold) > t->fold_budget)
        rc = DMR_ETOOBIG;
    if (rc) {
        dmr_sumrun_destroy(&t->fold);
        return;
    }
    dmr_sumrun_end(t->fold);
    t->nfolded++;
}

/* Folds the outputs completed since the last call, of the first
 * `outputs` to complete; each fold counts itself in nfolded. */
static void s_fold_ready(task_t *t, size_t outputs)
{
    while (t->fold && t->nfolded < outputs)
        s_fold_one(t, dmr_fetch_completed(t->fetch, t->nfolded));
}

/* While a reduce waits for maps to finish, the master's answers make its
 * work counter grow, so that the master's task timeout, which kills an
 * attempt whose counter stands still, spares it. */
static void s_fetch_progress(void *arg, size_t outputs, uint64_t bytes,
                             uint64_t answers)
{
    task_t *t = arg;
    size_t n = t->spec->nmap;
    t->ctr[C_SHUFFLE_BYTES] = bytes;
    t->answers = answers;
    s_fold_ready(t, outputs);
    t->ppm = n ? (uint32_t)(outputs * 333333 / n) : 333333;
    if (dmr_now_ms() >= t->next_report)
        s_report_progress(t);
}

/* "output of map M attempt A from W is unreadable: why", as the error of
 * the task, which then names that map output to the master. */
static int s_unreadable(task_t *t, long map, int why)
{
    const dmr_fetch_output_t *o = dmr_fetch_output(t->fetch, (uint32_t)map);
    char *msg = dmr_sprintf("output of map %ld attempt %u from %s is "
                            "unreadable: %s",
                            map, o->attempt, o->wid, dmr_strerror(why));
    s_set_error(t, msg);
    free(msg);
    t->bad_map = map;
    return DMR_EFETCH;
}

/* Memory a run reader holds while merging (read-ahead, one block,
 * decompressor). */
#define READER_BYTES (256u << 10)

/* An input of the reduce merge: a fetched map output (map >= 0) or a run
 * an earlier pass wrote (map -1). */
typedef struct {
    char *path;
    uint64_t length;
    long map;
} merge_in_t;

/* Opens a merge over in[0..n); on a reader that cannot be opened sets the
 * task's error. */
static int s_merge_open(task_t *t, const merge_in_t *in, size_t n,
                        dmr_merge_t **out)
{
    dmr_merge_t *m = dmr_merge_new(t->job->compare);
    for (size_t i = 0; i < n; i++) {
        dmr_run_reader_t *r;
        int rc = dmr_run_reader_open(in[i].path, 0, in[i].length, &r);
        if (rc) {
            s_set_error(t, in[i].map >= 0
                               ? "cannot open fetched map output"
                               : "cannot open an intermediate merge run");
            dmr_merge_destroy(&m);
            return rc;
        }
        dmr_merge_add(m, r);
    }
    *out = m;
    return 0;
}

/* The merge that feeds reduce. With more inputs than -D reduce_mb lets it
 * read at once (READER_BYTES each), the first ones are merged into a run
 * of their own, again and again, until few enough are left: the merge
 * holds a bounded number of readers whatever the number of maps. *maps
 * gets the map of each input of that merge (-1: an intermediate run). */
static int s_merge_passes(task_t *t, const char *dir, dmr_merge_t **out,
                          long **maps)
{
    size_t fan = (size_t)(s_param_mb(t, "reduce_mb", 100) << 20) / READER_BYTES;
    if (fan < 2)
        fan = 2;
    size_t n = t->spec->nmap, runs = 0;
    merge_in_t *in = dmr_malloc((n ? n : 1) * sizeof *in);
    for (size_t i = 0; i < n; i++) {
        const dmr_fetch_output_t *o = dmr_fetch_output(t->fetch, (uint32_t)i);
        in[i] = (merge_in_t){dmr_strdup(o->path), o->length, (long)i};
    }
    int rc = 0;
    while (n > fan && rc == 0) {
        dmr_merge_t *m = NULL;
        dmr_run_writer_t *w = NULL;
        char *path = dmr_sprintf("%s/merge-%zu.run", dir, runs++);
        t->phase = "merge";
        rc = s_merge_open(t, in, fan, &m);
        if (rc == 0)
            rc = dmr_run_writer_open(path, 1, s_level(t), &w);
        if (rc == 0)
            dmr_run_writer_nosync(w);
        dmr_slice key, v;
        dmr_values *vals;
        int r = 0;
        while (rc == 0 && (r = dmr_merge_next(m, &key, &vals)) > 0)
            while (rc == 0 && dmr_values_next(vals, &v) > 0)
                rc = dmr_run_writer_add(w, 0, key, v);
        if (rc == 0 && r < 0) {
            long bad = dmr_merge_failed_input(m);
            if (bad >= 0 && in[bad].map >= 0) {
                rc = s_unreadable(t, in[bad].map, r);
            } else {
                s_set_error(t, "an intermediate merge run is unreadable");
                rc = r;
            }
        }
        uint64_t len = 0;
        if (rc == 0 && (rc = dmr_run_writer_finish(w)) == 0)
            len = dmr_run_writer_parts(w)[0].length;
        else if (!t->error)
            s_set_error(t, "cannot write an intermediate merge run");
        dmr_run_writer_destroy(&w);
        dmr_merge_destroy(&m);
        if (rc) {
            unlink(path);
            free(path);
            break;
        }
        /* the merged inputs go, their run joins the end of the list */
        for (size_t i = 0; i < fan; i++) {
            if (in[i].map < 0)
                unlink(in[i].path);
            free(in[i].path);
        }
        memmove(in, in + fan, (n - fan) * sizeof *in);
        n -= fan;
        in[n++] = (merge_in_t){path, len, -1};
        t->ctr[C_MERGE_RUNS]++;
    }
    if (rc == 0)
        rc = s_merge_open(t, in, n, out);
    if (rc == 0) {
        *maps = dmr_malloc((n ? n : 1) * sizeof **maps);
        for (size_t i = 0; i < n; i++)
            (*maps)[i] = in[i].map;
    }
    for (size_t i = 0; i < n; i++)
        free(in[i].path);
    free(in);
    return rc;
}

/* Calls reduce on one group. */
static int s_reduce_group(task_t *t, dmr_slice key, dmr_values *vals)
{
    t->ctr[C_RED_GROUPS]++;
    counting_values_t cv = {{s_counting_next}, vals, &t->ctr[C_RED_IN_RECORDS]};
    if (t->job->reduce(&t->pub, key, &cv.base) != 0 || t->emit_error) {
        s_set_error(t, t->emit_error ? "cannot write reduce output"
                                     : "reduce returned an error");
        return t->emit_error ? t->emit_error : DMR_EJOB;
    }
    return 0;
}

/* The callback over the folded run. */
static int s_fold_group(void *arg, uint32_t part, dmr_slice key,
                        dmr_values *vals)
{
    task_t *t = arg;
    (void)part;
    int rc = s_reduce_group(t, key, vals);
    if (rc == 0 && s_tick(t)) {
        t->ppm = 333333 + (uint32_t)(t->ctr[C_RED_GROUPS] * 666667 /
                                     (t->fold_total ? t->fold_total : 1));
        s_report_progress(t);
    }
    return rc;
}

static int s_run_reduce(task_t *t, const char *dir)
{
    const dmr_msg_t *s = t->spec;
    int rc = 0;
    dmr_merge_t *merge = NULL;
    long *maps = NULL; /* the map of each input of merge */
    char *tmpdir = dmr_sprintf("%s/_temporary", s->output);
    char *tmp = dmr_sprintf("%s/part-%05u.%u", tmpdir, s->task, s->attempt);
    char err[512] = "";
    uint64_t fetched = 0;
    int store = !strncmp(s->output, "dmr:", 4);
    dmr_dfs_t *d = NULL;
    dmr_dfs_writer_t *w = NULL;
    int fd = -1; /* a local output's descriptor (t->out closes it) */

    t->phase = "fetch";
    s_report_progress(t);
    if (s_sums(t)) {
        t->fold = dmr_sumrun_new(t->job->compare);
        t->fold_budget = (size_t)s_param_mb(t, "reduce_mb", 100) << 20;
    }
    /* Where the maps not done yet will be comes from the master, which
     * the worker names in the environment (as for the store). */
    t->fetch = dmr_fetch_new(s, dir, getenv("DMR_MASTER"), getenv("DMR_WID"));
    rc = dmr_fetch_run(t->fetch, s_fetch_progress, t, err, sizeof err);
    if (rc) {
        s_set_error(t, err);
        t->bad_map = dmr_fetch_failed(t->fetch);
        goto out;
    }
    for (uint32_t i = 0; i < s->nmap; i++)
        fetched += dmr_fetch_output(t->fetch, i)->length;
    s_fold_ready(t, s->nmap);
    if (t->fold) { /* every output folded: the combiner's counters */
        t->ctr[C_COMBINE_IN] += t->fold_in;
        t->ctr[C_COMBINE_OUT] += dmr_sumrun_keys(t->fold);
    } else if ((rc = s_merge_passes(t, dir, &merge, &maps)) != 0) {
        goto out;
    }
    if (store) {
        /* A file of the store, written through a stdio cookie; the master
         * renames it into place when this attempt wins. */
        uint64_t repl = 3, chunk_mb = 64;
        const char *v = dmr_param(&t->pub, "replication");
        if (v && (dmr_parse_u64(v, &repl) != 0 || repl < 1 || repl > 64))
            repl = 3;
        v = dmr_param(&t->pub, "chunk_mb");
        if (v && (dmr_parse_u64(v, &chunk_mb) != 0 || chunk_mb < 1 ||
                  chunk_mb > 1024))
            chunk_mb = 64;
        rc = s_store_connect(&d, err, sizeof err);
        if (rc == 0)
            rc = dmr_dfs_create(d, tmp + 4, (uint32_t)repl,
                                (size_t)chunk_mb << 20, &w, err, sizeof err);
        if (rc == 0) {
            cookie_io_functions_t io = {NULL, s_cookie_write, NULL, NULL};
            t->out = fopencookie(w, "w", io);
        }
        if (!t->out) {
            char *msg = dmr_sprintf("cannot create %s: %s", tmp,
                                    rc ? err : strerror(errno));
            s_set_error(t, msg);
            free(msg);
            rc = rc ? rc : DMR_EIO;
            goto out;
        }
    } else {
        /* The master made _temporary when the job began and removes it
         * when the job ends: a late attempt must not bring it back. */
        t->out = s_local_create(tmp, &fd);
        if (!t->out) {
            char *msg =
                dmr_sprintf("cannot create %s: %s", tmp, strerror(errno));
            s_set_error(t, msg);
            free(msg);
            rc = DMR_EIO;
            goto out;
        }
    }
    setvbuf(t->out, NULL, _IOFBF, 1 << 20);
    t->mode = MODE_REDUCE;
    t->phase = "reduce";
    t->ppm = 333333;
    s_report_progress(t);
    if (t->fold) {
        t->fold_total = dmr_sumrun_keys(t->fold);
        rc = dmr_sumrun_each(t->fold, s_fold_group, t);
        if (rc)
            goto out;
    }
    for (; !t->fold;) {
        dmr_slice key;
        dmr_values *vals;
        int r = dmr_merge_next(merge, &key, &vals);
        if (r < 0) {
            long bad = dmr_merge_failed_input(merge);
            if (bad >= 0 && maps[bad] >= 0) {
                rc = s_unreadable(t, maps[bad], r);
            } else {
                char *msg = dmr_sprintf("reading shuffled map output: %s",
                                        dmr_strerror(r));
                s_set_error(t, msg);
                free(msg);
                rc = r;
            }
            goto out;
        }
        if (r == 0)
            break;
        if ((rc = s_reduce_group(t, key, vals)) != 0)
            goto out;
        if (s_tick(t)) {
            uint64_t used = dmr_merge_consumed(merge);
            t->ppm = 333333 +
                     (uint32_t)(fetched ? (used > fetched ? fetched : used) *
                                              666667 / fetched
                                        : 0);
            s_report_progress(t);
        }
    }
    if (fflush(t->out) != 0 || (!store && fsync(fd) != 0)) {
        s_set_error(t, "cannot write reduce output");
        rc = DMR_EIO;
        goto out;
    }
    if (store) {
        fclose(t->out);
        t->out = NULL;
        rc = dmr_dfs_commit(&w, err, sizeof err);
        if (rc) {
            char *msg = dmr_sprintf("cannot store %s: %s", tmp, err);
            s_set_error(t, msg);
            free(msg);
        }
    }
out:
    if (t->out)
        fclose(t->out);
    t->out = NULL;
    dmr_dfs_abort(&w);
    dmr_dfs_close(&d);
    if (rc && !store)
        unlink(tmp);
    dmr_merge_destroy(&merge);
    dmr_sumrun_destroy(&t->fold);
    free(maps);
    free(tmpdir);
    free(tmp);
    return rc;
}

/* ---------------------------------------------------------------- main */

char *dmr_task_map_output(const char *data_dir, uint64_t job, uint32_t task,
                          uint32_t attempt)
{
    return dmr_sprintf("%s/jobs/%llu/map-%u-%u.run", data_dir,
                       (unsigned long long)job, task, attempt);
}

static int s_write_result(task_t *t, int rc)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_TASK_DONE);
    m.wid = "-";
    m.job = t->spec->job;
    m.kind = t->spec->kind;
    m.task = t->spec->task;
    m.attempt = t->spec->attempt;
    m.status = rc;
    m.error = rc ? (t->error ? t->error : dmr_strerror(rc)) : NULL;
    dmr_counter_t ctr[C_COUNT];
    size_t n = 0;
    for (int i = 0; i < C_COUNT; i++)
        if (t->ctr[i])
            ctr[n++] = (dmr_counter_t){s_counter_names[i], t->ctr[i]};
    m.counters = ctr;
    m.ncounters = n;
    const dmr_fetch_output_t *o =
        rc == DMR_EFETCH && t->bad_map >= 0 && t->fetch
            ? dmr_fetch_output(t->fetch, (uint32_t)t->bad_map)
            : NULL;
    dmr_msg_t loc;
    if (o) {
        /* the map output that could not be read, so the master re-runs
         * its map */
        dmr_msg_init(&loc, DMR_MSG_MAP_LOC);
        loc.task = (uint32_t)t->bad_map;
        loc.attempt = o->attempt;
        loc.endpoint = o->endpoint;
        loc.wid = o->wid;
        m.items = &loc;
        m.nitems = 1;
    }
    return s_send_frame(&m) == 0 ? 0 : 1;
}

int dmr_task_main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: dmr task ATTEMPT_DIR JOB_OBJECT DATA_DIR "
                        "(run by the worker)\n");
        return 2;
    }
    const char *dir = argv[1], *object = argv[2], *data_dir = argv[3];
    dmr_log_set_role("task");
    dmr_buf_t raw = DMR_BUF_INIT;
    dmr_msg_t spec;
    char err[512];
    char *specpath = dmr_sprintf("%s/task.msg", dir);
    int rc = dmr_read_file(specpath, DMR_MSG_MAX, &raw);
    free(specpath);
    if (rc || dmr_msg_decode(raw.data, raw.len, &spec, err, sizeof err) != 0 ||
        spec.type != DMR_MSG_TASK) {
        fprintf(stderr, "dmr task: cannot read the task in %s\n", dir);
        dmr_buf_free(&raw);
        return 3;
    }
    dmr_buf_free(&raw);

    task_t t = {.pub = {.ops = &s_ops,
                        .task = spec.task,
                        .nreduce = spec.nreduce,
                        .kind = spec.kind,
                        .attempt = spec.attempt},
                .spec = &spec,
                .partition = dmr_key_partition,
                .bad_map = -1};
    void *dl = dlopen(object, RTLD_NOW | RTLD_LOCAL);
    const dmr_job *job = dl ? dlsym(dl, DMR_JOB_SYMBOL) : NULL;
    const char *stage_s = dmr_msg_param(&spec, "dmr.stage");
    uint64_t stage = 0;
    if (stage_s && dmr_parse_u64(stage_s, &stage) != 0)
        stage = UINT32_MAX;
    if (!job) {
        char *msg =
            dmr_sprintf("cannot load job object %s: %s", object, dlerror());
        s_set_error(&t, msg);
        free(msg);
        rc = DMR_EJOB;
    } else if (!(job = dmr_job_stage(job, (uint32_t)stage))) {
        char *msg = dmr_sprintf("job object has the wrong ABI version, lacks "
                                "map or reduce, or has no stage %s",
                                stage_s ? stage_s : "0");
        s_set_error(&t, msg);
        free(msg);
        rc = DMR_EJOB;
    }
    if (rc == 0) {
        t.job = job;
        if (job->partition)
            t.partition = job->partition;
        if (job->setup && job->setup(&t.pub) != 0) {
            s_set_error(&t, "job setup failed");
            rc = DMR_EJOB;
        } else {
            rc = spec.kind == DMR_TASK_MAP ? s_run_map(&t, data_dir)
                                           : s_run_reduce(&t, dir);
            if (job->teardown)
                job->teardown(&t.pub);
        }
    }
    int status = s_write_result(&t, rc);
    dmr_fetch_destroy(&t.fetch);
    free(t.error);
    dmr_msg_clear(&spec);
    /* dlclose is skipped on purpose: job code may have registered atexit
     * handlers or threads; the process ends here anyway. */
    (void)dl;
    return status;
}
