/* Quantile tables of WRAP's distributions and the ISA atmosphere (see performance.h). */
#include "performance.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define U_LO 0.002
#define U_HI 0.998

static const char *const var_names[SKY_PV_COUNT] = {
    "to_v_lof",          "cl_v_cas_const",      "cl_v_mach_const",     "cl_h_cas_const",
    "cl_h_mach_const",   "cl_vs_avg_pre_cas",   "cl_vs_avg_cas_const", "cl_vs_avg_mach_const",
    "cr_v_mach_mean",    "cr_h_init",           "cr_h_max",            "de_v_mach_const",
    "de_v_cas_const",    "de_h_mach_const",     "de_h_cas_const",      "de_vs_avg_mach_const",
    "de_vs_avg_cas_const", "de_vs_avg_after_cas", "fa_va_avg",         "fa_vs_avg",
    "ld_v_app"};

int sky_perf_var(const char *name) {
    for (int i = 0; i < SKY_PV_COUNT; i++)
        if (strcmp(name, var_names[i]) == 0)
            return i;
    return -1;
}

const char *sky_perf_var_name(int var) {
    return var >= 0 && var < SKY_PV_COUNT ? var_names[var] : "?";
}

int sky_perf_quantiles(const char *statmodel, const double p[4], float q[SKY_PERF_KNOTS],
                       char *errstr, size_t errstr_size) {
    int kind = strcmp(statmodel, "norm") == 0    ? 0
               : strcmp(statmodel, "beta") == 0  ? 1
               : strcmp(statmodel, "gamma") == 0 ? 2
                                                 : -1;
    if (kind < 0) {
        snprintf(errstr, errstr_size, "statmodel \"%s\" is not norm, beta or gamma", statmodel);
        return -1;
    }
    if ((kind == 0 && !(p[1] > 0)) || (kind == 1 && !(p[0] > 0 && p[1] > 0 && p[3] > 0)) ||
        (kind == 2 && !(p[0] > 0 && p[2] > 0))) {
        snprintf(errstr, errstr_size, "%s parameters out of range (shapes and scale must be > 0)",
                 statmodel);
        return -1;
    }
    for (int i = 0; i < SKY_PERF_KNOTS; i++) {
        double u = U_LO + (U_HI - U_LO) * i / (SKY_PERF_KNOTS - 1), x;
        if (kind == 0)
            x = p[0] + gsl_cdf_gaussian_Pinv(u, p[1]);
        else if (kind == 1)
            x = p[2] + p[3] * gsl_cdf_beta_Pinv(u, p[0], p[1]);
        else
            x = p[1] + gsl_cdf_gamma_Pinv(u, p[0], p[2]);
        if (!isfinite(x)) {
            snprintf(errstr, errstr_size, "%s quantile %.3f is not finite", statmodel, u);
            return -1;
        }
        q[i] = (float)x;
    }
    return 0;
}

double sky_perf_draw(const float q[SKY_PERF_KNOTS], double u) {
    double x = u * (SKY_PERF_KNOTS - 1);
    int i = (int)x;
    if (i >= SKY_PERF_KNOTS - 1)
        return q[SKY_PERF_KNOTS - 1];
    double f = x - i;
    return q[i] + (q[i + 1] - q[i]) * f;
}

/* ---- ISA ---- */

#define FT 0.3048
#define KT 0.514444
#define T0 288.15
#define P0 101325.0
#define RHO0 1.225
#define GAMMA 1.4
#define R_AIR 287.05287
#define G0 9.80665
#define LAPSE 0.0065
#define H_TROP 11000.0

static double isa_temperature(double h_m) {
    return h_m < H_TROP ? T0 - LAPSE * h_m : T0 - LAPSE * H_TROP;
}

static double isa_pressure(double h_m) {
    double t11 = T0 - LAPSE * H_TROP;
    double p11 = P0 * pow(t11 / T0, G0 / (LAPSE * R_AIR));
    if (h_m < H_TROP)
        return P0 * pow(isa_temperature(h_m) / T0, G0 / (LAPSE * R_AIR));
    return p11 * exp(-G0 / (R_AIR * t11) * (h_m - H_TROP));
}

double sky_isa_sound_kt(double h_ft) {
    return sqrt(GAMMA * R_AIR * isa_temperature(h_ft * FT)) / KT;
}

double sky_isa_tas_from_mach(double mach, double h_ft) { return mach * sky_isa_sound_kt(h_ft); }

/* The pressure ratio p / p0 every 250 ft from -2000 ft, interpolated: a plan converts a
 * dozen speeds, and pow() was most of it. */
#define P_STEP_FT 250.0
#define P_FROM_FT -2000.0
#define P_N 250 /* to 60,250 ft */
static double p_ratio[P_N];
static int p_ready;

static double pressure_ratio(double h_ft) {
    if (!p_ready) { /* the same values from every thread that gets here first */
        for (int i = 0; i < P_N; i++)
            p_ratio[i] = isa_pressure((P_FROM_FT + P_STEP_FT * i) * FT) / P0;
        __atomic_store_n(&p_ready, 1, __ATOMIC_RELEASE);
    }
    double x = (h_ft - P_FROM_FT) / P_STEP_FT;
    int i = x < 0 ? 0 : x >= P_N - 1 ? P_N - 2 : (int)x;
    double f = x - i;
    return p_ratio[i] + (p_ratio[i + 1] - p_ratio[i]) * f;
}

/* Compressible flow: impact pressure from CAS at sea level, Mach from it at altitude. */
double sky_isa_tas_from_cas(double cas_kt, double h_ft) {
    double a0 = sqrt(GAMMA * R_AIR * T0), cas = cas_kt * KT;
    double x = 1 + (GAMMA - 1) / 2 * (cas / a0) * (cas / a0); /* x^3.5 */
    double qc_p0 = x * x * x * sqrt(x) - 1;
    double mach = sqrt(2 / (GAMMA - 1) * (pow(qc_p0 / pressure_ratio(h_ft) + 1,
                                              (GAMMA - 1) / GAMMA) - 1));
    return sky_isa_tas_from_mach(mach, h_ft);
}
