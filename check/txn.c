/* txn.c -- reading transaction histories (list-append, rw-register) into
 * the compact form of txn.h.
 *
 * Each op map is read into a scratch arena with the EDN or JSON reader,
 * turned into integers (keys and non-integer elements interned), and the
 * arena is reset: the tree of one op never outlives its line. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check/edn.h"
#include "check/json.h"
#include "check/txn.h"
#include "common/alloc.h"
#include "common/error.h"

/* ------------------------------------------------------------- interning */

/* FNV-1a, then a final mix so the low bits a table uses are spread. */
static uint64_t s_hash(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

/* Texts by content, each with a dense id; a hash table of ids. */
struct dmr_txn_intern {
    char **text;
    uint32_t *len;
    size_t n, cap;
    uint32_t *slot; /* id + 1; 0 empty */
    size_t nslot;   /* a power of two */
};

static struct dmr_txn_intern *s_intern_new(void)
{
    struct dmr_txn_intern *t = dmr_calloc(1, sizeof *t);
    t->nslot = 64;
    t->slot = dmr_calloc(t->nslot, sizeof *t->slot);
    return t;
}

static void s_intern_free(struct dmr_txn_intern *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->text[i]);
    free(t->text);
    free(t->len);
    free(t->slot);
    free(t);
}

static uint32_t s_intern(struct dmr_txn_intern *t, const char *s, size_t n)
{
    size_t mask = t->nslot - 1;
    size_t i = s_hash(s, n) & mask;
    for (; t->slot[i]; i = (i + 1) & mask) {
        uint32_t id = t->slot[i] - 1;
        if (t->len[id] == n && !memcmp(t->text[id], s, n))
            return id;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 64;
        t->text = dmr_realloc(t->text, t->cap * sizeof *t->text);
        t->len = dmr_realloc(t->len, t->cap * sizeof *t->len);
    }
    uint32_t id = (uint32_t)t->n++;
    t->text[id] = dmr_strndup(s, n);
    t->len[id] = (uint32_t)n;
    t->slot[i] = id + 1;
    if (2 * t->n > t->nslot) { /* grow: rehash every id */
        free(t->slot);
        t->nslot *= 2;
        t->slot = dmr_calloc(t->nslot, sizeof *t->slot);
        mask = t->nslot - 1;
        for (uint32_t k = 0; k < t->n; k++) {
            size_t j = s_hash(t->text[k], t->len[k]) & mask;
            while (t->slot[j])
                j = (j + 1) & mask;
            t->slot[j] = k + 1;
        }
    }
    return id;
}

/* The EDN text of scalar v into buf: integers in decimal, strings and
 * keywords as their text (so :x and "x" are one key, as dmr_val_equal
 * has it), anything else as dmr_val_format writes it. */
static const char *s_scalar_text(const dmr_val_t *v, char *buf, size_t len,
                                 size_t *n)
{
    switch (v->type) {
    case DMR_V_INT:
        *n = dmr_fmt_i64(buf, v->u.i);
        buf[*n] = 0;
        return buf;
    case DMR_V_STR:
    case DMR_V_KW:
        *n = v->u.str.len;
        return v->u.str.s;
    default:
        dmr_val_format(v, buf, len);
        *n = strlen(buf);
        return buf;
    }
}

/* ---------------------------------------------------------------- parsing */

typedef struct {
    dmr_txn_hist_t *h;
    char *err;
    size_t errlen;
    int edn;
    /* open transactions by process: open addressing, key process */
    int64_t *oproc;
    uint32_t *otxn; /* txn + 1; 0 empty slot; UINT32_MAX closed */
    size_t noslot, nopen_used;
    /* op maps without :process, waiting for their completions */
    uint32_t *anon;
    size_t nanon, anon0, capanon;
    size_t ndead; /* mops of invocations that completions replaced */
} s_parse_t;

