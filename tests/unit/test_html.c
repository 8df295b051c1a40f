/* test_html.c -- the page of a checked history (check/html.h): each op
 * drawn with the role the part result gives it, only violating parts of a
 * by-key history drawn, and every piece of text from the history escaped.
 * The result lines are written by hand, so these tests do not depend on
 * the checker's search. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/html.h"
#include "check/json.h"
#include "common/alloc.h"

/* A register history. Lines: 1-2 write 1 (ok); 3-5 read 2 (ok, impossible);
 * 4-6 write 3 (info); 7-8 write 4 (fail, after the read returned). */
static const char s_reg[] =
    "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":1}\n"
    "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"value\":1}\n"
    "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\",\"value\":null}\n"
    "{\"process\":2,\"type\":\"invoke\",\"f\":\"write\",\"value\":3}\n"
    "{\"process\":1,\"type\":\"ok\",\"f\":\"read\",\"value\":2}\n"
    "{\"process\":2,\"type\":\"info\",\"f\":\"write\",\"value\":3}\n"
    "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"value\":4}\n"
    "{\"process\":0,\"type\":\"fail\",\"f\":\"write\",\"value\":4}\n";

/* What the checker says of it: the read cannot be linearised. */
static const char s_reg_result[] =
    "{\"file\":\"reg.json\",\"part\":\"\",\"verdict\":\"violation\","
    "\"ops\":4,\"checked\":3,\"ms\":0,"
    "\"blocked\":{\"line\":3,\"ret_line\":5,\"process\":1,\"type\":\"ok\","
    "\"f\":\"read\",\"value\":\"2\"},"
    "\"window\":[{\"line\":3,\"ret_line\":5,\"process\":1,\"type\":\"ok\","
    "\"f\":\"read\",\"value\":\"2\"},{\"line\":4,\"ret_line\":6,"
    "\"process\":2,\"type\":\"info\",\"f\":\"write\",\"value\":\"3\"}],"
    "\"prefix\":1,\"prefix_last\":{\"line\":1,\"ret_line\":2,\"process\":0,"
    "\"type\":\"ok\",\"f\":\"write\",\"value\":\"1\"},\"states\":[\"1\"]}";

static dmr_arena_t *s_arena;

static void s_init(void)
{
    s_arena = dmr_arena_new();
}
static void s_fini(void)
{
    dmr_arena_destroy(&s_arena);
}

TestSuite(html, .init = s_init, .fini = s_fini, .timeout = 10);

static dmr_history_t *s_history(const char *name, const char *text)
{
    char err[256];
    dmr_history_t *h = NULL;
    int rc = dmr_history_parse(name, text, strlen(text), "json", &h, err,
                               sizeof err);
    cr_assert_eq(rc, 0, "history does not parse: %s", err);
    return h;
}

static const dmr_val_t *s_result(const char *json)
{
    char err[256];
    size_t pos = 0;
    uint32_t line = 1;
    dmr_val_t *v = NULL;
    int rc = dmr_json_read(s_arena, json, strlen(json), &pos, &line, &v, err,
                           sizeof err);
    cr_assert_eq(rc, 0, "result does not parse: %s", err);
    return v;
}

/* The page for h and its results, as a string; caller frees. */
static char *s_page(const dmr_history_t *h, const dmr_val_t *const *parts,
                    size_t nparts)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    dmr_check_html(h, parts, nparts, f);
    cr_assert_eq(fclose(f), 0);
    return buf;
}

static size_t s_count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

#define assert_has(page, s)                                                    \
    cr_assert(strstr((page), (s)) != NULL, "page lacks: %s", (s))

Test(html, marks_blocked_window_prefix_and_late_ops)
{
    dmr_history_t *h = s_history("reg.json", s_reg);
    const dmr_val_t *r = s_result(s_reg_result);
    char *page = s_page(h, &r, 1);

    assert_has(page, "<!DOCTYPE html>");
    assert_has(page, "<title>reg.json - dmr check</title>");
    assert_has(page, "class=\"op prefix last\"><title>lines 1-2\n");
    assert_has(page, "class=\"op blocked\"><title>lines 3-5\nprocess 1, ok\n"
                     ":read 2\n");
    /* The info write is the last op of process 2: it runs to the end. */
    assert_has(page, "class=\"op info window open\"><title>lines 4-6\n");
    assert_has(page, "class=\"op fail late\"><title>lines 7-8\n");
    assert_has(page, "fill:url(#hatch-0)");
    assert_has(page, "search stuck at line 5</text>");
    assert_has(page, "gets past line 5;");
    assert_has(page, "Longest linearisable prefix: 1 operation,");
    assert_has(page, "Model states reachable there: <code>1</code>");
    cr_assert_eq(s_count(page, "<svg xmlns"), 1);
    cr_assert_eq(s_count(page, "<g class=\"op"), 4 + 7 /* legend */);

    free(page);
    dmr_history_destroy(&h);
}

