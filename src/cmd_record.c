/* skyload record: capture a topic into a capture file (docs/formats.md) for replay. */
#include "capture.h"
#include "cli.h"
#include "commands.h"
#include "parse.h"
#include "record_topic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char record_help[] =
    "usage: skyload record -t TOPIC -o FILE [-b BROKERS] [-c COUNT] [--duration D]\n"
    "                      [--offset beginning|end|N] [-e] [-X k=v]\n\n"
    "Writes every record of the topic (all partitions) to a capture file: timestamp,\n"
    "partition, offset, key, headers and value, each with a CRC32, so 'skyload replay'\n"
    "reproduces keys, headers and values byte for byte. A file name ending in .gz is\n"
    "compressed. A recorder killed mid-write leaves a file whose last record is dropped.\n"
    "Note: -o is the output FILE (not an offset as in kcat); the start offset is --offset.\n\n"
    "Options:\n"
    "  -o, --output FILE      capture file to write ('-' = stdout)\n"
    "      --offset OFFSET    beginning (default), end, stored, or an offset\n"
    "  -c, --count N          stop after N records\n"
    "      --duration D       stop after D (\"30s\", \"10m\")\n"
    "  -e, --exit-at-end      stop when every partition has been read to its end\n"
    "\n" CLI_COMMON_HELP "\n"
    "Examples:\n"
    "  skyload record -t flights -o flights.skc -e\n"
    "  skyload record -t flights -o peak.skc.gz --offset end --duration 10m\n";

typedef struct record_opts {
    cli_common_t common;
    sky_record_config_t rec;
    cli_status_t status;
} record_opts_t;

enum { OPT_OFFSET = OPT_FIRST_CMD, OPT_DURATION };
static const struct option record_longopts[] = {{"output", required_argument, NULL, 'o'},
                                                {"offset", required_argument, NULL, OPT_OFFSET},
                                                {"count", required_argument, NULL, 'c'},
                                                {"duration", required_argument, NULL, OPT_DURATION},
                                                {"exit-at-end", no_argument, NULL, 'e'},
                                                {NULL, 0, NULL, 0}};

static int record_opt(void *opts, int opt, const char *arg) {
    sky_record_config_t *r = &((record_opts_t *)opts)->rec;
    char err[512];
    int bad = 0;
    switch (opt) {
    case 'o': r->output = arg; break;
    case OPT_OFFSET: bad = sky_parse_offset(arg, &r->offset, err, sizeof err); break;
    case 'c': bad = sky_parse_i64(arg, 1, INT64_MAX, &r->count, "--count", err, sizeof err); break;
    case OPT_DURATION:
        bad = sky_parse_duration_ms(arg, &r->duration_ms, "--duration", err, sizeof err);
        break;
    case 'e': r->exit_at_end = true; break;
    default: return cli_usage_error("record", "unknown option");
    }
    return bad ? cli_usage_error("record", "%s", err) : 0;
}

static int record_args(void *opts, int argc, char **argv) {
    if (argc > 0)
        return cli_usage_error("record", "unexpected argument \"%s\"", argv[0]);
    if (!((record_opts_t *)opts)->rec.output)
        return cli_usage_error("record", "-o FILE is required");
    return 0;
}

static const cli_spec_t record_spec = {
    .cmd = "record", .help = record_help, .shortopts = "o:c:e", .longopts = record_longopts,
    .own = record_opt, .args = record_args};

static void show_progress(void *opaque, int64_t written) {
    cli_status_update(opaque, false, "record: %lld records", (long long)written);
}

int cmd_record(int argc, char **argv) {
    record_opts_t o = {.rec = {.offset = RD_KAFKA_OFFSET_BEGINNING}};
    cli_common_init(&o.common);
    int rc = cli_parse(&record_spec, &o.common, &o, argc, argv);
    if (rc != CLI_GO) {
        cli_common_free(&o.common);
        return cli_parse_status(rc);
    }
    cli_install_signals();
    cli_status_init(&o.status);
    o.rec.kafka = &o.common.kafka;
    o.rec.topic = o.common.topic;
    o.rec.progress = show_progress;
    o.rec.progress_opaque = &o.status;
    char err[512];
    sky_record_result_t res;
    rc = sky_record_run(&o.rec, &cli_stop, &res, err, sizeof err);
    cli_status_clear(&o.status);
    if (res.dropped_headers)
        cli_error("record", "%lld headers beyond %d per record were not kept",
                  (long long)res.dropped_headers, SKY_CAPTURE_HEADERS_MAX);
    fprintf(strcmp(o.rec.output, "-") == 0 ? stderr : stdout,
            o.common.json ? "{\"records\":%lld}\n" : "record: %lld records\n",
            (long long)res.written);
    return cli_finish("record", &o.common, rc, err, CLI_USES_KAFKA);
}
