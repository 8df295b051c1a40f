/* value.c -- history values: the arena they live in, lookups, equality and
 * printing as EDN or JSON (see value.h).
 *
 * The arena is a list of chunks, each obtained zeroed from dmr_calloc and
 * filled front to back; nothing is freed before the whole arena is (or
 * reset, which keeps one ordinary chunk and zeroes what was used of it).
 * A request larger than a quarter of a chunk gets a chunk of its own,
 * linked behind the current one so the current one keeps filling. Chunk
 * data starts 16-aligned. dmr_arena_alloc hands out 16-aligned blocks;
 * values (8-aligned) and strings (unaligned) pack tighter, because the
 * pages a large history touches are much of the cost of reading it.
 *
 * dmr_arena_intern keeps a small direct-mapped cache, by hash, of the
 * short strings it copied; a reset empties it by moving to a new epoch.
 *
 * The three printers share one output sink that writes either to a FILE,
 * to a fixed buffer (cut, then marked with "...") or to a growing heap
 * string. */
#include "check/value.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"

/* ---- arena ------------------------------------------------------------ */

#define S_ALIGN 16
#define S_CHUNK (64 * 1024) /* data bytes of an ordinary chunk */
#define S_INTERN_MAX 32     /* longest string dmr_arena_intern shares */
#define S_INTERN_SLOTS 256  /* its cache; a power of two */

typedef struct s_chunk s_chunk_t;
struct s_chunk {
    _Alignas(S_ALIGN) s_chunk_t *next; /* the header's size is a multiple
                                          of S_ALIGN; data follows it */
    size_t size;                       /* data bytes */
    size_t used;
};

struct dmr_arena {
    s_chunk_t *head; /* the chunk being filled; then older ones */
    uint32_t epoch;  /* counts resets; a slot of an older epoch is empty */
    struct {
        const char *s;
        size_t n;
        uint32_t epoch;
    } interned[S_INTERN_SLOTS]; /* strings by hash, the latest wins */
};

_Static_assert(sizeof(s_chunk_t) % S_ALIGN == 0, "chunk header alignment");

static s_chunk_t *s_chunk_new(size_t size)
{
    s_chunk_t *c = dmr_calloc(1, sizeof(s_chunk_t) + size);
    c->size = size;
    return c;
}

dmr_arena_t *dmr_arena_new(void)
{
    return dmr_calloc(1, sizeof(dmr_arena_t));
}

