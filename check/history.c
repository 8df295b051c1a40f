/* history.c -- reads histories in the edn, etcd and json formats into one
 * list of events, then pairs them into operations (see history.h).
 *
 * Each format's reader turns its records into dmr_event_t in file order,
 * applying that format's conventions (the table in history.h); pairing is
 * then the same for all formats: a table from process to its open
 * operation, filled by invocations and emptied by completions.
 *
 *   format  record                                  translation
 *   edn     a map; the file is one vector of maps   :ok :read nil -> info;
 *           or a sequence of maps                   keyword :process -> skip
 *   etcd    INFO jepsen.util - P :TYPE :F VALUE     :fail :cas [a b] -> ok,
 *           (VALUE: nil, N, [A B] or :timed-out)      result 0; :ok :cas ->
 *                                                     result 1; :fail with
 *                                                     :timed-out -> info
 *   json    one object per line                     none ("result" and
 *                                                     "line" kept)
 *
 * Messages name the file and line: "NAME:LINE: what was expected". */
#include "check/history.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check/edn.h"
#include "check/json.h"
#include "common/alloc.h"
#include "common/error.h"

const char *const dmr_history_formats[] = {"edn", "etcd", "json", NULL};

#define S_SHOWN 48 /* bytes of a value quoted in a message */

typedef struct {
    const char *name;
    int edn; /* field names are written :f (edn) rather than "f" (json) */
    dmr_history_t *h;
    dmr_arena_t *scratch; /* records as read; what events keep is copied */
    size_t capev;
    char *err;
    size_t errlen;
} s_parse_t;

