/* Rendering the verify report: a terminal table, JSON, JUnit XML and .hgrm files. */
#include "report.h"

#include "dynbuf.h"
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

/* A buffer with a sticky error, so the writers stay readable and one check at
 * the end catches any failed allocation. */
typedef struct out {
    sky_buf_t buf;
    int err;
} out_t;

static void out_str(out_t *o, const char *s) {
    o->err |= sky_buf_add_str(&o->buf, s);
}

static void out_char(out_t *o, char c) {
    o->err |= sky_buf_add_char(&o->buf, c);
}

__attribute__((format(printf, 2, 3))) static void out_fmt(out_t *o, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[1024];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof small)
        o->err |= SKY_EINVAL; /* every format here is short; longer means a bug */
    else
        o->err |= sky_buf_add(&o->buf, small, (size_t)n);
}

int sky_verify_format_parse(const char *name, sky_verify_format_t *out, char *errstr,
                            size_t errstr_size) {
    if (strcmp(name, "text") == 0)
        *out = SKY_VERIFY_FORMAT_TEXT;
    else if (strcmp(name, "json") == 0)
        *out = SKY_VERIFY_FORMAT_JSON;
    else if (strcmp(name, "junit") == 0)
        *out = SKY_VERIFY_FORMAT_JUNIT;
    else
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "--format \"%s\": expected text, json or junit", name);
    return 0;
}

static void add_example_text(out_t *b, const sky_verify_example_t *e) {
    out_str(b, e->flight[0] ? e->flight : "-");
    if (e->seq >= 0)
        out_fmt(b, " seq=%lld", (long long)e->seq);
    if (e->partition >= 0)
        out_fmt(b, " partition=%d", (int)e->partition);
    if (e->offset >= 0)
        out_fmt(b, " offset=%lld", (long long)e->offset);
    out_fmt(b, ": %s", e->detail);
}

static void write_stages_text(const sky_verify_report_t *r, out_t *b) {
    if (!r->nstages)
        return;
    out_fmt(b, "\n%-16s %-13s %10s %10s %10s %10s %10s %10s  %s\n", "latency (ms)", "source",
                 "count", "p50", "p90", "p99", "p99.9", "max", "SLO");
    for (size_t i = 0; i < r->nstages; i++) {
        const sky_verify_stage_t *s = &r->stages[i];
        bool has_slo = false;
        for (int p = 0; p < SKY_VERIFY_NPCT; p++)
            has_slo |= s->slo_ms[p] >= 0;
        if (sky_hist_count(s->hist) == 0 && !has_slo) /* e.g. tile38 when run without it */
            continue;
        out_fmt(b, "%-16s %-13s %10llu", s->name, s->source,
                     (unsigned long long)sky_hist_count(s->hist));
        for (int p = 0; p < SKY_VERIFY_NPCT; p++)
            out_fmt(b, " %10.3f",
                         (double)sky_hist_percentile(s->hist, sky_verify_pct_values[p]) / 1000.0);
        out_str(b, " ");
        for (int p = 0; p < SKY_VERIFY_NPCT; p++)
            if (s->slo_ms[p] >= 0)
                out_fmt(b, " %s<=%g", sky_verify_pct_names[p], s->slo_ms[p]);
        out_char(b, '\n');
    }
}

static int write_text(const sky_verify_report_t *r, out_t *b) {
    out_fmt(b, "skyload verify: run %s, topic %s, %lld flights, %.1f s\n\n", r->run_ids,
                 r->topic, (long long)r->flights, (double)r->elapsed_ms / 1000.0);
    out_fmt(b, "%-24s %-6s %s\n", "check", "result", "summary");
    for (size_t i = 0; i < r->nchecks; i++) {
        const sky_verify_check_t *c = &r->checks[i];
        out_fmt(b, "%-24s %-6s %s\n", c->name, sky_check_status_name(c->status), c->summary);
        if (c->ncounts) {
            out_fmt(b, "%31s", "");
            for (size_t k = 0; k < c->ncounts; k++)
                out_fmt(b, "%s%s=%lld", k ? ", " : "", c->counts[k].name,
                             (long long)c->counts[k].value);
            out_char(b, '\n');
        }
        for (size_t k = 0; k < c->nexamples; k++) {
            out_fmt(b, "%31s- ", "");
            add_example_text(b, &c->examples[k]);
            out_char(b, '\n');
        }
        if (c->nproblems > c->nexamples)
            out_fmt(b, "%31s... and %llu more\n", "",
                         (unsigned long long)(c->nproblems - c->nexamples));
    }
    write_stages_text(r, b);
    out_fmt(b, "\nresult: %s\n", sky_verify_report_passed(r) ? "PASS" : "FAIL");
    return 0;
}

