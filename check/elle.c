/* elle.c -- transactional anomalies: per-key inference, the dependency
 * graph, cycle search and the lattice of consistency models (see elle.h).
 *
 * Layout of the work:
 *   1. mops are grouped by key (a stable counting sort);
 *   2. each key's group is analysed on its own (s_key_append,
 *      s_key_register): it adds edges and non-cyclic anomalies;
 *   3. process and real-time edges are added, edges sorted and made
 *      unique, and laid out by source (CSR);
 *   4. Tarjan's algorithm finds the strongly connected components; each
 *      with two or more transactions is searched for cycles (s_scc). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/elle.h"
#include "check/html.h"
#include "check/json.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

/* ------------------------------------------------------------ the lattice */

/* Anomalies, and which others each is a special case of. */
static const char *const s_anoms[] = {
    "G0", "G0-process", "G0-realtime", "G1a", "G1b", "G1c", "G1c-process",
    "G1c-realtime", "G1", "G1-process", "G1-realtime", "G-single",
    "G-single-process", "G-single-realtime", "G-nonadjacent",
    "G-nonadjacent-process", "G-nonadjacent-realtime", "G2-item",
    "G2-item-process", "G2-item-realtime", "G2", "G2-process", "G2-realtime",
    "G-SIb", "G-SI", "incompatible-order", "future-read", "dirty-update",
    "lost-update", "write-skew", "internal", "duplicate-elements",
    "cyclic-versions", "G-cursor", "G-monotonic", "G-MSR", "G-update", NULL};
enum {
    A_G0, A_G0P, A_G0R, A_G1A, A_G1B, A_G1C, A_G1CP, A_G1CR, A_G1, A_G1P,
    A_G1R, A_GS, A_GSP, A_GSR, A_GN, A_GNP, A_GNR, A_G2I, A_G2IP, A_G2IR,
    A_G2, A_G2P, A_G2R, A_GSIB, A_GSI, A_INCOMPAT, A_FUTURE, A_DIRTY,
    A_LOST, A_SKEW, A_INTERNAL, A_DUP, A_CYCVER, A_GCUR, A_GMON, A_GMSR,
    A_GUPD, A_N
};

/* a is a special case of b: a history with a has b. After Adya and
 * Elle's elle.consistency-model. */
static const uint8_t s_anom_implies[][2] = {
    {A_G0, A_G1C},     {A_G0, A_G0P},     {A_G0P, A_G1CP},  {A_G0P, A_G0R},
    {A_G0R, A_G1CR},   {A_G1A, A_G1},     {A_G1B, A_G1},    {A_G1C, A_G1},
    {A_G1C, A_G1CP},   {A_G1CP, A_G1CR},  {A_G1CP, A_G1P},  {A_G1CR, A_G1R},
    {A_G1, A_G1P},     {A_G1P, A_G1R},    {A_GS, A_GN},     {A_GS, A_GSIB},
    {A_GS, A_GSP},     {A_GSP, A_GNP},    {A_GSP, A_GSR},   {A_GSR, A_GNR},
    {A_GN, A_G2},      {A_GN, A_GNP},     {A_GNP, A_G2P},   {A_GNP, A_GNR},
    {A_GNR, A_G2R},    {A_G2, A_G2P},     {A_G2I, A_G2},    {A_G2I, A_G2IP},
    {A_G2IP, A_G2P},   {A_G2IP, A_G2IR},  {A_G2IR, A_G2R},  {A_G2P, A_G2R},
    {A_GSIB, A_GSI},   {A_INCOMPAT, A_G1A}, {A_FUTURE, A_G1C},
    {A_DIRTY, A_G1A},  {A_LOST, A_SKEW},  {A_LOST, A_G2I},  {A_SKEW, A_G2},
};

static const char *const s_models[] = {
    "read-uncommitted", "read-committed", "cursor-stability",
    "monotonic-atomic-view", "read-atomic", "repeatable-read",
    "snapshot-isolation", "serializable", "strict-serializable",
    "strong-session-serializable", "strong-session-snapshot-isolation",
    "strong-snapshot-isolation", "consistent-view", "forward-consistent-view",
    "monotonic-view", "monotonic-snapshot-read", "update-serializable",
    "parallel-snapshot-isolation", "prefix", "causal-cerone", "ROLA",
    "strong-session-read-uncommitted", "strong-session-read-committed",
    "strong-read-uncommitted", "strong-read-committed", NULL};
enum {
    M_RU, M_RC, M_CS, M_MAV, M_RA, M_RR, M_SI, M_SER, M_SSER, M_SSSER,
    M_SSSI, M_SSI, M_CV, M_FCV, M_MV, M_MSR, M_USER, M_PSI, M_PREFIX,
    M_CAUSAL, M_ROLA, M_SSRU, M_SSRC, M_SRU, M_SRC, M_N
};
/* Adya's names for the same models. */
static const struct {
    const char *alias;
    uint8_t m;
} s_model_alias[] = {
    {"PL-1", M_RU},  {"PL-2", M_RC},   {"PL-CS", M_CS},  {"PL-2.99", M_RR},
    {"PL-SI", M_SI}, {"PL-3", M_SER},  {"PL-SS", M_SSER},
    {"strong-serializable", M_SSER},   {"conflict-serializable", M_SER},
    {"PL-2+", M_CV}, {"PL-FCV", M_FCV}, {"PL-2L", M_MV}, {"PL-MSR", M_MSR},
    {"PL-3U", M_USER},
};

/* a -> b: a history that satisfies a satisfies b. */
static const uint8_t s_model_implies[][2] = {
    {M_CAUSAL, M_RA},  {M_CV, M_CS},      {M_CV, M_MV},     {M_CS, M_RC},
    {M_FCV, M_CV},     {M_RC, M_RU},      {M_SER, M_RR},    {M_SER, M_USER},
    {M_SER, M_SI},     {M_USER, M_FCV},   {M_MAV, M_RC},    {M_MV, M_RC},
    {M_MSR, M_RC},     {M_PSI, M_CAUSAL}, {M_PSI, M_ROLA},  {M_PREFIX, M_CAUSAL},
    {M_RA, M_MAV},     {M_RR, M_CS},      {M_RR, M_MAV},    {M_ROLA, M_RA},
    {M_SI, M_FCV},     {M_SI, M_MAV},     {M_SI, M_MSR},    {M_SI, M_PSI},
    {M_SI, M_PREFIX},  {M_SSER, M_SER},   {M_SSER, M_SI},   {M_SSER, M_SSI},
    {M_SSER, M_SSSER}, {M_SSRU, M_RU},    {M_SSRC, M_RC},   {M_SSRC, M_SSRU},
    {M_SRU, M_SSRU},   {M_SRC, M_SSRC},   {M_SRC, M_SRU},   {M_SSSER, M_SER},
    {M_SSSER, M_SSSI}, {M_SSSI, M_SI},    {M_SSSI, M_SSRC}, {M_SSI, M_SSSI},
    {M_SSI, M_SRC},
};

/* What each model forbids on its own (the rest through the models it
 * implies). */
static const uint8_t s_model_forbids[][2] = {
    {M_CAUSAL, A_INTERNAL}, {M_CAUSAL, A_G1A}, {M_CS, A_G1},
    {M_CS, A_GCUR},         {M_CS, A_LOST},    {M_MV, A_G1},
    {M_MV, A_GMON},         {M_MSR, A_G1},     {M_MSR, A_GMSR},
    {M_CV, A_G1},           {M_CV, A_GS},      {M_FCV, A_G1},
    {M_FCV, A_GSIB},        {M_PSI, A_INTERNAL}, {M_PSI, A_G1A},
    {M_SER, A_G1},          {M_SER, A_G2},     {M_SER, A_INTERNAL},
    {M_RC, A_G1},           {M_RU, A_G0},      {M_RU, A_DUP},
    {M_RU, A_CYCVER},       {M_PREFIX, A_INTERNAL}, {M_PREFIX, A_G1A},
    {M_SI, A_INTERNAL},     {M_SI, A_G1},      {M_SI, A_GSI},
    {M_SI, A_GN},           {M_RA, A_INTERNAL}, {M_RA, A_G1A},
    {M_RA, A_FUTURE},       {M_RR, A_G1},      {M_RR, A_G2I},
    {M_RR, A_LOST},         {M_ROLA, A_LOST},  {M_SSER, A_G1},
    {M_SSER, A_G1CR},       {M_SSER, A_G2R},   {M_SSRU, A_G0P},
    {M_SSRC, A_G1CP},       {M_SRU, A_G0R},    {M_SRC, A_G1CR},
    {M_SSSI, A_INTERNAL},   {M_SSSI, A_G1P},   {M_SSSI, A_GNP},
    {M_SSI, A_INTERNAL},    {M_SSI, A_G1R},    {M_SSI, A_GNR},
    {M_SSSER, A_G1P},       {M_SSSER, A_G2P},  {M_USER, A_G1},
    {M_USER, A_GUPD},
};

#define NELEM(a) (sizeof(a) / sizeof *(a))

static struct {
    int ready;
    uint64_t a_out[A_N], a_in[A_N];  /* anomalies a implies / implying a */
    uint64_t m_down[M_N], m_up[M_N]; /* models m implies / implying m */
    uint64_t m_forbids[M_N];         /* directly */
} s_lat;

