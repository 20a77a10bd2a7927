/* Events topic -> ring of recent geofence events, under one mutex. */
#include "map_events.h"

#include "error.h"
#include "log.h"
#include "timefmt.h"

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct stored_event {
    uint64_t seq;
    int64_t received_ms;
    sky_map_event_t ev;
} stored_event_t;

struct sky_map_events {
    pthread_mutex_t lock;
    stored_event_t ring[SKY_MAP_EVENTS_RING];
    uint64_t next_seq; /* seq of the next event; the first is 1 */
    uint64_t enters, exits, others, malformed;
    char state[160]; /* what the reader is doing, for the page */
    /* reader */
    sky_kconf_t kc;
    const char **props;
    char *brokers, *topic;
    volatile sig_atomic_t stop;
    pthread_t tid;
    bool running;
};

static void set_state(sky_map_events_t *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_state(sky_map_events_t *e, const char *fmt, ...) {
    va_list ap;
    pthread_mutex_lock(&e->lock);
    va_start(ap, fmt);
    vsnprintf(e->state, sizeof e->state, fmt, ap);
    va_end(ap);
    pthread_mutex_unlock(&e->lock);
}

sky_map_events_t *sky_map_events_new_ring(void) {
    sky_map_events_t *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    pthread_mutex_init(&e->lock, NULL);
    e->next_seq = 1;
    snprintf(e->state, sizeof e->state, "off");
    return e;
}

void sky_map_events_add(sky_map_events_t *e, const sky_map_event_t *ev) {
    pthread_mutex_lock(&e->lock);
    stored_event_t *s = &e->ring[e->next_seq % SKY_MAP_EVENTS_RING];
    s->seq = e->next_seq++;
    s->received_ms = sky_now_ns() / 1000000;
    s->ev = *ev;
    if (strcmp(ev->detect, "enter") == 0)
        e->enters++;
    else if (strcmp(ev->detect, "exit") == 0)
        e->exits++;
    else
        e->others++;
    pthread_mutex_unlock(&e->lock);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Assigns every partition from its end; retries (the topic may appear later). */
static sky_consumer_t *connect_reader(sky_map_events_t *e) {
    while (!e->stop) {
        char err[512];
        sky_consumer_t *c = sky_consumer_new(&e->kc, NULL, err, sizeof err);
        if (c) {
            int n;
            if (!sky_consumer_assign_all(c, e->topic, RD_KAFKA_OFFSET_END, &n, err, sizeof err)) {
                set_state(e, "live: reading %s (%d partitions) from its end", e->topic, n);
                return c;
            }
            sky_consumer_destroy(c);
        }
        set_state(e, "waiting for %s: %s", e->topic, err);
        for (int i = 0; i < 20 && !e->stop; i++)
            sleep_ms(100);
    }
    return NULL;
}

static void *reader_main(void *arg) {
    sky_map_events_t *e = arg;
    sky_consumer_t *c = connect_reader(e);
    while (c && !e->stop) {
        rd_kafka_message_t *m = sky_consumer_poll(c, 200);
        if (!m)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                set_state(e, "events topic %s: %s", e->topic, rd_kafka_message_errstr(m));
        } else {
            sky_map_event_t ev;
            char err[256];
            if (m->payload && !sky_map_event_parse(m->payload, m->len, &ev, err, sizeof err)) {
                sky_map_events_add(e, &ev);
            } else {
                pthread_mutex_lock(&e->lock);
                if (e->malformed++ == 0)
                    sky_log_warn("map: events topic %s, partition %d offset %lld: %s", e->topic,
                                 (int)m->partition, (long long)m->offset,
                                 m->payload ? err : "empty value");
                pthread_mutex_unlock(&e->lock);
            }
        }
        rd_kafka_message_destroy(m);
    }
    sky_consumer_destroy(c);
    return NULL;
}

sky_map_events_t *sky_map_events_start(const sky_kconf_t *kc, const char *topic, char *errstr,
                                       size_t errstr_size) {
    sky_map_events_t *e = sky_map_events_new_ring();
    if (!e) {
        sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
        return NULL;
    }
    /* the reader outlives the caller's option strings only by copy */
    e->topic = strdup(topic);
    e->brokers = kc && kc->brokers ? strdup(kc->brokers) : NULL;
    size_t np = kc ? kc->nprops : 0;
    e->props = np ? calloc(np, sizeof *e->props) : NULL;
    bool ok = e->topic && (!kc || !kc->brokers || e->brokers) && (!np || e->props);
    for (size_t i = 0; ok && i < np; i++)
        ok = (e->props[i] = strdup(kc->props[i])) != NULL;
    if (!ok) {
        sky_map_events_stop(e);
        sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
        return NULL;
    }
    e->kc.brokers = e->brokers;
    e->kc.props = e->props;
    e->kc.nprops = np;
    snprintf(e->state, sizeof e->state, "connecting to Kafka for %s", topic);
    if (pthread_create(&e->tid, NULL, reader_main, e)) {
        sky_map_events_stop(e);
        sky_err(errstr, errstr_size, SKY_ENOMEM, "cannot start the events thread");
        return NULL;
    }
    e->running = true;
    return e;
}

void sky_map_events_stop(sky_map_events_t *e) {
    if (!e)
        return;
    if (e->running) {
        e->stop = 1;
        pthread_join(e->tid, NULL);
    }
    for (size_t i = 0; e->props && i < e->kc.nprops; i++)
        free((void *)e->props[i]);
    free(e->props);
    free(e->brokers);
    free(e->topic);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

int sky_map_events_write(sky_map_events_t *e, uint64_t after, sky_buf_t *out) {
    if (!e)
        return sky_buf_add_str(out, "\"events\":{\"state\":\"off: no --events-topic\","
                                    "\"next\":0,\"enter\":0,\"exit\":0,\"list\":[]}");
    int rc = 0;
    pthread_mutex_lock(&e->lock);
    uint64_t first = e->next_seq > SKY_MAP_EVENTS_RING ? e->next_seq - SKY_MAP_EVENTS_RING : 1;
    if (after + 1 > first)
        first = after + 1;
    if (e->next_seq - first > SKY_MAP_EVENTS_PAGE) /* a page that fell behind: the newest */
        first = e->next_seq - SKY_MAP_EVENTS_PAGE;
    rc |= sky_buf_add_str(out, "\"events\":{\"state\":");
    rc |= sky_buf_add_json_str(out, e->state, strlen(e->state));
    rc |= sky_buf_addf(out, ",\"topic\":");
    rc |= sky_buf_add_json_str(out, e->topic ? e->topic : "", e->topic ? strlen(e->topic) : 0);
    rc |= sky_buf_addf(out, ",\"next\":%llu,\"enter\":%llu,\"exit\":%llu,\"other\":%llu,"
                            "\"malformed\":%llu,\"list\":[",
                       (unsigned long long)(e->next_seq - 1), (unsigned long long)e->enters,
                       (unsigned long long)e->exits, (unsigned long long)e->others,
                       (unsigned long long)e->malformed);
    for (uint64_t s = first; s < e->next_seq && !rc; s++) {
        const stored_event_t *st = &e->ring[s % SKY_MAP_EVENTS_RING];
        rc |= sky_buf_addf(out, "%s{\"seq\":%llu,\"detect\":", s == first ? "" : ",",
                           (unsigned long long)st->seq);
        rc |= sky_buf_add_json_str(out, st->ev.detect, strlen(st->ev.detect));
        rc |= sky_buf_add_str(out, ",\"hook\":");
        rc |= sky_buf_add_json_str(out, st->ev.hook, strlen(st->ev.hook));
        rc |= sky_buf_add_str(out, ",\"id\":");
        rc |= sky_buf_add_json_str(out, st->ev.id, strlen(st->ev.id));
        rc |= sky_buf_add_str(out, ",\"time\":");
        rc |= sky_buf_add_json_str(out, st->ev.time, strlen(st->ev.time));
        rc |= sky_buf_addf(out, ",\"received_ms\":%lld", (long long)st->received_ms);
        if (st->ev.has_point) {
            rc |= sky_buf_add_str(out, ",\"lat\":");
            rc |= sky_buf_add_double(out, st->ev.lat);
            rc |= sky_buf_add_str(out, ",\"lon\":");
            rc |= sky_buf_add_double(out, st->ev.lon);
        }
        rc |= sky_buf_add_char(out, '}');
    }
    rc |= sky_buf_add_str(out, "]}");
    pthread_mutex_unlock(&e->lock);
    return rc ? SKY_ENOMEM : 0;
}
