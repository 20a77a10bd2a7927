/* Shared CLI plumbing: common options, logging, signals, status line. */
#include "cli.h"

#include "cli_geofence.h"

#include "error.h"
#include "log.h"
#include "timefmt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

volatile sig_atomic_t cli_stop;
static int log_level = SKY_LOG_INFO;

/* An exported variable that is set and not empty, else NULL. */
static const char *env_value(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

void cli_pg_defaults(void) {
    /* libpq resolves each connection parameter from the conninfo (--pg), then a
     * service (service= or PGSERVICE), then PG* variables, then its compiled-in
     * defaults (the unix socket, user = dbname = the OS user). Setting the
     * variables nobody set puts the local stack exactly in that last place, so
     * --pg, a service file and the user's own PG* keep winning over it, key by
     * key, at every connection skyload opens (and in any psql it starts). */
    if (!env_value("PGHOST") && !env_value("PGHOSTADDR"))
        setenv("PGHOST", CLI_PG_DEFAULT_HOST, 1);
    if (!env_value("PGPORT"))
        setenv("PGPORT", CLI_PG_DEFAULT_PORT, 1);
    if (!env_value("PGUSER"))
        setenv("PGUSER", CLI_PG_DEFAULT_USER, 1);
    if (!env_value("PGDATABASE"))
        setenv("PGDATABASE", CLI_PG_DEFAULT_DBNAME, 1);
}

void cli_common_init(cli_common_t *c) {
    memset(c, 0, sizeof *c);
    c->topic = "flights";
    c->kafka.brokers = env_value("SKY_BROKERS"); /* NULL: SKY_DEFAULT_BROKERS */
    c->tile38 = env_value("SKY_TILE38");
    if (!c->tile38)
        c->tile38 = CLI_TILE38_DEFAULT;
    c->pg = "";
    cli_pg_defaults();
}

bool cli_tile38_none(const cli_common_t *c) {
    return c->tile38 && strcmp(c->tile38, "none") == 0;
}

void cli_common_free(cli_common_t *c) {
    sky_kconf_free(&c->kafka);
}

static void stderr_logger(void *opaque, int level, const char *msg) {
    static const char *const names[] = {"error", "warning", "info", "debug"};
    (void)opaque;
    fprintf(stderr, "skyload: %s: %s\n", names[level], msg);
}

void cli_log_init(void) {
    sky_log_set(stderr_logger, NULL, log_level);
}

int cli_common_opt(cli_common_t *c, int opt, const char *arg) {
    char err[512];
    switch (opt) {
    case 'b': c->kafka.brokers = arg; return 1;
    case 't':
        c->topic = arg;
        c->topic_set = true;
        return 1;
    case 'X':
        if (strcmp(arg, "list") == 0) {
            sky_kconf_show_properties(stdout);
            return -2;
        }
        if (sky_kconf_add(&c->kafka, arg, err, sizeof err)) {
            fprintf(stderr, "skyload: %s\n", err);
            return -1;
        }
        return 1;
    case OPT_TILE38: c->tile38 = arg; return 1;
    case OPT_PG:
        c->pg = arg;
        c->pg_set = true;
        return 1;
    case OPT_JSON: c->json = true; return 1;
    case OPT_LOG_LEVEL: {
        int lvl = sky_log_level_parse(arg);
        if (lvl < 0) {
            fprintf(stderr, "skyload: --log-level: \"%s\" is not error, warn, info or debug\n", arg);
            return -1;
        }
        log_level = lvl;
        cli_log_init();
        return 1;
    }
    default: return 0;
    }
}

/* The common long options, the geofence ones when asked, then the command's own, in
 * one array for getopt_long. */
static struct option *merged_longopts(const struct option *own, bool geofence) {
    static const struct option common[] = {CLI_COMMON_LONG};
    static const struct option geo[] = {CLI_GEOFENCE_LONG};
    size_t ncommon = sizeof common / sizeof common[0];
    size_t ngeo = geofence ? sizeof geo / sizeof geo[0] : 0, nown = 0;
    while (own && own[nown].name)
        nown++;
    struct option *all = calloc(ncommon + ngeo + nown + 1, sizeof *all);
    if (!all)
        return NULL;
    memcpy(all, common, sizeof common);
    if (ngeo)
        memcpy(all + ncommon, geo, sizeof geo);
    if (nown)
        memcpy(all + ncommon + ngeo, own, nown * sizeof *own);
    return all;
}

int cli_parse(const cli_spec_t *spec, cli_common_t *c, void *opts, int argc, char **argv) {
    char shortopts[128];
    snprintf(shortopts, sizeof shortopts, "%s%s", CLI_COMMON_SHORT,
             spec->shortopts ? spec->shortopts : "");
    struct option *longopts = merged_longopts(spec->longopts, spec->geofence != NULL);
    if (!longopts) {
        cli_error(spec->cmd, "out of memory");
        return 2;
    }
    int rc = CLI_GO, opt;
    optind = 1; /* each command parses a fresh argv */
    while (rc == CLI_GO && (opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        int common = cli_common_opt(c, opt, optarg);
        if (common == 1)
            continue;
        cli_geofence_t *g = spec->geofence ? spec->geofence(opts) : NULL;
        int geo = g ? cli_geofence_opt(g, spec->cmd, opt, optarg) : 0;
        if (geo == 1)
            continue;
        if (geo)
            rc = geo;
        else if (common < 0)
            rc = common == -2 ? CLI_EXIT_OK : 2;
        else if (opt == 'h')
            rc = fputs(spec->help, stdout) < 0 ? 2 : CLI_EXIT_OK;
        else if (opt == '?' || opt == ':' || !spec->own)
            rc = cli_usage_error(spec->cmd, "unknown option");
        else
            rc = spec->own(opts, opt, optarg);
    }
    free(longopts);
    if (rc != CLI_GO)
        return rc;
    if (spec->args)
        return spec->args(opts, argc - optind, argv + optind);
    if (optind < argc)
        return cli_usage_error(spec->cmd, "unexpected argument \"%s\"", argv[optind]);
    return CLI_GO;
}

int cli_finish(const char *cmd, cli_common_t *c, int rc, const char *err, unsigned uses) {
    int status = sky_exit_status(rc);
    if (rc)
        cli_error(cmd, "%s", err);
    if (status == 3 && (uses & CLI_USES_KAFKA) && strstr(err, "Unknown topic"))
        cli_explain_missing_topic(cmd, c, c->topic);
    else if (status == 3)
        cli_explain_unreachable(cmd, c, uses);
    cli_common_free(c);
    return status;
}

void cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "skyload %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "skyload %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'skyload %s --help'.\n", cmd);
    return 2;
}

static void on_signal(int sig) {
    (void)sig;
    if (cli_stop < 100)
        cli_stop++;
}

void cli_install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void cli_status_init(cli_status_t *s) {
    s->enabled = isatty(STDERR_FILENO) && getenv("SKY_NO_STATUS") == NULL;
    s->last_ns = 0;
}

void cli_status_update(cli_status_t *s, bool force, const char *fmt, ...) {
    if (!s->enabled)
        return;
    int64_t now = sky_monotonic_ns();
    if (!force && now - s->last_ns < 250000000)
        return;
    s->last_ns = now;
    va_list ap;
    fputs("\r\033[K", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
}

void cli_status_clear(cli_status_t *s) {
    if (s->enabled) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}
