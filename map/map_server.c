/* The map's HTTP server: routing, query-string checks, Tile38 and PostgreSQL
 * look-ups. libmicrohttpd runs a small thread pool; each request borrows a
 * Tile38 connection from a pool of the same size. */
#include "map_server.h"

#include "error.h"
#include "log.h"
#include "map_events.h"
#include "map_query.h"
#include "parse.h"
#include "schema.h"
#include "tile38.h"
#include "timefmt.h"
#include "web_assets.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_POOL 16
#define MAX_PARAMS 8

struct sky_map_server {
    struct MHD_Daemon *daemon;
    int port;
    bool loopback; /* then only loopback Host headers are served (DNS rebinding) */
    char tile38_host[256];
    int tile38_port;
    char collection[128];
    char schema[64];
    char *pg_conninfo;
    int64_t max_aircraft;
    sky_map_events_t *events;
    pthread_mutex_t lock; /* the pool, pg and stats */
    sky_tile38_t *pool[MAX_POOL];
    int npool;
    PGconn *pg;
    int64_t pg_retry_ns; /* no reconnect attempt before this (PostgreSQL down) */
    sky_map_stats_t stats;
};

/* ---- responses ---------------------------------------------------------- */

static enum MHD_Result send_buf(struct MHD_Connection *conn, unsigned status, const char *mime,
                                const void *data, size_t len, bool copy, const char *cache) {
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)(len ? data : ""), copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", mime);
    MHD_add_response_header(r, "Cache-Control", cache);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (strncmp(mime, "text/html", 9) == 0) {
        /* everything the page needs comes from this server */
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'self'; script-src 'self'; style-src 'self' "
                                "'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
                                "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
    }
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, unsigned status, sky_buf_t *b) {
    enum MHD_Result rc = send_buf(conn, status, "application/json; charset=utf-8", b->data, b->len,
                                  true, "no-store");
    sky_buf_free(b);
    return rc;
}

static enum MHD_Result send_error(sky_map_server_t *s, struct MHD_Connection *conn,
                                  unsigned status, const char *msg) {
    sky_buf_t b;
    sky_buf_init(&b, 0);
    if (sky_buf_addf(&b, "{\"ok\":false,\"status\":%u,\"error\":", status) ||
        sky_buf_add_json_str(&b, msg, strlen(msg)) || sky_buf_add_str(&b, "}\n")) {
        sky_buf_free(&b);
        return MHD_NO;
    }
    pthread_mutex_lock(&s->lock);
    if (status == 400)
        s->stats.bad_requests++;
    pthread_mutex_unlock(&s->lock);
    return send_json(conn, status, &b);
}

/* ---- query strings ------------------------------------------------------ */

typedef struct params {
    sky_map_param_t p[MAX_PARAMS];
    int n;
    bool too_many;
} params_t;

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value) {
    params_t *ps = cls;
    (void)kind;
    if (ps->n >= MAX_PARAMS) {
        ps->too_many = true;
        return MHD_NO;
    }
    ps->p[ps->n++] = (sky_map_param_t){key, value};
    return MHD_YES;
}

/* Checks the query against the names the endpoint takes; fills values[i] for
 * allowed[i] (NULL when absent). 0, or SKY_EINVAL with the reason. */
static int check_params(struct MHD_Connection *conn, const char *const *allowed, size_t nallowed,
                        const char **values, char *why, size_t why_size) {
    params_t ps = {.n = 0};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_param, &ps);
    if (ps.too_many)
        return sky_err(why, why_size, SKY_EINVAL, "too many query parameters (at most %d)",
                       MAX_PARAMS);
    for (size_t i = 0; i < nallowed; i++)
        values[i] = NULL;
    for (int i = 0; i < ps.n; i++) {
        size_t k = 0;
        while (k < nallowed && strcmp(ps.p[i].name, allowed[k]) != 0)
            k++;
        if (k == nallowed)
            return sky_err(why, why_size, SKY_EINVAL, "unknown query parameter \"%.64s\"",
                           ps.p[i].name);
        if (values[k])
            return sky_err(why, why_size, SKY_EINVAL, "query parameter \"%s\" given twice",
                           allowed[k]);
        if (!ps.p[i].value || !*ps.p[i].value)
            return sky_err(why, why_size, SKY_EINVAL, "query parameter \"%s\" has no value",
                           allowed[k]);
        values[k] = ps.p[i].value;
    }
    return 0;
}

