/* model.c -- the sequential models (model.h) and the intern table that
 * turns values and composite states into single words.
 *
 * Interned blobs are canonical byte encodings:
 *
 *   'n'                      nil
 *   't' | 'f'                true, false
 *   'i' + 8 bytes            an integer, big-endian two's complement
 *   's' + u32 len + bytes    a string or keyword (one namespace: JSON has
 *                            no keywords, so :a and "a" are one value)
 *   'v' + u32 n + n blobs    a vector, list or set (as read)
 *   'm' + u32 n + 2n blobs   a map, keys and values alternating
 *   'S' + u64 ids            a set state: element ids, sorted, unique
 *   'Q' + u64 ids            a queue state: element ids, head first
 *   'M' + (u64 k, u64 v)...  a multi-register state, sorted by key id,
 *                            nil values left out
 *   'T' + (u64 kind,k,v)...  a transaction's micro-ops (0 read, 1 write)
 *
 * u32 and u64 are native-endian: blobs never leave the process. An id is
 * the blob's index in the table, so equal blobs have equal ids. */
#include <stdlib.h>
#include <string.h>

#include "check/model.h"
#include "common/alloc.h"
#include "common/error.h"

/* ---- intern table ------------------------------------------------------ */

typedef struct {
    const char *p; /* in a chunk; NULL for a rope */
    size_t len;    /* bytes of the blob (a rope: of the string it stands for) */
    uint64_t hash;
    /* A rope is a string made by an append and not stored: the string of
     * blob "base" (nil: empty) followed by that of blob "piece". Most
     * states an append makes are explored once and dropped, so they cost
     * a blob entry and no copy of a string that grows with the history;
     * the bytes are assembled only to compare one with a candidate of the
     * same hash, or to print it. */
    uint32_t base, piece;
} blob_t;

/* Blob bytes live in chunks that never move: growing never copies them. */
#define CHUNK_BYTES (256u << 10)

struct dmr_mctx {
    const dmr_model_t *model;
    blob_t *blobs; /* by id */
    size_t nblobs, capblobs;
    char **chunks;
    size_t nchunks, capchunks;
    size_t used, room; /* in the last chunk */
    size_t nbytes;     /* in all chunks */
    uint32_t *slots;   /* open addressing: id + 1, 0 empty */
    size_t nslots;     /* power of two */
    uint64_t nil, empty_str, empty_set, empty_queue, empty_multi;
    uint64_t init;
    char *scratch; /* building blobs */
    size_t nscratch, capscratch;
};

