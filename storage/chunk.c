/* chunk.c -- a worker's replicas of chunks, checksummed block by block
 * (see chunk.h).
 *
 * Files. <id> is the chunk id in 16 lowercase hex digits; every file of a
 * replica lives directly in the chunk directory DIR.
 *
 *   DIR/<id>.chunk       the chunk's bytes, exactly its length, nothing else
 *   DIR/<id>.meta        header and CRC table (below); its presence is what
 *                        makes the replica exist
 *   DIR/<id>.chunk.tmp   the bytes while a writer is open
 *   DIR/<id>.meta.tmp    the meta file while a commit writes it
 *
 * Meta file. Integers are little-endian, written and read byte by byte.
 *
 *   | off | size | field                                                  |
 *   |-----|------|--------------------------------------------------------|
 *   |   0 | 8    | magic "DMRCHNK1" (no NUL)                              |
 *   |   8 | u64  | chunk id (the same as in the file name)                |
 *   |  16 | u32  | version                                                |
 *   |  20 | u64  | length: bytes in the data file, 0..DMR_CHUNK_MAX       |
 *   |  28 | u32  | block size, 65536 (DMR_CHUNK_BLOCK)                    |
 *   |  32 | u32  | nblocks = ceil(length / block size); 0 for length 0    |
 *   |  36 | u32  | CRC32 (zlib) of bytes 0..35                            |
 *   |  40 | 4 *  | CRC32 (zlib) of each block, block 0 first: block i is  |
 *   |     | nblks|   bytes [i * 65536, min((i + 1) * 65536, length)) of   |
 *   |     |      |   the data file (only the last block may be shorter)   |
 *
 * The meta file is exactly 40 + 4 * nblocks bytes. The CRC table has no
 * CRC of its own: a damaged entry shows as a damaged block, which is what
 * it is to a reader (the block cannot be trusted).
 *
 * A replica exists when DIR/<id>.meta does. It is readable when the meta
 * passes every check of s_replica_open (length, magic, header CRC, id,
 * block size, block count, table size) and the data file is exactly
 * length bytes; each block read is then checked against its CRC.
 *
 * Writing. dmr_chunk_writer_open unlinks both temporary names and creates
 * a fresh <id>.chunk.tmp, on which the writer holds an exclusive flock(2)
 * for as long as it is open: that lock is how dmr_chunk_list tells the
 * files of an open writer (in any process) from crash debris. (flock locks
 * belong to the open file description, so a probe in the same process
 * conflicts with the writer's and closing the probe leaves it be; POSIX
 * fcntl locks would do neither.) The writer remembers the inode it
 * created, and touches a temporary name only while it still names that
 * inode: a second writer for the same id takes the names over, and the
 * first one's commit fails and its abort does nothing. CRCs are computed
 * as bytes arrive: one per complete block, plus a running one for the
 * incomplete last block. Bytes sent again are compared with the file's
 * (read back a block at a time), never counted twice.
 *
 * Commit, in order: fsync the data tmp; write and fsync <id>.meta.tmp;
 * unlink an earlier <id>.meta; rename <id>.chunk.tmp to <id>.chunk;
 * rename <id>.meta.tmp to <id>.meta; fsync DIR. A crash at any point
 * leaves the earlier replica (before the unlink), no replica (after it:
 * a data file without meta is not a replica), or the new one. Even where
 * a file system reorders the steps, the per-block CRCs stand between a
 * meta and the wrong data. dmr_chunk_list removes the leftovers (temporary
 * files and data files without a meta) of writers that are not open.
 *
 * No global state; a writer is a single-threaded object. */
#include "storage/chunk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

#define S_HDR 40 /* meta header, CRC included */
#define S_HEX 16 /* hex digits of an id in a file name */
static const char s_magic[8] = {'D', 'M', 'R', 'C', 'H', 'N', 'K', '1'};