static int param_u64(const char *v, const char *name, int64_t max, int64_t *out, char *why,
                     size_t why_size) {
    char err[128];
    if (sky_parse_i64(v, 0, max, out, name, err, sizeof err))
        return sky_err(why, why_size, SKY_EINVAL, "%s \"%.40s\": expected an integer in [0, %lld]",
                       name, v, (long long)max);
    return 0;
}

/* ---- Tile38 ------------------------------------------------------------- */

static sky_tile38_t *borrow(sky_map_server_t *s, char *errstr, size_t errstr_size) {
    sky_tile38_t *t = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->npool)
        t = s->pool[--s->npool];
    pthread_mutex_unlock(&s->lock);
    if (t && !sky_tile38_connected(t) && sky_tile38_reconnect(t, errstr, errstr_size)) {
        sky_tile38_destroy(t);
        return NULL;
    }
    return t ? t : sky_tile38_new(s->tile38_host, s->tile38_port, 10000, errstr, errstr_size);
}

static void give_back(sky_map_server_t *s, sky_tile38_t *t) {
    if (!t)
        return;
    pthread_mutex_lock(&s->lock);
    if (s->npool < MAX_POOL) {
        s->pool[s->npool++] = t;
        t = NULL;
    }
    pthread_mutex_unlock(&s->lock);
    sky_tile38_destroy(t);
}

/* One command whose JSON reply the caller frees; a reply with "ok":false is
 * returned as it is (the caller reads "err"). */
static int t38(sky_tile38_t *t, int argc, const char **argv, redisReply **r, char *errstr,
               size_t errstr_size) {
    int rc = sky_tile38_append(t, argc, argv, NULL, errstr, errstr_size);
    if (!rc)
        rc = sky_tile38_get_reply(t, r, errstr, errstr_size);
    if (!rc && (*r)->type != REDIS_REPLY_STRING) {
        rc = sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 %s: %s", argv[0],
                     (*r)->type == REDIS_REPLY_ERROR ? (*r)->str : "reply is not JSON");
        freeReplyObject(*r);
        *r = NULL;
    }
    return rc;
}

static enum MHD_Result tile38_failed(sky_map_server_t *s, struct MHD_Connection *conn,
                                     const char *err) {
    pthread_mutex_lock(&s->lock);
    s->stats.tile38_errors++;
    pthread_mutex_unlock(&s->lock);
    return send_error(s, conn, 503, err);
}

/* WITHIN over one longitude range, appended to cols; *truncated when the limit cut it. */
static int within(sky_map_server_t *s, sky_tile38_t *t, double south, double west, double north,
                  double east, int64_t limit, sky_map_columns_t *cols, bool *truncated,
                  char *errstr, size_t errstr_size) {
    char lim[24], sb[32], wb[32], nb[32], eb[32];
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    sky_fmt_fixed(sb, south, 7);
    sky_fmt_fixed(wb, west, 7);
    sky_fmt_fixed(nb, north, 7);
    sky_fmt_fixed(eb, east, 7);
    const char *argv[] = {"WITHIN", s->collection, "LIMIT", lim, "POINTS", "BOUNDS", sb, wb, nb, eb};
    redisReply *r;
    int rc = t38(t, 10, argv, &r, errstr, errstr_size);
    if (rc)
        return rc;
    int64_t cursor = 0;
    rc = sky_map_columns_add_reply(cols, r->str, r->len, &cursor, errstr, errstr_size);
    freeReplyObject(r);
    *truncated |= cursor != 0;
    return rc;
}

