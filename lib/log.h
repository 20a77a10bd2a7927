/* Logging: the library never prints; it calls the logger the caller installs. */
#ifndef SKY_LOG_H
#define SKY_LOG_H

enum sky_log_level { SKY_LOG_ERROR = 0, SKY_LOG_WARN, SKY_LOG_INFO, SKY_LOG_DEBUG };

typedef void(sky_log_fn)(void *opaque, int level, const char *msg);

/* Installs fn (NULL: discard everything) and the most verbose level to pass. */
void sky_log_set(sky_log_fn *fn, void *opaque, int max_level);
int sky_log_level(void);
void sky_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses "error|warn|info|debug"; returns the level or -1. */
int sky_log_level_parse(const char *name);

#define sky_log_error(...) sky_log(SKY_LOG_ERROR, __VA_ARGS__)
#define sky_log_warn(...) sky_log(SKY_LOG_WARN, __VA_ARGS__)
#define sky_log_info(...) sky_log(SKY_LOG_INFO, __VA_ARGS__)
#define sky_log_debug(...) sky_log(SKY_LOG_DEBUG, __VA_ARGS__)

#endif