/* The four names of a replica's files, as suffixes and as bits. */
enum { S_DATA = 1, S_META = 2, S_DATA_TMP = 4, S_META_TMP = 8 };
static const struct {
    int kind;
    const char *suffix;
} s_suffixes[] = {
    {S_DATA, ".chunk"},
    {S_META, ".meta"},
    {S_DATA_TMP, ".chunk.tmp"},
    {S_META_TMP, ".meta.tmp"},
};

struct dmr_chunk_writer {
    char *data, *meta;  /* DIR/<id>.chunk, DIR/<id>.meta */
    char *data_tmp;     /* DIR/<id>.chunk.tmp: bytes so far */
    char *meta_tmp;     /* DIR/<id>.meta.tmp: written by commit */
    uint64_t id;        /* the chunk */
    uint32_t version;   /* goes into the meta */
    int fd;             /* data_tmp, open O_RDWR, flocked LOCK_EX */
    dev_t dev;          /* fd's inode: while data_tmp names it, */
    ino_t ino;          /*   the temporary names are this writer's */
    uint64_t size;      /* bytes written; the file is this long */
    uint32_t *crcs;     /* CRC of each complete block */
    size_t ncrcs, cap;  /* complete blocks, room in crcs */
    uint32_t part;      /* running CRC of the last size % BLOCK bytes */
    unsigned char *cmp; /* a block, to compare retransmitted bytes */
    int err;            /* sticky DMR_EIO once the file is unknown */
};

/* ---- bytes and names ---------------------------------------------------- */

/* CRC32 of n bytes (n fits zlib's uInt: callers pass at most a block). */
static uint32_t s_crc(uint32_t crc, const void *p, size_t n)
{
    DMR_ASSERT(n <= DMR_CHUNK_BLOCK);
    return n ? (uint32_t)crc32(crc, p, (uInt)n) : crc;
}

static uint32_t s_nblocks(uint64_t length)
{
    return (uint32_t)((length + DMR_CHUNK_BLOCK - 1) / DMR_CHUNK_BLOCK);
}

/* Bytes in block b of a chunk of length bytes. */
static size_t s_block_len(uint64_t length, uint32_t b)
{
    uint64_t left = length - (uint64_t)b * DMR_CHUNK_BLOCK;
    return left < DMR_CHUNK_BLOCK ? (size_t)left : DMR_CHUNK_BLOCK;
}

/* DIR/<id><suffix>; caller frees. */
static char *s_path(const char *dir, uint64_t id, const char *suffix)
{
    return dmr_sprintf("%s/%016" PRIx64 "%s", dir, id, suffix);
}

/* The kind (S_DATA, ...) of a file name with its id, or 0 for a name that
 * is not a replica file. */