/* num_objects of the collection (0 when it does not exist). */
static int64_t collection_size(sky_map_server_t *s, sky_tile38_t *t) {
    const char *argv[] = {"STATS", s->collection};
    redisReply *r;
    char err[256];
    if (t38(t, 2, argv, &r, err, sizeof err))
        return -1;
    json_t *root = json_loadb(r->str, r->len, 0, NULL);
    json_t *n = json_object_get(json_array_get(json_object_get(root, "stats"), 0), "num_objects");
    int64_t v = json_is_integer(n) ? (int64_t)json_integer_value(n) : 0;
    json_decref(root);
    freeReplyObject(r);
    return v;
}

static enum MHD_Result api_flights(sky_map_server_t *s, struct MHD_Connection *conn) {
    static const char *const names[] = {"bbox", "limit", "events"};
    const char *v[3];
    char why[256];
    sky_bbox_t bb;
    int64_t limit = s->max_aircraft, after = 0;
    if (check_params(conn, names, 3, v, why, sizeof why))
        return send_error(s, conn, 400, why);
    if (!v[0])
        return send_error(s, conn, 400, "bbox=W,S,E,N is required");
    if (sky_map_parse_bbox(v[0], &bb, why, sizeof why) ||
        (v[1] && param_u64(v[1], "limit", s->max_aircraft, &limit, why, sizeof why)) ||
        (v[2] && param_u64(v[2], "events", INT64_MAX, &after, why, sizeof why)))
        return send_error(s, conn, 400, why);
    if (limit == 0)
        return send_error(s, conn, 400, "limit must be at least 1");
    sky_tile38_t *t = borrow(s, why, sizeof why);
    if (!t)
        return tile38_failed(s, conn, why);
    sky_map_columns_t cols;
    sky_map_columns_init(&cols);
    bool truncated = false;
    int64_t t0 = sky_monotonic_ns();
    int rc;
    if (bb.west <= bb.east) {
        rc = within(s, t, bb.south, bb.west, bb.north, bb.east, limit, &cols, &truncated, why,
                    sizeof why);
    } else { /* across the antimeridian: two boxes */
        rc = within(s, t, bb.south, bb.west, bb.north, 180, limit, &cols, &truncated, why,
                    sizeof why);
        if (!rc && (int64_t)cols.count < limit)
            rc = within(s, t, bb.south, -180, bb.north, bb.east, limit - (int64_t)cols.count,
                        &cols, &truncated, why, sizeof why);
        else if (!rc)
            truncated = true;
    }
    double ms = (double)(sky_monotonic_ns() - t0) / 1e6;
    int64_t total = rc ? -1 : collection_size(s, t);
    give_back(s, rc ? NULL : t);
    if (rc) {
        sky_tile38_destroy(t);
        sky_map_columns_free(&cols);
        return tile38_failed(s, conn, why);
    }
    sky_buf_t b;
    sky_buf_init(&b, 0);
    int w = sky_buf_addf(&b, "{\"ok\":true,\"collection\":");
    w |= sky_buf_add_json_str(&b, s->collection, strlen(s->collection));
    w |= sky_buf_add_str(&b, ",\"bbox\":[");
    double box[4] = {bb.west, bb.south, bb.east, bb.north};
    for (int i = 0; i < 4; i++) {
        w |= i ? sky_buf_add_char(&b, ',') : 0;
        w |= sky_buf_add_double(&b, box[i]);
    }
    w |= sky_buf_addf(&b, "],\"count\":%zu,\"truncated\":%s,\"limit\":%lld,\"total\":%lld,"
                          "\"tile38_ms\":%.3f,\"server_ms\":%lld,",
                      cols.count, truncated ? "true" : "false", (long long)limit,
                      (long long)total, ms, (long long)(sky_now_ns() / 1000000));
    w |= sky_map_columns_write(&cols, &b);
    w |= sky_buf_add_char(&b, ',');
    w |= sky_map_events_write(s->events, (uint64_t)after, &b);
    w |= sky_buf_add_str(&b, "}\n");
    pthread_mutex_lock(&s->lock);
    s->stats.last_count = cols.count;
    pthread_mutex_unlock(&s->lock);
    sky_map_columns_free(&cols);
    if (w) {
        sky_buf_free(&b);
        return send_error(s, conn, 500, "out of memory");
    }
    return send_json(conn, 200, &b);
}

