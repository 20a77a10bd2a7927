/* The replay loop: merge readers by time, filter, transform, pace, publish. */
#include "replay.h"

#include "airspace.h"
#include "cpus.h"
#include "error.h"
#include "geofence.h"
#include "flight_index.h"
#include "log.h"
#include "readahead.h"
#include "resample.h"
#include "timefmt.h"

#include <jansson.h>
#include <stdio.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct source {
    sky_readahead_t *reader;
    sky_rrec_t *rec; /* the source's next record, when pending */
    bool pending;
    uint64_t rows_done, skipped_done; /* rows consumed up to the last record taken */
} source_t;

struct sky_replay {
    sky_replay_opts_t o;
    sky_sink_t *sink;
    sky_flight_index_t *flights;
    bool decode; /* capture values are decoded (sky_reader_set_decode) */
    sky_manifest_t *faults; /* holds the malformed records replayed from captures */
    source_t *src;
    sky_replay_stats_t st;
    uint64_t expected_unique;
    uint64_t unplaced; /* flights published but without a partition from a delivery report */
    sky_replay_progress_fn *progress;
    void *progress_opaque;
    volatile sig_atomic_t *stop;
    /* pacing */
    bool started;
    int64_t shift_ms, span_ms, t0_ms, wall0_ns;
    uint64_t sent_in_run;
    int64_t clock_ns; /* --rate max: the last clock read */
    uint8_t value[SKY_FLIGHT_ENCODED_MAX];
    sky_cap_header_t keep[SKY_CAPTURE_HEADERS_MAX];
    /* --resample */
    sky_resampler_t *resampler;
    sky_rrec_t resampled; /* the record the resampler's output is published as */
    int64_t emit_loop;
    char *emit_errstr;
    size_t emit_errsz;
    /* geofences (NULL without airspaces); events go into `faults` beside the malformed */
    sky_fenceset_t *fences;
    sky_fence_tracker_t *fence_state;
    const char *fence_flight;
    int64_t fence_seq, fence_intended;
    const sky_flight_t *fence_pos;
    bool fence_oom;
};

static int fence_setup(sky_replay_t *r, sky_sink_t *sink, char *errstr, size_t errsz);

void sky_replay_opts_init(sky_replay_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->speed = 1.0;
    o->loops = 1;
    o->from_ms = INT64_MIN;
    o->to_ms = INT64_MAX;
    o->errors_shown = 20;
    o->run_id = "replay";
    o->resample_gap_ms = 60000;
    o->resample_flights = 100000;
    o->manifest = true;
}

static void on_delivery(void *opaque, const sky_delivery_t *d) {
    sky_replay_t *r = opaque;
    /* a flight keeps its partition: once every flight has one, a lookup is wasted */
    if (d->err || !d->key || d->key_len >= SKY_FLIGHT_ID_MAX || r->unplaced == 0)
        return;
    sky_flight_entry_t *e = sky_flight_index_find(r->flights, d->key, d->key_len);
    if (e && e->partition < 0) {
        e->partition = d->partition;
        r->unplaced--;
    }
}

sky_replay_t *sky_replay_new(const sky_replay_opts_t *o, sky_sink_t *sink, char *errstr,
                             size_t errsz) {
    sky_replay_t *r = calloc(1, sizeof *r);
    if (!r || !(r->flights = sky_flight_index_new()) || !(r->faults = sky_manifest_new()) ||
        !(r->src = calloc(o->nfiles ? o->nfiles : 1, sizeof *r->src))) {
        sky_replay_destroy(r);
        sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
        return NULL;
    }
    r->o = *o;
    r->sink = sink;
    /* what reads a capture record's decoded position */
    r->decode = o->manifest || o->has_bbox || o->shift_mode != SKY_SHIFT_NONE || o->loops > 1 ||
                o->resample_ms > 0 || !(sky_sink_is_kafka(sink) || sky_sink_is_null(sink));
    r->resampled.has_flight = true;
    if (o->resample_ms > 0 &&
        !(r->resampler = sky_resampler_new(o->resample_ms, o->resample_gap_ms,
                                           o->resample_flights))) {
        sky_replay_destroy(r);
        sky_err(errstr, errsz, SKY_EUSAGE, "cannot resample every %lld ms with gaps of %lld ms",
                (long long)o->resample_ms, (long long)o->resample_gap_ms);
        return NULL;
    }
    if (o->nairspaces && !o->original_headers && fence_setup(r, sink, errstr, errsz)) {
        sky_replay_destroy(r);
        return NULL;
    }
    if (sky_sink_producer(sink))
        sky_producer_set_delivery_cb(sky_sink_producer(sink), on_delivery, r);
    return r;
}

