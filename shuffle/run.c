/* run.c -- the on-disk run format: writer, index loader and reader.
 *
 * A run file holds the sorted output of one map task, cut into R
 * partitions. Integers are little-endian unless marked BE (MessagePack's
 * own lengths are big-endian).
 *
 *   File
 *   +------------------------------+
 *   | blocks of partition 0        |  parts[0].offset = 0
 *   | blocks of partition 1        |  parts[i+1].offset = parts[i].offset
 *   | ...                          |                      + parts[i].length
 *   | blocks of partition R-1      |
 *   | index: R entries             |  at index offset = end of last part
 *   | footer (24 bytes)            |  last 24 bytes of the file
 *   +------------------------------+
 *
 *   Block (20-byte header, then the stored payload)
 *   | off | size   | field                                              |
 *   |-----|--------|----------------------------------------------------|
 *   |   0 | 4      | magic "DMRB"                                       |
 *   |   4 | u32    | raw: payload bytes after decompression, 1..MAX     |
 *   |   8 | u32    | stored: payload bytes in the file, 1..MAX          |
 *   |  12 | u32    | CRC32 (as zlib's) of bytes 4..11, 16..19, payload  |
 *   |  16 | u8     | codec: 0 stored (stored == raw), 1 deflate (raw,   |
 *   |     |        |   RFC 1951: the CRC above already guards it)       |
 *   |  17 | 3      | reserved, zero                                     |
 *   |  20 | stored | payload                                            |
 *   MAX is DMR_RUN_BLOCK_MAX.
 *
 *   Payload (raw) = whole records, back to back; a block never spans two
 *   partitions. Each record is a MessagePack array [key, value] of two bin
 *   objects:
 *   | size      | field                                                |
 *   |-----------|------------------------------------------------------|
 *   | 1         | 0x92 (fixarray of 2)                                 |
 *   | 2, 3 or 5 | key header: c4 + len u8, c5 + len u16 BE, or         |
 *   |           |   c6 + len u32 BE (bin8, bin16, bin32)               |
 *   | len       | key bytes                                            |
 *   | 2, 3 or 5 | value header, same encodings                         |
 *   | len       | value bytes                                          |
 *   The writer uses the shortest header; the reader accepts all three.
 *
 *   Index entry (32 bytes each, R of them, in partition order)
 *   | off | size | field                                                |
 *   |-----|------|------------------------------------------------------|
 *   |   0 | u64  | offset of the partition's first block                |
 *   |   8 | u64  | length: bytes of its blocks (0 if empty)             |
 *   |  16 | u64  | records                                              |
 *   |  24 | u64  | raw: uncompressed payload bytes                      |
 *
 *   Footer (24 bytes)
 *   | off | size | field                                                |
 *   |-----|------|------------------------------------------------------|
 *   |   0 | u32  | R, number of partitions (>= 1)                       |
 *   |   4 | u32  | CRC32 of the index bytes                             |
 *   |   8 | u64  | index offset                                         |
 *   |  16 | 8    | magic "DMRRUN1\0"                                    |
 *
 * Invariants the writer keeps and the readers check: partitions are
 * contiguous and in order; an empty partition has length, records and raw
 * all 0 and a non-empty one has none of them 0; a block holds at least one
 * record. The writer cuts a block before a record that would take the raw
 * payload past DMR_RUN_BLOCK_TARGET, so blocks exceed it only when they
 * hold a single larger record. A deflated block that does not come out
 * smaller than its raw payload is stored instead (codec 0).
 *
 * The reader reads only inside [offset, offset+length) through its own
 * read-ahead buffer, and verifies each block's magic, lengths and CRC
 * before decompressing it; it returns DMR_ECORRUPT for any failed check
 * (including a range that runs past the end of the file) and DMR_EIO only
 * for failed system calls. Stored blocks are parsed in place in the
 * read-ahead buffer. Memory per reader: the read-ahead buffer (up to
 * 128 KiB, or one whole block when larger) plus one raw block for deflated
 * data.
 *
 * Blocks are deflated, inflated and checked with libdeflate, which works
 * on whole buffers, as blocks are, at about twice zlib's speed; the
 * format is plain raw deflate and zlib's CRC32.
 *
 * Writers and readers are single-threaded objects; distinct ones may be
 * used from distinct threads. */
