/* proto.h -- every message dmr processes exchange, and its codec.
 *
 * A message travels as one ZeroMQ frame (after the routing-id frame on a
 * ROUTER) holding one MessagePack map. Keys are short strings; two are in
 * every message:
 *
 *   "v"  uint   protocol version (DMR_PROTO_VERSION; others are rejected)
 *   "t"  uint   message type (dmr_msg_type_t)
 *
 * The other keys are the fields of the table in proto.c, each with a fixed
 * MessagePack type and bound. Each message type lists the fields it
 * requires and those it allows. The decoder rejects -- with a message
 * naming the field -- a body that is not a map, a missing required field,
 * a field of the wrong type or out of bounds, a wrong version or unknown
 * type, and trailing bytes. Keys a type does not know are ignored, so a
 * newer peer can add optional fields.
 *
 * Fields in a dmr_msg_t are borrowed when encoding (the caller keeps them
 * alive) and owned by the message after decoding (dmr_msg_clear frees).
 * A NULL string or an empty list is simply not sent. */
#ifndef DMR_PROTO_H
#define DMR_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define DMR_PROTO_VERSION 1
#define DMR_MSG_MAX (64u << 20)      /* largest encoded message */
#define DMR_MSG_BLOB_MAX (48u << 20) /* largest binary field */
#define DMR_MSG_PIECE (1u << 20)     /* bytes per streamed piece */

typedef enum {
    DMR_MSG_NONE = 0,
    /* worker -> master */
    DMR_MSG_REGISTER = 1,  /* host pid ep slots [wid inc] */
    DMR_MSG_HEARTBEAT = 2, /* wid inc run */
    DMR_MSG_TASK_DONE = 3, /* job kind task att status [err ctr items] */
    DMR_MSG_JOB_FETCH = 4, /* hash off */
    /* master -> worker */
    DMR_MSG_WELCOME = 5,  /* wid inc ival */
    DMR_MSG_TASK = 6,     /* job kind task att hash name nmap nred ... */
    DMR_MSG_JOB_BLOB = 7, /* hash off total blob */
    DMR_MSG_CANCEL = 8,   /* job [kind task att] */
    /* client -> master */
    DMR_MSG_SUBMIT = 9,   /* name hash blob out nred params items */
    DMR_MSG_STATUS = 10,  /* [job] */
    DMR_MSG_JOBS = 11,    /* */
    DMR_MSG_WORKERS = 12, /* */
    /* master -> client */
    DMR_MSG_SUBMITTED = 13,   /* job */
    DMR_MSG_JOB_INFO = 14,    /* job name state ... [items=attempts] */
    DMR_MSG_JOB_LIST = 15,    /* [items=JOB_INFO] */
    DMR_MSG_WORKER_LIST = 16, /* [items=WORKER_INFO] */
    DMR_MSG_ERROR = 17,       /* status err */
    /* reducer -> worker (shuffle) */
    DMR_MSG_FETCH = 18,      /* job task att part off len */
    DMR_MSG_FETCH_DATA = 19, /* job task att part off total blob */
    /* list items, only inside "items" */
    DMR_MSG_FILE_INFO = 20,    /* path name total */
    DMR_MSG_MAP_LOC = 21,      /* task att ep wid */
    DMR_MSG_ATTEMPT_INFO = 22, /* kind task att wid state start [end err] */
    DMR_MSG_WORKER_INFO = 23,  /* wid ep host pid slots run state age */
    /* task child -> worker, on the child's stdout */
    DMR_MSG_PROGRESS = 24, /* job kind task att prog work state */
    /* list items */
    DMR_MSG_TASK_PROGRESS = 25, /* job kind task att prog work state */
    DMR_MSG_EVENT = 26,         /* off start text */
    /* master journal records (master/journal.c) */
    DMR_MSG_JNL_JOB = 27,     /* job name hash out nred start [params items] */
    DMR_MSG_JNL_ATTEMPT = 28, /* job kind task att wid state start [end ...] */
    DMR_MSG_JNL_EVENT = 29,   /* job start text */
    DMR_MSG_JNL_JOB_END = 30, /* job state end [err] */
    /* chunk store: client -> master */
    DMR_MSG_FS_CREATE = 31,  /* path repl */
    DMR_MSG_FS_ALLOC = 32,   /* job(=session) [wid] */
    DMR_MSG_FS_WRITTEN = 33, /* job chunk len items=REPLICA */
    DMR_MSG_FS_COMMIT = 34,  /* job */
    DMR_MSG_FS_ABORT = 35,   /* job */
    DMR_MSG_FS_STAT = 36,    /* path flags (1 list under, 2 with chunks) */
    DMR_MSG_FS_RM = 37,      /* path flags (1 recursive) */
    DMR_MSG_FS_BAD = 38,     /* chunk wid err */
    /* chunk store: master -> client */
    DMR_MSG_FS_OK = 39,    /* [job chunk vers total items=REPLICA] */
    DMR_MSG_FS_FILES = 40, /* items=FS_FILE, CHUNK_INFO, REPLICA */
    /* list items */
    DMR_MSG_FS_FILE = 41,    /* path total repl start [job] */
    DMR_MSG_CHUNK_INFO = 42, /* chunk len vers part [state] */
    DMR_MSG_REPLICA = 43,    /* chunk [wid ep state vers len] */
    /* chunk store: master -> worker */
    DMR_MSG_CHUNK_DELETE = 44, /* chunk */
    DMR_MSG_REPLICATE = 45,    /* chunk vers len ep wid */
    /* chunk store: worker -> master */
    DMR_MSG_CHUNK_ADDED = 46, /* wid inc chunk vers len status [err] */
    /* chunk store: client -> worker, and back */
    DMR_MSG_CHUNK_PUT = 47,  /* chunk vers off [blob flags total] */
    DMR_MSG_CHUNK_ACK = 48,  /* chunk off status [err] */
    DMR_MSG_CHUNK_GET = 49,  /* chunk off len */
    DMR_MSG_CHUNK_DATA = 50, /* chunk off total blob */
    /* master journal: chunk store */
    DMR_MSG_JNL_FILE = 51,  /* job(=file id) path total repl start items */
    DMR_MSG_JNL_FS_RM = 52, /* path flags */
    DMR_MSG_JNL_FS_MV = 53, /* path out(=new path) */
    DMR_MSG_JNL_IDS = 54,   /* off(=id limit) */
    /* chunk store: worker -> master, every few minutes */
    DMR_MSG_CHUNK_REPORT = 55, /* wid inc items=REPLICA */
    DMR_MSG_JNL_WORKER = 56,   /* wid name(=node id) */
    /* reduce task -> master, while it lacks map outputs, and back */
    DMR_MSG_MAP_QUERY = 57, /* job task att wid off(=map log position)
                             * [flags: 1 = the master may hold it until
                             * a map is done] */
    DMR_MSG_MAP_LOCS = 58,  /* job task att state off total [items=MAP_LOC] */
    DMR_MSG_TYPE_COUNT
} dmr_msg_type_t;

