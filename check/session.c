/* session.c -- session guarantees per process and key (session.h).
 *
 * The work is in three steps: read a history into accesses (one per key
 * an operation reads or writes) with the versions they name and the base
 * order of each key's versions; sort the accesses by process and key; for
 * each (process, key) group and each guarantee, build the constraint
 * graph and look for a cycle. The constraint "every earlier A precedes
 * every later B" would need a quadratic number of edges; it is written
 * with a chain of auxiliary nodes instead (A_i -> X_i, X_{i-1} -> X_i,
 * X_last -> B), so a group costs time linear in its accesses and in the
 * versions its base order passes through. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "check/json.h"
#include "check/session.h"
#include "common/alloc.h"
#include "common/error.h"

#define S_NOPARENT UINT32_MAX    /* a forest version whose parent is unknown */
#define S_NEVER (UINT32_MAX - 1) /* linear keys: an append never read */
#define S_AMBIG (UINT32_MAX - 1) /* a map value: more than one */

enum { S_FOREST, S_LINEAR };
enum { S_KV, S_LA, S_RW }; /* the history's kind */

/* The four guarantees: earlier accesses of role a must precede later ones
 * of role b. */
enum { G_RYW, G_MR, G_MW, G_WFR, G_N };
static const struct {
    const char *name;
    uint8_t a, b;
} s_g[G_N] = {
    {"read-your-writes", DMR_SESSION_WRITE, DMR_SESSION_READ},
    {"monotonic-reads", DMR_SESSION_READ, DMR_SESSION_READ},
    {"monotonic-writes", DMR_SESSION_WRITE, DMR_SESSION_WRITE},
    {"writes-follow-reads", DMR_SESSION_READ, DMR_SESSION_WRITE},
};

/* ------------------------------------------------------------ small maps */

static uint64_t s_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static uint64_t s_bytes_hash(uint64_t seed, const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return s_mix(h);
}

/* An open-addressing map from 64-bit keys to 32-bit values. */
typedef struct {
    uint64_t *k;
    uint32_t *v;
    uint8_t *used;
    size_t cap, n; /* cap: a power of two */
} s_map_t;

static void s_map_init(s_map_t *m, size_t want)
{
    size_t cap = 16;
    while (cap < 2 * want)
        cap *= 2;
    m->k = dmr_malloc(cap * sizeof *m->k);
    m->v = dmr_malloc(cap * sizeof *m->v);
    m->used = dmr_calloc(cap, 1);
    m->cap = cap;
    m->n = 0;
}

static void s_map_free(s_map_t *m)
{
    free(m->k);
    free(m->v);
    free(m->used);
    memset(m, 0, sizeof *m);
}

static void s_map_clear(s_map_t *m)
{
    if (m->n)
        memset(m->used, 0, m->cap);
    m->n = 0;
}

/* The slot of key k: where it is, or where it would go. */
static size_t s_map_slot(const s_map_t *m, uint64_t k)
{
    size_t mask = m->cap - 1, i = s_mix(k) & mask;
    while (m->used[i] && m->k[i] != k)
        i = (i + 1) & mask;
    return i;
}

static uint32_t *s_map_get(const s_map_t *m, uint64_t k)
{
    size_t i = s_map_slot(m, k);
    return m->used[i] ? &m->v[i] : NULL;
}

/* The value of k, inserting v first if k is absent (*fresh set then). */
static uint32_t *s_map_put(s_map_t *m, uint64_t k, uint32_t v, int *fresh)
{
    size_t i = s_map_slot(m, k);
    if (m->used[i]) {
        if (fresh)
            *fresh = 0;
        return &m->v[i];
    }
    if (2 * (m->n + 1) > m->cap) {
        s_map_t big;
        s_map_init(&big, m->cap);
        for (size_t j = 0; j < m->cap; j++)
            if (m->used[j])
                *s_map_put(&big, m->k[j], m->v[j], NULL) = m->v[j];
        s_map_free(m);
        *m = big;
        i = s_map_slot(m, k);
    }
    m->used[i] = 1;
    m->k[i] = k;
    m->v[i] = v;
    m->n++;
    if (fresh)
        *fresh = 1;
    return &m->v[i];
}

/* A hash of v that agrees with dmr_val_equal: keywords hash as strings,
 * lists as vectors, sets and maps regardless of order. */
static uint64_t s_val_hash(const dmr_val_t *v)
{
    uint64_t h;
    switch (v->type) {
    case DMR_V_NIL: return 0x9e3779b97f4a7c15ull;
    case DMR_V_BOOL: return s_mix(0x100 + (uint64_t)v->u.b);
    case DMR_V_INT: return s_mix((uint64_t)v->u.i ^ 0x5555ull);
    case DMR_V_STR:
    case DMR_V_KW: return s_bytes_hash('S', v->u.str.s, v->u.str.len);
    case DMR_V_SYM: return s_bytes_hash('Y', v->u.str.s, v->u.str.len);
    case DMR_V_VEC:
    case DMR_V_LIST:
        h = 0x1234;
        for (size_t i = 0; i < v->u.seq.n; i++)
            h = s_mix(h * 31 + s_val_hash(v->u.seq.items[i]));
        return h;
    default: /* sets and maps: order does not matter */
        h = v->type == DMR_V_SET ? 0x777 : 0x999;
        for (size_t i = 0; i < v->u.seq.n; i++)
            h += s_val_hash(v->u.seq.items[i]) *
                 (v->type == DMR_V_MAP && i % 2 ? 3 : 1);
        return s_mix(h);
    }
}

/* ------------------------------------------------ key/value value tables */

/* The values written to keys: (key, kind, value) -> the writes of it, as
 * a list through next[]. kind 0: a written value (write, put, cas);
 * kind 1: an appended string. */
typedef struct {
    uint64_t h;
    uint32_t key;
    uint8_t kind;
    const dmr_val_t *v;
    uint32_t head; /* first write op (newest first), UINT32_MAX none */
    uint32_t n;
} s_vent_t;

typedef struct {
    s_vent_t *e;
    uint8_t *used;
    size_t cap, n;
} s_vtab_t;

static uint64_t s_vkey(uint32_t key, int kind, uint64_t vh)
{
    return s_mix(vh ^ ((uint64_t)key << 1 | (uint64_t)kind) * 0x9e37ull);
}

static int s_vmatch(const s_vent_t *e, uint64_t h, uint32_t key, int kind,
                    const dmr_val_t *v, const char *s, size_t n)
{
    if (e->h != h || e->key != key || e->kind != kind)
        return 0;
    if (v)
        return dmr_val_equal(e->v, v);
    return (e->v->type == DMR_V_STR || e->v->type == DMR_V_KW) &&
           e->v->u.str.len == n && !memcmp(e->v->u.str.s, s, n);
}

/* The entry for v (or for the string s[0..n) when v is NULL); NULL when
 * absent, unless add (then a new one for v). */
static s_vent_t *s_vtab_find(s_vtab_t *t, uint32_t key, int kind,
                             const dmr_val_t *v, const char *s, size_t n,
                             int add)
{
    uint64_t vh = v ? s_val_hash(v) : s_bytes_hash('S', s, n);
    uint64_t h = s_vkey(key, kind, vh);
    if (add && 2 * (t->n + 1) > t->cap) {
        s_vtab_t big = {0};
        big.cap = t->cap ? 2 * t->cap : 1024;
        big.e = dmr_malloc(big.cap * sizeof *big.e);
        big.used = dmr_calloc(big.cap, 1);
        for (size_t j = 0; j < t->cap; j++) {
            if (!t->used[j])
                continue;
            size_t i = t->e[j].h & (big.cap - 1);
            while (big.used[i])
                i = (i + 1) & (big.cap - 1);
            big.used[i] = 1;
            big.e[i] = t->e[j];
        }
        big.n = t->n;
        free(t->e);
        free(t->used);
        *t = big;
    }
    if (!t->cap)
        return NULL;
    size_t mask = t->cap - 1, i = h & mask;
    for (; t->used[i]; i = (i + 1) & mask)
        if (s_vmatch(&t->e[i], h, key, kind, v, s, n))
            return &t->e[i];
    if (!add)
        return NULL;
    t->used[i] = 1;
    t->e[i] = (s_vent_t){h, key, (uint8_t)kind, v, UINT32_MAX, 0};
    t->n++;
    return &t->e[i];
}

