/* SPDX-License-Identifier: BSD-3-Clause */

#ifndef SMBGW_DCERPC_H
#define SMBGW_DCERPC_H

/*
 * DCE/RPC connection-oriented (MS-RPCE, C706 chapter 12) stream parser.
 *
 * The parser is pure C: it takes bytes and lengths and knows nothing of
 * DPDK, so it can be unit-tested and fuzzed alone. It allocates only
 * when it must keep something between feed calls: from the chunk pool
 * given with dcerpc_conn_set_memory(), presentation contexts past the
 * DCERPC_INLINE_CONTEXTS kept inline, and the direction states and body
 * buffers of a PDU or call in flight (from malloc() without a pool).
 *
 * A struct dcerpc_conn holds one RPC association: two byte streams, client
 * to server and server to client. Over a named pipe every SMB WRITE, READ,
 * IOCTL or TRANS carries a chunk of the stream; over TCP the stream is the
 * in-order TCP payload. Chunks may split PDUs anywhere: the parser keeps
 * what it needs between calls (in struct dcerpc_conn, and the direction
 * states and body buffers apart while a PDU or call is in flight) and
 * reports what it understood as facts through a callback. Within one call
 * these are per-thread scratch blocks, so a PDU that arrives whole takes
 * nothing.
 *
 * Usage:
 *
 *	struct dcerpc_conn conn;
 *
 *	dcerpc_conn_init(&conn);
 *	dcerpc_conn_feed(&conn, 0, req, req_len, ts, on_fact, ctx);
 *	dcerpc_conn_feed(&conn, 1, resp, resp_len, ts, on_fact, ctx);
 *
 * Facts are passed by pointer and are only valid during the callback.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcerpc_epm.h"

/* Packet types (C706 12.6.4.1); only the connection-oriented ones are fed. */
#define DCERPC_PTYPE_REQUEST		0
#define DCERPC_PTYPE_RESPONSE		2
#define DCERPC_PTYPE_FAULT		3
#define DCERPC_PTYPE_BIND		11
#define DCERPC_PTYPE_BIND_ACK		12
#define DCERPC_PTYPE_BIND_NAK		13
#define DCERPC_PTYPE_ALTER_CONTEXT	14
#define DCERPC_PTYPE_ALTER_CONTEXT_RESP	15
#define DCERPC_PTYPE_AUTH3		16
#define DCERPC_PTYPE_SHUTDOWN		17
#define DCERPC_PTYPE_CO_CANCEL		18
#define DCERPC_PTYPE_ORPHANED		19

/* pfc_flags bits of the common header. */
#define DCERPC_PFC_FIRST_FRAG		0x01
#define DCERPC_PFC_LAST_FRAG		0x02
#define DCERPC_PFC_OBJECT_UUID		0x80

/* Size of the common header every connection-oriented PDU starts with. */
#define DCERPC_HEADER_LEN		16

/*
 * Bounds of the per-association state. They fix sizeof(struct dcerpc_conn);
 * see DCERPC_CONN_SIZE_MAX.
 */
/*
 * Offers of one BIND / ALTER_CONTEXT remembered (to pair with the ack's
 * results), and presentation contexts remembered inline: Windows offers
 * three, Impacket and Samba one. With a chunk pool an association keeps
 * more, DCERPC_BLOCK_CONTEXTS to a chunk, up to DCERPC_CONTEXTS_LIMIT in
 * all; without, or when the pool refuses, a new context replaces an old
 * one that the same PDU did not offer, and offers past the inline ones
 * are then reported and not remembered.
 */
#define DCERPC_MAX_CONTEXTS		8
#define DCERPC_INLINE_CONTEXTS		4
#define DCERPC_BLOCK_CONTEXTS		10
#define DCERPC_CONTEXTS_LIMIT		(DCERPC_INLINE_CONTEXTS + \
					 25 * DCERPC_BLOCK_CONTEXTS)
/*
 * Client-side body buffer: the request stub of the calls whose arguments
 * are decoded (enough for service names and command lines) and the body of
 * BIND / ALTER_CONTEXT (about 20 presentation contexts).
 */
