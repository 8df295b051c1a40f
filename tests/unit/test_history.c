/* test_history.c -- the history readers of the linearizability checker:
 * values and their arena, the EDN and JSON readers, the three history
 * formats and their translation into one meaning, pairing into ops,
 * format detection, the JSON-lines writer, and every recorded history in
 * ../shared/data/histories.
 *
 * Syntax errors are checked by their whole message where the wording is
 * the point (the line named, what was expected), by a fragment elsewhere. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check/edn.h"
#include "check/history.h"
#include "check/json.h"
#include "check/value.h"
#include "common/alloc.h"
#include "common/error.h"

static dmr_arena_t *s_arena;
static dmr_history_t *s_hist;

static void s_setup(void)
{
    s_arena = dmr_arena_new();
}

static void s_teardown(void)
{
    dmr_arena_destroy(&s_arena);
    dmr_history_destroy(&s_hist);
}

TestSuite(value, .init = s_setup, .fini = s_teardown, .timeout = 30);
TestSuite(edn, .init = s_setup, .fini = s_teardown, .timeout = 30);
TestSuite(json, .init = s_setup, .fini = s_teardown, .timeout = 30);
TestSuite(history, .init = s_setup, .fini = s_teardown, .timeout = 60);

/* ---- fixtures ---------------------------------------------------------- */

typedef int (*s_reader_t)(dmr_arena_t *, const char *, size_t, size_t *,
                          uint32_t *, dmr_val_t **, char *, size_t);

/* Reads the one value of text (which must hold nothing after it). */
static dmr_val_t *s_read_ok(s_reader_t rd, const char *text)
{
    size_t pos = 0;
    uint32_t line = 1;
    dmr_val_t *v = NULL;
    char err[256] = "";
    int rc = rd(s_arena, text, strlen(text), &pos, &line, &v, err, sizeof err);
    cr_assert_eq(rc, 0, "reading %s: rc %d, %s", text, rc, err);
    dmr_val_t *extra;
    rc = rd(s_arena, text, strlen(text), &pos, &line, &extra, err, sizeof err);
    cr_assert_eq(rc, 1, "reading %s: something after the value (rc %d)", text,
                 rc);
    return v;
}

#define S_EDN(text) s_read_ok(dmr_edn_read, text)
#define S_JSON(text) s_read_ok(dmr_json_read, text)

/* Reading text must fail with DMR_ECORRUPT and err equal to want (or,
 * when exact is 0, containing it); *line is then the line err names. */
static void s_read_fails(s_reader_t rd, const char *text, const char *want,
                         int exact)
{
    size_t pos = 0;
    uint32_t line = 1;
    dmr_val_t *v = NULL;
    char err[256] = "";
    int rc;
    do /* values before the bad one are fine */
        rc = rd(s_arena, text, strlen(text), &pos, &line, &v, err, sizeof err);
    while (rc == 0);
    cr_assert_eq(rc, DMR_ECORRUPT, "reading \"%s\": rc %d, want DMR_ECORRUPT",
                 text, rc);
    if (exact)
        cr_assert_str_eq(err, want, "reading \"%s\": err \"%s\", want \"%s\"",
                         text, err, want);
    else
        cr_assert(strstr(err, want), "reading \"%s\": err \"%s\" lacks \"%s\"",
                  text, err, want);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "line %u: ", line);
    cr_assert(strncmp(err, prefix, strlen(prefix)) == 0,
              "*line %u does not match err \"%s\"", line, err);
}

#define S_EDN_FAILS(text, want) s_read_fails(dmr_edn_read, text, want, 0)
#define S_EDN_FAILS_EXACTLY(text, want)                                        \
    s_read_fails(dmr_edn_read, text, want, 1)
#define S_JSON_FAILS(text, want) s_read_fails(dmr_json_read, text, want, 0)
#define S_JSON_FAILS_EXACTLY(text, want)                                       \
    s_read_fails(dmr_json_read, text, want, 1)

static void s_assert_int(const dmr_val_t *v, int64_t want)
{
    cr_assert_not_null(v);
    cr_assert_eq(v->type, DMR_V_INT, "a %s, want an integer",
                 dmr_val_type_name(v->type));
    cr_assert_eq(v->u.i, want, "%lld, want %lld", (long long)v->u.i,
                 (long long)want);
}

static void s_assert_text(const dmr_val_t *v, dmr_vtype_t t, const char *want,
                          size_t n)
{
    cr_assert_not_null(v);
    cr_assert_eq(v->type, t, "a %s, want a %s", dmr_val_type_name(v->type),
                 dmr_val_type_name(t));
    cr_assert_eq(v->u.str.len, n, "length %zu, want %zu", v->u.str.len, n);
    cr_assert(memcmp(v->u.str.s, want, n) == 0, "text \"%s\", want \"%s\"",
              v->u.str.s, want);
    cr_assert_eq(v->u.str.s[n], '\0', "not NUL-terminated");
}

/* v rendered as EDN must be want. */
static void s_assert_edn(const dmr_val_t *v, const char *want)
{
    char buf[1024];
    dmr_val_format(v, buf, sizeof buf);
    cr_assert_str_eq(buf, want, "value %s, want %s", buf, want);
}

/* Parses text as a history into s_hist (format NULL: detect). */
static int s_parse(const char *text, const char *format, char *err,
                   size_t errlen)
{
    dmr_history_destroy(&s_hist);
    err[0] = '\0';
    return dmr_history_parse("h", text, strlen(text), format, &s_hist, err,
                             errlen);
}

static void s_parse_ok(const char *text, const char *format)
{
    char err[256];
    int rc = s_parse(text, format, err, sizeof err);
    cr_assert_eq(rc, 0, "parse failed (%s): %s", dmr_strerror(rc), err);
}

/* Parsing must fail with rc and err exactly want. */
static void s_parse_fails(const char *text, const char *format, int want_rc,
                          const char *want)
{
    char err[256];
    int rc = s_parse(text, format, err, sizeof err);
    cr_assert_eq(rc, want_rc, "rc %d (%s), want %d; err \"%s\"", rc,
                 dmr_strerror(rc), want_rc, err);
    cr_assert_null(s_hist);
    cr_assert_str_eq(err, want, "err \"%s\", want \"%s\"", err, want);
}

static void s_assert_event(size_t i, int64_t process, dmr_evtype_t type,
                           const char *f, const char *value)
{
    cr_assert_lt(i, s_hist->nev, "no event %zu (%zu events)", i, s_hist->nev);
    const dmr_event_t *e = &s_hist->ev[i];
    cr_assert_eq(e->process, process, "event %zu: process %lld, want %lld", i,
                 (long long)e->process, (long long)process);
    cr_assert_eq(e->type, type, "event %zu: type %s, want %s", i,
                 dmr_evtype_name(e->type), dmr_evtype_name(type));
    cr_assert_str_eq(e->f, f, "event %zu: f %s, want %s", i, e->f, f);
    cr_assert_not_null(e->value);
    s_assert_edn(e->value, value);
}

