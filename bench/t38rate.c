/* The Tile38 sink alone: every flight moves a little per batch, every row a SET. */
#include "t38rate.h"

#include "error.h"
#include "t38sink.h"
#include "tile38.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static double thread_cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Round r of flight i: a position on a slow track, altitude and speed that change. */
static void move(sky_flight_t *f, sky_t38_row_t *row, int i, int64_t r) {
    f->latitude = -60.0 + (double)(i % 12000) * 0.01 + (double)r * 0.001;
    f->longitude = -170.0 + (double)(i / 12000) * 3.0 + (double)r * 0.002;
    f->altitude = 30000 + (int32_t)((r * 100 + i) % 9000);
    f->airspeed = 400 + (int32_t)((r + i) % 100);
    *row = (sky_t38_row_t){.f = f, .ts_ms = INT64_C(1795600800000) + r * 5000, .seq = r};
}

int sky_bench_t38sink(const char *host, int port, const char *collection, int64_t sets,
                      int flights, sky_t38rate_t *out, char *errstr, size_t errstr_size) {
    memset(out, 0, sizeof *out);
    if (flights <= 0 || sets <= 0)
        return sky_err(errstr, errstr_size, SKY_EUSAGE, "bench tile38 sink: nothing to write");
    sky_flight_t *f = calloc((size_t)flights, sizeof *f);
    sky_t38_row_t *rows = calloc((size_t)flights, sizeof *rows);
    sky_t38sink_t *s = sky_t38sink_new(host, port, collection, 120, 10000, errstr, errstr_size);
    int rc = f && rows && s ? 0 : sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
    for (int i = 0; !rc && i < flights; i++) {
        snprintf(f[i].flight_id, sizeof f[i].flight_id, "BENCH-%06x", i);
        f[i].has_location = true;
    }
    int64_t rounds = (sets + flights - 1) / flights;
    double t0 = 0, c0 = 0;
    for (int64_t r = 0; r <= rounds && !rc; r++) {
        if (r == 1) { /* round 0 learnt the flights (GETs): not timed */
            t0 = (double)sky_monotonic_ns() / 1e9;
            c0 = thread_cpu_s();
        }
        for (int i = 0; i < flights; i++)
            move(&f[i], &rows[i], i, r);
        sky_t38_outcome_t o;
        rc = sky_t38sink_write(s, rows, (size_t)flights, &o, errstr, errstr_size);
        if (!rc && r)
            out->sets += (int64_t)o.sets;
        if (!rc && (o.nrejected || o.sets != (uint64_t)flights))
            rc = sky_err(errstr, errstr_size, SKY_ETILE38,
                         "bench tile38 sink: %llu SETs for %d rows, %zu refused",
                         (unsigned long long)o.sets, flights, o.nrejected);
    }
    if (!rc) {
        out->wall_s = (double)sky_monotonic_ns() / 1e9 - t0;
        out->cpu_s = thread_cpu_s() - c0;
    }
    sky_t38sink_destroy(s);
    char ignored[128];
    sky_tile38_t *t = sky_tile38_new(host, port, 10000, ignored, sizeof ignored);
    const char *argv[] = {"DROP", collection};
    redisReply *reply = NULL;
    if (t && sky_tile38_command(t, 2, argv, &reply, ignored, sizeof ignored) == 0)
        freeReplyObject(reply);
    sky_tile38_destroy(t);
    free(f);
    free(rows);
    return rc;
}
