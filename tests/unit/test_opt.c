/* test_opt.c -- the table-driven option parser: every accepted spelling,
 * defaults, repeated lists, positional arguments, and the error texts a
 * user sees. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/opt.h"

static const dmr_opt_t s_opts[] = {
    {"output", 'o', DMR_OPT_STR, "DIR", NULL, "output directory", 0, 0},
    {"reduces", 'R', DMR_OPT_INT, "N", "4", "number of reduce tasks", 1, 100},
    {"quiet", 'q', DMR_OPT_FLAG, NULL, NULL, "no progress output", 0, 0},
    {"define", 'D', DMR_OPT_LIST, "KEY=VALUE", NULL, "job parameter", 0, 0},
    {"mode", 0, DMR_OPT_STR, "MODE", "fast", "a long-only option", 0, 0},
    {"offset", 0, DMR_OPT_INT, NULL, NULL, "may be negative", -10, 10},
    {"tag", 't', DMR_OPT_LIST, "TAG", "untagged", "a list with a default", 0,
     0},
};

static const dmr_cmd_t s_cmd = {
    .name = "dmr test",
    .synopsis = "JOB [FILE...]",
    .summary = "Parses options for the tests.",
    .opts = s_opts,
    .nopts = sizeof s_opts / sizeof *s_opts,
    .min_pos = 1,
    .max_pos = 3,
};

/* Parses a NULL-terminated argument list (after the program name). */
static int s_parse(dmr_args_t *a, char *err, size_t errlen, char **rest)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "dmr-test";
    while (*rest) {
        cr_assert_lt(argc, 31);
        argv[argc++] = *rest++;
    }
    argv[argc] = NULL;
    err[0] = '\0';
    return dmr_args_parse(&s_cmd, argc, argv, a, err, errlen);
}

#define PARSE(a, err, ...)                                                     \
    s_parse(&(a), (err), sizeof(err), (char *[]){__VA_ARGS__, NULL})

static const dmr_optval_t *s_get(const dmr_args_t *a, const char *name)
{
    return dmr_args_get(&s_cmd, a, name);
}

/* Parsing must succeed. */
#define PARSE_OK(a, err, ...)                                                  \
    do {                                                                       \
        int rc_ = PARSE(a, err, __VA_ARGS__);                                  \
        cr_assert_eq(rc_, 0, "parse failed (%s): %s", dmr_strerror(rc_), err); \
    } while (0)

/* Parsing must fail with DMR_EINVAL and err mentioning each needle. */
static void s_expect_error(int rc, const char *err, const char *needle,
                           const char *needle2)
{
    cr_assert_eq(rc, DMR_EINVAL, "got %d (%s), want DMR_EINVAL; err \"%s\"", rc,
                 dmr_strerror(rc), err);
    cr_assert(strstr(err, needle), "err \"%s\" does not mention \"%s\"", err,
              needle);
    cr_assert(!needle2 || strstr(err, needle2),
              "err \"%s\" does not mention \"%s\"", err, needle2);
}

static void s_check_pos(const dmr_args_t *a, size_t n, const char *const *want)
{
    cr_assert_eq(a->npos, n, "%zu positional arguments, want %zu", a->npos, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(a->pos[i], want[i],
                         "positional %zu: got \"%s\", want \"%s\"", i,
                         a->pos[i], want[i]);
}

static void s_check_list(const dmr_optval_t *v, size_t n,
                         const char *const *want)
{
    cr_assert_eq(v->nlist, n, "%zu list values, want %zu", v->nlist, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_str_eq(v->list[i], want[i],
                         "list value %zu: got \"%s\", want \"%s\"", i,
                         v->list[i], want[i]);
}

Test(opt, a_long_option_takes_the_next_argument_as_its_value, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "--output", "out1", "job");
    const dmr_optval_t *v = s_get(&a, "output");
    cr_assert(v->set);
    cr_assert_str_eq(v->str, "out1");
    s_check_pos(&a, 1, (const char *[]){"job"});
    dmr_args_free(&a);
}

Test(opt, a_long_option_takes_a_value_after_an_equals_sign, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "--output=out2", "job", "--define=k=v=w", "--mode=");
    cr_assert_str_eq(s_get(&a, "output")->str, "out2");
    /* Only the first '=' separates; the value may hold more, or be empty. */
    s_check_list(s_get(&a, "define"), 1, (const char *[]){"k=v=w"});
    cr_assert(s_get(&a, "mode")->set);
    cr_assert_str_eq(s_get(&a, "mode")->str, "");
    dmr_args_free(&a);
}

Test(opt, a_short_option_takes_the_next_argument_as_its_value, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "-o", "out3", "-R", "7", "job");
    cr_assert_str_eq(s_get(&a, "output")->str, "out3");
    cr_assert_eq(s_get(&a, "reduces")->num, 7);
    cr_assert(s_get(&a, "reduces")->set);
    dmr_args_free(&a);
}

