/* The simulation loop: the scheduler hands out (slot, time) emissions in time
 * order; each slot flies a sequence of flights (landing -> next departure), each
 * emission becomes a FlightData record (or a fault) sent to the sink, paced in
 * real time, K times faster, at N msgs/s or flat out; the manifest comes last. */
#include "sim.h"

#include "airspace_resolve.h"
#include "error.h"
#include "faults.h"
#include "geofence.h"
#include "kafka_admin.h"
#include "log.h"
#include "manifest.h"
#include "parse.h"
#include "record.h"
#include "record_json.h"
#include "scheduler.h"
#include "timefmt.h"
#include "traffic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOT_FLYING 1u
#define SLOT_HELD 2u /* a reorder fault holds the previous seq until this one is sent */
#define SLOT_MID 4u  /* started mid-flight (the initial population) */
#define SLOT_USED 8u /* has flown: plan.index is its latest flight's */
#define SLOT_FENCED 16u /* in or near a geofence at its last step (its state is not zero) */
#define PROGRESS_EVERY_NS 250000000LL

/* Per airborne aircraft; with the scheduler's order entry this is the whole
 * per-aircraft memory of the simulator (sky_sim_result_t.bytes_per_aircraft). */
typedef struct slot {
    sky_flight_plan_t plan;
    sky_simrec_id_t id; /* the flight's id, written once per flight */
    int64_t first_us;   /* simulated time of seq 0 (offset from the start); seq q is at
                           first_us + q * cadence */
    int32_t start_ms;   /* flight time at seq 0: 0, or the initial population's random
                           progress along the route */
    uint32_t seq;       /* next seq */
    int32_t last_valid; /* highest valid seq sent; -1: none yet */
    int16_t partition;
    uint8_t gap_left;
    uint8_t flags;
} slot_t;

_Static_assert(sizeof(slot_t) + sizeof(uint32_t) <= 200,
              "a million airborne aircraft must stay within 200 MB of memory");

typedef enum pacing { PACE_TIME, PACE_RATE, PACE_MAX } pacing_t;

typedef struct sim {
    const sky_sim_config_t *cfg;
    const sky_scenario_t *sc;
    sky_traffic_t *traffic;
    sky_sched_t *sched;
    slot_t *slots;
    sky_faults_t faults;
    sky_manifest_t *m;
    sky_hist_t *lag_us;
    /* sink */
    FILE *out;
    bool close_out;
    sky_buf_t line;
    sky_producer_t *producer;
    int32_t nparts;
    uint64_t *part_count; /* per partition: records (delivered for Kafka, sent otherwise) */
    bool part_mismatch_logged;
    /* timing */
    pacing_t pacing;
    double speedup, rate;
    int64_t start_ms;   /* simulated start time */
    int64_t wall0_ns;   /* origin of intended times */
    int64_t mono0_ns;
    int64_t duration_us;
    uint64_t slots_total;
    uint64_t flat_target; /* a constant load's aircraft count; 0: the load varies */
    char run_id[64];
    const char *topic;
    /* record being built: its bytes; f and id only where a record is read back (JSON
     * sinks, faults, the manifest) */
    sky_simrec_t *rec;
    uint8_t enc[SKY_FLIGHT_ENCODED_MAX];
    size_t enc_len;
    sky_flight_t f;
    char id[SKY_FLIGHT_ID_MAX];
    char errbuf[256];
    /* counters */
    sky_sim_result_t *res;
    uint64_t airborne;
    int64_t last_lag_us;
    uint64_t clock_reads;
    int64_t now_ns; /* latest clock read for unpaced Kafka runs */
    int rc;
    /* geofences (NULL without airspaces: the hot path then pays one branch) */
    sky_fenceset_t *fences;
    sky_fence_tracker_t *fence_state; /* per slot */
    sky_position_t fence_pos;         /* the position of the record in enc */
    const slot_t *fence_slot;
    int64_t fence_seq, fence_intended;
} sim_t;

int sky_sink_parse(const char *s, sky_sink_kind_t *kind, const char **path, char *errstr,
                   size_t errstr_size) {
    *path = NULL;
    if (strcmp(s, "kafka") == 0)
        *kind = SKY_SINK_KAFKA;
    else if (strcmp(s, "stdout") == 0)
        *kind = SKY_SINK_STDOUT;
    else if (strcmp(s, "null") == 0)
        *kind = SKY_SINK_NULL;
    else if (strncmp(s, "file:", 5) == 0 && s[5]) {
        *kind = SKY_SINK_FILE;
        *path = s + 5;
    } else
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "--sink: \"%s\" is not kafka, file:PATH, stdout or null", s);
    return 0;
}

/* ---- records ---- */

static int64_t paced_intended_ns(const sim_t *s, int64_t t_us) {
    return s->wall0_ns + (int64_t)((double)t_us * 1000.0 / s->speedup);
}

static int64_t intended_ns(sim_t *s, int64_t t_us) {
    if (s->cfg->sink == SKY_SINK_NULL)
        return 0; /* nothing reads it: no division per record */
    if (s->pacing == PACE_RATE)
        return s->wall0_ns + (int64_t)((double)s->res->produced * 1e9 / s->rate);
    if (s->pacing == PACE_MAX && s->cfg->sink == SKY_SINK_KAFKA) {
        /* unpaced: intended = now, read once per 16 records (a few us early at
         * most, so latency can only be over-stated) */
        if ((s->clock_reads++ & 15) == 0)
            s->now_ns = sky_now_ns();
        return s->now_ns;
    }
    return s->wall0_ns + (int64_t)((double)t_us * 1000.0 / s->speedup);
}