static void s_assert_op(size_t i, uint32_t inv, uint32_t ret, dmr_evtype_t type)
{
    cr_assert_lt(i, s_hist->nops, "no op %zu (%zu ops)", i, s_hist->nops);
    const dmr_op_t *o = &s_hist->ops[i];
    cr_assert_eq(o->inv, inv, "op %zu: inv %u, want %u", i, o->inv, inv);
    cr_assert_eq(o->ret, ret, "op %zu: ret %u, want %u", i, o->ret, ret);
    cr_assert_eq(o->type, type, "op %zu: type %s, want %s", i,
                 dmr_evtype_name(o->type), dmr_evtype_name(type));
}

/* Writes h as JSON-lines, reads that back as "json" and checks that every
 * event and op means the same. */
static void s_assert_json_round_trip(const dmr_history_t *h)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    dmr_history_write_json(h, f);
    cr_assert_eq(fclose(f), 0);
    dmr_history_t *back = NULL;
    char err[256];
    int rc =
        dmr_history_parse("json", text, len, "json", &back, err, sizeof err);
    cr_assert_eq(rc, 0, "%s: reading back its JSON failed: %s", h->name, err);
    cr_assert_eq(back->nev, h->nev, "%s: %zu events came back, want %zu",
                 h->name, back->nev, h->nev);
    cr_assert_eq(back->nops, h->nops, "%s: %zu ops came back, want %zu",
                 h->name, back->nops, h->nops);
    for (size_t i = 0; i < h->nev; i++) {
        const dmr_event_t *a = &h->ev[i], *b = &back->ev[i];
        char va[256], vb[256];
        cr_assert(a->process == b->process && a->type == b->type &&
                      strcmp(a->f, b->f) == 0 && a->time == b->time &&
                      a->index == b->index && a->result == b->result,
                  "%s: event %zu (line %u) changed", h->name, i, a->line);
        cr_assert(dmr_val_equal(a->value, b->value),
                  "%s: event %zu value %s came back as %s", h->name, i,
                  dmr_val_format(a->value, va, sizeof va),
                  dmr_val_format(b->value, vb, sizeof vb));
        cr_assert((!a->key && !b->key) ||
                      (a->key && b->key && dmr_val_equal(a->key, b->key)),
                  "%s: event %zu key changed", h->name, i);
    }
    for (size_t i = 0; i < h->nops; i++)
        cr_assert(h->ops[i].inv == back->ops[i].inv &&
                      h->ops[i].ret == back->ops[i].ret &&
                      h->ops[i].type == back->ops[i].type,
                  "%s: op %zu changed", h->name, i);
    dmr_history_destroy(&back);
    free(text);
}

/* ---- values and the arena --------------------------------------------- */

Test(value, arena_allocations_are_zeroed_and_16_aligned)
{
    static const size_t sizes[] = {1, 3, 16, 17, 100, 5000, 20000, 70000, 7};
    for (int round = 0; round < 50; round++)
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            unsigned char *p = dmr_arena_alloc(s_arena, sizes[k]);
            cr_assert_eq((uintptr_t)p % 16, 0, "%zu bytes at %p", sizes[k],
                         (void *)p);
            for (size_t b = 0; b < sizes[k]; b++)
                cr_assert_eq(p[b], 0, "byte %zu of %zu not zero", b, sizes[k]);
            memset(p, 0xAB, sizes[k]);
        }
    char *s = dmr_arena_strndup(s_arena, "abcdef", 3);
    cr_assert_str_eq(s, "abc");
}

Test(value, reset_arena_hands_out_zeroed_memory_again)
{
    for (int round = 0; round < 3; round++) {
        for (int k = 0; k < 1000; k++) {
            unsigned char *p = dmr_arena_alloc(s_arena, 100);
            for (int b = 0; b < 100; b++)
                cr_assert_eq(p[b], 0, "round %d: byte %d not zero", round, b);
            memset(p, 0xFF, 100);
        }
        const char *a = dmr_arena_intern(s_arena, "read", 4);
        cr_assert_eq(dmr_arena_intern(s_arena, "read", 4), a,
                     "an interned string is shared");
        dmr_arena_reset(s_arena);
    }
}

Test(value, keywords_equal_strings_and_lists_equal_vectors)
{
    cr_assert(dmr_val_equal(S_EDN(":read"), S_EDN("\"read\"")));
    cr_assert(dmr_val_equal(S_EDN("[1 (2 :a)]"), S_EDN("(1 [2 \"a\"])")));
    cr_assert_not(dmr_val_equal(S_EDN("[1 2]"), S_EDN("[2 1]")));
    cr_assert_not(dmr_val_equal(S_EDN("[1 2]"), S_EDN("#{1 2}")));
    cr_assert_not(dmr_val_equal(S_EDN("read"), S_EDN("\"read\"")),
                  "a symbol equals only a symbol");
    cr_assert_not(dmr_val_equal(S_EDN("nil"), S_EDN("false")));
    cr_assert_not(dmr_val_equal(S_EDN("1"), S_EDN("\"1\"")));
    cr_assert(dmr_val_equal(S_EDN("\"a\\u0000b\""), S_JSON("\"a\\u0000b\"")));
    cr_assert_not(dmr_val_equal(S_EDN("\"a\\u0000b\""), S_EDN("\"a\"")),
                  "strings compare by length, NULs included");
}

Test(value, sets_and_maps_compare_regardless_of_order)
{
    cr_assert(dmr_val_equal(S_EDN("#{1 2 3}"), S_EDN("#{3 1 2}")));
    cr_assert_not(dmr_val_equal(S_EDN("#{1 2 3}"), S_EDN("#{1 2 4}")));
    cr_assert(
        dmr_val_equal(S_EDN("{:a 1 :b [2]}"), S_JSON("{\"b\":[2],\"a\":1}")));
    cr_assert_not(dmr_val_equal(S_EDN("{:a 1 :b 2}"), S_EDN("{:a 2 :b 1}")));
    cr_assert_not(dmr_val_equal(S_EDN("{:a 1}"), S_EDN("{:a 1 :b 2}")));
}

Test(value, get_finds_a_key_by_keyword_or_string_name)
{
    const dmr_val_t *m = S_EDN("{:f :read, \"key\" 3, 7 8}");
    cr_assert(dmr_val_is_name(dmr_val_get(m, "f"), "read"));
    s_assert_int(dmr_val_get(m, "key"), 3);
    cr_assert_null(dmr_val_get(m, "value"));
    cr_assert_null(dmr_val_get(S_EDN("[:f 1]"), "f"), "not a map");
}

Test(value, prints_as_edn_and_as_json)
{
    const dmr_val_t *v =
        S_EDN("{:a [1 nil true] :b (\"x\\\"y\" sym) :c #{:k} 5 {}}");
    s_assert_edn(v, "{:a [1 nil true], :b (\"x\\\"y\" sym), :c #{:k}, 5 {}}");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    dmr_val_print_json(v, f);
    fclose(f);
    cr_assert_str_eq(text, "{\"a\":[1,null,true],\"b\":[\"x\\\"y\",\"sym\"],"
                           "\"c\":[\"k\"],\"5\":{}}");
    free(text);
}

