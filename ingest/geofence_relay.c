/* Channel messages -> the events topic. One thread: poll the subscription socket,
 * parse RESP with hiredis's reader, produce; reconnect with backoff when Tile38 goes
 * away (saying that what it published meanwhile is lost); on stop, publish a barrier
 * and relay up to it, so every event of the last SETs is on the topic. */
#include "geofence_relay.h"

#include "error.h"
#include "log.h"
#include "timefmt.h"

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000
#define BARRIER_PREFIX "skyload-relay-barrier:"

struct sky_geofence_relay {
    char host[256];
    int port;
    char **channels;
    size_t nchannels;
    char *topic;
    sky_producer_t *producer;
    redisContext *sub;
    pthread_t thread;
    bool started;
    atomic_int stop; /* 1: drain up to the barrier, then end */
    volatile sig_atomic_t give_up; /* a send blocked on a full queue returns */
    atomic_bool subscribed;
    atomic_bool barrier_seen;
    char barrier[96];
    _Atomic uint64_t received, reconnects;
};

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Connects and subscribes; 0, or SKY_EUNAVAIL with errstr. */
static int subscribe(sky_geofence_relay_t *r, char *errstr, size_t errsz) {
    struct timeval tv = {5, 0};
    if (r->sub)
        redisFree(r->sub);
    r->sub = redisConnectWithTimeout(r->host, r->port, tv);
    if (!r->sub || r->sub->err) {
        int rc = sky_err(errstr, errsz, SKY_EUNAVAIL, "Tile38 %s:%d: %s (geofence relay)",
                         r->host, r->port, r->sub ? r->sub->errstr : "out of memory");
        if (r->sub)
            redisFree(r->sub);
        r->sub = NULL;
        return rc;
    }
    redisSetTimeout(r->sub, tv);
    size_t argc = r->nchannels + 1;
    const char **argv = malloc(argc * sizeof *argv);
    if (!argv)
        return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
    argv[0] = "SUBSCRIBE";
    for (size_t i = 0; i < r->nchannels; i++)
        argv[i + 1] = r->channels[i];
    int rc = redisAppendCommandArgv(r->sub, (int)argc, argv, NULL) == REDIS_OK ? 0 : -1;
    free(argv);
    /* one confirmation per channel: after them the subscription is in place */
    for (size_t i = 0; !rc && i < r->nchannels; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(r->sub, (void **)&rep) != REDIS_OK || !rep ||
            rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
            rep->element[0]->type != REDIS_REPLY_STRING ||
            strcmp(rep->element[0]->str, "subscribe") != 0)
            rc = -1;
        if (rep)
            freeReplyObject(rep);
    }
    if (rc) {
        rc = sky_err(errstr, errsz, SKY_EUNAVAIL, "Tile38 %s:%d: SUBSCRIBE failed: %s", r->host,
                     r->port, r->sub->err ? r->sub->errstr : "unexpected reply");
        redisFree(r->sub);
        r->sub = NULL;
    }
    return rc;
}

/* Tile38's kafka:// endpoint keys a message "<key>-<id>": the same here. */
static void relay_message(sky_geofence_relay_t *r, const char *msg, size_t len) {
    if (len >= sizeof BARRIER_PREFIX - 1 &&
        memcmp(msg, BARRIER_PREFIX, sizeof BARRIER_PREFIX - 1) == 0) {
        if (len == strlen(r->barrier) && memcmp(msg, r->barrier, len) == 0)
            atomic_store(&r->barrier_seen, true);
        return;
    }
    atomic_fetch_add(&r->received, 1);
    char key[512];
    json_t *j = json_loadb(msg, len, 0, NULL);
    const char *k = json_string_value(json_object_get(j, "key"));
    const char *id = json_string_value(json_object_get(j, "id"));
    int klen = snprintf(key, sizeof key, "%s-%s", k ? k : "", id ? id : "");
    json_decref(j);
    char err[256];
    if (klen < 0 || (size_t)klen >= sizeof key)
        klen = (int)sizeof key - 1;
    /* blocks while librdkafka's queue is full: Tile38 buffers for a slow subscriber */
    if (sky_producer_send(r->producer, RD_KAFKA_PARTITION_UA, key, (size_t)klen, msg, len, NULL,
                          0, 0, err, sizeof err))
        sky_log_warn("geofence relay: %s", err);
}

