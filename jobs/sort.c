/* sort.c -- TeraSort: fixed 100-byte records into one total order across
 * the R output files.
 *
 * A record is a 10-byte key, an 89-byte payload and '\n' (what
 * bin/dmr-gensort writes, the shape of gensort's). map emits (key,
 * payload); a range partitioner sends keys below the first cut point to
 * reduce 0, between the first and second to reduce 1, and so on, so that
 * part-00000 < part-00001 < ... and each part is sorted by the shuffle;
 * reduce writes each record back unchanged (DMR_JOB_RAW_OUTPUT).
 *
 *     dmr sort --input IN --output OUT -R N        (samples, then submits)
 *     dmr submit sort --input IN --output OUT -R N -D cuts=HEX,HEX,...
 *
 * -D cuts: the R-1 cut points, each a key in hex (20 digits), in order;
 * dmr sort samples the input to choose them, as TeraSort's client does.
 * Without cuts the keys are assumed uniform over printable ASCII (what
 * dmr-gensort writes) and cut evenly. A record of another length fails the
 * task with its offset.
 *
 * The partition function has no context; the cut points live in a static
 * set by setup, which is safe because each task runs in a process of its
 * own. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/dmr_job.h"

#define KEY 10
#define PAYLOAD 89
#define MAX_CUTS 65536

static unsigned char s_cuts[MAX_CUTS][KEY];
static uint32_t s_ncuts;

static int s_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses "HEX,HEX,..." into s_cuts; 0, or -1 if malformed or unsorted. */
static int s_parse_cuts(const char *p)
{
    s_ncuts = 0;
    while (*p) {
        if (s_ncuts == MAX_CUTS)
            return -1;
        for (int i = 0; i < KEY; i++) {
            int hi = s_hex(p[2 * i]), lo = hi < 0 ? -1 : s_hex(p[2 * i + 1]);
            if (lo < 0)
                return -1;
            s_cuts[s_ncuts][i] = (unsigned char)(hi << 4 | lo);
        }
        p += 2 * KEY;
        if (s_ncuts && memcmp(s_cuts[s_ncuts - 1], s_cuts[s_ncuts], KEY) > 0)
            return -1;
        s_ncuts++;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return 0;
}

/* Even cuts of the printable keys: cut i at the key whose first two bytes
 * are the i/R point of ' '..'~' squared. */
static void s_even_cuts(uint32_t r)
{
    s_ncuts = r - 1 < MAX_CUTS ? r - 1 : MAX_CUTS;
    for (uint32_t i = 0; i < s_ncuts; i++) {
        uint32_t at = (uint32_t)((uint64_t)(i + 1) * 95 * 95 / r);
        memset(s_cuts[i], ' ', KEY);
        s_cuts[i][0] = (unsigned char)(' ' + at / 95);
        s_cuts[i][1] = (unsigned char)(' ' + at % 95);
    }
}

static int s_setup(dmr_ctx *ctx)
{
    const char *cuts = dmr_param(ctx, "cuts");
    if (ctx->kind != DMR_KIND_MAP)
        return 0;
    if (!cuts) {
        s_even_cuts(ctx->nreduce);
        return 0;
    }
    if (s_parse_cuts(cuts) != 0 || s_ncuts + 1 != ctx->nreduce) {
        dmr_fail(ctx, "sort: -D cuts must be R-1 sorted keys of 20 hex "
                      "digits, separated by commas");
        return -1;
    }
    return 0;
}

static uint32_t s_partition(dmr_slice key, uint32_t nreduce)
{
    /* the first cut above key, by binary search */
    uint32_t lo = 0, hi = s_ncuts;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        size_t n = key.len < KEY ? key.len : KEY;
        int c = memcmp(key.ptr, s_cuts[mid], n);
        if (c > 0 || (c == 0 && key.len >= KEY))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < nreduce ? lo : nreduce - 1;
}

static int s_map(dmr_ctx *ctx, const dmr_record *in)
{
    if (in->value.len != KEY + PAYLOAD) {
        dmr_fail(ctx, "sort: a record is not 100 bytes (10-byte key, 89-byte "
                      "payload, newline)");
        return -1;
    }
    return dmr_emit(ctx, (dmr_slice){in->value.ptr, KEY},
                    (dmr_slice){in->value.ptr + KEY, PAYLOAD});
}

static int s_reduce(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    dmr_slice v;
    while (dmr_next(ctx, vals, &v))
        if (dmr_emit(ctx, key, v) != 0)
            return -1;
    return 0;
}

DMR_JOB_DEFINE(.name = "sort", .flags = DMR_JOB_RAW_OUTPUT, .setup = s_setup,
               .map = s_map, .reduce = s_reduce, .partition = s_partition);