Test(value, strings_print_escaped_and_read_back_the_same)
{
    const dmr_val_t *v = S_JSON("\"q\\\" b\\\\ n\\n t\\t r\\r c\\u0001 "
                                "\\u00e9\"");
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    dmr_val_print_json(v, f);
    fclose(f);
    cr_assert(dmr_val_equal(S_JSON(text), v), "JSON %s did not read back",
              text);
    cr_assert(dmr_val_equal(S_EDN(text), v), "EDN %s did not read back", text);
    free(text);
}

Test(value, format_cuts_long_values_with_an_ellipsis)
{
    char buf[12];
    const dmr_val_t *v = S_EDN("[1 2 3 4 5 6 7 8 9 10]");
    cr_assert_str_eq(dmr_val_format(v, buf, sizeof buf), "[1 2 3 4...");
    cr_assert_str_eq(dmr_val_format(S_EDN("[1 2]"), buf, sizeof buf), "[1 2]");
    cr_assert_str_eq(dmr_val_format(S_EDN("[1 2 3 4 5]"), buf, sizeof buf),
                     "[1 2 3 4 5]", "exactly 11 characters fit");
}

/* ---- EDN --------------------------------------------------------------- */

Test(edn, reads_nested_collections_of_every_kind)
{
    const dmr_val_t *v = S_EDN("{:a [1 -2 +3 4N] :b (nil true false)\n"
                               " :c #{:x \"y\"} \"k\" ns/sym? :e []}");
    cr_assert_eq(v->type, DMR_V_MAP);
    cr_assert_eq(v->u.seq.n, 10);
    const dmr_val_t *a = dmr_val_get(v, "a");
    cr_assert_eq(a->type, DMR_V_VEC);
    s_assert_int(a->u.seq.items[0], 1);
    s_assert_int(a->u.seq.items[1], -2);
    s_assert_int(a->u.seq.items[2], 3);
    s_assert_int(a->u.seq.items[3], 4);
    const dmr_val_t *b = dmr_val_get(v, "b");
    cr_assert_eq(b->type, DMR_V_LIST);
    cr_assert_eq(b->u.seq.items[0]->type, DMR_V_NIL);
    cr_assert(b->u.seq.items[1]->type == DMR_V_BOOL && b->u.seq.items[1]->u.b);
    cr_assert(b->u.seq.items[2]->type == DMR_V_BOOL && !b->u.seq.items[2]->u.b);
    const dmr_val_t *c = dmr_val_get(v, "c");
    cr_assert_eq(c->type, DMR_V_SET);
    cr_assert_eq(c->line, 2, "the set starts on line 2, not %u", c->line);
    s_assert_text(c->u.seq.items[0], DMR_V_KW, "x", 1);
    s_assert_text(c->u.seq.items[1], DMR_V_STR, "y", 1);
    s_assert_text(dmr_val_get(v, "k"), DMR_V_SYM, "ns/sym?", 7);
    cr_assert_eq(dmr_val_get(v, "e")->u.seq.n, 0);
}

Test(edn, skips_comments_commas_and_discarded_values)
{
    const dmr_val_t *v = S_EDN("; a history\n[1, #_ 2 #_ #_ 3 4 5 ; six:\n"
                               " 6 #_[7 [8]] #_{:a 1}] ; end");
    s_assert_edn(v, "[1 5 6]");
    cr_assert_eq(v->line, 2);
    s_assert_edn(S_EDN("{:a #_ :b 1}"), "{:a 1}");
    s_assert_edn(S_EDN("#_ :gone :kept"), ":kept");
}

Test(edn, decodes_string_escapes)
{
    const dmr_val_t *v =
        S_EDN("\"q\\\" b\\\\ n\\n t\\t r\\r \\u00e9 \\u20ac \\ud83d\\ude00\"");
    const char want[] = "q\" b\\ n\n t\t r\r \xc3\xa9 \xe2\x82\xac "
                        "\xf0\x9f\x98\x80";
    s_assert_text(v, DMR_V_STR, want, sizeof want - 1);
    s_assert_text(S_EDN("\"nul\\u0000in\""), DMR_V_STR, "nul\0in", 6);
}

Test(edn, reads_one_value_per_call_and_counts_lines)
{
    const char *text = "1 \"two\nlines\"\n; comment\n :three\n\n";
    size_t pos = 0;
    uint32_t line = 1;
    dmr_val_t *v;
    char err[128];
    size_t len = strlen(text);
    cr_assert_eq(dmr_edn_read(s_arena, text, len, &pos, &line, &v, err, 128),
                 0);
    s_assert_int(v, 1);
    cr_assert_eq(dmr_edn_read(s_arena, text, len, &pos, &line, &v, err, 128),
                 0);
    cr_assert_eq(v->line, 1);
    cr_assert_eq(line, 2, "a string spanning lines moves the line on");
    cr_assert_eq(dmr_edn_read(s_arena, text, len, &pos, &line, &v, err, 128),
                 0);
    s_assert_text(v, DMR_V_KW, "three", 5);
    cr_assert_eq(v->line, 4, "the keyword is on line 4, not %u", v->line);
    cr_assert_eq(dmr_edn_read(s_arena, text, len, &pos, &line, &v, err, 128),
                 1);
    cr_assert_eq(pos, len);
    cr_assert_eq(line, 6);
    cr_assert_eq(dmr_edn_read(s_arena, "", 0, &pos, &line, &v, err, 128), 1,
                 "empty input is the end");
}

Test(edn, reads_the_int64_range_and_rejects_overflow)
{
    s_assert_int(S_EDN("9223372036854775807"), INT64_MAX);
    s_assert_int(S_EDN("-9223372036854775808"), INT64_MIN);
    s_assert_int(S_EDN("-0"), 0);
    S_EDN_FAILS_EXACTLY("[1\n 9223372036854775808]",
                        "line 2: expected an integer in the 64-bit range, "
                        "found '9223372036854775808'");
    S_EDN_FAILS("-9223372036854775809", "64-bit range");
}

Test(edn, rejects_floats_ratios_and_leading_zeros)
{
    S_EDN_FAILS_EXACTLY("1.5", "line 1: expected an integer (floating-point "
                               "numbers are not supported), found '1.5'");
    S_EDN_FAILS("[1e3]", "(floating-point numbers are not supported), found "
                         "'1e3'");
    S_EDN_FAILS("2.0M", "floating-point");
    S_EDN_FAILS(".5", "floating-point");
    S_EDN_FAILS("1/2", "ratios are not supported");
    S_EDN_FAILS("007", "expected an integer without leading zeros, found "
                       "'007'");
    S_EDN_FAILS("12ab", "expected an integer, found '12ab'");
}

