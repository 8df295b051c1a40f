/* value.h -- the values of recorded histories: a small tree of nil,
 * booleans, integers, strings, keywords, vectors and maps, allocated from
 * an arena that lives as long as the history it was read from.
 *
 * Both history syntaxes land here: EDN (Jepsen, Knossos, Porcupine's kv
 * logs) and JSON (dmr's own JSON-lines format). JSON null is nil, true and
 * false are booleans, numbers are integers (a history with fractional
 * numbers is rejected), strings are strings, arrays are vectors and objects
 * are maps (keys are strings). EDN lists and sets keep their own types
 * (DMR_V_LIST, DMR_V_SET); a list counts as a sequence like a vector (see
 * dmr_val_is_seq, dmr_val_equal). Keywords keep their name without ':'.
 *
 * Writing a value as JSON and reading it back gives an equal value
 * (dmr_val_equal) except for symbols (they come back as strings), sets (as
 * vectors) and map keys other than strings and keywords (as strings).
 *
 * Single-threaded; a value never changes after it is read. */
#ifndef DMR_CHECK_VALUE_H
#define DMR_CHECK_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    DMR_V_NIL,
    DMR_V_BOOL,
    DMR_V_INT,
    DMR_V_STR,  /* "text" */
    DMR_V_KW,   /* :name (s holds "name") */
    DMR_V_SYM,  /* a bare EDN symbol (s holds it) */
    DMR_V_VEC,  /* [a b] or a JSON array */
    DMR_V_LIST, /* (a b) */
    DMR_V_SET,  /* #{a b} */
    DMR_V_MAP,  /* {k v ...}: items holds 2n values, key then value */
} dmr_vtype_t;

typedef struct dmr_val dmr_val_t;
struct dmr_val {
    dmr_vtype_t type;
    uint32_t line; /* 1-based line where the value starts */
    union {
        int b;     /* DMR_V_BOOL */
        int64_t i; /* DMR_V_INT */
        struct {
            const char *s; /* NUL-terminated; may hold NULs (len counts) */
            size_t len;
        } str; /* DMR_V_STR, DMR_V_KW, DMR_V_SYM */
        struct {
            dmr_val_t **items;
            size_t n; /* items; for a map, 2 * pairs */
        } seq;        /* DMR_V_VEC, DMR_V_LIST, DMR_V_SET, DMR_V_MAP */
    } u;
};

/* ---- arena ----------------------------------------------------------- */

typedef struct dmr_arena dmr_arena_t;

/* An empty arena (allocates on first use); aborts on out-of-memory. */
dmr_arena_t *dmr_arena_new(void);
/* Frees every allocation of the arena; accepts NULL, clears *pa. */
void dmr_arena_destroy(dmr_arena_t **pa);
/* Frees every allocation of the arena at once, keeping some of its memory
 * for the next ones: a scratch arena for values read only to be looked at
 * or copied. */
void dmr_arena_reset(dmr_arena_t *a);
/* n bytes aligned to 16 (enough for any value), zeroed; lives until the
 * arena is destroyed; aborts on out-of-memory. */
void *dmr_arena_alloc(dmr_arena_t *a, size_t n);
/* A NUL-terminated copy of n bytes of s in the arena (not aligned). */
char *dmr_arena_strndup(dmr_arena_t *a, const char *s, size_t n);
/* Like dmr_arena_strndup, but a short string equal to one the arena
 * interned recently may be that same copy: the result must not be
 * written to. Saves memory on the keywords a history repeats. */
const char *dmr_arena_intern(dmr_arena_t *a, const char *s, size_t n);

/* ---- for the readers (edn.c, json.c, history.c) ----------------------- */

/* A new value of type t starting on line, zeroed (nil, false, 0, "", an
 * empty sequence), in a. */
dmr_val_t *dmr_val_new(dmr_arena_t *a, dmr_vtype_t t, uint32_t line);
/* A new string, keyword or symbol (t) holding a copy of n bytes of s. */
dmr_val_t *dmr_val_new_text(dmr_arena_t *a, dmr_vtype_t t, uint32_t line,
                            const char *s, size_t n);
/* A deep copy of v in a (strings interned), keeping its lines. */
dmr_val_t *dmr_val_copy(dmr_arena_t *a, const dmr_val_t *v);
/* Decodes the escape "\uXXXX" at s (n bytes available; s[0] is the
 * backslash), joining a UTF-16 surrogate pair written as two escapes, into
 * 1 to 4 bytes of UTF-8 at out. Returns the bytes of s consumed (6 or 12)
 * and sets *outn; returns 0 when the escape is malformed (not 4 hex digits,
 * or a surrogate not in a pair). */
size_t dmr_val_unescape_u(const char *s, size_t n, char *out, size_t *outn);

/* ---- helpers ---------------------------------------------------------- */

/* For a map, the value under the first key named name (a keyword or a
 * string with that text); NULL if there is none or map is not a map. */
const dmr_val_t *dmr_val_get(const dmr_val_t *map, const char *name);
/* 1 if v is a keyword or string with text name. */
int dmr_val_is_name(const dmr_val_t *v, const char *name);
/* 1 if v is a vector or list (a sequence of n items). */
int dmr_val_is_seq(const dmr_val_t *v);
/* 1 if a and b are structurally equal, else 0. Across types, a keyword
 * equals a string with the same text (:a = "a") and a list equals a vector
 * with the same items in the same order, so that a value keeps its meaning
 * through JSON. Sets and maps compare regardless of order: the same number
 * of items (pairs), each found in the other. Symbols equal only symbols. */
int dmr_val_equal(const dmr_val_t *a, const dmr_val_t *b);
/* Writes v as EDN (keywords as :k) or as JSON (keywords and symbols as
 * strings, sets and lists as arrays, a map key that is not a string or
 * keyword as a string holding its EDN text). Strings are escaped; bytes
 * from 0x80 up are written as they are. No newline is added. */
void dmr_val_print_edn(const dmr_val_t *v, FILE *out);
void dmr_val_print_json(const dmr_val_t *v, FILE *out);
/* A short EDN rendering of v into buf, always NUL-terminated (ending in
 * "..." when cut to fit len, which must be at least 4); returns buf. */
char *dmr_val_format(const dmr_val_t *v, char *buf, size_t len);
/* "nil", "boolean", "integer", "string", "keyword", "symbol", "vector",
 * "list", "set" or "map". */
const char *dmr_val_type_name(dmr_vtype_t t);

#endif
