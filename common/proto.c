/* proto.c -- the field table, the per-type rules and the codec.
 *
 * Field table (key, MessagePack type, bound):
 *
 *   key     type            bound           struct field
 *   job     uint            u64             job
 *   wid     str             256 bytes       wid
 *   inc     uint            u64             inc
 *   host    str             256             host
 *   ep      str             1024            endpoint
 *   name    str             4096            name
 *   hash    str             64 hex chars    hash
 *   path    str             4096            path
 *   state   str             64              state
 *   err     str             65536           error
 *   out     str             4096            output
 *   pid     int             i64             pid
 *   slots .. flags  uint    u32             (see proto.h)
 *   prog    uint            u32             progress (ppm)
 *   work    uint            u64             work
 *   text    str             4096            text
 *   chunk   uint            u64             chunk
 *   vers repl uint          u32             version, replication
 *   status  int             i64             status
 *   off len total   uint    u64
 *   start end age   int     i64
 *   blob    bin             DMR_MSG_BLOB_MAX blob, blob_len
 *   params  map str->str    4096 entries    params, nparams
 *   ctr     map str->uint   4096 entries    counters, ncounters
 *   items   array of maps   1<<22 entries   items, nitems (one level deep)
 *
 * Before msgpack-c sees a body, s_prescan walks it once and checks that
 * every container's declared count fits in the bytes that remain, so a
 * five-byte message cannot make the unpacker reserve gigabytes. */
#include "common/proto.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"

typedef enum { K_U32, K_U64, K_I64, K_STR, K_BIN, K_KV, K_CTR, K_ITEMS } kind_t;

typedef struct {
    const char *key;
    kind_t kind;
    size_t off; /* offsetof the field in dmr_msg_t */
    size_t max; /* bytes for STR/BIN, entries for lists */
} field_t;

#define FLD(k, kind, member, max)                                              \
    {                                                                          \
        k, kind, offsetof(dmr_msg_t, member), max                              \
    }

enum {
    F_JOB,
    F_WID,
    F_INC,
    F_HOST,
    F_EP,
    F_NAME,
    F_HASH,
    F_PATH,
    F_STATE,
    F_ERR,
    F_OUT,
    F_PID,
    F_SLOTS,
    F_KIND,
    F_TASK,
    F_ATT,
    F_PART,
    F_NMAP,
    F_NRED,
    F_MDONE,
    F_RDONE,
    F_RUN,
    F_IVAL,
    F_FLAGS,
    F_STATUS,
    F_OFF,
    F_LEN,
    F_TOTAL,
    F_START,
    F_END,
    F_AGE,
    F_BLOB,
    F_PARAMS,
    F_CTR,
    F_ITEMS,
    F_PROG,
    F_WORK,
    F_TEXT,
    F_CHUNK,
    F_VERS,
    F_REPL,
    F_NEXT,
    F_COUNT
};

static const field_t s_fields[F_COUNT] = {
    [F_JOB] = FLD("job", K_U64, job, 0),
    [F_WID] = FLD("wid", K_STR, wid, 256),
    [F_INC] = FLD("inc", K_U64, inc, 0),
    [F_HOST] = FLD("host", K_STR, host, 256),
    [F_EP] = FLD("ep", K_STR, endpoint, 1024),
    [F_NAME] = FLD("name", K_STR, name, 4096),
    [F_HASH] = FLD("hash", K_STR, hash, 64),
    [F_PATH] = FLD("path", K_STR, path, 4096),
    [F_STATE] = FLD("state", K_STR, state, 64),
    [F_ERR] = FLD("err", K_STR, error, 65536),
    [F_OUT] = FLD("out", K_STR, output, 4096),
    [F_PID] = FLD("pid", K_I64, pid, 0),
    [F_SLOTS] = FLD("slots", K_U32, slots, 0),
    [F_KIND] = FLD("kind", K_U32, kind, 0),
    [F_TASK] = FLD("task", K_U32, task, 0),
    [F_ATT] = FLD("att", K_U32, attempt, 0),
    [F_PART] = FLD("part", K_U32, part, 0),
    [F_NMAP] = FLD("nmap", K_U32, nmap, 0),
    [F_NRED] = FLD("nred", K_U32, nreduce, 0),
    [F_MDONE] = FLD("mdone", K_U32, maps_done, 0),
    [F_RDONE] = FLD("rdone", K_U32, reduces_done, 0),
    [F_RUN] = FLD("run", K_U32, running, 0),
    [F_IVAL] = FLD("ival", K_U32, interval, 0),
    [F_FLAGS] = FLD("flags", K_U32, flags, 0),
    [F_STATUS] = FLD("status", K_I64, status, 0),
    [F_OFF] = FLD("off", K_U64, offset, 0),
    [F_LEN] = FLD("len", K_U64, length, 0),
    [F_TOTAL] = FLD("total", K_U64, total, 0),
    [F_START] = FLD("start", K_I64, start_ms, 0),
    [F_END] = FLD("end", K_I64, end_ms, 0),
    [F_AGE] = FLD("age", K_I64, age_ms, 0),
    [F_BLOB] = FLD("blob", K_BIN, blob, DMR_MSG_BLOB_MAX),
    [F_PARAMS] = FLD("params", K_KV, params, 4096),
    [F_CTR] = FLD("ctr", K_CTR, counters, 4096),
    [F_ITEMS] = FLD("items", K_ITEMS, items, 1u << 22),
    [F_PROG] = FLD("prog", K_U32, progress, 0),
    [F_WORK] = FLD("work", K_U64, work, 0),
    [F_TEXT] = FLD("text", K_STR, text, 4096),
    [F_CHUNK] = FLD("chunk", K_U64, chunk, 0),
    [F_VERS] = FLD("vers", K_U32, version, 0),
    [F_REPL] = FLD("repl", K_U32, replication, 0),
    [F_NEXT] = FLD("next", K_U64, next, 0),
};