Test(edn, names_the_line_where_an_unclosed_vector_opened)
{
    S_EDN_FAILS_EXACTLY("\n[1\n2\n", "line 2: expected ']' to close the "
                                     "vector opened here, found end of input");
    S_EDN_FAILS_EXACTLY("{:a (1\n", "line 1: expected ')' to close the list "
                                    "opened here, found end of input");
    S_EDN_FAILS_EXACTLY("#{1 2", "line 1: expected '}' to close the set "
                                 "opened here, found end of input");
}

Test(edn, names_both_lines_of_a_mismatched_bracket)
{
    S_EDN_FAILS_EXACTLY("{:a [1\n2}", "line 2: expected ']' to close the "
                                      "vector opened on line 1, found '}'");
}

Test(edn, names_the_line_where_an_unterminated_string_opened)
{
    S_EDN_FAILS_EXACTLY("\n[\"abc\ndef]\n", "line 2: expected '\"' to close "
                                            "the string opened here, found "
                                            "end of input");
    S_EDN_FAILS("\"ends in a backslash\\", "expected '\"' to close");
}

Test(edn, rejects_stray_closers_and_odd_maps)
{
    S_EDN_FAILS_EXACTLY("1 ]", "line 1: expected a value, found ']'");
    S_EDN_FAILS_EXACTLY("{:a 1\n :b}", "line 2: expected a value after the "
                                       "last key of the map opened on line "
                                       "1, found '}'");
    S_EDN_FAILS_EXACTLY("[1 #_]", "line 1: expected a value to discard "
                                  "after the #_ on line 1, found ']'");
    S_EDN_FAILS("#_", "expected a value to discard");
}

Test(edn, rejects_what_histories_do_not_use)
{
    S_EDN_FAILS("#inst \"2020\"", "(tagged literals are not supported), found "
                                  "'#inst'");
    S_EDN_FAILS("\\a", "character literals are not supported");
    S_EDN_FAILS("^:meta x", "expected a value, found '^'");
    S_EDN_FAILS("\"\\q\"", "found '\\q'");
    S_EDN_FAILS("\"\\u12\"", "expected \\u and 4 hex digits");
    S_EDN_FAILS("\"\\udc00\"", "expected \\u and 4 hex digits");
    S_EDN_FAILS(": x", "expected a keyword name after ':'");
    S_EDN_FAILS("::auto", "expected a keyword");
    S_EDN_FAILS("a@b", "expected a value, found 'a@b'");
}

Test(edn, refuses_nesting_deeper_than_the_limit)
{
    size_t n = 100000;
    char *deep = dmr_malloc(2 * n + 1);
    /* exactly the limit is fine */
    memset(deep, '[', DMR_EDN_MAX_DEPTH);
    memset(deep + DMR_EDN_MAX_DEPTH, ']', DMR_EDN_MAX_DEPTH);
    deep[2 * DMR_EDN_MAX_DEPTH] = '\0';
    const dmr_val_t *v = S_EDN(deep);
    cr_assert_eq(v->type, DMR_V_VEC);
    /* one more is refused; far more does not overflow the stack */
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    S_EDN_FAILS(deep, "expected at most 256 nested levels, found more");
    memset(deep, '(', DMR_EDN_MAX_DEPTH + 1);
    deep[DMR_EDN_MAX_DEPTH + 1] = '\0';
    S_EDN_FAILS(deep, "nested levels");
    for (size_t i = 0; i < n; i++)
        memcpy(deep + 2 * i, "#_", 2);
    deep[2 * n] = '\0';
    S_EDN_FAILS(deep, "nested levels");
    free(deep);
}

Test(edn, an_error_leaves_the_position_alone)
{
    const char *text = "1 [2";
    size_t pos = 0;
    uint32_t line = 1;
    dmr_val_t *v = NULL, *was;
    char err[128];
    cr_assert_eq(dmr_edn_read(s_arena, text, 4, &pos, &line, &v, err, 128), 0);
    was = v;
    size_t before = pos;
    cr_assert_eq(dmr_edn_read(s_arena, text, 4, &pos, &line, &v, err, 128),
                 DMR_ECORRUPT);
    cr_assert_eq(pos, before);
    cr_assert_eq(v, was, "*out untouched");
    cr_assert_eq(dmr_edn_read(s_arena, text, 4, &pos, &line, &v, NULL, 0),
                 DMR_ECORRUPT, "no error buffer is fine");
}

/* ---- JSON -------------------------------------------------------------- */

Test(json, reads_every_kind_of_value)
{
    const dmr_val_t *v = S_JSON(" {\"a\" : [1, -2, true, false, null, \"s\"],"
                                "\n \"b\":{}, \"c\":[] } ");
    cr_assert_eq(v->type, DMR_V_MAP);
    s_assert_text(v->u.seq.items[0], DMR_V_STR, "a", 1);
    s_assert_edn(dmr_val_get(v, "a"), "[1 -2 true false nil \"s\"]");
    const dmr_val_t *b = dmr_val_get(v, "b");
    cr_assert_eq(b->type, DMR_V_MAP);
    cr_assert_eq(b->line, 2);
    cr_assert_eq(dmr_val_get(v, "c")->type, DMR_V_VEC);
    s_assert_int(S_JSON("-9223372036854775808"), INT64_MIN);
    s_assert_int(S_JSON("0"), 0);
}

Test(json, decodes_escapes_to_utf8)
{
    const dmr_val_t *v = S_JSON("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20ac"
                                "\\uD83D\\uDE00\\u0000\"");
    const char want[] = "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    s_assert_text(v, DMR_V_STR, want, sizeof want);
}

Test(json, rejects_fractions_and_exponents)
{
    S_JSON_FAILS_EXACTLY("[1.5]", "line 1: expected an integer (fractions "
                                  "and exponents are not supported), found "
                                  "'1.5'");
    S_JSON_FAILS("1e3", "fractions and exponents are not supported");
    S_JSON_FAILS("-1E-3", "fractions and exponents are not supported");
}

Test(json, rejects_what_strict_json_does_not_allow)
{
    S_JSON_FAILS("01", "expected an integer without leading zeros");
    S_JSON_FAILS("9223372036854775808", "64-bit range");
    S_JSON_FAILS("-", "expected a value, found '-'");
    S_JSON_FAILS("[1,]", "expected a value, found ']'");
    S_JSON_FAILS("{\"a\":1,}", "expected a string key in the object opened "
                               "on line 1, found '}'");
    S_JSON_FAILS("{a:1}", "expected a string key");
    S_JSON_FAILS("{\"a\" 1}", "expected ':' after the key, found '1'");
    S_JSON_FAILS("[1 2]", "expected ',' or ']' in the array opened on line "
                          "1, found '2'");
    S_JSON_FAILS("nul", "expected a value, found 'nul'");
    S_JSON_FAILS("truex", "expected a value, found 'truex'");
    S_JSON_FAILS("'a'", "expected a value");
    S_JSON_FAILS("\"tab\there\"", "control characters must be escaped");
    S_JSON_FAILS("\"\\x\"", "found '\\x'");
    S_JSON_FAILS("\"\\ud800\"", "expected \\u and 4 hex digits (a surrogate "
                                "in a pair)");
    S_JSON_FAILS("\"\\u00g0\"", "expected \\u and 4 hex digits");
}

