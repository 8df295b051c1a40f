/* test_elle.c -- transaction histories and Elle's analysis: a hand-made
 * history for every anomaly class and every edge kind, serial histories
 * that report nothing, the model lattice's verdicts, the workloads'
 * preconditions and errors, and Elle's own example histories in
 * ../shared/data/histories/elle (skipped when absent).
 *
 * A history here is a sequence of EDN op maps, one per transaction,
 * written as T(process, type, micro-ops): a completion with nothing open
 * is a transaction that happened at that point. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check/elle.h"
#include "check/txn.h"
#include "common/alloc.h"

#define T(p, type, v)                                                          \
    "{:process " #p ", :type :" type ", :f :txn, :value " v "}\n"
#define OKT(p, v) T(p, "ok", v)

typedef struct {
    dmr_txn_hist_t *h;
    dmr_elle_result_t *r;
    char json[16384];
} run_t;

static void s_opts(dmr_elle_opts_t *o, const char *models, int rt, int proc)
{
    memset(o, 0, sizeof *o);
    char *copy = dmr_strdup(models), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        size_t bit;
        cr_assert_eq(dmr_elle_model_find(t, &bit), 0, "model %s", t);
        o->models |= (uint64_t)1 << bit;
    }
    free(copy);
    o->realtime = rt;
    o->process = proc;
}

/* Parses text as workload w and checks it under models. */
static void s_run(run_t *x, dmr_txn_workload_t w, const char *text,
                  const char *models, int rt, int proc)
{
    char err[512];
    dmr_elle_opts_t o;
    s_opts(&o, models, rt, proc);
    memset(x, 0, sizeof *x);
    int rc = dmr_txn_hist_parse("t.edn", text, strlen(text), NULL, w, &x->h,
                                err, sizeof err);
    cr_assert_eq(rc, 0, "parse: %s", err);
    rc = dmr_elle_check(x->h, &o, &x->r, err, sizeof err);
    cr_assert_eq(rc, 0, "check: %s", err);
    FILE *f = fmemopen(x->json, sizeof x->json - 1, "w");
    dmr_elle_print_json(x->r, f);
    fclose(f);
}

static void s_free(run_t *x)
{
    dmr_elle_result_destroy(&x->r);
    dmr_txn_hist_destroy(&x->h);
}

static size_t s_count(const run_t *x, const char *anomaly)
{
    size_t bit;
    cr_assert_eq(dmr_elle_anomaly_find(anomaly, &bit), 0, "%s", anomaly);
    return dmr_elle_count(x->r, bit);
}

/* The anomaly types found, space-separated, in the lattice's order. */
static const char *s_types(const run_t *x, char *buf, size_t len)
{
    buf[0] = 0;
    uint64_t f = dmr_elle_found(x->r);
    for (size_t i = 0; dmr_elle_anomaly_name(i); i++)
        if (f >> i & 1) {
            if (buf[0])
                strncat(buf, " ", len - strlen(buf) - 1);
            strncat(buf, dmr_elle_anomaly_name(i), len - strlen(buf) - 1);
        }
    return buf;
}

/* Asserts that exactly the anomaly types in want were found. */
static void s_expect(dmr_txn_workload_t w, const char *text,
                     const char *models, int rt, int proc, const char *want)
{
    run_t x;
    char got[512];
    s_run(&x, w, text, models, rt, proc);
    cr_expect_str_eq(s_types(&x, got, sizeof got), want, "json: %s", x.json);
    cr_expect_eq(dmr_elle_valid(&*x.r), want[0] == 0);
    s_free(&x);
}

#define LA DMR_TXN_LIST_APPEND
#define RW DMR_TXN_RW_REGISTER
#define ALL "strict-serializable"

/* ------------------------------------------------------------ list-append */

Test(elle, serial_list_append_history_has_no_anomaly)
{
    s_expect(LA,
             T(1, "invoke", "[[:append :x 1] [:r :y nil]]")
                 T(1, "ok", "[[:append :x 1] [:r :y nil]]")
                     T(2, "invoke", "[[:r :x nil] [:append :x 2]]")
                         T(2, "ok", "[[:r :x [1]] [:append :x 2]]")
                             T(1, "invoke", "[[:r :x nil] [:append :y 1]]")
                                 T(1, "ok", "[[:r :x [1 2]] [:append :y 1]]")
                                     T(3, "invoke", "[[:r :y nil]]")
                                         T(3, "ok", "[[:r :y [1]]]"),
             ALL, 1, 1, "");
}