/* Flight time (since wheels up) at simulated time t_us. */
static int64_t flight_us(const slot_t *sl, int64_t t_us) {
    return t_us - sl->first_us + (int64_t)sl->start_ms * 1000;
}

static int64_t duration_us(const slot_t *sl) { return (int64_t)sl->plan.duration_ms * 1000; }

static int64_t seq_time_us(const sim_t *s, const slot_t *sl, int64_t seq) {
    return sl->first_us + seq * s->sc->cadence_ms * 1000;
}

static void build_record(sim_t *s, const slot_t *sl, int64_t t_us) {
    sky_position_t pos;
    sky_traffic_position(s->traffic, &sl->plan, flight_us(sl, t_us) / 1000, &pos);
    if (s->fences)
        s->fence_pos = pos;
    s->enc_len =
        sky_simrec_encode(s->rec, &sl->plan, &sl->id, &pos, s->start_ms + t_us / 1000, s->enc);
}

/* The record's flight id, NUL-terminated. */
static const char *record_id(sim_t *s) {
    memcpy(s->id, s->enc + 2, s->enc[1]);
    s->id[s->enc[1]] = '\0';
    return s->id;
}

/* The record read back into s->f (for the JSON sinks and malformed faults). */
static int record_flight(sim_t *s) {
    return sky_flight_decode(s->enc, s->enc_len, &s->f, s->errbuf, sizeof s->errbuf);
}

static void add_header_str(sky_buf_t *b, const char *name, const char *v, size_t len) {
    sky_buf_add_json_str(b, name, strlen(name));
    sky_buf_add_char(b, ':');
    sky_buf_add_json_str(b, v, len);
}

static int write_json_line(sim_t *s, int64_t seq, int64_t intended, const char *error) {
    char num[24];
    sky_buf_t *b = &s->line;
    if (record_flight(s))
        return SKY_EINVAL;
    sky_buf_add_str(b, "{\"key\":");
    sky_buf_add_json_str(b, s->f.flight_id, strlen(s->f.flight_id));
    sky_buf_add_str(b, ",\"headers\":{");
    add_header_str(b, SKY_HDR_RUN, s->run_id, strlen(s->run_id));
    sky_buf_add_char(b, ',');
    add_header_str(b, SKY_HDR_SEQ, num, sky_fmt_i64(num, seq));
    sky_buf_add_char(b, ',');
    add_header_str(b, SKY_HDR_INTENDED, num, sky_fmt_i64(num, intended));
    sky_buf_add_str(b, "},\"value\":");
    sky_flight_to_json(&s->f, b);
    if (error) {
        sky_buf_add_str(b, ",\"error\":");
        sky_buf_add_json_str(b, error, strlen(error));
    }
    if (sky_buf_add_str(b, "}\n"))
        return SKY_ENOMEM;
    if (b->len >= 65536) {
        if (fwrite(b->data, 1, b->len, s->out) != b->len)
            return SKY_EIO;
        sky_buf_reset(b);
    }
    return 0;
}

/* Hands the record built in s->enc to the sink. */
static int send_record(sim_t *s, const slot_t *sl, int64_t seq, int64_t intended,
                       const char *error) {
    int rc = 0;
    s->res->produced++;
    switch (s->cfg->sink) {
    case SKY_SINK_KAFKA:
        rc = sky_producer_send(s->producer, sl->partition, s->enc + 2, s->enc[1], s->enc,
                               s->enc_len, s->run_id, seq, intended, s->errbuf,
                               sizeof s->errbuf);
        break;
    case SKY_SINK_FILE:
    case SKY_SINK_STDOUT:
        rc = write_json_line(s, seq, intended, error);
        if (rc == SKY_EINVAL)
            break; /* record_flight said why */
        if (rc)
            snprintf(s->errbuf, sizeof s->errbuf, "%s: write failed: %s",
                     s->cfg->sink_path ? s->cfg->sink_path : "stdout", strerror(errno));
        /* fall through */
    case SKY_SINK_NULL:
        if (sl->partition >= 0 && sl->partition < s->nparts)
            s->part_count[sl->partition]++;
        break;
    }
    if (rc == SKY_EINTR)
        s->res->produced--;
    return rc;
}

static int add_fault(sim_t *s, sky_fault_kind_t kind, int64_t seq, int64_t count,
                     const char *reason) {
    sky_manifest_fault_t fault = {kind, record_id(s), seq, count, reason};
    s->res->faults++;
    return sky_manifest_add_fault(s->m, &fault) ? SKY_ENOMEM : 0;
}

static int fence_step(sim_t *s, slot_t *sl, int64_t seq, int64_t intended);

/* A valid record went to the sink. Only one newer than every earlier record of the
 * flight moves the flight in Tile38 (ingest drops the stale ones: a reorder's held
 * seq, a duplicate's second copy), so only it can make a geofence event. */
static int note_valid(sim_t *s, slot_t *sl, int64_t seq, int64_t intended) {
    int rc = s->fences && seq > sl->last_valid ? fence_step(s, sl, seq, intended) : 0;
    s->res->expected_unique++;
    if (seq > sl->last_valid)
        sl->last_valid = (int32_t)seq;
    return rc;
}

/* Sends the seq held back by a reorder fault: after its successor (as_reorder, from
 * emit: sl->seq already counts the successor) or unchanged when the flight ends first. */
