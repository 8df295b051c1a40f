/* edn.h -- a small, strict reader of EDN (the notation Clojure programs
 * such as Jepsen and Knossos write histories in) into dmr_val_t trees.
 *
 * Accepted: nil, true, false; integers (optional sign, optional trailing N;
 * out of the int64 range is an error); strings with the escapes \" \\ \n
 * \t \r \b \f \uXXXX (raw newlines allowed); :keywords; symbols; lists
 * (), vectors [], maps {} and sets #{}. Whitespace includes commas; ';'
 * starts a comment to the end of the line; "#_" discards the value after
 * it. Refused with an error: floating-point and ratio numbers, character
 * literals (\c), tagged literals (#inst ...), metadata (^), a map with an
 * odd number of forms, nesting deeper than DMR_EDN_MAX_DEPTH. Duplicate map
 * keys and set items are not checked.
 *
 * Errors read "line L: expected X, found Y"; for an unclosed string or
 * collection L is the line where it was opened.
 *
 * Stateless apart from its arguments; one call reads one value. */
#ifndef DMR_CHECK_EDN_H
#define DMR_CHECK_EDN_H

#include <stddef.h>
#include <stdint.h>

#include "check/value.h"

#define DMR_EDN_MAX_DEPTH 256 /* nested collections (and #_) at most */

/* Reads one value from buf[*pos .. len), after any whitespace, comments and
 * discarded values. *line is the 1-based line at *pos. Returns:
 *   0             *out is the value (allocated in a); *pos and *line are
 *                 advanced just past it;
 *   1             only whitespace and comments remain: *pos = len, *line
 *                 advanced, *out untouched;
 *   DMR_ECORRUPT  a syntax error: err holds "line L: ..." and *line is set
 *                 to L (so a caller can name its file instead); *pos and
 *                 *out are untouched. Values read before the error stay in
 *                 the arena until it is destroyed.
 * Never blocks; does not need buf to be NUL-terminated. */
int dmr_edn_read(dmr_arena_t *a, const char *buf, size_t len, size_t *pos,
                 uint32_t *line, dmr_val_t **out, char *err, size_t errlen);

#endif
