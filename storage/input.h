/* input.h -- input files, splits and the text line reader.
 *
 * The client expands the user's input arguments (files, directories,
 * globs) into a file list; the master cuts the list into byte-range
 * splits; a map task reads the lines of its split.
 *
 * Line ownership follows Hadoop's TextInputFormat: a line belongs to the
 * split that holds the newline ending the previous line (the first line of
 * a file belongs to the split at offset 0). So a reader of split [s, e)
 * skips to the first line start p with s < p (when s > 0) and reads every
 * line whose start p satisfies p <= e -- finishing past e if the line runs
 * on. Every line is read exactly once however the file is cut. A last
 * line without a trailing newline is a line. "\r\n" endings lose the "\r". */
#ifndef DMR_STORAGE_INPUT_H
#define DMR_STORAGE_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "jobs/dmr_job.h"

typedef struct {
    char *path;     /* absolute path workers open, or dmr:/PATH */
    char *name;     /* the path as the user named it (shown to jobs) */
    uint64_t size;  /* bytes */
    uint64_t block; /* if not 0, splits of this file are this many bytes
                       (a store file's chunk size, so splits are chunks) */
} dmr_input_file_t;

typedef struct {
    uint32_t file;   /* index into the file list */
    uint64_t offset; /* first byte */
    uint64_t length; /* bytes (a line may run past offset+length) */
} dmr_split_t;

/* Expands user arguments into a sorted, de-duplicated list of regular
 * files: a file is itself; a directory is the regular files below it
 * (recursively, skipping names starting with '.' or '_', as Hadoop does);
 * anything else is a glob(3) pattern. An argument that matches nothing is
 * an error: returns DMR_ENOENT and writes "input path does not exist: X"
 * into err. On success *out (free with dmr_input_files_free) and *n. */
int dmr_input_expand(const char *const *args, size_t nargs,
                     dmr_input_file_t **out, size_t *n, char *err,
                     size_t errlen);
void dmr_input_files_free(dmr_input_file_t *files, size_t n);

/* Cuts files into splits of split_bytes, or of a file's own block size
 * (the last split of a file may be up to 10% larger rather than leave a
 * sliver, like Hadoop's SPLIT_SLOP).
 * whole_files makes one split per file. An empty file yields one empty
 * split. *out is caller-freed. */
int dmr_input_cut(const dmr_input_file_t *files, size_t nfiles,
                  uint64_t split_bytes, int whole_files, dmr_split_t **out,
                  size_t *n);

typedef struct dmr_lines dmr_lines_t;

/* Where a line reader's bytes come from: reads up to n bytes at off into
 * p, returning the count (0 at the end) or a negative DMR_E* code. */
typedef int (*dmr_read_fn)(void *arg, char *p, size_t n, uint64_t off);

/* Opens a line reader over split [offset, offset+length) of path. With
 * want_lineno the reader counts the newlines before offset so that every
 * line carries its 1-based line number. */
int dmr_lines_open(const char *path, uint64_t offset, uint64_t length,
                   int want_lineno, dmr_lines_t **out);
/* The same over any source (a file in the chunk store). */
int dmr_lines_open_source(dmr_read_fn read, void *arg, uint64_t offset,
                          uint64_t length, int want_lineno, dmr_lines_t **out);
/* 1 with *line (no newline; valid until the next call), *offset (of the
 * line in the file) and *lineno (0 unless want_lineno) set; 0 at the end of
 * the split; or a negative DMR_E* code. */
int dmr_lines_next(dmr_lines_t *r, dmr_slice *line, uint64_t *offset,
                   uint64_t *lineno);
void dmr_lines_destroy(dmr_lines_t **r);

/* Test hook: the initial read buffer of readers opened from now on (0
 * restores the 128 KiB default), so tests can force refills and line growth
 * with small files. Process-wide; not thread-safe. */
void dmr_lines_set_bufsize(size_t bytes);

#endif
