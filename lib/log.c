/* The library's logger hook. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static sky_log_fn *log_fn;
static void *log_opaque;
static int log_max = SKY_LOG_INFO;

void sky_log_set(sky_log_fn *fn, void *opaque, int max_level) {
    log_fn = fn;
    log_opaque = opaque;
    log_max = max_level;
}

int sky_log_level(void) {
    return log_max;
}

void sky_log(int level, const char *fmt, ...) {
    if (!log_fn || level > log_max)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_fn(log_opaque, level, msg);
}

int sky_log_level_parse(const char *name) {
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}
