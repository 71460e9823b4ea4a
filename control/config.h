/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_CONFIG_H
#define SMBGW_CONFIG_H

/*
 * Gateway configuration: loaded from a libconfig file (or the embedded
 * default), validated in full, and reported as "file:line: message" errors.
 * The structure is plain data; nothing here touches DPDK, so the loader is
 * unit-tested and used by --check-config without EAL.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config_dcerpc.h"
#include "ctl.h"
#include "detector.h"
#include "eve.h"
#include "match.h"
#include "policy.h"
#include "redis_output.h"
#include "report.h"

#define CONFIG_PORTS_MAX 8
#define CONFIG_PORT_NAME_MAX 64
#define CONFIG_PATH_MAX 512
#define CONFIG_ERRORS_MAX 32
#define CONFIG_ERROR_LEN 512

enum config_mode {
	CONFIG_MODE_INLINE,	/* two ports, frames cross from one to the other */
	CONFIG_MODE_TAP,	/* receive-only ports fed by SPAN or a tap */
};

enum config_fail_mode {
	CONFIG_FAIL_OPEN,	/* when out of state, forward unclassified */
	CONFIG_FAIL_CLOSED,	/* when out of state, drop new SMB candidates */
};

enum config_stream_mode {
	CONFIG_STREAM_NORMALISE,	/* inspected flows are normalised */
	CONFIG_STREAM_OFF,		/* the parsers order what they can */
};

/* gateway.redirect: software flow affinity between workers */
enum config_redirect {
	CONFIG_REDIRECT_AUTO,	/* on when several workers and a port lacks RSS */
	CONFIG_REDIRECT_ON,
	CONFIG_REDIRECT_OFF,
};

enum config_checksum {
	CONFIG_CHECKSUM_VERIFY,
	CONFIG_CHECKSUM_AUTO,
	CONFIG_CHECKSUM_OFF,
	/* not set: verify on a live port, auto on a capture file */
	CONFIG_CHECKSUM_DEFAULT,
};

/* Fragments a datagram in reassembly may hold (rte_ip_frag's limit). */
#define CONFIG_FRAGMENTS_PER_DATAGRAM 8
/* stream.fragment_table_size when unset, if memory.mbufs allows. */
#define CONFIG_FRAGMENT_TABLE_DEFAULT 256
#define CONFIG_STREAM_SEGMENTS_DEFAULT 8192

enum config_fragments {
	CONFIG_FRAGMENTS_REASSEMBLE,	/* TCP fragments reassembled and judged */
	CONFIG_FRAGMENTS_DROP,		/* TCP fragments dropped (enforce mode) */
	CONFIG_FRAGMENTS_FORWARD,	/* TCP fragments forwarded unjudged */
};

struct gateway_config {
	char source[CONFIG_PATH_MAX];	/* file name, or "<default>" */
	/* output.path came from the command line (-e), not from the file */
	bool eve_path_overridden;

	/* gateway { } */
	enum config_mode mode;
	unsigned int port_count;
	char ports[CONFIG_PORTS_MAX][CONFIG_PORT_NAME_MAX];
	unsigned int workers;
	enum config_redirect redirect;
	enum config_fail_mode fail_mode;
	unsigned int mtu;		/* largest IP packet carried */
	unsigned int burst_size;
	unsigned int tx_retries;
	unsigned int stats_interval;	/* seconds; 0 prints only at exit */
	char name[REDIS_GATEWAY_NAME_MAX];	/* names records; "" for none */

	/* memory { } */
	unsigned int mbufs;		/* per port */
	unsigned int mbuf_cache;
	unsigned int mbuf_data_room;
	unsigned int rx_descriptors;
	unsigned int tx_descriptors;
	unsigned int event_ring_size;	/* per worker */
	unsigned int redirect_ring_size;	/* per worker and port */

	/* flows { }: per worker; timeouts in seconds */
	unsigned int max_flows;
	unsigned int sessions;		/* 0: unset, see config_sessions() */
	unsigned int sessions_per_client;	/* 0: no cap */
	unsigned int session_idle_reclaim_ms;
	unsigned int session_memory;		/* MiB per worker */
	unsigned int session_memory_max;	/* KiB per session; 0: no cap */
	unsigned int classify_packets;
	unsigned int quic_hellos_per_second;	/* QUIC Initials read */
	unsigned int timeout_embryonic;
	unsigned int timeout_established;
	unsigned int timeout_closing;
	unsigned int timeout_closed;
	unsigned int timeout_udp;
	unsigned int timeout_other;

	/* stream { }: normalisation of inspected TCP flows, per worker */
	enum config_stream_mode stream_mode;
	enum config_checksum checksum;
	unsigned int stream_segments;		/* key "segments"; 0: unset,
						 * see config_stream_segments() */
	unsigned int stream_flow_segments;	/* key "flow_segments" */
	unsigned int stream_gap_timeout;	/* key "gap_timeout", seconds */
	unsigned int stream_client_segments;	/* key "client_segments"; 0: no cap */
	/* stream { }: IP fragments of TCP */
	enum config_fragments fragments;
	unsigned int fragment_table_size;	/* datagrams, per worker and port;
						 * 0 until loaded: then fitted */
	unsigned int fragment_timeout_ms;

