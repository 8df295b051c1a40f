/* input.c -- input files, splits and the text line reader.
 *
 * Expansion (client side) turns the user's arguments into a sorted,
 * de-duplicated list of regular files. Each entry keeps two spellings:
 * `name`, the path as the user wrote it (for a directory argument, the
 * argument joined with the path below it; for a glob, the match), which is
 * what jobs see in dmr_record.file; and `path`, the realpath() that workers
 * open. Two arguments naming the same file (by realpath) yield one entry,
 * the one whose name sorts first. Inside directories, and among glob
 * matches, names starting with '.' or '_' are skipped (Hadoop's hidden-file
 * rule, which hides _SUCCESS and _logs); symlinks to files are followed,
 * symlinks to directories are not (no cycles); sockets, FIFOs and devices
 * are skipped. An argument naming such a special file directly is an error.
 *
 * Cutting follows Hadoop's FileInputFormat: while remaining / split_bytes >
 * SPLIT_SLOP (1.1), cut a split of split_bytes; the rest (if any) is the
 * last split. An empty file is one empty split.
 *
 * The line reader implements TextInputFormat's ownership rule (input.h):
 * the reader of split [s, e) reads the lines whose start p satisfies
 * s < p <= e, plus p == 0 when s == 0. So a reader with s > 0 skips up to
 * and including the first '\n' at a position q >= s (the line p = q + 1 is
 * its first), and stops before the first line whose start exceeds e; the
 * last line it reads may run past e. A split whose range holds no '\n' at
 * or after s and before e owns no line at all, and neither does an empty
 * split [s, s) -- also at s == 0, where the rule taken literally would hand
 * the first line to both [0, 0) and the [0, e) after it. (Hadoop's reader
 * does read the first line for [0, 0); dmr_input_cut makes such a split
 * only for an empty file, where it makes no difference.)
 *
 * The reader pread()s the file through one buffer (128 KiB by default:
 * small enough to stay in a core's cache beside a map's hot data, which a
 * 1 MiB buffer pushed out on every refill) and returns lines as slices
 * into it; a line longer than the buffer grows the
 * buffer (doubling) up to DMR_LINES_MAX bytes, past which the reader fails
 * with DMR_ETOOBIG. With want_lineno the reader first counts the newlines in
 * [0, s), eight bytes at a time, so line numbers are 1-based file line
 * numbers; that costs one sequential read of the file's prefix per split.
 *
 * Nothing here prints; errors are negative DMR_E* codes (with a message in
 * err where the signature has one). A dmr_lines_t is not thread-safe; the
 * test hook dmr_lines_set_bufsize() changes a process-wide default and must
 * not race with dmr_lines_open(). */
#include "storage/input.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/util.h"

/* Default read buffer of a line reader. */
#define DMR_LINES_BUFSIZE ((size_t)128 << 10)
/* Longest line the reader accepts (the buffer never grows past this). */
#define DMR_LINES_MAX ((size_t)1 << 30)
/* Hadoop's FileInputFormat.SPLIT_SLOP. */
#define DMR_SPLIT_SLOP 1.1

static size_t s_bufsize = DMR_LINES_BUFSIZE;

void dmr_lines_set_bufsize(size_t bytes)
{
    s_bufsize = bytes ? bytes : DMR_LINES_BUFSIZE;
}

/* ------------------------------------------------------------------------ */
/* Expansion                                                                */
/* ------------------------------------------------------------------------ */

/* The list being built by dmr_input_expand. */
typedef struct {
    dmr_input_file_t *v;
    size_t n;
    size_t cap;
} s_list_t;

/* Takes ownership of name and path. */
static void s_push(s_list_t *l, char *name, char *path, uint64_t size)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = dmr_realloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n].name = name;
    l->v[l->n].path = path;
    l->v[l->n].size = size;
    l->n++;
}

/* dir + "/" + base, without doubling a trailing slash of dir. */
static char *s_join(const char *dir, const char *base)
{
    size_t n = strlen(dir);
    int slash = n > 0 && dir[n - 1] == '/';
    return dmr_sprintf("%s%s%s", dir, slash ? "" : "/", base);
}

