/* Tile38 check: every airborne flight's object equals its last sent position
 * (within 1e-6 degrees) with its seq/altitude/airspeed fields and a TTL, and
 * flights past their TTL are gone. Talks RESP through hiredis directly
 * (lib/tile38.h did not exist when this was written), pipelined in batches. */
#include "checks.h"

#include "error.h"
#include "parse.h"
#include "timefmt.h"

#include <hiredis/hiredis.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PIPELINE 512
#define COORD_EPS 1e-6
#define VALUE_EPS 0.5 /* altitude ft and airspeed kt may be stored rounded */
#define TTL_GRACE_NS (10 * 1000000000LL) /* EX counts from the store, not the intended time */

enum expect { EXPECT_SKIP, EXPECT_PRESENT, EXPECT_GONE };

typedef struct t38_pass {
    sky_verify_ctx_t *ctx;
    sky_verify_check_t *check;
    int64_t now_ns;
    uint64_t present_ok, gone_ok, skipped;
} t38_pass_t;

static enum expect expectation(const t38_pass_t *t, const sky_vflight_t *f) {
    if (!f->final)
        return EXPECT_SKIP;
    int64_t ttl_ns = t->ctx->m->ttl_s * 1000000000LL;
    if (ttl_ns > 0 && f->final->intended_ns > 0) {
        int64_t expires = f->final->intended_ns + ttl_ns;
        if (t->now_ns > expires + TTL_GRACE_NS)
            return EXPECT_GONE;
        if (t->now_ns > expires - TTL_GRACE_NS)
            return EXPECT_SKIP; /* too close to the expiry to tell */
    }
    return f->landed ? EXPECT_SKIP : EXPECT_PRESENT;
}

static double reply_number(const redisReply *r) {
    if (!r)
        return NAN;
    if (r->type == REDIS_REPLY_INTEGER)
        return (double)r->integer;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
        double v;
        return sky_parse_double(r->str, -1e300, 1e300, &v, "field", NULL, 0) ? NAN : v;
    }
    return NAN;
}

/* Tile38 stores no field whose value is 0 and answers an absent field as 0
 * ("non-existent fields default to zero"): a flight at seq 0, or at 0 kt on the
 * ground, has no such field in its WITHFIELDS reply. */
static double field_value(const redisReply *fields, const char *name) {
    if (!fields || fields->type != REDIS_REPLY_ARRAY)
        return 0;
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (fields->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(fields->element[i]->str, name) == 0)
            return reply_number(fields->element[i + 1]);
    return 0;
}

static int point_of(const redisReply *obj, double *lat, double *lon) {
    if (!obj || obj->type != REDIS_REPLY_STRING)
        return -1;
    json_t *g = json_loads(obj->str, 0, NULL);
    json_t *c = json_object_get(g, "coordinates");
    int rc = json_is_array(c) && json_array_size(c) >= 2 ? 0 : -1;
    if (!rc) {
        *lon = json_number_value(json_array_get(c, 0));
        *lat = json_number_value(json_array_get(c, 1));
    }
    json_decref(g);
    return rc;
}

#define PROBLEM(...) sky_verify_check_problem(t->check, f->id, f->id_len, fin->seq, -1, -1, __VA_ARGS__)

static void compare_object(t38_pass_t *t, const sky_vflight_t *f, const redisReply *get,
                           const redisReply *ttl) {
    const sky_vm_final_t *fin = f->final;
    const redisReply *obj = get, *fields = NULL;
    if (get->type == REDIS_REPLY_ARRAY && get->elements >= 1) {
        obj = get->element[0];
        fields = get->elements >= 2 ? get->element[1] : NULL;
    }
    double lat, lon;
    if (point_of(obj, &lat, &lon))
        return (void)PROBLEM("object is not a point");
    if (fabs(lat - fin->lat) > COORD_EPS || fabs(lon - fin->lon) > COORD_EPS)
        return (void)PROBLEM("at (%.7f, %.7f), expected the last sent (%.7f, %.7f)", lat, lon,
                             fin->lat, fin->lon);
    double seq = field_value(fields, "seq"), alt = field_value(fields, "altitude"),
           spd = field_value(fields, "airspeed");
    if (isnan(seq) || (int64_t)seq != fin->seq)
        return (void)PROBLEM("field seq = %g, expected %lld", seq, (long long)fin->seq);
    if (isnan(alt) || fabs(alt - fin->alt) > VALUE_EPS)
        return (void)PROBLEM("field altitude = %g, expected %g", alt, fin->alt);
    if (isnan(spd) || fabs(spd - fin->speed) > VALUE_EPS)
        return (void)PROBLEM("field airspeed = %g, expected %g", spd, fin->speed);
    double secs = reply_number(ttl);
    if (isnan(secs) || secs < 0)
        return (void)PROBLEM("object has no TTL (set it with EX)");
    t->present_ok++;
}

