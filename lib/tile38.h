/* A small Tile38 client over hiredis (RESP): connect with a timeout, one-shot
 * commands, pipelining (append + get reply), transparent reconnect, and the
 * "flights" object reader that ingest and verify share. */
#ifndef SKY_TILE38_H
#define SKY_TILE38_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sky_tile38 sky_tile38_t;

/* host is copied. Connects at once and, when the server is still loading its AOF,
 * waits (up to 5 min, saying so on the log) until it answers; on failure returns
 * NULL with errstr filled (SKY_EUNAVAIL-style message naming host:port). timeout_ms
 * bounds connect and every reply. */
sky_tile38_t *sky_tile38_new(const char *host, int port, int timeout_ms, char *errstr,
                             size_t errstr_size);
/* The same client without connecting yet (for a sink that starts while Tile38 is
 * down): the first command connects. NULL only when out of memory or host too long. */
sky_tile38_t *sky_tile38_new_unconnected(const char *host, int port, int timeout_ms,
                                         char *errstr, size_t errstr_size);
void sky_tile38_destroy(sky_tile38_t *t); /* NULL is fine */

/* Drops the connection (if any) and connects again; 0 or SKY_EUNAVAIL. Every
 * call below reconnects first when a previous I/O error broke the link. */
int sky_tile38_reconnect(sky_tile38_t *t, char *errstr, size_t errstr_size);
bool sky_tile38_connected(const sky_tile38_t *t);
/* This client's connections take RESP replies (+OK, -ERR ..., arrays) instead of
 * OUTPUT json: less work for the server per command (ingest's SETs). Reconnects when
 * connected. */
void sky_tile38_use_resp(sky_tile38_t *t);
/* Successful connections so far: a change means the server may have restarted (and,
 * without its AOF, forgotten what it held). */
uint64_t sky_tile38_connections(const sky_tile38_t *t);
/* "host:port", for messages. */
const char *sky_tile38_address(const sky_tile38_t *t);

/* Queues one command (argv copied into hiredis's output buffer); nothing is
 * sent until sky_tile38_get_reply. 0, SKY_ENOMEM or SKY_EUNAVAIL. */
int sky_tile38_append(sky_tile38_t *t, int argc, const char **argv, const size_t *argvlen,
                      char *errstr, size_t errstr_size);
/* Queues bytes that already are RESP commands (e.g. a whole batch built in one
 * buffer without per-command allocation); copied. 0, SKY_ENOMEM or SKY_EUNAVAIL. */
int sky_tile38_append_raw(sky_tile38_t *t, const char *resp, size_t len, char *errstr,
                          size_t errstr_size);
/* Sends what is queued and reads the next reply in order. *reply is owned by the
 * caller (freeReplyObject). An I/O error returns SKY_EUNAVAIL and marks the
 * connection broken (queued commands are lost: resend them). A server error
 * reply is returned as a reply (type REDIS_REPLY_ERROR), not as a failure. */
int sky_tile38_get_reply(sky_tile38_t *t, redisReply **reply, char *errstr, size_t errstr_size);
/* append + get_reply; additionally fails with SKY_ETILE38 on an error reply. */
int sky_tile38_command(sky_tile38_t *t, int argc, const char **argv, redisReply **reply,
                       char *errstr, size_t errstr_size);
/* One command on a connection of its own, for housekeeping (DROP, AOFSHRINK): connects
 * to addr ("HOST:PORT"; NULL: 127.0.0.1:9851), runs it, disconnects. 0, SKY_EUSAGE (a
 * bad address), SKY_EUNAVAIL or SKY_ETILE38 (an error reply), with errstr filled. */
int sky_tile38_oneshot(const char *addr, int argc, const char **argv, char *errstr,
                       size_t errstr_size);

/* The error of a reply in JSON output ({"ok":false,"err":"..."}) or a RESP error,
 * copied into buf; NULL when the reply says ok. */
const char *sky_tile38_reply_error(const redisReply *r, char *buf, size_t bufsz);
/* True for the errors that say the server cannot take writes now, whatever the
 * command: loading its AOF, read-only, out of memory (maxmemory), a follower,
 * catching up, authentication: retry later. False for an error about the command
 * itself ("invalid argument ...", "wrong number of arguments"), which no retry fixes. */
bool sky_tile38_error_is_transient(const char *err);

/* One object of a collection as ingest writes it. */
typedef struct sky_tile38_obj {
    bool found;
    double lat, lon;
    bool has_seq;
    int64_t seq;
    bool has_ts;
    int64_t ts_ms; /* FIELD ts (the FlightData timestamp), 0 when absent */
    int64_t altitude, airspeed;
} sky_tile38_obj_t;

/* GET collection id WITHFIELDS POINT. A missing object (or collection) gives
 * found = false and returns 0. */
int sky_tile38_get_object(sky_tile38_t *t, const char *collection, const char *id,
                          sky_tile38_obj_t *out, char *errstr, size_t errstr_size);
/* Parses a reply to "GET ... WITHFIELDS POINT" (exposed for pipelined readers
 * and tests); 0, or SKY_ETILE38 when the reply has an unexpected shape. */
int sky_tile38_parse_object(const redisReply *r, sky_tile38_obj_t *out, char *errstr,
                            size_t errstr_size);

/* The same from a RESP reply (a client in sky_tile38_use_resp mode):
 * [[lat, lon], [field, value, ...]] or nil. */
int sky_tile38_parse_object_resp(const redisReply *r, sky_tile38_obj_t *out, char *errstr,
                                 size_t errstr_size);

/* Writes v with exactly `decimals` (0..9) digits after the point; returns the
 * length (out needs 32 bytes). printf-free: it is on ingest's hot path. */
size_t sky_fmt_fixed(char *out, double v, int decimals);

#endif