static int s_parse_name(const char *name, uint64_t *id)
{
    uint64_t v = 0;
    for (int i = 0; i < S_HEX; i++) {
        char c = name[i];
        if (c >= '0' && c <= '9')
            v = v << 4 | (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v << 4 | (uint64_t)(c - 'a' + 10);
        else
            return 0; /* also the end of a short name */
    }
    for (size_t k = 0; k < sizeof s_suffixes / sizeof s_suffixes[0]; k++) {
        if (strcmp(name + S_HEX, s_suffixes[k].suffix) == 0) {
            *id = v;
            return s_suffixes[k].kind;
        }
    }
    return 0;
}

/* The 40-byte meta header. */
static void s_put_header(unsigned char *h, uint64_t id, uint32_t version,
                         uint64_t length)
{
    memcpy(h, s_magic, sizeof s_magic);
    dmr_put_le64(h + 8, id);
    dmr_put_le32(h + 16, version);
    dmr_put_le64(h + 20, length);
    dmr_put_le32(h + 28, DMR_CHUNK_BLOCK);
    dmr_put_le32(h + 32, s_nblocks(length));
    dmr_put_le32(h + 36, s_crc(0, h, 36));
}

/* unlink that treats a missing file as done. */
static int s_unlink(const char *path)
{
    return unlink(path) == 0 || errno == ENOENT ? 0 : DMR_EIO;
}

/* 1 if path names the inode dev/ino. */
static int s_names(const char *path, dev_t dev, ino_t ino)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/* 1 if an open writer holds the lock on the file at path. A file that
 * cannot be opened to find out (other than a missing one) counts as
 * locked: better to leave debris than to remove a live writer's files. */
static int s_locked(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno != ENOENT;
    int locked = flock(fd, LOCK_SH | LOCK_NB) != 0;
    close(fd);
    return locked;
}

/* ---- writing ------------------------------------------------------------ */

static void s_writer_free(dmr_chunk_writer_t *w)
{
    if (w->fd >= 0)
        close(w->fd);
    free(w->data);
    free(w->meta);
    free(w->data_tmp);
    free(w->meta_tmp);
    free(w->crcs);
    free(w->cmp);
    free(w);
}

/* Removes the temporary files if their names are still this writer's. */
static void s_remove_temps(dmr_chunk_writer_t *w)
{
    if (!s_names(w->data_tmp, w->dev, w->ino))
        return;
    unlink(w->data_tmp);
    unlink(w->meta_tmp);
}

int dmr_chunk_writer_open(const char *dir, uint64_t id, uint32_t version,
                          dmr_chunk_writer_t **out)
{
    *out = NULL;
    dmr_chunk_writer_t *w = dmr_calloc(1, sizeof *w);
    w->data = s_path(dir, id, ".chunk");
    w->meta = s_path(dir, id, ".meta");
    w->data_tmp = s_path(dir, id, ".chunk.tmp");
    w->meta_tmp = s_path(dir, id, ".meta.tmp");
    w->id = id;
    w->version = version;
    w->part = s_crc(0, NULL, 0);
    w->fd = -1;

    int rc = DMR_EIO, saved;
    if (s_unlink(w->data_tmp) != 0 || s_unlink(w->meta_tmp) != 0) {
        if (errno == ENOTDIR)
            rc = DMR_ENOENT;
        goto fail;
    }
    w->fd = open(w->data_tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            rc = DMR_ENOENT;
        goto fail;
    }
    struct stat st;
    if (flock(w->fd, LOCK_EX | LOCK_NB) != 0 || fstat(w->fd, &st) != 0) {
        saved = errno;
        unlink(w->data_tmp);
        errno = saved;
        goto fail;
    }
    w->dev = st.st_dev;
    w->ino = st.st_ino;
    *out = w;
    return 0;
fail:
    saved = errno;
    s_writer_free(w);
    errno = saved;
    return rc;
}

/* Compares n bytes at p with the bytes written at offset (all before
 * w->size): 0, DMR_EINVAL if they differ, DMR_EIO. */
static int s_same(dmr_chunk_writer_t *w, uint64_t offset,
                  const unsigned char *p, size_t n)
{
    if (!w->cmp)
        w->cmp = dmr_malloc(DMR_CHUNK_BLOCK);
    while (n > 0) {
        size_t k = n < DMR_CHUNK_BLOCK ? n : DMR_CHUNK_BLOCK;
        if (dmr_pread_all(w->fd, w->cmp, k, offset) != 0)
            return DMR_EIO; /* even if the file ended: it must not have */
        if (memcmp(w->cmp, p, k) != 0)
            return DMR_EINVAL;
        p += k;
        n -= k;
        offset += k;
    }
    return 0;
}

/* Counts n new bytes at p into the CRCs and the size. */
static void s_crc_add(dmr_chunk_writer_t *w, const unsigned char *p, size_t n)
{
    while (n > 0) {
        size_t room = DMR_CHUNK_BLOCK - (size_t)(w->size % DMR_CHUNK_BLOCK);
        size_t k = n < room ? n : room;
        w->part = s_crc(w->part, p, k);
        w->size += k;
        p += k;
        n -= k;
        if (w->size % DMR_CHUNK_BLOCK != 0)
            continue;
        if (w->ncrcs == w->cap) {
            w->cap = w->cap ? 2 * w->cap : 16;
            w->crcs = dmr_realloc(w->crcs, w->cap * sizeof *w->crcs);
        }
        w->crcs[w->ncrcs++] = w->part;
        w->part = s_crc(0, NULL, 0);
    }
}

int dmr_chunk_writer_write(dmr_chunk_writer_t *w, uint64_t offset,
                           const void *p, size_t n)
{
    DMR_ASSERT(p || n == 0);
    if (w->err)
        return w->err;
    if (n > DMR_CHUNK_MAX || offset > DMR_CHUNK_MAX - n)
        return DMR_ETOOBIG;
    if (offset > w->size)
        return DMR_EINVAL; /* a gap */

    /* The part already written must be a faithful retransmission. */
    const unsigned char *c = p;
    uint64_t old = w->size - offset;
    size_t k = old < n ? (size_t)old : n;
    int rc = k ? s_same(w, offset, c, k) : 0;
    if (rc != 0 || k == n)
        return rc;
    c += k;
    n -= k;

    rc = dmr_pwrite_all(w->fd, c, n, w->size);
    if (rc != 0) {
        int saved = errno;
        if (ftruncate(w->fd, (off_t)w->size) != 0)
            w->err = DMR_EIO; /* part of the piece may stay behind */
        errno = saved;
        return rc;
    }
    s_crc_add(w, c, n);
    return 0;
}

uint64_t dmr_chunk_writer_size(const dmr_chunk_writer_t *w)
{
    return w->size;
}

/* The meta file's bytes for w (length w->size); caller frees. */
static unsigned char *s_meta_bytes(const dmr_chunk_writer_t *w, size_t *len)
{
    uint32_t nblocks = s_nblocks(w->size);
    DMR_ASSERT(w->ncrcs == w->size / DMR_CHUNK_BLOCK);
    *len = S_HDR + 4 * (size_t)nblocks;
    unsigned char *m = dmr_malloc(*len);
    s_put_header(m, w->id, w->version, w->size);
    for (size_t b = 0; b < w->ncrcs; b++)
        dmr_put_le32(m + S_HDR + 4 * b, w->crcs[b]);
    if (nblocks > w->ncrcs)
        dmr_put_le32(m + S_HDR + 4 * w->ncrcs, w->part);
    return m;
}

int dmr_chunk_writer_commit(dmr_chunk_writer_t **wp, uint64_t length)
{
    dmr_chunk_writer_t *w = *wp;
    DMR_ASSERT(w);
    *wp = NULL;
    unsigned char *m = NULL;
    int mfd = -1, closed, saved;
    enum { TEMPS, DATA_IN_PLACE, IN_PLACE } stage = TEMPS;
    int rc = w->err;
    if (rc != 0)
        goto out;
    if (!s_names(w->data_tmp, w->dev, w->ino)) {
        rc = DMR_EEXIST; /* a newer writer owns the names: touch nothing */
        goto out;
    }
    if (length != w->size) {
        rc = DMR_EINVAL;
        goto out;
    }

    rc = DMR_EIO;
    if (fsync(w->fd) != 0)
        goto out;
    size_t mlen;
    m = s_meta_bytes(w, &mlen);
    mfd = open(w->meta_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (mfd < 0 || dmr_write_all(mfd, m, mlen) != 0 || fsync(mfd) != 0)
        goto out;
    closed = close(mfd);
    mfd = -1;
    if (closed != 0)
        goto out;

    /* The earlier replica stops existing before its data is replaced. */
    if (s_unlink(w->meta) != 0 || rename(w->data_tmp, w->data) != 0)
        goto out;
    stage = DATA_IN_PLACE;
    if (rename(w->meta_tmp, w->meta) != 0)
        goto out;
    stage = IN_PLACE;
    rc = dmr_fsync_parent(w->meta);
out:
    saved = errno;
    if (mfd >= 0)
        close(mfd);
    if (stage == TEMPS && rc != 0 && rc != DMR_EEXIST) {
        s_remove_temps(w);
    } else if (stage == DATA_IN_PLACE) {
        if (s_names(w->data, w->dev, w->ino))
            unlink(w->data);
        unlink(w->meta_tmp);
    }
    free(m);
    s_writer_free(w);
    errno = saved;
    return rc;
}

void dmr_chunk_writer_abort(dmr_chunk_writer_t **wp)
{
    if (!wp || !*wp)
        return;
    s_remove_temps(*wp);
    s_writer_free(*wp);
    *wp = NULL;
}

/* ---- reading ------------------------------------------------------------ */

/* An open, checked replica. */
typedef struct {
    char *meta_path, *data_path;
    int mfd, dfd;
    dmr_chunk_info_t info;
    uint32_t nblocks;
} s_replica_t;

static void s_replica_close(s_replica_t *r)
{
    if (r->mfd >= 0)
        close(r->mfd);
    if (r->dfd >= 0)
        close(r->dfd);
    free(r->meta_path);
    free(r->data_path);
}

/* Opens replica id and checks its meta against itself and the data file's
 * size (see the top of this file). r must be closed whatever this returns:
 * 0, DMR_ENOENT, DMR_ECORRUPT or DMR_EIO, with err. */
static int s_replica_open(const char *dir, uint64_t id, s_replica_t *r,
                          char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->mfd = r->dfd = -1;
    r->meta_path = s_path(dir, id, ".meta");
    r->data_path = s_path(dir, id, ".chunk");
    const char *mp = r->meta_path;

    r->mfd = open(mp, O_RDONLY | O_CLOEXEC);
    if (r->mfd < 0) {
        int enoent = errno == ENOENT || errno == ENOTDIR;
        dmr_errf(err, errlen, "chunk %016" PRIx64 ": %s: %s", id, mp,
                 enoent ? "no replica (no meta file)" : strerror(errno));
        return enoent ? DMR_ENOENT : DMR_EIO;
    }
    struct stat st;
    if (fstat(r->mfd, &st) != 0) {
        dmr_errf(err, errlen, "%s: cannot stat: %s", mp, strerror(errno));
        return DMR_EIO;
    }
    uint64_t msize = (uint64_t)st.st_size;
    if (!S_ISREG(st.st_mode)) {
        dmr_errf(err, errlen, "%s: not a regular file", mp);
        return DMR_ECORRUPT;
    }
    if (msize < S_HDR) {
        dmr_errf(err, errlen, "%s: meta file too short (%" PRIu64 " bytes)", mp,
                 msize);
        return DMR_ECORRUPT;
    }
    unsigned char h[S_HDR];
    int rc = dmr_pread_all(r->mfd, h, S_HDR, 0);
    if (rc != 0) {
        dmr_errf(err, errlen, "%s: cannot read the header: %s", mp,
                 strerror(errno));
        return rc;
    }
    if (memcmp(h, s_magic, sizeof s_magic) != 0) {
        dmr_errf(err, errlen, "%s: bad magic (not a dmr chunk meta file)", mp);
        return DMR_ECORRUPT;
    }
    uint32_t crc = s_crc(0, h, 36);
    if (dmr_le32(h + 36) != crc) {
        dmr_errf(err, errlen,
                 "%s: header CRC mismatch (stored 0x%08x, computed 0x%08x)", mp,
                 (unsigned)dmr_le32(h + 36), (unsigned)crc);
        return DMR_ECORRUPT;
    }
    r->info.id = dmr_le64(h + 8);
    r->info.version = dmr_le32(h + 16);
    r->info.length = dmr_le64(h + 20);
    uint32_t bsize = dmr_le32(h + 28);
    r->nblocks = dmr_le32(h + 32);
    if (r->info.id != id) {
        dmr_errf(err, errlen, "%s: id mismatch: holds chunk %016" PRIx64, mp,
                 r->info.id);
        return DMR_ECORRUPT;
    }
    if (bsize != DMR_CHUNK_BLOCK) {
        dmr_errf(err, errlen, "%s: unsupported block size %u", mp,
                 (unsigned)bsize);
        return DMR_ECORRUPT;
    }
    if (r->info.length > DMR_CHUNK_MAX ||
        r->nblocks != s_nblocks(r->info.length)) {
        dmr_errf(err, errlen,
                 "%s: length %" PRIu64 " and block count %u do not agree", mp,
                 r->info.length, (unsigned)r->nblocks);
        return DMR_ECORRUPT;
    }
    uint64_t want = S_HDR + 4 * (uint64_t)r->nblocks;
    if (msize != want) {
        dmr_errf(
            err, errlen,
            "%s: CRC table %s: meta file is %" PRIu64 " bytes, want %" PRIu64,
            mp, msize < want ? "truncated" : "followed by junk", msize, want);
        return DMR_ECORRUPT;
    }

    const char *dp = r->data_path;
    r->dfd = open(dp, O_RDONLY | O_CLOEXEC);
    if (r->dfd < 0 && errno == ENOENT) {
        dmr_errf(err, errlen,
                 "%s: size mismatch: data file missing, meta says %" PRIu64
                 " bytes",
                 dp, r->info.length);
        return DMR_ECORRUPT;
    }
    if (r->dfd < 0 || fstat(r->dfd, &st) != 0) {
        dmr_errf(err, errlen, "%s: cannot open: %s", dp, strerror(errno));
        return DMR_EIO;
    }
    if ((uint64_t)st.st_size != r->info.length) {
        dmr_errf(err, errlen,
                 "%s: size mismatch: data file has %" PRIu64
                 " bytes, meta says %" PRIu64,
                 dp, (uint64_t)st.st_size, r->info.length);
        return DMR_ECORRUPT;
    }
    return 0;
}

/* Reads block b whole into buf (DMR_CHUNK_BLOCK bytes) and checks its CRC:
 * 0, DMR_ECORRUPT or DMR_EIO, with err. */
static int s_read_block(s_replica_t *r, uint32_t b, unsigned char *buf,
                        char *err, size_t errlen)
{
    uint64_t off = (uint64_t)b * DMR_CHUNK_BLOCK;
    size_t len = s_block_len(r->info.length, b);
    unsigned char stored[4];
    int rc = dmr_pread_all(r->dfd, buf, len, off);
    if (rc == 0)
        rc = dmr_pread_all(r->mfd, stored, 4, S_HDR + 4 * (uint64_t)b);
    if (rc != 0) {
        dmr_errf(err, errlen,
                 "chunk %016" PRIx64 ": block %u at offset %" PRIu64
                 ": cannot read: %s",
                 r->info.id, (unsigned)b, off,
                 rc == DMR_ECORRUPT ? "file cut short" : strerror(errno));
        return rc;
    }
    uint32_t crc = s_crc(0, buf, len);
    if (crc != dmr_le32(stored)) {
        dmr_errf(err, errlen,
                 "chunk %016" PRIx64 ": block %u at offset %" PRIu64
                 ": CRC mismatch (meta 0x%08x, data 0x%08x) in %s",
                 r->info.id, (unsigned)b, off, (unsigned)dmr_le32(stored),
                 (unsigned)crc, r->data_path);
        return DMR_ECORRUPT;
    }
    return 0;
}

int dmr_chunk_stat(const char *dir, uint64_t id, dmr_chunk_info_t *out,
                   char *err, size_t errlen)
{
    s_replica_t r;
    int rc = s_replica_open(dir, id, &r, err, errlen);
    if (rc == 0)
        *out = r.info;
    s_replica_close(&r);
    return rc;
}

int dmr_chunk_read(const char *dir, uint64_t id, uint64_t offset, size_t n,
                   void *buf, size_t *got, char *err, size_t errlen)
{
    DMR_ASSERT(buf || n == 0);
    unsigned char *block = NULL;
    s_replica_t r;
    int rc = s_replica_open(dir, id, &r, err, errlen);
    if (rc != 0)
        goto out;
    uint64_t length = r.info.length;
    if (offset > length) {
        rc = DMR_EINVAL;
        dmr_errf(err, errlen,
                 "chunk %016" PRIx64 ": offset %" PRIu64
                 " is past the end (%" PRIu64 " bytes)",
                 id, offset, length);
        goto out;
    }
    size_t want = n < length - offset ? n : (size_t)(length - offset);
    if (want > 0) {
        block = dmr_malloc(DMR_CHUNK_BLOCK);
        unsigned char *dst = buf;
        uint64_t pos = offset, end = offset + want;
        while (pos < end) {
            uint32_t b = (uint32_t)(pos / DMR_CHUNK_BLOCK);
            rc = s_read_block(&r, b, block, err, errlen);
            if (rc != 0)
                goto out;
            uint64_t bstart = (uint64_t)b * DMR_CHUNK_BLOCK;
            uint64_t bend = bstart + s_block_len(length, b);
            size_t k = (size_t)((end < bend ? end : bend) - pos);
            memcpy(dst, block + (pos - bstart), k);
            dst += k;
            pos += k;
        }
    }
    *got = want;
out:
    free(block);
    s_replica_close(&r);
    return rc;
}

int dmr_chunk_verify(const char *dir, uint64_t id, char *err, size_t errlen)
{
    unsigned char *block = NULL;
    s_replica_t r;
    int rc = s_replica_open(dir, id, &r, err, errlen);
    if (rc == 0 && r.nblocks > 0)
        block = dmr_malloc(DMR_CHUNK_BLOCK);
    for (uint32_t b = 0; rc == 0 && b < r.nblocks; b++)
        rc = s_read_block(&r, b, block, err, errlen);
    free(block);
    s_replica_close(&r);
    return rc;
}

/* ---- the directory ------------------------------------------------------ */

/* The replica files of one id found in the directory. */
typedef struct {
    uint64_t id;
    int kinds; /* S_DATA | S_META | ... */
} s_entry_t;

static int s_entry_cmp(const void *a, const void *b)
{
    uint64_t x = ((const s_entry_t *)a)->id, y = ((const s_entry_t *)b)->id;
    return x < y ? -1 : x > y;
}

/* Reads dir's replica file names into *out, one entry per id. A missing
 * dir is no entries. 0 or DMR_EIO. */
static int s_scan(const char *dir, s_entry_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : DMR_EIO;
    s_entry_t *e = NULL;
    size_t ne = 0, cap = 0;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de)
            break;
        uint64_t id;
        int kind = s_parse_name(de->d_name, &id);
        if (kind == 0)
            continue;
        if (ne == cap) {
            cap = cap ? 2 * cap : 64;
            e = dmr_realloc(e, cap * sizeof *e);
        }
        e[ne++] = (s_entry_t){.id = id, .kinds = kind};
    }
    int rc = errno ? DMR_EIO : 0;
    int saved = errno;
    closedir(d);
    if (rc != 0) {
        free(e);
        errno = saved;
        return rc;
    }
    /* One entry per id. */
    if (ne > 0)
        qsort(e, ne, sizeof *e, s_entry_cmp);
    size_t m = 0;
    for (size_t i = 0; i < ne; i++) {
        if (m > 0 && e[m - 1].id == e[i].id)
            e[m - 1].kinds |= e[i].kinds;
        else
            e[m++] = e[i];
    }
    *out = e;
    *n = m;
    return 0;
}

