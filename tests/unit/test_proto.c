/* test_proto.c -- the message codec.
 *
 * Every message type round-trips field by field (item types inside the
 * lists that carry them), with strings at their bounds, extreme integers,
 * blobs holding zero bytes, params and counters; the keys on the wire are
 * checked against an independent list per type. The encoder refuses what
 * the decoder would reject. The decoder turns every malformed body into
 * DMR_EPROTO with a reason naming the problem; malformed bodies are packed
 * by hand with msgpack-c so that each carries exactly one defect.
 * Truncations, single-byte changes and random bytes must never crash it:
 * each input sits in a heap block of exactly its length, so an over-read
 * shows under ASan. */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/proto.h"
#include "common/util.h"

/* Under ASan, Criterion ignores what LeakSanitizer reports when a test's
 * process exits, so tests of failure paths ask for a leak check. */
#if defined(__SANITIZE_ADDRESS__)
#define S_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_LSAN 1
#endif
#endif
#ifdef S_LSAN
#include <sanitizer/lsan_interface.h>
#endif

static void s_assert_no_leaks(void)
{
#ifdef S_LSAN
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0,
                 "memory leaked: see the LeakSanitizer report above");
#endif
}

/* ------------------------------------------------------------ fixtures */

/* Strings exactly at their field's bound, each with its own pattern so a
 * value landing in the wrong field shows. */
static char s_wid[256 + 1], s_host[256 + 1], s_ep[1024 + 1], s_name[4096 + 1],
    s_hash[64 + 1], s_path[4096 + 1], s_state[64 + 1], s_err[65536 + 1],
    s_out[4096 + 1];
/* One byte longer than the longest bound; a suffix of it is any
 * over-long string. */
static char s_over[65537 + 1];
/* Binary payloads with zero bytes (and MessagePack-looking bytes) inside,
 * sized for bin8, bin16 and bin32. */
static uint8_t s_blob8[200], s_blob16[3000], s_blob32[70000];

static void s_pattern(char *buf, size_t n, char tag)
{
    buf[0] = tag;
    for (size_t i = 1; i < n; i++)
        buf[i] = (char)('a' + (i * 7 + (size_t)tag) % 26);
    buf[n] = '\0';
}

static void s_blob_pattern(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (i % 3 == 0) ? 0 : (uint8_t)(i * 31 + seed);
}

static void s_fixtures(void)
{
    s_pattern(s_wid, 256, 'W');
    s_pattern(s_host, 256, 'H');
    s_pattern(s_ep, 1024, 'E');
    s_pattern(s_name, 4096, 'N');
    s_pattern(s_path, 4096, 'P');
    s_pattern(s_state, 64, 'S');
    s_pattern(s_err, 65536, 'X');
    s_pattern(s_out, 4096, 'O');
    s_pattern(s_over, 65537, 'V');
    for (size_t i = 0; i < 64; i++)
        s_hash[i] = "0123456789abcdef"[(i * 5 + 3) % 16];
    s_hash[64] = '\0';
    s_blob_pattern(s_blob8, sizeof s_blob8, 1);
    s_blob_pattern(s_blob16, sizeof s_blob16, 2);
    s_blob_pattern(s_blob32, sizeof s_blob32, 3);
}

/* A string of n bytes (n <= 65537). */
static const char *s_long(size_t n)
{
    return s_over + (sizeof s_over - 1 - n);
}

TestSuite(proto, .init = s_fixtures);

/* Distinctive values: each field its own, most at an extreme. */
#define V_JOB 0x0123456789abcdefull
#define V_INC 0xfedcba9876543210ull
#define V_PID INT64_MIN
#define V_SLOTS UINT32_MAX
#define V_KIND DMR_TASK_REDUCE
#define V_TASK 0x7ffffffeu
#define V_ATT 3u
#define V_PART 0x80000001u
#define V_NMAP 100003u
#define V_NRED 0xfffffff0u
#define V_MDONE 4242u
#define V_RDONE 17u
#define V_RUN 9u
#define V_IVAL 250u
#define V_FLAGS 0xa5a5a5a5u
#define V_STATUS (-7)
#define V_OFF ((1ull << 40) + 3)
#define V_LEN 0x1234u
#define V_TOTAL UINT64_MAX
#define V_START 1732628701123ll
#define V_END INT64_MAX
#define V_AGE (-1)

static dmr_kv_t *s_params(size_t *n)
{
    static dmr_kv_t p[5];
    p[0] = (dmr_kv_t){"split_mb", "64"};
    p[1] = (dmr_kv_t){"empty", ""};
    p[2] = (dmr_kv_t){"", "empty key"};
    p[3] = (dmr_kv_t){"pattern", "a=b c\td \xc3\xa9"};
    p[4] = (dmr_kv_t){s_name, s_err}; /* key and value at their bounds */
    *n = 5;
    return p;
}

static dmr_counter_t *s_counters(size_t *n)
{
    static dmr_counter_t c[4];
    c[0] = (dmr_counter_t){"map_input_records", 0};
    c[1] = (dmr_counter_t){"bytes", UINT64_MAX};
    c[2] = (dmr_counter_t){"", 1};
    c[3] = (dmr_counter_t){"spills", 1ull << 40};
    *n = 4;
    return c;
}

/* Short per-item strings, distinct per item. */
static char s_item_str[8][4][48];

static const char *s_istr(size_t item, int slot, const char *fmt)
{
    snprintf(s_item_str[item][slot], sizeof s_item_str[item][slot], fmt,
             (int)item);
    return s_item_str[item][slot];
}

static void s_fill_file_info(dmr_msg_t *m, size_t i)
{
    dmr_msg_init(m, DMR_MSG_FILE_INFO);
    m->path = i == 0 ? s_path : s_istr(i, 0, "/data/in/part-%05d");
    m->name = i == 0 ? s_name : s_istr(i, 1, "part-%05d");
    m->total = i == 0 ? UINT64_MAX : 1000 * i + 7;
}

static void s_fill_map_loc(dmr_msg_t *m, size_t i)
{
    dmr_msg_init(m, DMR_MSG_MAP_LOC);
    m->task = (uint32_t)i + 100;
    m->attempt = (uint32_t)i + 1;
    m->endpoint = i == 0 ? s_ep : s_istr(i, 0, "tcp://10.0.0.%d:7000");
    m->wid = i == 0 ? s_wid : s_istr(i, 1, "w%d");
}

static void s_fill_attempt_info(dmr_msg_t *m, size_t i)
{
    dmr_msg_init(m, DMR_MSG_ATTEMPT_INFO);
    m->kind = i % 2 ? DMR_TASK_REDUCE : DMR_TASK_MAP;
    m->task = (uint32_t)i + 200;
    m->attempt = (uint32_t)i;
    m->wid = s_istr(i, 0, "w%d");
    m->state = i == 0 ? s_state : s_istr(i, 1, "failed-%d");
    m->start_ms = V_START + (int64_t)i;
    m->end_ms = i == 0 ? INT64_MIN : V_START + 1000;
    m->error = i == 0 ? s_err : s_istr(i, 2, "task %d: exit status 1");
    m->progress = i == 0 ? UINT32_MAX : 500000;
}

static void s_fill_task_progress(dmr_msg_t *m, size_t i)
{
    dmr_msg_init(m, DMR_MSG_TASK_PROGRESS);
    m->job = V_JOB - i;
    m->kind = i % 2 ? DMR_TASK_REDUCE : DMR_TASK_MAP;
    m->task = (uint32_t)i;
    m->attempt = V_ATT;
    m->progress = (uint32_t)i * 1000;
    m->work = i == 0 ? UINT64_MAX : i;
    m->state = i == 0 ? s_state : s_istr(i, 0, "phase-%d");
}

static void s_fill_event(dmr_msg_t *m, size_t i)
{
    dmr_msg_init(m, DMR_MSG_EVENT);
    m->offset = i == 0 ? UINT64_MAX : i;
    m->start_ms = V_START + (int64_t)i;
    m->text = i == 0 ? s_name : s_istr(i, 0, "worker w%d lost");
}

static void s_fill_worker_info(dmr_msg_t *m, size_t i)
{
    dmr_msg_init(m, DMR_MSG_WORKER_INFO);
    m->wid = i == 0 ? s_wid : s_istr(i, 0, "w%d");
    m->endpoint = i == 0 ? s_ep : s_istr(i, 1, "tcp://node%d:7001");
    m->host = i == 0 ? s_host : s_istr(i, 2, "node%d");
    m->pid = i == 0 ? INT64_MAX : 1000 + (int64_t)i;
    m->slots = (uint32_t)i + 2;
    m->running = (uint32_t)i;
    m->state = i == 0 ? s_state : "alive";
    m->age_ms = i == 0 ? INT64_MIN : 15 * (int64_t)i;
    m->inc = V_INC - i;
    m->progress = i == 0 ? UINT32_MAX : 821;
}

static void s_fill_job_info_item(dmr_msg_t *m, size_t i)
{
    dmr_msg_init(m, DMR_MSG_JOB_INFO);
    m->job = V_JOB + i;
    m->name = i == 0 ? s_name : s_istr(i, 0, "job-%d");
    m->state = i == 0 ? s_state : "running";
    m->nmap = V_NMAP + (uint32_t)i;
    m->nreduce = V_NRED - (uint32_t)i;
    m->maps_done = V_MDONE;
    m->reduces_done = V_RDONE + (uint32_t)i;
    m->error = i == 0 ? s_err : s_istr(i, 1, "job %d failed");
    m->output = i == 0 ? s_out : s_istr(i, 2, "/out/%d");
    m->start_ms = V_START;
    m->end_ms = V_END - (int64_t)i;
    m->counters = s_counters(&m->ncounters);
    m->running = V_RUN + (uint32_t)i;
    m->next = i == 0 ? UINT64_MAX : V_JOB + 100 + i;
}

/* Items of one type, n of them (n <= 8), in a static array. */
static dmr_msg_t *s_items(void (*fill)(dmr_msg_t *, size_t), size_t n)
{
    static dmr_msg_t items[8];
    for (size_t i = 0; i < n; i++)
        fill(&items[i], i);
    return items;
}

/* --------------------------------------------------- one filler a type */

static void s_fill_register(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_REGISTER);
    m->host = s_host;
    m->pid = V_PID;
    m->endpoint = s_ep;
    m->slots = V_SLOTS;
    m->wid = s_wid;
    m->inc = V_INC;
}

static void s_fill_heartbeat(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_HEARTBEAT);
    m->wid = s_wid;
    m->inc = V_INC;
    m->running = V_RUN;
    m->items = s_items(s_fill_task_progress, 2);
    m->nitems = 2;
}

static void s_fill_task_done(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_TASK_DONE);
    m->wid = s_wid;
    m->job = V_JOB;
    m->kind = V_KIND;
    m->task = V_TASK;
    m->attempt = V_ATT;
    m->status = V_STATUS;
    m->error = s_err;
    m->counters = s_counters(&m->ncounters);
    m->start_ms = V_START;
    m->end_ms = V_END;
    m->items = s_items(s_fill_map_loc, 1);
    m->nitems = 1;
}

