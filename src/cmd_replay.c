/* skyload replay: publish recorded traffic files (OpenSky, skyload CSV, SBS-1,
 * JSON Lines, capture) onto the topic, paced by their recorded times. */
#include "cli.h"
#include "cli_geofence.h"
#include "commands.h"
#include "error.h"
#include "log.h"
#include "parse.h"
#include "publish.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char replay_help[] =
    "usage: skyload replay [options] FILE...\n\n"
    "Publishes recorded traffic: each FILE is a path, '-' (stdin), a .gz file (read\n"
    "transparently) or sbs://HOST:PORT (a live BaseStation feed). Records from several\n"
    "files are merged by time. Bad rows are reported as file:line: reason (the first 20,\n"
    "then a count) and skipped; the rest carries on. Formats: docs/formats.md.\n\n"
    "Options:\n"
    "      --format F         auto (default), opensky, csv, sbs, jsonl or capture\n"
    "      --speed K          replay K times faster than recorded (default 1)\n"
    "      --rate max|N       ignore recorded times: as fast as possible, or N records/s\n"
    "      --time-shift S     none (default), now (move the recording to the present) or\n"
    "                         a duration added to every time (\"2h\", \"-30m\")\n"
    "      --loop N           replay N times; loop k > 0 uses flight_id \"<id>-L<k>\" and\n"
    "                         times shifted past the end of the previous loop\n"
    "      --bbox S,W,N,E     only positions inside the box (degrees)\n"
    "      --from T, --to T   only records recorded in [T, T] (ISO 8601 or epoch)\n"
    "      --skip-ground      leave out positions reported on the ground\n"
    "      --resample D       interpolate each flight to one position every D (\"5s\";\n"
    "                         monotone, on ticks that are multiples of D)\n"
    "      --resample-gap D   do not interpolate across gaps longer than D (default 60s)\n"
    "      --strict           stop at the first bad row (exit 2)\n"
    "      --original-headers capture files: keep the recorded skyload-* headers as they\n"
    "                         are (byte for byte) instead of this run's run/seq/intended\n"
    "      --sink S           kafka (default), file:PATH, stdout or null\n"
    "      --partitions N     partitions when replay creates the topic (default 6); it is\n"
    "                         created, and its leaders awaited, before the clock starts\n"
    "      --no-create-topic  do not create the topic (the broker may auto-create it)\n"
    "      --manifest PATH    write the run manifest (docs/manifest.md) for verify; without\n"
    "                         it a capture's values are decoded only when a filter, a new\n"
    "                         time, a loop, resampling or a JSON sink needs them\n"
    "      --run-id ID        run id for the skyload-run header (default r-<time>-replay)\n"
    "      --airspaces FILE   airspaces (GeoJSON or YAML): with --manifest, the manifest\n"
    "                         lists the enter/exit events Tile38 will send for the\n"
    "                         positions replayed (docs/geofence.md)\n"
    "      --events-topic T   their events topic (default TOPIC.events)\n"
    "\n"
    "The summary counts rows read (a data line, an SBS message, a JSON line, a capture\n"
    "record) and what became of each: published, rejected, without position (SBS\n"
    "messages carrying none; a position whose altitude or velocity is unknown: SBS holds\n"
    "it up to 10 s for its MSG,4, never sending 0 kt) or filtered. SIGINT/SIGTERM stop\n"
    "cleanly: flush, write the manifest, exit 0.\n"
    "\n" CLI_COMMON_HELP "\n"
    "Examples:\n"
    "  skyload replay -t flights --time-shift now --speed 10 states_2026-11-25-10.csv.gz\n"
    "  skyload replay -t flights --rate max --manifest run.json capture.skc\n"
    "  skyload replay -t flights --speed 60 --resample 5s states_2026-11-25-10.csv.gz\n";

typedef struct replay_cli {
    cli_common_t common;
    cli_geofence_t geo; /* --airspaces, --events-topic */
    sky_replay_opts_t o;
    const char *sink;
    const char *manifest;
    int64_t partitions;
    bool no_create_topic;
    char run_id[96];
} replay_cli_t;

