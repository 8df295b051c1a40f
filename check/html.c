/* html.c -- the page of a checked history (html.h): the verdict of every
 * part, what the search found in each violating part, and for each drawn
 * part an inline SVG timeline with one lane per process.
 *
 * What is drawn comes from two places that must agree: the history (every
 * op's invocation and completion events) and the part result lines
 * (check.h), which name ops by the line of their invocation and their
 * process. Lines are non-decreasing along h->ops (ops are in order of
 * invocation, events in file order), so a result op is found by a binary
 * search over the part's ops.
 *
 * Roles, from the search in lin.c: the blocked op is the one whose return
 * the search never got past; the window holds every op invoked before that
 * return and not in the longest linearisable prefix. So among the ops
 * invoked before that return, those that are neither in the window nor
 * failed (failed ops are dropped before the search) form the prefix; the
 * rare ok op a model drops (a set read of nil) is drawn in it too. An
 * info op there is in the prefix only if it changes state (a read of
 * unknown result is dropped, like a failed op); the results do not say
 * which, but when the prefix's length equals the ok ops plus all of these
 * info ops, every one of them is in it (no other count adds up), and they
 * are drawn in it; otherwise they keep their own style. Ops invoked after
 * the return were never reached by the search and are drawn faded.
 *
 * x is the rank of an event among the part's events (for a history of one
 * part, its event index), so a part of a by-key history is drawn without
 * the gaps of the other keys' events. Ops that never completed, and the
 * last info op of each process (it may take effect at any time after its
 * invocation), extend to the last event.
 *
 * Writes to a FILE only; holds no state between calls. Single-threaded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/html.h"
#include "check/model.h"
#include "common/alloc.h"

/* Geometry of a timeline, in px. */
enum {
    LANE_H = 22,      /* one process lane */
    BAR_H = 16,       /* an operation's bar, centred in its lane */
    LEFT = 76,        /* lane labels */
    RIGHT = 16,       /* margin after the last event */
    TOP = 34,         /* axis labels (y 12) and the stuck label (y 27) */
    MIN_WIDTH = 1000, /* the drawing area is at least this wide */
    EV_PX = 8,        /* and gives each event at least this much */
    CHAR_PX = 7,      /* width of one character of a bar's label */
    TICK_PX = 110,    /* at least this far between axis labels */
    MAX_LISTED = 100, /* summary rows before linearizable parts are only
                         counted */
};

/* An op's role in what the search found; the CSS class of its bar. */
typedef enum {
    R_PLAIN,   /* nothing to say (no violation, or not reached) */
    R_PREFIX,  /* linearised in the longest prefix */
    R_WINDOW,  /* invoked before the blocking return, not linearised */
    R_BLOCKED, /* its return is where the search got stuck */
    R_LATE,    /* invoked after that return: never reached */
} role_t;

static const char *const s_role_class[] = {"", " prefix", " window", " blocked",
                                           " late"};
static const char *const s_role_text[] = {
    "", "in the linearisable prefix",
    "in the window: invoked before the search got stuck, not linearised",
    "blocked: no order of the operations gets past its completion",
    "invoked after the search got stuck: never reached"};

/* One part to describe: its result line and its ops in h. */
typedef struct {
    const dmr_val_t *res; /* the part result line; NULL if there is none */
    const char *key;      /* rendered :key; "" for a whole history */
    uint32_t *ops;        /* indices into h->ops, in order of invocation */
    size_t nops;
} view_t;

/* ---- text ------------------------------------------------------------- */

/* Writes n bytes of s escaped for HTML text and attribute values. Control
 * characters other than tab and newline (NULs included) become U+FFFD. */
static void s_esc_n(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                fputs("&#xFFFD;", out);
            else
                fputc(c, out);
        }
    }
}

void dmr_html_esc(FILE *out, const char *s)
{
    s_esc_n(out, s, strlen(s));
}

static void s_esc(FILE *out, const char *s)
{
    dmr_html_esc(out, s);
}

/* A string field of a result object, or "" if absent. */
static const char *s_str(const dmr_val_t *m, const char *k)
{
    const dmr_val_t *v = dmr_val_get(m, k);
    return v && (v->type == DMR_V_STR || v->type == DMR_V_KW) ? v->u.str.s : "";
}

