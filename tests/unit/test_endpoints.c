/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The learned DCE/RPC endpoint table (dataplane/endpoints.c): insert,
 * lookup, expiry, renewal, the bound and its evictions, tables per worker
 * read by every worker, the dynamic port ranges; and the dcerpc { }
 * configuration group that sizes it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "endpoints.h"

#define SECOND	1000000000ull

static const uint8_t samr[16] = { 0x12, 0x34, 0x57, 0x78, 0x12, 0x34, 0xab,
	0xcd, 0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xac };
static const uint8_t lsarpc[16] = { 0x12, 0x34, 0x57, 0x78, 0x12, 0x34, 0xab,
	0xcd, 0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab };

static void
ip4(uint8_t addr[16], uint8_t last)
{
	memset(addr, 0, 16);
	addr[0] = 198;
	addr[1] = 18;
	addr[2] = 2;
	addr[3] = last;
}

static void
test_insert_lookup(void **state)
{
	struct endpoint_registry *reg;
	struct endpoint_info info;
	struct endpoint_counters c;
	uint8_t dc[16], other[16], v6[16];

	(void)state;
	reg = endpoint_registry_create(1, 64, 600 * SECOND,
		endpoint_default_ranges, 2);
	assert_non_null(reg);
	ip4(dc, 20);
	ip4(other, 21);
	memset(v6, 0, 16);
	v6[0] = 0xfd;
	v6[15] = 20;

	assert_false(endpoint_lookup(reg, 0, dc, 4, 49154, SECOND, &info));
	assert_int_equal(endpoint_learn(reg, 0, dc, 4, 49154, samr, 1, SECOND),
		ENDPOINT_LEARNED);
	assert_true(endpoint_lookup(reg, 0, dc, 4, 49154, 2 * SECOND, &info));
	assert_memory_equal(info.iface_uuid, samr, 16);
	assert_int_equal(info.iface_ver_major, 1);
	assert_int_equal(info.table, 0);
	/* other port, other address, other family: not found */
	assert_false(endpoint_lookup(reg, 0, dc, 4, 49153, 2 * SECOND, NULL));
	assert_false(endpoint_lookup(reg, 0, other, 4, 49154, 2 * SECOND,
		NULL));
	assert_false(endpoint_lookup(reg, 0, dc, 6, 49154, 2 * SECOND, NULL));
	/* IPv6 */
	assert_int_equal(endpoint_learn(reg, 0, v6, 6, 49160, lsarpc, 0,
		SECOND), ENDPOINT_LEARNED);
	assert_true(endpoint_lookup(reg, 0, v6, 6, 49160, SECOND, &info));
	assert_memory_equal(info.iface_uuid, lsarpc, 16);
	/* refused arguments store nothing */
	assert_int_equal(endpoint_learn(reg, 0, dc, 4, 0, samr, 1, SECOND),
		ENDPOINT_REFUSED);
	assert_int_equal(endpoint_learn(reg, 0, dc, 5, 1, samr, 1, SECOND),
		ENDPOINT_REFUSED);
	assert_int_equal(endpoint_learn(reg, 1, dc, 4, 1, samr, 1, SECOND),
		ENDPOINT_REFUSED);
	assert_false(endpoint_lookup(reg, 3, dc, 4, 49154, SECOND, NULL));
	assert_false(endpoint_lookup(NULL, 0, dc, 4, 49154, SECOND, NULL));
	endpoint_counters_get(reg, 0, &c);
	assert_int_equal(c.learned, 2);
	assert_int_equal(c.hits, 2);
	assert_int_equal(endpoint_count(reg, 0, SECOND), 2);
	endpoint_registry_free(reg);
}

static void
test_expiry_and_renewal(void **state)
{
	struct endpoint_registry *reg;
	struct endpoint_info info;
	struct endpoint_counters c;
	uint8_t dc[16];

	(void)state;
	reg = endpoint_registry_create(1, 64, 600 * SECOND, NULL, 0);
	assert_non_null(reg);
	ip4(dc, 20);
	endpoint_learn(reg, 0, dc, 4, 49154, samr, 1, 100 * SECOND);
	assert_true(endpoint_lookup(reg, 0, dc, 4, 49154, 699 * SECOND, NULL));
	assert_false(endpoint_lookup(reg, 0, dc, 4, 49154, 700 * SECOND, NULL));
	assert_int_equal(endpoint_count(reg, 0, 700 * SECOND), 0);

	/* Named again before it expires: renewed from then on. A DCOM
	 * answer (no interface) keeps the endpoint mapper's interface. */
	endpoint_learn(reg, 0, dc, 4, 49155, samr, 1, 100 * SECOND);
	assert_int_equal(endpoint_learn(reg, 0, dc, 4, 49155, NULL, 0,
		500 * SECOND), ENDPOINT_RENEWED);
	assert_true(endpoint_lookup(reg, 0, dc, 4, 49155, 1000 * SECOND,
		&info));
	assert_memory_equal(info.iface_uuid, samr, 16);
	assert_false(endpoint_lookup(reg, 0, dc, 4, 49155, 1100 * SECOND,
		NULL));
	/* A new interface replaces the old one. */
	endpoint_learn(reg, 0, dc, 4, 49155, lsarpc, 0, 1000 * SECOND);
	assert_true(endpoint_lookup(reg, 0, dc, 4, 49155, 1000 * SECOND,
		&info));
	assert_memory_equal(info.iface_uuid, lsarpc, 16);
	/* An expired entry's way is reused without an eviction. */
	endpoint_learn(reg, 0, dc, 4, 50000, samr, 1, 5000 * SECOND);
	endpoint_counters_get(reg, 0, &c);
	assert_int_equal(c.evicted, 0);
	endpoint_registry_free(reg);
}

