/* test_txnwire.c -- the pieces of the cluster's transaction check: the
 * line-at-a-time reader (its fast path and its general one must read
 * every line as the whole-history parser does), the wire form of texts
 * and elements, anomalies and edges written and read back, the history
 * builder, and Tarjan's components. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/elle.h"
#include "check/txn.h"
#include "common/alloc.h"
#include "common/buf.h"

/* Reads line alone with the reader and with dmr_txn_hist_parse, and
 * compares what each made of it. */
static void s_same_as_parse2(dmr_txn_workload_t w, const char *line,
                             const char *alone)
{
    char err[512], err2[512];
    dmr_txn_reader_t *rd = dmr_txn_reader_new("t.edn", NULL, w);
    dmr_txn_op_t op;
    int r1 = dmr_txn_reader_line(rd, line, strlen(line), 7, &op, err,
                                 sizeof err);
    dmr_txn_hist_t *h = NULL;
    /* seven lines, so the parser's line numbers are the reader's */
    char *buf = dmr_sprintf("\n\n\n\n\n\n%s\n", alone);
    int r2 = dmr_txn_hist_parse("t.edn", buf, strlen(buf), NULL, w, &h, err2,
                                sizeof err2);
    free(buf);
    cr_assert_eq(r1 != 0, r2 != 0, "%s: reader %d (%s), parser %d (%s)",
                 line, r1, r1 ? err : "", r2, r2 ? err2 : "");
    if (r1) {
        cr_assert_str_eq(err, err2, "%s", line);
    } else if (op.ev < 0) {
        cr_assert_eq(h->ntxn, 0, "%s: skipped, but the parser took it", line);
    } else {
        cr_assert_eq(h->ntxn, 1, "%s", line);
        const dmr_txn_t *t = &h->txns[0];
        int st = op.ev == 1 ? DMR_TXN_OK : op.ev == 2 ? DMR_TXN_FAIL
                                                      : DMR_TXN_INFO;
        cr_assert_eq(st, t->status, "%s: status", line);
        if (op.has_process)
            cr_assert_eq(op.process, t->process, "%s: process", line);
        cr_assert_eq(op.index, t->index, "%s: index", line);
        cr_assert_eq(op.h->nmop, t->nmop, "%s: micro-ops", line);
        for (uint32_t i = 0; i < t->nmop; i++) {
            const dmr_mop_t *a = &op.h->mops[i], *b = &h->mops[t->mop + i];
            cr_assert_str_eq(dmr_txn_key_text(op.h, a->key),
                             dmr_txn_key_text(h, b->key), "%s: key", line);
            cr_assert_eq(a->f, b->f, "%s: f", line);
            cr_assert_eq(a->idx, b->idx, "%s: idx", line);
            cr_assert_eq(a->known, b->known, "%s: known %u", line, i);
            char v1[64], v2[64];
            cr_assert_str_eq(dmr_txn_elem_text(op.h, a->v, v1, sizeof v1),
                             dmr_txn_elem_text(h, b->v, v2, sizeof v2),
                             "%s: value", line);
            cr_assert_eq(a->n, b->n, "%s: elements", line);
            for (uint32_t k = 0; k < a->n; k++)
                cr_assert_eq(op.h->elems[a->off + k], h->elems[b->off + k],
                             "%s: element %u", line, k);
        }
    }
    dmr_txn_hist_destroy(&h);
    dmr_txn_reader_destroy(&rd);
}

static void s_same_as_parse(dmr_txn_workload_t w, const char *line)
{
    s_same_as_parse2(w, line, line);
}