/* An integer field of a result object, or -1 if absent. */
static int64_t s_int(const dmr_val_t *m, const char *k)
{
    const dmr_val_t *v = dmr_val_get(m, k);
    return v && v->type == DMR_V_INT ? v->u.i : -1;
}

/* Writes field k of m as a table cell: its text, or "-" if absent. */
static void s_cell(FILE *out, const dmr_val_t *m, const char *k)
{
    const dmr_val_t *v = dmr_val_get(m, k);
    char buf[64];
    fputs("<td class=\"n\">", out);
    if (!v || v->type == DMR_V_NIL)
        fputs("-", out);
    else if (v->type == DMR_V_STR)
        s_esc(out, v->u.str.s);
    else
        s_esc(out, dmr_val_format(v, buf, sizeof buf));
    fputs("</td>", out);
}

/* Writes a result OP object (check.h) as one escaped line of text:
 * "lines 12-15  process 3  :cas [1 2] (compare false)". */
static void s_res_op(FILE *out, const dmr_val_t *op)
{
    int64_t line = s_int(op, "line"), ret = s_int(op, "ret_line");
    const dmr_val_t *res = dmr_val_get(op, "result");
    if (ret >= 0)
        fprintf(out, "lines %lld-%lld", (long long)line, (long long)ret);
    else
        fprintf(out, "line %lld, never completed", (long long)line);
    fprintf(out, " &nbsp;process %lld &nbsp;", (long long)s_int(op, "process"));
    if (!strcmp(s_str(op, "type"), "info"))
        fputs("(info) ", out);
    fputs("<code>:", out);
    s_esc(out, s_str(op, "f"));
    fputs(" ", out);
    s_esc(out, s_str(op, "value"));
    fputs("</code>", out);
    if (res && res->type == DMR_V_BOOL && !res->u.b)
        fputs(" (compare false)", out);
}

/* ---- matching results to ops ------------------------------------------ */

/* The position in v->ops of the op a result OP object names (by its
 * invocation line, then its process), or -1 if none matches. */
static long s_find(const dmr_history_t *h, const view_t *v, const dmr_val_t *op)
{
    if (!op)
        return -1;
    int64_t line = s_int(op, "line"), proc = s_int(op, "process");
    if (line < 0)
        return -1;
    size_t lo = 0, hi = v->nops; /* first op whose line >= line */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h->ev[h->ops[v->ops[mid]].inv].line < line)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Several invocations may share a line (an EDN vector on one line). */
    for (; lo < v->nops; lo++) {
        const dmr_event_t *e = &h->ev[h->ops[v->ops[lo]].inv];
        if (e->line != line)
            break;
        if (e->process == proc)
            return (long)lo;
    }
    return -1;
}

/* Fills role[0..v->nops) from v's result; returns the position of the
 * blocked op in v->ops, or -1 when there is none (no violation). Sets
 * *last to the position of the prefix's last op, or -1. */
static long s_roles(const dmr_history_t *h, const view_t *v, uint8_t *role,
                    long *last)
{
    memset(role, R_PLAIN, v->nops);
    *last = -1;
    if (!v->res || strcmp(s_str(v->res, "verdict"), "violation"))
        return -1;
    long b = s_find(h, v, dmr_val_get(v->res, "blocked"));
    if (b < 0 || h->ops[v->ops[b]].ret == UINT32_MAX)
        return -1;
    const dmr_val_t *w = dmr_val_get(v->res, "window");
    if (w && dmr_val_is_seq(w))
        for (size_t i = 0; i < w->u.seq.n; i++) {
            long k = s_find(h, v, w->u.seq.items[i]);
            if (k >= 0)
                role[k] = R_WINDOW;
        }
    role[b] = R_BLOCKED;
    /* See the top of the file: what the window leaves before the return. */
    uint32_t stuck = h->ops[v->ops[b]].ret;
    size_t nok = 0, ninfo = 0;
    for (size_t i = 0; i < v->nops; i++) {
        const dmr_op_t *op = &h->ops[v->ops[i]];
        if (role[i] != R_PLAIN)
            continue;
        if (op->inv > stuck)
            role[i] = R_LATE;
        else if (op->type == DMR_EV_OK)
            role[i] = R_PREFIX;
        nok += role[i] == R_PREFIX;
        ninfo += role[i] == R_PLAIN && op->type == DMR_EV_INFO;
    }
    /* Every info op left before the return is in the prefix. */
    if (ninfo && s_int(v->res, "prefix") == (int64_t)(nok + ninfo))
        for (size_t i = 0; i < v->nops; i++)
            if (role[i] == R_PLAIN && h->ops[v->ops[i]].type == DMR_EV_INFO)
                role[i] = R_PREFIX;
    *last = s_find(h, v, dmr_val_get(v->res, "prefix_last"));
    return b;
}

