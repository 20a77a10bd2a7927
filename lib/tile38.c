/* Tile38 client over hiredis. A connection switches to "OUTPUT json" so replies
 * have one documented shape ({"ok":..., ...}) across Tile38 versions, or, for the
 * hot path (ingest's pipelined SETs), stays with RESP replies (+OK, -ERR ...), which
 * cost the server less. */
#include "tile38.h"

#include "error.h"
#include "log.h"
#include "parse.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

enum { SKY_TILE38_LOADING_POLL_MS = 250, SKY_TILE38_LOADING_WAIT_MS = 300000 };

struct sky_tile38 {
    redisContext *ctx;
    char host[256];
    char address[300];
    int port;
    int timeout_ms;
    uint64_t connections;
    bool resp; /* RESP replies instead of OUTPUT json */
};

static struct timeval ms_to_tv(int ms) {
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

static void drop_connection(sky_tile38_t *t) {
    if (t->ctx)
        redisFree(t->ctx);
    t->ctx = NULL;
}

static int unavailable(sky_tile38_t *t, char *errstr, size_t errstr_size, const char *what) {
    int rc = sky_err(errstr, errstr_size, SKY_EUNAVAIL,
                     "Tile38 %s:%d: %s (is the server up? check --tile38)", t->host, t->port,
                     what && *what ? what : "connection lost");
    drop_connection(t);
    return rc;
}

/* The connect handshake: OUTPUT json (or resp) and its reply. */
static int switch_to_json(sky_tile38_t *t, char *errstr, size_t errstr_size) {
    redisReply *r = redisCommand(t->ctx, t->resp ? "OUTPUT resp" : "OUTPUT json");
    if (!r)
        return unavailable(t, errstr, errstr_size, t->ctx->errstr);
    int ok = t->resp ? r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0
                     : r->type == REDIS_REPLY_STRING && strstr(r->str, "\"ok\":true") != NULL;
    int rc = ok ? 0
                : sky_err(errstr, errstr_size, SKY_ETILE38,
                          "Tile38 %s:%d: OUTPUT json refused (%s); is this a Tile38 server?",
                          t->host, t->port, r->type == REDIS_REPLY_STRING ? r->str : "?");
    freeReplyObject(r);
    if (rc)
        drop_connection(t);
    return rc;
}

int sky_tile38_reconnect(sky_tile38_t *t, char *errstr, size_t errstr_size) {
    drop_connection(t);
    t->ctx = redisConnectWithTimeout(t->host, t->port, ms_to_tv(t->timeout_ms));
    if (!t->ctx)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory connecting to Tile38");
    if (t->ctx->err)
        return unavailable(t, errstr, errstr_size, t->ctx->errstr);
    if (redisSetTimeout(t->ctx, ms_to_tv(t->timeout_ms)) != REDIS_OK)
        return unavailable(t, errstr, errstr_size, "cannot set the socket timeout");
    int rc = switch_to_json(t, errstr, errstr_size);
    t->connections += rc == 0;
    return rc;
}

sky_tile38_t *sky_tile38_new_unconnected(const char *host, int port, int timeout_ms,
                                         char *errstr, size_t errstr_size) {
    sky_tile38_t *t = calloc(1, sizeof *t);
    if (!t) {
        sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory creating the Tile38 client");
        return NULL;
    }
    if (sky_strlcpy(t->host, host, sizeof t->host)) {
        sky_err(errstr, errstr_size, SKY_EUSAGE, "Tile38 host name too long");
        free(t);
        return NULL;
    }
    t->port = port;
    t->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    snprintf(t->address, sizeof t->address, "%s:%d", t->host, port);
    return t;
}

/* A server that restarted with a big AOF answers PING at once but every other command
 * with "LOADING" until it has read it (tens of seconds for a GB): one-shot callers
 * (geofence, verify, map, bench) wait for HEALTHZ rather than fail on their first
 * command. Other HEALTHZ answers (a follower catching up, an old server without the
 * command) are left to the commands themselves. */
static int wait_loaded(sky_tile38_t *t, char *errstr, size_t errstr_size) {
    const char *argv[] = {"HEALTHZ"};
    const size_t argvlen[] = {7};
    char err[256];
    for (int waited_ms = 0;; waited_ms += SKY_TILE38_LOADING_POLL_MS) {
        redisReply *r = NULL;
        int rc = sky_tile38_append(t, 1, argv, argvlen, errstr, errstr_size);
        if (!rc)
            rc = sky_tile38_get_reply(t, &r, errstr, errstr_size);
        if (rc)
            return rc;
        const char *e = sky_tile38_reply_error(r, err, sizeof err);
        bool loading = e && strncmp(e, "LOADING", 7) == 0;
        freeReplyObject(r);
        if (!loading)
            return 0;
        if (waited_ms >= SKY_TILE38_LOADING_WAIT_MS)
            return sky_err(errstr, errstr_size, SKY_EUNAVAIL,
                           "Tile38 %s is still loading its data after %d s; try again when "
                           "'tile38-cli -p %d healthz' says ok",
                           t->address, waited_ms / 1000, t->port);
        if (waited_ms == 0)
            sky_log_warn("Tile38 %s is loading its data (AOF); waiting up to %d s", t->address,
                         SKY_TILE38_LOADING_WAIT_MS / 1000);
        struct timespec ts = {0, SKY_TILE38_LOADING_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

sky_tile38_t *sky_tile38_new(const char *host, int port, int timeout_ms, char *errstr,
                             size_t errstr_size) {
    sky_tile38_t *t = sky_tile38_new_unconnected(host, port, timeout_ms, errstr, errstr_size);
    if (t && (sky_tile38_reconnect(t, errstr, errstr_size) || wait_loaded(t, errstr, errstr_size))) {
        sky_tile38_destroy(t);
        return NULL;
    }
    return t;
}

void sky_tile38_destroy(sky_tile38_t *t) {
    if (!t)
        return;
    drop_connection(t);
    free(t);
}

void sky_tile38_use_resp(sky_tile38_t *t) {
    t->resp = true;
    if (t->ctx) {
        char ignored[64];
        sky_tile38_reconnect(t, ignored, sizeof ignored);
    }
}

bool sky_tile38_connected(const sky_tile38_t *t) {
    return t->ctx != NULL;
}

uint64_t sky_tile38_connections(const sky_tile38_t *t) {
    return t->connections;
}

const char *sky_tile38_address(const sky_tile38_t *t) {
    return t->address;
}

const char *sky_tile38_reply_error(const redisReply *r, char *buf, size_t bufsz) {
    if (r->type == REDIS_REPLY_ERROR) { /* "ERR invalid argument 'x'": as in JSON, no ERR */
        snprintf(buf, bufsz, "%s", strncmp(r->str, "ERR ", 4) == 0 ? r->str + 4 : r->str);
        return buf;
    }
    if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0)
        return NULL;
    if (r->type != REDIS_REPLY_STRING) {
        snprintf(buf, bufsz, "unexpected reply (type %d)", r->type);
        return buf;
    }
    if (strncmp(r->str, "{\"ok\":true", 10) == 0)
        return NULL;
    json_t *root = json_loadb(r->str, r->len, 0, NULL);
    const char *e = json_string_value(json_object_get(root, "err"));
    snprintf(buf, bufsz, "%s", e ? e : r->str);
    json_decref(root);
    return buf;
}

bool sky_tile38_error_is_transient(const char *err) {
    /* Tile38 prefixes some with "ERR "; the rest of the text is what tells them apart. */
    if (strncmp(err, "ERR ", 4) == 0)
        err += 4;
    if (strncmp(err, "invalid password", 16) == 0)
        return true;
    /* What a SET's own arguments can earn (crud.go: errInvalidArgument,
     * errInvalidNumberOfArguments, the GeoJSON parser's "invalid ..."). Anything
     * else (LOADING, read only, OOM, not the leader, catching up, authentication
     * required, timeout, an error this list does not know) is the server's state:
     * the batch waits for it rather than emptying the stream into the DLQ. */
    return strncmp(err, "invalid ", 8) != 0 && strncmp(err, "wrong number of arguments", 25) != 0;
}

int sky_tile38_append(sky_tile38_t *t, int argc, const char **argv, const size_t *argvlen,
                      char *errstr, size_t errstr_size) {
    if (!t->ctx) {
        int rc = sky_tile38_reconnect(t, errstr, errstr_size);
        if (rc)
            return rc;
    }
    if (redisAppendCommandArgv(t->ctx, argc, argv, argvlen) != REDIS_OK)
        return t->ctx->err == REDIS_ERR_OOM
                   ? sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory queueing a command")
                   : unavailable(t, errstr, errstr_size, t->ctx->errstr);
    return 0;
}

int sky_tile38_append_raw(sky_tile38_t *t, const char *resp, size_t len, char *errstr,
                          size_t errstr_size) {
    if (!t->ctx) {
        int rc = sky_tile38_reconnect(t, errstr, errstr_size);
        if (rc)
            return rc;
    }
    if (redisAppendFormattedCommand(t->ctx, resp, len) != REDIS_OK)
        return unavailable(t, errstr, errstr_size, t->ctx->errstr);
    return 0;
}

int sky_tile38_get_reply(sky_tile38_t *t, redisReply **reply, char *errstr, size_t errstr_size) {
    void *r = NULL;
    *reply = NULL;
    if (!t->ctx)
        return unavailable(t, errstr, errstr_size, "not connected");
    if (redisGetReply(t->ctx, &r) != REDIS_OK || !r)
        return unavailable(t, errstr, errstr_size, t->ctx->errstr);
    *reply = r;
    return 0;
}

/* A JSON-mode reply is a string starting with {"ok":true. */
static bool reply_ok(const redisReply *r) {
    return r->type == REDIS_REPLY_STRING && strncmp(r->str, "{\"ok\":true", 10) == 0;
}

int sky_tile38_oneshot(const char *addr, int argc, const char **argv, char *errstr,
                       size_t errstr_size) {
    char host[256] = "127.0.0.1";
    int port = 9851;
    if (addr && sky_parse_hostport(addr, host, sizeof host, &port, "--tile38", errstr, errstr_size))
        return SKY_EUSAGE;
    sky_tile38_t *t = sky_tile38_new(host, port, 10000, errstr, errstr_size);
    if (!t)
        return SKY_EUNAVAIL;
    redisReply *reply = NULL;
    int rc = sky_tile38_command(t, argc, argv, &reply, errstr, errstr_size);
    freeReplyObject(reply);
    sky_tile38_destroy(t);
    return rc;
}

int sky_tile38_command(sky_tile38_t *t, int argc, const char **argv, redisReply **reply,
                       char *errstr, size_t errstr_size) {
    int rc = sky_tile38_append(t, argc, argv, NULL, errstr, errstr_size);
    if (!rc)
        rc = sky_tile38_get_reply(t, reply, errstr, errstr_size);
    if (rc)
        return rc;
    if (!reply_ok(*reply)) {
        rc = sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 %s: %s", argv[0],
                     (*reply)->type == REDIS_REPLY_STRING || (*reply)->type == REDIS_REPLY_ERROR
                         ? (*reply)->str
                         : "unexpected reply");
        freeReplyObject(*reply);
        *reply = NULL;
    }
    return rc;
}

static int64_t json_i64(json_t *obj, const char *name, bool *present) {
    json_t *v = json_object_get(obj, name);
    if (present)
        *present = json_is_number(v);
    return json_is_number(v) ? (int64_t)json_number_value(v) : 0;
}

int sky_tile38_parse_object(const redisReply *r, sky_tile38_obj_t *out, char *errstr,
                            size_t errstr_size) {
    memset(out, 0, sizeof *out);
    if (r->type != REDIS_REPLY_STRING)
        return sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 GET: reply is not JSON text");
    json_error_t jerr;
    json_t *root = json_loadb(r->str, r->len, 0, &jerr);
    if (!root)
        return sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 GET: bad JSON: %s", jerr.text);
    int rc = 0;
    json_t *point = json_object_get(root, "point");
    if (!json_is_true(json_object_get(root, "ok"))) {
        const char *e = json_string_value(json_object_get(root, "err"));
        /* "key not found" / "id not found": an absent object is an answer, not an error */
        if (!e || !strstr(e, "not found"))
            rc = sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 GET: %s", e ? e : "failed");
    } else if (!json_is_object(point)) {
        rc = sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 GET: reply has no point");
    } else {
        out->found = true;
        out->lat = json_number_value(json_object_get(point, "lat"));
        out->lon = json_number_value(json_object_get(point, "lon"));
        json_t *fields = json_object_get(root, "fields");
        out->seq = json_i64(fields, "seq", &out->has_seq);
        out->ts_ms = json_i64(fields, "ts", &out->has_ts);
        out->altitude = json_i64(fields, "altitude", NULL);
        out->airspeed = json_i64(fields, "airspeed", NULL);
    }
    json_decref(root);
    return rc;
}

static int64_t resp_i64(const redisReply *r, bool *ok) {
    char *end;
    if (r->type == REDIS_REPLY_INTEGER) {
        *ok = true;
        return r->integer;
    }
    if (r->type != REDIS_REPLY_STRING || !r->len) {
        *ok = false;
        return 0;
    }
    double v = strtod(r->str, &end); /* fields may come back as 35000 or 3.5e+04 */
    *ok = end == r->str + r->len;
    return *ok ? (int64_t)v : 0;
}

int sky_tile38_parse_object_resp(const redisReply *r, sky_tile38_obj_t *out, char *errstr,
                                 size_t errstr_size) {
    memset(out, 0, sizeof *out);
    if (r->type == REDIS_REPLY_NIL)
        return 0; /* no such object or collection */
    if (r->type == REDIS_REPLY_ERROR)
        return sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 GET: %s", r->str);
    const redisReply *pt = r->type == REDIS_REPLY_ARRAY && r->elements >= 1 ? r->element[0] : NULL;
    bool lat_ok, lon_ok;
    if (!pt || pt->type != REDIS_REPLY_ARRAY || pt->elements < 2)
        return sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 GET: reply has no point");
    out->lat = strtod(pt->element[0]->str ? pt->element[0]->str : "", NULL);
    out->lon = strtod(pt->element[1]->str ? pt->element[1]->str : "", NULL);
    resp_i64(pt->element[0], &lat_ok);
    resp_i64(pt->element[1], &lon_ok);
    if (!lat_ok || !lon_ok)
        return sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 GET: point is not numbers");
    out->found = true;
    const redisReply *f = r->elements >= 2 ? r->element[1] : NULL;
    for (size_t i = 0; f && f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2) {
        const redisReply *name = f->element[i], *v = f->element[i + 1];
        bool ok;
        int64_t x = resp_i64(v, &ok);
        if (name->type != REDIS_REPLY_STRING || !ok)
            continue;
        if (strcmp(name->str, "seq") == 0)
            out->seq = x, out->has_seq = true;
        else if (strcmp(name->str, "ts") == 0)
            out->ts_ms = x, out->has_ts = true;
        else if (strcmp(name->str, "altitude") == 0)
            out->altitude = x;
        else if (strcmp(name->str, "airspeed") == 0)
            out->airspeed = x;
    }
    return 0;
}

int sky_tile38_get_object(sky_tile38_t *t, const char *collection, const char *id,
                          sky_tile38_obj_t *out, char *errstr, size_t errstr_size) {
    const char *argv[] = {"GET", collection, id, "WITHFIELDS", "POINT"};
    redisReply *r;
    int rc = sky_tile38_append(t, 5, argv, NULL, errstr, errstr_size);
    if (!rc)
        rc = sky_tile38_get_reply(t, &r, errstr, errstr_size);
    if (rc)
        return rc;
    rc = t->resp ? sky_tile38_parse_object_resp(r, out, errstr, errstr_size)
                 : sky_tile38_parse_object(r, out, errstr, errstr_size);
    freeReplyObject(r);
    return rc;
}

size_t sky_fmt_fixed(char *out, double v, int decimals) {
    static const int64_t pow10[] = {1,      10,      100,      1000,      10000,
                                    100000, 1000000, 10000000, 100000000, 1000000000};
    if (decimals < 0)
        decimals = 0;
    if (decimals > 9)
        decimals = 9;
    size_t n = 0;
    if (v < 0) {
        out[n++] = '-';
        v = -v;
    }
    int64_t scaled = (int64_t)(v * (double)pow10[decimals] + 0.5);
    int64_t whole = scaled / pow10[decimals], frac = scaled % pow10[decimals];
    char digits[24];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + whole % 10);
        whole /= 10;
    } while (whole);
    while (nd)
        out[n++] = digits[--nd];
    if (decimals) {
        out[n++] = '.';
        for (int i = decimals - 1; i >= 0; i--) {
            out[n + (size_t)i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        n += (size_t)decimals;
    }
    out[n] = '\0';
    return n;
}
