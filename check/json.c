/* json.c -- a small, strict JSON reader (see json.h).
 *
 * Recursive descent over a byte range, built like edn.c: the items of the
 * arrays and objects being read wait on one shared scratch stack and are
 * copied into the arena when their container closes; recursion is bounded
 * by DMR_JSON_MAX_DEPTH. */
#include "check/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "check/reader.h"

#define S_TOKEN_SHOWN 40 /* bytes of a bad token quoted in a message */

static int s_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int s_is_delim(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
           (c != '\0' && strchr(",:[]{}\"", c) != NULL);
}

/* What is at the read position, for "found ...": a token such as 'nul' or
 * 'x', a punctuation character, or end of line / input. */
static const char *s_found(const dmr_reader_t *r, char *buf, size_t n)
{
    if (r->pos >= r->len)
        return "end of input";
    unsigned char c = (unsigned char)r->b[r->pos];
    if (c == '\n' || c == '\r')
        return "end of line";
    if (c <= ' ' || c == 0x7f) {
        snprintf(buf, n, "byte 0x%02x", c);
        return buf;
    }
    size_t end = r->pos + 1;
    if (!s_is_delim((char)c))
        while (end < r->len && !s_is_delim(r->b[end]) &&
               end - r->pos < S_TOKEN_SHOWN)
            end++;
    snprintf(buf, n, "'%.*s'", (int)(end - r->pos), r->b + r->pos);
    return buf;
}

static void s_skip(dmr_reader_t *r)
{
    while (r->pos < r->len) {
        char c = r->b[r->pos];
        if (c == '\n')
            r->line++;
        else if (c != ' ' && c != '\t' && c != '\r')
            break;
        r->pos++;
    }
}

/* A string; the read position is at its opening '"'. */
static int s_string(dmr_reader_t *r, dmr_val_t **out)
{
    char f[S_TOKEN_SHOWN + 8];
    size_t i = r->pos + 1;
    int escapes = 0;
    while (i < r->len && r->b[i] != '"' && (unsigned char)r->b[i] >= ' ') {
        if (r->b[i] == '\\' && i + 1 < r->len && r->b[i + 1] != '\n')
            i++, escapes = 1;
        i++;
    }
    if (i >= r->len)
        return dmr_reader_fail(
            r, r->line,
            "expected '\"' to close the string opened here, found "
            "end of input");
    if (r->b[i] != '"') {
        size_t at = r->pos;
        r->pos = i;
        const char *what = s_found(r, f, sizeof f);
        r->pos = at;
        return dmr_reader_fail(
            r, r->line, "expected '\"' to close the string, found %s%s", what,
            r->b[i] == '\n' || r->b[i] == '\r'
                ? ""
                : " (control characters must be escaped)");
    }
    size_t end = i; /* the closing quote */
    dmr_val_t *v;
    if (!escapes) { /* the common case: the text as it is */
        v = dmr_val_new_text(r->a, DMR_V_STR, r->line, r->b + r->pos + 1,
                             end - r->pos - 1);
    } else {
        v = dmr_val_new(r->a, DMR_V_STR, r->line);
        int rc = dmr_reader_unescape(r, 1, r->pos + 1, end, v);
        if (rc < 0)
            return rc;
    }
    r->pos = end + 1;
    *out = v;
    return 0;
}

/* An integer; the read position is at its '-' or first digit. */
static int s_number(dmr_reader_t *r, dmr_val_t **out)
{
    char f[S_TOKEN_SHOWN + 8];
    size_t i = r->pos;
    int neg = r->b[i] == '-';
    i += (size_t)neg;
    if (i >= r->len || !s_is_digit(r->b[i]))
        return dmr_reader_fail(r, r->line, "expected a value, found %s",
                               s_found(r, f, sizeof f));
    if (r->b[i] == '0' && i + 1 < r->len && s_is_digit(r->b[i + 1]))
        return dmr_reader_fail(
            r, r->line, "expected an integer without leading zeros, found %s",
            s_found(r, f, sizeof f));
    uint64_t mag = 0;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < r->len && s_is_digit(r->b[i]); i++) {
        unsigned d = (unsigned)(r->b[i] - '0');
        if (mag > (limit - d) / 10)
            return dmr_reader_fail(
                r, r->line, "expected an integer in the 64-bit range, found %s",
                s_found(r, f, sizeof f));
        mag = mag * 10 + d;
    }
    if (i < r->len && (r->b[i] == '.' || r->b[i] == 'e' || r->b[i] == 'E'))
        return dmr_reader_fail(
            r, r->line,
            "expected an integer (fractions and exponents are not "
            "supported), found %s",
            s_found(r, f, sizeof f));
    dmr_val_t *v = dmr_val_new(r->a, DMR_V_INT, r->line);
    v->u.i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    r->pos = i;
    *out = v;
    return 0;
}