static void json_str(out_t *b, const char *s) {
    b->err |= sky_buf_add_json_str(&b->buf, s, strlen(s));
}

static void write_check_json(const sky_verify_check_t *c, out_t *b) {
    out_str(b, "{\"name\":");
    json_str(b, c->name);
    out_str(b, ",\"status\":");
    json_str(b, c->status == SKY_CHECK_PASS ? "pass" : c->status == SKY_CHECK_FAIL ? "fail" : "skip");
    out_str(b, ",\"summary\":");
    json_str(b, c->summary);
    out_fmt(b, ",\"problems\":%llu,\"counts\":{", (unsigned long long)c->nproblems);
    for (size_t k = 0; k < c->ncounts; k++) {
        out_str(b, k ? "," : "");
        json_str(b, c->counts[k].name);
        out_fmt(b, ":%lld", (long long)c->counts[k].value);
    }
    out_str(b, "},\"examples\":[");
    for (size_t k = 0; k < c->nexamples; k++) {
        const sky_verify_example_t *e = &c->examples[k];
        out_str(b, k ? ",{\"flight_id\":" : "{\"flight_id\":");
        json_str(b, e->flight);
        out_fmt(b, ",\"seq\":%lld,\"partition\":%d,\"offset\":%lld,\"detail\":",
                     (long long)e->seq, (int)e->partition, (long long)e->offset);
        json_str(b, e->detail);
        out_char(b, '}');
    }
    out_str(b, "]}");
}

static void write_stage_json(const sky_verify_stage_t *s, out_t *b) {
    out_str(b, "{\"stage\":");
    json_str(b, s->name);
    out_str(b, ",\"source\":");
    json_str(b, s->source);
    out_fmt(b, ",\"count\":%llu", (unsigned long long)sky_hist_count(s->hist));
    for (int p = 0; p < SKY_VERIFY_NPCT; p++)
        out_fmt(b, ",\"%s_ms\":%.3f", sky_verify_pct_names[p],
                     (double)sky_hist_percentile(s->hist, sky_verify_pct_values[p]) / 1000.0);
    out_str(b, ",\"slo_ms\":{");
    int first = 1;
    for (int p = 0; p < SKY_VERIFY_NPCT; p++) {
        if (s->slo_ms[p] < 0)
            continue;
        out_fmt(b, "%s\"%s\":%g", first ? "" : ",", sky_verify_pct_names[p], s->slo_ms[p]);
        first = 0;
    }
    out_str(b, "}}");
}

static int write_json(const sky_verify_report_t *r, out_t *b) {
    out_str(b, "{\"skyload_verify\":1,\"passed\":");
    out_str(b, sky_verify_report_passed(r) ? "true" : "false");
    out_str(b, ",\"run_ids\":");
    json_str(b, r->run_ids);
    out_str(b, ",\"topic\":");
    json_str(b, r->topic);
    out_fmt(b, ",\"flights\":%lld,\"elapsed_ms\":%lld,\"checks\":[", (long long)r->flights,
                 (long long)r->elapsed_ms);
    for (size_t i = 0; i < r->nchecks; i++) {
        out_str(b, i ? "," : "");
        write_check_json(&r->checks[i], b);
    }
    out_str(b, "],\"latency\":[");
    for (size_t i = 0; i < r->nstages; i++) {
        out_str(b, i ? "," : "");
        write_stage_json(&r->stages[i], b);
    }
    out_str(b, "]}\n");
    return 0;
}

static void xml_escape(out_t *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': out_str(b, "&lt;"); break;
        case '>': out_str(b, "&gt;"); break;
        case '&': out_str(b, "&amp;"); break;
        case '"': out_str(b, "&quot;"); break;
        case '\'': out_str(b, "&apos;"); break;
        default:
            /* XML 1.0 forbids most control characters even when escaped. */
            out_char(b, (unsigned char)*s < 0x20 && *s != '\n' && *s != '\t' ? '?' : *s);
        }
    }
}

static void write_testcase(const sky_verify_check_t *c, out_t *b) {
    out_str(b, "    <testcase classname=\"skyload.verify\" name=\"");
    xml_escape(b, c->name);
    out_str(b, "\"");
    if (c->status == SKY_CHECK_PASS) {
        out_str(b, "/>\n");
        return;
    }
    out_str(b, ">\n");
    if (c->status == SKY_CHECK_SKIP) {
        out_str(b, "      <skipped message=\"");
        xml_escape(b, c->summary);
        out_str(b, "\"/>\n    </testcase>\n");
        return;
    }
    out_str(b, "      <failure message=\"");
    xml_escape(b, c->summary);
    out_str(b, "\" type=\"check\">");
    out_t text = {.err = 0};
    sky_buf_init(&text.buf, 0);
    out_fmt(&text, "%s\n", c->summary);
    for (size_t k = 0; k < c->nexamples; k++) {
        add_example_text(&text, &c->examples[k]);
        out_char(&text, '\n');
    }
    if (c->nproblems > c->nexamples)
        out_fmt(&text, "... and %llu more\n",
                     (unsigned long long)(c->nproblems - c->nexamples));
    b->err |= text.err;
    xml_escape(b, text.buf.data ? text.buf.data : "");
    sky_buf_free(&text.buf);
    out_str(b, "</failure>\n    </testcase>\n");
}

