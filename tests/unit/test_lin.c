/* test_lin.c -- the models and the linearizability checker: hand-made
 * histories for every model with the edge cases of :info and :fail, the
 * violation report, the budgets, and a comparison with a brute-force
 * checker on thousands of small random histories.
 *
 * Histories are written in dmr's JSON-lines format, one event per line, so
 * a failing case can be pasted into `dmr check --local` as it is. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "check/edn.h"
#include "check/lin.h"
#include "common/alloc.h"

#define INV(p, f, v)                                                           \
    "{\"process\":" #p ",\"type\":\"invoke\",\"f\":\"" f "\",\"value\":" v "}" \
    "\n"
#define OK(p, f, v)                                                            \
    "{\"process\":" #p ",\"type\":\"ok\",\"f\":\"" f "\",\"value\":" v "}\n"
#define FAIL(p, f, v)                                                          \
    "{\"process\":" #p ",\"type\":\"fail\",\"f\":\"" f "\",\"value\":" v "}\n"
#define INFO(p, f, v)                                                          \
    "{\"process\":" #p ",\"type\":\"info\",\"f\":\"" f "\",\"value\":" v "}\n"

/* Checks text against model (init: EDN or NULL) with budget b (or none);
 * returns the verdict, and the result in *out when out is not NULL. */
static int s_check_b(const char *model, const char *init, const char *text,
                     const dmr_lin_budget_t *b, dmr_lin_result_t *out)
{
    char err[512];
    dmr_history_t *h = NULL;
    int rc =
        dmr_history_parse("t", text, strlen(text), "json", &h, err, sizeof err);
    cr_assert_eq(rc, 0, "parse: %s", err);
    const dmr_model_t *m = dmr_model_find(model);
    cr_assert(m, "model %s", model);
    dmr_arena_t *a = dmr_arena_new();
    dmr_val_t *iv = NULL;
    if (init) {
        size_t pos = 0;
        uint32_t line = 1;
        cr_assert_eq(dmr_edn_read(a, init, strlen(init), &pos, &line, &iv, err,
                                  sizeof err),
                     0, "init: %s", err);
    }
    dmr_mctx_t *mc = dmr_mctx_new(m, iv, err, sizeof err);
    cr_assert(mc, "mctx: %s", err);
    dmr_lop_t *lops;
    size_t n;
    cr_assert_eq(dmr_model_compile(mc, h, NULL, 0, &lops, &n, err, sizeof err),
                 0, "compile: %s", err);
    dmr_lin_result_t r;
    dmr_lin_check(mc, lops, n, b, &r);
    int v = (int)r.verdict;
    if (out)
        *out = r;
    else
        dmr_lin_result_free(&r);
    free(lops);
    dmr_mctx_destroy(&mc);
    dmr_arena_destroy(&a);
    dmr_history_destroy(&h);
    return v;
}

static int s_check(const char *model, const char *init, const char *text)
{
    return s_check_b(model, init, text, NULL, NULL);
}

/* ---- register ------------------------------------------------------------ */

Test(lin, sequential_write_then_read_is_linearizable)
{
    cr_assert_eq(s_check("register", NULL,
                         INV(0, "write", "1") OK(0, "write", "1")
                             INV(0, "read", "null") OK(0, "read", "1")),
                 DMR_LIN_OK);
}

Test(lin, read_of_a_value_never_written_is_a_violation)
{
    cr_assert_eq(s_check("register", NULL,
                         INV(0, "write", "1") OK(0, "write", "1")
                             INV(0, "read", "null") OK(0, "read", "2")),
                 DMR_LIN_VIOLATION);
}

Test(lin, register_starts_nil_unless_told)
{
    const char *h = INV(0, "read", "null") OK(0, "read", "0");
    cr_assert_eq(s_check("register", NULL, h), DMR_LIN_VIOLATION);
    cr_assert_eq(s_check("register", "0", h), DMR_LIN_OK);
}