Test(json, names_the_line_of_an_unclosed_container_or_string)
{
    S_JSON_FAILS_EXACTLY("\n{\"a\": [1,\n2", "line 2: expected ']' to close "
                                             "the array opened here, found "
                                             "end of input");
    S_JSON_FAILS_EXACTLY("{\"a\": 1\n", "line 1: expected '}' to close the "
                                        "object opened here, found end of "
                                        "input");
    S_JSON_FAILS_EXACTLY("{\"a\": \"open\n}", "line 1: expected '\"' to close "
                                              "the string, found end of line");
    S_JSON_FAILS_EXACTLY("\"open", "line 1: expected '\"' to close the string "
                                   "opened here, found end of input");
}

Test(json, refuses_nesting_deeper_than_the_limit)
{
    size_t n = 100000;
    char *deep = dmr_malloc(n + 1);
    memset(deep, '[', n);
    deep[n] = '\0';
    S_JSON_FAILS(deep, "expected at most 256 nested levels, found more");
    memset(deep, '[', DMR_JSON_MAX_DEPTH);
    memset(deep + DMR_JSON_MAX_DEPTH, ']', DMR_JSON_MAX_DEPTH);
    deep[2 * DMR_JSON_MAX_DEPTH] = '\0';
    cr_assert_eq(S_JSON(deep)->type, DMR_V_VEC);
    free(deep);
}

/* ---- the edn format ---------------------------------------------------- */

Test(history, edn_vector_pairs_ops_in_order_of_invocation)
{
    s_parse_ok("; Knossos\n"
               "[{:process 0, :type :invoke, :f :write, :value 1, :time 5}\n"
               " {:process 1, :type :invoke, :f :cas, :value [1 2]}\n"
               " {:process 0, :type :ok, :f :write, :value 1, :index 7}\n"
               " {:process 1, :type :fail, :f :cas, :value [1 2]}\n"
               " {:process 2, :type :invoke, :f :read, :value nil}]\n",
               NULL);
    cr_assert_str_eq(s_hist->format, "edn");
    cr_assert_str_eq(s_hist->name, "h");
    cr_assert_eq(s_hist->nev, 5);
    s_assert_event(0, 0, DMR_EV_INVOKE, "write", "1");
    s_assert_event(1, 1, DMR_EV_INVOKE, "cas", "[1 2]");
    s_assert_event(3, 1, DMR_EV_FAIL, "cas", "[1 2]");
    s_assert_event(4, 2, DMR_EV_INVOKE, "read", "nil");
    cr_assert_eq(s_hist->ev[0].time, 5);
    cr_assert_eq(s_hist->ev[0].index, -1);
    cr_assert_eq(s_hist->ev[2].index, 7);
    cr_assert_eq(s_hist->ev[2].time, -1);
    cr_assert_eq(s_hist->ev[1].line, 3);
    cr_assert_eq(s_hist->ev[3].result, -1, "a Knossos fail has no result");
    cr_assert_null(s_hist->ev[0].key);
    cr_assert_eq(s_hist->nops, 3);
    s_assert_op(0, 0, 2, DMR_EV_OK);
    s_assert_op(1, 1, 3, DMR_EV_FAIL);
    s_assert_op(2, 4, UINT32_MAX, DMR_EV_INFO);
}

Test(history, edn_reads_one_map_per_line_with_keys)
{
    s_parse_ok("{:process 9, :type :invoke, :f :append, :key \"0\", "
               ":value \"x 9 0 y\"}\n"
               "{:process 1, :type :invoke, :f :get, :key \"9\", :value nil}\n"
               "{:process 1, :type :ok, :f :get, :key \"9\", :value nil}\n"
               "{:process 9, :type :ok, :f :append, :key \"0\", "
               ":value \"x 9 0 y\"}\n",
               NULL);
    cr_assert_str_eq(s_hist->format, "edn");
    cr_assert_eq(s_hist->nev, 4);
    s_assert_edn(s_hist->ev[0].key, "\"0\"");
    s_assert_event(2, 1, DMR_EV_OK, "get", "nil");
    s_assert_op(0, 0, 3, DMR_EV_OK);
    s_assert_op(1, 1, 2, DMR_EV_OK);
}

Test(history, edn_maps_may_span_lines_between_comments)
{
    s_parse_ok("; A multi-register\n"
               "{:type :invoke,\n :f :txn,\n ; a comment inside\n"
               " :value [[:read :x nil]],\n :process 3}\n"
               "{:type :ok, :f :txn, :value [[:read :x 0]], :process 3}\n",
               "edn");
    cr_assert_eq(s_hist->nev, 2);
    cr_assert_eq(s_hist->ev[0].line, 2);
    cr_assert_eq(s_hist->ev[1].line, 7);
    s_assert_event(1, 3, DMR_EV_OK, "txn", "[[:read :x 0]]");
}

Test(history, edn_ok_read_of_nil_is_an_info_read)
{
    s_parse_ok("[{:process 0, :type :invoke, :f :read, :value nil}\n"
               " {:process 0, :type :ok, :f :read, :value nil}\n"
               " {:process 1, :type :invoke, :f :read}\n"
               " {:process 1, :type :ok, :f :read, :value 3}\n"
               " {:process 2, :type :invoke, :f :get, :value nil}\n"
               " {:process 2, :type :ok, :f :get, :value nil}]",
               NULL);
    s_assert_event(1, 0, DMR_EV_INFO, "read", "nil");
    s_assert_op(0, 0, 1, DMR_EV_INFO);
    s_assert_event(2, 1, DMR_EV_INVOKE, "read", "nil");
    s_assert_op(1, 2, 3, DMR_EV_OK);
    s_assert_op(2, 4, 5, DMR_EV_OK);
}

Test(history, edn_skips_the_nemesis_but_not_other_odd_processes)
{
    s_parse_ok("[{:type :info, :f :start, :process :nemesis}\n"
               " {:process 0, :type :invoke, :f :read}\n"
               " {:type :info, :f :start, :process :nemesis, :value \"x\"}\n"
               " {:process 0, :type :ok, :f :read, :value 1}]",
               NULL);
    cr_assert_eq(s_hist->nev, 2);
    s_assert_op(0, 0, 1, DMR_EV_OK);
    s_parse_fails("[{:process \"p1\", :type :invoke, :f :read}]", NULL,
                  DMR_EINVAL,
                  "h:1: expected an integer :process (or a keyword such as "
                  ":nemesis), found \"p1\"");
}

