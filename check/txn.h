/* txn.h -- histories of transactions, in the two workloads of Elle
 * (Kingsbury & Alvaro, VLDB 2020), read into a compact form that a checker
 * of a million transactions can hold: integers, not value trees.
 *
 * An operation's :value is a list of micro-ops:
 *
 *   list-append   [:append K V]      append V to the list at key K
 *                 [:r K nil]         in an invocation: read K
 *                 [:r K [V1 V2 ..]]  in an :ok completion: what it read
 *   rw-register   [:w K V]           write V to K
 *                 [:r K V]           read V from K (nil: never written)
 *
 * Formats: Jepsen EDN (op maps, one per line or a vector of them; :f :txn)
 * and dmr's JSON-lines, where a micro-op is an array of a string and two
 * values:
 *
 *   {"process":1,"type":"invoke","f":"txn","value":[["append","x",1],["r","x",null]]}
 *   {"process":1,"type":"ok","f":"txn","value":[["append","x",1],["r","x",[1]]]}
 *
 * As in the history readers of history.h, an :ok completion carries what
 * happened, :fail says it did not happen, :info (or no completion) that it
 * may have; an op whose :process is a keyword (the nemesis) or whose :f is
 * not :txn is skipped. Two leniencies Elle's own examples need: an op map
 * without :process is its own process (its invocation pairs with the next
 * completion that has no :process either), and a completion whose process
 * has nothing open is a transaction whose invocation is the completion
 * itself.
 *
 * Keys and elements: any EDN or JSON scalar (integers, strings, keywords).
 * Elements are stored as dmr_txn_elem_t: an integer within +-2^62 is
 * itself; any other scalar is interned and stored as DMR_TXN_ELEM_TEXT +
 * its id; nil is DMR_TXN_NIL. Keys are interned to dense ids from 0.
 *
 * Single-threaded. A history owns all of its memory. */
#ifndef DMR_CHECK_TXN_H
#define DMR_CHECK_TXN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"

typedef int64_t dmr_txn_elem_t;

#define DMR_TXN_NIL INT64_MAX
#define DMR_TXN_ELEM_TEXT ((int64_t)1 << 62) /* + intern id */

typedef enum {
    DMR_TXN_LIST_APPEND,
    DMR_TXN_RW_REGISTER,
} dmr_txn_workload_t;

typedef enum {
    DMR_TXN_OK,
    DMR_TXN_INFO,
    DMR_TXN_FAIL,
} dmr_txn_status_t;

typedef enum {
    DMR_MOP_APPEND,
    DMR_MOP_READ,
    DMR_MOP_WRITE,
} dmr_mop_f_t;

/* One micro-op. For a read: known is 1 when the completion says what it
 * read; then, in list-append, the elements are elems[off .. off + n) of
 * the history, and in rw-register the value is v (DMR_TXN_NIL: nothing).
 * For an append or a write, v is the value written. */
typedef struct {
    uint32_t txn;  /* index of its transaction */
    uint32_t key;  /* key id */
    uint16_t idx;  /* position in the transaction's list */
    uint8_t f;     /* dmr_mop_f_t */
    uint8_t known; /* reads only */
    uint32_t n;    /* list-append reads: elements read */
    uint64_t off;  /* list-append reads: first element in elems */
    dmr_txn_elem_t v;
} dmr_mop_t;

/* One transaction: an invocation and its completion. */
typedef struct {
    int64_t process;
    int64_t index;    /* the completion's :index (else the invocation's), or -1 */
    uint32_t line;    /* line of the completion (of the invocation if none) */
    uint32_t invline; /* line of the invocation */
    uint32_t inv;     /* position of the invocation among the events */
    uint32_t ret;     /* position of the completion; UINT32_MAX if none */
    uint32_t mop;     /* its micro-ops are mops[mop .. mop + nmop) */
    uint32_t nmop;
    uint64_t off;     /* byte offset of the op map whose value is read */
    uint8_t status;   /* dmr_txn_status_t */
} dmr_txn_t;

typedef struct dmr_txn_hist dmr_txn_hist_t;
struct dmr_txn_hist {
    char *name;
    dmr_txn_workload_t workload;
    const char *format;   /* "edn" or "json" */
    dmr_txn_t *txns;      /* in order of invocation */
    size_t ntxn;
    dmr_mop_t *mops;      /* grouped by transaction, in list order */
    size_t nmop;
    dmr_txn_elem_t *elems; /* elements of list-append reads */
    size_t nelem;
    size_t nkey;          /* keys are 0 .. nkey-1 */
    uint32_t nevents;     /* client events read */
    struct dmr_txn_intern *keys, *texts; /* interned texts */
    char *buf;            /* the file's bytes, kept to print transactions */
    size_t len;
    size_t cap_txn, cap_mop, cap_elem, cap_buf; /* allocated */
};

/* "list-append" or "rw-register". */
const char *dmr_txn_workload_name(dmr_txn_workload_t w);

/* Reads a transaction history of workload w from buf (len bytes, which
 * the history copies) named name in format ("edn", "json" or NULL to
 * detect from the first value). An unknown micro-op, one that does not
 * belong to the workload, a malformed micro-op or op map, or pairing
 * errors (a second invocation while one is open) are errors: returns
 * DMR_EINVAL (DMR_ECORRUPT for syntax) with "NAME:LINE: what" in err.
 * Caller frees *out with dmr_txn_hist_destroy. */
int dmr_txn_hist_parse(const char *name, const char *buf, size_t len,
                       const char *format, dmr_txn_workload_t w,
                       dmr_txn_hist_t **out, char *err, size_t errlen);