/* ---- the timeline ----------------------------------------------------- */

static int s_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int s_i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The index of x in the sorted array a[0..n) (x must be there). */
static size_t s_rank_u32(const uint32_t *a, size_t n, uint32_t x)
{
    const uint32_t *p = bsearch(&x, a, n, sizeof *a, s_u32_cmp);
    DMR_ASSERT(p);
    return (size_t)(p - a);
}

static size_t s_rank_i64(const int64_t *a, size_t n, int64_t x)
{
    const int64_t *p = bsearch(&x, a, n, sizeof *a, s_i64_cmp);
    DMR_ASSERT(p);
    return (size_t)(p - a);
}

/* Sorts a[0..n) and drops duplicates; returns the new count. */
static size_t s_uniq_i64(int64_t *a, size_t n)
{
    size_t k = 0;
    qsort(a, n, sizeof *a, s_i64_cmp);
    for (size_t i = 0; i < n; i++)
        if (k == 0 || a[k - 1] != a[i])
            a[k++] = a[i];
    return k;
}

/* 1 if op completed ok with an explicit false outcome (a cas whose
 * compare was false). */
static int s_false(const dmr_history_t *h, const dmr_op_t *op)
{
    return op->type == DMR_EV_OK && op->ret != UINT32_MAX &&
           h->ev[op->ret].result == 0;
}

/* Writes the label of a bar w px wide, ":f value" cut with an ellipsis to
 * fit; nothing if not even three characters fit. */
static void s_bar_label(FILE *out, const char *text, double x, double y,
                        double w)
{
    size_t fit = w > 6 ? (size_t)((w - 6) / CHAR_PX) : 0;
    size_t n = strlen(text);
    if (fit < 3)
        return;
    int cut = n > fit;
    if (cut) {
        n = fit - 1;
        while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
            n--; /* not inside a UTF-8 sequence */
    }
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", x + 3, y);
    s_esc_n(out, text, n);
    fputs(cut ? "\xe2\x80\xa6</text>" : "</text>", out);
}

/* Writes the <title> of op i of h: everything known about it. */
static void s_op_title(FILE *out, const dmr_history_t *h, uint32_t i,
                       role_t role, const char *value)
{
    const dmr_op_t *op = &h->ops[i];
    const dmr_event_t *inv = &h->ev[op->inv];
    fputs("<title>", out);
    if (op->ret != UINT32_MAX)
        fprintf(out, "lines %u-%u", inv->line, h->ev[op->ret].line);
    else
        fprintf(out, "line %u, never completed", inv->line);
    fprintf(out, "\nprocess %lld, %s\n:", (long long)inv->process,
            dmr_evtype_name(op->type));
    s_esc(out, inv->f);
    fputs(" ", out);
    s_esc(out, value);
    if (s_false(h, op))
        fputs(" (compare false)", out);
    if (op->type == DMR_EV_INFO)
        fputs("\nmay take effect at any time after its invocation", out);
    if (inv->key) {
        char kb[128];
        fputs("\nkey ", out);
        s_esc(out, dmr_val_format(inv->key, kb, sizeof kb));
    }
    if (role != R_PLAIN) {
        fputs("\n", out);
        s_esc(out, s_role_text[role]);
    }
    fputs("</title>", out);
}

/* Writes the hatching of failed ops, as pattern "hatch-ID". */
static void s_hatch(FILE *out, const char *id)
{
    fprintf(out,
            "<defs><pattern id=\"hatch-%s\" width=\"6\" height=\"6\" "
            "patternUnits=\"userSpaceOnUse\" "
            "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" "
            "fill=\"#f4f4f4\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" "
            "stroke=\"#c4c4c4\" stroke-width=\"2\"/></pattern></defs>\n",
            id);
}

