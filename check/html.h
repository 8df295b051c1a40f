/* html.h -- a self-contained HTML page that draws a history as process
 * timelines, with the operations a linearizability check could not order
 * marked, as Porcupine's and Knossos's visualisations do.
 *
 * The page has no external resources: inline SVG, CSS and a little
 * JavaScript (hover shows an operation's details). */
#ifndef DMR_CHECK_HTML_H
#define DMR_CHECK_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "check/history.h"

/* Writes the page for history h to out. parts are the file's part result
 * lines (check/check.h), parsed: each violating part is drawn (its ops are
 * those of h whose :key renders as the part's "part"), with its blocked
 * operation, window, prefix and model states marked; other parts are
 * listed with their verdicts. Operations are matched to results by the
 * line of their invocation. */
void dmr_check_html(const dmr_history_t *h, const dmr_val_t *const *parts,
                    size_t nparts, FILE *out);

/* Writes s escaped for HTML text and attribute values (control
 * characters but tab and newline become U+FFFD): for the other pages of
 * dmr check (elle.c, stale.c). */
void dmr_html_esc(FILE *out, const char *s);

#endif