void sky_replay_destroy(sky_replay_t *r) {
    if (!r)
        return;
    if (r->src)
        for (size_t i = 0; i < r->o.nfiles; i++)
            sky_readahead_destroy(r->src[i].reader);
    if (r->sink && sky_sink_producer(r->sink))
        sky_producer_set_delivery_cb(sky_sink_producer(r->sink), NULL, NULL);
    free(r->src);
    sky_resampler_destroy(r->resampler);
    sky_fence_tracker_destroy(r->fence_state);
    sky_fenceset_destroy(r->fences);
    sky_manifest_destroy(r->faults);
    sky_flight_index_destroy(r->flights);
    free(r);
}

void sky_replay_set_progress(sky_replay_t *r, sky_replay_progress_fn *fn, void *opaque) {
    r->progress = fn;
    r->progress_opaque = opaque;
}

void sky_replay_set_stop_flag(sky_replay_t *r, volatile sig_atomic_t *flag) {
    r->stop = flag;
    sky_sink_set_stop_flag(r->sink, flag);
}

const sky_replay_stats_t *sky_replay_stats(const sky_replay_t *r) {
    return &r->st;
}

/* ---- geofences: the enter/exit events Tile38 will send (simulator/airspace.h) ---- */

static int fence_setup(sky_replay_t *r, sky_sink_t *sink, char *errstr, size_t errsz) {
    r->decode = true; /* positions are needed */
    if (!(r->fences = sky_fenceset_new(r->o.airspaces, r->o.nairspaces, errstr, errsz)))
        return SKY_EUSAGE;
    if (!(r->fence_state = sky_fence_tracker_new(r->fences, 1024)))
        return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
    sky_producer_t *p = sky_sink_producer(sink);
    return sky_geofence_manifest_section(r->faults, p ? sky_producer_handle(p) : NULL,
                                         r->o.events_topic ? r->o.events_topic : "flights.events",
                                         r->o.airspaces, r->o.nairspaces, errstr, errsz);
}

static void on_fence_event(void *opaque, size_t fence, sky_fence_kind_t kind) {
    sky_replay_t *r = opaque;
    sky_manifest_event_t e = {r->fence_flight,
                              sky_fenceset_airspace(r->fences, fence)->name,
                              (int)kind,
                              r->fence_seq,
                              r->fence_intended,
                              sky_tile38_coord(r->fence_pos->latitude),
                              sky_tile38_coord(r->fence_pos->longitude),
                              r->fence_pos->altitude};
    r->fence_oom |= sky_manifest_add_event(r->faults, &e) != 0;
}

/* Every valid record replay publishes has the flight's next seq, so ingest applies
 * each one in turn: each is a step of the flight in Tile38. */
static int fence_step(sky_replay_t *r, const sky_sink_msg_t *m) {
    uint64_t *state = sky_fence_tracker_flight(r->fence_state, m->key, m->key_len);
    char id[SKY_FLIGHT_ID_MAX];
    if (!state || m->key_len >= sizeof id)
        return SKY_ENOMEM;
    memcpy(id, m->key, m->key_len);
    id[m->key_len] = '\0';
    r->fence_flight = id;
    r->fence_seq = m->seq;
    r->fence_intended = m->intended_ns;
    r->fence_pos = m->flight;
    sky_fenceset_step(r->fences, state, m->flight->latitude, m->flight->longitude,
                      m->flight->altitude, on_fence_event, r);
    return r->fence_oom ? SKY_ENOMEM : 0;
}

/* A rejected row: logged (the first errors_shown), counted, fatal under --strict. */
static int reject(sky_replay_t *r, char *errstr, size_t errsz) {
    (void)errsz;
    r->st.rejected++;
    if (r->o.strict)
        return SKY_EINVAL;
    if (r->st.rejected <= (uint64_t)r->o.errors_shown)
        sky_log_warn("%s", errstr);
    return 0;
}