static void s_fill_job_fetch(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JOB_FETCH);
    m->hash = s_hash;
    m->offset = V_OFF;
}

static void s_fill_welcome(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_WELCOME);
    m->wid = s_wid;
    m->inc = V_INC;
    m->interval = V_IVAL;
}

static void s_fill_task(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_TASK);
    m->job = V_JOB;
    m->kind = V_KIND;
    m->task = V_TASK;
    m->attempt = V_ATT;
    m->hash = s_hash;
    m->name = s_name;
    m->nmap = V_NMAP;
    m->nreduce = V_NRED;
    m->path = s_path;
    m->offset = V_OFF;
    m->length = V_LEN;
    m->output = s_out;
    m->params = s_params(&m->nparams);
    m->items = s_items(s_fill_map_loc, 3);
    m->nitems = 3;
    m->flags = V_FLAGS;
}

static void s_fill_job_blob(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JOB_BLOB);
    m->hash = s_hash;
    m->offset = V_OFF;
    m->total = V_TOTAL;
    m->blob = s_blob32;
    m->blob_len = sizeof s_blob32;
}

static void s_fill_cancel(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_CANCEL);
    m->job = V_JOB;
    m->kind = V_KIND;
    m->task = V_TASK;
    m->attempt = V_ATT;
}

static void s_fill_submit(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_SUBMIT);
    m->name = s_name;
    m->hash = s_hash;
    m->blob = s_blob8;
    m->blob_len = sizeof s_blob8;
    m->output = s_out;
    m->nreduce = V_NRED;
    m->params = s_params(&m->nparams);
    m->items = s_items(s_fill_file_info, 3);
    m->nitems = 3;
    m->flags = V_FLAGS;
}

static void s_fill_status(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_STATUS);
    m->job = V_JOB;
    m->flags = 2;
    m->offset = V_OFF;
}

static void s_fill_progress(dmr_msg_t *m)
{
    s_fill_task_progress(m, 0);
    m->type = DMR_MSG_PROGRESS;
}

static void s_fill_jnl_job(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JNL_JOB);
    m->job = V_JOB;
    m->name = s_name;
    m->hash = s_hash;
    m->output = s_out;
    m->nreduce = V_NRED;
    m->start_ms = V_START;
    m->params = s_params(&m->nparams);
    m->items = s_items(s_fill_file_info, 2);
    m->nitems = 2;
    m->flags = V_FLAGS;
}

static void s_fill_jnl_attempt(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JNL_ATTEMPT);
    m->job = V_JOB;
    m->kind = V_KIND;
    m->task = V_TASK;
    m->attempt = V_ATT;
    m->wid = s_wid;
    m->state = s_state;
    m->start_ms = V_START;
    m->end_ms = V_END;
    m->error = s_err;
    m->endpoint = s_ep;
    m->counters = s_counters(&m->ncounters);
    m->flags = 1;
}

static void s_fill_jnl_event(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JNL_EVENT);
    m->job = V_JOB;
    m->start_ms = V_START;
    m->text = s_name;
}

static void s_fill_replica(dmr_msg_t *m, size_t i)
{
    dmr_msg_init(m, DMR_MSG_REPLICA);
    m->chunk = i == 0 ? UINT64_MAX : i;
    m->wid = i == 0 ? s_wid : s_istr(i, 0, "w%d");
    m->endpoint = i == 0 ? s_ep : s_istr(i, 1, "tcp://node%d:7001");
    m->state = i == 0 ? s_state : "good";
    m->version = (uint32_t)i + 1;
    m->length = V_LEN + i;
}

static void s_fill_chunk_info(dmr_msg_t *m, size_t i)
{
    dmr_msg_init(m, DMR_MSG_CHUNK_INFO);
    m->chunk = V_JOB + i;
    m->length = i == 0 ? UINT64_MAX : 64;
    m->version = i == 0 ? UINT32_MAX : 1;
    m->part = (uint32_t)i;
    m->state = i == 0 ? s_state : "healthy";
}

static void s_fill_fs_file(dmr_msg_t *m, size_t i)
{
    dmr_msg_init(m, DMR_MSG_FS_FILE);
    m->path = i == 0 ? s_path : s_istr(i, 0, "/data/f%d");
    m->total = i == 0 ? UINT64_MAX : i;
    m->replication = i == 0 ? UINT32_MAX : 3;
    m->start_ms = V_START + (int64_t)i;
    m->job = i;
}

static void s_fill_fs_create(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_FS_CREATE);
    m->path = s_path;
    m->replication = UINT32_MAX;
}

static void s_fill_fs_alloc(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_FS_ALLOC);
    m->job = V_JOB;
    m->wid = s_wid;
}

static void s_fill_fs_written(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_FS_WRITTEN);
    m->job = V_JOB;
    m->chunk = V_INC;
    m->length = V_LEN;
    m->items = s_items(s_fill_replica, 3);
    m->nitems = 3;
}

static void s_fill_fs_commit(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_FS_COMMIT);
    m->job = V_JOB;
}

static void s_fill_fs_abort(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_FS_ABORT);
    m->job = V_JOB;
}

static void s_fill_fs_stat(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_FS_STAT);
    m->path = s_path;
    m->flags = 3;
}

static void s_fill_fs_rm(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_FS_RM);
    m->path = s_path;
    m->flags = 1;
}

static void s_fill_fs_bad(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_FS_BAD);
    m->chunk = V_JOB;
    m->wid = s_wid;
    m->error = s_err;
}

static void s_fill_fs_ok(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_FS_OK);
    m->job = V_JOB;
    m->chunk = V_INC;
    m->version = UINT32_MAX;
    m->total = V_TOTAL;
    m->items = s_items(s_fill_replica, 2);
    m->nitems = 2;
}

static void s_fill_fs_files(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_FS_FILES);
    m->total = 1;
    m->items = s_items(s_fill_fs_file, 1);
    m->nitems = 1;
}

static void s_fill_fs_files_chunks(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_FS_FILES);
    m->items = s_items(s_fill_chunk_info, 2);
    m->nitems = 2;
}

static void s_fill_chunk_delete(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_CHUNK_DELETE);
    m->chunk = UINT64_MAX;
}

static void s_fill_replicate(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_REPLICATE);
    m->chunk = V_JOB;
    m->version = 7;
    m->length = V_LEN;
    m->endpoint = s_ep;
    m->wid = s_wid;
}

static void s_fill_chunk_added(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_CHUNK_ADDED);
    m->wid = s_wid;
    m->inc = V_INC;
    m->chunk = V_JOB;
    m->version = 1;
    m->length = V_LEN;
    m->status = V_STATUS;
    m->error = s_err;
}

static void s_fill_chunk_put(dmr_msg_t *m)
{
    static const uint8_t piece[5] = {0, 1, 2, 0xfe, 0xff};
    dmr_msg_init(m, DMR_MSG_CHUNK_PUT);
    m->chunk = V_JOB;
    m->version = 1;
    m->offset = V_OFF;
    m->blob = piece;
    m->blob_len = sizeof piece;
    m->flags = 1;
    m->total = V_TOTAL;
}

static void s_fill_chunk_ack(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_CHUNK_ACK);
    m->chunk = V_JOB;
    m->offset = V_OFF;
    m->status = V_STATUS;
    m->error = s_err;
}

static void s_fill_chunk_get(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_CHUNK_GET);
    m->chunk = V_JOB;
    m->offset = V_OFF;
    m->length = V_LEN;
}

static void s_fill_chunk_data(dmr_msg_t *m)
{
    static const uint8_t piece[3] = {9, 8, 7};
    dmr_msg_init(m, DMR_MSG_CHUNK_DATA);
    m->chunk = V_JOB;
    m->offset = V_OFF;
    m->total = V_TOTAL;
    m->blob = piece;
    m->blob_len = sizeof piece;
}

static void s_fill_jnl_file(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JNL_FILE);
    m->job = V_JOB;
    m->path = s_path;
    m->total = V_TOTAL;
    m->replication = 3;
    m->start_ms = V_START;
    m->items = s_items(s_fill_chunk_info, 3);
    m->nitems = 3;
}

static void s_fill_jnl_fs_rm(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JNL_FS_RM);
    m->path = s_path;
    m->flags = 1;
}

static void s_fill_jnl_fs_mv(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JNL_FS_MV);
    m->path = s_path;
    m->output = s_out;
}

static void s_fill_jnl_ids(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JNL_IDS);
    m->offset = UINT64_MAX;
}

static void s_fill_jnl_worker(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JNL_WORKER);
    m->wid = s_wid;
    m->name = s_name;
}

static void s_fill_chunk_report(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_CHUNK_REPORT);
    m->wid = s_wid;
    m->inc = V_INC;
    m->items = s_items(s_fill_replica, 3);
    m->nitems = 3;
}

static void s_fill_register_chunks(dmr_msg_t *m)
{
    s_fill_register(m);
    m->name = "3f2a9c0d8e7b6a5f4e3d2c1b0a998877";
    m->items = s_items(s_fill_replica, 2);
    m->nitems = 2;
}

static void s_fill_jnl_job_end(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JNL_JOB_END);
    m->job = V_JOB;
    m->state = s_state;
    m->end_ms = V_END;
    m->error = s_err;
}

static void s_fill_job_info_events(dmr_msg_t *m)
{
    s_fill_job_info_item(m, 0);
    m->items = s_items(s_fill_event, 3);
    m->nitems = 3;
}

static void s_fill_jobs(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JOBS);
}

static void s_fill_workers(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_WORKERS);
}

static void s_fill_submitted(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_SUBMITTED);
    m->job = V_JOB;
}

static void s_fill_job_info(dmr_msg_t *m)
{
    s_fill_job_info_item(m, 0);
    m->items = s_items(s_fill_attempt_info, 3);
    m->nitems = 3;
}

static void s_fill_job_list(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_JOB_LIST);
    m->items = s_items(s_fill_job_info_item, 3);
    m->nitems = 3;
}

static void s_fill_worker_list(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_WORKER_LIST);
    m->items = s_items(s_fill_worker_info, 4);
    m->nitems = 4;
}

static void s_fill_error(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_ERROR);
    m->status = INT64_MIN;
    m->error = s_err;
    m->job = V_JOB;
    m->task = V_TASK;
    m->attempt = V_ATT;
    m->part = V_PART;
    m->offset = V_OFF;
}

static void s_fill_fetch(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_FETCH);
    m->job = V_JOB;
    m->task = V_TASK;
    m->attempt = V_ATT;
    m->part = V_PART;
    m->offset = V_OFF;
    m->length = V_LEN;
}

static void s_fill_fetch_data(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_FETCH_DATA);
    m->job = V_JOB;
    m->task = V_TASK;
    m->attempt = V_ATT;
    m->part = V_PART;
    m->offset = V_OFF;
    m->total = V_TOTAL;
    m->blob = s_blob16;
    m->blob_len = sizeof s_blob16;
}

