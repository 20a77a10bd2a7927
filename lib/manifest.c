/* Run manifest: in-memory form, JSON reader (jansson), merge, and a streaming
 * JSON writer so simulate can write a million flights without holding them. */
#include "manifest.h"

#include "dynbuf.h"
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 65536
#define WRITER_FLUSH_AT 65536

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
} arena_block_t;

struct sky_manifest {
    sky_manifest_info_t info;
    sky_manifest_totals_t totals;
    sky_manifest_flight_t *flights;
    size_t nflights, capflights;
    sky_manifest_partition_t *parts;
    size_t nparts, capparts;
    sky_manifest_fault_t *faults;
    size_t nfaults, capfaults;
    sky_manifest_event_t *events;
    size_t nevents, capevents;
    bool has_geofence;
    sky_manifest_geofence_t geofence; /* arrays below, strings in the arena */
    const char **geo_names;
    size_t cap_geo_names;
    sky_manifest_partition_t *geo_from;
    size_t cap_geo_from;
    json_t *slo;
    json_t *members; /* sky_manifest_set_member's, an object; NULL = none */
    sky_hist_t *ack;
    arena_block_t *arena;
    size_t *index; /* open addressing: flight position + 1, 0 = empty */
    size_t index_cap, index_count;
};

static const char *const fault_names[SKY_FAULT_KINDS] = {"drop", "gap", "duplicate", "reorder",
                                                         "malformed"};

const char *sky_fault_kind_name(sky_fault_kind_t kind) {
    return (unsigned)kind < SKY_FAULT_KINDS ? fault_names[kind] : NULL;
}

int sky_fault_kind_parse(const char *name, sky_fault_kind_t *out) {
    for (int k = 0; k < SKY_FAULT_KINDS; k++)
        if (name && strcmp(name, fault_names[k]) == 0) {
            *out = (sky_fault_kind_t)k;
            return 0;
        }
    return SKY_EINVAL;
}

/* ---- memory ---- */

static const char *arena_strdup(sky_manifest_t *m, const char *s) {
    if (!s)
        return NULL;
    size_t len = strlen(s) + 1;
    arena_block_t *b = m->arena;
    if (!b || b->cap - b->used < len) {
        size_t cap = len > ARENA_BLOCK ? len : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = m->arena;
        b->used = 0;
        b->cap = cap;
        m->arena = b;
    }
    char *dst = b->data + b->used;
    memcpy(dst, s, len);
    b->used += len;
    return dst;
}

/* Copies s into the arena; *ok becomes false on allocation failure. */
static const char *copy_str(sky_manifest_t *m, const char *s, bool *ok) {
    const char *r = arena_strdup(m, s);
    if (s && !r)
        *ok = false;
    return r;
}

sky_manifest_t *sky_manifest_new(void) {
    sky_manifest_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->info.kind = "simulate";
    m->info.shard_count = 1;
    return m;
}

