/* The Tile38 sink alone (bench/t38rate.h): bench_t38sink HOST:PORT [SETS] [FLIGHTS]
 * prints SETs/s of the sink's own writes and this thread's CPU, for perf and A/B runs. */
#include "parse.h"
#include "t38rate.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    char host[256], err[512], collection[64];
    int port;
    int64_t sets = 200000, flights = 20000;
    if (argc < 2 || sky_parse_hostport(argv[1], host, sizeof host, &port, "HOST:PORT", err,
                                       sizeof err) ||
        (argc > 2 && sky_parse_i64(argv[2], 1, 1000000000, &sets, "SETS", err, sizeof err)) ||
        (argc > 3 && sky_parse_i64(argv[3], 1, 10000000, &flights, "FLIGHTS", err, sizeof err))) {
        fprintf(stderr, "usage: bench_t38sink HOST:PORT [SETS] [FLIGHTS]\n");
        return 2;
    }
    snprintf(collection, sizeof collection, "bench_t38sink_%d", (int)getpid());
    sky_t38rate_t r;
    if (sky_bench_t38sink(host, port, collection, sets, (int)flights, &r, err, sizeof err)) {
        fprintf(stderr, "bench_t38sink: %s\n", err);
        return 3;
    }
    printf("{\"sets\":%lld,\"wall_s\":%.3f,\"cpu_s\":%.3f,\"sets_per_s\":%.0f}\n",
           (long long)r.sets, r.wall_s, r.cpu_s, (double)r.sets / r.wall_s);
    return 0;
}
