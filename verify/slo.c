/* Latency SLOs: load them (YAML or JSON), attach thresholds to stages, judge. */
#include "report.h"

#include "error.h"
#include "parse.h"

#include <libfyaml.h>
#include <stdlib.h>
#include <string.h>

json_t *sky_verify_slo_load(const char *path, char *errstr, size_t errstr_size) {
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (root)
        return root;
    /* Not JSON: read it as YAML and let libfyaml emit JSON. */
    struct fy_document *fyd = fy_document_build_from_file(NULL, path);
    if (!fyd) {
        sky_err(errstr, errstr_size, SKY_EUSAGE, "%s: neither JSON (%s, line %d) nor YAML", path,
                jerr.text, jerr.line);
        return NULL;
    }
    char *text = fy_emit_document_to_string(fyd, FYECF_MODE_JSON);
    fy_document_destroy(fyd);
    if (!text) {
        sky_err(errstr, errstr_size, SKY_ENOMEM, "%s: cannot convert YAML to JSON", path);
        return NULL;
    }
    root = json_loads(text, 0, &jerr);
    free(text);
    if (!root)
        sky_err(errstr, errstr_size, SKY_EUSAGE, "%s: %s", path, jerr.text);
    return root;
}

static int pct_index(const char *name) {
    for (int i = 0; i < SKY_VERIFY_NPCT; i++)
        if (strcmp(name, sky_verify_pct_names[i]) == 0)
            return i;
    if (strcmp(name, "p100") == 0)
        return SKY_VERIFY_NPCT - 1;
    return -1;
}

/* YAML turned into JSON may carry numbers as strings. */
static int threshold_value(json_t *v, double *out) {
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return *out >= 0 ? 0 : -1;
    }
    if (json_is_string(v))
        return sky_parse_double(json_string_value(v), 0, 1e12, out, "threshold", NULL, 0);
    return -1;
}

static void set_threshold(sky_verify_report_t *r, const char *stage, int pct, double ms) {
    for (size_t i = 0; i < r->nstages; i++) {
        sky_verify_stage_t *s = &r->stages[i];
        if (strcmp(s->name, stage) == 0 ||
            (strcmp(stage, "pg_commit") == 0 && strcmp(s->name, "pg_commit_table") == 0))
            s->slo_ms[pct] = ms;
    }
}

static int apply_stage(sky_verify_report_t *r, const char *stage, json_t *thresholds,
                       const char *src, char *errstr, size_t errsz) {
    const char *pct;
    json_t *v;
    if (!json_is_object(thresholds))
        return sky_err(errstr, errsz, SKY_EUSAGE,
                       "%s: slo.latency_ms.%s must be an object like {\"p99\": 50}", src, stage);
    json_object_foreach(thresholds, pct, v) {
        int i = pct_index(pct);
        double ms;
        if (i < 0)
            return sky_err(errstr, errsz, SKY_EUSAGE,
                           "%s: slo.latency_ms.%s.%s: unknown percentile (use p50, p90, p99, "
                           "p99.9 or max)", src, stage, pct);
        if (threshold_value(v, &ms))
            return sky_err(errstr, errsz, SKY_EUSAGE,
                           "%s: slo.latency_ms.%s.%s: expected a number of milliseconds >= 0",
                           src, stage, pct);
        set_threshold(r, stage, i, ms);
    }
    return 0;
}

int sky_verify_report_apply_slo(sky_verify_report_t *r, const json_t *slo, const char *source,
                                char *errstr, size_t errstr_size) {
    if (!slo)
        return 0;
    json_t *lat = json_object_get(slo, "latency_ms");
    if (!lat && json_object_get(slo, "slo")) /* a whole scenario/manifest-like file */
        lat = json_object_get(json_object_get(slo, "slo"), "latency_ms");
    if (!json_is_object(lat))
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "%s: no \"latency_ms\" object (expected {\"latency_ms\": {\"pg_commit\": "
                       "{\"p99\": 2000}}})", source);
    const char *stage;
    json_t *th;
    json_object_foreach(lat, stage, th) {
        int rc = apply_stage(r, stage, th, source, errstr, errstr_size);
        if (rc)
            return rc;
    }
    return 0;
}

static void judge_stage(sky_verify_report_t *r, size_t idx, sky_verify_check_t *c) {
    const sky_verify_stage_t *s = &r->stages[idx];
    uint64_t n = s->hist ? sky_hist_count(s->hist) : 0;
    sky_verify_check_count(c, "samples", (int64_t)n);
    if (!n) {
        sky_verify_check_set(c, SKY_CHECK_FAIL, "stage %s has an SLO but no samples", s->name);
        return;
    }
    char worst[200] = "";
    for (int i = 0; i < SKY_VERIFY_NPCT; i++) {
        if (s->slo_ms[i] < 0)
            continue;
        double ms = (double)sky_hist_percentile(s->hist, sky_verify_pct_values[i]) / 1000.0;
        if (ms > s->slo_ms[i]) {
            c->status = SKY_CHECK_FAIL;
            snprintf(worst, sizeof worst, "%s = %.3f ms > SLO %.3f ms", sky_verify_pct_names[i],
                     ms, s->slo_ms[i]);
        }
    }
    if (c->status == SKY_CHECK_FAIL)
        sky_verify_check_set(c, SKY_CHECK_FAIL, "%s latency (%s): %s", s->name, s->source, worst);
    else
        sky_verify_check_set(c, SKY_CHECK_PASS, "%s latency within its SLO (%llu samples)",
                             s->name, (unsigned long long)n);
}

int sky_verify_report_judge_slo(sky_verify_report_t *r) {
    for (size_t i = 0; i < r->nstages; i++) {
        int has = 0;
        for (int p = 0; p < SKY_VERIFY_NPCT; p++)
            has |= r->stages[i].slo_ms[p] >= 0;
        if (!has)
            continue;
        char name[48];
        snprintf(name, sizeof name, "slo.%s", r->stages[i].name);
        sky_verify_check_t *c = sky_verify_report_add_check(r, name);
        if (!c)
            return SKY_ENOMEM;
        judge_stage(r, i, c);
    }
    return 0;
}