typedef struct get_ctx {
    sky_map_server_t *s;
    sky_tile38_t *t;
} get_ctx_t;

static json_t *get_object(void *opaque, const char *key, const char *id) {
    get_ctx_t *g = opaque;
    const char *argv[] = {"GET", key, id};
    redisReply *r;
    char err[256];
    if (t38(g->t, 3, argv, &r, err, sizeof err))
        return NULL;
    json_t *root = json_loadb(r->str, r->len, 0, NULL);
    freeReplyObject(r);
    json_t *obj = json_incref(json_object_get(root, "object"));
    json_decref(root);
    return obj;
}

/* Adds the areas of HOOKS * or CHANS * ("hooks" / "chans") to features. */
static int add_fences(sky_map_server_t *s, sky_tile38_t *t, const char *cmd, const char *member,
                      const char *kind, json_t *features, json_t *skipped, char *errstr,
                      size_t errstr_size) {
    const char *argv[] = {cmd, "*"};
    redisReply *r;
    int rc = t38(t, 2, argv, &r, errstr, errstr_size);
    if (rc)
        return rc;
    json_t *root = json_loadb(r->str, r->len, 0, NULL);
    freeReplyObject(r);
    json_t *list = json_object_get(root, member);
    if (!json_is_true(json_object_get(root, "ok")) || !json_is_array(list)) {
        json_decref(root);
        return sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 %s *: unexpected reply", cmd);
    }
    get_ctx_t g = {s, t};
    size_t i;
    json_t *h;
    json_array_foreach(list, i, h) {
        const char *name = json_string_value(json_object_get(h, "name"));
        char why[256];
        json_t *f = sky_map_airspace_feature(name ? name : "?", kind,
                                             json_object_get(h, "command"), get_object, &g, why,
                                             sizeof why);
        if (f)
            json_array_append_new(features, f);
        else
            json_array_append_new(skipped, json_string(why));
    }
    json_decref(root);
    return 0;
}

static enum MHD_Result api_airspaces(sky_map_server_t *s, struct MHD_Connection *conn) {
    char why[256];
    const char *v[1];
    if (check_params(conn, NULL, 0, v, why, sizeof why))
        return send_error(s, conn, 400, why);
    sky_tile38_t *t = borrow(s, why, sizeof why);
    if (!t)
        return tile38_failed(s, conn, why);
    json_t *features = json_array(), *skipped = json_array();
    int rc = features && skipped ? 0 : SKY_ENOMEM;
    if (!rc)
        rc = add_fences(s, t, "HOOKS", "hooks", "hook", features, skipped, why, sizeof why);
    if (!rc)
        rc = add_fences(s, t, "CHANS", "chans", "channel", features, skipped, why, sizeof why);
    give_back(s, rc ? NULL : t);
    if (rc) {
        sky_tile38_destroy(t);
        json_decref(features);
        json_decref(skipped);
        return rc == SKY_ENOMEM ? send_error(s, conn, 500, "out of memory")
                                : tile38_failed(s, conn, why);
    }
    json_t *doc = json_pack("{s:b, s:s, s:o, s:o}", "ok", 1, "type", "FeatureCollection",
                            "features", features, "skipped", skipped);
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(doc);
    if (!text)
        return send_error(s, conn, 500, "out of memory");
    sky_buf_t b;
    sky_buf_init(&b, 0);
    int w = sky_buf_add_str(&b, text);
    free(text);
    return w ? send_error(s, conn, 500, "out of memory") : send_json(conn, 200, &b);
}