void dmr_arena_destroy(dmr_arena_t **pa)
{
    if (!pa || !*pa)
        return;
    s_chunk_t *c = (*pa)->head;
    while (c) {
        s_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    DMR_FREE(pa);
}

void dmr_arena_reset(dmr_arena_t *a)
{
    s_chunk_t *keep = NULL, *c = a->head;
    while (c) {
        s_chunk_t *next = c->next;
        if (!keep && c->size == S_CHUNK) {
            keep = c;
        } else {
            free(c);
        }
        c = next;
    }
    if (keep) {
        memset(keep + 1, 0, keep->used);
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->epoch++;
}

/* s_alloc when the current chunk has no room: a new chunk. */
__attribute__((noinline)) static void *s_alloc_chunk(dmr_arena_t *a, size_t n)
{
    DMR_ASSERT(n <= SIZE_MAX / 2);
    s_chunk_t *c = a->head;
    size_t size = (n + S_ALIGN - 1) & ~(size_t)(S_ALIGN - 1);
    if (size > S_CHUNK / 4 && c) {
        /* a chunk of its own, behind the one being filled */
        s_chunk_t *big = s_chunk_new(size);
        big->next = c->next;
        c->next = big;
        big->used = size;
        return big + 1;
    }
    c = s_chunk_new(size > S_CHUNK ? size : S_CHUNK);
    c->next = a->head;
    a->head = c;
    c->used = n;
    return c + 1;
}

/* n zeroed bytes at a multiple of align (a power of two, at most S_ALIGN).
 * Values and strings pack tighter than 16 (fewer pages to touch, which is
 * much of the cost of reading a large history). */
static void *s_alloc(dmr_arena_t *a, size_t n, size_t align)
{
    s_chunk_t *c = a->head;
    if (c) { /* the common case: it fits in the current chunk */
        size_t at = (c->used + align - 1) & ~(align - 1);
        if (at <= c->size && n <= c->size - at) {
            c->used = at + n;
            return (unsigned char *)(c + 1) + at;
        }
    }
    return s_alloc_chunk(a, n);
}

void *dmr_arena_alloc(dmr_arena_t *a, size_t n)
{
    return s_alloc(a, n ? n : 1, S_ALIGN);
}

char *dmr_arena_strndup(dmr_arena_t *a, const char *s, size_t n)
{
    DMR_ASSERT(n < SIZE_MAX / 2);
    char *p = s_alloc(a, n + 1, 1);
    if (n)
        memcpy(p, s, n);
    return p; /* zeroed: p[n] is NUL */
}

const char *dmr_arena_intern(dmr_arena_t *a, const char *s, size_t n)
{
    if (n > S_INTERN_MAX)
        return dmr_arena_strndup(a, s, n);
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    h = (h ^ (uint32_t)n) & (S_INTERN_SLOTS - 1);
    if (a->interned[h].s && a->interned[h].epoch == a->epoch &&
        a->interned[h].n == n && memcmp(a->interned[h].s, s, n) == 0)
        return a->interned[h].s;
    char *p = dmr_arena_strndup(a, s, n);
    a->interned[h].s = p;
    a->interned[h].n = n;
    a->interned[h].epoch = a->epoch;
    return p;
}

/* ---- helpers ---------------------------------------------------------- */

static int s_is_text(const dmr_val_t *v)
{
    return v->type == DMR_V_STR || v->type == DMR_V_KW;
}

int dmr_val_is_name(const dmr_val_t *v, const char *name)
{
    if (!v || !s_is_text(v))
        return 0;
    size_t n = strlen(name);
    return v->u.str.len == n && memcmp(v->u.str.s, name, n) == 0;
}

const dmr_val_t *dmr_val_get(const dmr_val_t *map, const char *name)
{
    if (!map || map->type != DMR_V_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < map->u.seq.n; i += 2)
        if (dmr_val_is_name(map->u.seq.items[i], name))
            return map->u.seq.items[i + 1];
    return NULL;
}

int dmr_val_is_seq(const dmr_val_t *v)
{
    return v && (v->type == DMR_V_VEC || v->type == DMR_V_LIST);
}

/* 1 if the set or vector s holds an item equal to v. */
static int s_has_item(const dmr_val_t *s, const dmr_val_t *v)
{
    for (size_t i = 0; i < s->u.seq.n; i++)
        if (dmr_val_equal(s->u.seq.items[i], v))
            return 1;
    return 0;
}

/* 1 if map m holds a pair equal to k, v. */
static int s_has_pair(const dmr_val_t *m, const dmr_val_t *k,
                      const dmr_val_t *v)
{
    for (size_t i = 0; i + 1 < m->u.seq.n; i += 2)
        if (dmr_val_equal(m->u.seq.items[i], k) &&
            dmr_val_equal(m->u.seq.items[i + 1], v))
            return 1;
    return 0;
}

/* 1 if every item (step 1) or pair (step 2) of a is found in b. */
static int s_unordered_in(const dmr_val_t *a, const dmr_val_t *b, size_t step)
{
    for (size_t i = 0; i + step <= a->u.seq.n; i += step)
        if (step == 1
                ? !s_has_item(b, a->u.seq.items[i])
                : !s_has_pair(b, a->u.seq.items[i], a->u.seq.items[i + 1]))
            return 0;
    return 1;
}

int dmr_val_equal(const dmr_val_t *a, const dmr_val_t *b)
{
    if (a == b)
        return 1;
    if (!a || !b)
        return 0;
    if (s_is_text(a) && s_is_text(b))
        return a->u.str.len == b->u.str.len &&
               memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
    if (dmr_val_is_seq(a) && dmr_val_is_seq(b)) {
        if (a->u.seq.n != b->u.seq.n)
            return 0;
        for (size_t i = 0; i < a->u.seq.n; i++)
            if (!dmr_val_equal(a->u.seq.items[i], b->u.seq.items[i]))
                return 0;
        return 1;
    }
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case DMR_V_NIL: return 1;
    case DMR_V_BOOL: return !a->u.b == !b->u.b;
    case DMR_V_INT: return a->u.i == b->u.i;
    case DMR_V_SYM:
        return a->u.str.len == b->u.str.len &&
               memcmp(a->u.str.s, b->u.str.s, a->u.str.len) == 0;
    case DMR_V_SET:
    case DMR_V_MAP: {
        size_t step = a->type == DMR_V_MAP ? 2 : 1;
        return a->u.seq.n == b->u.seq.n && s_unordered_in(a, b, step) &&
               s_unordered_in(b, a, step);
    }
    default: return 0; /* text and sequences were handled above */
    }
}

const char *dmr_val_type_name(dmr_vtype_t t)
{
    switch (t) {
    case DMR_V_NIL: return "nil";
    case DMR_V_BOOL: return "boolean";
    case DMR_V_INT: return "integer";
    case DMR_V_STR: return "string";
    case DMR_V_KW: return "keyword";
    case DMR_V_SYM: return "symbol";
    case DMR_V_VEC: return "vector";
    case DMR_V_LIST: return "list";
    case DMR_V_SET: return "set";
    case DMR_V_MAP: return "map";
    }
    return "unknown";
}

/* ---- printing --------------------------------------------------------- */

/* Where printed text goes: f, else buf. A fixed buf (grow == 0) keeps at
 * most cap - 1 bytes and sets full when text was cut; a growing buf is
 * reallocated as needed. */
typedef struct {
    FILE *f;
    char *buf;
    size_t cap;
    size_t used;
    int grow;
    int full;
} s_out_t;

static void s_put(s_out_t *o, const char *s, size_t n)
{
    if (o->f) {
        fwrite(s, 1, n, o->f);
        return;
    }
    if (o->grow && o->cap - o->used <= n) {
        while (o->cap - o->used <= n)
            o->cap = o->cap ? 2 * o->cap : 64;
        o->buf = dmr_realloc(o->buf, o->cap);
    }
    if (o->full)
        return;
    size_t room = o->cap - 1 - o->used;
    if (n > room) {
        n = room;
        o->full = 1;
    }
    memcpy(o->buf + o->used, s, n);
    o->used += n;
}

static void s_puts(s_out_t *o, const char *s)
{
    s_put(o, s, strlen(s));
}

/* s as a quoted string, escaped for EDN or JSON (the same rules serve
 * both: \" \\ \n \t \r, and \uXXXX for other control bytes). */
static void s_put_quoted(s_out_t *o, const char *s, size_t n)
{
    s_put(o, "\"", 1);
    size_t run = 0; /* start of the bytes not yet written */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[8];
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\t': esc = "\\t"; break;
        case '\r': esc = "\\r"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                snprintf(u, sizeof u, "\\u%04x", c);
                esc = u;
            }
        }
        if (esc) {
            s_put(o, s + run, i - run);
            s_puts(o, esc);
            run = i + 1;
        }
    }
    s_put(o, s + run, n - run);
    s_put(o, "\"", 1);
}