static int s_fail(s_parse_t *p, int code, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int s_fail(s_parse_t *p, int code, uint32_t line, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s:%u: %s", p->h->name, line, msg);
    return code;
}

static uint32_t *s_open_slot(s_parse_t *p, int64_t proc)
{
    if (2 * (p->nopen_used + 1) > p->noslot) {
        size_t old = p->noslot;
        int64_t *op = p->oproc;
        uint32_t *ot = p->otxn;
        p->noslot = old ? 2 * old : 64;
        p->oproc = dmr_calloc(p->noslot, sizeof *p->oproc);
        p->otxn = dmr_calloc(p->noslot, sizeof *p->otxn);
        for (size_t i = 0; i < old; i++)
            if (ot[i]) {
                size_t j = s_hash(&op[i], 8) & (p->noslot - 1);
                while (p->otxn[j])
                    j = (j + 1) & (p->noslot - 1);
                p->oproc[j] = op[i];
                p->otxn[j] = ot[i];
            }
        free(op);
        free(ot);
    }
    size_t mask = p->noslot - 1, i = s_hash(&proc, 8) & mask;
    while (p->otxn[i] && p->oproc[i] != proc)
        i = (i + 1) & mask;
    if (!p->otxn[i]) {
        p->oproc[i] = proc;
        p->otxn[i] = UINT32_MAX;
        p->nopen_used++;
    }
    return &p->otxn[i];
}

static dmr_txn_elem_t s_elem(s_parse_t *p, const dmr_val_t *v)
{
    if (v->type == DMR_V_NIL)
        return DMR_TXN_NIL;
    if (v->type == DMR_V_INT && v->u.i > -DMR_TXN_ELEM_TEXT &&
        v->u.i < DMR_TXN_ELEM_TEXT)
        return v->u.i;
    char buf[256];
    size_t n;
    const char *s = s_scalar_text(v, buf, sizeof buf, &n);
    return DMR_TXN_ELEM_TEXT + s_intern(p->h->texts, s, n);
}

static int s_is_scalar(const dmr_val_t *v)
{
    return v->type == DMR_V_INT || v->type == DMR_V_STR ||
           v->type == DMR_V_KW || v->type == DMR_V_SYM ||
           v->type == DMR_V_BOOL;
}

/* Appends the micro-ops of value (a transaction's list) to h as txn t.
 * completed: value is an :ok completion's, whose reads say what they read. */
static int s_mops(s_parse_t *p, uint32_t t, const dmr_val_t *value,
                  int completed)
{
    dmr_txn_hist_t *h = p->h;
    char vb[96];
    int la = h->workload == DMR_TXN_LIST_APPEND;
    if (value->type == DMR_V_NIL)
        return 0;
    if (!dmr_val_is_seq(value))
        return s_fail(p, DMR_EINVAL, value->line,
                      "expected a transaction (a list of micro-ops), found %s",
                      dmr_val_format(value, vb, sizeof vb));
    if (value->u.seq.n > UINT16_MAX)
        return s_fail(p, DMR_EINVAL, value->line,
                      "a transaction of %zu micro-ops (at most %u)",
                      value->u.seq.n, UINT16_MAX);
    h->txns[t].mop = (uint32_t)h->nmop;
    h->txns[t].nmop = 0;
    for (size_t i = 0; i < value->u.seq.n; i++) {
        const dmr_val_t *m = value->u.seq.items[i];
        if (!dmr_val_is_seq(m) || m->u.seq.n != 3)
            return s_fail(p, DMR_EINVAL, m->line,
                          "expected a micro-op [f k v], found %s",
                          dmr_val_format(m, vb, sizeof vb));
        const dmr_val_t *f = m->u.seq.items[0], *k = m->u.seq.items[1],
                        *v = m->u.seq.items[2];
        dmr_mop_f_t mf;
        if (dmr_val_is_name(f, "r"))
            mf = DMR_MOP_READ;
        else if (la && dmr_val_is_name(f, "append"))
            mf = DMR_MOP_APPEND;
        else if (!la && dmr_val_is_name(f, "w"))
            mf = DMR_MOP_WRITE;
        else
            return s_fail(p, DMR_EINVAL, m->line,
                          "unknown micro-op %s: %s has %s",
                          dmr_val_format(f, vb, sizeof vb),
                          dmr_txn_workload_name(h->workload),
                          la ? ":append and :r" : ":w and :r");
        if (!s_is_scalar(k))
            return s_fail(p, DMR_EINVAL, k->line,
                          "expected a key (a number or a string), found %s",
                          dmr_val_format(k, vb, sizeof vb));
        if (h->nmop == h->cap_mop) {
            h->cap_mop = h->cap_mop ? 2 * h->cap_mop : 1024;
            h->mops = dmr_realloc(h->mops, h->cap_mop * sizeof *h->mops);
        }
        char kb[256];
        size_t kn;
        const char *ks = s_scalar_text(k, kb, sizeof kb, &kn);
        dmr_mop_t *mo = &h->mops[h->nmop];
        *mo = (dmr_mop_t){.txn = t,
                          .key = s_intern(h->keys, ks, kn),
                          .idx = (uint16_t)i,
                          .f = (uint8_t)mf,
                          .v = DMR_TXN_NIL};
        if (mf != DMR_MOP_READ) {
            if (!s_is_scalar(v))
                return s_fail(p, DMR_EINVAL, v->line,
                              "expected a value to %s (a number or a "
                              "string), found %s",
                              la ? "append" : "write",
                              dmr_val_format(v, vb, sizeof vb));
            mo->v = s_elem(p, v);
        } else if (completed) {
            mo->known = 1;
            if (!la) {
                if (v->type != DMR_V_NIL && !s_is_scalar(v))
                    return s_fail(p, DMR_EINVAL, v->line,
                                  "expected the value read (a number, a "
                                  "string or nil), found %s",
                                  dmr_val_format(v, vb, sizeof vb));
                mo->v = s_elem(p, v);
            } else if (v->type != DMR_V_NIL) {
                if (!dmr_val_is_seq(v))
                    return s_fail(p, DMR_EINVAL, v->line,
                                  "expected the list read (a vector or nil), "
                                  "found %s",
                                  dmr_val_format(v, vb, sizeof vb));
                mo->off = h->nelem;
                mo->n = (uint32_t)v->u.seq.n;
                if (h->nelem + v->u.seq.n > h->cap_elem) {
                    while (h->nelem + v->u.seq.n > h->cap_elem)
                        h->cap_elem = h->cap_elem ? 2 * h->cap_elem : 4096;
                    h->elems =
                        dmr_realloc(h->elems, h->cap_elem * sizeof *h->elems);
                }
                for (size_t j = 0; j < v->u.seq.n; j++) {
                    const dmr_val_t *e = v->u.seq.items[j];
                    if (!s_is_scalar(e))
                        return s_fail(p, DMR_EINVAL, e->line,
                                      "expected an element of the list read "
                                      "(a number or a string), found %s",
                                      dmr_val_format(e, vb, sizeof vb));
                    h->elems[h->nelem++] = s_elem(p, e);
                }
            }
        }
        h->nmop++;
        h->txns[t].nmop++;
    }
    return 0;
}

static const dmr_val_t *s_get(const dmr_val_t *m, const char *k)
{
    return dmr_val_get(m, k);
}

/* The fields of op map m: 0 with *ev (0 invoke, 1 ok, 2 fail, 3 info)
 * and the fields it has; 1 when the op is not one to take (the nemesis,
 * not a :txn); else an error. */
static int s_op_head(s_parse_t *p, const dmr_val_t *m, int *pev,
                     const dmr_val_t **pproc, const dmr_val_t **pvalue,
                     const dmr_val_t **pindex)
{
    char vb[96];
    if (m->type != DMR_V_MAP)
        return s_fail(p, DMR_EINVAL, m->line,
                      "expected a map (an op), found %s %s",
                      dmr_val_type_name(m->type),
                      dmr_val_format(m, vb, sizeof vb));
    const dmr_val_t *proc = s_get(m, "process"), *type = s_get(m, "type"),
                    *f = s_get(m, "f"), *value = s_get(m, "value"),
                    *index = s_get(m, "index");
    if (proc && proc->type == DMR_V_KW)
        return 1; /* the nemesis */
    if (f && !dmr_val_is_name(f, "txn"))
        return 1; /* not a transaction */
    if (proc && proc->type != DMR_V_INT)
        return s_fail(p, DMR_EINVAL, proc->line,
                      "expected an integer :process, found %s",
                      dmr_val_format(proc, vb, sizeof vb));
    if (!type)
        return s_fail(p, DMR_EINVAL, m->line, "op has no :type");
    int ev = dmr_val_is_name(type, "invoke") ? 0
             : dmr_val_is_name(type, "ok")   ? 1
             : dmr_val_is_name(type, "fail") ? 2
             : dmr_val_is_name(type, "info") ? 3
                                             : -1;
    if (ev < 0)
        return s_fail(p, DMR_EINVAL, type->line,
                      "expected :type to be invoke, ok, fail or info, found %s",
                      dmr_val_format(type, vb, sizeof vb));
    if (index && (index->type != DMR_V_INT || index->u.i < 0))
        return s_fail(p, DMR_EINVAL, index->line,
                      "expected a non-negative integer :index, found %s",
                      dmr_val_format(index, vb, sizeof vb));
    *pev = ev;
    *pproc = proc;
    *pvalue = value;
    *pindex = index;
    return 0;
}

/* Reads one op map m whose text starts at byte off. */
static int s_op(s_parse_t *p, const dmr_val_t *m, uint64_t off)
{
    dmr_txn_hist_t *h = p->h;
    const dmr_val_t *proc, *value, *index;
    int ev;
    int hr = s_op_head(p, m, &ev, &proc, &value, &index);
    if (hr)
        return hr > 0 ? 0 : hr;
    if (h->nevents == UINT32_MAX - 1)
        return s_fail(p, DMR_EINVAL, m->line, "too many events");
    uint32_t pos = h->nevents++;
    static const dmr_val_t nil = {.type = DMR_V_NIL};
    if (!value)
        value = &nil;
    uint32_t *slot = NULL;
    uint32_t t = UINT32_MAX;
    if (proc) {
        slot = s_open_slot(p, proc->u.i);
        if (*slot != UINT32_MAX)
            t = *slot - 1;
    } else if (ev != 0 && p->anon0 < p->nanon) {
        t = p->anon[p->anon0++];
    }
    if (ev == 0) {
        if (t != UINT32_MAX)
            return s_fail(p, DMR_EINVAL, m->line,
                          "process %" PRId64 " invokes a transaction while "
                          "the one it invoked on line %u is open",
                          proc->u.i, h->txns[t].invline);
    }
    int fresh = ev == 0 || t == UINT32_MAX;
    if (fresh) {
        if (h->ntxn == h->cap_txn) {
            h->cap_txn = h->cap_txn ? 2 * h->cap_txn : 1024;
            h->txns = dmr_realloc(h->txns, h->cap_txn * sizeof *h->txns);
        }
        t = (uint32_t)h->ntxn++;
        h->txns[t] = (dmr_txn_t){
            .process = proc ? proc->u.i : -1 - (int64_t)t,
            .index = index ? index->u.i : -1,
            .line = m->line,
            .invline = m->line,
            .inv = pos,
            .ret = UINT32_MAX,
            .off = off,
            .status = DMR_TXN_INFO,
        };
    }
    dmr_txn_t *tx = &h->txns[t];
    if (ev == 0) {
        if (slot)
            *slot = t + 1;
        else {
            if (p->nanon == p->capanon) {
                p->capanon = p->capanon ? 2 * p->capanon : 64;
                p->anon = dmr_realloc(p->anon, p->capanon * sizeof *p->anon);
            }
            p->anon[p->nanon++] = t;
        }
        /* the invocation's micro-ops stand until a completion says more */
        return s_mops(p, t, value, 0);
    }
    if (slot)
        *slot = UINT32_MAX;
    tx->ret = pos;
    tx->line = m->line;
    if (index)
        tx->index = index->u.i;
    tx->status = ev == 1 ? DMR_TXN_OK : ev == 2 ? DMR_TXN_FAIL : DMR_TXN_INFO;
    if (ev == 1 || fresh) {
        /* an ok completion's value is what happened; its micro-ops replace
         * the invocation's, which are the last ones added */
        if (!fresh && tx->mop + tx->nmop == h->nmop) {
            h->nmop = tx->mop;
        } else if (!fresh) {
            for (uint32_t i = 0; i < tx->nmop; i++)
                h->mops[tx->mop + i].txn = UINT32_MAX; /* dropped at the end */
            p->ndead += tx->nmop;
        }
        tx->off = off;
        return s_mops(p, t, value, ev == 1);
    }
    return 0;
}

/* Skips blanks, commas and ';' comment lines from *pos; 1 if the next
 * byte starts a JSON object ('{' then '"'). */
static int s_detect_json(const char *b, size_t len)
{
    size_t i = 0;
    for (;;) {
        while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' ||
                           b[i] == '\r' || b[i] == ','))
            i++;
        if (i < len && (b[i] == ';' || b[i] == '#')) {
            while (i < len && b[i] != '\n')
                i++;
            continue;
        }
        break;
    }
    if (i >= len || b[i] != '{')
        return 0;
    for (i++; i < len && (b[i] == ' ' || b[i] == '\t'); i++)
        ;
    return i < len && b[i] == '"';
}

