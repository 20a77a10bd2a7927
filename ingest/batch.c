/* ingest's batches: rows grown in place, ranges per partition, reused after commit. */
#include "batch.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

sky_batch_t *sky_batch_new(void) {
    sky_batch_t *b = calloc(1, sizeof *b);
    if (b)
        sky_buf_init(&b->raw, 0);
    return b;
}

void sky_batch_destroy(sky_batch_t *b) {
    if (!b)
        return;
    sky_buf_free(&b->raw);
    free(b->rows);
    free(b->ranges);
    free(b);
}

void sky_batch_reset(sky_batch_t *b, int lane) {
    sky_batch_row_t *rows = b->rows;
    sky_batch_range_t *ranges = b->ranges;
    size_t cap = b->cap, cap_ranges = b->cap_ranges;
    sky_buf_t raw = b->raw;
    memset(b, 0, sizeof *b);
    b->rows = rows;
    b->cap = cap;
    b->ranges = ranges;
    b->cap_ranges = cap_ranges;
    b->raw = raw;
    sky_buf_reset(&b->raw);
    b->lane = lane;
}

sky_batch_row_t *sky_batch_next_row(sky_batch_t *b) {
    if (sky_grow_array((void **)&b->rows, &b->cap, b->nrows + 1, sizeof *b->rows))
        return NULL;
    return &b->rows[b->nrows];
}

void sky_batch_commit_row(sky_batch_t *b) {
    b->nrows++;
}

const sky_batch_range_t *sky_batch_range_of(const sky_batch_t *b, int32_t partition) {
    for (size_t i = 0; i < b->nranges; i++)
        if (b->ranges[i].partition == partition)
            return &b->ranges[i];
    return NULL;
}

int sky_batch_cover(sky_batch_t *b, int32_t partition, uint32_t epoch, int64_t offset) {
    for (size_t i = 0; i < b->nranges; i++) {
        sky_batch_range_t *r = &b->ranges[i];
        if (r->partition == partition) {
            if (offset + 1 > r->end)
                r->end = offset + 1;
            return 0;
        }
    }
    if (sky_grow_array((void **)&b->ranges, &b->cap_ranges, b->nranges + 1, sizeof *b->ranges))
        return SKY_ENOMEM;
    b->ranges[b->nranges++] =
        (sky_batch_range_t){.partition = partition, .epoch = epoch, .first = offset,
                            .end = offset + 1};
    return 0;
}
