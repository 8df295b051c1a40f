/* edn.c -- a small, strict EDN reader (see edn.h).
 *
 * A recursive-descent reader over a byte range. Collections collect their
 * items on one scratch stack shared by all levels (a collection's items
 * are the top of the stack from where it started) and copy them into the
 * arena when they close, so reading allocates only what the tree keeps.
 * Recursion is bounded by DMR_EDN_MAX_DEPTH, so hostile input cannot
 * overflow the C stack: each open collection and each pending "#_" is one
 * level. */
#include "check/edn.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "check/reader.h"

#define S_TOKEN_SHOWN 40 /* bytes of a bad token quoted in a message */

/* Character classes of ASCII; bytes from 0x80 up are in none. */
#define S_SPACE 1 /* whitespace, and the comma */
#define S_DELIM 2 /* ends a token: whitespace, brackets, '"', ';' */
#define S_NAME 4  /* may be in a symbol or keyword (first: not all) */
static const unsigned char s_class[128] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 0, 0, /* 00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 10 */
    3, 4, 2, 4, 4, 4, 4, 4, 2, 2, 4, 4, 3, 4, 4, 4, /* 20  !"#$%&'()*+,-./ */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 4, 4, 4, 4, /* 30 0-9:;<=>? */
    0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 40 @A-O */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 0, 2, 0, 4, /* 50 P-Z[\]^_ */
    0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 60 `a-o */
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 0, 2, 0, 0, /* 70 p-z{|}~ */
};

static int s_is(char c, int cls)
{
    return (unsigned char)c < 128 && (s_class[(unsigned char)c] & cls);
}

static int s_is_space(char c)
{
    return s_is(c, S_SPACE);
}

static int s_is_delim(char c)
{
    return s_is(c, S_DELIM);
}

static int s_is_name_char(char c)
{
    return s_is(c, S_NAME);
}

static int s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* What is at the read position, for "found ...". */
static const char *s_found(const dmr_reader_t *r, char *buf, size_t n)
{
    if (r->pos >= r->len)
        return "end of input";
    unsigned char c = (unsigned char)r->b[r->pos];
    if (c == '\n')
        return "end of line";
    if (c > ' ' && c < 0x7f)
        snprintf(buf, n, "'%c'", c);
    else
        snprintf(buf, n, "byte 0x%02x", c);
    return buf;
}

/* The end of the token (a run of non-delimiters) starting at from. */
static size_t s_token_end(const dmr_reader_t *r, size_t from)
{
    while (from < r->len && !s_is_delim(r->b[from]))
        from++;
    return from;
}

/* Fails with "what, found TOKEN" for the token at the read position. */
static int s_bad_token(dmr_reader_t *r, const char *what)
{
    size_t end = s_token_end(r, r->pos + 1);
    int n = (int)(end - r->pos > S_TOKEN_SHOWN ? S_TOKEN_SHOWN : end - r->pos);
    return dmr_reader_fail(r, r->line, "%s, found '%.*s%s'", what, n,
                           r->b + r->pos,
                           (size_t)n < end - r->pos ? "..." : "");
}

static int s_value(dmr_reader_t *r, int depth, dmr_val_t **out);
static int s_skip(dmr_reader_t *r, int depth);

/* Skips whitespace, commas, comments and "#_ value"s. */
__attribute__((noinline)) static int s_skip_all(dmr_reader_t *r, int depth)
{
    while (r->pos < r->len) {
        char c = r->b[r->pos];
        if (c == '\n') {
            r->line++;
            r->pos++;
        } else if (s_is_space(c)) {
            r->pos++;
        } else if (c == ';') {
            while (r->pos < r->len && r->b[r->pos] != '\n')
                r->pos++;
        } else if (c == '#' && r->pos + 1 < r->len && r->b[r->pos + 1] == '_') {
            if (depth >= DMR_EDN_MAX_DEPTH)
                return dmr_reader_fail(
                    r, r->line, "expected at most %d nested levels, found more",
                    DMR_EDN_MAX_DEPTH);
            uint32_t at = r->line;
            r->pos += 2;
            int rc = s_skip(r, depth + 1);
            if (rc < 0)
                return rc;
            char c2 = r->pos < r->len ? r->b[r->pos] : ']';
            if (c2 == ')' || c2 == ']' || c2 == '}') {
                char f[16];
                return dmr_reader_fail(
                    r, r->line,
                    "expected a value to discard after the #_ on "
                    "line %u, found %s",
                    at, s_found(r, f, sizeof f));
            }
            dmr_val_t *discarded;
            size_t base = r->nstk;
            rc = s_value(r, depth + 1, &discarded);
            r->nstk = base;
            if (rc < 0)
                return rc;
        } else {
            break;
        }
    }
    return 0;
}

/* s_skip_all, but without a call for the usual spaces and commas. */
static int s_skip(dmr_reader_t *r, int depth)
{
    while (r->pos < r->len && (r->b[r->pos] == ' ' || r->b[r->pos] == ','))
        r->pos++;
    if (r->pos >= r->len || (!s_is_space(r->b[r->pos]) && r->b[r->pos] != ';' &&
                             r->b[r->pos] != '#'))
        return 0;
    return s_skip_all(r, depth);
}

/* A string; the read position is at its opening '"'. */
static int s_string(dmr_reader_t *r, dmr_val_t **out)
{
    uint32_t open = r->line;
    size_t i = r->pos + 1;
    uint32_t lines = 0;
    int escapes = 0;
    while (i < r->len && r->b[i] != '"') {
        if (r->b[i] == '\\')
            i++, escapes = 1;
        else if (r->b[i] == '\n')
            lines++;
        i++;
    }
    if (i >= r->len)
        return dmr_reader_fail(
            r, open,
            "expected '\"' to close the string opened here, found "
            "end of input");
    size_t end = i; /* the closing quote */
    dmr_val_t *v;
    if (!escapes) { /* the common case: the text as it is */
        v = dmr_val_new_text(r->a, DMR_V_STR, open, r->b + r->pos + 1,
                             end - r->pos - 1);
    } else {
        v = dmr_val_new(r->a, DMR_V_STR, open);
        int rc = dmr_reader_unescape(r, 0, r->pos + 1, end, v);
        if (rc < 0)
            return rc;
    }
    r->pos = end + 1;
    r->line = open + lines;
    *out = v;
    return 0;
}

/* An integer; the read position is at its sign or first digit. */
static int s_number(dmr_reader_t *r, dmr_val_t **out)
{
    size_t i = r->pos;
    int neg = 0;
    if (r->b[i] == '+' || r->b[i] == '-')
        neg = r->b[i++] == '-';
    if (r->b[i] == '0' && i + 1 < r->len && s_is_digit(r->b[i + 1]))
        return s_bad_token(r, "expected an integer without leading zeros");
    uint64_t mag = 0;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < r->len && s_is_digit(r->b[i]); i++) {
        unsigned d = (unsigned)(r->b[i] - '0');
        if (mag > (limit - d) / 10)
            return s_bad_token(r, "expected an integer in the 64-bit range");
        mag = mag * 10 + d;
    }
    if (i < r->len && r->b[i] == 'N')
        i++;
    else if (i < r->len && (r->b[i] == '.' || r->b[i] == 'e' ||
                            r->b[i] == 'E' || r->b[i] == 'M'))
        return s_bad_token(r, "expected an integer (floating-point numbers "
                              "are not supported)");
    else if (i < r->len && r->b[i] == '/')
        return s_bad_token(r, "expected an integer (ratios are not "
                              "supported)");
    if (i < r->len && !s_is_delim(r->b[i]))
        return s_bad_token(r, "expected an integer");
    dmr_val_t *v = dmr_val_new(r->a, DMR_V_INT, r->line);
    v->u.i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    r->pos = i;
    *out = v;
    return 0;
}

/* A symbol, nil, true, false or a :keyword at the read position. */
static int s_name(dmr_reader_t *r, dmr_val_t **out)
{
    int kw = r->b[r->pos] == ':';
    size_t start = r->pos + (size_t)kw;
    size_t end = start;
    while (end < r->len && s_is_name_char(r->b[end]))
        end++;
    const char *what = kw ? "expected a keyword" : "expected a value";
    if (end < r->len && !s_is_delim(r->b[end]))
        return s_bad_token(r, what);
    if (end == start)
        return s_bad_token(r, "expected a keyword name after ':'");
    if (r->b[start] == ':' || r->b[start] == '#' || r->b[start] == '\'' ||
        (!kw && s_is_digit(r->b[start])) ||
        (r->b[start] == '.' && end > start + 1 && s_is_digit(r->b[start + 1])))
        return s_bad_token(r, what);
    size_t n = end - start;
    const char *s = r->b + start;
    dmr_val_t *v;
    if (!kw && n == 3 && memcmp(s, "nil", 3) == 0) {
        v = dmr_val_new(r->a, DMR_V_NIL, r->line);
    } else if (!kw && ((n == 4 && memcmp(s, "true", 4) == 0) ||
                       (n == 5 && memcmp(s, "false", 5) == 0))) {
        v = dmr_val_new(r->a, DMR_V_BOOL, r->line);
        v->u.b = n == 4;
    } else {
        v = dmr_val_new_text(r->a, kw ? DMR_V_KW : DMR_V_SYM, r->line, s, n);
    }
    r->pos = end;
    *out = v;
    return 0;
}

static const char *s_coll_name(dmr_vtype_t t)
{
    return t == DMR_V_SET ? "set" : dmr_val_type_name(t);
}

/* A collection of type t closed by close; the read position is just past
 * its opening bracket, which was on line open. */
static int s_coll(dmr_reader_t *r, int depth, dmr_vtype_t t, char close,
                  uint32_t open, dmr_val_t **out)
{
    size_t base = r->nstk;
    char f[16];
    for (;;) {
        int rc = s_skip(r, depth + 1);
        if (rc < 0)
            return rc;
        if (r->pos >= r->len)
            return dmr_reader_fail(
                r, open,
                "expected '%c' to close the %s opened here, found "
                "end of input",
                close, s_coll_name(t));
        char c = r->b[r->pos];
        if (c == close)
            break;
        if (c == ')' || c == ']' || c == '}')
            return dmr_reader_fail(
                r, r->line,
                "expected '%c' to close the %s opened on line %u, "
                "found %s",
                close, s_coll_name(t), open, s_found(r, f, sizeof f));
        dmr_val_t *item;
        rc = s_value(r, depth + 1, &item);
        if (rc < 0)
            return rc;
        dmr_reader_push(r, item);
    }
    size_t n = r->nstk - base;
    if (t == DMR_V_MAP && n % 2)
        return dmr_reader_fail(
            r, r->line,
            "expected a value after the last key of the map opened "
            "on line %u, found '}'",
            open);
    r->pos++; /* the closing bracket */
    dmr_val_t *v = dmr_val_new(r->a, t, open);
    if (n) {
        v->u.seq.items = dmr_arena_alloc(r->a, n * sizeof *v->u.seq.items);
        memcpy(v->u.seq.items, r->stk + base, n * sizeof *v->u.seq.items);
    }
    v->u.seq.n = n;
    r->nstk = base;
    *out = v;
    return 0;
}

/* The value at the read position (whitespace already skipped). */
static int s_value(dmr_reader_t *r, int depth, dmr_val_t **out)
{
    char f[16];
    if (r->pos >= r->len)
        return dmr_reader_fail(r, r->line,
                               "expected a value, found end of input");
    char c = r->b[r->pos];
    char next = r->pos + 1 < r->len ? r->b[r->pos + 1] : '\0';
    dmr_vtype_t t;
    char close;
    switch (c) {
    case '(': t = DMR_V_LIST, close = ')'; break;
    case '[': t = DMR_V_VEC, close = ']'; break;
    case '{': t = DMR_V_MAP, close = '}'; break;
    case '#':
        if (next == '{') {
            t = DMR_V_SET, close = '}';
            r->pos++;
            break;
        }
        return s_bad_token(r, "expected a value (tagged literals are not "
                              "supported)");
    case '"': return s_string(r, out);
    case ')':
    case ']':
    case '}':
        return dmr_reader_fail(r, r->line, "expected a value, found %s",
                               s_found(r, f, sizeof f));
    case '\\':
        return s_bad_token(r, "expected a value (character literals are not "
                              "supported)");
    default:
        if (s_is_digit(c) || ((c == '+' || c == '-') && s_is_digit(next)))
            return s_number(r, out);
        if (c == '.' && s_is_digit(next))
            return s_bad_token(r, "expected an integer (floating-point "
                                  "numbers are not supported)");
        if (!s_is_name_char(c) && c != ':')
            return dmr_reader_fail(r, r->line, "expected a value, found %s",
                                   s_found(r, f, sizeof f));
        return s_name(r, out);
    }
    if (depth >= DMR_EDN_MAX_DEPTH)
        return dmr_reader_fail(r, r->line,
                               "expected at most %d nested levels, found more",
                               DMR_EDN_MAX_DEPTH);
    uint32_t open = r->line;
    r->pos++;
    return s_coll(r, depth, t, close, open, out);
}

int dmr_edn_read(dmr_arena_t *a, const char *buf, size_t len, size_t *pos,
                 uint32_t *line, dmr_val_t **out, char *err, size_t errlen)
{
    dmr_reader_t r = {.a = a,
                      .b = buf,
                      .len = len,
                      .pos = *pos,
                      .line = *line,
                      .err = err,
                      .errlen = errlen};
    dmr_val_t *v = NULL;
    int rc = s_skip(&r, 0);
    if (rc == 0 && r.pos >= len)
        rc = 1;
    else if (rc == 0)
        rc = s_value(&r, 0, &v);
    free(r.stk);
    if (rc < 0) {
        *line = r.errline;
        return rc;
    }
    *pos = r.pos;
    *line = r.line;
    if (rc == 0)
        *out = v;
    return rc;
}
