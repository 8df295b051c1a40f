/* ns.h -- the chunk store's namespace, kept by the master.
 *
 * A file is a path, a size, a replication factor and a list of chunks; a
 * chunk is an id, a length, a version and the workers holding a replica.
 * Directories are implicit, as in object stores: "/a" is a directory when
 * some file's path starts with "/a/". Files are immutable once committed
 * (write once, like HDFS), so a chunk's version only tells a current
 * replica from a stale one that a worker kept from before.
 *
 * Writing: create() opens a write session (invisible), alloc_chunk()
 * hands out chunk ids, chunk_written() records where each chunk landed,
 * commit() makes the file visible in one step -- so a writer that dies
 * leaves nothing visible; its session expires and its chunks become
 * garbage.
 *
 * Replica locations are not the namespace's truth: workers report the
 * replicas they hold when they register, and the master adds and drops
 * locations as it learns. The namespace itself (files and their chunks)
 * is what master/recover.c journals.
 *
 * Single-threaded; no I/O. */
#ifndef DMR_MASTER_NS_H
#define DMR_MASTER_NS_H

#include <stddef.h>
#include <stdint.h>

#define DMR_NS_PATH_MAX 1024

typedef struct {
    uint64_t id;
    uint64_t length;
    uint32_t version;
    uint64_t file;    /* owning file id; 0 while its write is pending */
    uint64_t session; /* the write session, while pending */
    char (*locs)[32]; /* workers holding a good replica */
    uint32_t nlocs;
    char (*bad)[32]; /* workers whose replica failed its checksum */
    uint32_t nbad;
    uint32_t replication;
} dmr_ns_chunk_t;

typedef struct {
    uint64_t id;
    char *path; /* normalized: "/a/b" */
    uint64_t size;
    uint32_t replication;
    uint64_t *chunks; /* ids, in file order */
    uint32_t nchunks;
    int64_t mtime_ms;
} dmr_ns_file_t;

typedef enum {
    DMR_CHUNK_HEALTHY,
    DMR_CHUNK_UNDER,   /* fewer good replicas than the replication factor */
    DMR_CHUNK_CORRUPT, /* no good replica, but damaged ones exist */
    DMR_CHUNK_MISSING, /* no replica at all */
} dmr_chunk_health_t;

typedef struct dmr_ns dmr_ns_t;

dmr_ns_t *dmr_ns_new(void);
void dmr_ns_destroy(dmr_ns_t **ns);

/* "dmr:/a//b/" or "/a/b" -> "/a/b". Refuses empty names, "." and ".."
 * components, NUL and control bytes, and paths over DMR_NS_PATH_MAX;
 * "/" itself is the root. Returns 0 or DMR_EINVAL with err. */
int dmr_ns_normalize(const char *in, char *out, size_t outlen, char *err,
                     size_t errlen);

/* ------------------------------------------------------------- reading */

dmr_ns_file_t *dmr_ns_lookup(dmr_ns_t *ns, const char *path);
dmr_ns_chunk_t *dmr_ns_chunk(dmr_ns_t *ns, uint64_t id);
/* 1 if path is a directory (a prefix of some file's path), or the root. */
int dmr_ns_is_dir(dmr_ns_t *ns, const char *path);
/* Files whose path is under dir (recursive), in path order: *out holds
 * pointers into the namespace, valid until the next change. */
size_t dmr_ns_under(dmr_ns_t *ns, const char *dir, dmr_ns_file_t ***out);
/* Files in the namespace, in path order (same validity). */
size_t dmr_ns_files(dmr_ns_t *ns, dmr_ns_file_t ***out);
dmr_chunk_health_t dmr_ns_health(const dmr_ns_chunk_t *c);
const char *dmr_ns_health_name(dmr_chunk_health_t h);

/* ------------------------------------------------------------- writing */

/* Opens a write session for a new file at path. DMR_EEXIST if path is a
 * file or a directory, or if a file is where one of its parents would
 * be; DMR_EINVAL for a bad path or replication 0. */
int dmr_ns_create(dmr_ns_t *ns, const char *path, uint32_t replication,
                  int64_t now, uint64_t *session, char *err, size_t errlen);
/* A new chunk for session (DMR_ENOENT if the session is unknown). */
int dmr_ns_alloc_chunk(dmr_ns_t *ns, uint64_t session, int64_t now,
                       dmr_ns_chunk_t **out);