const char *dmr_txn_workload_name(dmr_txn_workload_t w)
{
    return w == DMR_TXN_LIST_APPEND ? "list-append" : "rw-register";
}

int dmr_txn_hist_parse(const char *name, const char *buf, size_t len,
                       const char *format, dmr_txn_workload_t w,
                       dmr_txn_hist_t **out, char *err, size_t errlen)
{
    dmr_txn_hist_t *h = dmr_calloc(1, sizeof *h);
    h->name = dmr_strdup(name);
    h->workload = w;
    h->keys = s_intern_new();
    h->texts = s_intern_new();
    h->buf = dmr_malloc(len + 1);
    memcpy(h->buf, buf, len);
    h->buf[len] = 0;
    h->len = len;
    s_parse_t p = {.h = h, .err = err, .errlen = errlen};
    int json = format ? !strcmp(format, "json") : s_detect_json(buf, len);
    if (format && strcmp(format, "json") && strcmp(format, "edn")) {
        snprintf(err, errlen, "%s: transactions are read from edn or json, "
                              "not %s", name, format);
        dmr_txn_hist_destroy(&h);
        return DMR_EINVAL;
    }
    p.edn = !json;
    h->format = json ? "json" : "edn";
    dmr_arena_t *a = dmr_arena_new();
    size_t pos = 0;
    uint32_t line = 1;
    int rc = 0;
    char rerr[256];
    for (;;) {
        dmr_val_t *v = NULL;
        dmr_arena_reset(a);
        /* skip blank and '#' lines in JSON-lines */
        if (json)
            while (pos < len && (buf[pos] == '#' || buf[pos] == '\n' ||
                                 buf[pos] == ' ' || buf[pos] == '\t' ||
                                 buf[pos] == '\r')) {
                if (buf[pos] == '#')
                    while (pos < len && buf[pos] != '\n')
                        pos++;
                if (pos < len && buf[pos] == '\n')
                    line++;
                if (pos < len)
                    pos++;
            }
        size_t start = pos;
        int r = json ? dmr_json_read(a, buf, len, &pos, &line, &v, rerr,
                                     sizeof rerr)
                     : dmr_edn_read(a, buf, len, &pos, &line, &v, rerr,
                                    sizeof rerr);
        if (r == 1)
            break;
        if (r != 0) {
            const char *msg = strchr(rerr, ':');
            rc = s_fail(&p, DMR_ECORRUPT, line, "%s",
                        msg && msg[1] ? msg + 2 : rerr);
            break;
        }
        if (v->type == DMR_V_VEC && !json) {
            /* a whole history as one vector of op maps */
            for (size_t i = 0; i < v->u.seq.n && rc == 0; i++)
                rc = s_op(&p, v->u.seq.items[i], UINT64_MAX);
        } else {
            rc = s_op(&p, v, start);
        }
        if (rc)
            break;
    }
    dmr_arena_destroy(&a);
    free(p.oproc);
    free(p.otxn);
    free(p.anon);
    if (rc) {
        dmr_txn_hist_destroy(&h);
        return rc;
    }
    if (p.ndead) { /* close the gaps; each txn's mops stay together */
        size_t u = 0;
        for (size_t i = 0; i < h->nmop; i++) {
            dmr_mop_t *m = &h->mops[i];
            if (m->txn == UINT32_MAX)
                continue;
            if (i == 0 || m->txn != h->mops[i - 1].txn || u == 0 ||
                h->mops[u - 1].txn != m->txn)
                h->txns[m->txn].mop = (uint32_t)u;
            h->mops[u++] = *m;
        }
        h->nmop = u;
    }
    h->nkey = h->keys->n;
    if (!h->elems) /* so that elems + off is always a pointer into it */
        h->elems = dmr_malloc(sizeof *h->elems);
    *out = h;
    return 0;
}

