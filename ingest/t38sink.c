/* The Tile38 stage of ingest: learn unknown flights, pick each flight's newest row,
 * pipelined SETs, refusals of single commands kept apart from a server that cannot
 * take writes. */
#include "t38sink.h"

#include "dynbuf.h"
#include "error.h"
#include "seqmap.h"
#include "tile38.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUNDS 4 /* a flight whose newest row is refused falls back to the next one */
#define REASON_MAX 200

struct sky_t38sink {
    sky_tile38_t *t;
    char *collection;
    size_t collection_len;
    char ttl_text[24];
    int ttl_s;
    sky_seqmap_t *map;
    sky_buf_t resp;
    size_t cap;          /* rows the arrays below hold */
    size_t *lookups;     /* row index per GET */
    size_t *sent;        /* row index per SET */
    unsigned char *refused;
    size_t *rejected, rej_cap;
    char (*reason_text)[REASON_MAX];
    const char **reasons;
    uint32_t gen, write_gen;
    uint64_t connections_seen;
    bool every;     /* sky_t38sink_set_every_position */
    size_t *chain;  /* every: the rows to SET this round, in batch order */
    size_t nchain;
};

sky_t38sink_t *sky_t38sink_new(const char *host, int port, const char *collection, int ttl_s,
                               int timeout_ms, char *errstr, size_t errstr_size) {
    sky_t38sink_t *s = calloc(1, sizeof *s);
    if (!s) {
        sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory creating the Tile38 sink");
        return NULL;
    }
    s->t = sky_tile38_new_unconnected(host, port, timeout_ms, errstr, errstr_size);
    if (s->t)
        sky_tile38_use_resp(s->t); /* +OK per SET: less for the server than JSON replies */
    s->collection = strdup(collection ? collection : "flights");
    s->map = sky_seqmap_new(4096);
    sky_buf_init(&s->resp, 0);
    if (!s->t || !s->collection || !s->map) {
        if (s->t)
            sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory creating the Tile38 sink");
        sky_t38sink_destroy(s);
        return NULL;
    }
    s->collection_len = strlen(s->collection);
    s->ttl_s = ttl_s > 0 ? ttl_s : 0;
    s->ttl_text[sky_fmt_i64(s->ttl_text, s->ttl_s)] = '\0';
    return s;
}

void sky_t38sink_destroy(sky_t38sink_t *s) {
    if (!s)
        return;
    sky_tile38_destroy(s->t);
    sky_seqmap_destroy(s->map);
    sky_buf_free(&s->resp);
    free(s->collection);
    free(s->lookups);
    free(s->sent);
    free(s->chain);
    free(s->refused);
    free(s->rejected);
    free(s->reason_text);
    free(s->reasons);
    free(s);
}

int sky_t38sink_connect(sky_t38sink_t *s, char *errstr, size_t errstr_size) {
    return sky_tile38_reconnect(s->t, errstr, errstr_size);
}

const char *sky_t38sink_address(const sky_t38sink_t *s) {
    return sky_tile38_address(s->t);
}

void sky_t38sink_set_every_position(sky_t38sink_t *s, bool every) {
    s->every = every;
}

void sky_t38sink_forget(sky_t38sink_t *s) {
    sky_seqmap_clear(s->map);
}

size_t sky_t38sink_known(const sky_t38sink_t *s) {
    return sky_seqmap_count(s->map);
}

/* ---- RESP text, built in one reused buffer: no allocation per command ---- */

static int resp_arg(sky_buf_t *b, const char *str, size_t n) {
    char len[24];
    size_t ln = sky_fmt_u64(len, n);
    int rc = sky_buf_add_char(b, '$');
    rc |= sky_buf_add(b, len, ln);
    rc |= sky_buf_add(b, "\r\n", 2);
    rc |= sky_buf_add(b, str, n);
    rc |= sky_buf_add(b, "\r\n", 2);
    return rc;
}

#define RESP_LIT(b, lit) resp_arg((b), (lit), sizeof(lit) - 1)

static int resp_i64(sky_buf_t *b, int64_t v) {
    char tmp[24];
    return resp_arg(b, tmp, sky_fmt_i64(tmp, v));
}