/* -------------------------------------------------------------- context */

struct dmr_session_kv {
    int kind;                 /* S_KV, S_LA, S_RW */
    const dmr_history_t *h;   /* S_KV */
    const dmr_txn_hist_t *th; /* S_LA, S_RW */
    dmr_session_acc_t *acc;
    size_t nacc, capacc;
    uint32_t *mop; /* txn: the micro-op of each access */
    uint32_t *cands;
    size_t ncands, capcands;
    size_t nkeys;
    uint8_t *mode;    /* per key: S_FOREST or S_LINEAR */
    char **keytext;   /* S_KV: per key */
    uint32_t *lmop;   /* S_LA: per key, the longest read's mop */
    uint32_t *parent; /* forest: per version, its parent */
    uint8_t *bad;     /* forest: per version, not identifiable */
    size_t nver;
    int64_t *procid; /* per dense process */
    size_t nproc;
    size_t unknown; /* accesses whose version is not known */
};

static uint32_t s_acc_add(dmr_session_kv_t *c, const dmr_session_acc_t *a,
                          uint32_t mop)
{
    if (c->nacc == c->capacc) {
        c->capacc = c->capacc ? 2 * c->capacc : 1024;
        c->acc = dmr_realloc(c->acc, c->capacc * sizeof *c->acc);
        c->mop = dmr_realloc(c->mop, c->capacc * sizeof *c->mop);
    }
    c->acc[c->nacc] = *a;
    c->mop[c->nacc] = mop;
    return (uint32_t)c->nacc++;
}

static void s_cand_add(dmr_session_kv_t *c, uint32_t v)
{
    if (c->ncands == c->capcands) {
        c->capcands = c->capcands ? 2 * c->capcands : 1024;
        c->cands = dmr_realloc(c->cands, c->capcands * sizeof *c->cands);
    }
    c->cands[c->ncands++] = v;
}

static uint32_t s_proc(dmr_session_kv_t *c, s_map_t *procs, int64_t p,
                       int unique)
{
    int fresh = 1;
    uint32_t *id =
        unique ? NULL
               : s_map_put(procs, (uint64_t)p, (uint32_t)c->nproc, &fresh);
    if (!fresh)
        return *id;
    c->procid = dmr_realloc(c->procid, (c->nproc + 1) * sizeof *c->procid);
    c->procid[c->nproc] = p;
    return (uint32_t)c->nproc++;
}

void dmr_session_kv_destroy(dmr_session_kv_t **pkv)
{
    dmr_session_kv_t *c = *pkv;
    if (!c)
        return;
    if (c->keytext)
        for (size_t k = 0; k < c->nkeys; k++)
            free(c->keytext[k]);
    free(c->keytext);
    free(c->acc);
    free(c->mop);
    free(c->cands);
    free(c->mode);
    free(c->lmop);
    free(c->parent);
    free(c->bad);
    free(c->procid);
    free(c);
    *pkv = NULL;
}

const dmr_session_acc_t *dmr_session_kv_accesses(const dmr_session_kv_t *kv,
                                                 size_t *n)
{
    *n = kv->nacc;
    return kv->acc;
}

const uint32_t *dmr_session_kv_cands(const dmr_session_kv_t *kv,
                                     const dmr_session_acc_t *a, size_t *n)
{
    *n = a->ncand;
    return kv->cands + a->cand;
}

size_t dmr_session_kv_nkeys(const dmr_session_kv_t *kv)
{
    return kv->nkeys;
}

const char *dmr_session_kv_key_text(const dmr_session_kv_t *kv, uint32_t k)
{
    if (kv->kind != S_KV)
        return dmr_txn_key_text(kv->th, k);
    return k < kv->nkeys ? kv->keytext[k] : "";
}

/* ------------------------------------------- key/value: reading accesses */

/* Per key of a kv history, while reading: the distinct lengths of its
 * put strings and of its appended strings, to take reads apart. */
typedef struct {
    uint32_t *len[2];
    size_t n[2], cap[2];
    int appends;
} s_klens_t;

static void s_klen_add(s_klens_t *k, int kind, size_t len)
{
    for (size_t i = 0; i < k->n[kind]; i++)
        if (k->len[kind][i] == len)
            return;
    if (k->n[kind] == k->cap[kind]) {
        k->cap[kind] = k->cap[kind] ? 2 * k->cap[kind] : 4;
        k->len[kind] =
            dmr_realloc(k->len[kind], k->cap[kind] * sizeof *k->len[kind]);
    }
    k->len[kind][k->n[kind]++] = (uint32_t)len;
}

static int s_is_text(const dmr_val_t *v)
{
    return v->type == DMR_V_STR || v->type == DMR_V_KW;
}

static int s_kv_bad(const dmr_history_t *h, size_t i, char *err, size_t errlen,
                    const char *why)
{
    char vb[96];
    const dmr_op_t *op = &h->ops[i];
    const dmr_event_t *e = &h->ev[op->inv];
    snprintf(err, errlen, "%s:%u: %s %s, found %s", h->name, e->line, e->f, why,
             dmr_val_format(e->value, vb, sizeof vb));
    return DMR_EINVAL;
}

/* Parses s[0..n) of key k from root r (r < kl->n[0]: the r-th put
 * length; else the initial "") into the chain of versions it passes
 * through. Returns the chain's length, 0 if s does not come apart from
 * there in exactly one way, or -1 if the root is ambiguous. */
static int s_parse(s_vtab_t *vt, s_klens_t *kl, uint32_t key, const char *s,
                   size_t n, size_t r, uint32_t **chain, size_t *capchain)
{
    uint32_t root = DMR_SESSION_INITIAL;
    size_t pos = 0, m = 0;
    if (r < kl->n[0]) {
        size_t pl = kl->len[0][r];
        if (pl > n)
            return 0;
        s_vent_t *e = s_vtab_find(vt, key, 0, NULL, s, pl, 0);
        if (!e)
            return 0;
        if (e->n != 1)
            return -1;
        root = 1 + e->head;
        pos = pl;
    }
    if (*capchain < 1) {
        *capchain = 64;
        *chain = dmr_realloc(*chain, *capchain * sizeof **chain);
    }
    (*chain)[m++] = root;
    while (pos < n) {
        s_vent_t *hit = NULL;
        size_t hl = 0;
        int many = 0;
        for (size_t j = 0; j < kl->n[1]; j++) {
            size_t al = kl->len[1][j];
            if (!al || al > n - pos)
                continue;
            s_vent_t *e = s_vtab_find(vt, key, 1, NULL, s + pos, al, 0);
            if (!e)
                continue;
            many |= hit != NULL || e->n != 1;
            hit = e;
            hl = al;
        }
        if (!hit || many)
            return 0;
        if (m == *capchain) {
            *capchain *= 2;
            *chain = dmr_realloc(*chain, *capchain * sizeof **chain);
        }
        (*chain)[m++] = 1 + hit->head;
        pos += hl;
    }
    return (int)m;
}

/* The version the string s[0..n) of key k is, as the put it starts from
 * (or "") and the appends after it, when it comes apart in exactly one
 * way; DMR_SESSION_UNKNOWN otherwise. Records the appends' parents: a
 * version given two different parents is marked bad. */
static uint32_t s_decode(dmr_session_kv_t *c, s_vtab_t *vt, s_klens_t *kl,
                         uint32_t key, const char *s, size_t n,
                         uint32_t **chain, size_t *capchain)
{
    size_t nfound = 0, root = 0;
    for (size_t r = 0; r <= kl->n[0]; r++) {
        int m = s_parse(vt, kl, key, s, n, r, chain, capchain);
        if (m < 0)
            return DMR_SESSION_UNKNOWN;
        if (m > 0) {
            nfound++;
            root = r;
        }
    }
    if (nfound != 1)
        return DMR_SESSION_UNKNOWN;
    int m = s_parse(vt, kl, key, s, n, root, chain, capchain);
    for (int j = 1; j < m; j++) {
        uint32_t v = (*chain)[j], p = (*chain)[j - 1];
        if (c->parent[v] == S_NOPARENT)
            c->parent[v] = p;
        else if (c->parent[v] != p)
            c->bad[v] = 1;
    }
    return (*chain)[m - 1];
}

