/* error.c -- names of dmr's error codes. */
#include "common/error.h"

const char *dmr_strerror(int code)
{
    switch (code) {
    case DMR_OK: return "success";
    case DMR_EIO: return "I/O error";
    case DMR_ENOMEM: return "out of memory or budget";
    case DMR_EINVAL: return "invalid argument";
    case DMR_ENOENT: return "no such file or object";
    case DMR_EEXIST: return "already exists";
    case DMR_ECORRUPT: return "corrupt data (checksum or format mismatch)";
    case DMR_EPROTO: return "protocol error (malformed or unknown message)";
    case DMR_ETIMEDOUT: return "timed out";
    case DMR_EJOB: return "job code reported an error";
    case DMR_ECLOSED: return "peer or stream closed";
    case DMR_ETOOBIG: return "too big";
    case DMR_EUNAVAIL: return "unavailable";
    case DMR_EFETCH: return "a map output could not be fetched";
    }
    return "unknown error";
}
