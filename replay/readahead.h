/* A reader's records read ahead by a thread of its own, a block of records at a time,
 * so that reading, parsing, decoding and checking (a capture's CRC) overlap the
 * publishing in the caller's thread. Or, for a live feed or stdin (whose read cannot be
 * interrupted at the end), in the caller's thread with the same interface. */
#ifndef SKY_READAHEAD_H
#define SKY_READAHEAD_H

#include "reader.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct sky_readahead sky_readahead_t;

/* Takes ownership of r (also on failure). threaded: read in a thread of its own.
 * Returns 0 and *out, or SKY_ENOMEM / SKY_EIO (no thread) with errstr. */
int sky_readahead_new(sky_reader_t *r, bool threaded, sky_readahead_t **out, char *errstr,
                      size_t errstr_size);
/* Stops the thread and destroys the reader; NULL is fine. */
void sky_readahead_destroy(sky_readahead_t *a);
/* sky_reader_next's results, in order: 1 with *rec pointing to the record (the caller may
 * modify it; valid until the next call), 0 at the end, SKY_EINVAL a rejected row (call
 * again), SKY_EIO / SKY_ENOMEM cannot go on. */
int sky_readahead_next(sky_readahead_t *a, sky_rrec_t **rec, char *errstr, size_t errstr_size);
/* The record k places after the one next returned last, when it is already read and in
 * the same block (else NULL): for prefetching what handling it will touch. */
const sky_rrec_t *sky_readahead_peek(const sky_readahead_t *a, size_t k);
/* The reader's counts; exact once next has returned 0 or an error that ends it. */
uint64_t sky_readahead_rows(sky_readahead_t *a);
uint64_t sky_readahead_skipped(sky_readahead_t *a);

#endif
