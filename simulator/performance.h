/* Aircraft performance drawn from distributions: OpenAP WRAP's per-model, per-phase
 * statistical models (scenarios/data/performance.csv) as quantile tables, so a flight
 * draws each figure with one uniform number and one lookup; and the ISA atmosphere that
 * turns the CAS and Mach of those figures into true airspeed. */
#ifndef SKY_PERFORMANCE_H
#define SKY_PERFORMANCE_H

#include <stddef.h>

/* The WRAP variables the profile uses (performance.csv's `variable` column). */
typedef enum sky_perf_var {
    SKY_PV_TO_V_LOF,       /* to_v_lof: lift-off speed, m/s */
    SKY_PV_CL_V_CAS,       /* cl_v_cas_const: climb CAS, m/s */
    SKY_PV_CL_V_MACH,      /* cl_v_mach_const: climb Mach */
    SKY_PV_CL_H_CAS,       /* cl_h_cas_const: constant-CAS climb starts, km */
    SKY_PV_CL_H_MACH,      /* cl_h_mach_const: constant-Mach climb starts, km */
    SKY_PV_CL_VS_PRE,      /* cl_vs_avg_pre_cas, m/s */
    SKY_PV_CL_VS_CAS,      /* cl_vs_avg_cas_const, m/s */
    SKY_PV_CL_VS_MACH,     /* cl_vs_avg_mach_const, m/s */
    SKY_PV_CR_MACH,        /* cr_v_mach_mean */
    SKY_PV_CR_H_INIT,      /* cr_h_init: initial cruise altitude, km */
    SKY_PV_CR_H_MAX,       /* cr_h_max: highest cruise altitude, km */
    SKY_PV_DE_V_MACH,      /* de_v_mach_const */
    SKY_PV_DE_V_CAS,       /* de_v_cas_const, m/s */
    SKY_PV_DE_H_MACH,      /* de_h_mach_const: constant-Mach descent ends, km */
    SKY_PV_DE_H_CAS,       /* de_h_cas_const: constant-CAS descent ends, km */
    SKY_PV_DE_VS_MACH,     /* de_vs_avg_mach_const, m/s (negative) */
    SKY_PV_DE_VS_CAS,      /* de_vs_avg_cas_const, m/s (negative) */
    SKY_PV_DE_VS_AFTER,    /* de_vs_avg_after_cas, m/s (negative) */
    SKY_PV_FA_VA,          /* fa_va_avg: final approach speed, m/s */
    SKY_PV_FA_VS,          /* fa_vs_avg: final approach vertical rate, m/s (negative) */
    SKY_PV_LD_V_APP,       /* ld_v_app: touchdown speed, m/s */
    SKY_PV_COUNT
} sky_perf_var_t;

/* Knots of a quantile table: the inverse CDF at u = 0.002 .. 0.998 in equal steps. */
#define SKY_PERF_KNOTS 65

/* The variable's index for a performance.csv name, or -1 (a variable the profile
 * does not use). */
int sky_perf_var(const char *name);
const char *sky_perf_var_name(int var);

/* Fills q with the quantile table of a statistical model ("norm": loc scale; "beta":
 * a b loc scale; "gamma": a loc scale, scipy's parameter order as WRAP publishes it).
 * Returns 0, or -1 with the reason in errstr. */
int sky_perf_quantiles(const char *statmodel, const double p[4], float q[SKY_PERF_KNOTS],
                       char *errstr, size_t errstr_size);

/* The draw for uniform u in [0, 1): the table interpolated linearly. */
double sky_perf_draw(const float q[SKY_PERF_KNOTS], double u);

/* ISA (no temperature offset): speed of sound and TAS at pressure altitude h_ft, in kt. */
double sky_isa_sound_kt(double h_ft);
double sky_isa_tas_from_mach(double mach, double h_ft);
double sky_isa_tas_from_cas(double cas_kt, double h_ft);

#endif