#define DCERPC_CLIENT_BODY_MAX		1024
/* Server-side body buffer: BIND_ACK / ALTER_CONTEXT_RESP result lists. */
#define DCERPC_SERVER_BODY_MAX		256
/*
 * The two body buffers, one block held apart from the association only
 * while a buffered PDU or call is in flight across feed calls (see
 * dcerpc_conn_set_memory()).
 */
#define DCERPC_BODIES_SIZE	(DCERPC_CLIENT_BODY_MAX + DCERPC_SERVER_BODY_MAX)
/* Header plus the fixed part of a request / response / fault body. */
#define DCERPC_PREFIX_MAX		48

/*
 * Byte budget of struct dcerpc_conn, checked at compile time and in the unit
 * test: the inline context table (4 x 24), the last offers and call, how
 * each direction waits, and the pointers to the direction states (2 x 112
 * bytes, held apart only while a PDU or call is in flight), more
 * contexts, the pool and the body buffers.
 */
#define DCERPC_CONN_SIZE_MAX		168

/* Sizes of NTLMSSP names in DCERPC_FACT_AUTH, UTF-8 with the NUL. */
#define DCERPC_ACCOUNT_MAX		64

/* Sizes of the decoded argument strings, in UTF-8 bytes including the NUL. */
#define DCERPC_ARG_NAME_MAX		256
#define DCERPC_ARG_COMMAND_MAX		1024

/* What a fact reports. */
enum dcerpc_fact_type {
	/* One per presentation context offered; carries context id + iface. */
	DCERPC_FACT_BIND = 1,
	/* One per result; status is the result (0 accepted, 1 user
	 * rejection, 2 provider rejection), iface from the matching offer. */
	DCERPC_FACT_BIND_ACK,
	/* status is the provider reject reason. */
	DCERPC_FACT_BIND_NAK,
	/* As DCERPC_FACT_BIND, for ALTER_CONTEXT. */
	DCERPC_FACT_ALTER_CONTEXT,
	/* As DCERPC_FACT_BIND_ACK, for ALTER_CONTEXT_RESP. */
	DCERPC_FACT_ALTER_CONTEXT_RESP,
	/* A complete call (after its last fragment). */
	DCERPC_FACT_REQUEST,
	/* A complete response (after its last fragment). */
	DCERPC_FACT_RESPONSE,
	/* status is the fault status, e.g. 0x1c010002 nca_s_op_rng_error. */
	DCERPC_FACT_FAULT,
	/* Malformed or unsupported input; error says what. */
	DCERPC_FACT_ERROR,
	/*
	 * The NTLMSSP AUTHENTICATE of a client BIND / ALTER_CONTEXT / AUTH3
	 * auth verifier (auth_type 10, or 9 SPNEGO wrapping NTLMSSP): user,
	 * domain, workstation, auth_type, auth_level; the interface of the
	 * association's first accepted (else offered) context when known.
	 * Whether the logon succeeded shows only in later calls.
	 */
	DCERPC_FACT_AUTH,
	/*
	 * A TCP endpoint a server named in a response: the endpoint mapper's
	 * ept_map towers, DCOM's string bindings. One fact per endpoint, in
	 * fact->endpoint, before the RESPONSE fact of the call.
	 */
	DCERPC_FACT_ENDPOINT,
};

/* Why a DCERPC_FACT_ERROR was reported. */
enum dcerpc_error {
	DCERPC_ERR_NONE = 0,
	/* Not version 5.0/5.1: the stream is not (or no longer) DCE/RPC; the
	 * direction skips input until a chunk starts with a plausible PDU. */
	DCERPC_ERR_BAD_VERSION,
	/* frag_length below the header size: framing is lost and the
	 * direction resynchronises as for DCERPC_ERR_BAD_VERSION. */
	DCERPC_ERR_BAD_LENGTH,
	/* Unknown or connectionless packet type; the PDU is skipped. */
	DCERPC_ERR_BAD_PTYPE,
	/* Big-endian (or otherwise unsupported) data representation; the PDU
	 * is framed and skipped. */
	DCERPC_ERR_DREP,
	/* PDU shorter than the fixed body of its type, or auth_length
	 * beyond frag_length; the PDU is skipped. */
	DCERPC_ERR_TRUNCATED,
	/* A fragment that does not continue the call in progress, or a first
	 * fragment while another call is unfinished (the latter is dropped). */
	DCERPC_ERR_FRAGMENT,
	/* The request stub could not be decoded as the operation's NDR
	 * arguments; the REQUEST fact still follows, with what was decoded
	 * before the fault. */
	DCERPC_ERR_STUB,
	/* BIND / ALTER_CONTEXT / ack body malformed or longer than the body
	 * buffer; contexts beyond what was understood are not recorded. */
	DCERPC_ERR_CONTEXT_LIST,
	/* The pool refused the body buffers a PDU or call in flight needed
	 * between feed calls: that PDU and its call are given up. */
	DCERPC_ERR_NO_MEMORY,
};