/* Reads the source's next record into its slot; 0 or a fatal code. */
static int advance(sky_replay_t *r, source_t *s, char *errstr, size_t errsz) {
    for (;;) {
        int rc = sky_readahead_next(s->reader, &s->rec, errstr, errsz);
        if (rc == 1) {
            s->pending = true;
            return 0;
        }
        s->pending = false;
        if (rc == 0)
            return 0;
        if (rc != SKY_EINVAL)
            return rc;
        if ((rc = reject(r, errstr, errsz)))
            return rc;
    }
}

static int open_sources(sky_replay_t *r, char *errstr, size_t errsz) {
    for (size_t i = 0; i < r->o.nfiles; i++) {
        source_t *s = &r->src[i];
        s->rows_done = s->skipped_done = 0;
        const char *path = r->o.files[i];
        sky_reader_t *reader;
        int rc = sky_reader_open(path, r->o.format, &reader, errstr, errsz);
        /* a file is read ahead in a thread; a live feed or stdin (whose read could not be
         * interrupted at the end) in this one; on a single CPU everything in this one,
         * where the hand-over cost more CPU than it saved (bench/RESULTS.md) */
        bool ahead = strcmp(path, "-") != 0 && strncmp(path, "sbs://", 6) != 0 &&
                     sky_cpus_usable() > 1;
        if (!rc) {
            sky_reader_set_decode(reader, r->decode);
            rc = sky_readahead_new(reader, ahead, &s->reader, errstr, errsz);
        }
        if (rc || (rc = advance(r, s, errstr, errsz)))
            return rc;
    }
    return 0;
}

static void close_sources(sky_replay_t *r) {
    for (size_t i = 0; i < r->o.nfiles; i++) {
        if (!r->src[i].reader)
            continue;
        /* stopped early: only what was taken, not what the read-ahead thread got to */
        bool early = r->src[i].pending;
        r->st.read += early ? r->src[i].rows_done : sky_readahead_rows(r->src[i].reader);
        r->st.skipped +=
            early ? r->src[i].skipped_done : sky_readahead_skipped(r->src[i].reader);
        sky_readahead_destroy(r->src[i].reader);
        r->src[i].reader = NULL;
        r->src[i].pending = false;
    }
}

static source_t *earliest(sky_replay_t *r) {
    source_t *best = NULL;
    for (size_t i = 0; i < r->o.nfiles; i++)
        if (r->src[i].pending && (!best || r->src[i].rec->ts_ms < best->rec->ts_ms))
            best = &r->src[i];
    return best;
}

static bool filtered_out(const sky_replay_t *r, const sky_rrec_t *rec) {
    const sky_replay_opts_t *o = &r->o;
    if (rec->ts_ms < o->from_ms || rec->ts_ms > o->to_ms)
        return true;
    if (o->skip_ground && rec->on_ground)
        return true;
    if (!o->has_bbox)
        return false;
    if (!rec->has_flight || !rec->flight.has_location)
        return true;
    double lat = rec->flight.latitude, lon = rec->flight.longitude;
    bool in_lon = o->west <= o->east ? lon >= o->west && lon <= o->east
                                     : lon >= o->west || lon <= o->east; /* across 180 */
    return lat < o->south || lat > o->north || !in_lon;
}

static void sleep_ns(int64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    nanosleep(&ts, NULL);
}

/* Waits until the record's intended time; returns it (ns since the epoch). */
static int64_t pace(sky_replay_t *r, int64_t t_ms) {
    int64_t target;
    if (r->o.rate > 0)
        target = r->wall0_ns + (int64_t)((double)r->sent_in_run * 1e9 / r->o.rate);
    else if (r->o.speed > 0)
        target = r->wall0_ns + (int64_t)((double)(t_ms - r->t0_ms) * 1e6 / r->o.speed);
    else /* as fast as possible: a clock read per 16 records (stale by microseconds, never late) */
        return (r->sent_in_run & 15) == 0 || !r->clock_ns ? (r->clock_ns = sky_now_ns())
                                                          : r->clock_ns;
    for (;;) {
        int64_t now = sky_now_ns(), wait = target - now;
        if (wait <= 0) {
            if (-wait > r->st.max_lag_ns)
                r->st.max_lag_ns = -wait;
            return target;
        }
        if (r->stop && *r->stop)
            return target;
        if (wait > 50000000)
            wait = 50000000;
        /* under a quantum: one sleep of it (SKY_PACE_QUANTUM_NS; a poll(0) here spun a core) */
        if (wait < SKY_PACE_QUANTUM_NS)
            sleep_ns(SKY_PACE_QUANTUM_NS);
        else if (sky_sink_producer(r->sink))
            sky_sink_poll(r->sink, (int)(wait / 1000000));
        else
            sleep_ns(wait);
    }
}