Test(opt, a_short_option_takes_an_attached_value, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "-oout4", "-R12", "job", "-Dsplit_mb=8");
    cr_assert_str_eq(s_get(&a, "output")->str, "out4");
    cr_assert_eq(s_get(&a, "reduces")->num, 12);
    cr_assert_str_eq(s_get(&a, "reduces")->str, "12");
    s_check_list(s_get(&a, "define"), 1, (const char *[]){"split_mb=8"});
    dmr_args_free(&a);
}

Test(opt, a_value_may_look_like_an_option, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "--offset", "-3", "-o", "-q", "job");
    cr_assert_eq(s_get(&a, "offset")->num, -3);
    cr_assert_str_eq(s_get(&a, "output")->str, "-q");
    cr_assert(!s_get(&a, "quiet")->set, "the value \"-q\" set the flag");
    dmr_args_free(&a);
}

Test(opt, flags_are_set_by_long_and_short_names, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "job");
    cr_assert(!s_get(&a, "quiet")->set);
    cr_assert_eq(s_get(&a, "quiet")->num, 0);
    dmr_args_free(&a);

    PARSE_OK(a, err, "--quiet", "job");
    cr_assert(s_get(&a, "quiet")->set);
    cr_assert_eq(s_get(&a, "quiet")->num, 1);
    dmr_args_free(&a);

    PARSE_OK(a, err, "job", "-q", "-q");
    cr_assert_eq(s_get(&a, "quiet")->num, 1);
    cr_assert_eq(a.npos, 1);
    dmr_args_free(&a);
}

Test(opt, a_flag_refuses_a_value, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    s_expect_error(PARSE(a, err, "job", "--quiet=yes"), err, "--quiet",
                   "takes no value");
    dmr_args_free(&a);
    s_expect_error(PARSE(a, err, "job", "-qx"), err, "-q", "takes no value");
    dmr_args_free(&a);
}

Test(opt, repeated_list_options_collect_every_value_in_order, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "-D", "a=1", "job", "--define", "b=2", "-Dc=3",
             "--define=d=4", "in1");
    const dmr_optval_t *v = s_get(&a, "define");
    cr_assert(v->set);
    s_check_list(v, 4, (const char *[]){"a=1", "b=2", "c=3", "d=4"});
    s_check_pos(&a, 2, (const char *[]){"job", "in1"});
    dmr_args_free(&a);
}

Test(opt, a_list_default_applies_only_when_the_option_is_absent, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "job");
    cr_assert(!s_get(&a, "tag")->set);
    s_check_list(s_get(&a, "tag"), 1, (const char *[]){"untagged"});
    dmr_args_free(&a);

    PARSE_OK(a, err, "job", "-t", "x", "--tag", "y");
    cr_assert(s_get(&a, "tag")->set);
    s_check_list(s_get(&a, "tag"), 2, (const char *[]){"x", "y"});
    dmr_args_free(&a);
}

Test(opt, positional_arguments_mix_with_options, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "job", "-q", "in1", "--output", "o", "in2");
    s_check_pos(&a, 3, (const char *[]){"job", "in1", "in2"});
    cr_assert(s_get(&a, "quiet")->set);
    cr_assert_str_eq(s_get(&a, "output")->str, "o");
    dmr_args_free(&a);
}

Test(opt, a_double_dash_ends_the_options, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "job", "--", "--quiet", "-o");
    s_check_pos(&a, 3, (const char *[]){"job", "--quiet", "-o"});
    cr_assert(!s_get(&a, "quiet")->set);
    cr_assert_null(s_get(&a, "output")->str);
    dmr_args_free(&a);

    /* After "--", even --help is an argument. */
    PARSE_OK(a, err, "--", "--help");
    cr_assert(!a.help);
    s_check_pos(&a, 1, (const char *[]){"--help"});
    dmr_args_free(&a);
}

Test(opt, a_lone_dash_is_a_positional_argument, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "job", "-");
    s_check_pos(&a, 2, (const char *[]){"job", "-"});
    dmr_args_free(&a);
}

Test(opt, an_unknown_option_is_named_in_the_error, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    s_expect_error(PARSE(a, err, "job", "--bogus"), err,
                   "dmr test: unknown option --bogus", "dmr test --help");
    dmr_args_free(&a);
    s_expect_error(PARSE(a, err, "job", "--bogus=1"), err,
                   "unknown option --bogus ", NULL);
    dmr_args_free(&a);
    s_expect_error(PARSE(a, err, "-Z", "job"), err, "unknown option -Z", NULL);
    dmr_args_free(&a);
    /* A prefix of a long name is not that name. */
    s_expect_error(PARSE(a, err, "job", "--out", "x"), err,
                   "unknown option --out ", NULL);
    dmr_args_free(&a);
}

Test(opt, an_option_missing_its_value_is_an_error, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    s_expect_error(PARSE(a, err, "job", "--output"), err, "--output",
                   "needs a value (DIR)");
    dmr_args_free(&a);
    s_expect_error(PARSE(a, err, "job", "-R"), err, "-R", "needs a value (N)");
    dmr_args_free(&a);
    /* An option without a placeholder still says what it wants. */
    s_expect_error(PARSE(a, err, "job", "--offset"), err, "--offset",
                   "needs a value (VALUE)");
    dmr_args_free(&a);
}

