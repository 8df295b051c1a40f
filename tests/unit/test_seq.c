/* test_seq.c -- the sequential consistency checker: histories that are
 * sequentially consistent but not linearizable, the classic patterns that
 * are not (opposite write orders seen by two readers, store buffering
 * across kv keys), cas registers, info and failed operations, the
 * witness, the budgets, malformed input, and a comparison with a
 * brute-force search over every order on many small random histories.
 *
 * Histories are written in dmr's JSON-lines format, one event per line
 * (line N of a history is its N-th event), as in test_lin.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/edn.h"
#include "check/lin.h"
#include "check/seq.h"
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
/* kv events */
#define KINV(p, f, k, v)                                                       \
    "{\"process\":" #p ",\"type\":\"invoke\",\"f\":\"" f "\",\"key\":\"" k     \
    "\",\"value\":" v "}\n"
#define KOK(p, f, k, v)                                                        \
    "{\"process\":" #p ",\"type\":\"ok\",\"f\":\"" f "\",\"key\":\"" k         \
    "\",\"value\":" v "}\n"

/* A parsed, compiled history and the context it was compiled in. */
typedef struct {
    dmr_history_t *h;
    dmr_arena_t *a;
    dmr_mctx_t *m;
    dmr_lop_t *ops;
    size_t n;
    uint32_t *proc, *reg;
    size_t nreg;
} fix_t;

static void s_load(fix_t *f, const char *model, const char *init,
                   const char *text)
{
    char err[512];
    memset(f, 0, sizeof *f);
    cr_assert_eq(dmr_history_parse("t", text, strlen(text), "json", &f->h, err,
                                   sizeof err),
                 0, "parse: %s", err);
    const dmr_model_t *md = dmr_model_find(model);
    cr_assert(md, "model %s", model);
    f->a = dmr_arena_new();
    dmr_val_t *iv = NULL;
    if (init) {
        size_t pos = 0;
        uint32_t line = 1;
        cr_assert_eq(dmr_edn_read(f->a, init, strlen(init), &pos, &line, &iv,
                                  err, sizeof err),
                     0, "init: %s", err);
    }
    f->m = dmr_mctx_new(md, iv, err, sizeof err);
    cr_assert(f->m, "mctx: %s", err);
    cr_assert_eq(dmr_seq_compile(f->m, f->h, &f->ops, &f->n, &f->proc, &f->reg,
                                 &f->nreg, err, sizeof err),
                 0, "compile: %s", err);
}

static void s_unload(fix_t *f)
{
    free(f->ops);
    free(f->proc);
    free(f->reg);
    dmr_mctx_destroy(&f->m);
    dmr_arena_destroy(&f->a);
    dmr_history_destroy(&f->h);
}

/* The verdict for text, with the result in *out when out is not NULL
 * (then the caller frees it with dmr_seq_result_free). */
static int s_seq_b(const char *model, const char *init, const char *text,
                   const dmr_seq_budget_t *b, dmr_seq_result_t *out)
{
    fix_t f;
    dmr_seq_result_t r;
    s_load(&f, model, init, text);
    dmr_seq_check(f.m, f.ops, f.n, f.proc, f.reg, f.nreg, b, &r);
    int v = (int)r.verdict;
    if (out)
        *out = r;
    else
        dmr_seq_result_free(&r);
    s_unload(&f);
    return v;
}

static int s_seq(const char *model, const char *init, const char *text)
{
    return s_seq_b(model, init, text, NULL, NULL);
}

/* The linearizability verdict, for contrast (kv: the whole history as
 * one part, which for lin is equivalent to key by key). */
static int s_lin(const char *model, const char *init, const char *text)
{
    fix_t f;
    dmr_lin_result_t r;
    s_load(&f, model, init, text);
    dmr_lin_check(f.m, f.ops, f.n, NULL, &r);
    int v = (int)r.verdict;
    dmr_lin_result_free(&r);
    s_unload(&f);
    return v;
}

/* dmr_seq_report_buf's output (caller frees) and return code. */
static char *s_report(const char *text, const char *model, const char *init,
                      int json, int *rc, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cr_assert(out);
    err[0] = 0;
    *rc = dmr_seq_report_buf("t", text, strlen(text), "json", model, init,
                             json, 0, 0, out, err, errlen);
    fclose(out);
    return buf;
}

/* ---- consistent, not linearizable ------------------------------------------
 */