#define B(f) (1ull << (f))

typedef struct {
    const char *name;
    uint64_t required;
    uint64_t optional;
    int item; /* 1: only valid inside "items" */
} type_rule_t;

static const type_rule_t s_types[DMR_MSG_TYPE_COUNT] = {
    [DMR_MSG_REGISTER] = {"REGISTER",
                          B(F_HOST) | B(F_PID) | B(F_EP) | B(F_SLOTS),
                          B(F_WID) | B(F_INC) | B(F_ITEMS) | B(F_NAME), 0},
    [DMR_MSG_HEARTBEAT] = {"HEARTBEAT", B(F_WID) | B(F_INC),
                           B(F_RUN) | B(F_ITEMS), 0},
    [DMR_MSG_TASK_DONE] =
        {"TASK_DONE",
         B(F_WID) | B(F_JOB) | B(F_KIND) | B(F_TASK) | B(F_ATT) | B(F_STATUS),
         B(F_ERR) | B(F_CTR) | B(F_START) | B(F_END) | B(F_ITEMS), 0},
    [DMR_MSG_JOB_FETCH] = {"JOB_FETCH", B(F_HASH) | B(F_OFF), 0, 0},
    [DMR_MSG_WELCOME] = {"WELCOME", B(F_WID) | B(F_INC) | B(F_IVAL), 0, 0},
    [DMR_MSG_TASK] = {"TASK",
                      B(F_JOB) | B(F_KIND) | B(F_TASK) | B(F_ATT) | B(F_HASH) |
                          B(F_NAME) | B(F_NMAP) | B(F_NRED),
                      B(F_PATH) | B(F_OFF) | B(F_LEN) | B(F_OUT) | B(F_PARAMS) |
                          B(F_ITEMS) | B(F_FLAGS),
                      0},
    [DMR_MSG_JOB_BLOB] = {"JOB_BLOB",
                          B(F_HASH) | B(F_OFF) | B(F_TOTAL) | B(F_BLOB), 0, 0},
    [DMR_MSG_CANCEL] = {"CANCEL", B(F_JOB), B(F_KIND) | B(F_TASK) | B(F_ATT),
                        0},
    [DMR_MSG_SUBMIT] = {"SUBMIT",
                        B(F_NAME) | B(F_HASH) | B(F_BLOB) | B(F_OUT) |
                            B(F_NRED),
                        B(F_PARAMS) | B(F_ITEMS) | B(F_FLAGS), 0},
    [DMR_MSG_STATUS] = {"STATUS", 0, B(F_JOB) | B(F_FLAGS) | B(F_OFF), 0},
    [DMR_MSG_JOBS] = {"JOBS", 0, 0, 0},
    [DMR_MSG_WORKERS] = {"WORKERS", 0, 0, 0},
    [DMR_MSG_SUBMITTED] = {"SUBMITTED", B(F_JOB), 0, 0},
    [DMR_MSG_JOB_INFO] = {"JOB_INFO",
                          B(F_JOB) | B(F_NAME) | B(F_STATE) | B(F_NMAP) |
                              B(F_NRED) | B(F_MDONE) | B(F_RDONE),
                          B(F_ERR) | B(F_OUT) | B(F_START) | B(F_END) |
                              B(F_CTR) | B(F_ITEMS) | B(F_RUN) | B(F_NEXT),
                          1},
    [DMR_MSG_JOB_LIST] = {"JOB_LIST", 0, B(F_ITEMS), 0},
    [DMR_MSG_WORKER_LIST] = {"WORKER_LIST", 0, B(F_ITEMS), 0},
    [DMR_MSG_ERROR] = {"ERROR", B(F_STATUS) | B(F_ERR),
                       B(F_JOB) | B(F_TASK) | B(F_ATT) | B(F_PART) | B(F_OFF),
                       0},
    [DMR_MSG_FETCH] = {"FETCH",
                       B(F_JOB) | B(F_TASK) | B(F_ATT) | B(F_PART) | B(F_OFF) |
                           B(F_LEN),
                       0, 0},
    [DMR_MSG_FETCH_DATA] = {"FETCH_DATA",
                            B(F_JOB) | B(F_TASK) | B(F_ATT) | B(F_PART) |
                                B(F_OFF) | B(F_TOTAL) | B(F_BLOB),
                            0, 0},
    [DMR_MSG_FILE_INFO] = {"FILE_INFO", B(F_PATH) | B(F_NAME) | B(F_TOTAL),
                           B(F_LEN), 1},
    [DMR_MSG_MAP_LOC] = {"MAP_LOC", B(F_TASK) | B(F_ATT) | B(F_EP) | B(F_WID),
                         0, 1},
    [DMR_MSG_ATTEMPT_INFO] = {"ATTEMPT_INFO",
                              B(F_KIND) | B(F_TASK) | B(F_ATT) | B(F_WID) |
                                  B(F_STATE) | B(F_START),
                              B(F_END) | B(F_ERR) | B(F_PROG), 1},
    [DMR_MSG_WORKER_INFO] = {"WORKER_INFO",
                             B(F_WID) | B(F_EP) | B(F_HOST) | B(F_PID) |
                                 B(F_SLOTS) | B(F_RUN) | B(F_STATE) | B(F_AGE),
                             B(F_INC) | B(F_PROG), 1},
    [DMR_MSG_PROGRESS] = {"PROGRESS",
                          B(F_JOB) | B(F_KIND) | B(F_TASK) | B(F_ATT) |
                              B(F_PROG) | B(F_WORK),
                          B(F_STATE), 0},
    [DMR_MSG_TASK_PROGRESS] = {"TASK_PROGRESS",
                               B(F_JOB) | B(F_KIND) | B(F_TASK) | B(F_ATT) |
                                   B(F_PROG) | B(F_WORK),
                               B(F_STATE), 1},
    [DMR_MSG_EVENT] = {"EVENT", B(F_OFF) | B(F_START) | B(F_TEXT), 0, 1},
    [DMR_MSG_JNL_JOB] = {"JNL_JOB",
                         B(F_JOB) | B(F_NAME) | B(F_HASH) | B(F_OUT) |
                             B(F_NRED) | B(F_START),
                         B(F_PARAMS) | B(F_ITEMS) | B(F_FLAGS), 0},
    [DMR_MSG_JNL_ATTEMPT] = {"JNL_ATTEMPT",
                             B(F_JOB) | B(F_KIND) | B(F_TASK) | B(F_ATT) |
                                 B(F_WID) | B(F_STATE) | B(F_START),
                             B(F_END) | B(F_ERR) | B(F_EP) | B(F_CTR) |
                                 B(F_FLAGS),
                             0},
    [DMR_MSG_JNL_EVENT] = {"JNL_EVENT", B(F_JOB) | B(F_START) | B(F_TEXT), 0,
                           0},
    [DMR_MSG_JNL_JOB_END] = {"JNL_JOB_END", B(F_JOB) | B(F_STATE) | B(F_END),
                             B(F_ERR), 0},
    [DMR_MSG_FS_CREATE] = {"FS_CREATE", B(F_PATH) | B(F_REPL), 0, 0},
    [DMR_MSG_FS_ALLOC] = {"FS_ALLOC", B(F_JOB), B(F_WID), 0},
    [DMR_MSG_FS_WRITTEN] = {"FS_WRITTEN", B(F_JOB) | B(F_CHUNK) | B(F_LEN),
                            B(F_ITEMS), 0},
    [DMR_MSG_FS_COMMIT] = {"FS_COMMIT", B(F_JOB), 0, 0},
    [DMR_MSG_FS_ABORT] = {"FS_ABORT", B(F_JOB), 0, 0},
    [DMR_MSG_FS_STAT] = {"FS_STAT", B(F_PATH), B(F_FLAGS), 0},
    [DMR_MSG_FS_RM] = {"FS_RM", B(F_PATH), B(F_FLAGS), 0},
    [DMR_MSG_FS_BAD] = {"FS_BAD", B(F_CHUNK) | B(F_WID), B(F_ERR), 0},
    [DMR_MSG_FS_OK] = {"FS_OK", 0,
                       B(F_JOB) | B(F_CHUNK) | B(F_VERS) | B(F_TOTAL) |
                           B(F_ITEMS),
                       0},
    [DMR_MSG_FS_FILES] = {"FS_FILES", 0, B(F_ITEMS) | B(F_TOTAL), 0},
    [DMR_MSG_FS_FILE] = {"FS_FILE",
                         B(F_PATH) | B(F_TOTAL) | B(F_REPL) | B(F_START),
                         B(F_JOB), 1},
    [DMR_MSG_CHUNK_INFO] = {"CHUNK_INFO",
                            B(F_CHUNK) | B(F_LEN) | B(F_VERS) | B(F_PART),
                            B(F_STATE), 1},
    [DMR_MSG_REPLICA] = {"REPLICA", B(F_CHUNK),
                         B(F_WID) | B(F_EP) | B(F_STATE) | B(F_VERS) | B(F_LEN),
                         1},
    [DMR_MSG_CHUNK_DELETE] = {"CHUNK_DELETE", B(F_CHUNK), 0, 0},
    [DMR_MSG_REPLICATE] = {"REPLICATE",
                           B(F_CHUNK) | B(F_VERS) | B(F_LEN) | B(F_EP) |
                               B(F_WID),
                           0, 0},
    [DMR_MSG_CHUNK_ADDED] = {"CHUNK_ADDED",
                             B(F_WID) | B(F_INC) | B(F_CHUNK) | B(F_VERS) |
                                 B(F_LEN) | B(F_STATUS),
                             B(F_ERR), 0},
    [DMR_MSG_CHUNK_PUT] = {"CHUNK_PUT", B(F_CHUNK) | B(F_VERS) | B(F_OFF),
                           B(F_BLOB) | B(F_FLAGS) | B(F_TOTAL), 0},
    [DMR_MSG_CHUNK_ACK] = {"CHUNK_ACK", B(F_CHUNK) | B(F_OFF) | B(F_STATUS),
                           B(F_ERR), 0},
    [DMR_MSG_CHUNK_GET] = {"CHUNK_GET", B(F_CHUNK) | B(F_OFF) | B(F_LEN), 0, 0},
    [DMR_MSG_CHUNK_DATA] = {"CHUNK_DATA",
                            B(F_CHUNK) | B(F_OFF) | B(F_TOTAL) | B(F_BLOB), 0,
                            0},
    [DMR_MSG_JNL_FILE] = {"JNL_FILE",
                          B(F_JOB) | B(F_PATH) | B(F_TOTAL) | B(F_REPL) |
                              B(F_START),
                          B(F_ITEMS), 0},
    [DMR_MSG_JNL_FS_RM] = {"JNL_FS_RM", B(F_PATH), B(F_FLAGS), 0},
    [DMR_MSG_JNL_FS_MV] = {"JNL_FS_MV", B(F_PATH) | B(F_OUT), 0, 0},
    [DMR_MSG_JNL_IDS] = {"JNL_IDS", B(F_OFF), 0, 0},
    [DMR_MSG_CHUNK_REPORT] = {"CHUNK_REPORT", B(F_WID) | B(F_INC), B(F_ITEMS),
                              0},
    [DMR_MSG_JNL_WORKER] = {"JNL_WORKER", B(F_WID) | B(F_NAME), 0, 0},
    [DMR_MSG_MAP_QUERY] = {"MAP_QUERY",
                           B(F_JOB) | B(F_TASK) | B(F_ATT) | B(F_WID) |
                               B(F_OFF),
                           B(F_FLAGS), 0},
    [DMR_MSG_MAP_LOCS] = {"MAP_LOCS",
                          B(F_JOB) | B(F_TASK) | B(F_ATT) | B(F_STATE) |
                              B(F_OFF) | B(F_TOTAL),
                          B(F_ITEMS), 0},
};