/* Draws the ops of v as an SVG timeline; id makes its element ids unique
 * in the page. */
static void s_draw(const dmr_history_t *h, const view_t *v, size_t id,
                   FILE *out)
{
    if (v->nops == 0) {
        fputs("<p>No operations.</p>\n", out);
        return;
    }
    uint8_t *role = dmr_malloc(v->nops);
    long last;
    long b = s_roles(h, v, role, &last);

    /* The part's events (the x axis) and processes (the lanes). */
    uint32_t *evs = dmr_malloc(2 * v->nops * sizeof *evs);
    int64_t *procs = dmr_malloc(v->nops * sizeof *procs);
    size_t nev = 0;
    for (size_t i = 0; i < v->nops; i++) {
        const dmr_op_t *op = &h->ops[v->ops[i]];
        evs[nev++] = op->inv;
        if (op->ret != UINT32_MAX)
            evs[nev++] = op->ret;
        procs[i] = h->ev[op->inv].process;
    }
    qsort(evs, nev, sizeof *evs, s_u32_cmp);
    size_t nlanes = s_uniq_i64(procs, v->nops);

    double px = (double)(MIN_WIDTH - LEFT - RIGHT) / (double)nev;
    if (px < EV_PX)
        px = EV_PX;
    double width = LEFT + px * (double)nev + RIGHT;
    double height = TOP + (double)(nlanes * LANE_H) + 4;
    double bottom = height - 2;

    fprintf(out,
            "<div class=\"scroll\"><svg xmlns=\"http://www.w3.org/2000/svg\" "
            "class=\"tl\" width=\"%.0f\" height=\"%.0f\">\n",
            width, height);
    char hid[32];
    snprintf(hid, sizeof hid, "%zu", id);
    s_hatch(out, hid);

    /* Lanes: alternate shading and the process on the left. */
    for (size_t l = 0; l < nlanes; l++) {
        double y = TOP + (double)(l * LANE_H);
        if (l % 2)
            fprintf(out,
                    "<rect class=\"lane\" x=\"0\" y=\"%.0f\" width=\"%.0f\" "
                    "height=\"%d\"/>",
                    y, width, LANE_H);
        fprintf(out, "<text class=\"proc\" x=\"%d\" y=\"%.0f\">p%lld</text>\n",
                LEFT - 8, y + LANE_H / 2 + 4, (long long)procs[l]);
    }

    /* The axis: a tick every few events, labelled with its file line. */
    size_t every = (size_t)(TICK_PX / px) + 1;
    for (size_t r = 0; r < nev; r += every) {
        double x = LEFT + px * ((double)r + 0.5);
        fprintf(out,
                "<line class=\"tick\" x1=\"%.1f\" y1=\"16\" x2=\"%.1f\" "
                "y2=\"%.0f\"/><text class=\"axis\" x=\"%.1f\" y=\"12\">"
                "line %u</text>\n",
                x, x, bottom, x, h->ev[evs[r]].line);
    }

    /* The last op of each lane (ops are in order of invocation). */
    size_t *lane_last = dmr_malloc(nlanes * sizeof *lane_last);
    for (size_t i = 0; i < v->nops; i++)
        lane_last[s_rank_i64(procs, nlanes,
                             h->ev[h->ops[v->ops[i]].inv].process)] = i;

    /* The ops. An info op may take effect at any time after its
     * invocation: the last one of a lane (its process did nothing more)
     * runs to the end, like an op that never completed. */
    for (size_t i = 0; i < v->nops; i++) {
        uint32_t oi = v->ops[i];
        const dmr_op_t *op = &h->ops[oi];
        const dmr_event_t *inv = &h->ev[op->inv];
        size_t lane = s_rank_i64(procs, nlanes, inv->process);
        int open = op->ret == UINT32_MAX ||
                   (op->type == DMR_EV_INFO && lane_last[lane] == i);
        size_t r0 = s_rank_u32(evs, nev, op->inv);
        size_t r1 = open ? nev - 1 : s_rank_u32(evs, nev, op->ret);
        double x = LEFT + px * (double)r0 + 1;
        double w = px * (double)(r1 - r0 + 1) - 2;
        double y = TOP + (double)(lane * LANE_H) + (LANE_H - BAR_H) / 2.0;
        const char *type = op->type == DMR_EV_FAIL   ? " fail"
                           : op->type == DMR_EV_INFO ? " info"
                                                     : "";
        char vb[160];
        dmr_val_format(dmr_op_value(h, oi), vb, sizeof vb);

        fprintf(out, "<g class=\"op%s%s%s%s\">", type, s_role_class[role[i]],
                open ? " open" : "", (long)i == last ? " last" : "");
        s_op_title(out, h, oi, (role_t)role[i], vb);
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" "
                "rx=\"3\"",
                x, y, w, BAR_H);
        /* An inline style: the stylesheet's fill would beat an attribute. */
        if (op->type == DMR_EV_FAIL)
            fprintf(out, " style=\"fill:url(#hatch-%s)\"", hid);
        fputs("/>", out);
        char *label = dmr_sprintf(":%s %s%s", inv->f, vb,
                                  s_false(h, op) ? " (false)" : "");
        s_bar_label(out, label, x, y + BAR_H - 4, w);
        free(label);
        fputs("</g>\n", out);
    }

    /* Where the search got stuck: the blocked op's completion. */
    if (b >= 0) {
        const dmr_op_t *op = &h->ops[v->ops[b]];
        size_t r = s_rank_u32(evs, nev, op->ret);
        double x = LEFT + px * ((double)r + 1);
        int left = r + 1 > nev / 2; /* the label left of the line */
        fprintf(out,
                "<line class=\"stuck\" x1=\"%.1f\" y1=\"18\" x2=\"%.1f\" "
                "y2=\"%.0f\"/><text class=\"stuck\" x=\"%.1f\" y=\"27\" "
                "text-anchor=\"%s\">search stuck at line %u</text>\n",
                x, x, bottom, x + (left ? -4 : 4), left ? "end" : "start",
                h->ev[op->ret].line);
    }
    fputs("</svg></div>\n", out);
    free(lane_last);
    free(procs);
    free(evs);
    free(role);
}