void sky_manifest_destroy(sky_manifest_t *m) {
    if (!m)
        return;
    for (arena_block_t *b = m->arena, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(m->flights);
    free(m->parts);
    free(m->faults);
    free(m->events);
    free(m->geo_names);
    free(m->geo_from);
    free(m->index);
    json_decref(m->slo);
    json_decref(m->members);
    sky_hist_destroy(m->ack);
    free(m);
}

int sky_manifest_set_info(sky_manifest_t *m, const sky_manifest_info_t *info) {
    bool ok = true;
    sky_manifest_info_t c = *info;
    c.run_id = copy_str(m, info->run_id, &ok);
    c.kind = copy_str(m, info->kind ? info->kind : "simulate", &ok);
    c.scenario = copy_str(m, info->scenario, &ok);
    c.topic = copy_str(m, info->topic, &ok);
    c.started_at = copy_str(m, info->started_at, &ok);
    c.ended_at = copy_str(m, info->ended_at, &ok);
    if (!ok)
        return SKY_ENOMEM;
    m->info = c;
    return 0;
}

const sky_manifest_info_t *sky_manifest_info(const sky_manifest_t *m) {
    return &m->info;
}

void sky_manifest_set_totals(sky_manifest_t *m, const sky_manifest_totals_t *t) {
    m->totals = *t;
}

const sky_manifest_totals_t *sky_manifest_totals(const sky_manifest_t *m) {
    return &m->totals;
}

int sky_manifest_add_flight(sky_manifest_t *m, const sky_manifest_flight_t *f) {
    bool ok = true;
    if (sky_grow_array((void **)&m->flights, &m->capflights, m->nflights + 1,
                       sizeof *m->flights))
        return SKY_ENOMEM;
    sky_manifest_flight_t c = *f;
    c.id = copy_str(m, f->id ? f->id : "", &ok);
    c.airline = copy_str(m, f->airline, &ok);
    c.flight_number = copy_str(m, f->flight_number, &ok);
    c.departure = copy_str(m, f->departure, &ok);
    c.arrival = copy_str(m, f->arrival, &ok);
    if (!ok)
        return SKY_ENOMEM;
    m->flights[m->nflights++] = c;
    free(m->index); /* rebuilt on the next lookup */
    m->index = NULL;
    return 0;
}

int sky_manifest_add_partition(sky_manifest_t *m, const sky_manifest_partition_t *p) {
    if (sky_grow_array((void **)&m->parts, &m->capparts, m->nparts + 1, sizeof *m->parts))
        return SKY_ENOMEM;
    m->parts[m->nparts++] = *p;
    return 0;
}

int sky_manifest_add_fault(sky_manifest_t *m, const sky_manifest_fault_t *f) {
    bool ok = true;
    if (sky_grow_array((void **)&m->faults, &m->capfaults, m->nfaults + 1, sizeof *m->faults))
        return SKY_ENOMEM;
    sky_manifest_fault_t c = *f;
    c.flight = copy_str(m, f->flight ? f->flight : "", &ok);
    c.reason = copy_str(m, f->reason, &ok);
    if (!ok)
        return SKY_ENOMEM;
    m->faults[m->nfaults++] = c;
    return 0;
}

const char *sky_manifest_event_kind_name(int kind) {
    return kind == 0 ? "enter" : kind == 1 ? "exit" : NULL;
}

int sky_manifest_add_event(sky_manifest_t *m, const sky_manifest_event_t *e) {
    bool ok = true;
    if (sky_grow_array((void **)&m->events, &m->capevents, m->nevents + 1, sizeof *m->events))
        return SKY_ENOMEM;
    sky_manifest_event_t c = *e;
    c.flight = copy_str(m, e->flight ? e->flight : "", &ok);
    c.airspace = copy_str(m, e->airspace ? e->airspace : "", &ok);
    if (!ok)
        return SKY_ENOMEM;
    m->events[m->nevents++] = c;
    return 0;
}

size_t sky_manifest_event_count(const sky_manifest_t *m) {
    return m->nevents;
}

const sky_manifest_event_t *sky_manifest_event(const sky_manifest_t *m, size_t i) {
    return i < m->nevents ? &m->events[i] : NULL;
}

static bool geo_has_name(const sky_manifest_t *m, const char *name) {
    for (size_t i = 0; i < m->geofence.nairspaces; i++)
        if (strcmp(m->geo_names[i], name) == 0)
            return true;
    return false;
}

/* Adds names not there yet and lowers (or adds) start offsets. */
static int geo_merge(sky_manifest_t *m, const sky_manifest_geofence_t *g) {
    bool ok = true;
    if (!m->geofence.events_topic && g->events_topic)
        m->geofence.events_topic = copy_str(m, g->events_topic, &ok);
    if (!m->geofence.collection && g->collection)
        m->geofence.collection = copy_str(m, g->collection, &ok);
    for (size_t i = 0; ok && i < g->nairspaces; i++) {
        if (geo_has_name(m, g->airspaces[i]))
            continue;
        if (sky_grow_array((void **)&m->geo_names, &m->cap_geo_names, m->geofence.nairspaces + 1,
                           sizeof *m->geo_names))
            return SKY_ENOMEM;
        m->geo_names[m->geofence.nairspaces++] = copy_str(m, g->airspaces[i], &ok);
    }
    for (size_t i = 0; ok && i < g->nfrom; i++) {
        size_t j;
        for (j = 0; j < m->geofence.nfrom; j++)
            if (m->geo_from[j].partition == g->from[i].partition)
                break;
        if (j < m->geofence.nfrom) {
            if (g->from[i].first_offset < m->geo_from[j].first_offset)
                m->geo_from[j].first_offset = g->from[i].first_offset;
            continue;
        }
        if (sky_grow_array((void **)&m->geo_from, &m->cap_geo_from, m->geofence.nfrom + 1,
                           sizeof *m->geo_from))
            return SKY_ENOMEM;
        m->geo_from[m->geofence.nfrom++] = g->from[i];
    }
    m->geofence.airspaces = m->geo_names;
    m->geofence.from = m->geo_from;
    m->has_geofence = true;
    return ok ? 0 : SKY_ENOMEM;
}

int sky_manifest_set_geofence(sky_manifest_t *m, const sky_manifest_geofence_t *g) {
    memset(&m->geofence, 0, sizeof m->geofence);
    return geo_merge(m, g);
}

const sky_manifest_geofence_t *sky_manifest_geofence(const sky_manifest_t *m) {
    return m->has_geofence ? &m->geofence : NULL;
}

size_t sky_manifest_flight_count(const sky_manifest_t *m) {
    return m->nflights;
}
const sky_manifest_flight_t *sky_manifest_flight(const sky_manifest_t *m, size_t i) {
    return i < m->nflights ? &m->flights[i] : NULL;
}
size_t sky_manifest_partition_count(const sky_manifest_t *m) {
    return m->nparts;
}
const sky_manifest_partition_t *sky_manifest_partition(const sky_manifest_t *m, size_t i) {
    return i < m->nparts ? &m->parts[i] : NULL;
}
size_t sky_manifest_fault_count(const sky_manifest_t *m) {
    return m->nfaults;
}
const sky_manifest_fault_t *sky_manifest_fault(const sky_manifest_t *m, size_t i) {
    return i < m->nfaults ? &m->faults[i] : NULL;
}

void sky_manifest_set_slo(sky_manifest_t *m, json_t *slo) {
    json_decref(m->slo);
    m->slo = slo ? json_incref(slo) : NULL;
}
json_t *sky_manifest_slo(const sky_manifest_t *m) {
    return m->slo;
}

int sky_manifest_set_member(sky_manifest_t *m, const char *name, json_t *value) {
    if (!m->members && !(m->members = json_object()))
        return SKY_ENOMEM;
    return json_object_set(m->members, name, value) ? SKY_ENOMEM : 0;
}

int sky_manifest_set_ack_hist(sky_manifest_t *m, const sky_hist_t *h) {
    if (!m->ack && !(m->ack = sky_hist_new()))
        return SKY_ENOMEM;
    sky_hist_reset(m->ack);
    if (h)
        sky_hist_merge(m->ack, h);
    return 0;
}
const sky_hist_t *sky_manifest_ack_hist(const sky_manifest_t *m) {
    return m->ack;
}

/* ---- lookup by id ---- */

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int build_index(sky_manifest_t *m) {
    size_t cap = 16;
    while (cap < m->nflights * 2)
        cap *= 2;
    size_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return SKY_ENOMEM;
    for (size_t i = 0; i < m->nflights; i++) {
        size_t j = hash_str(m->flights[i].id) & (cap - 1);
        while (idx[j])
            j = (j + 1) & (cap - 1);
        idx[j] = i + 1;
    }
    m->index = idx;
    m->index_cap = cap;
    return 0;
}

const sky_manifest_flight_t *sky_manifest_find_flight(sky_manifest_t *m, const char *id) {
    if (!m->index && build_index(m))
        return NULL;
    for (size_t j = hash_str(id) & (m->index_cap - 1); m->index[j];
         j = (j + 1) & (m->index_cap - 1))
        if (strcmp(m->flights[m->index[j] - 1].id, id) == 0)
            return &m->flights[m->index[j] - 1];
    return NULL;
}

/* ---- merge ---- */

static const char *earlier(const char *a, const char *b) {
    return !a ? b : !b ? a : strcmp(a, b) <= 0 ? a : b;
}
static const char *later(const char *a, const char *b) {
    return !a ? b : !b ? a : strcmp(a, b) >= 0 ? a : b;
}

int sky_manifest_merge(sky_manifest_t *dst, const sky_manifest_t *src, char *errstr,
                       size_t errstr_size) {
    bool ok = true;
    for (size_t i = 0; ok && i < src->nflights; i++)
        ok = sky_manifest_add_flight(dst, &src->flights[i]) == 0;
    for (size_t i = 0; ok && i < src->nparts; i++)
        ok = sky_manifest_add_partition(dst, &src->parts[i]) == 0;
    for (size_t i = 0; ok && i < src->nfaults; i++)
        ok = sky_manifest_add_fault(dst, &src->faults[i]) == 0;
    for (size_t i = 0; ok && i < src->nevents; i++)
        ok = sky_manifest_add_event(dst, &src->events[i]) == 0;
    if (ok && src->has_geofence)
        ok = geo_merge(dst, &src->geofence) == 0;
    const char *start = earlier(dst->info.started_at, src->info.started_at);
    const char *end = later(dst->info.ended_at, src->info.ended_at);
    dst->info.started_at = start == src->info.started_at ? copy_str(dst, start, &ok) : start;
    dst->info.ended_at = end == src->info.ended_at ? copy_str(dst, end, &ok) : end;
    if (!dst->info.run_id)
        dst->info.run_id = copy_str(dst, src->info.run_id, &ok);
    if (!dst->info.topic)
        dst->info.topic = copy_str(dst, src->info.topic, &ok);
    if (!dst->info.scenario)
        dst->info.scenario = copy_str(dst, src->info.scenario, &ok);
    dst->info.shard_count += src->info.shard_count;
    dst->totals.flights += src->totals.flights;
    dst->totals.produced += src->totals.produced;
    dst->totals.delivered += src->totals.delivered;
    dst->totals.failed += src->totals.failed;
    dst->totals.expected_unique += src->totals.expected_unique;
    if (!dst->slo && src->slo)
        dst->slo = json_incref(src->slo);
    if (ok && src->ack) {
        if (!dst->ack && !(dst->ack = sky_hist_new()))
            ok = false;
        else
            sky_hist_merge(dst->ack, src->ack);
    }
    if (!ok)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory merging manifests");
    return 0;
}

int sky_manifest_merge_events(sky_manifest_t *dst, const sky_manifest_t *src) {
    for (size_t i = 0; i < src->nevents; i++)
        if (sky_manifest_add_event(dst, &src->events[i]))
            return SKY_ENOMEM;
    return src->has_geofence ? geo_merge(dst, &src->geofence) : 0;
}

/* ---- JSON writing ---- */

struct sky_manifest_writer {
    FILE *f;
    char *path, *tmp;
    sky_buf_t buf;
    size_t nflights;
    bool failed;
};

static void add_key(sky_buf_t *b, const char *key) {
    sky_buf_add_json_str(b, key, strlen(key));
    sky_buf_add_char(b, ':');
}

static void add_str_member(sky_buf_t *b, const char *key, const char *val, bool comma) {
    if (comma)
        sky_buf_add_char(b, ',');
    add_key(b, key);
    if (val)
        sky_buf_add_json_str(b, val, strlen(val));
    else
        sky_buf_add_str(b, "null");
}

static void add_i64_member(sky_buf_t *b, const char *key, int64_t v) {
    sky_buf_add_char(b, ',');
    add_key(b, key);
    sky_buf_add_i64(b, v);
}

static void add_u64_member(sky_buf_t *b, const char *key, uint64_t v, bool comma) {
    if (comma)
        sky_buf_add_char(b, ',');
    add_key(b, key);
    sky_buf_add_u64(b, v);
}

static void add_double_member(sky_buf_t *b, const char *key, double v) {
    sky_buf_add_char(b, ',');
    add_key(b, key);
    sky_buf_add_double(b, v);
}

static void add_flight_json(sky_buf_t *b, const sky_manifest_flight_t *f) {
    sky_buf_add_char(b, '{');
    add_str_member(b, "id", f->id, false);
    add_i64_member(b, "first_seq", f->first_seq);
    add_i64_member(b, "last_seq", f->last_seq);
    add_i64_member(b, "partition", f->partition);
    if (f->airline)
        add_str_member(b, "airline", f->airline, true);
    if (f->flight_number)
        add_str_member(b, "flight_number", f->flight_number, true);
    if (f->departure)
        add_str_member(b, "departure", f->departure, true);
    if (f->arrival)
        add_str_member(b, "arrival", f->arrival, true);
    sky_buf_add_str(b, f->landed ? ",\"landed\":true" : ",\"landed\":false");
    if (f->has_final) {
        sky_buf_add_str(b, ",\"final\":{");
        add_u64_member(b, "seq", (uint64_t)f->final.seq, false);
        add_double_member(b, "lat", f->final.lat);
        add_double_member(b, "lon", f->final.lon);
        add_i64_member(b, "alt", f->final.alt_ft);
        add_i64_member(b, "speed", f->final.speed_kt);
        add_i64_member(b, "ts_ms", f->final.ts_ms);
        add_i64_member(b, "intended_ns", f->final.intended_ns);
        sky_buf_add_char(b, '}');
    }
    sky_buf_add_char(b, '}');
}

static void add_header_json(sky_buf_t *b, const sky_manifest_t *m) {
    const sky_manifest_info_t *i = &m->info;
    sky_buf_add_str(b, "{\"skyload_manifest\":1");
    add_str_member(b, "run_id", i->run_id, true);
    add_str_member(b, "kind", i->kind, true);
    add_str_member(b, "scenario", i->scenario, true);
    add_u64_member(b, "seed", i->seed, true);
    add_str_member(b, "topic", i->topic, true);
    sky_buf_add_str(b, ",\"shard\":{\"index\":");
    sky_buf_add_i64(b, i->shard_index);
    sky_buf_add_str(b, ",\"count\":");
    sky_buf_add_i64(b, i->shard_count);
    sky_buf_add_char(b, '}');
    add_str_member(b, "started_at", i->started_at, true);
    add_str_member(b, "ended_at", i->ended_at, true);
    add_i64_member(b, "cadence_ms", i->cadence_ms);
    add_i64_member(b, "ttl_s", i->ttl_s);
    sky_buf_add_str(b, ",\n\"flights\":[");
}

static void add_fault_json(sky_buf_t *b, const sky_manifest_fault_t *f) {
    sky_buf_add_char(b, '{');
    add_str_member(b, "kind", sky_fault_kind_name(f->kind), false);
    add_str_member(b, "flight", f->flight, true);
    add_i64_member(b, "seq", f->seq);
    if (f->kind == SKY_FAULT_GAP)
        add_i64_member(b, "count", f->count);
    if (f->reason)
        add_str_member(b, "reason", f->reason, true);
    sky_buf_add_char(b, '}');
}

static void add_event_json(sky_buf_t *b, const sky_manifest_event_t *e) {
    sky_buf_add_char(b, '{');
    add_str_member(b, "flight", e->flight, false);
    add_str_member(b, "airspace", e->airspace, true);
    add_str_member(b, "kind", sky_manifest_event_kind_name(e->kind), true);
    add_i64_member(b, "seq", e->seq);
    add_i64_member(b, "intended_ns", e->intended_ns);
    add_double_member(b, "lat", e->lat);
    add_double_member(b, "lon", e->lon);
    add_i64_member(b, "alt", e->alt_ft);
    sky_buf_add_char(b, '}');
}

/* "geofence": {...}, "events": [...] -- written (like faults) before the totals; the
 * faults array is open when this is called and is closed by the caller's "]". */
static void add_geofence_json(sky_buf_t *b, const sky_manifest_t *m) {
    if (!m->has_geofence)
        return;
    const sky_manifest_geofence_t *g = &m->geofence;
    sky_buf_add_str(b, "],\n\"geofence\":{");
    add_str_member(b, "events_topic", g->events_topic, false);
    add_str_member(b, "collection", g->collection, true);
    sky_buf_add_str(b, ",\"airspaces\":[");
    for (size_t i = 0; i < g->nairspaces; i++) {
        if (i)
            sky_buf_add_char(b, ',');
        sky_buf_add_json_str(b, g->airspaces[i], strlen(g->airspaces[i]));
    }
    sky_buf_add_str(b, "],\"from_offsets\":[");
    for (size_t i = 0; i < g->nfrom; i++) {
        sky_buf_add_str(b, i ? ",{" : "{");
        add_u64_member(b, "partition", (uint64_t)g->from[i].partition, false);
        add_i64_member(b, "offset", g->from[i].first_offset);
        sky_buf_add_char(b, '}');
    }
    sky_buf_add_str(b, "]");
    add_i64_member(b, "expected_events", (int64_t)m->nevents);
    sky_buf_add_str(b, "},\n\"events\":[");
    for (size_t i = 0; i < m->nevents; i++) {
        sky_buf_add_str(b, i ? ",\n" : "\n");
        add_event_json(b, &m->events[i]);
    }
}

static int add_tail_json(sky_buf_t *b, const sky_manifest_t *m) {
    sky_buf_add_str(b, "],\n\"partitions\":[");
    for (size_t i = 0; i < m->nparts; i++) {
        const sky_manifest_partition_t *p = &m->parts[i];
        sky_buf_add_str(b, i ? ",\n{" : "\n{");
        add_u64_member(b, "partition", (uint64_t)p->partition, false);
        add_i64_member(b, "first_offset", p->first_offset);
        add_i64_member(b, "last_offset", p->last_offset);
        add_i64_member(b, "count", p->count);
        sky_buf_add_char(b, '}');
    }
    sky_buf_add_str(b, "],\n\"faults\":[");
    for (size_t i = 0; i < m->nfaults; i++) {
        sky_buf_add_str(b, i ? ",\n" : "\n");
        add_fault_json(b, &m->faults[i]);
    }
    add_geofence_json(b, m);
    const sky_manifest_totals_t *t = &m->totals;
    sky_buf_add_str(b, "],\n\"totals\":{");
    add_u64_member(b, "flights", t->flights, false);
    add_u64_member(b, "produced", t->produced, true);
    add_u64_member(b, "delivered", t->delivered, true);
    add_u64_member(b, "failed", t->failed, true);
    add_u64_member(b, "expected_unique", t->expected_unique, true);
    sky_buf_add_char(b, '}');
    if (m->slo) {
        char *s = json_dumps(m->slo, JSON_COMPACT | JSON_SORT_KEYS);
        if (!s)
            return SKY_ENOMEM;
        sky_buf_add_str(b, ",\n\"slo\":");
        sky_buf_add_str(b, s);
        free(s);
    }
    if (m->ack) {
        sky_buf_add_str(b, ",\n\"ack_latency_us\":");
        sky_hist_to_json(m->ack, b);
    }
    const char *name;
    json_t *value;
    json_object_foreach(m->members, name, value) {
        char *s = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!s)
            return SKY_ENOMEM;
        sky_buf_add_str(b, ",\n");
        sky_buf_add_json_str(b, name, strlen(name));
        sky_buf_add_char(b, ':');
        sky_buf_add_str(b, s);
        free(s);
    }
    return sky_buf_add_str(b, "}\n");
}