Test(history, edn_rejects_what_is_not_a_history)
{
    s_parse_fails("[{:process 0, :type :invoke, :f :read}\n 3]", NULL,
                  DMR_EINVAL, "h:2: expected a map (an op), found integer 3");
    s_parse_fails("[] {}", NULL, DMR_EINVAL,
                  "h:1: expected end of input after the vector of ops, found "
                  "{}");
    s_parse_fails(":x", "edn", DMR_EINVAL,
                  "h:1: expected a vector of ops or a map (an op), found "
                  "keyword :x");
    s_parse_fails("{:process 0, :type :invoke, :f :read, :time -1}", NULL,
                  DMR_EINVAL,
                  "h:1: expected a non-negative integer :time, found -1");
    s_parse_fails("{:process 0, :type :invoke, :f :read, :index :x}", NULL,
                  DMR_EINVAL,
                  "h:1: expected a non-negative integer :index, found :x");
    s_parse_fails("{:process 0, :type :invoke, :f 3}", NULL, DMR_EINVAL,
                  "h:1: expected :f to name an operation, found 3");
}

Test(history, a_syntax_error_names_the_file_and_line)
{
    s_parse_fails("[{:process 0, :type :invoke, :f :read}\n"
                  " {:process 0, :type :ok, :f :read, :value 1.5}]",
                  NULL, DMR_ECORRUPT,
                  "h:2: expected an integer (floating-point numbers are not "
                  "supported), found '1.5'");
    s_parse_fails("[{:process 0, :type :invoke, :f :read}\n"
                  " {:process 0, :type :ok\n",
                  NULL, DMR_ECORRUPT,
                  "h:2: expected '}' to close the map opened here, found end "
                  "of input");
    s_parse_fails("\n\n[{:process 0}", NULL, DMR_ECORRUPT,
                  "h:3: expected ']' to close the vector opened here, found "
                  "end of input");
}

/* ---- pairing ----------------------------------------------------------- */

Test(history, a_completion_without_an_invocation_is_an_error)
{
    s_parse_fails("{:process 0, :type :invoke, :f :read}\n"
                  "{:process 3, :type :ok, :f :read, :value 1}\n",
                  NULL, DMR_EINVAL,
                  "h:2: process 3 completes :read but has no open invocation");
    s_parse_fails("{\"process\":1,\"type\":\"invoke\",\"f\":\"w\"}\n"
                  "{\"process\":1,\"type\":\"ok\",\"f\":\"w\"}\n"
                  "{\"process\":1,\"type\":\"info\",\"f\":\"w\"}\n",
                  NULL, DMR_EINVAL,
                  "h:3: process 1 completes :w but has no open invocation");
}

Test(history, a_second_invocation_while_one_is_open_is_an_error)
{
    s_parse_fails("{:process 2, :type :invoke, :f :read}\n"
                  "{:process 1, :type :invoke, :f :read}\n"
                  "{:process 2, :type :invoke, :f :write, :value 1}\n",
                  NULL, DMR_EINVAL,
                  "h:3: process 2 invokes :write while its :read invoked on "
                  "line 1 has not completed");
}

Test(history, a_completion_of_another_operation_is_an_error)
{
    s_parse_fails("{:process 2, :type :invoke, :f :read}\n\n"
                  "{:process 2, :type :ok, :f :write, :value 1}\n",
                  NULL, DMR_EINVAL,
                  "h:3: process 2 completes :write but its open invocation "
                  "(line 1) is :read");
}

Test(history, unknown_types_and_missing_fields_are_errors)
{
    s_parse_fails("{:process 2, :type :invoke, :f :read}\n"
                  "{:process 2, :type :done, :f :read}\n",
                  NULL, DMR_EINVAL,
                  "h:2: expected :type to be invoke, ok, fail or info, found "
                  ":done");
    s_parse_fails("{:type :invoke, :f :read}", NULL, DMR_EINVAL,
                  "h:1: op has no :process");
    s_parse_fails("{:process 1, :f :read}", NULL, DMR_EINVAL,
                  "h:1: op has no :type");
    s_parse_fails("{:process 1, :type :invoke}", NULL, DMR_EINVAL,
                  "h:1: op has no :f");
    s_parse_fails("{\"process\":1,\"type\":\"invoke\"}", NULL, DMR_EINVAL,
                  "h:1: op has no \"f\"");
}

Test(history, an_op_never_completed_is_info_without_a_completion)
{
    s_parse_ok("{:process 1, :type :invoke, :f :write, :value 1}\n"
               "{:process 2, :type :invoke, :f :read}\n"
               "{:process 2, :type :info, :f :read}\n",
               NULL);
    s_assert_op(0, 0, UINT32_MAX, DMR_EV_INFO);
    s_assert_op(1, 1, 2, DMR_EV_INFO);
}

/* ---- the etcd format --------------------------------------------------- */

#define S_ETCD(p, rest) "INFO  jepsen.util - " #p "\t" rest "\n"

Test(history, etcd_failed_cas_is_an_ok_op_with_false_result)
{
    s_parse_ok(S_ETCD(3, ":invoke\t:cas\t[1 4]")
                   S_ETCD(3, ":fail\t:cas\t[1 4]"),
               NULL);
    cr_assert_str_eq(s_hist->format, "etcd");
    s_assert_event(1, 3, DMR_EV_OK, "cas", "[1 4]");
    cr_assert_eq(s_hist->ev[1].result, 0);
    cr_assert_eq(s_hist->ev[0].result, -1);
    s_assert_op(0, 0, 1, DMR_EV_OK);
}

Test(history, etcd_ok_cas_is_an_ok_op_with_true_result)
{
    s_parse_ok(S_ETCD(0, ":invoke\t:cas\t[2 0]") S_ETCD(0, ":ok\t:cas\t[2 0]"),
               NULL);
    s_assert_event(1, 0, DMR_EV_OK, "cas", "[2 0]");
    cr_assert_eq(s_hist->ev[1].result, 1);
}

Test(history, etcd_timeouts_are_info_ops_keeping_the_invoked_value)
{
    s_parse_ok(S_ETCD(1, ":invoke\t:read\tnil") S_ETCD(2, ":invoke\t:write\t4")
                   S_ETCD(4, ":invoke\t:cas\t[4 1]")
                       S_ETCD(1, ":fail\t:read\t:timed-out")
                           S_ETCD(2, ":info\t:write\t:timed-out")
                               S_ETCD(4, ":info\t:cas\t:timed-out")
                                   S_ETCD(7, ":invoke\t:read\tnil")
                                       S_ETCD(7, ":ok\t:read\tnil"),
               NULL);
    s_assert_event(3, 1, DMR_EV_INFO, "read", ":timed-out");
    s_assert_event(4, 2, DMR_EV_INFO, "write", ":timed-out");
    s_assert_event(1, 2, DMR_EV_INVOKE, "write", "4");
    s_assert_op(0, 0, 3, DMR_EV_INFO);
    s_assert_op(1, 1, 4, DMR_EV_INFO);
    s_assert_op(2, 2, 5, DMR_EV_INFO);
    cr_assert_eq(s_hist->ev[5].result, -1);
    s_assert_event(7, 7, DMR_EV_OK, "read", "nil");
    s_assert_op(3, 6, 7, DMR_EV_OK);
}

