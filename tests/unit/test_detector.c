/* test_detector.c -- heartbeat history and phi accrual (master/detector.c). */
#include <criterion/criterion.h>

#include "master/detector.h"

static void s_beats(dmr_hb_t *h, int64_t *t, int n, int every, int jitter)
{
    for (int i = 0; i < n; i++) {
        *t += every + (jitter ? (i % 2 ? jitter : -jitter) : 0);
        dmr_hb_heard(h, *t);
    }
}

Test(detector, phi_grows_with_silence)
{
    dmr_hb_t h = {0};
    int64_t t = 1000;
    s_beats(&h, &t, 40, 250, 0);
    cr_assert_eq(h.n, DMR_HB_WINDOW, "the window keeps the last intervals");
    double prev = -1;
    for (int64_t s = 0; s <= 3000; s += 50) {
        double phi = dmr_hb_phi(&h, t + s, 250);
        cr_assert_geq(phi, prev, "phi fell from %.2f to %.2f at %lld ms", prev,
                      phi, (long long)s);
        prev = phi;
    }
    cr_assert_lt(dmr_hb_phi(&h, t + 250, 250), 1.0, "on time is not suspect");
    cr_assert_gt(dmr_hb_phi(&h, t + 2000, 250), 8.0, "2 s of silence is");
}

Test(detector, a_jittery_history_is_suspected_later)
{
    dmr_hb_t calm = {0}, noisy = {0};
    int64_t a = 1000, b = 1000;
    s_beats(&calm, &a, 32, 250, 0);
    s_beats(&noisy, &b, 32, 250, 200);
    double pc = dmr_hb_phi(&calm, a + 900, 250);
    double pn = dmr_hb_phi(&noisy, b + 900, 250);
    cr_assert_gt(pc, pn, "calm %.2f, noisy %.2f", pc, pn);
}

Test(detector, a_new_worker_uses_the_expected_interval)
{
    dmr_hb_t h = {0};
    dmr_hb_heard(&h, 5000);
    cr_assert_eq(h.n, 0, "one heartbeat is no interval");
    cr_assert_lt(dmr_hb_phi(&h, 5100, 250), 1.0);
    cr_assert_gt(dmr_hb_phi(&h, 8000, 250), 8.0);
    dmr_hb_reset(&h);
    cr_assert_eq(h.last, 0);
    cr_assert_eq(dmr_hb_phi(&h, 123456, 250) < 1.0, 1,
                 "never heard: no silence yet");
}

Test(detector, clock_oddities_do_not_poison_the_history)
{
    dmr_hb_t h = {0};
    dmr_hb_heard(&h, 1000);
    dmr_hb_heard(&h, 900);           /* backwards */
    dmr_hb_heard(&h, 900 + 7200000); /* two hours */
    cr_assert_eq(h.n, 0);
    double phi = dmr_hb_phi(&h, 900 + 7200000 + 1e9, 250);
    cr_assert(phi >= 0 && phi <= 300, "phi %.2f out of range", phi);
}