/* Task kinds. */
enum { DMR_TASK_MAP = 0, DMR_TASK_REDUCE = 1 };

typedef struct {
    const char *key;
    const char *val;
} dmr_kv_t;

typedef struct {
    const char *name;
    uint64_t value;
} dmr_counter_t;

typedef struct dmr_msg dmr_msg_t;
struct dmr_msg {
    uint32_t type;

    uint64_t job;          /* "job"   job id */
    const char *wid;       /* "wid"   worker id, e.g. "w3" */
    uint64_t inc;          /* "inc"   worker incarnation */
    const char *host;      /* "host"  host name */
    const char *endpoint;  /* "ep"    a ZeroMQ endpoint */
    const char *name;      /* "name"  job or file display name */
    const char *hash;      /* "hash"  job object SHA-256, hex */
    const char *path;      /* "path"  a file path */
    const char *state;     /* "state" a state name */
    const char *error;     /* "err"   an error text */
    const char *output;    /* "out"   output directory */
    int64_t pid;           /* "pid" */
    uint32_t slots;        /* "slots" concurrent tasks a worker runs */
    uint32_t kind;         /* "kind"  DMR_TASK_* */
    uint32_t task;         /* "task"  task index */
    uint32_t attempt;      /* "att"   attempt number */
    uint32_t part;         /* "part"  partition */
    uint32_t nmap;         /* "nmap" */
    uint32_t nreduce;      /* "nred" */
    uint32_t maps_done;    /* "mdone" */
    uint32_t reduces_done; /* "rdone" */
    uint32_t running;      /* "run"   tasks running */
    uint32_t interval;     /* "ival"  heartbeat interval, ms */
    uint32_t progress;     /* "prog"  task progress, parts per million */
    uint64_t work;         /* "work"  units of work done, grows while alive */
    const char *text;      /* "text"  a line of prose (events) */
    uint64_t chunk;        /* "chunk" chunk id */
    uint32_t version;      /* "vers"  chunk version */
    uint32_t replication;  /* "repl"  replicas wanted */
    uint64_t next;         /* "next"  the job running a job's next stage */
    uint32_t flags;        /* "flags" job flags from the job object */
    int64_t status;        /* "status" 0 or a DMR_E* / exit status */
    uint64_t offset;       /* "off" */
    uint64_t length;       /* "len" */
    uint64_t total;        /* "total" */
    int64_t start_ms;      /* "start" wall-clock ms */
    int64_t end_ms;        /* "end"   wall-clock ms */
    int64_t age_ms;        /* "age"   ms since last heard */
    const uint8_t *blob;   /* "blob"  binary payload */
    size_t blob_len;
    dmr_kv_t *params; /* "params" string map */
    size_t nparams;
    dmr_counter_t *counters; /* "ctr" string -> uint map */
    size_t ncounters;
    dmr_msg_t *items; /* "items" list of item messages */
    size_t nitems;

    /* Private: what the decoder allocated. */
    void **owned_;
    size_t nowned_;
};

/* Zeroes m and sets its type. */
void dmr_msg_init(dmr_msg_t *m, dmr_msg_type_t type);
/* Frees what decoding allocated and zeroes m. Accepts a zeroed m. */
void dmr_msg_clear(dmr_msg_t *m);

/* Appends the encoding of m to out. Returns 0, or DMR_EINVAL when a
 * required field is missing or a field is out of bounds (a programmer
 * error, so also logged). */
int dmr_msg_encode(const dmr_msg_t *m, dmr_buf_t *out);

/* Decodes one message from data. On success m owns its fields; on failure
 * m is cleared, DMR_EPROTO (or DMR_ETOOBIG) is returned and err holds a
 * one-line reason naming the field. */
int dmr_msg_decode(const void *data, size_t len, dmr_msg_t *m, char *err,
                   size_t errlen);

/* "REGISTER", "TASK", ...; "?" for an unknown type. */
const char *dmr_msg_type_name(uint32_t type);

/* Lookups in decoded lists; NULL / 0 when absent. */
const char *dmr_msg_param(const dmr_msg_t *m, const char *key);
uint64_t dmr_msg_counter(const dmr_msg_t *m, const char *name);

#endif
