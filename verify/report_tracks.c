/* Sampled tracks for the run report's map, read back from the topic. */
#include "report_tracks.h"

#include "codec.h"
#include "error.h"
#include "tile38.h"
#include "timefmt.h"
#include "topic_reader.h"
#include "verify_manifest.h"

#include <stdlib.h>
#include <string.h>

#define MAX_POINTS_PER_TRACK 5000

typedef struct point {
    int64_t seq, ts_ms;
    double lat, lon;
    int32_t alt, speed;
} point_t;

typedef struct track {
    char *id;
    point_t *pts;
    size_t n, cap;
} track_t;

struct sky_report_tracks {
    track_t *tracks;
    size_t n;
    size_t *by_id; /* indices of tracks sorted by id, for lookups by key */
    char source[512];
    bool complete;
};

static int cmp_index_id(const void *a, const void *b, void *arg) {
    const track_t *t = arg;
    return strcmp(t[*(const size_t *)a].id, t[*(const size_t *)b].id);
}

sky_report_tracks_t *sky_report_tracks_new(const char *const *ids, size_t n) {
    sky_report_tracks_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->complete = true;
    t->tracks = n ? calloc(n, sizeof *t->tracks) : NULL;
    t->by_id = n ? calloc(n, sizeof *t->by_id) : NULL;
    if (n && (!t->tracks || !t->by_id)) {
        sky_report_tracks_destroy(t);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(t->tracks[i].id = strdup(ids[i]))) {
            t->n = i;
            sky_report_tracks_destroy(t);
            return NULL;
        }
        t->by_id[i] = i;
    }
    t->n = n;
    qsort_r(t->by_id, n, sizeof *t->by_id, cmp_index_id, t->tracks);
    return t;
}

void sky_report_tracks_destroy(sky_report_tracks_t *t) {
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->tracks[i].id);
        free(t->tracks[i].pts);
    }
    free(t->tracks);
    free(t->by_id);
    free(t);
}

