/* Unit tests for proxy_config: the command line, as a case table of argument vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy_config.h"

typedef struct {
    const char *name;
    const char *args[8];
    int want; /* PROXY_CONFIG_* */
    const char *err_part;
} cfgcase;

static const cfgcase cases[] = {
    {"minimal", {"--upstream", "http://127.0.0.1:9000"}, PROXY_CONFIG_OK, NULL},
    {"upstream-file only", {"--upstream-file", "/x"}, PROXY_CONFIG_OK, NULL},
    {"no upstream", {"--listen", ":8080"}, PROXY_CONFIG_EBAD, "no upstream"},
    {"unknown", {"--upstream", "u", "--frobnicate"}, PROXY_CONFIG_EBAD, "--frobnicate"},
    {"missing value", {"--upstream"}, PROXY_CONFIG_EBAD, "needs a value"},
    {"extra arg", {"--upstream", "u", "stray"}, PROXY_CONFIG_EBAD, "stray"},
    {"sample > 100", {"--upstream", "u", "--sample", "100.5"}, PROXY_CONFIG_EBAD, "--sample"},
    {"sample %", {"--upstream", "u", "--sample", "12.5%"}, PROXY_CONFIG_OK, NULL},
    {"bad duration", {"--upstream", "u", "--idle-timeout", "0"}, PROXY_CONFIG_EBAD, "--idle-timeout"},
    {"bad size", {"--upstream", "u", "--rotate-size", "12Q"}, PROXY_CONFIG_EBAD, "--rotate-size"},
    {"buffer too small", {"--upstream", "u", "--buffer-size", "100"}, PROXY_CONFIG_EBAD, "--buffer-size"},
    {"workers 0", {"--upstream", "u", "--workers", "0"}, PROXY_CONFIG_EBAD, "--workers"},
    {"workers x", {"--upstream", "u", "--workers", "2x"}, PROXY_CONFIG_EBAD, "--workers"},
    {"regex twice", {"--upstream", "u", "--skip-path", "a", "--skip-path", "b"}, PROXY_CONFIG_EBAD, "twice"},
    {"bad regex", {"--upstream", "u", "--record-path", "a["}, PROXY_CONFIG_EBAD, "bad regex"},
    {"redact colon", {"--upstream", "u", "--redact-header", "X:y"}, PROXY_CONFIG_EBAD, "--redact-header"},
    {"admin port 0", {"--upstream", "u", "--admin", "0"}, PROXY_CONFIG_EBAD, "--admin"},
    {"prefix slash", {"--upstream", "u", "--capture-prefix", "a/b"}, PROXY_CONFIG_EBAD, "--capture-prefix"},
    {"help", {"--help"}, PROXY_CONFIG_HELP, NULL},
};

static int run(const cfgcase *c, proxy_config *cfg, char *err, size_t errlen)
{
    char *argv[10] = {"tapedeck-proxy"};
    int argc = 1;
    for (int i = 0; i < 8 && c->args[i]; i++)
        argv[argc++] = (char *)c->args[i];
    return proxy_config_parse(cfg, argc, argv, err, errlen);
}

static void table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        proxy_config cfg;
        char err[512] = "";
        int rc = run(&cases[i], &cfg, err, sizeof err);
        if (rc != cases[i].want)
            fail_msg("%s: got %d want %d (%s)", cases[i].name, rc, cases[i].want, err);
        if (cases[i].err_part && !strstr(err, cases[i].err_part))
            fail_msg("%s: message '%s' lacks '%s'", cases[i].name, err, cases[i].err_part);
        proxy_config_clear(&cfg);
    }
}

static void values(void **state)
{
    (void)state;
    const cfgcase c = {"all", {"--upstream", "http://h:1", "--listen", ":9", "--max-body", "64K", "--admin", "9100"},
                       PROXY_CONFIG_OK, NULL};
    proxy_config cfg;
    char err[256];
    assert_int_equal(run(&c, &cfg, err, sizeof err), PROXY_CONFIG_OK);
    assert_string_equal(cfg.listen_host, "0.0.0.0");
    assert_int_equal(cfg.listen_port, 9);
    assert_int_equal(cfg.max_body, 65536);
    assert_string_equal(cfg.admin_host, "127.0.0.1"); /* loopback unless told otherwise */
    assert_int_equal(cfg.admin_port, 9100);
    assert_int_equal(cfg.workers, 1);
    assert_true(cfg.header_timeout_us > 0 && cfg.upstream_timeout_us > 0);
    assert_null(cfg.capture_dir); /* recording off by default */
    proxy_config_clear(&cfg);
}

static void sizes_and_addrs(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(proxy_config_parse_size("123", &v), 0);
    assert_int_equal(v, 123);
    assert_int_equal(proxy_config_parse_size("2M", &v), 0);
    assert_int_equal(v, 2 * 1024 * 1024);
    assert_int_equal(proxy_config_parse_size("1GiB", &v), 0);
    assert_int_equal(v, 1024ull * 1024 * 1024);
    assert_int_equal(proxy_config_parse_size("1kb", &v), 0);
    assert_int_equal(v, 1024);
    assert_int_equal(proxy_config_parse_size("", &v), -1);
    assert_int_equal(proxy_config_parse_size("-1", &v), -1);
    assert_int_equal(proxy_config_parse_size("1MM", &v), -1);
    assert_int_equal(proxy_config_parse_size("99999999999999999999G", &v), -1);
    char host[64];
    int port = 0;
    assert_int_equal(proxy_config_parse_addr("10.0.0.1:80", "any", host, sizeof host, &port), 0);
    assert_string_equal(host, "10.0.0.1");
    assert_int_equal(port, 80);
    assert_int_equal(proxy_config_parse_addr("[::1]:8080", "any", host, sizeof host, &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 8080);
    assert_int_equal(proxy_config_parse_addr(":81", "any", host, sizeof host, &port), 0);
    assert_string_equal(host, "any");
    assert_int_equal(proxy_config_parse_addr("82", "lo", host, sizeof host, &port), 0);
    assert_string_equal(host, "lo");
    assert_int_equal(port, 82);
    assert_int_equal(proxy_config_parse_addr("h:70000", "x", host, sizeof host, &port), -1);
    assert_int_equal(proxy_config_parse_addr("[::1", "x", host, sizeof host, &port), -1);
    assert_int_equal(proxy_config_parse_addr("h:", "x", host, sizeof host, &port), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),
        cmocka_unit_test(values),
        cmocka_unit_test(sizes_and_addrs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
