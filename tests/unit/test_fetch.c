/* test_fetch.c -- the reducer's fetch (worker/fetch.c) against a scripted
 * master and shuffle server.
 *
 * Each peer is a child process with a ROUTER on an ipc:// endpoint in the
 * test's directory (children first, so that no ZeroMQ context crosses a
 * fork). The shuffle server serves every map output as a known byte
 * pattern of its map and attempt, and logs "MAP ATTEMPT" to a file each
 * time a fetch of an output begins; the master answers the n-th
 * MAP_QUERY from a script. .fini kills both. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "common/error.h"
#include "common/net.h"
#include "common/proto.h"
#include "common/util.h"
#include "tests/unit/tmpdir.h"
#include "worker/fetch.h"

#define JOB 5
#define PART 1
#define ATT 1

static char *s_dir;
static pid_t s_kids[2] = {-1, -1};

static void s_setup(void)
{
    s_dir = tmpdir_make();
}

static void s_teardown(void)
{
    for (int i = 0; i < 2; i++)
        if (s_kids[i] > 0) {
            kill(s_kids[i], SIGKILL);
            waitpid(s_kids[i], NULL, 0);
            s_kids[i] = -1;
        }
    tmpdir_remove(&s_dir);
}

TestSuite(fetch, .init = s_setup, .fini = s_teardown);

/* The bytes of partition PART of map `map`, attempt att. */
static uint64_t s_len(uint32_t map)
{
    return map == 0 ? (5u << 19) : 1000 + map; /* map 0: 2.5 pieces */
}

static uint8_t s_byte(uint32_t map, uint32_t att, uint64_t i)
{
    return (uint8_t)(map * 31 + att * 7 + i * 13 + (i >> 9));
}

static char *s_endpoint(const char *name)
{
    return dmr_sprintf("ipc://%s/%s", s_dir, name);
}

/* Answers the nth message (from 0) a fake peer got. */
typedef void (*reply_fn)(void *sock, const dmr_peer_t *from, const dmr_msg_t *m,
                         const void *arg, size_t nth);

/* Waits up to ms for one message on sock; 0 when one came. */
static int s_next(void *sock, dmr_peer_t *from, dmr_msg_t *m, int ms)
{
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, ms) <= 0)
        return -1;
    return dmr_net_recv(sock, from, m, NULL, 0);
}

/* Runs a fake peer in a child on a ROUTER bound to ipc://dir/name: reply
 * answers each message, until none has come for 10 s. */
static void s_peer(int k, const char *name, reply_fn reply, const void *arg)
{
    char *ep = s_endpoint(name);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork failed");
    if (pid == 0) {
        void *zctx = zmq_ctx_new();
        void *sock = dmr_net_socket(zctx, ZMQ_ROUTER);
        char actual[512];
        if (!sock || dmr_net_bind(sock, ep, actual, sizeof actual) != 0)
            _exit(1);
        size_t nth = 0;
        for (int idle = 0; idle < 100;) {
            dmr_peer_t from;
            dmr_msg_t m;
            if (s_next(sock, &from, &m, 100) != 0) {
                idle++;
                continue;
            }
            idle = 0;
            reply(sock, &from, &m, arg, nth++);
            dmr_msg_clear(&m);
        }
        _exit(0);
    }
    free(ep);
    s_kids[k] = pid;
}

/* ------------------------------------------------------------ shuffle */

typedef struct {
    int slow_ms;   /* each piece of map 0 waits this long */
    long fail_map; /* this map's fetches get an ERROR; -1: none */
} shuffle_script_t;

static void s_shuffle(void *sock, const dmr_peer_t *from, const dmr_msg_t *m,
                      const void *arg, size_t nth)
{
    const shuffle_script_t *sc = arg;
    static uint8_t buf[DMR_MSG_PIECE];
    (void)nth;
    if (m->offset == 0) {
        char *log = dmr_sprintf("%s/fetches", s_dir);
        FILE *f = fopen(log, "a");
        fprintf(f, "%u %u\n", m->task, m->attempt);
        fclose(f);
        free(log);
    }
    dmr_msg_t r;
    if ((long)m->task == sc->fail_map) {
        dmr_msg_init(&r, DMR_MSG_ERROR);
        r.status = DMR_ENOENT;
        r.error = "no such map output here";
    } else {
        if (m->task == 0 && sc->slow_ms)
            usleep((useconds_t)sc->slow_ms * 1000);
        uint64_t total = s_len(m->task), n = total - m->offset;
        if (n > DMR_MSG_PIECE)
            n = DMR_MSG_PIECE;
        for (uint64_t i = 0; i < n; i++)
            buf[i] = s_byte(m->task, m->attempt, m->offset + i);
        dmr_msg_init(&r, DMR_MSG_FETCH_DATA);
        r.job = m->job, r.task = m->task, r.attempt = m->attempt;
        r.part = m->part, r.offset = m->offset, r.total = total;
        r.blob = buf;
        r.blob_len = n;
    }
    dmr_net_send(sock, from, &r);
}

/* ------------------------------------------------------------- master */

