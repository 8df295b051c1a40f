/* chunkserver.h -- a worker's replicas of the chunk store's chunks.
 *
 * Replicas live in <data>/chunks (storage/chunk.c: a CRC32 per 64 KiB
 * block, checked on every read). The worker's shuffle ROUTER also serves
 * chunk traffic: CHUNK_PUT pieces from writers (acknowledged piece by
 * piece; the final piece commits the replica, fsynced) and CHUNK_GET
 * reads (a block that fails its check is never sent: the reader gets
 * ERROR ECORRUPT and reports the replica). The master asks for deletions
 * (CHUNK_DELETE) and copies (REPLICATE): a copy runs in a child process
 * (`dmr chunk-copy`) that pulls the chunk from another worker, and its
 * outcome goes back to the master as CHUNK_ADDED. */
#ifndef DMR_WORKER_CHUNKSERVER_H
#define DMR_WORKER_CHUNKSERVER_H

#include <stddef.h>
#include <stdint.h>

#include "common/net.h"
#include "common/proto.h"

typedef struct dmr_cs dmr_cs_t;

/* Opens <data_dir>/chunks, creating it, and removes what interrupted
 * writes left there. */
int dmr_cs_open(const char *data_dir, dmr_cs_t **out);
void dmr_cs_close(dmr_cs_t **cs);
const char *dmr_cs_dir(const dmr_cs_t *cs);

/* REPLICA items (chunk, vers, len) for every replica held, for REGISTER;
 * free *items with free(). Damaged replicas are deleted on the way. */
size_t dmr_cs_report(dmr_cs_t *cs, dmr_msg_t **items);

/* Serves a CHUNK_PUT or CHUNK_GET from a peer on the ROUTER; 0 if m is
 * neither. */
int dmr_cs_serve(dmr_cs_t *cs, void *router, const dmr_peer_t *from,
                 const dmr_msg_t *m);

void dmr_cs_delete(dmr_cs_t *cs, uint64_t chunk);

/* Starts copying a chunk from another worker (a REPLICATE message). */
void dmr_cs_replicate(dmr_cs_t *cs, const dmr_msg_t *m);

typedef void (*dmr_cs_done_fn)(void *arg, uint64_t chunk, uint32_t version,
                               uint64_t length, int status, const char *err);
/* Collects finished copies (calls done for each), aborts writes idle for
 * a minute. From the worker's cron. */
void dmr_cs_cron(dmr_cs_t *cs, dmr_cs_done_fn done, void *arg);

/* Entry point of `dmr chunk-copy DIR CHUNK VERSION LENGTH ENDPOINT`. */
int dmr_cs_copy_main(int argc, char **argv);

#endif
