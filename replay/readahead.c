/* Read-ahead: a ring of blocks of records. The reader thread fills a free block and hands
 * it over; the caller takes blocks in order and frees each when it moves past it. A
 * capture record's bytes are copied into its slot, since the reader reuses its buffer. */
#include "readahead.h"

#include "dynbuf.h"
#include "error.h"
#include "idmap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 1024 /* records handed over at once: one lock and signal per block */
#define NBLOCKS 4

typedef struct slot {
    sky_rrec_t rec;
    int rc;
    char err[256];  /* for rc < 0 */
    uint8_t *bytes; /* the capture record's key, header and value bytes; kept for reuse */
    size_t cap;
} slot_t;

typedef struct block {
    slot_t slots[BLOCK];
    size_t n;
    bool ready; /* filled, the caller's until it frees it */
} block_t;

struct sky_readahead {
    sky_reader_t *r;
    bool threaded, running, stop;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t ready, freed;
    block_t *blocks;
    size_t fill; /* reader thread: the block it fills next */
    size_t take; /* caller: the block it reads */
    size_t pos;  /* caller: the next slot of that block */
    bool holding, ended;
    uint64_t rows, skipped; /* as of the latest block handed over */
    slot_t one;             /* without a thread */
};

/* Copies what rec.cap points to into the slot's own bytes. */
static int own_capture(slot_t *s) {
    sky_cap_record_t *c = &s->rec.cap;
    size_t need = c->key_len + c->value_len;
    for (size_t i = 0; i < c->nheaders; i++)
        need += strlen(c->headers[i].name) + 1 + c->headers[i].value_len;
    if (sky_grow_array((void **)&s->bytes, &s->cap, need, 1))
        return SKY_ENOMEM;
    uint8_t *p = s->bytes;
#define OWN(ptr, len)                                                                          \
    do {                                                                                       \
        if (ptr) {                                                                             \
            memcpy(p, ptr, len);                                                               \
            ptr = (void *)p;                                                                   \
            p += len;                                                                          \
        }                                                                                      \
    } while (0)
    OWN(c->key, c->key_len);
    OWN(c->value, c->value_len);
    for (size_t i = 0; i < c->nheaders; i++) {
        size_t nlen = strlen(c->headers[i].name) + 1;
        OWN(c->headers[i].name, nlen);
        OWN(c->headers[i].value, c->headers[i].value_len);
    }
#undef OWN
    return 0;
}

/* What publishing the record needs to know of it, worked out here in parallel. */
static void check(sky_rrec_t *rec) {
    rec->checked = true;
    if (rec->raw) {
        rec->valid =
            rec->has_flight && sky_flight_validate(&rec->flight, &rec->valid_ts_ms, NULL, 0) == 0;
    } else { /* a text reader wrote or parsed the timestamp: ts_ms is its value */
        rec->valid = rec->has_flight && sky_flight_check_fields(&rec->flight, NULL, 0) == 0;
        rec->valid_ts_ms = rec->ts_ms;
    }
    if (rec->raw)
        rec->key_hash = rec->cap.key ? sky_idmap_hash(rec->cap.key, rec->cap.key_len) : 0;
    else
        rec->key_hash = sky_idmap_hash(rec->flight.flight_id,
                                       strnlen(rec->flight.flight_id, SKY_FLIGHT_ID_MAX));
}

/* Reads into s; true when the reader has ended (the end, or an error it cannot go on from). */
static bool read_one(sky_reader_t *r, slot_t *s) {
    s->rc = sky_reader_next(r, &s->rec, s->err, sizeof s->err);
    if (s->rc == 1 && s->rec.raw && own_capture(s))
        s->rc = sky_err(s->err, sizeof s->err, SKY_ENOMEM, "out of memory reading ahead");
    if (s->rc == 1)
        check(&s->rec);
    return s->rc == 0 || (s->rc < 0 && s->rc != SKY_EINVAL);
}

static void *reader_main(void *arg) {
    sky_readahead_t *a = arg;
    for (bool ended = false; !ended;) {
        block_t *b = &a->blocks[a->fill];
        pthread_mutex_lock(&a->lock);
        while (!a->stop && b->ready)
            pthread_cond_wait(&a->freed, &a->lock);
        bool stop = a->stop;
        pthread_mutex_unlock(&a->lock);
        if (stop)
            break;
        for (b->n = 0; b->n < BLOCK && !ended; b->n++)
            ended = read_one(a->r, &b->slots[b->n]);
        pthread_mutex_lock(&a->lock);
        b->ready = true;
        a->rows = sky_reader_rows(a->r);
        a->skipped = sky_reader_skipped(a->r);
        pthread_cond_signal(&a->ready);
        pthread_mutex_unlock(&a->lock);
        a->fill = (a->fill + 1) % NBLOCKS;
    }
    return NULL;
}