static void s_fill_map_query(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_MAP_QUERY);
    m->job = V_JOB;
    m->task = V_TASK;
    m->attempt = V_ATT;
    m->wid = s_wid;
    m->offset = V_OFF;
    m->flags = 1;
}

static void s_fill_map_locs(dmr_msg_t *m)
{
    dmr_msg_init(m, DMR_MSG_MAP_LOCS);
    m->job = V_JOB;
    m->task = V_TASK;
    m->attempt = V_ATT;
    m->state = s_state;
    m->offset = V_OFF;
    m->total = V_TOTAL;
    m->items = s_items(s_fill_map_loc, 4);
    m->nitems = 4;
}

/* One case per top-level message, with the keys it must put on the wire
 * (besides "v" and "t") -- written from proto.h, not read from proto.c --
 * and the keys of every item in its list. */
typedef struct {
    dmr_msg_type_t type;
    void (*fill)(dmr_msg_t *m);
    const char *keys;
    const char *item_keys;
} rt_case_t;

static const rt_case_t s_cases[] = {
    {DMR_MSG_REGISTER, s_fill_register, "host pid ep slots wid inc", NULL},
    {DMR_MSG_HEARTBEAT, s_fill_heartbeat, "wid inc run items",
     "job kind task att prog work state"},
    {DMR_MSG_TASK_DONE, s_fill_task_done,
     "wid job kind task att status err ctr start end items", "task att ep wid"},
    {DMR_MSG_JOB_FETCH, s_fill_job_fetch, "hash off", NULL},
    {DMR_MSG_WELCOME, s_fill_welcome, "wid inc ival", NULL},
    {DMR_MSG_TASK, s_fill_task,
     "job kind task att hash name nmap nred path off len out params items "
     "flags",
     "task att ep wid"},
    {DMR_MSG_JOB_BLOB, s_fill_job_blob, "hash off total blob", NULL},
    {DMR_MSG_CANCEL, s_fill_cancel, "job kind task att", NULL},
    {DMR_MSG_SUBMIT, s_fill_submit,
     "name hash blob out nred params items flags", "path name total len"},
    {DMR_MSG_STATUS, s_fill_status, "job flags off", NULL},
    {DMR_MSG_JOBS, s_fill_jobs, "", NULL},
    {DMR_MSG_WORKERS, s_fill_workers, "", NULL},
    {DMR_MSG_SUBMITTED, s_fill_submitted, "job", NULL},
    {DMR_MSG_JOB_INFO, s_fill_job_info,
     "job name state nmap nred mdone rdone err out start end ctr items run next",
     "kind task att wid state start end err prog"},
    {DMR_MSG_JOB_LIST, s_fill_job_list, "items",
     "job name state nmap nred mdone rdone err out start end ctr run next"},
    {DMR_MSG_WORKER_LIST, s_fill_worker_list, "items",
     "wid ep host pid slots run state age inc prog"},
    {DMR_MSG_ERROR, s_fill_error, "status err job task att part off", NULL},
    {DMR_MSG_FETCH, s_fill_fetch, "job task att part off len", NULL},
    {DMR_MSG_FETCH_DATA, s_fill_fetch_data, "job task att part off total blob",
     NULL},
    {DMR_MSG_PROGRESS, s_fill_progress, "job kind task att prog work state",
     NULL},
    {DMR_MSG_JNL_JOB, s_fill_jnl_job,
     "job name hash out nred start params items flags", "path name total len"},
    {DMR_MSG_JNL_ATTEMPT, s_fill_jnl_attempt,
     "job kind task att wid state start end err ep ctr flags", NULL},
    {DMR_MSG_JNL_EVENT, s_fill_jnl_event, "job start text", NULL},
    {DMR_MSG_JNL_JOB_END, s_fill_jnl_job_end, "job state end err", NULL},
    {DMR_MSG_JOB_INFO, s_fill_job_info_events,
     "job name state nmap nred mdone rdone err out start end ctr items run next",
     "off start text"},
    {DMR_MSG_FS_CREATE, s_fill_fs_create, "path repl", NULL},
    {DMR_MSG_FS_ALLOC, s_fill_fs_alloc, "job wid", NULL},
    {DMR_MSG_FS_WRITTEN, s_fill_fs_written, "job chunk len items",
     "chunk wid ep state vers len"},
    {DMR_MSG_FS_COMMIT, s_fill_fs_commit, "job", NULL},
    {DMR_MSG_FS_ABORT, s_fill_fs_abort, "job", NULL},
    {DMR_MSG_FS_STAT, s_fill_fs_stat, "path flags", NULL},
    {DMR_MSG_FS_RM, s_fill_fs_rm, "path flags", NULL},
    {DMR_MSG_FS_BAD, s_fill_fs_bad, "chunk wid err", NULL},
    {DMR_MSG_FS_OK, s_fill_fs_ok, "job chunk vers total items",
     "chunk wid ep state vers len"},
    {DMR_MSG_FS_FILES, s_fill_fs_files, "items total",
     "path total repl start job"},
    {DMR_MSG_FS_FILES, s_fill_fs_files_chunks, "items total",
     "chunk len vers part state"},
    {DMR_MSG_CHUNK_DELETE, s_fill_chunk_delete, "chunk", NULL},
    {DMR_MSG_REPLICATE, s_fill_replicate, "chunk vers len ep wid", NULL},
    {DMR_MSG_CHUNK_ADDED, s_fill_chunk_added,
     "wid inc chunk vers len status err", NULL},
    {DMR_MSG_CHUNK_PUT, s_fill_chunk_put, "chunk vers off blob flags total",
     NULL},
    {DMR_MSG_CHUNK_ACK, s_fill_chunk_ack, "chunk off status err", NULL},
    {DMR_MSG_CHUNK_GET, s_fill_chunk_get, "chunk off len", NULL},
    {DMR_MSG_CHUNK_DATA, s_fill_chunk_data, "chunk off total blob", NULL},
    {DMR_MSG_JNL_FILE, s_fill_jnl_file, "job path total repl start items",
     "chunk len vers part state"},
    {DMR_MSG_JNL_FS_RM, s_fill_jnl_fs_rm, "path flags", NULL},
    {DMR_MSG_JNL_FS_MV, s_fill_jnl_fs_mv, "path out", NULL},
    {DMR_MSG_JNL_IDS, s_fill_jnl_ids, "off", NULL},
    {DMR_MSG_JNL_WORKER, s_fill_jnl_worker, "wid name", NULL},
    {DMR_MSG_CHUNK_REPORT, s_fill_chunk_report, "wid inc items",
     "chunk wid ep state vers len"},
    {DMR_MSG_REGISTER, s_fill_register_chunks,
     "host pid ep slots wid inc items name", "chunk wid ep state vers len"},
    {DMR_MSG_MAP_QUERY, s_fill_map_query, "job task att wid off flags", NULL},
    {DMR_MSG_MAP_LOCS, s_fill_map_locs, "job task att state off total items",
     "task att ep wid"},
};
#define NCASES (sizeof s_cases / sizeof *s_cases)

/* ---------------------------------------------------------- comparison */

static void s_check_str(const char *got, const char *want, const char *what)
{
    if (!want) {
        cr_assert_null(got, "%s: got \"%.40s\", want NULL", what, got);
        return;
    }
    cr_assert_not_null(got, "%s: got NULL, want \"%.40s\"", what, want);
    cr_assert_str_eq(
        got, want, "%s: got \"%.40s\" (%zu bytes), want \"%.40s\" (%zu bytes)",
        what, got, strlen(got), want, strlen(want));
}

#define CHECK_U(f)                                                             \
    cr_assert_eq(got->f, want->f, "%s." #f ": got %llu, want %llu", where,     \
                 (unsigned long long)got->f, (unsigned long long)want->f)
#define CHECK_I(f)                                                             \
    cr_assert_eq(got->f, want->f, "%s." #f ": got %lld, want %lld", where,     \
                 (long long)got->f, (long long)want->f)
#define CHECK_S(f)                                                             \
    do {                                                                       \
        snprintf(what, sizeof what, "%s." #f, where);                          \
        s_check_str(got->f, want->f, what);                                    \
    } while (0)

/* Compares every field of the struct: those a type does not allow must be
 * zero on both sides. */
static void s_check_msg(const dmr_msg_t *got, const dmr_msg_t *want,
                        const char *where)
{
    char what[128];
    cr_assert_eq(got->type, want->type, "%s.type: got %s, want %s", where,
                 dmr_msg_type_name(got->type), dmr_msg_type_name(want->type));
    CHECK_U(job);
    CHECK_S(wid);
    CHECK_U(inc);
    CHECK_S(host);
    CHECK_S(endpoint);
    CHECK_S(name);
    CHECK_S(hash);
    CHECK_S(path);
    CHECK_S(state);
    CHECK_S(error);
    CHECK_S(output);
    CHECK_I(pid);
    CHECK_U(slots);
    CHECK_U(kind);
    CHECK_U(task);
    CHECK_U(attempt);
    CHECK_U(part);
    CHECK_U(nmap);
    CHECK_U(nreduce);
    CHECK_U(maps_done);
    CHECK_U(reduces_done);
    CHECK_U(next);
    CHECK_U(running);
    CHECK_U(interval);
    CHECK_U(progress);
    CHECK_U(work);
    CHECK_S(text);
    CHECK_U(flags);
    CHECK_I(status);
    CHECK_U(offset);
    CHECK_U(length);
    CHECK_U(total);
    CHECK_I(start_ms);
    CHECK_I(end_ms);
    CHECK_I(age_ms);

    if (!want->blob) {
        cr_assert_null(got->blob, "%s.blob: got %zu bytes, want none", where,
                       got->blob_len);
    } else {
        cr_assert_not_null(got->blob, "%s.blob: got none, want %zu bytes",
                           where, want->blob_len);
        CHECK_U(blob_len);
        for (size_t i = 0; i < want->blob_len; i++)
            cr_assert_eq(got->blob[i], want->blob[i],
                         "%s.blob[%zu]: got 0x%02x, want 0x%02x", where, i,
                         got->blob[i], want->blob[i]);
    }

    CHECK_U(nparams);
    for (size_t i = 0; i < want->nparams; i++) {
        snprintf(what, sizeof what, "%s.params[%zu].key", where, i);
        s_check_str(got->params[i].key, want->params[i].key, what);
        snprintf(what, sizeof what, "%s.params[%zu].val", where, i);
        s_check_str(got->params[i].val, want->params[i].val, what);
    }
    CHECK_U(ncounters);
    for (size_t i = 0; i < want->ncounters; i++) {
        snprintf(what, sizeof what, "%s.ctr[%zu].name", where, i);
        s_check_str(got->counters[i].name, want->counters[i].name, what);
        cr_assert_eq(got->counters[i].value, want->counters[i].value,
                     "%s.ctr[%zu].value: got %llu, want %llu", where, i,
                     (unsigned long long)got->counters[i].value,
                     (unsigned long long)want->counters[i].value);
    }
    CHECK_U(nitems);
    for (size_t i = 0; i < want->nitems; i++) {
        snprintf(what, sizeof what, "%s.items[%zu]", where, i);
        s_check_msg(&got->items[i], &want->items[i], what);
    }
}

static int s_key_eq(const msgpack_object *k, const char *s)
{
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(s) &&
           memcmp(k->via.str.ptr, s, k->via.str.size) == 0;
}

/* Checks that map o holds "v", "t" and exactly the space-separated keys,
 * each once. */
static void s_check_keys(const msgpack_object *o, const char *keys,
                         const char *where)
{
    cr_assert_eq(o->type, MSGPACK_OBJECT_MAP, "%s: not a map on the wire",
                 where);
    char want[512], *save = NULL;
    snprintf(want, sizeof want, "v t %s", keys);
    size_t nwant = 0;
    for (char *k = strtok_r(want, " ", &save); k;
         k = strtok_r(NULL, " ", &save)) {
        size_t hits = 0;
        for (uint32_t i = 0; i < o->via.map.size; i++)
            hits += (size_t)s_key_eq(&o->via.map.ptr[i].key, k);
        cr_assert_eq(hits, 1,
                     "%s: key '%s' is on the wire %zu times, want once", where,
                     k, hits);
        nwant++;
    }
    cr_assert_eq(o->via.map.size, nwant,
                 "%s: %u keys on the wire, want %zu (v t %s)", where,
                 (unsigned)o->via.map.size, nwant, keys);
}

static void s_check_wire(const char *data, size_t len, const rt_case_t *c)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    cr_assert_eq(msgpack_unpack_next(&up, data, len, &off),
                 MSGPACK_UNPACK_SUCCESS, "encoding does not unpack");
    cr_assert_eq(off, len, "encoding has %zu trailing bytes", len - off);
    const char *name = dmr_msg_type_name(c->type);
    s_check_keys(&up.data, c->keys, name);
    for (uint32_t i = 0; c->item_keys && i < up.data.via.map.size; i++) {
        const msgpack_object_kv *kv = &up.data.via.map.ptr[i];
        if (!s_key_eq(&kv->key, "items"))
            continue;
        cr_assert_eq(kv->val.type, MSGPACK_OBJECT_ARRAY,
                     "%s.items: not an array", name);
        for (uint32_t j = 0; j < kv->val.via.array.size; j++) {
            char where[64];
            snprintf(where, sizeof where, "%s.items[%u]", name, j);
            s_check_keys(&kv->val.via.array.ptr[j], c->item_keys, where);
        }
    }
    msgpack_unpacked_destroy(&up);
}