Test(lin, concurrent_read_may_see_either_value)
{
    const char *tmpl = INV(0, "write", "1")
        INV(1, "read", "null") "{\"process\":1,\"type\":\"ok\",\"f\":\"read\","
                               "\"value\":%s}\n" OK(0, "write", "1");
    char buf[512];
    snprintf(buf, sizeof buf, tmpl, "1");
    cr_assert_eq(s_check("register", "0", buf), DMR_LIN_OK);
    snprintf(buf, sizeof buf, tmpl, "0");
    cr_assert_eq(s_check("register", "0", buf), DMR_LIN_OK);
    snprintf(buf, sizeof buf, tmpl, "2");
    cr_assert_eq(s_check("register", "0", buf), DMR_LIN_VIOLATION);
}

Test(lin, new_then_old_read_during_a_write_is_a_violation)
{
    /* The write spans both reads; the first read sees it, so a later read
     * may not see the old value: sequentially consistent, not
     * linearizable. */
    const char *h =
        INV(0, "write", "1") INV(1, "read", "null") OK(1, "read", "1")
            INV(2, "read", "null") OK(2, "read", "0") OK(0, "write", "1");
    cr_assert_eq(s_check("register", "0", h), DMR_LIN_VIOLATION);
}

Test(lin, failed_write_did_not_happen)
{
    const char *h = INV(0, "write", "1") FAIL(0, "write", "1")
        INV(1, "read", "null") OK(1, "read", "1");
    cr_assert_eq(s_check("register", "0", h), DMR_LIN_VIOLATION);
}

Test(lin, info_write_may_have_happened_later)
{
    /* Crashed write, then a read that sees it: fine, even long after. */
    const char *h =
        INV(0, "write", "1") INFO(0, "write", "1") INV(1, "read", "null")
            OK(1, "read", "0") INV(1, "read", "null") OK(1, "read", "1");
    cr_assert_eq(s_check("register", "0", h), DMR_LIN_OK);
}

Test(lin, info_write_may_never_have_happened)
{
    const char *h = INV(0, "write", "1") INFO(0, "write", "1")
        INV(1, "read", "null") OK(1, "read", "0");
    cr_assert_eq(s_check("register", "0", h), DMR_LIN_OK);
}

Test(lin, info_write_cannot_take_effect_before_its_invocation)
{
    const char *h = INV(1, "read", "null") OK(1, "read", "1")
        INV(0, "write", "1") INFO(0, "write", "1");
    cr_assert_eq(s_check("register", "0", h), DMR_LIN_VIOLATION);
}

Test(lin, info_write_takes_effect_at_most_once)
{
    /* Seen, then overwritten, then seen again: it cannot have happened
     * twice. */
    const char *h = INV(0, "write", "1") INFO(0, "write", "1")
        INV(1, "read", "null") OK(1, "read", "1") INV(1, "write", "2")
            OK(1, "write", "2") INV(1, "read", "null") OK(1, "read", "1");
    cr_assert_eq(s_check("register", "0", h), DMR_LIN_VIOLATION);
}

Test(lin, invocation_without_completion_is_open)
{
    const char *h =
        INV(0, "write", "1") INV(1, "read", "null") OK(1, "read", "1");
    cr_assert_eq(s_check("register", "0", h), DMR_LIN_OK);
}

/* ---- cas-register ----------------------------------------------------------
 */

Test(lin, cas_succeeds_only_from_its_old_value)
{
    const char *ok = INV(0, "cas", "[0,1]") OK(0, "cas", "[0,1]")
        INV(0, "read", "null") OK(0, "read", "1");
    const char *bad = INV(0, "cas", "[2,1]") OK(0, "cas", "[2,1]");
    cr_assert_eq(s_check("cas-register", "0", ok), DMR_LIN_OK);
    cr_assert_eq(s_check("cas-register", "0", bad), DMR_LIN_VIOLATION);
}

