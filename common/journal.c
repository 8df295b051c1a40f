/* journal.c -- an append-only file of checksummed records (see journal.h).
 *
 * Integers are little-endian, written and read byte by byte.
 *
 *   File
 *   +------------------------------+
 *   | header (8 bytes)             |  offset 0
 *   | record 0                     |  offset 8
 *   | record 1                     |  offset 8 + 12 + len of record 0
 *   | ...                          |
 *   +------------------------------+
 *
 *   Header (8 bytes)
 *   | off | size | field                                                |
 *   |-----|------|------------------------------------------------------|
 *   |   0 | 8    | magic "DMRJNL01" (no NUL)                            |
 *
 *   Record (12-byte header, then the payload)
 *   | off | size | field                                                |
 *   |-----|------|------------------------------------------------------|
 *   |   0 | u32  | magic 0x4A524D44 (the bytes "DMRJ")                  |
 *   |   4 | u32  | len: payload bytes, 0..DMR_JOURNAL_MAX               |
 *   |   8 | u32  | CRC32 (zlib) of bytes 4..7 (len as stored), then of  |
 *   |     |      |   the payload                                        |
 *   |  12 | len  | payload, opaque to this module                       |
 *
 * Invariant between calls: the file is the header followed by intact
 * records and nothing else, and j->size is its length. An append writes
 * one record with one write(2) at j->size; a failed write is cut back off.
 *
 * Recovery (dmr_journal_open). A file of 0 bytes, or a non-empty prefix of
 * the header, is a crash during creation: the header is (re)written. Any
 * other file not starting with the header is refused untouched. Records
 * are then checked in order: a record is intact when its 12-byte header
 * is complete, its magic matches, its len is at most DMR_JOURNAL_MAX, its
 * payload lies inside the file and its CRC matches. At the first record
 * that is not, the rest of the file is scanned byte by byte (from that
 * record's offset + 1) for an intact record. None: the damage is the tail
 * of an append that a crash interrupted, and the file is cut at the bad
 * record's offset (ftruncate, fsync). One: the damage is in the middle of
 * the file, which an interrupted append does not explain, and open fails
 * with DMR_ECORRUPT, leaving the file as it was. (A power loss after
 * several unsynced appends could in principle persist a later record
 * before an earlier one; that too is refused rather than guessed at.)
 * Reading goes through a read-ahead window of S_READ_AHEAD bytes that
 * grows to one whole record when a record is larger, so memory stays
 * bounded by DMR_JOURNAL_MAX however long the file.
 *
 * Compaction (dmr_journal_rewrite) writes a complete new file beside the
 * old one and renames it over it, so a crash at any point leaves either
 * the old journal or the new one (plus perhaps a stale path.tmp, which the
 * next rewrite truncates).
 *
 * A journal is a single-threaded object. */
#include "common/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/util.h"

#define S_HDR 8      /* file header */
#define S_REC_HDR 12 /* record header */
#define S_REC_MAGIC 0x4A524D44u
#define S_READ_AHEAD (64 * 1024)
#define S_WRITE_PIECE (1024 * 1024) /* rewrite writes pieces this big */
#define S_KEEP (64 * 1024)          /* append buffer kept between appends */

static const char s_file_magic[S_HDR] = {'D', 'M', 'R', 'J',
                                         'N', 'L', '0', '1'};

struct dmr_journal {
    char *path;
    int fd;
    uint64_t size; /* file length; the next record goes here */
    int err;       /* DMR_EIO once the file's state is unknown, else 0 */
    dmr_buf_t rec; /* the record being appended */
};

/* ---- bytes and system calls -------------------------------------------- */

/* CRC32 of a record: its 4 length bytes, then its payload. */
static uint32_t s_crc(const unsigned char *lenbytes, const void *payload,
                      uint32_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, lenbytes, 4);
    if (len > 0) /* crc32() with a NULL buffer restarts */
        crc = crc32(crc, payload, len);
    return (uint32_t)crc;
}