static uint64_t s_hash(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

/* A string blob's hash is polynomial in its bytes, h = h * P + byte from
 * 5, so the hash of s + t follows from those of s and t: an append
 * costs O(1) hashing, whatever the length of the string. Other blobs use
 * s_hash. Table slots mix either with s_fmix. */
#define POLY 0x100000001b3ull

static uint64_t s_poly(const unsigned char *b, size_t n)
{
    uint64_t h = 5;
    for (size_t i = 0; i < n; i++)
        h = h * POLY + b[i];
    return h;
}

static uint64_t s_poly_pow(size_t n)
{
    uint64_t r = 1, x = POLY;
    for (; n; n >>= 1, x *= x)
        if (n & 1)
            r *= x;
    return r;
}

static uint64_t s_blob_hash(const char *p, size_t n)
{
    if (n >= 5 && p[0] == 's')
        return s_poly((const unsigned char *)p + 5, n - 5);
    return s_hash(p, n);
}

static uint64_t s_fmix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static void s_grow_slots(dmr_mctx_t *m)
{
    size_t n = m->nslots ? m->nslots * 2 : 1024;
    uint32_t *slots = dmr_calloc(n, sizeof *slots);
    for (size_t id = 0; id < m->nblobs; id++) {
        size_t j = s_fmix(m->blobs[id].hash) & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = (uint32_t)id + 1;
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
}

static void s_str_bytes(const dmr_mctx_t *m, uint64_t id, char **buf,
                        size_t *len, size_t *cap);

/* 1 if blob id holds the n bytes at p. */
static int s_blob_is(const dmr_mctx_t *m, uint64_t id, const char *p, size_t n)
{
    const blob_t *b = &m->blobs[id];
    if (b->len != n)
        return 0;
    if (b->p)
        return !memcmp(b->p, p, n);
    if (p[0] != 's') /* a rope is a string */
        return 0;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    s_str_bytes(m, id, &buf, &len, &cap);
    int same = !memcmp(buf, p + 5, n - 5);
    free(buf);
    return same;
}

/* The id of the blob p[0..n), adding it if new. */
static uint64_t s_intern(dmr_mctx_t *m, const void *p, size_t n)
{
    uint64_t h = s_blob_hash(p, n);
    if (2 * (m->nblobs + 1) > m->nslots)
        s_grow_slots(m);
    size_t j = s_fmix(h) & (m->nslots - 1);
    for (; m->slots[j]; j = (j + 1) & (m->nslots - 1))
        if (m->blobs[m->slots[j] - 1].hash == h &&
            s_blob_is(m, m->slots[j] - 1, p, n))
            return m->slots[j] - 1;
    if (m->nblobs == m->capblobs) {
        m->capblobs = m->capblobs ? 2 * m->capblobs : 256;
        m->blobs = dmr_realloc(m->blobs, m->capblobs * sizeof *m->blobs);
    }
    if (m->used + n > m->room) {
        if (m->nchunks == m->capchunks) {
            m->capchunks = m->capchunks ? 2 * m->capchunks : 16;
            m->chunks =
                dmr_realloc(m->chunks, m->capchunks * sizeof *m->chunks);
        }
        m->room = n > CHUNK_BYTES ? n : CHUNK_BYTES;
        m->chunks[m->nchunks++] = dmr_malloc(m->room);
        m->nbytes += m->room;
        m->used = 0;
    }
    char *at = m->chunks[m->nchunks - 1] + m->used;
    if (n)
        memcpy(at, p, n);
    m->used += n;
    m->blobs[m->nblobs] = (blob_t){at, n, h, 0, 0};
    m->slots[j] = (uint32_t)m->nblobs + 1;
    return m->nblobs++;
}

static const char *s_blob(const dmr_mctx_t *m, uint64_t id, size_t *len)
{
    *len = m->blobs[id].len;
    return m->blobs[id].p;
}

/* Appends the bytes of string blob id (flat or rope; nil is empty) to
 * *buf (of *len used, *cap allocated). */
static void s_str_bytes(const dmr_mctx_t *m, uint64_t id, char **buf,
                        size_t *len, size_t *cap)
{
    const blob_t *b = &m->blobs[id];
    if (b->p && b->p[0] != 's')
        return; /* nil */
    size_t n = b->len - 5;
    if (*len + n > *cap) {
        while (*len + n > *cap)
            *cap = *cap ? 2 * *cap : 256;
        *buf = dmr_realloc(*buf, *cap);
    }
    if (b->p) {
        if (n)
            memcpy(*buf + *len, b->p + 5, n);
        *len += n;
        return;
    }
    /* a rope: its pieces, found from the end */
    size_t end = *len + n;
    *len = end;
    for (;;) {
        const blob_t *piece = &m->blobs[b->piece];
        size_t pn = piece->len - 5;
        end -= pn;
        memcpy(*buf + end, piece->p + 5, pn);
        b = &m->blobs[b->base];
        if (b->p) {
            if (b->p[0] == 's')
                memcpy(*buf + end - (b->len - 5), b->p + 5, b->len - 5);
            return;
        }
    }
}

/* The string blob of base's string followed by piece's (a flat string
 * blob), whose hash is h: an existing blob of the same string, or a new
 * rope. */
static uint64_t s_append(dmr_mctx_t *m, uint64_t base, uint64_t piece, size_t n,
                         uint64_t h)
{
    if (2 * (m->nblobs + 1) > m->nslots)
        s_grow_slots(m);
    size_t j = s_fmix(h) & (m->nslots - 1);
    char *want = NULL, *have = NULL;
    size_t wl = 0, wc = 0, hc = 0;
    for (; m->slots[j]; j = (j + 1) & (m->nslots - 1)) {
        uint64_t id = m->slots[j] - 1;
        blob_t *b = &m->blobs[id];
        if (b->hash != h || b->len != n + 5 || (b->p && b->p[0] != 's'))
            continue;
        if (!want) {
            s_str_bytes(m, base, &want, &wl, &wc);
            s_str_bytes(m, piece, &want, &wl, &wc);
        }
        size_t hl = 0;
        const char *bytes = b->p ? b->p + 5 : NULL;
        if (!bytes) {
            s_str_bytes(m, id, &have, &hl, &hc);
            bytes = have;
        }
        if (!n || !memcmp(bytes, want, n)) {
            free(want);
            free(have);
            return id;
        }
    }
    free(want);
    free(have);
    if (m->nblobs == m->capblobs) {
        m->capblobs = m->capblobs ? 2 * m->capblobs : 256;
        m->blobs = dmr_realloc(m->blobs, m->capblobs * sizeof *m->blobs);
    }
    m->blobs[m->nblobs] =
        (blob_t){NULL, n + 5, h, (uint32_t)base, (uint32_t)piece};
    m->slots[j] = (uint32_t)m->nblobs + 1;
    return m->nblobs++;
}

/* ---- building blobs in scratch ----------------------------------------- */

static void s_put(dmr_mctx_t *m, const void *p, size_t n)
{
    if (m->nscratch + n > m->capscratch) {
        while (m->nscratch + n > m->capscratch)
            m->capscratch = m->capscratch ? 2 * m->capscratch : 256;
        m->scratch = dmr_realloc(m->scratch, m->capscratch);
    }
    if (n)
        memcpy(m->scratch + m->nscratch, p, n);
    m->nscratch += n;
}

static void s_put_u32(dmr_mctx_t *m, uint32_t v)
{
    s_put(m, &v, 4);
}
static void s_put_u64(dmr_mctx_t *m, uint64_t v)
{
    s_put(m, &v, 8);
}

static void s_encode(dmr_mctx_t *m, const dmr_val_t *v)
{
    unsigned char c;
    switch (v->type) {
    case DMR_V_NIL: s_put(m, "n", 1); break;
    case DMR_V_BOOL: s_put(m, v->u.b ? "t" : "f", 1); break;
    case DMR_V_INT: {
        unsigned char b[9] = {'i'};
        uint64_t x = (uint64_t)v->u.i;
        for (int k = 0; k < 8; k++)
            b[1 + k] = (unsigned char)(x >> (56 - 8 * k));
        s_put(m, b, 9);
        break;
    }
    case DMR_V_STR:
    case DMR_V_KW:
    case DMR_V_SYM:
        s_put(m, "s", 1);
        s_put_u32(m, (uint32_t)v->u.str.len);
        s_put(m, v->u.str.s, v->u.str.len);
        break;
    case DMR_V_VEC:
    case DMR_V_LIST:
    case DMR_V_SET:
    case DMR_V_MAP:
        c = v->type == DMR_V_MAP ? 'm' : 'v';
        s_put(m, &c, 1);
        s_put_u32(
            m, (uint32_t)(v->type == DMR_V_MAP ? v->u.seq.n / 2 : v->u.seq.n));
        for (size_t i = 0; i < v->u.seq.n; i++)
            s_encode(m, v->u.seq.items[i]);
        break;
    }
}

/* The id of value v. */
static uint64_t s_val(dmr_mctx_t *m, const dmr_val_t *v)
{
    m->nscratch = 0;
    s_encode(m, v);
    return s_intern(m, m->scratch, m->nscratch);
}

/* The id of a tag followed by n words. */
static uint64_t s_words(dmr_mctx_t *m, char tag, const uint64_t *w, size_t n)
{
    m->nscratch = 0;
    s_put(m, &tag, 1);
    s_put(m, w, n * 8);
    return s_intern(m, m->scratch, m->nscratch);
}

/* The words of a word blob (after its tag), and how many. */
static const uint64_t *s_words_of(dmr_mctx_t *m, uint64_t id, size_t *n,
                                  uint64_t *tmp, size_t tmpn)
{
    size_t len;
    const char *p = s_blob(m, id, &len);
    *n = (len - 1) / 8;
    /* blob bytes are not 8-aligned: copy into tmp when it fits. */
    if (*n <= tmpn) {
        memcpy(tmp, p + 1, *n * 8);
        return tmp;
    }
    return NULL;
}

/* Renders blob bytes p (one value) as EDN; returns bytes consumed. */
static size_t s_render(const dmr_mctx_t *m, const char *p, size_t len,
                       char *buf, size_t cap, size_t *at);

static void s_out(char *buf, size_t cap, size_t *at, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *at + 1 < cap; i++)
        buf[(*at)++] = s[i];
    if (cap)
        buf[*at < cap ? *at : cap - 1] = 0;
}

static size_t s_render(const dmr_mctx_t *m, const char *p, size_t len,
                       char *buf, size_t cap, size_t *at)
{
    char tmp[32];
    uint32_t n;
    size_t used = 1;
    if (!len)
        return 0;
    switch (p[0]) {
    case 'n': s_out(buf, cap, at, "nil", 3); return 1;
    case 't': s_out(buf, cap, at, "true", 4); return 1;
    case 'f': s_out(buf, cap, at, "false", 5); return 1;
    case 'i': {
        uint64_t x = 0;
        for (int k = 0; k < 8; k++)
            x = x << 8 | (unsigned char)p[1 + k];
        int k = snprintf(tmp, sizeof tmp, "%lld", (long long)(int64_t)x);
        s_out(buf, cap, at, tmp, (size_t)k);
        return 9;
    }
    case 's':
        memcpy(&n, p + 1, 4);
        s_out(buf, cap, at, "\"", 1);
        s_out(buf, cap, at, p + 5, n);
        s_out(buf, cap, at, "\"", 1);
        return 5 + n;
    case 'v':
    case 'm':
        memcpy(&n, p + 1, 4);
        used = 5;
        s_out(buf, cap, at, p[0] == 'v' ? "[" : "{", 1);
        for (uint32_t i = 0; i < (p[0] == 'm' ? 2 * n : n); i++) {
            if (i)
                s_out(buf, cap, at, " ", 1);
            used += s_render(m, p + used, len - used, buf, cap, at);
        }
        s_out(buf, cap, at, p[0] == 'v' ? "]" : "}", 1);
        return used;
    case 'S':
    case 'Q':
    case 'M': {
        size_t nw = (len - 1) / 8;
        s_out(buf, cap, at,
              p[0] == 'S'   ? "#{"
              : p[0] == 'Q' ? "["
                            : "{",
              p[0] == 'S' ? 2 : 1);
        for (size_t i = 0; i < nw; i++) {
            uint64_t id;
            size_t bl;
            memcpy(&id, p + 1 + 8 * i, 8);
            if (i)
                s_out(buf, cap, at, " ", 1);
            const char *b = s_blob(m, id, &bl);
            s_render(m, b, bl, buf, cap, at);
        }
        s_out(buf, cap, at, p[0] == 'S' ? "}" : p[0] == 'Q' ? "]" : "}", 1);
        return len;
    }
    default: s_out(buf, cap, at, "?", 1); return len;
    }
}

/* ---- op helpers ---------------------------------------------------------- */

const dmr_val_t *dmr_op_value(const dmr_history_t *h, size_t i)
{
    const dmr_op_t *op = &h->ops[i];
    if (op->type == DMR_EV_OK && op->ret != UINT32_MAX &&
        h->ev[op->ret].value->type != DMR_V_NIL)
        return h->ev[op->ret].value;
    return h->ev[op->inv].value;
}

static void s_lop_init(const dmr_history_t *h, size_t i, dmr_lop_t *out)
{
    const dmr_op_t *op = &h->ops[i];
    memset(out, 0, sizeof *out);
    out->op = (uint32_t)i;
    out->call = op->inv;
    out->open = op->type != DMR_EV_OK;
    out->ret = out->open ? UINT32_MAX : op->ret;
    out->result = op->ret != UINT32_MAX ? (int8_t)h->ev[op->ret].result : -1;
}

static int s_bad(const dmr_history_t *h, size_t i, char *err, size_t errlen,
                 const char *why, const dmr_val_t *v)
{
    char vb[96];
    const dmr_event_t *e =
        &h->ev[h->ops[i].type == DMR_EV_OK && h->ops[i].ret != UINT32_MAX
                   ? h->ops[i].ret
                   : h->ops[i].inv];
    if (err && errlen)
        snprintf(err, errlen, "line %u: :%s %s, found %s", e->line, e->f, why,
                 v ? dmr_val_format(v, vb, sizeof vb) : "nothing");
    return DMR_EINVAL;
}

static int s_unknown_f(const dmr_mctx_t *m, const dmr_history_t *h, size_t i,
                       char *err, size_t errlen, const char *expected)
{
    const dmr_event_t *e = &h->ev[h->ops[i].inv];
    if (err && errlen)
        snprintf(err, errlen,
                 "line %u: unknown operation :%s for model %s (expected %s)",
                 e->line, e->f, m->model->name, expected);
    return DMR_EINVAL;
}

static int s_is_pair(const dmr_val_t *v)
{
    return v && dmr_val_is_seq(v) && v->u.seq.n == 2;
}

/* ---- register, cas-register, kv ---------------------------------------- */

enum { F_READ, F_WRITE, F_CAS, F_APPEND };

static int s_reg_compile(dmr_mctx_t *m, const dmr_history_t *h, size_t i,
                         dmr_lop_t *out, int *drop, int cas, int kv, char *err,
                         size_t errlen)
{
    const dmr_op_t *op = &h->ops[i];
    const char *f = h->ev[op->inv].f;
    const dmr_val_t *v = dmr_op_value(h, i);
    s_lop_init(h, i, out);
    *drop = op->type == DMR_EV_FAIL;
    if (!strcmp(f, "read") || (kv && !strcmp(f, "get"))) {
        out->f = F_READ;
        out->ro = 1;
        /* A read whose result is unknown constrains nothing. */
        if (op->type != DMR_EV_OK)
            *drop = 1;
        else
            out->out = s_val(m, v);
    } else if (!strcmp(f, "write") || (kv && !strcmp(f, "put"))) {
        out->f = F_WRITE;
        out->a = s_val(m, v);
    } else if (kv && !strcmp(f, "append")) {
        if (v->type != DMR_V_STR)
            return s_bad(h, i, err, errlen, "needs a string", v);
        out->f = F_APPEND;
        out->a = s_val(m, v);
    } else if ((cas || kv) && !strcmp(f, "cas")) {
        if (!s_is_pair(v))
            return s_bad(h, i, err, errlen, "needs [old new]", v);
        out->f = F_CAS;
        out->a = s_val(m, v->u.seq.items[0]);
        out->b = s_val(m, v->u.seq.items[1]);
        if (out->result < 0)
            out->result = 1;
        out->ro = out->result == 0; /* executed, compare false */
    } else {
        return s_unknown_f(m, h, i, err, errlen,
                           kv    ? ":get, :put, :append or :cas"
                           : cas ? ":read, :write or :cas"
                                 : ":read or :write");
    }
    return 0;
}

static int s_register_compile(dmr_mctx_t *m, const dmr_history_t *h, size_t i,
                              dmr_lop_t *out, int *drop, char *err,
                              size_t errlen)
{
    return s_reg_compile(m, h, i, out, drop, 0, 0, err, errlen);
}

static int s_cas_compile(dmr_mctx_t *m, const dmr_history_t *h, size_t i,
                         dmr_lop_t *out, int *drop, char *err, size_t errlen)
{
    return s_reg_compile(m, h, i, out, drop, 1, 0, err, errlen);
}

static int s_kv_compile(dmr_mctx_t *m, const dmr_history_t *h, size_t i,
                        dmr_lop_t *out, int *drop, char *err, size_t errlen)
{
    const dmr_event_t *e = &h->ev[h->ops[i].inv];
    if (!e->key) {
        if (err && errlen)
            snprintf(err, errlen,
                     "line %u: :%s has no :key (model kv: a register per key)",
                     e->line, e->f);
        return DMR_EINVAL;
    }
    return s_reg_compile(m, h, i, out, drop, 1, 1, err, errlen);
}

static int s_reg_step(dmr_mctx_t *m, uint64_t state, const dmr_lop_t *op,
                      uint64_t *next)
{
    switch (op->f) {
    case F_READ:
        *next = state;
        return op->out == state || (state == m->nil && op->out == m->empty_str);
    case F_WRITE: *next = op->a; return 1;
    case F_CAS:
        if (op->result == 0) {
            *next = state;
            return state != op->a;
        }
        *next = op->b;
        return state == op->a;
    case F_APPEND: {
        const blob_t *s = &m->blobs[state], *a = &m->blobs[op->a];
        int str = !s->p || s->p[0] == 's';
        if (!str && s->p[0] != 'n')
            return 0; /* appending to a non-string */
        size_t n1 = str ? s->len - 5 : 0, n2 = a->len - 5;
        uint64_t hs = str ? s->hash : 5; /* nil appends as "" */
        uint64_t h = (hs - 5) * s_poly_pow(n2) + a->hash;
        *next = s_append(m, state, op->a, n1 + n2, h);
        return 1;
    }
    }
    return 0;
}

/* ---- mutex -------------------------------------------------------------- */

enum { F_ACQUIRE, F_RELEASE };

static int s_mutex_compile(dmr_mctx_t *m, const dmr_history_t *h, size_t i,
                           dmr_lop_t *out, int *drop, char *err, size_t errlen)
{
    const char *f = h->ev[h->ops[i].inv].f;
    s_lop_init(h, i, out);
    *drop = h->ops[i].type == DMR_EV_FAIL;
    if (!strcmp(f, "acquire"))
        out->f = F_ACQUIRE;
    else if (!strcmp(f, "release"))
        out->f = F_RELEASE;
    else
        return s_unknown_f(m, h, i, err, errlen, ":acquire or :release");
    return 0;
}

static int s_mutex_step(dmr_mctx_t *m, uint64_t state, const dmr_lop_t *op,
                        uint64_t *next)
{
    (void)m;
    if (op->f == F_ACQUIRE) {
        *next = 1;
        return state == 0;
    }
    *next = 0;
    return state == 1;
}

/* ---- set ---------------------------------------------------------------- */

enum { F_ADD, F_SETREAD };

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The 'S' state of the elements of v (a vector or set). */
static uint64_t s_set_of(dmr_mctx_t *m, const dmr_val_t *v)
{
    size_t n = v->u.seq.n, k = 0;
    uint64_t *ids = dmr_malloc((n ? n : 1) * sizeof *ids);
    for (size_t i = 0; i < n; i++)
        ids[i] = s_val(m, v->u.seq.items[i]);
    qsort(ids, n, sizeof *ids, s_cmp_u64);
    for (size_t i = 0; i < n; i++)
        if (!k || ids[k - 1] != ids[i])
            ids[k++] = ids[i];
    uint64_t id = s_words(m, 'S', ids, k);
    free(ids);
    return id;
}

static int s_set_compile(dmr_mctx_t *m, const dmr_history_t *h, size_t i,
                         dmr_lop_t *out, int *drop, char *err, size_t errlen)
{
    const dmr_op_t *op = &h->ops[i];
    const char *f = h->ev[op->inv].f;
    const dmr_val_t *v = dmr_op_value(h, i);
    s_lop_init(h, i, out);
    *drop = op->type == DMR_EV_FAIL;
    if (!strcmp(f, "add")) {
        out->f = F_ADD;
        out->a = s_val(m, v);
    } else if (!strcmp(f, "read")) {
        out->f = F_SETREAD;
        out->ro = 1;
        if (op->type != DMR_EV_OK || v->type == DMR_V_NIL) {
            *drop = 1;
            return 0;
        }
        if (!dmr_val_is_seq(v) && v->type != DMR_V_SET)
            return s_bad(h, i, err, errlen, "needs a set or vector", v);
        out->out = s_set_of(m, v);
    } else {
        return s_unknown_f(m, h, i, err, errlen, ":add or :read");
    }
    return 0;
}

static int s_set_step(dmr_mctx_t *m, uint64_t state, const dmr_lop_t *op,
                      uint64_t *next)
{
    if (op->f == F_SETREAD) {
        *next = state;
        return state == op->out;
    }
    uint64_t tmp[64];
    size_t n;
    const uint64_t *w = s_words_of(m, state, &n, tmp, 64);
    uint64_t *ids = w ? NULL : dmr_malloc((n + 1) * 8);
    if (!w) {
        size_t len;
        memcpy(ids, s_blob(m, state, &len) + 1, n * 8);
        w = ids;
    }
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w[mid] < op->a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n && w[lo] == op->a) {
        *next = state;
    } else {
        m->nscratch = 0;
        s_put(m, "S", 1);
        s_put(m, w, lo * 8);
        s_put_u64(m, op->a);
        s_put(m, w + lo, (n - lo) * 8);
        *next = s_intern(m, m->scratch, m->nscratch);
    }
    free(ids);
    return 1;
}