Test(seq, sequential_write_then_read_is_consistent)
{
    cr_assert_eq(s_seq("register", NULL,
                       INV(0, "write", "1") OK(0, "write", "1")
                           INV(0, "read", "null") OK(0, "read", "1")),
                 DMR_SEQ_OK);
}

Test(seq, stale_read_after_a_completed_write_is_consistent_not_linearizable)
{
    /* p1 reads the initial value after p0's write returned: order the
     * read first. */
    const char *h = INV(0, "write", "1") OK(0, "write", "1")
        INV(1, "read", "null") OK(1, "read", "null");
    cr_assert_eq(s_lin("register", NULL, h), DMR_LIN_VIOLATION);
    cr_assert_eq(s_seq("register", NULL, h), DMR_SEQ_OK);
}

Test(seq, reads_may_lag_behind_real_time_but_not_go_back)
{
    /* p1 sees 1 then 2 long after p0 wrote 3: a consistent lagging
     * replica. */
    const char *h = INV(0, "write", "1") OK(0, "write", "1")
        INV(0, "write", "2") OK(0, "write", "2") INV(0, "write", "3")
            OK(0, "write", "3") INV(1, "read", "null") OK(1, "read", "1")
                INV(1, "read", "null") OK(1, "read", "2");
    cr_assert_eq(s_lin("register", NULL, h), DMR_LIN_VIOLATION);
    cr_assert_eq(s_seq("register", NULL, h), DMR_SEQ_OK);
    /* ... while seeing 2 then 1 contradicts p0's program order */
    const char *back = INV(0, "write", "1") OK(0, "write", "1")
        INV(0, "write", "2") OK(0, "write", "2") INV(1, "read", "null")
            OK(1, "read", "2") INV(1, "read", "null") OK(1, "read", "1");
    cr_assert_eq(s_seq("register", NULL, back), DMR_SEQ_VIOLATION);
}

Test(seq, writes_may_be_reordered_across_processes)
{
    /* p0 wrote 1 strictly before p1 wrote 2, but everyone sees 2 then 1 */
    const char *h = INV(0, "write", "1") OK(0, "write", "1")
        INV(1, "write", "2") OK(1, "write", "2") INV(2, "read", "null")
            OK(2, "read", "2") INV(2, "read", "null") OK(2, "read", "1");
    cr_assert_eq(s_lin("register", NULL, h), DMR_LIN_VIOLATION);
    cr_assert_eq(s_seq("register", NULL, h), DMR_SEQ_OK);
}

/* ---- not sequentially consistent -------------------------------------------
 */

Test(seq, read_of_a_value_never_written_is_caught_before_the_search)
{
    const char *h = INV(0, "write", "1") OK(0, "write", "1")
        INV(1, "read", "null") OK(1, "read", "2");
    dmr_seq_result_t r;
    cr_assert_eq(s_seq_b("register", NULL, h, NULL, &r), DMR_SEQ_VIOLATION);
    cr_assert_eq(r.impossible, 1, "impossible op %u", r.impossible);
    cr_assert_eq(r.seen, 0, "no search: %llu configurations",
                 (unsigned long long)r.seen);
    dmr_seq_result_free(&r);
}

Test(seq, own_write_then_initial_value_is_not_consistent)
{
    /* nil is the initial value, so only the search can tell */
    const char *h = INV(0, "write", "1") OK(0, "write", "1")
        INV(0, "read", "null") OK(0, "read", "null");
    dmr_seq_result_t r;
    cr_assert_eq(s_seq_b("register", NULL, h, NULL, &r), DMR_SEQ_VIOLATION);
    cr_assert_eq(r.impossible, UINT32_MAX);
    cr_assert_eq(r.norder, 1);
    cr_assert_eq(r.order[0], 0);
    cr_assert_eq(r.nblocked, 1);
    cr_assert_eq(r.blocked[0], 1);
    dmr_seq_result_free(&r);
}