enum {
    OPT_FORMAT = OPT_FIRST_CMD, OPT_SPEED, OPT_RATE, OPT_SHIFT, OPT_LOOP, OPT_BBOX, OPT_FROM,
    OPT_TO, OPT_STRICT, OPT_SKIP_GROUND, OPT_ORIG_HEADERS, OPT_SINK, OPT_MANIFEST, OPT_RUN_ID,
    OPT_RESAMPLE, OPT_RESAMPLE_GAP, OPT_PARTITIONS, OPT_NO_CREATE
};

static int parse_shift(const char *s, sky_replay_opts_t *o, char *err, size_t errsz) {
    if (strcmp(s, "none") == 0) {
        o->shift_mode = SKY_SHIFT_NONE;
        return 0;
    }
    if (strcmp(s, "now") == 0) {
        o->shift_mode = SKY_SHIFT_NOW;
        return 0;
    }
    bool neg = s[0] == '-';
    if (sky_parse_duration_ms(s + (neg || s[0] == '+'), &o->shift_ms, "--time-shift", err, errsz))
        return SKY_EUSAGE;
    o->shift_ms = neg ? -o->shift_ms : o->shift_ms;
    o->shift_mode = SKY_SHIFT_BY;
    return 0;
}

static int parse_bbox(const char *s, sky_replay_opts_t *o, char *err, size_t errsz) {
    char buf[128], *parts[4], *save = NULL;
    if (sky_strlcpy(buf, s, sizeof buf))
        return sky_err(err, errsz, SKY_EUSAGE, "--bbox: too long");
    int n = 0;
    for (char *t = strtok_r(buf, ",", &save); t && n < 4; t = strtok_r(NULL, ",", &save))
        parts[n++] = t;
    if (n != 4 || strtok_r(NULL, ",", &save))
        return sky_err(err, errsz, SKY_EUSAGE, "--bbox: expected S,W,N,E, got \"%s\"", s);
    if (sky_parse_double(parts[0], -90, 90, &o->south, "--bbox south", err, errsz) ||
        sky_parse_double(parts[1], -180, 180, &o->west, "--bbox west", err, errsz) ||
        sky_parse_double(parts[2], -90, 90, &o->north, "--bbox north", err, errsz) ||
        sky_parse_double(parts[3], -180, 180, &o->east, "--bbox east", err, errsz))
        return SKY_EUSAGE;
    if (o->south > o->north)
        return sky_err(err, errsz, SKY_EUSAGE, "--bbox: south %g is north of north %g", o->south,
                       o->north);
    o->has_bbox = true;
    return 0;
}

static int parse_time_opt(const char *s, const char *what, int64_t *out, char *err,
                          size_t errsz) {
    char why[200];
    if (sky_ts_parse(s, strlen(s), out, why, sizeof why))
        return sky_err(err, errsz, SKY_EUSAGE, "%s: %s", what, why);
    return 0;
}

static int parse_positive_ms(const char *s, const char *what, int64_t *out, char *err,
                             size_t errsz) {
    if (sky_parse_duration_ms(s, out, what, err, errsz))
        return SKY_EUSAGE;
    if (*out <= 0)
        return sky_err(err, errsz, SKY_EUSAGE, "%s: must be longer than 0, got \"%s\"", what, s);
    return 0;
}