Test(txnwire, reader_reads_each_line_as_the_parser_does)
{
    static const char *const la[] = {
        "{:type :invoke, :f :txn, :value [[:append 3 1] [:r 1 nil]], "
        ":process 4, :time 1, :index 0}",
        "{:type :ok, :f :txn, :value [[:append 3 1] [:r 1 [1 2 3]]], "
        ":process 4, :time 9, :index 5}",
        "{:type :ok, :f :txn, :value [[:r 1 nil] [:r 2 []]], :process 0}",
        "{:type :fail, :f :txn, :value [[:append 3 2]], :process 1}",
        "{:type :info, :f :txn, :value [[:append 3 2] [:r 9 [4]]], "
        ":process 1}",
        "{:index 7 :type :ok :value [[:append 253 1] [:append 255 2]]}",
        "{:type :ok, :f :txn, :value [[:append -5 -1]], :process 2},",
        "  {:type :ok, :f :txn, :value [[:append 007 1]], :process 2}",
        "{:type :ok, :f :txn, :value [[:append :x 1] [:r \"y\" [2]]], "
        ":process 2}",
        "{:type :ok, :f :txn, :value [[:append 1 \"a b\"]], :process 2}",
        "{:type :ok, :f :txn, :value [[:append 1 99999999999999999999]], "
        ":process 2}",
        "{:type :ok, :f :txn, :value nil, :process 2}",
        "{:type :invoke, :f :read, :value nil, :process 2}",
        "{:type :info, :f :start, :process :nemesis}",
        "{:type :ok, :f :txn, :value [[:frob 1 2]], :process 2}",
        "{:type :ok, :f :txn, :value [[:r 1 5]], :process 2}",
        "{:type :ok, :f :txn, :value [[:append 1 2]], :process 2, :process 3}",
        "{:type :ok, :f :txn, :value [[:append 1 2]]",
        "{:type :begin, :f :txn, :value [], :process 1}",
        "{:f :txn, :value [], :process 1}",
        "{:type :ok, :f :txn, :value [], :process 1, :index -2}",
        "; a comment",
        "",
        "{\"process\":1,\"type\":\"ok\",\"f\":\"txn\","
        "\"value\":[[\"append\",\"x\",1],[\"r\",\"y\",[4,7]]]}",
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"txn\","
        "\"value\":[[\"append\",\"x\",1],[\"r\",\"y\",null]]}",
    };
    for (size_t i = 0; i < sizeof la / sizeof *la; i++)
        s_same_as_parse(DMR_TXN_LIST_APPEND, la[i]);
    /* two ops on a line: the parser takes both, the reader refuses */
    {
        const char *two = "{:type :ok, :f :txn, :value [[:append 1 2]], "
                          ":process 2} {:type :ok}";
        char err[512];
        dmr_txn_reader_t *rd =
            dmr_txn_reader_new("t.edn", NULL, DMR_TXN_LIST_APPEND);
        dmr_txn_op_t op;
        cr_assert_neq(dmr_txn_reader_line(rd, two, strlen(two), 3, &op, err,
                                          sizeof err),
                      0);
        cr_assert(strstr(err, "t.edn:3: more than one op on this line"), "%s",
                  err);
        dmr_txn_reader_destroy(&rd);
    }
    /* the lines of a history written as one vector */
    s_same_as_parse2(DMR_TXN_LIST_APPEND,
                     "[{:type :ok, :f :txn, :value [[:append 5 1]], :process 2},",
                     "{:type :ok, :f :txn, :value [[:append 5 1]], :process 2}");
    s_same_as_parse2(DMR_TXN_LIST_APPEND,
                     " {:type :ok, :f :txn, :value [[:append 5 1]], :process 2}]",
                     "{:type :ok, :f :txn, :value [[:append 5 1]], :process 2}");
    static const char *const rw[] = {
        "{:type :invoke, :f :txn, :value [[:w 3 1] [:r 1 nil]], :process 4}",
        "{:type :ok, :f :txn, :value [[:w 3 1] [:r 1 7] [:r 2 nil]], "
        ":process 4}",
        "{:type :ok, :f :txn, :value [[:append 3 1]], :process 4}",
        "{:type :ok, :f :txn, :value [[:r 1 [7]]], :process 4}",
    };
    for (size_t i = 0; i < sizeof rw / sizeof *rw; i++)
        s_same_as_parse(DMR_TXN_RW_REGISTER, rw[i]);
}