/* Reflexive transitive closure of pairs over n items, both directions. */
static void s_closure(const uint8_t (*pairs)[2], size_t np, size_t n,
                      uint64_t *out, uint64_t *in)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[i] = (uint64_t)1 << i;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t k = 0; k < np; k++) {
            uint64_t o = out[pairs[k][0]] | out[pairs[k][1]];
            if (o != out[pairs[k][0]]) {
                out[pairs[k][0]] = o;
                changed = 1;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (out[i] >> j & 1)
                in[j] |= (uint64_t)1 << i;
}

static void s_lattice(void)
{
    if (s_lat.ready)
        return;
    s_closure(s_anom_implies, NELEM(s_anom_implies), A_N, s_lat.a_out,
              s_lat.a_in);
    s_closure(s_model_implies, NELEM(s_model_implies), M_N, s_lat.m_down,
              s_lat.m_up);
    for (size_t k = 0; k < NELEM(s_model_forbids); k++)
        s_lat.m_forbids[s_model_forbids[k][0]] |= (uint64_t)1
                                                  << s_model_forbids[k][1];
    s_lat.ready = 1;
}

/* Every anomaly that cannot be present if all models in ms hold. */
static uint64_t s_forbidden(uint64_t ms)
{
    uint64_t down = 0, direct = 0, all = 0;
    for (size_t m = 0; m < M_N; m++)
        if (ms >> m & 1)
            down |= s_lat.m_down[m];
    for (size_t m = 0; m < M_N; m++)
        if (down >> m & 1)
            direct |= s_lat.m_forbids[m];
    for (size_t a = 0; a < A_N; a++)
        if (direct >> a & 1)
            all |= s_lat.a_in[a];
    return all;
}

/* The models that cannot hold given anomalies as. */
static uint64_t s_impossible(uint64_t as)
{
    uint64_t implied = 0, direct = 0, all = 0;
    for (size_t a = 0; a < A_N; a++)
        if (as >> a & 1)
            implied |= s_lat.a_out[a];
    for (size_t m = 0; m < M_N; m++)
        if (s_lat.m_forbids[m] & implied)
            direct |= (uint64_t)1 << m;
    for (size_t m = 0; m < M_N; m++)
        if (direct >> m & 1)
            all |= s_lat.m_up[m];
    return all;
}

/* The models of ms that imply no other model of ms. */
static uint64_t s_weakest(uint64_t ms)
{
    uint64_t w = 0;
    for (size_t m = 0; m < M_N; m++)
        if ((ms >> m & 1) && (s_lat.m_down[m] & ms) == ((uint64_t)1 << m))
            w |= (uint64_t)1 << m;
    return w;
}

const char *dmr_elle_model_name(size_t i)
{
    return i < M_N ? s_models[i] : NULL;
}

const char *dmr_elle_anomaly_name(size_t i)
{
    return i < A_N ? s_anoms[i] : NULL;
}

int dmr_elle_model_find(const char *s, size_t *bit)
{
    for (size_t i = 0; i < M_N; i++)
        if (!strcmp(s, s_models[i])) {
            *bit = i;
            return 0;
        }
    for (size_t i = 0; i < NELEM(s_model_alias); i++)
        if (!strcmp(s, s_model_alias[i].alias)) {
            *bit = s_model_alias[i].m;
            return 0;
        }
    return -1;
}

int dmr_elle_anomaly_find(const char *s, size_t *bit)
{
    for (size_t i = 0; i < A_N; i++)
        if (!strcmp(s, s_anoms[i])) {
            *bit = i;
            return 0;
        }
    return -1;
}

/* ------------------------------------------------------------- the result */

typedef struct {
    uint32_t from, to;
    uint8_t kind;
    uint32_t key;
    dmr_txn_elem_t v1, v2; /* the values that justify it (see s_explain) */
} s_edge_t;

/* One anomaly. Cycles: edges cyc[0 .. ncyc), each from the transaction
 * the previous one led to. Others: the fields their type uses. */
typedef struct {
    uint8_t type;
    uint32_t key;
    uint32_t t[2];         /* transactions */
    uint32_t m[2];         /* micro-ops */
    dmr_txn_elem_t v[2];
    s_edge_t *cyc;         /* owned */
    dmr_txn_elem_t *vals;  /* cyclic-versions: the cycle of values; owned */
    uint32_t ncyc;
} s_anom_t;

struct dmr_elle_result {
    const dmr_txn_hist_t *h;
    dmr_elle_opts_t o;
    uint64_t found;    /* reported anomaly types */
    uint64_t reported; /* the types worth reporting (forbidden or asked) */
    uint64_t forbidden;
    size_t count[A_N];
    s_anom_t *an;
    size_t nan, capan;
    s_edge_t *e; /* the graph's edges, sorted by (from, to, kind) */
    size_t ne, cape;
    uint32_t *eoff; /* edges from txn t: e[eoff[t] .. eoff[t + 1]) */
    size_t nscc, sccmax;
    double us;
    double t0;
    /* set by dmr_elle_set_summary: the whole history's figures, when h
     * holds only the transactions the anomalies name */
    int has_sum;
    size_t sum_txn, sum_ok, sum_fail, sum_info, sum_edges;
};

static void s_add(dmr_elle_result_t *r, const s_anom_t *a)
{
    r->count[a->type]++;
    r->found |= (uint64_t)1 << a->type;
    size_t cap = r->o.max_witnesses ? r->o.max_witnesses : 8;
    if (r->count[a->type] > cap) {
        free(a->cyc);
        free(a->vals);
        return;
    }
    if (r->nan == r->capan) {
        r->capan = r->capan ? 2 * r->capan : 16;
        r->an = dmr_realloc(r->an, r->capan * sizeof *r->an);
    }
    r->an[r->nan++] = *a;
}

static s_anom_t s_anom(int type, uint32_t key)
{
    return (s_anom_t){.type = (uint8_t)type,
                      .key = key,
                      .t = {UINT32_MAX, UINT32_MAX},
                      .m = {UINT32_MAX, UINT32_MAX},
                      .v = {DMR_TXN_NIL, DMR_TXN_NIL}};
}

static void s_edge(dmr_elle_result_t *r, uint32_t from, uint32_t to, int kind,
                   uint32_t key, dmr_txn_elem_t v1, dmr_txn_elem_t v2)
{
    if (from == to)
        return;
    if (r->ne == r->cape) {
        r->cape = r->cape ? 2 * r->cape : 4096;
        r->e = dmr_realloc(r->e, r->cape * sizeof *r->e);
    }
    r->e[r->ne++] = (s_edge_t){from, to, (uint8_t)kind, key, v1, v2};
}

void dmr_elle_result_destroy(dmr_elle_result_t **pr)
{
    dmr_elle_result_t *r = *pr;
    if (!r)
        return;
    for (size_t i = 0; i < r->nan; i++) {
        free(r->an[i].cyc);
        free(r->an[i].vals);
    }
    free(r->an);
    free(r->e);
    free(r->eoff);
    free(r);
    *pr = NULL;
}

int dmr_elle_valid(const dmr_elle_result_t *r)
{
    return !(r->found & r->forbidden);
}

uint64_t dmr_elle_found(const dmr_elle_result_t *r)
{
    return r->found;
}

size_t dmr_elle_count(const dmr_elle_result_t *r, size_t i)
{
    return i < A_N ? r->count[i] : 0;
}

/* ---------------------------------------------------- per-key inference */

/* The writes to one key: element -> who wrote it. */
typedef struct {
    dmr_txn_elem_t v;
    uint32_t txn, mop;
    uint32_t vpos;  /* list-append: position in the version order */
    uint32_t stamp; /* list-append: last read that saw it, + 1 */
    uint8_t last;   /* its writer's last write to the key */
    uint8_t used;
} s_w_t;

typedef struct {
    s_w_t *w;
    size_t nslot; /* power of two */
    size_t n;
} s_wtab_t;

static void s_wtab_reset(s_wtab_t *t, size_t want)
{
    size_t need = 16;
    while (need < 2 * want)
        need *= 2;
    if (need > t->nslot || need * 8 < t->nslot) {
        free(t->w);
        t->nslot = need;
        t->w = dmr_calloc(need, sizeof *t->w);
    } else {
        memset(t->w, 0, t->nslot * sizeof *t->w);
    }
    t->n = 0;
}

static inline size_t s_ehash(dmr_txn_elem_t v, size_t mask)
{
    uint64_t x = (uint64_t)v * 0x9e3779b97f4a7c15ull;
    return (size_t)(x >> 29) & mask;
}

static s_w_t *s_wtab_get(const s_wtab_t *t, dmr_txn_elem_t v)
{
    size_t mask = t->nslot - 1;
    for (size_t i = s_ehash(v, mask);; i = (i + 1) & mask) {
        if (!t->w[i].used)
            return NULL;
        if (t->w[i].v == v)
            return &t->w[i];
    }
}

/* The slot of v; *fresh says whether it was just added. */
static s_w_t *s_wtab_put(s_wtab_t *t, dmr_txn_elem_t v, int *fresh)
{
    size_t mask = t->nslot - 1;
    size_t i = s_ehash(v, mask);
    for (; t->w[i].used; i = (i + 1) & mask)
        if (t->w[i].v == v) {
            *fresh = 0;
            return &t->w[i];
        }
    t->w[i] = (s_w_t){.v = v, .used = 1, .vpos = UINT32_MAX};
    t->n++;
    *fresh = 1;
    return &t->w[i];
}

typedef struct {
    const dmr_txn_hist_t *h;
    dmr_elle_result_t *r;
    s_wtab_t wt;
    char *err;
    size_t errlen;
    /* scratch */
    uint64_t *pairs; /* lost-update candidates: (version << 32) | mop */
    size_t npairs, cappairs;
    dmr_txn_elem_t *tmp;
    size_t captmp;
    s_w_t **unseen; /* list-append: committed appends no read saw */
    size_t nunseen, capunseen;
} s_ctx_t;

static void s_pair(s_ctx_t *c, uint64_t p)
{
    if (c->npairs == c->cappairs) {
        c->cappairs = c->cappairs ? 2 * c->cappairs : 256;
        c->pairs = dmr_realloc(c->pairs, c->cappairs * sizeof *c->pairs);
    }
    c->pairs[c->npairs++] = p;
}

static int s_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* 1 if a[0 .. n) equals b[0 .. n); either may be NULL when n is 0. */
static int s_same(const dmr_txn_elem_t *a, const dmr_txn_elem_t *b, size_t n)
{
    return n == 0 || !memcmp(a, b, n * sizeof *a);
}

static int s_status(const s_ctx_t *c, uint32_t t)
{
    return c->h->txns[t].status;
}

static int s_dup_write(s_ctx_t *c, const dmr_mop_t *m, const s_w_t *w)
{
    char vb[64];
    const dmr_txn_hist_t *h = c->h;
    snprintf(c->err, c->errlen,
             "%s:%u: %s %s to key %s again (first on line %u): %s needs "
             "every value %s a key to be unique",
             h->name, h->txns[m->txn].line,
             h->workload == DMR_TXN_LIST_APPEND ? "appends" : "writes",
             dmr_txn_elem_text(h, m->v, vb, sizeof vb),
             dmr_txn_key_text(h, m->key), h->txns[w->txn].line,
             dmr_txn_workload_name(h->workload),
             h->workload == DMR_TXN_LIST_APPEND ? "appended to" : "written to");
    return DMR_EINVAL;
}

/* Lost updates among c->pairs (version, mop of an external read by a
 * transaction that then writes the key): two transactions that read the
 * same version and both wrote. */
static void s_lost_updates(s_ctx_t *c, uint32_t key)
{
    if (c->npairs < 2)
        return;
    qsort(c->pairs, c->npairs, sizeof *c->pairs, s_u64_cmp);
    for (size_t i = 0; i + 1 < c->npairs;) {
        size_t j = i + 1;
        while (j < c->npairs && c->pairs[j] >> 32 == c->pairs[i] >> 32)
            j++;
        if (j - i >= 2) {
            const dmr_mop_t *a = &c->h->mops[(uint32_t)c->pairs[i]];
            const dmr_mop_t *b = &c->h->mops[(uint32_t)c->pairs[i + 1]];
            s_anom_t an = s_anom(A_LOST, key);
            an.t[0] = a->txn;
            an.t[1] = b->txn;
            an.m[0] = (uint32_t)c->pairs[i];
            an.m[1] = (uint32_t)c->pairs[i + 1];
            s_add(c->r, &an);
        }
        i = j;
    }
}

/* One key of a list-append history: g[0 .. n) are its micro-ops, grouped
 * by transaction in list order. */
static int s_key_append(s_ctx_t *c, uint32_t key, const uint32_t *g, size_t n)
{
    const dmr_txn_hist_t *h = c->h;
    dmr_elle_result_t *r = c->r;
    size_t nap = 0;
    for (size_t i = 0; i < n; i++)
        nap += h->mops[g[i]].f == DMR_MOP_APPEND;
    s_wtab_reset(&c->wt, nap);
    s_w_t *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const dmr_mop_t *m = &h->mops[g[i]];
        if (m->f != DMR_MOP_APPEND)
            continue;
        int fresh;
        s_w_t *w = s_wtab_put(&c->wt, m->v, &fresh);
        if (!fresh)
            return s_dup_write(c, m, w);
        w->txn = m->txn;
        w->mop = g[i];
        w->last = 1;
        if (prev && prev->txn == m->txn)
            prev->last = 0;
        prev = w;
    }
    /* the version order: the longest read; every read must be its prefix */
    const dmr_mop_t *vo = NULL;
    for (size_t i = 0; i < n; i++) {
        const dmr_mop_t *m = &h->mops[g[i]];
        if (m->f == DMR_MOP_READ && m->known && (!vo || m->n > vo->n))
            vo = m;
    }
    const dmr_txn_elem_t *V = vo ? h->elems + vo->off : NULL;
    size_t nv = vo ? vo->n : 0;
    int incompatible = 0;
    for (size_t i = 0; i < n && vo; i++) {
        const dmr_mop_t *m = &h->mops[g[i]];
        if (m->f != DMR_MOP_READ || !m->known || m == vo)
            continue;
        if (!s_same(h->elems + m->off, V, m->n)) {
            s_anom_t an = s_anom(A_INCOMPAT, key);
            an.t[0] = vo->txn;
            an.t[1] = m->txn;
            an.m[0] = (uint32_t)(vo - h->mops);
            an.m[1] = g[i];
            s_add(r, &an);
            incompatible = 1;
            break;
        }
    }
    for (size_t i = 0; i < nv; i++) {
        s_w_t *w = s_wtab_get(&c->wt, V[i]);
        if (w && w->vpos == UINT32_MAX)
            w->vpos = (uint32_t)i;
    }
    /* committed appends no read saw: each read is a prefix of the final
     * list, so they come after every element read (in some order) */
    c->nunseen = 0;
    for (size_t i = 0; i < c->wt.nslot && !incompatible; i++) {
        s_w_t *w = &c->wt.w[i];
        if (w->used && w->vpos == UINT32_MAX &&
            s_status(c, w->txn) == DMR_TXN_OK) {
            if (c->nunseen == c->capunseen) {
                c->capunseen = c->capunseen ? 2 * c->capunseen : 64;
                c->unseen = dmr_realloc(c->unseen,
                                        c->capunseen * sizeof *c->unseen);
            }
            c->unseen[c->nunseen++] = w;
        }
    }
    /* reads: duplicates, aborted and intermediate reads, future reads */
    for (size_t i = 0; i < n; i++) {
        const dmr_mop_t *m = &h->mops[g[i]];
        if (m->f != DMR_MOP_READ || !m->known)
            continue;
        const dmr_txn_elem_t *R = h->elems + m->off;
        int dup = 0, g1a = 0, fut = 0;
        for (uint32_t k = 0; k < m->n; k++) {
            s_w_t *w = s_wtab_get(&c->wt, R[k]);
            if (!w)
                continue;
            if (w->stamp == g[i] + 1 && !dup) {
                s_anom_t an = s_anom(A_DUP, key);
                an.t[0] = m->txn;
                an.m[0] = g[i];
                an.v[0] = R[k];
                s_add(r, &an);
                dup = 1;
            }
            w->stamp = g[i] + 1;
            if (s_status(c, w->txn) == DMR_TXN_FAIL && !g1a) {
                s_anom_t an = s_anom(A_G1A, key);
                an.t[0] = m->txn;
                an.t[1] = w->txn;
                an.m[0] = g[i];
                an.v[0] = R[k];
                s_add(r, &an);
                g1a = 1;
            }
            if (w->txn == m->txn && h->mops[w->mop].idx > m->idx && !fut) {
                s_anom_t an = s_anom(A_FUTURE, key);
                an.t[0] = m->txn;
                an.m[0] = g[i];
                an.v[0] = R[k];
                s_add(r, &an);
                fut = 1;
            }
        }
        if (m->n) {
            s_w_t *w = s_wtab_get(&c->wt, R[m->n - 1]);
            if (w && w->txn != m->txn && !w->last &&
                s_status(c, w->txn) != DMR_TXN_FAIL) {
                s_anom_t an = s_anom(A_G1B, key);
                an.t[0] = m->txn;
                an.t[1] = w->txn;
                an.m[0] = g[i];
                an.v[0] = R[m->n - 1];
                s_add(r, &an);
            }
        }
    }
    /* each transaction's micro-ops on the key: internal consistency,
     * external reads and the edges they give */
    c->npairs = 0;
    for (size_t i = 0; i < n;) {
        uint32_t t = h->mops[g[i]].txn;
        size_t j = i;
        while (j < n && h->mops[g[j]].txn == t)
            j++;
        const dmr_mop_t *known = NULL; /* the last read */
        size_t since = 0; /* appends after it: c->tmp[0 .. since) */
        int wrote = 0;
        for (size_t k = i; k < j; k++) {
            const dmr_mop_t *m = &h->mops[g[k]];
            if (m->f == DMR_MOP_APPEND) {
                if (since == c->captmp) {
                    c->captmp = c->captmp ? 2 * c->captmp : 64;
                    c->tmp = dmr_realloc(c->tmp, c->captmp * sizeof *c->tmp);
                }
                c->tmp[since++] = m->v;
                wrote = 1;
                continue;
            }
            if (!m->known)
                continue;
            const dmr_txn_elem_t *R = h->elems + m->off;
            /* after a read, the list is what it read plus the appends
             * since; before any, it ends with the appends so far */
            int bad;
            if (known)
                bad = m->n != known->n + since ||
                      !s_same(R, h->elems + known->off, known->n) ||
                      !s_same(R + known->n, c->tmp, since);
            else
                bad = m->n < since || !s_same(R + m->n - since, c->tmp, since);
            if (bad) {
                s_anom_t an = s_anom(A_INTERNAL, key);
                an.t[0] = t;
                an.m[0] = g[k];
                s_add(r, &an);
            }
            if (!known && !wrote && s_status(c, t) == DMR_TXN_OK &&
                !incompatible) {
                /* the external read */
                if (m->n) {
                    s_w_t *w = s_wtab_get(&c->wt, R[m->n - 1]);
                    if (w && s_status(c, w->txn) != DMR_TXN_FAIL)
                        s_edge(r, w->txn, t, DMR_ELLE_WR, key, R[m->n - 1],
                               DMR_TXN_NIL);
                }
                if (m->n < nv) {
                    s_w_t *w = s_wtab_get(&c->wt, V[m->n]);
                    if (w && s_status(c, w->txn) != DMR_TXN_FAIL)
                        s_edge(r, t, w->txn, DMR_ELLE_RW, key, V[m->n],
                               m->n ? R[m->n - 1] : DMR_TXN_NIL);
                } else {
                    for (size_t q = 0; q < c->nunseen; q++)
                        s_edge(r, t, c->unseen[q]->txn, DMR_ELLE_RW, key,
                               c->unseen[q]->v,
                               m->n ? R[m->n - 1] : DMR_TXN_NIL);
                }
                int later = 0;
                for (size_t q = k + 1; q < j; q++)
                    later |= h->mops[g[q]].f == DMR_MOP_APPEND;
                if (later)
                    s_pair(c, (uint64_t)m->n << 32 | g[k]);
            }
            known = m;
            since = 0;
        }
        i = j;
    }
    if (incompatible)
        return 0;
    s_lost_updates(c, key);
    /* ww between adjacent versions, and from the last one read to each
     * committed append no read saw; dirty updates */
    s_w_t *lastw = nv ? s_wtab_get(&c->wt, V[nv - 1]) : NULL;
    if (lastw && s_status(c, lastw->txn) != DMR_TXN_FAIL)
        for (size_t q = 0; q < c->nunseen; q++)
            s_edge(r, lastw->txn, c->unseen[q]->txn, DMR_ELLE_WW, key,
                   V[nv - 1], c->unseen[q]->v);
    int dirty = 0;
    for (size_t i = 0; i + 1 < nv; i++) {
        s_w_t *a = s_wtab_get(&c->wt, V[i]), *b = s_wtab_get(&c->wt, V[i + 1]);
        if (!a || !b)
            continue;
        int fa = s_status(c, a->txn) == DMR_TXN_FAIL,
            fb = s_status(c, b->txn) == DMR_TXN_FAIL;
        if (!fa && !fb)
            s_edge(r, a->txn, b->txn, DMR_ELLE_WW, key, V[i], V[i + 1]);
        if (fa && !dirty)
            for (size_t k = i + 1; k < nv; k++) {
                s_w_t *w = s_wtab_get(&c->wt, V[k]);
                if (w && s_status(c, w->txn) != DMR_TXN_FAIL) {
                    s_anom_t an = s_anom(A_DIRTY, key);
                    an.t[0] = a->txn;
                    an.t[1] = w->txn;
                    an.v[0] = V[i];
                    an.v[1] = V[k];
                    s_add(r, &an);
                    dirty = 1;
                    break;
                }
            }
    }
    return 0;
}

