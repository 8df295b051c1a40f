/* test_session.c -- session guarantees (check/session.h) and staleness
 * (check/stale.h) on hand-made histories: one exhibiting each guarantee's
 * violation, histories keeping all four, key/value and list-append and
 * rw-register, a cycle that needs more than two steps, values too
 * ambiguous to judge, staleness figures computed by hand, and malformed
 * input.
 *
 * Key/value histories are dmr JSON-lines written with the macros below:
 * I(p, f, value) an invocation, O(...) its ok completion; transaction
 * histories are EDN op maps, one per line. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/session.h"
#include "check/stale.h"
#include "common/alloc.h"

#define EV(p, type, f, v)                                                      \
    "{\"process\":" #p ",\"type\":\"" type "\",\"f\":\"" f                     \
    "\",\"key\":\"x\",\"value\":" v "}\n"
#define I(p, f, v) EV(p, "invoke", f, v)
#define O(p, f, v) EV(p, "ok", f, v)
/* An operation that is invoked and completes at once. */
#define OP(p, f, vi, vo) I(p, f, vi) O(p, f, vo)
#define W(p, v) OP(p, "write", v, v)
#define R(p, v) OP(p, "read", "null", v)

#define T(p, v) "{:process " #p ", :type :invoke, :f :txn, :value " v "}\n"
#define TOK(p, v) "{:process " #p ", :type :ok, :f :txn, :value " v "}\n"
#define TXN(p, vi, vo) T(p, vi) TOK(p, vo)

typedef struct {
    int rc;
    char out[16384];
    char err[512];
} run_t;

static void s_run(run_t *x, const char *name, const char *text, int json)
{
    memset(x, 0, sizeof *x);
    FILE *f = fmemopen(x->out, sizeof x->out - 1, "w");
    x->rc = dmr_session_report_buf(name, text, strlen(text), NULL, json, 0, f,
                                   x->err, sizeof x->err);
    fclose(f);
}

/* The first line of the report. */
static const char *s_head(const run_t *x, char *buf, size_t len)
{
    size_t n = strcspn(x->out, "\n");
    snprintf(buf, len, "%.*s", (int)n, x->out);
    return buf;
}

#define EXPECT(x, want_rc, want_head)                                          \
    do {                                                                       \
        char hb_[512];                                                         \
        cr_assert_eq((x)->rc, want_rc, "rc %d, want %d; err: %s; out:\n%s",    \
                     (x)->rc, want_rc, (x)->err, (x)->out);                    \
        cr_assert_str_eq(s_head(x, hb_, sizeof hb_), want_head, "out:\n%s",    \
                         (x)->out);                                            \
    } while (0)

#define CONTAINS(x, s)                                                         \
    cr_assert(strstr((x)->out, s), "no \"%s\" in:\n%s", s, (x)->out)

/* ---- key/value ---------------------------------------------------------- */

Test(session, kv_reading_a_b_a_breaks_monotonic_reads)
{
    run_t x;
    s_run(&x, "t.json",
          W(1, "\"a\"") W(2, "\"b\"") R(3, "\"a\"") R(3, "\"b\"") R(3, "\"a\""),
          0);
    EXPECT(&x, 1, "t.json: NOT monotonic-reads");
    CONTAINS(&x, "process 3, key \"x\": read \"a\" at line 6, then read "
                 "\"b\" at line 8, then read \"a\" at line 10: no order of the "
                 "key's versions allows this: monotonic-reads");
}

Test(session, kv_reading_nil_after_own_write_breaks_read_your_writes)
{
    run_t x;
    s_run(&x, "t.json", R(1, "null") W(1, "1") R(1, "null"), 0);
    EXPECT(&x, 1, "t.json: NOT read-your-writes");
    CONTAINS(&x, "process 1 wrote key \"x\" = 1 at line 4, then read nil at "
                 "line 6, a version older than that write: read-your-writes");
}

Test(session, kv_two_writes_read_back_crosswise_is_a_longer_cycle)
{
    /* Wrote a and b, then read a (so b < a), then b (so a < b). */
    run_t x;
    s_run(&x, "t.json", W(1, "\"a\"") W(1, "\"b\"") R(1, "\"a\"") R(1, "\"b\""),
          0);
    EXPECT(&x, 1, "t.json: NOT read-your-writes");
    CONTAINS(&x, "no order of the key's versions allows this: "
                 "read-your-writes");
}