/* The answer to the n-th MAP_QUERY: state, the maps it lists as "map
 * attempt" pairs, and the log position it reports. */
typedef struct {
    const char *state;
    uint32_t locs[4][2];
    size_t nlocs;
    uint64_t off;
} answer_t;

typedef struct {
    answer_t answers[8];
    size_t n; /* the last one repeats */
} master_script_t;

static void s_master(void *sock, const dmr_peer_t *from, const dmr_msg_t *m,
                     const void *arg, size_t nth)
{
    const master_script_t *sc = arg;
    const answer_t *a = &sc->answers[nth < sc->n ? nth : sc->n - 1];
    char *ep = s_endpoint("shuffle");
    dmr_msg_t r, items[4];
    dmr_msg_init(&r, DMR_MSG_MAP_LOCS);
    r.job = m->job, r.task = m->task, r.attempt = m->attempt;
    r.state = a->state;
    r.offset = a->off;
    r.total = a->off;
    for (size_t i = 0; i < a->nlocs; i++) {
        dmr_msg_init(&items[i], DMR_MSG_MAP_LOC);
        items[i].task = a->locs[i][0];
        items[i].attempt = a->locs[i][1];
        items[i].endpoint = ep;
        items[i].wid = "w2";
    }
    r.items = items;
    r.nitems = a->nlocs;
    dmr_net_send(sock, from, &r);
    free(ep);
}

/* ------------------------------------------------------------- helpers */

/* A reduce TASK for partition PART of nmap maps, listing map 0 (attempt
 * 1) as done, with the map log read up to position 1. */
static void s_spec(dmr_msg_t *spec, dmr_msg_t *loc, dmr_kv_t *param,
                   uint32_t nmap, const char *shuffle_ep)
{
    dmr_msg_init(spec, DMR_MSG_TASK);
    spec->job = JOB;
    spec->kind = DMR_TASK_REDUCE;
    spec->task = PART;
    spec->attempt = ATT;
    spec->nmap = nmap;
    spec->nreduce = 2;
    spec->offset = 1;
    *param = (dmr_kv_t){"fetchers", "1"};
    spec->params = param;
    spec->nparams = 1;
    dmr_msg_init(loc, DMR_MSG_MAP_LOC);
    loc->task = 0;
    loc->attempt = 1;
    loc->endpoint = shuffle_ep;
    loc->wid = "w2";
    spec->items = loc;
    spec->nitems = 1;
}

static void s_count_answers(void *arg, size_t outputs, uint64_t bytes,
                            uint64_t answers)
{
    (void)outputs;
    (void)bytes;
    *(uint64_t *)arg = answers;
}

/* Asserts that the copy of map's output is attempt att's bytes. */
static void s_check_copy(const dmr_fetch_t *f, uint32_t map, uint32_t att)
{
    const dmr_fetch_output_t *o = dmr_fetch_output(f, map);
    cr_assert_not_null(o, "map %u unknown", map);
    cr_assert_eq(o->attempt, att, "map %u fetched from attempt %u, want %u",
                 map, o->attempt, att);
    cr_assert_eq(o->length, s_len(map), "map %u: %llu bytes, want %llu", map,
                 (unsigned long long)o->length, (unsigned long long)s_len(map));
    dmr_buf_t b = DMR_BUF_INIT;
    cr_assert_eq(dmr_read_file(o->path, 1u << 24, &b), 0);
    cr_assert_eq(b.len, s_len(map));
    for (size_t i = 0; i < b.len; i++)
        cr_assert_eq((uint8_t)b.data[i], s_byte(map, att, i),
                     "map %u byte %zu differs", map, i);
    dmr_buf_free(&b);
}

/* ---------------------------------------------------------------- tests */