/* The candidate versions of value v read from key k; adds them to cands
 * and returns the one if there is exactly one. */
static uint32_t s_identify(dmr_session_kv_t *c, s_vtab_t *vt, s_klens_t *kl,
                           uint32_t key, const dmr_val_t *v, uint32_t *cand,
                           uint32_t *ncand, uint32_t **chain, size_t *capchain)
{
    *cand = (uint32_t)c->ncands;
    *ncand = 0;
    if (kl[key].appends) {
        uint32_t ver = DMR_SESSION_UNKNOWN;
        if (v->type == DMR_V_NIL)
            ver = s_decode(c, vt, &kl[key], key, "", 0, chain, capchain);
        else if (s_is_text(v))
            ver = s_decode(c, vt, &kl[key], key, v->u.str.s, v->u.str.len,
                           chain, capchain);
        if (ver != DMR_SESSION_UNKNOWN) {
            s_cand_add(c, ver);
            *ncand = 1;
        }
        return ver;
    }
    s_vent_t *e = s_vtab_find(vt, key, 0, v, NULL, 0, 0);
    if (v->type == DMR_V_NIL)
        s_cand_add(c, DMR_SESSION_INITIAL);
    for (uint32_t w = e ? e->head : UINT32_MAX; w != UINT32_MAX;
         w = c->parent[1 + w] /* reused as the list link while reading */)
        s_cand_add(c, 1 + w);
    *ncand = (uint32_t)(c->ncands - *cand);
    return *ncand == 1 ? c->cands[*cand] : DMR_SESSION_UNKNOWN;
}

/* What op i of h does to its key: 'r' read, 'w' write, 'a' append, 'c' a
 * cas that took effect, 'W' a cas that may have (info), 0 nothing. */
static int s_kv_what(const dmr_history_t *h, size_t i, char *err, size_t errlen,
                     int *what)
{
    const dmr_op_t *op = &h->ops[i];
    const dmr_event_t *inv = &h->ev[op->inv];
    const char *f = inv->f;
    *what = 0;
    if (op->type == DMR_EV_FAIL)
        return 0;
    if (!strcmp(f, "read") || !strcmp(f, "get")) {
        *what = op->type == DMR_EV_OK ? 'r' : 0;
    } else if (!strcmp(f, "write") || !strcmp(f, "put")) {
        *what = 'w';
    } else if (!strcmp(f, "append")) {
        if (!s_is_text(inv->value))
            return s_kv_bad(h, i, err, errlen, "needs a string");
        *what = 'a';
    } else if (!strcmp(f, "cas")) {
        const dmr_val_t *v = inv->value;
        if (!dmr_val_is_seq(v) || v->u.seq.n != 2)
            return s_kv_bad(h, i, err, errlen, "needs [old new]");
        int res = op->ret != UINT32_MAX ? h->ev[op->ret].result : -1;
        if (op->type == DMR_EV_OK)
            *what = res == 0 ? 0 : 'c';
        else
            *what = 'W';
    }
    return 0;
}

/* The key text of event e, for messages. */
static char *s_key_text(const dmr_val_t *k)
{
    char kb[256];
    return dmr_strdup(k ? dmr_val_format(k, kb, sizeof kb) : "");
}

int dmr_session_kv_open(const dmr_history_t *h, dmr_session_kv_t **out,
                        char *err, size_t errlen)
{
    dmr_session_kv_t *c = dmr_calloc(1, sizeof *c);
    s_vtab_t vt = {0};
    s_map_t keys, procs;
    s_klens_t *kl = NULL;
    uint8_t *what = dmr_malloc(h->nops + 1);
    uint32_t *opkey = dmr_malloc((h->nops + 1) * sizeof *opkey);
    uint32_t *chain = NULL;
    size_t capchain = 0, capkeys = 0;
    int rc = 0;
    s_map_init(&keys, 64);
    s_map_init(&procs, 64);
    c->kind = S_KV;
    c->h = h;
    c->nver = h->nops + 1;
    c->parent = dmr_malloc(c->nver * sizeof *c->parent);
    c->bad = dmr_calloc(c->nver, 1);
    for (size_t v = 0; v < c->nver; v++)
        c->parent[v] = S_NOPARENT;
    /* Pass 1: keys, what each op does, the values written. While reading,
     * parent[1 + w] links the writes of one value (newest first). */
    for (size_t i = 0; i < h->nops; i++) {
        int w;
        if ((rc = s_kv_what(h, i, err, errlen, &w)))
            goto out;
        what[i] = (uint8_t)w;
        opkey[i] = UINT32_MAX;
        if (!w)
            continue;
        const dmr_event_t *inv = &h->ev[h->ops[i].inv];
        /* Keys by structure: a hash, then equality against the text. */
        char *kt = s_key_text(inv->key);
        uint64_t kh = s_bytes_hash('K', kt, strlen(kt));
        uint32_t *id;
        int fresh;
        for (;;) {
            id = s_map_put(&keys, kh, (uint32_t)c->nkeys, &fresh);
            if (fresh || !strcmp(c->keytext[*id], kt))
                break;
            kh = s_mix(kh + 1); /* a collision of texts: probe on */
        }
        if (fresh) {
            if (c->nkeys == capkeys) {
                capkeys = capkeys ? 2 * capkeys : 16;
                c->keytext =
                    dmr_realloc(c->keytext, capkeys * sizeof *c->keytext);
                kl = dmr_realloc(kl, capkeys * sizeof *kl);
            }
            c->keytext[c->nkeys] = kt;
            memset(&kl[c->nkeys], 0, sizeof *kl);
            c->nkeys++;
        } else {
            free(kt);
        }
        uint32_t key = *id;
        opkey[i] = key;
        if (w == 'r')
            continue;
        const dmr_val_t *v =
            w == 'c' || w == 'W' ? inv->value->u.seq.items[1] : inv->value;
        int kind = w == 'a';
        s_vent_t *e = s_vtab_find(&vt, key, kind, v, NULL, 0, 1);
        c->parent[1 + i] = e->head;
        e->head = (uint32_t)i;
        e->n++;
        if (kind)
            kl[key].appends = 1;
        if (s_is_text(v))
            s_klen_add(&kl[key], kind, v->u.str.len);
    }
    /* Pass 2: the accesses, with the candidates for what reads saw. The
     * write lists are consumed as candidates first, then parent[] is
     * reset for the base order. */
    for (size_t i = 0; i < h->nops; i++) {
        if (!what[i])
            continue;
        const dmr_op_t *op = &h->ops[i];
        const dmr_event_t *inv = &h->ev[op->inv];
        dmr_session_acc_t a = {.op = (uint32_t)i,
                               .proc = s_proc(c, &procs, inv->process, 0),
                               .key = opkey[i],
                               .ok = op->type == DMR_EV_OK};
        if (what[i] == 'r' || what[i] == 'c') {
            a.role = DMR_SESSION_READ;
            a.ok = 1;
            a.ver = DMR_SESSION_UNKNOWN; /* known after pass 3 */
            if (what[i] == 'r') {
                a.cand = (uint32_t)c->ncands; /* filled in pass 3 */
                a.ncand = 0;
            }
            s_acc_add(c, &a, UINT32_MAX);
        }
        if (what[i] != 'r') {
            a.role = DMR_SESSION_WRITE;
            a.ok = what[i] != 'W' && op->type == DMR_EV_OK;
            a.cand = a.ncand = 0;
            a.ver = 1 + (uint32_t)i;
            s_acc_add(c, &a, UINT32_MAX);
        }
    }
    /* Pass 3: identify what each read (and each cas's old value) saw. The
     * candidates of all reads are found while parent[] still links the
     * writes of a value; decoding strings (append keys) writes parents,
     * so those keys are done after the links are dropped. */
    for (int round = 0; round < 2; round++) {
        if (round == 1)
            for (size_t v = 0; v < c->nver; v++)
                c->parent[v] = S_NOPARENT;
        for (size_t j = 0; j < c->nacc; j++) {
            dmr_session_acc_t *a = &c->acc[j];
            if (a->role != DMR_SESSION_READ || kl[a->key].appends != round)
                continue;
            const dmr_op_t *op = &h->ops[a->op];
            const dmr_val_t *v =
                what[a->op] == 'c'
                    ? h->ev[op->inv].value->u.seq.items[0]
                    : h->ev[op->ret != UINT32_MAX ? op->ret : op->inv].value;
            a->ver = s_identify(c, &vt, kl, a->key, v, &a->cand, &a->ncand,
                                &chain, &capchain);
        }
    }
    /* The base order: a cas follows the version it read (register keys:
     * their parents were not set by decoding). Writes of a value written
     * twice, and versions whose place came out twice, are not known. */
    for (size_t j = 0; j < c->nacc; j++) {
        dmr_session_acc_t *a = &c->acc[j];
        if (a->role == DMR_SESSION_READ && what[a->op] == 'c' &&
            j + 1 < c->nacc && a->ver != DMR_SESSION_UNKNOWN) {
            uint32_t w = c->acc[j + 1].ver;
            if (c->parent[w] == S_NOPARENT)
                c->parent[w] = a->ver;
            else if (c->parent[w] != a->ver)
                c->bad[w] = 1;
        }
    }
    for (size_t j = 0; j < c->nacc; j++) {
        dmr_session_acc_t *a = &c->acc[j];
        if (a->role == DMR_SESSION_WRITE) {
            const dmr_op_t *op = &h->ops[a->op];
            const dmr_val_t *v = h->ev[op->inv].value;
            if (what[a->op] == 'c' || what[a->op] == 'W')
                v = v->u.seq.items[1];
            s_vent_t *e =
                s_vtab_find(&vt, a->key, what[a->op] == 'a', v, NULL, 0, 0);
            if (!e || e->n != 1)
                a->ver = DMR_SESSION_UNKNOWN;
        }
        if (a->ver != DMR_SESSION_UNKNOWN && c->bad[a->ver])
            a->ver = DMR_SESSION_UNKNOWN;
        c->unknown += a->ver == DMR_SESSION_UNKNOWN;
    }
    for (size_t v = 0; v < c->nver; v++)
        if (c->bad[v])
            c->parent[v] = S_NOPARENT;
    c->mode = dmr_calloc(c->nkeys + 1, 1); /* all S_FOREST */
out:
    for (size_t k = 0; kl && k < c->nkeys; k++) {
        free(kl[k].len[0]);
        free(kl[k].len[1]);
    }
    free(kl);
    free(vt.e);
    free(vt.used);
    s_map_free(&keys);
    s_map_free(&procs);
    free(what);
    free(opkey);
    free(chain);
    if (rc) {
        dmr_session_kv_destroy(&c);
        return rc;
    }
    *out = c;
    return 0;
}