Test(session, kv_write_before_the_version_it_followed_breaks_wfr)
{
    /* 2 was made by a cas from 1; process 3 read 2, then wrote 1. */
    run_t x;
    s_run(&x, "t.json", OP(2, "cas", "[1, 2]", "[1, 2]") R(3, "2") W(3, "1"),
          0);
    EXPECT(&x, 1, "t.json: NOT writes-follow-reads");
    CONTAINS(&x, "process 3 read key \"x\" = 2 at line 4, then wrote 1 at "
                 "line 6, but that write precedes the version it read");
}

Test(session, kv_writes_against_a_cas_chain_break_monotonic_writes)
{
    /* Process 1's cas made 1 from 2, but it wrote 2 only afterwards. */
    run_t x;
    s_run(&x, "t.json", OP(1, "cas", "[2, 1]", "[2, 1]") W(1, "2"), 0);
    EXPECT(&x, 1, "t.json: NOT monotonic-writes");
    CONTAINS(&x, "but the key's version order puts the second first: "
                 "monotonic-writes");
}

Test(session, kv_a_serial_history_keeps_all_four)
{
    run_t x;
    s_run(&x, "t.json",
          R(1, "null") W(1, "1") R(1, "1") OP(2, "cas", "[1, 2]", "[1, 2]")
              R(1, "2") R(2, "2") W(2, "3") R(1, "3") R(2, "3"),
          0);
    EXPECT(&x, 0, "t.json: session guarantees hold");
    CONTAINS(&x, "kv history: 2 processes, 1 keys, 7 reads, 3 writes");
}

Test(session, kv_values_written_twice_are_not_judged)
{
    /* a, b, a again -- but a was written twice, so the second a may be a
     * newer version. */
    run_t x;
    s_run(&x, "t.json",
          W(1, "\"a\"") W(2, "\"b\"") R(3, "\"a\"") R(3, "\"b\"") W(1, "\"a\"")
              R(3, "\"a\""),
          0);
    EXPECT(&x, 0, "t.json: session guarantees hold");
}

Test(session, kv_string_appends_are_taken_apart)
{
    /* Porcupine's kv: process 1 appended "y" after "x", then read "x". */
    run_t x;
    s_run(&x, "t.json",
          OP(1, "append", "\"x\"", "\"x\"") OP(1, "append", "\"y\"", "\"y\"")
              R(2, "\"xy\"") R(1, "\"x\""),
          0);
    EXPECT(&x, 1, "t.json: NOT read-your-writes");
    CONTAINS(&x, "process 1 appended \"y\" to key \"x\" at line 4, then "
                 "read \"x\" at line 8");
    s_run(&x, "t.json",
          OP(1, "append", "\"x\"", "\"x\"") OP(1, "append", "\"y\"", "\"y\"")
              R(1, "\"xy\"") OP(2, "put", "\"p\"", "\"p\"") R(1, "\"p\""),
          0);
    EXPECT(&x, 0, "t.json: session guarantees hold");
}

Test(session, kv_json_names_lines_and_types)
{
    run_t x;
    s_run(&x, "t.json",
          W(1, "\"a\"") W(2, "\"b\"") R(3, "\"a\"") R(3, "\"b\"") R(3, "\"a\""),
          1);
    cr_assert_eq(x.rc, 1, "%s", x.err);
    CONTAINS(&x, "{\"file\":\"t.json\",\"history\":\"kv\",\"valid\":false,"
                 "\"anomaly_types\":[\"monotonic-reads\"]");
    CONTAINS(&x, "\"ops\":[{\"line\":8,\"inv_line\":7,\"index\":-1,"
                 "\"process\":3,\"f\":\"read\",\"role\":\"read\","
                 "\"value\":\"\\\"b\\\"\"},{\"line\":10");
    CONTAINS(&x, "\"counts\":{\"monotonic-reads\":1}");
    cr_assert_eq(x.out[strlen(x.out) - 1], '\n');
}

/* ---- transactions ---------------------------------------------------------
 */

Test(session, list_append_shorter_read_breaks_monotonic_reads)
{
    run_t x;
    s_run(&x, "t.edn",
          TXN(1, "[[:append 5 1] [:append 5 2] [:append 5 3]]",
              "[[:append 5 1] [:append 5 2] [:append 5 3]]")
              TXN(3, "[[:r 5 nil]]", "[[:r 5 [1 2 3]]]")
                  TXN(3, "[[:r 5 nil]]", "[[:r 5 [1 2]]]"),
          0);
    EXPECT(&x, 1, "t.edn: NOT monotonic-reads");
    CONTAINS(&x, "process 3 read key 5 = [1 2 3] at line 4, then [1 2] at "
                 "line 6, an older version: monotonic-reads");
}

