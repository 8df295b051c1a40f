/* session.h -- session guarantees (Terry et al., "Session Guarantees for
 * Weakly Consistent Replicated Data", PDIS 1994) checked per process over
 * recorded histories: read-your-writes, monotonic reads, monotonic writes
 * and writes-follow-reads.
 *
 * A process is a session; its operations are in process order (a Jepsen
 * process runs one operation at a time). The guarantees are checked one
 * key at a time, against the order of the key's versions, which is known
 * only in part. What is certainly known ("the base order"):
 *
 *   linear keys   list-append transactions (txn.h): the versions of a key
 *                 are the prefixes of its longest read; a read that is not
 *                 a prefix of it has no known version and is not used. An
 *                 ok append no read ever shows comes after every version
 *                 read ("never read").
 *   forest keys   everything else: key/value and register histories
 *                 (history.h) and rw-register transactions. A version is
 *                 the write that made it; the initial nil precedes every
 *                 write; a version made by an atomic read-modify-write
 *                 follows the version it read: an ok cas [old new], a
 *                 transaction that read v and then wrote w (or wrote w1
 *                 then w2), and a kv string append (Porcupine's :append),
 *                 whose version follows the value it extended. A read of a
 *                 string is taken apart into the put it starts from (or
 *                 "") and the appends after it, when that can be done in
 *                 exactly one way. Plain writes and puts are otherwise
 *                 unordered among themselves.
 *
 * A read names the version it saw only when the value it returned was
 * written once to that key (nil: never written); reads of values written
 * twice, of values nobody wrote, and writes of such values are not used.
 *
 * Each guarantee, for one process and one key, asks for a total order of
 * versions in which, for every pair of the process's accesses A (earlier)
 * and B (later) with different versions, A's version precedes B's:
 *
 *   read-your-writes     A an ok write, B a read;
 *   monotonic-reads      A a read, B a read;
 *   monotonic-writes     A an ok write, B an ok write;
 *   writes-follow-reads  A a read, B an ok write.
 *
 * A violation is reported only when no such order exists that also
 * extends the base order, i.e. these constraints and the base order form
 * a cycle: it is then certain, whatever the unknown order. Each witness
 * is such a cycle, named by the process's operations (file lines, event
 * indices, values). Examples of what this finds: a process reading a,
 * then b, then a again (monotonic reads); reading nil, or a shorter list,
 * after its own completed write (read-your-writes); its two appends to a
 * list-append key appearing in the other order, or the later one
 * appearing without the earlier one (monotonic writes); writing w after
 * reading v when a cas chain puts w before v (writes-follow-reads).
 *
 * Not detected: violations that show only across keys (Terry's
 * guarantees span objects: a transaction reading a process's write to k2
 * but not its earlier write to k1); violations that need two guarantees
 * together, or constraints of other processes (those are not certain for
 * one process); the order between plain writes that no read-modify-write
 * or read reveals (so in a key/value store with puts only, monotonic
 * writes and writes-follow-reads can hold vacuously); accesses inside one
 * transaction after it wrote the key (Elle's internal consistency, see
 * elle.h); info and failed operations (info writes may or may not have
 * happened: not used).
 * Histories of Jepsen's independent [k v] tuples are one key.
 *
 * Single-threaded. */
#ifndef DMR_CHECK_SESSION_H
#define DMR_CHECK_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "check/history.h"
#include "check/txn.h"

/* Checks the history in the file at path ("-": standard input) in format
 * (NULL to detect; "edn", "etcd" or "json"). A file that mentions :txn,
 * "txn" or a micro-op [:append is read as a transaction history (list-append if
 * it mentions append, else rw-register); any other as a key/value or register
 * history. Writes to out, as text (json 0): a first line
 * "PATH: session guarantees hold" or "PATH: NOT read-your-writes,
 * monotonic-reads" (the guarantees violated, in the order above), a line
 * of figures, then up to max_witnesses (0: 8) witnesses per guarantee,
 * each one sentence; or (json 1) one JSON object and a newline:
 *   {"file","history":"kv"|"list-append"|"rw-register","valid",
 *    "anomaly_types":[..],"anomalies":{NAME:[{"process","key","ops":[OP..],
 *    "explanation"}..]},"counts":{NAME:N},"processes","keys","reads",
 *    "writes","unknown","unchecked","us"}
 * with OP = {"line","inv_line","index","process","f","role","value"} (line: the
 * completion's line; value: EDN text). counts are the (process, key)
 * pairs violating each guarantee. Returns 0 if every guarantee holds, 1
 * if one is violated, 2 on an error, with "FILE:LINE: what" (or "FILE:
 * what") in err and nothing written. Blocks reading the file. */
int dmr_session_report(const char *path, const char *format, int json,
                       size_t max_witnesses, FILE *out, char *err,
                       size_t errlen);
/* The same for the len bytes at buf, named name. */
int dmr_session_report_buf(const char *name, const char *buf, size_t len,
                           const char *format, int json, size_t max_witnesses,
                           FILE *out, char *err, size_t errlen);

/* ---- the versions of a key/value history (also used by stale.h) ------- */

/* A version: DMR_SESSION_INITIAL (the value before any write), or 1 + the
 * history op index of the write that made it. */
#define DMR_SESSION_INITIAL 0u
#define DMR_SESSION_UNKNOWN UINT32_MAX

enum { DMR_SESSION_READ, DMR_SESSION_WRITE };

/* One access of a key by an operation. A cas is two: its read of old,
 * then its write of new. */
typedef struct {
    uint32_t op;    /* history op index */
    uint32_t proc;  /* dense process id, in order of first appearance */
    uint32_t key;   /* dense key id, in order of first appearance */
    uint8_t role;   /* DMR_SESSION_READ or DMR_SESSION_WRITE */
    uint8_t ok;     /* 1: completed ok (reads always; writes may be info) */
    uint32_t ver;   /* a write: its version; a read: the version it saw
                       if known; else DMR_SESSION_UNKNOWN */
    uint32_t cand;  /* reads: the versions that may have been read are */
    uint32_t ncand; /* cands[cand .. cand + ncand) (0: none known) */
} dmr_session_acc_t;

typedef struct dmr_session_kv dmr_session_kv_t;

/* Reads the accesses of h: f read|get (ok only), write|put, append (a
 * string), cas [old new] (ok with a true compare: read and write; info:
 * write); failed ops and other fs are left out. A cas without a pair or
 * an append of a non-string is an error, "FILE:LINE: why". Caller frees
 * *out with dmr_session_kv_destroy; h must outlive it. */
int dmr_session_kv_open(const dmr_history_t *h, dmr_session_kv_t **out,
                        char *err, size_t errlen);
void dmr_session_kv_destroy(dmr_session_kv_t **pkv);
/* The accesses, in order of invocation (*n of them). */
const dmr_session_acc_t *dmr_session_kv_accesses(const dmr_session_kv_t *kv,
                                                 size_t *n);
/* A read's candidate versions (*n of them): every write of the value it
 * returned (and DMR_SESSION_INITIAL for nil), or the one version its
 * string decomposes into. */
const uint32_t *dmr_session_kv_cands(const dmr_session_kv_t *kv,
                                     const dmr_session_acc_t *a, size_t *n);
size_t dmr_session_kv_nkeys(const dmr_session_kv_t *kv);
/* The EDN text of key k ("" for a history without keys). */
const char *dmr_session_kv_key_text(const dmr_session_kv_t *kv, uint32_t k);

#endif