#include "shuffle/run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/util.h"

#define S_BLOCK_HDR 20
#define S_INDEX_ENTRY 32
#define S_FOOTER 24
#define S_REC_MIN 5 /* 0x92 + two empty bin8 */
#define S_CODEC_STORED 0
#define S_CODEC_DEFLATE 1
#define S_WBUF_SIZE (1024 * 1024)
#define S_RBUF_SIZE (128 * 1024)

static const char s_block_magic[4] = {'D', 'M', 'R', 'B'};
static const char s_run_magic[8] = {'D', 'M', 'R', 'R', 'U', 'N', '1', '\0'};

/* ---- checksums --------------------------------------------------------- */

/* CRC32 of a block: header bytes 4..11 and 16..19, then the payload. */
static uint32_t s_block_crc(const unsigned char *hdr,
                            const unsigned char *payload, uint32_t stored)
{
    uint32_t crc = libdeflate_crc32(0, hdr + 4, 8);
    crc = libdeflate_crc32(crc, hdr + 16, 4);
    return libdeflate_crc32(crc, payload, stored);
}

static uint32_t s_crc(const unsigned char *p, uint64_t n)
{
    return libdeflate_crc32(0, p, (size_t)n);
}

static int s_open_error(void)
{
    return errno == ENOENT ? DMR_ENOENT : DMR_EIO;
}

/* ---- writer ------------------------------------------------------------ */

struct dmr_run_writer {
    char *path;
    int nosync;
    int fd; /* -1 once closed */
    uint32_t nparts;
    dmr_run_part_t *parts;
    uint32_t next_part;  /* first partition whose offset is not yet set;
                          * the open partition is next_part - 1 */
    uint64_t file_off;   /* bytes written so far, counting wbuf */
    dmr_buf_t block;     /* raw payload of the block being built */
    unsigned char *zbuf; /* deflated payload */
    size_t zcap;
    struct libdeflate_compressor *zc; /* NULL when level is 0 */
    unsigned char *wbuf;              /* write buffer of S_WBUF_SIZE */
    size_t wlen;
    int err; /* sticky I/O error */
    int finished;
};

static int s_wflush(dmr_run_writer_t *w)
{
    int rc = dmr_write_all(w->fd, w->wbuf, w->wlen);
    w->wlen = 0;
    return rc;
}

/* Appends to the file through the write buffer. */
static int s_wwrite(dmr_run_writer_t *w, const void *p, size_t n)
{
    int rc = 0;
    if (w->wlen + n > S_WBUF_SIZE) {
        rc = s_wflush(w);
        if (rc == 0 && n >= S_WBUF_SIZE)
            rc = dmr_write_all(w->fd, p, n);
        else if (rc == 0) {
            memcpy(w->wbuf, p, n);
            w->wlen = n;
        }
    } else {
        memcpy(w->wbuf + w->wlen, p, n);
        w->wlen += n;
    }
    if (rc == 0)
        w->file_off += n;
    return rc;
}

/* Writes the block being built to the open partition and empties it. */
static int s_flush_block(dmr_run_writer_t *w)
{
    uint32_t raw = (uint32_t)w->block.len;
    const unsigned char *payload = (const unsigned char *)w->block.data;
    uint32_t stored = raw;
    unsigned char codec = S_CODEC_STORED;

    if (w->zc) {
        if (w->zcap < raw) {
            free(w->zbuf);
            w->zbuf = dmr_malloc(raw);
            w->zcap = raw;
        }
        /* room for less than raw: what does not shrink is stored (0) */
        size_t z = libdeflate_deflate_compress(w->zc, w->block.data, raw,
                                               w->zbuf, raw - 1);
        if (z > 0) {
            payload = w->zbuf;
            stored = (uint32_t)z;
            codec = S_CODEC_DEFLATE;
        }
    }

    unsigned char hdr[S_BLOCK_HDR] = {0};
    memcpy(hdr, s_block_magic, 4);
    dmr_put_le32(hdr + 4, raw);
    dmr_put_le32(hdr + 8, stored);
    hdr[16] = codec;
    dmr_put_le32(hdr + 12, s_block_crc(hdr, payload, stored));

    int rc = s_wwrite(w, hdr, sizeof hdr);
    if (rc == 0)
        rc = s_wwrite(w, payload, stored);
    if (rc == 0)
        w->parts[w->next_part - 1].length += S_BLOCK_HDR + (uint64_t)stored;
    dmr_buf_clear(&w->block);
    return rc;
}

