/* tmpdir.h -- a fresh temporary directory per test, for unit tests.
 *
 * Criterion runs each test in its own process, so a suite keeps its
 * directory in a file-static pointer: make it in .init, remove it (and
 * everything in it) in .fini. Header-only; functions are static inline so
 * that each test file gets its own copy without unused-function warnings. */
#ifndef DMR_TEST_TMPDIR_H
#define DMR_TEST_TMPDIR_H

#include <criterion/criterion.h>
#include <stdlib.h>

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

#endif
