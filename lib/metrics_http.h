/* A tiny Prometheus endpoint: GET /metrics on HOST:PORT (libmicrohttpd, its own
 * thread) answers with the text the caller's render function writes. */
#ifndef SKY_METRICS_HTTP_H
#define SKY_METRICS_HTTP_H

#include "dynbuf.h"
#include "histogram.h"

#include <stddef.h>

typedef struct sky_metrics_http sky_metrics_http_t;

/* Appends the exposition text (text/plain; version=0.0.4) to out. Called on the
 * server's thread: it must be thread-safe with respect to opaque. */
typedef int(sky_metrics_render_fn)(void *opaque, sky_buf_t *out);

/* host must be a numeric IPv4 address ("127.0.0.1", "0.0.0.0"); port 0 picks a
 * free port (see sky_metrics_http_port). NULL with errstr on failure. */
sky_metrics_http_t *sky_metrics_http_start(const char *host, int port, sky_metrics_render_fn *fn,
                                           void *opaque, char *errstr, size_t errstr_size);
int sky_metrics_http_port(const sky_metrics_http_t *m);
void sky_metrics_http_stop(sky_metrics_http_t *m); /* NULL is fine */

/* Helpers for render functions. add_counter writes "# HELP/# TYPE" and one
 * sample (type "counter" or "gauge"); add_summary writes a Prometheus summary
 * (quantiles 0.5, 0.9, 0.99, 0.999, _sum, _count) of h, dividing values by
 * scale (1e6 turns microseconds into seconds). */
int sky_metrics_add_counter(sky_buf_t *out, const char *name, const char *help, const char *type,
                            int64_t value);
int sky_metrics_add_summary(sky_buf_t *out, const char *name, const char *help,
                            const sky_hist_t *h, double scale);

#endif