/* Records that chunk id of session holds length bytes on these workers. */
int dmr_ns_chunk_written(dmr_ns_t *ns, uint64_t session, uint64_t id,
                         uint64_t length, const char *const *wids, size_t n,
                         int64_t now);
/* Makes the session's file visible: every chunk must have been written
 * (DMR_EINVAL otherwise). The session ends either way on error other
 * than DMR_ENOENT. *out is the new file. */
int dmr_ns_commit(dmr_ns_t *ns, uint64_t session, int64_t now,
                  dmr_ns_file_t **out, char *err, size_t errlen);
/* Drops a session; its chunks become garbage. */
void dmr_ns_abort(dmr_ns_t *ns, uint64_t session);
/* Aborts sessions idle since before `before`; returns how many. */
size_t dmr_ns_expire(dmr_ns_t *ns, int64_t before);
/* How long a write session may stay silent before another client may
 * take its path over (0: never). */
void dmr_ns_set_lease(dmr_ns_t *ns, int64_t lease_ms);
/* The chunks of a session so far. */
size_t dmr_ns_session_chunks(dmr_ns_t *ns, uint64_t session,
                             const uint64_t **ids);
/* The path a session writes (NULL if unknown). */
const char *dmr_ns_session_path(dmr_ns_t *ns, uint64_t session);

/* Removes the file at path, or with recursive everything under the
 * directory path. Their chunks become garbage. Returns the number of
 * files removed, DMR_ENOENT if nothing is there, DMR_EINVAL for a
 * directory without recursive. */
long dmr_ns_remove(dmr_ns_t *ns, const char *path, int recursive);
/* Renames file from to to, replacing a file at to (whose chunks become
 * garbage). DMR_ENOENT, DMR_EEXIST if to is a directory. */
int dmr_ns_rename(dmr_ns_t *ns, const char *from, const char *to);

/* Garbage: chunks no file or session owns, with where their replicas are.
 * Each call hands them out once (*out owned by the caller: free the array
 * and each chunk's locs/bad with dmr_ns_chunks_free). */
size_t dmr_ns_take_garbage(dmr_ns_t *ns, dmr_ns_chunk_t **out);
void dmr_ns_chunks_free(dmr_ns_chunk_t *c, size_t n);

/* ------------------------------------------------------------ replicas */

/* Adds wid as a holder of chunk id (no-op if known); clears it from the
 * bad list. DMR_ENOENT for an unknown chunk. */
int dmr_ns_add_replica(dmr_ns_t *ns, uint64_t id, const char *wid);
/* wid's replica of id failed its checksum: it no longer counts. */
int dmr_ns_bad_replica(dmr_ns_t *ns, uint64_t id, const char *wid);
/* Forgets wid's replica of id (good or bad). */
void dmr_ns_drop_replica(dmr_ns_t *ns, uint64_t id, const char *wid);
/* A worker died: forgets every replica on it (of committed files: a write
 * in progress is judged at commit); returns how many. */
size_t dmr_ns_drop_worker(dmr_ns_t *ns, const char *wid);
/* Calls fn for every chunk of a committed file, in id order. */
void dmr_ns_each_chunk(dmr_ns_t *ns, void (*fn)(void *, dmr_ns_chunk_t *),
                       void *arg);

/* ------------------------------------------------------------- journal */

/* Replays a committed file (from the journal) as it was. */
int dmr_ns_restore_file(dmr_ns_t *ns, uint64_t id, const char *path,
                        uint64_t size, uint32_t replication, int64_t mtime,
                        const uint64_t *chunks, const uint64_t *lengths,
                        const uint32_t *versions, uint32_t nchunks);
/* Ids (of sessions, chunks and files) never repeat, across restarts too:
 * before next_id reaches id_limit, the master journals a higher limit and
 * calls reserve_ids; after a replay, replayed() moves next_id past the
 * last journaled limit. */
uint64_t dmr_ns_next_id(const dmr_ns_t *ns);
uint64_t dmr_ns_id_limit(const dmr_ns_t *ns);
void dmr_ns_reserve_ids(dmr_ns_t *ns, uint64_t limit);
void dmr_ns_replayed(dmr_ns_t *ns);

#endif
