/* opt.h -- one table per command drives option parsing, validation and
 * --help, so the three never disagree.
 *
 * Accepted spellings: --name VALUE, --name=VALUE, -x VALUE, -xVALUE, and
 * for flags --name / -x. Options and positional arguments may mix; "--"
 * ends options. "-D key=value" style options (DMR_OPT_LIST) repeat. */
#ifndef DMR_OPT_H
#define DMR_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    DMR_OPT_STR,  /* one string */
    DMR_OPT_INT,  /* an integer in [min, max] */
    DMR_OPT_FLAG, /* present or not */
    DMR_OPT_LIST, /* repeatable string */
} dmr_opt_kind_t;

typedef struct {
    const char *name; /* long name, without "--" */
    char short_name;  /* or 0 */
    dmr_opt_kind_t kind;
    const char *arg;  /* placeholder in help, e.g. "DIR" */
    const char *def;  /* default value (parsed like a given one), or NULL */
    const char *help; /* one line */
    int64_t min, max; /* bounds for DMR_OPT_INT */
} dmr_opt_t;

typedef struct {
    int set;           /* given on the command line */
    const char *str;   /* STR / INT text (default if not set) */
    int64_t num;       /* INT value, FLAG 0/1 */
    const char **list; /* LIST values (points into argv) */
    size_t nlist;
} dmr_optval_t;

typedef struct {
    const char *name;     /* "dmr submit" */
    const char *synopsis; /* "JOB --input PATH... --output DIR [options]" */
    const char *summary;  /* a paragraph printed under the usage line */
    const dmr_opt_t *opts;
    size_t nopts;
    size_t min_pos, max_pos; /* positional argument count bounds */
} dmr_cmd_t;

typedef struct {
    dmr_optval_t *vals; /* one per option, same order as the table */
    size_t nvals;
    const char **pos; /* positional arguments */
    size_t npos;
    int help; /* --help / -h was given */
} dmr_args_t;

/* Parses argv[1..argc) against cmd. Returns 0 (check args->help), or
 * DMR_EINVAL with a message naming the bad option in err. args must be
 * freed with dmr_args_free. */
int dmr_args_parse(const dmr_cmd_t *cmd, int argc, char **argv,
                   dmr_args_t *args, char *err, size_t errlen);
void dmr_args_free(dmr_args_t *args);

/* The value of option name (must exist in the table). */
const dmr_optval_t *dmr_args_get(const dmr_cmd_t *cmd, const dmr_args_t *args,
                                 const char *name);

/* Prints usage, summary and the option table. */
void dmr_cmd_usage(const dmr_cmd_t *cmd, FILE *out);

#endif
