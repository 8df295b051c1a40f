/* topwords.c -- the words of the input, most frequent first: a job of two
 * stages, the example of multi-stage jobs (jobs/dmr_job.h).
 *
 *   stage 1  word count (wordcount.c's map, combine and reduce): lines
 *            "word<TAB>count" in OUT/_stage-0/part-*;
 *   stage 2  rank: map reads those lines and emits the key
 *            (2^64-1 - count as 20 digits, then the word), so that the
 *            sort of the shuffle orders by count descending, then by word
 *            bytewise; reduce writes "count<TAB>word". A range partition
 *            on the count's bit length gives the largest counts to the
 *            first reduces (s_rank_partition), so part-00000, part-00001, ... read in turn
 *            are the whole ranking.
 *
 *     dmr submit topwords INPUT... -o OUT [-R N] [-D reduces.1=M]
 *     head OUT/part-00000
 *
 * Stage 2's reduce count is -R unless -D reduces.1 says otherwise; the
 * master starts it when the last reduce of stage 1 is done, and removes
 * OUT/_stage-0 when stage 2 succeeds. */
#define WORDCOUNT_STAGE_ONLY
#include "jobs/wordcount.c"

#define INV_DIGITS 20 /* UINT64_MAX has 20 decimal digits */

/* "word<TAB>count" -> key (inverted count, word), value empty. */
static int s_rank_map(dmr_ctx *ctx, const dmr_record *in)
{
    const char *p = in->value.ptr;
    size_t n = in->value.len, tab = n;
    while (tab > 0 && p[tab - 1] != '\t')
        tab--;
    uint64_t count;
    dmr_slice num = {p + tab, n - tab};
    if (tab == 0 || s_parse_count(num, &count) != 0) {
        dmr_fail(ctx, "topwords: a stage 1 line is not word<TAB>count");
        return -1;
    }
    char key[INV_DIGITS + 4096];
    size_t wlen = tab - 1;
    if (wlen > sizeof key - INV_DIGITS)
        wlen = sizeof key - INV_DIGITS;
    uint64_t inv = UINT64_MAX - count;
    for (int i = INV_DIGITS - 1; i >= 0; i--, inv /= 10)
        key[i] = (char)('0' + inv % 10);
    for (size_t i = 0; i < wlen; i++)
        key[INV_DIGITS + i] = p[i];
    dmr_slice k = {key, INV_DIGITS + wlen}, empty = {"", 0};
    return dmr_emit(ctx, k, empty);
}

/* The count of a rank key. */
static uint64_t s_key_count(dmr_slice key)
{
    uint64_t inv = 0;
    for (size_t i = 0; i < INV_DIGITS && i < key.len; i++)
        inv = inv * 10 + (uint64_t)(key.ptr[i] - '0');
    return UINT64_MAX - inv;
}

/* A count of b bits goes to reduce nreduce - b (0 from nreduce bits
 * on): part-00000 holds the counts of 2^(nreduce-1) and more, the last
 * part the words seen once. Word frequencies fall off as a power law, so
 * this is even enough for a ranking; a sampled range partition, as
 * TeraSort's, would be more even. */
static uint32_t s_rank_partition(dmr_slice key, uint32_t nreduce)
{
    uint64_t c = s_key_count(key);
    uint32_t bits = 0;
    while (c) {
        bits++;
        c >>= 1;
    }
    return bits >= nreduce ? 0 : nreduce - bits;
}

static int s_rank_reduce(dmr_ctx *ctx, dmr_slice key, dmr_values *vals)
{
    (void)vals;
    uint64_t c = s_key_count(key);
    char digits[20];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + c % 10);
        c /= 10;
    } while (c > 0);
    dmr_slice count = {digits + i, sizeof digits - i};
    dmr_slice word = {key.ptr + INV_DIGITS, key.len - INV_DIGITS};
    return dmr_emit(ctx, count, word);
}

static const dmr_job s_rank = {.abi = DMR_JOB_ABI,
                               .name = "topwords-rank",
                               .map = s_rank_map,
                               .reduce = s_rank_reduce,
                               .partition = s_rank_partition};

DMR_JOB_DEFINE(.name = "topwords", .flags = DMR_JOB_COMBINE_SUM,
               .map = s_map, .combine = s_sum, .reduce = s_sum,
               .then = &s_rank);