static int writer_flush(sky_manifest_writer_t *w) {
    if (w->buf.len && fwrite(w->buf.data, 1, w->buf.len, w->f) != w->buf.len)
        w->failed = true;
    sky_buf_reset(&w->buf);
    return w->failed ? SKY_EIO : 0;
}

static void writer_free(sky_manifest_writer_t *w) {
    if (w->f)
        fclose(w->f);
    sky_buf_free(&w->buf);
    free(w->path);
    free(w->tmp);
    free(w);
}

int sky_manifest_writer_open(const sky_manifest_t *header, const char *path,
                             sky_manifest_writer_t **out, char *errstr, size_t errstr_size) {
    sky_manifest_writer_t *w = calloc(1, sizeof *w);
    size_t tmplen = strlen(path) + 5;
    if (!w || !(w->path = strdup(path)) || !(w->tmp = malloc(tmplen))) {
        if (w)
            writer_free(w);
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory writing %s", path);
    }
    snprintf(w->tmp, tmplen, "%s.tmp", path);
    sky_buf_init(&w->buf, 0);
    w->f = fopen(w->tmp, "w");
    if (!w->f) {
        writer_free(w);
        return sky_err(errstr, errstr_size, SKY_EIO, "%s.tmp: cannot create: %m", path);
    }
    add_header_json(&w->buf, header);
    *out = w;
    return 0;
}