/* Which arguments a REQUEST fact carries in name / command. */
enum dcerpc_args {
	DCERPC_ARGS_NONE = 0,
	/* svcctl CreateService*: name = service name, command = binary path.
	 * svcctl ChangeServiceConfig*: name empty, command = new binary path
	 * (empty if unchanged).
	 * svcctl OpenService*: name = service name, command empty. */
	DCERPC_ARGS_SERVICE,
	/* atsvc NetrJobAdd: command = job command line. */
	DCERPC_ARGS_JOB,
	/* ITaskSchedulerService SchRpcRegisterTask: name = task path,
	 * command = <Command> and <Arguments> of the first Exec action of
	 * the task XML, XML entities decoded. The XML is scanned for the
	 * literal tags, not parsed: CDATA, comments and prefixed tags are
	 * not understood. SchRpcRun: name = task path. */
	DCERPC_ARGS_TASK,
	/* IRemoteSCMActivator RemoteCreateInstance / IActivation
	 * RemoteActivation naming a class known for lateral movement:
	 * name = CLSID (textual), command = the class's name, e.g.
	 * "MMC20.Application". Activation of other classes carries no
	 * arguments. */
	DCERPC_ARGS_DCOM_CLASS,
	/* netlogon NetrServerReqChallenge / NetrServerAuthenticate*:
	 * name = ComputerName; command = AccountName (authenticate only).
	 * DCERPC_FACT_F_ZERO_CREDENTIAL when the client challenge or
	 * credential is eight zero bytes. */
	DCERPC_ARGS_NETLOGON,
	/* A call that makes the server reach a path it is given: spoolss
	 * RpcRemoteFindFirstPrinterChangeNotification[Ex] (name = the
	 * pszLocalMachine to call back), efsrpc EfsRpc* (name = FileName). */
	DCERPC_ARGS_UNC,
	/* winreg BaseRegOpenKey / BaseRegCreateKey (name = sub key path),
	 * BaseRegSetValue (name = value name), BaseRegSaveKey[Ex]
	 * (name = file). */
	DCERPC_ARGS_REGISTRY,
};

/* Bits of dcerpc_fact.flags. */
/* The call was carried in more than one fragment. */
#define DCERPC_FACT_F_FRAGMENTED	0x0001
/* The request names a context id no BIND / ALTER_CONTEXT offered. */
#define DCERPC_FACT_F_UNKNOWN_CONTEXT	0x0002
/* The stub is sealed (auth level packet privacy): no arguments. Set on
 * every sealed request, whether or not its arguments would be decoded. */
#define DCERPC_FACT_F_SEALED		0x0004
/* A decoded argument did not fit the stub buffer or the string array,
 * or the task XML holds more than one Exec action. */
#define DCERPC_FACT_F_ARGS_TRUNCATED	0x0008
/* The request carried an object UUID (PFC_OBJECT_UUID), e.g. DCOM. */
#define DCERPC_FACT_F_OBJECT		0x0010
/* netlogon: the client challenge or credential is all zero (Zerologon). */
#define DCERPC_FACT_F_ZERO_CREDENTIAL	0x0020

/*
 * One thing the parser understood. Strings are NUL-terminated UTF-8; UTF-16
 * that is not valid is replaced with U+FFFD.
 */