Test(session, list_append_read_without_own_append_breaks_ryw)
{
    run_t x;
    s_run(&x, "t.edn",
          TXN(1, "[[:append 5 1]]", "[[:append 5 1]]")
              TXN(2, "[[:append 5 2]]", "[[:append 5 2]]")
                  TXN(2, "[[:r 5 nil]]", "[[:r 5 [1]]]")
                      TXN(3, "[[:r 5 nil]]", "[[:r 5 [1 2]]]"),
          0);
    EXPECT(&x, 1, "t.edn: NOT read-your-writes");
    CONTAINS(&x, "process 2 appended 2 to key 5 at line 4, then read [1] at "
                 "line 6, which does not include that append");
}

Test(session, list_append_appends_out_of_order_break_monotonic_writes)
{
    run_t x;
    s_run(&x, "t.edn",
          TXN(1, "[[:append 5 1]]", "[[:append 5 1]]")
              TXN(1, "[[:append 5 2]]", "[[:append 5 2]]")
                  TXN(2, "[[:r 5 nil]]", "[[:r 5 [2 1]]]"),
          0);
    EXPECT(&x, 1, "t.edn: NOT monotonic-writes");
    /* The later append seen, the earlier one never: also certain. */
    s_run(&x, "t.edn",
          TXN(1, "[[:append 5 1]]", "[[:append 5 1]]")
              TXN(1, "[[:append 5 2]]", "[[:append 5 2]]")
                  TXN(2, "[[:r 5 nil]]", "[[:r 5 [2]]]"),
          0);
    EXPECT(&x, 1, "t.edn: NOT monotonic-writes");
    CONTAINS(&x, "but reads of the key show the second and never the first");
}

Test(session, list_append_history_keeping_all_four)
{
    run_t x;
    s_run(&x, "t.edn",
          TXN(1, "[[:append 5 1] [:r 6 nil]]", "[[:append 5 1] [:r 6 []]]")
              TXN(2, "[[:r 5 nil] [:append 6 1]]", "[[:r 5 [1]] [:append 6 1]]")
                  TXN(1, "[[:r 5 nil] [:r 6 nil]]", "[[:r 5 [1]] [:r 6 [1]]]")
                      TXN(1, "[[:append 5 2]]", "[[:append 5 2]]")
                          TXN(2, "[[:r 5 nil]]", "[[:r 5 [1 2]]]"),
          0);
    EXPECT(&x, 0, "t.edn: session guarantees hold");
    CONTAINS(&x, "list-append history: 2 processes, 2 keys");
}

Test(session, rw_register_write_before_what_it_read_breaks_wfr)
{
    /* 2 follows 1 (process 2 read 1, then wrote 2); process 3 read 2 and
     * then wrote 1. */
    run_t x;
    s_run(&x, "t.edn",
          TXN(2, "[[:r :x nil] [:w :x 2]]", "[[:r :x 1] [:w :x 2]]")
              TXN(3, "[[:r :x nil]]", "[[:r :x 2]]")
                  TXN(3, "[[:w :x 1]]", "[[:w :x 1]]"),
          0);
    EXPECT(&x, 1, "t.edn: NOT writes-follow-reads");
    CONTAINS(&x, "process 3 read key x = 2 at line 4, then wrote 1 at line "
                 "6, but that write precedes the version it read");
    s_run(&x, "t.edn",
          TXN(1, "[[:w :x 1]]", "[[:w :x 1]]")
              TXN(2, "[[:r :x nil] [:w :x 2]]", "[[:r :x 1] [:w :x 2]]")
                  TXN(1, "[[:r :x nil]]", "[[:r :x 2]]"),
          0);
    EXPECT(&x, 0, "t.edn: session guarantees hold");
}

/* ---- errors ----------------------------------------------------------------
 */