/* --------------------------------------------- transactions: accesses */

static uint64_t s_ek(uint32_t key, dmr_txn_elem_t e)
{
    return s_mix((uint64_t)e * 0x9e3779b97f4a7c15ull + key);
}

/* The accesses of a transaction history: ok transactions only; a read
 * counts if it is external (before the transaction writes the key). */
static void s_txn_open(dmr_session_kv_t *c, const dmr_txn_hist_t *th)
{
    int la = th->workload == DMR_TXN_LIST_APPEND;
    s_map_t procs, writer, rank;
    s_map_init(&procs, 64);
    s_map_init(&writer, th->nmop);
    s_map_init(&rank, la ? th->nelem : 16);
    c->kind = la ? S_LA : S_RW;
    c->th = th;
    c->nkeys = th->nkey;
    c->mode = dmr_malloc(c->nkeys + 1);
    memset(c->mode, la ? S_LINEAR : S_FOREST, c->nkeys + 1);
    c->nver = th->nmop + 1;
    c->parent = dmr_malloc(c->nver * sizeof *c->parent);
    c->bad = dmr_calloc(c->nver, 1);
    for (size_t v = 0; v < c->nver; v++)
        c->parent[v] = S_NOPARENT;
    if (la) {
        c->lmop = dmr_malloc((c->nkeys + 1) * sizeof *c->lmop);
        for (size_t k = 0; k < c->nkeys; k++)
            c->lmop[k] = UINT32_MAX;
    }
    /* Who wrote what (a value written twice: S_AMBIG), and for
     * list-append each key's longest read. */
    for (size_t m = 0; m < th->nmop; m++) {
        const dmr_mop_t *mo = &th->mops[m];
        if (mo->f != DMR_MOP_READ) {
            int fresh;
            uint32_t *w =
                s_map_put(&writer, s_ek(mo->key, mo->v), (uint32_t)m, &fresh);
            if (!fresh)
                *w = S_AMBIG;
        } else if (la && mo->known && th->txns[mo->txn].status == DMR_TXN_OK &&
                   (c->lmop[mo->key] == UINT32_MAX ||
                    mo->n > th->mops[c->lmop[mo->key]].n)) {
            c->lmop[mo->key] = (uint32_t)m;
        }
    }
    if (la)
        for (size_t k = 0; k < c->nkeys; k++) {
            if (c->lmop[k] == UINT32_MAX)
                continue;
            const dmr_mop_t *L = &th->mops[c->lmop[k]];
            for (uint32_t i = 0; i < L->n; i++) {
                int fresh;
                uint32_t *r =
                    s_map_put(&rank, s_ek((uint32_t)k, th->elems[L->off + i]),
                              i + 1, &fresh);
                if (!fresh)
                    *r = S_AMBIG;
            }
        }
    for (size_t t = 0; t < th->ntxn; t++) {
        const dmr_txn_t *tx = &th->txns[t];
        if (tx->status != DMR_TXN_OK)
            continue;
        uint32_t proc = s_proc(c, &procs, tx->process, tx->process < 0);
        for (uint32_t j = 0; j < tx->nmop; j++) {
            uint32_t m = tx->mop + j;
            const dmr_mop_t *mo = &th->mops[m];
            /* Earlier micro-ops of this transaction on the key. */
            int wrote = 0, last = -1; /* last: index of the previous one */
            for (uint32_t q = 0; q < j; q++)
                if (th->mops[tx->mop + q].key == mo->key) {
                    wrote |= th->mops[tx->mop + q].f != DMR_MOP_READ;
                    last = (int)q;
                }
            dmr_session_acc_t a = {.op = (uint32_t)t,
                                   .proc = proc,
                                   .key = mo->key,
                                   .ok = 1,
                                   .ver = DMR_SESSION_UNKNOWN};
            if (mo->f == DMR_MOP_READ) {
                if (wrote || !mo->known)
                    continue;
                a.role = DMR_SESSION_READ;
                if (la) {
                    const dmr_mop_t *L = &th->mops[c->lmop[mo->key]];
                    if (mo->n <= L->n &&
                        !memcmp(&th->elems[mo->off], &th->elems[L->off],
                                mo->n * sizeof *th->elems))
                        a.ver = mo->n;
                } else if (mo->v == DMR_TXN_NIL) {
                    a.ver = DMR_SESSION_INITIAL;
                } else {
                    uint32_t *w = s_map_get(&writer, s_ek(mo->key, mo->v));
                    if (w && *w != S_AMBIG)
                        a.ver = 1 + *w;
                }
            } else {
                a.role = DMR_SESSION_WRITE;
                uint32_t *w = s_map_get(&writer, s_ek(mo->key, mo->v));
                if (*w != S_AMBIG) {
                    uint32_t *r =
                        la ? s_map_get(&rank, s_ek(mo->key, mo->v)) : NULL;
                    a.ver = !la ? 1 + m : !r ? S_NEVER : *r;
                    if (la && r && *r == S_AMBIG)
                        a.ver = DMR_SESSION_UNKNOWN;
                }
                /* rw-register: the write follows what the transaction
                 * read or wrote of the key just before. */
                if (!la && last >= 0 && a.ver != DMR_SESSION_UNKNOWN) {
                    const dmr_mop_t *pm = &th->mops[tx->mop + (uint32_t)last];
                    uint32_t pv = DMR_SESSION_UNKNOWN;
                    if (pm->f != DMR_MOP_READ) {
                        uint32_t *pw = s_map_get(&writer, s_ek(pm->key, pm->v));
                        pv = *pw != S_AMBIG ? 1 + tx->mop + (uint32_t)last
                                            : DMR_SESSION_UNKNOWN;
                    } else if (pm->known && pm->v == DMR_TXN_NIL) {
                        pv = DMR_SESSION_INITIAL;
                    } else if (pm->known) {
                        uint32_t *pw = s_map_get(&writer, s_ek(pm->key, pm->v));
                        if (pw && *pw != S_AMBIG)
                            pv = 1 + *pw;
                    }
                    if (pv != DMR_SESSION_UNKNOWN)
                        c->parent[a.ver] = pv;
                }
            }
            c->unknown += a.ver == DMR_SESSION_UNKNOWN;
            s_acc_add(c, &a, m);
        }
    }
    s_map_free(&procs);
    s_map_free(&writer);
    s_map_free(&rank);
}