static int s_hidden(const char *base)
{
    return base[0] == '.' || base[0] == '_';
}

static int s_walk(s_list_t *l, const char *name, const char *real, char *err,
                  size_t errlen);

/* Adds one directory entry: a regular file (or a symlink to one) is pushed,
 * a real directory is walked, anything else is skipped. */
static int s_walk_entry(s_list_t *l, int dfd, const char *dname,
                        const char *dreal, const char *base, char *err,
                        size_t errlen)
{
    int rc = 0;
    char *name = s_join(dname, base);
    char *path = NULL;
    struct stat st;
    if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) /* removed while we listed */
            goto out;
        dmr_errf(err, errlen, "cannot stat input %s: %s", name,
                 strerror(errno));
        rc = DMR_EIO;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        path = s_join(dreal, base);
        rc = s_walk(l, name, path, err, errlen);
        goto out;
    }
    if (S_ISLNK(st.st_mode)) {
        if (fstatat(dfd, base, &st, 0) != 0 || !S_ISREG(st.st_mode))
            goto out; /* dangling, or a link to a directory or device */
        char *tmp = s_join(dreal, base);
        path = realpath(tmp, NULL);
        free(tmp);
        if (!path)
            goto out;
    } else if (S_ISREG(st.st_mode)) {
        path = s_join(dreal, base);
    } else {
        goto out;
    }
    s_push(l, name, path, (uint64_t)st.st_size);
    name = path = NULL;
out:
    free(name);
    free(path);
    return rc;
}

/* Adds the regular files below directory real (spelled name to the user). */
static int s_walk(s_list_t *l, const char *name, const char *real, char *err,
                  size_t errlen)
{
    int rc = 0;
    DIR *d = opendir(real);
    if (!d) {
        dmr_errf(err, errlen, "cannot read input directory %s: %s", name,
                 strerror(errno));
        return DMR_EIO;
    }
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno != 0) {
                dmr_errf(err, errlen, "cannot read input directory %s: %s",
                         name, strerror(errno));
                rc = DMR_EIO;
            }
            break;
        }
        if (s_hidden(e->d_name))
            continue; /* also skips "." and ".." */
        rc = s_walk_entry(l, dirfd(d), name, real, e->d_name, err, errlen);
        if (rc < 0)
            break;
    }
    closedir(d);
    return rc;
}

/* Adds one existing path: a file is itself, a directory its files. A
 * special file is an error when named explicitly, else skipped. */
static int s_add(s_list_t *l, const char *name, const struct stat *st,
                 int explicit_arg, char *err, size_t errlen)
{
    if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
        if (!explicit_arg)
            return 0;
        dmr_errf(err, errlen,
                 "input path is not a regular file or directory: %s", name);
        return DMR_EINVAL;
    }
    char *real = realpath(name, NULL);
    if (!real) {
        dmr_errf(err, errlen, "cannot resolve input path %s: %s", name,
                 strerror(errno));
        return DMR_EIO;
    }
    if (S_ISREG(st->st_mode)) {
        s_push(l, dmr_strdup(name), real, (uint64_t)st->st_size);
        return 0;
    }
    int rc = s_walk(l, name, real, err, errlen);
    free(real);
    return rc;
}

/* Expands a glob pattern; matching nothing (visible) is DMR_ENOENT. */
static int s_add_glob(s_list_t *l, const char *pattern, char *err,
                      size_t errlen)
{
    glob_t g;
    memset(&g, 0, sizeof g);
    int grc = glob(pattern, GLOB_BRACE, NULL, &g);
    int rc = 0;
    size_t matched = 0;
    if (grc != 0 && grc != GLOB_NOMATCH) {
        dmr_errf(err, errlen, "cannot expand input pattern %s", pattern);
        rc = DMR_EIO;
        goto out;
    }
    for (size_t i = 0; grc == 0 && i < g.gl_pathc; i++) {
        const char *m = g.gl_pathv[i];
        const char *slash = strrchr(m, '/');
        const char *base = slash ? slash + 1 : m;
        struct stat st;
        if (s_hidden(base) || stat(m, &st) != 0)
            continue;
        matched++;
        rc = s_add(l, m, &st, 0, err, errlen);
        if (rc < 0)
            goto out;
    }
    if (matched == 0) {
        dmr_errf(err, errlen, "input path does not exist: %s", pattern);
        rc = DMR_ENOENT;
    }
out:
    globfree(&g);
    return rc;
}

