/* test_ns.c -- the chunk store's namespace (master/ns.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "common/error.h"
#include "master/ns.h"

static const char *s_norm(const char *in)
{
    static char out[DMR_NS_PATH_MAX + 1];
    char err[256];
    int rc = dmr_ns_normalize(in, out, sizeof out, err, sizeof err);
    return rc ? NULL : out;
}

Test(ns, paths_are_normalized_or_refused)
{
    cr_assert_str_eq(s_norm("dmr:/a//b/"), "/a/b");
    cr_assert_str_eq(s_norm("/a"), "/a");
    cr_assert_str_eq(s_norm("dmr:/"), "/");
    cr_assert_str_eq(s_norm("///"), "/");
    cr_assert_str_eq(s_norm("/.a/..b/c."), "/.a/..b/c.");
    cr_assert_null(s_norm("a/b"), "relative path accepted");
    cr_assert_null(s_norm("dmr:a"));
    cr_assert_null(s_norm("/a/../b"));
    cr_assert_null(s_norm("/a/./b"));
    cr_assert_null(s_norm("/a\nb"));
    char long_path[DMR_NS_PATH_MAX + 10];
    memset(long_path, 'x', sizeof long_path - 1);
    long_path[0] = '/';
    long_path[sizeof long_path - 1] = '\0';
    cr_assert_null(s_norm(long_path));
}

/* Writes a file of n chunks of len bytes each on the given workers. */
static dmr_ns_file_t *s_write(dmr_ns_t *ns, const char *path, uint32_t n,
                              uint64_t len, uint32_t repl)
{
    uint64_t sess;
    char err[256];
    cr_assert_eq(dmr_ns_create(ns, path, repl, 100, &sess, err, sizeof err), 0,
                 "create %s: %s", path, err);
    static const char *const w[] = {"w1", "w2", "w3"};
    for (uint32_t i = 0; i < n; i++) {
        dmr_ns_chunk_t *c;
        cr_assert_eq(dmr_ns_alloc_chunk(ns, sess, 100, &c), 0);
        uint64_t id = c->id;
        cr_assert_eq(dmr_ns_chunk_written(ns, sess, id, len, w, repl, 100), 0);
    }
    dmr_ns_file_t *f;
    cr_assert_eq(dmr_ns_commit(ns, sess, 200, &f, err, sizeof err), 0, "%s",
                 err);
    return f;
}

Test(ns, a_file_is_invisible_until_committed)
{
    dmr_ns_t *ns = dmr_ns_new();
    uint64_t sess;
    char err[256];
    cr_assert_eq(dmr_ns_create(ns, "/d/f", 3, 0, &sess, err, sizeof err), 0);
    dmr_ns_chunk_t *c;
    cr_assert_eq(dmr_ns_alloc_chunk(ns, sess, 0, &c), 0);
    const char *w[] = {"w1"};
    dmr_ns_chunk_written(ns, sess, c->id, 10, w, 1, 0);
    cr_assert_null(dmr_ns_lookup(ns, "/d/f"));
    cr_assert_not(dmr_ns_is_dir(ns, "/d"));
    uint64_t other;
    cr_assert_eq(dmr_ns_create(ns, "/d/f", 3, 0, &other, err, sizeof err),
                 DMR_EEXIST, "two writers of one path");
    dmr_ns_file_t *f;
    cr_assert_eq(dmr_ns_commit(ns, sess, 5, &f, err, sizeof err), 0, "%s", err);
    cr_assert_eq(dmr_ns_lookup(ns, "/d/f"), f);
    cr_assert_eq(f->size, 10);
    cr_assert_eq(f->nchunks, 1);
    cr_assert(dmr_ns_is_dir(ns, "/d"));
    cr_assert_eq(dmr_ns_health(dmr_ns_chunk(ns, f->chunks[0])),
                 DMR_CHUNK_UNDER);
    dmr_ns_destroy(&ns);
}

Test(ns, conflicts_with_files_and_directories)
{
    dmr_ns_t *ns = dmr_ns_new();
    s_write(ns, "/a/b", 1, 5, 1);
    uint64_t sess;
    char err[256];
    cr_assert_eq(dmr_ns_create(ns, "/a/b", 1, 0, &sess, err, sizeof err),
                 DMR_EEXIST);
    cr_assert(strstr(err, "exists"), "%s", err);
    cr_assert_eq(dmr_ns_create(ns, "/a", 1, 0, &sess, err, sizeof err),
                 DMR_EEXIST);
    cr_assert(strstr(err, "directory"), "%s", err);
    cr_assert_eq(dmr_ns_create(ns, "/a/b/c", 1, 0, &sess, err, sizeof err),
                 DMR_EEXIST);
    cr_assert(strstr(err, "not a directory"), "%s", err);
    cr_assert_eq(dmr_ns_create(ns, "/", 1, 0, &sess, err, sizeof err),
                 DMR_EEXIST);
    cr_assert_eq(dmr_ns_create(ns, "/x", 0, 0, &sess, err, sizeof err),
                 DMR_EINVAL);
    /* "/a/bc" and "/a.b" are neighbours, not children, of "/a/b". */
    s_write(ns, "/a/bc", 1, 5, 1);
    s_write(ns, "/a.b", 1, 5, 1);
    dmr_ns_file_t **fs;
    cr_assert_eq(dmr_ns_under(ns, "/a", &fs), 2);
    cr_assert_str_eq(fs[0]->path, "/a/b");
    cr_assert_str_eq(fs[1]->path, "/a/bc");
    cr_assert_eq(dmr_ns_under(ns, "/a/b", &fs), 0);
    cr_assert_eq(dmr_ns_under(ns, "/", &fs), 3);
    dmr_ns_destroy(&ns);
}