/* Encodes want, checks the wire keys, decodes into a block of exactly the
 * encoded length, compares field by field, and checks that re-encoding the
 * decoded message gives the same bytes. */
static void s_round_trip(const dmr_msg_t *want, const rt_case_t *c)
{
    const char *name = dmr_msg_type_name(want->type);
    dmr_buf_t enc = DMR_BUF_INIT, again = DMR_BUF_INIT;
    int rc = dmr_msg_encode(want, &enc);
    cr_assert_eq(rc, 0, "encoding %s: %s", name, dmr_strerror(rc));
    if (c)
        s_check_wire(enc.data, enc.len, c);

    char *exact = malloc(enc.len);
    cr_assert_not_null(exact);
    memcpy(exact, enc.data, enc.len);
    dmr_msg_t got;
    char err[256] = "";
    rc = dmr_msg_decode(exact, enc.len, &got, err, sizeof err);
    free(exact);
    cr_assert_eq(rc, 0, "decoding %s: %s (%s)", name, dmr_strerror(rc), err);
    s_check_msg(&got, want, name);

    rc = dmr_msg_encode(&got, &again);
    cr_assert_eq(rc, 0, "re-encoding %s: %s", name, dmr_strerror(rc));
    cr_assert_eq(again.len, enc.len, "re-encoded %s: %zu bytes, want %zu", name,
                 again.len, enc.len);
    cr_assert(memcmp(again.data, enc.data, enc.len) == 0,
              "re-encoded %s differs from the first encoding", name);
    dmr_msg_clear(&got);
    dmr_buf_free(&enc);
    dmr_buf_free(&again);
}

static void s_round_trip_case(dmr_msg_type_t type)
{
    for (size_t i = 0; i < NCASES; i++) {
        if (s_cases[i].type == type) {
            dmr_msg_t m;
            s_cases[i].fill(&m);
            s_round_trip(&m, &s_cases[i]);
            return;
        }
    }
    cr_assert_fail("no round-trip case for %s", dmr_msg_type_name(type));
}

/* ---------------------------------------------------------- round trips */

Test(proto, every_message_type_has_a_round_trip_case, .timeout = 10)
{
    int seen[DMR_MSG_TYPE_COUNT] = {0};
    for (size_t i = 0; i < NCASES; i++) {
        dmr_msg_t m;
        s_cases[i].fill(&m);
        cr_assert_eq(m.type, (uint32_t)s_cases[i].type);
        seen[m.type] = 1;
        for (size_t j = 0; j < m.nitems; j++)
            seen[m.items[j].type] = 1;
    }
    for (uint32_t t = 1; t < DMR_MSG_TYPE_COUNT; t++)
        cr_assert(seen[t], "message type %u (%s) has no round-trip case", t,
                  dmr_msg_type_name(t));
}

/* Every case of the table, including the chunk-store and journal types
 * that have no test of their own. */
Test(proto, every_case_round_trips, .timeout = 10)
{
    for (size_t i = 0; i < NCASES; i++) {
        dmr_msg_t m;
        s_cases[i].fill(&m);
        s_round_trip(&m, &s_cases[i]);
    }
}

Test(proto, register_round_trips_every_field, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_REGISTER);
}

Test(proto, heartbeat_round_trips_every_field_with_attempt_items, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_HEARTBEAT);
}

Test(proto, task_done_round_trips_every_field_with_counters, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_TASK_DONE);
}

Test(proto, job_fetch_round_trips_every_field, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_JOB_FETCH);
}

Test(proto, welcome_round_trips_every_field, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_WELCOME);
}

Test(proto, task_round_trips_every_field_with_params_and_map_locations,
     .timeout = 10)
{
    s_round_trip_case(DMR_MSG_TASK);
}

Test(proto, map_query_round_trips_every_field, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_MAP_QUERY);
}

Test(proto, map_locs_round_trips_with_and_without_map_locations, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_MAP_LOCS);
    /* A reply to an attempt that no longer runs lists nothing. */
    dmr_msg_t m;
    s_fill_map_locs(&m);
    m.state = "killed";
    m.items = NULL;
    m.nitems = 0;
    s_round_trip(&m, NULL);
}

Test(proto, job_blob_round_trips_a_bin32_blob_with_zero_bytes, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_JOB_BLOB);
}

Test(proto, cancel_round_trips_every_field, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_CANCEL);
}

Test(proto, submit_round_trips_every_field_with_file_items, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_SUBMIT);
}

Test(proto, status_round_trips_with_and_without_a_job, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_STATUS);
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_STATUS);
    s_round_trip(&m, NULL);
}

Test(proto, jobs_and_workers_round_trip_with_no_fields, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_JOBS);
    s_round_trip_case(DMR_MSG_WORKERS);
}

Test(proto, submitted_round_trips_every_field, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_SUBMITTED);
}

Test(proto, job_info_round_trips_at_top_level_with_attempt_items, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_JOB_INFO);
}

Test(proto, job_list_round_trips_job_info_items, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_JOB_LIST);
}

Test(proto, worker_list_round_trips_worker_info_items, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_WORKER_LIST);
}

Test(proto, error_round_trips_every_field, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_ERROR);
}

Test(proto, fetch_round_trips_every_field, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_FETCH);
}

Test(proto, fetch_data_round_trips_a_bin16_blob_with_zero_bytes, .timeout = 10)
{
    s_round_trip_case(DMR_MSG_FETCH_DATA);
}

Test(proto, an_empty_blob_round_trips_as_present, .timeout = 10)
{
    dmr_msg_t m;
    s_fill_fetch_data(&m);
    m.blob = (const uint8_t *)"";
    m.blob_len = 0;
    s_round_trip(&m, NULL);

    /* A required blob may be empty: it is still sent and accepted. */
    s_fill_submit(&m);
    m.blob = (const uint8_t *)"";
    m.blob_len = 0;
    s_round_trip(&m, NULL);
}

Test(proto, empty_strings_round_trip_as_empty_not_absent, .timeout = 10)
{
    dmr_msg_t m;
    s_fill_attempt_info(&m, 1);
    dmr_msg_t list;
    dmr_msg_init(&list, DMR_MSG_HEARTBEAT);
    list.wid = "";
    list.items = &m;
    list.nitems = 1;
    m.wid = "";
    m.state = "";
    m.error = "";
    s_round_trip(&list, NULL);
}

Test(proto, absent_optional_fields_stay_absent, .timeout = 10)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_TASK_DONE);
    m.wid = "w1";
    m.job = 1;
    m.status = 0;
    s_round_trip(&m,
                 &(rt_case_t){DMR_MSG_TASK_DONE, NULL,
                              "wid job kind task att status start end", NULL});

    dmr_msg_t items[2];
    s_fill_attempt_info(&items[0], 1);
    s_fill_attempt_info(&items[1], 2);
    items[1].error = NULL;
    dmr_msg_t info;
    s_fill_job_info_item(&info, 1);
    info.error = NULL;
    info.output = NULL;
    info.counters = NULL;
    info.ncounters = 0;
    info.items = items;
    info.nitems = 2;
    s_round_trip(&info, NULL);
}

Test(proto, integers_at_both_extremes_round_trip, .timeout = 10)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_ERROR);
    m.error = "e";
    m.status = INT64_MAX;
    m.job = UINT64_MAX;
    m.task = UINT32_MAX;
    m.attempt = 0;
    m.part = 1;
    m.offset = 0;
    s_round_trip(&m, NULL);
    m.status = INT64_MIN;
    m.job = 0;
    m.task = 0;
    m.attempt = UINT32_MAX;
    m.offset = UINT64_MAX;
    s_round_trip(&m, NULL);
    /* Each MessagePack integer width, both signs. */
    const int64_t widths[] = {
        0,         1,        -1,     31,     -32,       127,
        128,       -33,      -128,   -129,   255,       256,
        65535,     65536,    -32768, -32769, 1ll << 32, -(1ll << 31) - 1,
        INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof widths / sizeof *widths; i++) {
        m.status = widths[i];
        m.job = (uint64_t)widths[i];
        s_round_trip(&m, NULL);
    }
}

/* ---------------------------------------------------- encoder refusals */

/* Encodes m into a buffer already holding a prefix and expects refusal
 * with the prefix untouched. */