Test(lin, cas_with_false_result_needs_a_different_value)
{
    /* etcd's ":fail :cas": executed, found the compare false. */
    const char *t = "{\"process\":0,\"type\":\"invoke\",\"f\":\"cas\","
                    "\"value\":[%d,1]}\n{\"process\":0,\"type\":\"ok\","
                    "\"f\":\"cas\",\"value\":[%d,1],\"result\":false}\n";
    char buf[512];
    snprintf(buf, sizeof buf, t, 5, 5);
    cr_assert_eq(s_check("cas-register", "0", buf), DMR_LIN_OK);
    snprintf(buf, sizeof buf, t, 0, 0);
    cr_assert_eq(s_check("cas-register", "0", buf), DMR_LIN_VIOLATION);
}

Test(lin, failed_cas_constrains_nothing)
{
    const char *h = INV(0, "cas", "[0,1]") FAIL(0, "cas", "[0,1]")
        INV(0, "read", "null") OK(0, "read", "0");
    cr_assert_eq(s_check("cas-register", "0", h), DMR_LIN_OK);
}

Test(lin, register_model_refuses_cas)
{
    char err[256];
    dmr_history_t *h = NULL;
    const char *t = INV(0, "cas", "[0,1]") OK(0, "cas", "[0,1]");
    cr_assert_eq(
        dmr_history_parse("t", t, strlen(t), "json", &h, err, sizeof err), 0);
    dmr_mctx_t *m =
        dmr_mctx_new(dmr_model_find("register"), NULL, err, sizeof err);
    dmr_lop_t *lops;
    size_t n;
    cr_assert_neq(dmr_model_compile(m, h, NULL, 0, &lops, &n, err, sizeof err),
                  0);
    cr_assert(strstr(err, "line 1") && strstr(err, "unknown operation :cas"),
              "%s", err);
    dmr_mctx_destroy(&m);
    dmr_history_destroy(&h);
}

Test(lin, cas_value_must_be_a_pair)
{
    char err[256];
    dmr_history_t *h = NULL;
    const char *t = INV(0, "read", "null") OK(0, "read", "0") INV(0, "cas", "3")
        OK(0, "cas", "3");
    cr_assert_eq(
        dmr_history_parse("t", t, strlen(t), "json", &h, err, sizeof err), 0);
    dmr_mctx_t *m =
        dmr_mctx_new(dmr_model_find("cas-register"), NULL, err, sizeof err);
    dmr_lop_t *lops;
    size_t n;
    cr_assert_neq(dmr_model_compile(m, h, NULL, 0, &lops, &n, err, sizeof err),
                  0);
    cr_assert(strstr(err, "line 4") && strstr(err, "[old new]"), "%s", err);
    dmr_mctx_destroy(&m);
    dmr_history_destroy(&h);
}

/* ---- kv
 * ---------------------------------------------------------------------- */

#define KV(p, t, f, k, v)                                                      \
    "{\"process\":" #p ",\"type\":\"" t "\",\"f\":\"" f "\",\"key\":\"" k      \
    "\",\"value\":" v "}\n"

Test(lin, kv_appends_concatenate_and_empty_reads_as_empty_string)
{
    const char *h = KV(0, "invoke", "get", "a", "null")
        KV(0, "ok", "get", "a", "\"\"") KV(0, "invoke", "append", "a", "\"x\"")
            KV(0, "ok", "append", "a", "\"x\"")
                KV(0, "invoke", "append", "a", "\"y\"")
                    KV(0, "ok", "append", "a", "\"y\"")
                        KV(0, "invoke", "get", "a", "null")
                            KV(0, "ok", "get", "a", "\"xy\"");
    cr_assert_eq(s_check("kv", NULL, h), DMR_LIN_OK);
}

