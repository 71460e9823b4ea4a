/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-client counts: who the client of a flow is (its initiator, by
 * address, IP version and VLANs), the cap, the size limit, and a random
 * walk of acquires and releases against a plain array as reference (which
 * exercises deletion from the middle of probe runs).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flow.h"
#include "flow_clients.h"

/* A flow as the table stores it: IPv4 as ::ffff:a.b.c.d. */
static struct flow_entry
flow_of(const uint8_t client[16], const uint8_t server[16], bool init_hi,
	uint16_t vlan_outer, uint16_t vlan_inner)
{
	struct flow_entry e;
	unsigned int c = init_hi ? 1 : 0;

	memset(&e, 0, sizeof(e));
	memcpy(e.key.addr[c], client, 16);
	memcpy(e.key.addr[!c], server, 16);
	e.key.meta = 6 | (uint32_t)vlan_outer << 8 | (uint32_t)vlan_inner << 20;
	e.flags = init_hi ? FLOW_F_INIT_HI : 0;
	return e;
}

static void
v4(uint8_t out[16], uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	memset(out, 0, 16);
	out[10] = out[11] = 0xff;
	out[12] = a;
	out[13] = b;
	out[14] = c;
	out[15] = d;
}

static void
test_client_is_the_initiator(void **state)
{
	struct flow_client_table *t = flow_client_table_create(16, 1);
	uint8_t client[16], server[16];
	struct flow_entry a, b, reverse;

	(void)state;
	assert_non_null(t);
	v4(client, 198, 18, 1, 10);
	v4(server, 198, 18, 2, 20);
	/* Same client, whichever end of the stored key it is. */
	a = flow_of(client, server, false, 0, 0);
	b = flow_of(client, server, true, 0, 0);
	/* The server initiating: another client. */
	reverse = flow_of(server, client, false, 0, 0);
	assert_int_equal(flow_client_acquire(t, &a, 0), 0);
	assert_int_equal(flow_client_acquire(t, &b, 0), 0);
	assert_int_equal(flow_client_count(t, &a), 2);
	assert_int_equal(flow_client_count(t, &reverse), 0);
	assert_int_equal(flow_client_acquire(t, &reverse, 0), 0);
	assert_int_equal(flow_client_table_clients(t), 2);
	flow_client_release(t, &a);
	flow_client_release(t, &a);
	assert_int_equal(flow_client_count(t, &b), 0);
	assert_int_equal(flow_client_table_clients(t), 1);
	/* Releasing a client that is not there changes nothing. */
	flow_client_release(t, &a);
	assert_int_equal(flow_client_count(t, &reverse), 1);
	flow_client_table_free(t);
}

