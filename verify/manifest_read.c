/* Converts lib/manifest.h's manifests into verify's compact view and merges shards. */
#include "verify_manifest.h"

#include "error.h"
#include "timefmt.h"

#include <stdlib.h>
#include <string.h>

sky_verify_manifest_t *sky_verify_manifest_new(void) {
    sky_verify_manifest_t *m = calloc(1, sizeof *m);
    if (m)
        m->expected_unique = -1;
    return m;
}

/* Merges a simulate manifest's [started_at, ended_at] into m's window; any
 * other manifest leaves the window open (no time filter) for good. */
static void widen_window(sky_verify_manifest_t *m, const sky_manifest_info_t *info) {
    int64_t start, end;
    if (m->window_open)
        return;
    /* simulate's started_at/ended_at are its simulated clock, the window of the
     * FlightData timestamps; replay's are wall-clock times of the replay. */
    if (!info->kind || strcmp(info->kind, "simulate") != 0 || !info->started_at ||
        !info->ended_at ||
        sky_ts_parse(info->started_at, strlen(info->started_at), &start, NULL, 0) ||
        sky_ts_parse(info->ended_at, strlen(info->ended_at), &end, NULL, 0)) {
        m->window_open = true;
        m->window_set = false;
        return;
    }
    if (!m->window_set || start < m->window_start_ms)
        m->window_start_ms = start;
    if (!m->window_set || end > m->window_end_ms)
        m->window_end_ms = end;
    m->window_set = true;
}

void sky_verify_manifest_destroy(sky_verify_manifest_t *m) {
    if (!m)
        return;
    for (size_t i = 0; i < m->nflights; i++)
        free(m->flights[i].id);
    for (size_t i = 0; i < m->nfaults; i++)
        free(m->faults[i].flight);
    for (size_t i = 0; i < m->nrun_ids; i++)
        free(m->run_ids[i]);
    free(m->run_ids);
    free(m->flights);
    free(m->faults);
    free(m->partitions);
    free(m->topic);
    json_decref(m->slo);
    sky_hist_destroy(m->ack_hist);
    sky_manifest_destroy(m->geo);
    free(m);
}

static int add_run_id(sky_verify_manifest_t *m, const char *id) {
    for (size_t i = 0; i < m->nrun_ids; i++)
        if (strcmp(m->run_ids[i], id) == 0)
            return 0;
    char **n = realloc(m->run_ids, (m->nrun_ids + 1) * sizeof *n);
    if (!n)
        return SKY_ENOMEM;
    m->run_ids = n;
    if (!(n[m->nrun_ids] = strdup(id)))
        return SKY_ENOMEM;
    m->nrun_ids++;
    return 0;
}

static int add_flights(sky_verify_manifest_t *m, const sky_manifest_t *src) {
    size_t n = sky_manifest_flight_count(src);
    sky_vm_flight_t *fl = realloc(m->flights, (m->nflights + n + 1) * sizeof *fl);
    if (!fl)
        return SKY_ENOMEM;
    m->flights = fl;
    for (size_t i = 0; i < n; i++) {
        const sky_manifest_flight_t *sf = sky_manifest_flight(src, i);
        sky_vm_flight_t *f = &m->flights[m->nflights];
        *f = (sky_vm_flight_t){.first_seq = sf->first_seq, .last_seq = sf->last_seq,
                               .partition = sf->partition, .landed = sf->landed};
        if (sf->has_final)
            f->final = (sky_vm_final_t){true, sf->final.seq, sf->final.lat, sf->final.lon,
                                        sf->final.alt_ft, sf->final.speed_kt,
                                        sf->final.intended_ns};
        if (!(f->id = strdup(sf->id)))
            return SKY_ENOMEM;
        m->nflights++;
    }
    return 0;
}

