/* tmpdir.h -- a fresh temporary directory per test, for unit tests.
 *
 * Criterion runs each test in its own process, so a suite keeps its
 * directory in a file-static pointer: make it in .init, remove it (and
 * everything in it) in .fini. Header-only; functions are static inline so
 * that each test file gets its own copy without unused-function warnings. */
#ifndef DMR_TEST_TMPDIR_H
#define DMR_TEST_TMPDIR_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/util.h"

/* Creates /tmp/dmr-test-XXXXXX; caller frees (tmpdir_remove does). */
static inline char *tmpdir_make(void)
{
    char *dir = dmr_strdup("/tmp/dmr-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp failed");
    return dir;
}

/* Removes the directory tree and frees *dir; accepts NULL. */
static inline void tmpdir_remove(char **dir)
{
    if (!*dir)
        return;
    dmr_rmtree(*dir);
    DMR_FREE(dir);
}

/* dir/name, freshly allocated. */
static inline char *tmpdir_path(const char *dir, const char *name)
{
    return dmr_sprintf("%s/%s", dir, name);
}

/* Asserts that this process holds path open, and only with FD_CLOEXEC: a
 * descriptor must not leak into the task children daemons fork. */
static inline void assert_cloexec(const char *path)
{
    char want[PATH_MAX];
    cr_assert_not_null(realpath(path, want));
    DIR *d = opendir("/proc/self/fd");
    cr_assert_not_null(d);
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(dirfd(d), e->d_name, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strcmp(target, want) != 0)
            continue;
        found = 1;
        int flags = fcntl(atoi(e->d_name), F_GETFD);
        cr_assert(flags >= 0 && (flags & FD_CLOEXEC), "fd %s lacks CLOEXEC",
                  e->d_name);
    }
    closedir(d);
    cr_assert(found, "no open descriptor for %s", want);
}

#endif