/* Opens partitions up to and including last: they start here. */
static void s_open_parts(dmr_run_writer_t *w, uint32_t last)
{
    for (; w->next_part <= last; w->next_part++)
        w->parts[w->next_part].offset = w->file_off;
}

/* Writes a MessagePack bin header for n bytes at p; returns its size. */
static size_t s_put_bin_hdr(unsigned char *p, size_t n)
{
    if (n <= 0xff) {
        p[0] = 0xc4;
        p[1] = (unsigned char)n;
        return 2;
    }
    if (n <= 0xffff) {
        p[0] = 0xc5;
        p[1] = (unsigned char)(n >> 8);
        p[2] = (unsigned char)n;
        return 3;
    }
    p[0] = 0xc6;
    p[1] = (unsigned char)(n >> 24);
    p[2] = (unsigned char)(n >> 16);
    p[3] = (unsigned char)(n >> 8);
    p[4] = (unsigned char)n;
    return 5;
}

static size_t s_bin_hdr_len(size_t n)
{
    return n <= 0xff ? 2 : n <= 0xffff ? 3 : 5;
}

int dmr_run_writer_open(const char *path, uint32_t nparts, int level,
                        dmr_run_writer_t **out)
{
    if (nparts == 0 || level < 0 || level > 9)
        return DMR_EINVAL;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return s_open_error();

    dmr_run_writer_t *w = dmr_calloc(1, sizeof *w);
    w->path = dmr_strdup(path);
    w->fd = fd;
    w->nparts = nparts;
    w->parts = dmr_calloc(nparts, sizeof *w->parts);
    w->wbuf = dmr_malloc(S_WBUF_SIZE);
    if (level > 0) {
        /* raw deflate: a zlib wrapper's Adler-32 would repeat the
         * block's CRC32 at a cost; NULL only for want of memory */
        w->zc = libdeflate_alloc_compressor(level);
        DMR_ASSERT(w->zc != NULL);
    }
    *out = w;
    return 0;
}

void dmr_run_writer_nosync(dmr_run_writer_t *w)
{
    w->nosync = 1;
}

int dmr_run_writer_add(dmr_run_writer_t *w, uint32_t part, dmr_slice key,
                       dmr_slice val)
{
    if (w->err)
        return w->err;
    if (w->finished || part >= w->nparts ||
        (w->next_part > 0 && part < w->next_part - 1))
        return DMR_EINVAL;
    if (key.len > DMR_RUN_BLOCK_MAX || val.len > DMR_RUN_BLOCK_MAX)
        return DMR_ETOOBIG;
    size_t rec =
        1 + s_bin_hdr_len(key.len) + key.len + s_bin_hdr_len(val.len) + val.len;
    if (rec > DMR_RUN_BLOCK_MAX)
        return DMR_ETOOBIG;

    int rc = 0;
    int new_part = w->next_part == 0 || part != w->next_part - 1;
    if (w->block.len > 0 &&
        (new_part || w->block.len + rec > DMR_RUN_BLOCK_TARGET)) {
        rc = s_flush_block(w);
        if (rc != 0)
            goto out;
    }
    if (new_part)
        s_open_parts(w, part);

    dmr_buf_reserve(&w->block, rec);
    unsigned char *p = (unsigned char *)w->block.data + w->block.len;
    *p++ = 0x92;
    p += s_put_bin_hdr(p, key.len);
    if (key.len)
        memcpy(p, key.ptr, key.len);
    p += key.len;
    p += s_put_bin_hdr(p, val.len);
    if (val.len)
        memcpy(p, val.ptr, val.len);
    w->block.len += rec;
    w->parts[part].records++;
    w->parts[part].raw += rec;

    if (w->block.len >= DMR_RUN_BLOCK_TARGET)
        rc = s_flush_block(w);
out:
    if (rc != 0)
        w->err = rc;
    return rc;
}