static int resp_count(sky_buf_t *b, int argc) {
    char tmp[24];
    size_t n = sky_fmt_i64(tmp, argc);
    return sky_buf_add_char(b, '*') | sky_buf_add(b, tmp, n) | sky_buf_add(b, "\r\n", 2);
}

static int append_set(sky_t38sink_t *s, const sky_t38_row_t *r) {
    sky_buf_t *b = &s->resp;
    char lat[40], lon[40];
    size_t nlat = sky_fmt_fixed(lat, r->f->latitude, 7);
    size_t nlon = sky_fmt_fixed(lon, r->f->longitude, 7);
    /* seq orders a flight; a record without one is ordered by its timestamp, which
     * then goes along (every field costs Tile38 time: only what ordering needs) */
    int argc = 3 + 3 + 6 + (s->ttl_s > 0 ? 2 : 0) + 3;
    int rc = resp_count(b, argc) | RESP_LIT(b, "SET");
    rc |= resp_arg(b, s->collection, s->collection_len);
    rc |= resp_arg(b, r->f->flight_id, strlen(r->f->flight_id));
    if (r->seq >= 0)
        rc |= RESP_LIT(b, "FIELD") | RESP_LIT(b, "seq") | resp_i64(b, r->seq);
    else
        rc |= RESP_LIT(b, "FIELD") | RESP_LIT(b, "ts") | resp_i64(b, r->ts_ms);
    rc |= RESP_LIT(b, "FIELD") | RESP_LIT(b, "altitude") | resp_i64(b, r->f->altitude);
    rc |= RESP_LIT(b, "FIELD") | RESP_LIT(b, "airspeed") | resp_i64(b, r->f->airspeed);
    if (s->ttl_s > 0)
        rc |= RESP_LIT(b, "EX") | resp_arg(b, s->ttl_text, strlen(s->ttl_text));
    rc |= RESP_LIT(b, "POINT") | resp_arg(b, lat, nlat) | resp_arg(b, lon, nlon);
    return rc ? SKY_ENOMEM : 0;
}

static int append_get(sky_t38sink_t *s, const char *id) {
    sky_buf_t *b = &s->resp;
    int rc = resp_count(b, 5) | RESP_LIT(b, "GET") | resp_arg(b, s->collection, s->collection_len);
    rc |= resp_arg(b, id, strlen(id)) | RESP_LIT(b, "WITHFIELDS") | RESP_LIT(b, "POINT");
    return rc ? SKY_ENOMEM : 0;
}

static int grow(sky_t38sink_t *s, size_t n) {
    if (n <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 1024;
    while (cap < n)
        cap *= 2;
    size_t *l = realloc(s->lookups, cap * sizeof *l);
    if (l)
        s->lookups = l;
    size_t *t = l ? realloc(s->sent, cap * sizeof *t) : NULL;
    if (t)
        s->sent = t;
    size_t *c = t ? realloc(s->chain, cap * sizeof *c) : NULL;
    if (c)
        s->chain = c;
    unsigned char *f = c ? realloc(s->refused, cap) : NULL;
    if (!f)
        return SKY_ENOMEM;
    s->refused = f;
    s->cap = cap;
    return 0;
}

/* A reply to read is lost with the connection: drop it so nothing is read as
 * the reply to a later command. */
static int broken(sky_t38sink_t *s, int rc) {
    if (rc != SKY_EUNAVAIL) {
        char ignored[64];
        sky_tile38_reconnect(s->t, ignored, sizeof ignored);
    }
    return rc;
}

/* ---- a flight's position as Tile38 holds it ---- */

/* Flights seen for the first time (since the start, an assignment or a reconnect)
 * get their current position from Tile38 itself, so ordering survives restarts,
 * rebalances and several ingest processes. Tile38 keeps no field whose value is 0
 * and answers an absent one as 0: an object with neither seq nor ts was written by
 * a record at seq 0 (a record without seq carries ts instead), so it is seq 0. */
static int learn_unknown(sky_t38sink_t *s, const sky_t38_row_t *rows, size_t n,
                         uint64_t *lookups, char *errstr, size_t errstr_size) {
    size_t nlook = 0;
    sky_buf_reset(&s->resp);
    for (size_t i = 0; i < n; i++) {
        sky_seq_entry_t *e = sky_seqmap_get(s->map, rows[i].f->flight_id, true);
        if (e->known || e->lookup_gen == s->write_gen)
            continue;
        e->lookup_gen = s->write_gen;
        if (append_get(s, rows[i].f->flight_id))
            return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory building GETs");
        s->lookups[nlook++] = i;
    }
    *lookups = nlook;
    if (!nlook)
        return 0;
    int rc = sky_tile38_append_raw(s->t, s->resp.data, s->resp.len, errstr, errstr_size);
    for (size_t k = 0; k < nlook && !rc; k++) {
        redisReply *r;
        sky_tile38_obj_t obj;
        char why[REASON_MAX];
        if ((rc = sky_tile38_get_reply(s->t, &r, errstr, errstr_size)) != 0)
            break;
        if (r->type == REDIS_REPLY_ERROR)
            rc = sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 %s: GET: %s",
                         sky_tile38_address(s->t), sky_tile38_reply_error(r, why, sizeof why));
        else
            rc = sky_tile38_parse_object_resp(r, &obj, errstr, errstr_size);
        freeReplyObject(r);
        if (rc)
            break;
        sky_seq_entry_t *e = sky_seqmap_get(s->map, rows[s->lookups[k]].f->flight_id, false);
        e->known = true;
        e->present = obj.found;
        e->has_seq = obj.has_seq || (obj.found && !obj.has_ts);
        e->seq = obj.seq;
        e->ts_ms = obj.ts_ms;
    }
    return rc ? broken(s, rc) : 0;
}