/* An empty blob is still "present" for a required BIN; track it by the
 * pointer being non-NULL. */
static const uint8_t s_empty_blob[1];

const char *dmr_msg_type_name(uint32_t type)
{
    if (type < DMR_MSG_TYPE_COUNT && s_types[type].name)
        return s_types[type].name;
    return "?";
}

void dmr_msg_init(dmr_msg_t *m, dmr_msg_type_t type)
{
    memset(m, 0, sizeof *m);
    m->type = (uint32_t)type;
}

void dmr_msg_clear(dmr_msg_t *m)
{
    for (size_t i = 0; i < m->nowned_; i++)
        free(m->owned_[i]);
    free(m->owned_);
    memset(m, 0, sizeof *m);
}

static void *s_own(dmr_msg_t *m, void *p)
{
    m->owned_ = dmr_realloc(m->owned_, (m->nowned_ + 1) * sizeof(void *));
    m->owned_[m->nowned_++] = p;
    return p;
}

#define AT(m, f, T) ((T *)((char *)(m) + s_fields[f].off))
#define CAT(m, f, T) ((const T *)((const char *)(m) + s_fields[f].off))

/* ---------------------------------------------------------------- encode */

static int s_present(const dmr_msg_t *m, int f)
{
    switch (s_fields[f].kind) {
    case K_STR: return *CAT(m, f, const char *) != NULL;
    case K_BIN: return m->blob != NULL;
    case K_KV: return m->nparams > 0;
    case K_CTR: return m->ncounters > 0;
    case K_ITEMS: return m->nitems > 0;
    default: return 1;
    }
}

