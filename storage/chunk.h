/* chunk.h -- a worker's replicas of chunks, checksummed block by block.
 *
 * A chunk is a piece of a file in the chunk store (up to 64 MiB by
 * default, up to DMR_CHUNK_MAX here); the workers that hold it each keep a
 * replica in their chunk directory. Every DMR_CHUNK_BLOCK bytes of a
 * replica carry a CRC32 that is checked on every read, so a replica
 * damaged on disk yields DMR_ECORRUPT and never wrong bytes. The file
 * layout is documented at the top of chunk.c.
 *
 * A replica is written through a writer (open, write in order, commit) and
 * appears in one step when the commit renames its meta file into place;
 * until then, and after a crash at any point, it does not exist. A
 * replica never changes after its commit; writing the same id again
 * replaces it at the new commit.
 *
 * A writer is a single-threaded object. Nothing here keeps global state;
 * every call blocks on disk I/O, and no function prints. Within a process,
 * calls on one directory may interleave in any order. Across processes
 * (a worker and the children it forks to copy replicas) they may too, with
 * one limit: two processes must not write the same id at the same time --
 * taking over another writer's names is exact only within a process. An
 * open writer's temporary file is locked (flock), so dmr_chunk_list in any
 * process leaves it alone. */
#ifndef DMR_STORAGE_CHUNK_H
#define DMR_STORAGE_CHUNK_H

#include <stddef.h>
#include <stdint.h>

/* Bytes covered by one CRC32; the last block of a replica may be shorter. */
#define DMR_CHUNK_BLOCK 65536u
/* Largest replica, in bytes. */
#define DMR_CHUNK_MAX (1024ull * 1024 * 1024)

typedef struct {
    uint64_t id;
    uint32_t version;
    uint64_t length; /* bytes */
} dmr_chunk_info_t;

typedef struct dmr_chunk_writer dmr_chunk_writer_t;

/* ---- writing ------------------------------------------------------------- */

/* Starts writing replica id (version) in dir as dir/<id>.chunk.tmp,
 * replacing any earlier temporary files of it -- left by a crash, or by a
 * writer for the same id that is still open: that writer's commit then
 * fails with DMR_EEXIST and its abort leaves this one's files alone. An
 * existing committed replica of id stays readable until this writer
 * commits. On success *out (caller owns; finish with commit or abort).
 * Returns DMR_ENOENT when dir does not exist, DMR_EIO (errno set) when a
 * system call fails. */
int dmr_chunk_writer_open(const char *dir, uint64_t id, uint32_t version,
                          dmr_chunk_writer_t **out);

/* Appends the n bytes at p (p may be NULL when n is 0) at offset, which
 * must be at most the number of bytes written so far: bytes before that
 * (a retransmission of what was already written) are compared with what
 * was written and must be identical; bytes past it are appended. The CRCs
 * are computed as the bytes arrive.
 *
 * Returns 0; DMR_ETOOBIG when offset + n exceeds DMR_CHUNK_MAX; DMR_EINVAL
 * for a gap (offset past the end) or a piece that differs from what was
 * written where they overlap; DMR_EIO (errno set) when a read or write
 * failed. Each of these leaves the writer as it was, so the caller may
 * retry -- except that if a failed write cannot be cut back off the file,
 * DMR_EIO is sticky: every later write and the commit return it. */
int dmr_chunk_writer_write(dmr_chunk_writer_t *w, uint64_t offset,
                           const void *p, size_t n);

/* Bytes written so far. */
uint64_t dmr_chunk_writer_size(const dmr_chunk_writer_t *w);

/* Finishes the replica, which must be exactly length bytes: fsyncs the
 * data, writes and fsyncs the meta file, removes the meta of an earlier
 * replica of the same id, renames the data file and then the meta file
 * into place and fsyncs dir. Frees *w and sets it to NULL whatever
 * happens.
 *
 * Returns 0 when the replica exists and is durable. DMR_EINVAL when length
 * differs from the bytes written; DMR_EEXIST when a newer writer for the
 * same id replaced this one's files; DMR_EIO (errno set) when a write,
 * fsync, unlink or rename failed, or for a sticky write error. On every
 * failure the writer's files are removed and no new replica appears; an
 * earlier replica of id survives every failure up to the removal of its
 * meta (length, writes and fsyncs of the new files), and is gone after a
 * failure past it. One exception: if only the final fsync of dir fails
 * (DMR_EIO), the new replica is in place but may not survive a power
 * loss. */