	/* dcerpc { }: learned endpoints, dynamic port ranges */
	struct config_dcerpc dcerpc;

	/* watchlists { } */
	struct watchlist_spec watchlists;

	/* policy { }: segments, rules, mode (about 0.5 MiB: keep configs static) */
	struct policy_spec policy;

	/* detector { }, output { }, report { } */
	struct detector_params detector;
	struct eve_params output;
	struct report_params report;
	/* output { redis { } }: EVE records and report counters to Redis */
	struct redis_output_params redis;

	/* control { } */
	struct ctl_config control;
};

struct config_text;

/* Errors collected while loading; each already reads "file:line: message". */
struct config_errors {
	unsigned int count;
	unsigned int dropped;	/* errors beyond CONFIG_ERRORS_MAX */
	char messages[CONFIG_ERRORS_MAX][CONFIG_ERROR_LEN];
	/*
	 * While a file is loaded: the text libconfig parses, every @include
	 * expanded, whose lines config_error_add() maps back to the file and
	 * line they came from. NULL otherwise.
	 */
	const struct config_text *text;
};

/*
 * Appends "file:line: message" to <errors>, or counts it in
 * errors->dropped when the list is full. For loaders of config groups:
 * <line> is a line of the parsed text (config_setting_source_line()); when
 * it came from an included file, the message names that file and its own
 * line instead of <file>. Line 0 stands for the whole of <file>.
 */
void
config_error_add(struct config_errors *errors, const char *file, int line,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Writes where line <line> of the parsed text is, for a message that
 * refers to a second place: "file:line" when <errors> knows the files,
 * else "line N". Returns <buf>.
 */
const char *
config_error_where(const struct config_errors *errors, int line, char *buf,
	size_t len);

/*
 * Names libconfig setting type <type> for messages: "an integer",
 * "a string", ...
 */
const char *
config_type_name(int type);

/* A key of the loader's table, for code that compares configurations. */
struct config_key_info {
	const char *group;	/* "gateway" */
	const char *name;	/* "mtu" */
	size_t offset;		/* of its value in struct gateway_config */
	size_t size;		/* of its value */
	bool ports;		/* gateway.ports: port_count names, not bytes */
};

/*
 * Describes key <index> (from 0) of the loader's table: every key of the
 * gateway, memory, flows and stream groups. Returns false past the last.
 */
bool
config_table_key(unsigned int index, struct config_key_info *info);

/* The configuration the gateway runs with when no file is given. */
extern const char config_default_text[];

/*
 * Fills <cfg> with the built-in defaults for every key (two af_packet
 * vdev ports, one worker). Never fails.
 */
void
config_set_defaults(struct gateway_config *cfg);

/*
 * Loads and validates the libconfig file <path> into <cfg>, starting from
 * the defaults. The file and every file it includes are read through
 * config_text_read() (config_files.h): only regular files within the size
 * limits, never blocking. Every problem found is appended to <errors> as
 * "file:line: message", naming the included file where the problem is;
 * loading goes on after an error so that one run reports them all.
 * Returns 0 when the file is valid, -EINVAL when it has errors (and <cfg>
 * must not be used), or -errno when it cannot be read.
 */
int
config_load_file(const char *path, struct gateway_config *cfg,
	struct config_errors *errors);

/*
 * As config_load_file(), from the text <text>; <name> stands for the file
 * name in messages.
 */
int
config_load_string(const char *name, const char *text,
	struct gateway_config *cfg, struct config_errors *errors);

/*
 * Segments each worker may keep (stream.segments): as set, or unset the
 * default (8192) or half of a port's buffers (memory.mbufs) shared by the
 * workers, whichever is less.
 */
unsigned int
config_stream_segments(const struct gateway_config *cfg);

/* Frame size (Ethernet header and two VLAN tags included) for <cfg>'s MTU. */
unsigned int
config_max_frame(const struct gateway_config *cfg);

/*
 * Parser states each worker holds (flows.sessions): as set, or unset one
 * per flow table entry (flows.max_flows).
 */
unsigned int
config_sessions(const struct gateway_config *cfg);

const char *
config_mode_name(enum config_mode mode);

const char *
config_fail_mode_name(enum config_fail_mode mode);

/* "auto", "on" or "off". */
const char *
config_redirect_name(enum config_redirect redirect);

/* "verify", "auto", "off", or "default" when not set. */
const char *
config_checksum_name(enum config_checksum checksum);

/* "reassemble", "drop" or "forward". */
const char *
config_fragments_name(enum config_fragments mode);

#endif /* SMBGW_CONFIG_H */
