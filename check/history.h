/* history.h -- recorded histories of concurrent operations, read from the
 * formats Jepsen, Knossos and Porcupine write and from dmr's own JSON-lines
 * format, into one list of events with one meaning.
 *
 * An operation is an invocation by a process followed, later in the
 * history, by at most one completion from the same process:
 *
 *   ok    it happened, between its invocation and its completion; its
 *         completion carries the result (a read's value, a CAS's outcome).
 *   fail  it did not happen.
 *   info  it may or may not have happened, at any time after its
 *         invocation; its result is unknown. An invocation with no
 *         completion at all is the same as info.
 *
 * The readers translate each format's conventions into this meaning, as
 * its own checker reads it:
 *
 *   edn     Jepsen/Knossos EDN: one vector of op maps, or a sequence of
 *           op maps (one per line, or spanning lines; ';' comments
 *           allowed): :process :type :f, optional :value (absent = nil),
 *           :time :index :key; other keys are ignored. :type and :f are
 *           keywords (or strings). Knossos reads an :ok :read of nil as
 *           "value unknown": the reader turns that event (f "read" only)
 *           into an info event. Ops whose :process is a keyword (the
 *           :nemesis) are not client operations: skipped; any other
 *           non-integer :process is an error.
 *   etcd    Jepsen etcd logs, every non-blank line
 *           "INFO  jepsen.util - P :TYPE :F VALUE" (tabs or runs of
 *           spaces; VALUE is nil, an integer, [A B] or :timed-out), as
 *           Porcupine reads them: ":ok :cas" -> ok with result 1;
 *           ":fail :cas [a b]" executed and found the compare false -> ok
 *           with result 0; a ":fail" whose value is :timed-out (a read
 *           that timed out) and every ":info" line -> info, which keeps
 *           the invocation's value (the event's value is :timed-out).
 *           Other ":fail" lines -> fail.
 *   json    dmr's JSON-lines: one object per line,
 *           {"process":1,"type":"invoke","f":"write","value":3}
 *           with optional "value" (absent = null), "key", "time", "index"
 *           and "result" (true or false: a cas's outcome; false on an ok
 *           cas whose compare was false), and "line" (the event's line in
 *           an original file this one was cut from, which it then
 *           reports instead of its own); other keys are ignored. Blank
 *           lines and lines starting with '#' are skipped; an object may
 *           span lines, but no two share one. "process" must be an
 *           integer and "f" a string. No translation: this is the
 *           meaning above.
 *
 * Porcupine's kv logs are EDN, one map per line, with :key.
 *
 * :time and :index, when present, are non-negative integers.
 *
 * Single-threaded. A history owns all of its memory: values and strings
 * in its arena, events and ops in its own arrays. */
#ifndef DMR_CHECK_HISTORY_H
#define DMR_CHECK_HISTORY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "check/value.h"

typedef enum {
    DMR_EV_INVOKE,
    DMR_EV_OK,
    DMR_EV_FAIL,
    DMR_EV_INFO,
} dmr_evtype_t;

typedef struct {
    int64_t process;
    dmr_evtype_t type;
    const char *f;          /* operation name without ':', e.g. "cas" */
    const dmr_val_t *key;   /* NULL when the event names no key */
    const dmr_val_t *value; /* never NULL (nil is a value) */
    int64_t time;           /* -1 when absent */
    int64_t index;          /* -1 when absent */
    int result;             /* -1 none; 0/1 a CAS's explicit outcome */
    uint32_t line;          /* 1-based line in the file */
} dmr_event_t;

/* An operation: an invocation paired with its completion. */
typedef struct {
    uint32_t inv; /* event index of the invocation */
    uint32_t ret; /* event index of the completion, or UINT32_MAX if none */
    dmr_evtype_t type; /* DMR_EV_OK, DMR_EV_FAIL or DMR_EV_INFO (the type
                          of the completion event; INFO if none) */
} dmr_op_t;

typedef struct {
    char *name;         /* the file name as given */
    const char *format; /* "edn", "etcd" or "json" */
    dmr_event_t *ev;    /* client events, in file order */
    size_t nev;
    dmr_op_t *ops; /* operations, in order of invocation */
    size_t nops;
    dmr_arena_t *arena; /* owns every value and string */
} dmr_history_t;

/* The formats a reader knows, for --format and messages. */
extern const char *const dmr_history_formats[]; /* NULL-terminated */

/* Detects the format of buf from its first bytes that are not blanks,
 * commas or lines starting with ';' or '#': "INFO" -> etcd, '{' followed
 * (after spaces) by '"' -> json, '[', '(' or '{' -> edn. Returns the format
 * name (a dmr_history_formats entry) or NULL, also for blank input. */
const char *dmr_history_detect(const char *buf, size_t len);

/* Reads a history from buf (len bytes) named name in format (NULL to
 * detect; input with nothing but blanks and comments is then an empty
 * "json" history). Pairs invocations with completions per process: a
 * completion without an invocation, a second invocation while one is
 * open, a completion whose :f differs from its invocation's, or an
 * unknown :type is an error. Ops are in order of invocation; an op whose
 * invocation is never completed is INFO with ret UINT32_MAX. On error
 * returns DMR_EINVAL (or DMR_ECORRUPT for syntax) and writes
 * "NAME:LINE: what was expected" into err. Caller frees *out with
 * dmr_history_destroy. */
int dmr_history_parse(const char *name, const char *buf, size_t len,
                      const char *format, dmr_history_t **out, char *err,
                      size_t errlen);
/* Reads the file at path (or stdin for "-", named "<stdin>"), then
 * dmr_history_parse. Blocks reading. A file that cannot be read is
 * DMR_EIO, "NAME: cannot read: reason". */
int dmr_history_load(const char *path, const char *format, dmr_history_t **out,
                     char *err, size_t errlen);
/* Frees a history and everything it owns; accepts NULL, clears *ph. */
void dmr_history_destroy(dmr_history_t **ph);

/* Writes event i of h as one line of dmr JSON-lines (the fields of
 * dmr_history_write_json). With keep_line set the object also carries
 * "line":L, the event's line in the file h was read from; the json reader
 * takes it as the event's line, so a sub-history written this way names
 * the lines of the original file (in its events and its messages). */
void dmr_history_write_event_json(const dmr_history_t *h, size_t i,
                                  int keep_line, FILE *out);
/* Writes h as dmr JSON-lines, one event per line, meaning preserved:
 * reading the output back as "json" gives the same events (values equal
 * by dmr_val_equal, apart from the exceptions listed in value.h) and the
 * same ops. Fields: process, type, f, key (if any), value, then time,
 * index and result when set. */
void dmr_history_write_json(const dmr_history_t *h, FILE *out);

/* "invoke", "ok", "fail", "info". */
const char *dmr_evtype_name(dmr_evtype_t t);

#endif
