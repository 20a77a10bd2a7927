/* ingest's Tile38 stage: the latest position of every flight, never moving backwards.
 * Per call, a batch of positions: flights not seen since the last `forget` are first
 * read back from Tile38 (GET ... WITHFIELDS POINT, pipelined), then each flight's
 * newest row that is newer than Tile38's (by skyload-seq, else by timestamp) is sent
 * as one `SET <collection> <id> FIELD seq .. FIELD altitude .. FIELD airspeed ..
 * FIELD ts .. EX <ttl> POINT lat lon`, all pipelined on one connection. One thread
 * owns a sink. `bench peers` drives it alone for the sink's own rate. */
#ifndef SKY_T38SINK_H
#define SKY_T38SINK_H

#include "codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sky_t38sink sky_t38sink_t;

/* One position; f is borrowed for the duration of the call. */
typedef struct sky_t38_row {
    const sky_flight_t *f;
    int64_t ts_ms; /* the FlightData timestamp, parsed */
    int64_t seq;   /* skyload-seq, or -1 for records of other producers */
} sky_t38_row_t;

/* What one sky_t38sink_write did with its rows. rejected/reasons belong to the sink
 * and stay valid until its next write. */
typedef struct sky_t38_outcome {
    uint64_t applied;        /* rows stored or superseded within the batch by a newer one */
    uint64_t stale;          /* rows not newer than the flight's position: not SET */
    uint64_t sets;           /* SET commands Tile38 acknowledged */
    uint64_t lookups;        /* GETs for flights the sink did not know yet */
    size_t nrejected;        /* rows whose SET Tile38 refused for the command itself */
    const size_t *rejected;  /* their indexes in the batch */
    const char *const *reasons;
} sky_t38_outcome_t;

/* host and collection are copied; ttl_s 0 = no EX. Does not connect: the first
 * write does (so a sink can start while Tile38 is down). NULL when out of memory. */
sky_t38sink_t *sky_t38sink_new(const char *host, int port, const char *collection, int ttl_s,
                               int timeout_ms, char *errstr, size_t errstr_size);
void sky_t38sink_destroy(sky_t38sink_t *s); /* NULL is fine */
/* Connects now; 0 or SKY_EUNAVAIL with the reason ("... connection refused"). */
int sky_t38sink_connect(sky_t38sink_t *s, char *errstr, size_t errstr_size);
const char *sky_t38sink_address(const sky_t38sink_t *s);

/* Stores a batch. 0: every row is applied, stale or rejected (see out). A failure
 * (SKY_EUNAVAIL: the connection; SKY_ETILE38: the server refuses writes for now,
 * e.g. LOADING, read only, OOM) confirms nothing: call again with the same rows,
 * which is safe (the same SETs again). SKY_ENOMEM when out of memory. */
int sky_t38sink_write(sky_t38sink_t *s, const sky_t38_row_t *rows, size_t n,
                      sky_t38_outcome_t *out, char *errstr, size_t errstr_size);

/* every: SET each row that is newer than the flight's position before it, in batch
 * order, not only each flight's newest (geofences: Tile38 sends enter/exit events from
 * each pair of consecutive positions, so skipping one would skip its events). */
void sky_t38sink_set_every_position(sky_t38sink_t *s, bool every);

/* Forgets every flight's position: the next write reads them back from Tile38
 * (after partitions were assigned, another member may have moved them on). Also
 * done by the sink itself after it had to reconnect. */
void sky_t38sink_forget(sky_t38sink_t *s);
/* Flights whose position the sink knows. */
size_t sky_t38sink_known(const sky_t38sink_t *s);

#endif