static int s_fail(s_parse_t *p, int rc, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes "NAME:LINE: message" (or "NAME: message" for line 0) into err and
 * returns rc. */
static int s_fail(s_parse_t *p, int rc, uint32_t line, const char *fmt, ...)
{
    if (!p->errlen)
        return rc;
    int n = line ? snprintf(p->err, p->errlen, "%s:%u: ", p->name, line)
                 : snprintf(p->err, p->errlen, "%s: ", p->name);
    if (n >= 0 && (size_t)n < p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* The reader's message "line L: ..." in err as "NAME:L: ...". */
static int s_syntax(s_parse_t *p, uint32_t line)
{
    char prefix[32], msg[512];
    if (!p->errlen)
        return DMR_ECORRUPT;
    int n = snprintf(prefix, sizeof prefix, "line %u: ", line);
    if (n < 0 || strncmp(p->err, prefix, (size_t)n) != 0)
        n = 0;
    snprintf(msg, sizeof msg, "%s", p->err + n);
    return s_fail(p, DMR_ECORRUPT, line, "%s", msg);
}

/* A field name as its format writes it: :f or "f". */
static const char *s_field(const s_parse_t *p, const char *f, char *buf,
                           size_t n)
{
    snprintf(buf, n, p->edn ? ":%s" : "\"%s\"", f);
    return buf;
}

const char *dmr_evtype_name(dmr_evtype_t t)
{
    switch (t) {
    case DMR_EV_INVOKE: return "invoke";
    case DMR_EV_OK: return "ok";
    case DMR_EV_FAIL: return "fail";
    case DMR_EV_INFO: return "info";
    }
    return "unknown";
}

/* The event type named by v (a keyword or string), or -1. */
static int s_evtype(const dmr_val_t *v)
{
    for (int t = DMR_EV_INVOKE; t <= DMR_EV_INFO; t++)
        if (dmr_val_is_name(v, dmr_evtype_name((dmr_evtype_t)t)))
            return t;
    return -1;
}

/* A fresh event at the end of the history. */
static dmr_event_t *s_add(s_parse_t *p, uint32_t line)
{
    dmr_history_t *h = p->h;
    if (h->nev == p->capev) {
        p->capev = p->capev ? 2 * p->capev : 256;
        h->ev = dmr_realloc(h->ev, p->capev * sizeof *h->ev);
    }
    dmr_event_t *e = &h->ev[h->nev++];
    *e = (dmr_event_t){.time = -1, .index = -1, .result = -1, .line = line};
    return e;
}

/* The fields of an op map that the readers look at. */
enum {
    S_PROCESS,
    S_TYPE,
    S_F,
    S_VALUE,
    S_KEY,
    S_TIME,
    S_INDEX,
    S_RESULT,
    S_LINE,
    S_NFIELDS
};
static const struct {
    const char *s;
    size_t len;
} s_field_names[S_NFIELDS] = {
    {"process", 7}, {"type", 4},  {"f", 1},      {"value", 5}, {"key", 3},
    {"time", 4},    {"index", 5}, {"result", 6}, {"line", 4},
};

/* The fields of op map m into fv, in one pass (dmr_val_get for each would
 * walk the map eight times); the first of a repeated key wins. */
static void s_fields(const dmr_val_t *m, const dmr_val_t *fv[S_NFIELDS])
{
    memset(fv, 0, S_NFIELDS * sizeof *fv);
    for (size_t i = 0; i + 1 < m->u.seq.n; i += 2) {
        const dmr_val_t *k = m->u.seq.items[i];
        if (k->type != DMR_V_KW && k->type != DMR_V_STR)
            continue;
        for (int j = 0; j < S_NFIELDS; j++)
            if (k->u.str.len == s_field_names[j].len && !fv[j] &&
                memcmp(k->u.str.s, s_field_names[j].s, k->u.str.len) == 0) {
                fv[j] = m->u.seq.items[i + 1];
                break;
            }
    }
}

/* Field j (optional) into *out when it is a non-negative integer. */
static int s_int_field(s_parse_t *p, const dmr_val_t *fv[S_NFIELDS], int j,
                       int64_t *out)
{
    const dmr_val_t *v = fv[j];
    if (!v)
        return 0;
    if (v->type != DMR_V_INT || v->u.i < 0) {
        char fb[32], vb[S_SHOWN];
        return s_fail(p, DMR_EINVAL, v->line,
                      "expected a non-negative integer %s, found %s",
                      s_field(p, s_field_names[j].s, fb, sizeof fb),
                      dmr_val_format(v, vb, sizeof vb));
    }
    *out = v->u.i;
    return 0;
}

/* Fails unless op map m has field j. */
static int s_need(s_parse_t *p, const dmr_val_t *m,
                  const dmr_val_t *fv[S_NFIELDS], int j)
{
    char fb[32];
    if (!fv[j])
        return s_fail(p, DMR_EINVAL, m->line, "op has no %s",
                      s_field(p, s_field_names[j].s, fb, sizeof fb));
    return 0;
}

/* Adds the event of op map m (edn or json). A keyword :process (edn only)
 * marks a non-client op, which is skipped. */
static int s_map_event(s_parse_t *p, const dmr_val_t *m)
{
    char fb[32], vb[S_SHOWN];
    const dmr_val_t *fv[S_NFIELDS];
    int rc;
    if (m->type != DMR_V_MAP)
        return s_fail(
            p, DMR_EINVAL, m->line, "expected a map (an op), found %s %s",
            dmr_val_type_name(m->type), dmr_val_format(m, vb, sizeof vb));
    s_fields(m, fv);
    const dmr_val_t *proc = fv[S_PROCESS], *type = fv[S_TYPE], *f = fv[S_F];
    if ((rc = s_need(p, m, fv, S_PROCESS)) < 0)
        return rc;
    if (proc->type == DMR_V_KW && p->edn)
        return 0;
    if ((rc = s_need(p, m, fv, S_TYPE)) < 0 || (rc = s_need(p, m, fv, S_F)) < 0)
        return rc;
    if (proc->type != DMR_V_INT)
        return s_fail(p, DMR_EINVAL, proc->line,
                      "expected an integer %s%s, found %s",
                      s_field(p, "process", fb, sizeof fb),
                      p->edn ? " (or a keyword such as :nemesis)" : "",
                      dmr_val_format(proc, vb, sizeof vb));
    int t = s_evtype(type);
    if (t < 0)
        return s_fail(p, DMR_EINVAL, type->line,
                      "expected %s to be invoke, ok, fail or info, found %s",
                      s_field(p, "type", fb, sizeof fb),
                      dmr_val_format(type, vb, sizeof vb));
    if ((f->type != DMR_V_KW && f->type != DMR_V_STR) || !f->u.str.len)
        return s_fail(p, DMR_EINVAL, f->line,
                      "expected %s to name an operation, found %s",
                      s_field(p, "f", fb, sizeof fb),
                      dmr_val_format(f, vb, sizeof vb));
    if (p->h->nev >= UINT32_MAX - 1)
        return s_fail(p, DMR_EINVAL, m->line, "too many events");
    dmr_arena_t *a = p->h->arena;
    dmr_event_t e = {.process = proc->u.i,
                     .type = (dmr_evtype_t)t,
                     .f = dmr_arena_intern(a, f->u.str.s, f->u.str.len),
                     .key = fv[S_KEY] ? dmr_val_copy(a, fv[S_KEY]) : NULL,
                     .value = fv[S_VALUE] ? dmr_val_copy(a, fv[S_VALUE])
                                          : dmr_val_new(a, DMR_V_NIL, m->line),
                     .time = -1,
                     .index = -1,
                     .result = -1,
                     .line = m->line};
    if ((rc = s_int_field(p, fv, S_TIME, &e.time)) < 0 ||
        (rc = s_int_field(p, fv, S_INDEX, &e.index)) < 0)
        return rc;
    if (p->edn) {
        /* Knossos: an ok read of nil is a read of unknown value */
        if (e.type == DMR_EV_OK && e.value->type == DMR_V_NIL &&
            strcmp(e.f, "read") == 0)
            e.type = DMR_EV_INFO;
    } else {
        const dmr_val_t *res = fv[S_RESULT], *line = fv[S_LINE];
        if (res && res->type != DMR_V_BOOL)
            return s_fail(p, DMR_EINVAL, res->line,
                          "expected true or false \"result\", found %s",
                          dmr_val_format(res, vb, sizeof vb));
        if (res)
            e.result = res->u.b ? 1 : 0;
        if (line && (line->type != DMR_V_INT || line->u.i < 1 ||
                     line->u.i > UINT32_MAX))
            return s_fail(p, DMR_EINVAL, line->line,
                          "expected a line number \"line\", found %s",
                          dmr_val_format(line, vb, sizeof vb));
        if (line)
            e.line = (uint32_t)line->u.i;
    }
    *s_add(p, m->line) = e;
    return 0;
}

/* ---- edn -------------------------------------------------------------- */

static int s_parse_edn(s_parse_t *p, const char *buf, size_t len)
{
    size_t pos = 0;
    uint32_t line = 1;
    int first = 1, in_vector = 0;
    for (;;) {
        dmr_val_t *v;
        dmr_arena_reset(p->scratch);
        int rc = dmr_edn_read(p->scratch, buf, len, &pos, &line, &v, p->err,
                              p->errlen);
        if (rc < 0)
            return s_syntax(p, line);
        if (rc == 1)
            return 0;
        if (in_vector) {
            char vb[S_SHOWN];
            return s_fail(p, DMR_EINVAL, v->line,
                          "expected end of input after the vector of ops, "
                          "found %s",
                          dmr_val_format(v, vb, sizeof vb));
        }
        if (first && dmr_val_is_seq(v)) {
            in_vector = 1;
            for (size_t i = 0; i < v->u.seq.n; i++)
                if ((rc = s_map_event(p, v->u.seq.items[i])) < 0)
                    return rc;
        } else if (v->type != DMR_V_MAP && first) {
            char vb[S_SHOWN];
            return s_fail(p, DMR_EINVAL, v->line,
                          "expected a vector of ops or a map (an op), found "
                          "%s %s",
                          dmr_val_type_name(v->type),
                          dmr_val_format(v, vb, sizeof vb));
        } else if ((rc = s_map_event(p, v)) < 0) {
            return rc;
        }
        first = 0;
    }
}

/* ---- etcd ------------------------------------------------------------- */

#define S_ETCD_SHAPE "INFO  jepsen.util - PROCESS :TYPE :F VALUE"

/* Skips the word w and the run of blanks after it at *i; 0 if absent. */
static int s_word(const char *b, size_t eol, size_t *i, const char *w)
{
    size_t n = strlen(w);
    if (eol - *i < n || memcmp(b + *i, w, n) != 0)
        return 0;
    size_t j = *i + n;
    if (j >= eol || (b[j] != ' ' && b[j] != '\t'))
        return 0;
    while (j < eol && (b[j] == ' ' || b[j] == '\t'))
        j++;
    *i = j;
    return 1;
}

/* 1 if v is a value an etcd log line may carry. */
static int s_etcd_value(const dmr_val_t *v)
{
    if (v->type == DMR_V_NIL || v->type == DMR_V_INT ||
        (v->type == DMR_V_KW && dmr_val_is_name(v, "timed-out")))
        return 1;
    return v->type == DMR_V_VEC && v->u.seq.n == 2 &&
           v->u.seq.items[0]->type == DMR_V_INT &&
           v->u.seq.items[1]->type == DMR_V_INT;
}

/* One line (b[start .. eol), not blank) of an etcd log. */
static int s_etcd_line(s_parse_t *p, const char *b, size_t start, size_t eol,
                       uint32_t line)
{
    char vb[S_SHOWN];
    size_t i = start;
    if (!s_word(b, eol, &i, "INFO") || !s_word(b, eol, &i, "jepsen.util") ||
        !s_word(b, eol, &i, "-")) {
        int n = (int)(eol - start < S_SHOWN ? eol - start : S_SHOWN);
        return s_fail(p, DMR_EINVAL, line,
                      "expected '" S_ETCD_SHAPE "', found '%.*s%s'", n,
                      b + start, (size_t)n < eol - start ? "..." : "");
    }
    static const char *const what[] = {"a process number", "a :type",
                                       "an operation :f", "a value"};
    dmr_val_t *v[4];
    for (int k = 0; k <= 4; k++) {
        dmr_val_t *x;
        uint32_t l = line;
        int rc =
            dmr_edn_read(p->scratch, b, eol, &i, &l, &x, p->err, p->errlen);
        if (rc < 0)
            return s_syntax(p, line);
        if (k == 4 && rc == 0)
            return s_fail(p, DMR_EINVAL, line,
                          "expected end of line after the value, found %s",
                          dmr_val_format(x, vb, sizeof vb));
        if (k == 4)
            break;
        if (rc == 1)
            return s_fail(p, DMR_EINVAL, line,
                          "expected %s (the line reads '" S_ETCD_SHAPE
                          "'), found end of line",
                          what[k]);
        int ok = k == 0   ? x->type == DMR_V_INT
                 : k == 1 ? x->type == DMR_V_KW && s_evtype(x) >= 0
                 : k == 2 ? x->type == DMR_V_KW
                          : s_etcd_value(x);
        if (!ok)
            return s_fail(p, DMR_EINVAL, line, "expected %s%s, found %s",
                          what[k],
                          k == 1   ? " (:invoke, :ok, :fail or :info)"
                          : k == 3 ? " (nil, an integer, [A B] or :timed-out)"
                                   : "",
                          dmr_val_format(x, vb, sizeof vb));
        v[k] = x;
    }
    if (p->h->nev >= UINT32_MAX - 1)
        return s_fail(p, DMR_EINVAL, line, "too many events");
    dmr_event_t *e = s_add(p, line);
    e->process = v[0]->u.i;
    e->type = (dmr_evtype_t)s_evtype(v[1]);
    e->f = dmr_arena_intern(p->h->arena, v[2]->u.str.s, v[2]->u.str.len);
    e->value = dmr_val_copy(p->h->arena, v[3]);
    int cas = strcmp(e->f, "cas") == 0;
    int timed_out = v[3]->type == DMR_V_KW;
    if (e->type == DMR_EV_OK && cas) {
        e->result = 1;
    } else if (e->type == DMR_EV_FAIL && timed_out) {
        e->type = DMR_EV_INFO; /* e.g. a read that timed out */
    } else if (e->type == DMR_EV_FAIL && cas) {
        e->type = DMR_EV_OK; /* the compare was false */
        e->result = 0;
    }
    return 0;
}

static int s_parse_etcd(s_parse_t *p, const char *buf, size_t len)
{
    uint32_t line = 1;
    for (size_t pos = 0; pos < len; line++) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t eol = nl ? (size_t)(nl - buf) : len;
        size_t i = pos;
        while (i < eol && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'))
            i++;
        if (i < eol) {
            size_t end = eol;
            if (buf[end - 1] == '\r')
                end--;
            dmr_arena_reset(p->scratch);
            int rc = s_etcd_line(p, buf, pos, end, line);
            if (rc < 0)
                return rc;
        }
        pos = eol + 1;
    }
    return 0;
}

/* ---- json ------------------------------------------------------------- */

static int s_parse_json(s_parse_t *p, const char *buf, size_t len)
{
    size_t pos = 0;
    uint32_t line = 1;
    while (pos < len) {
        char c = buf[pos];
        if (c == '\n') {
            line++;
            pos++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            pos++;
            continue;
        }
        if (c == '#') {
            const char *nl = memchr(buf + pos, '\n', len - pos);
            pos = nl ? (size_t)(nl - buf) : len;
            continue;
        }
        dmr_val_t *v;
        dmr_arena_reset(p->scratch);
        int rc = dmr_json_read(p->scratch, buf, len, &pos, &line, &v, p->err,
                               p->errlen);
        if (rc < 0)
            return s_syntax(p, line);
        if (v->type != DMR_V_MAP) {
            char vb[S_SHOWN];
            return s_fail(p, DMR_EINVAL, v->line,
                          "expected an object (an op), found %s",
                          dmr_val_format(v, vb, sizeof vb));
        }
        while (pos < len &&
               (buf[pos] == ' ' || buf[pos] == '\t' || buf[pos] == '\r'))
            pos++;
        if (pos < len && buf[pos] != '\n') {
            const char *nl = memchr(buf + pos, '\n', len - pos);
            size_t eol = nl ? (size_t)(nl - buf) : len;
            int n = (int)(eol - pos < S_SHOWN ? eol - pos : S_SHOWN);
            return s_fail(p, DMR_ECORRUPT, line,
                          "expected end of line after the object, found "
                          "'%.*s'",
                          n, buf + pos);
        }
        if ((rc = s_map_event(p, v)) < 0)
            return rc;
    }
    return 0;
}

/* ---- pairing ---------------------------------------------------------- */

/* Open-addressing table from process to its open op (UINT32_MAX: none).
 * Slots are never freed: a process keeps its slot once seen. */
typedef struct {
    int64_t *proc;
    uint32_t *op;
    unsigned char *used;
    size_t cap; /* a power of two */
    size_t n;
} s_open_t;

static size_t s_slot(const s_open_t *t, int64_t proc)
{
    size_t i =
        (size_t)(((uint64_t)proc * 0x9E3779B97F4A7C15u) >> 17) & (t->cap - 1);
    while (t->used[i] && t->proc[i] != proc)
        i = (i + 1) & (t->cap - 1);
    return i;
}

/* The slot of proc, added (with no open op) if new. */
static size_t s_open_get(s_open_t *t, int64_t proc)
{
    if (2 * (t->n + 1) > t->cap) {
        s_open_t g = {.cap = t->cap ? 2 * t->cap : 64};
        g.proc = dmr_malloc(g.cap * sizeof *g.proc);
        g.op = dmr_malloc(g.cap * sizeof *g.op);
        g.used = dmr_calloc(g.cap, 1);
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->used[i])
                continue;
            size_t j = s_slot(&g, t->proc[i]);
            g.used[j] = 1, g.proc[j] = t->proc[i], g.op[j] = t->op[i];
        }
        g.n = t->n;
        free(t->proc), free(t->op), free(t->used);
        *t = g;
    }
    size_t i = s_slot(t, proc);
    if (!t->used[i]) {
        t->used[i] = 1, t->proc[i] = proc, t->op[i] = UINT32_MAX;
        t->n++;
    }
    return i;
}

static int s_pair(s_parse_t *p)
{
    dmr_history_t *h = p->h;
    s_open_t open = {0};
    int rc = 0;
    size_t nops = 0;
    for (size_t i = 0; i < h->nev; i++)
        nops += h->ev[i].type == DMR_EV_INVOKE;
    h->ops = dmr_malloc(nops * sizeof *h->ops);
    for (size_t i = 0; i < h->nev; i++) {
        const dmr_event_t *e = &h->ev[i];
        size_t s = s_open_get(&open, e->process);
        uint32_t o = open.op[s];
        const dmr_event_t *inv = o == UINT32_MAX ? NULL : &h->ev[h->ops[o].inv];
        if (e->type == DMR_EV_INVOKE) {
            if (inv) {
                rc = s_fail(p, DMR_EINVAL, e->line,
                            "process %" PRId64 " invokes :%s while its :%s "
                            "invoked on line %u has not completed",
                            e->process, e->f, inv->f, inv->line);
                goto done;
            }
            open.op[s] = (uint32_t)h->nops;
            h->ops[h->nops++] = (dmr_op_t){
                .inv = (uint32_t)i, .ret = UINT32_MAX, .type = DMR_EV_INFO};
            continue;
        }
        if (!inv) {
            rc = s_fail(p, DMR_EINVAL, e->line,
                        "process %" PRId64 " completes :%s but has no open "
                        "invocation",
                        e->process, e->f);
            goto done;
        }
        if (strcmp(inv->f, e->f) != 0) {
            rc = s_fail(p, DMR_EINVAL, e->line,
                        "process %" PRId64 " completes :%s but its open "
                        "invocation (line %u) is :%s",
                        e->process, e->f, inv->line, inv->f);
            goto done;
        }
        h->ops[o].ret = (uint32_t)i;
        h->ops[o].type = e->type;
        open.op[s] = UINT32_MAX;
    }
done:
    free(open.proc), free(open.op), free(open.used);
    return rc;
}

/* ---- the public face -------------------------------------------------- */

/* buf[*i ..] past blanks and whole comment lines (';' or '#'). */
static void s_skip_blank(const char *buf, size_t len, size_t *i, uint32_t *line)
{
    while (*i < len) {
        char c = buf[*i];
        if (c == ';' || c == '#') {
            while (*i < len && buf[*i] != '\n')
                (*i)++;
        } else if (c == '\n') {
            (*line)++;
            (*i)++;
        } else if (c == ' ' || c == '\t' || c == '\r' || c == ',') {
            (*i)++;
        } else {
            return;
        }
    }
}

const char *dmr_history_detect(const char *buf, size_t len)
{
    size_t i = 0;
    uint32_t line = 1;
    s_skip_blank(buf, len, &i, &line);
    if (i >= len)
        return NULL;
    if (len - i >= 4 && memcmp(buf + i, "INFO", 4) == 0)
        return "etcd";
    if (buf[i] == '{') {
        size_t j = i + 1;
        while (j < len && (buf[j] == ' ' || buf[j] == '\t'))
            j++;
        return j < len && buf[j] == '"' ? "json" : "edn";
    }
    return buf[i] == '[' || buf[i] == '(' ? "edn" : NULL;
}

int dmr_history_parse(const char *name, const char *buf, size_t len,
                      const char *format, dmr_history_t **out, char *err,
                      size_t errlen)
{
    s_parse_t p = {.name = name, .err = err, .errlen = errlen};
    int rc = 0;
    if (!format) {
        size_t i = 0;
        uint32_t line = 1;
        format = dmr_history_detect(buf, len);
        s_skip_blank(buf, len, &i, &line);
        if (!format && i < len)
            return s_fail(&p, DMR_EINVAL, line,
                          "cannot tell the format: expected a line starting "
                          "with INFO (etcd), '{' (json or edn), '[' or '(' "
                          "(edn)");
        if (!format) {
            /* nothing but blanks and comments: whose comments? */
            size_t k = 0;
            while (k < len && strchr(" \t\r\n,", buf[k]))
                k++;
            format = k < len && buf[k] == ';' ? "edn" : "json";
        }
    }
    int (*parse)(s_parse_t *, const char *, size_t) = NULL;
    if (strcmp(format, "edn") == 0)
        parse = s_parse_edn;
    else if (strcmp(format, "etcd") == 0)
        parse = s_parse_etcd;
    else if (strcmp(format, "json") == 0)
        parse = s_parse_json;
    else
        return s_fail(&p, DMR_EINVAL, 0,
                      "unknown history format \"%s\" (expected edn, etcd or "
                      "json)",
                      format);
    p.edn = parse == s_parse_edn;
    p.h = dmr_calloc(1, sizeof *p.h);
    p.h->name = dmr_strdup(name);
    p.h->arena = dmr_arena_new();
    p.scratch = dmr_arena_new();
    for (int k = 0; dmr_history_formats[k]; k++)
        if (strcmp(format, dmr_history_formats[k]) == 0)
            p.h->format = dmr_history_formats[k];
    /* most formats hold about one event per line: reserve that many */
    p.capev = 1;
    for (const char *q = buf;
         len && (q = memchr(q, '\n', len - (size_t)(q - buf))); q++)
        p.capev++;
    p.h->ev = dmr_malloc(p.capev * sizeof *p.h->ev);
    rc = parse(&p, buf, len);
    dmr_arena_destroy(&p.scratch);
    if (rc < 0 || (rc = s_pair(&p)) < 0) {
        dmr_history_destroy(&p.h);
        return rc;
    }
    *out = p.h;
    return 0;
}

int dmr_history_load(const char *path, const char *format, dmr_history_t **out,
                     char *err, size_t errlen)
{
    int is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    struct stat st;
    if (!f) {
        snprintf(err, errlen, "%s: cannot read: %s", name, strerror(errno));
        return DMR_EIO;
    }
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        cap = (size_t)st.st_size + 1; /* +1: the end shows in one read */
        buf = dmr_malloc(cap);
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? 2 * cap : 65536;
            buf = dmr_realloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: cannot read: %s", name, strerror(errno));
        rc = DMR_EIO;
    }
    if (!is_stdin)
        fclose(f);
    if (rc == 0)
        rc = dmr_history_parse(name, buf, len, format, out, err, errlen);
    free(buf);
    return rc;
}