static int replay_opt_text(replay_cli_t *c, int opt, const char *arg, char *err, size_t errsz) {
    sky_replay_opts_t *o = &c->o;
    switch (opt) {
    case OPT_FORMAT: return sky_replay_format_parse(arg, &o->format, err, errsz);
    case OPT_SPEED: return sky_parse_double(arg, 0.0001, 1e9, &o->speed, "--speed", err, errsz);
    case OPT_RATE:
        if (strcmp(arg, "max") == 0) {
            o->speed = 0;
            o->rate = 0;
            return 0;
        }
        return sky_parse_double(arg, 0.001, 1e9, &o->rate, "--rate", err, errsz);
    case OPT_SHIFT: return parse_shift(arg, o, err, errsz);
    case OPT_LOOP: return sky_parse_i64(arg, 1, 1000000, &o->loops, "--loop", err, errsz);
    case OPT_BBOX: return parse_bbox(arg, o, err, errsz);
    case OPT_FROM: return parse_time_opt(arg, "--from", &o->from_ms, err, errsz);
    case OPT_TO: return parse_time_opt(arg, "--to", &o->to_ms, err, errsz);
    case OPT_STRICT: o->strict = true; return 0;
    case OPT_SKIP_GROUND: o->skip_ground = true; return 0;
    case OPT_ORIG_HEADERS: o->original_headers = true; return 0;
    case OPT_RESAMPLE: return parse_positive_ms(arg, "--resample", &o->resample_ms, err, errsz);
    case OPT_RESAMPLE_GAP:
        return parse_positive_ms(arg, "--resample-gap", &o->resample_gap_ms, err, errsz);
    case OPT_SINK: c->sink = arg; return 0;
    case OPT_PARTITIONS:
        return sky_parse_i64(arg, 1, 10000, &c->partitions, "--partitions", err, errsz);
    case OPT_NO_CREATE: c->no_create_topic = true; return 0;
    case OPT_MANIFEST: c->manifest = arg; return 0;
    case OPT_RUN_ID: return sky_strlcpy(c->run_id, arg, sizeof c->run_id)
                                ? sky_err(err, errsz, SKY_EUSAGE, "--run-id: too long")
                                : 0;
    default: return sky_err(err, errsz, SKY_EUSAGE, "unknown option");
    }
}

static const struct option replay_longopts[] = {
    {"format", required_argument, NULL, OPT_FORMAT},
    {"speed", required_argument, NULL, OPT_SPEED},
    {"rate", required_argument, NULL, OPT_RATE},
    {"time-shift", required_argument, NULL, OPT_SHIFT},
    {"loop", required_argument, NULL, OPT_LOOP},
    {"bbox", required_argument, NULL, OPT_BBOX},
    {"from", required_argument, NULL, OPT_FROM},
    {"to", required_argument, NULL, OPT_TO},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"skip-ground", no_argument, NULL, OPT_SKIP_GROUND},
    {"original-headers", no_argument, NULL, OPT_ORIG_HEADERS},
    {"sink", required_argument, NULL, OPT_SINK},
    {"manifest", required_argument, NULL, OPT_MANIFEST},
    {"run-id", required_argument, NULL, OPT_RUN_ID},
    {"resample", required_argument, NULL, OPT_RESAMPLE},
    {"resample-gap", required_argument, NULL, OPT_RESAMPLE_GAP},
    {"partitions", required_argument, NULL, OPT_PARTITIONS},
    {"no-create-topic", no_argument, NULL, OPT_NO_CREATE},
    {NULL, 0, NULL, 0}};

static int replay_opt(void *opts, int opt, const char *arg) {
    char err[512];
    return replay_opt_text(opts, opt, arg, err, sizeof err) ? cli_usage_error("replay", "%s", err)
                                                            : 0;
}

static int replay_files(void *opts, int argc, char **argv) {
    replay_cli_t *c = opts;
    if (argc < 1)
        return cli_usage_error("replay", "no FILE given");
    c->o.files = (const char *const *)argv;
    c->o.nfiles = (size_t)argc;
    c->o.manifest = c->manifest != NULL;
    if (c->o.from_ms > c->o.to_ms)
        return cli_usage_error("replay", "--from is after --to");
    return 0;
}

static cli_geofence_t *replay_geofence(void *opts) {
    return &((replay_cli_t *)opts)->geo;
}

static const cli_spec_t replay_spec = {.cmd = "replay",
                                       .help = replay_help,
                                       .longopts = replay_longopts,
                                       .own = replay_opt,
                                       .args = replay_files,
                                       .geofence = replay_geofence};

static void show_progress(void *opaque, const sky_replay_stats_t *st) {
    cli_status_update(opaque, false,
                      "replay: %llu published, %llu rejected, %llu flights, lag %lld ms",
                      (unsigned long long)st->published, (unsigned long long)st->rejected,
                      (unsigned long long)st->flights, (long long)(st->max_lag_ns / 1000000));
}

