/* detector.c -- heartbeat history and phi accrual (see detector.h). */
#include "master/detector.h"

#include <math.h>
#include <string.h>

void dmr_hb_heard(dmr_hb_t *h, int64_t now)
{
    int64_t gap = now - h->last;
    if (h->last > 0 && gap >= 0 && gap < 3600000) {
        h->iv[h->pos] = (int32_t)gap;
        h->pos = (h->pos + 1) % DMR_HB_WINDOW;
        if (h->n < DMR_HB_WINDOW)
            h->n++;
    }
    h->last = now;
}

void dmr_hb_reset(dmr_hb_t *h)
{
    memset(h, 0, sizeof *h);
}

double dmr_hb_phi(const dmr_hb_t *h, int64_t now, int expected_ms)
{
    double silence = h->last > 0 ? (double)(now - h->last) : 0;
    double mean = expected_ms, sd = 0;
    if (h->n >= 3) {
        double sum = 0, sq = 0;
        for (uint32_t i = 0; i < h->n; i++) {
            sum += h->iv[i];
            sq += (double)h->iv[i] * h->iv[i];
        }
        mean = sum / h->n;
        double var = sq / h->n - mean * mean;
        sd = var > 0 ? sqrt(var) : 0;
    }
    double floor_sd = expected_ms / 2.0 > 100 ? expected_ms / 2.0 : 100;
    if (sd < floor_sd)
        sd = floor_sd;
    /* P(X > silence) for X ~ N(mean, sd). */
    double p = 0.5 * erfc((silence - mean) / (sd * sqrt(2.0)));
    if (p < 1e-300)
        return 300;
    double phi = -log10(p);
    return phi > 0 ? phi : 0;
}
