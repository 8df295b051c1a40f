/* log.c -- one levelled logger for every dmr process. */
#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char s_role[64] = "dmr";
static int s_level = -1;

void dmr_log_set_role(const char *role)
{
    snprintf(s_role, sizeof s_role, "%s", role);
}

void dmr_log_set_level(dmr_log_level_t level)
{
    s_level = (int)level;
}

dmr_log_level_t dmr_log_get_level(void)
{
    if (s_level < 0) {
        const char *e = getenv("DMR_LOG");
        s_level = DMR_LOG_INFO;
        if (e && strcasecmp(e, "debug") == 0)
            s_level = DMR_LOG_DEBUG;
        else if (e && strcasecmp(e, "warn") == 0)
            s_level = DMR_LOG_WARN;
        else if (e && strcasecmp(e, "error") == 0)
            s_level = DMR_LOG_ERROR;
    }
    return (dmr_log_level_t)s_level;
}

void dmr_log(dmr_log_level_t level, const char *component, const char *fmt, ...)
{
    static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    if ((int)level < (int)dmr_log_get_level())
        return;

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);

    /* Build the whole line first so concurrent writers do not interleave. */
    char line[2048];
    int n = snprintf(line, sizeof line, "%s.%03d %s[%d] %s %s: ", when,
                     (int)(tv.tv_usec / 1000), s_role, (int)getpid(),
                     names[level], component);
    va_list ap;
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    fwrite(line, 1, (size_t)n, stderr);
    fflush(stderr);
}
