/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_POLICY_H
#define SMBGW_POLICY_H

/*
 * Segment-pair policy: which segment an address belongs to, and what
 * happens to SMB between two segments (issue 6; configuration syntax in
 * docs/policy.md).
 *
 * Three layers:
 *  - struct policy_spec: plain data (fixed arrays, no pointers), filled by
 *    the configuration loader (control/policy_config.h) or by hand. This
 *    header needs no DPDK, so the loader and --check-config run without EAL.
 *  - struct policy: the compiled, immutable tables built from a spec by
 *    policy_build() on the control core: an rte_fib (IPv4) and an rte_fib6
 *    (IPv6) from prefix to segment, a VLAN-to-segment array, and a
 *    segment x segment verdict matrix, so that a pair verdict is one load.
 *    Shared read-only by every worker.
 *  - struct policy_publisher: the current policy, replaced under RCU
 *    (rte_rcu_qsbr): the control core publishes a new policy and frees the
 *    old one after every worker has passed a quiescent state; workers read
 *    the pointer once per loop pass and never wait.
 *
 * Segments: id 0 is "unassigned" (addresses no segment claims); configured
 * segments are 1 to POLICY_SEGMENTS_MAX in configuration order.
 *
 * Membership: the most specific prefix that contains the address decides,
 * whatever segment lists it, so a /32 or /128 makes one host a segment of
 * its own. When no prefix contains the address, the VLAN given with it
 * decides (segments may list VLAN IDs); else the address is unassigned.
 *
 * Rules are taken in configuration order and the first rule that matches
 * decides (rule id = 1-based position; 0 is default_action). A rule
 * without SMB conditions matches every connection of its pair; a rule with
 * conditions (dialect, share, pipe or file class, non-standard port,
 * encryption) matches only an SMB message whose facts meet all of them. For each pair
 * the build keeps the conditional rules that come before the pair's first
 * unconditional rule; that first unconditional rule (or default_action)
 * is the pair verdict.
 *
 * Use by a worker: a connection is judged at its first packet, before any
 * SMB fact is known, by policy_pair_verdict() of (client segment, server
 * segment); the verdict and policy_generation() are cached in the flow and
 * recomputed when the generation changes. If the connection goes through
 * and the verdict has POLICY_VERDICT_SMB_RULES, each SMB message with facts
 * (NEGOTIATE, TREE_CONNECT, CREATE, ...) is judged by policy_smb_verdict().
 *
 * Unverifiable sessions: from the first sealed record on (or a compressed
 * message the parser cannot inflate), a connection's names are out of
 * sight, so a deny rule on a share, pipe or file class could be passed
 * unseen. policy_unverifiable_verdict() says, once per connection, what
 * such a session gets: an explicit rule without name conditions that it
 * meets (encrypted = true, ...), else the unverifiable action of the rule
 * deciding the pair (or of the group) when a deny rule with names could
 * otherwise be slipped past, else the pair verdict.
 */

#include <stdbool.h>
#include <stdint.h>

#define POLICY_NAME_MAX		32	/* segment and rule names, NUL included */
#define POLICY_SEGMENTS_MAX	2048	/* configured, "unassigned" not included */
#define POLICY_PREFIXES_MAX	8192	/* all segments together */
#define POLICY_TRUSTED_MAX	64
#define POLICY_RULES_MAX	4096
#define POLICY_PAIR_RULES_MAX	32	/* SMB-condition rules reaching one pair */
#define POLICY_VLAN_IDS		4096	/* VLAN IDs 1 to 4094 are members */
#define POLICY_RPC_MAX		8	/* DCE/RPC calls one rule names */
#define POLICY_RPC_ANY_OP	0xffff	/* every operation of the interface */

#define POLICY_SEGMENT_UNASSIGNED	0
#define POLICY_SEGMENT_ANY		0xffff	/* in rules of a spec only */