Test(elle, g0_is_a_cycle_of_write_write_edges)
{
    s_expect(LA,
             OKT(1, "[[:append :x 1] [:append :y 1]]")
                 OKT(2, "[[:append :x 2] [:append :y 2]]")
                     OKT(3, "[[:r :x [1 2]] [:r :y [2 1]]]"),
             "read-uncommitted", 0, 0, "G0");
}

Test(elle, g1a_is_a_read_of_a_failed_append)
{
    s_expect(LA,
             T(1, "invoke", "[[:append :x 1]]") T(1, "fail", "[[:append :x 1]]")
                 OKT(2, "[[:r :x [1]]]"),
             "read-committed", 0, 0, "G1a");
}

Test(elle, g1b_is_a_read_of_an_intermediate_append)
{
    s_expect(LA, OKT(1, "[[:append :x 1] [:append :x 2]]") OKT(2, "[[:r :x [1]]]"),
             "read-committed", 0, 0, "G1b");
}

Test(elle, g1c_is_a_cycle_of_write_read_edges)
{
    s_expect(LA,
             OKT(1, "[[:append :x 1] [:r :y [1]]]")
                 OKT(2, "[[:append :y 1] [:r :x [1]]]"),
             "read-committed", 0, 0, "G1c");
}

Test(elle, g_single_is_a_cycle_with_one_anti_dependency)
{
    run_t x;
    s_run(&x, LA,
          OKT(1, "[[:append :x 1]]") OKT(2, "[[:r :x [1]] [:append :y 1]]")
              OKT(3, "[[:r :y [1]] [:r :x []]]"),
          "serializable", 0, 0);
    cr_expect_eq(s_count(&x, "G-single"), 1, "%s", x.json);
    cr_expect(strstr(x.json, "\"not\":[\"consistent-view\"]"), "%s", x.json);
    cr_expect(strstr(x.json, "T3 did not observe T1's append of 1 to key x"),
              "%s", x.json);
    cr_expect(strstr(x.json, "T2 read key x after T1 appended 1 to it"), "%s",
              x.json);
    s_free(&x);
}

Test(elle, g_nonadjacent_has_rw_edges_that_do_not_touch)
{
    s_expect(LA,
             OKT(1, "[[:r :x []] [:r :w [1]]]")
                 OKT(2, "[[:append :x 1] [:append :y 1]]")
                     OKT(3, "[[:r :y [1]] [:r :z []]]")
                         OKT(4, "[[:append :z 1] [:append :w 1]]"),
             "snapshot-isolation", 0, 0, "G-nonadjacent");
}

Test(elle, write_skew_is_g2_item_and_breaks_repeatable_read_only)
{
    run_t x;
    s_run(&x, LA,
          OKT(1, "[[:r :x []] [:append :y 1]]")
              OKT(2, "[[:r :y []] [:append :x 1]]"),
          "snapshot-isolation,repeatable-read", 0, 0);
    char got[256];
    cr_expect_str_eq(s_types(&x, got, sizeof got), "G2-item");
    cr_expect(strstr(x.json, "\"not\":[\"repeatable-read\"]"), "%s", x.json);
    cr_expect(strstr(x.json, "\"also_not\":[\"serializable\","
                             "\"strict-serializable\","
                             "\"strong-session-serializable\"]"),
              "%s", x.json);
    s_free(&x);
    /* snapshot isolation allows it */
    s_expect(LA,
             OKT(1, "[[:r :x []] [:append :y 1]]")
                 OKT(2, "[[:r :y []] [:append :x 1]]"),
             "snapshot-isolation", 0, 0, "");
}