Test(lin, kv_append_states_equal_the_same_string_however_built)
{
    /* "ab" put whole, then "c" and "de" appended: the state must be the
     * same interned string as the read value "abcde", and not "abdec". */
    const char *h =
        KV(0, "invoke", "put", "a", "\"ab\"") KV(0, "ok", "put", "a", "\"ab\"")
            KV(0, "invoke", "append", "a", "\"c\"")
                KV(0, "ok", "append", "a", "\"c\"")
                    KV(0, "invoke", "append", "a", "\"de\"")
                        KV(0, "ok", "append", "a", "\"de\"")
                            KV(0, "invoke", "get", "a", "null");
    char *good = dmr_sprintf("%s%s", h, KV(0, "ok", "get", "a", "\"abcde\""));
    char *bad = dmr_sprintf("%s%s", h, KV(0, "ok", "get", "a", "\"abdec\""));
    cr_assert_eq(s_check("kv", NULL, good), DMR_LIN_OK);
    cr_assert_eq(s_check("kv", NULL, bad), DMR_LIN_VIOLATION);
    free(good);
    free(bad);
}

Test(lin, kv_concurrent_appends_in_either_order_but_one)
{
    /* two concurrent appends, then a read: "xy" and "yx" are both fine,
     * "x" alone is not (both appends completed before the read) */
    const char *h = KV(0, "invoke", "append", "a", "\"x\"")
        KV(1, "invoke", "append", "a", "\"y\"")
            KV(0, "ok", "append", "a", "\"x\"")
                KV(1, "ok", "append", "a", "\"y\"")
                    KV(2, "invoke", "get", "a", "null");
    const char *reads[] = {"\"xy\"", "\"yx\"", "\"x\""};
    int want[] = {DMR_LIN_OK, DMR_LIN_OK, DMR_LIN_VIOLATION};
    for (int i = 0; i < 3; i++) {
        char *t = dmr_sprintf("%s{\"process\":2,\"type\":\"ok\",\"f\":"
                              "\"get\",\"key\":\"a\",\"value\":%s}\n",
                              h, reads[i]);
        cr_assert_eq(s_check("kv", NULL, t), want[i], "read %s", reads[i]);
        free(t);
    }
}

Test(lin, parts_stop_at_the_first_violation_unless_all_are_asked_for)
{
    /* key a: a stale read (violation); key b: fine */
    const char *t =
        KV(0, "invoke", "put", "a", "\"1\"") KV(0, "ok", "put", "a", "\"1\"")
            KV(0, "invoke", "get", "a", "null") KV(0, "ok", "get", "a", "\"2\"")
                KV(1, "invoke", "put", "b", "\"1\"")
                    KV(1, "ok", "put", "b", "\"1\"")
                        KV(1, "invoke", "get", "b", "null")
                            KV(1, "ok", "get", "b", "\"1\"");
    char err[256];
    dmr_history_t *h = NULL;
    cr_assert_eq(
        dmr_history_parse("t", t, strlen(t), "json", &h, err, sizeof err), 0);
    const dmr_model_t *kv = dmr_model_find("kv");
    dmr_part_t *parts;
    size_t np;
    dmr_check_split(h, kv, &parts, &np);
    cr_assert_eq(np, 2);
    for (int all = 0; all < 2; all++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        int v = dmr_check_parts(kv, NULL, h, parts, np, NULL, NULL, !all, f);
        fclose(f);
        cr_assert_eq(v, DMR_LIN_VIOLATION);
        cr_assert(strstr(buf, "\"part\":\"\\\"a\\\"\",\"verdict\":"
                              "\"violation\""),
                  "%s", buf);
        /* parts are decided in slices: b is small enough to finish in
         * the same round either way */
        cr_assert(strstr(buf, "\"part\":\"\\\"b\\\"\",\"verdict\":"
                              "\"linearizable\""),
                  "%s", buf);
        free(buf);
    }
    dmr_parts_free(parts, np);
    dmr_history_destroy(&h);
}