int sky_manifest_writer_flight(sky_manifest_writer_t *w, const sky_manifest_flight_t *f) {
    sky_buf_add_str(&w->buf, w->nflights++ ? ",\n" : "\n");
    add_flight_json(&w->buf, f);
    if (w->buf.len >= WRITER_FLUSH_AT)
        return writer_flush(w);
    return 0;
}

int sky_manifest_writer_close(sky_manifest_writer_t *w, const sky_manifest_t *m, char *errstr,
                              size_t errstr_size) {
    int rc = 0;
    for (size_t i = 0; !rc && i < m->nflights; i++)
        rc = sky_manifest_writer_flight(w, &m->flights[i]);
    if (!rc && add_tail_json(&w->buf, m))
        rc = SKY_ENOMEM;
    if (!rc)
        rc = writer_flush(w);
    if (!rc && fflush(w->f))
        rc = SKY_EIO;
    if (fclose(w->f) && !rc)
        rc = SKY_EIO;
    w->f = NULL;
    if (!rc && rename(w->tmp, w->path))
        rc = SKY_EIO;
    if (rc) {
        remove(w->tmp);
        sky_err(errstr, errstr_size, rc, "%s: cannot write the manifest: %s", w->path,
                rc == SKY_ENOMEM ? "out of memory" : "I/O error (disk full?)");
    }
    writer_free(w);
    return rc;
}

