/* elle.h -- transactional anomalies in the manner of Elle (Kingsbury &
 * Alvaro, "Elle: Inferring Isolation Anomalies from Experimental
 * Observations", VLDB 2020): infer each key's version order from what the
 * transactions read, derive a dependency graph between transactions, and
 * find the anomalies that isolation levels forbid.
 *
 * Inference, per key (the work is independent from key to key):
 *   list-append  the longest read is the key's version order; every read
 *                must be a prefix of it (else incompatible-order, and the
 *                key gives no edges). ww: the appenders of adjacent
 *                elements; wr: the appender of a read's last element ->
 *                the reader; rw: a reader -> the appender of the element
 *                after the last it saw.
 *   rw-register  writes are unique, so a read names its writer. Versions
 *                are ordered by what a transaction implies: it read v and
 *                then wrote w (v < w), or wrote w1 then w2 (w1 < w2); the
 *                initial nil precedes the versions nothing else precedes.
 *                A cycle among versions is cyclic-versions (no edges).
 *                ww, wr, rw follow from that order.
 * Only a transaction's external reads (before it writes the key) and its
 * final write to a key give edges; failed transactions take no part.
 * On request, process order (a process's transactions one after another)
 * and real-time order (T1 completed before T2 was invoked, as a transitive
 * reduction: each transaction points to the frontier of those completed
 * before it began) are added as edges.
 *
 * Cycles: the graph is split into strongly connected components (Tarjan);
 * in each, a breadth-first search over (transaction, cycle-so-far) states
 * finds the shortest cycle of each class -- G0 (ww only), G1c (ww and wr),
 * G-single (one rw), G-nonadjacent (rw edges, no two adjacent), G2-item
 * (rw edges) and, with process or real-time edges, their -process and
 * -realtime variants -- and names each found cycle by what it is made of.
 * The search from one start is exact; a component of more than a few
 * thousand transactions is searched from as many starts as a work budget
 * allows, so its witness is the shortest found, not always the shortest.
 *
 * Other anomalies: G1a (read of a failed write), G1b (read of an
 * intermediate write), internal (a read that disagrees with the
 * transaction's own earlier micro-ops), dirty-update, duplicate-elements,
 * incompatible-order, lost-update, future-read, cyclic-versions.
 *
 * Models: Elle's lattice of consistency models and which anomalies each
 * forbids; a verdict names the weakest models the history violates (not)
 * and the stronger ones that follow (also_not).
 *
 * Single-threaded. */
#ifndef DMR_CHECK_ELLE_H
#define DMR_CHECK_ELLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "check/txn.h"

/* Edge kinds of the dependency graph. */
typedef enum {
    DMR_ELLE_WW,
    DMR_ELLE_WR,
    DMR_ELLE_RW,
    DMR_ELLE_PROCESS,
    DMR_ELLE_REALTIME,
} dmr_elle_kind_t;

typedef struct {
    uint64_t models;    /* bit i: dmr_elle_model_name(i) is checked */
    uint64_t anomalies; /* bit i: also look for anomaly i */
    int process;        /* add process order (also implied by models) */
    int realtime;       /* add real-time order (also implied by models) */
    size_t max_witnesses; /* per anomaly type kept in the result (0: 8) */
} dmr_elle_opts_t;

typedef struct dmr_elle_result dmr_elle_result_t;

/* Model and anomaly names, by index (NULL past the last). */
const char *dmr_elle_model_name(size_t i);
const char *dmr_elle_anomaly_name(size_t i);
/* Sets *bit to the index of the model named s (Elle's friendly names and
 * its canonical PL-* names); returns 0, or -1 if unknown. */
int dmr_elle_model_find(const char *s, size_t *bit);
int dmr_elle_anomaly_find(const char *s, size_t *bit);

/* Analyses h under o. Returns 0 and *out (free with
 * dmr_elle_result_destroy), or a negative error with "FILE:LINE: why" in
 * err when h breaks a precondition of its workload (a value appended or
 * written to a key twice). */
int dmr_elle_check(const dmr_txn_hist_t *h, const dmr_elle_opts_t *o,
                   dmr_elle_result_t **out, char *err, size_t errlen);
void dmr_elle_result_destroy(dmr_elle_result_t **pr);

/* 1 if no anomaly the checked models forbid was found. */
int dmr_elle_valid(const dmr_elle_result_t *r);
/* Bit i set: anomaly i was found. */
uint64_t dmr_elle_found(const dmr_elle_result_t *r);
/* How many of anomaly i were found. */
size_t dmr_elle_count(const dmr_elle_result_t *r, size_t i);

/* Writes the result as text for people: the verdict, then each anomaly
 * type with its witnesses explained in sentences. */
void dmr_elle_print_text(const dmr_elle_result_t *r, size_t max_shown,
                         FILE *out);