static int s_cmp_name(const void *a, const void *b)
{
    const dmr_input_file_t *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static int s_cmp_path_name(const void *a, const void *b)
{
    const dmr_input_file_t *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : strcmp(x->name, y->name);
}

/* Keeps one entry per realpath (the first by name), sorted by name. */
static void s_sort_unique(s_list_t *l)
{
    if (l->n == 0)
        return;
    qsort(l->v, l->n, sizeof *l->v, s_cmp_path_name);
    size_t w = 1;
    for (size_t i = 1; i < l->n; i++) {
        if (strcmp(l->v[i].path, l->v[w - 1].path) == 0) {
            free(l->v[i].name);
            free(l->v[i].path);
            continue;
        }
        l->v[w++] = l->v[i];
    }
    l->n = w;
    qsort(l->v, l->n, sizeof *l->v, s_cmp_name);
}

int dmr_input_expand(const char *const *args, size_t nargs,
                     dmr_input_file_t **out, size_t *n, char *err,
                     size_t errlen)
{
    s_list_t l = {NULL, 0, 0};
    int rc = 0;
    for (size_t i = 0; i < nargs; i++) {
        const char *arg = args[i];
        struct stat st;
        if (!arg || !*arg) {
            dmr_errf(err, errlen, "input path does not exist: %s",
                     arg ? arg : "(null)");
            rc = DMR_ENOENT;
            goto out;
        }
        if (stat(arg, &st) == 0)
            rc = s_add(&l, arg, &st, 1, err, errlen);
        else
            rc = s_add_glob(&l, arg, err, errlen);
        if (rc < 0)
            goto out;
    }
    s_sort_unique(&l);
    *out = l.v;
    *n = l.n;
    l.v = NULL;
    l.n = 0;
out:
    dmr_input_files_free(l.v, l.n);
    return rc;
}

void dmr_input_files_free(dmr_input_file_t *files, size_t n)
{
    if (!files)
        return;
    for (size_t i = 0; i < n; i++) {
        free(files[i].name);
        free(files[i].path);
    }
    free(files);
}

/* ------------------------------------------------------------------------ */
/* Splits                                                                   */
/* ------------------------------------------------------------------------ */

int dmr_input_cut(const dmr_input_file_t *files, size_t nfiles,
                  uint64_t split_bytes, int whole_files, dmr_split_t **out,
                  size_t *n)
{
    if ((!whole_files && split_bytes == 0) || (nfiles > 0 && !files))
        return DMR_EINVAL;
    if (nfiles > UINT32_MAX)
        return DMR_ETOOBIG;

    /* Count first, so the array is allocated once. */
    size_t count = 0;
    for (size_t f = 0; f < nfiles; f++) {
        uint64_t left = files[f].size;
        uint64_t sb = files[f].block ? files[f].block : split_bytes;
        if (!whole_files)
            while ((double)left / (double)sb > DMR_SPLIT_SLOP) {
                left -= sb;
                count++;
            }
        count++; /* the rest, or the one (possibly empty) split */
    }

    dmr_split_t *v = count ? dmr_malloc(count * sizeof *v) : NULL;
    size_t k = 0;
    for (size_t f = 0; f < nfiles; f++) {
        uint64_t size = files[f].size, left = size;
        uint64_t sb = files[f].block ? files[f].block : split_bytes;
        if (!whole_files)
            while ((double)left / (double)sb > DMR_SPLIT_SLOP) {
                v[k++] = (dmr_split_t){(uint32_t)f, size - left, sb};
                left -= sb;
            }
        v[k++] = (dmr_split_t){(uint32_t)f, size - left, left};
    }
    DMR_ASSERT(k == count);
    *out = v;
    *n = count;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Line reader                                                              */
/* ------------------------------------------------------------------------ */

struct dmr_lines {
    int fd; /* a local file's, or -1 */
    dmr_read_fn read;
    void *arg;
    char *buf;       /* file bytes [base, base + tail) */
    size_t cap;      /* allocated bytes of buf */
    size_t head;     /* index of the next unread byte (a line start) */
    size_t tail;     /* index one past the last valid byte */
    size_t scanned;  /* bytes after head already searched for '\n' */
    uint64_t base;   /* file offset of buf[0] */
    uint64_t end;    /* lines starting at p <= end are ours */
    uint64_t nl;     /* newlines before the next line (want_lineno) */
    int want_lineno; /* count lines */
    int eof;         /* pread has returned 0 */
    int done;        /* no more lines in this split */
};

/* Newline bytes in p[0, n), eight at a time without branches or popcount:
 * a per-byte flag (0 or 1) is summed into eight byte-wide lanes of acc,
 * which are folded into the total before any can pass 255. Plain 64-bit
 * arithmetic, so it is fast at any optimisation level. */
static uint64_t s_count_nl(const char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7fULL;
    const uint64_t even = 0x00ff00ff00ff00ffULL;
    uint64_t count = 0;
    size_t i = 0;
    while (n - i >= 8) {
        size_t stop = n - i > 8 * 255 ? i + 8 * 255 : n;
        uint64_t acc = 0;
        for (; stop - i >= 8; i += 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            w ^= ones * '\n'; /* newline bytes become zero */
            /* The high bit of each byte of t is set iff that byte of w is
             * non-zero (exact: no carry crosses a byte). */
            uint64_t t = ((w & low7) + low7) | w;
            acc += (~t & ~low7) >> 7;
        }
        acc = (acc & even) + ((acc >> 8) & even); /* four 16-bit lanes */
        count += (acc * 0x0001000100010001ULL) >> 48;
    }
    for (; i < n; i++)
        count += p[i] == '\n';
    return count;
}

static int s_fd_read(void *arg, char *p, size_t n, uint64_t off)
{
    int fd = *(int *)arg;
    for (;;) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r >= 0)
            return (int)r;
        if (errno != EINTR)
            return DMR_EIO;
    }
}

