/* dfs.h -- the chunk store's client: write, read, list and remove files.
 *
 * Used by `dmr fs`, by tasks that read dmr:/ inputs and write dmr:/
 * outputs, and by workers copying a chunk from another worker. Blocking
 * calls over ZeroMQ: a DEALER to the master for the namespace, and one
 * DEALER per worker holding or receiving replicas (cached by endpoint).
 *
 * Writing buffers one chunk in memory, asks the master for a chunk id and
 * its targets, pushes the bytes to every target at once in pieces of
 * DMR_MSG_PIECE with a window of pieces in flight per target, and tells
 * the master where the chunk landed. A target that fails or stalls is
 * dropped (the chunk is then under-replicated and the master repairs it);
 * if every target fails the chunk is allocated again elsewhere. commit
 * makes the file visible in one step.
 *
 * Reading goes replica by replica: the caller's own data directory first
 * when it holds one (set_local), then the others. A replica whose block
 * fails its checksum is reported to the master and the read moves on. */
#ifndef DMR_STORAGE_DFS_H
#define DMR_STORAGE_DFS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/proto.h"

#define DMR_DFS_DEFAULT_CHUNK (64u << 20)

typedef struct dmr_dfs dmr_dfs_t;
typedef struct dmr_dfs_writer dmr_dfs_writer_t;

typedef struct {
    char wid[32];
    char endpoint[256];
    int good;
} dmr_dfs_replica_t;

typedef struct {
    uint64_t id, length;
    uint32_t version;
    char state[24]; /* healthy, under-replicated, corrupt, missing */
    dmr_dfs_replica_t *rep;
    size_t nrep;
} dmr_dfs_chunk_t;

typedef struct {
    char *path;
    uint64_t size;
    uint32_t replication;
    int64_t mtime_ms;
    uint32_t nchunks;        /* chunks, as the master counts them */
    dmr_dfs_chunk_t *chunks; /* with details only */
} dmr_dfs_file_t;

/* Connects to the master (nothing is sent yet). */
int dmr_dfs_open(const char *master, dmr_dfs_t **out, char *err, size_t errlen);
void dmr_dfs_close(dmr_dfs_t **d);
/* This process is worker wid with replicas in chunk_dir: writes put the
 * first replica here, reads use a local replica without the network. */
void dmr_dfs_set_local(dmr_dfs_t *d, const char *wid, const char *chunk_dir);

/* The file at path, or with list the files under directory path
 * (recursively); with chunks, each file's chunks and replicas. *is_dir
 * (may be NULL) tells whether path is a directory. Free with
 * dmr_dfs_files_free. DMR_ENOENT with err when nothing is there. */
int dmr_dfs_stat(dmr_dfs_t *d, const char *path, int list, int chunks,
                 dmr_dfs_file_t **out, size_t *n, int *is_dir, char *err,
                 size_t errlen);
void dmr_dfs_files_free(dmr_dfs_file_t *f, size_t n);

/* Removes a file, or with recursive a directory; *count files removed. */
int dmr_dfs_rm(dmr_dfs_t *d, const char *path, int recursive, uint64_t *count,
               char *err, size_t errlen);

/* Starts writing a new file (invisible until commit). */
int dmr_dfs_create(dmr_dfs_t *d, const char *path, uint32_t replication,
                   size_t chunk_bytes, dmr_dfs_writer_t **out, char *err,
                   size_t errlen);
int dmr_dfs_write(dmr_dfs_writer_t *w, const void *p, size_t n, char *err,
                  size_t errlen);
/* Flushes the last chunk and makes the file visible; frees w. On error
 * the write is aborted and nothing is visible. */
int dmr_dfs_commit(dmr_dfs_writer_t **w, char *err, size_t errlen);
/* Abandons the write; frees w. Accepts NULL. */
void dmr_dfs_abort(dmr_dfs_writer_t **w);

/* Reads up to n bytes of chunk c at off (from a file of a stat with
 * chunks); *got is n unless the chunk ends first. */
int dmr_dfs_read(dmr_dfs_t *d, const dmr_dfs_chunk_t *c, uint64_t off,
                 void *buf, size_t n, size_t *got, char *err, size_t errlen);
/* Reads up to n bytes of file f (a stat with chunks) at off, within one
 * chunk: *got is fewer than n at a chunk's end, 0 at the file's end. */
int dmr_dfs_file_read(dmr_dfs_t *d, const dmr_dfs_file_t *f, uint64_t off,
                      void *buf, size_t n, size_t *got, char *err,
                      size_t errlen);
/* Copies the whole file at path to out. */
int dmr_dfs_get(dmr_dfs_t *d, const char *path, FILE *out, char *err,
                size_t errlen);

/* Pulls chunk id (version, length) from the worker at endpoint into the
 * replica directory dir, checking each piece on the way (a worker making
 * a copy the master asked for). */
int dmr_dfs_copy_chunk(const char *endpoint, uint64_t id, uint32_t version,
                       uint64_t length, const char *dir, char *err,
                       size_t errlen);

#endif