int dmr_txn_hist_load(const char *path, const char *format,
                      dmr_txn_workload_t w, dmr_txn_hist_t **out, char *err,
                      size_t errlen)
{
    int stdin_ = !strcmp(path, "-");
    const char *name = stdin_ ? "<stdin>" : path;
    FILE *f = stdin_ ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read: %s", name, strerror(errno));
        return DMR_EIO;
    }
    char *b = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (cap - len < 65536) {
            cap = cap ? 2 * cap : 1 << 20;
            b = dmr_realloc(b, cap);
        }
        n = fread(b + len, 1, cap - len, f);
        len += n;
    } while (n > 0);
    int bad = ferror(f);
    if (!stdin_)
        fclose(f);
    if (bad) {
        free(b);
        snprintf(err, errlen, "%s: cannot read: %s", name, strerror(errno));
        return DMR_EIO;
    }
    int rc = dmr_txn_hist_parse(name, b, len, format, w, out, err, errlen);
    free(b);
    return rc;
}

void dmr_txn_hist_destroy(dmr_txn_hist_t **ph)
{
    dmr_txn_hist_t *h = *ph;
    if (!h)
        return;
    free(h->name);
    free(h->txns);
    free(h->mops);
    free(h->elems);
    s_intern_free(h->keys);
    s_intern_free(h->texts);
    free(h->buf);
    free(h);
    *ph = NULL;
}

const char *dmr_txn_key_text(const dmr_txn_hist_t *h, uint32_t k)
{
    return k < h->keys->n ? h->keys->text[k] : "?";
}

const char *dmr_txn_elem_text(const dmr_txn_hist_t *h, dmr_txn_elem_t e,
                              char *buf, size_t len)
{
    if (e == DMR_TXN_NIL)
        snprintf(buf, len, "nil");
    else if (e >= DMR_TXN_ELEM_TEXT &&
             (uint64_t)(e - DMR_TXN_ELEM_TEXT) < h->texts->n)
        snprintf(buf, len, "%s", h->texts->text[e - DMR_TXN_ELEM_TEXT]);
    else
        snprintf(buf, len, "%" PRId64, e);
    return buf;
}