Test(elle, internal_reads_disagree_with_the_transaction_itself)
{
    s_expect(LA, OKT(1, "[[:append :x 1] [:r :x []]]"), "serializable", 0, 0,
             "internal");
    s_expect(LA,
             OKT(2, "[[:append :y 5]]") OKT(1, "[[:r :y [5]] [:r :y [5 6]]]"),
             "serializable", 0, 0, "internal");
    s_expect(LA,
             OKT(2, "[[:append :y 5]]")
                 OKT(1, "[[:r :y [5]] [:append :y 6] [:r :y [5 6]]]"),
             "serializable", 0, 0, "");
}

Test(elle, duplicate_elements_in_a_read)
{
    s_expect(LA, OKT(1, "[[:append :x 1]]") OKT(2, "[[:r :x [1 1]]]"),
             "read-uncommitted", 0, 0, "duplicate-elements");
}

Test(elle, incompatible_order_is_two_reads_no_list_explains)
{
    s_expect(LA,
             OKT(1, "[[:append :x 1]]") OKT(2, "[[:append :x 2]]")
                 OKT(3, "[[:r :x [1 2]]]") OKT(4, "[[:r :x [2]]]"),
             "read-committed", 0, 0, "incompatible-order");
}

Test(elle, lost_update_is_two_writers_of_one_version)
{
    run_t x;
    s_run(&x, LA,
          OKT(1, "[[:r :x []] [:append :x 1]]")
              OKT(2, "[[:r :x []] [:append :x 2]]") OKT(3, "[[:r :x [1 2]]]"),
          "repeatable-read", 0, 0);
    cr_expect_eq(s_count(&x, "lost-update"), 1, "%s", x.json);
    cr_expect_eq(dmr_elle_valid(x.r), 0);
    s_free(&x);
}

Test(elle, future_read_sees_its_own_later_append)
{
    s_expect(LA, OKT(1, "[[:r :x [1]] [:append :x 1]]"), "read-atomic", 0, 0,
             "future-read");
}

Test(elle, dirty_update_builds_on_a_failed_append)
{
    s_expect(LA,
             T(1, "invoke", "[[:append :x 1]]") T(1, "fail", "[[:append :x 1]]")
                 OKT(2, "[[:append :x 2]]") OKT(3, "[[:r :x [1 2]]]"),
             "read-committed", 0, 0, "G1a dirty-update");
}

Test(elle, stale_read_is_g_single_realtime_only_with_real_time)
{
    const char *h = T(1, "invoke", "[[:append :x 1]]")
        T(1, "ok", "[[:append :x 1]]") T(2, "invoke", "[[:r :x nil]]")
            T(2, "ok", "[[:r :x []]]");
    s_expect(LA, h, "serializable", 0, 0, "");
    s_expect(LA, h, "strict-serializable", 0, 0, "G-single-realtime");
    s_expect(LA, h, "serializable", 1, 0, "");
}

Test(elle, a_process_that_misses_its_own_write_is_g_single_process)
{
    const char *h = T(1, "invoke", "[[:append :x 1]]")
        T(2, "invoke", "[[:append :y 1]]") T(1, "ok", "[[:append :x 1]]")
            T(1, "invoke", "[[:r :x nil]]") T(2, "ok", "[[:append :y 1]]")
                T(1, "ok", "[[:r :x []]]");
    s_expect(LA, h, "strong-session-serializable", 0, 0, "G-single-process");
}

Test(elle, concurrent_transactions_get_no_real_time_edge)
{
    /* T2 begins before T1 completes: not reading x is allowed */
    const char *h = T(1, "invoke", "[[:append :x 1]]")
        T(2, "invoke", "[[:r :x nil]]") T(1, "ok", "[[:append :x 1]]")
            T(2, "ok", "[[:r :x []]]");
    s_expect(LA, h, "strict-serializable", 1, 1, "");
}

Test(elle, info_transactions_write_but_do_not_read)
{
    s_expect(LA,
             T(1, "invoke", "[[:append :x 1] [:r :y nil]]")
                 T(1, "info", "[[:append :x 1] [:r :y nil]]")
                     OKT(2, "[[:r :x [1]]]"),
             ALL, 0, 0, "");
}

/* ------------------------------------------------------------ rw-register */

Test(elle, serial_register_history_has_no_anomaly)
{
    s_expect(RW,
             OKT(1, "[[:w :x 1]]") OKT(2, "[[:r :x 1] [:w :x 2]]")
                 OKT(3, "[[:r :x 2] [:w :y 1]]") OKT(1, "[[:r :y 1]]"),
             ALL, 0, 0, "");
}