/* Writes the result as one JSON object (no newline), in Elle's shape:
 * {"file","workload","valid","anomaly_types","anomalies":{TYPE:[..]},
 *  "not","also_not","txns","edges","sccs","us"}. */
void dmr_elle_print_json(const dmr_elle_result_t *r, FILE *out);
/* Writes the result as one self-contained HTML page: the verdict, and
 * each witness (at most max_shown per anomaly type, 200 in all) as an SVG
 * graph of its cycle -- transactions as nodes, edges labelled with kind
 * and key, each reason as a tooltip -- with its transactions and
 * sentences. */
void dmr_elle_print_html(const dmr_elle_result_t *r, size_t max_shown,
                         FILE *out);

/* ------------------------------------------------------------ in pieces
 *
 * The cluster check (jobs/txncheck.c) runs the analysis as stages over
 * parts of a history: dmr_elle_check is dmr_elle_new, then
 * dmr_elle_infer (the per-key work), dmr_elle_order (process and
 * real-time edges), dmr_elle_cycles (components and cycle search over
 * the edges found or added) and dmr_elle_finish (keep what is reported).
 * Between stages, edges and anomalies travel as wire records (see
 * dmr_txn_wire_text), their transactions named by global ids. */
dmr_elle_result_t *dmr_elle_new(const dmr_txn_hist_t *h,
                                const dmr_elle_opts_t *o);
/* Whether the models checked need process or real-time edges. */
int dmr_elle_wants_process(const dmr_elle_result_t *r);
int dmr_elle_wants_realtime(const dmr_elle_result_t *r);
int dmr_elle_infer(dmr_elle_result_t *r, char *err, size_t errlen);
void dmr_elle_order(dmr_elle_result_t *r);
void dmr_elle_add_edge(dmr_elle_result_t *r, uint32_t from, uint32_t to,
                       dmr_elle_kind_t kind, uint32_t key, dmr_txn_elem_t v1,
                       dmr_txn_elem_t v2);
void dmr_elle_cycles(dmr_elle_result_t *r);
void dmr_elle_finish(dmr_elle_result_t *r);

/* Tarjan's strongly connected components of a graph of n nodes whose
 * edges from v are adj[off[v] .. off[v + 1]), without recursion. comp[v]
 * is v's component; returns the number of components. */
size_t dmr_elle_tarjan(size_t n, const uint32_t *off, const uint32_t *adj,
                       uint32_t *comp);

size_t dmr_elle_nedges(const dmr_elle_result_t *r);
void dmr_elle_edge_ends(const dmr_elle_result_t *r, size_t i, uint32_t *from,
                        uint32_t *to);
/* Appends edge i as a record "FROM TO KIND KEY V1 V2"; gid maps r's
 * transactions to global ids (NULL: their indices). */
void dmr_elle_wire_edge(const dmr_elle_result_t *r, size_t i,
                        const uint64_t *gid, dmr_buf_t *b);

typedef void (*dmr_elle_put_fn)(void *arg, char what, const char *rec,
                                size_t len);
/* Hands each anomaly of r to put: 'a' records, whole, while shown[type]
 * (the caller's counters, DMR_ELLE_NTYPES of them, kept across calls) is
 * under cap, then 'c' records "TYPE N" counting the others. */
void dmr_elle_wire_anomalies(const dmr_elle_result_t *r, const uint64_t *gid,
                             size_t cap, size_t *shown, dmr_elle_put_fn put,
                             void *arg);
#define DMR_ELLE_NTYPES 64

/* Maps a global id to a transaction of h: 0, or -1 if unknown. */
typedef int (*dmr_elle_lookup_fn)(void *arg, uint64_t gid, uint32_t *t);
/* Read records into r, interning keys and texts in h (r's history).
 * Return 0, or -1 for a malformed record (nothing added). */
int dmr_elle_wire_read_edge(dmr_elle_result_t *r, dmr_txn_hist_t *h,
                            const char *rec, size_t len,
                            dmr_elle_lookup_fn look, void *arg);
int dmr_elle_wire_read_anomaly(dmr_elle_result_t *r, dmr_txn_hist_t *h,
                               const char *rec, size_t len,
                               dmr_elle_lookup_fn look, void *arg);
int dmr_elle_wire_read_count(dmr_elle_result_t *r, const char *rec,
                             size_t len);
/* The global ids of the transactions an 'a' record names (with repeats),
 * at most max of them; returns how many. */
size_t dmr_elle_wire_txns(const char *rec, size_t len, uint64_t *ids,
                          size_t max);

/* The whole history's figures, for a result whose history holds only the
 * transactions its anomalies name. */
typedef struct {
    size_t txns, ok, fail, info, edges, sccs, largest_scc;
    double us; /* the time the analysis took, if not 0 */
} dmr_elle_summary_t;
void dmr_elle_set_summary(dmr_elle_result_t *r, const dmr_elle_summary_t *s);
void dmr_elle_summary(const dmr_elle_result_t *r, dmr_elle_summary_t *s);

#endif