enum policy_action {
	POLICY_ALLOW,		/* forward */
	POLICY_DENY,		/* block (in enforce mode) */
	POLICY_MONITOR,		/* forward, and report it as monitored */
};

enum policy_mode {
	POLICY_MODE_ENFORCE,		/* deny verdicts block */
	POLICY_MODE_MONITOR_ONLY,	/* deny verdicts are reported only */
};

/* How a blocked TCP connection is stopped. */
enum policy_deny_action {
	POLICY_DENY_RESET,	/* drop the packet, RST towards both ends */
	POLICY_DENY_DROP,	/* drop silently */
	POLICY_DENY_INHERIT,	/* rules only: the global deny_action */
};

/*
 * What a session gets whose messages cannot be read, on a pair with deny
 * rules it could slip past. Zero is "not said": on a rule, the group's
 * setting; on the group, deny.
 */
enum policy_unverifiable {
	POLICY_UNVERIFIABLE_DEFAULT = 0,
	POLICY_UNVERIFIABLE_DENY,
	POLICY_UNVERIFIABLE_ALLOW,
	POLICY_UNVERIFIABLE_MONITOR,
	POLICY_UNVERIFIABLE_COUNT,
};

/* The encrypted condition of a rule; zero is "no such condition". */
enum policy_encrypted {
	POLICY_ENCRYPTED_ANY = 0,
	POLICY_ENCRYPTED_NO,	/* met by messages read in the clear */
	POLICY_ENCRYPTED_YES,	/* met at the first sealed record */
};

/* Negotiated dialect of a connection, as rules name it. */
enum policy_dialect {
	POLICY_DIALECT_UNKNOWN,	/* not negotiated yet, or SMB 2.??? */
	POLICY_DIALECT_SMB1,
	POLICY_DIALECT_2_0_2,
	POLICY_DIALECT_2_1,
	POLICY_DIALECT_3_0,
	POLICY_DIALECT_3_0_2,
	POLICY_DIALECT_3_1_1,
	POLICY_DIALECT_COUNT,
};

/* One IPv4 or IPv6 prefix, host bits clear. */
struct policy_prefix {
	uint8_t addr[16];	/* network order; IPv4 in the first 4 bytes */
	uint8_t ip_version;	/* 4 or 6 */
	uint8_t depth;		/* 0-32 or 0-128 */
	uint16_t segment;	/* owner (segment prefixes only) */
	int line;		/* source line, 0 if none */
};

struct policy_segment_spec {
	char name[POLICY_NAME_MAX];
	int line;
};

/*
 * A DCE/RPC call a rule names (rpc_interface, rpc_operation): interface
 * UUID in textual byte order, operation number or POLICY_RPC_ANY_OP.
 */
struct policy_rpc_call {
	uint8_t uuid[16];
	uint16_t opnum;
};

/*
 * Conditions are ANDed; a zero mask (or -1, or POLICY_ENCRYPTED_ANY, or
 * rpc_count 0) means "no such condition".
 */
struct policy_rule_spec {
	char name[POLICY_NAME_MAX];	/* "" when unnamed */
	int line;
	uint16_t from;		/* segment id or POLICY_SEGMENT_ANY */
	uint16_t to;
	uint8_t action;		/* enum policy_action */
	uint8_t deny_action;	/* enum policy_deny_action */
	uint8_t dialects;	/* bit (1 << enum policy_dialect) per dialect */
	int8_t nonstandard_port;	/* -1 any, 0 139/445 only, 1 others only */
	uint8_t encrypted;	/* enum policy_encrypted */
	/* enum policy_unverifiable; read on the rule that decides a pair */
	uint8_t unverifiable_action;
	uint32_t share_classes;	/* watchlist class ids, bit per id */
	uint32_t pipe_classes;
	uint32_t file_classes;
	/* DCE/RPC (CM0100): met by a request (or a bind, for calls with
	 * POLICY_RPC_ANY_OP) of one of these, over a pipe or over TCP. */
	uint8_t rpc_count;
	struct policy_rpc_call rpc[POLICY_RPC_MAX];
};

