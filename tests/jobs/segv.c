/* segv.c -- wordcount that dies of a real SIGSEGV where a test asks it to.
 *
 * For tests of how dmr reports and retries a task whose process is killed
 * by a signal. Parameters:
 *
 *     -D segv_match=STRING   map crashes on the first record whose text
 *                            contains STRING
 *     -D segv_key=WORD       reduce crashes on the key equal to WORD
 *
 * Either, both or neither may be given (an empty value fails setup). With
 * neither the job is exactly jobs/wordcount.c: a word is a maximal run of
 * [A-Za-z], values are decimal counts, combine and reduce are the same sum.
 *
 * Before crashing it writes one line to stderr:
 *
 *     segv: crashing on record at offset N of FILE
 *     segv: crashing on key WORD
 *
 * The crash is a store through a null pointer, not raise(), so the task
 * dies the way buggy job code does. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/dmr_job.h"
#include "tests/jobs/wc.h"

/* The parameters, copied in setup; ctx->user points to them. */
typedef struct {
    char *match; /* segv_match, or NULL */
    char *key;   /* segv_key, or NULL */
} segv_t;

/* ------------------------------------------------------------ crashing */

/* Dies of SIGSEGV by writing through a null pointer. The default action is
 * restored first so that a sanitizer's SIGSEGV handler (make
 * SANITIZER=address) cannot turn the death into an ordinary exit, and the
 * sanitizers are told not to check this store. The pointer itself is
 * volatile so that the compiler cannot see that it is null and put a trap
 * instruction (SIGILL) in place of the store. */
__attribute__((no_sanitize("address", "undefined"))) static void s_crash(void)
{
    volatile int *volatile p = NULL;
    signal(SIGSEGV, SIG_DFL);
    *p = 1;
    abort(); /* not reached */
}

/* Copies -D name=VALUE into *out (NULL when absent). 0 on success; -1
 * after dmr_fail on an empty value or no memory. */
static int s_param_copy(dmr_ctx *ctx, const char *name, char **out)
{
    const char *s = dmr_param(ctx, name);
    *out = NULL;
    if (!s)
        return 0;
    if (s[0] == '\0') {
        char msg[128];
        snprintf(msg, sizeof msg, "segv: -D %s= must not be empty", name);
        dmr_fail(ctx, msg);
        return -1;
    }
    *out = strdup(s);
    if (!*out) {
        dmr_fail(ctx, "segv: out of memory");
        return -1;
    }
    return 0;
}

static int s_setup(dmr_ctx *ctx)
{
    segv_t *sv = calloc(1, sizeof *sv);
    if (!sv) {
        dmr_fail(ctx, "segv: out of memory");
        return -1;
    }
    if (s_param_copy(ctx, "segv_match", &sv->match) != 0 ||
        s_param_copy(ctx, "segv_key", &sv->key) != 0) {
        free(sv->match);
        free(sv);
        return -1;
    }
    ctx->user = sv;
    return 0;
}

static void s_teardown(dmr_ctx *ctx)
{
    segv_t *sv = ctx->user;
    if (!sv)
        return;
    free(sv->match);
    free(sv->key);
    free(sv);
    ctx->user = NULL;
}

static int s_map(dmr_ctx *ctx, const dmr_record *in)
{
    const segv_t *sv = ctx->user;
    if (sv->match && memmem(in->value.ptr, in->value.len, sv->match,
                            strlen(sv->match)) != NULL) {
        fprintf(stderr, "segv: crashing on record at offset %llu of %.*s\n",
                (unsigned long long)in->offset, (int)in->file.len,
                in->file.ptr);
        s_crash();
    }
    return wc_map(ctx, in);
}

static int s_reduce(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    const segv_t *sv = ctx->user;
    if (sv->key && strlen(sv->key) == key.len &&
        memcmp(sv->key, key.ptr, key.len) == 0) {
        fprintf(stderr, "segv: crashing on key %.*s\n", (int)key.len, key.ptr);
        s_crash();
    }
    return wc_sum(ctx, key, vals);
}

DMR_JOB_DEFINE(.name = "segv", .setup = s_setup, .teardown = s_teardown,
               .map = s_map, .combine = wc_sum, .reduce = s_reduce);