/* Reads more bytes after tail, first moving [head, tail) to the front and
 * growing the buffer if it is full. Returns bytes read, 0 at end of file,
 * or a negative DMR_E* code. */
static int s_fill(dmr_lines_t *r)
{
    if (r->head > 0) {
        memmove(r->buf, r->buf + r->head, r->tail - r->head);
        r->base += r->head;
        r->tail -= r->head;
        r->head = 0;
    }
    if (r->tail == r->cap) {
        if (r->cap >= DMR_LINES_MAX)
            return DMR_ETOOBIG;
        r->cap = r->cap * 2 < DMR_LINES_MAX ? r->cap * 2 : DMR_LINES_MAX;
        r->buf = dmr_realloc(r->buf, r->cap);
    }
    size_t want = r->cap - r->tail;
    if (want > INT_MAX)
        want = INT_MAX;
    int got = r->read(r->arg, r->buf + r->tail, want, r->base + r->tail);
    if (got > 0)
        r->tail += (size_t)got;
    return got;
}

/* Counts the newlines in [0, offset) into r->nl. */
static int s_count_prefix(dmr_lines_t *r, uint64_t offset)
{
    uint64_t pos = 0;
    while (pos < offset) {
        uint64_t left = offset - pos;
        size_t want = left < r->cap ? (size_t)left : r->cap;
        if (want > INT_MAX)
            want = INT_MAX;
        int got = r->read(r->arg, r->buf, want, pos);
        if (got < 0)
            return got;
        if (got == 0)
            break; /* the split starts past the end of the file */
        r->nl += s_count_nl(r->buf, (size_t)got);
        pos += (uint64_t)got;
    }
    return 0;
}

/* Skips to the first line start p > base, searching only [base, end):
 * a newline at or past end would start a line p > end, not ours. */