Test(lin, kv_splits_by_key_and_each_part_is_checked_alone)
{
    const char *t = KV(0, "invoke", "put", "a", "\"1\"")
        KV(0, "ok", "put", "a", "\"1\"") KV(1, "invoke", "put", "b", "\"2\"")
            KV(1, "ok", "put", "b", "\"2\"") KV(0, "invoke", "get", "b", "null")
                KV(0, "ok", "get", "b", "\"1\"");
    char err[256];
    dmr_history_t *h = NULL;
    cr_assert_eq(
        dmr_history_parse("t", t, strlen(t), "json", &h, err, sizeof err), 0);
    dmr_part_t *parts;
    size_t np;
    dmr_check_split(h, dmr_model_find("kv"), &parts, &np);
    cr_assert_eq(np, 2);
    cr_assert_str_eq(parts[0].key, "\"a\"");
    cr_assert_eq(parts[0].nops, 1);
    cr_assert_eq(parts[1].nops, 2);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int v0 =
        dmr_check_part(dmr_model_find("kv"), NULL, h, &parts[0], NULL, NULL, f);
    int v1 =
        dmr_check_part(dmr_model_find("kv"), NULL, h, &parts[1], NULL, NULL, f);
    fclose(f);
    cr_assert_eq(v0, DMR_LIN_OK);
    cr_assert_eq(v1, DMR_LIN_VIOLATION);
    cr_assert(strstr(buf, "\"verdict\":\"violation\""), "%s", buf);
    free(buf);
    dmr_parts_free(parts, np);
    dmr_history_destroy(&h);
}

/* ---- mutex, set, fifo, multi-register ------------------------------------ */

Test(lin, mutex_cannot_be_acquired_twice)
{
    const char *bad = INV(0, "acquire", "null") OK(0, "acquire", "null")
        INV(1, "acquire", "null") OK(1, "acquire", "null");
    const char *good = INV(0, "acquire", "null") OK(0, "acquire", "null")
        INV(1, "acquire", "null") INV(0, "release", "null")
            OK(0, "release", "null") OK(1, "acquire", "null");
    cr_assert_eq(s_check("mutex", NULL, bad), DMR_LIN_VIOLATION);
    cr_assert_eq(s_check("mutex", NULL, good), DMR_LIN_OK);
}

Test(lin, mutex_release_when_free_is_a_violation_unless_it_failed)
{
    cr_assert_eq(s_check("mutex", NULL,
                         INV(0, "release", "null") OK(0, "release", "null")),
                 DMR_LIN_VIOLATION);
    cr_assert_eq(s_check("mutex", NULL,
                         INV(0, "release", "null") FAIL(0, "release", "null")),
                 DMR_LIN_OK);
}

Test(lin, set_read_must_show_exactly_the_added_elements)
{
    const char *h = INV(0, "add", "1") OK(0, "add", "1") INV(1, "add", "2")
        INV(0, "read", "null") OK(0, "read", "[1]") OK(1, "add", "2")
            INV(0, "read", "null") OK(0, "read", "[2,1]");
    cr_assert_eq(s_check("set", NULL, h), DMR_LIN_OK);
    const char *bad = INV(0, "add", "1") OK(0, "add", "1")
        INV(0, "read", "null") OK(0, "read", "[]");
    cr_assert_eq(s_check("set", NULL, bad), DMR_LIN_VIOLATION);
}

Test(lin, fifo_dequeues_in_order)
{
    const char *good = INV(0, "enqueue", "1") OK(0, "enqueue", "1")
        INV(0, "enqueue", "2") OK(0, "enqueue", "2") INV(1, "dequeue", "null")
            OK(1, "dequeue", "1") INV(1, "dequeue", "null")
                OK(1, "dequeue", "2") INV(1, "dequeue", "null")
                    OK(1, "dequeue", "null");
    const char *bad = INV(0, "enqueue", "1") OK(0, "enqueue", "1")
        INV(0, "enqueue", "2") OK(0, "enqueue", "2") INV(1, "dequeue", "null")
            OK(1, "dequeue", "2");
    cr_assert_eq(s_check("fifo", NULL, good), DMR_LIN_OK);
    cr_assert_eq(s_check("fifo", NULL, bad), DMR_LIN_VIOLATION);
}