/* Removes path if it was last modified more than max_age_s seconds ago
 * (any age when max_age_s <= 0). */
static void s_remove_old(const char *path, int max_age_s, time_t now)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (max_age_s <= 0 || now - st.st_mtime > (time_t)max_age_s)
        unlink(path);
}

/* Removes the leftovers of id -- temporary files, and the data file when
 * there is no meta -- unless a writer of id is open. */
static void s_clean(const char *dir, const s_entry_t *e, int max_age_s,
                    time_t now)
{
    int orphan = (e->kinds & (S_DATA | S_META)) == S_DATA;
    if (!orphan && !(e->kinds & (S_DATA_TMP | S_META_TMP)))
        return;
    char *data = s_path(dir, e->id, ".chunk");
    char *data_tmp = s_path(dir, e->id, ".chunk.tmp");
    char *meta_tmp = s_path(dir, e->id, ".meta.tmp");
    /* An open writer locks data_tmp, which commit renames to data. */
    if (!s_locked(data_tmp) && !s_locked(data)) {
        if (e->kinds & S_DATA_TMP)
            s_remove_old(data_tmp, max_age_s, now);
        if (e->kinds & S_META_TMP)
            s_remove_old(meta_tmp, max_age_s, now);
        if (orphan) {
            char *meta = s_path(dir, e->id, ".meta");
            if (access(meta, F_OK) != 0 && errno == ENOENT)
                s_remove_old(data, max_age_s, now);
            free(meta);
        }
    }
    free(data);
    free(data_tmp);
    free(meta_tmp);
}