void dmr_txn_print_value(const dmr_txn_hist_t *h, uint32_t t, size_t max,
                         FILE *out)
{
    const dmr_txn_t *tx = &h->txns[t];
    char err[128];
    if (tx->off == UINT64_MAX || tx->off >= h->len) {
        fprintf(out, "(line %u)", tx->line);
        return;
    }
    dmr_arena_t *a = dmr_arena_new();
    size_t pos = tx->off;
    uint32_t line = tx->line;
    dmr_val_t *v = NULL;
    int r = !strcmp(h->format, "json")
                ? dmr_json_read(a, h->buf, h->len, &pos, &line, &v, err,
                                sizeof err)
                : dmr_edn_read(a, h->buf, h->len, &pos, &line, &v, err,
                               sizeof err);
    const dmr_val_t *val = r == 0 ? dmr_val_get(v, "value") : NULL;
    if (val) {
        char *s = dmr_malloc(max + 4);
        dmr_val_format(val, s, max + 4);
        fputs(s, out);
        free(s);
    } else {
        fprintf(out, "(line %u)", tx->line);
    }
    dmr_arena_destroy(&a);
}

/* ------------------------------------------------- one op at a time */

struct dmr_txn_reader {
    dmr_txn_hist_t *h;
    dmr_arena_t *a;
    int fmt; /* 0 tell per line, 1 edn, 2 json */
};

dmr_txn_reader_t *dmr_txn_reader_new(const char *name, const char *format,
                                     dmr_txn_workload_t w)
{
    dmr_txn_reader_t *rd = dmr_calloc(1, sizeof *rd);
    rd->h = dmr_txn_hist_new(name, "edn", w);
    rd->a = dmr_arena_new();
    rd->fmt = !format ? 0 : !strcmp(format, "json") ? 2 : 1;
    return rd;
}

void dmr_txn_reader_destroy(dmr_txn_reader_t **prd)
{
    dmr_txn_reader_t *rd = *prd;
    if (!rd)
        return;
    dmr_txn_hist_destroy(&rd->h);
    dmr_arena_destroy(&rd->a);
    free(rd);
    *prd = NULL;
}

static size_t s_skip_blank(const char *b, size_t len, size_t i, int closers)
{
    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' ||
                       b[i] == ',' || (closers && b[i] == ']')))
        i++;
    return i;
}


/* The fast path of dmr_txn_reader_line, for the common shape of an EDN op
 * map: keyword keys, scalar values, a :value of micro-ops whose keys are
 * integers and whose values are integers, nil or vectors of integers.
 * Returns 1 when it read the line (the same result as the general
 * reader's), 0 to leave it to the general reader (anything else, errors
 * included). */
typedef struct {
    const char *p, *end;
} s_fast_t;

static void s_fast_ws(s_fast_t *f)
{
    while (f->p < f->end &&
           (*f->p == ' ' || *f->p == ',' || *f->p == '\t' || *f->p == '\r'))
        f->p++;
}

/* An integer of at most 18 digits. */
static int s_fast_int(s_fast_t *f, int64_t *v)
{
    const char *q = f->p;
    int neg = q < f->end && *q == '-';
    q += neg;
    const char *d = q;
    int64_t x = 0;
    while (q < f->end && *q >= '0' && *q <= '9' && q - d < 18)
        x = x * 10 + (*q++ - '0');
    if (q == d || (q - d > 1 && *d == '0') || (neg && x == 0) ||
        (q < f->end && !(*q == ' ' || *q == ',' || *q == ']' || *q == '}' ||
                         *q == '\t')))
        return 0;
    *v = neg ? -x : x;
    f->p = q;
    return 1;
}

/* A keyword's name (without ':'), of letters, digits, '-' and '_'. */
static int s_fast_kw(s_fast_t *f, const char **s, size_t *n)
{
    if (f->p >= f->end || *f->p != ':')
        return 0;
    const char *q = ++f->p;
    while (q < f->end && ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
                          (*q >= '0' && *q <= '9') || *q == '-' || *q == '_'))
        q++;
    if (q == f->p)
        return 0;
    *s = f->p;
    *n = (size_t)(q - f->p);
    f->p = q;
    return 1;
}

static int s_is_word(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && !memcmp(s, w, n);
}

static int s_fast_mops(dmr_txn_hist_t *h, s_fast_t *f, int completed)
{
    int la = h->workload == DMR_TXN_LIST_APPEND;
    if (f->p >= f->end || *f->p != '[')
        return 0;
    f->p++;
    for (uint32_t i = 0;; i++) {
        s_fast_ws(f);
        if (f->p < f->end && *f->p == ']') {
            f->p++;
            return 1;
        }
        if (f->p >= f->end || *f->p != '[' || i > UINT16_MAX)
            return 0;
        f->p++;
        const char *fs;
        size_t fn;
        if (!s_fast_kw(f, &fs, &fn))
            return 0;
        dmr_mop_f_t mf;
        if (s_is_word(fs, fn, "r"))
            mf = DMR_MOP_READ;
        else if (la && s_is_word(fs, fn, "append"))
            mf = DMR_MOP_APPEND;
        else if (!la && s_is_word(fs, fn, "w"))
            mf = DMR_MOP_WRITE;
        else
            return 0;
        s_fast_ws(f);
        const char *ks = f->p;
        int64_t kv;
        if (!s_fast_int(f, &kv))
            return 0;
        size_t kn = (size_t)(f->p - ks);
        s_fast_ws(f);
        if (h->nmop == h->cap_mop) {
            h->cap_mop = h->cap_mop ? 2 * h->cap_mop : 1024;
            h->mops = dmr_realloc(h->mops, h->cap_mop * sizeof *h->mops);
        }
        dmr_mop_t *mo = &h->mops[h->nmop];
        *mo = (dmr_mop_t){.txn = 0,
                          .key = s_intern(h->keys, ks, kn),
                          .idx = (uint16_t)i,
                          .f = (uint8_t)mf,
                          .v = DMR_TXN_NIL};
        int64_t v;
        if (f->end - f->p >= 3 && !memcmp(f->p, "nil", 3) &&
            (f->end - f->p == 3 || f->p[3] == ']' || f->p[3] == ' ')) {
            if (mf != DMR_MOP_READ)
                return 0;
            f->p += 3;
            mo->known = (uint8_t)completed;
        } else if (f->p < f->end && *f->p == '[') {
            if (!la || mf != DMR_MOP_READ)
                return 0;
            f->p++;
            uint64_t off = h->nelem;
            for (;;) {
                s_fast_ws(f);
                if (f->p < f->end && *f->p == ']') {
                    f->p++;
                    break;
                }
                if (!s_fast_int(f, &v))
                    return 0;
                if (h->nelem == h->cap_elem) {
                    h->cap_elem = h->cap_elem ? 2 * h->cap_elem : 4096;
                    h->elems =
                        dmr_realloc(h->elems, h->cap_elem * sizeof *h->elems);
                }
                h->elems[h->nelem++] = v;
            }
            if (completed) {
                mo->known = 1;
                mo->off = off;
                mo->n = (uint32_t)(h->nelem - off);
            } else {
                h->nelem = off;
            }
        } else if (s_fast_int(f, &v)) {
            if (mf == DMR_MOP_READ && la)
                return 0; /* a list-append read of a number */
            if (mf != DMR_MOP_READ || completed)
                mo->v = v;
            mo->known = mf == DMR_MOP_READ && completed;
        } else {
            return 0;
        }
        s_fast_ws(f);
        if (f->p >= f->end || *f->p != ']')
            return 0;
        f->p++;
        h->nmop++;
        h->txns[0].nmop++;
    }
}

