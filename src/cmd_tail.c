/* skyload tail: print a topic's records as JSON Lines (kcat -C, decoded). */
#include "cli.h"
#include "commands.h"
#include "dynbuf.h"
#include "error.h"
#include "parse.h"
#include "record_json.h"

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
    const char *group;
    int64_t offset;
    int64_t count; /* 0 = unlimited */
    bool exit_at_end;
    bool valid_only;
} tail_opts_t;

static int parse_tail_args(int argc, char **argv, tail_opts_t *o) {
    enum { OPT_VALID_ONLY = OPT_FIRST_CMD };
    static const struct option longopts[] = {
        CLI_COMMON_LONG,
        {"group", required_argument, NULL, 'g'},
        {"offset", required_argument, NULL, 'o'},
        {"count", required_argument, NULL, 'c'},
        {"exit-at-end", no_argument, NULL, 'e'},
        {"valid-only", no_argument, NULL, OPT_VALID_ONLY},
        {NULL, 0, NULL, 0}};
    char err[512];
    int opt;
    o->offset = RD_KAFKA_OFFSET_BEGINNING;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT "g:o:c:e", longopts, NULL)) != -1) {
        int rc = cli_common_opt(&o->common, opt, optarg);
        if (rc == 1)
            continue;
        if (rc < 0)
            return rc == -2 ? -2 : 2;
        switch (opt) {
        case 'h': fputs(tail_help, stdout); return -2;
        case 'g': o->group = optarg; break;
        case 'o':
            if (sky_parse_offset(optarg, &o->offset, err, sizeof err))
                return cli_usage_error("tail", "%s", err);
            break;
        case 'c':
            if (sky_parse_i64(optarg, 1, INT64_MAX, &o->count, "--count", err, sizeof err))
                return cli_usage_error("tail", "%s", err);
            break;
        case 'e': o->exit_at_end = true; break;
        case OPT_VALID_ONLY: o->valid_only = true; break;
        default: return cli_usage_error("tail", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("tail", "unexpected argument \"%s\"", argv[optind]);
    return 0;
}

/* Starts the consumer; returns the number of partitions to wait for at EOF (0 if unknown). */
static int start_consumer(tail_opts_t *o, sky_consumer_t **out, int *nparts, char *err,
                          size_t errsz) {
    if (o->exit_at_end && sky_kconf_add(&o->common.kafka, "enable.partition.eof=true", err, errsz))
        return SKY_ENOMEM;
    sky_consumer_t *c = sky_consumer_new(&o->common.kafka, o->group, err, errsz);
    if (!c)
        return SKY_EKAFKA;
    int rc;
    *nparts = 0;
    if (o->group) {
        rc = sky_consumer_subscribe(c, o->common.topic, err, errsz);
        if (!rc)
            rc = sky_kafka_partition_count(sky_consumer_handle(c), o->common.topic, 10000, nparts,
                                           err, errsz);
    } else {
        rc = sky_consumer_assign_all(c, o->common.topic, o->offset, nparts, err, errsz);
    }
    if (rc) {
        sky_consumer_destroy(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* Marks m as processed for the group's next commit. */
static void store_offset(sky_consumer_t *c, const rd_kafka_message_t *m) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l)
        return;
    rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
        m->offset + 1;
    rd_kafka_offsets_store(sky_consumer_handle(c), l);
    rd_kafka_topic_partition_list_destroy(l);
}

static int tail_loop(tail_opts_t *o, sky_consumer_t *c, int nparts, char *err, size_t errsz) {
    sky_buf_t line;
    sky_eof_tracker_t eof;
    int64_t printed = 0;
    int rc = 0;
    if (sky_eof_tracker_init(&eof, nparts))
        return sky_err(err, errsz, SKY_ENOMEM, "out of memory");
    sky_buf_init(&line, 0);
    while (!cli_stop && (!o->count || printed < o->count)) {
        rd_kafka_message_t *m = sky_consumer_poll(c, 200);
        if (!m)
            continue;
        bool all_at_end = sky_eof_tracker_note(&eof, m);
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                cli_error("tail", "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            if (o->exit_at_end && all_at_end)
                break;
            continue;
        }
        int valid;
        sky_buf_reset(&line);
        if (sky_record_to_json(m, &line, &valid) || sky_buf_add_char(&line, '\n')) {
            rd_kafka_message_destroy(m);
            rc = sky_err(err, errsz, SKY_ENOMEM, "out of memory");
            break;
        }
        if (valid || !o->valid_only) {
            fwrite(line.data, 1, line.len, stdout);
            printed++;
        }
        if (o->group)
            store_offset(c, m);
        rd_kafka_message_destroy(m);
    }
    if (o->group && !rc)
        rc = sky_consumer_commit(c, NULL, err, errsz);
    fflush(stdout);
    sky_eof_tracker_free(&eof);
    sky_buf_free(&line);
    return rc;
}

int cmd_tail(int argc, char **argv) {
    tail_opts_t o;
    memset(&o, 0, sizeof o);
    cli_common_init(&o.common);
    int rc = parse_tail_args(argc, argv, &o);
    if (rc) {
        cli_common_free(&o.common);
        return rc == -2 ? 0 : rc;
    }
    cli_install_signals();
    char err[512];
    sky_consumer_t *c = NULL;
    int nparts;
    rc = start_consumer(&o, &c, &nparts, err, sizeof err);
    if (!rc)
        rc = tail_loop(&o, c, nparts, err, sizeof err);
    if (rc)
        cli_error("tail", "%s", err);
    if (sky_exit_status(rc) == 3 && strstr(err, "Unknown topic"))
        cli_explain_missing_topic("tail", &o.common, o.common.topic);
    else if (sky_exit_status(rc) == 3)
        cli_explain_unreachable("tail", &o.common, CLI_USES_KAFKA);
    sky_consumer_destroy(c);
    cli_common_free(&o.common);
    return sky_exit_status(rc);
}