static void s_refuse(const dmr_msg_t *m, const char *why)
{
    dmr_buf_t b = DMR_BUF_INIT;
    dmr_buf_append(&b, "prefix", 6);
    int rc = dmr_msg_encode(m, &b);
    cr_assert_eq(rc, DMR_EINVAL,
                 "%s: encoding %s returned %d (%s), want DMR_EINVAL", why,
                 dmr_msg_type_name(m->type), rc, dmr_strerror(rc));
    cr_assert_eq(b.len, 6, "%s: a refused encoding left %zu bytes behind", why,
                 b.len - 6);
    cr_assert(memcmp(b.data, "prefix", 6) == 0, "%s: prefix overwritten", why);
    dmr_buf_free(&b);
}

Test(proto, encoding_refuses_a_message_missing_a_required_field, .timeout = 10)
{
    dmr_msg_t m;
    s_fill_heartbeat(&m);
    m.wid = NULL;
    s_refuse(&m, "HEARTBEAT without wid");
    s_fill_submit(&m);
    m.blob = NULL;
    s_refuse(&m, "SUBMIT without blob");
    s_fill_error(&m);
    m.error = NULL;
    s_refuse(&m, "ERROR without err");
    s_fill_job_blob(&m);
    m.hash = NULL;
    s_refuse(&m, "JOB_BLOB without hash");
    /* A missing field in a list item refuses the whole message. */
    s_fill_worker_list(&m);
    m.items[2].host = NULL;
    s_refuse(&m, "WORKER_INFO item without host");
}

Test(proto, encoding_refuses_an_item_type_at_top_level, .timeout = 10)
{
    dmr_msg_t m;
    s_fill_file_info(&m, 1);
    s_refuse(&m, "FILE_INFO");
    s_fill_map_loc(&m, 1);
    s_refuse(&m, "MAP_LOC");
    s_fill_attempt_info(&m, 1);
    s_refuse(&m, "ATTEMPT_INFO");
    s_fill_worker_info(&m, 1);
    s_refuse(&m, "WORKER_INFO");
}

Test(proto, encoding_refuses_a_message_that_is_not_an_item_inside_a_list,
     .timeout = 10)
{
    dmr_msg_t item, m;
    s_fill_cancel(&item);
    dmr_msg_init(&m, DMR_MSG_JOB_LIST);
    m.items = &item;
    m.nitems = 1;
    s_refuse(&m, "CANCEL inside JOB_LIST");
}

Test(proto, encoding_refuses_a_list_inside_a_list_item, .timeout = 10)
{
    dmr_msg_t m;
    s_fill_job_list(&m);
    dmr_msg_t attempt;
    s_fill_attempt_info(&attempt, 1);
    m.items[1].items = &attempt;
    m.items[1].nitems = 1;
    s_refuse(&m, "JOB_INFO item with items");
}

Test(proto, encoding_refuses_unknown_types, .timeout = 10)
{
    dmr_msg_t m;
    dmr_msg_init(&m, DMR_MSG_NONE);
    s_refuse(&m, "type 0");
    dmr_msg_init(&m, DMR_MSG_TYPE_COUNT);
    s_refuse(&m, "type count");
    m.type = 999;
    s_refuse(&m, "type 999");
}

Test(proto, encoding_refuses_a_string_over_its_bound, .timeout = 10)
{
    static const struct {
        void (*fill)(dmr_msg_t *);
        size_t off;
        size_t bound;
    } cases[] = {
        {s_fill_heartbeat, offsetof(dmr_msg_t, wid), 256},
        {s_fill_register, offsetof(dmr_msg_t, host), 256},
        {s_fill_register, offsetof(dmr_msg_t, endpoint), 1024},
        {s_fill_submit, offsetof(dmr_msg_t, name), 4096},
        {s_fill_job_fetch, offsetof(dmr_msg_t, hash), 64},
        {s_fill_task, offsetof(dmr_msg_t, path), 4096},
        {s_fill_job_info, offsetof(dmr_msg_t, state), 64},
        {s_fill_error, offsetof(dmr_msg_t, error), 65536},
        {s_fill_submit, offsetof(dmr_msg_t, output), 4096},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        dmr_msg_t m;
        cases[i].fill(&m);
        const char **field = (const char **)((char *)&m + cases[i].off);
        char why[64];
        /* At the bound it goes, one byte over it does not. */
        *field = s_long(cases[i].bound);
        dmr_buf_t b = DMR_BUF_INIT;
        int rc = dmr_msg_encode(&m, &b);
        cr_assert_eq(rc, 0, "case %zu: a %zu-byte string at its bound: %s", i,
                     cases[i].bound, dmr_strerror(rc));
        dmr_buf_free(&b);
        *field = s_long(cases[i].bound + 1);
        snprintf(why, sizeof why, "case %zu: %zu bytes", i, cases[i].bound + 1);
        s_refuse(&m, why);
    }
    /* Also inside a list item. */
    dmr_msg_t m;
    s_fill_task(&m);
    m.items[2].wid = s_long(257);
    s_refuse(&m, "MAP_LOC item wid of 257 bytes");
}

Test(proto, encoding_refuses_a_blob_over_its_bound, .timeout = 30)
{
    uint8_t *big = calloc(1, DMR_MSG_BLOB_MAX + 1);
    cr_assert_not_null(big);
    dmr_msg_t m;
    s_fill_job_blob(&m);
    m.blob = big;
    m.blob_len = DMR_MSG_BLOB_MAX + 1;
    s_refuse(&m, "blob one byte over DMR_MSG_BLOB_MAX");
    free(big);
}

/* ------------------------------------------------ hand-packed bodies */

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} body_t;

/* Starts a map of n entries; with type != 0 its first two are "v" 1 and
 * "t" type (counted in n). */
static void s_begin(body_t *b, uint32_t n, uint64_t type)
{
    msgpack_sbuffer_init(&b->sb);
    msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&b->pk, n);
    if (type) {
        msgpack_pack_str_with_body(&b->pk, "v", 1);
        msgpack_pack_uint64(&b->pk, DMR_PROTO_VERSION);
        msgpack_pack_str_with_body(&b->pk, "t", 1);
        msgpack_pack_uint64(&b->pk, type);
    }
}

static void s_key(body_t *b, const char *k)
{
    msgpack_pack_str_with_body(&b->pk, k, strlen(k));
}

static void s_put_u(body_t *b, const char *k, uint64_t v)
{
    s_key(b, k);
    msgpack_pack_uint64(&b->pk, v);
}

static void s_put_i(body_t *b, const char *k, int64_t v)
{
    s_key(b, k);
    msgpack_pack_int64(&b->pk, v);
}

static void s_put_s(body_t *b, const char *k, const char *v)
{
    s_key(b, k);
    msgpack_pack_str_with_body(&b->pk, v, strlen(v));
}

/* The fields of a valid JOB_INFO (7 entries after v and t). */
static void s_put_job_info_fields(body_t *b)
{
    s_put_u(b, "job", 1);
    s_put_s(b, "name", "wc");
    s_put_s(b, "state", "running");
    s_put_u(b, "nmap", 2);
    s_put_u(b, "nred", 1);
    s_put_u(b, "mdone", 0);
    s_put_u(b, "rdone", 0);
}

/* The fields of a valid SUBMIT (5 entries after v and t). */
static void s_put_submit_fields(body_t *b)
{
    s_put_s(b, "name", "wc");
    s_put_s(b, "hash", "ab");
    s_key(b, "blob");
    msgpack_pack_bin_with_body(&b->pk, "\0x", 2);
    s_put_s(b, "out", "/o");
    s_put_u(b, "nred", 1);
}

/* Decodes data from a block of exactly len bytes. */
static int s_decode_exact(const void *data, size_t len, dmr_msg_t *m, char *err,
                          size_t errlen)
{
    void *copy = malloc(len ? len : 1);
    cr_assert_not_null(copy);
    if (len)
        memcpy(copy, data, len);
    int rc = dmr_msg_decode(copy, len, m, err, errlen);
    free(copy);
    return rc;
}

/* Expects the body to be rejected with DMR_EPROTO, err mentioning each of
 * the non-NULL needles, and m left cleared. Frees the body. */
static void s_reject(body_t *b, const char *needle, const char *needle2)
{
    dmr_msg_t m, zero;
    memset(&zero, 0, sizeof zero);
    char err[512] = "";
    int rc = s_decode_exact(b->sb.data, b->sb.size, &m, err, sizeof err);
    msgpack_sbuffer_destroy(&b->sb);
    cr_assert_eq(rc, DMR_EPROTO,
                 "decode returned %d (%s), want DMR_EPROTO; err \"%s\"", rc,
                 dmr_strerror(rc), err);
    cr_assert(err[0] != '\0', "a rejection left err empty");
    cr_assert(!needle || strstr(err, needle),
              "err \"%s\" does not mention \"%s\"", err, needle);
    cr_assert(!needle2 || strstr(err, needle2),
              "err \"%s\" does not mention \"%s\"", err, needle2);
    cr_assert(memcmp(&m, &zero, sizeof m) == 0,
              "a rejected message is not cleared");
}

/* Expects the body to decode; m must be cleared by the caller. */
static void s_accept(body_t *b, dmr_msg_t *m)
{
    char err[512] = "";
    int rc = s_decode_exact(b->sb.data, b->sb.size, m, err, sizeof err);
    msgpack_sbuffer_destroy(&b->sb);
    cr_assert_eq(rc, 0, "decode returned %d (%s): %s", rc, dmr_strerror(rc),
                 err);
}

/* ---------------------------------------------------- decoder rejects */

Test(proto, decoding_rejects_a_missing_required_field, .timeout = 10)
{
    body_t b;
    s_begin(&b, 3, DMR_MSG_HEARTBEAT);
    s_put_s(&b, "wid", "w1");
    s_reject(&b, "'inc'", "missing");

    s_begin(&b, 2 + 4, DMR_MSG_SUBMIT); /* no blob */
    s_put_s(&b, "name", "wc");
    s_put_s(&b, "hash", "ab");
    s_put_s(&b, "out", "/o");
    s_put_u(&b, "nred", 1);
    s_reject(&b, "'blob'", "missing");
}

Test(proto, decoding_rejects_a_string_where_an_unsigned_integer_belongs,
     .timeout = 10)
{
    body_t b;
    s_begin(&b, 4, DMR_MSG_HEARTBEAT);
    s_put_s(&b, "wid", "w1");
    s_put_s(&b, "inc", "7");
    s_reject(&b, "'inc'", "unsigned");
}

Test(proto, decoding_rejects_a_negative_number_for_an_unsigned_field,
     .timeout = 10)
{
    body_t b;
    s_begin(&b, 3, DMR_MSG_CANCEL); /* u64 */
    s_put_i(&b, "job", -1);
    s_reject(&b, "'job'", "unsigned");

    s_begin(&b, 8, DMR_MSG_FETCH); /* u32 */
    s_put_u(&b, "job", 1);
    s_put_u(&b, "task", 2);
    s_put_u(&b, "att", 0);
    s_put_i(&b, "part", -3);
    s_put_u(&b, "off", 0);
    s_put_u(&b, "len", 10);
    s_reject(&b, "'part'", "unsigned");
}