static int release_held(sim_t *s, slot_t *sl, bool as_reorder) {
    int64_t seq = (int64_t)sl->seq - (as_reorder ? 2 : 1);
    int64_t t_held = seq_time_us(s, sl, seq);
    int64_t intended = intended_ns(s, t_held);
    sl->flags &= (uint8_t)~SLOT_HELD;
    build_record(s, sl, t_held);
    int rc = send_record(s, sl, seq, intended, NULL);
    if (!rc && as_reorder)
        rc = add_fault(s, SKY_FAULT_REORDER, seq, 1, NULL);
    if (!rc)
        rc = note_valid(s, sl, seq, intended);
    return rc;
}

/* Would the next emission of this flight still belong to it (so a reorder can complete)? */
static bool has_next(const sim_t *s, const slot_t *sl, int64_t t_us) {
    int64_t next = t_us + s->sc->cadence_ms * 1000;
    return flight_us(sl, next) < duration_us(sl) &&
           (s->duration_us <= 0 || next < s->duration_us);
}

static int emit_faulty(sim_t *s, slot_t *sl, int64_t seq, int64_t t_us, int fault) {
    int64_t intended = intended_ns(s, t_us);
    char reason[160];
    int rc;
    switch (fault) {
    case SKY_FAULT_DROP: return add_fault(s, SKY_FAULT_DROP, seq, 1, NULL);
    case SKY_FAULT_GAP:
        sl->gap_left = (uint8_t)(s->faults.gap_length - 1 > 255 ? 255 : s->faults.gap_length - 1);
        return add_fault(s, SKY_FAULT_GAP, seq, sl->gap_left + 1, NULL);
    case SKY_FAULT_REORDER: sl->flags |= SLOT_HELD; return 0;
    case SKY_FAULT_MALFORMED:
        if ((rc = record_flight(s)))
            return rc;
        sky_faults_malform(&s->faults, &s->f, sl->plan.index, (uint64_t)seq, reason,
                           sizeof reason);
        s->enc_len = sky_flight_encode(&s->f, s->enc, sizeof s->enc);
        rc = send_record(s, sl, seq, intended, reason);
        return rc ? rc : add_fault(s, SKY_FAULT_MALFORMED, seq, 1, reason);
    case SKY_FAULT_DUPLICATE:
        rc = send_record(s, sl, seq, intended, NULL);
        if (!rc)
            rc = send_record(s, sl, seq, intended, NULL);
        if (!rc)
            rc = add_fault(s, SKY_FAULT_DUPLICATE, seq, 1, NULL);
        break;
    default: rc = send_record(s, sl, seq, intended, NULL); break;
    }
    if (!rc)
        rc = note_valid(s, sl, seq, intended);
    return rc;
}

/* One scheduled emission of a flying slot: a record, a fault, or nothing (gap). */
static int emit(sim_t *s, slot_t *sl, int64_t t_us) {
    int64_t seq = sl->seq++;
    if (sl->gap_left) {
        sl->gap_left--;
        return 0;
    }
    if (sl->flags & SLOT_FENCED) /* its step follows the position: fetch it meanwhile */
        sky_fence_tracker_prefetch(s->fence_state, (size_t)(sl - s->slots));
    build_record(s, sl, t_us);
    if (sl->flags & SLOT_HELD) {
        int rc = emit_faulty(s, sl, seq, t_us, SKY_FAULT_NONE);
        return rc ? rc : release_held(s, sl, true);
    }
    int fault = sky_faults_pick(&s->faults, sl->plan.index, (uint64_t)seq);
    if (fault == SKY_FAULT_REORDER && !has_next(s, sl, t_us))
        fault = SKY_FAULT_NONE;
    return emit_faulty(s, sl, seq, t_us, fault);
}

/* ---- geofences: the enter/exit events Tile38 will send (simulator/airspace.h) ---- */

static void on_fence_event(void *opaque, size_t fence, sky_fence_kind_t kind) {
    sim_t *s = opaque;
    sky_manifest_event_t e = {record_id(s),
                              sky_fenceset_airspace(s->fences, fence)->name,
                              (int)kind,
                              s->fence_seq,
                              s->fence_intended,
                              sky_tile38_coord(s->fence_pos.lat),
                              sky_tile38_coord(s->fence_pos.lon),
                              s->fence_pos.alt_ft};
    if (sky_manifest_add_event(s->m, &e))
        s->fence_seq = -1; /* out of memory: fence_step says so */
    else
        s->res->geofence_events++;
}

static int fence_step(sim_t *s, slot_t *sl, int64_t seq, int64_t intended) {
    /* most positions are far from every fence: skip them without touching the state */
    if (!(sl->flags & SLOT_FENCED) &&
        !sky_fenceset_near(s->fences, s->fence_pos.lat, s->fence_pos.lon))
        return 0;
    uint64_t *state = sky_fence_tracker_slot(s->fence_state, (size_t)(sl - s->slots));
    if (!state)
        return sky_err(s->errbuf, sizeof s->errbuf, SKY_ENOMEM, "out of memory");
    s->fence_seq = seq;
    s->fence_intended = intended;
    if (sky_fenceset_step(s->fences, state, s->fence_pos.lat, s->fence_pos.lon,
                          s->fence_pos.alt_ft, on_fence_event, s))
        sl->flags |= SLOT_FENCED;
    else
        sl->flags &= (uint8_t)~SLOT_FENCED;
    return s->fence_seq < 0
               ? sky_err(s->errbuf, sizeof s->errbuf, SKY_ENOMEM, "out of memory (events)")
               : 0;
}