Test(seq, two_readers_seeing_two_writes_in_opposite_orders_is_not_consistent)
{
    /* IRIW on one register: p2 sees 1 then 2, p3 sees 2 then 1. Each
     * reader alone is fine. */
    const char *h = INV(0, "write", "1") INV(1, "write", "2")
        OK(0, "write", "1") OK(1, "write", "2") INV(2, "read", "null")
            OK(2, "read", "1") INV(2, "read", "null") OK(2, "read", "2")
                INV(3, "read", "null") OK(3, "read", "2")
                    INV(3, "read", "null") OK(3, "read", "1");
    cr_assert_eq(s_seq("register", NULL, h), DMR_SEQ_VIOLATION);
    const char *one = INV(0, "write", "1") INV(1, "write", "2")
        OK(0, "write", "1") OK(1, "write", "2") INV(2, "read", "null")
            OK(2, "read", "1") INV(2, "read", "null") OK(2, "read", "2");
    cr_assert_eq(s_seq("register", NULL, one), DMR_SEQ_OK);
}

Test(seq, kv_store_buffering_is_not_consistent_though_each_key_is)
{
    /* Dekker / store buffer: each process writes its key, then reads the
     * other's as initial. Per key both are fine: SC is not local, so the
     * history must be checked as a whole. */
    const char *h =
        KINV(0, "put", "x", "1") KINV(1, "put", "y", "1") KOK(0, "put", "x", "1")
            KOK(1, "put", "y", "1") KINV(0, "get", "y", "null")
                KINV(1, "get", "x", "null") KOK(0, "get", "y", "null")
                    KOK(1, "get", "x", "null");
    cr_assert_eq(s_seq("kv", NULL, h), DMR_SEQ_VIOLATION);
    const char *x = KINV(0, "put", "x", "1") KOK(0, "put", "x", "1")
        KINV(1, "get", "x", "null") KOK(1, "get", "x", "null");
    const char *y = KINV(1, "put", "y", "1") KOK(1, "put", "y", "1")
        KINV(0, "get", "y", "null") KOK(0, "get", "y", "null");
    cr_assert_eq(s_seq("kv", NULL, x), DMR_SEQ_OK);
    cr_assert_eq(s_seq("kv", NULL, y), DMR_SEQ_OK);
    /* with one of the reads seeing the write it is consistent */
    const char *fine =
        KINV(0, "put", "x", "1") KINV(1, "put", "y", "1") KOK(0, "put", "x", "1")
            KOK(1, "put", "y", "1") KINV(0, "get", "y", "null")
                KINV(1, "get", "x", "null") KOK(0, "get", "y", "null")
                    KOK(1, "get", "x", "1");
    cr_assert_eq(s_seq("kv", NULL, fine), DMR_SEQ_OK);
}

Test(seq, kv_appends_concatenate_in_one_order_for_all)
{
    /* p2 sees "ab", p3 sees "ba": not both */
    const char *h =
        KINV(0, "append", "k", "\"a\"") KOK(0, "append", "k", "\"a\"")
            KINV(1, "append", "k", "\"b\"") KOK(1, "append", "k", "\"b\"")
                KINV(2, "get", "k", "null") KOK(2, "get", "k", "\"ab\"");
    cr_assert_eq(s_seq("kv", NULL, h), DMR_SEQ_OK);
    const char *bad =
        KINV(0, "append", "k", "\"a\"") KOK(0, "append", "k", "\"a\"")
            KINV(1, "append", "k", "\"b\"") KOK(1, "append", "k", "\"b\"")
                KINV(2, "get", "k", "null") KOK(2, "get", "k", "\"ab\"")
                    KINV(3, "get", "k", "null") KOK(3, "get", "k", "\"ba\"");
    cr_assert_eq(s_seq("kv", NULL, bad), DMR_SEQ_VIOLATION);
}

/* ---- cas-register ----------------------------------------------------------
 */

Test(seq, cas_chain_orders_the_processes)
{
    /* p1's cas needs p0's; p2's read needs both: one order only */
    const char *h = INV(2, "read", "null") INV(1, "cas", "[1,2]")
        OK(1, "cas", "[1,2]") OK(2, "read", "2") INV(0, "cas", "[0,1]")
            OK(0, "cas", "[0,1]");
    cr_assert_eq(s_lin("cas-register", "0", h), DMR_LIN_VIOLATION);
    cr_assert_eq(s_seq("cas-register", "0", h), DMR_SEQ_OK);
}

Test(seq, two_cas_from_the_same_value_cannot_both_succeed)
{
    const char *h = INV(0, "cas", "[0,1]") OK(0, "cas", "[0,1]")
        INV(1, "cas", "[0,2]") OK(1, "cas", "[0,2]");
    cr_assert_eq(s_seq("cas-register", "0", h), DMR_SEQ_VIOLATION);
    /* unless something writes 0 again in between */
    const char *w = INV(0, "cas", "[0,1]") OK(0, "cas", "[0,1]")
        INV(1, "cas", "[0,2]") OK(1, "cas", "[0,2]") INV(2, "write", "0")
            OK(2, "write", "0");
    cr_assert_eq(s_seq("cas-register", "0", w), DMR_SEQ_OK);
}