Test(session, malformed_input_names_file_and_line)
{
    run_t x;
    s_run(&x, "t.json", W(1, "1") "{\"process\":1,\n", 0);
    cr_assert_eq(x.rc, 2);
    cr_assert(!strncmp(x.err, "t.json:3: ", 10), "err: %s", x.err);
    cr_assert_str_eq(x.out, "");
    s_run(&x, "t.json", W(1, "1") OP(1, "cas", "3", "3"), 0);
    cr_assert_eq(x.rc, 2);
    cr_assert_str_eq(x.err, "t.json:3: cas needs [old new], found 3");
    s_run(&x, "t.json", OP(1, "append", "3", "3"), 0);
    cr_assert_eq(x.rc, 2);
    cr_assert_str_eq(x.err, "t.json:1: append needs a string, found 3");
    s_run(&x, "t.edn", T(1, "[[:frob 1 2]]"), 0);
    cr_assert_eq(x.rc, 2);
    cr_assert(!strncmp(x.err, "t.edn:1: ", 9), "err: %s", x.err);
    s_run(&x, "t.edn", "\x01\xff[[[{", 0);
    cr_assert_eq(x.rc, 2, "err: %s", x.err);
}

Test(session, empty_history_holds)
{
    run_t x;
    s_run(&x, "e.json", "", 0);
    EXPECT(&x, 0, "e.json: session guarantees hold");
}

Test(session, report_reads_files)
{
    char path[] = "/tmp/dmr-session-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    const char *text = R(1, "null") W(1, "1") R(1, "null");
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char out[4096] = {0}, err[256] = {0};
    FILE *f = fmemopen(out, sizeof out - 1, "w");
    int rc = dmr_session_report(path, NULL, 0, 1, f, err, sizeof err);
    fclose(f);
    unlink(path);
    cr_assert_eq(rc, 1, "%s", err);
    cr_assert(strstr(out, ": NOT read-your-writes\n"), "%s", out);
    rc = dmr_session_report(path, NULL, 0, 1, stdout, err, sizeof err);
    cr_assert_eq(rc, 2);
    cr_assert(strstr(err, ": cannot read: "), "%s", err);
}

/* ---- staleness -------------------------------------------------------------
 */

#define TEV(p, type, f, v, t)                                                  \
    "{\"process\":" #p ",\"type\":\"" type "\",\"f\":\"" f "\",\"value\":" v   \
    ",\"time\":" #t "}\n"

static void s_stale(const char *text, dmr_stale_result_t *r)
{
    char err[256];
    dmr_history_t *h = NULL;
    cr_assert_eq(dmr_history_parse("s.json", text, strlen(text), NULL, &h, err,
                                   sizeof err),
                 0, "%s", err);
    cr_assert_eq(dmr_stale_compute(h, r, err, sizeof err), 0, "%s", err);
    dmr_history_destroy(&h);
}

Test(stale, figures_of_a_hand_computed_history)
{
    /* Writes 1, 2, 3 complete at 10, 30, 50. A read of 1 invoked at 60 is
     * two versions behind; 2 completed 30 before it. A read of 3: fresh.
     * A read of nil at 100: three behind, 1 completed at 10 (90 ago). A
     * read of 4, whose write is still open: fresh. */
    dmr_stale_result_t r;
    s_stale(
        TEV(1, "invoke", "write", "1", 0) TEV(1, "ok", "write", "1", 10) TEV(
            1, "invoke", "write", "2", 20) TEV(1, "ok", "write", "2", 30)
            TEV(1, "invoke", "write", "3", 40) TEV(1, "ok", "write", "3", 50)
                TEV(2, "invoke", "read", "null", 60)
                    TEV(2, "ok", "read", "1", 70) TEV(2, "invoke", "read",
                                                      "null", 80)
                        TEV(2, "ok", "read", "3", 90)
                            TEV(2, "invoke", "read", "null", 100)
                                TEV(2, "ok", "read", "null", 110)
                                    TEV(3, "invoke", "write", "4", 120)
                                        TEV(2, "invoke", "read", "null", 125)
                                            TEV(2, "ok", "read", "4", 130)
                                                TEV(3, "ok", "write", "4", 140),
        &r);
    cr_assert_eq(r.reads, 4);
    cr_assert_eq(r.unknown, 0);
    cr_assert_eq(r.fresh, 2);
    cr_assert_eq(r.t_events, 0);
    cr_assert_eq(r.k_max, 3);
    cr_assert_eq(r.k_p50, 0);
    cr_assert_eq(r.k_p99, 3);
    cr_assert_eq(r.t_max, 90, "t_max %llu", (unsigned long long)r.t_max);
    cr_assert_eq(r.t_p50, 0);
    cr_assert_eq(r.t_p99, 90);
    cr_assert_eq(r.nk, 4);
    size_t want[] = {2, 0, 1, 1};
    for (size_t b = 0; b < 4; b++) {
        cr_assert_eq(r.k[b].count, want[b], "bucket %zu: %zu", b, r.k[b].count);
        cr_assert_eq(r.k[b].lo, b);
    }
    /* t: 0 (twice), 30 in 16-31, 90 in 64-127. */
    cr_assert_eq(r.nt, 8);
    cr_assert_eq(r.t[5].lo, 16);
    cr_assert_eq(r.t[5].hi, 31);
    cr_assert_eq(r.t[5].count, 1);
    cr_assert_eq(r.t[7].count, 1);
}

