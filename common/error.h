/* error.h -- dmr's error codes.
 *
 * Functions return 0 (or a non-negative count) on success and a negative
 * DMR_E* code on failure. Errors from ZeroMQ, zlib, msgpack and libc are
 * converted to these where they enter dmr. dmr_strerror() names each. */
#ifndef DMR_ERROR_H
#define DMR_ERROR_H

enum {
    DMR_OK = 0,
    DMR_EIO = -1,       /* a system call on a file or socket failed */
    DMR_ENOMEM = -2,    /* a bounded buffer or budget is exhausted */
    DMR_EINVAL = -3,    /* an argument or option is invalid */
    DMR_ENOENT = -4,    /* a file, job, task or worker does not exist */
    DMR_EEXIST = -5,    /* the thing to be created exists already */
    DMR_ECORRUPT = -6,  /* a checksum or structural check failed */
    DMR_EPROTO = -7,    /* a malformed, truncated or unknown message */
    DMR_ETIMEDOUT = -8, /* a peer did not answer in time */
    DMR_EJOB = -9,      /* user job code reported an error */
    DMR_ECLOSED = -10,  /* the peer or stream is gone */
    DMR_ETOOBIG = -11,  /* a message, record or file exceeds its limit */
    DMR_EUNAVAIL = -12, /* no worker / replica / master is available */
    DMR_EFETCH = -13,   /* a map output could not be fetched */
};

/* A static string naming code; never NULL. */
const char *dmr_strerror(int code);

#endif
