/* wc.h -- what the test jobs share: wordcount's map and sum, a strict
 * reader of whole-number -D parameters, and a sleep.
 *
 * The fault-injection jobs in this directory must give exactly the output
 * of jobs/wordcount.c, so that one reference serves every test: a word is
 * a maximal run of [A-Za-z], map emits (word, "1"), and combine and reduce
 * are the same sum of decimal counts. jobs/wordcount.c keeps its own copy:
 * a bundled job is one file built with only dmr_job.h.
 *
 * Header-only, static functions: include it in exactly one job file. */
#ifndef DMR_TESTJOBS_WC_H
#define DMR_TESTJOBS_WC_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "jobs/dmr_job.h"

/* Reads -D name=N, a whole decimal number from 0 to max, or def when the
 * parameter is absent. 0 on success; -1 after dmr_fail (the message starts
 * with the job's name) otherwise. */
static inline int tj_param_uint(dmr_ctx *ctx, const char *job, const char *name,
                                unsigned def, unsigned max, unsigned *out)
{
    const char *s = dmr_param(ctx, name);
    if (!s) {
        *out = def;
        return 0;
    }
    size_t len = strlen(s);
    int ok = len > 0 && len <= 9; /* 9 digits cannot overflow */
    unsigned long n = 0;
    for (size_t i = 0; ok && i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            ok = 0;
        else
            n = n * 10 + (unsigned long)(s[i] - '0');
    }
    if (!ok || n > max) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "%s: -D %s=%s is not a whole number from 0 to %u", job, name,
                 s, max);
        dmr_fail(ctx, msg);
        return -1;
    }
    *out = (unsigned)n;
    return 0;
}

static inline void tj_sleep_ms(unsigned ms)
{
    struct timespec left = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

/* 1 for the bytes that make up words. Indexed by unsigned char. */
#define L1(c) [c] = 1, [c + 32] = 1
static const unsigned char wc_letter[256] = {
    L1('A'), L1('B'), L1('C'), L1('D'), L1('E'), L1('F'), L1('G'),
    L1('H'), L1('I'), L1('J'), L1('K'), L1('L'), L1('M'), L1('N'),
    L1('O'), L1('P'), L1('Q'), L1('R'), L1('S'), L1('T'), L1('U'),
    L1('V'), L1('W'), L1('X'), L1('Y'), L1('Z'),
};
#undef L1

/* Emits (word, "1") for every word of the record. */
static int wc_map(dmr_ctx *ctx, const dmr_record *in)
{
    static const dmr_slice one = {"1", 1};
    const unsigned char *p = (const unsigned char *)in->value.ptr;
    const unsigned char *end = p + in->value.len;
    while (p < end) {
        while (p < end && !wc_letter[*p])
            p++;
        if (p == end)
            break;
        const unsigned char *w = p;
        while (p < end && wc_letter[*p])
            p++;
        dmr_slice word = {(const char *)w, (size_t)(p - w)};
        int rc = dmr_emit(ctx, word, one);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Parses a whole decimal count; 0 on success, -1 on junk or overflow. */
static int wc_parse_count(dmr_slice v, uint64_t *out)
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
static int wc_sum(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    uint64_t total = 0;
    dmr_slice v;
    while (dmr_next(ctx, vals, &v)) {
        uint64_t n;
        if (wc_parse_count(v, &n) != 0 || total > UINT64_MAX - n) {
            dmr_fail(ctx, "a count is not a decimal number "
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

#endif