/* ---- the page --------------------------------------------------------- */

static const char s_css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
    "h1{font-size:1.4em;word-break:break-all}h2{font-size:1.15em;"
    "margin-top:1.8em}\n"
    "code,pre{font-family:ui-monospace,monospace;font-size:12px}\n"
    "table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:"
    "1px solid #ddd;text-align:left}td.n{text-align:right}\n"
    ".v-violation{color:#c00;font-weight:bold}.v-linearizable{color:#282}\n"
    ".v-unknown,.v-error{color:#b60;font-weight:bold}\n"
    ".why li{list-style:none}.why ul{padding-left:1.2em;margin:.3em 0}\n"
    ".scroll{overflow-x:auto;border:1px solid #ddd;margin:.6em 0}\n"
    ".legend span{display:inline-block;margin-right:1.2em}\n"
    ".legend svg{vertical-align:middle;margin-right:.3em}\n"
    "svg text{font:11px ui-monospace,monospace}\n"
    ".tl .proc{text-anchor:end;fill:#555}.tl .axis{fill:#888}\n"
    ".tl .lane{fill:#f5f7fa}.tl .tick{stroke:#e4e4e4}\n"
    ".op rect{fill:#c7d2e3;stroke:#5b6f8f;stroke-width:1}\n"
    ".op text{fill:#223;pointer-events:none}\n"
    ".op:hover rect{stroke:#000;stroke-width:2}\n"
    ".op.fail rect{fill:#f4f4f4;stroke:#aaa}"
    ".op.fail text{fill:#888;text-decoration:line-through}\n"
    ".op.info rect{fill:#e6ebf2;stroke-dasharray:4 3}\n"
    ".op.open rect{opacity:.7}\n"
    ".op.late{opacity:.45}\n"
    ".op.prefix rect{fill:#bfe6bf;stroke:#3c8c3c}\n"
    ".op.last rect{stroke-width:2.5}\n"
    ".op.window rect{fill:#ffc680;stroke:#c7761a}\n"
    ".op.blocked rect{fill:#ff8a80;stroke:#c00;stroke-width:3}\n"
    ".tl line.stuck{stroke:#d00;stroke-width:2}"
    ".tl text.stuck{fill:#d00;font-weight:bold}\n"
    "#detail{position:fixed;right:1em;bottom:1em;margin:0;padding:.5em "
    ".8em;background:#fffff0;border:1px solid #cc9;max-width:40em;"
    "white-space:pre-wrap}\n";