/* ------------------------------------------------------ the constraints */

enum { E_BASE, E_ENTER, E_CHAIN, E_EXIT, E_DIRECT };

typedef struct {
    uint32_t from, to;
    uint32_t a, b; /* accesses: ENTER a, EXIT b, DIRECT both */
    uint8_t type;
} s_edge_t;

/* One step of a witness: the process accessed a before b (session), or
 * version vfrom precedes vto in the base order. */
typedef struct {
    uint8_t session;
    uint32_t a, b;
    uint32_t vfrom, vto;
} s_step_t;

typedef struct {
    int g;
    uint32_t proc, key;
    s_step_t *steps;
    size_t nsteps;
} s_wit_t;

/* The graph of one group and guarantee; its arrays are reused. */
typedef struct {
    s_map_t vmap;  /* version -> node */
    s_map_t first; /* version -> first position among the A accesses */
    uint32_t *ver; /* node -> version (UINT32_MAX: an auxiliary node) */
    size_t nnode, capnode;
    s_edge_t *e;
    size_t ne, cape;
    uint32_t *alist; /* the A accesses so far, and their auxiliary nodes */
    uint32_t *aux;
    uint32_t *run; /* the first A position of the run of equal versions
                      that position i ends */
    size_t na, capa;
    /* the search */
    uint32_t *off, *adj, *color, *in, *stk, *pos;
    size_t capsearch, capadj;
} s_graph_t;

static uint32_t s_node(s_graph_t *G, uint32_t ver)
{
    int fresh = 0;
    uint32_t *id = ver == UINT32_MAX
                       ? NULL
                       : s_map_put(&G->vmap, ver, (uint32_t)G->nnode, &fresh);
    if (id && !fresh)
        return *id;
    if (G->nnode == G->capnode) {
        G->capnode = G->capnode ? 2 * G->capnode : 256;
        G->ver = dmr_realloc(G->ver, G->capnode * sizeof *G->ver);
    }
    G->ver[G->nnode] = ver;
    return (uint32_t)G->nnode++;
}

static void s_edge(s_graph_t *G, uint32_t from, uint32_t to, int type,
                   uint32_t a, uint32_t b)
{
    if (G->ne == G->cape) {
        G->cape = G->cape ? 2 * G->cape : 256;
        G->e = dmr_realloc(G->e, G->cape * sizeof *G->e);
    }
    G->e[G->ne++] = (s_edge_t){from, to, a, b, (uint8_t)type};
}