Test(ns, commit_needs_every_chunk_written)
{
    dmr_ns_t *ns = dmr_ns_new();
    uint64_t sess;
    char err[256];
    dmr_ns_create(ns, "/f", 2, 0, &sess, err, sizeof err);
    dmr_ns_chunk_t *c;
    dmr_ns_alloc_chunk(ns, sess, 0, &c);
    dmr_ns_file_t *f;
    cr_assert_eq(dmr_ns_commit(ns, sess, 0, &f, err, sizeof err), DMR_EINVAL);
    cr_assert(strstr(err, "never written"), "%s", err);
    cr_assert_null(dmr_ns_lookup(ns, "/f"));
    cr_assert_eq(dmr_ns_commit(ns, sess, 0, &f, err, sizeof err), DMR_ENOENT,
                 "the failed session must be over");
    dmr_ns_chunk_t *g;
    cr_assert_eq(dmr_ns_take_garbage(ns, &g), 1, "its chunk is garbage");
    dmr_ns_chunks_free(g, 1);
    dmr_ns_destroy(&ns);
}

Test(ns, expired_and_aborted_sessions_leave_garbage)
{
    dmr_ns_t *ns = dmr_ns_new();
    uint64_t s1, s2;
    char err[256];
    dmr_ns_create(ns, "/f1", 1, 10, &s1, err, sizeof err);
    dmr_ns_create(ns, "/f2", 1, 50, &s2, err, sizeof err);
    dmr_ns_chunk_t *c;
    const char *w[] = {"w2"};
    dmr_ns_alloc_chunk(ns, s1, 10, &c);
    dmr_ns_chunk_written(ns, s1, c->id, 7, w, 1, 10);
    dmr_ns_alloc_chunk(ns, s2, 50, &c);
    cr_assert_eq(dmr_ns_expire(ns, 40), 1);
    cr_assert_null(dmr_ns_session_path(ns, s1));
    cr_assert_str_eq(dmr_ns_session_path(ns, s2), "/f2");
    dmr_ns_chunk_t *g;
    size_t n = dmr_ns_take_garbage(ns, &g);
    cr_assert_eq(n, 1);
    cr_assert_eq(g[0].nlocs, 1);
    cr_assert_str_eq(g[0].locs[0], "w2", "garbage says where to delete");
    dmr_ns_chunks_free(g, n);
    cr_assert_eq(dmr_ns_take_garbage(ns, &g), 0, "handed out once");
    dmr_ns_abort(ns, s2);
    cr_assert_eq(dmr_ns_take_garbage(ns, &g), 1);
    dmr_ns_chunks_free(g, 1);
    dmr_ns_destroy(&ns);
}

Test(ns, remove_and_recursive_remove)
{
    dmr_ns_t *ns = dmr_ns_new();
    s_write(ns, "/d/a", 2, 5, 1);
    s_write(ns, "/d/e/b", 1, 5, 1);
    s_write(ns, "/z", 1, 5, 1);
    cr_assert_eq(dmr_ns_remove(ns, "/nope", 0), DMR_ENOENT);
    cr_assert_eq(dmr_ns_remove(ns, "/d", 0), DMR_EINVAL);
    cr_assert_eq(dmr_ns_remove(ns, "/d/a", 0), 1);
    dmr_ns_chunk_t *g;
    size_t n = dmr_ns_take_garbage(ns, &g);
    cr_assert_eq(n, 2);
    dmr_ns_chunks_free(g, n);
    cr_assert_eq(dmr_ns_remove(ns, "/d", 1), 1);
    cr_assert_not(dmr_ns_is_dir(ns, "/d"));
    cr_assert_not_null(dmr_ns_lookup(ns, "/z"));
    dmr_ns_destroy(&ns);
}

