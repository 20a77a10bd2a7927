/* CPU time and resident memory of a process (and optionally its direct
 * children, as PostgreSQL's backends are) from /proc, for the capacity ramp. */
#ifndef SKY_PROCSTAT_H
#define SKY_PROCSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct sky_proc_usage {
    double cpu_s;    /* user + system seconds so far */
    int64_t rss_kib; /* resident set now */
} sky_proc_usage_t;

/* Reads /proc/<pid>/stat. With children, adds every live process whose parent
 * is pid (CPU and RSS) and the CPU of the children pid already waited for
 * (cutime + cstime), so the total never drops when a backend exits.
 * Returns 0 or SKY_EIO when pid is gone. */
int sky_proc_usage(pid_t pid, bool children, sky_proc_usage_t *out, char *errstr,
                   size_t errstr_size);

/* Parses the fields after the ")" of a /proc/<pid>/stat line: ppid, utime +
 * stime and cutime + cstime (clock ticks), rss (pages). Returns 0 or SKY_EINVAL. */
typedef struct sky_proc_stat {
    pid_t ppid;
    uint64_t ticks, waited_children_ticks;
    int64_t rss_pages;
} sky_proc_stat_t;
int sky_proc_parse_stat(const char *line, sky_proc_stat_t *out);

/* The whole machine's CPU time from /proc/stat: ticks busy (everything but idle and
 * iowait) and in all, summed over the CPUs. 0 or SKY_EIO. */
int sky_sys_cpu(uint64_t *busy_ticks, uint64_t *total_ticks);
/* Parses /proc/stat's first ("cpu ") line; 0 or SKY_EINVAL. */
int sky_sys_cpu_parse(const char *line, uint64_t *busy_ticks, uint64_t *total_ticks);

/* Reads the first line of a pid file (Kafka's pid, PostgreSQL's postmaster.pid). */
int sky_proc_read_pidfile(const char *path, pid_t *out, char *errstr, size_t errstr_size);

#endif