static void s_print(s_out_t *o, const dmr_val_t *v, int json);

/* The items of a sequence between open and close, separated by sep. */
static void s_print_items(s_out_t *o, const dmr_val_t *v, const char *open,
                          const char *close, int json)
{
    s_puts(o, open);
    for (size_t i = 0; i < v->u.seq.n && !o->full; i++) {
        if (i)
            s_puts(o, json ? "," : " ");
        s_print(o, v->u.seq.items[i], json);
    }
    s_puts(o, close);
}

static void s_print_map(s_out_t *o, const dmr_val_t *v, int json)
{
    s_puts(o, "{");
    for (size_t i = 0; i + 1 < v->u.seq.n && !o->full; i += 2) {
        const dmr_val_t *k = v->u.seq.items[i];
        if (i)
            s_puts(o, json ? "," : ", ");
        if (!json) {
            s_print(o, k, 0);
        } else if (k->type == DMR_V_STR || k->type == DMR_V_KW ||
                   k->type == DMR_V_SYM) {
            s_put_quoted(o, k->u.str.s, k->u.str.len);
        } else { /* a JSON key must be a string: the key's EDN text */
            s_out_t t = {.grow = 1};
            s_print(&t, k, 0);
            s_put_quoted(o, t.buf, t.used);
            free(t.buf);
        }
        s_puts(o, json ? ":" : " ");
        s_print(o, v->u.seq.items[i + 1], json);
    }
    s_puts(o, "}");
}