Test(seq, cas_from_a_value_never_written_is_impossible)
{
    dmr_seq_result_t r;
    const char *h = INV(0, "write", "1") OK(0, "write", "1")
        INV(1, "cas", "[5,6]") OK(1, "cas", "[5,6]");
    cr_assert_eq(s_seq_b("cas-register", "0", h, NULL, &r), DMR_SEQ_VIOLATION);
    cr_assert_eq(r.impossible, 1);
    dmr_seq_result_free(&r);
}

Test(seq, cas_with_false_result_may_go_where_the_value_differs)
{
    /* p1's cas [1 2] found the register not 1: order it before p0's
     * write, though it ran after in real time. */
    const char *h = INV(0, "write", "1") OK(0, "write", "1")
        INV(1, "cas", "[1,2]") "{\"process\":1,\"type\":\"ok\",\"f\":\"cas\","
                               "\"value\":[1,2],\"result\":false}\n";
    cr_assert_eq(s_lin("cas-register", "0", h), DMR_LIN_VIOLATION);
    cr_assert_eq(s_seq("cas-register", "0", h), DMR_SEQ_OK);
    /* but not with init 1 and nothing else: the value is always 1 */
    const char *no =
        INV(1, "cas", "[1,2]") "{\"process\":1,\"type\":\"ok\",\"f\":\"cas\","
                               "\"value\":[1,2],\"result\":false}\n";
    cr_assert_eq(s_seq("cas-register", "1", no), DMR_SEQ_VIOLATION);
}

Test(seq, register_model_refuses_cas)
{
    char err[256];
    int rc;
    char *out = s_report(INV(0, "cas", "[0,1]") OK(0, "cas", "[0,1]"),
                         "register", NULL, 0, &rc, err, sizeof err);
    cr_assert_eq(rc, 2);
    cr_assert(strstr(err, "t:1: unknown operation :cas"), "err: %s", err);
    cr_assert_str_empty(out);
    free(out);
}

/* ---- info and fail ---------------------------------------------------------
 */

Test(seq, info_write_must_take_effect_when_read)
{
    const char *h = INV(0, "write", "1") INFO(0, "write", "1")
        INV(1, "read", "null") OK(1, "read", "1");
    cr_assert_eq(s_seq("register", NULL, h), DMR_SEQ_OK);
}

Test(seq, info_write_may_never_take_effect)
{
    const char *h = INV(0, "write", "1") INFO(0, "write", "1")
        INV(1, "read", "null") OK(1, "read", "null") INV(1, "read", "null")
            OK(1, "read", "null");
    cr_assert_eq(s_seq("register", NULL, h), DMR_SEQ_OK);
}

Test(seq, info_write_must_not_take_effect_between_two_reads_of_a_value)
{
    /* p1 reads 2, 2: p0's crashed write of 1 goes before p1's write, or
     * after the reads, or nowhere; then p2 reading 1 after 2 forces it
     * after. */
    const char *h = INV(0, "write", "1") INFO(0, "write", "1")
        INV(1, "write", "2") OK(1, "write", "2") INV(1, "read", "null")
            OK(1, "read", "2") INV(1, "read", "null") OK(1, "read", "2")
                INV(2, "read", "null") OK(2, "read", "2")
                    INV(2, "read", "null") OK(2, "read", "1");
    cr_assert_eq(s_seq("register", NULL, h), DMR_SEQ_OK);
}

Test(seq, info_write_takes_effect_at_most_once)
{
    /* 1, then 2, then 1 again: p0's single crashed write cannot do both */
    const char *h = INV(0, "write", "1") INFO(0, "write", "1")
        INV(1, "write", "2") OK(1, "write", "2") INV(2, "read", "null")
            OK(2, "read", "1") INV(2, "read", "null") OK(2, "read", "2")
                INV(2, "read", "null") OK(2, "read", "1");
    cr_assert_eq(s_seq("register", NULL, h), DMR_SEQ_VIOLATION);
}

