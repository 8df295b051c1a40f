/* pidsum.c -- pids.c as a summing job (DMR_JOB_COMBINE_SUM): the same
 * log and parameters, with dmr counting map output itself and folding
 * fetched outputs on the reduce side. */
#include "jobs/dmr_job.h"

#define PIDS_NAME "pidsum"
#define PIDS_FLAGS DMR_JOB_COMBINE_SUM
#include "pids.c"