/* Appends the record framing data to b. */
static void s_put_record(dmr_buf_t *b, const void *data, size_t len)
{
    unsigned char h[S_REC_HDR];
    dmr_put_le32(h, S_REC_MAGIC);
    dmr_put_le32(h + 4, (uint32_t)len);
    dmr_put_le32(h + 8, s_crc(h + 4, data, (uint32_t)len));
    dmr_buf_append(b, h, sizeof h);
    dmr_buf_append(b, data, len);
}

/* ---- reading records --------------------------------------------------- */

/* A read-ahead window over the file being opened. */
typedef struct {
    int fd;
    uint64_t fsize;     /* file length when opened */
    unsigned char *buf; /* the window */
    size_t cap;
    uint64_t base; /* file offset of buf[0] */
    size_t len;    /* bytes of the file in buf */
} s_reader_t;

/* Points *p at bytes [off, off + n) of the file, which must lie inside it
 * (n >= 1). Valid until the next call. DMR_EIO (errno set) on failure. */
static int s_reader_get(s_reader_t *r, uint64_t off, size_t n,
                        const unsigned char **p)
{
    DMR_ASSERT(n > 0 && off + n <= r->fsize);
    if (off < r->base || off + n > r->base + r->len) {
        size_t want = n > S_READ_AHEAD ? n : S_READ_AHEAD;
        if (want > r->fsize - off)
            want = (size_t)(r->fsize - off);
        if (r->cap < want) {
            free(r->buf);
            r->buf = dmr_malloc(want);
            r->cap = want;
        }
        r->len = 0;
        int rc = dmr_pread_all(r->fd, r->buf, want, off);
        if (rc != 0)
            return rc;
        r->base = off;
        r->len = want;
    }
    *p = r->buf + (off - r->base);
    return 0;
}

/* Checks the record at off. Returns 1 with *len and *payload (valid until
 * the next read) when it is intact, 0 with what it found wrong in what[],
 * or DMR_EIO. */
static int s_check(s_reader_t *r, uint64_t off, uint32_t *len,
                   const unsigned char **payload, char *what, size_t whatlen)
{
    uint64_t left = r->fsize - off;
    if (left < S_REC_HDR) {
        snprintf(what, whatlen, "record header cut short (%u of %d bytes)",
                 (unsigned)left, S_REC_HDR);
        return 0;
    }
    const unsigned char *h;
    int rc = s_reader_get(r, off, S_REC_HDR, &h);
    if (rc != 0)
        return rc;
    uint32_t magic = dmr_le32(h);
    uint32_t n = dmr_le32(h + 4);
    uint32_t crc = dmr_le32(h + 8);
    if (magic != S_REC_MAGIC) {
        snprintf(what, whatlen, "bad magic 0x%08x", (unsigned)magic);
        return 0;
    }
    if (n > DMR_JOURNAL_MAX) {
        snprintf(what, whatlen, "length %u over the maximum %u", (unsigned)n,
                 (unsigned)DMR_JOURNAL_MAX);
        return 0;
    }
    if (n > left - S_REC_HDR) {
        snprintf(what, whatlen, "payload extends past end of file");
        return 0;
    }
    rc = s_reader_get(r, off, S_REC_HDR + (size_t)n, &h);
    if (rc != 0)
        return rc;
    if (s_crc(h + 4, h + S_REC_HDR, n) != crc) {
        snprintf(what, whatlen, "CRC mismatch");
        return 0;
    }
    *len = n;
    *payload = h + S_REC_HDR;
    return 1;
}

/* Looks for an intact record starting after off: 1 with *at if there is
 * one, 0 if there is none, or DMR_EIO. */
