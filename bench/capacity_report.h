/* `skyload bench capacity`'s outputs: the step table (stdout and capacity.txt), the
 * knee line, capacity.json, capacity.dat and the gnuplot chart. */
#ifndef SKY_CAPACITY_REPORT_H
#define SKY_CAPACITY_REPORT_H

#include "capacity.h"

#include <stdio.h>

void sky_capacity_print_header(FILE *f);
void sky_capacity_print_step(FILE *f, size_t index, const sky_ramp_step_t *step);
/* "knee: step 3, 18000 aircraft = ..." or "knee: none ...". */
void sky_capacity_print_knee(FILE *f, const sky_capacity_result_t *r);

/* Writes dir/capacity.txt, capacity.json, capacity.dat and, when gnuplot runs,
 * capacity.png and capacity.svg (plot_script: bench/plot.gp). A chart that cannot be
 * drawn is a warning in errstr with 0 returned; a file that cannot be written is
 * SKY_EIO. */
int sky_capacity_write_report(const char *dir, const sky_capacity_result_t *r,
                              const char *scenario, const char *plot_script, char *errstr,
                              size_t errstr_size);

#endif
