/* Prometheus text endpoint on libmicrohttpd's internal polling thread. */
#include "metrics_http.h"

#include "error.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct sky_metrics_http {
    struct MHD_Daemon *daemon;
    sky_metrics_render_fn *fn;
    void *opaque;
    int port;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
    sky_metrics_http_t *m = cls;
    (void)version, (void)upload, (void)upload_size, (void)con_cls;
    int found = strcmp(url, "/metrics") == 0;
    sky_buf_t body;
    sky_buf_init(&body, 0);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        sky_buf_add_str(&body, "method not allowed\n");
    else if (!found)
        sky_buf_add_str(&body, "not found: try /metrics\n");
    else if (m->fn(m->opaque, &body))
        sky_buf_add_str(&body, "# render failed\n");
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        body.len, body.len ? body.data : (void *)"", MHD_RESPMEM_MUST_COPY);
    sky_buf_free(&body);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4");
    enum MHD_Result rc = MHD_queue_response(conn, found ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND, resp);
    MHD_destroy_response(resp);
    return rc;
}

sky_metrics_http_t *sky_metrics_http_start(const char *host, int port, sky_metrics_render_fn *fn,
                                           void *opaque, char *errstr, size_t errstr_size) {
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        sky_err(errstr, errstr_size, SKY_EUSAGE, "--metrics: \"%s\" is not an IPv4 address",
                host);
        return NULL;
    }
    sky_metrics_http_t *m = calloc(1, sizeof *m);
    if (!m) {
        sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory starting the metrics server");
        return NULL;
    }
    m->fn = fn;
    m->opaque = opaque;
    m->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL,
                                 answer, m, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
    if (!m->daemon) {
        sky_err(errstr, errstr_size, SKY_EIO, "--metrics %s:%d: cannot listen (port in use?)",
                host, port);
        free(m);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info ? info->port : port;
    return m;
}

int sky_metrics_http_port(const sky_metrics_http_t *m) {
    return m->port;
}

void sky_metrics_http_stop(sky_metrics_http_t *m) {
    if (!m)
        return;
    MHD_stop_daemon(m->daemon);
    free(m);
}

int sky_metrics_add_counter(sky_buf_t *out, const char *name, const char *help, const char *type,
                            int64_t value) {
    return sky_buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n%s %lld\n", name, help, name, type, name,
                        (long long)value);
}

int sky_metrics_add_summary(sky_buf_t *out, const char *name, const char *help,
                            const sky_hist_t *h, double scale) {
    static const double quantiles[] = {0.5, 0.9, 0.99, 0.999};
    int rc = sky_buf_addf(out, "# HELP %s %s\n# TYPE %s summary\n", name, help, name);
    for (size_t i = 0; !rc && i < sizeof quantiles / sizeof quantiles[0]; i++)
        rc = sky_buf_addf(out, "%s{quantile=\"%g\"} %.6f\n", name, quantiles[i],
                          (double)sky_hist_percentile(h, quantiles[i] * 100.0) / scale);
    uint64_t n = sky_hist_count(h);
    return rc ? rc
              : sky_buf_addf(out, "%s_sum %.6f\n%s_count %llu\n", name,
                             sky_hist_mean(h) * (double)n / scale, name, (unsigned long long)n);
}
