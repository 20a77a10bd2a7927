/* report.html and capacity.html: the data as inline JSON, the page's script
 * (web/report.js) and its libraries inline, from the embedded assets. */
#include "report_html.h"

#include "dynbuf.h"
#include "error.h"
#include "report.h"
#include "timefmt.h"
#include "web_assets.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

size_t sky_report_curve(const sky_hist_t *h, double *x, double *ms, size_t cap) {
    uint64_t count = sky_hist_count(h);
    size_t n = 0;
    if (!count)
        return 0;
    double top = log10((double)count);
    for (int k = 0; n < cap && k / 10.0 <= top; k++) {
        double xv = pow(10.0, k / 10.0), p = 100.0 * (1.0 - 1.0 / xv);
        x[n] = xv;
        ms[n++] = (double)sky_hist_percentile(h, p) / 1000.0;
    }
    if (n < cap) { /* the maximum closes the curve */
        x[n] = (double)count > x[n - 1] ? (double)count : x[n - 1] * 1.2;
        ms[n++] = (double)sky_hist_max(h) / 1000.0;
    }
    return n;
}

/* ---- the page ----------------------------------------------------------------- */

/* Appends text, with "</" written "<\/" so that nothing inside a <script> closes it
 * (the same characters in JavaScript strings and JSON). */
static int add_script_safe(sky_buf_t *b, const char *s, size_t len) {
    size_t from = 0;
    int rc = 0;
    for (size_t i = 0; i + 1 < len && !rc; i++)
        if (s[i] == '<' && s[i + 1] == '/') {
            rc |= sky_buf_add(b, s + from, i + 1 - from);
            rc |= sky_buf_add_char(b, '\\');
            from = i + 1;
        }
    return rc | (len > from ? sky_buf_add(b, s + from, len - from) : 0);
}

static int add_asset(sky_buf_t *b, const char *name, const char *open, const char *close,
                     char *errstr, size_t errstr_size) {
    const sky_web_asset_t *a = sky_web_asset(name);
    if (!a)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "web asset %s is not in this build", name);
    int rc = sky_buf_add_str(b, open) | add_script_safe(b, (const char *)a->data, a->size) |
             sky_buf_add_str(b, close);
    return rc ? sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory") : 0;
}

static void html_escape(sky_buf_t *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': sky_buf_add_str(b, "&lt;"); break;
        case '>': sky_buf_add_str(b, "&gt;"); break;
        case '&': sky_buf_add_str(b, "&amp;"); break;
        case '"': sky_buf_add_str(b, "&quot;"); break;
        default: sky_buf_add_char(b, *s);
        }
    }
}

static int write_page(const char *path, const char *title, const sky_buf_t *data, char *errstr,
                      size_t errstr_size) {
    sky_buf_t b;
    sky_buf_init(&b, 0);
    int rc = sky_buf_add_str(&b, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta "
                                 "charset=\"utf-8\">\n<meta name=\"viewport\" "
                                 "content=\"width=device-width, initial-scale=1\">\n"
                                 "<meta name=\"generator\" content=\"skyload " SKY_VERSION "\">\n"
                                 "<link rel=\"icon\" href=\"data:,\">\n<title>");
    html_escape(&b, title);
    rc |= sky_buf_add_str(&b, "</title>\n");
    static const char *const css[] = {"leaflet.css", "uplot.css", "report.css"};
    for (size_t i = 0; !rc && i < sizeof css / sizeof css[0]; i++)
        rc = add_asset(&b, css[i], "<style>\n", "\n</style>\n", errstr, errstr_size);
    if (!rc) {
        rc = sky_buf_add_str(&b, "</head>\n<body>\n<div id=\"app\"><noscript>This report draws "
                                 "its tables and charts with JavaScript; the same data is in "
                                 "verify.json.</noscript></div>\n"
                                 "<script type=\"application/json\" id=\"sky-data\">") |
             add_script_safe(&b, data->data, data->len) | sky_buf_add_str(&b, "</script>\n");
        if (rc)
            rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    }
    if (!rc)
        rc = add_asset(&b, "countries-110m.json",
                       "<script type=\"application/json\" id=\"sky-world\">", "</script>\n",
                       errstr, errstr_size);
    static const char *const js[] = {"leaflet.js", "topojson-client.js", "uplot.js", "world.js",
                                     "report.js"};
    for (size_t i = 0; !rc && i < sizeof js / sizeof js[0]; i++)
        rc = add_asset(&b, js[i], "<script>\n", "\n</script>\n", errstr, errstr_size);
    if (!rc && sky_buf_add_str(&b, "</body>\n</html>\n"))
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    if (!rc) {
        /* written whole, then renamed: a reader never sees half a page */
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        if (!f)
            rc = sky_err(errstr, errstr_size, SKY_EIO, "%s: %s", tmp, strerror(errno));
        else if ((fwrite(b.data, 1, b.len, f) != b.len) | fclose(f))
            rc = sky_err(errstr, errstr_size, SKY_EIO, "%s: write failed", tmp);
        else if (rename(tmp, path))
            rc = sky_err(errstr, errstr_size, SKY_EIO, "%s: %s", path, strerror(errno));
    }
    sky_buf_free(&b);
    return rc;
}

/* ---- the run report's data -------------------------------------------------------- */

