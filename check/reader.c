/* reader.c -- what the EDN and JSON readers share (reader.h). */
#include "check/reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/alloc.h"
#include "common/error.h"

int dmr_reader_fail(dmr_reader_t *r, uint32_t line, const char *fmt, ...)
{
    r->errline = line;
    if (r->errlen) {
        int n = snprintf(r->err, r->errlen, "line %u: ", line);
        if (n >= 0 && (size_t)n < r->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return DMR_ECORRUPT;
}

void dmr_reader_push(dmr_reader_t *r, dmr_val_t *v)
{
    if (r->nstk == r->capstk) {
        r->capstk = r->capstk ? 2 * r->capstk : 64;
        r->stk = dmr_realloc(r->stk, r->capstk * sizeof *r->stk);
    }
    r->stk[r->nstk++] = v;
}

int dmr_reader_unescape(dmr_reader_t *r, int json, size_t start, size_t end,
                        dmr_val_t *v)
{
    /* the escapes each format has, as its messages list them */
    const char *known = json ? "\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u"
                             : "\\\" \\\\ \\n \\t \\r \\b \\f \\u";
    uint32_t line = v->line;
    char *s = dmr_arena_alloc(r->a, end - start + 1); /* decoded is shorter */
    size_t n = 0;
    for (size_t i = start; i < end; i++) {
        char c = r->b[i];
        if (c == '\n')
            line++; /* an EDN string may span lines */
        if (c != '\\') {
            s[n++] = c;
            continue;
        }
        char e = r->b[i + 1];
        switch (e) {
        case '"': s[n++] = '"'; break;
        case '\\': s[n++] = '\\'; break;
        case 'b': s[n++] = '\b'; break;
        case 'f': s[n++] = '\f'; break;
        case 'n': s[n++] = '\n'; break;
        case 'r': s[n++] = '\r'; break;
        case 't': s[n++] = '\t'; break;
        case 'u': {
            size_t outn;
            size_t used = dmr_val_unescape_u(r->b + i, end - i, s + n, &outn);
            if (!used)
                return dmr_reader_fail(
                    r, line,
                    "expected \\u and 4 hex digits (a surrogate in "
                    "a pair) in a string, found '%.*s'",
                    (int)(end - i < 12 ? end - i : 12), r->b + i);
            n += outn;
            i += used - 2;
            break;
        }
        default:
            if (json && e == '/') {
                s[n++] = '/';
                break;
            }
            if (e == '\n' || (unsigned char)e < ' ' || e == 0x7f)
                return dmr_reader_fail(r, line,
                                       "expected an escape (%s) in a string, "
                                       "found a backslash and byte 0x%02x",
                                       known, (unsigned char)e);
            return dmr_reader_fail(r, line,
                                   "expected an escape (%s) in a string, "
                                   "found '\\%c'",
                                   known, e);
        }
        i++;
    }
    v->u.str.s = s;
    v->u.str.len = n;
    return 0;
}