/* ---- fifo --------------------------------------------------------------- */

enum { F_ENQ, F_DEQ };

static int s_fifo_compile(dmr_mctx_t *m, const dmr_history_t *h, size_t i,
                          dmr_lop_t *out, int *drop, char *err, size_t errlen)
{
    const dmr_op_t *op = &h->ops[i];
    const char *f = h->ev[op->inv].f;
    s_lop_init(h, i, out);
    *drop = op->type == DMR_EV_FAIL;
    if (!strcmp(f, "enqueue")) {
        out->f = F_ENQ;
        out->a = s_val(m, dmr_op_value(h, i));
    } else if (!strcmp(f, "dequeue")) {
        out->f = F_DEQ;
        /* A dequeue that may have happened, result unknown, may have
         * removed any element: it is kept, with out = UINT64_MAX. */
        out->out =
            op->type == DMR_EV_OK ? s_val(m, dmr_op_value(h, i)) : UINT64_MAX;
    } else {
        return s_unknown_f(m, h, i, err, errlen, ":enqueue or :dequeue");
    }
    return 0;
}

static int s_fifo_step(dmr_mctx_t *m, uint64_t state, const dmr_lop_t *op,
                       uint64_t *next)
{
    size_t len;
    const char *p = s_blob(m, state, &len);
    size_t n = (len - 1) / 8;
    if (op->f == F_ENQ) {
        m->nscratch = 0;
        s_put(m, p, len);
        s_put_u64(m, op->a);
        *next = s_intern(m, m->scratch, m->nscratch);
        return 1;
    }
    if (n == 0) {
        *next = state;
        return op->out == m->nil || op->out == UINT64_MAX;
    }
    uint64_t head;
    memcpy(&head, p + 1, 8);
    if (op->out != UINT64_MAX && head != op->out)
        return 0;
    m->nscratch = 0;
    s_put(m, "Q", 1);
    s_put(m, p + 9, (n - 1) * 8);
    *next = s_intern(m, m->scratch, m->nscratch);
    return 1;
}