static void s_pack_str(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static int s_encode(const dmr_msg_t *m, msgpack_packer *pk, int depth);

static int s_encode_field(const dmr_msg_t *m, int f, msgpack_packer *pk,
                          int depth)
{
    const field_t *fd = &s_fields[f];
    s_pack_str(pk, fd->key, strlen(fd->key));
    switch (fd->kind) {
    case K_U32: return msgpack_pack_uint32(pk, *CAT(m, f, uint32_t)), 0;
    case K_U64: return msgpack_pack_uint64(pk, *CAT(m, f, uint64_t)), 0;
    case K_I64: return msgpack_pack_int64(pk, *CAT(m, f, int64_t)), 0;
    case K_STR: {
        const char *s = *CAT(m, f, const char *);
        size_t n = strlen(s);
        if (n > fd->max)
            return DMR_EINVAL;
        s_pack_str(pk, s, n);
        return 0;
    }
    case K_BIN:
        if (m->blob_len > fd->max)
            return DMR_EINVAL;
        msgpack_pack_bin(pk, m->blob_len);
        msgpack_pack_bin_body(pk, m->blob, m->blob_len);
        return 0;
    case K_KV:
        if (m->nparams > fd->max)
            return DMR_EINVAL;
        for (size_t i = 0; i < m->nparams; i++)
            if (strlen(m->params[i].key) > 4096 ||
                strlen(m->params[i].val) > 65536)
                return DMR_EINVAL;
        msgpack_pack_map(pk, m->nparams);
        for (size_t i = 0; i < m->nparams; i++) {
            s_pack_str(pk, m->params[i].key, strlen(m->params[i].key));
            s_pack_str(pk, m->params[i].val, strlen(m->params[i].val));
        }
        return 0;
    case K_CTR:
        if (m->ncounters > fd->max)
            return DMR_EINVAL;
        msgpack_pack_map(pk, m->ncounters);
        for (size_t i = 0; i < m->ncounters; i++) {
            s_pack_str(pk, m->counters[i].name, strlen(m->counters[i].name));
            msgpack_pack_uint64(pk, m->counters[i].value);
        }
        return 0;
    case K_ITEMS:
        if (m->nitems > fd->max || depth > 0)
            return DMR_EINVAL;
        msgpack_pack_array(pk, m->nitems);
        for (size_t i = 0; i < m->nitems; i++) {
            int rc = s_encode(&m->items[i], pk, depth + 1);
            if (rc)
                return rc;
        }
        return 0;
    }
    return DMR_EINVAL;
}

static int s_encode(const dmr_msg_t *m, msgpack_packer *pk, int depth)
{
    if (m->type == 0 || m->type >= DMR_MSG_TYPE_COUNT)
        return DMR_EINVAL;
    const type_rule_t *tr = &s_types[m->type];
    /* Item types go only inside "items" (JOB_INFO also alone), and only
     * they do: the decoder rejects anything else. */
    if (tr->item && depth == 0 && m->type != DMR_MSG_JOB_INFO)
        return DMR_EINVAL;
    if (!tr->item && depth > 0)
        return DMR_EINVAL;
    uint64_t allowed = tr->required | tr->optional;
    size_t n = 2;
    for (int f = 0; f < F_COUNT; f++) {
        if (!(allowed & B(f)))
            continue;
        if (s_present(m, f))
            n++;
        else if (tr->required & B(f))
            return DMR_EINVAL;
    }
    msgpack_pack_map(pk, n);
    s_pack_str(pk, "v", 1);
    msgpack_pack_uint32(pk, DMR_PROTO_VERSION);
    s_pack_str(pk, "t", 1);
    msgpack_pack_uint32(pk, m->type);
    for (int f = 0; f < F_COUNT; f++) {
        if ((allowed & B(f)) && s_present(m, f)) {
            int rc = s_encode_field(m, f, pk, depth);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int s_sbuf_write(void *data, const char *buf, size_t len)
{
    dmr_buf_append(data, buf, len);
    return 0;
}

int dmr_msg_encode(const dmr_msg_t *m, dmr_buf_t *out)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, s_sbuf_write);
    size_t start = out->len;
    int rc = s_encode(m, &pk, 0);
    if (rc == 0 && out->len - start > DMR_MSG_MAX)
        rc = DMR_ETOOBIG;
    if (rc) {
        out->len = start;
        dmr_error("proto", "cannot encode %s message: %s",
                  dmr_msg_type_name(m->type), dmr_strerror(rc));
    }
    return rc;
}

/* ---------------------------------------------------------------- decode */

/* Walks one MessagePack body without building it. Fails when a header is
 * truncated, a length runs past the end, a container claims more elements
 * than bytes remain, nesting exceeds 8, or bytes trail the object. */
static int s_prescan(const uint8_t *p, size_t len)
{
    size_t pos = 0;
    size_t pending[9];
    int depth = 0;
    pending[0] = 1;
    while (depth >= 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        pending[depth]--;
        if (pos >= len)
            return -1;
        uint8_t c = p[pos++];
        uint64_t body = 0, count = 0;
        int hdr = 0; /* extra header bytes holding a length/count */
        int is_cont = 0;
        if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
            /* fixint, nil, bool */
        } else if ((c & 0xe0) == 0xa0) {
            body = c & 0x1f;
        } else if ((c & 0xf0) == 0x90) {
            count = c & 0x0f, is_cont = 1;
        } else if ((c & 0xf0) == 0x80) {
            count = 2ull * (c & 0x0f), is_cont = 1;
        } else {
            switch (c) {
            case 0xcc:
            case 0xd0: body = 1; break;
            case 0xcd:
            case 0xd1: body = 2; break;
            case 0xca:
            case 0xce:
            case 0xd2: body = 4; break;
            case 0xcb:
            case 0xcf:
            case 0xd3: body = 8; break;
            case 0xd4: body = 2; break;
            case 0xd5: body = 3; break;
            case 0xd6: body = 5; break;
            case 0xd7: body = 9; break;
            case 0xd8: body = 17; break;
            case 0xc4:
            case 0xd9: hdr = 1; break;
            case 0xc5:
            case 0xda: hdr = 2; break;
            case 0xc6:
            case 0xdb: hdr = 4; break;
            case 0xc7: hdr = 1; break;
            case 0xc8: hdr = 2; break;
            case 0xc9: hdr = 4; break;
            case 0xdc: hdr = 2, is_cont = 1; break;
            case 0xdd: hdr = 4, is_cont = 1; break;
            case 0xde: hdr = 2, is_cont = 2; break;
            case 0xdf: hdr = 4, is_cont = 2; break;
            default: return -1; /* 0xc1 is never used */
            }
            if (hdr) {
                if (len - pos < (size_t)hdr)
                    return -1;
                uint64_t v = 0;
                for (int i = 0; i < hdr; i++)
                    v = (v << 8) | p[pos++];
                if (is_cont)
                    count = (is_cont == 2) ? 2 * v : v;
                else
                    body = v + ((c >= 0xc7 && c <= 0xc9) ? 1 : 0);
                if (is_cont)
                    is_cont = 1;
            }
        }
        if (body > len - pos)
            return -1;
        pos += (size_t)body;
        if (is_cont && count > 0) {
            if (count > len - pos || depth >= 8)
                return -1;
            pending[++depth] = (size_t)count;
        }
    }
    return pos == len ? 0 : -1;
}

typedef struct {
    char *err;
    size_t errlen;
} derr_t;

static int s_fail(derr_t *e, const char *fmt, const char *a, const char *b)
{
    snprintf(e->err, e->errlen, fmt, a, b);
    return DMR_EPROTO;
}

static char *s_copy_str(dmr_msg_t *m, const char *p, size_t n)
{
    return s_own(m, dmr_strndup(p, n));
}

static int s_get_u64(const msgpack_object *o, uint64_t *v)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return -1;
    *v = o->via.u64;
    return 0;
}

