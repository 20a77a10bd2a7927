/* The report pages a person would rather look at: report.html beside verify's
 * text, JSON and JUnit (the checks as a table, latency per stage as HdrHistogram
 * percentile curves with the SLO, a map of sampled tracks coloured by phase),
 * and capacity.html beside bench capacity's PNG. One file each, everything
 * inline (uPlot, Leaflet, Natural Earth, the data): it works opened from disk. */
#ifndef SKY_REPORT_HTML_H
#define SKY_REPORT_HTML_H

#include "kafka.h"
#include "report_tracks.h"
#include "verify.h"

#include <jansson.h>
#include <stddef.h>

/* Writes the run report page to path. tracks may be NULL (the page says
 * tracks_error instead, or that there are none). 0 or SKY_EIO/SKY_ENOMEM. */
int sky_verify_report_write_html(const sky_verify_report_t *r, const sky_report_tracks_t *tracks,
                                 const char *tracks_error, const char *path, char *errstr,
                                 size_t errstr_size);

/* Reads the tracks of a sample of the run's flights from the topic (see
 * report_tracks.h) and writes the page: the one call for `run` and `verify`.
 * Failing to read the tracks is not an error (the page says why). */
int sky_verify_write_report_page(const sky_verify_report_t *r, const sky_kconf_t *kafka,
                                 const char *topic, const char *const *manifest_paths,
                                 size_t nmanifests, const char *path, char *errstr,
                                 size_t errstr_size);

/* capacity.html from the JSON `skyload bench capacity` writes (capacity.json):
 * offered vs stored per step, end-to-end p99 against the SLO, CPU per process. */
int sky_capacity_write_html(const json_t *capacity, const char *path, char *errstr,
                            size_t errstr_size);

/* The points of one percentile curve: x = 1/(1-p) from 1 up to the sample
 * count, ten per decade, and the value there in milliseconds (h in microseconds).
 * Returns how many were written (at most cap). */
size_t sky_report_curve(const sky_hist_t *h, double *x, double *ms, size_t cap);

#endif