/* ---- multi-register ----------------------------------------------------- */

enum { F_TXN };

static int s_multi_compile(dmr_mctx_t *m, const dmr_history_t *h, size_t i,
                           dmr_lop_t *out, int *drop, char *err, size_t errlen)
{
    const dmr_op_t *op = &h->ops[i];
    const char *f = h->ev[op->inv].f;
    const dmr_val_t *v = dmr_op_value(h, i);
    s_lop_init(h, i, out);
    *drop = op->type == DMR_EV_FAIL;
    if (strcmp(f, "txn"))
        return s_unknown_f(m, h, i, err, errlen, ":txn");
    if (!dmr_val_is_seq(v))
        return s_bad(h, i, err, errlen, "needs a vector of micro-ops", v);
    size_t n = v->u.seq.n, k = 0;
    uint64_t *w = dmr_malloc((3 * n + 1) * 8);
    for (size_t j = 0; j < n; j++) {
        const dmr_val_t *mop = v->u.seq.items[j];
        if (!dmr_val_is_seq(mop) || mop->u.seq.n != 3 ||
            !(dmr_val_is_name(mop->u.seq.items[0], "read") ||
              dmr_val_is_name(mop->u.seq.items[0], "write"))) {
            free(w);
            return s_bad(h, i, err, errlen,
                         "micro-ops must be [:read k v] or [:write k v]", mop);
        }
        int wr = dmr_val_is_name(mop->u.seq.items[0], "write");
        /* A read of nil, or any read of an op that did not complete ok,
         * is unknown: it constrains nothing. */
        if (!wr &&
            (op->type != DMR_EV_OK || mop->u.seq.items[2]->type == DMR_V_NIL))
            continue;
        w[k++] = (uint64_t)wr;
        w[k++] = s_val(m, mop->u.seq.items[1]);
        w[k++] = s_val(m, mop->u.seq.items[2]);
    }
    if (k == 0)
        *drop = 1;
    out->ro = 1;
    for (size_t j = 0; j < k; j += 3)
        if (w[j])
            out->ro = 0;
    out->f = F_TXN;
    out->a = s_words(m, 'T', w, k);
    free(w);
    return 0;
}