/* The sampled flight with this key, or -1. */
static long find(const sky_report_tracks_t *t, const void *key, size_t len) {
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *id = t->tracks[t->by_id[mid]].id;
        size_t idlen = strlen(id);
        int c = memcmp(id, key, idlen < len ? idlen : len);
        if (c == 0)
            c = idlen < len ? -1 : idlen > len ? 1 : 0;
        if (c == 0)
            return (long)t->by_id[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int sky_report_tracks_add(sky_report_tracks_t *t, size_t flight, int64_t seq, double lat,
                          double lon, int32_t alt, int32_t speed, int64_t ts_ms) {
    track_t *tr = &t->tracks[flight];
    if (tr->n >= MAX_POINTS_PER_TRACK)
        return 0; /* a very long track: its first hours are enough for a picture */
    if (sky_grow_array((void **)&tr->pts, &tr->cap, tr->n + 1, sizeof *tr->pts))
        return SKY_ENOMEM;
    tr->pts[tr->n++] = (point_t){seq, ts_ms, lat, lon, alt, speed};
    return 0;
}

static int cmp_seq(const void *a, const void *b) {
    const point_t *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int sky_report_tracks_write_json(const sky_report_tracks_t *t, sky_buf_t *out) {
    int rc = sky_buf_add_str(out, "{\"source\":");
    rc |= sky_buf_add_json_str(out, t->source, strlen(t->source));
    rc |= sky_buf_addf(out, ",\"complete\":%s,\"tracks\":[", t->complete ? "true" : "false");
    bool first = true;
    for (size_t i = 0; i < t->n && !rc; i++) {
        track_t *tr = &t->tracks[i];
        if (tr->n < 2)
            continue; /* one point draws no line */
        qsort(tr->pts, tr->n, sizeof *tr->pts, cmp_seq);
        rc |= sky_buf_add_str(out, first ? "{\"id\":" : ",{\"id\":");
        first = false;
        rc |= sky_buf_add_json_str(out, tr->id, strlen(tr->id));
        rc |= sky_buf_add_str(out, ",\"pts\":[");
        for (size_t k = 0; k < tr->n; k++) {
            const point_t *p = &tr->pts[k];
            if (k && p->seq == tr->pts[k - 1].seq)
                continue; /* a duplicate record */
            char lat[32], lon[32];
            sky_fmt_fixed(lat, p->lat, 4);
            sky_fmt_fixed(lon, p->lon, 4);
            rc |= sky_buf_addf(out, "%s[%s,%s,%d,%d,%.1f]", k ? "," : "", lat, lon, (int)p->alt,
                               (int)p->speed, (double)(p->ts_ms - tr->pts[0].ts_ms) / 1000.0);
        }
        rc |= sky_buf_add_str(out, "]}");
    }
    rc |= sky_buf_add_str(out, "]}");
    return rc ? SKY_ENOMEM : 0;
}

/* ---- choosing the sample ------------------------------------------------------ */

static int64_t part_records(const sky_vm_partition_t *p) {
    return p->last_offset >= p->first_offset ? p->last_offset - p->first_offset + 1 : 0;
}

static int cmp_part_size(const void *a, const void *b) {
    int64_t x = part_records(a), y = part_records(b);
    return x < y ? -1 : x > y;
}

/* Picks the partitions with the fewest records until they hold max_flights
 * flights; marks them in chosen[partition]. Returns how many flights they hold. */
static size_t choose_partitions(const sky_verify_manifest_t *m, size_t max_flights,
                                unsigned char *chosen, int32_t nslots) {
    sky_vm_partition_t *parts = malloc((m->npartitions ? m->npartitions : 1) * sizeof *parts);
    size_t held = 0;
    if (!parts)
        return 0;
    memcpy(parts, m->partitions, m->npartitions * sizeof *parts);
    qsort(parts, m->npartitions, sizeof *parts, cmp_part_size);
    for (size_t i = 0; i < m->npartitions && held < max_flights; i++) {
        int32_t p = parts[i].partition;
        if (p < 0 || p >= nslots || !part_records(&parts[i]))
            continue;
        chosen[p] = 1;
        for (size_t f = 0; f < m->nflights; f++)
            held += m->flights[f].partition == p;
    }
    free(parts);
    return held;
}

static sky_report_tracks_t *sample(const sky_verify_manifest_t *m, size_t max_flights,
                                   const unsigned char *chosen, int32_t nslots, size_t held) {
    const char **ids = malloc((max_flights ? max_flights : 1) * sizeof *ids);
    size_t n = 0, seen = 0;
    if (!ids)
        return NULL;
    /* every k-th flight of the chosen partitions: spread over the run, not its start */
    size_t stride = held > max_flights ? (held + max_flights - 1) / max_flights : 1;
    for (size_t f = 0; f < m->nflights && n < max_flights; f++) {
        int32_t p = m->flights[f].partition;
        if (p < 0 || p >= nslots || !chosen[p])
            continue;
        if (seen++ % stride == 0)
            ids[n++] = m->flights[f].id;
    }
    sky_report_tracks_t *t = sky_report_tracks_new(ids, n);
    free(ids);
    return t;
}

/* ---- reading ------------------------------------------------------------------ */

static bool run_matches(const sky_verify_manifest_t *m, rd_kafka_headers_t *h) {
    const void *v;
    size_t len;
    if (!m->nrun_ids)
        return true;
    if (!h || rd_kafka_header_get_last(h, "skyload-run", &v, &len) || !v)
        return false;
    for (size_t i = 0; i < m->nrun_ids; i++)
        if (strlen(m->run_ids[i]) == len && memcmp(m->run_ids[i], v, len) == 0)
            return true;
    return false;
}

static void on_record(sky_report_tracks_t *t, const sky_verify_manifest_t *m,
                      const rd_kafka_message_t *msg) {
    long f = msg->key ? find(t, msg->key, msg->key_len) : -1;
    rd_kafka_headers_t *h = NULL;
    int64_t seq, ts_ms;
    sky_flight_t fl;
    char err[128];
    if (f < 0 || rd_kafka_message_headers(msg, &h) || !run_matches(m, h) ||
        sky_header_i64(h, "skyload-seq", &seq))
        return;
    /* a malformed record (an injected fault) is not a position */
    if (sky_flight_parse(msg->payload, msg->len, &fl, &ts_ms, err, sizeof err))
        return;
    sky_report_tracks_add(t, (size_t)f, seq, fl.latitude, fl.longitude, fl.altitude, fl.airspeed,
                          ts_ms);
}

static int read_partitions(sky_report_tracks_t *t, const sky_report_tracks_config_t *cfg,
                           const sky_verify_manifest_t *m, const char *topic,
                           const unsigned char *chosen, int32_t nslots, char *errstr,
                           size_t errstr_size) {
    sky_consumer_t *c = sky_consumer_new(cfg->kafka, NULL, errstr, errstr_size);
    if (!c)
        return SKY_EKAFKA;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)nslots);
    int64_t *last = calloc((size_t)nslots, sizeof *last);
    int remaining = 0, rc = 0;
    for (size_t i = 0; l && last && i < m->npartitions; i++) {
        const sky_vm_partition_t *p = &m->partitions[i];
        if (p->partition < 0 || p->partition >= nslots || !chosen[p->partition] ||
            !part_records(p))
            continue;
        rd_kafka_topic_partition_list_add(l, topic, p->partition)->offset = p->first_offset;
        last[p->partition] = p->last_offset;
        remaining++;
    }
    if (!l || !last)
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    else if (rd_kafka_assign(sky_consumer_handle(c), l))
        rc = sky_err(errstr, errstr_size, SKY_EKAFKA, "assign %s: failed", topic);
    int64_t start = sky_monotonic_ns(), idle_since = start;
    int64_t budget = cfg->budget_ms > 0 ? cfg->budget_ms : 5000;
    int idle = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
    while (!rc && remaining > 0) {
        int64_t now = sky_monotonic_ns();
        if ((now - start) / 1000000 > budget || (now - idle_since) / 1000000 > idle) {
            t->complete = false;
            break;
        }
        rd_kafka_message_t *msg = sky_consumer_poll(c, 200);
        if (!msg)
            continue;
        if (msg->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
            msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            rc = sky_err(errstr, errstr_size, SKY_EKAFKA, "topic %s: %s", topic,
                         rd_kafka_message_errstr(msg));
        } else if (!msg->err && msg->partition >= 0 && msg->partition < nslots) {
            idle_since = sky_monotonic_ns();
            on_record(t, m, msg);
            if (msg->offset == last[msg->partition])
                remaining--;
        }
        rd_kafka_message_destroy(msg);
    }
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    free(last);
    sky_consumer_destroy(c);
    return rc;
}

int sky_report_tracks_read(const sky_report_tracks_config_t *cfg, sky_report_tracks_t **out,
                           char *errstr, size_t errstr_size) {
    *out = NULL;
    sky_verify_manifest_t *m = sky_verify_manifest_new();
    if (!m)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; !rc && i < cfg->nmanifests; i++)
        rc = sky_verify_manifest_load(m, cfg->manifest_paths[i], errstr, errstr_size);
    const char *topic = cfg->topic ? cfg->topic : m->topic ? m->topic : "flights";
    int32_t nslots = 0;
    for (size_t i = 0; i < m->npartitions; i++)
        if (m->partitions[i].partition + 1 > nslots)
            nslots = m->partitions[i].partition + 1;
    size_t max_flights = cfg->max_flights > 0 ? (size_t)cfg->max_flights : 200;
    unsigned char *chosen = calloc((size_t)(nslots ? nslots : 1), 1);
    sky_report_tracks_t *t = NULL;
    if (!rc && !chosen)
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    if (!rc) {
        size_t held = choose_partitions(m, max_flights, chosen, nslots);
        if (!(t = sample(m, max_flights, chosen, nslots, held)))
            rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    }
    if (!rc && t->n)
        rc = read_partitions(t, cfg, m, topic, chosen, nslots, errstr, errstr_size);
    if (!rc) {
        size_t at = (size_t)snprintf(t->source, sizeof t->source, "topic %s, partition%s", topic,
                                     nslots > 1 ? "s" : "");
        for (int32_t p = 0; p < nslots && at < sizeof t->source; p++)
            if (chosen[p])
                at += (size_t)snprintf(t->source + at, sizeof t->source - at, " %d", (int)p);
        *out = t;
        t = NULL;
    }
    free(chosen);
    sky_report_tracks_destroy(t);
    sky_verify_manifest_destroy(m);
    return rc;
}