int dmr_run_writer_finish(dmr_run_writer_t *w)
{
    if (w->err)
        return w->err;
    if (w->finished)
        return DMR_EINVAL;

    unsigned char *index = NULL;
    size_t ilen = (size_t)w->nparts * S_INDEX_ENTRY;
    int rc = 0;
    if (w->block.len > 0) {
        rc = s_flush_block(w);
        if (rc != 0)
            goto out;
    }
    s_open_parts(w, w->nparts - 1);

    uint64_t index_off = w->file_off;
    index = dmr_malloc(ilen);
    for (uint32_t i = 0; i < w->nparts; i++) {
        unsigned char *e = index + (size_t)i * S_INDEX_ENTRY;
        dmr_put_le64(e, w->parts[i].offset);
        dmr_put_le64(e + 8, w->parts[i].length);
        dmr_put_le64(e + 16, w->parts[i].records);
        dmr_put_le64(e + 24, w->parts[i].raw);
    }
    unsigned char footer[S_FOOTER];
    dmr_put_le32(footer, w->nparts);
    dmr_put_le32(footer + 4, s_crc(index, ilen));
    dmr_put_le64(footer + 8, index_off);
    memcpy(footer + 16, s_run_magic, 8);

    rc = s_wwrite(w, index, ilen);
    if (rc == 0)
        rc = s_wwrite(w, footer, sizeof footer);
    if (rc == 0)
        rc = s_wflush(w);
    if (rc == 0 && !w->nosync && fsync(w->fd) != 0)
        rc = DMR_EIO;
    if (rc != 0)
        goto out;
    int fd = w->fd;
    w->fd = -1;
    if (close(fd) != 0) {
        rc = DMR_EIO;
        goto out;
    }
    w->finished = 1;
out:
    free(index);
    if (rc != 0)
        w->err = rc;
    return rc;
}

const dmr_run_part_t *dmr_run_writer_parts(const dmr_run_writer_t *w)
{
    return w->parts;
}

void dmr_run_writer_destroy(dmr_run_writer_t **wp)
{
    dmr_run_writer_t *w = *wp;
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (!w->finished)
        unlink(w->path);
    if (w->zc)
        libdeflate_free_compressor(w->zc);
    dmr_buf_free(&w->block);
    free(w->zbuf);
    free(w->wbuf);
    free(w->parts);
    free(w->path);
    free(w);
    *wp = NULL;
}

/* ---- index ------------------------------------------------------------- */

/* Checks the index entries against each other and the index offset. */
static int s_check_parts(const dmr_run_part_t *parts, uint32_t n,
                         uint64_t index_off)
{
    uint64_t at = 0;
    for (uint32_t i = 0; i < n; i++) {
        const dmr_run_part_t *p = &parts[i];
        if (p->offset != at || p->length > index_off - at)
            return DMR_ECORRUPT;
        int empty = p->length == 0;
        if (empty != (p->records == 0) || empty != (p->raw == 0))
            return DMR_ECORRUPT;
        if (!empty &&
            (p->length < S_BLOCK_HDR + 1 || p->records > p->raw / S_REC_MIN))
            return DMR_ECORRUPT;
        at += p->length;
    }
    return at == index_off ? 0 : DMR_ECORRUPT;
}

