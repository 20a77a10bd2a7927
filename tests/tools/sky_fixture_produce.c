/* Test tool: produces N FlightData records for F flights with the library
 * producer (skyload headers, seq per flight from 0). Field values are a pure
 * function of (flight, seq), so a reader can check every field:
 *   flight_id "FX<flight>", lat = -60 + (flight*7 + seq) % 120 + 0.123456,
 *   lon = -170 + (flight*13 + seq) % 340 + 0.654321, altitude = 1000 + seq*10,
 *   airspeed = 100 + flight % 400, timestamp = 2026-11-25T10:00:00Z + seq*5 s,
 *   metadata TST / TS<flight> / EGLL / KJFK.
 * usage: sky_fixture_produce BROKERS TOPIC COUNT FLIGHTS [RUN_ID] */
#include "codec.h"
#include "error.h"
#include "kafka.h"
#include "parse.h"
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

static void fixture_flight(int64_t flight, int64_t seq, sky_flight_t *f) {
    memset(f, 0, sizeof *f);
    snprintf(f->flight_id, sizeof f->flight_id, "FX%lld", (long long)flight);
    f->has_location = true;
    f->latitude = -60 + (double)((flight * 7 + seq) % 120) + 0.123456;
    f->longitude = -170 + (double)((flight * 13 + seq) % 340) + 0.654321;
    f->altitude = (int32_t)(1000 + seq * 10);
    f->airspeed = (int32_t)(100 + flight % 400);
    sky_ts_format(1795600800000LL + seq * 5000, SKY_TS_ISO8601, f->timestamp);
    f->has_metadata = true;
    snprintf(f->airline, sizeof f->airline, "TST");
    snprintf(f->flight_number, sizeof f->flight_number, "TS%lld", (long long)flight);
    snprintf(f->departure_airport, sizeof f->departure_airport, "EGLL");
    snprintf(f->arrival_airport, sizeof f->arrival_airport, "KJFK");
}

int main(int argc, char **argv) {
    char err[512];
    int64_t count, flights;
    if (argc < 5 || sky_parse_i64(argv[3], 1, 100000000, &count, "COUNT", err, sizeof err) ||
        sky_parse_i64(argv[4], 1, 10000000, &flights, "FLIGHTS", err, sizeof err)) {
        fprintf(stderr, "usage: sky_fixture_produce BROKERS TOPIC COUNT FLIGHTS [RUN_ID]\n");
        return 2;
    }
    sky_kconf_t kc = {.brokers = argv[1]};
    sky_producer_t *p = sky_producer_new(&kc, argv[2], err, sizeof err);
    if (!p) {
        fprintf(stderr, "sky_fixture_produce: %s\n", err);
        return 3;
    }
    const char *run = argc > 5 ? argv[5] : "fixture";
    uint8_t buf[SKY_FLIGHT_ENCODED_MAX];
    for (int64_t i = 0; i < count; i++) {
        sky_flight_t f;
        int64_t flight = i % flights, seq = i / flights;
        fixture_flight(flight, seq, &f);
        size_t n = sky_flight_encode(&f, buf, sizeof buf);
        if (sky_producer_send(p, RD_KAFKA_PARTITION_UA, f.flight_id, strlen(f.flight_id), buf, n,
                              run, seq, sky_now_ns(), err, sizeof err)) {
            fprintf(stderr, "sky_fixture_produce: %s\n", err);
            sky_producer_destroy(p);
            return 3;
        }
    }
    int rc = sky_producer_flush(p, 30000, err, sizeof err);
    sky_producer_stats_t st;
    sky_producer_get_stats(p, &st);
    printf("{\"produced\":%llu,\"delivered\":%llu,\"failed\":%llu}\n",
           (unsigned long long)st.produced, (unsigned long long)st.delivered,
           (unsigned long long)st.failed);
    if (rc)
        fprintf(stderr, "sky_fixture_produce: %s\n", err);
    sky_producer_destroy(p);
    return rc || st.failed ? 3 : 0;
}
