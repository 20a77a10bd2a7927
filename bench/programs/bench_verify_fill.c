/* Fills a topic fast with skyload-headed records (FLIGHTS x PER_FLIGHT, small
 * opaque values) and writes the matching manifest: the load for bench/verify.sh,
 * and the fixture for tests/e2e/test_verify_*.sh (which can break the run on
 * purpose: split a flight across partitions, or swap two seqs). */
#include "error.h"
#include "kafka.h"
#include "manifest.h"
#include "parse.h"
#include "timefmt.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fill_opts {
    sky_kconf_t kc;
    const char *topic, *run_id, *manifest, *prefix;
    int64_t flights, per_flight, split, swap_flight, swap_seq;
    int swap_declared;
} fill_opts_t;

static int usage(void) {
    fprintf(stderr,
            "usage: bench_verify_fill -t TOPIC -f FLIGHTS -n PER_FLIGHT [-b BROKERS] [-X k=v]\n"
            "         [-r RUN_ID] [-m MANIFEST] [-p ID_PREFIX] [--split I] [--swap I:SEQ]\n"
            "         [--swap-declared]\n"
            "--split I: flight I's first half goes to partition 0, the rest to partition 1.\n"
            "--swap I:SEQ: flight I sends SEQ+1 before SEQ (--swap-declared: and the\n"
            "manifest records it as an injected reorder fault).\n");
    return 2;
}

static int parse_swap(const char *s, fill_opts_t *o) {
    char buf[64], err[128];
    const char *colon = strchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof buf)
        return -1;
    memcpy(buf, s, (size_t)(colon - s));
    buf[colon - s] = '\0';
    return sky_parse_i64(buf, 0, INT32_MAX, &o->swap_flight, "--swap", err, sizeof err) ||
           sky_parse_i64(colon + 1, 0, INT32_MAX, &o->swap_seq, "--swap", err, sizeof err);
}

static int parse_args(int argc, char **argv, fill_opts_t *o) {
    enum { OPT_SPLIT = 1000, OPT_SWAP, OPT_SWAP_DECLARED };
    static const struct option longopts[] = {{"split", required_argument, NULL, OPT_SPLIT},
                                             {"swap", required_argument, NULL, OPT_SWAP},
                                             {"swap-declared", no_argument, NULL, OPT_SWAP_DECLARED},
                                             {NULL, 0, NULL, 0}};
    char err[256];
    int opt;
    o->split = o->swap_flight = -1;
    o->prefix = "BV";
    o->run_id = "r-bench-verify";
    while ((opt = getopt_long(argc, argv, "b:t:X:f:n:r:m:p:", longopts, NULL)) != -1) {
        int bad = 0;
        switch (opt) {
        case 'b': o->kc.brokers = optarg; break;
        case 't': o->topic = optarg; break;
        case 'X': bad = sky_kconf_add(&o->kc, optarg, err, sizeof err); break;
        case 'f': bad = sky_parse_i64(optarg, 1, 100000000, &o->flights, "-f", err, sizeof err); break;
        case 'n': bad = sky_parse_i64(optarg, 1, 100000000, &o->per_flight, "-n", err, sizeof err); break;
        case 'r': o->run_id = optarg; break;
        case 'm': o->manifest = optarg; break;
        case 'p': o->prefix = optarg; break;
        case OPT_SPLIT: bad = sky_parse_i64(optarg, 0, INT32_MAX, &o->split, "--split", err, sizeof err); break;
        case OPT_SWAP: bad = parse_swap(optarg, o); break;
        case OPT_SWAP_DECLARED: o->swap_declared = 1; break;
        default: return usage();
        }
        if (bad) {
            fprintf(stderr, "bench_verify_fill: bad value \"%s\"\n", optarg);
            return 2;
        }
    }
    return o->topic && o->flights && o->per_flight ? 0 : usage();
}

static int send_one(sky_producer_t *p, const fill_opts_t *o, int64_t flight, int64_t seq,
                    char *err, size_t errsz) {
    static const char value[24] = "skyload-verify-bench-val";
    char key[64];
    int klen = snprintf(key, sizeof key, "%s%08lld", o->prefix, (long long)flight);
    int64_t now = sky_now_ns();
    if (flight != o->split)
        return sky_producer_send(p, RD_KAFKA_PARTITION_UA, key, (size_t)klen, value, sizeof value,
                                 o->run_id, seq, now, err, errsz);
    /* The split flight: explicit partitions, built the way the producer builds its headers. */
    char seqs[24], nows[24];
    snprintf(seqs, sizeof seqs, "%lld", (long long)seq);
    snprintf(nows, sizeof nows, "%lld", (long long)now);
    rd_kafka_headers_t *h = rd_kafka_headers_new(3);
    rd_kafka_header_add(h, SKY_HDR_RUN, -1, o->run_id, -1);
    rd_kafka_header_add(h, SKY_HDR_SEQ, -1, seqs, -1);
    rd_kafka_header_add(h, SKY_HDR_INTENDED, -1, nows, -1);
    int rc = sky_producer_send_with(p, NULL, seq < o->per_flight / 2 ? 0 : 1, key, (size_t)klen,
                                    value, sizeof value, h, 0, now, err, errsz);
    rd_kafka_headers_destroy(h);
    return rc;
}