void dmr_history_destroy(dmr_history_t **ph)
{
    if (!ph || !*ph)
        return;
    dmr_history_t *h = *ph;
    free(h->name);
    free(h->ev);
    free(h->ops);
    dmr_arena_destroy(&h->arena);
    DMR_FREE(ph);
}

void dmr_history_write_event_json(const dmr_history_t *h, size_t i,
                                  int keep_line, FILE *out)
{
    const dmr_event_t *e = &h->ev[i];
    dmr_val_t f = {.type = DMR_V_STR,
                   .u.str = {.s = e->f, .len = strlen(e->f)}};
    fprintf(out, "{\"process\":%" PRId64 ",\"type\":\"%s\",\"f\":", e->process,
            dmr_evtype_name(e->type));
    dmr_val_print_json(&f, out);
    if (e->key) {
        fputs(",\"key\":", out);
        dmr_val_print_json(e->key, out);
    }
    fputs(",\"value\":", out);
    dmr_val_print_json(e->value, out);
    if (e->time >= 0)
        fprintf(out, ",\"time\":%" PRId64, e->time);
    if (e->index >= 0)
        fprintf(out, ",\"index\":%" PRId64, e->index);
    if (e->result >= 0)
        fprintf(out, ",\"result\":%s", e->result ? "true" : "false");
    if (keep_line)
        fprintf(out, ",\"line\":%u", e->line);
    fputs("}\n", out);
}

void dmr_history_write_json(const dmr_history_t *h, FILE *out)
{
    for (size_t i = 0; i < h->nev; i++)
        dmr_history_write_event_json(h, i, 0, out);
}