/*
 * Everything a policy is built from. segments[0] is "unassigned";
 * segment_count counts it. vlan_segment[v] is the segment of VLAN v, 0
 * for none.
 */
struct policy_spec {
	enum policy_mode mode;
	enum policy_action default_action;
	enum policy_deny_action deny_action;	/* RESET or DROP */
	/* for pairs whose deciding rule says nothing (DEFAULT: deny) */
	enum policy_unverifiable unverifiable_action;
	unsigned int segment_count;
	unsigned int prefix_count;
	unsigned int trusted_count;
	unsigned int rule_count;
	uint16_t vlan_segment[POLICY_VLAN_IDS];
	struct policy_segment_spec segments[POLICY_SEGMENTS_MAX + 1];
	struct policy_prefix prefixes[POLICY_PREFIXES_MAX];
	struct policy_prefix trusted[POLICY_TRUSTED_MAX];
	struct policy_rule_spec rules[POLICY_RULES_MAX];
};

/* What to do with a connection or an SMB message; 4 bytes, by value. */
struct policy_verdict {
	uint16_t rule;		/* 1-based rule position; 0: default_action */
	uint8_t action;		/* enum policy_action, as configured */
	uint8_t flags;		/* POLICY_VERDICT_* */
};

/* Drop the packet: action deny and mode enforce. */
#define POLICY_VERDICT_BLOCK		0x01
/* A deny whose deny action is reset: with BLOCK, on TCP, reset both ends. */
#define POLICY_VERDICT_RESET		0x02
/* The pair has SMB-condition rules: ask policy_smb_verdict() per message. */
#define POLICY_VERDICT_SMB_RULES	0x04
/*
 * From policy_unverifiable_verdict(): the unverifiable action decided
 * (action), because of the deny rule <rule> the session could pass unseen.
 */
#define POLICY_VERDICT_UNVERIFIABLE	0x08

/*
 * With SMB_RULES: at least one of them blocks (a deny in enforce mode), so
 * a connection of the pair that cannot be parsed could slip past it; see
 * policy_smb_strictest().
 */
#define POLICY_VERDICT_SMB_BLOCKS	0x10

/*
 * What is known about the SMB message being judged (and its connection).
 * Class masks are watchlist class ids (bit per id) of the message's own
 * names; the worker may add the share classes of the tree a CREATE is in.
 */
struct policy_smb_facts {
	uint8_t dialect;		/* enum policy_dialect */
	bool nonstandard_port;		/* SMB found by content, not on 139/445 */
	bool encrypted;			/* the message is sealed */
	uint32_t share_classes;
	uint32_t pipe_classes;
	uint32_t file_classes;
	/*
	 * A DCE/RPC message: the interface of its context and the operation
	 * of a request, POLICY_RPC_ANY_OP for a bind (met only by rules that
	 * name the whole interface).
	 */
	bool rpc;
	/* DCE/RPC over TCP: rules without rpc conditions are not met. */
	bool rpc_only;
	uint16_t rpc_opnum;
	uint8_t rpc_uuid[16];
};

struct policy;
struct policy_publisher;

/*
 * Maps a dialect code as the SMB parser reports it (SMB2 0x0202 to 0x0311)
 * to enum policy_dialect; <smb1> says the connection speaks SMB1, whose
 * dialect strings have no code. Unknown codes give POLICY_DIALECT_UNKNOWN.
 */
enum policy_dialect
policy_dialect_of(uint16_t code, bool smb1);

/*
 * Compiles <spec> into lookup tables on NUMA socket <socket>
 * (SOCKET_ID_ANY allowed), tagged with <generation>. Needs EAL; call from
 * the control core, never from a worker. Returns the policy, or NULL with
 * rte_errno (and errno) set and a message in <error> (<len> bytes):
 *  EINVAL  the spec is inconsistent (a segment id out of range, a bad
 *          prefix depth or IP version), or a pair is reached by more than
 *          POLICY_PAIR_RULES_MAX SMB-condition rules
 *  ENOSPC  more distinct per-pair rule lists than the tables index (65535)
 *  ENOMEM  out of (hugepage) memory
 * The spec is not referenced afterwards.
 */