static int s_get_i64(const msgpack_object *o, int64_t *v)
{
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *v = o->via.i64;
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
        *v = (int64_t)o->via.u64;
        return 0;
    }
    return -1;
}

static int s_key_is(const msgpack_object *k, const char *s)
{
    size_t n = strlen(s);
    return k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
           memcmp(k->via.str.ptr, s, n) == 0;
}

static int s_decode_obj(const msgpack_object *obj, dmr_msg_t *m, int depth,
                        derr_t *e);

static int s_decode_field(const msgpack_object *o, int f, dmr_msg_t *m,
                          int depth, derr_t *e)
{
    const field_t *fd = &s_fields[f];
    uint64_t u;
    int64_t i;
    switch (fd->kind) {
    case K_U32:
        if (s_get_u64(o, &u) || u > UINT32_MAX)
            return s_fail(e,
                          "field '%s': expected an unsigned 32-bit integer%s",
                          fd->key, "");
        *AT(m, f, uint32_t) = (uint32_t)u;
        return 0;
    case K_U64:
        if (s_get_u64(o, &u))
            return s_fail(e, "field '%s': expected an unsigned integer%s",
                          fd->key, "");
        *AT(m, f, uint64_t) = u;
        return 0;
    case K_I64:
        if (s_get_i64(o, &i))
            return s_fail(e, "field '%s': expected a 64-bit integer%s", fd->key,
                          "");
        *AT(m, f, int64_t) = i;
        return 0;
    case K_STR:
        if (o->type != MSGPACK_OBJECT_STR)
            return s_fail(e, "field '%s': expected a string%s", fd->key, "");
        if (o->via.str.size > fd->max)
            return s_fail(e, "field '%s': string longer than its bound%s",
                          fd->key, "");
        if (memchr(o->via.str.ptr, '\0', o->via.str.size))
            return s_fail(e, "field '%s': string holds a NUL byte%s", fd->key,
                          "");
        *AT(m, f, const char *) =
            s_copy_str(m, o->via.str.ptr, o->via.str.size);
        return 0;
    case K_BIN:
        if (o->type != MSGPACK_OBJECT_BIN)
            return s_fail(e, "field '%s': expected binary data%s", fd->key, "");
        if (o->via.bin.size > fd->max)
            return s_fail(e, "field '%s': binary data over its bound%s",
                          fd->key, "");
        if (o->via.bin.size == 0) {
            m->blob = s_empty_blob;
        } else {
            uint8_t *b = s_own(m, dmr_malloc(o->via.bin.size));
            memcpy(b, o->via.bin.ptr, o->via.bin.size);
            m->blob = b;
        }
        m->blob_len = o->via.bin.size;
        return 0;
    case K_KV:
    case K_CTR: {
        if (o->type != MSGPACK_OBJECT_MAP)
            return s_fail(e, "field '%s': expected a map%s", fd->key, "");
        size_t n = o->via.map.size;
        if (n > fd->max)
            return s_fail(e, "field '%s': too many entries%s", fd->key, "");
        dmr_kv_t *kv = NULL;
        dmr_counter_t *ctr = NULL;
        if (fd->kind == K_KV)
            kv = s_own(m, dmr_calloc(n, sizeof *kv));
        else
            ctr = s_own(m, dmr_calloc(n, sizeof *ctr));
        for (size_t j = 0; j < n; j++) {
            const msgpack_object *k = &o->via.map.ptr[j].key;
            const msgpack_object *v = &o->via.map.ptr[j].val;
            if (k->type != MSGPACK_OBJECT_STR || k->via.str.size > 4096 ||
                memchr(k->via.str.ptr, '\0', k->via.str.size))
                return s_fail(e, "field '%s': keys must be strings%s", fd->key,
                              "");
            if (kv) {
                if (v->type != MSGPACK_OBJECT_STR || v->via.str.size > 65536 ||
                    memchr(v->via.str.ptr, '\0', v->via.str.size))
                    return s_fail(e, "field '%s': values must be strings%s",
                                  fd->key, "");
                kv[j].key = s_copy_str(m, k->via.str.ptr, k->via.str.size);
                kv[j].val = s_copy_str(m, v->via.str.ptr, v->via.str.size);
            } else {
                if (s_get_u64(v, &u))
                    return s_fail(e, "field '%s': values must be unsigned%s",
                                  fd->key, "");
                ctr[j].name = s_copy_str(m, k->via.str.ptr, k->via.str.size);
                ctr[j].value = u;
            }
        }
        if (kv)
            m->params = kv, m->nparams = n;
        else
            m->counters = ctr, m->ncounters = n;
        return 0;
    }
    case K_ITEMS: {
        if (depth > 0)
            return s_fail(e, "field '%s': lists may not nest%s", fd->key, "");
        if (o->type != MSGPACK_OBJECT_ARRAY)
            return s_fail(e, "field '%s': expected an array%s", fd->key, "");
        size_t n = o->via.array.size;
        if (n > fd->max)
            return s_fail(e, "field '%s': too many entries%s", fd->key, "");
        m->items = s_own(m, dmr_calloc(n, sizeof(dmr_msg_t)));
        m->nitems = n;
        for (size_t j = 0; j < n; j++) {
            dmr_msg_t *it = &m->items[j];
            int rc = s_decode_obj(&o->via.array.ptr[j], it, depth + 1, e);
            /* The item's allocations move to the parent -- also when the
             * item failed half-way, so that clearing the parent frees them. */
            for (size_t a = 0; a < it->nowned_; a++)
                s_own(m, it->owned_[a]);
            free(it->owned_);
            it->owned_ = NULL;
            it->nowned_ = 0;
            if (rc)
                return rc;
            if (!s_types[it->type].item)
                return s_fail(
                    e, "field 'items': a %s message cannot be a list item%s",
                    dmr_msg_type_name(it->type), "");
        }
        return 0;
    }
    }
    return DMR_EPROTO;
}