/* One key of an rw-register history. Versions: the writes (by slot in
 * the write table) and nil, numbered nslot. */
static int s_key_register(s_ctx_t *c, uint32_t key, const uint32_t *g,
                          size_t n)
{
    const dmr_txn_hist_t *h = c->h;
    dmr_elle_result_t *r = c->r;
    size_t nw = 0;
    for (size_t i = 0; i < n; i++)
        nw += h->mops[g[i]].f == DMR_MOP_WRITE;
    s_wtab_reset(&c->wt, nw);
    s_w_t *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        const dmr_mop_t *m = &h->mops[g[i]];
        if (m->f != DMR_MOP_WRITE)
            continue;
        int fresh;
        s_w_t *w = s_wtab_put(&c->wt, m->v, &fresh);
        if (!fresh)
            return s_dup_write(c, m, w);
        w->txn = m->txn;
        w->mop = g[i];
        w->last = 1;
        if (prev && prev->txn == m->txn)
            prev->last = 0;
        prev = w;
    }
    const uint32_t NIL = (uint32_t)c->wt.nslot, NONE = UINT32_MAX;
    /* version edges (a << 32 | b), readers (version << 32 | mop) */
    uint64_t *ve = NULL, *rd = NULL;
    size_t nve = 0, cve = 0, nrd = 0, crd = 0;
#define PUSH(arr, nn, cc, x)                                                   \
    do {                                                                       \
        if (nn == cc) {                                                        \
            cc = cc ? 2 * cc : 64;                                             \
            arr = dmr_realloc(arr, cc * sizeof *arr);                          \
        }                                                                      \
        arr[nn++] = (x);                                                       \
    } while (0)
    c->npairs = 0;
    for (size_t i = 0; i < n;) {
        uint32_t t = h->mops[g[i]].txn;
        size_t j = i;
        while (j < n && h->mops[g[j]].txn == t)
            j++;
        uint32_t cur = NONE;     /* the version this txn last saw or wrote */
        dmr_txn_elem_t expect = 0; /* what a read must return, if have */
        int have = 0, wrote = 0;
        for (size_t k = i; k < j; k++) {
            const dmr_mop_t *m = &h->mops[g[k]];
            if (m->f == DMR_MOP_WRITE) {
                uint32_t v = (uint32_t)(s_wtab_get(&c->wt, m->v) - c->wt.w);
                if (cur != NONE)
                    PUSH(ve, nve, cve, (uint64_t)cur << 32 | v);
                cur = v;
                expect = m->v;
                have = wrote = 1;
                continue;
            }
            if (!m->known)
                continue;
            s_w_t *w = m->v == DMR_TXN_NIL ? NULL : s_wtab_get(&c->wt, m->v);
            if (have && m->v != expect) {
                s_anom_t an = s_anom(A_INTERNAL, key);
                an.t[0] = t;
                an.m[0] = g[k];
                an.v[0] = expect;
                s_add(r, &an);
            }
            if (w && s_status(c, w->txn) == DMR_TXN_FAIL) {
                s_anom_t an = s_anom(A_G1A, key);
                an.t[0] = t;
                an.t[1] = w->txn;
                an.m[0] = g[k];
                an.v[0] = m->v;
                s_add(r, &an);
            }
            if (w && w->txn != t && !w->last &&
                s_status(c, w->txn) != DMR_TXN_FAIL) {
                s_anom_t an = s_anom(A_G1B, key);
                an.t[0] = t;
                an.t[1] = w->txn;
                an.m[0] = g[k];
                an.v[0] = m->v;
                s_add(r, &an);
            }
            if (w && w->txn == t && h->mops[w->mop].idx > m->idx) {
                s_anom_t an = s_anom(A_FUTURE, key);
                an.t[0] = t;
                an.m[0] = g[k];
                an.v[0] = m->v;
                s_add(r, &an);
            }
            if (!have && !wrote && s_status(c, t) == DMR_TXN_OK) {
                uint32_t v = m->v == DMR_TXN_NIL ? NIL
                             : w ? (uint32_t)(w - c->wt.w)
                                 : NONE;
                if (v != NONE) {
                    PUSH(rd, nrd, crd, (uint64_t)v << 32 | g[k]);
                    int later = 0;
                    for (size_t q = k + 1; q < j; q++)
                        later |= h->mops[g[q]].f == DMR_MOP_WRITE;
                    if (later)
                        s_pair(c, (uint64_t)v << 32 | g[k]);
                }
                cur = v;
            }
            expect = m->v;
            have = 1;
        }
        i = j;
    }
    /* nil precedes the versions nothing else precedes, if anyone read it */
    int nil_read = 0;
    for (size_t i = 0; i < nrd; i++)
        nil_read |= (uint32_t)(rd[i] >> 32) == NIL;
    if (nil_read) {
        uint8_t *hasin = dmr_calloc(NIL + 1, 1);
        for (size_t i = 0; i < nve; i++)
            hasin[(uint32_t)ve[i]] = 1;
        for (uint32_t v = 0; v < NIL; v++)
            if (c->wt.w[v].used && !hasin[v])
                PUSH(ve, nve, cve, (uint64_t)NIL << 32 | v);
        free(hasin);
    }
    if (nve)
        qsort(ve, nve, sizeof *ve, s_u64_cmp);
    size_t u = 0;
    for (size_t i = 0; i < nve; i++)
        if (!u || ve[i] != ve[u - 1])
            ve[u++] = ve[i];
    nve = u;
    /* a cycle among versions (Kahn's algorithm leaves it) */
    uint32_t *indeg = dmr_calloc(NIL + 1, sizeof *indeg);
    uint32_t *off = dmr_calloc(NIL + 2, sizeof *off);
    for (size_t i = 0; i < nve; i++) {
        indeg[(uint32_t)ve[i]]++;
        off[(ve[i] >> 32) + 1]++;
    }
    for (uint32_t v = 0; v <= NIL; v++)
        off[v + 1] += off[v];
    uint32_t *stack = dmr_malloc((NIL + 1) * sizeof *stack);
    size_t ns = 0, done = 0;
    for (uint32_t v = 0; v <= NIL; v++)
        if (!indeg[v])
            stack[ns++] = v;
    while (ns) {
        uint32_t v = stack[--ns];
        done++;
        for (uint32_t k = off[v]; k < off[v + 1]; k++)
            if (!--indeg[(uint32_t)ve[k]])
                stack[ns++] = (uint32_t)ve[k];
    }
    int cyclic = done < NIL + 1;
    if (cyclic) {
        /* walk edges among what is left until a version repeats */
        uint32_t v = 0;
        while (!indeg[v])
            v++;
        uint32_t *seen = dmr_calloc(NIL + 1, sizeof *seen);
        uint32_t *path = dmr_malloc((NIL + 2) * sizeof *path);
        size_t np = 0;
        while (!seen[v]) {
            seen[v] = (uint32_t)++np;
            path[np - 1] = v;
            uint32_t k = off[v];
            while (!indeg[(uint32_t)ve[k]])
                k++;
            v = (uint32_t)ve[k];
        }
        s_anom_t an = s_anom(A_CYCVER, key);
        size_t from = seen[v] - 1;
        an.ncyc = (uint32_t)(np - from);
        an.vals = dmr_malloc((an.ncyc + 1) * sizeof *an.vals);
        for (size_t k = from; k < np; k++)
            an.vals[k - from] =
                path[k] == NIL ? DMR_TXN_NIL : c->wt.w[path[k]].v;
        an.vals[an.ncyc] = an.vals[0];
        s_add(r, &an);
        free(seen);
        free(path);
    } else {
        s_lost_updates(c, key);
        if (nrd)
            qsort(rd, nrd, sizeof *rd, s_u64_cmp);
        for (size_t k = 0; k < nve; k++) {
            uint32_t a = (uint32_t)(ve[k] >> 32), b = (uint32_t)ve[k];
            s_w_t *wb = &c->wt.w[b];
            if (s_status(c, wb->txn) == DMR_TXN_FAIL)
                continue;
            if (a != NIL && s_status(c, c->wt.w[a].txn) != DMR_TXN_FAIL)
                s_edge(r, c->wt.w[a].txn, wb->txn, DMR_ELLE_WW, key,
                       c->wt.w[a].v, wb->v);
        }
        for (size_t i = 0; i < nrd;) {
            uint32_t a = (uint32_t)(rd[i] >> 32);
            size_t j = i;
            while (j < nrd && (uint32_t)(rd[j] >> 32) == a)
                j++;
            for (size_t q = i; q < j; q++) {
                uint32_t t = h->mops[(uint32_t)rd[q]].txn;
                if (a != NIL && s_status(c, c->wt.w[a].txn) != DMR_TXN_FAIL)
                    s_edge(r, c->wt.w[a].txn, t, DMR_ELLE_WR, key,
                           c->wt.w[a].v, DMR_TXN_NIL);
                for (uint32_t k = off[a]; k < off[a + 1]; k++) {
                    s_w_t *wb = &c->wt.w[(uint32_t)ve[k]];
                    if (s_status(c, wb->txn) != DMR_TXN_FAIL)
                        s_edge(r, t, wb->txn, DMR_ELLE_RW, key, wb->v,
                               a == NIL ? DMR_TXN_NIL : c->wt.w[a].v);
                }
            }
            i = j;
        }
    }