static int s_value(dmr_reader_t *r, int depth, dmr_val_t **out);

/* An array (close ']') or object (close '}'); the read position is at its
 * opening bracket. */
static int s_container(dmr_reader_t *r, int depth, char close, dmr_val_t **out)
{
    char f[S_TOKEN_SHOWN + 8];
    int obj = close == '}';
    const char *what = obj ? "object" : "array";
    uint32_t open = r->line;
    if (depth >= DMR_JSON_MAX_DEPTH)
        return dmr_reader_fail(r, r->line,
                               "expected at most %d nested levels, found more",
                               DMR_JSON_MAX_DEPTH);
    r->pos++;
    size_t base = r->nstk;
    s_skip(r);
    if (r->pos < r->len && r->b[r->pos] == close) {
        r->pos++;
    } else {
        for (;;) {
            dmr_val_t *v;
            s_skip(r);
            if (r->pos >= r->len)
                goto unclosed;
            if (obj) {
                if (r->b[r->pos] != '"')
                    return dmr_reader_fail(
                        r, r->line,
                        "expected a string key in the object "
                        "opened on line %u, found %s",
                        open, s_found(r, f, sizeof f));
                int rc = s_string(r, &v);
                if (rc < 0)
                    return rc;
                dmr_reader_push(r, v);
                s_skip(r);
                if (r->pos >= r->len)
                    goto unclosed;
                if (r->b[r->pos] != ':')
                    return dmr_reader_fail(
                        r, r->line, "expected ':' after the key, found %s",
                        s_found(r, f, sizeof f));
                r->pos++;
                s_skip(r);
                if (r->pos >= r->len)
                    goto unclosed;
            }
            int rc = s_value(r, depth + 1, &v);
            if (rc < 0)
                return rc;
            dmr_reader_push(r, v);
            s_skip(r);
            if (r->pos >= r->len)
                goto unclosed;
            char c = r->b[r->pos++];
            if (c == close)
                break;
            if (c != ',') {
                r->pos--;
                return dmr_reader_fail(
                    r, r->line,
                    "expected ',' or '%c' in the %s opened on line "
                    "%u, found %s",
                    close, what, open, s_found(r, f, sizeof f));
            }
        }
    }
    size_t n = r->nstk - base;
    dmr_val_t *v = dmr_val_new(r->a, obj ? DMR_V_MAP : DMR_V_VEC, open);
    if (n) {
        v->u.seq.items = dmr_arena_alloc(r->a, n * sizeof *v->u.seq.items);
        memcpy(v->u.seq.items, r->stk + base, n * sizeof *v->u.seq.items);
    }
    v->u.seq.n = n;
    r->nstk = base;
    *out = v;
    return 0;
unclosed:
    return dmr_reader_fail(
        r, open,
        "expected '%c' to close the %s opened here, found end of "
        "input",
        close, what);
}

/* The value at the read position (whitespace already skipped). */
static int s_value(dmr_reader_t *r, int depth, dmr_val_t **out)
{
    char f[S_TOKEN_SHOWN + 8];
    static const struct {
        const char *word;
        dmr_vtype_t t;
        int b;
    } lits[] = {{"null", DMR_V_NIL, 0},
                {"true", DMR_V_BOOL, 1},
                {"false", DMR_V_BOOL, 0}};
    if (r->pos >= r->len)
        return dmr_reader_fail(r, r->line,
                               "expected a value, found end of input");
    char c = r->b[r->pos];
    if (c == '{')
        return s_container(r, depth, '}', out);
    if (c == '[')
        return s_container(r, depth, ']', out);
    if (c == '"')
        return s_string(r, out);
    if (c == '-' || s_is_digit(c))
        return s_number(r, out);
    for (size_t i = 0; i < sizeof lits / sizeof *lits; i++) {
        size_t n = strlen(lits[i].word);
        if (r->len - r->pos >= n &&
            memcmp(r->b + r->pos, lits[i].word, n) == 0 &&
            (r->pos + n == r->len || s_is_delim(r->b[r->pos + n]))) {
            dmr_val_t *v = dmr_val_new(r->a, lits[i].t, r->line);
            v->u.b = lits[i].b;
            r->pos += n;
            *out = v;
            return 0;
        }
    }
    return dmr_reader_fail(r, r->line, "expected a value, found %s",
                           s_found(r, f, sizeof f));
}

int dmr_json_read(dmr_arena_t *a, const char *buf, size_t len, size_t *pos,
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
    int rc = 1;
    s_skip(&r);
    if (r.pos < len)
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

void dmr_json_str(const char *s, FILE *out)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}