/* The flight's metadata row, as JSON members onto b; the reason when there is none. */
static int add_meta(sky_map_server_t *s, const char *id, sky_buf_t *b) {
    char why[300] = "";
    int w = 0;
    pthread_mutex_lock(&s->lock);
    if (!s->pg_conninfo) {
        snprintf(why, sizeof why, "no --pg: airline and route are looked up in PostgreSQL");
    } else {
        if (s->pg && PQstatus(s->pg) != CONNECTION_OK) {
            PQfinish(s->pg);
            s->pg = NULL;
        }
        if (!s->pg && sky_monotonic_ns() >= s->pg_retry_ns) {
            s->pg = PQconnectdb(s->pg_conninfo);
            if (PQstatus(s->pg) != CONNECTION_OK) {
                snprintf(why, sizeof why, "PostgreSQL: %s", PQerrorMessage(s->pg));
                PQfinish(s->pg);
                s->pg = NULL;
                s->pg_retry_ns = sky_monotonic_ns() + 5000000000LL;
            }
        } else if (!s->pg) {
            snprintf(why, sizeof why, "PostgreSQL unreachable (retrying every 5 s)");
        }
    }
    if (s->pg) {
        char sql[256];
        snprintf(sql, sizeof sql,
                 "SELECT airline, flight_number, departure, arrival FROM \"%s\".flights "
                 "WHERE flight_id = $1",
                 s->schema);
        const char *params[] = {id};
        PGresult *r = PQexecParams(s->pg, sql, 1, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            snprintf(why, sizeof why, "PostgreSQL: %s", PQresultErrorMessage(r));
        } else if (PQntuples(r) == 0) {
            snprintf(why, sizeof why, "not in %s.flights", s->schema);
        } else {
            static const char *const cols[] = {"airline", "flight_number", "departure",
                                               "arrival"};
            w |= sky_buf_add_str(b, ",\"meta\":{");
            for (int c = 0; c < 4; c++) {
                const char *val = PQgetisnull(r, 0, c) ? "" : PQgetvalue(r, 0, c);
                w |= sky_buf_addf(b, "%s\"%s\":", c ? "," : "", cols[c]);
                w |= sky_buf_add_json_str(b, val, strlen(val));
            }
            w |= sky_buf_addf(b, ",\"source\":\"PostgreSQL %s.flights\"}", s->schema);
        }
        PQclear(r);
    }
    pthread_mutex_unlock(&s->lock);
    if (why[0]) {
        size_t n = strlen(why);
        while (n && (why[n - 1] == '\n' || why[n - 1] == ' '))
            why[--n] = '\0';
        w |= sky_buf_add_str(b, ",\"meta\":null,\"meta_error\":");
        w |= sky_buf_add_json_str(b, why, n);
    }
    return w ? SKY_ENOMEM : 0;
}

static enum MHD_Result api_flight(sky_map_server_t *s, struct MHD_Connection *conn) {
    static const char *const names[] = {"id"};
    const char *v[1];
    char why[256];
    if (check_params(conn, names, 1, v, why, sizeof why))
        return send_error(s, conn, 400, why);
    if (!v[0])
        return send_error(s, conn, 400, "id=FLIGHT_ID is required");
    if (strlen(v[0]) > 128)
        return send_error(s, conn, 400, "id: longer than 128 bytes");
    sky_tile38_t *t = borrow(s, why, sizeof why);
    if (!t)
        return tile38_failed(s, conn, why);
    sky_tile38_obj_t o;
    int rc = sky_tile38_get_object(t, s->collection, v[0], &o, why, sizeof why);
    give_back(s, rc ? NULL : t);
    if (rc) {
        sky_tile38_destroy(t);
        return tile38_failed(s, conn, why);
    }
    sky_buf_t b;
    sky_buf_init(&b, 0);
    int w = sky_buf_add_str(&b, "{\"ok\":true,\"id\":");
    w |= sky_buf_add_json_str(&b, v[0], strlen(v[0]));
    w |= sky_buf_addf(&b, ",\"found\":%s", o.found ? "true" : "false");
    if (o.found) {
        w |= sky_buf_add_str(&b, ",\"lat\":");
        w |= sky_buf_add_double(&b, o.lat);
        w |= sky_buf_add_str(&b, ",\"lon\":");
        w |= sky_buf_add_double(&b, o.lon);
        w |= sky_buf_addf(&b, ",\"alt\":%lld,\"spd\":%lld,\"seq\":%lld,\"ts_ms\":%lld",
                          (long long)o.altitude, (long long)o.airspeed, (long long)o.seq,
                          (long long)o.ts_ms);
    }
    w |= add_meta(s, v[0], &b);
    w |= sky_buf_add_str(&b, "}\n");
    if (w) {
        sky_buf_free(&b);
        return send_error(s, conn, 500, "out of memory");
    }
    return send_json(conn, 200, &b);
}