Test(proto, decoding_rejects_a_u32_field_above_uint32_max, .timeout = 10)
{
    body_t b;
    s_begin(&b, 5, DMR_MSG_WELCOME);
    s_put_s(&b, "wid", "w1");
    s_put_u(&b, "inc", 1);
    s_put_u(&b, "ival", (uint64_t)UINT32_MAX + 1);
    s_reject(&b, "'ival'", "32-bit");

    dmr_msg_t m;
    s_begin(&b, 5, DMR_MSG_WELCOME);
    s_put_s(&b, "wid", "w1");
    s_put_u(&b, "inc", 1);
    s_put_u(&b, "ival", UINT32_MAX);
    s_accept(&b, &m);
    cr_assert_eq(m.interval, UINT32_MAX, "ival: got %u, want %u", m.interval,
                 UINT32_MAX);
    dmr_msg_clear(&m);
}

Test(proto, decoding_rejects_an_i64_field_above_int64_max, .timeout = 10)
{
    body_t b;
    s_begin(&b, 6, DMR_MSG_REGISTER);
    s_put_s(&b, "host", "h");
    s_put_u(&b, "pid", (uint64_t)INT64_MAX + 1);
    s_put_s(&b, "ep", "tcp://h:1");
    s_put_u(&b, "slots", 1);
    s_reject(&b, "'pid'", "64-bit");
}

Test(proto, decoding_rejects_a_string_where_a_signed_integer_belongs,
     .timeout = 10)
{
    body_t b;
    s_begin(&b, 4, DMR_MSG_ERROR);
    s_put_s(&b, "status", "-1");
    s_put_s(&b, "err", "e");
    s_reject(&b, "'status'", "64-bit");
}

Test(proto, decoding_rejects_a_float_nil_or_bool_for_an_integer, .timeout = 10)
{
    for (int kind = 0; kind < 3; kind++) {
        body_t b;
        s_begin(&b, 4, DMR_MSG_HEARTBEAT);
        s_put_s(&b, "wid", "w1");
        s_key(&b, "inc");
        if (kind == 0)
            msgpack_pack_double(&b.pk, 1.0);
        else if (kind == 1)
            msgpack_pack_nil(&b.pk);
        else
            msgpack_pack_true(&b.pk);
        s_reject(&b, "'inc'", NULL);
    }
}

Test(proto, decoding_rejects_a_number_where_a_string_belongs, .timeout = 10)
{
    body_t b;
    s_begin(&b, 4, DMR_MSG_HEARTBEAT);
    s_put_u(&b, "wid", 5);
    s_put_u(&b, "inc", 1);
    s_reject(&b, "'wid'", "string");
}

Test(proto, decoding_rejects_binary_where_a_string_belongs_and_back,
     .timeout = 10)
{
    body_t b;
    s_begin(&b, 4, DMR_MSG_HEARTBEAT);
    s_key(&b, "wid");
    msgpack_pack_bin_with_body(&b.pk, "w1", 2);
    s_put_u(&b, "inc", 1);
    s_reject(&b, "'wid'", "string");

    s_begin(&b, 6, DMR_MSG_JOB_BLOB);
    s_put_s(&b, "hash", "ab");
    s_put_u(&b, "off", 0);
    s_put_u(&b, "total", 3);
    s_put_s(&b, "blob", "abc");
    s_reject(&b, "'blob'", "binary");
}

Test(proto, decoding_rejects_an_array_where_a_map_belongs, .timeout = 10)
{
    body_t b;
    s_begin(&b, 2 + 5 + 1, DMR_MSG_SUBMIT);
    s_put_submit_fields(&b);
    s_key(&b, "params");
    msgpack_pack_array(&b.pk, 2);
    msgpack_pack_str_with_body(&b.pk, "k", 1);
    msgpack_pack_str_with_body(&b.pk, "v", 1);
    s_reject(&b, "'params'", "map");

    s_begin(&b, 2 + 6 + 1, DMR_MSG_TASK_DONE);
    s_put_s(&b, "wid", "w1");
    s_put_u(&b, "job", 1);
    s_put_u(&b, "kind", 0);
    s_put_u(&b, "task", 0);
    s_put_u(&b, "att", 0);
    s_put_i(&b, "status", 0);
    s_key(&b, "ctr");
    msgpack_pack_array(&b.pk, 0);
    s_reject(&b, "'ctr'", "map");
}

Test(proto, decoding_rejects_a_map_where_the_item_array_belongs, .timeout = 10)
{
    body_t b;
    s_begin(&b, 3, DMR_MSG_JOB_LIST);
    s_key(&b, "items");
    msgpack_pack_map(&b.pk, 0);
    s_reject(&b, "'items'", "array");
}

Test(proto, decoding_rejects_bad_params_and_counters, .timeout = 10)
{
    body_t b;
    /* A params value that is not a string. */
    s_begin(&b, 2 + 5 + 1, DMR_MSG_SUBMIT);
    s_put_submit_fields(&b);
    s_key(&b, "params");
    msgpack_pack_map(&b.pk, 1);
    s_put_u(&b, "k", 1);
    s_reject(&b, "'params'", "values");

    /* A params key that is not a string. */
    s_begin(&b, 2 + 5 + 1, DMR_MSG_SUBMIT);
    s_put_submit_fields(&b);
    s_key(&b, "params");
    msgpack_pack_map(&b.pk, 1);
    msgpack_pack_uint64(&b.pk, 1);
    msgpack_pack_str_with_body(&b.pk, "v", 1);
    s_reject(&b, "'params'", "keys");

    /* A negative counter. */
    s_begin(&b, 2 + 6 + 1, DMR_MSG_TASK_DONE);
    s_put_s(&b, "wid", "w1");
    s_put_u(&b, "job", 1);
    s_put_u(&b, "kind", 0);
    s_put_u(&b, "task", 0);
    s_put_u(&b, "att", 0);
    s_put_i(&b, "status", 0);
    s_key(&b, "ctr");
    msgpack_pack_map(&b.pk, 2);
    s_put_u(&b, "ok", 1);
    s_put_i(&b, "bad", -1);
    s_reject(&b, "'ctr'", "unsigned");
    s_assert_no_leaks();
}

Test(proto, decoding_rejects_a_wrong_protocol_version, .timeout = 10)
{
    body_t b;
    s_begin(&b, 2, 0);
    s_put_u(&b, "v", DMR_PROTO_VERSION + 1);
    s_put_u(&b, "t", DMR_MSG_JOBS);
    s_reject(&b, "version 2", NULL);

    s_begin(&b, 2, 0);
    s_put_u(&b, "v", 0);
    s_put_u(&b, "t", DMR_MSG_JOBS);
    s_reject(&b, "version 0", NULL);

    s_begin(&b, 1, 0); /* no version at all */
    s_put_u(&b, "t", DMR_MSG_JOBS);
    s_reject(&b, "version", NULL);

    s_begin(&b, 2, 0);
    s_put_s(&b, "v", "1");
    s_put_u(&b, "t", DMR_MSG_JOBS);
    s_reject(&b, "'v'", NULL);
}

Test(proto, decoding_rejects_an_unknown_message_type, .timeout = 10)
{
    const uint64_t bad[] = {0, DMR_MSG_TYPE_COUNT, 99, UINT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        body_t b;
        char want[48];
        s_begin(&b, 2, 0);
        s_put_u(&b, "v", DMR_PROTO_VERSION);
        s_put_u(&b, "t", bad[i]);
        snprintf(want, sizeof want, "type %llu", (unsigned long long)bad[i]);
        s_reject(&b, want, NULL);
    }
    body_t b;
    s_begin(&b, 2, 0);
    s_put_u(&b, "v", DMR_PROTO_VERSION);
    s_put_i(&b, "t", -1);
    s_reject(&b, "'t'", NULL);

    s_begin(&b, 1, 0); /* no type at all */
    s_put_u(&b, "v", DMR_PROTO_VERSION);
    s_reject(&b, "type", NULL);
}

Test(proto, decoding_rejects_a_body_that_is_not_a_map, .timeout = 10)
{
    for (int kind = 0; kind < 5; kind++) {
        body_t b;
        msgpack_sbuffer_init(&b.sb);
        msgpack_packer_init(&b.pk, &b.sb, msgpack_sbuffer_write);
        switch (kind) {
        case 0:
            msgpack_pack_array(&b.pk, 2);
            msgpack_pack_uint64(&b.pk, 1);
            msgpack_pack_uint64(&b.pk, DMR_MSG_JOBS);
            break;
        case 1: msgpack_pack_str_with_body(&b.pk, "hello", 5); break;
        case 2: msgpack_pack_uint64(&b.pk, 5); break;
        case 3: msgpack_pack_nil(&b.pk); break;
        case 4: msgpack_pack_bin_with_body(&b.pk, "\x81", 1); break;
        }
        s_reject(&b, "not a map", NULL);
    }
}

Test(proto, decoding_rejects_a_duplicate_field, .timeout = 10)
{
    body_t b;
    s_begin(&b, 4, DMR_MSG_CANCEL);
    s_put_u(&b, "job", 1);
    s_put_u(&b, "job", 2);
    s_reject(&b, "'job'", "twice");

    s_begin(&b, 5, DMR_MSG_HEARTBEAT);
    s_put_s(&b, "wid", "w1");
    s_put_u(&b, "inc", 1);
    s_put_s(&b, "wid", "w2");
    s_reject(&b, "'wid'", "twice");
}

/* Which "v" or "t" counts must not depend on the decoder: a second one is
 * as bad as any other duplicate. */
Test(proto, decoding_rejects_a_duplicate_version_or_type, .timeout = 10)
{
    body_t b;
    s_begin(&b, 3, 0);
    s_put_u(&b, "v", DMR_PROTO_VERSION);
    s_put_u(&b, "t", DMR_MSG_STATUS);
    s_put_u(&b, "t", DMR_MSG_WORKERS);
    s_reject(&b, "'t'", "twice");

    s_begin(&b, 3, 0);
    s_put_u(&b, "v", DMR_PROTO_VERSION + 1);
    s_put_u(&b, "v", DMR_PROTO_VERSION);
    s_put_u(&b, "t", DMR_MSG_JOBS);
    s_reject(&b, "'v'", "twice");
}