void sky_manifest_writer_abort(sky_manifest_writer_t *w) {
    if (!w)
        return;
    if (w->f) {
        fclose(w->f);
        w->f = NULL;
    }
    remove(w->tmp);
    writer_free(w);
}

int sky_manifest_write(const sky_manifest_t *m, const char *path, char *errstr,
                       size_t errstr_size) {
    sky_manifest_writer_t *w;
    int rc = sky_manifest_writer_open(m, path, &w, errstr, errstr_size);
    return rc ? rc : sky_manifest_writer_close(w, m, errstr, errstr_size);
}

/* ---- JSON reading ---- */

typedef struct load_ctx {
    sky_manifest_t *m;
    const char *path;
    char *errstr;
    size_t errstr_size;
} load_ctx_t;

static const char *opt_str(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t opt_int(json_t *obj, const char *key, int64_t dflt) {
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

static double opt_real(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static int load_flight(load_ctx_t *c, json_t *o, size_t i) {
    sky_manifest_flight_t f;
    memset(&f, 0, sizeof f);
    f.id = opt_str(o, "id");
    if (!json_is_object(o) || !f.id)
        return sky_err(c->errstr, c->errstr_size, SKY_EINVAL,
                       "%s: flights[%zu]: expected an object with a string \"id\"", c->path, i);
    f.first_seq = opt_int(o, "first_seq", 0);
    f.last_seq = opt_int(o, "last_seq", -1);
    f.partition = (int32_t)opt_int(o, "partition", -1);
    f.airline = opt_str(o, "airline");
    f.flight_number = opt_str(o, "flight_number");
    f.departure = opt_str(o, "departure");
    f.arrival = opt_str(o, "arrival");
    f.landed = json_is_true(json_object_get(o, "landed"));
    json_t *fin = json_object_get(o, "final");
    if (json_is_object(fin)) {
        f.has_final = true;
        f.final.seq = opt_int(fin, "seq", f.last_seq);
        f.final.lat = opt_real(fin, "lat");
        f.final.lon = opt_real(fin, "lon");
        f.final.alt_ft = (int32_t)opt_int(fin, "alt", 0);
        f.final.speed_kt = (int32_t)opt_int(fin, "speed", 0);
        f.final.ts_ms = opt_int(fin, "ts_ms", 0);
        f.final.intended_ns = opt_int(fin, "intended_ns", 0);
    }
    return sky_manifest_add_flight(c->m, &f);
}

static int load_fault(load_ctx_t *c, json_t *o, size_t i) {
    sky_manifest_fault_t f;
    memset(&f, 0, sizeof f);
    if (!json_is_object(o) || sky_fault_kind_parse(opt_str(o, "kind"), &f.kind) ||
        !(f.flight = opt_str(o, "flight")))
        return sky_err(c->errstr, c->errstr_size, SKY_EINVAL,
                       "%s: faults[%zu]: expected {\"kind\": drop|gap|duplicate|reorder|"
                       "malformed, \"flight\": ..., \"seq\": ...}",
                       c->path, i);
    f.seq = opt_int(o, "seq", 0);
    f.count = opt_int(o, "count", 1);
    f.reason = opt_str(o, "reason");
    return sky_manifest_add_fault(c->m, &f);
}

static int load_event(load_ctx_t *c, json_t *o, size_t i) {
    sky_manifest_event_t e;
    memset(&e, 0, sizeof e);
    const char *kind = opt_str(o, "kind");
    e.kind = kind && strcmp(kind, "enter") == 0 ? 0 : kind && strcmp(kind, "exit") == 0 ? 1 : -1;
    if (!json_is_object(o) || e.kind < 0 || !(e.flight = opt_str(o, "flight")) ||
        !(e.airspace = opt_str(o, "airspace")) || !json_is_integer(json_object_get(o, "seq")))
        return sky_err(c->errstr, c->errstr_size, SKY_EINVAL,
                       "%s: events[%zu]: expected {\"flight\": ..., \"airspace\": ..., \"kind\": "
                       "enter|exit, \"seq\": ...}",
                       c->path, i);
    e.seq = opt_int(o, "seq", 0);
    e.intended_ns = opt_int(o, "intended_ns", 0);
    e.lat = opt_real(o, "lat");
    e.lon = opt_real(o, "lon");
    e.alt_ft = (int32_t)opt_int(o, "alt", 0);
    return sky_manifest_add_event(c->m, &e);
}

static int load_geofence(load_ctx_t *c, json_t *root) {
    json_t *g = json_object_get(root, "geofence");
    if (!g)
        return 0;
    json_t *names = json_object_get(g, "airspaces"), *from = json_object_get(g, "from_offsets");
    if (!json_is_object(g) || (names && !json_is_array(names)) || (from && !json_is_array(from)))
        return sky_err(c->errstr, c->errstr_size, SKY_EINVAL,
                       "%s: geofence: expected {\"events_topic\", \"airspaces\": [...], "
                       "\"from_offsets\": [...]}", c->path);
    size_t nn = json_array_size(names), nf = json_array_size(from);
    const char **n = calloc(nn ? nn : 1, sizeof *n);
    sky_manifest_partition_t *f = calloc(nf ? nf : 1, sizeof *f);
    int rc = n && f ? 0 : SKY_ENOMEM;
    for (size_t i = 0; !rc && i < nn; i++)
        if (!(n[i] = json_string_value(json_array_get(names, i))))
            rc = sky_err(c->errstr, c->errstr_size, SKY_EINVAL,
                         "%s: geofence.airspaces[%zu]: expected a name", c->path, i);
    for (size_t i = 0; !rc && i < nf; i++) {
        json_t *o = json_array_get(from, i);
        f[i].partition = (int32_t)opt_int(o, "partition", -1);
        f[i].first_offset = opt_int(o, "offset", -1);
        if (f[i].partition < 0 || f[i].first_offset < 0)
            rc = sky_err(c->errstr, c->errstr_size, SKY_EINVAL,
                         "%s: geofence.from_offsets[%zu]: expected {\"partition\", \"offset\"}",
                         c->path, i);
    }
    sky_manifest_geofence_t info = {opt_str(g, "events_topic"), opt_str(g, "collection"), n, nn,
                                    f, nf};
    if (!rc && sky_manifest_set_geofence(c->m, &info))
        rc = SKY_ENOMEM;
    if (rc == SKY_ENOMEM)
        sky_err(c->errstr, c->errstr_size, rc, "%s: out of memory", c->path);
    free(n);
    free(f);
    return rc;
}

static int load_partition(load_ctx_t *c, json_t *o, size_t i) {
    sky_manifest_partition_t p;
    if (!json_is_object(o) || !json_is_integer(json_object_get(o, "partition")))
        return sky_err(c->errstr, c->errstr_size, SKY_EINVAL,
                       "%s: partitions[%zu]: expected an object with \"partition\"", c->path, i);
    p.partition = (int32_t)opt_int(o, "partition", 0);
    p.first_offset = opt_int(o, "first_offset", -1);
    p.last_offset = opt_int(o, "last_offset", -1);
    p.count = opt_int(o, "count", 0);
    return sky_manifest_add_partition(c->m, &p);
}

typedef int(load_item_fn)(load_ctx_t *c, json_t *o, size_t i);

static int load_array(load_ctx_t *c, json_t *root, const char *key, load_item_fn *fn) {
    json_t *arr = json_object_get(root, key);
    size_t i;
    json_t *v;
    if (!arr)
        return 0;
    if (!json_is_array(arr))
        return sky_err(c->errstr, c->errstr_size, SKY_EINVAL, "%s: \"%s\" is not an array",
                       c->path, key);
    json_array_foreach(arr, i, v) {
        int rc = fn(c, v, i);
        if (rc == SKY_ENOMEM)
            return sky_err(c->errstr, c->errstr_size, rc, "%s: out of memory", c->path);
        if (rc)
            return rc;
    }
    return 0;
}

static int load_header(load_ctx_t *c, json_t *root) {
    sky_manifest_info_t i;
    memset(&i, 0, sizeof i);
    i.run_id = opt_str(root, "run_id");
    i.kind = opt_str(root, "kind");
    i.scenario = opt_str(root, "scenario");
    i.seed = (uint64_t)opt_int(root, "seed", 0);
    i.topic = opt_str(root, "topic");
    json_t *shard = json_object_get(root, "shard");
    i.shard_index = (int)opt_int(shard, "index", 0);
    i.shard_count = (int)opt_int(shard, "count", 1);
    i.started_at = opt_str(root, "started_at");
    i.ended_at = opt_str(root, "ended_at");
    i.cadence_ms = opt_int(root, "cadence_ms", 5000);
    i.ttl_s = opt_int(root, "ttl_s", 0);
    json_t *t = json_object_get(root, "totals");
    sky_manifest_totals_t tot = {
        (uint64_t)opt_int(t, "flights", 0), (uint64_t)opt_int(t, "produced", 0),
        (uint64_t)opt_int(t, "delivered", 0), (uint64_t)opt_int(t, "failed", 0),
        (uint64_t)opt_int(t, "expected_unique", 0)};
    sky_manifest_set_totals(c->m, &tot);
    json_t *slo = json_object_get(root, "slo");
    if (json_is_object(slo))
        sky_manifest_set_slo(c->m, slo);
    if (sky_manifest_set_info(c->m, &i))
        return sky_err(c->errstr, c->errstr_size, SKY_ENOMEM, "%s: out of memory", c->path);
    return 0;
}

static int load_ack_hist(load_ctx_t *c, json_t *root) {
    json_t *h = json_object_get(root, "ack_latency_us");
    if (!json_is_object(h))
        return 0;
    char *text = json_dumps(h, JSON_COMPACT);
    char err[256];
    if (!text)
        return sky_err(c->errstr, c->errstr_size, SKY_ENOMEM, "%s: out of memory", c->path);
    c->m->ack = sky_hist_from_json(text, err, sizeof err);
    free(text);
    if (!c->m->ack)
        return sky_err(c->errstr, c->errstr_size, SKY_EINVAL, "%s: ack_latency_us: %s", c->path,
                       err);
    return 0;
}

int sky_manifest_load(const char *path, sky_manifest_t **out, char *errstr, size_t errstr_size) {
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        return sky_err(errstr, errstr_size, jerr.line < 0 ? SKY_EIO : SKY_EINVAL, "%s:%d:%d: %s",
                       path, jerr.line, jerr.column, jerr.text);
    load_ctx_t c = {sky_manifest_new(), path, errstr, errstr_size};
    int rc;
    if (!c.m)
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "%s: out of memory", path);
    else if (!json_is_object(root) || opt_int(root, "skyload_manifest", 0) != SKY_MANIFEST_VERSION)
        rc = sky_err(errstr, errstr_size, SKY_EINVAL,
                     "%s: not a skyload manifest (expected \"skyload_manifest\": %d)", path,
                     SKY_MANIFEST_VERSION);
    else if (!(rc = load_header(&c, root)) && !(rc = load_array(&c, root, "flights", load_flight)) &&
             !(rc = load_array(&c, root, "partitions", load_partition)) &&
             !(rc = load_array(&c, root, "faults", load_fault)) &&
             !(rc = load_geofence(&c, root)) && !(rc = load_array(&c, root, "events", load_event)))
        rc = load_ack_hist(&c, root);
    json_decref(root);
    if (rc) {
        sky_manifest_destroy(c.m);
        return rc;
    }
    *out = c.m;
    return 0;
}