Test(ns, rename_replaces_the_target)
{
    dmr_ns_t *ns = dmr_ns_new();
    dmr_ns_file_t *a = s_write(ns, "/out/_temporary/part-0.2", 1, 9, 1);
    s_write(ns, "/out/part-0", 1, 4, 1);
    cr_assert_eq(dmr_ns_rename(ns, "/out/_temporary/part-0.2", "/out/part-0"),
                 0);
    cr_assert_eq(dmr_ns_lookup(ns, "/out/part-0"), a);
    cr_assert_eq(a->size, 9);
    cr_assert_null(dmr_ns_lookup(ns, "/out/_temporary/part-0.2"));
    dmr_ns_chunk_t *g;
    size_t n = dmr_ns_take_garbage(ns, &g);
    cr_assert_eq(n, 1, "the replaced file's chunk is garbage");
    dmr_ns_chunks_free(g, n);
    cr_assert_eq(dmr_ns_rename(ns, "/nope", "/x"), DMR_ENOENT);
    s_write(ns, "/dir/f", 1, 1, 1);
    cr_assert_eq(dmr_ns_rename(ns, "/out/part-0", "/dir"), DMR_EEXIST);
    dmr_ns_destroy(&ns);
}

Test(ns, replicas_health_and_dead_workers)
{
    dmr_ns_t *ns = dmr_ns_new();
    dmr_ns_file_t *f = s_write(ns, "/f", 2, 5, 3);
    dmr_ns_chunk_t *c = dmr_ns_chunk(ns, f->chunks[0]);
    cr_assert_eq(dmr_ns_health(c), DMR_CHUNK_HEALTHY);
    cr_assert_eq(dmr_ns_drop_worker(ns, "w2"), 2);
    cr_assert_eq(dmr_ns_health(c), DMR_CHUNK_UNDER);
    dmr_ns_bad_replica(ns, c->id, "w1");
    dmr_ns_bad_replica(ns, c->id, "w3");
    cr_assert_eq(c->nlocs, 0);
    cr_assert_eq(dmr_ns_health(c), DMR_CHUNK_CORRUPT);
    dmr_ns_drop_replica(ns, c->id, "w1");
    dmr_ns_drop_replica(ns, c->id, "w3");
    cr_assert_eq(dmr_ns_health(c), DMR_CHUNK_MISSING);
    cr_assert_eq(dmr_ns_add_replica(ns, c->id, "w4"), 0);
    cr_assert_eq(dmr_ns_add_replica(ns, c->id, "w4"), 0);
    cr_assert_eq(c->nlocs, 1, "added twice, held once");
    cr_assert_eq(dmr_ns_add_replica(ns, 999999, "w4"), DMR_ENOENT);
    dmr_ns_destroy(&ns);
}

Test(ns, restore_and_id_reservations)
{
    dmr_ns_t *ns = dmr_ns_new();
    uint64_t ids[] = {40, 41}, lens[] = {64, 3};
    uint32_t vers[] = {1, 1};
    cr_assert_eq(
        dmr_ns_restore_file(ns, 42, "/r", 67, 3, 7, ids, lens, vers, 2), 0);
    cr_assert_eq(dmr_ns_restore_file(ns, 43, "/r", 1, 3, 7, ids, lens, vers, 0),
                 DMR_EINVAL, "a path restored twice");
    dmr_ns_file_t *f = dmr_ns_lookup(ns, "/r");
    cr_assert_eq(f->size, 67);
    cr_assert_eq(dmr_ns_chunk(ns, 41)->length, 3);
    cr_assert_eq(dmr_ns_chunk(ns, 41)->nlocs, 0,
                 "locations come from "
                 "workers");
    cr_assert_eq(dmr_ns_next_id(ns), 43);
    dmr_ns_reserve_ids(ns, 5000);
    dmr_ns_reserve_ids(ns, 100);
    cr_assert_eq(dmr_ns_id_limit(ns), 5000);
    dmr_ns_replayed(ns);
    cr_assert_eq(dmr_ns_next_id(ns), 5000,
                 "ids below the limit may be "
                 "taken");
    dmr_ns_destroy(&ns);
}

Test(ns, a_silent_writer_loses_its_path_after_the_lease)
{
    dmr_ns_t *ns = dmr_ns_new();
    dmr_ns_set_lease(ns, 1000);
    uint64_t s1, s2;
    char err[256];
    cr_assert_eq(dmr_ns_create(ns, "/p", 1, 0, &s1, err, sizeof err), 0);
    cr_assert_eq(dmr_ns_create(ns, "/p", 1, 999, &s2, err, sizeof err),
                 DMR_EEXIST, "taken over within the lease");
    cr_assert(strstr(err, "lease"), "%s", err);
    cr_assert_eq(dmr_ns_create(ns, "/p", 1, 1001, &s2, err, sizeof err), 0,
                 "%s", err);
    cr_assert_null(dmr_ns_session_path(ns, s1), "the old write is over");
    dmr_ns_file_t *f;
    cr_assert_eq(dmr_ns_commit(ns, s1, 1002, &f, err, sizeof err), DMR_ENOENT);
    cr_assert_eq(dmr_ns_commit(ns, s2, 1002, &f, err, sizeof err), 0);
    dmr_ns_destroy(&ns);
}
