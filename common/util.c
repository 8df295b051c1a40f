/* util.c -- clocks, files and hashes that every layer needs. */
#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"

int64_t dmr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t dmr_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dmr_mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof tmp)
        return DMR_EINVAL;
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return DMR_EIO;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return DMR_EIO;
    return dmr_is_dir(tmp) ? 0 : DMR_EIO;
}

static int s_rm_one(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int rc = (flag == FTW_DP) ? rmdir(path) : unlink(path);
    return (rc != 0 && errno != ENOENT) ? -1 : 0;
}

int dmr_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : DMR_EIO;
    if (nftw(path, s_rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return DMR_EIO;
    return 0;
}

int dmr_fsync_parent(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return DMR_EIO;
    int rc = fsync(fd) == 0 ? 0 : DMR_EIO;
    close(fd);
    return rc;
}

int dmr_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return DMR_EIO;
        if (w == 0) {
            errno = ENOSPC;
            return DMR_EIO;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int dmr_pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = pwrite(fd, c, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return DMR_EIO;
        if (w == 0) {
            errno = ENOSPC;
            return DMR_EIO;
        }
        c += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

int dmr_pread_all(int fd, void *p, size_t n, uint64_t off)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = pread(fd, c, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return DMR_EIO;
        if (r == 0) {
            errno = ENODATA;
            return DMR_ECORRUPT;
        }
        c += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

void dmr_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int dmr_write_file_atomic(const char *path, const void *data, size_t len)
{
    char *tmp = dmr_sprintf("%s.tmp.%d", path, (int)getpid());
    int rc = DMR_EIO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        goto out;
    if (dmr_write_all(fd, data, len) != 0 || fsync(fd) != 0)
        goto out;
    if (close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        goto out;
    rc = dmr_fsync_parent(path);
out:
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

int dmr_read_file(const char *path, size_t max, dmr_buf_t *out)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return errno == ENOENT ? DMR_ENOENT : DMR_EIO;
    int rc = 0;
    size_t got = 0;
    for (;;) {
        dmr_buf_reserve(out, 65536);
        ssize_t r = read(fd, out->data + out->len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = DMR_EIO;
            break;
        }
        if (r == 0)
            break;
        out->len += (size_t)r;
        got += (size_t)r;
        if (got > max) {
            rc = DMR_ETOOBIG;
            break;
        }
    }
    if (out->data)
        out->data[out->len] = '\0';
    close(fd);
    return rc;
}

int dmr_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

uint64_t dmr_hash64(const void *p, size_t n)
{
    const unsigned char *s = p;
    const uint64_t k = 0x9e3779b97f4a7c15ULL;
    uint64_t h = (0x2545f4914f6cdd1dULL ^ n) * k;
    /* Eight bytes at a time; the last up to eight as one (possibly
     * overlapping) load, so that short keys -- the common case -- cost a
     * multiply or two, not one per byte. */
    size_t i = 0;
    for (; i + 8 < n; i += 8) {
        h = (h ^ dmr_le64(s + i)) * k;
        h ^= h >> 32;
    }
    uint64_t v;
    if (n >= 8)
        v = dmr_le64(s + n - 8);
    else if (n >= 4)
        v = dmr_le32(s) | dmr_le32(s + n - 4) << 32;
    else if (n > 0)
        v = (uint64_t)s[0] | (uint64_t)s[n / 2] << 8 | (uint64_t)s[n - 1] << 16;
    else
        v = 0;
    h = (h ^ v) * k;
    /* splitmix64's avalanche: every output bit depends on every input
     * bit, so the low bits index hash tables and the high bits pick
     * partitions independently. */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

int dmr_parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return DMR_EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return DMR_EINVAL;
    *out = v;
    return 0;
}

int dmr_parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-')
        return DMR_EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return DMR_EINVAL;
    *out = v;
    return 0;
}

const char *dmr_exe_dir(void)
{
    static char dir[PATH_MAX];
    if (dir[0])
        return dir;
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    if (n <= 0) {
        snprintf(dir, sizeof dir, ".");
        return dir;
    }
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir)
        *slash = '\0';
    return dir;
}

/* Parses "123", "64k", "10M", "1g". */
int dmr_parse_size(const char *s, uint64_t *out)
{
    char tmp[32];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof tmp)
        return DMR_EINVAL;
    memcpy(tmp, s, n + 1);
    uint64_t mult = 1;
    switch (tmp[n - 1]) {
    case 'k':
    case 'K': mult = 1ULL << 10; break;
    case 'm':
    case 'M': mult = 1ULL << 20; break;
    case 'g':
    case 'G': mult = 1ULL << 30; break;
    }
    if (mult > 1)
        tmp[n - 1] = '\0';
    uint64_t v;
    if (dmr_parse_u64(tmp, &v) != 0 || v > UINT64_MAX / mult)
        return DMR_EINVAL;
    *out = v * mult;
    return 0;
}