Test(history, etcd_reads_tabs_or_runs_of_spaces_and_blank_lines)
{
    s_parse_ok("INFO  jepsen.util - 0 :invoke :write 3\r\n"
               "\n"
               "INFO\tjepsen.util\t-\t0\t\t:ok   :write  3   \n",
               "etcd");
    s_assert_event(1, 0, DMR_EV_OK, "write", "3");
    cr_assert_eq(s_hist->ev[1].line, 3);
}

Test(history, etcd_rejects_lines_that_are_not_log_lines)
{
    s_parse_fails(S_ETCD(0, ":invoke\t:read\tnil") "WARN something else\n",
                  NULL, DMR_EINVAL,
                  "h:2: expected 'INFO  jepsen.util - PROCESS :TYPE :F "
                  "VALUE', found 'WARN something else'");
    s_parse_fails(S_ETCD(0, ":invoke\t:read"), NULL, DMR_EINVAL,
                  "h:1: expected a value (the line reads 'INFO  jepsen.util - "
                  "PROCESS :TYPE :F VALUE'), found end of line");
    s_parse_fails(S_ETCD(0, ":invoke\t:read\tnil\textra"), NULL, DMR_EINVAL,
                  "h:1: expected end of line after the value, found extra");
    s_parse_fails(S_ETCD(0, ":invoke\t:write\t\"x\""), NULL, DMR_EINVAL,
                  "h:1: expected a value (nil, an integer, [A B] or "
                  ":timed-out), found \"x\"");
    s_parse_fails(S_ETCD(0, ":invoke\t:cas\t[1 2 3]"), NULL, DMR_EINVAL,
                  "h:1: expected a value (nil, an integer, [A B] or "
                  ":timed-out), found [1 2 3]");
    s_parse_fails(S_ETCD(p, ":invoke\t:read\tnil"), NULL, DMR_EINVAL,
                  "h:1: expected a process number, found p");
    s_parse_fails(S_ETCD(0, ":begin\t:read\tnil"), NULL, DMR_EINVAL,
                  "h:1: expected a :type (:invoke, :ok, :fail or :info), "
                  "found :begin");
    s_parse_fails(S_ETCD(0, ":invoke\t:cas\t[1 2"), NULL, DMR_ECORRUPT,
                  "h:1: expected ']' to close the vector opened here, found "
                  "end of input");
}

/* ---- the json format --------------------------------------------------- */

Test(history, json_lines_skip_blank_and_comment_lines)
{
    s_parse_ok("# a dmr history\n"
               "\n"
               "{\"process\":1,\"type\":\"invoke\",\"f\":\"cas\","
               "\"value\":[1,2],\"time\":10}\n"
               "  # indented comment\n"
               "{\"process\":1,\"type\":\"ok\",\"f\":\"cas\",\"value\":[1,2],"
               "\"result\":false,\"index\":4,\"extra\":\"ignored\"}\n"
               "{\"process\":2,\"type\":\"invoke\",\"f\":\"read\"}",
               NULL);
    cr_assert_str_eq(s_hist->format, "json");
    cr_assert_eq(s_hist->nev, 3);
    s_assert_event(1, 1, DMR_EV_OK, "cas", "[1 2]");
    cr_assert_eq(s_hist->ev[1].result, 0);
    cr_assert_eq(s_hist->ev[1].index, 4);
    cr_assert_eq(s_hist->ev[1].line, 5);
    cr_assert_eq(s_hist->ev[0].time, 10);
    s_assert_event(2, 2, DMR_EV_INVOKE, "read", "nil");
    s_assert_op(0, 0, 1, DMR_EV_OK);
    s_assert_op(1, 2, UINT32_MAX, DMR_EV_INFO);
}

Test(history, json_translates_nothing)
{
    s_parse_ok("{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n"
               "{\"process\":0,\"type\":\"ok\",\"f\":\"read\","
               "\"value\":null}\n",
               NULL);
    s_assert_event(1, 0, DMR_EV_OK, "read", "nil");
}

Test(history, json_rejects_what_is_not_an_op_line)
{
    s_parse_fails("{\"process\":\"1\",\"type\":\"invoke\",\"f\":\"read\"}",
                  "json", DMR_EINVAL,
                  "h:1: expected an integer \"process\", found \"1\"");
    s_parse_fails("{\"process\":1,\"type\":\"ok\",\"f\":\"cas\","
                  "\"result\":0}",
                  "json", DMR_EINVAL,
                  "h:1: expected true or false \"result\", found 0");
    s_parse_fails("{\"process\":1,\"type\":\"invoke\",\"f\":\"read\"} x",
                  "json", DMR_ECORRUPT,
                  "h:1: expected end of line after the object, found 'x'");
    s_parse_fails("[1]", "json", DMR_EINVAL,
                  "h:1: expected an object (an op), found [1]");
    s_parse_fails("\n{\"process\":1,\"value\":1.5}", "json", DMR_ECORRUPT,
                  "h:2: expected an integer (fractions and exponents are not "
                  "supported), found '1.5'");
}

/* ---- detection, loading, empty histories ------------------------------- */

Test(history, detects_each_format_from_its_first_bytes)
{
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"INFO  jepsen.util - 0 :invoke :read nil", "etcd"},
        {"\n{\"process\":0}", "json"},
        {"{ \"process\":0}", "json"},
        {"[{:process 0}]", "edn"},
        {"{:process 0}", "edn"},
        {"({:process 0})", "edn"},
        {"; comment\n\n  [", "edn"},
        {"# comment\n{\"a\":1}", "json"},
        {"", NULL},
        {" \n\t\n", NULL},
        {"; only a comment", NULL},
        {"hello", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const char *got =
            dmr_history_detect(cases[i].text, strlen(cases[i].text));
        cr_assert(got == cases[i].want ||
                      (got && cases[i].want && !strcmp(got, cases[i].want)),
                  "\"%s\": detected %s, want %s", cases[i].text,
                  got ? got : "NULL", cases[i].want ? cases[i].want : "NULL");
    }
}

Test(history, blank_input_is_an_empty_history_in_any_format)
{
    const char *formats[] = {NULL, "edn", "etcd", "json"};
    for (size_t i = 0; i < 4; i++) {
        s_parse_ok(" \n\n", formats[i]);
        cr_assert_eq(s_hist->nev, 0);
        cr_assert_eq(s_hist->nops, 0);
    }
    s_parse_ok("; just a comment\n", "edn");
    cr_assert_eq(s_hist->nev, 0);
    s_parse_ok("", NULL);
    cr_assert_str_eq(s_hist->format, "json");
}

Test(history, unknown_formats_and_content_are_refused)
{
    s_parse_fails("[]", "yaml", DMR_EINVAL,
                  "h: unknown history format \"yaml\" (expected edn, etcd or "
                  "json)");
    s_parse_fails("\nhello", NULL, DMR_EINVAL,
                  "h:2: cannot tell the format: expected a line starting "
                  "with INFO (etcd), '{' (json or edn), '[' or '(' (edn)");
    cr_assert_str_eq(dmr_history_formats[0], "edn");
    cr_assert_str_eq(dmr_history_formats[1], "etcd");
    cr_assert_str_eq(dmr_history_formats[2], "json");
    cr_assert_null(dmr_history_formats[3]);
}