static int s_decode_obj(const msgpack_object *obj, dmr_msg_t *m, int depth,
                        derr_t *e)
{
    if (obj->type != MSGPACK_OBJECT_MAP)
        return s_fail(e, "message is not a map%s%s", "", "");
    const msgpack_object_kv *kv = obj->via.map.ptr;
    size_t n = obj->via.map.size;
    uint64_t version = 0, type = 0;
    int have_v = 0, have_t = 0;
    for (size_t j = 0; j < n; j++) {
        if (s_key_is(&kv[j].key, "v")) {
            if (have_v)
                return s_fail(e, "field 'v' appears twice%s%s", "", "");
            if (s_get_u64(&kv[j].val, &version))
                return s_fail(e, "field 'v' is not an unsigned integer%s%s", "",
                              "");
            have_v = 1;
        } else if (s_key_is(&kv[j].key, "t")) {
            if (have_t)
                return s_fail(e, "field 't' appears twice%s%s", "", "");
            if (s_get_u64(&kv[j].val, &type))
                return s_fail(e, "field 't' is not an unsigned integer%s%s", "",
                              "");
            have_t = 1;
        }
    }
    if (!have_v || !have_t)
        return s_fail(e, "message lacks its version or type%s%s", "", "");
    if (version != DMR_PROTO_VERSION) {
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)version);
        return s_fail(e, "protocol version %s is not supported%s", buf, "");
    }
    if (type == 0 || type >= DMR_MSG_TYPE_COUNT) {
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)type);
        return s_fail(e, "unknown message type %s%s", buf, "");
    }
    m->type = (uint32_t)type;
    const type_rule_t *tr = &s_types[type];
    uint64_t allowed = tr->required | tr->optional, seen = 0;
    for (size_t j = 0; j < n; j++) {
        const msgpack_object *k = &kv[j].key;
        if (k->type != MSGPACK_OBJECT_STR)
            return s_fail(e, "%s: a key is not a string%s", tr->name, "");
        for (int f = 0; f < F_COUNT; f++) {
            if (!(allowed & B(f)) || !s_key_is(k, s_fields[f].key))
                continue;
            if (seen & B(f))
                return s_fail(e, "%s: field '%s' appears twice", tr->name,
                              s_fields[f].key);
            int rc = s_decode_field(&kv[j].val, f, m, depth, e);
            if (rc) {
                char tmp[256];
                snprintf(tmp, sizeof tmp, "%s", e->err);
                return s_fail(e, "%s: %s", tr->name, tmp);
            }
            seen |= B(f);
            break;
        }
    }
    uint64_t missing = tr->required & ~seen;
    if (missing) {
        for (int f = 0; f < F_COUNT; f++)
            if (missing & B(f))
                return s_fail(e, "%s: required field '%s' is missing", tr->name,
                              s_fields[f].key);
    }
    return 0;
}