/* Rewrites flight_id (loops) and timestamp (shift); false when the id gets too long. */
static bool transform_flight(sky_flight_t *f, int64_t loop, int64_t t_ms, bool new_time) {
    if (loop > 0) {
        size_t n = strlen(f->flight_id);
        char suffix[24];
        suffix[0] = '-';
        suffix[1] = 'L';
        size_t k = 2 + sky_fmt_i64(suffix + 2, loop);
        if (n + k >= sizeof f->flight_id)
            return false;
        memcpy(f->flight_id + n, suffix, k);
        f->flight_id[n + k] = '\0';
    }
    if (new_time)
        sky_ts_format(t_ms, SKY_TS_ISO8601, f->timestamp);
    return true;
}

/* One of the headers replay writes itself. Asked for every header of every captured
 * record: one length, then fixed-size compares (inlined) instead of up to three strcmp. */
static bool is_skyload_header(const char *name) {
#define SAME(lit) (len == sizeof lit - 1 && memcmp(name, lit, sizeof lit - 1) == 0)
    size_t len = strlen(name);
    return SAME(SKY_HDR_RUN) || SAME(SKY_HDR_SEQ) || SAME(SKY_HDR_INTENDED);
#undef SAME
}

/* Fills the message's key, value and carried headers for rec. */
static int build_message(sky_replay_t *r, sky_rrec_t *rec, int64_t loop, int64_t t_ms,
                         sky_sink_msg_t *m, bool *valid, int64_t *final_ts, char *errstr,
                         size_t errsz) {
    bool changed = loop > 0 || r->shift_ms != 0;
    memset(m, 0, sizeof *m);
    if (rec->checked) { /* by the read-ahead thread */
        *valid = rec->valid;
        *final_ts = rec->valid_ts_ms;
    } else {
        *valid = rec->has_flight && sky_flight_validate(&rec->flight, final_ts, NULL, 0) == 0;
    }
    if (changed) /* the timestamp is rewritten to t_ms below */
        *final_ts = t_ms;
    if (rec->raw && (!changed || !rec->has_flight)) {
        m->key = rec->cap.key;
        m->key_len = rec->cap.key_len;
        m->value = rec->cap.value;
        m->value_len = rec->cap.value_len;
        m->flight = rec->has_flight ? &rec->flight : NULL;
    } else {
        if (!transform_flight(&rec->flight, loop, t_ms, changed))
            return sky_err(errstr, errsz, SKY_EINVAL, "flight_id \"%s\" too long for loop ids",
                           rec->flight.flight_id);
        sky_flight_lens_t lens;
        sky_flight_measure(&rec->flight, &lens);
        m->key = rec->flight.flight_id;
        m->key_len = lens.flight_id;
        m->value_len = sky_flight_encode_lens(&rec->flight, &lens, r->value, sizeof r->value);
        m->value = r->value;
        m->flight = &rec->flight;
    }
    if (rec->raw) {
        for (size_t i = 0; i < rec->cap.nheaders; i++)
            if (r->o.original_headers || !is_skyload_header(rec->cap.headers[i].name))
                r->keep[m->nheaders++] = rec->cap.headers[i];
        m->headers = r->keep;
    }
    m->run_id = r->o.original_headers && rec->raw ? NULL : r->o.run_id;
    if (!r->o.manifest) /* the reason is for the manifest's malformed records */
        return 0;
    if (rec->raw && !*valid && rec->has_flight)
        (void)sky_flight_validate(&rec->flight, NULL, errstr, errsz);
    else if (rec->raw && !rec->has_flight)
        sky_err(errstr, errsz, SKY_EINVAL, "does not decode as FlightData");
    return 0;
}

static int note_fault(sky_replay_t *r, const sky_flight_entry_t *e, int64_t seq,
                      const char *reason) {
    sky_manifest_fault_t f = {.kind = SKY_FAULT_MALFORMED,
                              .flight = sky_flight_index_id(r->flights, e), .seq = seq,
                              .count = 1, .reason = reason};
    return sky_manifest_add_fault(r->faults, &f);
}