static int s_multi_step(dmr_mctx_t *m, uint64_t state, const dmr_lop_t *op,
                        uint64_t *next)
{
    size_t tl, sl;
    const char *t = s_blob(m, op->a, &tl);
    size_t nt = (tl - 1) / 24;
    const char *s0 = s_blob(m, state, &sl);
    size_t np = (sl - 1) / 16;
    /* Work on a private copy: pairs (key, value), nil values absent. */
    uint64_t *pairs = dmr_malloc((np + nt + 1) * 16);
    memcpy(pairs, s0 + 1, np * 16);
    int changed = 0;
    for (size_t j = 0; j < nt; j++) {
        uint64_t kind, key, val;
        memcpy(&kind, t + 1 + 24 * j, 8);
        memcpy(&key, t + 1 + 24 * j + 8, 8);
        memcpy(&val, t + 1 + 24 * j + 16, 8);
        long at = -1;
        for (size_t q = 0; q < np; q++)
            if (pairs[2 * q] == key)
                at = (long)q;
        uint64_t cur = at < 0 ? m->nil : pairs[2 * at + 1];
        if (kind == 0) {
            if (cur != val) {
                free(pairs);
                return 0;
            }
            continue;
        }
        changed = 1;
        if (at >= 0 && val == m->nil) {
            memmove(pairs + 2 * at, pairs + 2 * at + 2,
                    (np - (size_t)at - 1) * 16);
            np--;
        } else if (at >= 0) {
            pairs[2 * at + 1] = val;
        } else if (val != m->nil) {
            /* insert sorted by key id */
            size_t q = 0;
            while (q < np && pairs[2 * q] < key)
                q++;
            memmove(pairs + 2 * q + 2, pairs + 2 * q, (np - q) * 16);
            pairs[2 * q] = key;
            pairs[2 * q + 1] = val;
            np++;
        }
    }
    *next = changed ? s_words(m, 'M', pairs, 2 * np) : state;
    free(pairs);
    return 1;
}