static int s_find_intact(s_reader_t *r, uint64_t off, uint64_t *at)
{
    char what[96];
    for (uint64_t pos = off + 1; pos + S_REC_HDR <= r->fsize; pos++) {
        const unsigned char *p = NULL;
        int rc = s_reader_get(r, pos, 4, &p);
        if (rc != 0)
            return rc;
        if (dmr_le32(p) != S_REC_MAGIC)
            continue;
        uint32_t len = 0;
        rc = s_check(r, pos, &len, &p, what, sizeof what);
        if (rc == 1)
            *at = pos;
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- open --------------------------------------------------------------- */

/* Checks the file header: 0 if it is intact, 1 if it must be written (the
 * file is empty or holds a torn header), or DMR_ECORRUPT / DMR_EIO. */
static int s_check_header(int fd, const char *path, uint64_t fsize, char *err,
                          size_t errlen)
{
    unsigned char h[S_HDR] = {0};
    size_t n = fsize < S_HDR ? (size_t)fsize : S_HDR;
    if (n > 0 && dmr_pread_all(fd, h, n, 0) != 0) {
        dmr_errf(err, errlen, "%s: cannot read the header: %s", path,
                 strerror(errno));
        return DMR_EIO;
    }
    if (memcmp(h, s_file_magic, n) != 0) {
        dmr_errf(err, errlen,
                 "%s: not a dmr journal (it does not start with %.8s)", path,
                 s_file_magic);
        return DMR_ECORRUPT;
    }
    return n < S_HDR;
}

/* Writes the header over an empty file or a torn header and makes the file
 * and its name durable. */
static int s_write_header(int fd, const char *path, char *err, size_t errlen)
{
    if (dmr_pwrite_all(fd, s_file_magic, S_HDR, 0) != 0 || fsync(fd) != 0 ||
        dmr_fsync_parent(path) != 0) {
        dmr_errf(err, errlen, "%s: cannot write the header: %s", path,
                 strerror(errno));
        return DMR_EIO;
    }
    return 0;
}

int dmr_journal_open(const char *path, dmr_journal_fn fn, void *arg,
                     dmr_journal_t **out, dmr_journal_info_t *info, char *err,
                     size_t errlen)
{
    *out = NULL;
    dmr_journal_info_t inf;
    memset(&inf, 0, sizeof inf);
    s_reader_t r = {.fd = -1};
    int rc;

    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = errno == ENOENT ? DMR_ENOENT : DMR_EIO;
        dmr_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = DMR_EIO;
        dmr_errf(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = DMR_EINVAL;
        dmr_errf(err, errlen, "%s: not a regular file", path);
        goto out;
    }
    uint64_t fsize = (uint64_t)st.st_size;
    rc = s_check_header(fd, path, fsize, err, errlen);
    if (rc == 1) {
        rc = s_write_header(fd, path, err, errlen);
        fsize = S_HDR;
    }
    if (rc != 0)
        goto out;

    /* Replay up to the first record that is not intact. */
    r.fd = fd;
    r.fsize = fsize;
    uint64_t off = S_HDR;
    char what[96] = "";
    while (off < fsize) {
        uint32_t len = 0;
        const unsigned char *payload = NULL;
        rc = s_check(&r, off, &len, &payload, what, sizeof what);
        if (rc < 0) {
            dmr_errf(err, errlen, "%s: read at offset %llu: %s", path,
                     (unsigned long long)off, strerror(errno));
            goto out;
        }
        if (rc == 0)
            break;
        rc = fn ? fn(arg, payload, len) : 0;
        if (rc != 0) {
            dmr_errf(err, errlen,
                     "%s: replay stopped at the record at offset %llu: %s",
                     path, (unsigned long long)off, dmr_strerror(rc));
            goto out;
        }
        inf.records++;
        off += S_REC_HDR + (uint64_t)len;
    }

    /* A torn tail, or damage with intact records after it? */
    if (off < fsize) {
        uint64_t at = 0;
        rc = s_find_intact(&r, off, &at);
        if (rc < 0) {
            dmr_errf(err, errlen, "%s: read after offset %llu: %s", path,
                     (unsigned long long)off, strerror(errno));
            goto out;
        }
        if (rc == 1) {
            rc = DMR_ECORRUPT;
            dmr_errf(err, errlen,
                     "%s: record at offset %llu is damaged (%s) but intact "
                     "records follow; refusing to drop them",
                     path, (unsigned long long)off, what);
            goto out;
        }
        if (ftruncate(fd, (off_t)off) != 0 || fsync(fd) != 0) {
            rc = DMR_EIO;
            dmr_errf(err, errlen,
                     "%s: cannot cut the torn tail at offset %llu: %s", path,
                     (unsigned long long)off, strerror(errno));
            goto out;
        }
        inf.dropped = fsize - off;
        snprintf(inf.why, sizeof inf.why, "torn record at offset %llu: %s",
                 (unsigned long long)off, what);
        fsize = off;
    }
    inf.bytes = fsize;

    dmr_journal_t *j = dmr_calloc(1, sizeof *j);
    j->path = dmr_strdup(path);
    j->fd = fd;
    j->size = fsize;
    fd = -1;
    *out = j;
    if (info)
        *info = inf;
out:
    free(r.buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* ---- append, sync, close ------------------------------------------------ */

int dmr_journal_append(dmr_journal_t *j, const void *data, size_t len)
{
    DMR_ASSERT(data || len == 0);
    if (j->err)
        return j->err;
    if (len > DMR_JOURNAL_MAX)
        return DMR_ETOOBIG;
    dmr_buf_clear(&j->rec);
    s_put_record(&j->rec, data, len);
    int rc = dmr_pwrite_all(j->fd, j->rec.data, j->rec.len, j->size);
    int saved = errno;
    if (rc == 0)
        j->size += j->rec.len;
    else if (ftruncate(j->fd, (off_t)j->size) != 0)
        j->err = DMR_EIO; /* a piece of the record may stay behind */
    if (j->rec.cap > S_KEEP)
        dmr_buf_free(&j->rec);
    errno = saved;
    return rc;
}

int dmr_journal_sync(dmr_journal_t *j)
{
    if (j->err)
        return j->err;
    if (fdatasync(j->fd) != 0)
        j->err = DMR_EIO;
    return j->err;
}

uint64_t dmr_journal_size(const dmr_journal_t *j)
{
    return j->size;
}

void dmr_journal_close(dmr_journal_t **jp)
{
    dmr_journal_t *j = *jp;
    if (!j)
        return;
    close(j->fd);
    dmr_buf_free(&j->rec);
    free(j->path);
    DMR_FREE(jp);
}

/* ---- rewrite ------------------------------------------------------------ */

int dmr_journal_rewrite(dmr_journal_t *j, dmr_journal_next_fn next, void *arg)
{
    char *tmp = dmr_sprintf("%s.tmp", j->path);
    dmr_buf_t b = DMR_BUF_INIT;
    uint64_t size = 0;
    int rc = DMR_EIO;
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto out;

    dmr_buf_append(&b, s_file_magic, S_HDR);
    for (;;) {
        const void *data = NULL;
        size_t len = 0;
        int more = next(arg, &data, &len);
        if (more < 0) {
            rc = more;
            goto out;
        }
        if (more == 0)
            break;
        DMR_ASSERT(data || len == 0);
        if (len > DMR_JOURNAL_MAX) {
            rc = DMR_ETOOBIG;
            goto out;
        }
        s_put_record(&b, data, len);
        if (b.len >= S_WRITE_PIECE) {
            if (dmr_pwrite_all(fd, b.data, b.len, size) != 0)
                goto out;
            size += b.len;
            dmr_buf_clear(&b);
        }
    }
    if (dmr_pwrite_all(fd, b.data, b.len, size) != 0)
        goto out;
    size += b.len;
    if (fsync(fd) != 0 || rename(tmp, j->path) != 0)
        goto out;

    /* The new file is in place: go on with it whatever happens next. */
    close(j->fd);
    j->fd = fd;
    fd = -1;
    j->size = size;
    j->err = dmr_fsync_parent(j->path);
    rc = j->err;
out:
    if (fd >= 0) {
        close(fd);
        unlink(tmp);
    }
    dmr_buf_free(&b);
    free(tmp);
    return rc;
}
