/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_GATEWAY_API_H
#define SMBGW_GATEWAY_API_H

/*
 * The control API of a running gateway: one object over the pieces the
 * control core owns (configuration, policy publisher, monitor, flow
 * summary) and a view of the data plane given as callbacks, so that it
 * needs no DPDK port and can be tested alone. SIGHUP, the control socket
 * (and so smbgwctl) and DPDK telemetry all end here, on the control
 * thread: nothing in it is locked.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "config_reload.h"
#include "counters.h"
#include "flow.h"
#include "inspect.h"

struct ctl_server;
struct flowlog;
struct monitor;
struct policy_publisher;

/* Every worker's counters, summed. */
struct gateway_counters {
	struct worker_counters total;	/* ports, decode */
	struct inspect_counters inspect;
	struct flow_table_stats flows;
};

/* One worker's own counters (the "workers" array of stats). */
struct gateway_worker_counters {
	unsigned int lcore;
	uint64_t rx;			/* frames received on every port */
	uint64_t bursts;
	uint64_t polls;
	uint64_t busy_cycles;
	uint64_t events;		/* queued to the control core */
	uint64_t ring_full;		/* lost: the event ring was full */
	/* Software flow affinity, over every port (dataplane/worker.h) */
	uint64_t redirected_out;	/* received here, handed to the owner */
	uint64_t redirected_in;		/* received elsewhere, handled here */
	uint64_t flows_created;		/* flows this worker tracked */
	uint64_t smb_messages;		/* SMB messages it parsed */
	bool balanced;			/* rx + in == tx + drops + ... + out */
	/* Its queue of every port (worker i serves queue i): the frames
	 * it received there and what became of them. */
	struct port_counters queue[DATAPLANE_PORTS_MAX];
};

/* What a port's device counted itself. */
struct gateway_device_counters {
	uint64_t imissed;
	uint64_t rx_nombuf;
	uint64_t oerrors;
};

/*
 * The data plane as the control API sees it: counts and names, read
 * through callbacks with <ctx>. The live gateway reads its workers and
 * ports; a test gives fixed values.
 */
struct gateway_dataplane {
	unsigned int port_count;
	const char *const *port_names;	/* port_count of them */
	unsigned int worker_count;
	void *ctx;
	/* Sums every worker's counters into <out>. */
	void (*sum)(void *ctx, struct gateway_counters *out);
	/* Fills <out> with worker <worker>'s counters. */
	void (*worker)(void *ctx, unsigned int worker,
		struct gateway_worker_counters *out);
	/* Fills <out> for port <port>; false when the device cannot say. */
	bool (*device)(void *ctx, unsigned int port,
		struct gateway_device_counters *out);
};

/* The running pieces a gateway object works on; it owns none of them. */
struct gateway_parts {
	const struct gateway_config *cfg;	/* as started */
	struct policy_publisher *policy;	/* publishing cfg->policy */
	uint64_t generation;		/* of the policy published, from 1 */
	struct monitor *monitor;
	struct flowlog *flowlog;
	uint64_t started_ns;		/* CLOCK_MONOTONIC, for uptime */
};

struct gateway;

/*
 * Creates the control API over <parts> and <dataplane> (both copied; what
 * they point to must outlive the object). Returns NULL with a one-line
 * cause in <error>.
 */
struct gateway *
gateway_create(const struct gateway_parts *parts,
	const struct gateway_dataplane *dataplane, char *error,
	size_t error_len);

/* Frees <gw> (NULL is allowed), not the parts it was given. */
void
gateway_free(struct gateway *gw);

/*
 * Reads the configuration file again and checks it in full. A valid file
 * is accepted: its policy is published (the generation goes up), and every
 * other key that differs from the running configuration, which only takes
 * effect at restart, is listed in <changes>. A file with errors, or one
 * that cannot be read (not a regular file, too big, ...), is rejected with
 * them in <errors> and changes nothing. Returns 0 or -EINVAL.
 */
int
gateway_reload(struct gateway *gw, struct config_errors *errors,
	struct config_changes *changes);

/* Reopens the EVE log (after logrotate). Returns 0 or -errno. */
int
gateway_reopen_logs(struct gateway *gw);

/* Sets "enforce" or "monitor-only". Returns 0 or -EINVAL. */
int
gateway_set_mode(struct gateway *gw, const char *mode);

/* The generation of the policy the workers read now. */
uint64_t
gateway_generation(const struct gateway *gw);

/* Fills <out> with the data plane's counters, summed. */
void
gateway_stats(const struct gateway *gw, struct gateway_counters *out);

/*
 * Registers every control socket command of <gw> on <server> (status,
 * stats, flows, segments, rules, policy check, alerts, report, reload,
 * mode, log reopen); <server>'s own counters appear in stats. Returns 0 or
 * -errno.
 */
int
gateway_register_commands(struct gateway *gw, struct ctl_server *server);

#endif /* SMBGW_GATEWAY_API_H */