Test(txnwire, texts_and_elements_survive_the_wire)
{
    static const char *const texts[] = {"x", "a b", "tab\there", "~",
                                        "'q", "back\\slash", "", "nl\n",
                                        "\x7f\x01", "ünï"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        dmr_buf_t b = DMR_BUF_INIT;
        dmr_txn_wire_text(&b, texts[i], strlen(texts[i]));
        cr_assert(b.len > 0);
        for (size_t k = 0; k < b.len; k++)
            cr_assert(b.data[k] != ' ' && b.data[k] != '\t' &&
                          b.data[k] != '\n',
                      "'%s' wired with a blank", texts[i]);
        char out[64];
        size_t n = dmr_txn_unwire(b.data, b.len, out);
        cr_assert_eq(n, strlen(texts[i]));
        cr_assert(!memcmp(out, texts[i], n), "'%s' came back otherwise",
                  texts[i]);
        dmr_buf_free(&b);
    }
    dmr_txn_hist_t *h = dmr_txn_hist_new("h", NULL, DMR_TXN_LIST_APPEND);
    dmr_txn_elem_t es[5];
    cr_assert_eq(dmr_txn_tok_elem(h, "'a b", 4, &es[0]), 0);
    es[1] = DMR_TXN_NIL;
    es[2] = -17;
    es[3] = 0;
    es[4] = DMR_TXN_ELEM_TEXT - 1;
    for (int i = 0; i < 5; i++) {
        dmr_buf_t b = DMR_BUF_INIT;
        dmr_txn_wire_elem(&b, h, es[i]);
        dmr_txn_elem_t back;
        cr_assert_eq(dmr_txn_tok_elem(h, b.data, b.len, &back), 0, "%s",
                     b.data);
        cr_assert_eq(back, es[i], "%s", b.data);
        dmr_buf_free(&b);
    }
    dmr_txn_elem_t bad;
    cr_assert_neq(dmr_txn_tok_elem(h, "12x", 3, &bad), 0);
    cr_assert_neq(dmr_txn_tok_elem(h, "", 0, &bad), 0);
    cr_assert_neq(dmr_txn_tok_elem(h, "99999999999999999999", 20, &bad), 0);
    uint64_t u;
    cr_assert_neq(dmr_txn_tok_u64("18446744073709551616", 20, &u), 0);
    cr_assert_eq(dmr_txn_tok_u64("18446744073709551615", 20, &u), 0);
    dmr_txn_hist_destroy(&h);
}

/* The records a result puts, kept. */
typedef struct {
    char **rec;
    char *what;
    size_t n;
} s_recs_t;

static void s_keep(void *arg, char what, const char *rec, size_t len)
{
    s_recs_t *r = arg;
    r->rec = dmr_realloc(r->rec, (r->n + 1) * sizeof *r->rec);
    r->what = dmr_realloc(r->what, r->n + 1);
    r->rec[r->n] = dmr_strndup(rec, len);
    r->what[r->n++] = what;
}

static int s_ident(void *arg, uint64_t gid, uint32_t *t)
{
    const dmr_txn_hist_t *h = arg;
    if (gid >= h->ntxn)
        return -1;
    *t = (uint32_t)gid;
    return 0;
}

static void s_json(const dmr_elle_result_t *r, char *buf, size_t len)
{
    FILE *f = fmemopen(buf, len, "w");
    dmr_elle_print_json(r, f);
    fclose(f);
    char *us = strstr(buf, ",\"us\":");
    if (us)
        *us = 0;
}

