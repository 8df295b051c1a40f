/* test_jobs_sort.c -- the sort job's range partitioner: cut points parsed
 * from -D cuts (or even ones), and a partition order that agrees with the
 * key order, which is what makes the parts one total order.
 *
 * The job is compiled in by including its source, as in
 * test_jobs_wordcount.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define dmr_job_def test_sort_job_def
#include "jobs/sort.c"
#undef dmr_job_def

TestSuite(sortjob, .timeout = 30);

static void s_key(uint64_t *x, char *k)
{
    for (int i = 0; i < KEY; i++) {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        k[i] = (char)(' ' + *x % 95);
    }
}

/* k1 <= k2 bytewise implies part(k1) <= part(k2), every part is used, and
 * a key equal to a cut goes above it. */
static void s_check_order(uint32_t r)
{
    uint64_t x = 88172645463325252ull;
    uint32_t *seen = calloc(r, sizeof *seen);
    for (int i = 0; i < 20000; i++) {
        char a[KEY], b[KEY];
        s_key(&x, a);
        s_key(&x, b);
        if (memcmp(a, b, KEY) > 0) {
            char t[KEY];
            memcpy(t, a, KEY);
            memcpy(a, b, KEY);
            memcpy(b, t, KEY);
        }
        uint32_t pa = s_partition((dmr_slice){a, KEY}, r);
        uint32_t pb = s_partition((dmr_slice){b, KEY}, r);
        cr_assert_leq(pa, pb, "keys out of partition order (R=%u)", r);
        cr_assert_lt(pb, r);
        seen[pa]++;
        seen[pb]++;
    }
    for (uint32_t p = 0; p < r; p++)
        cr_assert_gt(seen[p], 0, "part %u of %u got nothing", p, r);
    for (uint32_t c = 0; c < s_ncuts; c++)
        cr_assert_eq(s_partition((dmr_slice){(const char *)s_cuts[c], KEY}, r),
                     c + 1, "a key equal to cut %u", c);
    free(seen);
}

Test(sortjob, even_cuts_keep_the_key_order)
{
    uint32_t rs[] = {1, 2, 3, 7, 16};
    for (size_t i = 0; i < sizeof rs / sizeof *rs; i++) {
        s_even_cuts(rs[i]);
        cr_assert_eq(s_ncuts, rs[i] - 1);
        s_check_order(rs[i]);
    }
}

Test(sortjob, parsed_cuts_keep_the_key_order)
{
    /* "5" x10 and "Z" x10 in hex */
    cr_assert_eq(s_parse_cuts("35353535353535353535,5a5a5a5a5a5a5a5a5a5a"), 0);
    cr_assert_eq(s_ncuts, 2);
    s_check_order(3);
}

Test(sortjob, bad_cuts_are_refused)
{
    cr_assert_eq(s_parse_cuts("5a5a5a5a5a5a5a5a5a5a,35353535353535353535"), -1,
                 "unsorted");
    cr_assert_eq(s_parse_cuts("3535"), -1, "short");
    cr_assert_eq(s_parse_cuts("zz353535353535353535"), -1, "not hex");
    cr_assert_eq(s_parse_cuts("35353535353535353535;"), -1, "separator");
}
