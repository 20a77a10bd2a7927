/* sky_grow_array: the capacity the manifest, id map, traffic tables and capture buffers
 * grow by, and its refusal of sizes that would overflow. */
#include "dynbuf.h"
#include "error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_grow_array_doubles_from_64_and_keeps_the_contents(void **state) {
    (void)state;
    int *arr = NULL;
    size_t cap = 0;
    assert_int_equal(sky_grow_array((void **)&arr, &cap, 1, sizeof *arr), 0);
    assert_int_equal(cap, 64);
    for (int i = 0; i < 64; i++)
        arr[i] = i;
    int *same = arr;
    assert_int_equal(sky_grow_array((void **)&arr, &cap, 64, sizeof *arr), 0); /* fits */
    assert_ptr_equal(arr, same);
    assert_int_equal(sky_grow_array((void **)&arr, &cap, 65, sizeof *arr), 0);
    assert_int_equal(cap, 128);
    assert_int_equal(sky_grow_array((void **)&arr, &cap, 1000, sizeof *arr), 0);
    assert_int_equal(cap, 1024);
    for (int i = 0; i < 64; i++)
        assert_int_equal(arr[i], i);
    free(arr);
}

static void test_grow_array_refuses_overflowing_sizes_and_changes_nothing(void **state) {
    (void)state;
    char *arr = NULL;
    size_t cap = 0;
    assert_int_equal(sky_grow_array((void **)&arr, &cap, 10, 1), 0);
    char *before = arr;
    assert_int_equal(sky_grow_array((void **)&arr, &cap, SIZE_MAX, 1), SKY_ENOMEM);
    assert_int_equal(sky_grow_array((void **)&arr, &cap, SIZE_MAX / 8, 16), SKY_ENOMEM);
    assert_ptr_equal(arr, before);
    assert_int_equal(cap, 64);
    free(arr);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grow_array_doubles_from_64_and_keeps_the_contents),
        cmocka_unit_test(test_grow_array_refuses_overflowing_sizes_and_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