Test(txnwire, anomalies_and_edges_come_back_from_the_wire)
{
    /* write skew, a lost update, an aborted read, internal, a G-single */
    const char *text =
        "{:process 0, :type :ok, :f :txn, :value [[:r 1 nil] [:append 2 1]]}\n"
        "{:process 1, :type :ok, :f :txn, :value [[:r 2 nil] [:append 1 1]]}\n"
        "{:process 2, :type :ok, :f :txn, :value [[:r 3 nil] [:append 3 1]]}\n"
        "{:process 3, :type :ok, :f :txn, :value [[:r 3 nil] [:append 3 2]]}\n"
        "{:process 4, :type :fail, :f :txn, :value [[:append 4 1]]}\n"
        "{:process 5, :type :ok, :f :txn, :value [[:r 4 [1]] [:r 5 [9]]]}\n"
        "{:process 6, :type :ok, :f :txn, :value [[:append 6 1] [:r 6 []]]}\n"
        "{:process 7, :type :ok, :f :txn, :value [[:r 1 [1]] [:r 2 [1 \"x y\"]]]}\n"
        "{:process 8, :type :ok, :f :txn, :value [[:append 2 \"x y\"]]}\n";
    char err[512];
    dmr_txn_hist_t *h = NULL;
    cr_assert_eq(dmr_txn_hist_parse("w.edn", text, strlen(text), NULL,
                                    DMR_TXN_LIST_APPEND, &h, err, sizeof err),
                 0, "%s", err);
    dmr_elle_opts_t o = {0};
    size_t bit;
    dmr_elle_model_find("serializable", &bit);
    o.models = (uint64_t)1 << bit;
    dmr_elle_anomaly_find("G1a", &bit);
    o.anomalies = (uint64_t)1 << bit;
    dmr_elle_result_t *r = NULL;
    cr_assert_eq(dmr_elle_check(h, &o, &r, err, sizeof err), 0, "%s", err);
    cr_assert(dmr_elle_found(r) != 0);
    /* the whole result, written and read back */
    s_recs_t recs = {0};
    size_t shown[DMR_ELLE_NTYPES] = {0};
    dmr_elle_wire_anomalies(r, NULL, 8, shown, s_keep, &recs);
    cr_assert(recs.n > 0);
    dmr_elle_result_t *r2 = dmr_elle_new(h, &o);
    for (size_t i = 0; i < recs.n; i++) {
        int rc = recs.what[i] == 'a'
                     ? dmr_elle_wire_read_anomaly(r2, h, recs.rec[i],
                                                  strlen(recs.rec[i]),
                                                  s_ident, h)
                     : dmr_elle_wire_read_count(r2, recs.rec[i],
                                                strlen(recs.rec[i]));
        cr_assert_eq(rc, 0, "%c %s", recs.what[i], recs.rec[i]);
        uint64_t ids[64];
        size_t k = dmr_elle_wire_txns(recs.rec[i], strlen(recs.rec[i]), ids,
                                      64);
        for (size_t j = 0; j < k; j++)
            cr_assert_lt(ids[j], h->ntxn);
    }
    dmr_elle_finish(r2);
    dmr_elle_summary_t sum;
    dmr_elle_summary(r, &sum);
    sum.us = 0;
    dmr_elle_set_summary(r2, &sum);
    char j1[16384], j2[16384];
    s_json(r, j1, sizeof j1);
    s_json(r2, j2, sizeof j2);
    cr_assert_str_eq(j1, j2);
    /* a malformed record adds nothing */
    cr_assert_neq(dmr_elle_wire_read_anomaly(r2, h, "G2-item ~ 1", 11,
                                             s_ident, h), 0);
    cr_assert_neq(dmr_elle_wire_read_anomaly(r2, h, "G9 ~ ~ ~ ~ ~ ~ ~ 0 0 0",
                                             22, s_ident, h), 0);
    cr_assert_neq(dmr_elle_wire_read_count(r2, "G0 x", 4), 0);
    /* edges: each written and read into a result on the same history */
    dmr_elle_result_t *r3 = dmr_elle_new(h, &o);
    dmr_elle_result_t *r4 = dmr_elle_new(h, &o);
    cr_assert_eq(dmr_elle_infer(r3, err, sizeof err), 0);
    cr_assert(dmr_elle_nedges(r3) > 0);
    for (size_t i = 0; i < dmr_elle_nedges(r3); i++) {
        dmr_buf_t b = DMR_BUF_INIT;
        dmr_elle_wire_edge(r3, i, NULL, &b);
        cr_assert_eq(dmr_elle_wire_read_edge(r4, h, b.data, b.len, s_ident, h),
                     0, "%s", b.data);
        dmr_buf_free(&b);
    }
    cr_assert_eq(dmr_elle_nedges(r4), dmr_elle_nedges(r3));
    cr_assert_neq(dmr_elle_wire_read_edge(r4, h, "0 99 1 k 1 1", 12, s_ident,
                                          h),
                  0, "an edge to an unknown transaction");
    cr_assert_neq(dmr_elle_wire_read_edge(r4, h, "0 1 9 k 1 1", 11, s_ident,
                                          h),
                  0, "an edge of an unknown kind");
    for (size_t i = 0; i < recs.n; i++)
        free(recs.rec[i]);
    free(recs.rec);
    free(recs.what);
    dmr_elle_result_destroy(&r);
    dmr_elle_result_destroy(&r2);
    dmr_elle_result_destroy(&r3);
    dmr_elle_result_destroy(&r4);
    dmr_txn_hist_destroy(&h);
}