struct policy *
policy_build(const struct policy_spec *spec, unsigned int generation,
	int socket, char *error, size_t len);

/* Frees <p> and its tables (NULL is allowed). No worker may use it. */
void
policy_free(struct policy *p);

/* The generation <p> was built with. */
unsigned int
policy_generation(const struct policy *p);

enum policy_mode
policy_mode(const struct policy *p);

/* Number of rules in <p>: 0 for a policy that only has default_action. */
unsigned int
policy_rule_count(const struct policy *p);

/* Number of segment ids in <p>, "unassigned" (id 0) included. */
unsigned int
policy_segment_count(const struct policy *p);

/* Name of segment <id> ("unassigned" for 0), or NULL if out of range. */
const char *
policy_segment_name(const struct policy *p, uint16_t id);

/*
 * Segment of address <addr> (network order, IPv4 in the first 4 bytes)
 * of IP version <ip_version> (4 or 6), seen with VLAN <vlan> (0: none):
 * the most specific prefix, else the VLAN's segment, else 0 (unassigned).
 * An unknown IP version is looked up by VLAN only. Never fails.
 */
uint16_t
policy_segment_of(const struct policy *p, uint8_t ip_version,
	const uint8_t addr[16], uint16_t vlan);

/*
 * Verdict for a connection from segment <src> to segment <dst>: the first
 * rule without SMB conditions for the pair, or default_action. One table
 * read. Ids out of range are taken as 0 (unassigned). Never fails.
 */
struct policy_verdict
policy_pair_verdict(const struct policy *p, uint16_t src, uint16_t dst);

/*
 * Whether the verdict of any pair of <p> blocks (POLICY_VERDICT_BLOCK):
 * false for a policy that allows or monitors every pair, so that a
 * caller with nothing but a pair verdict to take can skip the lookups.
 */
bool
policy_pairs_block(const struct policy *p);

/*
 * Verdict for one SMB message between <src> and <dst> with <facts>: the
 * first SMB-condition rule of the pair that the facts meet, else the pair
 * verdict. Walks at most POLICY_PAIR_RULES_MAX short rules; call it only
 * when the pair verdict has POLICY_VERDICT_SMB_RULES. Never fails.
 */
struct policy_verdict
policy_smb_verdict(const struct policy *p, uint16_t src, uint16_t dst,
	const struct policy_smb_facts *facts);

/*
 * Verdict for a connection between <src> and <dst> whose messages cannot
 * be read from now on (sealed, or compressed beyond what the parser
 * inflates), with what is still known in <facts> (dialect, port,
 * encrypted; the class masks are ignored: names are out of sight). Walks
 * the pair's SMB-condition rules in order:
 *  - a rule without share, pipe or file conditions whose conditions the
 *    facts meet decides: its verdict (an "encrypted = true" rule, ...);
 *  - a deny rule with name conditions, its other conditions met, could be
 *    met unseen: the unverifiable action of the rule deciding the pair (or
 *    of the group) decides, as a verdict with POLICY_VERDICT_UNVERIFIABLE,
 *    the rule id of that deny rule, and, when the action is deny, its
 *    block and reset flags;
 *  - else nothing could be slipped past: the pair verdict.
 * Call it once per connection, when its pair verdict has
 * POLICY_VERDICT_SMB_RULES. Never fails.
 */
struct policy_verdict
policy_unverifiable_verdict(const struct policy *p, uint16_t src,
	uint16_t dst, const struct policy_smb_facts *facts);

/* SMB over QUIC's standard port (MS-SMB2 2.1). */
#define POLICY_QUIC_PORT	443

