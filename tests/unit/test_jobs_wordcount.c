/* test_jobs_wordcount.c -- the wordcount job's map, combine and reduce,
 * called directly.
 *
 * The job is compiled into this test by including its source (no dlopen):
 * its dmr_job_def is renamed so that it cannot clash with anything else
 * linked into the unit-test binary. The context is a mock that records
 * emitted pairs as "key=value\n" lines and failure messages. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"

#define dmr_job_def test_wordcount_job_def
#include "jobs/wordcount.c"
#undef dmr_job_def

/* The mock's value iterator (dmr_values is opaque to jobs). */
struct dmr_values {
    const char *const *v;
    size_t n;
    size_t i;
};

typedef struct {
    dmr_ctx head; /* must be first: jobs see a dmr_ctx * */
    dmr_buf_t out;
    char fail[256];
} s_mock_t;

static int s_mock_emit(dmr_ctx *ctx, dmr_slice key, dmr_slice value)
{
    s_mock_t *m = (s_mock_t *)ctx;
    dmr_buf_append(&m->out, key.ptr, key.len);
    dmr_buf_putc(&m->out, '=');
    dmr_buf_append(&m->out, value.ptr, value.len);
    dmr_buf_putc(&m->out, '\n');
    return 0;
}

static const char *s_mock_param(dmr_ctx *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static void s_mock_fail(dmr_ctx *ctx, const char *msg)
{
    s_mock_t *m = (s_mock_t *)ctx;
    snprintf(m->fail, sizeof m->fail, "%s", msg);
}

static int s_mock_next(dmr_values *vals, dmr_slice *value)
{
    if (vals->i == vals->n)
        return 0;
    *value = dmr_str(vals->v[vals->i++]);
    return 1;
}

static const dmr_ctx_ops s_ops = {s_mock_emit, s_mock_param, s_mock_fail,
                                  s_mock_next};

static s_mock_t s_mock;

static void s_setup(void)
{
    memset(&s_mock, 0, sizeof s_mock);
    s_mock.head.ops = &s_ops;
    s_mock.head.nreduce = 1;
}

static void s_teardown(void)
{
    dmr_buf_free(&s_mock.out);
}

TestSuite(wordcount, .init = s_setup, .fini = s_teardown, .timeout = 10);

static const char *s_map_line(const char *line, size_t len)
{
    const dmr_job *job = &test_wordcount_job_def;
    dmr_record rec = {{line, len}, {"f.txt", 5}, 0, 0};
    cr_assert_eq(job->map(&s_mock.head, &rec), 0);
    return s_mock.out.data ? s_mock.out.data : "";
}

static int s_group(int (*fn)(dmr_ctx *, dmr_slice, dmr_values *),
                   const char *key, const char *const *v, size_t n)
{
    dmr_values vals = {v, n, 0};
    return fn(&s_mock.head, dmr_str(key), &vals);
}

Test(wordcount, job_is_defined_with_abi_and_callbacks, .timeout = 10)
{
    const dmr_job *job = &test_wordcount_job_def;
    cr_assert_eq(job->abi, DMR_JOB_ABI);
    cr_assert_str_eq(job->name, "wordcount");
    cr_assert(job->map && job->reduce && job->combine);
    cr_assert_null(job->partition);
    cr_assert_null(job->compare);
}

Test(wordcount, map_emits_each_run_of_letters_with_case_kept, .timeout = 10)
{
    const char *line = "Hello, world! hello HELLO x1y--z";
    cr_assert_str_eq(s_map_line(line, strlen(line)),
                     "Hello=1\nworld=1\nhello=1\nHELLO=1\nx=1\ny=1\nz=1\n");
}

Test(wordcount, map_splits_at_non_ascii_bytes_and_nul, .timeout = 10)
{
    const char line[] = "caf\xc3\xa9x\0ab\tcd\x7f"
                        "e";
    cr_assert_str_eq(s_map_line(line, sizeof line - 1),
                     "caf=1\nx=1\nab=1\ncd=1\ne=1\n");
}

Test(wordcount, map_of_a_line_without_letters_emits_nothing, .timeout = 10)
{
    cr_assert_str_eq(s_map_line("", 0), "");
    cr_assert_str_eq(s_map_line(" 12 -- 34 ", 10), "");
}

Test(wordcount, combine_and_reduce_sum_decimal_counts, .timeout = 10)
{
    const char *v[] = {"1", "2", "40", "0"};
    cr_assert_eq(s_group(test_wordcount_job_def.combine, "w", v, 4), 0);
    cr_assert_eq(s_group(test_wordcount_job_def.reduce, "w", v, 1), 0);
    cr_assert_str_eq(s_mock.out.data, "w=43\nw=1\n");
}

Test(wordcount, reduce_handles_the_largest_count, .timeout = 10)
{
    const char *v[] = {"18446744073709551614", "1"};
    cr_assert_eq(s_group(test_wordcount_job_def.reduce, "w", v, 2), 0);
    cr_assert_str_eq(s_mock.out.data, "w=18446744073709551615\n");
}

Test(wordcount, reduce_fails_on_a_bad_count_and_says_why, .timeout = 10)
{
    static const char *const bad[][2] = {
        {"1", "1a"},
        {"", "1"},
        {"-1", "1"},
        {"18446744073709551615", "1"},
        {"99999999999999999999", "0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s_mock.fail[0] = '\0';
        cr_assert_neq(s_group(test_wordcount_job_def.reduce, "w", bad[i], 2), 0,
                      "values %s, %s", bad[i][0], bad[i][1]);
        cr_assert(strstr(s_mock.fail, "wordcount") != NULL,
                  "fail message: '%s'", s_mock.fail);
    }
    cr_assert_null(s_mock.out.data, "nothing was emitted");
}