Test(proto, decoding_rejects_a_list_inside_a_list_item, .timeout = 10)
{
    body_t b;
    s_begin(&b, 3, DMR_MSG_JOB_LIST);
    s_key(&b, "items");
    msgpack_pack_array(&b.pk, 1);
    msgpack_pack_map(&b.pk, 2 + 7 + 1);
    s_put_u(&b, "v", DMR_PROTO_VERSION);
    s_put_u(&b, "t", DMR_MSG_JOB_INFO);
    s_put_job_info_fields(&b);
    s_key(&b, "items");
    msgpack_pack_array(&b.pk, 1);
    msgpack_pack_map(&b.pk, 2);
    s_put_u(&b, "v", DMR_PROTO_VERSION);
    s_put_u(&b, "t", DMR_MSG_JOBS);
    s_reject(&b, "'items'", "nest");
    s_assert_no_leaks();
}

Test(proto, decoding_rejects_a_message_that_is_not_an_item_inside_a_list,
     .timeout = 10)
{
    body_t b;
    s_begin(&b, 3, DMR_MSG_JOB_LIST);
    s_key(&b, "items");
    msgpack_pack_array(&b.pk, 1);
    msgpack_pack_map(&b.pk, 3);
    s_put_u(&b, "v", DMR_PROTO_VERSION);
    s_put_u(&b, "t", DMR_MSG_CANCEL);
    s_put_u(&b, "job", 1);
    s_reject(&b, "CANCEL", "list item");
    s_assert_no_leaks();
}

Test(proto, decoding_rejects_a_list_item_that_is_not_a_map, .timeout = 10)
{
    body_t b;
    s_begin(&b, 3, DMR_MSG_WORKER_LIST);
    s_key(&b, "items");
    msgpack_pack_array(&b.pk, 1);
    msgpack_pack_uint64(&b.pk, 5);
    s_reject(&b, "not a map", NULL);
}

/* The first item decodes some strings before the second item fails; under
 * ASan a leak of either shows. */
Test(proto, decoding_a_bad_list_item_leaks_nothing, .timeout = 10)
{
    body_t b;
    s_begin(&b, 3, DMR_MSG_JOB_LIST);
    s_key(&b, "items");
    msgpack_pack_array(&b.pk, 2);
    msgpack_pack_map(&b.pk, 2 + 7);
    s_put_u(&b, "v", DMR_PROTO_VERSION);
    s_put_u(&b, "t", DMR_MSG_JOB_INFO);
    s_put_job_info_fields(&b);
    msgpack_pack_map(&b.pk, 2 + 3);
    s_put_u(&b, "v", DMR_PROTO_VERSION);
    s_put_u(&b, "t", DMR_MSG_JOB_INFO);
    s_put_s(&b, "name", "second");
    s_put_s(&b, "err", "allocated before the failure");
    s_put_u(&b, "job", 2);
    s_reject(&b, "'state'", "missing");
    s_assert_no_leaks();
}

Test(proto, decoding_rejects_an_item_type_at_top_level, .timeout = 10)
{
    body_t b;
    s_begin(&b, 5, DMR_MSG_FILE_INFO);
    s_put_s(&b, "path", "/in");
    s_put_s(&b, "name", "in");
    s_put_u(&b, "total", 1);
    s_reject(&b, "FILE_INFO", "list item");

    /* JOB_INFO is both an item and a reply of its own. */
    dmr_msg_t m;
    s_begin(&b, 2 + 7, DMR_MSG_JOB_INFO);
    s_put_job_info_fields(&b);
    s_accept(&b, &m);
    cr_assert_eq(m.type, DMR_MSG_JOB_INFO);
    dmr_msg_clear(&m);
}

Test(proto, decoding_rejects_trailing_bytes, .timeout = 10)
{
    body_t b;
    s_begin(&b, 3, DMR_MSG_CANCEL);
    s_put_u(&b, "job", 1);
    msgpack_pack_nil(&b.pk);
    s_reject(&b, "well-formed", NULL);

    /* Two whole messages in one body. */
    s_begin(&b, 2, DMR_MSG_JOBS);
    msgpack_pack_map(&b.pk, 2);
    s_put_u(&b, "v", DMR_PROTO_VERSION);
    s_put_u(&b, "t", DMR_MSG_JOBS);
    s_reject(&b, "well-formed", NULL);
}

Test(proto, decoding_rejects_a_string_holding_a_nul_byte, .timeout = 10)
{
    body_t b;
    s_begin(&b, 4, DMR_MSG_HEARTBEAT);
    s_key(&b, "wid");
    msgpack_pack_str_with_body(&b.pk, "w\0x", 3);
    s_put_u(&b, "inc", 1);
    s_reject(&b, "'wid'", "NUL");

    s_begin(&b, 2 + 5 + 1, DMR_MSG_SUBMIT);
    s_put_submit_fields(&b);
    s_key(&b, "params");
    msgpack_pack_map(&b.pk, 1);
    msgpack_pack_str_with_body(&b.pk, "k", 1);
    msgpack_pack_str_with_body(&b.pk, "v\0", 2);
    s_reject(&b, "'params'", NULL);

    s_begin(&b, 2 + 5 + 1, DMR_MSG_SUBMIT);
    s_put_submit_fields(&b);
    s_key(&b, "params");
    msgpack_pack_map(&b.pk, 1);
    msgpack_pack_str_with_body(&b.pk, "\0k", 2);
    msgpack_pack_str_with_body(&b.pk, "v", 1);
    s_reject(&b, "'params'", NULL);
    s_assert_no_leaks();
}

Test(proto, decoding_rejects_a_string_over_its_bound, .timeout = 10)
{
    body_t b;
    s_begin(&b, 4, DMR_MSG_JOB_FETCH);
    s_put_s(&b, "hash", s_long(65));
    s_put_u(&b, "off", 0);
    s_reject(&b, "'hash'", "bound");

    s_begin(&b, 5, DMR_MSG_ERROR);
    s_put_i(&b, "status", -1);
    s_put_s(&b, "err", s_long(65537));
    s_put_u(&b, "job", 1);
    s_reject(&b, "'err'", "bound");

    dmr_msg_t m;
    s_begin(&b, 4, DMR_MSG_JOB_FETCH);
    s_put_s(&b, "hash", s_long(64));
    s_put_u(&b, "off", 0);
    s_accept(&b, &m);
    cr_assert_eq(strlen(m.hash), 64);
    dmr_msg_clear(&m);
}

Test(proto, decoding_rejects_a_key_that_is_not_a_string, .timeout = 10)
{
    body_t b;
    s_begin(&b, 4, DMR_MSG_CANCEL);
    s_put_u(&b, "job", 1);
    msgpack_pack_uint64(&b.pk, 7);
    msgpack_pack_str_with_body(&b.pk, "x", 1);
    s_reject(&b, "key", NULL);
}

Test(proto, decoding_rejects_empty_and_unparsable_bodies, .timeout = 10)
{
    dmr_msg_t m;
    char err[256] = "";
    cr_assert_eq(dmr_msg_decode("", 0, &m, err, sizeof err), DMR_EPROTO);
    cr_assert(err[0], "an empty body left err empty");
    /* 0xc1 is never used in MessagePack. */
    cr_assert_eq(s_decode_exact("\xc1", 1, &m, err, sizeof err), DMR_EPROTO);
    cr_assert_eq(s_decode_exact("\x81\xc1\xc0", 3, &m, err, sizeof err),
                 DMR_EPROTO);
    /* No error buffer is fine too. */
    cr_assert_eq(s_decode_exact("\xc1", 1, &m, NULL, 0), DMR_EPROTO);
    cr_assert_eq(s_decode_exact("\x80", 1, &m, NULL, 0), DMR_EPROTO);
}

Test(proto, decoding_reports_a_body_over_the_limit_as_too_big, .timeout = 30)
{
    char *big = calloc(1, (size_t)DMR_MSG_MAX + 1);
    cr_assert_not_null(big);
    dmr_msg_t m;
    char err[256] = "";
    int rc = dmr_msg_decode(big, (size_t)DMR_MSG_MAX + 1, &m, err, sizeof err);
    free(big);
    cr_assert_eq(rc, DMR_ETOOBIG, "got %d (%s), want DMR_ETOOBIG", rc,
                 dmr_strerror(rc));
    cr_assert(strstr(err, "limit"), "err \"%s\"", err);
}

Test(proto, decoding_ignores_keys_the_type_does_not_know, .timeout = 10)
{
    body_t b;
    s_begin(&b, 6, DMR_MSG_CANCEL);
    s_put_u(&b, "job", 9);
    s_key(&b, "future");
    msgpack_pack_array(&b.pk, 2);
    msgpack_pack_nil(&b.pk);
    msgpack_pack_map(&b.pk, 1);
    s_put_s(&b, "a", "b");
    s_put_s(&b, "wid", "not a CANCEL field"); /* a field of other types */
    s_put_s(&b, "job2", "x");
    dmr_msg_t m;
    s_accept(&b, &m);
    cr_assert_eq(m.type, DMR_MSG_CANCEL);
    cr_assert_eq(m.job, 9);
    cr_assert_null(m.wid, "wid: got \"%s\", want NULL", m.wid);
    dmr_msg_clear(&m);
}

/* ------------------------------------------------------ robustness */

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;

static uint64_t s_rand(void)
{
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return s_rng * 0x2545f4914f6cdd1dull;
}

/* Decodes an arbitrary body: rejection must be DMR_EPROTO with a reason;
 * acceptance must give a message the encoder takes back. Returns rc. */
static int s_decode_any(const void *data, size_t len)
{
    dmr_msg_t m;
    char err[256] = "";
    int rc = s_decode_exact(data, len, &m, err, sizeof err);
    if (rc != 0) {
        cr_assert_eq(rc, DMR_EPROTO, "%zu-byte body: got %d (%s)", len, rc,
                     dmr_strerror(rc));
        cr_assert(err[0], "%zu-byte body: rejected without a reason", len);
        return rc;
    }
    dmr_buf_t b = DMR_BUF_INIT;
    int erc = dmr_msg_encode(&m, &b);
    cr_assert_eq(erc, 0, "a decoded %s does not re-encode: %s",
                 dmr_msg_type_name(m.type), dmr_strerror(erc));
    dmr_buf_free(&b);
    dmr_msg_clear(&m);
    return 0;
}

/* Small messages that between them use every MessagePack shape dmr sends:
 * fixstr, uint widths, negative ints, bin, params, counters, items. */
