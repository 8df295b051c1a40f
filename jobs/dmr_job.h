/* dmr_job.h -- the public API for writing dmr jobs.
 *
 * A job is a shared object that defines one `dmr_job` named `dmr_job_def`
 * (use DMR_JOB_DEFINE). Workers load it with dlopen and call its functions
 * from a single thread, in a task process of their own: a crash in job code
 * fails that task attempt only.
 *
 * The object needs nothing from dmr at link time: every service (emitting a
 * pair, reading a parameter, reporting an error) is reached through the
 * context's function table, so a job is built with only this header:
 *
 *     cc -std=c11 -shared -fPIC -o myjob.so myjob.c
 *
 * Keys and values are byte strings (dmr_slice); they need not be
 * NUL-terminated and may hold any bytes. Slices passed to job code stay
 * valid until that call returns; copy what must outlive it.
 *
 * Return 0 from every callback on success. A non-zero return fails the task
 * attempt; call dmr_fail() first to say why. */
#ifndef DMR_JOB_H
#define DMR_JOB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2: dmr_job.then (multi-stage jobs). Objects built for ABI 1 still load. */
#define DMR_JOB_ABI 2

typedef struct {
    const char *ptr;
    size_t len;
} dmr_slice;

/* One input record handed to map. For text input, a line without its
 * newline; file is the input path as the user named it; offset is the byte
 * offset of the line in that file; lineno its 1-based line number when the
 * job set DMR_JOB_LINENO, else 0. */
typedef struct {
    dmr_slice value;
    dmr_slice file;
    uint64_t offset;
    uint64_t lineno;
} dmr_record;

typedef struct dmr_ctx dmr_ctx;
typedef struct dmr_values dmr_values;

/* The services dmr offers to job code. Reach them through the inline
 * functions below, not directly. */
typedef struct {
    int (*emit)(dmr_ctx *ctx, dmr_slice key, dmr_slice value);
    const char *(*param)(dmr_ctx *ctx, const char *name);
    void (*fail)(dmr_ctx *ctx, const char *msg);
    int (*next)(dmr_values *vals, dmr_slice *value);
} dmr_ctx_ops;

/* Public head of every context; the rest of the struct is private. */
struct dmr_ctx {
    const dmr_ctx_ops *ops;
    void *user;    /* free for the job's own state (see setup) */
    uint32_t task; /* index of this map or reduce task */
    uint32_t nreduce;
    uint32_t kind;    /* DMR_KIND_MAP or DMR_KIND_REDUCE */
    uint32_t attempt; /* attempt number of this task, from 1 */
};

#define DMR_KIND_MAP 0u
#define DMR_KIND_REDUCE 1u

/* Writes one key/value pair to the task's output. Returns 0, or a negative
 * error the callback should return. */
static inline int dmr_emit(dmr_ctx *ctx, dmr_slice key, dmr_slice value)
{
    return ctx->ops->emit(ctx, key, value);
}

/* The value of -D name=value given at submission, or NULL. */
static inline const char *dmr_param(dmr_ctx *ctx, const char *name)
{
    return ctx->ops->param(ctx, name);
}

/* Records why the task is failing; shown to the user by dmr submit. */
static inline void dmr_fail(dmr_ctx *ctx, const char *msg)
{
    ctx->ops->fail(ctx, msg);
}

/* Steps through the values of the current key: returns 1 and fills *value,
 * or 0 when there are no more. */
static inline int dmr_next(dmr_ctx *ctx, dmr_values *vals, dmr_slice *value)
{
    return ctx->ops->next(vals, value);
}

static inline dmr_slice dmr_str(const char *s)
{
    dmr_slice sl = {s, 0};
    while (s[sl.len])
        sl.len++;
    return sl;
}

/* Job flags. */
#define DMR_JOB_LINENO 0x1u /* map needs dmr_record.lineno */
/* map is called once per input file, with the whole file as the record's
 * value (lines joined by '\n'; offset 0, lineno 1). Submit such a job with
 * -D whole_files=1 so that each file is one split. */
