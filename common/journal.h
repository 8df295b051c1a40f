/* journal.h -- an append-only file of checksummed records that survives
 * kill -9 and power loss.
 *
 * The master journals job and task state here so that a master killed at
 * any moment resumes on restart: opening the journal replays every intact
 * record in order, cuts off a torn tail left by a crash in the middle of an
 * append, and refuses (DMR_ECORRUPT) to drop intact records that follow a
 * damaged one. A record is durable once dmr_journal_sync() has returned 0
 * after its append; dmr_journal_rewrite() compacts the file atomically. The
 * byte layout is documented at the top of journal.c.
 *
 * A journal object is single-threaded, and one file must have one writer
 * at a time (nothing here locks it). Every call blocks on disk I/O. No
 * function prints; err strings and return codes say what went wrong. */
#ifndef DMR_JOURNAL_H
#define DMR_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

/* Largest record payload, in bytes. */
#define DMR_JOURNAL_MAX (16u * 1024 * 1024)

typedef struct dmr_journal dmr_journal_t;

/* Called once per intact record, in file order, while opening. data is
 * valid only during the call (len may be 0). A non-zero return (a negative
 * DMR_E* code) stops the replay and makes dmr_journal_open fail with that
 * code. */
typedef int (*dmr_journal_fn)(void *arg, const void *data, size_t len);

/* What dmr_journal_open found. */
typedef struct {
    uint64_t records; /* intact records replayed */
    uint64_t bytes;   /* file size after recovery */
    uint64_t dropped; /* bytes of torn tail cut off (0 if none) */
    char why[160];    /* when dropped > 0: what was wrong, with the offset */
} dmr_journal_info_t;

/* Opens the journal at path, creating it (and fsyncing it and its
 * directory) when it is missing or empty, and replays its records through
 * fn (which may be NULL). A torn header or torn tail is repaired on disk
 * and reported in *info. On success *out (caller owns; close with
 * dmr_journal_close) is ready to append after the last intact record and
 * *info (may be NULL) is filled.
 *
 * On failure *out is NULL, err (errlen bytes, may be NULL) names the path
 * and offset, and the code is: DMR_ECORRUPT when path is not a dmr journal
 * or a damaged record has intact records after it (the file is then left
 * untouched, though fn has seen the records before the damage); fn's own
 * code when fn stopped the replay; DMR_ENOENT when the directory is
 * missing; DMR_EIO when a system call failed. */
int dmr_journal_open(const char *path, dmr_journal_fn fn, void *arg,
                     dmr_journal_t **out, dmr_journal_info_t *info, char *err,
                     size_t errlen);

/* Appends one record of len bytes (0..DMR_JOURNAL_MAX) with a single
 * write(2) of header and payload. Does not sync: the record is durable only
 * after a successful dmr_journal_sync(). DMR_ETOOBIG for len over the
 * maximum (harmless). DMR_EIO (errno says why) when the write failed; the
 * file is cut back to its previous end, and if even that fails the error
 * is sticky: every later append and sync returns it. */
int dmr_journal_append(dmr_journal_t *j, const void *data, size_t len);

/* fdatasync: the commit point for every record appended so far. A failed
 * sync leaves the file's state unknown, so its DMR_EIO is sticky. */
int dmr_journal_sync(dmr_journal_t *j);

/* Bytes in the journal file: header plus every record appended. */
uint64_t dmr_journal_size(const dmr_journal_t *j);

/* Closes the file (without syncing) and frees the journal; accepts NULL
 * and sets *j to NULL. */
void dmr_journal_close(dmr_journal_t **j);

/* Produces the records of a rewrite: returns 1 with *data and *len set (the
 * bytes must stay valid until the next call), 0 at the end, or a negative
 * DMR_E* code to abort. */
typedef int (*dmr_journal_next_fn)(void *arg, const void **data, size_t *len);

/* Replaces the journal's contents with the records next() produces
 * (compaction): writes path.tmp with the header and each record, fsyncs
 * it, renames it over path, fsyncs the directory, and continues appending
 * to the new file. All records appended before are replaced, synced or
 * not.
 *
 * Returns 0, next()'s negative code, DMR_ETOOBIG for a record over the
 * maximum, or DMR_EIO; each of these before the rename leaves the old
 * journal in place and usable. If only the directory fsync after the
 * rename fails, the journal goes on with the new file but DMR_EIO is
 * sticky. A successful rewrite clears an earlier sticky error: the new
 * file is complete and synced. */
int dmr_journal_rewrite(dmr_journal_t *j, dmr_journal_next_fn next, void *arg);

#endif