int dmr_msg_decode(const void *data, size_t len, dmr_msg_t *m, char *err,
                   size_t errlen)
{
    char dummy[8];
    derr_t e = {(err && errlen) ? err : dummy,
                (err && errlen) ? errlen : sizeof dummy};
    e.err[0] = '\0';
    memset(m, 0, sizeof *m);
    if (len > DMR_MSG_MAX) {
        snprintf(e.err, e.errlen, "message of %zu bytes is over the limit",
                 len);
        return DMR_ETOOBIG;
    }
    if (len == 0 || s_prescan(data, len) != 0) {
        snprintf(e.err, e.errlen,
                 "body is not one well-formed MessagePack "
                 "object (%zu bytes)",
                 len);
        return DMR_EPROTO;
    }
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc;
    msgpack_unpack_return ur = msgpack_unpack_next(&up, data, len, &off);
    if (ur != MSGPACK_UNPACK_SUCCESS || off != len) {
        snprintf(e.err, e.errlen, "body does not unpack (%d)", (int)ur);
        rc = DMR_EPROTO;
    } else {
        rc = s_decode_obj(&up.data, m, 0, &e);
        if (rc == 0 && s_types[m->type].item && m->type != DMR_MSG_JOB_INFO) {
            rc = s_fail(&e, "a %s message is valid only as a list item%s",
                        dmr_msg_type_name(m->type), "");
        }
    }
    msgpack_unpacked_destroy(&up);
    if (rc)
        dmr_msg_clear(m);
    return rc;
}

const char *dmr_msg_param(const dmr_msg_t *m, const char *key)
{
    for (size_t i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].key, key) == 0)
            return m->params[i].val;
    return NULL;
}

uint64_t dmr_msg_counter(const dmr_msg_t *m, const char *name)
{
    for (size_t i = 0; i < m->ncounters; i++)
        if (strcmp(m->counters[i].name, name) == 0)
            return m->counters[i].value;
    return 0;
}
