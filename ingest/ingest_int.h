/* ingest's insides, shared by ingest.c (the consumer thread: consume, decode, batch,
 * commit, rebalance, stats) and stages.c (the sink threads: per lane one PostgreSQL
 * writer and one Tile38 writer). Not a public header. */
#ifndef SKY_INGEST_INT_H
#define SKY_INGEST_INT_H

#include "batch.h"
#include "histogram.h"
#include "ingest.h"
#include "metrics_http.h"
#include "pgsink.h"
#include "schema.h"
#include "t38sink.h"

#include <pthread.h>
#include <stdatomic.h>

#define SKY_INGEST_MAX_PARTITIONS 4096
#define MS_NS INT64_C(1000000)
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

/* A lane's Tile38 writer: its own connection and flight map (a flight is on one
 * partition, so on one lane), the lane's batches in the order they were closed. */
typedef struct sky_t38stage {
    sky_t38sink_t *sink;
    pthread_t tid;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sky_batch_t *queue, *queue_tail;
    sky_t38_row_t *rows;
    size_t cap;
    _Atomic bool failing;
    uint32_t forgot; /* the ingest's forget epoch this writer last acted on */
} sky_t38stage_t;

/* One PostgreSQL connection and the partitions routed to it: their batches are
 * written in the order they were closed, so a flight's rows are too. */
typedef struct sky_lane {
    struct sky_ingest *in;
    int index;
    sky_pgsink_t *pg;
    pthread_t tid;
    bool started;
    /* mu guards queue..queued; the worker writes the queue's head */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sky_batch_t *queue, *queue_tail;
    int queued; /* in the queue, the one being written included */
    sky_pg_row_t *pg_rows;
    size_t pg_cap;
    _Atomic bool failing; /* retrying a batch the server refused or could not take */
    sky_t38stage_t t38;   /* with Tile38 */
    /* consumer thread only */
    sky_batch_t *open;
    sky_batch_t *inflight, *inflight_tail; /* closed, not yet committed, in order */
    int ninflight;
    int npartitions;
    bool blocked; /* its partitions are paused: the open batch is full and nothing drains */
} sky_lane_t;



typedef struct sky_ingest_counters {
    _Atomic uint64_t consumed, stored_pg, duplicates, stored_tile38, stale, dlq, batches, retries;
    _Atomic uint64_t tile38_refused, tile38_sets, pauses;
    _Atomic int64_t paused_ns;        /* completed pauses */
    _Atomic int64_t pause_started_ns; /* monotonic; 0 when not paused for a sink */
    _Atomic int64_t lag, pending;
    _Atomic int assigned;
    _Atomic bool paused;
} sky_ingest_counters_t;

/* Latency and cost per stage; guarded by sky_ingest.lock. Microseconds unless _ns. */
typedef struct sky_ingest_hists {
    sky_hist_t *consumed, *tile38, *pg; /* from the intended time */
    sky_hist_t *consume;                /* log append -> polled (topics with LogAppendTime) */
    sky_hist_t *decode_ns;              /* one record's decoding and validation, ns */
    sky_hist_t *batch;                  /* polled -> its batch closed */
    sky_hist_t *pg_stage, *t38_stage;   /* batch closed -> written (queue + write), per row */
    sky_hist_t *pg_write, *t38_write;   /* one batch's write (COPY + commit; the SETs) */
    sky_hist_t *commit;                 /* both sinks done -> offsets sent to Kafka */
    sky_hist_t *batch_rows, *batch_us;  /* rows per batch; closed -> both sinks done */
} sky_ingest_hists_t;

struct sky_ingest {
    /* configuration (owned copies) */
    const sky_kconf_t *kafka;
    char *topic, *group, *collection, *dlq_topic, *schema, *pg_conninfo, *stats_path;
    int batch_rows, batch_ms, ttl_s, nlanes, max_inflight;
    sky_schema_opts_t schema_opts;
    bool schema_native;
    volatile sig_atomic_t *stats_request;
    sky_ingest_progress_fn *progress;
    void *progress_opaque;

    /* clients */
    sky_consumer_t *consumer;
    pthread_mutex_t dlq_mu; /* the producer: created, sent to, polled under it */
    sky_producer_t *dlq;
    sky_metrics_http_t *metrics;
    struct sky_geofence_relay *relay; /* geofence events, relay route (NULL otherwise) */

    /* the stages */
    sky_lane_t *lanes;
    bool with_tile38;
    _Atomic uint32_t t38_forget; /* bumped on every assignment: learn positions again */
    _Atomic int quit;     /* 1: the sink threads exit */
    _Atomic bool give_up; /* a second signal: sinks stop retrying, their batches fail */
    _Atomic int fatal;    /* a SKY_E* code a sink cannot retry (out of memory) */
    pthread_mutex_t done_mu;
    pthread_cond_t done_cv; /* a batch finished a sink */
    sky_batch_t *free_batches; /* consumer thread only */
    int nbatches;

    /* per partition (consumer thread, except epoch which the sinks read) */
    int8_t part_lane[SKY_INGEST_MAX_PARTITIONS];     /* -1: not assigned */
    bool part_paused[SKY_INGEST_MAX_PARTITIONS];
    bool part_frozen[SKY_INGEST_MAX_PARTITIONS]; /* a batch failed: no commit past it */
    _Atomic uint32_t part_epoch[SKY_INGEST_MAX_PARTITIONS];
    int64_t part_commit[SKY_INGEST_MAX_PARTITIONS];  /* next offset to commit, -1: none */
    int64_t part_sent[SKY_INGEST_MAX_PARTITIONS];    /* last offset sent in a commit */
    int nparts_seen;
    bool sink_down; /* partitions paused because a sink is failing */
    int64_t next_lag_ns, next_progress_ns, next_warn_ns, next_recommit_ns;

    sky_ingest_counters_t c;
    pthread_mutex_t lock; /* guards h */
    sky_ingest_hists_t h;
};

/* stages.c */
int sky_ingest_stages_start(sky_ingest_t *in, char *errstr, size_t errstr_size);
void sky_ingest_stages_stop(sky_ingest_t *in);
/* Hands a closed batch to its lane and (with Tile38) to the Tile38 stage. */
void sky_ingest_stages_post(sky_ingest_t *in, sky_batch_t *b);
/* Queues one record for the dead-letter topic with skyload-error: why (headers taken
 * over); false when it could not be queued. */
bool sky_ingest_dlq_send(sky_ingest_t *in, rd_kafka_headers_t *h, const void *key,
                         size_t key_len, const void *value, size_t value_len, const char *why,
                         int64_t intended);
/* Sends a row a sink refused for itself to the DLQ; false when it could not be queued. */
bool sky_ingest_dlq_row(sky_ingest_t *in, const sky_batch_t *b, const sky_batch_row_t *r,
                        const char *why);
/* Dead letters sent and not yet acknowledged (serves the delivery reports, no wait). */
int64_t sky_ingest_dlq_in_flight(sky_ingest_t *in);
/* Waits for every dead letter to be acknowledged; 0 or SKY_ETIMEOUT. */
int sky_ingest_dlq_flush(sky_ingest_t *in, int timeout_ms, char *errstr, size_t errstr_size);
/* Wakes the consumer thread (a batch is done). */
void sky_ingest_notify(sky_ingest_t *in);
/* A second signal: the sinks stop retrying; their unfinished batches fail. */
void sky_ingest_stages_give_up(sky_ingest_t *in);

#endif