static void note_final(sky_flight_entry_t *e, const sky_flight_t *f, int64_t seq, int64_t ts_ms,
                       int64_t intended_ns) {
    e->has_final = true;
    e->final.seq = seq;
    e->final.lat = f->latitude;
    e->final.lon = f->longitude;
    e->final.alt_ft = f->altitude;
    e->final.speed_kt = f->airspeed;
    e->final.intended_ns = intended_ns;
    e->final.ts_ms = ts_ms;
    if (!e->has_meta && f->has_metadata) {
        e->has_meta = true;
        memcpy(e->airline, f->airline, SKY_META_MAX);
        memcpy(e->flight_number, f->flight_number, SKY_META_MAX);
        memcpy(e->departure, f->departure_airport, SKY_META_MAX);
        memcpy(e->arrival, f->arrival_airport, SKY_META_MAX);
    }
}

static int publish(sky_replay_t *r, sky_rrec_t *rec, int64_t loop, char *errstr, size_t errsz) {
    int64_t t_ms = rec->ts_ms + r->shift_ms + loop * r->span_ms;
    sky_sink_msg_t m;
    bool valid;
    int64_t final_ts = 0;
    char why[200] = "";
    int rc = build_message(r, rec, loop, t_ms, &m, &valid, &final_ts, why, sizeof why);
    if (rc) {
        sky_err(errstr, errsz, rc, "%s", why);
        return reject(r, errstr, errsz);
    }
    /* the read-ahead thread hashed the record's own key: the one published unless a loop
     * renames the flight or a new time re-encodes a capture record under its flight_id */
    bool own_key = rec->checked && (rec->raw ? (loop == 0 && r->shift_ms == 0) || !rec->has_flight
                                             : loop == 0);
    sky_flight_entry_t *e =
        !m.key   ? NULL
        : own_key ? sky_flight_index_get_hashed(r->flights, m.key, m.key_len, rec->key_hash)
                  : sky_flight_index_get(r->flights, m.key, m.key_len);
    if (m.key && !e && m.key_len < SKY_FLIGHT_ID_MAX)
        return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
    if (e && e->next_seq == 0) {
        e->send_to = sky_sink_partition(r->sink, m.key, m.key_len);
        r->unplaced += e->partition < 0;
    }
    m.partition = e ? e->send_to : sky_sink_partition(r->sink, m.key, m.key_len);
    m.seq = e ? e->next_seq++ : 0;
    m.intended_ns = pace(r, t_ms);
    if ((rc = sky_sink_send(r->sink, &m, errstr, errsz)))
        return rc;
    r->st.published++;
    r->sent_in_run++;
    if (!r->o.manifest || !e)
        return 0;
    if (valid) {
        note_final(e, &rec->flight, m.seq, final_ts, m.intended_ns);
        r->expected_unique++;
        if (r->fences && m.flight && fence_step(r, &m))
            return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory (geofence events)");
    } else if (note_fault(r, e, m.seq, why)) {
        return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
    }
    return 0;
}

/* The resampler's output: a new position, published as a text-format record would be. */
static int publish_resampled(void *opaque, const sky_flight_t *f, int64_t ts_ms) {
    sky_replay_t *r = opaque;
    r->resampled.ts_ms = ts_ms;
    r->resampled.flight = *f;
    return publish(r, &r->resampled, r->emit_loop, r->emit_errstr, r->emit_errsz);
}

/* Positions go through the resampler; records without one (or that fail validation,
 * which verify expects in the DLQ) are published as they are. */
static int publish_or_resample(sky_replay_t *r, sky_rrec_t *rec, int64_t loop, char *errstr,
                               size_t errsz) {
    if (!r->resampler || !rec->has_flight || !rec->flight.has_location ||
        sky_flight_check_fields(&rec->flight, NULL, 0))
        return publish(r, rec, loop, errstr, errsz);
    r->st.resampled_in++;
    r->emit_loop = loop;
    r->emit_errstr = errstr;
    r->emit_errsz = errsz;
    return sky_resampler_push(r->resampler, &rec->flight, rec->ts_ms, publish_resampled, r);
}

static int flush_resampler(sky_replay_t *r, int64_t loop, char *errstr, size_t errsz) {
    if (!r->resampler)
        return 0;
    r->emit_loop = loop;
    r->emit_errstr = errstr;
    r->emit_errsz = errsz;
    return sky_resampler_flush(r->resampler, publish_resampled, r);
}

