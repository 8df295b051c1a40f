/* linelengths.c -- an example job built outside dmr's tree: counts short
 * (<= 80 bytes) and long lines. Build and run:
 *
 *   cc -std=c11 -O2 -shared -fPIC -I jobs -o linelengths.so
 * examples/linelengths.c dmr submit ./linelengths.so --input books/ --output
 * out
 */
#include <stdio.h>

#include "dmr_job.h"

static int map(dmr_ctx *ctx, const dmr_record *in)
{
    return dmr_emit(ctx,
                    in->value.len > 80 ? dmr_str("long") : dmr_str("short"),
                    dmr_str("1"));
}

static int reduce(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    unsigned long n = 0;
    dmr_slice v;
    while (dmr_next(ctx, vals, &v))
        n++;
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%lu", n);
    return dmr_emit(ctx, key, (dmr_slice){buf, (size_t)len});
}

DMR_JOB_DEFINE(.name = "linelengths", .map = map, .reduce = reduce);