/* ---- the table ------------------------------------------------------------
 */

static const dmr_model_t s_register = {"register", "read, write", 0,
                                       s_register_compile, s_reg_step};
static const dmr_model_t s_cas_register = {
    "cas-register", "read, write, cas [old new]", 0, s_cas_compile, s_reg_step};
static const dmr_model_t s_kv = {"kv",
                                 "a register per :key: get, put, append, cas",
                                 1, s_kv_compile, s_reg_step};
static const dmr_model_t s_mutex = {"mutex", "acquire, release", 0,
                                    s_mutex_compile, s_mutex_step};
static const dmr_model_t s_set = {"set", "add v, read #{...}", 0, s_set_compile,
                                  s_set_step};
static const dmr_model_t s_fifo = {"fifo", "enqueue v, dequeue -> v", 0,
                                   s_fifo_compile, s_fifo_step};
static const dmr_model_t s_multi = {"multi-register",
                                    "txn [[:read k v] [:write k v] ...]", 0,
                                    s_multi_compile, s_multi_step};

const dmr_model_t *const dmr_models[] = {
    &s_register, &s_cas_register, &s_kv,    &s_mutex,
    &s_set,      &s_fifo,         &s_multi, NULL};

const dmr_model_t *dmr_model_find(const char *name)
{
    for (size_t i = 0; dmr_models[i]; i++)
        if (!strcmp(dmr_models[i]->name, name))
            return dmr_models[i];
    return NULL;
}

