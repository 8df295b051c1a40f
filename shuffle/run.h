/* run.h -- the on-disk run format: sorted key/value records in checksummed,
 * compressed blocks, grouped by partition, with a partition index.
 *
 * A map task writes one run file; a reducer fetches the byte range of its
 * partition (a self-contained sequence of blocks) and reads it back. The
 * byte layout is documented at the top of run.c.
 *
 * Readers never return garbage: a block whose CRC32, lengths or record
 * framing do not check out makes next() return DMR_ECORRUPT. */
#ifndef DMR_SHUFFLE_RUN_H
#define DMR_SHUFFLE_RUN_H

#include <stdint.h>

#include "jobs/dmr_job.h"

/* Uncompressed bytes gathered before a block is cut. */
#define DMR_RUN_BLOCK_TARGET (64 * 1024)
/* Largest block payload (stored or raw) a reader accepts. */
#define DMR_RUN_BLOCK_MAX (64 * 1024 * 1024)

typedef struct dmr_run_writer dmr_run_writer_t;

typedef struct {
    uint64_t offset;  /* of the partition's first block in the file */
    uint64_t length;  /* bytes of its blocks (0 for an empty partition) */
    uint64_t records; /* key/value records in it */
    uint64_t raw;     /* uncompressed payload bytes */
} dmr_run_part_t;

/* Creates path (truncating) for a run of nparts partitions. level is the
 * deflate level: 0 stores blocks uncompressed, 1..9 deflates them. */
int dmr_run_writer_open(const char *path, uint32_t nparts, int level,
                        dmr_run_writer_t **out);
/* The file need not survive a crash of the machine (a spill): finish
 * skips the fsync. */
void dmr_run_writer_nosync(dmr_run_writer_t *w);
/* Appends a record. Partitions must come in non-decreasing order; keys
 * within a partition in the order the caller wants readers to see.
 * DMR_EINVAL for a partition out of range or order (or after finish),
 * DMR_ETOOBIG for a record over DMR_RUN_BLOCK_MAX bytes; neither harms the
 * writer. DMR_EIO is sticky: every later call returns it. */
int dmr_run_writer_add(dmr_run_writer_t *w, uint32_t part, dmr_slice key,
                       dmr_slice val);
/* Flushes the last block, writes the index and footer, fsyncs and closes.
 * After success the file is complete; the writer must still be destroyed. */
int dmr_run_writer_finish(dmr_run_writer_t *w);
/* The partition table (valid after finish) -- nparts entries. */
const dmr_run_part_t *dmr_run_writer_parts(const dmr_run_writer_t *w);
/* Frees the writer; a writer that was not finished removes its file. */
void dmr_run_writer_destroy(dmr_run_writer_t **w);

/* Reads and verifies the index of a finished run file. On success *parts
 * (caller frees) has *nparts entries. */
int dmr_run_index_load(const char *path, uint32_t *nparts,
                       dmr_run_part_t **parts);

typedef struct dmr_run_reader dmr_run_reader_t;

/* Opens a reader over the blocks at [offset, offset+length) of path (a run
 * file's partition, or a file holding one fetched partition: offset 0).
 * The reader never reads outside that range. DMR_ECORRUPT if the file is
 * shorter than offset+length, DMR_ENOENT if it is missing. */
int dmr_run_reader_open(const char *path, uint64_t offset, uint64_t length,
                        dmr_run_reader_t **out);
/* 1 with *key and *val set (valid until the next call), 0 at the end, or a
 * negative DMR_E* code (DMR_ECORRUPT for a bad block, DMR_EIO for a failed
 * read). Errors are sticky. */
int dmr_run_reader_next(dmr_run_reader_t *r, dmr_slice *key, dmr_slice *val);
/* Bytes of the range read so far (compressed), for progress reports. */
uint64_t dmr_run_reader_consumed(const dmr_run_reader_t *r);
void dmr_run_reader_destroy(dmr_run_reader_t **r);

#endif