Test(seq, info_op_comes_after_its_process_earlier_ops)
{
    /* p0 wrote 1 then crashed writing 2; p1 saw 2 then 1: 2 cannot go
     * before p0's own earlier write of 1 */
    const char *h = INV(0, "write", "1") OK(0, "write", "1")
        INV(0, "write", "2") INFO(0, "write", "2") INV(1, "read", "null")
            OK(1, "read", "2") INV(1, "read", "null") OK(1, "read", "1");
    cr_assert_eq(s_seq("register", NULL, h), DMR_SEQ_VIOLATION);
}

Test(seq, info_op_followed_by_its_process_may_still_take_effect_later)
{
    /* JSON-lines allows a process to go on after :info; the write may
     * land after the process's own later read, as lin.h allows */
    const char *h = INV(0, "write", "1") INFO(0, "write", "1")
        INV(0, "read", "null") OK(0, "read", "null") INV(1, "read", "null")
            OK(1, "read", "1");
    cr_assert_eq(s_lin("register", NULL, h), DMR_LIN_OK);
    cr_assert_eq(s_seq("register", NULL, h), DMR_SEQ_OK);
}

Test(seq, uncompleted_invocation_is_info)
{
    const char *h =
        INV(0, "write", "1") INV(1, "read", "null") OK(1, "read", "1");
    cr_assert_eq(s_seq("register", NULL, h), DMR_SEQ_OK);
}

Test(seq, failed_write_did_not_happen)
{
    const char *h = INV(0, "write", "1") FAIL(0, "write", "1")
        INV(1, "read", "null") OK(1, "read", "1");
    cr_assert_eq(s_seq("register", NULL, h), DMR_SEQ_VIOLATION);
}

Test(seq, info_cas_takes_effect_only_from_its_old_value)
{
    const char *h = INV(0, "cas", "[0,1]") INFO(0, "cas", "[0,1]")
        INV(1, "read", "null") OK(1, "read", "1");
    cr_assert_eq(s_seq("cas-register", "0", h), DMR_SEQ_OK);
    cr_assert_eq(s_seq("cas-register", "2", h), DMR_SEQ_VIOLATION);
}

/* ---- other models ----------------------------------------------------------
 */

Test(seq, mutex_holders_in_some_order)
{
    const char *h = INV(0, "acquire", "null") OK(0, "acquire", "null")
        INV(1, "acquire", "null") OK(1, "acquire", "null")
            INV(0, "release", "null") OK(0, "release", "null");
    cr_assert_eq(s_seq("mutex", NULL, h), DMR_SEQ_OK);
    const char *two = INV(0, "acquire", "null") OK(0, "acquire", "null")
        INV(1, "acquire", "null") OK(1, "acquire", "null");
    cr_assert_eq(s_seq("mutex", NULL, two), DMR_SEQ_VIOLATION);
}

/* ---- the report --------------------------------------------------------------
 */

Test(seq, report_names_the_longest_order_and_the_blocked_ops)
{
    /* lines: 1-2 p0 write 1, 3-4 p0 write 2, 5-6 p1 read 2, 7-8 p1 read 1 */
    const char *h = INV(0, "write", "1") OK(0, "write", "1")
        INV(0, "write", "2") OK(0, "write", "2") INV(1, "read", "null")
            OK(1, "read", "2") INV(1, "read", "null") OK(1, "read", "1");
    char err[256];
    int rc;
    char *out = s_report(h, "register", NULL, 0, &rc, err, sizeof err);
    cr_assert_eq(rc, 1, "rc %d: %s", rc, err);
    cr_assert(strstr(out, "t: NOT sequentially consistent\n"), "%s", out);
    cr_assert(strstr(out, "has 3 of 4 completed operations"), "%s", out);
    cr_assert(strstr(out, "line 7: process 1 :read 1"), "%s", out);
    free(out);
    out = s_report(h, "register", NULL, 1, &rc, err, sizeof err);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(out, "\"valid\":false,\"model\":\"register\""), "%s", out);
    cr_assert(strstr(out, "\"ordered\":3,\"of\":4"), "%s", out);
    cr_assert(strstr(out, "\"blocked\":[{\"line\":7,\"ret_line\":8,"
                          "\"process\":1"),
              "%s", out);
    cr_assert(strstr(out, "\"state\":\"2\""), "%s", out);
    cr_assert(strstr(out, "\"order\":[1,3,5]"), "%s", out);
    cr_assert_eq(out[strlen(out) - 1], '\n');
    free(out);
}

