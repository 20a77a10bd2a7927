/* skyload record: capture a topic into a capture file (docs/formats.md) for replay. */
#include "capture_kafka.h"
#include "cli.h"
#include "commands.h"
#include "error.h"
#include "parse.h"
#include "timefmt.h"

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
    const char *output;
    int64_t offset;
    int64_t count;       /* 0 = unlimited */
    int64_t duration_ms; /* 0 = unlimited */
    bool exit_at_end;
} record_opts_t;

static int parse_record_args(int argc, char **argv, record_opts_t *o) {
    enum { OPT_OFFSET = OPT_FIRST_CMD, OPT_DURATION };
    static const struct option longopts[] = {
        CLI_COMMON_LONG,
        {"output", required_argument, NULL, 'o'},
        {"offset", required_argument, NULL, OPT_OFFSET},
        {"count", required_argument, NULL, 'c'},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"exit-at-end", no_argument, NULL, 'e'},
        {NULL, 0, NULL, 0}};
    char err[512];
    int opt;
    o->offset = RD_KAFKA_OFFSET_BEGINNING;
    while ((opt = getopt_long(argc, argv, CLI_COMMON_SHORT "o:c:e", longopts, NULL)) != -1) {
        int rc = cli_common_opt(&o->common, opt, optarg);
        if (rc == 1)
            continue;
        if (rc < 0)
            return rc == -2 ? -2 : 2;
        switch (opt) {
        case 'h': fputs(record_help, stdout); return -2;
        case 'o': o->output = optarg; break;
        case OPT_OFFSET:
            if (sky_parse_offset(optarg, &o->offset, err, sizeof err))
                return cli_usage_error("record", "%s", err);
            break;
        case 'c':
            if (sky_parse_i64(optarg, 1, INT64_MAX, &o->count, "--count", err, sizeof err))
                return cli_usage_error("record", "%s", err);
            break;
        case OPT_DURATION:
            if (sky_parse_duration_ms(optarg, &o->duration_ms, "--duration", err, sizeof err))
                return cli_usage_error("record", "%s", err);
            break;
        case 'e': o->exit_at_end = true; break;
        default: return cli_usage_error("record", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("record", "unexpected argument \"%s\"", argv[optind]);
    if (!o->output)
        return cli_usage_error("record", "-o FILE is required");
    return 0;
}

typedef struct record_state {
    int nparts;
    sky_eof_tracker_t eof;
    int64_t written, dropped_headers;
} record_state_t;

static int record_loop(record_opts_t *o, sky_consumer_t *c, sky_capture_writer_t *w,
                       record_state_t *s, char *err, size_t errsz) {
    int64_t end_ns = o->duration_ms ? sky_monotonic_ns() + o->duration_ms * 1000000 : INT64_MAX;
    int64_t last_flush = sky_monotonic_ns();
    cli_status_t status;
    cli_status_init(&status);
    int rc = 0;
    while (!cli_stop && (!o->count || s->written < o->count) && sky_monotonic_ns() < end_ns) {
        rd_kafka_message_t *m = sky_consumer_poll(c, 100);
        int64_t now = sky_monotonic_ns();
        if (now - last_flush > 1000000000LL) { /* whole records on disk at least every second */
            last_flush = now;
            if ((rc = sky_capture_flush(w, err, errsz)))
                break;
        }
        if (!m)
            continue;
        bool eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
        if (m->err && !eof)
            cli_error("record", "%s", rd_kafka_message_errstr(m));
        if (!m->err) {
            sky_cap_record_t r;
            s->dropped_headers += (int64_t)sky_capture_from_message(m, &r);
            rc = sky_capture_write(w, &r, err, errsz);
            s->written++;
            cli_status_update(&status, false, "record: %lld records", (long long)s->written);
        }
        int done = sky_eof_tracker_note(&s->eof, m) && o->exit_at_end;
        rd_kafka_message_destroy(m);
        if (rc || done)
            break;
    }
    cli_status_clear(&status);
    return rc;
}

static int run_record(record_opts_t *o, char *err, size_t errsz) {
    if (o->exit_at_end &&
        sky_kconf_add(&o->common.kafka, "enable.partition.eof=true", err, errsz))
        return SKY_ENOMEM;
    sky_consumer_t *c = sky_consumer_new(&o->common.kafka, NULL, err, errsz);
    if (!c)
        return SKY_EKAFKA;
    record_state_t s = {0};
    int rc = sky_consumer_assign_all(c, o->common.topic, o->offset, &s.nparts, err, errsz);
    sky_capture_writer_t *w = NULL;
    if (!rc && sky_eof_tracker_init(&s.eof, s.nparts))
        rc = sky_err(err, errsz, SKY_ENOMEM, "out of memory");
    if (!rc)
        rc = sky_capture_writer_open(o->output, &w, err, errsz);
    if (!rc)
        rc = record_loop(o, c, w, &s, err, errsz);
    char cerr[512];
    int crc = sky_capture_writer_close(w, cerr, sizeof cerr);
    if (!rc && crc) {
        rc = crc;
        snprintf(err, errsz, "%s", cerr);
    }
    if (s.dropped_headers)
        cli_error("record", "%lld headers beyond %d per record were not kept",
                  (long long)s.dropped_headers, SKY_CAPTURE_HEADERS_MAX);
    fprintf(strcmp(o->output, "-") == 0 ? stderr : stdout,
            o->common.json ? "{\"records\":%lld}\n" : "record: %lld records\n",
            (long long)s.written);
    sky_eof_tracker_free(&s.eof);
    sky_consumer_destroy(c);
    return rc;
}

int cmd_record(int argc, char **argv) {
    record_opts_t o;
    memset(&o, 0, sizeof o);
    cli_common_init(&o.common);
    int rc = parse_record_args(argc, argv, &o);
    if (rc) {
        cli_common_free(&o.common);
        return rc == -2 ? 0 : rc;
    }
    cli_install_signals();
    char err[512];
    rc = run_record(&o, err, sizeof err);
    if (rc)
        cli_error("record", "%s", err);
    if (sky_exit_status(rc) == 3 && strstr(err, "Unknown topic"))
        cli_explain_missing_topic("record", &o.common, o.common.topic);
    else if (sky_exit_status(rc) == 3)
        cli_explain_unreachable("record", &o.common, CLI_USES_KAFKA);
    cli_common_free(&o.common);
    return sky_exit_status(rc);
}
