/* Key -> dense index map. A slot is 16 bytes: the key's full 64-bit hash, its index + 1
 * (0 = empty) and the offset of its key in one arena where each key is stored as
 * [u16 length][bytes][NUL]. A lookup reads one slot line and, when the hashes agree, one
 * arena line: verify looks up every record's flight, mostly as cache misses. */
#include "idmap.h"

#include "dynbuf.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

typedef struct slot {
    uint64_t hash;
    uint32_t index1; /* index + 1; 0 = empty */
    uint32_t key_at; /* arena offset of the key's length prefix */
} slot_t;

#define KEY_PREFIX 2 /* u16 length */
#define ARENA_MAX UINT32_MAX

struct sky_idmap {
    slot_t *slots;
    size_t nslots; /* power of two, >= 2 * count */
    char *keys;    /* arena */
    size_t keys_len, keys_cap;
    uint32_t *key_at; /* by index */
    size_t count, key_at_cap;
    unsigned char *values; /* by index, value_size bytes each (sky_idmap_new_values) */
    size_t value_size, values_cap;
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
    return sky_idmap_new_values(expected, 0);
}

sky_idmap_t *sky_idmap_new_values(size_t expected, size_t value_size) {
    sky_idmap_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->nslots = slots_for(expected);
    m->key_at_cap = expected ? expected : 1;
    m->slots = calloc(m->nslots, sizeof *m->slots);
    m->key_at = calloc(m->key_at_cap, sizeof *m->key_at);
    m->value_size = value_size;
    m->values_cap = value_size ? m->key_at_cap : 0;
    m->values = value_size ? calloc(m->values_cap, value_size) : NULL;
    if (!m->slots || !m->key_at || (value_size && !m->values)) {
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
    free(m->key_at);
    free(m->values);
    free(m);
}

static bool key_is(const sky_idmap_t *m, uint32_t at, const void *key, size_t len) {
    const unsigned char *k = (const unsigned char *)m->keys + at;
    return ((size_t)k[0] | (size_t)k[1] << 8) == len && memcmp(k + KEY_PREFIX, key, len) == 0;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t probe(const sky_idmap_t *m, const void *key, size_t len, uint64_t h) {
    size_t mask = m->nslots - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const slot_t *s = &m->slots[i];
        if (!s->index1 || (s->hash == h && key_is(m, s->key_at, key, len)))
            return i;
    }
}

int64_t sky_idmap_find_hashed(const sky_idmap_t *m, const void *key, size_t len, uint64_t h) {
    const slot_t *s = &m->slots[probe(m, key, len, h)];
    return (int64_t)s->index1 - 1;
}

int64_t sky_idmap_find(const sky_idmap_t *m, const void *key, size_t len) {
    return sky_idmap_find_hashed(m, key, len, sky_idmap_hash(key, len));
}

void sky_idmap_prefetch(const sky_idmap_t *m, uint64_t h) {
    __builtin_prefetch(&m->slots[(size_t)h & (m->nslots - 1)]);
}

int64_t sky_idmap_candidate(const sky_idmap_t *m, uint64_t h) {
    size_t mask = m->nslots - 1;
    for (size_t i = (size_t)h & mask; m->slots[i].index1; i = (i + 1) & mask)
        if (m->slots[i].hash == h) {
            __builtin_prefetch(m->keys + m->slots[i].key_at);
            return (int64_t)m->slots[i].index1 - 1;
        }
    return -1;
}

bool sky_idmap_is_key(const sky_idmap_t *m, int64_t i, const void *key, size_t len) {
    return i >= 0 && (size_t)i < m->count && key_is(m, m->key_at[i], key, len);
}

static int grow_slots(sky_idmap_t *m, size_t n) {
    slot_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return SKY_ENOMEM;
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
    for (size_t k = 0; k < m->count; k++) {
        const unsigned char *p = (const unsigned char *)m->keys + m->key_at[k];
        size_t len = (size_t)p[0] | (size_t)p[1] << 8;
        uint64_t h = sky_idmap_hash(p + KEY_PREFIX, len);
        m->slots[probe(m, p + KEY_PREFIX, len, h)] = (slot_t){h, (uint32_t)(k + 1), m->key_at[k]};
    }
    return 0;
}

int sky_idmap_reserve(sky_idmap_t *m, size_t keys, size_t key_bytes) {
    size_t want = slots_for(m->count + keys);
    if (want > m->nslots && grow_slots(m, want))
        return SKY_ENOMEM;
    if (sky_grow_array((void **)&m->key_at, &m->key_at_cap, m->count + keys,
                       sizeof *m->key_at) ||
        sky_grow_array((void **)&m->keys, &m->keys_cap,
                       m->keys_len + key_bytes + keys * (KEY_PREFIX + 1), 1))
        return SKY_ENOMEM;
    if (m->value_size &&
        sky_grow_array((void **)&m->values, &m->values_cap, m->count + keys, m->value_size))
        return SKY_ENOMEM;
    return 0;
}

int64_t sky_idmap_intern(sky_idmap_t *m, const void *key, size_t len, bool *added) {
    return sky_idmap_intern_hashed(m, key, len, sky_idmap_hash(key, len), added);
}

int64_t sky_idmap_intern_hashed(sky_idmap_t *m, const void *key, size_t len, uint64_t h,
                                bool *added) {
    size_t i = probe(m, key, len, h);
    if (added)
        *added = !m->slots[i].index1;
    if (m->slots[i].index1)
        return (int64_t)m->slots[i].index1 - 1;
    if (m->count >= UINT32_MAX - 1 || len > UINT16_MAX ||
        m->keys_len + KEY_PREFIX + len + 1 > ARENA_MAX)
        return SKY_ENOMEM;
    if ((m->count + 1) * 2 > m->nslots) {
        if (grow_slots(m, m->nslots * 2))
            return SKY_ENOMEM;
        i = probe(m, key, len, h);
    }
    if (sky_idmap_reserve(m, 1, len))
        return SKY_ENOMEM;
    uint32_t at = (uint32_t)m->keys_len;
    unsigned char *p = (unsigned char *)m->keys + at;
    p[0] = (unsigned char)len;
    p[1] = (unsigned char)(len >> 8);
    memcpy(p + KEY_PREFIX, key, len);
    p[KEY_PREFIX + len] = '\0';
    m->keys_len += KEY_PREFIX + len + 1;
    if (m->value_size)
        memset(m->values + m->count * m->value_size, 0, m->value_size);
    m->key_at[m->count++] = at;
    m->slots[i] = (slot_t){h, (uint32_t)m->count, at};
    return (int64_t)m->count - 1;
}

size_t sky_idmap_count(const sky_idmap_t *m) {
    return m->count;
}

const char *sky_idmap_key(const sky_idmap_t *m, size_t i, size_t *len) {
    if (i >= m->count)
        return NULL;
    const unsigned char *p = (const unsigned char *)m->keys + m->key_at[i];
    if (len)
        *len = (size_t)p[0] | (size_t)p[1] << 8;
    return (const char *)p + KEY_PREFIX;
}

void sky_idmap_clear(sky_idmap_t *m) {
    memset(m->slots, 0, m->nslots * sizeof *m->slots);
    m->count = m->keys_len = 0;
}

size_t sky_idmap_bytes(const sky_idmap_t *m) {
    return sizeof *m + m->nslots * sizeof *m->slots + m->keys_cap +
           m->key_at_cap * sizeof *m->key_at + m->values_cap * m->value_size;
}

void *sky_idmap_value(const sky_idmap_t *m, size_t i) {
    return i < m->count && m->value_size ? m->values + i * m->value_size : NULL;
}

size_t sky_idmap_value_index(const sky_idmap_t *m, const void *value) {
    return (size_t)((const unsigned char *)value - m->values) / m->value_size;
}

void sky_idmap_prefetch_value(const sky_idmap_t *m, int64_t i) {
    if (i >= 0 && m->value_size)
        __builtin_prefetch(m->values + (size_t)i * m->value_size, 1);
}