struct dcerpc_fact {
	enum dcerpc_fact_type type;
	/* DCERPC_FACT_ERROR only. */
	enum dcerpc_error error;
	/* Timestamp passed to the feed call that completed the fact. */
	uint64_t ts_ns;
	/* Direction of the PDU: 0 client to server, 1 server to client. */
	int from_server;
	/* Packet type of the PDU (on errors too, once the header is read). */
	uint8_t ptype;
	uint32_t call_id;
	uint16_t context_id;
	/* Interface of the context, in textual byte order (the first three
	 * fields big-endian as printed: 367abb81-... is 0x36, 0x7a, ...);
	 * all zero if unknown. */
	uint8_t iface_uuid[16];
	uint16_t iface_ver_major;
	uint16_t iface_ver_minor;
	/* Static name of the interface, e.g. "svcctl", or NULL if unknown. */
	const char *iface_name;
	/* REQUEST: operation number. RESPONSE / FAULT: opnum of the request
	 * with the same call_id if it was the last one seen (calls are not
	 * pipelined on a pipe in practice). 0xffff when not known or not
	 * applicable. */
	uint16_t opnum;
	/* Static name of the operation, e.g. "CreateServiceW", or NULL. */
	const char *op_name;
	/* FAULT: status; BIND_ACK / ALTER_CONTEXT_RESP: result;
	 * BIND_NAK: reject reason. */
	uint32_t status;
	/* REQUEST / RESPONSE: stub length summed over fragments, excluding
	 * auth padding and verifier. */
	uint32_t stub_len;
	/* REQUEST: authentication level (0 if none), e.g. 6 packet privacy. */
	uint8_t auth_level;
	/* DCERPC_FACT_F_* bits. */
	uint16_t flags;
	/* REQUEST of a call that launches code: which arguments follow. */
	enum dcerpc_args args;
	char name[DCERPC_ARG_NAME_MAX];
	char command[DCERPC_ARG_COMMAND_MAX];
	/* DCERPC_FACT_AUTH: sec_trailer auth_type (9 SPNEGO, 10 NTLMSSP),
	 * auth_level, and the names (empty when absent or malformed);
	 * DCERPC_FACT_F_ARGS_TRUNCATED when a name was cut or the token
	 * did not fit the body buffer. */
	uint8_t auth_type;
	char user[DCERPC_ACCOUNT_MAX];
	char domain[DCERPC_ACCOUNT_MAX];
	char workstation[DCERPC_ACCOUNT_MAX];
	/* DCERPC_FACT_ENDPOINT only. */
	struct dcerpc_endpoint endpoint;
};

/*
 * Callback receiving facts. ctx is the pointer given to dcerpc_conn_feed();
 * fact is valid only during the call.
 */
typedef void (*dcerpc_fact_fn)(void *ctx, const struct dcerpc_fact *fact);

/* A presentation context: context id -> interface. Internal. */
struct dcerpc_context {
	uint8_t uuid[16];
	uint16_t id;
	uint16_t ver_major;
	uint16_t ver_minor;
	/* 0 free, 1 offered, 2 accepted. */
	uint8_t state;
	uint8_t pad;
};

/* Contexts past the inline ones, in a chunk of at least this size. */
struct dcerpc_context_block {
	struct dcerpc_context_block *next;
	struct dcerpc_context ctx[DCERPC_BLOCK_CONTEXTS];
};
#define DCERPC_CONTEXT_BLOCK_SIZE	256
_Static_assert(sizeof(struct dcerpc_context_block) <=
	DCERPC_CONTEXT_BLOCK_SIZE, "context block outgrew its chunk");

struct chunk_pool;
struct chunk_owner;

