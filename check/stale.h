/* stale.h -- how stale the reads of a key/value or register history are,
 * after Bailis et al., "Probabilistically Bounded Staleness for Practical
 * Partial Quorums" (VLDB 2012): k-staleness in versions, t-staleness in
 * time.
 *
 * For each ok read (f read or get; a cas's read is not counted), let C be
 * the ok writes of its key (write, put, append, a cas that took effect)
 * that COMPLETED before the read was INVOKED, in order of completion --
 * for this measure writes are ordered by completion, whatever order the
 * store gave them. The read returned the version of some write w (or the
 * initial value, which precedes all of C):
 *
 *   k  the writes of C that completed after w did (all of C for the
 *      initial value); 0 when w is not in C (it was concurrent with the
 *      read, or is an info write): the read is fresh.
 *   t  for k > 0, how long before the read's invocation the first of
 *      those newer writes completed: in the history's :time unit (ns in
 *      Jepsen) when every event has a :time, else in events (positions in
 *      the file); 0 for a fresh read.
 *
 * Which write a read returned comes from session.h: the write of the
 * value it returned, or for keys with string appends the append its
 * string ends with. When a value was written more than once, the read is
 * credited with the write that makes it least stale, so figures are lower
 * bounds. Reads of a value nobody wrote, or that no write could have
 * produced before the read completed, are "unknown" and not measured.
 *
 * Histograms: k in buckets 0, 1, 2, 3, 4-7, 8-15, ..., t in buckets 0,
 * 1, 2-3, 4-7, ...; up to the bucket of the maximum. Percentiles are by
 * nearest rank.
 *
 * Single-threaded. */
#ifndef DMR_CHECK_STALE_H
#define DMR_CHECK_STALE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "check/history.h"

#define DMR_STALE_BUCKETS 66

typedef struct {
    uint64_t lo, hi; /* inclusive */
    size_t count;
} dmr_stale_bucket_t;

typedef struct {
    size_t reads;   /* ok reads measured */
    size_t unknown; /* ok reads whose version is not known */
    size_t fresh;   /* measured reads with k = 0 */
    uint64_t k_max, k_p50, k_p99, k_p999;
    uint64_t t_max, t_p50, t_p99, t_p999;
    int t_events;  /* 1: t is in events, the history has no :time */
    size_t nk, nt; /* buckets used in k[] and t[] */
    dmr_stale_bucket_t k[DMR_STALE_BUCKETS];
    dmr_stale_bucket_t t[DMR_STALE_BUCKETS];
} dmr_stale_result_t;

/* Measures h into *out (which needs no freeing). Returns 0, or a
 * negative error with "FILE:LINE: why" in err for an op session.h cannot
 * read (a cas without [old new], an append of a non-string). */
int dmr_stale_compute(const dmr_history_t *h, dmr_stale_result_t *out,
                      char *err, size_t errlen);

/* Reads the history at path ("-": standard input) in format (NULL:
 * detect), measures it and writes to out, as text (json 0): a first line
 * "PATH: staleness of N reads", the fresh count and share, max and
 * p50/p99/p99.9 of k and t, and a histogram of k drawn with bars; or
 * (json 1) one JSON object and a newline:
 *   {"file","reads","unknown","fresh","fresh_pct","t_unit":"time"|"events",
 *    "k":{"max","p50","p99","p999"},"t":{...},
 *    "k_hist":[{"lo","hi","count"}..],"t_hist":[..]}
 * Returns 0, or 2 with "FILE:LINE: what" in err and nothing written. */
int dmr_stale_report(const char *path, const char *format, int json, FILE *out,
                     char *err, size_t errlen);
/* Writes r as one self-contained HTML page titled name: the figures and
 * the k and t histograms as SVG bar charts. */
void dmr_stale_print_html(const char *name, const dmr_stale_result_t *r,
                          FILE *out);

#endif
