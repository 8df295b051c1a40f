/* json.h -- a small, strict JSON reader (RFC 8259) into dmr_val_t trees,
 * for dmr's JSON-lines histories.
 *
 * null is DMR_V_NIL, true and false DMR_V_BOOL, numbers DMR_V_INT, strings
 * DMR_V_STR (escapes decoded, \uXXXX and surrogate pairs to UTF-8), arrays
 * DMR_V_VEC and objects DMR_V_MAP whose keys are DMR_V_STR. Refused with
 * an error: numbers with a fraction or an exponent, integers outside the
 * int64 range, leading zeros, unescaped control characters in strings,
 * trailing commas, nesting deeper than DMR_JSON_MAX_DEPTH. Duplicate
 * object keys are not checked; bytes from 0x80 up are taken as they are
 * (not checked to be UTF-8).
 *
 * Errors read "line L: expected X, found Y"; for an unclosed string or
 * collection L is the line where it was opened.
 *
 * Stateless apart from its arguments; one call reads one value. */
#ifndef DMR_CHECK_JSON_H
#define DMR_CHECK_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "check/value.h"

#define DMR_JSON_MAX_DEPTH 256 /* nested arrays and objects at most */

/* Reads one value from buf[*pos .. len), after any whitespace. *line is
 * the 1-based line at *pos. Returns:
 *   0             *out is the value (allocated in a); *pos and *line are
 *                 advanced just past it (what follows is not looked at);
 *   1             only whitespace remains: *pos = len, *line advanced,
 *                 *out untouched;
 *   DMR_ECORRUPT  a syntax error: err holds "line L: ..." and *line is set
 *                 to L; *pos and *out are untouched. Values read before
 *                 the error stay in the arena until it is destroyed.
 * Never blocks; does not need buf to be NUL-terminated. */
int dmr_json_read(dmr_arena_t *a, const char *buf, size_t len, size_t *pos,
                  uint32_t *line, dmr_val_t **out, char *err, size_t errlen);

/* Writes the NUL-terminated s as a JSON string, quoted and escaped. */
void dmr_json_str(const char *s, FILE *out);

/* Runs stmt, which writes to the memory stream mf, then writes what it
 * wrote to out as one JSON string: sentences built by fprintf become
 * JSON values. */
#define DMR_JSON_TEXT(out, stmt)                                               \
    do {                                                                       \
        char *buf_ = NULL;                                                     \
        size_t len_ = 0;                                                       \
        FILE *mf = open_memstream(&buf_, &len_);                               \
        stmt;                                                                  \
        fclose(mf);                                                            \
        dmr_json_str(buf_ ? buf_ : "", out);                                   \
        free(buf_);                                                            \
    } while (0)

#endif