static int add_faults(sky_verify_manifest_t *m, const sky_manifest_t *src) {
    size_t n = sky_manifest_fault_count(src);
    sky_vm_fault_t *fa = realloc(m->faults, (m->nfaults + n + 1) * sizeof *fa);
    if (!fa)
        return SKY_ENOMEM;
    m->faults = fa;
    for (size_t i = 0; i < n; i++) {
        const sky_manifest_fault_t *sf = sky_manifest_fault(src, i);
        sky_vm_fault_t *f = &m->faults[m->nfaults];
        *f = (sky_vm_fault_t){.kind = sf->kind, .seq = sf->seq,
                              .count = sf->kind == SKY_FAULT_GAP && sf->count > 0 ? sf->count : 1};
        if (!(f->flight = strdup(sf->flight)))
            return SKY_ENOMEM;
        m->nfaults++;
    }
    return 0;
}

static int merge_partition(sky_verify_manifest_t *m, const sky_manifest_partition_t *p) {
    for (size_t i = 0; i < m->npartitions; i++) {
        sky_vm_partition_t *e = &m->partitions[i];
        if (e->partition == p->partition) {
            e->first_offset = p->first_offset < e->first_offset ? p->first_offset : e->first_offset;
            e->last_offset = p->last_offset > e->last_offset ? p->last_offset : e->last_offset;
            return 0;
        }
    }
    sky_vm_partition_t *n = realloc(m->partitions, (m->npartitions + 1) * sizeof *n);
    if (!n)
        return SKY_ENOMEM;
    m->partitions = n;
    n[m->npartitions++] = (sky_vm_partition_t){p->partition, p->first_offset, p->last_offset};
    return 0;
}

static int add_header(sky_verify_manifest_t *m, const sky_manifest_t *src) {
    const sky_manifest_info_t *info = sky_manifest_info(src);
    if (info->run_id && *info->run_id && add_run_id(m, info->run_id))
        return SKY_ENOMEM;
    if (info->topic && *info->topic && !m->topic && !(m->topic = strdup(info->topic)))
        return SKY_ENOMEM;
    if (info->ttl_s > m->ttl_s)
        m->ttl_s = info->ttl_s;
    widen_window(m, info);
    const sky_manifest_totals_t *t = sky_manifest_totals(src);
    if (t)
        m->expected_unique = (m->expected_unique < 0 ? 0 : m->expected_unique) +
                             (int64_t)t->expected_unique;
    json_t *slo = sky_manifest_slo(src);
    if (json_is_object(slo) && !m->slo)
        m->slo = json_incref(slo);
    const sky_hist_t *ack = sky_manifest_ack_hist(src);
    if (ack) {
        if (!m->ack_hist && !(m->ack_hist = sky_hist_new()))
            return SKY_ENOMEM;
        sky_hist_merge(m->ack_hist, ack);
    }
    return 0;
}

int sky_verify_manifest_add(sky_verify_manifest_t *m, const sky_manifest_t *src, char *errstr,
                            size_t errstr_size) {
    int rc = add_header(m, src);
    if (!rc)
        rc = add_flights(m, src);
    if (!rc)
        rc = add_faults(m, src);
    for (size_t i = 0; !rc && i < sky_manifest_partition_count(src); i++) {
        const sky_manifest_partition_t *p = sky_manifest_partition(src, i);
        if (p->first_offset >= 0)
            rc = merge_partition(m, p);
    }
    if (!rc && sky_manifest_geofence(src)) /* verify/check_geofence.c's */
        rc = (m->geo || (m->geo = sky_manifest_new())) ? sky_manifest_merge_events(m->geo, src)
                                                       : SKY_ENOMEM;
    return rc ? sky_err(errstr, errstr_size, rc, "out of memory reading the manifest") : 0;
}

int sky_verify_manifest_load(sky_verify_manifest_t *m, const char *path, char *errstr,
                             size_t errstr_size) {
    sky_manifest_t *src = NULL;
    int rc = sky_manifest_load(path, &src, errstr, errstr_size);
    if (!rc)
        rc = sky_verify_manifest_add(m, src, errstr, errstr_size);
    sky_manifest_destroy(src);
    return rc;
}