static enum MHD_Result api_events(sky_map_server_t *s, struct MHD_Connection *conn) {
    static const char *const names[] = {"after"};
    const char *v[1];
    char why[256];
    int64_t after = 0;
    if (check_params(conn, names, 1, v, why, sizeof why) ||
        (v[0] && param_u64(v[0], "after", INT64_MAX, &after, why, sizeof why)))
        return send_error(s, conn, 400, why);
    sky_buf_t b;
    sky_buf_init(&b, 0);
    if (sky_buf_add_str(&b, "{\"ok\":true,") || sky_map_events_write(s->events, (uint64_t)after, &b) ||
        sky_buf_add_str(&b, "}\n")) {
        sky_buf_free(&b);
        return send_error(s, conn, 500, "out of memory");
    }
    return send_json(conn, 200, &b);
}

static enum MHD_Result serve_asset(sky_map_server_t *s, struct MHD_Connection *conn,
                                   const char *name) {
    const sky_web_asset_t *a = sky_web_asset(name);
    char why[256];
    const char *v[1];
    if (!a || strcmp(name, "report.js") == 0 || strcmp(name, "report.css") == 0)
        return send_error(s, conn, 404, "no such asset");
    if (check_params(conn, NULL, 0, v, why, sizeof why))
        return send_error(s, conn, 400, why);
    /* the binary's own files: they change only with the binary */
    return send_buf(conn, 200, a->mime, a->data, a->size, false,
                    strcmp(name, "map.html") == 0 ? "no-cache" : "public, max-age=3600");
}

/* Loopback-only servers answer only requests addressed to a loopback name, so
 * that a web page elsewhere cannot read the map through DNS rebinding. */
static bool host_allowed(const sky_map_server_t *s, struct MHD_Connection *conn) {
    if (!s->loopback)
        return true;
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (!host)
        return false;
    static const char *const ok[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = strlen(ok[i]);
        if (strncasecmp(host, ok[i], n) == 0 && (host[n] == '\0' || host[n] == ':'))
            return true;
    }
    return false;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls) {
    sky_map_server_t *s = cls;
    (void)version, (void)upload;
    if (!*con_cls) { /* the first call only sees the headers; answer on the second */
        *con_cls = s;
        return MHD_YES;
    }
    if (*upload_size) { /* a body on a GET: drop it, the answer below is 405 or 400 */
        *upload_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&s->lock);
    s->stats.requests++;
    pthread_mutex_unlock(&s->lock);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_error(s, conn, 405, "only GET and HEAD");
    if (!host_allowed(s, conn))
        return send_error(s, conn, 403, "this server answers only to 127.0.0.1 or localhost");
    if (strcmp(url, "/") == 0 || strcmp(url, "/index.html") == 0)
        return serve_asset(s, conn, "map.html");
    if (strncmp(url, "/assets/", 8) == 0)
        return serve_asset(s, conn, url + 8);
    if (strcmp(url, "/api/flights") == 0)
        return api_flights(s, conn);
    if (strcmp(url, "/api/airspaces") == 0)
        return api_airspaces(s, conn);
    if (strcmp(url, "/api/flight") == 0)
        return api_flight(s, conn);
    if (strcmp(url, "/api/events") == 0)
        return api_events(s, conn);
    return send_error(s, conn, 404, "not found: the map is at /");
}