#undef PUSH
    free(indeg);
    free(off);
    free(stack);
    free(ve);
    free(rd);
    return 0;
}

/* -------------------------------------------------- process and real time */

typedef struct {
    int64_t process;
    uint32_t t;
} s_pt_t;

static int s_pt_cmp(const void *a, const void *b)
{
    const s_pt_t *x = a, *y = b;
    if (x->process != y->process)
        return x->process < y->process ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* A process runs one transaction at a time: each of its transactions
 * precedes the next one it invokes. Failed ones did not happen. */
static void s_process_edges(dmr_elle_result_t *r, const dmr_txn_hist_t *h)
{
    s_pt_t *pt = dmr_malloc((h->ntxn + 1) * sizeof *pt);
    size_t n = 0;
    for (size_t t = 0; t < h->ntxn; t++)
        if (h->txns[t].status != DMR_TXN_FAIL && h->txns[t].process >= 0)
            pt[n++] = (s_pt_t){h->txns[t].process, (uint32_t)t};
    qsort(pt, n, sizeof *pt, s_pt_cmp);
    for (size_t i = 0; i + 1 < n; i++)
        if (pt[i].process == pt[i + 1].process)
            s_edge(r, pt[i].t, pt[i + 1].t, DMR_ELLE_PROCESS, UINT32_MAX,
                   DMR_TXN_NIL, DMR_TXN_NIL);
    free(pt);
}

/* Real-time order as a transitive reduction: walking the events in
 * order, the frontier holds the transactions completed so far that no
 * later-completed transaction follows. A transaction invoked now follows
 * each of them; when it completes, it replaces the ones it follows. */
static void s_realtime_edges(dmr_elle_result_t *r, const dmr_txn_hist_t *h)
{
    size_t nev = h->nevents;
    /* at[pos]: txn * 2 + (0 invoke, 1 completion), or UINT32_MAX */
    uint32_t *at = dmr_malloc((nev + 1) * sizeof *at);
    for (size_t i = 0; i < nev; i++)
        at[i] = UINT32_MAX;
    for (size_t t = 0; t < h->ntxn; t++) {
        const dmr_txn_t *tx = &h->txns[t];
        if (tx->status == DMR_TXN_FAIL)
            continue;
        if (tx->ret == tx->inv) { /* a completion without invocation */
            at[tx->inv] = (uint32_t)t * 2 + 1;
            continue;
        }
        at[tx->inv] = (uint32_t)t * 2;
        if (tx->ret != UINT32_MAX && tx->status == DMR_TXN_OK)
            at[tx->ret] = (uint32_t)t * 2 + 1;
    }
    uint32_t *front = NULL;
    size_t nf = 0, cf = 0;
    /* each running txn's predecessors: the frontier when it began,
     * kept as the edges just added (r->e[pstart[t] .. pend[t])) */
    size_t *pstart = dmr_malloc((h->ntxn + 1) * sizeof *pstart);
    size_t *pend = dmr_malloc((h->ntxn + 1) * sizeof *pend);
    uint8_t *infront = dmr_calloc(h->ntxn + 1, 1);
    for (size_t pos = 0; pos < nev; pos++) {
        if (at[pos] == UINT32_MAX)
            continue;
        uint32_t t = at[pos] >> 1;
        int inv = !(at[pos] & 1) || h->txns[t].inv == pos;
        if (inv) {
            pstart[t] = r->ne;
            for (size_t i = 0; i < nf; i++)
                s_edge(r, front[i], t, DMR_ELLE_REALTIME, UINT32_MAX,
                       DMR_TXN_NIL, DMR_TXN_NIL);
            pend[t] = r->ne;
        }
        if (at[pos] & 1) {
            for (size_t i = pstart[t]; i < pend[t]; i++)
                infront[r->e[i].from] = 0;
            size_t k = 0;
            for (size_t i = 0; i < nf; i++)
                if (infront[front[i]])
                    front[k++] = front[i];
            nf = k;
            if (nf == cf) {
                cf = cf ? 2 * cf : 64;
                front = dmr_realloc(front, cf * sizeof *front);
            }
            front[nf++] = t;
            infront[t] = 1;
        }
    }
    free(front);
    free(pstart);
    free(pend);
    free(infront);
    free(at);
}

/* ------------------------------------------------------------ the graph */

static int s_edge_cmp(const void *a, const void *b)
{
    const s_edge_t *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->to != y->to)
        return x->to < y->to ? -1 : 1;
    return x->kind - y->kind;
}

/* Sorts and dedups the edges (keeping the first justification of each
 * (from, to, kind)) and lays them out by source. */
static void s_graph(dmr_elle_result_t *r, size_t ntxn)
{
    if (r->ne)
        qsort(r->e, r->ne, sizeof *r->e, s_edge_cmp);
    size_t u = 0;
    for (size_t i = 0; i < r->ne; i++)
        if (!u || s_edge_cmp(&r->e[i], &r->e[u - 1]))
            r->e[u++] = r->e[i];
    r->ne = u;
    r->eoff = dmr_calloc(ntxn + 2, sizeof *r->eoff);
    for (size_t i = 0; i < r->ne; i++)
        r->eoff[r->e[i].from + 1]++;
    for (size_t t = 0; t < ntxn; t++)
        r->eoff[t + 1] += r->eoff[t];
}

size_t dmr_elle_tarjan(size_t n, const uint32_t *off, const uint32_t *adj,
                       uint32_t *comp)
{
    uint32_t *idx = dmr_malloc((n + 1) * sizeof *idx);
    uint32_t *low = dmr_malloc((n + 1) * sizeof *low);
    uint32_t *stk = dmr_malloc((n + 1) * sizeof *stk);
    uint32_t *cs = dmr_malloc((n + 1) * sizeof *cs);  /* call stack */
    uint32_t *ce = dmr_malloc((n + 1) * sizeof *ce);  /* next edge */
    uint8_t *on = dmr_calloc(n + 1, 1);
    for (size_t i = 0; i < n; i++)
        idx[i] = UINT32_MAX;
    uint32_t next = 0, ncomp = 0;
    size_t ns = 0;
    for (size_t root = 0; root < n; root++) {
        if (idx[root] != UINT32_MAX)
            continue;
        size_t nc = 0;
        cs[nc] = (uint32_t)root;
        ce[nc++] = off[root];
        idx[root] = low[root] = next++;
        stk[ns++] = (uint32_t)root;
        on[root] = 1;
        while (nc) {
            uint32_t v = cs[nc - 1];
            if (ce[nc - 1] < off[v + 1]) {
                uint32_t w = adj[ce[nc - 1]++];
                if (idx[w] == UINT32_MAX) {
                    idx[w] = low[w] = next++;
                    stk[ns++] = w;
                    on[w] = 1;
                    cs[nc] = w;
                    ce[nc++] = off[w];
                } else if (on[w] && idx[w] < low[v]) {
                    low[v] = idx[w];
                }
                continue;
            }
            if (low[v] == idx[v]) {
                uint32_t w;
                do {
                    w = stk[--ns];
                    on[w] = 0;
                    comp[w] = ncomp;
                } while (w != v);
                ncomp++;
            }
            nc--;
            if (nc && low[v] < low[cs[nc - 1]])
                low[cs[nc - 1]] = low[v];
        }
    }
    free(idx);
    free(low);
    free(stk);
    free(cs);
    free(ce);
    free(on);
    return ncomp;
}

/* ------------------------------------------------------- cycle search */

/* A cycle-so-far, in 6 bits: rw edges (0, 1, 2 = two or more), whether
 * the first and the last edge were rw, whether a wr edge and an edge of
 * the variant's own kind (process or real time) were used. */
#define Q_NRW(q) ((q) & 3)
#define Q_FIRST 4
#define Q_LAST 8
#define Q_WR 16
#define Q_X 32
#define NQ 64

enum { S_G0, S_G1C, S_GSINGLE, S_GNONADJ, S_G2 };

typedef struct {
    int base;     /* S_* */
    uint8_t kinds; /* bit per dmr_elle_kind_t allowed */
    int xkind;    /* the kind that must be used, or -1 */
} s_spec_t;

/* The state after taking an edge of kind k from q (first: the cycle's
 * first edge), or -1 when no cycle of the spec can go on from there. */
static int s_step(const s_spec_t *sp, int q, int k, int first)
{
    int rw = k == DMR_ELLE_RW;
    if (sp->base == S_GNONADJ && rw && !first && (q & Q_LAST))
        return -1;
    int nrw = Q_NRW(q) + rw;
    if (nrw > 2)
        nrw = 2;
    if (sp->base == S_GSINGLE && nrw > 1)
        return -1;
    int nq = nrw;
    if (first ? rw : (q & Q_FIRST))
        nq |= Q_FIRST;
    if (rw)
        nq |= Q_LAST;
    if ((q & Q_WR) || k == DMR_ELLE_WR)
        nq |= Q_WR;
    if ((q & Q_X) || k == sp->xkind)
        nq |= Q_X;
    return nq;
}

static int s_accept(const s_spec_t *sp, int q)
{
    if (sp->xkind >= 0 && !(q & Q_X))
        return 0;
    switch (sp->base) {
    case S_G0:
        return 1;
    case S_G1C:
        return (q & Q_WR) != 0;
    case S_GSINGLE:
        return Q_NRW(q) == 1;
    case S_GNONADJ:
        return Q_NRW(q) == 2 && !((q & Q_FIRST) && (q & Q_LAST));
    default:
        return Q_NRW(q) >= 1;
    }
}

typedef struct {
    const dmr_elle_result_t *r;
    const uint32_t *comp;
    uint32_t cid;
    uint32_t *loc;    /* txn -> its index in the component */
    const uint32_t *mem; /* index in the component -> txn */
    uint32_t *gen;    /* per product state: visited in search gen */
    uint32_t *prev;   /* per product state: the state it came from */
    uint32_t *via;    /* per product state: the edge taken */
    uint32_t *queue;
    uint32_t curgen;
    size_t n;         /* transactions in the component */
    uint64_t work;
} s_search_t;

/* The shortest cycle through s allowed by sp, as edge indices into
 * out[0 .. return value), or 0 if none. Product states are
 * loc[txn] * NQ + q. */