static int s_u32_cmp(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

/* Adds the base order over the versions in the graph. */
static void s_base(const dmr_session_kv_t *c, s_graph_t *G, uint32_t key)
{
    size_t nv = G->nnode;
    if (c->mode[key] == S_LINEAR) {
        uint32_t *vs = dmr_malloc((nv + 1) * sizeof *vs);
        size_t n = 0;
        for (size_t i = 0; i < nv; i++)
            if (G->ver[i] != UINT32_MAX)
                vs[n++] = G->ver[i];
        qsort(vs, n, sizeof *vs, s_u32_cmp);
        for (size_t i = 1; i < n; i++)
            s_edge(G, s_node(G, vs[i - 1]), s_node(G, vs[i]), E_BASE, 0, 0);
        free(vs);
        return;
    }
    /* Forest: each version after its parent (the initial version if the
     * parent is unknown); nodes added here are walked in turn. */
    for (size_t i = 0; i < G->nnode; i++) {
        uint32_t v = G->ver[i];
        if (v == UINT32_MAX || v == DMR_SESSION_INITIAL)
            continue;
        uint32_t p =
            c->parent[v] == S_NOPARENT ? DMR_SESSION_INITIAL : c->parent[v];
        s_edge(G, s_node(G, p), (uint32_t)i, E_BASE, 0, 0);
    }
}

/* Finds a cycle; returns its length (edge indices in order into *cyc,
 * which the graph owns) or 0. */
static size_t s_cycle(s_graph_t *G, uint32_t **cyc)
{
    size_t n = G->nnode, m = G->ne;
    if (n + 1 > G->capsearch) {
        G->capsearch = 2 * n + 1;
        G->off = dmr_realloc(G->off, (G->capsearch + 1) * sizeof *G->off);
        G->color = dmr_realloc(G->color, G->capsearch * sizeof *G->color);
        G->in = dmr_realloc(G->in, G->capsearch * sizeof *G->in);
        G->stk = dmr_realloc(G->stk, G->capsearch * sizeof *G->stk);
        G->pos = dmr_realloc(G->pos, G->capsearch * sizeof *G->pos);
    }
    if (m + 1 > G->capadj) {
        G->capadj = 2 * m + 1;
        G->adj = dmr_realloc(G->adj, G->capadj * sizeof *G->adj);
    }
    memset(G->off, 0, (n + 1) * sizeof *G->off);
    for (size_t i = 0; i < m; i++)
        G->off[G->e[i].from + 1]++;
    for (size_t i = 0; i < n; i++)
        G->off[i + 1] += G->off[i];
    for (size_t i = 0; i < n; i++)
        G->pos[i] = G->off[i];
    for (size_t i = 0; i < m; i++)
        G->adj[G->pos[G->e[i].from]++] = (uint32_t)i;
    memset(G->color, 0, n * sizeof *G->color);
    for (size_t s = 0; s < n; s++) {
        if (G->color[s])
            continue;
        size_t sp = 0;
        G->stk[sp++] = (uint32_t)s;
        G->pos[s] = G->off[s];
        G->color[s] = 1;
        while (sp) {
            uint32_t u = G->stk[sp - 1];
            if (G->pos[u] == G->off[u + 1]) {
                G->color[u] = 2;
                sp--;
                continue;
            }
            uint32_t ei = G->adj[G->pos[u]++], w = G->e[ei].to;
            if (G->color[w] == 1) {
                /* The cycle: w .. u along in[], then ei. */
                size_t len = 1;
                for (uint32_t x = u; x != w; x = G->e[G->in[x]].from)
                    len++;
                uint32_t *out = G->stk; /* the stack is done with */
                size_t k = len;
                out[--k] = ei;
                for (uint32_t x = u; x != w; x = G->e[G->in[x]].from)
                    out[--k] = G->in[x];
                *cyc = out;
                return len;
            }
            if (!G->color[w]) {
                G->color[w] = 1;
                G->in[w] = ei;
                G->pos[w] = G->off[w];
                G->stk[sp++] = w;
            }
        }
    }
    return 0;
}

static void s_graph_free(s_graph_t *G)
{
    s_map_free(&G->vmap);
    s_map_free(&G->first);
    free(G->ver);
    free(G->e);
    free(G->alist);
    free(G->aux);
    free(G->run);
    free(G->off);
    free(G->adj);
    free(G->color);
    free(G->in);
    free(G->stk);
    free(G->pos);
}

/* Does access a take part in guarantee g as role r? */
static int s_plays(const dmr_session_acc_t *a, int role)
{
    return a->ver != DMR_SESSION_UNKNOWN && a->role == role &&
           (role == DMR_SESSION_READ || a->ok);
}

/* Edges one group's graph may have; past it the group is not checked. */
#define S_EDGE_BUDGET 8000000

/* The direct violations first, for their shorter witness: a B access
 * whose version strictly precedes, in the base order, that of an earlier
 * A. Returns the A and sets *b, or UINT32_MAX. Linear keys: the A of the
 * highest rank so far; forest keys: the strict ancestors of the A
 * versions so far, each marked with the first A that reached it. */
static uint32_t s_direct(const dmr_session_kv_t *c, s_graph_t *G, int g,
                         const uint32_t *ix, size_t n, uint32_t *b)
{
    const dmr_session_acc_t *acc = c->acc;
    int lin = c->mode[acc[ix[0]].key] == S_LINEAR;
    uint32_t best = UINT32_MAX; /* linear: the A of the highest rank */
    s_map_clear(&G->vmap);
    for (size_t i = 0; i < n; i++) {
        const dmr_session_acc_t *x = &acc[ix[i]];
        if (s_plays(x, s_g[g].b)) {
            if (lin && best != UINT32_MAX && x->ver < acc[best].ver) {
                *b = ix[i];
                return best;
            }
            uint32_t *m = lin ? NULL : s_map_get(&G->vmap, x->ver);
            if (m) {
                *b = ix[i];
                return *m;
            }
        }
        if (!s_plays(x, s_g[g].a))
            continue;
        if (lin) {
            if (best == UINT32_MAX || x->ver > acc[best].ver)
                best = ix[i];
            continue;
        }
        for (uint32_t v = x->ver; v != DMR_SESSION_INITIAL;) {
            v = c->parent[v] == S_NOPARENT ? DMR_SESSION_INITIAL : c->parent[v];
            int fresh;
            s_map_put(&G->vmap, v, ix[i], &fresh);
            if (!fresh)
                break;
        }
    }
    return UINT32_MAX;
}

/* Checks guarantee g over the group's accesses acc[ix[0..n)]; returns 1
 * and *w if it is certainly violated, 0 if not, -1 if the group is too
 * big to check (past S_EDGE_BUDGET). */
static int s_group(const dmr_session_kv_t *c, s_graph_t *G, int g,
                   const uint32_t *ix, size_t n, s_wit_t *w)
{
    const dmr_session_acc_t *acc = c->acc;
    int ra = s_g[g].a, rb = s_g[g].b, any = 0;
    uint32_t da, db;
    if ((da = s_direct(c, G, g, ix, n, &db)) != UINT32_MAX) {
        s_step_t *st = dmr_malloc(2 * sizeof *st);
        st[0] = (s_step_t){1, da, db, 0, 0};
        st[1] = (s_step_t){0, 0, 0, acc[db].ver, acc[da].ver};
        *w = (s_wit_t){g, acc[ix[0]].proc, acc[ix[0]].key, st, 2};
        return 1;
    }
    s_map_clear(&G->vmap);
    s_map_clear(&G->first);
    G->nnode = G->ne = G->na = 0;
    for (size_t i = 0; i < n; i++) {
        const dmr_session_acc_t *x = &acc[ix[i]];
        if (s_plays(x, rb) && G->na) {
            uint32_t bn = s_node(G, x->ver);
            uint32_t *t = s_map_get(&G->first, x->ver);
            if (!t) {
                s_edge(G, G->aux[G->na - 1], bn, E_EXIT, 0, ix[i]);
                any = 1;
            } else {
                if (*t > 0) {
                    s_edge(G, G->aux[*t - 1], bn, E_EXIT, 0, ix[i]);
                    any = 1;
                }
                /* From each A after the first of this version, except
                 * those of this version (skipped a run at a time). */
                for (size_t p = G->na - 1; p > *t;) {
                    if (acc[G->alist[p]].ver == x->ver) {
                        p = G->run[p] ? G->run[p] - 1 : 0;
                        continue;
                    }
                    s_edge(G, s_node(G, acc[G->alist[p]].ver), bn, E_DIRECT,
                           G->alist[p], ix[i]);
                    any = 1;
                    p--;
                }
                if (G->ne > S_EDGE_BUDGET)
                    return -1;
            }
        }
        if (s_plays(x, ra)) {
            if (G->na == G->capa) {
                G->capa = G->capa ? 2 * G->capa : 256;
                G->alist = dmr_realloc(G->alist, G->capa * sizeof *G->alist);
                G->aux = dmr_realloc(G->aux, G->capa * sizeof *G->aux);
                G->run = dmr_realloc(G->run, G->capa * sizeof *G->run);
            }
            uint32_t xn = s_node(G, UINT32_MAX);
            s_edge(G, s_node(G, x->ver), xn, E_ENTER, ix[i], 0);
            if (G->na)
                s_edge(G, G->aux[G->na - 1], xn, E_CHAIN, 0, 0);
            G->alist[G->na] = ix[i];
            G->aux[G->na] = xn;
            G->run[G->na] = G->na && acc[G->alist[G->na - 1]].ver == x->ver
                                ? G->run[G->na - 1]
                                : (uint32_t)G->na;
            s_map_put(&G->first, x->ver, (uint32_t)G->na, NULL);
            G->na++;
        }
    }
    if (!any)
        return 0;
    s_base(c, G, acc[ix[0]].key);
    uint32_t *cyc;
    size_t len = s_cycle(G, &cyc);
    if (!len)
        return 0;
    /* Start at an edge that begins a session step. */
    size_t s0 = 0;
    while (s0 < len && G->e[cyc[s0]].type != E_ENTER &&
           G->e[cyc[s0]].type != E_DIRECT)
        s0++;
    s_step_t *st = dmr_malloc(len * sizeof *st);
    size_t ns = 0;
    uint32_t pend = 0;
    for (size_t k = 0; k < len; k++) {
        const s_edge_t *e = &G->e[cyc[(s0 + k) % len]];
        switch (e->type) {
        case E_ENTER: pend = e->a; break;
        case E_EXIT: st[ns++] = (s_step_t){1, pend, e->b, 0, 0}; break;
        case E_DIRECT: st[ns++] = (s_step_t){1, e->a, e->b, 0, 0}; break;
        case E_BASE:
            if (ns && !st[ns - 1].session)
                st[ns - 1].vto = G->ver[e->to];
            else
                st[ns++] = (s_step_t){0, 0, 0, G->ver[e->from], G->ver[e->to]};
            break;
        default: break;
        }
    }
    *w = (s_wit_t){g, acc[ix[0]].proc, acc[ix[0]].key, st, ns};
    return 1;
}

/* ------------------------------------------------------------ the check */

typedef struct {
    s_wit_t *w[G_N]; /* the witnesses kept, per guarantee */
    size_t nw[G_N];
    size_t count[G_N]; /* (process, key) groups that violate it */
    size_t unchecked;  /* groups past the edge budget */
    size_t reads, writes;
    double us;
} s_result_t;

typedef struct {
    uint64_t pk; /* process << 32 | key */
    uint32_t i;
} s_sortkey_t;

static int s_sortkey_cmp(const void *x, const void *y)
{
    const s_sortkey_t *a = x, *b = y;
    if (a->pk != b->pk)
        return a->pk < b->pk ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i;
}

static void s_check(const dmr_session_kv_t *c, size_t max, s_result_t *r)
{
    s_sortkey_t *sk = dmr_malloc((c->nacc + 1) * sizeof *sk);
    uint32_t *ix = dmr_malloc((c->nacc + 1) * sizeof *ix);
    s_graph_t G = {0};
    s_map_init(&G.vmap, 256);
    s_map_init(&G.first, 256);
    for (size_t i = 0; i < c->nacc; i++) {
        sk[i] = (s_sortkey_t){(uint64_t)c->acc[i].proc << 32 | c->acc[i].key,
                              (uint32_t)i};
        r->reads += c->acc[i].role == DMR_SESSION_READ;
        r->writes += c->acc[i].role == DMR_SESSION_WRITE;
    }
    qsort(sk, c->nacc, sizeof *sk, s_sortkey_cmp);
    for (size_t i = 0; i < c->nacc;) {
        size_t j = i, n = 0;
        for (; j < c->nacc && sk[j].pk == sk[i].pk; j++)
            if (c->acc[sk[j].i].ver != DMR_SESSION_UNKNOWN)
                ix[n++] = sk[j].i;
        i = j;
        if (n < 2)
            continue;
        for (int g = 0; g < G_N; g++) {
            s_wit_t w;
            int v = s_group(c, &G, g, ix, n, &w);
            if (v < 0) {
                r->unchecked++;
                break;
            }
            if (!v)
                continue;
            r->count[g]++;
            if (r->nw[g] < max) {
                r->w[g] =
                    dmr_realloc(r->w[g], (r->nw[g] + 1) * sizeof *r->w[g]);
                r->w[g][r->nw[g]++] = w;
            } else {
                free(w.steps);
            }
        }
    }
    s_graph_free(&G);
    free(sk);
    free(ix);
}

static void s_result_free(s_result_t *r)
{
    for (int g = 0; g < G_N; g++) {
        for (size_t i = 0; i < r->nw[g]; i++)
            free(r->w[g][i].steps);
        free(r->w[g]);
    }
}

/* ------------------------------------------------------------ reporting */

static const dmr_event_t *s_kv_ret(const dmr_history_t *h, uint32_t op)
{
    const dmr_op_t *o = &h->ops[op];
    return &h->ev[o->ret != UINT32_MAX ? o->ret : o->inv];
}

/* The line of the access's completion (its invocation if it has none). */
static uint32_t s_line(const dmr_session_kv_t *c, const dmr_session_acc_t *a)
{
    return c->kind == S_KV ? s_kv_ret(c->h, a->op)->line
                           : c->th->txns[a->op].line;
}

static const char *s_verb(const dmr_session_kv_t *c, const dmr_session_acc_t *a)
{
    if (a->role == DMR_SESSION_READ)
        return "read";
    if (c->kind == S_LA ||
        (c->kind == S_KV &&
         !strcmp(c->h->ev[c->h->ops[a->op].inv].f, "append")))
        return "appended";
    return "wrote";
}

static void s_print_val(const dmr_val_t *v, FILE *out)
{
    char vb[128];
    fputs(dmr_val_format(v, vb, sizeof vb), out);
}

static void s_print_list(const dmr_txn_hist_t *th, uint64_t off, uint32_t n,
                         FILE *out)
{
    char vb[96];
    fputc('[', out);
    for (uint32_t i = 0; i < n; i++) {
        if (i == 12 && n > 16) {
            fprintf(out, " ... %u more ... ", n - 15);
            i = n - 3;
        }
        fprintf(out, "%s%s", i && !(i == n - 3 && n > 16) ? " " : "",
                dmr_txn_elem_text(th, th->elems[off + i], vb, sizeof vb));
    }
    fputc(']', out);
}

/* What the access read or wrote, as EDN. */
static void s_print_acc(const dmr_session_kv_t *c, const dmr_session_acc_t *a,
                        FILE *out)
{
    char vb[96];
    if (c->kind != S_KV) {
        const dmr_mop_t *mo = &c->th->mops[c->mop[a - c->acc]];
        if (c->kind == S_LA && a->role == DMR_SESSION_READ)
            s_print_list(c->th, mo->off, mo->n, out);
        else
            fputs(dmr_txn_elem_text(c->th, mo->v, vb, sizeof vb), out);
        return;
    }
    const dmr_history_t *h = c->h;
    const dmr_event_t *inv = &h->ev[h->ops[a->op].inv];
    if (!strcmp(inv->f, "cas"))
        s_print_val(inv->value->u.seq.items[a->role == DMR_SESSION_WRITE], out);
    else if (a->role == DMR_SESSION_READ)
        s_print_val(s_kv_ret(h, a->op)->value, out);
    else
        s_print_val(inv->value, out);
}

/* A version of key k, in words. */
static void s_print_ver(const dmr_session_kv_t *c, uint32_t k, uint32_t v,
                        FILE *out)
{
    char vb[96];
    if (c->mode[k] == S_LINEAR) {
        if (v == S_NEVER) {
            fputs("a version no read shows", out);
        } else {
            const dmr_mop_t *L = &c->th->mops[c->lmop[k]];
            s_print_list(c->th, L->off, v, out);
        }
    } else if (v == DMR_SESSION_INITIAL) {
        fputs("the initial nil", out);
    } else if (c->kind == S_RW) {
        fputs(dmr_txn_elem_text(c->th, c->th->mops[v - 1].v, vb, sizeof vb),
              out);
    } else {
        const dmr_event_t *inv = &c->h->ev[c->h->ops[v - 1].inv];
        const dmr_val_t *val = inv->value;
        if (!strcmp(inv->f, "cas"))
            val = val->u.seq.items[1];
        fprintf(out, "%s",
                !strcmp(inv->f, "append") ? "the version that "
                                            "appends "
                                          : "");
        s_print_val(val, out);
        fprintf(out, " (line %u)", s_kv_ret(c->h, v - 1)->line);
    }
}

static void s_print_proc(const dmr_session_kv_t *c, uint32_t p, FILE *out)
{
    if (c->procid[p] >= 0)
        fprintf(out, "%" PRId64, c->procid[p]);
    else
        fputs("?", out);
}

/* The witness in one sentence (no final period). */
static void s_explain(const dmr_session_kv_t *c, const s_wit_t *w, FILE *out)
{
    const char *k = dmr_session_kv_key_text(c, w->key);
    fputs("process ", out);
    s_print_proc(c, w->proc, out);
    if (w->nsteps == 2 && w->steps[0].session && !w->steps[1].session) {
        const dmr_session_acc_t *a = &c->acc[w->steps[0].a];
        const dmr_session_acc_t *b = &c->acc[w->steps[0].b];
        const char *va = s_verb(c, a), *vb = s_verb(c, b);
        int lin = c->mode[w->key] == S_LINEAR;
        fprintf(out, " %s ", va);
        if (!strcmp(va, "appended")) {
            s_print_acc(c, a, out);
            fprintf(out, " to key %s", k);
        } else {
            fprintf(out, "key %s = ", k);
            s_print_acc(c, a, out);
        }
        fprintf(out, " at line %u, then ", s_line(c, a));
        if (strcmp(va, vb))
            fprintf(out, "%s ", vb);
        s_print_acc(c, b, out);
        fprintf(out, " at line %u, ", s_line(c, b));
        switch (w->g) {
        case G_MR: fputs("an older version", out); break;
        case G_RYW:
            fputs(lin ? "which does not include that append"
                      : "a version older than that write",
                  out);
            break;
        case G_MW:
            if (lin && a->ver == S_NEVER)
                fputs("but reads of the key show the second and never the "
                      "first",
                      out);
            else
                fputs("but the key's version order puts the second first", out);
            break;
        default: fputs("but that write precedes the version it read", out);
        }
        fprintf(out, ": %s", s_g[w->g].name);
        return;
    }
    /* From the earliest access, in a chain while steps join up. */
    size_t s0 = 0;
    for (size_t i = 1; i < w->nsteps; i++)
        if (w->steps[i].session &&
            (!w->steps[s0].session || w->steps[i].a < w->steps[s0].a))
            s0 = i;
    if (*k)
        fprintf(out, ", key %s", k);
    fputs(": ", out); /* a register has no key */
    for (size_t j = 0; j < w->nsteps; j++) {
        size_t i = (s0 + j) % w->nsteps, ip = (i + w->nsteps - 1) % w->nsteps;
        const s_step_t *s = &w->steps[i];
        if (s->session) {
            const dmr_session_acc_t *a = &c->acc[s->a], *b = &c->acc[s->b];
            if (!j || !w->steps[ip].session || w->steps[ip].b != s->a) {
                fprintf(out, "%s%s ", j ? "; " : "", s_verb(c, a));
                s_print_acc(c, a, out);
                fprintf(out, " at line %u", s_line(c, a));
            }
            fprintf(out, ", then %s ", s_verb(c, b));
            s_print_acc(c, b, out);
            fprintf(out, " at line %u", s_line(c, b));
        } else {
            if (j)
                fputs("; ", out);
            s_print_ver(c, w->key, s->vfrom, out);
            fputs(" precedes ", out);
            s_print_ver(c, w->key, s->vto, out);
        }
    }
    fprintf(out, ": no order of the key's versions allows this: %s",
            s_g[w->g].name);
}

static void s_json_str(const char *s, FILE *out)
{
    dmr_json_str(s, out);
}


static void s_json_acc(const dmr_session_kv_t *c, uint32_t ai, FILE *out)
{
    const dmr_session_acc_t *a = &c->acc[ai];
    uint32_t invline;
    int64_t index;
    const char *f;
    if (c->kind == S_KV) {
        invline = c->h->ev[c->h->ops[a->op].inv].line;
        index = s_kv_ret(c->h, a->op)->index;
        f = c->h->ev[c->h->ops[a->op].inv].f;
    } else {
        invline = c->th->txns[a->op].invline;
        index = c->th->txns[a->op].index;
        f = "txn";
    }
    fprintf(out,
            "{\"line\":%u,\"inv_line\":%u,\"index\":%" PRId64 ",\"process\":",
            s_line(c, a), invline, index);
    if (c->procid[a->proc] >= 0)
        fprintf(out, "%" PRId64, c->procid[a->proc]);
    else
        fputs("null", out);
    fputs(",\"f\":", out);
    s_json_str(f, out);
    fprintf(out, ",\"role\":\"%s\",\"value\":",
            a->role == DMR_SESSION_READ ? "read" : "write");
    DMR_JSON_TEXT(out, s_print_acc(c, a, mf));
    fputc('}', out);
}

static const char *s_kind_name(int kind)
{
    return kind == S_KV ? "kv" : kind == S_LA ? "list-append" : "rw-register";
}

static void s_print_json(const dmr_session_kv_t *c, const char *name,
                         const s_result_t *r, FILE *out)
{
    int valid = 1;
    for (int g = 0; g < G_N; g++)
        valid &= !r->count[g];
    fputs("{\"file\":", out);
    s_json_str(name, out);
    fprintf(out, ",\"history\":\"%s\",\"valid\":%s,\"anomaly_types\":[",
            s_kind_name(c->kind), valid ? "true" : "false");
    int first = 1;
    for (int g = 0; g < G_N; g++)
        if (r->count[g]) {
            fprintf(out, "%s\"%s\"", first ? "" : ",", s_g[g].name);
            first = 0;
        }
    fputs("],\"anomalies\":{", out);
    first = 1;
    for (int g = 0; g < G_N; g++) {
        if (!r->count[g])
            continue;
        fprintf(out, "%s\"%s\":[", first ? "" : ",", s_g[g].name);
        first = 0;
        for (size_t i = 0; i < r->nw[g]; i++) {
            const s_wit_t *w = &r->w[g][i];
            fprintf(out, "%s{\"process\":", i ? "," : "");
            if (c->procid[w->proc] >= 0)
                fprintf(out, "%" PRId64, c->procid[w->proc]);
            else
                fputs("null", out);
            fputs(",\"key\":", out);
            s_json_str(dmr_session_kv_key_text(c, w->key), out);
            fputs(",\"ops\":[", out);
            /* The accesses the steps name, each once, in the steps' order. */
            int f2 = 1;
            for (size_t s = 0; s < w->nsteps; s++) {
                if (!w->steps[s].session)
                    continue;
                uint32_t ab[2] = {w->steps[s].a, w->steps[s].b};
                for (int q = 0; q < 2; q++) {
                    int seen = 0;
                    for (size_t t = 0; t <= s && !seen; t++)
                        seen = w->steps[t].session &&
                               ((t < s && (w->steps[t].a == ab[q] ||
                                           w->steps[t].b == ab[q])) ||
                                (t == s && q == 1 && ab[0] == ab[1]));
                    if (seen)
                        continue;
                    if (!f2)
                        fputc(',', out);
                    f2 = 0;
                    s_json_acc(c, ab[q], out);
                }
            }
            fputs("],\"explanation\":", out);
            DMR_JSON_TEXT(out, s_explain(c, w, mf));
            fputc('}', out);
        }
        fputc(']', out);
    }
    fputs("},\"counts\":{", out);
    first = 1;
    for (int g = 0; g < G_N; g++)
        if (r->count[g]) {
            fprintf(out, "%s\"%s\":%zu", first ? "" : ",", s_g[g].name,
                    r->count[g]);
            first = 0;
        }
    fprintf(out,
            "},\"processes\":%zu,\"keys\":%zu,\"reads\":%zu,\"writes\":%zu,"
            "\"unknown\":%zu,\"unchecked\":%zu,\"us\":%.0f}\n",
            c->nproc, c->nkeys, r->reads, r->writes, c->unknown, r->unchecked,
            r->us);
}

static void s_print_text(const dmr_session_kv_t *c, const char *name,
                         const s_result_t *r, size_t max, FILE *out)
{
    int valid = 1;
    for (int g = 0; g < G_N; g++)
        valid &= !r->count[g];
    fprintf(out, "%s: %s", name, valid ? "session guarantees hold" : "NOT ");
    int first = 1;
    for (int g = 0; g < G_N; g++)
        if (r->count[g]) {
            fprintf(out, "%s%s", first ? "" : ", ", s_g[g].name);
            first = 0;
        }
    fprintf(out,
            "\n  %s history: %zu processes, %zu keys, %zu reads, %zu writes "
            "(%zu of unknown version)",
            s_kind_name(c->kind), c->nproc, c->nkeys, r->reads, r->writes,
            c->unknown);
    if (r->unchecked)
        fprintf(out, "; %zu (process, key) pairs too big to check",
                r->unchecked);
    fputc('\n', out);
    for (int g = 0; g < G_N; g++) {
        if (!r->count[g])
            continue;
        fprintf(out, "  %s: %zu (process, key) pair%s\n", s_g[g].name,
                r->count[g], r->count[g] == 1 ? "" : "s");
        for (size_t i = 0; i < r->nw[g]; i++) {
            fputs("    - ", out);
            s_explain(c, &r->w[g][i], out);
            fputs(".\n", out);
        }
        if (r->count[g] > r->nw[g] && r->nw[g] == max)
            fprintf(out, "    ... %zu more\n", r->count[g] - r->nw[g]);
    }
}

/* ------------------------------------------------------------- the API */

static double s_now_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec * 1e6 + tv.tv_usec;
}

