/* ns.c -- the chunk store's namespace (see ns.h).
 *
 * Files live in an array sorted by path, so a directory's files are one
 * contiguous run found by binary search (ls, rm -r, "is a directory").
 * Chunks live in an array sorted by id; ids only grow, so new chunks are
 * appended. Sessions are few and short: a plain array. Sizes here are in
 * the thousands to hundreds of thousands, where this is simple and fast
 * enough. */
#include "master/ns.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

typedef struct {
    uint64_t id;
    char *path;
    uint32_t replication;
    uint64_t *chunks;
    uint32_t nchunks;
    int64_t touched;
} session_t;

struct dmr_ns {
    dmr_ns_file_t **files; /* sorted by path */
    size_t nfiles, capfiles;
    dmr_ns_chunk_t *chunks; /* sorted by id */
    size_t nchunks, capchunks;
    session_t *sessions;
    size_t nsessions;
    uint64_t next_id, id_limit;
    int64_t lease_ms; /* a write silent this long may be taken over */
};

dmr_ns_t *dmr_ns_new(void)
{
    dmr_ns_t *ns = dmr_calloc(1, sizeof *ns);
    ns->next_id = 1;
    return ns;
}

static void s_chunk_free(dmr_ns_chunk_t *c)
{
    free(c->locs);
    free(c->bad);
    c->locs = c->bad = NULL;
}

static void s_file_free(dmr_ns_file_t *f)
{
    free(f->path);
    free(f->chunks);
    free(f);
}

void dmr_ns_destroy(dmr_ns_t **nsp)
{
    dmr_ns_t *ns = *nsp;
    if (!ns)
        return;
    for (size_t i = 0; i < ns->nfiles; i++)
        s_file_free(ns->files[i]);
    for (size_t i = 0; i < ns->nchunks; i++)
        s_chunk_free(&ns->chunks[i]);
    for (size_t i = 0; i < ns->nsessions; i++) {
        free(ns->sessions[i].path);
        free(ns->sessions[i].chunks);
    }
    free(ns->files);
    free(ns->chunks);
    free(ns->sessions);
    free(ns);
    *nsp = NULL;
}

/* --------------------------------------------------------------- paths */

int dmr_ns_normalize(const char *in, char *out, size_t outlen, char *err,
                     size_t errlen)
{
    const char *p = in;
    if (!strncmp(p, "dmr:", 4))
        p += 4;
    if (*p != '/') {
        dmr_errf(err, errlen, "%s: a store path starts with / (dmr:/...)", in);
        return DMR_EINVAL;
    }
    size_t o = 0;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != '/') {
            if ((unsigned char)*e < 0x20 || *e == 0x7f) {
                dmr_errf(err, errlen, "%s: control character in the path", in);
                return DMR_EINVAL;
            }
            e++;
        }
        size_t n = (size_t)(e - p);
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
            dmr_errf(err, errlen, "%s: '.' and '..' are not allowed", in);
            return DMR_EINVAL;
        }
        if (o + 1 + n + 1 > outlen || o + 1 + n > DMR_NS_PATH_MAX) {
            dmr_errf(err, errlen, "%s: path longer than %d bytes", in,
                     DMR_NS_PATH_MAX);
            return DMR_EINVAL;
        }
        out[o++] = '/';
        memcpy(out + o, p, n);
        o += n;
        p = e;
    }
    if (o == 0) {
        if (outlen < 2)
            return DMR_EINVAL;
        out[o++] = '/';
    }
    out[o] = '\0';
    return 0;
}

/* ------------------------------------------------------------- lookups */