static size_t s_bfs(s_search_t *S, const s_spec_t *sp, uint32_t s,
                    uint32_t *out)
{
    const dmr_elle_result_t *r = S->r;
    size_t qh = 0, qt = 0;
    uint32_t from = UINT32_MAX, tu = s;
    int q = 0;
    S->curgen++;
    for (;;) {
        for (uint32_t k = r->eoff[tu]; k < r->eoff[tu + 1]; k++) {
            const s_edge_t *e = &r->e[k];
            if (!(sp->kinds >> e->kind & 1) || S->comp[e->to] != S->cid)
                continue;
            S->work++;
            int nq = s_step(sp, q, e->kind, from == UINT32_MAX);
            if (nq < 0)
                continue;
            if (e->to == s) {
                if (!s_accept(sp, nq))
                    continue;
                size_t len = 0;
                out[len++] = k;
                for (uint32_t st = from; st != UINT32_MAX; st = S->prev[st])
                    out[len++] = S->via[st];
                for (size_t i = 0; i < len / 2; i++) {
                    uint32_t x = out[i];
                    out[i] = out[len - 1 - i];
                    out[len - 1 - i] = x;
                }
                return len;
            }
            uint32_t st = S->loc[e->to] * NQ + (uint32_t)nq;
            if (S->gen[st] == S->curgen)
                continue;
            S->gen[st] = S->curgen;
            S->prev[st] = from;
            S->via[st] = k;
            S->queue[qt++] = st;
        }
        if (qh == qt)
            return 0;
        from = S->queue[qh++];
        tu = S->mem[from / NQ];
        q = (int)(from % NQ);
    }
}

/* The name of a cycle by the edges it is made of. */
static int s_classify(const dmr_elle_result_t *r, const uint32_t *cyc,
                      size_t n)
{
    size_t nrw = 0, nwr = 0, np = 0, nrt = 0;
    int adjacent = 0;
    for (size_t i = 0; i < n; i++) {
        int k = r->e[cyc[i]].kind;
        nrw += k == DMR_ELLE_RW;
        nwr += k == DMR_ELLE_WR;
        np += k == DMR_ELLE_PROCESS;
        nrt += k == DMR_ELLE_REALTIME;
        if (k == DMR_ELLE_RW && r->e[cyc[(i + 1) % n]].kind == DMR_ELLE_RW)
            adjacent = 1;
    }
    int v = nrt ? 2 : np ? 1 : 0;
    if (nrw == 0)
        return (nwr ? A_G1C : A_G0) + v;
    if (nrw == 1)
        return A_GS + v;
    return (adjacent ? A_G2I : A_GN) + v;
}

/* Searches one component for cycles of every spec and records the
 * shortest found of each class. */
static void s_scc(dmr_elle_result_t *r, s_search_t *S, const uint32_t *mem,
                  size_t n, const s_spec_t *specs, size_t nspec)
{
    enum { BUDGET = 4000000 };
    uint32_t *best[A_N] = {0};
    size_t bestn[A_N] = {0};
    /* a cycle may pass a transaction once per state of the search */
    uint32_t *cyc = dmr_malloc((n * NQ + 1) * sizeof *cyc);
    for (size_t i = 0; i < n; i++)
        S->loc[mem[i]] = (uint32_t)i;
    S->n = n;
    S->mem = mem;
    for (size_t k = 0; k < nspec; k++) {
        S->work = 0;
        size_t shortest = SIZE_MAX;
        for (size_t i = 0; i < n && shortest > 2; i++) {
            if (i && S->work > BUDGET)
                break;
            size_t len = s_bfs(S, &specs[k], mem[i], cyc);
            if (!len || len >= shortest)
                continue;
            shortest = len;
            int type = s_classify(r, cyc, len);
            if (!best[type] || bestn[type] > len) {
                free(best[type]);
                best[type] = dmr_malloc(len * sizeof *cyc);
                memcpy(best[type], cyc, len * sizeof *cyc);
                bestn[type] = len;
            }
        }
    }
    for (int t = 0; t < A_N; t++) {
        if (!best[t])
            continue;
        s_anom_t an = s_anom(t, UINT32_MAX);
        an.ncyc = (uint32_t)bestn[t];
        an.cyc = dmr_malloc(bestn[t] * sizeof *an.cyc);
        for (size_t i = 0; i < bestn[t]; i++)
            an.cyc[i] = r->e[best[t][i]];
        if (r->reported >> t & 1)
            s_add(r, &an);
        else
            free(an.cyc);
        free(best[t]);
    }
    free(cyc);
}

static void s_cycles(dmr_elle_result_t *r, const dmr_txn_hist_t *h)
{
    size_t n = h->ntxn;
    uint32_t *comp = dmr_malloc((n + 1) * sizeof *comp);
    uint32_t *adj = dmr_malloc((r->ne + 1) * sizeof *adj);
    for (size_t i = 0; i < r->ne; i++)
        adj[i] = r->e[i].to;
    size_t ncomp = dmr_elle_tarjan(n, r->eoff, adj, comp);
    free(adj);
    /* members of each component, by counting sort */
    uint32_t *coff = dmr_calloc(ncomp + 2, sizeof *coff);
    for (size_t t = 0; t < n; t++)
        coff[comp[t] + 1]++;
    for (size_t c = 0; c < ncomp; c++)
        coff[c + 1] += coff[c];
    uint32_t *mem = dmr_malloc((n + 1) * sizeof *mem);
    uint32_t *fill = dmr_malloc((ncomp + 1) * sizeof *fill);
    memcpy(fill, coff, ncomp * sizeof *fill);
    for (size_t t = 0; t < n; t++)
        mem[fill[comp[t]]++] = (uint32_t)t;
    free(fill);
    /* the specs worth searching: base kinds, then each variant */
    s_spec_t specs[15];
    size_t nspec = 0;
    uint8_t data = 1 << DMR_ELLE_WW | 1 << DMR_ELLE_WR | 1 << DMR_ELLE_RW;
    const uint8_t kinds[5] = {1 << DMR_ELLE_WW,
                              1 << DMR_ELLE_WW | 1 << DMR_ELLE_WR, data, data,
                              data};
    for (int v = 0; v < 3; v++) {
        if (v == 1 && !r->o.process)
            continue;
        if (v == 2 && !r->o.realtime)
            continue;
        for (int b = 0; b < 5; b++) {
            uint8_t k = kinds[b];
            if (v >= 1)
                k |= 1 << DMR_ELLE_PROCESS;
            if (v == 2)
                k |= 1 << DMR_ELLE_REALTIME;
            specs[nspec++] = (s_spec_t){
                b, k, v == 0 ? -1 : v == 1 ? DMR_ELLE_PROCESS
                                           : DMR_ELLE_REALTIME};
        }
    }
    s_search_t S = {.r = r, .comp = comp};
    S.loc = dmr_malloc((n + 1) * sizeof *S.loc);
    size_t cap = 0;
    for (size_t c = 0; c < ncomp; c++) {
        size_t sz = coff[c + 1] - coff[c];
        if (sz < 2)
            continue;
        r->nscc++;
        if (sz > r->sccmax)
            r->sccmax = sz;
        if (sz > cap) {
            cap = sz;
            free(S.gen);
            free(S.prev);
            free(S.via);
            free(S.queue);
            S.gen = dmr_calloc(cap * NQ, sizeof *S.gen);
            S.prev = dmr_malloc(cap * NQ * sizeof *S.prev);
            S.via = dmr_malloc(cap * NQ * sizeof *S.via);
            S.queue = dmr_malloc(cap * NQ * sizeof *S.queue);
            S.curgen = 0;
        }
        S.cid = (uint32_t)c;
        s_scc(r, &S, mem + coff[c], sz, specs, nspec);
    }
    free(S.gen);
    free(S.prev);
    free(S.via);
    free(S.queue);
    free(S.loc);
    free(mem);
    free(coff);
    free(comp);
}

/* ------------------------------------------------------------- the check */

static double s_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

dmr_elle_result_t *dmr_elle_new(const dmr_txn_hist_t *h,
                                const dmr_elle_opts_t *o)
{
    s_lattice();
    dmr_elle_result_t *r = dmr_calloc(1, sizeof *r);
    r->t0 = s_now_us();
    r->h = h;
    r->o = *o;
    if (!r->o.models && !r->o.anomalies)
        r->o.models = (uint64_t)1 << M_SSER;
    r->forbidden = s_forbidden(r->o.models);
    for (size_t a = 0; a < A_N; a++)
        if (r->o.anomalies >> a & 1)
            r->forbidden |= s_lat.a_in[a];
    r->reported = r->forbidden;
    /* the orders the models speak of */
    const uint64_t pa = (uint64_t)1 << A_G0P | (uint64_t)1 << A_G1CP |
                        (uint64_t)1 << A_GSP | (uint64_t)1 << A_GNP |
                        (uint64_t)1 << A_G2IP;
    const uint64_t ra = (uint64_t)1 << A_G0R | (uint64_t)1 << A_G1CR |
                        (uint64_t)1 << A_GSR | (uint64_t)1 << A_GNR |
                        (uint64_t)1 << A_G2IR;
    if (r->forbidden & pa)
        r->o.process = 1;
    if (r->forbidden & ra)
        r->o.realtime = 1;
    return r;
}

int dmr_elle_wants_process(const dmr_elle_result_t *r)
{
    return r->o.process;
}

int dmr_elle_wants_realtime(const dmr_elle_result_t *r)
{
    return r->o.realtime;
}

int dmr_elle_infer(dmr_elle_result_t *r, char *err, size_t errlen)
{
    const dmr_txn_hist_t *h = r->h;
    /* mops by key: a stable counting sort */
    uint32_t *koff = dmr_calloc(h->nkey + 2, sizeof *koff);
    uint32_t *g = dmr_malloc((h->nmop + 1) * sizeof *g);
    for (size_t i = 0; i < h->nmop; i++)
        koff[h->mops[i].key + 1]++;
    for (size_t k = 0; k < h->nkey; k++)
        koff[k + 1] += koff[k];
    uint32_t *fill = dmr_malloc((h->nkey + 1) * sizeof *fill);
    memcpy(fill, koff, h->nkey * sizeof *fill);
    for (size_t i = 0; i < h->nmop; i++)
        g[fill[h->mops[i].key]++] = (uint32_t)i;
    free(fill);
    s_ctx_t c = {.h = h, .r = r, .err = err, .errlen = errlen};
    int rc = 0;
    for (size_t k = 0; k < h->nkey && rc == 0; k++)
        rc = h->workload == DMR_TXN_LIST_APPEND
                 ? s_key_append(&c, (uint32_t)k, g + koff[k],
                                koff[k + 1] - koff[k])
                 : s_key_register(&c, (uint32_t)k, g + koff[k],
                                  koff[k + 1] - koff[k]);
    free(c.wt.w);
    free(c.pairs);
    free(c.tmp);
    free(c.unseen);
    free(koff);
    free(g);
    return rc;
}

void dmr_elle_order(dmr_elle_result_t *r)
{
    if (r->o.process)
        s_process_edges(r, r->h);
    if (r->o.realtime)
        s_realtime_edges(r, r->h);
}

void dmr_elle_add_edge(dmr_elle_result_t *r, uint32_t from, uint32_t to,
                       dmr_elle_kind_t kind, uint32_t key, dmr_txn_elem_t v1,
                       dmr_txn_elem_t v2)
{
    s_edge(r, from, to, (int)kind, key, v1, v2);
}

void dmr_elle_cycles(dmr_elle_result_t *r)
{
    s_graph(r, r->h->ntxn);
    s_cycles(r, r->h);
}

void dmr_elle_finish(dmr_elle_result_t *r)
{
    /* only what the models forbid or the caller asked for is reported */
    uint64_t kept = 0;
    size_t u = 0;
    for (size_t i = 0; i < r->nan; i++) {
        if (r->reported >> r->an[i].type & 1) {
            r->an[u++] = r->an[i];
        } else {
            free(r->an[i].cyc);
            free(r->an[i].vals);
        }
    }
    r->nan = u;
    for (size_t a = 0; a < A_N; a++)
        if (r->count[a] && (r->reported >> a & 1))
            kept |= (uint64_t)1 << a;
        else
            r->count[a] = 0;
    r->found = kept;
    r->us = s_now_us() - r->t0;
}

int dmr_elle_check(const dmr_txn_hist_t *h, const dmr_elle_opts_t *o,
                   dmr_elle_result_t **out, char *err, size_t errlen)
{
    dmr_elle_result_t *r = dmr_elle_new(h, o);
    int rc = dmr_elle_infer(r, err, errlen);
    if (rc) {
        dmr_elle_result_destroy(&r);
        return rc;
    }
    dmr_elle_order(r);
    dmr_elle_cycles(r);
    dmr_elle_finish(r);
    *out = r;
    return 0;
}

/* ---------------------------------------------------------------- wire */

size_t dmr_elle_nedges(const dmr_elle_result_t *r)
{
    return r->ne;
}

void dmr_elle_edge_ends(const dmr_elle_result_t *r, size_t i, uint32_t *from,
                        uint32_t *to)
{
    *from = r->e[i].from;
    *to = r->e[i].to;
}