/*
 * Verdict for an SMB-over-QUIC connection between <src> and <dst> to UDP
 * <port>: SMB 3.1.1 sealed from its first message. The pair verdict, or,
 * on a pair with SMB-condition rules, policy_unverifiable_verdict() with
 * dialect 3.1.1, encrypted, and a port other than 443 non-standard, when
 * that decides (*unverifiable set). Never fails.
 */
struct policy_verdict
policy_quic_verdict(const struct policy *p, uint16_t src, uint16_t dst,
	uint16_t port, bool *unverifiable);

/* enum policy_unverifiable as configured: "deny", "allow", "monitor" */
const char *
policy_unverifiable_name(enum policy_unverifiable action);

/*
 * The strictest verdict an SMB message between <src> and <dst> could get:
 * the first of the pair's SMB-condition rules that blocks, else the pair
 * verdict. For a connection whose messages will not be seen (no parser
 * state), which must not pass where a message could be denied. Walks at
 * most POLICY_PAIR_RULES_MAX rules; ids out of range are taken as 0.
 * Never fails.
 */
struct policy_verdict
policy_smb_strictest(const struct policy *p, uint16_t src, uint16_t dst);

/*
 * True when <addr> (as for policy_segment_of()) is within a trusted
 * prefix: its connections are left out of reports. A linear scan of at
 * most POLICY_TRUSTED_MAX prefixes: call it once per flow.
 */
bool
policy_is_trusted(const struct policy *p, uint8_t ip_version,
	const uint8_t addr[16]);

/* "allow", "deny", "monitor", or "?" */
const char *
policy_action_name(enum policy_action action);

/* "enforce", "monitor-only", or "?" */
const char *
policy_mode_name(enum policy_mode mode);

/* "smb1", "2.0.2", ... "3.1.1", "unknown" */
const char *
policy_dialect_name(enum policy_dialect dialect);

/* Parameters of policy_publisher_create(). */
struct policy_publisher_params {
	unsigned int readers;	/* worker ids are 0 to readers - 1 */
	int socket;		/* NUMA socket or SOCKET_ID_ANY */
};

/*
 * Creates a publisher with no current policy (policy_current() returns
 * NULL until the first policy_publish()). Returns NULL with rte_errno set:
 * EINVAL (no readers, or more than RTE_MAX_LCORE), ENOMEM.
 */
struct policy_publisher *
policy_publisher_create(const struct policy_publisher_params *params);

/*
 * Frees <pub> and its current policy (NULL is allowed). Every reader must
 * have stopped.
 */
void
policy_publisher_free(struct policy_publisher *pub);

/*
 * Control core: makes <next> the current policy, waits until every online
 * reader has reported a quiescent state since (one worker loop pass), and
 * frees the policy it replaced. <next> is owned by <pub> from then on.
 * Workers never wait; this call does, for about one loop pass per worker.
 * Returns 0, or -EINVAL for NULL arguments (<next> is then not taken).
 */
int
policy_publish(struct policy_publisher *pub, struct policy *next);

/*
 * Worker <reader>: joins (online) or leaves (offline) the readers a
 * publish waits for. Go online before the first policy_current() and
 * offline before stopping, or a publish would wait for ever. Return 0 or
 * -EINVAL for a bad reader id.
 */
int
policy_reader_online(struct policy_publisher *pub, unsigned int reader);

int
policy_reader_offline(struct policy_publisher *pub, unsigned int reader);

/*
 * Worker: the current policy (NULL before the first publish). Valid until
 * this reader's next policy_quiescent() or policy_reader_offline(). One
 * atomic load.
 */
const struct policy *
policy_current(const struct policy_publisher *pub);

/*
 * Worker <reader>: reports that it holds no reference to any policy
 * obtained before this call. Once per loop pass, outside bursts.
 */
void
policy_quiescent(struct policy_publisher *pub, unsigned int reader);

#endif /* SMBGW_POLICY_H */
