/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Set-up shared by live and offline mode: the watchlist compiled from the
 * configuration, and per worker an event ring and an inspector.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "endpoints.h"
#include "event.h"
#include "frag.h"
#include "gateway.h"
#include "inspect.h"
#include "match.h"
#include "policy.h"
#include "worker.h"

#define NS_PER_SECOND 1000000000ull

struct watchlist *
gateway_watchlist_create(const struct gateway_config *cfg, char *error,
	size_t error_len)
{
	return watchlist_compile(&cfg->watchlists, error, error_len);
}

struct rte_ring *
gateway_event_ring_create(unsigned int worker_id, unsigned int size,
	int socket)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "events_%u", worker_id);
	return rte_ring_create_elem(name, sizeof(struct gw_event), size,
		socket, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
}

/*
 * Checksums are verified on a live port unless configured otherwise; a
 * capture file is read in auto mode, since one taken on a sending host
 * holds the sums its NIC was left to finish.
 */
static enum inspect_checksum
inspect_checksum_of(enum config_checksum checksum, bool live)
{
	switch (checksum) {
	case CONFIG_CHECKSUM_VERIFY:
		return INSPECT_CHECKSUM_VERIFY;
	case CONFIG_CHECKSUM_AUTO:
		return INSPECT_CHECKSUM_AUTO;
	case CONFIG_CHECKSUM_OFF:
		return INSPECT_CHECKSUM_OFF;
	default:
		return live ? INSPECT_CHECKSUM_VERIFY : INSPECT_CHECKSUM_AUTO;
	}
}

struct inspector *
gateway_inspector_create(const struct gateway_config *cfg, bool live,
	unsigned int worker_id, struct rte_ring *events,
	const struct watchlist *watchlist, struct policy_publisher *policy,
	struct rte_mempool *reset_pool,
	struct endpoint_registry *endpoints,
	void (*event_fn)(void *ctx, const struct gw_event *ev), void *event_ctx)
{
	struct inspector_params params = {
		.worker_id = worker_id,
		.max_flows = cfg->max_flows,
		.sessions = config_sessions(cfg),
		.sessions_per_client = cfg->sessions_per_client,
		.session_idle_reclaim_ns =
			(uint64_t)cfg->session_idle_reclaim_ms * 1000000,
		.session_memory = (size_t)cfg->session_memory << 20,
		.session_memory_max = cfg->session_memory_max << 10,
		.classify_packets = cfg->classify_packets,
		.quic_reads_per_second = cfg->quic_hellos_per_second,
		.fail_mode = cfg->fail_mode == CONFIG_FAIL_CLOSED ?
			INSPECT_FAIL_CLOSED : INSPECT_FAIL_OPEN,
		.timeout_embryonic_ns = cfg->timeout_embryonic * NS_PER_SECOND,
		.timeout_established_ns = cfg->timeout_established * NS_PER_SECOND,
		.timeout_closing_ns = cfg->timeout_closing * NS_PER_SECOND,
		.timeout_closed_ns = cfg->timeout_closed * NS_PER_SECOND,
		.timeout_udp_ns = cfg->timeout_udp * NS_PER_SECOND,
		.timeout_other_ns = cfg->timeout_other * NS_PER_SECOND,
		.events = events,
		.watchlist = watchlist,
		.policy = policy,
		.reset_pool = reset_pool,
		.event_fn = event_fn,
		.event_ctx = event_ctx,
		.stream_normalise = cfg->stream_mode == CONFIG_STREAM_NORMALISE,
		.stream_segments = config_stream_segments(cfg),
		.stream_flow_segments = cfg->stream_flow_segments,
		.stream_gap_timeout_ns = (uint64_t)cfg->stream_gap_timeout *
			NS_PER_SECOND,
		.stream_client_segments = cfg->stream_client_segments,
		.checksum = inspect_checksum_of(cfg->checksum, live),
		.forwards = live && cfg->mode == CONFIG_MODE_INLINE,
		.capture_cut_flag = live ? 0 : inspect_capture_cut_flag(),
		.endpoints = endpoints,
		.other_flow_records = cfg->output.flows == EVE_FLOWS_ALL ? 1 :
			cfg->output.flows == EVE_FLOWS_SMB_DCERPC ? 0 :
			cfg->output.flows_sample,
	};

	return inspector_create(&params);
}

struct endpoint_registry *
gateway_endpoints_create(const struct gateway_config *cfg,
	unsigned int tables)
{
	return endpoint_registry_create(tables, cfg->dcerpc.endpoints,
		(uint64_t)cfg->dcerpc.endpoint_expiry * NS_PER_SECOND,
		cfg->dcerpc.ranges, cfg->dcerpc.range_count);
}

int
gateway_fragments_create(const struct gateway_config *cfg,
	struct worker_link *link, int socket, char *error, size_t error_len)
{
	struct frag_params params = {
		.mode = cfg->fragments == CONFIG_FRAGMENTS_DROP ?
			FRAG_MODE_DROP : FRAG_MODE_REASSEMBLE,
		/* 0: defaults only, never loaded (tests) */
		.max_datagrams = cfg->fragment_table_size != 0 ?
			cfg->fragment_table_size : CONFIG_FRAGMENT_TABLE_DEFAULT,
		.timeout_ns = cfg->fragment_timeout_ms * 1000000ull,
		.socket = socket,
		.pool = link->pool,
	};

	link->frag = NULL;
	if (cfg->fragments == CONFIG_FRAGMENTS_FORWARD)
		return 0;
	link->frag = frag_table_create(&params);
	if (link->frag == NULL) {
		snprintf(error, error_len,
			"cannot create a fragment table (stream.fragment_table_size = %u): %s",
			cfg->fragment_table_size, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

struct policy_publisher *
gateway_policy_start(const struct gateway_config *cfg, unsigned int readers,
	unsigned int generation, char *error, size_t error_len)
{
	struct policy_publisher_params params = {
		.readers = readers,
		.socket = SOCKET_ID_ANY,
	};
	struct policy_publisher *pub;
	struct policy *policy;

	policy = policy_build(&cfg->policy, generation, SOCKET_ID_ANY, error,
		error_len);
	if (policy == NULL)
		return NULL;
	pub = policy_publisher_create(&params);
	if (pub == NULL) {
		snprintf(error, error_len, "cannot create the policy publisher: %s",
			rte_strerror(rte_errno));
		policy_free(policy);
		return NULL;
	}
	/* No reader is online yet: this publish waits for nobody. */
	if (policy_publish(pub, policy) != 0) {
		snprintf(error, error_len, "cannot publish the policy");
		policy_free(policy);
		policy_publisher_free(pub);
		return NULL;
	}
	return pub;
}
