/* Peer tools for `bench peers`: timed child processes and their output parsers. */
#include "peers.h"

#include "error.h"
#include "timefmt.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void child_exec(const char *const *argv, const char *stdin_path, const char *out_path) {
    int in = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
    int out = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
        _exit(126);
    close(in);
    close(out);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

int sky_bench_exec(const char *const *argv, const char *stdin_path, const char *out_path,
                   int64_t timeout_ms, sky_exec_result_t *out, char *errstr, size_t errstr_size) {
    memset(out, 0, sizeof *out);
    out->status = -1;
    int64_t start = sky_monotonic_ns();
    pid_t pid = fork();
    if (pid < 0)
        return sky_err(errstr, errstr_size, SKY_EIO, "%s: fork: %s", argv[0], strerror(errno));
    if (pid == 0)
        child_exec(argv, stdin_path, out_path);
    int status = 0;
    struct rusage ru;
    const struct timespec tick = {0, 1000000};
    for (;;) {
        pid_t r = wait4(pid, &status, WNOHANG, &ru);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return sky_err(errstr, errstr_size, SKY_EIO, "%s: wait4: %s", argv[0],
                           strerror(errno));
        if (!out->timed_out && (sky_monotonic_ns() - start) / 1000000 > timeout_ms) {
            kill(pid, SIGKILL);
            out->timed_out = 1;
        }
        nanosleep(&tick, NULL);
    }
    out->wall_s = (double)(sky_monotonic_ns() - start) / 1e9;
    out->cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    out->maxrss_kib = ru.ru_maxrss;
    out->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (out->status == 127)
        return sky_err(errstr, errstr_size, SKY_EIO, "%s: not found or not executable",
                       argv[0]);
    return 0;
}

static void report_init(sky_peer_report_t *r) {
    *r = (sky_peer_report_t){-1, -1, -1, -1, -1, -1, -1, -1, -1};
}

/* The last line of text that contains needle (the tools print a final summary). */
static const char *last_line_with(const char *text, const char *needle) {
    const char *found = NULL, *p = text;
    while ((p = strstr(p, needle)) != NULL) {
        found = p;
        p += strlen(needle);
    }
    if (!found)
        return NULL;
    while (found > text && found[-1] != '\n')
        found--;
    return found;
}

int sky_peer_parse_rdkafka_performance(const char *text, sky_peer_report_t *out, char *errstr,
                                       size_t errstr_size) {
    report_init(out);
    const char *l = last_line_with(text, " msgs/s and ");
    long long n;
    if (!l || sscanf(l, "%% %lld messages produced", &n) != 1)
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "rdkafka_performance: no \"%% N messages produced ... msgs/s\" summary");
    /* Its "produced" counter drops a record still in the queue at the last stats tick
     * even when the flush at exit delivers it (then it exits 1 with "499999 produced,
     * 500000 delivered"): what counts is delivered and failed. */
    const char *dr = strstr(l, " delivered (offset ");
    const char *digits = dr;
    while (digits && digits > l && isdigit((unsigned char)digits[-1]))
        digits--;
    long long delivered = 0, failed = 0, offset;
    if (!dr || digits == dr || sscanf(digits, "%lld", &delivered) != 1 ||
        sscanf(dr, " delivered (offset %lld, %lld failed)", &offset, &failed) != 2)
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "rdkafka_performance: summary without \"N delivered (offset O, F "
                       "failed)\"");
    if (failed > 0)
        return sky_err(errstr, errstr_size, SKY_EKAFKA,
                       "rdkafka_performance: %lld of its records failed delivery", failed);
    const char *rate = strstr(l, " in ");
    double ms, msgs, mb;
    if (!rate || sscanf(rate, " in %lfms: %lf msgs/s and %lf MB/s", &ms, &msgs, &mb) != 3)
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "rdkafka_performance: summary without \"in Tms: R msgs/s and M MB/s\"");
    out->messages = delivered;
    out->msgs_s = msgs;
    out->mb_s = mb;
    return 0;
}

int sky_peer_parse_producer_performance(const char *text, sky_peer_report_t *out, char *errstr,
                                        size_t errstr_size) {
    report_init(out);
    const char *l = last_line_with(text, " records sent, ");
    long long n;
    if (!l || sscanf(l,
                     "%lld records sent, %lf records/sec (%lf MB/sec), %lf ms avg latency, %lf ms "
                     "max latency, %lf ms 50th, %lf ms 95th, %lf ms 99th, %lf ms 99.9th",
                     &n, &out->msgs_s, &out->mb_s, &out->avg_ms, &out->max_ms, &out->p50_ms,
                     &out->p95_ms, &out->p99_ms, &out->p999_ms) != 9)
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "ProducerPerformance: no final \"N records sent, R records/sec ... "
                       "99.9th\" line");
    out->messages = n;
    return 0;
}

int sky_peer_parse_end_to_end_latency(const char *text, sky_peer_report_t *out, char *errstr,
                                      size_t errstr_size) {
    report_init(out);
    const char *avg = last_line_with(text, "Avg latency: ");
    const char *pct = last_line_with(text, "Percentiles: ");
    if (!avg || !pct || sscanf(avg, "Avg latency: %lf ms", &out->avg_ms) != 1 ||
        sscanf(pct, "Percentiles: 50th = %lf, 99th = %lf, 99.9th = %lf", &out->p50_ms,
               &out->p99_ms, &out->p999_ms) != 3)
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "EndToEndLatency: no \"Avg latency: A ms\" and \"Percentiles: 50th = P, "
                       "99th = P, 99.9th = P\" lines");
    return 0;
}

int sky_peer_parse_copy(const char *text, sky_peer_report_t *out, char *errstr,
                        size_t errstr_size) {
    report_init(out);
    const char *l = last_line_with(text, "COPY ");
    long long n;
    if (!l || sscanf(l, "COPY %lld", &n) != 1 || n < 0)
        return sky_err(errstr, errstr_size, SKY_EINVAL, "psql: no \"COPY N\" command tag");
    out->messages = n;
    return 0;
}

int sky_peer_parse_tile38_benchmark(const char *text, sky_peer_report_t *out, char *errstr,
                                    size_t errstr_size) {
    static const char tag[] = "SET (point): ", unit[] = " requests per second";
    report_init(out);
    /* -q rewrites one line with \r while it runs ("SET (point): 0.00\r..."): the final
     * figure is the last one followed by its unit */
    for (const char *p = strstr(text, tag); p; p = strstr(p + 1, tag)) {
        char *end;
        double v = strtod(p + sizeof tag - 1, &end);
        if (end != p + sizeof tag - 1 && strncmp(end, unit, sizeof unit - 1) == 0 && v > 0)
            out->msgs_s = v;
    }
    if (out->msgs_s <= 0)
        return sky_err(errstr, errstr_size, SKY_EINVAL,
                       "tile38-benchmark: no \"SET (point): R requests per second\" line");
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

sky_spread_t sky_spread_of(double *v, size_t n) {
    sky_spread_t s = {0, 0, 0};
    if (n == 0)
        return s;
    qsort(v, n, sizeof *v, cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
    return s;
}
