/* merge.c -- k-way merge of sorted runs, grouped by key.
 *
 * A binary min-heap holds the inputs that have a current record, ordered
 * by (key per cmp, input number). The group's key is copied into a
 * merge-owned buffer, because the reader that supplied it moves on while
 * the group's values are read. The values iterator hands out the top
 * input's current value and advances that input lazily -- on the next
 * call -- so each value slice stays valid until the next call.
 *
 * Order: keys ascending per cmp; within a key, values input by input in
 * the order dmr_merge_add saw the inputs, and within an input in run
 * order. With keys that compare equal but differ in bytes, the group's key
 * is the first one in that order.
 *
 * An exhausted reader is destroyed at once (closing its file). A reader
 * error is sticky: the values iterator returns 0 and every later
 * dmr_merge_next returns the error. Single-threaded. */
#include "shuffle/merge.h"

#include <stdlib.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"

typedef struct {
    dmr_run_reader_t *r; /* NULL once exhausted */
    dmr_slice key;       /* current record, valid while in the heap */
    dmr_slice val;
    uint64_t pfx; /* default order: key's first 8 bytes, big-endian */
} s_input;

struct dmr_merge {
    dmr_values vals; /* must be first: the iterator handed to callers */
    dmr_cmp_fn cmp;
    int dflt;      /* cmp is dmr_key_compare: key prefixes decide first */
    uint64_t gpfx; /* the group key's prefix, when dflt */
    s_input *in;   /* inputs, in the order added */
    size_t nin, capin;
    size_t *heap; /* indices into in[] of inputs with a record */
    size_t nheap;
    dmr_buf_t key;  /* the current group's key */
    int started;    /* inputs primed; no more dmr_merge_add */
    int in_group;   /* the values iterator may still yield */
    int taken;      /* the top input's value was handed out */
    int fresh;      /* the top input's key is the group key itself */
    int err;        /* sticky reader error */
    long bad;       /* the input whose reader failed, or -1 */
    uint64_t spent; /* bytes of the inputs already exhausted */
};

static int s_less(const dmr_merge_t *m, size_t a, size_t b)
{
    const s_input *x = &m->in[a], *y = &m->in[b];
    int c = m->dflt ? dmr_key_compare_prefixed(x->key, x->pfx, y->key, y->pfx)
                    : m->cmp(x->key, y->key);
    return c != 0 ? c < 0 : a < b;
}

static void s_sift_down(dmr_merge_t *m, size_t i)
{
    size_t *h = m->heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m->nheap)
            break;
        if (c + 1 < m->nheap && s_less(m, h[c + 1], h[c]))
            c++;
        if (!s_less(m, h[c], h[i]))
            break;
        size_t t = h[c];
        h[c] = h[i];
        h[i] = t;
        i = c;
    }
}

/* Advances input i: 1 if it has a record, 0 if it ended (and was
 * destroyed), or a reader error. */
static int s_advance(dmr_merge_t *m, size_t i)
{
    s_input *in = &m->in[i];
    int rc = dmr_run_reader_next(in->r, &in->key, &in->val);
    if (rc == 1 && m->dflt)
        in->pfx = dmr_key_prefix(in->key.ptr, in->key.len);
    if (rc == 0) {
        m->spent += dmr_run_reader_consumed(in->r);
        dmr_run_reader_destroy(&in->r);
    }
    if (rc < 0 && m->bad < 0)
        m->bad = (long)i;
    return rc;
}

/* Reads the first record of every input and builds the heap. */
static int s_prime(dmr_merge_t *m)
{
    m->started = 1;
    m->heap = dmr_calloc(m->nin, sizeof *m->heap);
    for (size_t i = 0; i < m->nin; i++) {
        int rc = s_advance(m, i);
        if (rc < 0)
            return rc;
        if (rc == 1)
            m->heap[m->nheap++] = i;
    }
    for (size_t i = m->nheap / 2; i-- > 0;)
        s_sift_down(m, i);
    return 0;
}

/* Moves the top input past the record it handed out. */
static int s_pop_taken(dmr_merge_t *m)
{
    m->taken = 0;
    int rc = s_advance(m, m->heap[0]);
    if (rc < 0)
        return rc;
    if (rc == 0)
        m->heap[0] = m->heap[--m->nheap];
    s_sift_down(m, 0);
    return 0;
}

static int s_values_next(dmr_values *self, dmr_slice *out)
{
    dmr_merge_t *m = (dmr_merge_t *)self;
    if (!m->in_group)
        return 0;
    if (m->taken) {
        int rc = s_pop_taken(m);
        if (rc < 0) {
            m->err = rc;
            m->in_group = 0;
            return 0;
        }
    }
    if (m->nheap == 0)
        goto end;
    s_input *top = &m->in[m->heap[0]];
    if (!m->fresh) {
        dmr_slice gk = {m->key.data, m->key.len};
        if (m->dflt ? top->pfx != m->gpfx || top->key.len != gk.len ||
                          (gk.len > 8 && m->cmp(top->key, gk) != 0)
                    : m->cmp(top->key, gk) != 0)
            goto end;
    }
    m->fresh = 0;
    m->taken = 1;
    *out = top->val;
    return 1;
end:
    m->in_group = 0;
    return 0;
}

dmr_merge_t *dmr_merge_new(dmr_cmp_fn cmp)
{
    dmr_merge_t *m = dmr_calloc(1, sizeof *m);
    m->vals.next = s_values_next;
    m->cmp = cmp ? cmp : dmr_key_compare;
    m->dflt = m->cmp == dmr_key_compare;
    m->bad = -1;
    return m;
}

uint64_t dmr_merge_consumed(const dmr_merge_t *m)
{
    uint64_t n = m->spent;
    for (size_t i = 0; i < m->nin; i++)
        if (m->in[i].r)
            n += dmr_run_reader_consumed(m->in[i].r);
    return n;
}

long dmr_merge_failed_input(const dmr_merge_t *m)
{
    return m->bad;
}

void dmr_merge_add(dmr_merge_t *m, dmr_run_reader_t *r)
{
    DMR_ASSERT(!m->started && r != NULL);
    if (m->nin == m->capin) {
        m->capin = m->capin ? 2 * m->capin : 8;
        m->in = dmr_realloc(m->in, m->capin * sizeof *m->in);
    }
    m->in[m->nin++] = (s_input){.r = r};
}

int dmr_merge_next(dmr_merge_t *m, dmr_slice *key, dmr_values **vals)
{
    if (m->err)
        return m->err;
    if (!m->started) {
        int rc = s_prime(m);
        if (rc < 0) {
            m->err = rc;
            return rc;
        }
    }
    /* Skip what the caller left of the previous group. */
    dmr_slice skip;
    while (s_values_next(&m->vals, &skip) == 1)
        ;
    if (m->err)
        return m->err;
    if (m->nheap == 0)
        return 0;

    s_input *top = &m->in[m->heap[0]];
    dmr_buf_clear(&m->key);
    dmr_buf_append(&m->key, top->key.ptr, top->key.len);
    m->gpfx = top->pfx;
    m->in_group = 1;
    m->fresh = 1;
    *key = (dmr_slice){m->key.data, m->key.len};
    *vals = &m->vals;
    return 1;
}

void dmr_merge_destroy(dmr_merge_t **mp)
{
    dmr_merge_t *m = *mp;
    if (!m)
        return;
    for (size_t i = 0; i < m->nin; i++)
        dmr_run_reader_destroy(&m->in[i].r);
    free(m->in);
    free(m->heap);
    dmr_buf_free(&m->key);
    free(m);
    *mp = NULL;
}
