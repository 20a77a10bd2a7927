/* skyload: the command table and dispatch (git.c's shape). */
#include "cli.h"
#include "commands.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef SKY_WITH_MIMALLOC
#include <mimalloc.h>
#endif

static const struct sky_cmd commands[] = {
    {"simulate", cmd_simulate, "generate synthetic air traffic and publish it"},
    {"replay", cmd_replay, "publish recorded traffic files"},
    {"record", cmd_record, "capture a topic into a capture file for replay"},
    {"ingest", cmd_ingest, "run the pipeline: topic -> Tile38 + PostgreSQL"},
    {"verify", cmd_verify, "check a run end to end against its manifest"},
    {"run", cmd_run, "ingest + simulate + drain + verify, one report (for CI)"},
    {"bench", cmd_bench, "capacity ramp to the SLO knee, and peers side by side"},
    {"tail", cmd_tail, "print records of a topic as JSON Lines"},
    {"geofence", cmd_geofence, "register airspaces as Tile38 geofences; list, drop"},
    {"map", cmd_map, "serve a live map of what Tile38 holds (web page)"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: skyload <command> [options]\n\n"
                 "A load generator, replay simulator and end-to-end verifier for\n"
                 "Kafka -> Tile38 + PostgreSQL flight-tracking pipelines.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'skyload <command> --help' shows a command's options.\n"
                 "'skyload --version' prints the version.\n"
                 "Exit status: 0 ok, 1 a check or SLO failed, 2 usage or configuration error,\n"
                 "3 runtime failure (e.g. a server unreachable after retries).\n");
}

/* Which allocator malloc() really is: the linked one only counts if it interposed. */
static const char *allocator(char *buf, size_t size) {
#ifdef SKY_WITH_MIMALLOC
    void *p = malloc(64);
    int ours = p && mi_is_in_heap_region(p);
    free(p);
    if (ours) {
        snprintf(buf, size, "mimalloc %d.%d.%d", mi_version() / 100, mi_version() / 10 % 10,
                 mi_version() % 10);
        return buf;
    }
#else
    (void)buf;
    (void)size;
#endif
    return "glibc malloc";
}

int main(int argc, char **argv) {
#ifndef SKY_WITH_MIMALLOC
    /* glibc only: librdkafka frees produced messages in bursts of thousands, and with
     * fastbins every later large malloc consolidates them (malloc_consolidate +
     * unlink_chunk were 23% of a producer's CPU); without fastbins 20% less CPU. */
    mallopt(M_MXFAST, 0);
#endif
    cli_log_init();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        char buf[64];
        printf("skyload %s (librdkafka %s, %s)\n", SKY_VERSION, rd_kafka_version_str(),
               allocator(buf, sizeof buf));
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(name, commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "skyload: '%s' is not a command. See 'skyload --help'.\n", name);
    return 2;
}