int dmr_chunk_list(const char *dir, int tmp_max_age_s, dmr_chunk_info_t **out,
                   size_t *n, uint64_t **bad, size_t *nbad)
{
    DMR_ASSERT(!bad || nbad);
    s_entry_t *e = NULL;
    size_t ne = 0;
    dmr_chunk_info_t *good = NULL;
    size_t ngood = 0;
    uint64_t *damaged = NULL;
    size_t ndamaged = 0;
    int saved;
    int rc = s_scan(dir, &e, &ne);
    if (rc != 0)
        goto out;
    time_t now = time(NULL);
    for (size_t i = 0; i < ne; i++) {
        s_clean(dir, &e[i], tmp_max_age_s, now);
        if (!(e[i].kinds & S_META))
            continue;
        dmr_chunk_info_t info;
        rc = dmr_chunk_stat(dir, e[i].id, &info, NULL, 0);
        if (rc == 0) {
            if (ngood == 0) /* at most ne: allocate once */
                good = dmr_malloc(ne * sizeof *good);
            good[ngood++] = info;
        } else if (rc == DMR_ECORRUPT) {
            if (ndamaged == 0)
                damaged = dmr_malloc(ne * sizeof *damaged);
            damaged[ndamaged++] = e[i].id;
        } else if (rc != DMR_ENOENT) {
            goto out; /* not the replica's fault: do not call it bad */
        }
        rc = 0;
    }
    *out = good;
    *n = ngood;
    good = NULL;
    if (bad) {
        *bad = damaged;
        *nbad = ndamaged;
        damaged = NULL;
    }
out:
    saved = errno;
    free(e);
    free(good);
    free(damaged);
    errno = saved;
    return rc;
}

int dmr_chunk_delete(const char *dir, uint64_t id)
{
    char *meta = s_path(dir, id, ".meta");
    char *data = s_path(dir, id, ".chunk");
    int removed = 0;
    int rc = DMR_EIO;
    if (unlink(meta) == 0)
        removed = 1;
    else if (errno != ENOENT && errno != ENOTDIR)
        goto out;
    if (unlink(data) == 0)
        removed = 1;
    else if (errno != ENOENT && errno != ENOTDIR)
        goto out;
    rc = removed ? dmr_fsync_parent(meta) : 0;
out:
    free(meta);
    free(data);
    return rc;
}
