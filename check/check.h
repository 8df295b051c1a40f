/* check.h -- one linearizability analysis, from a parsed history to
 * verdicts: split the history into independent parts, check each part,
 * and describe each part's result as one line of JSON.
 *
 * The same functions serve `dmr check --local` (every part in this
 * process) and the `lincheck` job (map splits and writes each part as a
 * JSON-lines sub-history; reduce parses one part and checks it), so the
 * two paths give the same answers by construction.
 *
 * A part result line (one JSON object, no newline inside):
 *
 *   {"file":F,"part":K,"verdict":"linearizable"|"violation"|"unknown"|
 *    "error"|"skipped","ops":N,"checked":N,"steps":N,"seen":N,"us":T,
 *    "why":"timeout"|"memory"|error text|why skipped, (unknown, error,
 *                                                     skipped)
 *    "blocked":OP,                                   (violation: the op
 *                                                     whose return the
 *                                                     search never got past)
 *    "window":[OP...],   (ops invoked before that return, not in the prefix)
 *    "prefix":N,         (ops in the longest linearisable prefix)
 *    "prefix_last":OP,   (its last op)
 *    "states":[S...]}    (model states reachable at the end of the prefix)
 *
 * where OP = {"line":L,"ret_line":L|null,"process":P,"type":"ok"|"info",
 * "f":F,"value":EDN text[,"result":false]}: an operation is named by the
 * lines of its invocation and completion in the original file.
 *
 * Single-threaded. */
#ifndef DMR_CHECK_CHECK_H
#define DMR_CHECK_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "check/history.h"
#include "check/lin.h"
#include "check/model.h"

typedef struct {
    char *key;     /* the :key of a by-key model's part; "" otherwise */
    uint32_t *ops; /* history op indices, in order of invocation */
    size_t nops;
} dmr_part_t;

/* Splits h into the parts model checks independently: one per :key for a
 * by-key model (in order of first appearance), else one part. *parts is
 * caller-freed with dmr_parts_free. An empty history has one empty part. */
void dmr_check_split(const dmr_history_t *h, const dmr_model_t *model,
                     dmr_part_t **parts, size_t *nparts);
void dmr_parts_free(dmr_part_t *parts, size_t nparts);

/* Writes the events of part p of h to out as dmr JSON-lines, each with its
 * original line number ("line"), so a checker of the sub-history names
 * the lines of the original file. */
void dmr_check_write_part(const dmr_history_t *h, const dmr_part_t *p,
                          FILE *out);

/* Checks part p of h (every op when p is NULL) against model from init
 * (may be NULL) within budget, and writes the result line (see above,
 * without a newline) to out. file names the history in the line (NULL:
 * h->name). Returns the verdict, or -1 for an error (a bad op, a bad
 * init), which is described in the line too. The search time ("us")
 * excludes reading and compiling the history. */
int dmr_check_part(const dmr_model_t *model, const dmr_val_t *init,
                   const dmr_history_t *h, const dmr_part_t *p,
                   const char *file, const dmr_lin_budget_t *budget, FILE *out);

/* Checks parts[0..nparts) of h (every op as one part when parts is NULL)
 * as dmr_check_part does, interleaving their searches in slices, and
 * writes one result line per part, in order, separated by newlines (none
 * after the last). With first_violation, the search stops once a part is
 * a violation, which decides the file; the parts not yet decided then
 * have the verdict "skipped". Returns -1 if a part is an error, else
 * DMR_LIN_VIOLATION if one is, else DMR_LIN_UNKNOWN if one is, else
 * DMR_LIN_OK. */
int dmr_check_parts(const dmr_model_t *model, const dmr_val_t *init,
                    const dmr_history_t *h, const dmr_part_t *parts,
                    size_t nparts, const char *file,
                    const dmr_lin_budget_t *budget, int first_violation,
                    FILE *out);

/* Writes an error result line for file (a history that cannot be read). */
void dmr_check_error_line(const char *file, const char *why, FILE *out);

#endif