static void
test_bound_eviction(void **state)
{
	struct endpoint_registry *reg;
	struct endpoint_counters c;
	uint8_t dc[16];
	unsigned int i, found;

	(void)state;
	/* One bucket of ENDPOINT_BUCKET_WAYS: every endpoint meets. */
	reg = endpoint_registry_create(1, ENDPOINT_BUCKET_WAYS, 600 * SECOND,
		NULL, 0);
	assert_non_null(reg);
	ip4(dc, 20);
	for (i = 0; i < ENDPOINT_BUCKET_WAYS; i++)
		assert_int_equal(endpoint_learn(reg, 0, dc, 4,
			(uint16_t)(49152 + i), samr, 1, (1 + i) * SECOND),
			ENDPOINT_LEARNED);
	assert_int_equal(endpoint_count(reg, 0, 10 * SECOND),
		ENDPOINT_BUCKET_WAYS);
	/* One more pushes out the one that expires first (the oldest). */
	assert_int_equal(endpoint_learn(reg, 0, dc, 4, 60000, samr, 1,
		20 * SECOND), ENDPOINT_EVICTED);
	assert_false(endpoint_lookup(reg, 0, dc, 4, 49152, 20 * SECOND, NULL));
	assert_true(endpoint_lookup(reg, 0, dc, 4, 49153, 20 * SECOND, NULL));
	assert_true(endpoint_lookup(reg, 0, dc, 4, 60000, 20 * SECOND, NULL));
	assert_int_equal(endpoint_count(reg, 0, 20 * SECOND),
		ENDPOINT_BUCKET_WAYS);
	/* A flood stays within the bound. */
	for (i = 0; i < 1000; i++)
		endpoint_learn(reg, 0, dc, 4, (uint16_t)(1000 + i), NULL, 0,
			(30 + i) * SECOND);
	assert_int_equal(endpoint_count(reg, 0, 1030 * SECOND),
		ENDPOINT_BUCKET_WAYS);
	endpoint_counters_get(reg, 0, &c);
	assert_int_equal(c.learned, ENDPOINT_BUCKET_WAYS + 1 + 1000);
	assert_int_equal(c.evicted, 1 + 1000);
	/* the last ones are there */
	for (i = 0, found = 0; i < 1000; i++)
		found += endpoint_lookup(reg, 0, dc, 4, (uint16_t)(1000 + i),
			1030 * SECOND, NULL);
	assert_int_equal(found, ENDPOINT_BUCKET_WAYS);
	endpoint_registry_free(reg);
}

static void
test_per_worker(void **state)
{
	struct endpoint_registry *reg;
	struct endpoint_info info;
	struct endpoint_counters c;
	uint8_t dc[16];

	(void)state;
	reg = endpoint_registry_create(3, 256, 600 * SECOND, NULL, 0);
	assert_non_null(reg);
	assert_int_equal(endpoint_table_count(reg), 3);
	ip4(dc, 20);
	/* Worker 2 parsed the ept_map answer; worker 0 sees the
	 * connection to the port it named. */
	endpoint_learn(reg, 2, dc, 4, 49154, samr, 1, SECOND);
	assert_int_equal(endpoint_count(reg, 2, SECOND), 1);
	assert_int_equal(endpoint_count(reg, 0, SECOND), 0);
	assert_true(endpoint_lookup(reg, 0, dc, 4, 49154, SECOND, &info));
	assert_int_equal(info.table, 2);
	assert_true(endpoint_lookup(reg, 1, dc, 4, 49154, SECOND, &info));
	endpoint_counters_get(reg, 0, &c);
	assert_int_equal(c.hits, 1);
	assert_int_equal(c.learned, 0);
	endpoint_counters_get(reg, 2, &c);
	assert_int_equal(c.learned, 1);
	assert_int_equal(c.hits, 0);
	/* Each worker's table has its own bound. */
	endpoint_learn(reg, 0, dc, 4, 49154, lsarpc, 0, SECOND);
	assert_true(endpoint_lookup(reg, 0, dc, 4, 49154, SECOND, &info));
	assert_int_equal(info.table, 0);	/* its own first */
	endpoint_registry_free(reg);
	/* Bad sizes */
	assert_null(endpoint_registry_create(0, 16, SECOND, NULL, 0));
	assert_null(endpoint_registry_create(ENDPOINT_TABLES_MAX + 1, 16,
		SECOND, NULL, 0));
	assert_null(endpoint_registry_create(1, 0, SECOND, NULL, 0));
}