int dmr_run_index_load(const char *path, uint32_t *nparts,
                       dmr_run_part_t **parts)
{
    unsigned char *index = NULL;
    dmr_run_part_t *pt = NULL;
    int rc = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return s_open_error();

    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = DMR_EIO;
        goto out;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < S_FOOTER) {
        rc = DMR_ECORRUPT;
        goto out;
    }
    unsigned char footer[S_FOOTER];
    rc = dmr_pread_all(fd, footer, sizeof footer, size - S_FOOTER);
    if (rc != 0)
        goto out;
    uint32_t n = dmr_le32(footer);
    uint32_t crc = dmr_le32(footer + 4);
    uint64_t index_off = dmr_le64(footer + 8);
    uint64_t ilen = (uint64_t)n * S_INDEX_ENTRY;
    if (memcmp(footer + 16, s_run_magic, 8) != 0 || n == 0 ||
        index_off > size - S_FOOTER || size - S_FOOTER - index_off != ilen) {
        rc = DMR_ECORRUPT;
        goto out;
    }
    /* ilen is now bounded by the file's actual size. */
    index = dmr_malloc((size_t)ilen);
    rc = dmr_pread_all(fd, index, (size_t)ilen, index_off);
    if (rc != 0)
        goto out;
    if (s_crc(index, ilen) != crc) {
        rc = DMR_ECORRUPT;
        goto out;
    }
    pt = dmr_calloc(n, sizeof *pt);
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *e = index + (size_t)i * S_INDEX_ENTRY;
        pt[i].offset = dmr_le64(e);
        pt[i].length = dmr_le64(e + 8);
        pt[i].records = dmr_le64(e + 16);
        pt[i].raw = dmr_le64(e + 24);
    }
    rc = s_check_parts(pt, n, index_off);
    if (rc != 0)
        goto out;
    *nparts = n;
    *parts = pt;
    pt = NULL;
out:
    free(pt);
    free(index);
    close(fd);
    return rc;
}

/* ---- reader ------------------------------------------------------------ */

struct dmr_run_reader {
    int fd;
    uint64_t pos;        /* file offset of the next byte to read ahead */
    uint64_t end;        /* end of the range */
    uint64_t start;      /* start of the range */
    unsigned char *ibuf; /* read-ahead: bytes [ioff, ilen) not consumed */
    size_t icap, ioff, ilen;
    unsigned char *blk; /* raw payload of the current deflated block */
    size_t bcap;
    const unsigned char *cur;           /* payload of the current block */
    size_t clen, cpos;                  /* its length, and the parse cursor */
    struct libdeflate_decompressor *zd; /* made at the first deflated block */
    int err;                            /* sticky error */
};

/* Makes at least need unconsumed bytes available at ibuf + ioff, reading
 * ahead within the range. DMR_ECORRUPT if the range holds fewer. */
static int s_fill(dmr_run_reader_t *r, size_t need)
{
    size_t have = r->ilen - r->ioff;
    if (have >= need)
        return 0;
    if (need - have > r->end - r->pos)
        return DMR_ECORRUPT;
    if (r->ioff > 0) {
        memmove(r->ibuf, r->ibuf + r->ioff, have);
        r->ioff = 0;
        r->ilen = have;
    }
    if (r->icap < need) {
        r->ibuf = dmr_realloc(r->ibuf, need);
        r->icap = need;
    }
    while (r->ilen < need) {
        size_t want = r->icap - r->ilen;
        if (want > r->end - r->pos)
            want = (size_t)(r->end - r->pos);
        ssize_t got = pread(r->fd, r->ibuf + r->ilen, want, (off_t)r->pos);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return DMR_EIO;
        if (got == 0)
            return DMR_ECORRUPT; /* the file shrank under the range */
        r->ilen += (size_t)got;
        r->pos += (uint64_t)got;
    }
    return 0;
}

/* Loads the next block: 1, 0 at the end of the range, or an error. */
static int s_load_block(dmr_run_reader_t *r)
{
    if (r->ioff == r->ilen && r->pos == r->end)
        return 0;
    int rc = s_fill(r, S_BLOCK_HDR);
    if (rc != 0)
        return rc;
    const unsigned char *hdr = r->ibuf + r->ioff;
    uint32_t raw = dmr_le32(hdr + 4);
    uint32_t stored = dmr_le32(hdr + 8);
    uint32_t crc = dmr_le32(hdr + 12);
    unsigned char codec = hdr[16];
    if (memcmp(hdr, s_block_magic, 4) != 0 || hdr[17] || hdr[18] || hdr[19] ||
        raw == 0 || raw > DMR_RUN_BLOCK_MAX || stored == 0 ||
        stored > DMR_RUN_BLOCK_MAX ||
        (codec == S_CODEC_STORED && stored != raw) ||
        (codec != S_CODEC_STORED && codec != S_CODEC_DEFLATE))
        return DMR_ECORRUPT;
    rc = s_fill(r, S_BLOCK_HDR + (size_t)stored);
    if (rc != 0)
        return rc;
    hdr = r->ibuf + r->ioff; /* s_fill may have moved it */
    const unsigned char *payload = hdr + S_BLOCK_HDR;
    if (s_block_crc(hdr, payload, stored) != crc)
        return DMR_ECORRUPT;
    r->ioff += S_BLOCK_HDR + (size_t)stored;

    if (codec == S_CODEC_STORED) {
        r->cur = payload;
    } else {
        if (!r->zd) {
            r->zd = libdeflate_alloc_decompressor();
            DMR_ASSERT(r->zd != NULL); /* NULL only for want of memory */
        }
        if (r->bcap < raw) {
            free(r->blk);
            r->blk = dmr_malloc(raw);
            r->bcap = raw;
        }
        /* the stream must end exactly at both ends */
        size_t in = 0, out = 0;
        if (libdeflate_deflate_decompress_ex(r->zd, payload, stored, r->blk,
                                             raw, &in,
                                             &out) != LIBDEFLATE_SUCCESS ||
            in != stored || out != raw)
            return DMR_ECORRUPT;
        r->cur = r->blk;
    }
    r->clen = raw;
    r->cpos = 0;
    return 1;
}