/* ---- context ---------------------------------------------------------------
 */

dmr_mctx_t *dmr_mctx_new(const dmr_model_t *model, const dmr_val_t *init,
                         char *err, size_t errlen)
{
    dmr_mctx_t *m = dmr_calloc(1, sizeof *m);
    m->model = model;
    dmr_val_t nil = {.type = DMR_V_NIL};
    dmr_val_t empty = {.type = DMR_V_STR, .u.str = {"", 0}};
    m->nil = s_val(m, &nil);
    m->empty_str = s_val(m, &empty);
    m->empty_set = s_words(m, 'S', NULL, 0);
    m->empty_queue = s_words(m, 'Q', NULL, 0);
    m->empty_multi = s_words(m, 'M', NULL, 0);
    if (model == &s_mutex)
        m->init = 0;
    else if (model == &s_set)
        m->init = m->empty_set;
    else if (model == &s_fifo)
        m->init = m->empty_queue;
    else if (model == &s_multi)
        m->init = m->empty_multi;
    else
        m->init = m->nil;
    if (!init)
        return m;
    if (model == &s_register || model == &s_cas_register || model == &s_kv) {
        m->init = s_val(m, init);
    } else if (model == &s_multi && init->type == DMR_V_MAP) {
        size_t np = init->u.seq.n / 2, k = 0;
        uint64_t *pairs = dmr_malloc((np + 1) * 16);
        for (size_t i = 0; i < np; i++) {
            uint64_t key = s_val(m, init->u.seq.items[2 * i]);
            uint64_t val = s_val(m, init->u.seq.items[2 * i + 1]);
            if (val == m->nil)
                continue;
            size_t q = 0;
            while (q < k && pairs[2 * q] < key)
                q++;
            if (q < k && pairs[2 * q] == key) {
                pairs[2 * q + 1] = val;
                continue;
            }
            memmove(pairs + 2 * q + 2, pairs + 2 * q, (k - q) * 16);
            pairs[2 * q] = key;
            pairs[2 * q + 1] = val;
            k++;
        }
        m->init = s_words(m, 'M', pairs, 2 * k);
        free(pairs);
    } else {
        char vb[64];
        if (err && errlen)
            snprintf(err, errlen, "--init %s does not suit model %s%s",
                     dmr_val_format(init, vb, sizeof vb), model->name,
                     model == &s_multi ? " (give a map {k v ...})"
                                       : " (it takes no initial value)");
        dmr_mctx_destroy(&m);
        return NULL;
    }
    return m;
}