static void report_progress(sky_replay_t *r) {
    r->st.flights = sky_flight_index_count(r->flights);
    if (r->progress)
        r->progress(r->progress_opaque, &r->st);
}

/* The first record fixes the time origin, the shift and the wall clock start. */
static void start_clock(sky_replay_t *r, int64_t first_ts) {
    r->started = true;
    r->st.first_ts_ms = first_ts;
    if (r->o.shift_mode == SKY_SHIFT_NOW)
        r->shift_ms = sky_now_ns() / 1000000 - first_ts;
    else if (r->o.shift_mode == SKY_SHIFT_BY)
        r->shift_ms = r->o.shift_ms;
    r->t0_ms = first_ts + r->shift_ms;
    r->wall0_ns = sky_now_ns();
}

/* Starts what publishing the next records of this source will touch, so that their
 * cache misses overlap this record's publishing: 8 records ahead the flight map's slot,
 * 4 ahead the flight's entry (the slot arrived meanwhile) and the record's lines the
 * read-ahead thread wrote on the other core. (A guess when there are several sources:
 * the next record published may come from another.) */
static void prefetch_ahead(const sky_replay_t *r, const source_t *s) {
    const sky_rrec_t *far = sky_readahead_peek(s->reader, 8);
    if (far && far->checked)
        sky_flight_index_prefetch(r->flights, far->key_hash);
    const sky_rrec_t *near = sky_readahead_peek(s->reader, 4);
    if (near && near->checked) {
        sky_flight_index_prefetch_entry(r->flights, near->key_hash);
        __builtin_prefetch(&near->cap);
        __builtin_prefetch(&near->cap.headers[0]);
        __builtin_prefetch(&near->cap.headers[2]);
        __builtin_prefetch(&near->flight.latitude);
    }
}

static int run_loop(sky_replay_t *r, int64_t loop, char *errstr, size_t errsz) {
    int rc = open_sources(r, errstr, errsz);
    source_t *s;
    while (!rc && (s = earliest(r))) {
        if (r->stop && *r->stop) {
            rc = sky_err(errstr, errsz, SKY_EINTR, "stopped by a signal");
            break;
        }
        if (!r->started)
            start_clock(r, s->rec->ts_ms);
        if (loop == 0 && s->rec->ts_ms > r->st.last_ts_ms)
            r->st.last_ts_ms = s->rec->ts_ms;
        prefetch_ahead(r, s);
        if (filtered_out(r, s->rec))
            r->st.filtered++;
        else if ((rc = publish_or_resample(r, s->rec, loop, errstr, errsz)))
            break;
        if ((r->st.published & 4095) == 0)
            report_progress(r);
        s->rows_done = s->rec->rows_at;
        s->skipped_done = s->rec->skipped_at;
        rc = advance(r, s, errstr, errsz);
    }
    if (!rc)
        rc = flush_resampler(r, loop, errstr, errsz);
    close_sources(r);
    return rc;
}

int sky_replay_run(sky_replay_t *r, char *errstr, size_t errsz) {
    int rc = 0;
    for (int64_t loop = 0; loop < r->o.loops && !rc; loop++) {
        rc = run_loop(r, loop, errstr, errsz);
        if (loop == 0) /* later loops follow on, one second after the recording ends */
            r->span_ms = r->st.last_ts_ms - r->st.first_ts_ms + 1000;
    }
    if (!rc && r->st.rejected > (uint64_t)r->o.errors_shown)
        sky_log_warn("%llu rejected rows in all (only the first %d are listed)",
                     (unsigned long long)r->st.rejected, r->o.errors_shown);
    report_progress(r);
    return rc;
}

/* ---- manifest ---- */

static int manifest_header(sky_replay_t *r, sky_manifest_t *m, const char *topic,
                           int64_t started_ns, int64_t ended_ns) {
    char started[SKY_TS_MAX], ended[SKY_TS_MAX];
    sky_ts_format(started_ns / 1000000, SKY_TS_ISO8601, started);
    sky_ts_format(ended_ns / 1000000, SKY_TS_ISO8601, ended);
    sky_manifest_info_t info = {.run_id = r->o.run_id, .kind = "replay", .topic = topic,
                                .shard_index = 0, .shard_count = 1, .started_at = started,
                                .ended_at = ended};
    return sky_manifest_set_info(m, &info);
}