static void handle_reply(sky_geofence_relay_t *r, redisReply *rep) {
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        strcmp(rep->element[0]->str, "message") == 0 &&
        rep->element[2]->type == REDIS_REPLY_STRING)
        relay_message(r, rep->element[2]->str, rep->element[2]->len);
}

/* Reads what the socket has (waiting up to wait_ms); false when the link broke. */
static bool pump(sky_geofence_relay_t *r, int wait_ms) {
    struct pollfd pfd = {r->sub->fd, POLLIN, 0};
    int n = poll(&pfd, 1, wait_ms);
    if (n < 0)
        return true; /* EINTR */
    if (n == 0)
        return true;
    if (redisBufferRead(r->sub) != REDIS_OK)
        return false;
    void *rep = NULL;
    while (redisGetReplyFromReader(r->sub, &rep) == REDIS_OK && rep) {
        handle_reply(r, rep);
        freeReplyObject(rep);
        rep = NULL;
    }
    return r->sub->err == 0;
}

static void *relay_main(void *arg) {
    sky_geofence_relay_t *r = arg;
    int backoff = BACKOFF_MIN_MS;
    while (!(atomic_load(&r->stop) && atomic_load(&r->barrier_seen))) {
        if (!r->sub) {
            char err[256];
            if (subscribe(r, err, sizeof err)) {
                if (atomic_load(&r->stop))
                    break; /* nothing can come any more */
                sleep_ms(backoff);
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                continue;
            }
            sky_log_warn("geofence relay: subscribed again after losing Tile38 (ingest held "
                         "its writes meanwhile)");
            atomic_store(&r->subscribed, true);
            backoff = BACKOFF_MIN_MS;
        }
        if (!pump(r, 100)) {
            sky_log_warn("geofence relay: lost the subscription to Tile38 %s:%d: %s", r->host,
                         r->port, r->sub->errstr);
            atomic_store(&r->subscribed, false);
            redisFree(r->sub);
            r->sub = NULL;
            atomic_fetch_add(&r->reconnects, 1);
        }
        sky_producer_poll(r->producer, 0);
    }
    return NULL;
}

static void relay_free(sky_geofence_relay_t *r) {
    if (!r)
        return;
    if (r->sub)
        redisFree(r->sub);
    sky_producer_destroy(r->producer);
    for (size_t i = 0; i < r->nchannels; i++)
        free(r->channels[i]);
    free(r->channels);
    free(r->topic);
    free(r);
}

sky_geofence_relay_t *sky_geofence_relay_start(const sky_kconf_t *kc, const char *host, int port,
                                               const char *const *channels, size_t n,
                                               const char *events_topic, int *code, char *errstr,
                                               size_t errstr_size) {
    int rc = 0;
    sky_geofence_relay_t *r = calloc(1, sizeof *r);
    if (!r || !(r->channels = calloc(n ? n : 1, sizeof *r->channels)) ||
        !(r->topic = strdup(events_topic)))
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++, r->nchannels++)
        if (!(r->channels[i] = strdup(channels[i])))
            rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    if (!rc && n == 0)
        rc = sky_err(errstr, errstr_size, SKY_EUSAGE, "geofence relay: no channels");
    if (!rc) {
        snprintf(r->host, sizeof r->host, "%s", host ? host : "127.0.0.1");
        r->port = port ? port : 9851;
        if (!(r->producer = sky_producer_new(kc, events_topic, errstr, errstr_size)))
            rc = SKY_EKAFKA;
        else
            sky_producer_set_stop_flag(r->producer, &r->give_up);
    }
    if (!rc)
        rc = subscribe(r, errstr, errstr_size);
    if (!rc && pthread_create(&r->thread, NULL, relay_main, r))
        rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "cannot start the geofence relay thread");
    if (code)
        *code = rc;
    if (rc) {
        relay_free(r);
        return NULL;
    }
    r->started = true;
    atomic_store(&r->subscribed, true);
    sky_log_info("geofence relay: %zu channels on Tile38 %s:%d -> %s", n, r->host, r->port,
                 events_topic);
    return r;
}