int sky_readahead_new(sky_reader_t *r, bool threaded, sky_readahead_t **out, char *errstr,
                      size_t errsz) {
    sky_readahead_t *a = calloc(1, sizeof *a);
    if (!a || (threaded && !(a->blocks = calloc(NBLOCKS, sizeof *a->blocks)))) {
        free(a);
        sky_reader_destroy(r);
        return sky_err(errstr, errsz, SKY_ENOMEM, "out of memory");
    }
    a->r = r;
    a->threaded = threaded;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->ready, NULL);
    pthread_cond_init(&a->freed, NULL);
    if (threaded) {
        a->running = pthread_create(&a->thread, NULL, reader_main, a) == 0;
        if (!a->running) {
            sky_readahead_destroy(a);
            return sky_err(errstr, errsz, SKY_EIO, "cannot start a read-ahead thread");
        }
    }
    *out = a;
    return 0;
}

void sky_readahead_destroy(sky_readahead_t *a) {
    if (!a)
        return;
    if (a->running) {
        pthread_mutex_lock(&a->lock);
        a->stop = true;
        pthread_cond_signal(&a->freed);
        pthread_mutex_unlock(&a->lock);
        pthread_join(a->thread, NULL);
    }
    for (size_t b = 0; a->blocks && b < NBLOCKS; b++)
        for (size_t i = 0; i < BLOCK; i++)
            free(a->blocks[b].slots[i].bytes);
    free(a->blocks);
    pthread_cond_destroy(&a->ready);
    pthread_cond_destroy(&a->freed);
    pthread_mutex_destroy(&a->lock);
    sky_reader_destroy(a->r);
    free(a);
}

static int deliver(slot_t *s, sky_rrec_t **rec, char *errstr, size_t errsz) {
    if (s->rc == 1)
        *rec = &s->rec;
    else if (s->rc < 0)
        sky_err(errstr, errsz, s->rc, "%s", s->err);
    return s->rc;
}

int sky_readahead_next(sky_readahead_t *a, sky_rrec_t **rec, char *errstr, size_t errsz) {
    if (!a->threaded) {
        a->one.rc = sky_reader_next(a->r, &a->one.rec, a->one.err, sizeof a->one.err);
        a->one.rec.checked = false; /* publishing checks it itself */
        return deliver(&a->one, rec, errstr, errsz);
    }
    while (!a->ended) {
        block_t *b = &a->blocks[a->take];
        if (a->holding && a->pos < b->n) {
            int rc = deliver(&b->slots[a->pos++], rec, errstr, errsz);
            a->ended = rc == 0 || (rc < 0 && rc != SKY_EINVAL);
            return rc;
        }
        pthread_mutex_lock(&a->lock);
        if (a->holding) { /* moved past the block: the reader may fill it again */
            b->ready = false;
            pthread_cond_signal(&a->freed);
            a->take = (a->take + 1) % NBLOCKS;
            a->pos = 0;
            b = &a->blocks[a->take];
        }
        while (!b->ready)
            pthread_cond_wait(&a->ready, &a->lock);
        a->holding = true;
        pthread_mutex_unlock(&a->lock);
    }
    return 0;
}

const sky_rrec_t *sky_readahead_peek(const sky_readahead_t *a, size_t k) {
    if (!a->threaded || !a->holding)
        return NULL;
    const block_t *b = &a->blocks[a->take];
    size_t i = a->pos - 1 + k; /* pos is one past the record returned last */
    return a->pos > 0 && i < b->n && b->slots[i].rc == 1 ? &b->slots[i].rec : NULL;
}

/* A count the reader thread updates at each block it hands over. */
static uint64_t handed_over(sky_readahead_t *a, const uint64_t *count) {
    pthread_mutex_lock(&a->lock);
    uint64_t n = *count;
    pthread_mutex_unlock(&a->lock);
    return n;
}

uint64_t sky_readahead_rows(sky_readahead_t *a) {
    return a->threaded ? handed_over(a, &a->rows) : sky_reader_rows(a->r);
}

uint64_t sky_readahead_skipped(sky_readahead_t *a) {
    return a->threaded ? handed_over(a, &a->skipped) : sky_reader_skipped(a->r);
}