Test(fetch, learns_maps_as_they_finish_and_fetches_each_once, .timeout = 20)
{
    /* Map 0 is slow to serve, and there is one lane: map 1, learnt
     * meanwhile, is still queued when its second attempt is learnt, and
     * comes from that one; map 0's second attempt comes once its first is
     * being fetched and changes nothing. Map 2 comes after a few answers
     * with nothing new. */
    static const shuffle_script_t sh = {500, -1};
    static const master_script_t ma = {{{"running", {{1, 1}}, 1, 2},
                                        {"running", {{1, 2}, {0, 2}}, 2, 4},
                                        {"running", {{0}}, 0, 4},
                                        {"running", {{0}}, 0, 4},
                                        {"running", {{0}}, 0, 4},
                                        {"running", {{2, 1}}, 1, 5}},
                                       6};
    s_peer(0, "shuffle", s_shuffle, &sh);
    s_peer(1, "master", s_master, &ma);
    char *shuffle_ep = s_endpoint("shuffle"), *master_ep = s_endpoint("master");
    dmr_msg_t spec, loc;
    dmr_kv_t param;
    s_spec(&spec, &loc, &param, 3, shuffle_ep);
    dmr_fetch_t *f = dmr_fetch_new(&spec, s_dir, master_ep, "w1");
    cr_assert_null(dmr_fetch_output(f, 1));
    uint64_t answers = 0;
    char err[512] = "";
    int rc = dmr_fetch_run(f, s_count_answers, &answers, err, sizeof err);
    cr_assert_eq(rc, 0, "fetch: %s (%s)", dmr_strerror(rc), err);
    s_check_copy(f, 0, 1);
    s_check_copy(f, 1, 2);
    s_check_copy(f, 2, 1);
    cr_assert_geq(answers, 6, "%llu answers", (unsigned long long)answers);
    cr_assert_eq(dmr_fetch_failed(f), -1);
    /* One lane: the outputs completed in the order they were fetched. */
    for (uint32_t i = 0; i < 3; i++)
        cr_assert_eq(dmr_fetch_completed(f, i), i, "output %u completed %u-th",
                     dmr_fetch_completed(f, i), i);
    dmr_fetch_destroy(&f);
    cr_assert_null(f);
    /* Each map output was fetched once, from one attempt. */
    char *log = dmr_sprintf("%s/fetches", s_dir);
    dmr_buf_t b = DMR_BUF_INIT;
    cr_assert_eq(dmr_read_file(log, 4096, &b), 0);
    dmr_buf_append(&b, "", 1);
    cr_assert_str_eq(b.data, "0 1\n1 2\n2 1\n");
    dmr_buf_free(&b);
    free(log);
    free(shuffle_ep);
    free(master_ep);
}

Test(fetch, a_reduce_waiting_for_maps_stops_when_its_attempt_is_given_up,
     .timeout = 20)
{
    static const shuffle_script_t sh = {0, -1};
    static const master_script_t ma = {
        {{"running", {{0}}, 0, 1}, {"killed", {{0}}, 0, 1}}, 2};
    s_peer(0, "shuffle", s_shuffle, &sh);
    s_peer(1, "master", s_master, &ma);
    char *shuffle_ep = s_endpoint("shuffle"), *master_ep = s_endpoint("master");
    dmr_msg_t spec, loc;
    dmr_kv_t param;
    s_spec(&spec, &loc, &param, 2, shuffle_ep);
    dmr_fetch_t *f = dmr_fetch_new(&spec, s_dir, master_ep, "w1");
    char err[512] = "";
    int64_t t0 = dmr_now_ms();
    int rc = dmr_fetch_run(f, NULL, NULL, err, sizeof err);
    cr_assert_eq(rc, DMR_ENOENT, "fetch: %s (%s)", dmr_strerror(rc), err);
    cr_assert(strstr(err, "no longer runs this attempt (killed)"), "%s", err);
    cr_assert_lt(dmr_now_ms() - t0, 2000, "took %lld ms",
                 (long long)(dmr_now_ms() - t0));
    dmr_fetch_destroy(&f);
    free(shuffle_ep);
    free(master_ep);
}

Test(fetch, an_unreadable_map_output_learnt_late_is_named, .timeout = 20)
{
    static const shuffle_script_t sh = {0, 1};
    static const master_script_t ma = {{{"running", {{1, 3}}, 1, 2}}, 1};
    s_peer(0, "shuffle", s_shuffle, &sh);
    s_peer(1, "master", s_master, &ma);
    char *shuffle_ep = s_endpoint("shuffle"), *master_ep = s_endpoint("master");
    dmr_msg_t spec, loc;
    dmr_kv_t param;
    s_spec(&spec, &loc, &param, 2, shuffle_ep);
    dmr_fetch_t *f = dmr_fetch_new(&spec, s_dir, master_ep, "w1");
    char err[512] = "";
    int rc = dmr_fetch_run(f, NULL, NULL, err, sizeof err);
    cr_assert_eq(rc, DMR_EFETCH, "fetch: %s (%s)", dmr_strerror(rc), err);
    cr_assert_eq(dmr_fetch_failed(f), 1);
    const dmr_fetch_output_t *o = dmr_fetch_output(f, 1);
    cr_assert_eq(o->attempt, 3);
    cr_assert_str_eq(o->wid, "w2");
    cr_assert(strstr(err, "map 1 output from w2"), "%s", err);
    dmr_fetch_destroy(&f);
    free(shuffle_ep);
    free(master_ep);
}

Test(fetch, a_reduce_with_every_map_listed_never_asks_the_master, .timeout = 20)
{
    static const shuffle_script_t sh = {0, -1};
    s_peer(0, "shuffle", s_shuffle, &sh);
    char *shuffle_ep = s_endpoint("shuffle");
    dmr_msg_t spec, loc;
    dmr_kv_t param;
    s_spec(&spec, &loc, &param, 1, shuffle_ep);
    dmr_fetch_t *f = dmr_fetch_new(&spec, s_dir, NULL, NULL);
    char err[512] = "";
    int rc = dmr_fetch_run(f, NULL, NULL, err, sizeof err);
    cr_assert_eq(rc, 0, "fetch: %s (%s)", dmr_strerror(rc), err);
    s_check_copy(f, 0, 1);
    dmr_fetch_destroy(&f);
    free(shuffle_ep);
}