/* Airports resolved with the run's model, fences compiled, states for every slot. */
static int fence_setup(sim_t *s, char *errstr, size_t errstr_size) {
    const sky_scenario_t *sc = s->sc;
    if (!sc->nairspaces)
        return 0;
    sky_airspace_t *a = calloc(sc->nairspaces, sizeof *a);
    int rc = a ? 0 : sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    size_t copied = 0;
    for (; !rc && copied < sc->nairspaces; copied++)
        if (sky_airspace_copy(&a[copied], &sc->airspaces[copied]))
            rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    if (!rc)
        rc = sky_airspaces_resolve(a, sc->nairspaces, s->traffic, errstr, errstr_size);
    if (!rc && !(s->fences = sky_fenceset_new(a, sc->nairspaces, errstr, errstr_size)))
        rc = SKY_EUSAGE;
    if (!rc && !(s->fence_state = sky_fence_tracker_new(s->fences, sky_sched_slots(s->sched))))
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory for geofence states");
    sky_airspaces_free(a, copied);
    return rc;
}

/* The manifest's geofence section, with the events topic's offsets before the first
 * record (verify reads the run's events from there). */
static int fence_manifest(sim_t *s, char *errstr, size_t errstr_size) {
    if (!s->fences)
        return 0;
    char topic[512];
    if (s->cfg->events_topic)
        snprintf(topic, sizeof topic, "%s", s->cfg->events_topic);
    else
        sky_geofence_events_topic(s->topic, topic, sizeof topic);
    const sky_fenceset_t *f = s->fences;
    size_t n = sky_fenceset_count(f);
    return sky_geofence_manifest_section(
        s->m, s->producer ? sky_producer_handle(s->producer) : NULL, topic,
        sky_fenceset_airspace(f, 0), n, errstr, errstr_size);
}

/* ---- flights ---- */

static void fill_manifest_flight(sim_t *s, const slot_t *sl, bool landed,
                                 sky_manifest_flight_t *mf, char *num) {
    memset(mf, 0, sizeof *mf);
    sky_traffic_flight_id(s->traffic, &sl->plan, s->f.flight_id, sizeof s->f.flight_id);
    sky_traffic_flight_number(s->traffic, &sl->plan, num, SKY_META_MAX);
    mf->id = s->f.flight_id;
    mf->airline = sky_traffic_airline_icao(s->traffic, &sl->plan);
    mf->flight_number = num;
    mf->departure = sky_traffic_airport_icao(s->traffic, sl->plan.dep);
    mf->arrival = sky_traffic_airport_icao(s->traffic, sl->plan.arr);
    mf->first_seq = 0;
    mf->last_seq = (int64_t)sl->seq - 1;
    mf->partition = sl->partition;
    mf->landed = landed;
    if (sl->last_valid >= 0) {
        sky_position_t pos;
        int64_t t = seq_time_us(s, sl, sl->last_valid);
        sky_traffic_position(s->traffic, &sl->plan, flight_us(sl, t) / 1000, &pos);
        mf->has_final = true;
        /* Under --rate the intended time of the final record is not kept (memory per
         * aircraft); the time-paced value is reported instead. */
        mf->final = (sky_manifest_pos_t){sl->last_valid, pos.lat,   pos.lon,
                                         pos.alt_ft,     pos.speed_kt, s->start_ms + t / 1000,
                                         paced_intended_ns(s, t)};
    }
}

/* Ends the slot's flight (landed, or left when the load profile dropped) and records it. */
static int finish_flight(sim_t *s, slot_t *sl, bool landed) {
    sky_manifest_flight_t mf;
    char num[SKY_META_MAX];
    int rc = 0;
    if (sl->flags & SLOT_HELD)
        rc = release_held(s, sl, false);
    fill_manifest_flight(s, sl, landed, &mf, num);
    sl->flags = SLOT_USED;
    s->airborne--;
    if (landed)
        s->res->landed++;
    if (!rc && sky_manifest_add_flight(s->m, &mf))
        rc = sky_err(s->errbuf, sizeof s->errbuf, SKY_ENOMEM, "out of memory");
    return rc;
}

static int start_flight(sim_t *s, slot_t *sl, uint64_t global, int64_t t_us, bool mid_flight) {
    /* the k-th flight of a slot is base + k * slots_total + global */
    uint64_t index = sl->flags & SLOT_USED ? sl->plan.index + s->slots_total
                                           : s->cfg->flight_index_base + global;
    if (sky_traffic_plan(s->traffic, index, &sl->plan, s->errbuf, sizeof s->errbuf))
        return SKY_EINVAL;
    sl->seq = 0;
    sl->last_valid = -1;
    sl->gap_left = 0;
    /* mid_flight: the sky is already full, so start somewhere along the route */
    sl->flags = (uint8_t)(SLOT_USED | SLOT_FLYING | (mid_flight ? SLOT_MID : 0));
    if (s->fences) /* a new flight id: no object in Tile38 yet */
        sky_fence_tracker_reset(s->fence_state, (size_t)(sl - s->slots));
    sl->first_us = t_us;
    sl->start_ms = 0;
    if (mid_flight) { /* deterministic: a function of the seed and the flight alone */
        double u = sky_unit(sky_mix64(s->sc->seed ^ sky_mix64(sl->plan.index)));
        sl->start_ms = (int32_t)(u * (double)sl->plan.duration_ms);
    }
    char id[SKY_TRAFFIC_PUT_ROOM];
    size_t id_len = sky_traffic_put_flight_id(s->traffic, &sl->plan, id);
    sl->partition = (int16_t)sky_kafka_murmur2_partition(id, id_len, s->nparts);
    sky_simrec_id(&sl->id, id, id_len);
    s->airborne++;
    s->res->flights++;
    return 0;
}