Test(seq, report_names_an_impossible_op_by_its_line)
{
    const char *h = INV(0, "write", "1") OK(0, "write", "1")
        INV(1, "read", "null") OK(1, "read", "7");
    char err[256];
    int rc;
    char *out = s_report(h, "register", NULL, 0, &rc, err, sizeof err);
    cr_assert_eq(rc, 1);
    cr_assert(strstr(out, "line 3: process 1 :read 7\n    takes effect in no"),
              "%s", out);
    free(out);
    out = s_report(h, "register", NULL, 1, &rc, err, sizeof err);
    cr_assert(strstr(out, "\"witness\":{\"impossible\":{\"line\":3,"), "%s",
              out);
    free(out);
}

Test(seq, report_of_a_consistent_history)
{
    const char *h = INV(0, "write", "1") OK(0, "write", "1")
        INV(1, "read", "null") OK(1, "read", "null");
    char err[256];
    int rc;
    char *out = s_report(h, "register", NULL, 0, &rc, err, sizeof err);
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(out, "t: sequentially consistent\n");
    free(out);
    out = s_report(h, NULL, "0", 1, &rc, err, sizeof err);
    /* default model cas-register; init 0: the read of nil is impossible */
    cr_assert_eq(rc, 1);
    cr_assert(strstr(out, "\"model\":\"cas-register\""), "%s", out);
    free(out);
}

/* ---- budgets -----------------------------------------------------------------
 */

/* n processes each writing its id then reading the next one's: many
 * orders to try before the last read fails. */
static char *s_hard(int n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    for (int p = 0; p < n; p++)
        fprintf(f,
                "{\"process\":%d,\"type\":\"invoke\",\"f\":\"write\","
                "\"value\":%d}\n{\"process\":%d,\"type\":\"ok\",\"f\":\"write\","
                "\"value\":%d}\n",
                p, p, p, p);
    for (int p = 0; p < n; p++)
        for (int k = 0; k < 2; k++)
            fprintf(f,
                    "{\"process\":%d,\"type\":\"invoke\",\"f\":\"read\","
                    "\"value\":null}\n{\"process\":%d,\"type\":\"ok\","
                    "\"f\":\"read\",\"value\":%d}\n",
                    p, p, (p + 1 + k * (n - 2)) % n);
    fclose(f);
    return buf;
}

Test(seq, step_budget_gives_unknown_never_a_guess)
{
    char *h = s_hard(8);
    dmr_seq_budget_t b = {0, 0, 50};
    dmr_seq_result_t r;
    cr_assert_eq(s_seq_b("register", NULL, h, &b, &r), DMR_SEQ_UNKNOWN);
    cr_assert_str_eq(r.why, "steps");
    dmr_seq_result_free(&r);
    /* unbounded it decides */
    int v = s_seq("register", NULL, h);
    cr_assert(v == DMR_SEQ_OK || v == DMR_SEQ_VIOLATION);
    free(h);
}

Test(seq, memory_budget_gives_unknown)
{
    char *h = s_hard(8);
    dmr_seq_budget_t b = {0, 1 << 10, 0};
    dmr_seq_result_t r;
    cr_assert_eq(s_seq_b("register", NULL, h, &b, &r), DMR_SEQ_UNKNOWN);
    cr_assert_str_eq(r.why, "memory");
    dmr_seq_result_free(&r);
    free(h);
}

/* ---- malformed input -------------------------------------------------------
 */

Test(seq, malformed_input_is_an_error_with_its_line)
{
    char err[256];
    int rc;
    char *out;
    /* a completion without an invocation */
    out = s_report(INV(0, "write", "1") OK(0, "write", "1") OK(1, "read", "1"),
                   "register", NULL, 0, &rc, err, sizeof err);
    cr_assert_eq(rc, 2);
    cr_assert(!strncmp(err, "t:3: ", 5), "err: %s", err);
    cr_assert_str_empty(out);
    free(out);
    /* a kv op without a key */
    out = s_report(INV(0, "put", "1") OK(0, "put", "1"), "kv", NULL, 0, &rc,
                   err, sizeof err);
    cr_assert_eq(rc, 2);
    cr_assert(strstr(err, "t:1: :put has no :key"), "err: %s", err);
    free(out);
    /* a cas whose value is not a pair */
    out = s_report(INV(0, "cas", "3") OK(0, "cas", "3"), "cas-register", NULL,
                   0, &rc, err, sizeof err);
    cr_assert_eq(rc, 2);
    cr_assert(strstr(err, "t:2: :cas needs [old new]"), "err: %s", err);
    free(out);
    /* syntax */
    out = s_report("{\"process\":0,\"type\":", "register", NULL, 0, &rc, err,
                   sizeof err);
    cr_assert_eq(rc, 2);
    cr_assert(!strncmp(err, "t:1: ", 5), "err: %s", err);
    free(out);
}