static int add_curves(const sky_verify_report_t *r, sky_buf_t *b) {
    double x[128], ms[128];
    int rc = sky_buf_add_str(b, ",\"curves\":[");
    bool first = true;
    for (size_t i = 0; i < r->nstages && !rc; i++) {
        const sky_verify_stage_t *s = &r->stages[i];
        size_t n = sky_report_curve(s->hist, x, ms, 128);
        if (!n)
            continue;
        rc |= sky_buf_add_str(b, first ? "{\"stage\":" : ",{\"stage\":");
        first = false;
        rc |= sky_buf_add_json_str(b, s->name, strlen(s->name));
        rc |= sky_buf_add_str(b, ",\"source\":");
        rc |= sky_buf_add_json_str(b, s->source, strlen(s->source));
        rc |= sky_buf_addf(b, ",\"count\":%llu,\"x\":[", (unsigned long long)sky_hist_count(s->hist));
        for (size_t k = 0; k < n; k++)
            rc |= sky_buf_addf(b, "%s%.6g", k ? "," : "", x[k]);
        rc |= sky_buf_add_str(b, "],\"ms\":[");
        for (size_t k = 0; k < n; k++)
            rc |= sky_buf_addf(b, "%s%.6g", k ? "," : "", ms[k]);
        rc |= sky_buf_add_str(b, "],\"slo\":[");
        bool f2 = true;
        for (int p = 0; p < SKY_VERIFY_NPCT; p++)
            if (s->slo_ms[p] >= 0) {
                rc |= sky_buf_addf(b, "%s{\"pct\":%g,\"name\":\"%s\",\"ms\":%g}", f2 ? "" : ",",
                                   sky_verify_pct_values[p], sky_verify_pct_names[p], s->slo_ms[p]);
                f2 = false;
            }
        rc |= sky_buf_add_str(b, "]}");
    }
    return rc | sky_buf_add_char(b, ']');
}

int sky_verify_report_write_html(const sky_verify_report_t *r, const sky_report_tracks_t *tracks,
                                 const char *tracks_error, const char *path, char *errstr,
                                 size_t errstr_size) {
    sky_buf_t b;
    char *verify_json = NULL;
    size_t vlen = 0;
    FILE *mem = open_memstream(&verify_json, &vlen);
    int rc = mem ? sky_verify_report_write(r, SKY_VERIFY_FORMAT_JSON, mem) : SKY_ENOMEM;
    if (mem && fclose(mem))
        rc = SKY_ENOMEM;
    if (rc) {
        free(verify_json);
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory rendering %s", path);
    }
    char now[SKY_TS_MAX + 1];
    now[sky_ts_format(sky_now_ns() / 1000000, SKY_TS_ISO8601, now)] = '\0';
    sky_buf_init(&b, 0);
    rc = sky_buf_addf(&b, "{\"kind\":\"verify\",\"generated\":\"%s\",\"version\":\"%s\","
                          "\"verify\":",
                      now, SKY_VERSION);
    rc |= sky_buf_add(&b, verify_json, vlen);
    free(verify_json);
    rc |= add_curves(r, &b);
    rc |= sky_buf_add_str(&b, ",\"tracks\":");
    if (tracks)
        rc |= sky_report_tracks_write_json(tracks, &b);
    else
        rc |= sky_buf_add_str(&b, "null");
    if (tracks_error) {
        rc |= sky_buf_add_str(&b, ",\"tracks_error\":");
        rc |= sky_buf_add_json_str(&b, tracks_error, strlen(tracks_error));
    }
    rc |= sky_buf_add_str(&b, "}");
    char title[320];
    snprintf(title, sizeof title, "skyload run %s: %s", r->run_ids[0] ? r->run_ids : "?",
             sky_verify_report_passed(r) ? "PASS" : "FAIL");
    if (rc)
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory rendering %s", path);
    else
        rc = write_page(path, title, &b, errstr, errstr_size);
    sky_buf_free(&b);
    return rc;
}

int sky_verify_write_report_page(const sky_verify_report_t *r, const sky_kconf_t *kafka,
                                 const char *topic, const char *const *manifest_paths,
                                 size_t nmanifests, const char *path, char *errstr,
                                 size_t errstr_size) {
    sky_report_tracks_config_t tc = {.kafka = kafka, .topic = topic,
                                     .manifest_paths = manifest_paths, .nmanifests = nmanifests};
    sky_report_tracks_t *tracks = NULL;
    char terr[512] = "";
    if (sky_report_tracks_read(&tc, &tracks, terr, sizeof terr))
        tracks = NULL;
    int rc = sky_verify_report_write_html(r, tracks, tracks ? NULL : terr, path, errstr,
                                          errstr_size);
    sky_report_tracks_destroy(tracks);
    return rc;
}

int sky_capacity_write_html(const json_t *capacity, const char *path, char *errstr,
                            size_t errstr_size) {
    char *text = json_dumps(capacity, JSON_COMPACT | JSON_REAL_PRECISION(8));
    if (!text)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory rendering %s", path);
    char now[SKY_TS_MAX + 1];
    now[sky_ts_format(sky_now_ns() / 1000000, SKY_TS_ISO8601, now)] = '\0';
    sky_buf_t b;
    sky_buf_init(&b, 0);
    int rc = sky_buf_addf(&b, "{\"kind\":\"capacity\",\"generated\":\"%s\",\"version\":\"%s\","
                              "\"capacity\":",
                          now, SKY_VERSION) |
             sky_buf_add_str(&b, text) | sky_buf_add_char(&b, '}');
    free(text);
    if (rc)
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory rendering %s", path);
    else
        rc = write_page(path, "skyload bench capacity", &b, errstr, errstr_size);
    sky_buf_free(&b);
    return rc;
}
