/* The verify report's building blocks: named checks with counts and up to
 * SKY_VERIFY_MAX_EXAMPLES concrete examples, and latency stages with their
 * SLO thresholds. The checks fill it; report_write.c renders it. */
#ifndef SKY_VERIFY_REPORT_H
#define SKY_VERIFY_REPORT_H

#include "verify.h"

#include <stdarg.h>

#define SKY_VERIFY_MAX_EXAMPLES 20
#define SKY_VERIFY_DETAIL_MAX 160
#define SKY_VERIFY_MAX_COUNTS 12
#define SKY_VERIFY_NPCT 5 /* p50, p90, p99, p99.9, max */

typedef enum sky_check_status { SKY_CHECK_PASS = 0, SKY_CHECK_FAIL, SKY_CHECK_SKIP } sky_check_status_t;

typedef struct sky_verify_example {
    char flight[64];
    int64_t seq;       /* -1 when not applicable */
    int32_t partition; /* -1 when not applicable */
    int64_t offset;    /* -1 when not applicable */
    char detail[SKY_VERIFY_DETAIL_MAX];
} sky_verify_example_t;

typedef struct sky_verify_count {
    const char *name; /* static string */
    int64_t value;
} sky_verify_count_t;

typedef struct sky_verify_check {
    char name[48];
    sky_check_status_t status;
    char summary[256];
    sky_verify_count_t counts[SKY_VERIFY_MAX_COUNTS];
    size_t ncounts;
    uint64_t nproblems; /* every problem, also those beyond the stored examples */
    sky_verify_example_t examples[SKY_VERIFY_MAX_EXAMPLES];
    size_t nexamples;
} sky_verify_check_t;

typedef struct sky_verify_stage {
    char name[32];
    char source[32]; /* "manifest", "kafka", "ingest-stats", "postgresql" */
    sky_hist_t *hist; /* microseconds; owned by the report */
    double slo_ms[SKY_VERIFY_NPCT]; /* < 0: no threshold */
} sky_verify_stage_t;

/* Percentile names and values in the order of slo_ms ("max" is 100). */
extern const char *const sky_verify_pct_names[SKY_VERIFY_NPCT];
extern const double sky_verify_pct_values[SKY_VERIFY_NPCT];

struct sky_verify_report {
    sky_verify_check_t *checks;
    size_t nchecks, cap_checks;
    sky_verify_stage_t *stages;
    size_t nstages, cap_stages;
    char run_ids[256]; /* comma-separated, for the report header */
    char topic[256];
    int64_t flights;
    int64_t elapsed_ms;
};

sky_verify_report_t *sky_verify_report_new(void);
/* Adds a check with status PASS; NULL on allocation failure. The pointer is
 * valid until the next add_check. */
sky_verify_check_t *sky_verify_report_add_check(sky_verify_report_t *r, const char *name);
/* Adds a stage and takes ownership of hist (destroyed on failure too). */
sky_verify_stage_t *sky_verify_report_add_stage(sky_verify_report_t *r, const char *name,
                                                const char *source, sky_hist_t *hist);
sky_verify_stage_t *sky_verify_report_find_stage(sky_verify_report_t *r, const char *name);

void sky_verify_check_count(sky_verify_check_t *c, const char *name, int64_t value);
/* Records one problem and marks the check failed; the first SKY_VERIFY_MAX_EXAMPLES
 * are kept with their detail. Injected faults behaving as expected are counts, not problems. */
void sky_verify_check_problem(sky_verify_check_t *c, const char *flight, size_t flight_len,
                              int64_t seq, int32_t partition, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
void sky_verify_check_vproblem(sky_verify_check_t *c, const char *flight, size_t flight_len,
                               int64_t seq, int32_t partition, int64_t offset, const char *fmt,
                               va_list ap) __attribute__((format(printf, 7, 0)));
void sky_verify_check_set(sky_verify_check_t *c, sky_check_status_t st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *sky_check_status_name(sky_check_status_t st);

/* Compares every stage against its thresholds and adds one "slo.<stage>" check
 * per stage that has any. */
int sky_verify_report_judge_slo(sky_verify_report_t *r);
/* Sets the thresholds of the stages from {"latency_ms": {"<stage>": {"p99": 50, ...}}};
 * "pg_commit" also applies to "pg_commit_table". Unknown percentile names are an error. */
int sky_verify_report_apply_slo(sky_verify_report_t *r, const json_t *slo, const char *source,
                                char *errstr, size_t errstr_size);
/* Loads an SLO file (YAML or JSON); the returned object is owned by the caller (json_decref). */
json_t *sky_verify_slo_load(const char *path, char *errstr, size_t errstr_size);

#endif