static int produce_all(sky_producer_t *p, const fill_opts_t *o, char *err, size_t errsz) {
    /* Interleaved by seq, as a real generator emits: every flight's seq 0, then seq 1... */
    for (int64_t s = 0; s < o->per_flight; s++)
        for (int64_t f = 0; f < o->flights; f++) {
            int64_t seq = s;
            if (f == o->swap_flight && (s == o->swap_seq || s == o->swap_seq + 1))
                seq = s == o->swap_seq ? s + 1 : s - 1;
            int rc = send_one(p, o, f, seq, err, errsz);
            if (rc)
                return rc;
        }
    return sky_producer_flush(p, 120000, err, errsz);
}

static int write_manifest(sky_producer_t *p, const fill_opts_t *o, char *err, size_t errsz) {
    sky_manifest_t *m = sky_manifest_new();
    if (!m)
        return SKY_ENOMEM;
    sky_manifest_info_t info = {.run_id = o->run_id, .kind = "simulate", .topic = o->topic,
                                .shard_index = 0, .shard_count = 1, .cadence_ms = 5000};
    int rc = sky_manifest_set_info(m, &info);
    for (int64_t f = 0; f < o->flights && !rc; f++) {
        char id[64];
        snprintf(id, sizeof id, "%s%08lld", o->prefix, (long long)f);
        sky_manifest_flight_t fl = {.id = id, .first_seq = 0, .last_seq = o->per_flight - 1,
                                    .partition = -1, .landed = true};
        rc = sky_manifest_add_flight(m, &fl);
    }
    for (int32_t part = 0; part < sky_producer_partition_slots(p) && !rc; part++) {
        sky_manifest_partition_t mp = {.partition = part};
        if (!sky_producer_partition_range(p, part, &mp.first_offset, &mp.last_offset)) {
            mp.count = mp.last_offset - mp.first_offset + 1;
            rc = sky_manifest_add_partition(m, &mp);
        }
    }
    if (!rc && o->swap_declared && o->swap_flight >= 0) {
        char id[64];
        snprintf(id, sizeof id, "%s%08lld", o->prefix, (long long)o->swap_flight);
        sky_manifest_fault_t fault = {.kind = SKY_FAULT_REORDER, .flight = id, .seq = o->swap_seq,
                                      .count = 1};
        rc = sky_manifest_add_fault(m, &fault);
    }
    sky_producer_stats_t st;
    sky_producer_get_stats(p, &st);
    sky_manifest_totals_t totals = {(uint64_t)o->flights, st.produced, st.delivered, st.failed,
                                    (uint64_t)(o->flights * o->per_flight)};
    sky_manifest_set_totals(m, &totals);
    if (!rc)
        rc = sky_manifest_set_ack_hist(m, sky_producer_ack_hist(p));
    if (!rc)
        rc = sky_manifest_write(m, o->manifest, err, errsz);
    sky_manifest_destroy(m);
    return rc;
}

int main(int argc, char **argv) {
    fill_opts_t o;
    memset(&o, 0, sizeof o);
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    char err[512];
    /* Throughput settings first so -X can still override them. */
    static const char *const fast[] = {"linger.ms=20", "batch.size=1000000",
                                       "compression.type=lz4", NULL};
    sky_kconf_t kc = {.brokers = o.kc.brokers};
    for (const char *const *f = fast; *f; f++)
        sky_kconf_add(&kc, *f, err, sizeof err);
    for (size_t i = 0; i < o.kc.nprops; i++)
        sky_kconf_add(&kc, o.kc.props[i], err, sizeof err);
    sky_producer_t *p = sky_producer_new(&kc, o.topic, err, sizeof err);
    int64_t t0 = sky_monotonic_ns();
    rc = p ? produce_all(p, &o, err, sizeof err) : SKY_EKAFKA;
    double secs = (double)(sky_monotonic_ns() - t0) / 1e9;
    if (!rc && o.manifest)
        rc = write_manifest(p, &o, err, sizeof err);
    if (rc)
        fprintf(stderr, "bench_verify_fill: %s\n", err);
    else
        fprintf(stderr, "bench_verify_fill: %lld records in %.2f s (%.0f records/s)\n",
                (long long)(o.flights * o.per_flight), secs,
                (double)(o.flights * o.per_flight) / secs);
    sky_producer_destroy(p);
    sky_kconf_free(&kc);
    sky_kconf_free(&o.kc);
    return rc ? 1 : 0;
}
