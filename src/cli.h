/* What every skyload command shares: the common options, logging to stderr,
 * signal handling and the terminal status line. CLI only: the library never prints. */
#ifndef SKY_CLI_H
#define SKY_CLI_H

#include "kafka.h"

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>

typedef int(sky_cmd_fn)(int argc, char **argv);

struct sky_cmd {
    const char *name;
    sky_cmd_fn *fn;
    const char *summary;
};

/* The local stack's addresses (deploy/local/stack): the defaults of every command. */
#define CLI_TILE38_DEFAULT "127.0.0.1:9851"
#define CLI_PG_DEFAULT_HOST "127.0.0.1"
#define CLI_PG_DEFAULT_PORT "5432"
#define CLI_PG_DEFAULT_USER "skyload"
#define CLI_PG_DEFAULT_DBNAME "skyload"

/* Options accepted by every command (DESIGN.md "The command line"). Precedence,
 * highest first: the flag, then SKY_BROKERS / SKY_TILE38 (what `deploy/local/stack
 * env` exports), then the local stack's address. */
typedef struct cli_common {
    sky_kconf_t kafka; /* -b and -X; brokers NULL = SKY_DEFAULT_BROKERS */
    const char *topic; /* -t */
    bool topic_set;    /* -t was given (else the scenario's topic may apply) */
    bool pg_set;       /* --pg was given */
    const char *tile38; /* --tile38 HOST:PORT, or "none" */
    const char *pg;     /* --pg CONNINFO ("" = PG* variables, then the stack's defaults) */
    bool json;          /* --json */
} cli_common_t;

/* getopt_long ids for the long-only common options. */
enum { OPT_TILE38 = 1000, OPT_PG, OPT_LOG_LEVEL, OPT_JSON, OPT_HELP, OPT_FIRST_CMD = 1100 };

#define CLI_COMMON_SHORT "b:t:X:h"
#define CLI_COMMON_LONG                                                                            \
    {"brokers", required_argument, NULL, 'b'}, {"topic", required_argument, NULL, 't'},           \
        {"tile38", required_argument, NULL, OPT_TILE38}, {"pg", required_argument, NULL, OPT_PG},  \
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},                                     \
        {"json", no_argument, NULL, OPT_JSON}, {"help", no_argument, NULL, 'h'}

#define CLI_COMMON_HELP                                                                            \
    "Common options:\n"                                                                            \
    "  -b, --brokers LIST     Kafka bootstrap servers (default $SKY_BROKERS, else\n"              \
    "                         127.0.0.1:9092)\n"                                                    \
    "  -t, --topic NAME       Kafka topic (default flights)\n"                                     \
    "  -X KEY=VALUE           librdkafka property, passed through (-X list shows them all)\n"      \
    "      --tile38 HOST:PORT Tile38 server, or none (default $SKY_TILE38, else 127.0.0.1:9851)\n" \
    "      --pg CONNINFO      PostgreSQL conninfo; unset keys come from a service file, the PG*\n" \
    "                         variables, then host=127.0.0.1 port=5432 user=skyload\n"           \
    "                         dbname=skyload (the local stack); PGPASSWORD or ~/.pgpass\n"      \
    "      --log-level LEVEL  error, warn, info (default) or debug\n"                              \
    "      --json             machine-readable output\n"                                           \
    "  -h, --help             this help\n"

/* Fills the defaults above and calls cli_pg_defaults(). */
void cli_common_init(cli_common_t *c);
/* Makes the local stack's PostgreSQL (host 127.0.0.1, port 5432, user and
 * database skyload) libpq's fallback by setting PGHOST, PGPORT, PGUSER and
 * PGDATABASE where they are unset or empty (PGHOST not when PGHOSTADDR is set):
 * --pg, a service file and the user's PG* variables still win, key by key. */
void cli_pg_defaults(void);
/* true when --tile38 (or SKY_TILE38) says "none": no Tile38 at all. */
bool cli_tile38_none(const cli_common_t *c);
void cli_common_free(cli_common_t *c);
/* Handles one common option. Returns 1 if handled, 0 if not a common option,
 * -1 after printing an error (exit status 2), -2 when the command should exit 0
 * (-X list printed). 'h' is not handled here: each command prints its own help. */
int cli_common_opt(cli_common_t *c, int opt, const char *arg);

/* ---- one parser for every command's arguments ---- */

/* What a command adds to the common options. `own` gets each of the command's own
 * options (the common ones, -h and unknown options never reach it) and returns 0, or
 * cli_usage_error()'s 2. `args` gets the positional arguments once all options are
 * read (NULL: the command takes none) and returns 0 or 2 likewise. */
struct cli_geofence;

typedef struct cli_spec {
    const char *cmd;                /* "tail" */
    const char *help;               /* the whole --help text */
    const char *shortopts;          /* the command's own short options ("g:o:c:e"), or "" */
    const struct option *longopts;  /* its own long options, NULL-terminated (may be NULL) */
    int (*own)(void *opts, int opt, const char *arg);
    int (*args)(void *opts, int argc, char **argv);
    /* The command's geofence options (cli_geofence.h: --airspaces, --geofence-route,
     * --events-topic), or NULL when it has none. */
    struct cli_geofence *(*geofence)(void *opts);
} cli_spec_t;

enum { CLI_GO = 0, CLI_EXIT_OK = -2 };
/* Parses argv: the common options into c (cli_common_init first), the command's own
 * through spec->own, then the positional arguments. Returns CLI_GO, CLI_EXIT_OK (--help
 * or -X list printed: exit 0) or 2 (a usage error, printed). */
int cli_parse(const cli_spec_t *spec, cli_common_t *c, void *opts, int argc, char **argv);
/* CLI_EXIT_OK -> 0; anything else unchanged. */
static inline int cli_parse_status(int rc) {
    return rc == CLI_EXIT_OK ? 0 : rc;
}

/* The end of a command: prints err when rc failed, explains an unknown topic or a
 * server that did not answer (exit status 3, for the servers in `uses`), frees c and
 * returns the exit status of rc (0, 1, 2 or 3). */
int cli_finish(const char *cmd, cli_common_t *c, int rc, const char *err, unsigned uses);

/* The servers a command talks to (cli_explain_unreachable). */
enum { CLI_USES_KAFKA = 1, CLI_USES_PG = 2, CLI_USES_TILE38 = 4 };
/* Asks each server in `uses` whether it answers (TCP for Kafka and Tile38, PQping with
 * libpq's resolved address for PostgreSQL, about a second at most) and prints, for each
 * that does not, the address tried and the option that names another; then how to
 * start the local stack when that was the address. Returns true when one was down.
 * For a command that failed with exit status 3. */
bool cli_explain_unreachable(const char *cmd, const cli_common_t *c, unsigned uses);

/* After "unknown topic": lists the topics the brokers have, and the nearest name. */
void cli_explain_missing_topic(const char *cmd, const cli_common_t *c, const char *topic);

/* Logging to stderr with the program name; level from --log-level. */
void cli_log_init(void);
/* Prints "skyload <cmd>: message" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Reports an unknown option / missing argument with a hint; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* SIGINT/SIGTERM counter: the first asks to stop cleanly, a second to hurry. */
extern volatile sig_atomic_t cli_stop;
void cli_install_signals(void);

/* A status line on stderr, redrawn at most 4 times a second, only on a terminal. */
typedef struct cli_status {
    bool enabled;
    int64_t last_ns;
} cli_status_t;
void cli_status_init(cli_status_t *s);
void cli_status_update(cli_status_t *s, bool force, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cli_status_clear(cli_status_t *s);

#endif
