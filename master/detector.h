/* detector.h -- heartbeat history and the phi-accrual suspicion level.
 *
 * Hayashibara et al., "The phi accrual failure detector" (2004), as used
 * by Cassandra and Akka: instead of a yes/no timeout, keep the recent
 * intervals between a worker's heartbeats and ask how unlikely the
 * current silence is under a normal distribution fitted to them:
 *
 *     phi = -log10(P(interval > silence))
 *
 * phi 1 means a 10% chance the worker is merely slow, phi 8 one in 10^8.
 * The master declares a worker dead when phi passes a threshold
 * (--detector phi), and shows phi for every worker in `dmr workers`
 * whichever detector decides. */
#ifndef DMR_MASTER_DETECTOR_H
#define DMR_MASTER_DETECTOR_H

#include <stdint.h>

#define DMR_HB_WINDOW 32 /* heartbeat intervals kept */

typedef struct {
    int32_t iv[DMR_HB_WINDOW]; /* intervals, ms */
    uint32_t n, pos;
    int64_t last; /* when the last heartbeat came (monotonic ms); 0: never */
} dmr_hb_t;

/* Records a heartbeat (or any message) from the worker at now. */
void dmr_hb_heard(dmr_hb_t *h, int64_t now);
/* Forgets the history (a new incarnation). */
void dmr_hb_reset(dmr_hb_t *h);
/* phi of the silence since the last heartbeat. expected_ms (the interval
 * workers are told to use) stands in until 3 intervals are known and sets
 * the floor of the standard deviation, so a perfectly
 * regular history does not make phi explode at the first late packet:
 * the floor is half of expected_ms, and at least 100 ms. */
double dmr_hb_phi(const dmr_hb_t *h, int64_t now, int expected_ms);

#endif