static void judge(t38_pass_t *t, const sky_vflight_t *f, enum expect e, const redisReply *get,
                  const redisReply *ttl) {
    const sky_vm_final_t *fin = f->final;
    int absent = !get || get->type == REDIS_REPLY_NIL;
    if (get && get->type == REDIS_REPLY_ERROR)
        absent = strstr(get->str, "not found") != NULL;
    if (e == EXPECT_GONE) {
        if (absent)
            t->gone_ok++;
        else
            PROBLEM("still present after its TTL (%lld s) ran out", (long long)t->ctx->m->ttl_s);
        return;
    }
    if (absent)
        PROBLEM("missing from collection %s", t->ctx->collection);
    else if (get->type == REDIS_REPLY_ERROR)
        PROBLEM("Tile38 error: %s", get->str);
    else
        compare_object(t, f, get, ttl);
}

static int run_batch(t38_pass_t *t, redisContext *rc, size_t from, size_t to, char *errstr,
                     size_t errsz) {
    enum expect exp[PIPELINE];
    size_t n = 0;
    for (size_t i = from; i < to; i++) {
        const sky_vflight_t *f = sky_flight_table_at(t->ctx->table, i);
        exp[i - from] = expectation(t, f);
        if (exp[i - from] == EXPECT_SKIP)
            continue;
        redisAppendCommand(rc, "GET %s %b WITHFIELDS", t->ctx->collection, f->id, f->id_len);
        redisAppendCommand(rc, "TTL %s %b", t->ctx->collection, f->id, f->id_len);
        n++;
    }
    for (size_t i = from; i < to; i++) {
        if (exp[i - from] == EXPECT_SKIP) {
            t->skipped++;
            continue;
        }
        redisReply *get = NULL, *ttl = NULL;
        if (redisGetReply(rc, (void **)&get) != REDIS_OK ||
            redisGetReply(rc, (void **)&ttl) != REDIS_OK) {
            freeReplyObject(get);
            return sky_err(errstr, errsz, SKY_EUNAVAIL, "Tile38: %s", rc->errstr);
        }
        judge(t, sky_flight_table_at(t->ctx->table, i), exp[i - from], get, ttl);
        freeReplyObject(get);
        freeReplyObject(ttl);
    }
    (void)n;
    return 0;
}

static redisContext *connect_tile38(const char *addr, int timeout_ms, char *errstr, size_t errsz) {
    char host[256];
    int port;
    if (sky_parse_hostport(addr, host, sizeof host, &port, "--tile38", errstr, errsz))
        return NULL;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    redisContext *rc = redisConnectWithTimeout(host, port, tv);
    if (!rc || rc->err) {
        sky_err(errstr, errsz, SKY_EUNAVAIL, "Tile38 unreachable at %s: %s", addr,
                rc ? rc->errstr : "out of memory");
        redisFree(rc);
        return NULL;
    }
    redisSetTimeout(rc, tv);
    return rc;
}

int sky_verify_check_tile38(sky_verify_ctx_t *ctx, char *errstr, size_t errstr_size) {
    const char *addr = ctx->cfg->tile38 ? ctx->cfg->tile38 : "127.0.0.1:9851";
    redisContext *rc = connect_tile38(addr, ctx->timeout_ms, errstr, errstr_size);
    if (!rc)
        return strstr(errstr, "unreachable") ? SKY_EUNAVAIL : SKY_EUSAGE;
    t38_pass_t t = {.ctx = ctx, .now_ns = sky_now_ns()};
    if (!(t.check = sky_verify_report_add_check(ctx->report, "tile38.positions"))) {
        redisFree(rc);
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    }
    size_t n = sky_flight_table_count(ctx->table);
    int err = 0;
    for (size_t i = 0; i < n && !err; i += PIPELINE)
        err = run_batch(&t, rc, i, i + PIPELINE < n ? i + PIPELINE : n, errstr, errstr_size);
    redisFree(rc);
    if (err)
        return err;
    sky_verify_check_count(t.check, "at_last_position", (int64_t)t.present_ok);
    sky_verify_check_count(t.check, "expired_ok", (int64_t)t.gone_ok);
    sky_verify_check_count(t.check, "not_judged", (int64_t)t.skipped);
    if (t.check->status == SKY_CHECK_FAIL)
        sky_verify_check_set(t.check, SKY_CHECK_FAIL, "%llu flights wrong in Tile38",
                             (unsigned long long)t.check->nproblems);
    else
        sky_verify_check_set(t.check, SKY_CHECK_PASS,
                             "%llu flights at their last position, %llu expired as expected",
                             (unsigned long long)t.present_ok, (unsigned long long)t.gone_ok);
    return 0;
}
