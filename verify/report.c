/* Building the verify report: checks, problems with examples, latency stages. */
#include "report.h"

#include "dynbuf.h"
#include "error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *const sky_verify_pct_names[SKY_VERIFY_NPCT] = {"p50", "p90", "p99", "p99.9", "max"};
const double sky_verify_pct_values[SKY_VERIFY_NPCT] = {50.0, 90.0, 99.0, 99.9, 100.0};

sky_verify_report_t *sky_verify_report_new(void) {
    return calloc(1, sizeof(sky_verify_report_t));
}

void sky_verify_report_destroy(sky_verify_report_t *r) {
    if (!r)
        return;
    for (size_t i = 0; i < r->nstages; i++)
        sky_hist_destroy(r->stages[i].hist);
    free(r->stages);
    free(r->checks);
    free(r);
}

sky_verify_check_t *sky_verify_report_add_check(sky_verify_report_t *r, const char *name) {
    if (sky_grow_array((void **)&r->checks, &r->cap_checks, r->nchecks + 1, sizeof *r->checks))
        return NULL;
    sky_verify_check_t *c = &r->checks[r->nchecks++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    return c;
}

sky_verify_stage_t *sky_verify_report_add_stage(sky_verify_report_t *r, const char *name,
                                                const char *source, sky_hist_t *hist) {
    if (sky_grow_array((void **)&r->stages, &r->cap_stages, r->nstages + 1, sizeof *r->stages)) {
        sky_hist_destroy(hist);
        return NULL;
    }
    sky_verify_stage_t *s = &r->stages[r->nstages++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->source, sizeof s->source, "%s", source);
    s->hist = hist;
    for (int i = 0; i < SKY_VERIFY_NPCT; i++)
        s->slo_ms[i] = -1;
    return s;
}

sky_verify_stage_t *sky_verify_report_find_stage(sky_verify_report_t *r, const char *name) {
    for (size_t i = 0; i < r->nstages; i++)
        if (strcmp(r->stages[i].name, name) == 0)
            return &r->stages[i];
    return NULL;
}

const sky_hist_t *sky_verify_report_stage(const sky_verify_report_t *r, const char *stage) {
    for (size_t i = 0; i < r->nstages; i++)
        if (strcmp(r->stages[i].name, stage) == 0)
            return r->stages[i].hist;
    return NULL;
}

void sky_verify_check_count(sky_verify_check_t *c, const char *name, int64_t value) {
    for (size_t i = 0; i < c->ncounts; i++)
        if (strcmp(c->counts[i].name, name) == 0) {
            c->counts[i].value = value;
            return;
        }
    if (c->ncounts < SKY_VERIFY_MAX_COUNTS)
        c->counts[c->ncounts++] = (sky_verify_count_t){name, value};
}

void sky_verify_check_problem(sky_verify_check_t *c, const char *flight, size_t flight_len,
                              int64_t seq, int32_t partition, int64_t offset, const char *fmt,
                              ...) {
    va_list ap;
    va_start(ap, fmt);
    sky_verify_check_vproblem(c, flight, flight_len, seq, partition, offset, fmt, ap);
    va_end(ap);
}

void sky_verify_check_vproblem(sky_verify_check_t *c, const char *flight, size_t flight_len,
                               int64_t seq, int32_t partition, int64_t offset, const char *fmt,
                               va_list ap) {
    c->nproblems++;
    c->status = SKY_CHECK_FAIL;
    if (c->nexamples >= SKY_VERIFY_MAX_EXAMPLES)
        return; /* counted, not formatted: a broken run can have millions */
    sky_verify_example_t *e = &c->examples[c->nexamples++];
    size_t n = flight_len < sizeof e->flight - 1 ? flight_len : sizeof e->flight - 1;
    if (flight)
        memcpy(e->flight, flight, n);
    e->flight[flight ? n : 0] = '\0';
    e->seq = seq;
    e->partition = partition;
    e->offset = offset;
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
}

void sky_verify_check_set(sky_verify_check_t *c, sky_check_status_t st, const char *fmt, ...) {
    c->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->summary, sizeof c->summary, fmt, ap);
    va_end(ap);
}

const char *sky_check_status_name(sky_check_status_t st) {
    return st == SKY_CHECK_PASS ? "PASS" : st == SKY_CHECK_FAIL ? "FAIL" : "SKIP";
}

bool sky_verify_report_passed(const sky_verify_report_t *r) {
    for (size_t i = 0; i < r->nchecks; i++)
        if (r->checks[i].status == SKY_CHECK_FAIL)
            return false;
    return true;
}

size_t sky_verify_report_check_count(const sky_verify_report_t *r) {
    return r->nchecks;
}

const char *sky_verify_report_check_name(const sky_verify_report_t *r, size_t i) {
    return i < r->nchecks ? r->checks[i].name : NULL;
}