static int parse_listen(const char *listen, struct sockaddr_in *addr, char *errstr,
                        size_t errstr_size) {
    char host[64];
    int port;
    if (sky_map_parse_listen(listen, host, sizeof host, &port, errstr, errstr_size))
        return SKY_EUSAGE;
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &addr->sin_addr);
    return 0;
}

static int copy_config(sky_map_server_t *s, const sky_map_config_t *cfg, char *errstr,
                       size_t errstr_size) {
    s->tile38_port = 9851;
    snprintf(s->tile38_host, sizeof s->tile38_host, "127.0.0.1");
    if (cfg->tile38 && sky_parse_hostport(cfg->tile38, s->tile38_host, sizeof s->tile38_host,
                                          &s->tile38_port, "--tile38", errstr, errstr_size))
        return SKY_EUSAGE;
    if (sky_strlcpy(s->collection, cfg->collection ? cfg->collection : "flights",
                    sizeof s->collection))
        return sky_err(errstr, errstr_size, SKY_EUSAGE, "--collection: too long");
    const char *schema = cfg->schema ? cfg->schema : "public";
    if (sky_schema_check_name(schema, errstr, errstr_size))
        return SKY_EUSAGE;
    snprintf(s->schema, sizeof s->schema, "%s", schema);
    if (cfg->pg_conninfo && !(s->pg_conninfo = strdup(cfg->pg_conninfo)))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    s->max_aircraft = cfg->max_aircraft > 0 ? cfg->max_aircraft : 250000;
    return 0;
}

sky_map_server_t *sky_map_server_start(const sky_map_config_t *cfg, int *code, char *errstr,
                                       size_t errstr_size) {
    struct sockaddr_in addr;
    sky_map_server_t *s = calloc(1, sizeof *s);
    *code = SKY_ENOMEM;
    if (!s) {
        sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    int rc = copy_config(s, cfg, errstr, errstr_size);
    if (!rc)
        rc = parse_listen(cfg->listen ? cfg->listen : "127.0.0.1:8080", &addr, errstr,
                          errstr_size);
    if (!rc) { /* fail now, not on the first page load, when Tile38 is not there */
        sky_tile38_t *t = sky_tile38_new(s->tile38_host, s->tile38_port, 5000, errstr,
                                         errstr_size);
        rc = t ? 0 : SKY_EUNAVAIL;
        give_back(s, t);
    }
    if (!rc && cfg->events_topic &&
        !(s->events = sky_map_events_start(cfg->kafka, cfg->events_topic, errstr, errstr_size)))
        rc = SKY_ENOMEM;
    if (!rc) {
        int threads = cfg->threads > 0 ? (cfg->threads < MAX_POOL ? cfg->threads : MAX_POOL) : 4;
        s->loopback = (ntohl(addr.sin_addr.s_addr) >> 24) == 127;
        s->daemon = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, ntohs(addr.sin_port), NULL, NULL,
            answer, s, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_THREAD_POOL_SIZE,
            (unsigned)threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned)256, MHD_OPTION_END);
        if (!s->daemon)
            rc = sky_err(errstr, errstr_size, SKY_EIO,
                         "--listen %s: cannot listen (port in use? try --listen 127.0.0.1:0)",
                         cfg->listen ? cfg->listen : "127.0.0.1:8080");
    }
    if (rc) {
        *code = rc;
        sky_map_server_stop(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : ntohs(addr.sin_port);
    *code = 0;
    return s;
}

int sky_map_server_port(const sky_map_server_t *s) {
    return s->port;
}

void sky_map_server_get_stats(sky_map_server_t *s, sky_map_stats_t *out) {
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}

void sky_map_server_stop(sky_map_server_t *s) {
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    sky_map_events_stop(s->events);
    for (int i = 0; i < s->npool; i++)
        sky_tile38_destroy(s->pool[i]);
    if (s->pg)
        PQfinish(s->pg);
    free(s->pg_conninfo);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