Test(history, load_reads_a_file_or_says_why_not)
{
    char path[] = "/tmp/dmr-test-history-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char text[] = "{:process 0, :type :invoke, :f :read}\n";
    cr_assert_eq(write(fd, text, sizeof text - 1), (ssize_t)sizeof text - 1);
    close(fd);
    char err[256];
    int rc = dmr_history_load(path, NULL, &s_hist, err, sizeof err);
    unlink(path);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_str_eq(s_hist->name, path);
    cr_assert_eq(s_hist->nev, 1);
    dmr_history_t *h = NULL;
    rc = dmr_history_load(path, NULL, &h, err, sizeof err);
    cr_assert_eq(rc, DMR_EIO);
    cr_assert_null(h);
    char want[300];
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory",
             path);
    cr_assert_str_eq(err, want);
    rc = dmr_history_load("/tmp", NULL, &h, err, sizeof err);
    cr_assert_eq(rc, DMR_EIO, "a directory cannot be read");
    cr_assert_str_eq(err, "/tmp: cannot read: Is a directory");
}

/* ---- JSON round trips -------------------------------------------------- */

Test(history, json_round_trip_keeps_every_kind_of_event)
{
    s_parse_ok(
        "{:process 0, :type :invoke, :f :write, :value 1, :time 1, :index 0}\n"
        "{:process 1, :type :invoke, :f :read, :key :k}\n"
        "{:process 2, :type :invoke, :f :cas, :key \"k\\\"\\n\", "
        ":value [1 2]}\n"
        "{:process 3, :type :invoke, :f :txn, "
        ":value [[:r :x nil] (:w :y \"\\u00e9\\t\") {:m [1]}]}\n"
        "{:process 4, :type :invoke, :f \"add\", :value -9223372036854775808}\n"
        "{:process 5, :type :invoke, :f :read}\n"
        "{:process 0, :type :ok, :f :write, :value 1, :time 9}\n"
        "{:process 1, :type :ok, :f :read, :key :k, :value nil}\n"
        "{:process 2, :type :fail, :f :cas, :key \"k\\\"\\n\", "
        ":value [1 2]}\n"
        "{:process 3, :type :info, :f :txn, :value true}\n"
        "{:process 4, :type :ok, :f :add, :value false}\n",
        "edn");
    cr_assert_eq(s_hist->nev, 11);
    s_assert_json_round_trip(s_hist);
    s_parse_ok(S_ETCD(0, ":invoke\t:cas\t[1 4]") S_ETCD(0, ":fail\t:cas\t[1 4]")
                   S_ETCD(1, ":invoke\t:cas\t[1 4]")
                       S_ETCD(1, ":ok\t:cas\t[1 4]")
                           S_ETCD(2, ":invoke\t:read\tnil")
                               S_ETCD(2, ":fail\t:read\t:timed-out"),
               NULL);
    s_assert_json_round_trip(s_hist);
}

Test(history, events_written_with_their_lines_report_the_original_lines)
{
    s_parse_ok("; header\n"
               "{:process 1, :type :invoke, :f :read}\n\n"
               "{:process 2, :type :invoke, :f :write, :value 5}\n"
               "{:process 1, :type :ok, :f :read, :value 5}\n",
               NULL);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    dmr_history_write_event_json(s_hist, 2, 0, f);
    dmr_history_write_event_json(s_hist, 0, 1, f);
    dmr_history_write_event_json(s_hist, 2, 1, f);
    fclose(f);
    cr_assert_str_eq(text, "{\"process\":1,\"type\":\"ok\",\"f\":\"read\","
                           "\"value\":5}\n"
                           "{\"process\":1,\"type\":\"invoke\",\"f\":\"read\","
                           "\"value\":null,\"line\":2}\n"
                           "{\"process\":1,\"type\":\"ok\",\"f\":\"read\","
                           "\"value\":5,\"line\":5}\n");
    /* the part: the invocation and completion of process 1 */
    char err[256];
    dmr_history_t *part = NULL;
    const char *two = strchr(text, '\n') + 1;
    int rc = dmr_history_parse("part", two, strlen(two), "json", &part, err,
                               sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(part->ev[0].line, 2);
    cr_assert_eq(part->ev[1].line, 5);
    dmr_history_destroy(&part);
    /* and a message about it names the original line too */
    rc = dmr_history_parse("part", text, len, "json", &part, err, sizeof err);
    cr_assert_eq(rc, DMR_EINVAL);
    cr_assert_str_eq(err, "part:1: process 1 completes :read but has no open "
                          "invocation");
    rc = dmr_history_parse("part", strchr(two, '\n') + 1,
                           strlen(strchr(two, '\n') + 1), "json", &part, err,
                           sizeof err);
    cr_assert_str_eq(err, "part:5: process 1 completes :read but has no open "
                          "invocation");
    s_parse_fails("{\"process\":1,\"type\":\"invoke\",\"f\":\"r\","
                  "\"line\":0}",
                  "json", DMR_EINVAL,
                  "h:1: expected a line number \"line\", found 0");
    free(text);
}

/* Every recorded history of the shared data set parses, and its JSON
 * round trip keeps its events and ops. */
Test(history, every_shared_history_parses_and_round_trips)
{
    static const char *const dirs[] = {"knossos", "jepsen-etcd",
                                       "porcupine-kv"};
    const char *root = "../shared/data/histories";
    struct stat st;
    if (stat(root, &st) != 0)
        cr_skip_test("%s is absent", root);
    size_t files = 0, events = 0;
    for (size_t d = 0; d < sizeof dirs / sizeof *dirs; d++) {
        char *stack[64];
        size_t n = 0;
        stack[n++] = dmr_sprintf("%s/%s", root, dirs[d]);
        while (n) {
            char *dir = stack[--n];
            DIR *dp = opendir(dir);
            cr_assert_not_null(dp, "cannot open %s", dir);
            struct dirent *e;
            while ((e = readdir(dp)) != NULL) {
                if (e->d_name[0] == '.')
                    continue;
                char *path = dmr_sprintf("%s/%s", dir, e->d_name);
                cr_assert_eq(stat(path, &st), 0);
                if (S_ISDIR(st.st_mode)) {
                    cr_assert_lt(n, 64);
                    stack[n++] = path;
                    continue;
                }
                char err[512];
                dmr_history_t *h = NULL;
                int rc = dmr_history_load(path, NULL, &h, err, sizeof err);
                cr_assert_eq(rc, 0, "%s", err);
                events += h->nev; /* (a file may hold only nemesis ops) */
                s_assert_json_round_trip(h);
                dmr_history_destroy(&h);
                free(path);
                files++;
            }
            closedir(dp);
            free(dir);
        }
    }
    cr_assert_geq(files, 130, "only %zu histories found", files);
    cr_assert_gt(events, 50000, "only %zu events in %zu files", events, files);
}