/* First file index whose path is >= path. */
static size_t s_lower(const dmr_ns_t *ns, const char *path)
{
    size_t lo = 0, hi = ns->nfiles;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(ns->files[mid]->path, path) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

dmr_ns_file_t *dmr_ns_lookup(dmr_ns_t *ns, const char *path)
{
    size_t i = s_lower(ns, path);
    return i < ns->nfiles && !strcmp(ns->files[i]->path, path) ? ns->files[i]
                                                               : NULL;
}

/* Index range [*lo, *hi) of the files under directory dir. */
static void s_under(const dmr_ns_t *ns, const char *dir, size_t *lo, size_t *hi)
{
    if (!strcmp(dir, "/")) {
        *lo = 0;
        *hi = ns->nfiles;
        return;
    }
    char prefix[DMR_NS_PATH_MAX + 2];
    snprintf(prefix, sizeof prefix, "%s/", dir);
    size_t n = strlen(prefix);
    *lo = s_lower(ns, prefix);
    size_t i = *lo;
    while (i < ns->nfiles && !strncmp(ns->files[i]->path, prefix, n))
        i++;
    *hi = i;
}

int dmr_ns_is_dir(dmr_ns_t *ns, const char *path)
{
    size_t lo, hi;
    s_under(ns, path, &lo, &hi);
    return !strcmp(path, "/") || hi > lo;
}

size_t dmr_ns_under(dmr_ns_t *ns, const char *dir, dmr_ns_file_t ***out)
{
    size_t lo, hi;
    s_under(ns, dir, &lo, &hi);
    *out = ns->files + lo;
    return hi - lo;
}

size_t dmr_ns_files(dmr_ns_t *ns, dmr_ns_file_t ***out)
{
    *out = ns->files;
    return ns->nfiles;
}

static size_t s_chunk_index(const dmr_ns_t *ns, uint64_t id)
{
    size_t lo = 0, hi = ns->nchunks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ns->chunks[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

dmr_ns_chunk_t *dmr_ns_chunk(dmr_ns_t *ns, uint64_t id)
{
    size_t i = s_chunk_index(ns, id);
    return i < ns->nchunks && ns->chunks[i].id == id ? &ns->chunks[i] : NULL;
}

dmr_chunk_health_t dmr_ns_health(const dmr_ns_chunk_t *c)
{
    if (c->nlocs == 0)
        return c->nbad ? DMR_CHUNK_CORRUPT : DMR_CHUNK_MISSING;
    return c->nlocs < c->replication ? DMR_CHUNK_UNDER : DMR_CHUNK_HEALTHY;
}

const char *dmr_ns_health_name(dmr_chunk_health_t h)
{
    switch (h) {
    case DMR_CHUNK_HEALTHY: return "healthy";
    case DMR_CHUNK_UNDER: return "under-replicated";
    case DMR_CHUNK_CORRUPT: return "corrupt";
    case DMR_CHUNK_MISSING: return "missing";
    }
    return "?";
}

/* ------------------------------------------------------------ sessions */

static session_t *s_session(dmr_ns_t *ns, uint64_t id)
{
    for (size_t i = 0; i < ns->nsessions; i++)
        if (ns->sessions[i].id == id)
            return &ns->sessions[i];
    return NULL;
}

/* Is there a file at path, a file at one of its parents, or a file under
 * it, or a session writing any of those? */
static int s_conflict(dmr_ns_t *ns, const char *path, char *err, size_t errlen)
{
    if (!strcmp(path, "/")) {
        dmr_errf(err, errlen, "dmr:/ is the root directory");
        return DMR_EEXIST;
    }
    if (dmr_ns_lookup(ns, path)) {
        dmr_errf(err, errlen, "dmr:%s exists", path);
        return DMR_EEXIST;
    }
    if (dmr_ns_is_dir(ns, path)) {
        dmr_errf(err, errlen, "dmr:%s is a directory", path);
        return DMR_EEXIST;
    }
    char parent[DMR_NS_PATH_MAX + 1];
    snprintf(parent, sizeof parent, "%s", path);
    for (char *s = strrchr(parent, '/'); s && s > parent;
         s = strrchr(parent, '/')) {
        *s = '\0';
        if (dmr_ns_lookup(ns, parent)) {
            dmr_errf(err, errlen, "dmr:%s is a file, not a directory", parent);
            return DMR_EEXIST;
        }
    }
    for (size_t i = 0; i < ns->nsessions; i++) {
        if (!strcmp(ns->sessions[i].path, path)) {
            dmr_errf(err, errlen,
                     "dmr:%s is being written by another client (if that "
                     "writer died, its lease ends after %.0f s of silence)",
                     path, (double)ns->lease_ms / 1000.0);
            return DMR_EEXIST;
        }
    }
    return 0;
}

int dmr_ns_create(dmr_ns_t *ns, const char *path, uint32_t replication,
                  int64_t now, uint64_t *session, char *err, size_t errlen)
{
    char norm[DMR_NS_PATH_MAX + 1];
    int rc = dmr_ns_normalize(path, norm, sizeof norm, err, errlen);
    if (rc)
        return rc;
    if (replication == 0 || replication > 64) {
        dmr_errf(err, errlen, "replication must be 1..64, not %u", replication);
        return DMR_EINVAL;
    }
    /* A writer silent past its lease has lost the path, as with HDFS's
     * soft lease limit: its write is aborted and the path is free. */
    for (size_t i = 0; ns->lease_ms > 0 && i < ns->nsessions; i++) {
        if (!strcmp(ns->sessions[i].path, norm) &&
            now - ns->sessions[i].touched > ns->lease_ms) {
            dmr_ns_abort(ns, ns->sessions[i].id);
            break;
        }
    }
    rc = s_conflict(ns, norm, err, errlen);
    if (rc)
        return rc;
    ns->sessions =
        dmr_realloc(ns->sessions, (ns->nsessions + 1) * sizeof *ns->sessions);
    session_t *s = &ns->sessions[ns->nsessions++];
    memset(s, 0, sizeof *s);
    s->id = ns->next_id++;
    s->path = dmr_strdup(norm);
    s->replication = replication;
    s->touched = now;
    *session = s->id;
    return 0;
}

static dmr_ns_chunk_t *s_new_chunk(dmr_ns_t *ns, uint64_t id)
{
    size_t i = s_chunk_index(ns, id);
    if (ns->nchunks == ns->capchunks) {
        ns->capchunks = ns->capchunks ? 2 * ns->capchunks : 64;
        ns->chunks =
            dmr_realloc(ns->chunks, ns->capchunks * sizeof *ns->chunks);
    }
    memmove(&ns->chunks[i + 1], &ns->chunks[i],
            (ns->nchunks - i) * sizeof *ns->chunks);
    ns->nchunks++;
    dmr_ns_chunk_t *c = &ns->chunks[i];
    memset(c, 0, sizeof *c);
    c->id = id;
    c->version = 1;
    return c;
}

int dmr_ns_alloc_chunk(dmr_ns_t *ns, uint64_t session, int64_t now,
                       dmr_ns_chunk_t **out)
{
    session_t *s = s_session(ns, session);
    if (!s)
        return DMR_ENOENT;
    s->touched = now;
    dmr_ns_chunk_t *c = s_new_chunk(ns, ns->next_id++);
    c->session = session;
    c->replication = s->replication;
    s->chunks = dmr_realloc(s->chunks, (s->nchunks + 1) * sizeof *s->chunks);
    s->chunks[s->nchunks++] = c->id;
    *out = c;
    return 0;
}

static int s_has(char (*list)[32], uint32_t n, const char *wid)
{
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(list[i], wid))
            return 1;
    return 0;
}

static void s_add(char (**list)[32], uint32_t *n, const char *wid)
{
    if (s_has(*list, *n, wid))
        return;
    *list = dmr_realloc(*list, (*n + 1) * sizeof **list);
    snprintf((*list)[*n], 32, "%s", wid);
    (*n)++;
}

static int s_del(char (*list)[32], uint32_t *n, const char *wid)
{
    for (uint32_t i = 0; i < *n; i++) {
        if (!strcmp(list[i], wid)) {
            memmove(list[i], list[i + 1], (*n - i - 1) * sizeof *list);
            (*n)--;
            return 1;
        }
    }
    return 0;
}

int dmr_ns_chunk_written(dmr_ns_t *ns, uint64_t session, uint64_t id,
                         uint64_t length, const char *const *wids, size_t n,
                         int64_t now)
{
    session_t *s = s_session(ns, session);
    dmr_ns_chunk_t *c = dmr_ns_chunk(ns, id);
    if (!s || !c || c->session != session || c->file != 0)
        return DMR_ENOENT;
    s->touched = now;
    c->length = length;
    for (size_t i = 0; i < n; i++)
        s_add(&c->locs, &c->nlocs, wids[i]);
    return 0;
}

static void s_session_remove(dmr_ns_t *ns, session_t *s)
{
    free(s->path);
    free(s->chunks);
    *s = ns->sessions[--ns->nsessions];
}

static void s_insert_file(dmr_ns_t *ns, dmr_ns_file_t *f)
{
    size_t i = s_lower(ns, f->path);
    if (ns->nfiles == ns->capfiles) {
        ns->capfiles = ns->capfiles ? 2 * ns->capfiles : 64;
        ns->files = dmr_realloc(ns->files, ns->capfiles * sizeof *ns->files);
    }
    memmove(&ns->files[i + 1], &ns->files[i],
            (ns->nfiles - i) * sizeof *ns->files);
    ns->files[i] = f;
    ns->nfiles++;
}

int dmr_ns_commit(dmr_ns_t *ns, uint64_t session, int64_t now,
                  dmr_ns_file_t **out, char *err, size_t errlen)
{
    session_t *s = s_session(ns, session);
    if (!s) {
        dmr_errf(err, errlen,
                 "no such write session (it expired, or the "
                 "master restarted)");
        return DMR_ENOENT;
    }
    uint64_t size = 0;
    for (uint32_t i = 0; i < s->nchunks; i++) {
        dmr_ns_chunk_t *c = dmr_ns_chunk(ns, s->chunks[i]);
        if (!c || c->nlocs == 0) {
            dmr_errf(err, errlen,
                     "chunk %u of dmr:%s has no stored replica (never "
                     "written, or every worker holding it died)",
                     i, s->path);
            dmr_ns_abort(ns, session);
            return DMR_EINVAL;
        }
        size += c->length;
    }
    /* The path may have been taken while the session ran. */
    int rc = dmr_ns_lookup(ns, s->path) || dmr_ns_is_dir(ns, s->path)
                 ? DMR_EEXIST
                 : 0;
    if (rc) {
        dmr_errf(err, errlen, "dmr:%s was created meanwhile", s->path);
        dmr_ns_abort(ns, session);
        return rc;
    }
    dmr_ns_file_t *f = dmr_calloc(1, sizeof *f);
    f->id = ns->next_id++;
    f->path = s->path;
    f->size = size;
    f->replication = s->replication;
    f->chunks = s->chunks;
    f->nchunks = s->nchunks;
    f->mtime_ms = now;
    for (uint32_t i = 0; i < f->nchunks; i++) {
        dmr_ns_chunk_t *c = dmr_ns_chunk(ns, f->chunks[i]);
        c->file = f->id;
        c->session = 0;
    }
    s->path = NULL;
    s->chunks = NULL;
    s_session_remove(ns, s);
    s_insert_file(ns, f);
    *out = f;
    return 0;
}

/* Chunks owned by nothing are garbage: their file id 0, session 0. */
static void s_orphan(dmr_ns_t *ns, const uint64_t *ids, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        dmr_ns_chunk_t *c = dmr_ns_chunk(ns, ids[i]);
        if (c)
            c->file = c->session = 0;
    }
}

void dmr_ns_abort(dmr_ns_t *ns, uint64_t session)
{
    session_t *s = s_session(ns, session);
    if (!s)
        return;
    s_orphan(ns, s->chunks, s->nchunks);
    s_session_remove(ns, s);
}

size_t dmr_ns_expire(dmr_ns_t *ns, int64_t before)
{
    size_t n = 0;
    for (size_t i = 0; i < ns->nsessions;) {
        if (ns->sessions[i].touched < before) {
            dmr_ns_abort(ns, ns->sessions[i].id);
            n++;
        } else {
            i++;
        }
    }
    return n;
}

const char *dmr_ns_session_path(dmr_ns_t *ns, uint64_t session)
{
    session_t *s = s_session(ns, session);
    return s ? s->path : NULL;
}

static void s_remove_at(dmr_ns_t *ns, size_t i)
{
    dmr_ns_file_t *f = ns->files[i];
    s_orphan(ns, f->chunks, f->nchunks);
    s_file_free(f);
    memmove(&ns->files[i], &ns->files[i + 1],
            (ns->nfiles - i - 1) * sizeof *ns->files);
    ns->nfiles--;
}

long dmr_ns_remove(dmr_ns_t *ns, const char *path, int recursive)
{
    size_t i = s_lower(ns, path);
    if (i < ns->nfiles && !strcmp(ns->files[i]->path, path)) {
        s_remove_at(ns, i);
        return 1;
    }
    size_t lo, hi;
    s_under(ns, path, &lo, &hi);
    if (hi == lo)
        return DMR_ENOENT;
    if (!recursive)
        return DMR_EINVAL;
    for (size_t k = hi; k-- > lo;)
        s_remove_at(ns, k);
    return (long)(hi - lo);
}

int dmr_ns_rename(dmr_ns_t *ns, const char *from, const char *to)
{
    size_t i = s_lower(ns, from);
    if (i >= ns->nfiles || strcmp(ns->files[i]->path, from))
        return DMR_ENOENT;
    if (!strcmp(from, to))
        return 0;
    if (dmr_ns_is_dir(ns, to))
        return DMR_EEXIST;
    dmr_ns_file_t *f = ns->files[i];
    memmove(&ns->files[i], &ns->files[i + 1],
            (ns->nfiles - i - 1) * sizeof *ns->files);
    ns->nfiles--;
    size_t j = s_lower(ns, to);
    if (j < ns->nfiles && !strcmp(ns->files[j]->path, to))
        s_remove_at(ns, j);
    free(f->path);
    f->path = dmr_strdup(to);
    s_insert_file(ns, f);
    return 0;
}

size_t dmr_ns_take_garbage(dmr_ns_t *ns, dmr_ns_chunk_t **out)
{
    size_t n = 0, k = 0;
    for (size_t i = 0; i < ns->nchunks; i++)
        n += ns->chunks[i].file == 0 && ns->chunks[i].session == 0;
    *out = n ? dmr_calloc(n, sizeof **out) : NULL;
    for (size_t i = 0; i < ns->nchunks; i++) {
        dmr_ns_chunk_t *c = &ns->chunks[i];
        if (c->file == 0 && c->session == 0)
            (*out)[k++] = *c; /* moves locs and bad to the caller */
        else
            ns->chunks[i - k] = *c;
    }
    ns->nchunks -= k;
    return k;
}

void dmr_ns_chunks_free(dmr_ns_chunk_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s_chunk_free(&c[i]);
    free(c);
}

/* ------------------------------------------------------------ replicas */

int dmr_ns_add_replica(dmr_ns_t *ns, uint64_t id, const char *wid)
{
    dmr_ns_chunk_t *c = dmr_ns_chunk(ns, id);
    if (!c)
        return DMR_ENOENT;
    s_del(c->bad, &c->nbad, wid);
    s_add(&c->locs, &c->nlocs, wid);
    return 0;
}

int dmr_ns_bad_replica(dmr_ns_t *ns, uint64_t id, const char *wid)
{
    dmr_ns_chunk_t *c = dmr_ns_chunk(ns, id);
    if (!c)
        return DMR_ENOENT;
    s_del(c->locs, &c->nlocs, wid);
    s_add(&c->bad, &c->nbad, wid);
    return 0;
}

void dmr_ns_drop_replica(dmr_ns_t *ns, uint64_t id, const char *wid)
{
    dmr_ns_chunk_t *c = dmr_ns_chunk(ns, id);
    if (!c)
        return;
    s_del(c->locs, &c->nlocs, wid);
    s_del(c->bad, &c->nbad, wid);
}

size_t dmr_ns_drop_worker(dmr_ns_t *ns, const char *wid)
{
    size_t n = 0;
    for (size_t i = 0; i < ns->nchunks; i++) {
        if (ns->chunks[i].session != 0)
            continue; /* being written: judged when the write commits */
        n += (size_t)s_del(ns->chunks[i].locs, &ns->chunks[i].nlocs, wid);
        s_del(ns->chunks[i].bad, &ns->chunks[i].nbad, wid);
    }
    return n;
}

void dmr_ns_each_chunk(dmr_ns_t *ns, void (*fn)(void *, dmr_ns_chunk_t *),
                       void *arg)
{
    for (size_t i = 0; i < ns->nchunks; i++)
        if (ns->chunks[i].file != 0)
            fn(arg, &ns->chunks[i]);
}

/* ------------------------------------------------------------- journal */

int dmr_ns_restore_file(dmr_ns_t *ns, uint64_t id, const char *path,
                        uint64_t size, uint32_t replication, int64_t mtime,
                        const uint64_t *chunks, const uint64_t *lengths,
                        const uint32_t *versions, uint32_t nchunks)
{
    char norm[DMR_NS_PATH_MAX + 1];
    if (dmr_ns_normalize(path, norm, sizeof norm, NULL, 0) != 0 ||
        dmr_ns_lookup(ns, norm))
        return DMR_EINVAL;
    for (uint32_t i = 0; i < nchunks; i++)
        if (dmr_ns_chunk(ns, chunks[i]))
            return DMR_EINVAL;
    dmr_ns_file_t *f = dmr_calloc(1, sizeof *f);
    f->id = id;
    f->path = dmr_strdup(norm);
    f->size = size;
    f->replication = replication;
    f->mtime_ms = mtime;
    f->chunks = dmr_calloc(nchunks + 1, sizeof *f->chunks);
    f->nchunks = nchunks;
    for (uint32_t i = 0; i < nchunks; i++) {
        dmr_ns_chunk_t *c = s_new_chunk(ns, chunks[i]);
        c->length = lengths[i];
        c->version = versions[i];
        c->file = id;
        c->replication = replication;
        f->chunks[i] = chunks[i];
        if (chunks[i] >= ns->next_id)
            ns->next_id = chunks[i] + 1;
    }
    if (id >= ns->next_id)
        ns->next_id = id + 1;
    s_insert_file(ns, f);
    return 0;
}

void dmr_ns_set_lease(dmr_ns_t *ns, int64_t lease_ms)
{
    ns->lease_ms = lease_ms;
}

size_t dmr_ns_session_chunks(dmr_ns_t *ns, uint64_t session,
                             const uint64_t **ids)
{
    session_t *s = s_session(ns, session);
    *ids = s ? s->chunks : NULL;
    return s ? s->nchunks : 0;
}

uint64_t dmr_ns_next_id(const dmr_ns_t *ns)
{
    return ns->next_id;
}

uint64_t dmr_ns_id_limit(const dmr_ns_t *ns)
{
    return ns->id_limit;
}

void dmr_ns_reserve_ids(dmr_ns_t *ns, uint64_t limit)
{
    if (limit > ns->id_limit)
        ns->id_limit = limit;
}

void dmr_ns_replayed(dmr_ns_t *ns)
{
    /* Ids below the last journaled limit may have been handed out to a
     * write that never committed; replicas of them may still sit on
     * workers. Never hand them out again. */
    if (ns->next_id < ns->id_limit)
        ns->next_id = ns->id_limit;
}