static void s_wire_u64(dmr_buf_t *b, uint64_t v)
{
    dmr_buf_u64(b, v);
}

static void s_wire_txn(dmr_buf_t *b, const uint64_t *gid, uint32_t t)
{
    if (t == UINT32_MAX)
        dmr_buf_putc(b, '~');
    else
        s_wire_u64(b, gid ? gid[t] : t);
}

static void s_wire_key(dmr_buf_t *b, const dmr_txn_hist_t *h, uint32_t k)
{
    if (k == UINT32_MAX) {
        dmr_buf_putc(b, '~');
        return;
    }
    const char *t = dmr_txn_key_text(h, k);
    dmr_txn_wire_text(b, t, strlen(t));
}

static void s_wire_edge(dmr_buf_t *b, const dmr_txn_hist_t *h,
                        const uint64_t *gid, const s_edge_t *e)
{
    s_wire_txn(b, gid, e->from);
    dmr_buf_putc(b, ' ');
    s_wire_txn(b, gid, e->to);
    char ks[3] = {' ', (char)('0' + e->kind), ' '};
    dmr_buf_append(b, ks, 3);
    s_wire_key(b, h, e->key);
    dmr_buf_putc(b, ' ');
    dmr_txn_wire_elem(b, h, e->v1);
    dmr_buf_putc(b, ' ');
    dmr_txn_wire_elem(b, h, e->v2);
}

void dmr_elle_wire_edge(const dmr_elle_result_t *r, size_t i,
                        const uint64_t *gid, dmr_buf_t *b)
{
    s_wire_edge(b, r->h, gid, &r->e[i]);
}

static void s_wire_anom(dmr_buf_t *b, const dmr_txn_hist_t *h,
                        const uint64_t *gid, const s_anom_t *a)
{
    dmr_buf_printf(b, "%s ", s_anoms[a->type]);
    s_wire_key(b, h, a->key);
    for (int i = 0; i < 2; i++) {
        dmr_buf_putc(b, ' ');
        s_wire_txn(b, gid, a->t[i]);
    }
    for (int i = 0; i < 2; i++) {
        dmr_buf_putc(b, ' ');
        if (a->m[i] == UINT32_MAX) {
            dmr_buf_putc(b, '~');
        } else {
            const dmr_mop_t *m = &h->mops[a->m[i]];
            s_wire_txn(b, gid, m->txn);
            dmr_buf_printf(b, ":%u", (unsigned)m->idx);
        }
    }
    for (int i = 0; i < 2; i++) {
        dmr_buf_putc(b, ' ');
        dmr_txn_wire_elem(b, h, a->v[i]);
    }
    dmr_buf_printf(b, " %u %d", a->ncyc, a->cyc != NULL);
    for (uint32_t i = 0; a->cyc && i < a->ncyc; i++) {
        dmr_buf_putc(b, ' ');
        s_wire_edge(b, h, gid, &a->cyc[i]);
    }
    uint32_t nv = a->vals ? a->ncyc + 1 : 0;
    dmr_buf_printf(b, " %u", nv);
    for (uint32_t i = 0; i < nv; i++) {
        dmr_buf_putc(b, ' ');
        dmr_txn_wire_elem(b, h, a->vals[i]);
    }
}

void dmr_elle_wire_anomalies(const dmr_elle_result_t *r, const uint64_t *gid,
                             size_t cap, size_t *shown, dmr_elle_put_fn put,
                             void *arg)
{
    dmr_buf_t b = DMR_BUF_INIT;
    size_t sent[A_N] = {0};
    for (size_t i = 0; i < r->nan; i++) {
        const s_anom_t *a = &r->an[i];
        if (shown[a->type] >= cap)
            continue;
        shown[a->type]++;
        sent[a->type]++;
        dmr_buf_clear(&b);
        s_wire_anom(&b, r->h, gid, a);
        put(arg, 'a', b.data, b.len);
    }
    /* the rest of each type, as a count */
    for (size_t t = 0; t < A_N; t++) {
        if (r->count[t] <= sent[t])
            continue;
        dmr_buf_clear(&b);
        dmr_buf_printf(&b, "%s %zu", s_anoms[t], r->count[t] - sent[t]);
        put(arg, 'c', b.data, b.len);
    }
    dmr_buf_free(&b);
}

/* Readers. A token list, and the next token as each kind. */
typedef struct {
    dmr_txn_tok_t tk;
    dmr_txn_hist_t *h;
    dmr_elle_lookup_fn look;
    void *arg;
    int bad;
} s_rd_t;

static int s_rd_tok(s_rd_t *R, const char **s, size_t *n)
{
    if (!R->bad && dmr_txn_tok(&R->tk, s, n))
        return 1;
    R->bad = 1;
    *s = "";
    *n = 0;
    return 0;
}

static uint32_t s_rd_txn(s_rd_t *R)
{
    const char *s;
    size_t n;
    uint64_t g;
    uint32_t t;
    if (!s_rd_tok(R, &s, &n))
        return UINT32_MAX;
    if (n == 1 && *s == '~')
        return UINT32_MAX;
    if (dmr_txn_tok_u64(s, n, &g) || R->look(R->arg, g, &t) ||
        t >= R->h->ntxn) {
        R->bad = 1;
        return UINT32_MAX;
    }
    return t;
}

static uint32_t s_rd_key(s_rd_t *R)
{
    const char *s;
    size_t n;
    uint32_t k;
    if (!s_rd_tok(R, &s, &n) || (n == 1 && *s == '~'))
        return UINT32_MAX;
    if (dmr_txn_tok_key(R->h, s, n, &k)) {
        R->bad = 1;
        return UINT32_MAX;
    }
    return k;
}

static dmr_txn_elem_t s_rd_elem(s_rd_t *R)
{
    const char *s;
    size_t n;
    dmr_txn_elem_t e;
    if (!s_rd_tok(R, &s, &n) || dmr_txn_tok_elem(R->h, s, n, &e)) {
        R->bad = 1;
        return DMR_TXN_NIL;
    }
    return e;
}

static uint64_t s_rd_u64(s_rd_t *R, uint64_t max)
{
    const char *s;
    size_t n;
    uint64_t v;
    if (!s_rd_tok(R, &s, &n) || dmr_txn_tok_u64(s, n, &v) || v > max) {
        R->bad = 1;
        return 0;
    }
    return v;
}

static s_edge_t s_rd_edge(s_rd_t *R)
{
    s_edge_t e;
    e.from = s_rd_txn(R);
    e.to = s_rd_txn(R);
    e.kind = (uint8_t)s_rd_u64(R, DMR_ELLE_REALTIME);
    e.key = s_rd_key(R);
    e.v1 = s_rd_elem(R);
    e.v2 = s_rd_elem(R);
    if (e.from == UINT32_MAX || e.to == UINT32_MAX)
        R->bad = 1;
    return e;
}

int dmr_elle_wire_read_edge(dmr_elle_result_t *r, dmr_txn_hist_t *h,
                            const char *rec, size_t len,
                            dmr_elle_lookup_fn look, void *arg)
{
    s_rd_t R = {{rec, rec + len}, h, look, arg, 0};
    s_edge_t e = s_rd_edge(&R);
    const char *s;
    size_t n;
    if (R.bad || dmr_txn_tok(&R.tk, &s, &n))
        return -1;
    s_edge(r, e.from, e.to, e.kind, e.key, e.v1, e.v2);
    return 0;
}

static int s_type_find(const char *s, size_t n)
{
    for (int t = 0; t < A_N; t++)
        if (strlen(s_anoms[t]) == n && !memcmp(s_anoms[t], s, n))
            return t;
    return -1;
}

int dmr_elle_wire_read_anomaly(dmr_elle_result_t *r, dmr_txn_hist_t *h,
                               const char *rec, size_t len,
                               dmr_elle_lookup_fn look, void *arg)
{
    s_rd_t R = {{rec, rec + len}, h, look, arg, 0};
    const char *s;
    size_t n;
    s_rd_tok(&R, &s, &n);
    int type = s_type_find(s, n);
    if (type < 0)
        return -1;
    s_anom_t a = s_anom(type, s_rd_key(&R));
    for (int i = 0; i < 2; i++)
        a.t[i] = s_rd_txn(&R);
    for (int i = 0; i < 2; i++) {
        s_rd_tok(&R, &s, &n);
        if (n == 1 && *s == '~')
            continue;
        const char *colon = memchr(s, ':', n);
        uint64_t g, idx;
        uint32_t t;
        if (!colon || dmr_txn_tok_u64(s, (size_t)(colon - s), &g) ||
            dmr_txn_tok_u64(colon + 1, n - (size_t)(colon - s) - 1, &idx) ||
            look(arg, g, &t) || t >= h->ntxn || idx >= h->txns[t].nmop) {
            R.bad = 1;
            continue;
        }
        a.m[i] = h->txns[t].mop + (uint32_t)idx;
    }
    for (int i = 0; i < 2; i++)
        a.v[i] = s_rd_elem(&R);
    a.ncyc = (uint32_t)s_rd_u64(&R, 1u << 20);
    int hascyc = (int)s_rd_u64(&R, 1);
    if (hascyc && !R.bad) {
        a.cyc = dmr_malloc((a.ncyc + 1) * sizeof *a.cyc);
        for (uint32_t i = 0; i < a.ncyc && !R.bad; i++)
            a.cyc[i] = s_rd_edge(&R);
    }
    uint32_t nv = (uint32_t)s_rd_u64(&R, 1u << 20);
    if (nv && !R.bad) {
        if (nv != a.ncyc + 1)
            R.bad = 1;
        a.vals = dmr_malloc(nv * sizeof *a.vals);
        for (uint32_t i = 0; i < nv && !R.bad; i++)
            a.vals[i] = s_rd_elem(&R);
    }
    if (R.bad || dmr_txn_tok(&R.tk, &s, &n) || (hascyc && a.ncyc == 0)) {
        free(a.cyc);
        free(a.vals);
        return -1;
    }
    s_add(r, &a);
    return 0;
}

int dmr_elle_wire_read_count(dmr_elle_result_t *r, const char *rec,
                             size_t len)
{
    dmr_txn_tok_t tk = {rec, rec + len};
    const char *s, *c;
    size_t n, cn;
    uint64_t v;
    if (!dmr_txn_tok(&tk, &s, &n) || !dmr_txn_tok(&tk, &c, &cn) ||
        dmr_txn_tok_u64(c, cn, &v) || dmr_txn_tok(&tk, &c, &cn))
        return -1;
    int type = s_type_find(s, n);
    if (type < 0)
        return -1;
    r->count[type] += (size_t)v;
    if (v)
        r->found |= (uint64_t)1 << type;
    return 0;
}

/* Adds the transaction ids token s names (a plain id or "id:idx"). */
static size_t s_ids_tok(const char *s, size_t n, uint64_t *ids, size_t k,
                        size_t max)
{
    const char *colon = memchr(s, ':', n);
    uint64_t g;
    if (colon)
        n = (size_t)(colon - s);
    if (k < max && !dmr_txn_tok_u64(s, n, &g))
        ids[k++] = g;
    return k;
}

size_t dmr_elle_wire_txns(const char *rec, size_t len, uint64_t *ids,
                          size_t max)
{
    dmr_txn_tok_t tk = {rec, rec + len};
    const char *s;
    size_t n, k = 0;
    uint64_t ncyc = 0, has = 0;
    /* TYPE KEY T0 T1 M0 M1 V0 V1 NCYC HASCYC edges(6 each) ... */
    for (int i = 0; i < 10 && dmr_txn_tok(&tk, &s, &n); i++) {
        if (i >= 2 && i <= 5)
            k = s_ids_tok(s, n, ids, k, max);
        if (i == 8 && dmr_txn_tok_u64(s, n, &ncyc))
            return k;
        if (i == 9 && dmr_txn_tok_u64(s, n, &has))
            return k;
    }
    for (uint64_t e = 0; has && e < ncyc; e++)
        for (int i = 0; i < 6 && dmr_txn_tok(&tk, &s, &n); i++)
            if (i < 2)
                k = s_ids_tok(s, n, ids, k, max);
    return k;
}

void dmr_elle_set_summary(dmr_elle_result_t *r, const dmr_elle_summary_t *s)
{
    r->has_sum = 1;
    r->sum_txn = s->txns;
    r->sum_ok = s->ok;
    r->sum_fail = s->fail;
    r->sum_info = s->info;
    r->sum_edges = s->edges;
    r->nscc = s->sccs;
    r->sccmax = s->largest_scc;
    if (s->us > 0)
        r->us = s->us;
}

