/* /proc/<pid>/stat readers behind the capacity ramp's CPU and RSS columns. */
#include "procstat.h"

#include "error.h"
#include "parse.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sky_proc_parse_stat(const char *line, sky_proc_stat_t *out) {
    /* The command name may hold spaces and ")": the fields start after the last ")". */
    const char *p = strrchr(line, ')');
    if (!p)
        return SKY_EINVAL;
    p++;
    /* Fields from 3 (state) on: ppid is 4, utime 14, stime 15, cutime 16, cstime 17, rss 24. */
    long long f[25] = {0};
    int field = 3;
    while (*p && field <= 24) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        char *end;
        if (field == 3) {
            p++;
        } else {
            f[field] = strtoll(p, &end, 10);
            if (end == p)
                return SKY_EINVAL;
            p = end;
        }
        field++;
    }
    if (field <= 24 || f[14] < 0 || f[15] < 0 || f[16] < 0 || f[17] < 0)
        return SKY_EINVAL;
    out->ppid = (pid_t)f[4];
    out->ticks = (uint64_t)f[14] + (uint64_t)f[15];
    out->waited_children_ticks = (uint64_t)f[16] + (uint64_t)f[17];
    out->rss_pages = f[24];
    return 0;
}

static int read_stat(pid_t pid, sky_proc_stat_t *st) {
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return SKY_EIO;
    char *ok = fgets(line, sizeof line, f);
    fclose(f);
    return ok ? sky_proc_parse_stat(line, st) : SKY_EIO;
}

static void add_children(pid_t parent, uint64_t *ticks, int64_t *pages) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        sky_proc_stat_t st;
        if (*end || pid <= 0 || read_stat((pid_t)pid, &st) || st.ppid != parent)
            continue;
        *ticks += st.ticks;
        *pages += st.rss_pages;
    }
    closedir(d);
}

int sky_proc_usage(pid_t pid, bool children, sky_proc_usage_t *out, char *errstr,
                   size_t errstr_size) {
    sky_proc_stat_t st;
    if (read_stat(pid, &st))
        return sky_err(errstr, errstr_size, SKY_EIO, "/proc/%d/stat: cannot read (%s)", (int)pid,
                       strerror(errno));
    uint64_t ticks = st.ticks;
    int64_t pages = st.rss_pages;
    if (children) {
        ticks += st.waited_children_ticks;
        add_children(pid, &ticks, &pages);
    }
    long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    out->cpu_s = (double)ticks / (double)(hz > 0 ? hz : 100);
    out->rss_kib = pages * (page > 0 ? page : 4096) / 1024;
    return 0;
}

int sky_proc_read_pidfile(const char *path, pid_t *out, char *errstr, size_t errstr_size) {
    char line[64];
    FILE *f = fopen(path, "r");
    if (!f)
        return sky_err(errstr, errstr_size, SKY_EIO, "%s: %s", path, strerror(errno));
    char *ok = fgets(line, sizeof line, f);
    fclose(f);
    int64_t v;
    if (ok)
        line[strcspn(line, "\r\n")] = '\0';
    if (!ok || sky_parse_i64(line, 1, 4194304, &v, path, errstr, errstr_size))
        return sky_err(errstr, errstr_size, SKY_EINVAL, "%s:1: not a process id", path);
    *out = (pid_t)v;
    return 0;
}

int sky_sys_cpu_parse(const char *line, uint64_t *busy_ticks, uint64_t *total_ticks) {
    unsigned long long v[8] = {0};
    /* cpu  user nice system idle iowait irq softirq steal ... */
    if (strncmp(line, "cpu ", 4) != 0 ||
        sscanf(line + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) < 4)
        return SKY_EINVAL;
    uint64_t total = 0;
    for (int i = 0; i < 8; i++)
        total += v[i];
    *total_ticks = total;
    *busy_ticks = total - v[3] - v[4];
    return 0;
}

int sky_sys_cpu(uint64_t *busy_ticks, uint64_t *total_ticks) {
    char line[512];
    FILE *f = fopen("/proc/stat", "r");
    int rc = f && fgets(line, sizeof line, f) ? sky_sys_cpu_parse(line, busy_ticks, total_ticks)
                                              : SKY_EIO;
    if (f)
        fclose(f);
    return rc;
}
