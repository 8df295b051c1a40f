/* log.h -- one levelled logger for every dmr process.
 *
 * A line reads: "2026-11-26 13:45:01.123 master[1234] INFO sched: text".
 * Lower layers return errors; the layer that handles a failure logs it,
 * once. Output goes to stderr (a daemon's stderr is its log file). */
#ifndef DMR_LOG_H
#define DMR_LOG_H

typedef enum {
    DMR_LOG_DEBUG = 0,
    DMR_LOG_INFO = 1,
    DMR_LOG_WARN = 2,
    DMR_LOG_ERROR = 3,
} dmr_log_level_t;

/* Sets the role printed on every line ("master", "worker w2", ...). */
void dmr_log_set_role(const char *role);
/* Lines below level are dropped. Default INFO; $DMR_LOG=debug lowers it. */
void dmr_log_set_level(dmr_log_level_t level);
dmr_log_level_t dmr_log_get_level(void);

void dmr_log(dmr_log_level_t level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define dmr_debug(comp, ...) dmr_log(DMR_LOG_DEBUG, comp, __VA_ARGS__)
#define dmr_info(comp, ...) dmr_log(DMR_LOG_INFO, comp, __VA_ARGS__)
#define dmr_warn(comp, ...) dmr_log(DMR_LOG_WARN, comp, __VA_ARGS__)
#define dmr_error(comp, ...) dmr_log(DMR_LOG_ERROR, comp, __VA_ARGS__)

#endif