/* Per-direction stream state. Internal: use the dcerpc_conn_* functions. */
struct dcerpc_dir {
	/* Bytes of the current PDU consumed so far. */
	uint32_t pdu_off;
	/* Stub bytes of the call in progress, summed over its fragments. */
	uint32_t call_stub_len;
	uint32_t call_id;
	/* frag_length and auth_length of the current PDU. */
	uint16_t frag_len;
	uint16_t auth_len;
	uint16_t call_opnum;
	uint16_t call_context_id;
	/* DCERPC_FACT_F_* bits gathered over the call's fragments. */
	uint16_t call_flags;
	/* Bytes held in this direction's body buffer. */
	uint16_t body_len;
	/* Bytes of the current PDU appended to the body buffer. */
	uint16_t frag_body_appended;
	uint8_t call_active;
	uint8_t call_ptype;
	/* Argument decoder of the call (enum dcerpc_decoder). */
	uint8_t call_decoder;
	uint8_t call_auth_level;
	/* Parsing state and DIR_F_* flags, see dcerpc.c. */
	uint8_t state;
	uint8_t flags;
	/* Bytes held in prefix and how many the current step needs. */
	uint8_t prefix_len;
	uint8_t prefix_want;
	/* Common header and fixed body part of the current PDU. */
	uint8_t prefix[DCERPC_PREFIX_MAX];
	/* Authentication trailer (sec_trailer) of the current PDU. */
	uint8_t trailer[8];
	/* Scan of a SchRpcRegisterTask task XML for its command: stub
	 * offsets of the XML characters, bytes captured, scan state and
	 * flags, progress matching each tag, and the low byte of a UTF-16
	 * unit split between chunks. */
	uint32_t scan_start;
	uint32_t scan_end;
	uint16_t scan_len;
	uint8_t scan_state;
	uint8_t scan_flags;
	uint8_t scan_match_command;
	uint8_t scan_match_arguments;
	uint8_t scan_low;
	/* Client BIND / ALTER_CONTEXT / AUTH3: where the auth value starts
	 * in the body buffer (after the body), and its bytes kept there. */
	uint16_t auth_body_off;
	uint16_t auth_body_len;
};

/* Bytes of the two direction states held while a PDU is in flight. */
#define DCERPC_DIRS_SIZE	(2 * sizeof(struct dcerpc_dir))

/*
 * One DCE/RPC association (both directions). Plain data of fixed size,
 * at most DCERPC_CONN_SIZE_MAX bytes, so it can be embedded in per-flow
 * state and reset with dcerpc_conn_init(). Fields are internal.
 */
struct dcerpc_conn {
	/*
	 * The two direction states. During a feed call, the thread's
	 * scratch pair unless a block was held; between calls, a block
	 * (DCERPC_DIRS_SIZE, from <pool> class <pool_class>, else malloc())
	 * only while a direction is inside a PDU or call, else NULL, and
	 * <rest> says how each direction waits for its next PDU (at a PDU
	 * boundary, or resynchronising).
	 */
	struct dcerpc_dir *dir;
	/* The last complete request, to name its response. */
	uint32_t last_call_id;
	uint16_t last_opnum;
	uint8_t rest[2];
	struct dcerpc_context ctx[DCERPC_INLINE_CONTEXTS];
	/* Context table slots of the last BIND / ALTER_CONTEXT, in order,
	 * to pair with the results of the ack; 0xff for none. */
	uint8_t offer_slot[DCERPC_MAX_CONTEXTS];
	uint8_t offer_count;
	/* Next context slot to reuse when the table is full. */
	uint8_t ctx_next;
	uint16_t last_context_id;
	uint8_t last_valid;
	/* Blocks of contexts past the inline ones (slots from
	 * DCERPC_INLINE_CONTEXTS on), from <pool> class <pool_class> charged
	 * to <owner>; NULL pool: none. */
	uint8_t pool_class;
	/* Class of <body_pool>'s chunks for the body buffers; NULL
	 * body_pool: malloc(). */
	uint8_t body_class;
	struct dcerpc_context_block *more;
	struct chunk_pool *pool;
	struct chunk_pool *body_pool;
	struct chunk_owner *owner;
	/*
	 * The body buffers: client's at 0, server's at
	 * DCERPC_CLIENT_BODY_MAX. During a feed call, the thread's scratch
	 * block unless one was held; between calls, a block of
	 * DCERPC_BODIES_SIZE only while a direction has a buffered PDU or
	 * call in flight, else NULL.
	 */
	uint8_t *bodies;
};

/*
 * Resets <conn> to a new association: no contexts, both directions at a PDU
 * boundary, no pool (only the inline contexts; direction states and body
 * buffers in flight from malloc()). Must not be called on an association holding chunks or a
 * buffer: dcerpc_conn_release() it first. Cannot fail.
 */
void
dcerpc_conn_init(struct dcerpc_conn *conn);