Test(lin, fifo_concurrent_enqueues_may_land_in_either_order)
{
    const char *h = INV(0, "enqueue", "1") INV(1, "enqueue", "2")
        OK(0, "enqueue", "1") OK(1, "enqueue", "2") INV(2, "dequeue", "null")
            OK(2, "dequeue", "2");
    cr_assert_eq(s_check("fifo", NULL, h), DMR_LIN_OK);
}

Test(lin, multi_register_transactions_are_atomic)
{
    const char *good =
        INV(0, "txn", "[[\"write\",\"x\",1],[\"write\",\"y\",1]]")
            OK(0, "txn", "[[\"write\",\"x\",1],[\"write\",\"y\",1]]")
                INV(1, "txn", "[[\"read\",\"x\",null],[\"read\",\"y\",null]]")
                    OK(1, "txn", "[[\"read\",\"x\",1],[\"read\",\"y\",1]]");
    const char *torn =
        INV(0, "txn", "[[\"write\",\"x\",1],[\"write\",\"y\",1]]")
            INV(1, "txn", "[[\"read\",\"x\",null],[\"read\",\"y\",null]]")
                OK(1, "txn", "[[\"read\",\"x\",1],[\"read\",\"y\",0]]")
                    OK(0, "txn", "[[\"write\",\"x\",1],[\"write\",\"y\",1]]");
    cr_assert_eq(s_check("multi-register", "{\"x\" 0 \"y\" 0}", good),
                 DMR_LIN_OK);
    cr_assert_eq(s_check("multi-register", "{\"x\" 0 \"y\" 0}", torn),
                 DMR_LIN_VIOLATION);
}

/* ---- the report and the budgets --------------------------------------------
 */

Test(lin, violation_names_the_blocked_op_and_the_longest_prefix)
{
    /* lines: 1-2 w1, 3-4 r1, 5-6 w2, 7-8 r1 (stale: the violation) */
    const char *h = INV(0, "write", "1") OK(0, "write", "1")
        INV(1, "read", "null") OK(1, "read", "1") INV(0, "write", "2")
            OK(0, "write", "2") INV(1, "read", "null") OK(1, "read", "1");
    dmr_lin_result_t r;
    cr_assert_eq(s_check_b("register", NULL, h, NULL, &r), DMR_LIN_VIOLATION);
    cr_assert_eq(r.blocked, 3, "blocked op %u", r.blocked);
    cr_assert_eq(r.nprefix, 3, "prefix of %zu ops", r.nprefix);
    cr_assert_eq(r.prefix[2], 2);
    cr_assert_eq(r.nwindow, 1);
    cr_assert_eq(r.window[0], 3);
    cr_assert_eq(r.nstates, 1);
    dmr_lin_result_free(&r);
}

Test(lin, memory_budget_gives_unknown_not_a_verdict)
{
    dmr_lin_budget_t b = {0, 1};
    const char *h = INV(0, "write", "1") OK(0, "write", "1");
    dmr_lin_result_t r;
    cr_assert_eq(s_check_b("register", NULL, h, &b, &r), DMR_LIN_UNKNOWN);
    cr_assert_str_eq(r.why, "memory");
    dmr_lin_result_free(&r);
}

Test(lin, empty_history_is_linearizable)
{
    cr_assert_eq(s_check("register", NULL, ""), DMR_LIN_OK);
}

/* ---- against brute force
 * ----------------------------------------------------- */

/* A tiny register history: op i runs [call, ret) in event positions, ret
 * < 0 when open (info). */
typedef struct {
    int f; /* 0 read, 1 write, 2 cas */
    int a, b, out;
    int call, ret;
    int info;
    int failed; /* cas: ok with result false */
} bop_t;

static int s_bf_ok;

