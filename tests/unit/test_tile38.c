/* Tile38 client helpers: GET replies (JSON output) parse into positions and
 * fields, absent objects are not errors, and coordinates format exactly. */
#include "error.h"
#include "tile38.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

static void test_parse_object_reads_point_and_fields(void **state) {
    (void)state;
    static const struct {
        const char *json;
        int rc;
        bool found, has_seq;
        double lat, lon;
        int64_t seq, ts, alt;
    } rows[] = {
        {"{\"ok\":true,\"point\":{\"lat\":51.47,\"lon\":-0.4543},\"fields\":{\"airspeed\":450,"
         "\"altitude\":35000,\"seq\":11,\"ts\":1795600805000},\"elapsed\":\"10µs\"}",
         0, true, true, 51.47, -0.4543, 11, 1795600805000, 35000},
        {"{\"ok\":true,\"point\":{\"lat\":1.5,\"lon\":2.5},\"fields\":{\"altitude\":100,"
         "\"ts\":5}}",
         0, true, false, 1.5, 2.5, 0, 5, 100},
        {"{\"ok\":true,\"point\":{\"lat\":1,\"lon\":2}}", 0, true, false, 1, 2, 0, 0, 0},
        {"{\"ok\":false,\"err\":\"id not found\",\"elapsed\":\"1µs\"}", 0, false, false, 0, 0, 0,
         0, 0},
        {"{\"ok\":false,\"err\":\"key not found\"}", 0, false, false, 0, 0, 0, 0, 0},
        {"{\"ok\":false,\"err\":\"invalid argument 'x'\"}", -7, false, false, 0, 0, 0, 0, 0},
        {"{\"ok\":true,\"object\":{}}", -7, false, false, 0, 0, 0, 0, 0},
        {"not json", -7, false, false, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        redisReply r;
        memset(&r, 0, sizeof r);
        r.type = REDIS_REPLY_STRING;
        r.str = (char *)rows[i].json;
        r.len = strlen(rows[i].json);
        sky_tile38_obj_t o;
        char err[256];
        assert_int_equal(sky_tile38_parse_object(&r, &o, err, sizeof err), rows[i].rc);
        assert_int_equal(o.found, rows[i].found);
        if (!rows[i].found)
            continue;
        assert_int_equal(o.has_seq, rows[i].has_seq);
        assert_true(fabs(o.lat - rows[i].lat) < 1e-12);
        assert_true(fabs(o.lon - rows[i].lon) < 1e-12);
        assert_int_equal(o.seq, rows[i].seq);
        assert_int_equal(o.ts_ms, rows[i].ts);
        assert_int_equal(o.altitude, rows[i].alt);
    }
}

static void test_fmt_fixed_rounds_to_the_requested_decimals(void **state) {
    (void)state;
    static const struct {
        double v;
        int decimals;
        const char *expected;
    } rows[] = {
        {51.4700223, 7, "51.4700223"},  {-0.4542955, 7, "-0.4542955"}, {0, 7, "0.0000000"},
        {-180, 7, "-180.0000000"},      {90, 0, "90"},
        {1.23456789, 9, "1.234567890"},
        {0.00000005, 7, "0.0000001"},   {179.99999999, 7, "180.0000000"},
        {12.5, 0, "13"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char out[40];
        size_t n = sky_fmt_fixed(out, rows[i].v, rows[i].decimals);
        assert_string_equal(out, rows[i].expected);
        assert_int_equal(n, strlen(rows[i].expected));
    }
}

static void test_new_reports_an_unreachable_server(void **state) {
    (void)state;
    char err[256] = "";
    /* port 1 on loopback: nothing listens there */
    sky_tile38_t *t = sky_tile38_new("127.0.0.1", 1, 500, err, sizeof err);
    assert_null(t);
    assert_non_null(strstr(err, "127.0.0.1:1"));
}

static void test_oneshot_names_a_bad_address_and_an_unreachable_server(void **state) {
    (void)state;
    const char *argv[] = {"DROP", "x"};
    char err[256] = "";
    assert_int_equal(sky_tile38_oneshot("no-port", 2, argv, err, sizeof err), SKY_EUSAGE);
    assert_non_null(strstr(err, "--tile38"));
    err[0] = '\0';
    assert_int_equal(sky_tile38_oneshot("127.0.0.1:1", 2, argv, err, sizeof err), SKY_EUNAVAIL);
    assert_non_null(strstr(err, "127.0.0.1:1"));
}

/* A server still reading its AOF, as Tile38 answers in OUTPUT json: HEALTHZ is LOADING
 * for the first `loading` asks, then ok; any other command is ok. Counts what came. */
typedef struct loading_server {
    int listen_fd, loading, healthz, others, others_while_loading;
} loading_server_t;

static void reply_json(int fd, const char *json) {
    char buf[256];
    int n = snprintf(buf, sizeof buf, "$%zu\r\n%s\r\n", strlen(json), json);
    assert_true(write(fd, buf, (size_t)n) == n);
}

static void *serve_loading(void *arg) {
    loading_server_t *ls = arg;
    int fd = accept(ls->listen_fd, NULL, NULL);
    char buf[512];
    ssize_t n;
    while (fd >= 0 && (n = read(fd, buf, sizeof buf - 1)) > 0) { /* one command per read */
        buf[n] = '\0';
        if (strstr(buf, "HEALTHZ") && ls->healthz++ < ls->loading) {
            reply_json(fd, "{\"ok\":false,\"err\":\"LOADING Tile38 is loading the dataset "
                           "in memory\"}");
            continue;
        }
        if (!strstr(buf, "HEALTHZ") && !strstr(buf, "OUTPUT")) {
            ls->others++;
            ls->others_while_loading += ls->healthz <= ls->loading;
        }
        reply_json(fd, "{\"ok\":true}");
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void test_oneshot_waits_while_the_server_loads_its_aof(void **state) {
    (void)state;
    loading_server_t ls = {.listen_fd = socket(AF_INET, SOCK_STREAM, 0), .loading = 3};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    assert_true(ls.listen_fd >= 0);
    assert_int_equal(bind(ls.listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(ls.listen_fd, 1), 0);
    assert_int_equal(getsockname(ls.listen_fd, (struct sockaddr *)&sa, &len), 0);
    pthread_t tid;
    assert_int_equal(pthread_create(&tid, NULL, serve_loading, &ls), 0);
    char addr[64], err[256] = "";
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(sa.sin_port));
    const char *argv[] = {"DROP", "x"};
    int rc = sky_tile38_oneshot(addr, 2, argv, err, sizeof err);
    pthread_join(tid, NULL);
    close(ls.listen_fd);
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(ls.healthz, 4); /* three LOADING, then ok */
    assert_int_equal(ls.others, 1);
    assert_int_equal(ls.others_while_loading, 0);
}

static void test_reply_error_reads_json_and_resp_errors(void **state) {
    (void)state;
    static const struct {
        int type;
        const char *text, *expected; /* NULL: the reply is ok */
    } rows[] = {
        {REDIS_REPLY_STRING, "{\"ok\":true,\"elapsed\":\"5µs\"}", NULL},
        {REDIS_REPLY_STRING, "{\"ok\":false,\"err\":\"invalid argument 'x'\",\"elapsed\":\"1µs\"}",
         "invalid argument 'x'"},
        {REDIS_REPLY_STRING, "{\"ok\":false,\"err\":\"LOADING Tile38 is loading the dataset\"}",
         "LOADING Tile38 is loading the dataset"},
        {REDIS_REPLY_ERROR, "ERR read only", "read only"},
        {REDIS_REPLY_ERROR, "LOADING Tile38 is loading", "LOADING Tile38 is loading"},
        {REDIS_REPLY_STATUS, "OK", NULL},
        {REDIS_REPLY_STRING, "garbage", "garbage"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        redisReply r;
        memset(&r, 0, sizeof r);
        r.type = rows[i].type;
        r.str = (char *)rows[i].text;
        r.len = strlen(rows[i].text);
        char buf[128];
        const char *e = sky_tile38_reply_error(&r, buf, sizeof buf);
        if (!rows[i].expected)
            assert_null(e);
        else
            assert_string_equal(e, rows[i].expected);
    }
}

static void test_error_kinds_split_server_state_from_bad_commands(void **state) {
    (void)state;
    static const struct {
        const char *err;
        bool transient;
    } rows[] = {
        {"invalid argument 'abc'", false},
        {"ERR invalid argument 'abc'", false},
        {"invalid number of arguments", false},
        {"ERR wrong number of arguments for 'set' command", false},
        {"invalid geojson", false},
        {"LOADING Tile38 is loading the dataset in memory", true},
        {"read only", true},
        {"OOM command not allowed when used memory > 'maxmemory'", true},
        {"not the leader", true},
        {"catching up to leader", true},
        {"authentication required", true},
        {"invalid password", true},
        {"ERR invalid password", true},
        {"something new", true},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (sky_tile38_error_is_transient(rows[i].err) != rows[i].transient)
            fail_msg("\"%s\": expected %s", rows[i].err,
                     rows[i].transient ? "transient" : "about the command");
}

/* RESP replies to GET ... WITHFIELDS POINT, as Tile38 1.37 sends them. */
static void test_parse_object_resp_reads_point_and_fields(void **state) {
    (void)state;
    redisReply lat = {.type = REDIS_REPLY_STRING, .str = "51.4700223", .len = 10};
    redisReply lon = {.type = REDIS_REPLY_STRING, .str = "-0.4542955", .len = 10};
    redisReply *pt_el[] = {&lat, &lon};
    redisReply pt = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = pt_el};
    redisReply n1 = {.type = REDIS_REPLY_STRING, .str = "seq", .len = 3};
    redisReply v1 = {.type = REDIS_REPLY_STRING, .str = "5", .len = 1};
    redisReply n2 = {.type = REDIS_REPLY_STRING, .str = "altitude", .len = 8};
    redisReply v2 = {.type = REDIS_REPLY_STRING, .str = "35000", .len = 5};
    redisReply *f_el[] = {&n1, &v1, &n2, &v2};
    redisReply fields = {.type = REDIS_REPLY_ARRAY, .elements = 4, .element = f_el};
    redisReply *top_el[] = {&pt, &fields};
    redisReply top = {.type = REDIS_REPLY_ARRAY, .elements = 2, .element = top_el};
    sky_tile38_obj_t o;
    char err[128];
    assert_int_equal(sky_tile38_parse_object_resp(&top, &o, err, sizeof err), 0);
    assert_true(o.found && o.has_seq && !o.has_ts);
    assert_true(fabs(o.lat - 51.4700223) < 1e-12 && fabs(o.lon + 0.4542955) < 1e-12);
    assert_int_equal(o.seq, 5);
    assert_int_equal(o.altitude, 35000);
    top.elements = 1; /* no fields at all: an object written at seq 0 */
    assert_int_equal(sky_tile38_parse_object_resp(&top, &o, err, sizeof err), 0);
    assert_true(o.found && !o.has_seq && !o.has_ts);
    redisReply nil = {.type = REDIS_REPLY_NIL};
    assert_int_equal(sky_tile38_parse_object_resp(&nil, &o, err, sizeof err), 0);
    assert_false(o.found);
    redisReply e = {.type = REDIS_REPLY_ERROR, .str = "LOADING Tile38 is loading", .len = 25};
    assert_int_not_equal(sky_tile38_parse_object_resp(&e, &o, err, sizeof err), 0);
    assert_non_null(strstr(err, "LOADING"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_object_reads_point_and_fields),
        cmocka_unit_test(test_fmt_fixed_rounds_to_the_requested_decimals),
        cmocka_unit_test(test_new_reports_an_unreachable_server),
        cmocka_unit_test(test_oneshot_names_a_bad_address_and_an_unreachable_server),
        cmocka_unit_test(test_oneshot_waits_while_the_server_loads_its_aof),
        cmocka_unit_test(test_reply_error_reads_json_and_resp_errors),
        cmocka_unit_test(test_error_kinds_split_server_state_from_bad_commands),
        cmocka_unit_test(test_parse_object_resp_reads_point_and_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
