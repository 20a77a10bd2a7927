/* `skyload bench capacity`'s outputs: the step table (stdout and capacity.txt), the
 * knee line, capacity.json, capacity.dat and the gnuplot chart. */
#ifndef SKY_CAPACITY_REPORT_H
#define SKY_CAPACITY_REPORT_H

#include "capacity.h"

#include <stdio.h>

void sky_capacity_print_header(FILE *f);
/* One row of the table; its step number is the order it ran in (step->run). */
void sky_capacity_print_step(FILE *f, const sky_ramp_step_t *step);
/* "knee: step 3, 18000 aircraft = ..." or "knee: none ...". */
void sky_capacity_print_knee(FILE *f, const sky_capacity_result_t *r);
/* The stage table (per step: each stage's p50/p99, sinks' busy share, CPUs) and, for
 * each step that failed, what broke it. */
void sky_capacity_print_stages(FILE *f, const sky_capacity_result_t *r);
/* The components measured alone, the knee's ratio to the slowest, the CPUs at the
 * knee, and e2e p99 at half the knee against EndToEndLatency's p99 + 250 ms. */
void sky_capacity_print_targets(FILE *f, const sky_capacity_result_t *r);
/* The three above, in that order: what follows the step table. */
void sky_capacity_print_results(FILE *f, const sky_capacity_result_t *r);

/* Writes dir/capacity.txt, capacity.json, capacity.dat and, when gnuplot runs,
 * capacity.png and capacity.svg (plot_script: bench/plot.gp). A chart that cannot be
 * drawn is a warning in errstr with 0 returned; a file that cannot be written is
 * SKY_EIO. */
int sky_capacity_write_report(const char *dir, const sky_capacity_result_t *r,
                              const char *scenario, const char *plot_script, char *errstr,
                              size_t errstr_size);

#endif