static int s_skip_first(dmr_lines_t *r)
{
    for (;;) {
        uint64_t pos = r->base + r->head;
        if (pos >= r->end)
            break;
        size_t avail = r->tail - r->head;
        if (avail > r->end - pos)
            avail = (size_t)(r->end - pos);
        const char *nl = memchr(r->buf + r->head, '\n', avail);
        if (nl) {
            r->head = (size_t)(nl - r->buf) + 1;
            r->nl++;
            return 0;
        }
        r->head += avail;
        if (r->head < r->tail)
            break; /* reached end inside the buffer */
        if (r->eof)
            break;
        int got = s_fill(r);
        if (got < 0)
            return got;
        if (got == 0)
            r->eof = 1;
    }
    r->done = 1;
    return 0;
}

static int s_lines_start(dmr_lines_t *r, uint64_t offset, uint64_t length,
                         int want_lineno)
{
    r->cap = s_bufsize;
    r->buf = dmr_malloc(r->cap);
    r->base = offset;
    r->end = offset + length;
    r->want_lineno = want_lineno != 0;
    if (length == 0) {
        r->done = 1; /* an empty split owns no line */
    } else if (offset > 0) {
        if (r->want_lineno) {
            int rc = s_count_prefix(r, offset);
            if (rc < 0)
                return rc;
        }
        int rc = s_skip_first(r);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int dmr_lines_open(const char *path, uint64_t offset, uint64_t length,
                   int want_lineno, dmr_lines_t **out)
{
    if (!path || !out || offset + length < offset)
        return DMR_EINVAL;
    int rc = 0;
    dmr_lines_t *r = dmr_calloc(1, sizeof *r);
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        rc = errno == ENOENT ? DMR_ENOENT : DMR_EIO;
        goto out;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    r->read = s_fd_read;
    r->arg = &r->fd;
    rc = s_lines_start(r, offset, length, want_lineno);
    if (rc < 0)
        goto out;
    *out = r;
    r = NULL;
out:
    dmr_lines_destroy(&r);
    return rc;
}

int dmr_lines_open_source(dmr_read_fn read, void *arg, uint64_t offset,
                          uint64_t length, int want_lineno, dmr_lines_t **out)
{
    if (!read || !out || offset + length < offset)
        return DMR_EINVAL;
    dmr_lines_t *r = dmr_calloc(1, sizeof *r);
    r->fd = -1;
    r->read = read;
    r->arg = arg;
    int rc = s_lines_start(r, offset, length, want_lineno);
    if (rc < 0) {
        dmr_lines_destroy(&r);
        return rc;
    }
    *out = r;
    return 0;
}

int dmr_lines_next(dmr_lines_t *r, dmr_slice *line, uint64_t *offset,
                   uint64_t *lineno)
{
    if (r->done)
        return 0;
    uint64_t start = r->base + r->head;
    if (start > r->end) {
        r->done = 1;
        return 0;
    }
    for (;;) {
        char *p = r->buf + r->head;
        size_t avail = r->tail - r->head;
        char *nl = memchr(p + r->scanned, '\n', avail - r->scanned);
        size_t len;
        if (nl) {
            len = (size_t)(nl - p);
            r->head += len + 1;
            if (len > 0 && p[len - 1] == '\r')
                len--;
        } else if (r->eof) {
            if (avail == 0) {
                r->done = 1;
                return 0;
            }
            len = avail; /* a last line without a newline */
            r->head = r->tail;
        } else {
            r->scanned = avail;
            int got = s_fill(r);
            if (got < 0)
                return got;
            if (got == 0)
                r->eof = 1;
            continue;
        }
        r->scanned = 0;
        line->ptr = p;
        line->len = len;
        if (offset)
            *offset = start;
        if (lineno)
            *lineno = r->want_lineno ? r->nl + 1 : 0;
        r->nl += nl != NULL;
        return 1;
    }
}

void dmr_lines_destroy(dmr_lines_t **pr)
{
    if (!pr || !*pr)
        return;
    dmr_lines_t *r = *pr;
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    free(r);
    *pr = NULL;
}