static bool row_newer(const sky_t38_row_t *r, bool has_seq, int64_t seq, int64_t ts_ms) {
    return sky_seq_newer(r->seq >= 0, r->seq, r->ts_ms, has_seq, seq, ts_ms);
}

/* Picks, per flight taking part, its newest row that is newer than Tile38's; returns
 * the rows that are behind (Tile38's position or an earlier row of the batch: they
 * came out of order or twice), counted in the first round only. */
static uint64_t pick(sky_t38sink_t *s, const sky_t38_row_t *rows, size_t n, bool first_round) {
    uint64_t stale = 0;
    s->nchain = 0;
    for (size_t i = 0; i < n; i++) {
        if (s->refused[i])
            continue;
        sky_seq_entry_t *e = sky_seqmap_get(s->map, rows[i].f->flight_id, false);
        if (!first_round && e->resend_gen != s->gen)
            continue;
        bool newer;
        if (e->gen == s->gen) {
            /* behind an earlier row of the batch: out of order, as stale as behind Tile38 */
            const sky_t38_row_t *p = &rows[e->pending];
            newer = row_newer(&rows[i], p->seq >= 0, p->seq, p->ts_ms);
            if (!newer)
                stale++;
        } else {
            newer = !e->present || row_newer(&rows[i], e->has_seq, e->seq, e->ts_ms);
            if (!newer)
                stale++;
        }
        if (newer) {
            e->gen = s->gen;
            e->pending = (int32_t)i;
            if (s->every)
                s->chain[s->nchain++] = i;
        }
    }
    return first_round ? stale : 0;
}

static void refuse(sky_t38sink_t *s, size_t row, const char *why, size_t *nrej) {
    s->refused[row] = 1;
    s->rejected[*nrej] = row;
    snprintf(s->reason_text[*nrej], REASON_MAX, "Tile38 refused the SET: %s", why);
    s->reasons[*nrej] = s->reason_text[*nrej];
    (*nrej)++;
}

static int room_for_rejects(sky_t38sink_t *s, size_t nrej) {
    if (nrej < s->rej_cap)
        return 0;
    size_t cap = s->rej_cap ? s->rej_cap * 2 : 16;
    size_t *r = realloc(s->rejected, cap * sizeof *r);
    if (r)
        s->rejected = r;
    char(*t)[REASON_MAX] = r ? realloc(s->reason_text, cap * sizeof *t) : NULL;
    if (t)
        s->reason_text = t;
    const char **p = t ? realloc((void *)s->reasons, cap * sizeof *p) : NULL;
    if (!p)
        return SKY_ENOMEM;
    s->reasons = p;
    /* the pointers into reason_text may have moved with it */
    for (size_t i = 0; i < nrej; i++)
        s->reasons[i] = s->reason_text[i];
    s->rej_cap = cap;
    return 0;
}