Test(elle, register_g1a_g1b_and_internal)
{
    s_expect(RW,
             T(1, "invoke", "[[:w :x 1]]") T(1, "fail", "[[:w :x 1]]")
                 OKT(2, "[[:r :x 1]]"),
             "read-committed", 0, 0, "G1a");
    s_expect(RW, OKT(1, "[[:w :x 1] [:w :x 2]]") OKT(2, "[[:r :x 1]]"),
             "read-committed", 0, 0, "G1b");
    s_expect(RW, OKT(1, "[[:w :x 1] [:r :x nil]]"), "serializable", 0, 0,
             "internal");
}

Test(elle, register_g_single_through_the_initial_version)
{
    s_expect(RW,
             OKT(1, "[[:w :x 1]]") OKT(2, "[[:r :x 1] [:w :y 1]]")
                 OKT(3, "[[:r :y 1] [:r :x nil]]"),
             "serializable", 0, 0, "G-single");
}

Test(elle, register_lost_update_and_cyclic_versions)
{
    s_expect(RW,
             OKT(1, "[[:r :x nil] [:w :x 1]]") OKT(2, "[[:r :x nil] [:w :x 2]]"),
             "repeatable-read", 0, 0, "G2-item lost-update");
    run_t x;
    s_run(&x, RW,
          OKT(1, "[[:r :x 1] [:w :x 2]]")
              OKT(2, "[[:r :x 2] [:w :x 1]]"),
          "read-uncommitted", 0, 0);
    cr_expect_eq(s_count(&x, "cyclic-versions"), 1, "%s", x.json);
    s_free(&x);
}

/* -------------------------------------------------- formats and errors */

static void s_expect_error(dmr_txn_workload_t w, const char *text,
                           const char *want)
{
    char err[512];
    dmr_txn_hist_t *h = NULL;
    dmr_elle_result_t *r = NULL;
    int rc = dmr_txn_hist_parse("t.edn", text, strlen(text), NULL, w, &h, err,
                                sizeof err);
    if (rc == 0) {
        dmr_elle_opts_t o;
        s_opts(&o, ALL, 0, 0);
        rc = dmr_elle_check(h, &o, &r, err, sizeof err);
    }
    cr_expect_neq(rc, 0, "no error for %s", text);
    if (rc)
        cr_expect(strstr(err, want), "error '%s' lacks '%s'", err, want);
    dmr_elle_result_destroy(&r);
    dmr_txn_hist_destroy(&h);
}

Test(elle, preconditions_and_bad_input_name_file_and_line)
{
    s_expect_error(LA, OKT(1, "[[:append :x 1]]") OKT(2, "[[:append :x 1]]"),
                   "t.edn:2: appends 1 to key x again (first on line 1)");
    s_expect_error(LA, OKT(1, "[[:inc :x 1]]"),
                   "t.edn:1: unknown micro-op :inc: list-append has :append "
                   "and :r");
    s_expect_error(RW, OKT(1, "[[:append :x 1]]"),
                   "t.edn:1: unknown micro-op :append: rw-register has :w");
    s_expect_error(LA, "\n" OKT(1, "[[:r :x 3]]"),
                   "t.edn:2: expected the list read");
    s_expect_error(LA, OKT(1, "[[:r :x]]"), "t.edn:1: expected a micro-op");
    s_expect_error(LA, OKT(1, "[[:append :x 1]") , "t.edn:1:");
    s_expect_error(LA, T(1, "invoke", "[]") T(1, "invoke", "[]"),
                   "t.edn:2: process 1 invokes a transaction while the one "
                   "it invoked on line 1 is open");
    s_expect_error(LA, "{\"process\":1,\"type\":\"ok\",\"f\":\"txn\","
                       "\"value\":[[\"append\",\"x\"]]}\n",
                   "t.edn:1: expected a micro-op");
}