static int s_fast_line(dmr_txn_reader_t *rd, const char *line, size_t len,
                       size_t pos, uint32_t lineno, dmr_txn_op_t *op)
{
    dmr_txn_hist_t *h = rd->h;
    s_fast_t f = {line + pos, line + len};
    if (f.p >= f.end || *f.p != '{')
        return 0;
    f.p++;
    int ev = -1, seen_f = 0, has_proc = 0, has_index = 0;
    int64_t proc = 0, index = -1;
    const char *value = NULL;
    unsigned seen = 0;
    for (;;) {
        s_fast_ws(&f);
        if (f.p < f.end && *f.p == '}') {
            f.p++;
            break;
        }
        const char *ks;
        size_t kn;
        if (!s_fast_kw(&f, &ks, &kn))
            return 0;
        s_fast_ws(&f);
        unsigned bit = s_is_word(ks, kn, "type")      ? 1
                       : s_is_word(ks, kn, "f")       ? 2
                       : s_is_word(ks, kn, "value")   ? 4
                       : s_is_word(ks, kn, "process") ? 8
                       : s_is_word(ks, kn, "index")   ? 16
                                                      : 0;
        if (bit & seen)
            return 0; /* a key twice: the general reader decides */
        seen |= bit;
        const char *ws;
        size_t wn;
        int64_t iv;
        switch (bit) {
        case 1:
            if (!s_fast_kw(&f, &ws, &wn))
                return 0;
            ev = s_is_word(ws, wn, "invoke") ? 0
                 : s_is_word(ws, wn, "ok")   ? 1
                 : s_is_word(ws, wn, "fail") ? 2
                 : s_is_word(ws, wn, "info") ? 3
                                             : -1;
            if (ev < 0)
                return 0;
            break;
        case 2:
            if (!s_fast_kw(&f, &ws, &wn) || !s_is_word(ws, wn, "txn"))
                return 0;
            seen_f = 1;
            break;
        case 4: {
            /* skip it now, read it once :type is known */
            value = f.p;
            int depth = 0;
            while (f.p < f.end) {
                char c = *f.p;
                if (c == '[')
                    depth++;
                else if (c == ']' && --depth == 0) {
                    f.p++;
                    break;
                } else if (c == '"' || c == '{' || c == '}' || c == '(' ||
                           c == '#' || c == ';' || c == '\\')
                    return 0;
                else if (depth == 0)
                    return 0; /* not a vector */
                f.p++;
            }
            if (depth)
                return 0;
            break;
        }
        case 8:
            if (!s_fast_int(&f, &proc))
                return 0;
            has_proc = 1;
            break;
        case 16:
            if (!s_fast_int(&f, &iv) || iv < 0)
                return 0;
            index = iv;
            has_index = 1;
            break;
        default:
            /* another key: a number or a keyword only */
            if (!s_fast_int(&f, &iv) && !s_fast_kw(&f, &ws, &wn))
                return 0;
        }
    }
    (void)has_index;
    (void)seen_f;
    s_fast_ws(&f);
    while (f.p < f.end && (*f.p == ']' || *f.p == ' ' || *f.p == ','))
        f.p++;
    if (f.p != f.end || ev < 0)
        return 0;
    if (h->cap_txn == 0) {
        h->cap_txn = 1;
        h->txns = dmr_malloc(sizeof *h->txns);
    }
    h->ntxn = 1;
    h->txns[0] = (dmr_txn_t){.line = lineno, .invline = lineno};
    if (value) {
        s_fast_t fv = {value, line + len};
        if (!s_fast_mops(h, &fv, ev == 1)) {
            h->ntxn = h->nmop = h->nelem = 0;
            return 0;
        }
    }
    op->ev = ev;
    op->has_process = has_proc;
    op->process = has_proc ? proc : 0;
    op->index = index;
    return 1;
}