/* Sends this round's winners and reads their replies. A refused SET marks its row
 * and makes its flight take part in the next round. */
static int send_round(sky_t38sink_t *s, const sky_t38_row_t *rows, size_t n, size_t *nrej,
                      uint64_t *sets, bool *any_refused, char *errstr, size_t errstr_size) {
    size_t nset = 0;
    *any_refused = false;
    sky_buf_reset(&s->resp);
    for (size_t k = 0, i; s->every ? k < s->nchain : k < n; k++) {
        i = s->every ? s->chain[k] : k;
        if (s->refused[i])
            continue;
        sky_seq_entry_t *e = sky_seqmap_get(s->map, rows[i].f->flight_id, false);
        if (!s->every && (e->gen != s->gen || e->pending != (int32_t)i))
            continue;
        if (append_set(s, &rows[i]))
            return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory building SETs");
        s->sent[nset++] = i;
    }
    if (!nset)
        return 0;
    int rc = sky_tile38_append_raw(s->t, s->resp.data, s->resp.len, errstr, errstr_size);
    size_t k = 0;
    for (; k < nset && !rc; k++) {
        redisReply *r;
        char why[REASON_MAX];
        if ((rc = sky_tile38_get_reply(s->t, &r, errstr, errstr_size)) != 0)
            break;
        const char *err = sky_tile38_reply_error(r, why, sizeof why);
        freeReplyObject(r);
        if (!err) {
            (*sets)++;
            continue;
        }
        if (sky_tile38_error_is_transient(err)) {
            rc = sky_err(errstr, errstr_size, SKY_ETILE38, "Tile38 %s refuses writes: %s",
                         sky_tile38_address(s->t), err);
            break;
        }
        if (room_for_rejects(s, *nrej))
            rc = sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory");
        else
            refuse(s, s->sent[k], err, nrej);
        sky_seqmap_get(s->map, rows[s->sent[k]].f->flight_id, false)->resend_gen = s->gen + 1;
        *any_refused = !s->every; /* every: the flight's later rows went out already */
    }
    if (rc)
        return broken(s, rc);
    /* acknowledged: these are now Tile38's positions */
    for (k = 0; k < nset; k++) {
        size_t i = s->sent[k];
        if (s->refused[i])
            continue;
        sky_seq_entry_t *e = sky_seqmap_get(s->map, rows[i].f->flight_id, false);
        e->known = e->present = true;
        e->has_seq = rows[i].seq >= 0;
        e->seq = rows[i].seq;
        e->ts_ms = rows[i].ts_ms;
    }
    return 0;
}

int sky_t38sink_write(sky_t38sink_t *s, const sky_t38_row_t *rows, size_t n,
                      sky_t38_outcome_t *out, char *errstr, size_t errstr_size) {
    memset(out, 0, sizeof *out);
    if (!n)
        return 0;
    if (grow(s, n) || sky_seqmap_reserve(s->map, n))
        return sky_err(errstr, errstr_size, SKY_ENOMEM, "out of memory growing the flight map");
    /* a new connection may be to a server that restarted without its data */
    if (sky_tile38_connections(s->t) != s->connections_seen || !sky_tile38_connected(s->t)) {
        if (!sky_tile38_connected(s->t)) {
            int rc = sky_tile38_reconnect(s->t, errstr, errstr_size);
            if (rc)
                return rc;
        }
        sky_seqmap_clear(s->map);
        s->connections_seen = sky_tile38_connections(s->t);
    }
    memset(s->refused, 0, n);
    s->write_gen++;
    int rc = learn_unknown(s, rows, n, &out->lookups, errstr, errstr_size);
    size_t nrej = 0;
    for (int round = 0; round < MAX_ROUNDS && !rc; round++) {
        bool again;
        s->gen++;
        out->stale += pick(s, rows, n, round == 0);
        rc = send_round(s, rows, n, &nrej, &out->sets, &again, errstr, errstr_size);
        if (!again)
            break;
    }
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->nrejected = nrej;
    out->rejected = s->rejected;
    out->reasons = s->reasons;
    out->applied = n - out->stale - nrej;
    return 0;
}