Test(seq, unknown_model_and_bad_init_are_errors)
{
    char err[256];
    int rc;
    const char *h = INV(0, "write", "1") OK(0, "write", "1");
    char *out = s_report(h, "queue", NULL, 0, &rc, err, sizeof err);
    cr_assert_eq(rc, 2);
    cr_assert(strstr(err, "unknown model queue"), "err: %s", err);
    free(out);
    out = s_report(h, "register", "[1", 0, &rc, err, sizeof err);
    cr_assert_eq(rc, 2);
    cr_assert(strstr(err, "t: init: "), "err: %s", err);
    free(out);
    out = s_report(h, "register", "1 2", 0, &rc, err, sizeof err);
    cr_assert_eq(rc, 2);
    cr_assert(strstr(err, "not one value"), "err: %s", err);
    free(out);
    out = s_report(h, "mutex", "1", 0, &rc, err, sizeof err);
    cr_assert_eq(rc, 2);
    cr_assert(strstr(err, "does not suit model mutex"), "err: %s", err);
    free(out);
}

Test(seq, missing_file_is_an_error)
{
    char err[256];
    int rc = dmr_seq_report("/nonexistent/h.json", NULL, "register", NULL, 0,
                            0, 0, stdout, err, sizeof err);
    cr_assert_eq(rc, 2);
    cr_assert(strstr(err, "/nonexistent/h.json: cannot read"), "err: %s", err);
}

/* ---- against brute force ---------------------------------------------------
 */

/* A tiny register op: kind, arguments (-1: nil), outcome. */
enum { B_READ, B_WRITE, B_CAS };
enum { B_OK, B_FALSE, B_INFO, B_FAIL }; /* B_FALSE: ok cas, compare false */
typedef struct {
    int kind, a, b, out;
} bop_t;

/* Every order of the ops that keeps each process's order: 1 if one is
 * legal. Fails are skipped; an info op (always its process's last) may
 * take effect where it stands or never; an info read never matters. An
 * independent register, not model.c's. */
static int s_brute(bop_t ops[][8], const int *len, int np, int *pos, int state)
{
    int left = 0;
    for (int p = 0; p < np; p++) {
        if (pos[p] == len[p])
            continue;
        left = 1;
        const bop_t *o = &ops[p][pos[p]];
        int ns = state, legal;
        switch (o->kind) {
        case B_READ: legal = o->out != B_OK || o->a == state; break;
        case B_WRITE: legal = 1, ns = o->a; break;
        default:
            legal = o->out == B_FALSE ? state != o->a : state == o->a;
            if (o->out != B_FALSE)
                ns = o->b;
        }
        if (o->out == B_FAIL || o->out == B_INFO) {
            /* never took effect */
            pos[p]++;
            int r = s_brute(ops, len, np, pos, state);
            pos[p]--;
            if (r)
                return 1;
            if (o->out == B_FAIL || o->kind == B_READ)
                continue;
        }
        if (!legal)
            continue;
        pos[p]++;
        int r = s_brute(ops, len, np, pos, ns);
        pos[p]--;
        if (r)
            return 1;
    }
    return !left;
}

static uint64_t s_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void s_val(FILE *f, int v)
{
    v < 0 ? fputs("null", f) : fprintf(f, "%d", v);
}

static void s_event(FILE *f, int p, const bop_t *o, int complete)
{
    static const char *const fn[] = {"read", "write", "cas"};
    static const char *const ty[] = {"ok", "ok", "info", "fail"};
    fprintf(f, "{\"process\":%d,\"type\":\"%s\",\"f\":\"%s\",\"value\":", p,
            complete ? ty[o->out] : "invoke", fn[o->kind]);
    if (o->kind == B_CAS) {
        fputc('[', f);
        s_val(f, o->a);
        fputc(',', f);
        s_val(f, o->b);
        fputc(']', f);
    } else {
        s_val(f, o->kind == B_READ && !complete ? -1 : o->a);
    }
    if (complete && o->out == B_FALSE)
        fputs(",\"result\":false", f);
    fputs("}\n", f);
}