/* Tries every order of the remaining ops that respects real time. */
static void s_brute(const bop_t *ops, int n, unsigned used, int state,
                    int remaining_done)
{
    if (s_bf_ok)
        return;
    if (remaining_done == 0) {
        s_bf_ok = 1;
        return;
    }
    /* the earliest return among unused completed ops */
    int minret = 1 << 30;
    for (int i = 0; i < n; i++)
        if (!(used & (1u << i)) && !ops[i].info && ops[i].ret < minret)
            minret = ops[i].ret;
    for (int i = 0; i < n; i++) {
        if (used & (1u << i) || ops[i].call > minret)
            continue;
        const bop_t *o = &ops[i];
        int ns = state, ok = 1;
        if (o->f == 0)
            ok = o->out == state;
        else if (o->f == 1)
            ns = o->a;
        else if (o->failed)
            ok = state != o->a;
        else if (state == o->a)
            ns = o->b;
        else
            ok = 0;
        if (ok)
            s_brute(ops, n, used | (1u << i), ns,
                    remaining_done - (o->info ? 0 : 1));
    }
}

Test(lin, agrees_with_brute_force_on_random_small_histories)
{
    uint64_t x = 12345;
    int nok = 0, nbad = 0;
    for (int iter = 0; iter < 6000; iter++) {
        bop_t ops[9];
        int n = 3 + (int)(iter % 7);
        /* random events: 2n slots, each op an interval */
        int pos = 0;
        int open[9] = {0}, nopen = 0, next = 0, done = 0;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        while (done < n) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            int start = next < n && (nopen == 0 || x % 2);
            if (start) {
                bop_t *o = &ops[next];
                o->f = (int)((x >> 8) % 3);
                o->a = (int)((x >> 12) % 3);
                o->b = (int)((x >> 16) % 3);
                o->out = (int)((x >> 20) % 3);
                o->info = (x >> 24) % 7 == 0 && o->f != 0;
                o->failed = o->f == 2 && !o->info && (x >> 28) % 4 == 0;
                o->call = pos;
                o->ret = -1;
                if (o->f == 0)
                    fprintf(f, INV(% d, "read", "null"), next);
                else if (o->f == 1)
                    fprintf(f, INV(% d, "write", "%d"), next, o->a);
                else
                    fprintf(f, INV(% d, "cas", "[%d,%d]"), next, o->a, o->b);
                open[nopen++] = next++;
            } else {
                int k = (int)((x >> 32) % (uint64_t)nopen);
                int i = open[k];
                open[k] = open[--nopen];
                bop_t *o = &ops[i];
                o->ret = pos;
                if (o->info)
                    fprintf(f, INFO(% d, "%s", "null"), i,
                            o->f == 1 ? "write" : "cas");
                else if (o->f == 0)
                    fprintf(f, OK(% d, "read", "%d"), i, o->out);
                else if (o->f == 1)
                    fprintf(f, OK(% d, "write", "%d"), i, o->a);
                else
                    fprintf(f,
                            "{\"process\":%d,\"type\":\"ok\",\"f\":\"cas\","
                            "\"value\":[%d,%d]%s}\n",
                            i, o->a, o->b,
                            o->failed ? ",\"result\":false" : "");
                done++;
            }
            pos++;
        }
        fclose(f);
        int ndone = 0;
        for (int i = 0; i < n; i++) {
            if (ops[i].info)
                ops[i].ret = 1 << 29;
            else
                ndone++;
        }
        s_bf_ok = 0;
        s_brute(ops, n, 0, 0, ndone);
        int v = s_check("cas-register", "0", text);
        cr_assert_eq(v, s_bf_ok ? DMR_LIN_OK : DMR_LIN_VIOLATION,
                     "history %d disagrees with brute force (%s):\n%s", iter,
                     s_bf_ok ? "linearizable" : "not", text);
        s_bf_ok ? nok++ : nbad++;
        free(text);
    }
    /* both verdicts must be well represented for the test to mean much */
    cr_assert_gt(nok, 300, "%d linearizable", nok);
    cr_assert_gt(nbad, 300, "%d not linearizable", nbad);
}