Test(elle, json_lines_histories_read_the_same)
{
    run_t x;
    s_run(&x, LA,
          "{\"process\":1,\"type\":\"ok\",\"f\":\"txn\",\"value\":"
          "[[\"r\",\"x\",[]],[\"append\",\"y\",1]]}\n"
          "# a comment\n"
          "{\"process\":2,\"type\":\"ok\",\"f\":\"txn\",\"value\":"
          "[[\"r\",\"y\",[]],[\"append\",\"x\",1]]}\n",
          "repeatable-read", 0, 0);
    cr_expect_str_eq(x.h->format, "json");
    cr_expect_eq(s_count(&x, "G2-item"), 1, "%s", x.json);
    s_free(&x);
}

Test(elle, nemesis_and_other_functions_are_skipped)
{
    s_expect(LA,
             "{:process :nemesis, :type :info, :f :start, :value nil}\n"
             "{:process 1, :type :ok, :f :read, :value 3}\n" OKT(
                 1, "[[:append :x 1]]"),
             ALL, 0, 0, "");
}

Test(elle, unknown_model_and_anomaly_names_are_refused)
{
    size_t bit;
    cr_expect_neq(dmr_elle_model_find("serialisable", &bit), 0);
    cr_expect_eq(dmr_elle_model_find("PL-2.99", &bit), 0);
    cr_expect_str_eq(dmr_elle_model_name(bit), "repeatable-read");
    cr_expect_neq(dmr_elle_anomaly_find("G3", &bit), 0);
}

/* ------------------------------------------------- Elle's own histories */

static const char *s_elle(const char *name, char *buf, size_t len)
{
    struct stat st;
    snprintf(buf, len, "../shared/data/histories/elle/%s", name);
    if (stat(buf, &st) != 0)
        cr_skip_test("%s is absent", buf);
    return buf;
}

static void s_load_run(run_t *x, const char *path, const char *models, int rt)
{
    char err[512];
    dmr_elle_opts_t o;
    s_opts(&o, models, rt, 0);
    memset(x, 0, sizeof *x);
    cr_assert_eq(dmr_txn_hist_load(path, NULL, LA, &x->h, err, sizeof err), 0,
                 "%s", err);
    cr_assert_eq(dmr_elle_check(x->h, &o, &x->r, err, sizeof err), 0, "%s",
                 err);
    FILE *f = fmemopen(x->json, sizeof x->json - 1, "w");
    dmr_elle_print_json(x->r, f);
    fclose(f);
}

Test(elle, elle_si_without_g_single_is_g2_item_and_nothing_stronger)
{
    char p[256], got[256];
    run_t x;
    s_load_run(&x, s_elle("si-without-g-single.edn", p, sizeof p),
               "snapshot-isolation,repeatable-read", 0);
    cr_expect_str_eq(s_types(&x, got, sizeof got), "G2-item", "%s", x.json);
    cr_expect(strstr(x.json, "\"not\":[\"repeatable-read\"]"), "%s", x.json);
    s_free(&x);
}

Test(elle, elle_paper_example_is_g_single)
{
    char p[256], got[256];
    run_t x;
    s_load_run(&x, s_elle("paper-example.edn", p, sizeof p), "serializable",
               0);
    cr_expect_str_eq(s_types(&x, got, sizeof got), "G-single", "%s", x.json);
    s_free(&x);
}

Test(elle, elle_huge_scc_is_serializable_but_not_strict_serializable)
{
    char p[256];
    run_t x;
    s_load_run(&x, s_elle("huge-scc.edn", p, sizeof p), "serializable", 0);
    cr_expect(dmr_elle_valid(x.r), "%s", x.json);
    s_free(&x);
    s_load_run(&x, s_elle("huge-scc.edn", p, sizeof p), "strict-serializable",
               0);
    cr_expect(!dmr_elle_valid(x.r));
    /* every anomaly is one of real time: no data cycle */
    uint64_t f = dmr_elle_found(x.r);
    for (size_t i = 0; dmr_elle_anomaly_name(i); i++)
        if (f >> i & 1)
            cr_expect(strstr(dmr_elle_anomaly_name(i), "-realtime"), "%s",
                      dmr_elle_anomaly_name(i));
    cr_expect(strstr(x.json, "\"not\":[\"strong-snapshot-isolation\"]"),
              "%.300s", x.json);
    s_free(&x);
}