#define DMR_JOB_WHOLE_FILE 0x2u
/* Reduce output lines are the key's bytes then the value's and '\n', with
 * no tab between: a job that sorts fixed records writes them unchanged. */
#define DMR_JOB_RAW_OUTPUT 0x4u
/* combine adds values that are unsigned decimal integers of up to 64 bits
 * and emits the sum in decimal, as word count's does. dmr may then combine
 * itself, keeping one binary count per key as a hand-written counter
 * would, instead of calling combine: on map output, and on the map
 * outputs a reduce fetches, so that reduce sees each key once with its
 * total. A value that is not such a number fails the task, naming the
 * key. combine must still be given: merging a map's spills uses it, and
 * so does a reduce whose keys outgrow -D reduce_mb. */
#define DMR_JOB_COMBINE_SUM 0x8u

typedef struct dmr_job_s {
    uint32_t abi;     /* DMR_JOB_ABI */
    const char *name; /* short name, shown in status */
    uint32_t flags;   /* DMR_JOB_* */

    /* Optional: once per task before the first record; may set ctx->user. */
    int (*setup)(dmr_ctx *ctx);
    /* Optional: once per task after the last record, even after failure. */
    void (*teardown)(dmr_ctx *ctx);

    /* Required: called once per input record. */
    int (*map)(dmr_ctx *ctx, const dmr_record *in);
    /* Required: called once per distinct key, keys in sorted order. */
    int (*reduce)(dmr_ctx *ctx, dmr_slice key, dmr_values *vals);
    /* Optional: reduce-shaped pre-aggregation of map output; must emit pairs
     * with the key it was given, and be safe to apply zero or more times. */
    int (*combine)(dmr_ctx *ctx, dmr_slice key, dmr_values *vals);
    /* Optional: which reduce task gets key; default hash(key) mod nreduce. */
    uint32_t (*partition)(dmr_slice key, uint32_t nreduce);
    /* Optional: key order (<0, 0, >0); default bytewise, shorter first. */
    int (*compare)(dmr_slice a, dmr_slice b);

    /* Optional (ABI 2): the next stage of a multi-stage job, itself a
     * dmr_job (map, reduce, flags, and a `then` of its own). When every
     * reduce of a stage is done, the master submits the next stage over
     * that stage's part files, without the client: its map sees each
     * output line "key<TAB>value" (or the raw line) as a record, whose
     * file is the part. Stages share the job's -D parameters; -D
     * reduces.K=N sets stage K's reduce count (stages count from 0;
     * default: -R), and a stage with DMR_JOB_WHOLE_FILE gets whole files.
     * The stages before the last write to OUT/_stage-K, removed when the
     * last stage succeeds; `dmr status` shows each stage as a job, and
     * `dmr submit` follows them all. At most 16 stages. */
    const struct dmr_job_s *then;
} dmr_job;

#define DMR_JOB_MAX_STAGES 16

/* Stage k (from 0) of the job def, or NULL when it has no such stage or
 * a stage is not a job this dmr can run (ABI, map and reduce). */
static inline const dmr_job *dmr_job_stage(const dmr_job *def, uint32_t k)
{
    for (uint32_t i = 0; def && i < DMR_JOB_MAX_STAGES; i++) {
        if (def->abi < 1 || def->abi > DMR_JOB_ABI || !def->map ||
            !def->reduce)
            return NULL;
        if (i == k)
            return def;
        def = def->abi >= 2 ? def->then : NULL;
    }
    return NULL;
}

#define DMR_JOB_SYMBOL "dmr_job_def"
#define DMR_JOB_DEFINE(...)                                                    \
    __attribute__((visibility("default")))                                     \
    const dmr_job dmr_job_def = {.abi = DMR_JOB_ABI, __VA_ARGS__}

#ifdef __cplusplus
}
#endif
#endif
