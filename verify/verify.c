/* sky_verify_run: load the manifests, run the selected checks in turn, add the
 * latency stages and judge them against the SLO. */
#include "checks.h"

#include "error.h"
#include "timefmt.h"

#include <stdlib.h>
#include <string.h>

static int load_manifests(const sky_verify_config_t *cfg, sky_verify_manifest_t **owned,
                          const sky_verify_manifest_t **m, char *errstr, size_t errsz) {
    if (!cfg->nmanifests && !cfg->manifest)
        return sky_err(errstr, errsz, SKY_EUSAGE, "no manifest: give --manifest PATH");
    if (!(*owned = sky_verify_manifest_new()))
        return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
    int rc = cfg->manifest ? sky_verify_manifest_add(*owned, cfg->manifest, errstr, errsz) : 0;
    for (size_t i = 0; !rc && i < cfg->nmanifests; i++)
        rc = sky_verify_manifest_load(*owned, cfg->manifest_paths[i], errstr, errsz);
    *m = *owned;
    return rc;
}

static void describe_run(sky_verify_report_t *r, const sky_verify_manifest_t *m, const char *topic) {
    size_t at = 0;
    for (size_t i = 0; i < m->nrun_ids && at < sizeof r->run_ids; i++) {
        int n = snprintf(r->run_ids + at, sizeof r->run_ids - at, "%s%s", i ? "," : "",
                         m->run_ids[i]);
        at += n > 0 ? (size_t)n : 0;
    }
    snprintf(r->topic, sizeof r->topic, "%s", topic);
    r->flights = (int64_t)m->nflights;
}

static int add_ack_stage(sky_verify_report_t *r, const sky_verify_manifest_t *m) {
    if (!m->ack_hist)
        return 0;
    sky_hist_t *h = sky_hist_new();
    if (!h)
        return SKY_ENOMEM;
    sky_hist_merge(h, m->ack_hist);
    return sky_verify_report_add_stage(r, "kafka_ack", "manifest", h) ? 0 : SKY_ENOMEM;
}

/* The consumed / tile38 / pg_commit histograms of `skyload ingest --stats`; not tile38's
 * when its check is skipped (--skip tile38, --tile38 none): a stage of a server nobody
 * asked about has no samples to judge its SLO by. */
static int add_ingest_stages(sky_verify_report_t *r, const char *path, unsigned checks,
                             char *errstr, size_t errsz) {
    static const char *const stages[] = {"consumed", "tile38", "pg_commit"};
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        return sky_err(errstr, errsz, SKY_EUSAGE, "%s:%d: %s", path, jerr.line, jerr.text);
    json_t *lat = json_object_get(root, "latency_us");
    int rc = 0;
    for (size_t i = 0; i < sizeof stages / sizeof stages[0] && !rc; i++) {
        json_t *hj = json_object_get(lat, stages[i]);
        if (!json_is_object(hj) ||
            (strcmp(stages[i], "tile38") == 0 && !(checks & SKY_VERIFY_TILE38)))
            continue;
        char *text = json_dumps(hj, JSON_COMPACT), herr[256];
        sky_hist_t *h = text ? sky_hist_from_json(text, herr, sizeof herr) : NULL;
        free(text);
        if (!h)
            rc = sky_err(errstr, errsz, SKY_EUSAGE, "%s: latency_us.%s: %s", path, stages[i],
                         text ? herr : "out of memory");
        else if (!sky_verify_report_add_stage(r, stages[i], "ingest-stats", h))
            rc = sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
    }
    json_decref(root);
    return rc;
}

static int judge_slo(sky_verify_report_t *r, const sky_verify_config_t *cfg,
                     const sky_verify_manifest_t *m, char *errstr, size_t errsz) {
    json_t *file_slo = NULL;
    if (cfg->slo_path && !(file_slo = sky_verify_slo_load(cfg->slo_path, errstr, errsz)))
        return SKY_EUSAGE;
    int rc = sky_verify_report_apply_slo(r, file_slo ? file_slo : m->slo,
                                         file_slo ? cfg->slo_path : "manifest slo", errstr, errsz);
    json_decref(file_slo);
    if (!rc && sky_verify_report_judge_slo(r))
        rc = sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
    return rc;
}

static int run_checks(sky_verify_ctx_t *ctx, unsigned checks, char *errstr, size_t errsz) {
    int rc = 0;
    if (checks & SKY_VERIFY_KAFKA)
        rc = sky_verify_check_kafka(ctx, errstr, errsz);
    if (!rc && (checks & SKY_VERIFY_DLQ))
        rc = sky_verify_check_dlq(ctx, errstr, errsz);
    if (!rc && (checks & SKY_VERIFY_PG))
        rc = sky_verify_check_pg(ctx, errstr, errsz);
    if (!rc && (checks & SKY_VERIFY_TILE38))
        rc = sky_verify_check_tile38(ctx, errstr, errsz);
    if (!rc && (checks & SKY_VERIFY_GEOFENCE))
        rc = sky_verify_check_geofence(ctx, errstr, errsz);
    return rc;
}

int sky_verify_run(const sky_verify_config_t *cfg, sky_verify_report_t **out, char *errstr,
                   size_t errstr_size) {
    int64_t t0 = sky_monotonic_ns();
    sky_verify_manifest_t *owned = NULL;
    const sky_verify_manifest_t *m = NULL;
    sky_verify_report_t *r = NULL;
    sky_verify_ctx_t ctx = {.cfg = cfg};
    char dlq[512];
    *out = NULL;
    int rc = load_manifests(cfg, &owned, &m, errstr, errstr_size);
    if (rc)
        goto done;
    ctx.m = m;
    ctx.topic = cfg->topic ? cfg->topic : m->topic ? m->topic : "flights";
    snprintf(dlq, sizeof dlq, "%s.dlq", ctx.topic);
    ctx.dlq_topic = cfg->dlq_topic ? cfg->dlq_topic : dlq;
    ctx.schema = cfg->schema ? cfg->schema : "public";
    ctx.collection = cfg->tile38_collection ? cfg->tile38_collection : "flights";
    ctx.timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
    if (!(ctx.table = sky_flight_table_new(m, errstr, errstr_size)) ||
        !(r = ctx.report = sky_verify_report_new())) {
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
        goto done;
    }
    describe_run(r, m, ctx.topic);
    rc = add_ack_stage(r, m) ? sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory") : 0;
    unsigned checks = cfg->checks ? cfg->checks : SKY_VERIFY_ALL;
    if (!rc)
        rc = run_checks(&ctx, checks, errstr, errstr_size);
    if (!rc && cfg->ingest_stats_path)
        rc = add_ingest_stages(r, cfg->ingest_stats_path, checks, errstr, errstr_size);
    if (!rc)
        rc = judge_slo(r, cfg, m, errstr, errstr_size);
    r->elapsed_ms = (sky_monotonic_ns() - t0) / 1000000;
done:
    sky_flight_table_destroy(ctx.table);
    sky_verify_manifest_destroy(owned);
    if (rc)
        sky_verify_report_destroy(r);
    else
        *out = r;
    return rc;
}