static void s_small(size_t which, dmr_buf_t *out)
{
    static dmr_kv_t params[] = {{"k", "v"}, {"split_mb", "8"}};
    static dmr_counter_t ctr[] = {{"recs", 300}, {"bytes", 70000}};
    dmr_msg_t m, items[2];
    switch (which) {
    case 0:
        dmr_msg_init(&m, DMR_MSG_SUBMIT);
        m.name = "wc";
        m.hash = "ab12";
        m.blob = (const uint8_t *)"\0\x91\0";
        m.blob_len = 3;
        m.output = "/o";
        m.nreduce = 2;
        m.params = params;
        m.nparams = 2;
        dmr_msg_init(&items[0], DMR_MSG_FILE_INFO);
        items[0].path = "/i";
        items[0].name = "i";
        items[0].total = 1000;
        m.items = items;
        m.nitems = 1;
        break;
    case 1:
        dmr_msg_init(&m, DMR_MSG_TASK_DONE);
        m.wid = "w1";
        m.job = 1;
        m.task = 70000;
        m.status = -7;
        m.error = "bad";
        m.counters = ctr;
        m.ncounters = 2;
        m.start_ms = 5;
        break;
    default:
        dmr_msg_init(&m, DMR_MSG_JOB_INFO);
        m.job = 3;
        m.name = "j";
        m.state = "done";
        dmr_msg_init(&items[0], DMR_MSG_ATTEMPT_INFO);
        items[0].wid = "w2";
        items[0].state = "ok";
        items[0].start_ms = -300;
        dmr_msg_init(&items[1], DMR_MSG_MAP_LOC);
        items[1].endpoint = "e";
        items[1].wid = "w3";
        m.items = items;
        m.nitems = 2;
        break;
    }
    int rc = dmr_msg_encode(&m, out);
    cr_assert_eq(rc, 0, "small message %zu: %s", which, dmr_strerror(rc));
}
#define NSMALL 3

Test(proto, every_truncation_of_a_valid_message_is_rejected, .timeout = 30)
{
    for (size_t w = 0; w < NSMALL; w++) {
        dmr_buf_t b = DMR_BUF_INIT;
        s_small(w, &b);
        for (size_t n = 0; n < b.len; n++) {
            dmr_msg_t m;
            char err[256] = "";
            int rc = s_decode_exact(b.data, n, &m, err, sizeof err);
            cr_assert_eq(rc, DMR_EPROTO,
                         "message %zu cut to %zu of %zu bytes: got %d (%s)", w,
                         n, b.len, rc, dmr_strerror(rc));
        }
        dmr_buf_free(&b);
    }
    s_assert_no_leaks();
}

Test(proto, every_single_byte_change_decodes_or_is_rejected, .timeout = 120)
{
    for (size_t w = 0; w < NSMALL; w++) {
        dmr_buf_t b = DMR_BUF_INIT;
        s_small(w, &b);
        unsigned char *p = (unsigned char *)b.data;
        size_t accepted = 0;
        for (size_t pos = 0; pos < b.len; pos++) {
            unsigned char orig = p[pos];
            for (int v = 0; v < 256; v++) {
                if (v == orig)
                    continue;
                p[pos] = (unsigned char)v;
                accepted += s_decode_any(p, b.len) == 0;
            }
            p[pos] = orig;
        }
        /* Changed string bytes and numbers still decode: both outcomes
         * were exercised. */
        cr_assert_gt(accepted, 0, "message %zu: no change was accepted", w);
        cr_assert_eq(s_decode_any(p, b.len), 0, "message %zu was damaged", w);
        dmr_buf_free(&b);
    }
    s_assert_no_leaks();
}

Test(proto, random_bytes_never_crash_the_decoder, .timeout = 120)
{
    unsigned char buf[200];
    for (int it = 0; it < 20000; it++) {
        size_t len = (size_t)(s_rand() % (sizeof buf + 1));
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)s_rand();
        /* Half the time, start like a message so the decoder gets past
         * the first byte. */
        if (len > 0 && it % 2)
            buf[0] = (unsigned char)(0x80 | (s_rand() % 16));
        s_decode_any(buf, len);
    }
    s_assert_no_leaks();
}

Test(proto, random_damage_to_valid_messages_never_crashes_the_decoder,
     .timeout = 120)
{
    dmr_buf_t small[NSMALL];
    for (size_t w = 0; w < NSMALL; w++) {
        small[w] = (dmr_buf_t)DMR_BUF_INIT;
        s_small(w, &small[w]);
    }
    unsigned char buf[512];
    for (int it = 0; it < 20000; it++) {
        const dmr_buf_t *src = &small[s_rand() % NSMALL];
        size_t len = src->len;
        memcpy(buf, src->data, len);
        int nchanges = 1 + (int)(s_rand() % 4);
        for (int c = 0; c < nchanges; c++)
            buf[s_rand() % len] = (unsigned char)s_rand();
        if (s_rand() % 4 == 0)
            len = (size_t)(s_rand() % (len + 1));
        s_decode_any(buf, len);
    }
    for (size_t w = 0; w < NSMALL; w++)
        dmr_buf_free(&small[w]);
    s_assert_no_leaks();
}

Test(proto, a_huge_declared_container_is_rejected_quickly, .timeout = 10)
{
    static const struct {
        const char *body;
        size_t len;
    } cases[] = {
        {"\xdd\xff\xff\xff\xff", 5},     /* array32 of 4G elements */
        {"\xdf\xff\xff\xff\xff", 5},     /* map32 of 4G pairs */
        {"\xdb\xff\xff\xff\xff", 5},     /* str32 of 4 GiB */
        {"\xc6\xff\xff\xff\xff", 5},     /* bin32 of 4 GiB */
        {"\xc9\xff\xff\xff\xff\x01", 6}, /* ext32 */
        {"\xdc\xff\xff", 3},             /* array16 */
        {"\xde\xff\xff", 3},             /* map16 */
        /* A valid start, then a huge array under an unknown key. */
        {"\x83\xa1v\x01\xa1t\x0b\xa1x\xdd\xff\xff\xff\xff", 14},
    };
    int64_t t0 = dmr_now_ms();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        dmr_msg_t m;
        char err[256] = "";
        int rc =
            s_decode_exact(cases[i].body, cases[i].len, &m, err, sizeof err);
        cr_assert_eq(rc, DMR_EPROTO, "case %zu: got %d (%s)", i, rc,
                     dmr_strerror(rc));
    }
    int64_t took = dmr_now_ms() - t0;
    cr_assert_lt(took, 500, "rejecting huge declared counts took %lld ms",
                 (long long)took);
}

Test(proto, deep_nesting_is_rejected_quickly, .timeout = 10)
{
    size_t depth = 1000000;
    unsigned char *body = malloc(depth + 1);
    cr_assert_not_null(body);
    memset(body, 0x91, depth); /* fixarray of one element, nested */
    body[depth] = 0x01;
    int64_t t0 = dmr_now_ms();
    cr_assert_eq(s_decode_any(body, depth + 1), DMR_EPROTO);
    /* The same under a key of a valid message. */
    static const unsigned char head[] = {0x83, 0xa1, 'v',  0x01, 0xa1,
                                         't',  0x0b, 0xa1, 'x'};
    memcpy(body, head, sizeof head);
    cr_assert_eq(s_decode_any(body, depth + 1), DMR_EPROTO);
    int64_t took = dmr_now_ms() - t0;
    free(body);
    cr_assert_lt(took, 500, "rejecting deep nesting took %lld ms",
                 (long long)took);

    /* Modest nesting under an unknown key is fine. */
    static const unsigned char ok[] = {0x83, 0xa1, 'v',  0x01, 0xa1, 't', 0x0b,
                                       0xa1, 'x',  0x91, 0x91, 0x91, 0x80};
    cr_assert_eq(s_decode_any(ok, sizeof ok), 0);
}

/* ------------------------------------------------------------ lookups */

Test(proto, param_and_counter_lookups_find_values_and_report_absence,
     .timeout = 10)
{
    dmr_msg_t m;
    s_fill_submit(&m);
    dmr_buf_t b = DMR_BUF_INIT;
    cr_assert_eq(dmr_msg_encode(&m, &b), 0);
    dmr_msg_t d;
    char err[256] = "";
    cr_assert_eq(dmr_msg_decode(b.data, b.len, &d, err, sizeof err), 0, "%s",
                 err);
    dmr_buf_free(&b);

    /* Works on the message being encoded and on the decoded one. */
    const dmr_msg_t *both[] = {&m, &d};
    for (size_t i = 0; i < 2; i++) {
        const dmr_msg_t *x = both[i];
        cr_assert_str_eq(dmr_msg_param(x, "split_mb"), "64");
        cr_assert_str_eq(dmr_msg_param(x, "empty"), "");
        cr_assert_str_eq(dmr_msg_param(x, ""), "empty key");
        cr_assert_str_eq(dmr_msg_param(x, s_name), s_err);
        cr_assert_null(dmr_msg_param(x, "split"), "a prefix matched");
        cr_assert_null(dmr_msg_param(x, "split_mb_"), "a longer key matched");
        cr_assert_null(dmr_msg_param(x, "missing"));
        cr_assert_eq(dmr_msg_counter(x, "bytes"), 0,
                     "SUBMIT carries no counters");
    }
    dmr_msg_clear(&d);

    s_fill_task_done(&m);
    cr_assert_eq(dmr_msg_counter(&m, "bytes"), UINT64_MAX);
    cr_assert_eq(dmr_msg_counter(&m, "spills"), 1ull << 40);
    cr_assert_eq(dmr_msg_counter(&m, ""), 1);
    cr_assert_eq(dmr_msg_counter(&m, "map_input_records"), 0);
    cr_assert_eq(dmr_msg_counter(&m, "missing"), 0);
    cr_assert_null(dmr_msg_param(&m, "split_mb"),
                   "TASK_DONE carries no params");

    /* With a repeated key, the first one wins. */
    dmr_kv_t dup[] = {{"k", "first"}, {"k", "second"}};
    dmr_counter_t dupc[] = {{"c", 1}, {"c", 2}};
    m.params = dup;
    m.nparams = 2;
    m.counters = dupc;
    m.ncounters = 2;
    cr_assert_str_eq(dmr_msg_param(&m, "k"), "first");
    cr_assert_eq(dmr_msg_counter(&m, "c"), 1);
}

Test(proto, every_type_has_a_name_and_unknown_types_do_not, .timeout = 10)
{
    for (uint32_t t = 1; t < DMR_MSG_TYPE_COUNT; t++)
        cr_assert_str_neq(dmr_msg_type_name(t), "?", "type %u has no name", t);
    cr_assert_str_eq(dmr_msg_type_name(DMR_MSG_SUBMIT), "SUBMIT");
    cr_assert_str_eq(dmr_msg_type_name(DMR_MSG_WORKER_INFO), "WORKER_INFO");
    cr_assert_str_eq(dmr_msg_type_name(0), "?");
    cr_assert_str_eq(dmr_msg_type_name(DMR_MSG_TYPE_COUNT), "?");
    cr_assert_str_eq(dmr_msg_type_name(UINT32_MAX), "?");
}

Test(proto, clear_accepts_a_zeroed_message_and_may_repeat, .timeout = 10)
{
    dmr_msg_t m;
    memset(&m, 0, sizeof m);
    dmr_msg_clear(&m);
    dmr_msg_init(&m, DMR_MSG_JOBS);
    dmr_buf_t b = DMR_BUF_INIT;
    cr_assert_eq(dmr_msg_encode(&m, &b), 0);
    cr_assert_eq(dmr_msg_decode(b.data, b.len, &m, NULL, 0), 0);
    dmr_buf_free(&b);
    dmr_msg_clear(&m);
    dmr_msg_clear(&m);
    cr_assert_eq(m.type, 0);
}