/* s_reg's result with the info write out of the window, and a prefix of
 * n ops. */
static const dmr_val_t *s_reg_result_prefix(int n)
{
    char *json = dmr_sprintf(
        "{\"file\":\"reg.json\",\"part\":\"\",\"verdict\":\"violation\","
        "\"blocked\":{\"line\":3,\"ret_line\":5,\"process\":1},"
        "\"window\":[{\"line\":3,\"ret_line\":5,\"process\":1}],"
        "\"prefix\":%d}",
        n);
    const dmr_val_t *v = s_result(json);
    free(json);
    return v;
}

Test(html, draws_info_ops_in_the_prefix_only_when_its_length_says_so)
{
    dmr_history_t *h = s_history("reg.json", s_reg);
    const dmr_val_t *r = s_reg_result_prefix(2);
    char *page = s_page(h, &r, 1);
    /* 2 = the ok write + the info write: the info write is in it. */
    assert_has(page, "class=\"op info prefix open\"><title>lines 4-6\n");
    free(page);

    r = s_reg_result_prefix(1);
    page = s_page(h, &r, 1);
    /* 1 = the ok write alone: the info write changed nothing. */
    assert_has(page, "class=\"op info open\"><title>lines 4-6\n");
    free(page);
    dmr_history_destroy(&h);
}

Test(html, draws_only_the_violating_parts_of_a_keyed_history)
{
    static const char kv[] =
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"put\",\"key\":\"a\","
        "\"value\":1}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"b\"}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"put\",\"key\":\"a\","
        "\"value\":1}\n"
        "{\"process\":1,\"type\":\"ok\",\"f\":\"get\",\"key\":\"b\","
        "\"value\":7}\n";
    dmr_history_t *h = s_history("kv.json", kv);
    const dmr_val_t *r[2] = {
        s_result("{\"file\":\"kv.json\",\"part\":\"\\\"a\\\"\","
                 "\"verdict\":\"linearizable\",\"ops\":1,\"ms\":0}"),
        s_result("{\"file\":\"kv.json\",\"part\":\"\\\"b\\\"\","
                 "\"verdict\":\"violation\",\"ops\":1,\"ms\":0,"
                 "\"blocked\":{\"line\":2,\"ret_line\":4,\"process\":1,"
                 "\"type\":\"ok\",\"f\":\"get\",\"value\":\"7\"},"
                 "\"window\":[],\"prefix\":0,\"states\":[\"nil\"]}"),
    };
    char *page = s_page(h, r, 2);

    cr_assert_eq(s_count(page, "<svg xmlns"), 1);
    assert_has(page, "<h2>key <code>&quot;b&quot;</code>: not linearizable");
    assert_has(page, "class=\"op blocked\"><title>lines 2-4\nprocess 1, ok\n"
                     ":get 7\nkey &quot;b&quot;\n");
    cr_assert_null(strstr(page, ":put 1"), "part a is drawn");
    assert_has(page, "<td class=\"v-linearizable\">linearizable</td>");

    free(page);
    dmr_history_destroy(&h);
}

Test(html, escapes_every_text_from_the_history)
{
    static const char evil[] =
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\","
        "\"value\":\"<script>'&\\\"\"}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"write\","
        "\"value\":\"<script>'&\\\"\"}\n";
    dmr_history_t *h = s_history("<b>&'\".json", evil);
    char *page = s_page(h, NULL, 0);

    cr_assert_eq(s_count(page, "<script>"), 1, "only the page's own script");
    cr_assert_null(strstr(page, "<b>"));
    assert_has(page, "<h1>&lt;b&gt;&amp;&#39;&quot;.json</h1>");
    assert_has(page, "&lt;script&gt;&#39;&amp;");
    /* With no result the whole history is still drawn, unmarked. */
    assert_has(page, "<g class=\"op\"><title>lines 1-2\n");

    free(page);
    dmr_history_destroy(&h);
}