Test(seq, agrees_with_brute_force_on_random_small_histories)
{
    uint64_t x = 0x5e9c0de;
    int nok = 0, nbad = 0, nonlin = 0, total = 1200;
    for (int iter = 0; iter < total; iter++) {
        int cas = iter % 2, np = 1 + (int)(s_rand(&x) % 3), len[3] = {0};
        int nops = 1 + (int)(s_rand(&x) % 7);
        bop_t ops[3][8];
        for (int k = 0; k < nops; k++) {
            int p = (int)(s_rand(&x) % (uint64_t)np);
            if (len[p] && ops[p][len[p] - 1].out == B_INFO)
                continue; /* nothing after an info op */
            bop_t *o = &ops[p][len[p]++];
            o->kind = (int)(s_rand(&x) % (cas ? 3 : 2));
            o->a = (int)(s_rand(&x) % 4) - 1; /* nil, 0, 1, 2 */
            o->b = (int)(s_rand(&x) % 3);
            if (o->kind == B_WRITE && o->a < 0)
                o->a = 0;
            uint64_t u = s_rand(&x) % 10;
            o->out = u < 6 ? B_OK : u < 8 ? B_INFO : B_FAIL;
            if (o->kind == B_CAS && o->out == B_OK && s_rand(&x) % 3 == 0)
                o->out = B_FALSE;
        }
        /* interleave the events: a random process makes its next step */
        char *text = NULL;
        size_t tl = 0;
        FILE *f = open_memstream(&text, &tl);
        int at[3] = {0}, open_[3] = {0};
        for (;;) {
            int live[3], nl = 0;
            for (int p = 0; p < np; p++)
                if (at[p] < len[p])
                    live[nl++] = p;
            if (!nl)
                break;
            int p = live[s_rand(&x) % (uint64_t)nl];
            const bop_t *o = &ops[p][at[p]];
            /* an info op is sometimes left without a completion */
            if (open_[p] && o->out == B_INFO && s_rand(&x) % 2) {
                at[p]++;
                continue;
            }
            s_event(f, p, o, open_[p]);
            if (open_[p])
                at[p]++;
            open_[p] = !open_[p];
        }
        fclose(f);
        int pos[3] = {0};
        int want = s_brute(ops, len, np, pos, -1);
        const char *model = cas ? "cas-register" : "register";
        int got = s_seq(model, NULL, text);
        cr_assert_eq(got, want ? DMR_SEQ_OK : DMR_SEQ_VIOLATION,
                     "history %d (%s): brute force says %s:\n%s", iter, model,
                     want ? "consistent" : "not", text);
        /* every linearizable history is sequentially consistent */
        int lin = s_lin(model, NULL, text);
        cr_assert(lin != DMR_LIN_OK || got == DMR_SEQ_OK,
                  "history %d linearizable but not SC:\n%s", iter, text);
        nonlin += got == DMR_SEQ_OK && lin == DMR_LIN_VIOLATION;
        want ? nok++ : nbad++;
        free(text);
    }
    /* every kind of verdict must be well represented to mean much */
    cr_assert_gt(nok, total / 5, "%d consistent", nok);
    cr_assert_gt(nbad, total / 5, "%d not", nbad);
    cr_assert_gt(nonlin, total / 50, "%d consistent, not linearizable", nonlin);
}

/* ---- real histories (skipped when ../shared/data is absent) --------------
 */

static void s_real(const char *rel, const char *model, int want)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "../shared/data/histories/%s", rel);
    FILE *probe = fopen(path, "r");
    if (!probe)
        cr_skip_test("%s is absent", path);
    fclose(probe);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    int rc = dmr_seq_report(path, NULL, model, NULL, 0, 20, 512, out, err,
                            sizeof err);
    fclose(out);
    cr_assert_eq(rc, want, "%s: rc %d: %s%s", path, rc, err, buf);
    free(buf);
}

Test(seq, linearizable_etcd_history_is_sequentially_consistent,
     .timeout = 60)
{
    s_real("jepsen-etcd/etcd_007.log", "cas-register", 0);
}

Test(seq, linearizable_knossos_history_is_sequentially_consistent,
     .timeout = 60)
{
    s_real("knossos/cas-register/good/memstress3-0.edn", "cas-register", 0);
}