/* Hover: the details of the op under the pointer in the corner panel
 * (the <title> tooltip says the same, later). */
static const char s_js[] =
    "(function(){var d=document.getElementById('detail');\n"
    "document.querySelectorAll('g.op').forEach(function(g){\n"
    "g.addEventListener('mouseenter',function(){\n"
    "d.textContent=g.querySelector('title').textContent;});});})();\n";

/* One legend entry: a sample bar with the classes cls, then text. */
static void s_legend_item(FILE *out, const char *cls, const char *text)
{
    int fail = strstr(cls, "fail") != NULL;
    fputs("<span><svg width=\"34\" height=\"16\">", out);
    if (fail)
        s_hatch(out, "legend");
    fprintf(out,
            "<g class=\"op%s\"><rect x=\"2\" y=\"2\" width=\"30\" "
            "height=\"12\" rx=\"3\"",
            cls);
    if (fail)
        fputs(" style=\"fill:url(#hatch-legend)\"", out);
    fprintf(out, "/></g></svg>%s</span>\n", text);
}

static void s_legend(FILE *out)
{
    fputs("<p class=\"legend\">\n", out);
    s_legend_item(out, "", "completed ok");
    s_legend_item(out, " fail", "failed (did not happen)");
    s_legend_item(out, " info",
                  "info: may or may not have happened, at any time after "
                  "its invocation");
    s_legend_item(out, " prefix",
                  "completed ok, invoked before the search got stuck and "
                  "not in the window: linearised in the longest prefix");
    s_legend_item(out, " window",
                  "window: invoked before the search got stuck, cannot be "
                  "ordered");
    s_legend_item(out, " blocked",
                  "blocked: no order gets past its completion (red line)");
    s_legend_item(out, " late", "invoked after that: never reached");
    fputs("</p>\n<p>Each bar runs from an operation's invocation to its "
          "completion; an operation that never completed, and the last info "
          "operation of a process, run to the end. x is the order of the "
          "part's events; hover a bar for its details. An info operation "
          "before the red line and not in the window, if not drawn green, "
          "was linearised in the prefix if it changes the state, else it "
          "constrains nothing.</p>\n",
          out);
}

/* The summary table: a row per part, linearizable ones only while there
 * is room. */
static void s_summary(FILE *out, const dmr_val_t *const *parts, size_t nparts)
{
    size_t rows = 0, hidden = 0;
    fputs("<table><tr><th>part</th><th>verdict</th><th>ops</th>"
          "<th>checked</th><th>&micro;s</th><th>why</th></tr>\n",
          out);
    for (size_t i = 0; i < nparts; i++) {
        const dmr_val_t *p = parts[i];
        const char *verdict = s_str(p, "verdict");
        if (!strcmp(verdict, "linearizable") && rows >= MAX_LISTED) {
            hidden++;
            continue;
        }
        rows++;
        const char *key = s_str(p, "part");
        fputs("<tr><td><code>", out);
        s_esc(out, *key ? key : "(all)");
        fputs("</code></td><td class=\"v-", out);
        s_esc(out, verdict);
        fputs("\">", out);
        s_esc(out, verdict);
        fputs("</td>", out);
        s_cell(out, p, "ops");
        s_cell(out, p, "checked");
        s_cell(out, p, "us");
        fputs("<td>", out);
        s_esc(out, s_str(p, "why"));
        fputs("</td></tr>\n", out);
    }
    if (hidden)
        fprintf(out,
                "<tr><td colspan=\"6\">... and %zu more linearizable "
                "parts</td></tr>\n",
                hidden);
    fputs("</table>\n", out);
}