static void s_print(s_out_t *o, const dmr_val_t *v, int json)
{
    char num[32];
    switch (v->type) {
    case DMR_V_NIL: s_puts(o, json ? "null" : "nil"); break;
    case DMR_V_BOOL: s_puts(o, v->u.b ? "true" : "false"); break;
    case DMR_V_INT:
        snprintf(num, sizeof num, "%" PRId64, v->u.i);
        s_puts(o, num);
        break;
    case DMR_V_STR: s_put_quoted(o, v->u.str.s, v->u.str.len); break;
    case DMR_V_KW:
    case DMR_V_SYM:
        if (json) {
            s_put_quoted(o, v->u.str.s, v->u.str.len);
        } else {
            if (v->type == DMR_V_KW)
                s_put(o, ":", 1);
            s_put(o, v->u.str.s, v->u.str.len);
        }
        break;
    case DMR_V_VEC: s_print_items(o, v, "[", "]", json); break;
    case DMR_V_LIST:
        s_print_items(o, v, json ? "[" : "(", json ? "]" : ")", json);
        break;
    case DMR_V_SET:
        s_print_items(o, v, json ? "[" : "#{", json ? "]" : "}", json);
        break;
    case DMR_V_MAP: s_print_map(o, v, json); break;
    }
}

void dmr_val_print_edn(const dmr_val_t *v, FILE *out)
{
    s_out_t o = {.f = out};
    s_print(&o, v, 0);
}

void dmr_val_print_json(const dmr_val_t *v, FILE *out)
{
    s_out_t o = {.f = out};
    s_print(&o, v, 1);
}

char *dmr_val_format(const dmr_val_t *v, char *buf, size_t len)
{
    DMR_ASSERT(len >= 4);
    s_out_t o = {.buf = buf, .cap = len};
    s_print(&o, v, 0);
    if (o.full)
        memcpy(buf + len - 4, "...", 3);
    buf[o.full ? len - 1 : o.used] = '\0';
    return buf;
}

/* ---- for the readers -------------------------------------------------- */

dmr_val_t *dmr_val_new(dmr_arena_t *a, dmr_vtype_t t, uint32_t line)
{
    dmr_val_t *v = s_alloc(a, sizeof *v, _Alignof(dmr_val_t));
    v->type = t;
    v->line = line;
    if (t == DMR_V_STR || t == DMR_V_KW || t == DMR_V_SYM)
        v->u.str.s = "";
    return v;
}

dmr_val_t *dmr_val_new_text(dmr_arena_t *a, dmr_vtype_t t, uint32_t line,
                            const char *s, size_t n)
{
    DMR_ASSERT(t == DMR_V_STR || t == DMR_V_KW || t == DMR_V_SYM);
    DMR_ASSERT(n < SIZE_MAX / 2);
    /* one allocation: the value, then its text */
    dmr_val_t *v = s_alloc(a, sizeof *v + n + 1, _Alignof(dmr_val_t));
    char *text = (char *)(v + 1);
    memcpy(text, s, n);
    v->type = t;
    v->line = line;
    v->u.str.s = text;
    v->u.str.len = n;
    return v;
}

dmr_val_t *dmr_val_copy(dmr_arena_t *a, const dmr_val_t *v)
{
    dmr_val_t *c = dmr_val_new(a, v->type, v->line);
    c->u = v->u;
    switch (v->type) {
    case DMR_V_STR:
    case DMR_V_KW:
    case DMR_V_SYM:
        c->u.str.s = dmr_arena_intern(a, v->u.str.s, v->u.str.len);
        break;
    case DMR_V_VEC:
    case DMR_V_LIST:
    case DMR_V_SET:
    case DMR_V_MAP:
        if (v->u.seq.n) {
            c->u.seq.items =
                dmr_arena_alloc(a, v->u.seq.n * sizeof *c->u.seq.items);
            for (size_t i = 0; i < v->u.seq.n; i++)
                c->u.seq.items[i] = dmr_val_copy(a, v->u.seq.items[i]);
        }
        break;
    default: break;
    }
    return c;
}

/* The 4 hex digits at s as a number, or -1. */
static long s_hex4(const char *s)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

size_t dmr_val_unescape_u(const char *s, size_t n, char *out, size_t *outn)
{
    if (n < 6 || s[0] != '\\' || s[1] != 'u')
        return 0;
    long cp = s_hex4(s + 2);
    size_t used = 6;
    if (cp < 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
        return 0;
    if (cp >= 0xD800 && cp <= 0xDBFF) { /* high surrogate: a low must follow */
        long lo = n >= 12 && s[6] == '\\' && s[7] == 'u' ? s_hex4(s + 8) : -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return 0;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        used = 12;
    }
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        *outn = 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6);
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        *outn = 2;
    } else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12);
        o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        *outn = 3;
    } else {
        o[0] = (unsigned char)(0xF0 | cp >> 18);
        o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        *outn = 4;
    }
    return used;
}