Test(stale, without_time_counts_events_and_credits_repeated_values)
{
    /* 1 is written twice: the read of 1 is credited with the second
     * write, so it is fresh; the read of 2 is one behind, and the write
     * after 2 completed 2 events before the read began. */
    dmr_stale_result_t r;
    s_stale(W(1, "1") W(1, "2") W(1, "1") R(2, "1") R(2, "2") R(2, "7"), &r);
    cr_assert_eq(r.t_events, 1);
    cr_assert_eq(r.reads, 2);
    cr_assert_eq(r.unknown, 1); /* 7 was never written */
    cr_assert_eq(r.fresh, 1);
    cr_assert_eq(r.k_max, 1);
    cr_assert_eq(r.t_max, 3, "t_max %llu", (unsigned long long)r.t_max);
}

Test(stale, bucket_edges)
{
    dmr_stale_result_t r;
    /* Nine writes, then a read of nil: nine behind, in 8-15. */
    s_stale(W(1, "1") W(1, "2") W(1, "3") W(1, "4") W(1, "5") W(1, "6")
                W(1, "7") W(1, "8") W(1, "9") R(2, "null"),
            &r);
    cr_assert_eq(r.k_max, 9);
    cr_assert_eq(r.nk, 6);
    cr_assert_eq(r.k[4].lo, 4);
    cr_assert_eq(r.k[4].hi, 7);
    cr_assert_eq(r.k[5].lo, 8);
    cr_assert_eq(r.k[5].hi, 15);
    cr_assert_eq(r.k[5].count, 1);
}

Test(stale, report_text_and_json)
{
    char path[] = "/tmp/dmr-stale-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    const char *text = W(1, "1") W(1, "2") R(2, "1") R(2, "2");
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    char out[4096] = {0}, err[256] = {0};
    FILE *f = fmemopen(out, sizeof out - 1, "w");
    int rc = dmr_stale_report(path, NULL, 0, f, err, sizeof err);
    rc |= dmr_stale_report(path, NULL, 1, f, err, sizeof err);
    fclose(f);
    unlink(path);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(strstr(out, ": staleness of 2 reads\n  fresh: 1 (50.0%)\n"), "%s",
              out);
    cr_assert(
        strstr(out,
               "              0 |######################################## 1\n"),
        "%s", out);
    cr_assert(strstr(out, "\"reads\":2,\"unknown\":0,\"fresh\":1,"
                          "\"fresh_pct\":50.00,\"t_unit\":\"events\","
                          "\"k\":{\"max\":1,\"p50\":0,\"p99\":1,\"p999\":1}"),
              "%s", out);
    cr_assert(strstr(out, "\"k_hist\":[{\"lo\":0,\"hi\":0,\"count\":1},"
                          "{\"lo\":1,\"hi\":1,\"count\":1}]"),
              "%s", out);
}

Test(stale, malformed_input_names_file_and_line)
{
    char err[256];
    dmr_history_t *h = NULL;
    dmr_stale_result_t r;
    const char *text = W(1, "1") OP(1, "append", "5", "5");
    cr_assert_eq(dmr_history_parse("s.json", text, strlen(text), NULL, &h, err,
                                   sizeof err),
                 0, "%s", err);
    cr_assert_lt(dmr_stale_compute(h, &r, err, sizeof err), 0);
    cr_assert_str_eq(err, "s.json:3: append needs a string, found 5");
    dmr_history_destroy(&h);
    cr_assert_eq(dmr_stale_report("/nonexistent/h.json", NULL, 0, stdout, err,
                                  sizeof err),
                 2);
    cr_assert(strstr(err, "cannot read"), "%s", err);
}
