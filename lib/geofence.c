/* Registering airspaces as Tile38 hooks or channels; listing, dropping; the events
 * topic. One Tile38 command per airspace, built as argv (no quoting to get wrong). */
#include "geofence.h"

#include "dynbuf.h"
#include "error.h"
#include "kafka_admin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 32

const char *sky_geofence_route_name(sky_geofence_route_t r) {
    return r == SKY_GEOFENCE_HOOK ? "hook" : "relay";
}

int sky_geofence_route_parse(const char *s, sky_geofence_route_t *out, char *errstr,
                             size_t errstr_size) {
    if (strcmp(s, "relay") == 0)
        *out = SKY_GEOFENCE_RELAY;
    else if (strcmp(s, "hook") == 0)
        *out = SKY_GEOFENCE_HOOK;
    else
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "--geofence-route \"%s\": expected relay (SETCHAN, relayed by ingest) or "
                       "hook (SETHOOK kafka://, sent by Tile38)", s);
    return 0;
}

void sky_geofence_events_topic(const char *topic, char *out, size_t outsz) {
    snprintf(out, outsz, "%s.events", topic ? topic : "flights");
}

/* ---- the command ---- */

typedef struct argv_builder {
    char *argv[MAX_ARGS];
    size_t argc;
    bool failed;
} argv_builder_t;

static void arg(argv_builder_t *b, const char *s) {
    char *d = b->argc < MAX_ARGS ? strdup(s) : NULL;
    if (!d) {
        b->failed = true;
        return;
    }
    b->argv[b->argc++] = d;
}

/* Shortest text that reads back as the same double (Go's ParseFloat reads it exactly
 * as strtod does), so Tile38 and simulator/airspace.c compute with one value. */