/* What the search found in a violating part, in words. */
static void s_explain(FILE *out, const dmr_val_t *p)
{
    const dmr_val_t *blocked = dmr_val_get(p, "blocked");
    const dmr_val_t *window = dmr_val_get(p, "window");
    const dmr_val_t *last = dmr_val_get(p, "prefix_last");
    const dmr_val_t *states = dmr_val_get(p, "states");
    fputs("<div class=\"why\">\n", out);
    if (blocked) {
        fprintf(out,
                "<p>No order of the operations gets past line %lld; this "
                "operation cannot be linearised:</p><ul><li>",
                (long long)s_int(blocked, "ret_line"));
        s_res_op(out, blocked);
        fputs("</li></ul>\n", out);
    }
    if (window && dmr_val_is_seq(window)) {
        size_t n = window->u.seq.n;
        fprintf(out,
                "<details%s><summary>The window: %zu operation%s invoked "
                "by then and not linearised, which cannot be ordered"
                "</summary><ul>\n",
                n <= 20 ? " open" : "", n, n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++) {
            fputs("<li>", out);
            s_res_op(out, window->u.seq.items[i]);
            fputs("</li>\n", out);
        }
        fputs("</ul></details>\n", out);
    }
    fprintf(out, "<p>Longest linearisable prefix: %lld operation%s",
            (long long)s_int(p, "prefix"), s_int(p, "prefix") == 1 ? "" : "s");
    if (last) {
        fputs(", ending with</p><ul><li>", out);
        s_res_op(out, last);
        fputs("</li></ul>\n", out);
    } else {
        fputs(".</p>\n", out);
    }
    if (states && dmr_val_is_seq(states) && states->u.seq.n) {
        fputs("<p>Model states reachable there:", out);
        for (size_t i = 0; i < states->u.seq.n; i++) {
            const dmr_val_t *s = states->u.seq.items[i];
            fputs(i ? ", <code>" : " <code>", out);
            if (s->type == DMR_V_STR)
                s_esc_n(out, s->u.str.s, s->u.str.len);
            fputs("</code>", out);
        }
        fputs("</p>\n", out);
    }
    fputs("</div>\n", out);
}

/* Fills v->ops with the ops of h in part key (keys[i] is op i's rendered
 * key), or every op when keys is NULL. */
static void s_view_ops(const dmr_history_t *h, char **keys, view_t *v)
{
    v->ops = dmr_malloc((h->nops ? h->nops : 1) * sizeof *v->ops);
    v->nops = 0;
    for (size_t i = 0; i < h->nops; i++)
        if (!keys || !strcmp(keys[i], v->key))
            v->ops[v->nops++] = (uint32_t)i;
}

void dmr_check_html(const dmr_history_t *h, const dmr_val_t *const *parts,
                    size_t nparts, FILE *out)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<title>",
          out);
    s_esc(out, h->name);
    fprintf(out,
            " - dmr check</title>\n<style>\n%s</style></head><body>\n"
            "<h1>",
            s_css);
    s_esc(out, h->name);
    fprintf(out,
            "</h1>\n<p>%s history: %zu events, %zu operations, %zu "
            "part%s checked.</p>\n",
            h->format, h->nev, h->nops, nparts, nparts == 1 ? "" : "s");
    s_summary(out, parts, nparts);

    /* With one part (or none) it holds every op; with several, a part is
     * the ops whose :key renders as its "part". */
    char **keys = NULL;
    if (nparts > 1) {
        keys = dmr_malloc((h->nops ? h->nops : 1) * sizeof *keys);
        for (size_t i = 0; i < h->nops; i++)
            keys[i] = dmr_model_part_key(h, i);
    }
    int legend = 0;
    for (size_t i = 0; i < (nparts ? nparts : 1); i++) {
        view_t v = {nparts ? parts[i] : NULL, "", NULL, 0};
        int bad = v.res && !strcmp(s_str(v.res, "verdict"), "violation");
        if (!bad && nparts > 1)
            continue;
        if (v.res)
            v.key = s_str(v.res, "part");
        if (!legend) {
            s_legend(out);
            legend = 1;
        }
        fputs("<h2>", out);
        if (*v.key) {
            fputs("key <code>", out);
            s_esc(out, v.key);
            fputs("</code>: ", out);
        }
        fputs(bad ? "not linearizable" : "timeline", out);
        fputs("</h2>\n", out);
        if (bad)
            s_explain(out, v.res);
        s_view_ops(h, keys, &v);
        s_draw(h, &v, i, out);
        free(v.ops);
    }
    if (keys)
        for (size_t i = 0; i < h->nops; i++)
            free(keys[i]);
    free(keys);

    fprintf(out,
            "<pre id=\"detail\">hover an operation for its details</pre>\n"
            "<script>\n%s</script>\n</body></html>\n",
            s_js);
}