static int s_mentions(const char *buf, size_t len, const char *a, const char *b)
{
    return memmem(buf, len, a, strlen(a)) || memmem(buf, len, b, strlen(b));
}

int dmr_session_report_buf(const char *name, const char *buf, size_t len,
                           const char *format, int json, size_t max_witnesses,
                           FILE *out, char *err, size_t errlen)
{
    dmr_history_t *h = NULL;
    dmr_txn_hist_t *th = NULL;
    dmr_session_kv_t *c = NULL;
    s_result_t r = {0};
    int rc;
    double t0 = s_now_us();
    if (!max_witnesses)
        max_witnesses = 8;
    if (s_mentions(buf, len, ":txn", "\"txn\"") ||
        s_mentions(buf, len, "[:append ", "[\"append\",")) {
        dmr_txn_workload_t w = s_mentions(buf, len, ":append", "\"append\"")
                                   ? DMR_TXN_LIST_APPEND
                                   : DMR_TXN_RW_REGISTER;
        if (dmr_txn_hist_parse(name, buf, len, format, w, &th, err, errlen))
            return 2;
        c = dmr_calloc(1, sizeof *c);
        s_txn_open(c, th);
    } else {
        if (dmr_history_parse(name, buf, len, format, &h, err, errlen))
            return 2;
        if ((rc = dmr_session_kv_open(h, &c, err, errlen))) {
            dmr_history_destroy(&h);
            return 2;
        }
    }
    s_check(c, max_witnesses, &r);
    r.us = s_now_us() - t0;
    if (json)
        s_print_json(c, name, &r, out);
    else
        s_print_text(c, name, &r, max_witnesses, out);
    int bad = 0;
    for (int g = 0; g < G_N; g++)
        bad |= r.count[g] != 0;
    s_result_free(&r);
    dmr_session_kv_destroy(&c);
    dmr_txn_hist_destroy(&th);
    dmr_history_destroy(&h);
    return bad;
}

int dmr_session_report(const char *path, const char *format, int json,
                       size_t max_witnesses, FILE *out, char *err,
                       size_t errlen)
{
    int is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "<stdin>" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (!f) {
        snprintf(err, errlen, "%s: cannot read: %s", name, strerror(errno));
        return 2;
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
    int bad = ferror(f);
    if (bad)
        snprintf(err, errlen, "%s: cannot read: %s", name, strerror(errno));
    if (!is_stdin)
        fclose(f);
    int rc = bad ? 2
                 : dmr_session_report_buf(name, buf, len, format, json,
                                          max_witnesses, out, err, errlen);
    free(buf);
    return rc;
}