static int handle_emission(sim_t *s, const sky_emission_t *e) {
    slot_t *sl = &s->slots[e->local];
    uint64_t target = s->flat_target;
    if (!target) /* a varying load; a constant one (most runs) needs no call and division */
        target = sky_profile_target(&s->sc->load, e->t_us / 1000, s->sc->duration_ms);
    int rc = 0;
    if (e->global >= target)
        return sl->flags & SLOT_FLYING ? finish_flight(s, sl, false) : 0;
    if (!(sl->flags & SLOT_FLYING))
        rc = start_flight(s, sl, e->global, e->t_us, true);
    else if (flight_us(sl, e->t_us) >= duration_us(sl)) {
        rc = finish_flight(s, sl, true);
        if (!rc)
            rc = start_flight(s, sl, e->global, e->t_us, false);
    }
    return rc ? rc : emit(s, sl, e->t_us);
}

/* ---- pacing ---- */

static int64_t due_ns(const sim_t *s, int64_t t_us) {
    if (s->pacing == PACE_RATE)
        return (int64_t)((double)s->res->produced * 1e9 / s->rate);
    return (int64_t)((double)t_us * 1000.0 / s->speedup);
}

/* Sleeps until the emission is due (serving Kafka meanwhile), at SKY_PACE_QUANTUM_NS
 * granularity; records the lag behind the intended time (which latency includes). */
