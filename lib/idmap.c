/* Key -> dense index map: slots hold (32-bit hash tag << 32 | index + 1), 0 = empty;
 * the keys live back to back in one arena, NUL-terminated, found by offset. */
#include "idmap.h"

#include "error.h"

#include <stdlib.h>
#include <string.h>

struct sky_idmap {
    uint64_t *slots;
    size_t nslots; /* power of two, >= 2 * count */
    char *keys;    /* arena */
    size_t keys_len, keys_cap;
    size_t *off; /* off[i] = start of key i; off[count] = keys_len */
    size_t count, off_cap;
};

static uint64_t mum(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t sky_idmap_hash(const void *key, size_t len) {
    const unsigned char *p = key;
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ len, w;
    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
        h = mum(h ^ w, 0xA0761D6478BD642FULL);
    }
    w = 0;
    if (len)
        memcpy(&w, p, len);
    return mum(mum(h ^ w, 0xE7037ED1A0B428DBULL), 0x8EBC6AF09C88C6E3ULL);
}

static size_t slots_for(size_t keys) {
    size_t n = 16;
    while (n < keys * 2)
        n <<= 1;
    return n;
}

sky_idmap_t *sky_idmap_new(size_t expected) {
    sky_idmap_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nslots = slots_for(expected);
    m->off_cap = expected + 1;
    m->slots = calloc(m->nslots, sizeof *m->slots);
    m->off = calloc(m->off_cap, sizeof *m->off);
    if (!m->slots || !m->off) {
        sky_idmap_destroy(m);
        return NULL;
    }
    return m;
}

void sky_idmap_destroy(sky_idmap_t *m) {
    if (!m)
        return;
    free(m->slots);
    free(m->keys);
    free(m->off);
    free(m);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t probe(const sky_idmap_t *m, const void *key, size_t len, uint64_t h) {
    uint32_t tag = (uint32_t)(h >> 32);
    size_t mask = m->nslots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint64_t s = m->slots[i];
        if (!s)
            return i;
        if ((uint32_t)(s >> 32) != tag)
            continue;
        size_t k = (uint32_t)s - 1;
        if (m->off[k + 1] - m->off[k] - 1 == len && memcmp(m->keys + m->off[k], key, len) == 0)
            return i;
    }
}

int64_t sky_idmap_find(const sky_idmap_t *m, const void *key, size_t len) {
    uint64_t s = m->slots[probe(m, key, len, sky_idmap_hash(key, len))];
    return s ? (int64_t)(uint32_t)s - 1 : -1;
}

static int grow_slots(sky_idmap_t *m, size_t n) {
    uint64_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return SKY_ENOMEM;
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
    for (size_t k = 0; k < m->count; k++) {
        const char *key = m->keys + m->off[k];
        size_t len = m->off[k + 1] - m->off[k] - 1;
        uint64_t h = sky_idmap_hash(key, len);
        m->slots[probe(m, key, len, h)] = (h >> 32 << 32) | (uint64_t)(k + 1);
    }
    return 0;
}

static int grow_array(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q)
        return SKY_ENOMEM;
    *p = q;
    *cap = n;
    return 0;
}

int sky_idmap_reserve(sky_idmap_t *m, size_t keys, size_t key_bytes) {
    size_t want = slots_for(m->count + keys);
    if (want > m->nslots && grow_slots(m, want))
        return SKY_ENOMEM;
    if (grow_array((void **)&m->off, &m->off_cap, m->count + keys + 1, sizeof *m->off) ||
        grow_array((void **)&m->keys, &m->keys_cap, m->keys_len + key_bytes + keys, 1))
        return SKY_ENOMEM;
    return 0;
}

int64_t sky_idmap_intern(sky_idmap_t *m, const void *key, size_t len, bool *added) {
    uint64_t h = sky_idmap_hash(key, len);
    size_t i = probe(m, key, len, h);
    if (added)
        *added = !m->slots[i];
    if (m->slots[i])
        return (int64_t)(uint32_t)m->slots[i] - 1;
    if (m->count >= UINT32_MAX - 1)
        return SKY_ENOMEM;
    if ((m->count + 1) * 2 > m->nslots) {
        if (grow_slots(m, m->nslots * 2))
            return SKY_ENOMEM;
        i = probe(m, key, len, h);
    }
    if (sky_idmap_reserve(m, 1, len))
        return SKY_ENOMEM;
    memcpy(m->keys + m->keys_len, key, len);
    m->keys[m->keys_len + len] = '\0';
    m->keys_len += len + 1;
    m->off[++m->count] = m->keys_len;
    m->slots[i] = (h >> 32 << 32) | (uint64_t)m->count;
    return (int64_t)m->count - 1;
}

size_t sky_idmap_count(const sky_idmap_t *m) {
    return m->count;
}

const char *sky_idmap_key(const sky_idmap_t *m, size_t i, size_t *len) {
    if (i >= m->count)
        return NULL;
    if (len)
        *len = m->off[i + 1] - m->off[i] - 1;
    return m->keys + m->off[i];
}

void sky_idmap_clear(sky_idmap_t *m) {
    memset(m->slots, 0, m->nslots * sizeof *m->slots);
    m->count = m->keys_len = 0;
}

size_t sky_idmap_bytes(const sky_idmap_t *m) {
    return sizeof *m + m->nslots * sizeof *m->slots + m->keys_cap + m->off_cap * sizeof *m->off;
}
