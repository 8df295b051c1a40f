/* wordcount.c -- the classic: how many times does each word occur?
 *
 * A word is a maximal run of ASCII letters [A-Za-z]; case is kept, so "The"
 * and "the" are different words; every other byte separates words. map
 * emits (word, "1") per occurrence; combine and reduce sum the decimal
 * counts of a word and emit (word, total) in decimal. Because combine and
 * reduce are the same sum, combining zero or more times gives the same
 * result, and DMR_JOB_COMBINE_SUM lets dmr count map output natively.
 *
 *     dmr submit wordcount INPUT... -o OUT
 *
 * Built with only jobs/dmr_job.h and libc; no state, no setup. */
#include <stdint.h>

#include "jobs/dmr_job.h"

/* 1 for the bytes that make up words. Indexed by unsigned char. */
#define L1(c) [c] = 1, [c + 32] = 1
static const unsigned char s_letter[256] = {
    L1('A'), L1('B'), L1('C'), L1('D'), L1('E'), L1('F'), L1('G'),
    L1('H'), L1('I'), L1('J'), L1('K'), L1('L'), L1('M'), L1('N'),
    L1('O'), L1('P'), L1('Q'), L1('R'), L1('S'), L1('T'), L1('U'),
    L1('V'), L1('W'), L1('X'), L1('Y'), L1('Z'),
};
#undef L1

static int s_map(dmr_ctx *ctx, const dmr_record *in)
{
    static const dmr_slice one = {"1", 1};
    const unsigned char *p = (const unsigned char *)in->value.ptr;
    const unsigned char *end = p + in->value.len;
    while (p < end) {
        while (p < end && !s_letter[*p])
            p++;
        if (p == end)
            break;
        const unsigned char *w = p;
        while (p < end && s_letter[*p])
            p++;
        dmr_slice word = {(const char *)w, (size_t)(p - w)};
        int rc = dmr_emit(ctx, word, one);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Parses a whole decimal count; 0 on success, -1 on junk or overflow. */
static int s_parse_count(dmr_slice v, uint64_t *out)
{
    if (v.len == 0)
        return -1;
    uint64_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        unsigned d = (unsigned char)v.ptr[i] - (unsigned)'0';
        if (d > 9 || n > (UINT64_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

/* Sums the counts of key and emits (key, sum). Serves combine and reduce. */
static int s_sum(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    uint64_t total = 0;
    dmr_slice v;
    while (dmr_next(ctx, vals, &v)) {
        uint64_t n;
        if (s_parse_count(v, &n) != 0 || total > UINT64_MAX - n) {
            dmr_fail(ctx, "wordcount: a count is not a decimal number "
                          "(or the sum overflows 64 bits)");
            return -1;
        }
        total += n;
    }
    char digits[20];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + total % 10);
        total /= 10;
    } while (total > 0);
    dmr_slice out = {digits + i, sizeof digits - i};
    return dmr_emit(ctx, key, out);
}

/* topwords.c includes this file for its first stage, with
 * WORDCOUNT_STAGE_ONLY defined. */
#ifndef WORDCOUNT_STAGE_ONLY
DMR_JOB_DEFINE(.name = "wordcount", .flags = DMR_JOB_COMBINE_SUM, .map = s_map,
               .combine = s_sum, .reduce = s_sum);
#endif
