/* util.h -- clocks, files and hashes that every layer needs.
 *
 * File helpers return 0 or a negative DMR_E* code and leave errno set for
 * the caller's message. None of them prints. */
#ifndef DMR_UTIL_H
#define DMR_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"

/* Milliseconds on a monotonic clock (for timeouts and intervals). */
int64_t dmr_now_ms(void);
/* Milliseconds since the Unix epoch (for display and journals). */
int64_t dmr_wall_ms(void);

/* mkdir -p; mode 0755. */
int dmr_mkdirs(const char *path);
/* rm -rf; a missing path is success. */
int dmr_rmtree(const char *path);
/* Writes data to path.tmp.PID, fsyncs, renames over path, fsyncs the dir. */
int dmr_write_file_atomic(const char *path, const void *data, size_t len);
/* Reads a whole file into out (appending). Fails with DMR_ETOOBIG past max. */
int dmr_read_file(const char *path, size_t max, dmr_buf_t *out);
/* fsync of the directory holding path (after a rename). */
int dmr_fsync_parent(const char *path);
/* 1 if path is a directory, 0 if not or missing. */
int dmr_is_dir(const char *path);
/* Writes all n bytes (retrying short writes and EINTR): 0 or DMR_EIO. A
 * write that makes no progress sets errno to ENOSPC. */
int dmr_write_all(int fd, const void *p, size_t n);
/* The same at offset off, with pwrite. */
int dmr_pwrite_all(int fd, const void *p, size_t n, uint64_t off);
/* Reads exactly n bytes at off: 0, DMR_EIO on a failed read, or
 * DMR_ECORRUPT (errno ENODATA) if the file ends first. */
int dmr_pread_all(int fd, void *p, size_t n, uint64_t off);

/* printf into an error buffer; does nothing when err is NULL or errlen 0. */
void dmr_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 64-bit hash of bytes (eight at a time, then a final avalanche). The
 * same on every machine, whatever its byte order: the default partitioner
 * depends on it, and every worker of a job must agree. */
uint64_t dmr_hash64(const void *p, size_t n);

/* 8 (4) bytes at p as a little-endian number, on any machine. */
static inline uint64_t dmr_le64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint64_t dmr_le32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

/* Stores v at p as 8 (4) little-endian bytes, on any machine. */
static inline void dmr_put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline void dmr_put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* SHA-256 of data, as 64 lowercase hex characters plus NUL in hex. */
void dmr_sha256_hex(const void *data, size_t len, char hex[65]);

/* Parses a whole decimal string into *out; DMR_EINVAL on junk or overflow. */
int dmr_parse_i64(const char *s, int64_t *out);
int dmr_parse_u64(const char *s, uint64_t *out);
/* Parses a byte count: "123", "64k", "10M", "1g" (binary units). */
int dmr_parse_size(const char *s, uint64_t *out);

/* Directory of the running executable (from /proc/self/exe). Static. */
const char *dmr_exe_dir(void);

#endif