void dmr_elle_summary(const dmr_elle_result_t *r, dmr_elle_summary_t *s)
{
    memset(s, 0, sizeof *s);
    if (r->has_sum) {
        s->txns = r->sum_txn;
        s->ok = r->sum_ok;
        s->fail = r->sum_fail;
        s->info = r->sum_info;
        s->edges = r->sum_edges;
    } else {
        const dmr_txn_hist_t *h = r->h;
        s->txns = h->ntxn;
        for (size_t t = 0; t < h->ntxn; t++) {
            s->ok += h->txns[t].status == DMR_TXN_OK;
            s->fail += h->txns[t].status == DMR_TXN_FAIL;
            s->info += h->txns[t].status == DMR_TXN_INFO;
        }
        s->edges = r->ne;
    }
    s->sccs = r->nscc;
    s->largest_scc = r->sccmax;
    s->us = r->us;
}

/* ----------------------------------------------------------- reporting */

/* The transactions an anomaly names, in the order it names them. */
static size_t s_txns_of(const s_anom_t *a, uint32_t *t, size_t max)
{
    size_t n = 0;
    if (a->cyc) {
        for (size_t i = 0; i < a->ncyc && n < max; i++)
            t[n++] = a->cyc[i].from;
        return n;
    }
    for (int i = 0; i < 2; i++)
        if (a->t[i] != UINT32_MAX && (i == 0 || a->t[1] != a->t[0]))
            t[n++] = a->t[i];
    return n;
}

/* "T<i>" for txn t in the anomaly's list. */
static size_t s_tname(const uint32_t *ts, size_t n, uint32_t t)
{
    for (size_t i = 0; i < n; i++)
        if (ts[i] == t)
            return i + 1;
    return 0;
}

static void s_print_read(const dmr_txn_hist_t *h, uint32_t m, FILE *out)
{
    char vb[96];
    const dmr_mop_t *mo = &h->mops[m];
    if (h->workload == DMR_TXN_RW_REGISTER) {
        fputs(dmr_txn_elem_text(h, mo->v, vb, sizeof vb), out);
        return;
    }
    fputc('[', out);
    for (uint32_t i = 0; i < mo->n; i++) {
        if (i == 16 && mo->n > 20) {
            fprintf(out, " ... (%u more)", mo->n - 16);
            break;
        }
        fprintf(out, "%s%s", i ? " " : "",
                dmr_txn_elem_text(h, h->elems[mo->off + i], vb, sizeof vb));
    }
    fputc(']', out);
}

/* Why edge e holds, in a sentence after "Ta < Tb, because ". */
static void s_explain(const dmr_txn_hist_t *h, const s_edge_t *e, size_t a,
                      size_t b, FILE *out)
{
    char v1[96], v2[96];
    const char *k = e->key != UINT32_MAX ? dmr_txn_key_text(h, e->key) : "";
    int la = h->workload == DMR_TXN_LIST_APPEND;
    dmr_txn_elem_text(h, e->v1, v1, sizeof v1);
    dmr_txn_elem_text(h, e->v2, v2, sizeof v2);
    switch (e->kind) {
    case DMR_ELLE_WW:
        if (la)
            fprintf(out, "T%zu appended %s after T%zu appended %s to key %s",
                    b, v2, a, v1, k);
        else
            fprintf(out, "T%zu wrote key %s = %s after T%zu wrote %s", b, k,
                    v2, a, v1);
        break;
    case DMR_ELLE_WR:
        if (la)
            fprintf(out, "T%zu read key %s after T%zu appended %s to it", b, k,
                    a, v1);
        else
            fprintf(out, "T%zu read key %s = %s, which T%zu wrote", b, k, v1,
                    a);
        break;
    case DMR_ELLE_RW:
        if (la)
            fprintf(out, "T%zu did not observe T%zu's append of %s to key %s",
                    a, b, v1, k);
        else
            fprintf(out,
                    "T%zu read key %s = %s, and T%zu wrote %s, a later version",
                    a, k, v2, b, v1);
        break;
    case DMR_ELLE_PROCESS:
        fprintf(out, "process %" PRId64 " executed T%zu before T%zu",
                h->txns[e->from].process, a, b);
        break;
    default:
        fprintf(out, "T%zu completed (line %u) before T%zu was invoked "
                     "(line %u)",
                a, h->txns[e->from].line, b, h->txns[e->to].invline);
    }
}

static const char *const s_kind_names[] = {"ww", "wr", "rw", "process",
                                           "realtime"};

/* The anomaly's explanation (not a cycle), one sentence. */
static void s_describe(const dmr_txn_hist_t *h, const s_anom_t *a,
                       const uint32_t *ts, size_t nt, FILE *out)
{
    char v0[96], v1[96];
    const char *k = a->key != UINT32_MAX ? dmr_txn_key_text(h, a->key) : "";
    size_t t0 = a->t[0] != UINT32_MAX ? s_tname(ts, nt, a->t[0]) : 0;
    size_t t1 = a->t[1] != UINT32_MAX ? s_tname(ts, nt, a->t[1]) : 0;
    int la = h->workload == DMR_TXN_LIST_APPEND;
    dmr_txn_elem_text(h, a->v[0], v0, sizeof v0);
    dmr_txn_elem_text(h, a->v[1], v1, sizeof v1);
    switch (a->type) {
    case A_G1A:
        fprintf(out, "T%zu read key %s = ", t0, k);
        s_print_read(h, a->m[0], out);
        fprintf(out, "%s%s, %s by T%zu, which failed (an aborted read)",
                la ? ", which holds " : "", la ? v0 : "",
                la ? "appended" : "written", t1);
        break;
    case A_G1B:
        fprintf(out, "T%zu read key %s = ", t0, k);
        s_print_read(h, a->m[0], out);
        fprintf(out, ": %s %s by T%zu, which %s key %s again afterwards (an "
                     "intermediate read)",
                v0, la ? "was appended" : "was written", t1,
                la ? "appended to" : "wrote", k);
        break;
    case A_INTERNAL:
        fprintf(out, "T%zu read key %s = ", t0, k);
        s_print_read(h, a->m[0], out);
        if (la)
            fprintf(out, " at micro-op %u, which its own earlier reads and "
                         "appends of key %s contradict",
                    h->mops[a->m[0]].idx + 1, k);
        else
            fprintf(out, " at micro-op %u, but its own earlier micro-ops say "
                         "key %s = %s",
                    h->mops[a->m[0]].idx + 1, k, v0);
        break;
    case A_FUTURE:
        fprintf(out, "T%zu read key %s = ", t0, k);
        s_print_read(h, a->m[0], out);
        fprintf(out, ", which holds %s, a value T%zu itself %s later", v0, t0,
                la ? "appends" : "writes");
        break;
    case A_DUP:
        fprintf(out, "T%zu read key %s = ", t0, k);
        s_print_read(h, a->m[0], out);
        fprintf(out, ", in which %s appears more than once", v0);
        break;
    case A_INCOMPAT:
        fprintf(out, "key %s was read as ", k);
        s_print_read(h, a->m[0], out);
        fprintf(out, " by T%zu and as ", t0);
        s_print_read(h, a->m[1], out);
        fprintf(out, " by T%zu: the second is not a prefix of the first, so "
                     "the two cannot come from one order of appends",
                t1);
        break;
    case A_LOST:
        fprintf(out, "T%zu and T%zu both read key %s = ", t0, t1, k);
        s_print_read(h, a->m[0], out);
        fprintf(out, " and then both wrote it: one of the updates is lost");
        break;
    case A_DIRTY:
        fprintf(out, "key %s holds %s, appended by T%zu, which failed, and "
                     "after it %s, appended by T%zu, which did not",
                k, v0, t0, v1, t1);
        break;
    case A_CYCVER:
        fprintf(out, "the versions of key %s are ordered in a cycle: ", k);
        for (uint32_t i = 0; i <= a->ncyc; i++)
            fprintf(out, "%s%s", i ? " < " : "",
                    dmr_txn_elem_text(h, a->vals[i], v0, sizeof v0));
        break;
    default:
        fprintf(out, "%s", s_anoms[a->type]);
    }
}

static const char *s_status_name(int s)
{
    return s == DMR_TXN_OK ? "ok" : s == DMR_TXN_FAIL ? "fail" : "info";
}

static void s_models_list(uint64_t ms, FILE *out, int json)
{
    int first = 1;
    for (size_t m = 0; m < M_N; m++)
        if (ms >> m & 1) {
            fprintf(out, json ? "%s\"%s\"" : "%s%s",
                    first ? "" : json ? "," : ", ", s_models[m]);
            first = 0;
        }
}

void dmr_elle_print_text(const dmr_elle_result_t *r, size_t max_shown,
                         FILE *out)
{
    const dmr_txn_hist_t *h = r->h;
    dmr_elle_summary_t sum;
    dmr_elle_summary(r, &sum);
    uint64_t imp = s_impossible(r->found), not_ = s_weakest(imp);
    if (dmr_elle_valid(r)) {
        fprintf(out, "%s: valid: ", h->name);
        s_models_list(r->o.models, out, 0);
    } else {
        fprintf(out, "%s: NOT ", h->name);
        s_models_list(not_, out, 0);
    }
    fprintf(out, " (%s; %zu transactions: %zu ok, %zu failed, %zu info)\n",
            dmr_txn_workload_name(h->workload), sum.txns, sum.ok, sum.fail,
            sum.info);
    if (imp & ~not_) {
        fprintf(out, "  also not: ");
        s_models_list(imp & ~not_, out, 0);
        fputc('\n', out);
    }
    if (!r->found)
        return;
    fprintf(out, "  anomalies:");
    for (size_t a = 0; a < A_N; a++)
        if (r->found >> a & 1)
            fprintf(out, " %s (%zu)", s_anoms[a], r->count[a]);
    fputc('\n', out);
    for (size_t a = 0; a < A_N; a++) {
        size_t shown = 0;
        for (size_t i = 0; i < r->nan; i++) {
            const s_anom_t *an = &r->an[i];
            if (an->type != a)
                continue;
            if (shown == max_shown) {
                fprintf(out, "  ... %zu more %s\n", r->count[a] - shown,
                        s_anoms[a]);
                break;
            }
            shown++;
            uint32_t ts[64];
            size_t nt = s_txns_of(an, ts, 64);
            if (an->cyc)
                fprintf(out, "  %s #%zu: a cycle of %u transactions\n",
                        s_anoms[a], shown, an->ncyc);
            else
                fprintf(out, "  %s #%zu\n", s_anoms[a], shown);
            if (nt)
                fprintf(out, "    Let:\n");
            for (size_t k = 0; k < nt; k++) {
                const dmr_txn_t *tx = &h->txns[ts[k]];
                fprintf(out, "      T%zu = line %u, process ", k + 1, tx->line);
                if (tx->process >= 0)
                    fprintf(out, "%" PRId64, tx->process);
                else
                    fprintf(out, "?");
                fprintf(out, ", %s: ", s_status_name(tx->status));
                dmr_txn_print_value(h, ts[k], 200, out);
                fputc('\n', out);
            }
            fprintf(out, "    Then:\n");
            if (!an->cyc) {
                fprintf(out, "      - ");
                s_describe(h, an, ts, nt, out);
                fprintf(out, ".\n");
                continue;
            }
            for (size_t k = 0; k < an->ncyc; k++) {
                size_t x = k + 1, y = (k + 1) % an->ncyc + 1;
                fprintf(out, "      - %sT%zu < T%zu, because ",
                        k + 1 == an->ncyc ? "However, " : "", x, y);
                s_explain(h, &an->cyc[k], x, y, out);
                fprintf(out, k + 1 == an->ncyc ? ": a cycle.\n" : ".\n");
            }
        }
    }
}

static void s_json_str(const char *s, FILE *out)
{
    dmr_json_str(s, out);
}