Test(txnwire, past_the_cap_anomalies_are_counted)
{
    /* five lost updates on five keys */
    dmr_buf_t b = DMR_BUF_INIT;
    for (int k = 0; k < 5; k++)
        for (int p = 0; p < 2; p++)
            dmr_buf_printf(&b,
                           "{:process %d, :type :ok, :f :txn, :value "
                           "[[:r %d nil] [:append %d %d]]}\n",
                           p, k, k, p + 1);
    char err[256];
    dmr_txn_hist_t *h = NULL;
    cr_assert_eq(dmr_txn_hist_parse("l.edn", b.data, b.len, NULL,
                                    DMR_TXN_LIST_APPEND, &h, err, sizeof err),
                 0, "%s", err);
    dmr_elle_opts_t o = {0};
    dmr_elle_result_t *r = NULL;
    cr_assert_eq(dmr_elle_check(h, &o, &r, err, sizeof err), 0);
    s_recs_t recs = {0};
    size_t shown[DMR_ELLE_NTYPES] = {0};
    dmr_elle_wire_anomalies(r, NULL, 2, shown, s_keep, &recs);
    size_t whole = 0, counted = 0;
    for (size_t i = 0; i < recs.n; i++) {
        if (strncmp(recs.rec[i], "lost-update", 11))
            continue;
        if (recs.what[i] == 'a')
            whole++;
        else
            counted += strtoul(recs.rec[i] + 12, NULL, 10);
    }
    cr_assert_eq(whole, 2);
    cr_assert_eq(whole + counted, 5);
    for (size_t i = 0; i < recs.n; i++)
        free(recs.rec[i]);
    free(recs.rec);
    free(recs.what);
    dmr_elle_result_destroy(&r);
    dmr_txn_hist_destroy(&h);
    dmr_buf_free(&b);
}

Test(txnwire, copied_transactions_keep_their_ops_and_text)
{
    const char *text =
        "{:process 3, :type :ok, :f :txn, :value [[:append :k 1] [:r \"s\" [2 :e]]]}\n";
    char err[256];
    dmr_txn_hist_t *src = NULL;
    cr_assert_eq(dmr_txn_hist_parse("c.edn", text, strlen(text), NULL,
                                    DMR_TXN_LIST_APPEND, &src, err, sizeof err),
                 0, "%s", err);
    dmr_txn_hist_t *h = dmr_txn_hist_new("c.edn", NULL, DMR_TXN_LIST_APPEND);
    dmr_txn_key_id(h, "other", 5);
    uint32_t t = dmr_txn_hist_copy(h, src, 0);
    dmr_txn_hist_seal(h);
    cr_assert_eq(t, 0);
    cr_assert_eq(h->txns[0].nmop, 2);
    cr_assert_str_eq(dmr_txn_key_text(h, h->mops[0].key), "k");
    cr_assert_str_eq(dmr_txn_key_text(h, h->mops[1].key), "s");
    char v[64];
    cr_assert_str_eq(dmr_txn_elem_text(h, h->elems[h->mops[1].off + 1], v,
                                       sizeof v),
                     "e");
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    dmr_txn_print_value(h, 0, 200, f);
    fclose(f);
    cr_assert_str_eq(out, "[[:append :k 1] [:r \"s\" [2 :e]]]");
    free(out);
    dmr_txn_hist_destroy(&h);
    dmr_txn_hist_destroy(&src);
}

Test(txnwire, tarjan_finds_the_components)
{
    /* 0 <-> 1, 1 -> 2, 2 -> 3 -> 4 -> 2, 5 alone */
    const uint32_t off[] = {0, 1, 3, 4, 5, 6, 6};
    const uint32_t adj[] = {1, 0, 2, 3, 4, 2};
    uint32_t comp[6];
    size_t n = dmr_elle_tarjan(6, off, adj, comp);
    cr_assert_eq(n, 3);
    cr_assert_eq(comp[0], comp[1]);
    cr_assert_eq(comp[2], comp[3]);
    cr_assert_eq(comp[3], comp[4]);
    cr_assert_neq(comp[0], comp[2]);
    cr_assert_neq(comp[5], comp[0]);
    cr_assert_neq(comp[5], comp[2]);
}