/* Parses one MessagePack bin object at p[*pos], within len. */
static int s_parse_bin(const unsigned char *p, size_t len, size_t *pos,
                       dmr_slice *out)
{
    size_t at = *pos;
    if (at >= len)
        return DMR_ECORRUPT;
    size_t hl;
    switch (p[at]) {
    case 0xc4: hl = 1; break;
    case 0xc5: hl = 2; break;
    case 0xc6: hl = 4; break;
    default: return DMR_ECORRUPT;
    }
    at++;
    if (len - at < hl)
        return DMR_ECORRUPT;
    size_t n = 0;
    for (size_t i = 0; i < hl; i++)
        n = n << 8 | p[at + i];
    at += hl;
    if (n > len - at)
        return DMR_ECORRUPT;
    out->ptr = (const char *)p + at;
    out->len = n;
    *pos = at + n;
    return 0;
}

int dmr_run_reader_open(const char *path, uint64_t offset, uint64_t length,
                        dmr_run_reader_t **out)
{
    if (offset > UINT64_MAX - length || offset + length > (uint64_t)INT64_MAX)
        return DMR_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return s_open_error();
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0)
        rc = DMR_EIO;
    else if (offset + length > (uint64_t)st.st_size)
        rc = DMR_ECORRUPT;
    if (rc != 0) {
        close(fd);
        return rc;
    }
    dmr_run_reader_t *r = dmr_calloc(1, sizeof *r);
    r->fd = fd;
    r->pos = offset;
    r->start = offset;
    r->end = offset + length;
    r->icap = length < S_RBUF_SIZE ? (size_t)length : S_RBUF_SIZE;
    r->ibuf = r->icap ? dmr_malloc(r->icap) : NULL;
    *out = r;
    return 0;
}

int dmr_run_reader_next(dmr_run_reader_t *r, dmr_slice *key, dmr_slice *val)
{
    if (r->err)
        return r->err;
    int rc;
    while (r->cpos == r->clen) {
        rc = s_load_block(r);
        if (rc <= 0)
            goto out;
    }
    const unsigned char *p = r->cur;
    size_t pos = r->cpos;
    dmr_slice k, v;
    if (p[pos] != 0x92) {
        rc = DMR_ECORRUPT;
        goto out;
    }
    pos++;
    rc = s_parse_bin(p, r->clen, &pos, &k);
    if (rc == 0)
        rc = s_parse_bin(p, r->clen, &pos, &v);
    if (rc != 0)
        goto out;
    r->cpos = pos;
    *key = k;
    *val = v;
    rc = 1;
out:
    if (rc < 0)
        r->err = rc;
    return rc;
}

uint64_t dmr_run_reader_consumed(const dmr_run_reader_t *r)
{
    return r->pos - (r->ilen - r->ioff) - r->start;
}

void dmr_run_reader_destroy(dmr_run_reader_t **rp)
{
    dmr_run_reader_t *r = *rp;
    if (!r)
        return;
    close(r->fd);
    if (r->zd)
        libdeflate_free_decompressor(r->zd);
    free(r->ibuf);
    free(r->blk);
    free(r);
    *rp = NULL;
}