static void
test_vlans_and_versions_are_apart(void **state)
{
	struct flow_client_table *t = flow_client_table_create(16, 2);
	uint8_t client[16], server[16], six[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	struct flow_entry plain, outer, inner, ipv6;

	(void)state;
	v4(client, 198, 18, 1, 10);
	v4(server, 198, 18, 2, 20);
	/* The IPv6 address with the IPv4 one's last bytes. */
	memcpy(six + 12, client + 12, 4);
	plain = flow_of(client, server, false, 0, 0);
	outer = flow_of(client, server, false, 100, 0);
	inner = flow_of(client, server, false, 100, 200);
	ipv6 = flow_of(six, server, false, 0, 0);
	assert_int_equal(flow_client_acquire(t, &plain, 1), 0);
	assert_int_equal(flow_client_acquire(t, &outer, 1), 0);
	assert_int_equal(flow_client_acquire(t, &inner, 1), 0);
	assert_int_equal(flow_client_acquire(t, &ipv6, 1), 0);
	assert_int_equal(flow_client_table_clients(t), 4);
	/* Each at its cap of 1. */
	assert_int_equal(flow_client_acquire(t, &plain, 1), -EBUSY);
	assert_int_equal(flow_client_acquire(t, &inner, 1), -EBUSY);
	assert_int_equal(flow_client_acquire(t, &ipv6, 1), -EBUSY);
	assert_int_equal(flow_client_count(t, &outer), 1);
	flow_client_table_free(t);
}

static void
test_cap_and_size(void **state)
{
	struct flow_client_table *t = flow_client_table_create(3, 3);
	uint8_t client[16], server[16];
	struct flow_entry e[4];
	unsigned int i;

	(void)state;
	v4(server, 198, 18, 2, 20);
	for (i = 0; i < 4; i++) {
		v4(client, 198, 18, 1, (uint8_t)(10 + i));
		e[i] = flow_of(client, server, false, 0, 0);
	}
	for (i = 0; i < 64; i++)
		assert_int_equal(flow_client_acquire(t, &e[0], 64), 0);
	assert_int_equal(flow_client_acquire(t, &e[0], 64), -EBUSY);
	assert_int_equal(flow_client_count(t, &e[0]), 64);
	/* A higher cap, or none, lets it go on. */
	assert_int_equal(flow_client_acquire(t, &e[0], 0), 0);
	assert_int_equal(flow_client_count(t, &e[0]), 65);
	assert_int_equal(flow_client_acquire(t, &e[1], 1), 0);
	assert_int_equal(flow_client_acquire(t, &e[2], 1), 0);
	/* Three clients are the most it was made for. */
	assert_int_equal(flow_client_acquire(t, &e[3], 1), -ENOSPC);
	assert_int_equal(flow_client_count(t, &e[3]), 0);
	flow_client_release(t, &e[1]);
	assert_int_equal(flow_client_acquire(t, &e[3], 1), 0);
	flow_client_table_free(t);

	assert_null(flow_client_table_create(0, 0));
	assert_int_equal(errno, EINVAL);
	flow_client_table_free(NULL);
}

#define WALK_CLIENTS 600
#define WALK_STEPS 200000

static void
test_random_walk(void **state)
{
	static uint32_t reference[WALK_CLIENTS];
	struct flow_client_table *t = flow_client_table_create(WALK_CLIENTS, 4);
	uint8_t client[16], server[16];
	struct flow_entry e;
	uint32_t present = 0, i;
	unsigned int seed = 12345;

	(void)state;
	memset(reference, 0, sizeof(reference));
	v4(server, 198, 18, 2, 20);
	for (i = 0; i < WALK_STEPS; i++) {
		uint32_t c = (uint32_t)rand_r(&seed) % WALK_CLIENTS;
		bool add = rand_r(&seed) % 2 == 0;

		v4(client, 10, 0, (uint8_t)(c >> 8), (uint8_t)c);
		e = flow_of(client, server, c % 3 == 0, 0, 0);
		if (add) {
			assert_int_equal(flow_client_acquire(t, &e, 4),
				reference[c] == 4 ? -EBUSY : 0);
			if (reference[c] < 4)
				present += reference[c]++ == 0;
		} else {
			flow_client_release(t, &e);
			if (reference[c] > 0)
				present -= --reference[c] == 0;
		}
		assert_int_equal(flow_client_count(t, &e), reference[c]);
		assert_int_equal(flow_client_table_clients(t), present);
	}
	/* Every count is still found where it should be. */
	for (i = 0; i < WALK_CLIENTS; i++) {
		v4(client, 10, 0, (uint8_t)(i >> 8), (uint8_t)i);
		e = flow_of(client, server, false, 0, 0);
		assert_int_equal(flow_client_count(t, &e), reference[i]);
	}
	flow_client_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_is_the_initiator),
		cmocka_unit_test(test_vlans_and_versions_are_apart),
		cmocka_unit_test(test_cap_and_size),
		cmocka_unit_test(test_random_walk),
	};

	return cmocka_run_group_tests_name("flow_clients", tests, NULL, NULL);
}