void dmr_mctx_destroy(dmr_mctx_t **pm)
{
    dmr_mctx_t *m = pm ? *pm : NULL;
    if (!m)
        return;
    free(m->blobs);
    for (size_t i = 0; i < m->nchunks; i++)
        free(m->chunks[i]);
    free(m->chunks);
    free(m->slots);
    free(m->scratch);
    free(m);
    *pm = NULL;
}

const dmr_model_t *dmr_mctx_model(const dmr_mctx_t *m)
{
    return m->model;
}

uint64_t dmr_mctx_init(dmr_mctx_t *m)
{
    return m->init;
}

char *dmr_mctx_format_state(dmr_mctx_t *m, uint64_t state, char *buf,
                            size_t len)
{
    size_t at = 0;
    if (len)
        buf[0] = 0;
    if (m->model == &s_mutex) {
        snprintf(buf, len, "%s", state ? "held" : "free");
        return buf;
    }
    if (state >= m->nblobs) {
        snprintf(buf, len, "?");
        return buf;
    }
    if (!m->blobs[state].p) {
        /* a rope: rendered from its bytes as a flat string blob */
        char *str = NULL;
        size_t sl = 5, sc = 5;
        str = dmr_malloc(sc);
        s_str_bytes(m, state, &str, &sl, &sc);
        str[0] = 's';
        uint32_t n = (uint32_t)(sl - 5);
        memcpy(str + 1, &n, 4);
        s_render(m, str, sl, buf, len, &at);
        free(str);
        return buf;
    }
    size_t bl;
    const char *b = s_blob(m, state, &bl);
    s_render(m, b, bl, buf, len, &at);
    return buf;
}

size_t dmr_mctx_bytes(const dmr_mctx_t *m)
{
    return m->nbytes + m->capblobs * sizeof(blob_t) +
           m->nslots * sizeof(uint32_t);
}

int dmr_model_compile(dmr_mctx_t *m, const dmr_history_t *h,
                      const uint32_t *idx, size_t nidx, dmr_lop_t **out,
                      size_t *n, char *err, size_t errlen)
{
    size_t count = idx ? nidx : h->nops;
    dmr_lop_t *lops = dmr_malloc((count ? count : 1) * sizeof *lops);
    size_t k = 0;
    for (size_t j = 0; j < count; j++) {
        int drop = 0;
        size_t i = idx ? idx[j] : j;
        int rc = m->model->compile(m, h, i, &lops[k], &drop, err, errlen);
        if (rc) {
            free(lops);
            return rc;
        }
        if (!drop)
            k++;
    }
    *out = lops;
    *n = k;
    return 0;
}

char *dmr_model_part_key(const dmr_history_t *h, size_t i)
{
    const dmr_event_t *e = &h->ev[h->ops[i].inv];
    if (!e->key)
        return dmr_strdup("");
    /* Keys are short: render on the stack, and only a long one through a
     * stream (dmr_val_format would cut it). */
    char small[256];
    dmr_val_format(e->key, small, sizeof small);
    size_t n = strlen(small);
    if (n + 1 < sizeof small - 4)
        return dmr_strdup(small);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return dmr_strdup("");
    dmr_val_print_edn(e->key, f);
    fclose(f);
    return buf;
}