/* The latency stages as testsuite properties (latency.<stage>.count, .p50_ms ...
 * .max_ms, .slo.<pct>_ms), so a CI system keeps every stage's figures per build,
 * not only the stages that failed an SLO. */
static void write_junit_properties(const sky_verify_report_t *r, out_t *b) {
    if (!r->nstages)
        return;
    out_str(b, "    <properties>\n");
    for (size_t i = 0; i < r->nstages; i++) {
        const sky_verify_stage_t *s = &r->stages[i];
        out_str(b, "      <property name=\"latency.");
        xml_escape(b, s->name);
        out_fmt(b, ".count\" value=\"%llu\"/>\n", (unsigned long long)sky_hist_count(s->hist));
        for (int p = 0; p < SKY_VERIFY_NPCT && sky_hist_count(s->hist); p++) {
            out_str(b, "      <property name=\"latency.");
            xml_escape(b, s->name);
            out_fmt(b, ".%s_ms\" value=\"%.3f\"/>\n", sky_verify_pct_names[p],
                    (double)sky_hist_percentile(s->hist, sky_verify_pct_values[p]) / 1000.0);
        }
        for (int p = 0; p < SKY_VERIFY_NPCT; p++) {
            if (s->slo_ms[p] < 0)
                continue;
            out_str(b, "      <property name=\"latency.");
            xml_escape(b, s->name);
            out_fmt(b, ".slo.%s_ms\" value=\"%g\"/>\n", sky_verify_pct_names[p], s->slo_ms[p]);
        }
    }
    out_str(b, "    </properties>\n");
}

static int write_junit(const sky_verify_report_t *r, out_t *b) {
    size_t failures = 0, skipped = 0;
    for (size_t i = 0; i < r->nchecks; i++) {
        failures += r->checks[i].status == SKY_CHECK_FAIL;
        skipped += r->checks[i].status == SKY_CHECK_SKIP;
    }
    out_fmt(b,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<testsuites tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\">\n"
                 "  <testsuite name=\"skyload verify\" tests=\"%zu\" failures=\"%zu\" "
                 "skipped=\"%zu\" time=\"%.3f\">\n",
                 r->nchecks, failures, skipped, r->nchecks, failures, skipped,
                 (double)r->elapsed_ms / 1000.0);
    write_junit_properties(r, b);
    for (size_t i = 0; i < r->nchecks; i++)
        write_testcase(&r->checks[i], b);
    out_str(b, "  </testsuite>\n</testsuites>\n");
    return 0;
}

int sky_verify_report_write(const sky_verify_report_t *r, sky_verify_format_t fmt, FILE *out) {
    out_t b = {.err = 0};
    sky_buf_init(&b.buf, 0);
    if (fmt == SKY_VERIFY_FORMAT_JSON)
        write_json(r, &b);
    else if (fmt == SKY_VERIFY_FORMAT_JUNIT)
        write_junit(r, &b);
    else
        write_text(r, &b);
    int rc = b.err || !b.buf.data ? SKY_ENOMEM : 0;
    if (!rc && fwrite(b.buf.data, 1, b.buf.len, out) != b.buf.len)
        rc = SKY_EIO;
    if (!rc && fflush(out))
        rc = SKY_EIO;
    sky_buf_free(&b.buf);
    return rc;
}

int sky_verify_report_write_hgrm(const sky_verify_report_t *r, const char *dir, char *errstr,
                                 size_t errstr_size) {
    if (mkdir(dir, 0777) && errno != EEXIST)
        return sky_err(errstr, errstr_size, SKY_EIO, "%s: cannot create directory: %s", dir,
                       strerror(errno));
    for (size_t i = 0; i < r->nstages; i++) {
        const sky_verify_stage_t *s = &r->stages[i];
        if (!sky_hist_count(s->hist))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.hgrm", dir, s->name);
        FILE *f = fopen(path, "w");
        if (!f)
            return sky_err(errstr, errstr_size, SKY_EIO, "%s: %s", path, strerror(errno));
        int rc = sky_hist_write_hgrm(s->hist, f, 1000.0);
        if (fclose(f) || rc)
            return sky_err(errstr, errstr_size, SKY_EIO, "%s: write failed", path);
    }
    return 0;
}