int sky_geofence_relay_stop(sky_geofence_relay_t *r, int timeout_ms) {
    if (!r)
        return 0;
    int rc = 0;
    if (r->started) {
        /* the barrier: Tile38 delivers a subscriber's messages in publish order, so
         * seeing it back means every event published before it has been read */
        char err[256];
        snprintf(r->barrier, sizeof r->barrier, BARRIER_PREFIX "%lld-%p",
                 (long long)sky_now_ns(), (void *)r);
        sky_tile38_t *pub = sky_tile38_new(r->host, r->port, 5000, err, sizeof err);
        const char *argv[] = {"PUBLISH", r->channels[0], r->barrier};
        redisReply *rep = NULL;
        if (!pub || sky_tile38_command(pub, 3, argv, &rep, err, sizeof err)) {
            sky_log_warn("geofence relay: cannot publish the stop barrier: %s", err);
            atomic_store(&r->barrier_seen, true); /* nothing to wait for */
        }
        if (rep)
            freeReplyObject(rep);
        sky_tile38_destroy(pub);
        atomic_store(&r->stop, 1);
        int64_t deadline = sky_monotonic_ns() + (int64_t)timeout_ms * 1000000;
        while (!atomic_load(&r->barrier_seen) && sky_monotonic_ns() < deadline)
            sleep_ms(10);
        if (!atomic_load(&r->barrier_seen)) {
            sky_log_warn("geofence relay: the stop barrier did not come back within %d ms",
                         timeout_ms);
            rc = SKY_ETIMEOUT;
            r->give_up = 1; /* a send waiting for room in a full queue (Kafka away) */
            atomic_store(&r->barrier_seen, true);
        }
        pthread_join(r->thread, NULL);
        char ferr[256];
        if (sky_producer_flush(r->producer, timeout_ms, ferr, sizeof ferr)) {
            sky_log_warn("geofence relay: %s", ferr);
            rc = SKY_ETIMEOUT;
        }
        sky_geofence_relay_stats_t st;
        sky_geofence_relay_stats(r, &st);
        sky_log_info("geofence relay: %llu events relayed to %s (%llu delivered, %llu failed, "
                     "%llu reconnects)",
                     (unsigned long long)st.received, r->topic, (unsigned long long)st.delivered,
                     (unsigned long long)st.failed, (unsigned long long)st.reconnects);
    }
    relay_free(r);
    return rc;
}

bool sky_geofence_relay_ready(sky_geofence_relay_t *r) {
    return !r || atomic_load(&r->subscribed);
}

void sky_geofence_relay_stats(sky_geofence_relay_t *r, sky_geofence_relay_stats_t *out) {
    memset(out, 0, sizeof *out);
    if (!r)
        return;
    sky_producer_stats_t ps;
    sky_producer_get_stats(r->producer, &ps);
    out->received = atomic_load(&r->received);
    out->produced = ps.produced;
    out->delivered = ps.delivered;
    out->failed = ps.failed;
    out->reconnects = atomic_load(&r->reconnects);
}

int sky_geofence_ingest_start(const sky_geofence_config_t *gc, const sky_kconf_t *kc,
                              const char *tile38_host, int tile38_port, bool register_fences,
                              sky_geofence_relay_t **relay, char *errstr, size_t errstr_size) {
    *relay = NULL;
    int rc = 0;
    if (register_fences) {
        sky_tile38_t *t = sky_tile38_new(tile38_host ? tile38_host : "127.0.0.1",
                                         tile38_port ? tile38_port : 9851, 5000, errstr,
                                         errstr_size);
        if (!t)
            return SKY_EUNAVAIL;
        rc = sky_geofence_setup(t, kc, gc, errstr, errstr_size);
        sky_tile38_destroy(t);
        if (!rc)
            sky_log_info("geofence: %zu airspaces registered as %s on %s -> %s", gc->nairspaces,
                         gc->route == SKY_GEOFENCE_HOOK ? "hooks" : "channels",
                         gc->collection ? gc->collection : "flights", gc->events_topic);
    }
    if (rc || gc->route != SKY_GEOFENCE_RELAY)
        return rc;
    const char **names = calloc(gc->nairspaces ? gc->nairspaces : 1, sizeof *names);
    if (!names)
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    for (size_t i = 0; i < gc->nairspaces; i++)
        names[i] = gc->airspaces[i].name;
    int code = 0;
    *relay = sky_geofence_relay_start(kc, tile38_host, tile38_port, names, gc->nairspaces,
                                      gc->events_topic, &code, errstr, errstr_size);
    free(names);
    return *relay ? 0 : code;
}