/* Every row read ends as one of published, rejected, without position or filtered, so
 * the four add up to "rows read" (docs/replay.md, "Counts"); --resample turns the
 * positions it takes into its own records, so those are shown apart. */
static void print_summary(const replay_cli_t *c, const sky_replay_stats_t *st) {
    FILE *out = strcmp(c->sink, "stdout") == 0 ? stderr : stdout;
    unsigned long long read = st->read, published = st->published, rejected = st->rejected,
                       skipped = st->skipped, filtered = st->filtered, flights = st->flights,
                       resampled = st->resampled_in;
    long long lag_ms = (long long)(st->max_lag_ns / 1000000);
    if (c->common.json) {
        fprintf(out,
                "{\"run_id\":\"%s\",\"read\":%llu,\"published\":%llu,\"rejected\":%llu,"
                "\"skipped\":%llu,\"filtered\":%llu,\"resampled_in\":%llu,\"flights\":%llu,"
                "\"max_lag_ms\":%lld}\n",
                c->o.run_id, read, published, rejected, skipped, filtered, resampled, flights,
                lag_ms);
        return;
    }
    fprintf(out, "replay %s: %llu rows read: ", c->o.run_id, read);
    if (c->o.resample_ms > 0)
        fprintf(out, "%llu positions resampled into %llu published, ", resampled, published);
    else
        fprintf(out, "%llu published, ", published);
    fprintf(out, "%llu rejected, %llu without position, %llu filtered; %llu flights, max lag "
                 "%lld ms\n",
            rejected, skipped, filtered, flights, lag_ms);
}

static int run_replay(replay_cli_t *c, char *err, size_t errsz) {
    cli_status_t status;
    cli_status_init(&status);
    sky_replay_job_t job = {.opts = &c->o,
                            .kafka = &c->common.kafka,
                            .topic = c->common.topic,
                            .sink = c->sink,
                            .create_topic = !c->no_create_topic,
                            .partitions = (int)c->partitions,
                            .manifest_path = c->manifest,
                            .stop = &cli_stop,
                            .progress = show_progress,
                            .progress_opaque = &status};
    sky_replay_outcome_t out;
    int rc = sky_replay_publish(&job, &out, err, errsz);
    cli_status_clear(&status);
    if (out.ran)
        print_summary(c, &out.stats);
    if (out.stopped)
        cli_error("replay", "stopped by a signal; %s what was published before it",
                  c->manifest ? "the manifest covers" : "the counts are");
    return rc;
}

int cmd_replay(int argc, char **argv) {
    replay_cli_t c;
    memset(&c, 0, sizeof c);
    cli_common_init(&c.common);
    cli_geofence_init(&c.geo);
    sky_replay_opts_init(&c.o);
    c.sink = "kafka";
    c.partitions = 6;
    int rc = cli_parse(&replay_spec, &c.common, &c, argc, argv);
    if (rc == CLI_GO && c.geo.airspaces_path) /* geofences: src/cli_geofence.h */
        rc = cli_geofence_prepare(&c.geo, NULL, c.common.topic, c.common.kafka.brokers, NULL,
                                  "replay");
    if (rc != CLI_GO) {
        cli_geofence_free(&c.geo);
        cli_common_free(&c.common);
        return cli_parse_status(rc);
    }
    if (!c.run_id[0])
        sky_replay_default_run_id(c.run_id, sizeof c.run_id);
    c.o.run_id = c.run_id;
    c.o.airspaces = c.geo.airspaces;
    c.o.nairspaces = c.geo.nairspaces;
    c.o.events_topic = c.geo.cfg.events_topic;
    cli_install_signals();
    char err[512];
    rc = run_replay(&c, err, sizeof err);
    cli_geofence_free(&c.geo);
    return cli_finish("replay", &c.common, rc, err,
                      strcmp(c.sink, "kafka") == 0 ? CLI_USES_KAFKA : 0);
}