int dmr_txn_reader_line(dmr_txn_reader_t *rd, const char *line, size_t len,
                        uint32_t lineno, dmr_txn_op_t *op, char *err,
                        size_t errlen)
{
    dmr_txn_hist_t *h = rd->h;
    s_parse_t p = {.h = h, .err = err, .errlen = errlen};
    *op = (dmr_txn_op_t){.ev = -1, .index = -1, .h = h};
    h->ntxn = h->nmop = h->nelem = 0;
    /* texts only live for the line; keep the tables small */
    if (h->texts->n > 65536) {
        s_intern_free(h->texts);
        h->texts = s_intern_new();
    }
    if (h->keys->n > 65536) {
        s_intern_free(h->keys);
        h->keys = s_intern_new();
    }
    size_t pos = s_skip_blank(line, len, 0, 1);
    int json = rd->fmt == 2 || (rd->fmt == 0 && s_detect_json(line, len));
    if (!json && pos < len && line[pos] == '[')
        pos = s_skip_blank(line, len, pos + 1, 0);
    if (pos == len || line[pos] == ';' || line[pos] == '#')
        return 0;
    if (!json && s_fast_line(rd, line, len, pos, lineno, op))
        return 0;
    h->ntxn = h->nmop = h->nelem = 0;
    uint32_t ln = lineno;
    dmr_val_t *v = NULL;
    char rerr[256];
    dmr_arena_reset(rd->a);
    int r = json ? dmr_json_read(rd->a, line, len, &pos, &ln, &v, rerr,
                                 sizeof rerr)
                 : dmr_edn_read(rd->a, line, len, &pos, &ln, &v, rerr,
                                sizeof rerr);
    if (r == 1)
        return 0;
    if (r != 0) {
        const char *msg = strchr(rerr, ':');
        return s_fail(&p, DMR_ECORRUPT, ln, "%s",
                      msg && msg[1] ? msg + 2 : rerr);
    }
    pos = s_skip_blank(line, len, pos, 1);
    if (v->type == DMR_V_VEC ||
        (pos < len && line[pos] != ';' && line[pos] != '#'))
        return s_fail(&p, DMR_EINVAL, lineno,
                      "more than one op on this line: the cluster check "
                      "reads one op map per line (check this file with "
                      "--local)");
    const dmr_val_t *proc, *value, *index;
    int ev;
    int hr = s_op_head(&p, v, &ev, &proc, &value, &index);
    if (hr)
        return hr > 0 ? 0 : hr;
    static const dmr_val_t nil = {.type = DMR_V_NIL};
    if (h->cap_txn == 0) {
        h->cap_txn = 1;
        h->txns = dmr_malloc(sizeof *h->txns);
    }
    h->ntxn = 1;
    h->txns[0] = (dmr_txn_t){.line = lineno, .invline = lineno};
    int rc = s_mops(&p, 0, value ? value : &nil, ev == 1);
    if (rc)
        return rc;
    op->ev = ev;
    op->has_process = proc != NULL;
    op->process = proc ? proc->u.i : 0;
    op->index = index ? index->u.i : -1;
    return 0;
}

/* ------------------------------------------------ building a history */

dmr_txn_hist_t *dmr_txn_hist_new(const char *name, const char *format,
                                 dmr_txn_workload_t w)
{
    dmr_txn_hist_t *h = dmr_calloc(1, sizeof *h);
    h->name = dmr_strdup(name);
    h->workload = w;
    h->format = format && !strcmp(format, "json") ? "json" : "edn";
    h->keys = s_intern_new();
    h->texts = s_intern_new();
    h->elems = dmr_malloc(sizeof *h->elems);
    h->cap_elem = 1;
    h->buf = dmr_calloc(1, 1);
    h->cap_buf = 1;
    return h;
}

uint32_t dmr_txn_hist_add(dmr_txn_hist_t *h, const dmr_txn_t *t)
{
    if (h->ntxn == h->cap_txn) {
        h->cap_txn = h->cap_txn ? 2 * h->cap_txn : 64;
        h->txns = dmr_realloc(h->txns, h->cap_txn * sizeof *h->txns);
    }
    h->txns[h->ntxn] = *t;
    h->txns[h->ntxn].mop = (uint32_t)h->nmop;
    h->txns[h->ntxn].nmop = 0;
    return (uint32_t)h->ntxn++;
}

void dmr_txn_hist_add_mop(dmr_txn_hist_t *h, const dmr_mop_t *m,
                          const dmr_txn_elem_t *elems)
{
    if (h->nmop == h->cap_mop) {
        h->cap_mop = h->cap_mop ? 2 * h->cap_mop : 64;
        h->mops = dmr_realloc(h->mops, h->cap_mop * sizeof *h->mops);
    }
    dmr_mop_t *mo = &h->mops[h->nmop++];
    *mo = *m;
    mo->txn = (uint32_t)h->ntxn - 1;
    mo->off = h->nelem;
    h->txns[mo->txn].nmop++;
    int list = h->workload == DMR_TXN_LIST_APPEND && m->f == DMR_MOP_READ &&
               m->known;
    if (!list) {
        mo->n = 0;
        return;
    }
    if (h->nelem + m->n > h->cap_elem) {
        while (h->nelem + m->n > h->cap_elem)
            h->cap_elem = h->cap_elem ? 2 * h->cap_elem : 64;
        h->elems = dmr_realloc(h->elems, h->cap_elem * sizeof *h->elems);
    }
    if (m->n)
        memcpy(h->elems + h->nelem, elems, m->n * sizeof *elems);
    h->nelem += m->n;
}

uint32_t dmr_txn_key_id(dmr_txn_hist_t *h, const char *s, size_t n)
{
    uint32_t k = s_intern(h->keys, s, n);
    if (k >= h->nkey)
        h->nkey = (size_t)k + 1;
    return k;
}

void dmr_txn_hist_seal(dmr_txn_hist_t *h)
{
    h->nkey = h->keys->n;
}