static void
test_dynamic_ranges(void **state)
{
	static const struct endpoint_port_range custom[] = {
		{ 50000, 50100 }, { 593, 593 },
	};
	struct endpoint_registry *reg;

	(void)state;
	reg = endpoint_registry_create(1, 16, SECOND, endpoint_default_ranges,
		2);
	assert_non_null(reg);
	assert_true(endpoint_port_dynamic(reg, 49152));
	assert_true(endpoint_port_dynamic(reg, 65535));
	assert_true(endpoint_port_dynamic(reg, 1024));
	assert_true(endpoint_port_dynamic(reg, 5000));
	assert_false(endpoint_port_dynamic(reg, 5001));
	assert_false(endpoint_port_dynamic(reg, 8445));
	assert_false(endpoint_port_dynamic(reg, 9445));
	assert_false(endpoint_port_dynamic(reg, 443));
	assert_false(endpoint_port_dynamic(reg, 80));
	assert_false(endpoint_port_dynamic(reg, 22));
	assert_false(endpoint_port_dynamic(reg, 1023));
	endpoint_registry_free(reg);
	reg = endpoint_registry_create(1, 16, SECOND, custom, 2);
	assert_true(endpoint_port_dynamic(reg, 50000));
	assert_true(endpoint_port_dynamic(reg, 593));
	assert_false(endpoint_port_dynamic(reg, 49152));
	assert_false(endpoint_port_dynamic(reg, 2000));
	endpoint_registry_free(reg);
	reg = endpoint_registry_create(1, 16, SECOND, NULL, 0);
	assert_false(endpoint_port_dynamic(reg, 49152));
	endpoint_registry_free(reg);
}

static int
load(const char *text, struct gateway_config *cfg,
	struct config_errors *errors)
{
	char full[1024];

	snprintf(full, sizeof(full),
		"gateway: { ports = [ \"a\", \"b\" ]; };\n%s", text);
	memset(errors, 0, sizeof(*errors));
	return config_load_string("test.conf", full, cfg, errors);
}

static void
test_config(void **state)
{
	struct gateway_config cfg;
	struct config_errors errors;

	(void)state;
	assert_int_equal(load("", &cfg, &errors), 0);
	assert_int_equal(cfg.dcerpc.endpoints, ENDPOINT_DEFAULT_ENTRIES);
	assert_int_equal(cfg.dcerpc.endpoint_expiry, ENDPOINT_DEFAULT_EXPIRY_S);
	assert_int_equal(cfg.dcerpc.range_count, 2);
	assert_int_equal(cfg.dcerpc.ranges[0].first, 49152);
	assert_int_equal(cfg.dcerpc.ranges[1].last, 5000);

	assert_int_equal(load("dcerpc: { endpoints = 100; endpoint_expiry = 60;"
		" dynamic_ports = [ \"50000-50100\", \"6000\" ]; };", &cfg,
		&errors), 0);
	assert_int_equal(cfg.dcerpc.endpoints, 100);
	assert_int_equal(cfg.dcerpc.endpoint_expiry, 60);
	assert_int_equal(cfg.dcerpc.range_count, 2);
	assert_int_equal(cfg.dcerpc.ranges[0].first, 50000);
	assert_int_equal(cfg.dcerpc.ranges[0].last, 50100);
	assert_int_equal(cfg.dcerpc.ranges[1].first, 6000);
	assert_int_equal(cfg.dcerpc.ranges[1].last, 6000);

	/* No dynamic ranges at all. */
	assert_int_equal(load("dcerpc: { dynamic_ports = [ ]; };", &cfg,
		&errors), 0);
	assert_int_equal(cfg.dcerpc.range_count, 0);

	assert_int_equal(load("dcerpc: { dynamic_ports = [ \"5000-1024\" ]; };",
		&cfg, &errors), -EINVAL);
	assert_non_null(strstr(errors.messages[0], "dcerpc.dynamic_ports[0]"));
	assert_int_equal(load("dcerpc: { dynamic_ports = [ \"0-10\" ]; };",
		&cfg, &errors), -EINVAL);
	assert_int_equal(load("dcerpc: { dynamic_ports = [ \"1-70000\" ]; };",
		&cfg, &errors), -EINVAL);
	assert_int_equal(load("dcerpc: { dynamic_ports = \"1-2\"; };",
		&cfg, &errors), -EINVAL);
	assert_int_equal(load("dcerpc: { endpoints = 1; };", &cfg, &errors),
		-EINVAL);
	assert_non_null(strstr(errors.messages[0], "dcerpc.endpoints"));
	assert_int_equal(load("dcerpc: { endpoint_expiry = 0; };", &cfg,
		&errors), -EINVAL);
	assert_int_equal(load("dcerpc: { endpoint = 10; };", &cfg, &errors),
		-EINVAL);
	assert_non_null(strstr(errors.messages[0], "unknown key dcerpc.endpoint"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_lookup),
		cmocka_unit_test(test_expiry_and_renewal),
		cmocka_unit_test(test_bound_eviction),
		cmocka_unit_test(test_per_worker),
		cmocka_unit_test(test_dynamic_ranges),
		cmocka_unit_test(test_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