static void pace(sim_t *s, int64_t t_us, volatile sig_atomic_t *stop) {
    int64_t intended = due_ns(s, t_us), due = intended, now = sky_monotonic_ns() - s->mono0_ns;
    if (now < due && due - now < SKY_PACE_QUANTUM_NS)
        due = now + SKY_PACE_QUANTUM_NS;
    while (now < due && !(stop && *stop)) {
        int64_t wait = due - now;
        if (s->producer && wait > 2000000) {
            sky_producer_poll(s->producer, (int)(wait > 100000000 ? 100 : wait / 1000000 - 1));
        } else {
            struct timespec ts = {(time_t)((s->mono0_ns + due) / 1000000000),
                                  (long)((s->mono0_ns + due) % 1000000000)};
            if (wait > 100000000) {
                int64_t until = s->mono0_ns + now + 100000000;
                ts = (struct timespec){(time_t)(until / 1000000000), (long)(until % 1000000000)};
            }
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
        now = sky_monotonic_ns() - s->mono0_ns;
    }
    s->last_lag_us = (now - intended) / 1000;
    sky_hist_record(s->lag_us, s->last_lag_us);
}

static void report_progress(sim_t *s, int64_t t_us, int64_t *last_ns, uint64_t *last_sent) {
    int64_t now = sky_monotonic_ns();
    if (now - *last_ns < PROGRESS_EVERY_NS)
        return;
    sky_sim_progress_t p = {s->airborne, s->res->produced, 0, s->last_lag_us, 0, t_us / 1000};
    p.msgs_per_s = (double)(s->res->produced - *last_sent) * 1e9 / (double)(now - *last_ns);
    if (s->producer) {
        sky_producer_stats_t st;
        sky_producer_get_stats(s->producer, &st);
        p.failed = st.failed;
    }
    *last_ns = now;
    *last_sent = s->res->produced;
    s->cfg->progress(s->cfg->progress_opaque, &p);
}

/* A paced run starts with the sky already full: planning its initial population
 * lazily would put up to a cadence of plans (a million flights: seconds of CPU) in
 * front of the first records, behind schedule. Same plans, same times as lazily. */
static int plan_initial_population(sim_t *s) {
    int64_t t0 = sky_monotonic_ns();
    int64_t cadence_us = s->sc->cadence_ms * 1000;
    for (uint32_t i = 0; i < sky_sched_slots(s->sched); i++) {
        uint64_t global = sky_sched_global(s->sched, i);
        int64_t t_us = sky_sched_phase_us(global, cadence_us);
        if ((s->duration_us > 0 && t_us >= s->duration_us) ||
            global >= sky_profile_target(&s->sc->load, t_us / 1000, s->sc->duration_ms))
            continue;
        int rc = start_flight(s, &s->slots[i], global, t_us, true);
        if (rc)
            return rc;
    }
    s->res->planning_s = (double)(sky_monotonic_ns() - t0) / 1e9;
    return 0;
}

static int run_loop(sim_t *s, volatile sig_atomic_t *stop) {
    sky_emission_t e;
    int64_t last_ns = sky_monotonic_ns();
    uint64_t last_sent = 0, n = 0;
    int64_t last_t_us = 0;
    int rc = s->pacing != PACE_MAX ? plan_initial_population(s) : 0;
    if (rc)
        return rc;
    /* Kafka consumers measure latency from real intended times; files must be
     * byte-identical, so their intended times hang off the simulated start. */
    s->wall0_ns = s->cfg->sink == SKY_SINK_KAFKA ? sky_now_ns() : s->start_ms * 1000000;
    s->mono0_ns = sky_monotonic_ns();
    while (!rc && sky_sched_next(s->sched, &e) == 0) {
        if (s->duration_us > 0 && e.t_us >= s->duration_us)
            break;
        if (stop && *stop) {
            s->res->stopped = true;
            break;
        }
        if (s->pacing != PACE_MAX)
            pace(s, e.t_us, stop);
        rc = handle_emission(s, &e);
        last_t_us = e.t_us;
        if (s->cfg->progress && (++n & 1023) == 0)
            report_progress(s, e.t_us, &last_ns, &last_sent);
    }
    if (rc == SKY_EINTR) {
        s->res->stopped = true;
        rc = 0;
    }
    s->res->sim_ms = last_t_us / 1000;
    s->res->elapsed_s = (double)(sky_monotonic_ns() - s->mono0_ns) / 1e9;
    return rc;
}

/* ---- set-up and tear-down ---- */

static void format_run_id(char *out, size_t outsz, int64_t start_ms, uint64_t seed, int shard) {
    int64_t y, secs = start_ms / 1000 - (start_ms % 1000 < 0);
    unsigned mo, d;
    int64_t days = secs / 86400 - (secs % 86400 < 0), sod = secs - days * 86400;
    sky_civil_from_days(days, &y, &mo, &d);
    snprintf(out, outsz, "r-%04lld%02u%02uT%02d%02d%02dZ-%llu-%d", (long long)y, mo, d,
             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (unsigned long long)seed,
             shard);
}

static void on_delivery(void *opaque, const sky_delivery_t *d) {
    sim_t *s = opaque;
    if (d->err || d->partition < 0 || d->partition >= s->nparts)
        return;
    /* a sample is enough to catch an overridden partitioner (murmur2 per record costs 3%) */
    if ((s->part_count[d->partition]++ & 255) == 0 && !s->part_mismatch_logged &&
        sky_kafka_murmur2_partition(d->key, d->key_len, s->nparts) != d->partition) {
        s->part_mismatch_logged = true;
        sky_log_warn("record for %.*s went to partition %d, not the murmur2 partition the "
                     "manifest records; is -X partitioner overridden?",
                     (int)d->key_len, (const char *)d->key, (int)d->partition);
    }
}

static int open_kafka(sim_t *s, char *errstr, size_t errstr_size) {
    const sky_kconf_t *kc = s->cfg->kafka;
    int rc;
    if (s->cfg->create_topic &&
        (rc = sky_kafka_ensure_topic(kc, s->topic, s->sc->partitions, NULL, errstr, errstr_size)))
        return rc;
    s->producer = sky_producer_new(kc, s->topic, errstr, errstr_size);
    if (!s->producer)
        return SKY_EKAFKA;
    int n = 0;
    if ((rc = sky_kafka_partition_count(sky_producer_handle(s->producer), s->topic, 10000, &n,
                                        errstr, errstr_size)))
        return rc;
    s->nparts = n;
    sky_producer_set_delivery_cb(s->producer, on_delivery, s);
    return 0;
}

static int open_sink(sim_t *s, volatile sig_atomic_t *stop, char *errstr, size_t errstr_size) {
    s->nparts = s->sc->partitions;
    sky_buf_init(&s->line, 0);
    if (s->cfg->sink == SKY_SINK_KAFKA) {
        int rc = open_kafka(s, errstr, errstr_size);
        if (rc)
            return rc;
        sky_producer_set_stop_flag(s->producer, stop);
    } else if (s->cfg->sink == SKY_SINK_FILE) {
        if (!(s->out = fopen(s->cfg->sink_path, "w")))
            return sky_err(errstr, errstr_size, SKY_EIO, "%s: cannot create: %s",
                           s->cfg->sink_path, strerror(errno));
        s->close_out = true;
    } else if (s->cfg->sink == SKY_SINK_STDOUT) {
        s->out = stdout;
    }
    if (!(s->part_count = calloc((size_t)s->nparts, sizeof *s->part_count)))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    return 0;
}

/* Releases held records, then waits for the sink to take everything. */
static int drain_sink(sim_t *s, char *errstr, size_t errstr_size) {
    int rc = 0;
    for (uint32_t i = 0; !rc && i < sky_sched_slots(s->sched); i++)
        if (s->slots[i].flags & SLOT_HELD)
            rc = release_held(s, &s->slots[i], false);
    if (s->out) {
        if (s->line.len && fwrite(s->line.data, 1, s->line.len, s->out) != s->line.len)
            rc = SKY_EIO;
        if (fflush(s->out))
            rc = SKY_EIO;
        if (rc)
            sky_err(errstr, errstr_size, rc, "%s: write failed: %s",
                    s->cfg->sink_path ? s->cfg->sink_path : "stdout", strerror(errno));
    }
    if (s->producer) {
        char ferr[256];
        int frc = sky_producer_flush(s->producer, s->cfg->flush_timeout_ms > 0
                                                      ? s->cfg->flush_timeout_ms
                                                      : 30000,
                                     ferr, sizeof ferr);
        if (frc)
            sky_log_warn("%s", ferr);
    }
    return rc;
}

static void fill_totals(sim_t *s) {
    sky_sim_result_t *r = s->res;
    if (s->producer) {
        sky_producer_stats_t st;
        sky_producer_get_stats(s->producer, &st);
        r->delivered = st.delivered;
        r->failed = r->produced > st.delivered ? r->produced - st.delivered : 0;
        const sky_hist_t *ack = sky_producer_ack_hist(s->producer);
        r->ack_p50_us = sky_hist_percentile(ack, 50);
        r->ack_p99_us = sky_hist_percentile(ack, 99);
        r->ack_max_us = sky_hist_max(ack);
    } else {
        r->delivered = r->produced;
    }
    r->airborne = s->airborne;
    r->msgs_per_s = r->elapsed_s > 0 ? (double)r->produced / r->elapsed_s : 0;
    r->paced = s->pacing != PACE_MAX;
    r->lag_p50_us = sky_hist_percentile(s->lag_us, 50);
    r->lag_p99_us = sky_hist_percentile(s->lag_us, 99);
    r->lag_max_us = sky_hist_max(s->lag_us);
    r->bytes_per_aircraft = sizeof(slot_t) + sky_sched_bytes_per_slot();
}

static int fill_manifest_tail(sim_t *s) {
    int rc = 0;
    for (int32_t p = 0; !rc && p < s->nparts; p++) {
        sky_manifest_partition_t mp = {p, -1, -1, (int64_t)s->part_count[p]};
        if (s->producer)
            sky_producer_partition_range(s->producer, p, &mp.first_offset, &mp.last_offset);
        rc = sky_manifest_add_partition(s->m, &mp);
    }
    const sky_sim_result_t *r = s->res;
    sky_manifest_totals_t t = {r->flights, r->produced, r->delivered, r->failed,
                               r->expected_unique};
    sky_manifest_set_totals(s->m, &t);
    sky_manifest_set_slo(s->m, s->sc->slo);
    if (!rc && s->producer)
        rc = sky_manifest_set_ack_hist(s->m, sky_producer_ack_hist(s->producer));
    return rc;
}

static int write_manifest(sim_t *s, char *errstr, size_t errstr_size) {
    char started[SKY_TS_MAX], ended[SKY_TS_MAX];
    started[sky_ts_format(s->start_ms, SKY_TS_ISO8601, started)] = '\0';
    ended[sky_ts_format(s->start_ms + s->res->sim_ms, SKY_TS_ISO8601, ended)] = '\0';
    sky_manifest_info_t info = {s->run_id, "simulate", s->sc->name, s->sc->seed, s->topic,
                                s->cfg->shard_index, s->cfg->shard_count, started, ended,
                                s->sc->cadence_ms, s->sc->ttl_s};
    if (sky_manifest_set_info(s->m, &info) || fill_manifest_tail(s))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory writing the manifest");
    sky_manifest_writer_t *w;
    int rc = sky_manifest_writer_open(s->m, s->cfg->manifest_path, &w, errstr, errstr_size);
    if (rc)
        return rc;
    for (uint32_t i = 0; i < sky_sched_slots(s->sched); i++) {
        const slot_t *sl = &s->slots[i];
        sky_manifest_flight_t mf;
        char num[SKY_META_MAX];
        if (!(sl->flags & SLOT_FLYING) || sl->seq == 0)
            continue;
        fill_manifest_flight(s, sl, false, &mf, num);
        if (sky_manifest_writer_flight(w, &mf)) {
            sky_manifest_writer_abort(w);
            return sky_err(errstr, errstr_size, SKY_EIO, "%s: write failed",
                           s->cfg->manifest_path);
        }
    }
    return sky_manifest_writer_close(w, s->m, errstr, errstr_size);
}

static int setup(sim_t *s, char *errstr, size_t errstr_size) {
    const sky_scenario_t *sc = s->sc;
    char data_dir[1024];
    snprintf(data_dir, sizeof data_dir, "%s",
             s->cfg->data_dir ? s->cfg->data_dir
             : sc->data_dir  ? sc->data_dir
                             : SKY_SOURCE_DIR "/scenarios/data");
    sky_traffic_params_t tp = {data_dir, sc->seed,
                               {sc->has_bbox, sc->south, sc->west, sc->north, sc->east,
                                (const char *const *)sc->airports, sc->nairports,
                                (const char *const *)sc->routes, sc->nroutes}};
    if (!(s->traffic = sky_traffic_new(&tp, errstr, errstr_size)))
        return SKY_EUSAGE;
    s->slots_total = sky_profile_peak(&sc->load);
    s->flat_target = sc->load.kind == SKY_PROFILE_CONSTANT ? sc->load.from : 0;
    sky_sched_params_t sp = {s->slots_total, s->cfg->shard_index, s->cfg->shard_count,
                             sc->cadence_ms * 1000};
    if (!(s->sched = sky_sched_new(&sp, errstr, errstr_size)))
        return SKY_EUSAGE;
    uint32_t n = sky_sched_slots(s->sched);
    s->slots = calloc(n ? n : 1, sizeof *s->slots);
    s->m = sky_manifest_new();
    s->lag_us = sky_hist_new();
    s->rec = sky_simrec_new(s->traffic, s->cfg->ts_format);
    if (!s->slots || !s->m || !s->lag_us || !s->rec)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory for %u aircraft", n);
    sky_faults_init(&s->faults, &sc->faults, sc->seed);
    int frc = fence_setup(s, errstr, errstr_size);
    if (frc)
        return frc;
    s->speedup = sc->speedup > 0 ? sc->speedup : 1;
    s->rate = sc->rate;
    s->pacing = sc->rate < 0 ? PACE_MAX : sc->rate > 0 ? PACE_RATE : PACE_TIME;
    s->start_ms = sc->has_start_time ? sc->start_time_ms : sky_now_ns() / 1000000;
    s->duration_us = sc->duration_ms * 1000;
    format_run_id(s->run_id, sizeof s->run_id, s->start_ms, sc->seed, s->cfg->shard_index);
    if (s->cfg->sink == SKY_SINK_KAFKA) {
        /* Records on a topic outlive a run: two runs of one scenario and seed
         * must not share a run id, or verify would count the first run's
         * records as the second's duplicates. File output stays deterministic. */
        size_t len = strlen(s->run_id);
        snprintf(s->run_id + len, sizeof s->run_id - len, "-%llx",
                 (unsigned long long)(sky_now_ns() / 1000000));
    }
    return 0;
}

static void teardown(sim_t *s) {
    if (s->close_out && s->out)
        fclose(s->out);
    sky_buf_free(&s->line);
    sky_producer_destroy(s->producer);
    free(s->part_count);
    sky_hist_destroy(s->lag_us);
    sky_manifest_destroy(s->m);
    free(s->slots);
    sky_simrec_destroy(s->rec);
    sky_fence_tracker_destroy(s->fence_state);
    sky_fenceset_destroy(s->fences);
    sky_sched_destroy(s->sched);
    sky_traffic_destroy(s->traffic);
}

static int check_config(const sky_sim_config_t *cfg, char *errstr, size_t errstr_size) {
    if (!cfg->scenario)
        return sky_err(errstr, errstr_size, SKY_EUSAGE, "simulate: no scenario");
    if (cfg->shard_count < 1 || cfg->shard_index < 0 || cfg->shard_index >= cfg->shard_count)
        return sky_err(errstr, errstr_size, SKY_EUSAGE, "simulate: bad shard %d/%d",
                       cfg->shard_index, cfg->shard_count);
    if (cfg->sink == SKY_SINK_FILE && !cfg->sink_path)
        return sky_err(errstr, errstr_size, SKY_EUSAGE, "simulate: file sink without a path");
    return 0;
}

int sky_sim_run(const sky_sim_config_t *cfg, volatile sig_atomic_t *stop, sky_sim_result_t *res,
                char *errstr, size_t errstr_size) {
    sim_t s;
    memset(&s, 0, sizeof s);
    memset(res, 0, sizeof *res);
    s.cfg = cfg;
    s.sc = cfg->scenario;
    s.res = res;
    s.topic = cfg->topic ? cfg->topic : s.sc->topic ? s.sc->topic : "flights";
    int rc = check_config(cfg, errstr, errstr_size);
    if (!rc)
        rc = setup(&s, errstr, errstr_size);
    if (!rc)
        rc = open_sink(&s, stop, errstr, errstr_size);
    if (!rc)
        rc = fence_manifest(&s, errstr, errstr_size);
    if (!rc) {
        snprintf(res->run_id, sizeof res->run_id, "%s", s.run_id);
        rc = run_loop(&s, stop);
        if (rc)
            sky_err(errstr, errstr_size, rc, "%s", s.errbuf);
        int drc = drain_sink(&s, rc ? s.errbuf : errstr, rc ? sizeof s.errbuf : errstr_size);
        rc = rc ? rc : drc;
        fill_totals(&s);
        int mrc = cfg->manifest_path ? write_manifest(&s, rc ? s.errbuf : errstr,
                                                      rc ? sizeof s.errbuf : errstr_size)
                                     : 0;
        rc = rc ? rc : mrc;
        if (!rc && res->failed)
            rc = sky_err(errstr, errstr_size, SKY_EKAFKA,
                         "%llu of %llu records were not delivered (last error: %s)",
                         (unsigned long long)res->failed, (unsigned long long)res->produced,
                         s.producer ? sky_producer_last_error(s.producer) : "");
    }
    teardown(&s);
    return rc;
}

int sky_sim_result_to_json(const sky_sim_result_t *r, sky_buf_t *b) {
    sky_buf_add_str(b, "{\"run_id\":");
    sky_buf_add_json_str(b, r->run_id, strlen(r->run_id));
    sky_buf_addf(b,
                 ",\"flights\":%llu,\"landed\":%llu,\"airborne\":%llu,\"produced\":%llu,"
                 "\"delivered\":%llu,\"failed\":%llu,\"expected_unique\":%llu,\"faults\":%llu,"
                 "\"sim_ms\":%lld,\"elapsed_s\":%.3f,\"msgs_per_s\":%.0f,\"stopped\":%s,"
                 "\"bytes_per_aircraft\":%zu",
                 (unsigned long long)r->flights, (unsigned long long)r->landed,
                 (unsigned long long)r->airborne, (unsigned long long)r->produced,
                 (unsigned long long)r->delivered, (unsigned long long)r->failed,
                 (unsigned long long)r->expected_unique, (unsigned long long)r->faults,
                 (long long)r->sim_ms, r->elapsed_s, r->msgs_per_s,
                 r->stopped ? "true" : "false", r->bytes_per_aircraft);
    if (r->paced)
        sky_buf_addf(b,
                     ",\"planning_s\":%.3f,\"lag_us\":{\"p50\":%lld,\"p99\":%lld,\"max\":%lld}",
                     r->planning_s, (long long)r->lag_p50_us, (long long)r->lag_p99_us,
                     (long long)r->lag_max_us);
    if (r->geofence_events)
        sky_buf_addf(b, ",\"geofence_events\":%llu", (unsigned long long)r->geofence_events);
    if (r->ack_max_us)
        sky_buf_addf(b, ",\"ack_us\":{\"p50\":%lld,\"p99\":%lld,\"max\":%lld}",
                     (long long)r->ack_p50_us, (long long)r->ack_p99_us,
                     (long long)r->ack_max_us);
    return sky_buf_add_str(b, "}");
}
