/* skyload tail: print a topic's records as JSON Lines (kcat -C, decoded). */
#include "cli.h"
#include "commands.h"
#include "parse.h"
#include "tail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char tail_help[] =
    "usage: skyload tail -t TOPIC [-b BROKERS] [-g GROUP] [-o OFFSET] [-c COUNT] [-e] [-X k=v]\n\n"
    "Prints one JSON object per record: topic, partition, offset, timestamp, key,\n"
    "headers and the decoded FlightData (\"value\"). A record that does not decode\n"
    "or fails validation gets an \"error\" member (and \"value_b64\" when it does not\n"
    "decode); tail carries on. The format is docs/formats.md's JSON Lines, which\n"
    "'skyload replay --format jsonl' reads back.\n\n"
    "Options:\n"
    "  -g, --group GROUP      consume as a member of GROUP (commits offsets);\n"
    "                         without it every partition is read directly\n"
    "  -o, --offset OFFSET    beginning (default), end, stored, or an offset\n"
    "  -c, --count N          exit after N records\n"
    "  -e, --exit-at-end      exit when every partition has been read to its end\n"
    "      --valid-only       skip records that do not decode or validate\n"
    "\n" CLI_COMMON_HELP "\n"
    "Examples:\n"
    "  skyload tail -t flights -c 10\n"
    "  skyload tail -t flights -o end | jq .value.flight_id\n";

typedef struct tail_opts {
    cli_common_t common;
    sky_tail_config_t tail;
} tail_opts_t;

enum { OPT_VALID_ONLY = OPT_FIRST_CMD };
static const struct option tail_longopts[] = {{"group", required_argument, NULL, 'g'},
                                              {"offset", required_argument, NULL, 'o'},
                                              {"count", required_argument, NULL, 'c'},
                                              {"exit-at-end", no_argument, NULL, 'e'},
                                              {"valid-only", no_argument, NULL, OPT_VALID_ONLY},
                                              {NULL, 0, NULL, 0}};

static int tail_opt(void *opts, int opt, const char *arg) {
    sky_tail_config_t *t = &((tail_opts_t *)opts)->tail;
    char err[512];
    switch (opt) {
    case 'g': t->group = arg; return 0;
    case 'o':
        return sky_parse_offset(arg, &t->offset, err, sizeof err)
                   ? cli_usage_error("tail", "%s", err)
                   : 0;
    case 'c':
        return sky_parse_i64(arg, 1, INT64_MAX, &t->count, "--count", err, sizeof err)
                   ? cli_usage_error("tail", "%s", err)
                   : 0;
    case 'e': t->exit_at_end = true; return 0;
    case OPT_VALID_ONLY: t->valid_only = true; return 0;
    default: return cli_usage_error("tail", "unknown option");
    }
}

static const cli_spec_t tail_spec = {
    .cmd = "tail", .help = tail_help, .shortopts = "g:o:c:e", .longopts = tail_longopts,
    .own = tail_opt};

int cmd_tail(int argc, char **argv) {
    tail_opts_t o = {.tail = {.offset = RD_KAFKA_OFFSET_BEGINNING}};
    cli_common_init(&o.common);
    int rc = cli_parse(&tail_spec, &o.common, &o, argc, argv);
    if (rc != CLI_GO) {
        cli_common_free(&o.common);
        return cli_parse_status(rc);
    }
    cli_install_signals();
    o.tail.kafka = &o.common.kafka;
    o.tail.topic = o.common.topic;
    char err[512];
    rc = sky_tail_run(&o.tail, stdout, &cli_stop, err, sizeof err);
    return cli_finish("tail", &o.common, rc, err, CLI_USES_KAFKA);
}