static int manifest_tail(sky_replay_t *r, sky_manifest_t *m) {
    sky_manifest_totals_t t = {.flights = sky_flight_index_count(r->flights),
                               .produced = r->st.published, .delivered = r->st.published,
                               .expected_unique = r->expected_unique};
    sky_producer_t *p = sky_sink_producer(r->sink);
    if (p) {
        sky_producer_stats_t ps;
        sky_producer_get_stats(p, &ps);
        t.produced = r->st.published; /* the sink produces on the handle: see sink.h */
        t.delivered = ps.delivered;
        t.failed = ps.failed;
        for (int32_t i = 0; i < sky_producer_partition_slots(p); i++) {
            sky_manifest_partition_t mp = {.partition = i};
            if (sky_producer_partition_range(p, i, &mp.first_offset, &mp.last_offset) == 0) {
                mp.count = mp.last_offset - mp.first_offset + 1;
                if (sky_manifest_add_partition(m, &mp))
                    return SKY_ENOMEM;
            }
        }
        if (sky_manifest_set_ack_hist(m, sky_producer_ack_hist(p)))
            return SKY_ENOMEM;
    }
    sky_manifest_set_totals(m, &t);
    for (size_t i = 0; i < sky_manifest_fault_count(r->faults); i++)
        if (sky_manifest_add_fault(m, sky_manifest_fault(r->faults, i)))
            return SKY_ENOMEM;
    return sky_manifest_merge_events(m, r->faults); /* geofence events and section */
}

static void entry_to_flight(const sky_replay_t *r, const sky_flight_entry_t *e,
                            sky_manifest_flight_t *f) {
    memset(f, 0, sizeof *f);
    f->id = sky_flight_index_id(r->flights, e);
    if (e->has_meta) {
        f->airline = e->airline;
        f->flight_number = e->flight_number;
        f->departure = e->departure;
        f->arrival = e->arrival;
    }
    f->first_seq = 0;
    f->last_seq = e->next_seq - 1;
    f->partition = e->partition;
    f->has_final = e->has_final;
    f->final = e->final;
}

/* The replay's row counts, which the manifest schema has no place for: a "replay" member. */
static int add_counts(const sky_replay_t *r, sky_manifest_t *m) {
    json_t *rep = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "read", (json_int_t)r->st.read,
                            "published", (json_int_t)r->st.published, "rejected",
                            (json_int_t)r->st.rejected, "skipped", (json_int_t)r->st.skipped,
                            "filtered", (json_int_t)r->st.filtered, "max_lag_ms",
                            (json_int_t)(r->st.max_lag_ns / 1000000));
    int rc = rep ? sky_manifest_set_member(m, "replay", rep) : SKY_ENOMEM;
    json_decref(rep);
    return rc;
}

int sky_replay_write_manifest(sky_replay_t *r, const char *path, const char *topic,
                              int64_t started_ns, int64_t ended_ns, char *errstr, size_t errsz) {
    if (!r->o.manifest)
        return sky_err(errstr, errsz, SKY_EUSAGE,
                       "%s: the replay ran without tracking positions for a manifest", path);
    sky_manifest_t *m = sky_manifest_new();
    sky_manifest_writer_t *w = NULL;
    int rc = !m || manifest_header(r, m, topic, started_ns, ended_ns) ? SKY_ENOMEM : 0;
    if (rc)
        sky_err(errstr, errsz, rc, "out of memory");
    else
        rc = sky_manifest_writer_open(m, path, &w, errstr, errsz);
    for (size_t i = 0; !rc && i < sky_flight_index_count(r->flights); i++) {
        sky_manifest_flight_t f;
        entry_to_flight(r, sky_flight_index_at(r->flights, i), &f);
        if ((rc = sky_manifest_writer_flight(w, &f)))
            sky_err(errstr, errsz, rc, "%s: cannot write flight %zu", path, i);
    }
    if (!rc && (rc = manifest_tail(r, m) ? SKY_ENOMEM : add_counts(r, m)))
        sky_err(errstr, errsz, rc, "out of memory");
    if (rc)
        sky_manifest_writer_abort(w);
    else
        rc = sky_manifest_writer_close(w, m, errstr, errsz);
    sky_manifest_destroy(m);
    return rc;
}