/* Reads the file at path ("-": standard input), then dmr_txn_hist_parse. */
int dmr_txn_hist_load(const char *path, const char *format,
                      dmr_txn_workload_t w, dmr_txn_hist_t **out, char *err,
                      size_t errlen);
void dmr_txn_hist_destroy(dmr_txn_hist_t **ph);

/* The text of key id k (EDN, as read). */
const char *dmr_txn_key_text(const dmr_txn_hist_t *h, uint32_t k);
/* Writes element e as EDN into buf (at least 32 bytes for an integer);
 * returns buf. */
const char *dmr_txn_elem_text(const dmr_txn_hist_t *h, dmr_txn_elem_t e,
                              char *buf, size_t len);
/* Writes transaction t's micro-ops (from its completion, or its invocation
 * when it has none) as EDN, clipped to max bytes ("..." at the end). */
void dmr_txn_print_value(const dmr_txn_hist_t *h, uint32_t t, size_t max,
                         FILE *out);

/* ------------------------------------------------- one op at a time
 *
 * The cluster check (jobs/txncheck.c) reads a history a line at a time,
 * in pieces on many machines, and pairs invocations with completions
 * later. A reader takes one line holding one op map (blanks, commas, a
 * leading '[' or trailing ']' of a vector around the history and ';' or
 * '#' comment lines are allowed) and checks it as dmr_txn_hist_parse
 * does, with the same errors. */
typedef struct dmr_txn_reader dmr_txn_reader_t;

typedef struct {
    int ev;          /* 0 invoke, 1 ok, 2 fail, 3 info; -1: no op to take */
    int has_process; /* else the op map has no :process */
    int64_t process;
    int64_t index;   /* -1 when none */
    /* the op's micro-ops: h->mops[0 .. h->nmop) (reads known only in an
     * :ok), their elements in h->elems; valid until the next line */
    const dmr_txn_hist_t *h;
} dmr_txn_op_t;

/* format: "edn", "json" or NULL to tell from each line. */
dmr_txn_reader_t *dmr_txn_reader_new(const char *name, const char *format,
                                     dmr_txn_workload_t w);
/* Reads line (len bytes, no newline) numbered lineno. Returns 0 with *op
 * filled (op->ev -1 for a blank or comment line, an op of the nemesis or
 * one that is not :txn), or an error with "NAME:LINE: why" in err: those
 * of dmr_txn_hist_parse, and a line with more than one op. */
int dmr_txn_reader_line(dmr_txn_reader_t *rd, const char *line, size_t len,
                        uint32_t lineno, dmr_txn_op_t *op, char *err,
                        size_t errlen);
void dmr_txn_reader_destroy(dmr_txn_reader_t **prd);

/* ------------------------------------------------ building a history
 *
 * A history built piece by piece from records (a key's transactions, the
 * members of a component, the witnesses of a report). */
dmr_txn_hist_t *dmr_txn_hist_new(const char *name, const char *format,
                                 dmr_txn_workload_t w);
/* Adds a transaction (a copy of *t, whose mop and nmop are ignored); the
 * micro-ops added next are its. Returns its index. */
uint32_t dmr_txn_hist_add(dmr_txn_hist_t *h, const dmr_txn_t *t);
/* Adds micro-op *m (txn, off ignored) to the last transaction; for a
 * known list-append read, its m->n elements are copied from elems. */
void dmr_txn_hist_add_mop(dmr_txn_hist_t *h, const dmr_mop_t *m,
                          const dmr_txn_elem_t *elems);
/* Copies transaction t of src (its micro-ops, and the text of its op map
 * so that dmr_txn_print_value shows it) into h; returns its index. */
uint32_t dmr_txn_hist_copy(dmr_txn_hist_t *h, const dmr_txn_hist_t *src,
                           uint32_t t);
/* Key id of a key's text, added when new. */
uint32_t dmr_txn_key_id(dmr_txn_hist_t *h, const char *s, size_t n);
/* The number of keys (after keys are added). */
void dmr_txn_hist_seal(dmr_txn_hist_t *h);

/* ----------------------------------------------------------- the wire
 *
 * Records between stages are lines of tokens separated by one blank. A
 * text token escapes bytes up to ' ', DEL, '\\', '~' and '\'' as \xx (hex);
 * an element is "~" (nil), a decimal integer, or '\'' and its text. */
void dmr_txn_wire_text(dmr_buf_t *b, const char *s, size_t n);
void dmr_txn_wire_elem(dmr_buf_t *b, const dmr_txn_hist_t *h,
                       dmr_txn_elem_t e);

typedef struct {
    const char *p, *end;
} dmr_txn_tok_t;

/* The next token of *t into *s, *n; 0 at the end. */
int dmr_txn_tok(dmr_txn_tok_t *t, const char **s, size_t *n);
/* Unescapes s[0 .. n) into out (at least n bytes); returns its length. */
size_t dmr_txn_unwire(const char *s, size_t n, char *out);
/* A decimal token as an unsigned or signed integer; 0, or -1 if not one. */
int dmr_txn_tok_u64(const char *s, size_t n, uint64_t *v);
int dmr_txn_tok_i64(const char *s, size_t n, int64_t *v);
/* An element token, texts interned in h; 0, or -1 if malformed. */
int dmr_txn_tok_elem(dmr_txn_hist_t *h, const char *s, size_t n,
                     dmr_txn_elem_t *e);
/* A text token as a key id of h; 0, or -1 if malformed. */
int dmr_txn_tok_key(dmr_txn_hist_t *h, const char *s, size_t n, uint32_t *k);

#endif