void dmr_elle_print_json(const dmr_elle_result_t *r, FILE *out)
{
    const dmr_txn_hist_t *h = r->h;
    char vb[96];
    dmr_elle_summary_t sum;
    dmr_elle_summary(r, &sum);
    uint64_t imp = s_impossible(r->found), not_ = s_weakest(imp);
    fprintf(out, "{\"file\":");
    s_json_str(h->name, out);
    fprintf(out, ",\"workload\":\"%s\",\"valid\":%s,\"checked\":[",
            dmr_txn_workload_name(h->workload),
            dmr_elle_valid(r) ? "true" : "false");
    s_models_list(r->o.models, out, 1);
    fprintf(out, "],\"anomaly_types\":[");
    int first = 1;
    for (size_t a = 0; a < A_N; a++)
        if (r->found >> a & 1) {
            fprintf(out, "%s\"%s\"", first ? "" : ",", s_anoms[a]);
            first = 0;
        }
    fprintf(out, "],\"anomalies\":{");
    first = 1;
    for (size_t a = 0; a < A_N; a++) {
        if (!(r->found >> a & 1))
            continue;
        fprintf(out, "%s\"%s\":[", first ? "" : ",", s_anoms[a]);
        first = 0;
        int f2 = 1;
        for (size_t i = 0; i < r->nan; i++) {
            const s_anom_t *an = &r->an[i];
            if (an->type != a)
                continue;
            uint32_t ts[64];
            size_t nt = s_txns_of(an, ts, 64);
            fprintf(out, "%s{\"txns\":[", f2 ? "" : ",");
            f2 = 0;
            for (size_t k = 0; k < nt; k++) {
                const dmr_txn_t *tx = &h->txns[ts[k]];
                fprintf(out, "%s{\"name\":\"T%zu\",\"line\":%u,\"process\":",
                        k ? "," : "", k + 1, tx->line);
                if (tx->process >= 0)
                    fprintf(out, "%" PRId64, tx->process);
                else
                    fputs("null", out); /* the history gave none */
                fprintf(out, ",\"index\":%" PRId64 ",\"type\":\"%s\",\"value\":",
                        tx->index, s_status_name(tx->status));
                DMR_JSON_TEXT(out, dmr_txn_print_value(h, ts[k], 400, mf));
                fputc('}', out);
            }
            fputc(']', out);
            if (an->key != UINT32_MAX) {
                fprintf(out, ",\"key\":");
                s_json_str(dmr_txn_key_text(h, an->key), out);
            }
            if (an->cyc) {
                fprintf(out, ",\"cycle\":[");
                for (size_t k = 0; k < an->ncyc; k++) {
                    const s_edge_t *e = &an->cyc[k];
                    size_t x = k + 1, y = (k + 1) % an->ncyc + 1;
                    fprintf(out, "%s{\"from\":\"T%zu\",\"to\":\"T%zu\","
                                 "\"type\":\"%s\"",
                            k ? "," : "", x, y, s_kind_names[e->kind]);
                    if (e->key != UINT32_MAX) {
                        fprintf(out, ",\"key\":");
                        s_json_str(dmr_txn_key_text(h, e->key), out);
                        fprintf(out, ",\"value\":");
                        s_json_str(dmr_txn_elem_text(h, e->v1, vb, sizeof vb),
                                   out);
                    }
                    fprintf(out, ",\"explanation\":");
                    DMR_JSON_TEXT(out, s_explain(h, e, x, y, mf));
                    fputc('}', out);
                }
                fputc(']', out);
            } else {
                fprintf(out, ",\"explanation\":");
                DMR_JSON_TEXT(out, s_describe(h, an, ts, nt, mf));
            }
            fputc('}', out);
        }
        fputc(']', out);
    }
    fprintf(out, "},\"counts\":{");
    first = 1;
    for (size_t a = 0; a < A_N; a++)
        if (r->found >> a & 1) {
            fprintf(out, "%s\"%s\":%zu", first ? "" : ",", s_anoms[a],
                    r->count[a]);
            first = 0;
        }
    fprintf(out, "},\"not\":[");
    s_models_list(not_, out, 1);
    fprintf(out, "],\"also_not\":[");
    s_models_list(imp & ~not_, out, 1);
    fprintf(out,
            "],\"txns\":%zu,\"edges\":%zu,\"sccs\":%zu,\"largest_scc\":%zu,"
            "\"us\":%.0f}",
            sum.txns, sum.edges, sum.sccs, sum.largest_scc, r->us);
}

/* ------------------------------------------------------------------ html */

static void s_html_str(const char *s, FILE *out)
{
    dmr_html_esc(out, s);
}

/* Runs stmt into a memory stream mf and writes what it wrote, escaped. */
#define HTML_TEXT(out, stmt)                                                   \
    do {                                                                       \
        char *buf_ = NULL;                                                     \
        size_t len_ = 0;                                                       \
        FILE *mf = open_memstream(&buf_, &len_);                               \
        stmt;                                                                  \
        fclose(mf);                                                            \
        s_html_str(buf_ ? buf_ : "", out);                                     \
        free(buf_);                                                            \
    } while (0)

static const char *const s_kind_colors[] = {"#1f6fb2", "#2e8b57", "#c0392b",
                                            "#7d3c98", "#b9770e"};

/* One witness cycle as an SVG graph: the transactions on a circle, each
 * edge an arrow labelled with its kind and key, its sentence as a
 * tooltip. */
static void s_svg_cycle(const dmr_txn_hist_t *h, const s_anom_t *an,
                        const uint32_t *ts, size_t nt, FILE *out)
{
    size_t n = an->ncyc;
    double rad = n <= 2 ? 70 : 45.0 * (double)n / 3.14159 + 40;
    if (rad > 320)
        rad = 320;
    double w = 2 * rad + 160, hgt = 2 * rad + 80, cx = w / 2, cy = hgt / 2;
    fprintf(out,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' "
            "height='%.0f' viewBox='0 0 %.0f %.0f'>\n",
            w, hgt, w, hgt);
    double px[64], py[64];
    for (size_t i = 0; i < n && i < 64; i++) {
        double a = -3.14159 / 2 + 2 * 3.14159 * (double)i / (double)n;
        px[i] = cx + rad * cos(a);
        py[i] = cy + rad * sin(a);
    }
    for (size_t k = 0; k < n && k < 64; k++) {
        const s_edge_t *e = &an->cyc[k];
        size_t x = s_tname(ts, nt, e->from), y = s_tname(ts, nt, e->to);
        if (!x || !y)
            continue;
        double x1 = px[x - 1], y1 = py[x - 1], x2 = px[y - 1], y2 = py[y - 1];
        double dx = x2 - x1, dy = y2 - y1, len = sqrt(dx * dx + dy * dy);
        if (len < 1)
            len = 1;
        /* a curve bowed to the left of the edge's direction, so that the
         * two edges of a 2-cycle do not overlap */
        double mx = (x1 + x2) / 2 - dy / len * 30, my = (y1 + y2) / 2 + dx / len * 30;
        /* ends on the nodes' rims (radius 20, and 2 for the arrow) */
        double d1 = hypot(mx - x1, my - y1), d2 = hypot(mx - x2, my - y2);
        double sx = x1 + (mx - x1) * 21 / d1, sy = y1 + (my - y1) * 21 / d1;
        double ex = x2 + (mx - x2) * 23 / d2, ey = y2 + (my - y2) * 23 / d2;
        const char *col = s_kind_colors[e->kind < 5 ? e->kind : 0];
        fprintf(out, "<g><title>");
        HTML_TEXT(out, fprintf(mf, "T%zu < T%zu, because ", x, y);
                  s_explain(h, e, x, y, mf));
        fprintf(out,
                "</title><path d='M%.1f %.1f Q%.1f %.1f %.1f %.1f' fill='none' "
                "stroke='%s' stroke-width='2' marker-end='url(#a%s)'/>",
                sx, sy, mx, my, ex, ey, col, s_kind_names[e->kind]);
        fprintf(out,
                "<text x='%.1f' y='%.1f' fill='%s' font-size='12' "
                "text-anchor='middle'>%s",
                (mx + (x1 + x2) / 2) / 2, (my + (y1 + y2) / 2) / 2 - 4, col,
                s_kind_names[e->kind]);
        if (e->key != UINT32_MAX) {
            fputs(" ", out);
            s_html_str(dmr_txn_key_text(h, e->key), out);
        }
        fprintf(out, "</text></g>\n");
    }
    fputs("<defs>", out);
    for (size_t k = 0; k < 5; k++)
        fprintf(out,
                "<marker id='a%s' viewBox='0 0 10 10' refX='9' refY='5' "
                "markerWidth='7' markerHeight='7' orient='auto'><path "
                "d='M0 0L10 5L0 10z' fill='%s'/></marker>",
                s_kind_names[k], s_kind_colors[k]);
    fputs("</defs>\n", out);
    for (size_t i = 0; i < n && i < 64; i++) {
        const dmr_txn_t *tx = &h->txns[ts[i]];
        fprintf(out, "<g><title>T%zu = line %u: ", i + 1, tx->line);
        HTML_TEXT(out, dmr_txn_print_value(h, ts[i], 300, mf));
        fprintf(out,
                "</title><circle cx='%.1f' cy='%.1f' r='20' fill='#fff' "
                "stroke='#333' stroke-width='1.5'/><text x='%.1f' y='%.1f' "
                "font-size='13' text-anchor='middle'>T%zu</text></g>\n",
                px[i], py[i], px[i], py[i] + 4.5, i + 1);
    }
    fputs("</svg>\n", out);
}

void dmr_elle_print_html(const dmr_elle_result_t *r, size_t max_shown,
                         FILE *out)
{
    const dmr_txn_hist_t *h = r->h;
    fputs("<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>", out);
    s_html_str(h->name, out);
    fputs("</title><style>body{font:14px sans-serif;margin:1.5em;color:#222}"
          "h1{font-size:18px}h2{font-size:16px;margin-top:1.6em}"
          "pre{background:#f6f6f6;padding:.6em;overflow-x:auto}"
          ".w{border-top:1px solid #ddd;padding-top:.6em;margin-top:.8em}"
          "table{border-collapse:collapse}td{padding:1px 8px;vertical-align:top;"
          "font-family:monospace}</style></head><body>\n<h1>",
          out);
    HTML_TEXT(out, {
        /* the verdict line of the text report */
        char *b = NULL;
        size_t l = 0;
        FILE *t = open_memstream(&b, &l);
        dmr_elle_print_text(r, 0, t);
        fclose(t);
        char *nl = b ? strchr(b, '\n') : NULL;
        if (nl)
            *nl = 0;
        fputs(b ? b : "", mf);
        free(b);
    });
    fputs("</h1>\n<pre>", out);
    HTML_TEXT(out, {
        char *b = NULL;
        size_t l = 0;
        FILE *t = open_memstream(&b, &l);
        dmr_elle_print_text(r, 0, t);
        fclose(t);
        /* the lines after the first: also not, anomalies and counts */
        char *nl = b ? strchr(b, '\n') : NULL;
        for (char *p = nl ? nl + 1 : NULL; p && *p;) {
            char *e = strchr(p, '\n');
            size_t n = e ? (size_t)(e - p + 1) : strlen(p);
            if (strncmp(p, "  ... ", 6))
                fwrite(p, 1, n, mf);
            p += n;
        }
        free(b);
    });
    fputs("</pre>\n", out);
    fputs("<p>Edges: <span style='color:#1f6fb2'>ww</span> (T2 overwrote T1), "
          "<span style='color:#2e8b57'>wr</span> (T2 read T1's write), "
          "<span style='color:#c0392b'>rw</span> (T2 overwrote what T1 read), "
          "<span style='color:#7d3c98'>process</span>, "
          "<span style='color:#b9770e'>realtime</span>. Hover over a node or "
          "an edge for its transaction or the reason.</p>\n",
          out);
    size_t total = 0;
    for (size_t a = 0; a < A_N; a++) {
        if (!(r->found >> a & 1))
            continue;
        fprintf(out, "<h2>%s (%zu)</h2>\n", s_anoms[a], r->count[a]);
        size_t shown = 0;
        for (size_t i = 0; i < r->nan; i++) {
            const s_anom_t *an = &r->an[i];
            if (an->type != a)
                continue;
            if (shown == max_shown || total == 200) {
                fprintf(out, "<p>... %zu more not drawn (--max-witnesses)</p>\n",
                        r->count[a] - shown);
                break;
            }
            shown++;
            total++;
            uint32_t ts[64];
            size_t nt = s_txns_of(an, ts, 64);
            fputs("<div class='w'>", out);
            if (an->cyc && an->ncyc <= 64)
                s_svg_cycle(h, an, ts, nt, out);
            fputs("<table>", out);
            for (size_t k = 0; k < nt; k++) {
                const dmr_txn_t *tx = &h->txns[ts[k]];
                fprintf(out, "<tr><td>T%zu</td><td>line %u</td><td>", k + 1,
                        tx->line);
                HTML_TEXT(out, dmr_txn_print_value(h, ts[k], 300, mf));
                fputs("</td></tr>", out);
            }
            fputs("</table><ul>", out);
            if (!an->cyc) {
                fputs("<li>", out);
                HTML_TEXT(out, s_describe(h, an, ts, nt, mf));
                fputs("</li>", out);
            }
            for (size_t k = 0; an->cyc && k < an->ncyc; k++) {
                size_t x = k + 1, y = (k + 1) % an->ncyc + 1;
                fputs("<li>", out);
                HTML_TEXT(out, fprintf(mf, "%sT%zu < T%zu, because ",
                                       k + 1 == an->ncyc ? "However, " : "",
                                       x, y);
                          s_explain(h, &an->cyc[k], x, y, mf));
                fputs("</li>", out);
            }
            fputs("</ul></div>\n", out);
        }
    }
    fputs("</body></html>\n", out);
}