Test(opt, an_integer_outside_its_bounds_is_an_error, .timeout = 10)
{
    static const char *bad[] = {"0", "101", "abc",
                                "",  "7x",  "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        dmr_args_t a;
        char err[256];
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        s_expect_error(PARSE(a, err, "job", "--reduces", (char *)bad[i]), err,
                       "--reduces takes an integer from 1 to 100", quoted);
        dmr_args_free(&a);
    }
    dmr_args_t a;
    char err[256];
    s_expect_error(PARSE(a, err, "job", "--offset=-11"), err, "from -10 to 10",
                   "'-11'");
    dmr_args_free(&a);

    /* The bounds themselves are in. */
    PARSE_OK(a, err, "job", "-R", "1", "--offset", "-10");
    cr_assert_eq(s_get(&a, "reduces")->num, 1);
    cr_assert_eq(s_get(&a, "offset")->num, -10);
    dmr_args_free(&a);
    PARSE_OK(a, err, "job", "-R100", "--offset=10");
    cr_assert_eq(s_get(&a, "reduces")->num, 100);
    cr_assert_eq(s_get(&a, "offset")->num, 10);
    dmr_args_free(&a);
}

Test(opt, too_few_positional_arguments_is_an_error, .timeout = 10)
{
    dmr_args_t a;
    char err[256] = "";
    char *argv[] = {"dmr-test", NULL};
    int rc = dmr_args_parse(&s_cmd, 1, argv, &a, err, sizeof err);
    s_expect_error(rc, err, "missing argument", "dmr test JOB [FILE...]");
    dmr_args_free(&a);
    s_expect_error(PARSE(a, err, "-q"), err, "missing argument", NULL);
    dmr_args_free(&a);
}

Test(opt, too_many_positional_arguments_is_an_error, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "a", "b", "c");
    dmr_args_free(&a);
    s_expect_error(PARSE(a, err, "a", "b", "c", "d", "e"), err,
                   "unexpected argument 'd'", "dmr test JOB [FILE...]");
    dmr_args_free(&a);
}

Test(opt, help_is_reported_and_skips_the_argument_count, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "--help");
    cr_assert(a.help);
    dmr_args_free(&a);
    PARSE_OK(a, err, "a", "b", "c", "d", "-h");
    cr_assert(a.help);
    dmr_args_free(&a);
    PARSE_OK(a, err, "job");
    cr_assert(!a.help);
    dmr_args_free(&a);
}

Test(opt, defaults_apply_to_absent_options, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "job");
    const dmr_optval_t *r = s_get(&a, "reduces");
    cr_assert(!r->set, "a default counts as given");
    cr_assert_eq(r->num, 4);
    cr_assert_str_eq(r->str, "4");
    cr_assert_str_eq(s_get(&a, "mode")->str, "fast");
    cr_assert(!s_get(&a, "mode")->set);
    cr_assert_null(s_get(&a, "output")->str);
    cr_assert_null(s_get(&a, "offset")->str);
    cr_assert_eq(s_get(&a, "offset")->num, 0);
    cr_assert_eq(s_get(&a, "define")->nlist, 0);
    dmr_args_free(&a);
}

Test(opt, a_given_value_replaces_the_default, .timeout = 10)
{
    dmr_args_t a;
    char err[256];
    PARSE_OK(a, err, "job", "--reduces", "9", "--mode", "slow");
    cr_assert(s_get(&a, "reduces")->set);
    cr_assert_eq(s_get(&a, "reduces")->num, 9);
    cr_assert_str_eq(s_get(&a, "mode")->str, "slow");
    dmr_args_free(&a);
    /* For a single-valued option the last one wins. */
    PARSE_OK(a, err, "job", "-o", "first", "--output=second");
    cr_assert_str_eq(s_get(&a, "output")->str, "second");
    dmr_args_free(&a);
}

Test(opt, a_bad_integer_default_is_reported, .timeout = 10)
{
    static const dmr_opt_t opts[] = {
        {"n", 'n', DMR_OPT_INT, "N", "zero", "a broken default", 0, 5},
    };
    static const dmr_cmd_t cmd = {"dmr broken", "", NULL, opts, 1, 0, 0};
    dmr_args_t a;
    char err[256] = "";
    char *argv[] = {"dmr-broken", NULL};
    s_expect_error(dmr_args_parse(&cmd, 1, argv, &a, err, sizeof err), err,
                   "--n", "'zero'");
    dmr_args_free(&a);
}

Test(opt, usage_lists_every_option, .timeout = 10)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    dmr_cmd_usage(&s_cmd, f);
    fclose(f);
    static const char *want[] = {
        "usage: dmr test JOB [FILE...]",
        "Parses options for the tests.",
        "-o, --output DIR",
        "-R, --reduces N",
        "(default 4)",
        "-q, --quiet ",
        "--define KEY=VALUE",
        "job parameter (repeatable)",
        "    --mode MODE",
        "--offset VALUE",
        "-h, --help",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        cr_assert(strstr(text, want[i]), "usage lacks \"%s\":\n%s", want[i],
                  text);
    free(text);
}