/* e of src as an element of h. */
static dmr_txn_elem_t s_elem_move(dmr_txn_hist_t *h, const dmr_txn_hist_t *src,
                                  dmr_txn_elem_t e)
{
    if (e == DMR_TXN_NIL || e < DMR_TXN_ELEM_TEXT ||
        (uint64_t)(e - DMR_TXN_ELEM_TEXT) >= src->texts->n)
        return e;
    size_t id = (size_t)(e - DMR_TXN_ELEM_TEXT);
    return DMR_TXN_ELEM_TEXT +
           s_intern(h->texts, src->texts->text[id], src->texts->len[id]);
}

uint32_t dmr_txn_hist_copy(dmr_txn_hist_t *h, const dmr_txn_hist_t *src,
                           uint32_t t)
{
    const dmr_txn_t *st = &src->txns[t];
    dmr_txn_t nt = *st;
    nt.off = UINT64_MAX;
    if (st->off < src->len) {
        const char *b = src->buf + st->off;
        const char *nl = memchr(b, '\n', src->len - st->off);
        size_t n = nl ? (size_t)(nl - b) : src->len - st->off;
        if (h->len + n + 2 > h->cap_buf) {
            while (h->len + n + 2 > h->cap_buf)
                h->cap_buf *= 2;
            h->buf = dmr_realloc(h->buf, h->cap_buf);
        }
        nt.off = h->len;
        memcpy(h->buf + h->len, b, n);
        h->len += n;
        h->buf[h->len++] = '\n';
        h->buf[h->len] = 0;
    }
    uint32_t id = dmr_txn_hist_add(h, &nt);
    dmr_txn_elem_t *tmp = NULL;
    size_t ntmp = 0;
    for (uint32_t i = 0; i < st->nmop; i++) {
        dmr_mop_t m = src->mops[st->mop + i];
        const char *kt = dmr_txn_key_text(src, m.key);
        m.key = dmr_txn_key_id(h, kt, strlen(kt));
        m.v = s_elem_move(h, src, m.v);
        if (m.n > ntmp) {
            ntmp = m.n;
            tmp = dmr_realloc(tmp, ntmp * sizeof *tmp);
        }
        for (uint32_t k = 0; k < m.n; k++)
            tmp[k] = s_elem_move(h, src, src->elems[m.off + k]);
        dmr_txn_hist_add_mop(h, &m, tmp);
    }
    free(tmp);
    return id;
}

/* ----------------------------------------------------------- the wire */

void dmr_txn_wire_text(dmr_buf_t *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    dmr_buf_reserve(b, n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c == 0x7f || c == '\\' || c == '~' || c == '\'') {
            char e[3] = {'\\', hex[c >> 4], hex[c & 15]};
            dmr_buf_append(b, e, 3);
        } else {
            dmr_buf_putc(b, (char)c);
        }
    }
    if (n == 0) /* an empty text is one escaped nothing */
        dmr_buf_append(b, "\\", 1);
}

void dmr_txn_wire_elem(dmr_buf_t *b, const dmr_txn_hist_t *h,
                       dmr_txn_elem_t e)
{
    if (e == DMR_TXN_NIL) {
        dmr_buf_putc(b, '~');
    } else if (e >= DMR_TXN_ELEM_TEXT &&
               (uint64_t)(e - DMR_TXN_ELEM_TEXT) < h->texts->n) {
        size_t id = (size_t)(e - DMR_TXN_ELEM_TEXT);
        dmr_buf_putc(b, '\'');
        dmr_txn_wire_text(b, h->texts->text[id], h->texts->len[id]);
    } else {
        dmr_buf_i64(b, e);
    }
}

int dmr_txn_tok(dmr_txn_tok_t *t, const char **s, size_t *n)
{
    while (t->p < t->end && *t->p == ' ')
        t->p++;
    if (t->p >= t->end)
        return 0;
    const char *b = t->p;
    while (t->p < t->end && *t->p != ' ')
        t->p++;
    *s = b;
    *n = (size_t)(t->p - b);
    return 1;
}

static int s_hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

size_t dmr_txn_unwire(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 2 < n && s_hexval(s[i + 1]) >= 0 &&
            s_hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(s_hexval(s[i + 1]) << 4 | s_hexval(s[i + 2]));
            i += 2;
        } else if (s[i] != '\\') {
            out[o++] = s[i];
        }
    }
    return o;
}

int dmr_txn_tok_u64(const char *s, size_t n, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0 || n > 20)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *v = x;
    return 0;
}

int dmr_txn_tok_i64(const char *s, size_t n, int64_t *v)
{
    int neg = n > 0 && s[0] == '-';
    uint64_t u;
    if (dmr_txn_tok_u64(s + neg, n - (size_t)neg, &u) ||
        u > (uint64_t)INT64_MAX + (uint64_t)neg)
        return -1;
    *v = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
}

int dmr_txn_tok_elem(dmr_txn_hist_t *h, const char *s, size_t n,
                     dmr_txn_elem_t *e)
{
    if (n == 1 && s[0] == '~') {
        *e = DMR_TXN_NIL;
        return 0;
    }
    if (n && s[0] == '\'') {
        char stack[256];
        char *t = n <= sizeof stack ? stack : dmr_malloc(n);
        size_t tn = dmr_txn_unwire(s + 1, n - 1, t);
        *e = DMR_TXN_ELEM_TEXT + s_intern(h->texts, t, tn);
        if (t != stack)
            free(t);
        return 0;
    }
    int64_t v;
    if (dmr_txn_tok_i64(s, n, &v) || v <= -DMR_TXN_ELEM_TEXT ||
        v >= DMR_TXN_ELEM_TEXT)
        return -1;
    *e = v;
    return 0;
}

int dmr_txn_tok_key(dmr_txn_hist_t *h, const char *s, size_t n, uint32_t *k)
{
    if (n == 0 || (n == 1 && s[0] == '~'))
        return -1;
    char stack[256];
    char *t = n <= sizeof stack ? stack : dmr_malloc(n);
    size_t tn = dmr_txn_unwire(s, n, t);
    *k = dmr_txn_key_id(h, t, tn);
    if (t != stack)
        free(t);
    return 0;
}