static void fmt_num(char *out, size_t outsz, double v) {
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, outsz, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static void arg_num(argv_builder_t *b, double v) {
    char num[40];
    fmt_num(num, sizeof num, v);
    arg(b, num);
}

static int polygon_json(const sky_airspace_t *a, sky_buf_t *j) {
    int rc = sky_buf_add_str(j, "{\"type\":\"Polygon\",\"coordinates\":[");
    for (size_t r = 0; r < sky_airspace_rings(a); r++) {
        size_t first, end;
        sky_airspace_ring(a, r, &first, &end);
        rc |= sky_buf_add_str(j, r ? ",[" : "[");
        bool closed = a->points[2 * first] == a->points[2 * (end - 1)] &&
                      a->points[2 * first + 1] == a->points[2 * (end - 1) + 1];
        /* GeoJSON rings are closed; Tile38's ring then has no zero-length last edge */
        for (size_t i = first; i < end + !closed; i++) {
            size_t k = i < end ? i : first;
            char lon[40], lat[40];
            fmt_num(lon, sizeof lon, a->points[2 * k + 1]);
            fmt_num(lat, sizeof lat, a->points[2 * k]);
            rc |= sky_buf_addf(j, "%s[%s,%s]", i > first ? "," : "", lon, lat);
        }
        rc |= sky_buf_add_char(j, ']');
    }
    return rc | sky_buf_add_str(j, "]}");
}

/* host:port of the first broker, without a PLAINTEXT:// prefix. */
static int first_broker(const char *brokers, char *out, size_t outsz) {
    const char *b = brokers ? brokers : SKY_DEFAULT_BROKERS;
    const char *scheme = strstr(b, "://");
    if (scheme && scheme < b + strcspn(b, ","))
        b = scheme + 3;
    size_t len = strcspn(b, ",");
    if (len == 0 || len >= outsz || !memchr(b, ':', len))
        return -1;
    memcpy(out, b, len);
    out[len] = '\0';
    return 0;
}

int sky_geofence_command(const sky_geofence_config_t *c, const sky_airspace_t *a,
                         sky_geofence_args_t *out, char *errstr, size_t errstr_size) {
    argv_builder_t b = {.argc = 0};
    sky_buf_t j;
    sky_buf_init(&j, 0);
    memset(out, 0, sizeof *out);
    if (a->kind == SKY_AIRSPACE_AIRPORT && a->lat == 0 && a->lon == 0)
        return sky_err(errstr, errstr_size, SKY_EUSAGE,
                       "airspace \"%s\": airport %s not resolved", a->name, a->airport);
    if (c->route == SKY_GEOFENCE_HOOK) {
        char broker[256], url[768];
        if (first_broker(c->brokers, broker, sizeof broker))
            return sky_err(errstr, errstr_size, SKY_EUSAGE,
                           "brokers \"%s\": need host:port for the hook's kafka:// endpoint",
                           c->brokers);
        snprintf(url, sizeof url, "kafka://%s/%s", broker, c->events_topic);
        arg(&b, "SETHOOK");
        arg(&b, a->name);
        arg(&b, url);
    } else {
        arg(&b, "SETCHAN");
        arg(&b, a->name);
    }
    arg(&b, "META");
    arg(&b, SKY_GEOFENCE_META_KEY);
    arg(&b, SKY_GEOFENCE_META_VALUE);
    arg(&b, a->kind == SKY_AIRSPACE_POLYGON ? "WITHIN" : "NEARBY");
    arg(&b, c->collection ? c->collection : "flights");
    arg(&b, "FENCE");
    arg(&b, "DETECT");
    arg(&b, "enter,exit");
    /* only SETs: no "del" message per flight expiring, no "drop" when a run resets */
    arg(&b, "COMMANDS");
    arg(&b, "set");
    if (a->has_floor || a->has_ceiling) {
        /* Tile38 has no altitude: ingest's FIELD altitude stands in for it */
        arg(&b, "WHERE");
        arg(&b, "altitude");
        if (a->has_floor)
            arg_num(&b, a->floor_ft);
        else
            arg(&b, "-inf");
        if (a->has_ceiling)
            arg_num(&b, a->ceiling_ft);
        else
            arg(&b, "+inf");
    }
    if (a->kind == SKY_AIRSPACE_POLYGON) {
        arg(&b, "OBJECT");
        if (polygon_json(a, &j))
            b.failed = true;
        else
            arg(&b, j.data);
    } else {
        arg(&b, "POINT");
        arg_num(&b, a->lat);
        arg_num(&b, a->lon);
        arg_num(&b, a->radius_nm * 1852.0); /* what simulator/airspace.c's circle uses */
    }
    sky_buf_free(&j);
    if (b.failed) {
        for (size_t i = 0; i < b.argc; i++)
            free(b.argv[i]);
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    }
    if (!(out->argv = malloc(b.argc * sizeof *out->argv))) {
        for (size_t i = 0; i < b.argc; i++)
            free(b.argv[i]);
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    }
    memcpy(out->argv, b.argv, b.argc * sizeof *out->argv);
    out->argc = b.argc;
    return 0;
}

void sky_geofence_args_free(sky_geofence_args_t *args) {
    for (size_t i = 0; args && i < args->argc; i++)
        free(args->argv[i]);
    if (args)
        free(args->argv);
}

/* ---- on the server (sky_tile38 connections speak OUTPUT json) ---- */

static int simple(sky_tile38_t *t, const char *cmd, const char *name, char *errstr,
                  size_t errsz) {
    const char *argv[] = {cmd, name};
    redisReply *r = NULL;
    int rc = sky_tile38_command(t, 2, argv, &r, errstr, errsz);
    if (r)
        freeReplyObject(r);
    return rc;
}

int sky_geofence_setup(sky_tile38_t *t, const sky_kconf_t *kc, const sky_geofence_config_t *c,
                       char *errstr, size_t errstr_size) {
    int rc = 0;
    if (!c->events_topic)
        return sky_err(errstr, errstr_size, SKY_EUSAGE, "geofence: no events topic");
    if (kc) {
        const char *configs[] = {"message.timestamp.type=LogAppendTime", NULL};
        rc = sky_kafka_ensure_topic(kc, c->events_topic,
                                    c->events_partitions > 0 ? c->events_partitions : 6, configs,
                                    errstr, errstr_size);
        if (rc)
            return rc;
    }
    for (size_t i = 0; !rc && i < c->nairspaces; i++) {
        const sky_airspace_t *a = &c->airspaces[i];
        sky_geofence_args_t args;
        if ((rc = sky_geofence_command(c, a, &args, errstr, errstr_size)))
            break;
        /* a hook and a channel cannot share a name: the other route's goes first */
        rc = simple(t, c->route == SKY_GEOFENCE_HOOK ? "DELCHAN" : "DELHOOK", a->name, errstr,
                    errstr_size);
        redisReply *r = NULL;
        if (!rc)
            rc = sky_tile38_command(t, (int)args.argc, (const char **)args.argv, &r, errstr,
                                    errstr_size);
        if (rc == SKY_ETILE38) {
            char why[256];
            snprintf(why, sizeof why, "%s", errstr);
            sky_err(errstr, errstr_size, rc, "registering airspace \"%s\" (%s): %s", a->name,
                    args.argv[0], why);
        }
        if (r)
            freeReplyObject(r);
        sky_geofence_args_free(&args);
    }
    return rc;
}

/* HOOKS/CHANS pattern: {"ok":true,"hooks"|"chans":[{"name","key","endpoints","command",
 * "meta"}]} appended to out in our shape. */
static int list_kind(sky_tile38_t *t, bool channels, const char *pattern, json_t *out,
                     char *errstr, size_t errsz) {
    const char *argv[] = {channels ? "CHANS" : "HOOKS", pattern};
    redisReply *r = NULL;
    int rc = sky_tile38_command(t, 2, argv, &r, errstr, errsz);
    if (rc)
        return rc;
    json_t *root = json_loadb(r->str, r->len, 0, NULL);
    freeReplyObject(r);
    json_t *items = json_object_get(root, channels ? "chans" : "hooks"), *h;
    size_t i;
    if (!json_is_array(items))
        rc = sky_err(errstr, errsz, SKY_ETILE38, "Tile38 %s: unexpected reply", argv[0]);
    json_array_foreach(items, i, h) {
        if (rc)
            break;
        json_t *meta = json_object_get(h, "meta"), *o = json_object();
        const char *src = json_string_value(json_object_get(meta, SKY_GEOFENCE_META_KEY));
        json_t *cmd = json_object_get(h, "command");
        const char *ep = json_string_value(json_array_get(json_object_get(h, "endpoints"), 0));
        const char *name = json_string_value(json_object_get(h, "name"));
        const char *key = json_string_value(json_object_get(h, "key"));
        if (!o || json_object_set_new(o, "name", json_string(name ? name : "")) ||
            json_object_set_new(o, "route", json_string(channels ? "relay" : "hook")) ||
            json_object_set_new(o, "key", json_string(key ? key : "")) ||
            json_object_set_new(o, "endpoint", json_string(ep ? ep : "")) ||
            json_object_set(o, "command", json_is_array(cmd) ? cmd : json_array()) ||
            json_object_set_new(o, "ours",
                                json_boolean(src && strcmp(src, SKY_GEOFENCE_META_VALUE) == 0)) ||
            json_array_append_new(out, o)) {
            json_decref(o);
            rc = sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
        }
    }
    json_decref(root);
    return rc;
}

int sky_geofence_list(sky_tile38_t *t, const char *pattern, json_t **out, char *errstr,
                      size_t errstr_size) {
    json_t *a = json_array();
    if (!a)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    int rc = list_kind(t, false, pattern ? pattern : "*", a, errstr, errstr_size);
    if (!rc)
        rc = list_kind(t, true, pattern ? pattern : "*", a, errstr, errstr_size);
    if (rc) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return 0;
}

int sky_geofence_drop(sky_tile38_t *t, const char *const *names, size_t n, int *removed,
                      char *errstr, size_t errstr_size) {
    json_t *all = NULL, *o;
    size_t i;
    int count = 0;
    int rc = sky_geofence_list(t, "*", &all, errstr, errstr_size);
    json_array_foreach(all, i, o) {
        const char *name = json_string_value(json_object_get(o, "name"));
        bool chan = strcmp(json_string_value(json_object_get(o, "route")), "relay") == 0;
        bool pick = !names && json_is_true(json_object_get(o, "ours"));
        for (size_t k = 0; names && !pick && k < n; k++)
            pick = strcmp(names[k], name) == 0;
        if (rc || !pick)
            continue;
        if (!(rc = simple(t, chan ? "DELCHAN" : "DELHOOK", name, errstr, errstr_size)))
            count++;
    }
    json_decref(all);
    if (removed)
        *removed = count;
    return rc;
}

/* ---- the events topic ---- */

int sky_geofence_topic_offsets(rd_kafka_t *rk, const char *topic, int timeout_ms,
                               sky_manifest_partition_t **out, size_t *n, char *errstr,
                               size_t errstr_size) {
    const struct rd_kafka_metadata *md = NULL;
    *out = NULL;
    *n = 0;
    /* all topics: asking for this one by name could make the broker auto-create it */
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (err)
        return sky_err(errstr, errstr_size, SKY_EUNAVAIL, "Kafka metadata: %s",
                       rd_kafka_err2str(err));
    int parts = 0;
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0 && !md->topics[i].err)
            parts = md->topics[i].partition_cnt;
    rd_kafka_metadata_destroy(md);
    if (parts == 0)
        return 0;
    sky_manifest_partition_t *p = calloc((size_t)parts, sizeof *p);
    if (!p)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    for (int i = 0; i < parts; i++) {
        int64_t lo, hi;
        err = rd_kafka_query_watermark_offsets(rk, topic, i, &lo, &hi, timeout_ms);
        if (err) {
            free(p);
            return sky_err(errstr, errstr_size, SKY_EUNAVAIL, "watermarks of %s [%d]: %s", topic,
                           i, rd_kafka_err2str(err));
        }
        p[i] = (sky_manifest_partition_t){i, hi, -1, 0};
    }
    *out = p;
    *n = (size_t)parts;
    return 0;
}

int sky_geofence_manifest_section(sky_manifest_t *m, rd_kafka_t *rk, const char *events_topic,
                                  const sky_airspace_t *a, size_t n, char *errstr,
                                  size_t errstr_size) {
    sky_manifest_partition_t *from = NULL;
    size_t nfrom = 0;
    int rc = rk ? sky_geofence_topic_offsets(rk, events_topic, 10000, &from, &nfrom, errstr,
                                             errstr_size)
                : 0;
    const char **names = calloc(n ? n : 1, sizeof *names);
    if (!rc && !names)
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++)
        names[i] = a[i].name;
    sky_manifest_geofence_t g = {events_topic, "flights", names, n, from, nfrom};
    if (!rc && sky_manifest_set_geofence(m, &g))
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    free(names);
    free(from);
    return rc;
}