int dmr_chunk_writer_commit(dmr_chunk_writer_t **w, uint64_t length);

/* Gives up: removes the writer's temporary files (unless a newer writer
 * for the same id owns those names now), frees *w and sets it to NULL.
 * Accepts NULL and a pointer to NULL. */
void dmr_chunk_writer_abort(dmr_chunk_writer_t **w);

/* ---- reading ------------------------------------------------------------- */

/* In the functions below, err (errlen bytes, may be NULL) receives a
 * message naming the chunk and the file or block at fault whenever the
 * return code is not 0. DMR_EIO always means a system call failed (errno
 * set), not that the replica is damaged. */

/* Reads the meta header of replica id into *out (written only on
 * success). Returns 0; DMR_ENOENT when there is no replica (no meta file);
 * DMR_ECORRUPT when the meta file is damaged (too short, bad magic, header
 * CRC mismatch, id mismatch, unsupported block size, block count or CRC
 * table size inconsistent with the length) or the data file is missing or
 * its size differs from the length in the meta; DMR_EIO. */
int dmr_chunk_stat(const char *dir, uint64_t id, dmr_chunk_info_t *out,
                   char *err, size_t errlen);

/* Reads up to n bytes of replica id at offset into buf (n bytes; may be
 * NULL when n is 0) and sets *got to the number read: n, fewer only when
 * the chunk ends first; offset == length gives 0. Every block the range
 * touches is read whole and its CRC checked before any of its bytes are
 * copied to buf. Memory: one block besides buf.
 *
 * Returns 0; DMR_EINVAL when offset is past the end; DMR_ECORRUPT when a
 * block fails its check (err names the chunk, the block index and its
 * byte offset; buf then holds the blocks before it, nothing of that block
 * or after it, and *got is not written) or the replica is damaged as
 * dmr_chunk_stat describes; DMR_ENOENT; DMR_EIO. Opens and closes the
 * files on each call. */
int dmr_chunk_read(const char *dir, uint64_t id, uint64_t offset, size_t n,
                   void *buf, size_t *got, char *err, size_t errlen);

/* Checks every block of replica id against its CRC. Returns 0,
 * DMR_ECORRUPT (the first damaged block, or a damaged meta, in err),
 * DMR_ENOENT or DMR_EIO. Memory: one block. */
int dmr_chunk_verify(const char *dir, uint64_t id, char *err, size_t errlen);

/* ---- the directory ------------------------------------------------------- */

/* Lists the committed replicas in dir, in no particular order: on success
 * *out (caller frees with free(); NULL when empty) and *n. Replicas that
 * exist (have a meta file) but fail dmr_chunk_stat with DMR_ECORRUPT are
 * not listed but their ids go to *bad and *nbad (caller frees; NULL when
 * empty) so the caller can report or delete them; bad may be NULL (then
 * nbad is ignored). Files whose names are not replica files are ignored.
 *
 * Cleans up as it goes: the temporary files of writers that are not open
 * (in any process), and data files without a meta file (left by a crash
 * in the middle of a commit or a delete), are removed once their last
 * modification is more than tmp_max_age_s seconds old; 0 removes all of
 * them (a worker starting up).
 *
 * A missing dir is an empty list. Returns 0, or DMR_EIO (errno set) when
 * the directory cannot be read or a meta file cannot be opened or read;
 * nothing is written to the out-parameters then. */
int dmr_chunk_list(const char *dir, int tmp_max_age_s, dmr_chunk_info_t **out,
                   size_t *n, uint64_t **bad, size_t *nbad);

/* Removes replica id: the meta file first (the replica is gone from then
 * on), then the data file, then fsyncs dir. A missing replica is success.
 * Returns 0 or DMR_EIO (errno set). Does not touch a writer's temporary
 * files. */
int dmr_chunk_delete(const char *dir, uint64_t id);

#endif
