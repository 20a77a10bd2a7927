/* Which server a command could not reach, at which address, and what to do: a
 * command that failed at run time (exit 3) asks each server it uses whether it
 * answers and names the ones that do not, with the fix. */
#include "cli.h"

#include "parse.h"

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 1500

/* 0 when host:port accepts a TCP connection within the timeout, else an errno. */
static int tcp_probe(const char *host, int port) {
    char service[16];
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(host, service, &hints, &res) != 0 || !res)
        return EHOSTUNREACH;
    int err = ECONNREFUSED;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            err = 0;
        } else if (errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            socklen_t len = sizeof err;
            if (poll(&p, 1, PROBE_TIMEOUT_MS) == 1)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            else
                err = ETIMEDOUT;
        } else {
            err = errno;
        }
        close(fd);
        if (err == 0)
            break;
    }
    freeaddrinfo(res);
    return err;
}

/* The bootstrap list librdkafka uses: -X bootstrap.servers (applied last) wins. */
static const char *kafka_brokers(const cli_common_t *c) {
    static const char *const keys[] = {"bootstrap.servers=", "metadata.broker.list="};
    const char *list = c->kafka.brokers ? c->kafka.brokers : SKY_DEFAULT_BROKERS;
    for (size_t i = 0; i < c->kafka.nprops; i++)
        for (size_t k = 0; k < 2; k++)
            if (strncmp(c->kafka.props[i], keys[k], strlen(keys[k])) == 0)
                list = c->kafka.props[i] + strlen(keys[k]);
    return list;
}

/* true when no broker of the list accepts a connection; names the first in addr. */
static bool kafka_down(const cli_common_t *c, char *addr, size_t addrsz, int *err) {
    const char *list = kafka_brokers(c);
    snprintf(addr, addrsz, "%s", list);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        char one[300], host[256], ignored[128];
        int port;
        if (n < sizeof one) {
            memcpy(one, p, n);
            one[n] = '\0';
            const char *hp = strstr(one, "://") ? strstr(one, "://") + 3 : one;
            if (!sky_parse_hostport(hp, host, sizeof host, &port, "broker", ignored,
                                    sizeof ignored) &&
                (*err = tcp_probe(host, port)) == 0)
                return false;
        }
        p += n + (p[n] == ',');
    }
    return true;
}

static bool tile38_down(const cli_common_t *c, int *err) {
    char host[256], ignored[128];
    int port;
    if (cli_tile38_none(c) ||
        sky_parse_hostport(c->tile38, host, sizeof host, &port, "--tile38", ignored,
                           sizeof ignored))
        return false; /* nothing to reach, or a usage error already reported */
    return (*err = tcp_probe(host, port)) != 0;
}

/* libpq resolves the address (conninfo, service, PG*, our defaults): ask it, and
 * keep the first line's reason ("... failed: Connection refused"). */
static bool pg_down(const cli_common_t *c, char *addr, size_t addrsz, char *why, size_t whysz) {
    const char *keys[] = {"connect_timeout", "dbname", NULL};
    const char *vals[] = {"2", c->pg ? c->pg : "", NULL};
    if (PQpingParams(keys, vals, 1) != PQPING_NO_RESPONSE)
        return false;
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    const char *host = conn ? PQhost(conn) : NULL, *port = conn ? PQport(conn) : NULL;
    if (host && host[0] == '/')
        snprintf(addr, addrsz, "the socket %s/.s.PGSQL.%s", host, port ? port : "5432");
    else
        snprintf(addr, addrsz, "%s:%s", host && *host ? host : "localhost",
                 port && *port ? port : "5432");
    const char *msg = conn ? PQerrorMessage(conn) : "", *r = strstr(msg, "failed: ");
    r = r ? r + 8 : "no answer";
    snprintf(why, whysz, "%.*s", (int)strcspn(r, "\n"), r);
    PQfinish(conn);
    return true;
}

bool cli_explain_unreachable(const char *cmd, const cli_common_t *c, unsigned uses) {
    char addr[512], why[256];
    int err = 0;
    bool any = false, stack = false; /* one was down at the local stack's address */
    if ((uses & CLI_USES_KAFKA) && kafka_down(c, addr, sizeof addr, &err)) {
        cli_error(cmd, "Kafka does not answer at %s (%s); -b or SKY_BROKERS names another", addr,
                  strerror(err));
        any = true;
        stack |= strcmp(addr, SKY_DEFAULT_BROKERS) == 0;
    }
    if ((uses & CLI_USES_PG) && pg_down(c, addr, sizeof addr, why, sizeof why)) {
        cli_error(cmd,
                  "PostgreSQL does not answer at %s (%s); --pg or the PG* variables name another",
                  addr, why);
        any = true;
        stack |= strcmp(addr, CLI_PG_DEFAULT_HOST ":" CLI_PG_DEFAULT_PORT) == 0;
    }
    if ((uses & CLI_USES_TILE38) && tile38_down(c, &err)) {
        cli_error(cmd,
                  "Tile38 does not answer at %s (%s); --tile38 HOST:PORT (or SKY_TILE38) names "
                  "another, --tile38 none goes without",
                  c->tile38, strerror(err));
        any = true;
        stack |= strcmp(c->tile38, CLI_TILE38_DEFAULT) == 0;
    }
    if (stack)
        cli_error(cmd,
                  "that is the local stack's address: is it up? 'deploy/local/stack up' starts "
                  "it, 'deploy/local/stack status' shows it (docs/troubleshooting.md)");
    else if (any)
        cli_error(cmd, "is the server running there, and the address right? "
                       "(docs/troubleshooting.md)");
    return any;
}

/* Edit distance of two short names (for "did you mean"); large for long ones. */
static size_t distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b), row[65];
    if (la > 64 || lb > 64)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

void cli_explain_missing_topic(const char *cmd, const cli_common_t *c, const char *topic) {
    /* log_level 3: the command's own -X (consumer properties, say) must not warn here */
    static const char *const quiet[] = {"allow.auto.create.topics=false", "log_level=3", NULL};
    char err[256], list[512] = "";
    rd_kafka_conf_t *conf = sky_kconf_build(&c->kafka, quiet, err, sizeof err);
    rd_kafka_t *rk = conf ? rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err) : NULL;
    if (!rk) {
        if (conf)
            rd_kafka_conf_destroy(conf);
        return;
    }
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 1, NULL, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char *best = NULL;
        size_t best_d = 4, at = 0, shown = 0, hidden = 0; /* suggest within 3 edits */
        for (int i = 0; i < md->topic_cnt; i++) {
            const char *name = md->topics[i].topic;
            if (name[0] == '_')
                continue; /* __consumer_offsets and the like */
            size_t d = distance(topic, name);
            if (d < best_d) {
                best_d = d;
                best = name;
            }
            int n = shown < 12 ? snprintf(list + at, sizeof list - at, "%s%s", shown ? ", " : "",
                                          name)
                               : -1;
            if (n > 0 && (size_t)n < sizeof list - at) {
                at += (size_t)n;
                shown++;
            } else {
                hidden++;
            }
        }
        if (!shown)
            cli_error(cmd, "the brokers at %s have no topic yet", kafka_brokers(c));
        else
            cli_error(cmd, "the brokers at %s have: %s%s%s%s%s", kafka_brokers(c), list,
                      hidden ? ", …" : "", best ? " (did you mean \"" : "", best ? best : "",
                      best ? "\"?)" : "");
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_destroy(rk);
}