/*
 * Lets <conn> keep contexts past the inline ones, and its direction states
 * while a PDU or call is in flight, in chunks of class <cls> (at least
 * DCERPC_CONTEXT_BLOCK_SIZE bytes) of <pool>, and its body
 * buffers, while a PDU or call is in flight, in chunks of class
 * <body_cls> (at least DCERPC_BODIES_SIZE bytes), charged to <owner> (may
 * be NULL). A class too small for its use is not used: no blocks of
 * contexts and direction states from malloc(), or bodies from malloc(). Must be called while <conn> holds
 * none. Cannot fail.
 */
void
dcerpc_conn_set_memory(struct dcerpc_conn *conn, struct chunk_pool *pool,
		       unsigned int cls, unsigned int body_cls,
		       struct chunk_owner *owner);

/*
 * Gives every chunk <conn> holds back to its pool; the contexts kept in
 * them, and a PDU or call in flight, are forgotten. Safe to call twice, and
 * on an association without a pool. Cannot fail.
 */
void
dcerpc_conn_release(struct dcerpc_conn *conn);

/*
 * Feeds <len> bytes of the stream in direction <from_server> (0 client to
 * server, non-zero server to client) of <conn>. <data> may split PDUs
 * anywhere; state is kept in <conn>. For every fact found <fn> is called
 * with <ctx> (<fn> may be NULL to only track state); <ts_ns> is copied into
 * each fact.
 *
 * Returns 0 when the input was understood, -EBADMSG when at least one
 * DCERPC_FACT_ERROR was reported for this chunk (parsing continues: the
 * faulty PDU is skipped or the direction resynchronises), or -EINVAL if
 * <conn> is NULL or <data> is NULL with a non-zero <len>. Never reads
 * outside <data>[0..len).
 */
int
dcerpc_conn_feed(struct dcerpc_conn *conn, int from_server,
		 const uint8_t *data, size_t len, uint64_t ts_ns,
		 dcerpc_fact_fn fn, void *ctx);

/*
 * Tells <conn> that <len> bytes of direction <from_server> were lost (a
 * hole in the TCP stream given up): the PDU they fall in is finished from
 * what came of it (a call's fact is still reported, its arguments read
 * only from the bytes before the hole and flagged
 * DCERPC_FACT_F_ARGS_TRUNCATED, none at all when its auth trailer was
 * lost), the next one is read where the PDU's length says; a hole in a
 * header loses the framing, found again at a chunk that starts a PDU.
 * Returns 0, or -EINVAL if <conn> is NULL.
 */
int
dcerpc_conn_gap(struct dcerpc_conn *conn, int from_server, size_t len,
		uint64_t ts_ns, dcerpc_fact_fn fn, void *ctx);

/*
 * Cheap content check: returns true if <data> (at least DCERPC_HEADER_LEN
 * bytes) starts with a plausible connection-oriented PDU header: version
 * 5.0 or 5.1, a connection-oriented packet type, a known data
 * representation and a frag_length that holds the header and the auth
 * value. Returns false otherwise, including when <len> is too short.
 */
bool
dcerpc_looks_like_pdu(const uint8_t *data, size_t len);

/*
 * Returns the static name of the interface <uuid> (textual byte order, see
 * struct dcerpc_fact), e.g. "svcctl", or NULL if it is not one we name.
 */
const char *
dcerpc_interface_name(const uint8_t uuid[16]);

/*
 * Returns the static name of operation <opnum> of interface <uuid>, e.g.
 * "CreateServiceW" for svcctl 12, or NULL if unknown.
 */
const char *
dcerpc_operation_name(const uint8_t uuid[16], uint16_t opnum);

/*
 * Finds interface <iface> by its static name (as dcerpc_interface_name()
 * spells it) and, when <op> is not NULL, its operation <op>. Writes the
 * UUID (textual byte order) to <uuid> and the operation number to *opnum
 * (when not NULL). Returns 0, or -ENOENT when either is not named.
 */
int
dcerpc_name_lookup(const char *iface, const char *op, uint8_t uuid[16],
		   uint16_t *opnum);

/*
 * Writes <uuid> as 36 characters plus NUL into <buf>
 * ("367abb81-9844-35f1-ad32-98f038001003"). Returns <buf>. Cannot fail.
 */
char *
dcerpc_uuid_format(const uint8_t uuid[16], char buf[37]);

#endif /* SMBGW_DCERPC_H */
