/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_SMB_H
#define SMBGW_SMB_H

/*
 * SMB wire parser: NBSS framing, SMB1 and SMB2/3, and the named-pipe
 * payloads handed on to the DCE/RPC parser.
 *
 * Pure C, no DPDK types: one struct smb_state per TCP connection, of a
 * fixed SMB_STATE_SIZE bytes, holds the stream position and what every
 * message needs; the tables a connection fills as it works (pending
 * requests, trees, open files, named pipes with their DCE/RPC
 * associations) grow on demand into chunks of a pool the caller gives
 * (dataplane/chunk), within its budget, and go back to it with
 * smb_state_release(); so do the buffers that must outlive a feed call (a
 * message prefix split across segments, logon names awaiting their
 * response), taken only while they do. The caller
 * feeds each direction's TCP payload with its sequence number; the parser
 * puts the stream back in order as far as it can without buffering data
 * (retransmitted bytes are dropped, gaps resynchronise), frames NBSS
 * records, walks SMB2 compound chains and SMB1 AndX chains, and reports
 * what it understood as facts through a callback.
 *
 * Only the first SMB_RECORD_PREFIX_MAX bytes of each SMB message are
 * copied; bulk READ/WRITE data is skipped by length, except on named pipes
 * where it streams into the embedded DCE/RPC parser.
 *
 * Usage:
 *
 *	struct smb_state *st = &flow->smb;	(embedded, SMB_STATE_SIZE bytes)
 *
 *	smb_state_init(st, pool);		(at the connection's SYN)
 *	smb_feed(st, SMB_DIR_TO_SERVER, seq, payload, len, ts_ns, on_fact, ctx);
 *	smb_feed(st, SMB_DIR_TO_CLIENT, seq, payload, len, ts_ns, on_fact, ctx);
 *	smb_state_release(st);			(when the connection ends)
 *
 * Facts are passed by pointer and are valid only during the callback.
 */

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcerpc.h"

/*
 * Byte budget of struct smb_state, fixed: the two stream positions, the
 * table heads and the negotiation state (dataplane/smb/
 * README.md has the breakdown). The internals are checked against it at
 * compile time. Everything else is taken from chunks (see below) only
 * while in use: the tables as they fill, a direction's prefix buffer only
 * while a message prefix is held across segments, the logon names only
 * between a SESSION_SETUP request and its response.
 */
#define SMB_STATE_SIZE		384

/*
 * Chunk size classes of the pool the tables grow into: one for a pending
 * request or an open file with a long name, a small one for a tree or a
 * file with a short name, one for a named pipe with its DCE/RPC
 * association, one for a buffer in flight (a message prefix held across
 * segments, the logon names, a pipe's DCE/RPC body buffers while a PDU
 * is in flight). A pool for smb_state_init() must serve them as
 * smb_chunk_params() sets them.
 */
#define SMB_CHUNK_ENTRY		0
#define SMB_CHUNK_PIPE		1
#define SMB_CHUNK_BUFFER	2
#define SMB_CHUNK_SMALL		3	/* a tree, a file with a short name */
#define SMB_CHUNK_CLASSES	4
#define SMB_CHUNK_ENTRY_SIZE	256	/* DCERPC_CONTEXT_BLOCK_SIZE too */
#define SMB_CHUNK_PIPE_SIZE	192
#define SMB_CHUNK_BUFFER_SIZE	1280	/* DCERPC_BODIES_SIZE too */
#define SMB_CHUNK_SMALL_SIZE	128

/* Bytes of an SMB message start copied for parsing (per direction). */
#define SMB_RECORD_PREFIX_MAX	1024

/*
 * Bytes of a compressed record (COMPRESSION_TRANSFORM, 0xFC) copied, its
 * header included: the message prefix plus half the 256 bytes an
 * LZ77+Huffman block spends on its code table, so that every algorithm
 * has close to 1 KiB of compressed data to inflate (SMB headers inflate
 * two to four times over). Fits an SMB_CHUNK_BUFFER chunk.
 */
#define SMB_COMPRESSED_PREFIX_MAX	1152

/*
 * Bytes of a compressed message inflated to judge it, at most: each
 * compound element is parsed from its first SMB_RECORD_PREFIX_MAX bytes,
 * as a plain one would be. The buffer is per thread (thread-local), not in
 * the state.
 */
#define SMB_INFLATE_MAX		4096

/*
 * Largest message size a compression header may announce: what an NBSS
 * record could carry uncompressed (24-bit length). Anything larger is
 * refused as absurd, unread.
 */
#define SMB_COMPRESSED_ORIGINAL_MAX	0x00ffffffu

/* Sizes of decoded strings in facts, UTF-8 bytes including the NUL. */
#define SMB_NAME_MAX		256	/* file names and UNC paths */
#define SMB_SHARE_MAX		80	/* share or pipe name */
#define SMB_ACCOUNT_MAX		64	/* user, domain, workstation, realm */
#define SMB_NETBIOS_NAME_MAX	20	/* 15 characters, '<', 2 hex, '>' */

/*
 * Offered dialects kept in a NEGOTIATE fact; a client may offer more
 * (smb_fact_negotiate.offered), and the one chosen is named whatever its
 * place.
 */
#define SMB_DIALECTS_MAX	16

/*
 * Pseudo dialect codes for the SMB1 dialect strings of MS-CIFS and MS-SMB,
 * 0x0001-0x00ff (real SMB2 codes are 0x02xx/0x03xx); smb_dialect_name()
 * gives the string. 0 means no dialect.
 */
#define SMB_DIALECT_SMB1_NT_LM_012	0x0001	/* "NT LM 0.12" */
#define SMB_DIALECT_SMB1_PC_NETWORK_PROGRAM	0x0002	/* "PC NETWORK PROGRAM 1.0" */
#define SMB_DIALECT_SMB1_PCLAN	0x0003	/* "PCLAN1.0" */
#define SMB_DIALECT_SMB1_MSNET_103	0x0004	/* "MICROSOFT NETWORKS 1.03" */
#define SMB_DIALECT_SMB1_MSNET_30	0x0005	/* "MICROSOFT NETWORKS 3.0" */
#define SMB_DIALECT_SMB1_LANMAN_10	0x0006	/* "LANMAN1.0" */
#define SMB_DIALECT_SMB1_WFW_31A	0x0007	/* "Windows for Workgroups 3.1a" */
#define SMB_DIALECT_SMB1_LM12X002	0x0008	/* "LM1.2X002" */
#define SMB_DIALECT_SMB1_DOS_LM12X002	0x0009	/* "DOS LM1.2X002" */
#define SMB_DIALECT_SMB1_DOS_LANMAN_21	0x000a	/* "DOS LANMAN2.1" */
#define SMB_DIALECT_SMB1_LANMAN_21	0x000b	/* "LANMAN2.1" */
#define SMB_DIALECT_SMB1_SAMBA	0x000c	/* "Samba" */
#define SMB_DIALECT_SMB1_NT_LANMAN_10	0x000d	/* "NT LANMAN 1.0" */
#define SMB_DIALECT_SMB1_XENIX_CORE	0x000e	/* "XENIX CORE" */
#define SMB_DIALECT_SMB1_CAIRO	0x000f	/* "Cairo 0.xa" */
#define SMB_DIALECT_SMB1_OTHER	0x00ff	/* an SMB1 string not listed */
#define SMB_DIALECT_SMB1_LAST	0x00ff
#define SMB_DIALECT_SMB2_WILDCARD	0x02ff	/* "SMB 2.???" or 0x02FF */

/*
 * The dialect code of the SMB1 dialect string <s> of <len> bytes (no
 * NUL): an SMB_DIALECT_SMB1_* code, 0x0202 for "SMB 2.002",
 * SMB_DIALECT_SMB2_WILDCARD for "SMB 2.???", SMB_DIALECT_SMB1_OTHER for
 * any other string. Compared exactly, as servers do.
 */
uint16_t
smb1_dialect_code(const uint8_t *s, uint32_t len);

/*
 * The name of dialect code <code>: the SMB1 string ("NT LANMAN 1.0";
 * "SMB1 (other)" for SMB_DIALECT_SMB1_OTHER), or the SMB2/3 version
 * ("2.02", "2.1", "3.0", "3.0.2", "3.1.1", "2.??"). NULL for 0 and codes
 * not known.
 */
const char *
smb_dialect_name(uint16_t code);

/* True if <code> is an SMB1 dialect code. */
static inline bool
smb_dialect_is_smb1(uint16_t code)
{
	return code != 0 && code <= SMB_DIALECT_SMB1_LAST;
}

/* Commands (SMB2 codes; SMB1 uses its one-byte command codes). */
enum smb2_command {
	SMB2_NEGOTIATE = 0x00,
	SMB2_SESSION_SETUP = 0x01,
	SMB2_LOGOFF = 0x02,
	SMB2_TREE_CONNECT = 0x03,
	SMB2_TREE_DISCONNECT = 0x04,
	SMB2_CREATE = 0x05,
	SMB2_CLOSE = 0x06,
	SMB2_FLUSH = 0x07,
	SMB2_READ = 0x08,
	SMB2_WRITE = 0x09,
	SMB2_LOCK = 0x0a,
	SMB2_IOCTL = 0x0b,
	SMB2_CANCEL = 0x0c,
	SMB2_ECHO = 0x0d,
	SMB2_QUERY_DIRECTORY = 0x0e,
	SMB2_CHANGE_NOTIFY = 0x0f,
	SMB2_QUERY_INFO = 0x10,
	SMB2_SET_INFO = 0x11,
	SMB2_OPLOCK_BREAK = 0x12,
	SMB2_COMMAND_COUNT,
};

#define SMB1_COM_CLOSE			0x04
#define SMB1_COM_TRANSACTION		0x25
#define SMB1_COM_READ_ANDX		0x2e
#define SMB1_COM_WRITE_ANDX		0x2f
#define SMB1_COM_TREE_DISCONNECT	0x71
#define SMB1_COM_NEGOTIATE		0x72
#define SMB1_COM_SESSION_SETUP_ANDX	0x73
#define SMB1_COM_LOGOFF_ANDX		0x74
#define SMB1_COM_TREE_CONNECT_ANDX	0x75
#define SMB1_COM_NT_CREATE_ANDX		0xa2
#define SMB1_COM_NONE			0xff

/* NT status codes the parser itself interprets. */
#define SMB_STATUS_SUCCESS			0x00000000u
#define SMB_STATUS_PENDING			0x00000103u
#define SMB_STATUS_BUFFER_OVERFLOW		0x80000005u
#define SMB_STATUS_MORE_PROCESSING_REQUIRED	0xc0000016u
#define SMB_STATUS_LOGON_FAILURE		0xc000006du

#define SMB2_FSCTL_PIPE_TRANSCEIVE	0x0011c017u

/* SMB2 TREE_CONNECT response ShareType. */
#define SMB2_SHARE_TYPE_DISK	0x01
#define SMB2_SHARE_TYPE_PIPE	0x02
#define SMB2_SHARE_TYPE_PRINT	0x03

/* SMB2 SESSION_SETUP response SessionFlags. */
#define SMB2_SESSION_FLAG_IS_GUEST	0x0001
#define SMB2_SESSION_FLAG_IS_NULL	0x0002
#define SMB2_SESSION_FLAG_ENCRYPT_DATA	0x0004

/* Direction of a byte stream. */
enum smb_dir {
	SMB_DIR_TO_SERVER = 0,
	SMB_DIR_TO_CLIENT = 1,
};

enum smb_fact_type {
	/* Every SMB1 command (each link of an AndX chain) and every SMB2
	 * message (each element of a compound), request or response. The
	 * header fields only: its union part is left undefined. */
	SMB_FACT_COMMAND = 1,
	/* NBSS session request / positive / negative response (port 139). */
	SMB_FACT_NBSS_SESSION,
	/* Request: offered dialects; response: the chosen one. */
	SMB_FACT_NEGOTIATE,
	/* Request: an NTLMSSP AUTHENTICATE or Kerberos AP-REQ was seen (user,
	 * domain, workstation, realm). Response: the outcome, with the names
	 * of the request joined in; only final responses (not
	 * STATUS_MORE_PROCESSING_REQUIRED). */
	SMB_FACT_LOGON,
	/* The facts below are reported for requests (with what the request
	 * carries) and for responses (joined with their request when it is
	 * still in the pending table: SMB_FACT_F_PAIRED). */
	SMB_FACT_LOGOFF,
	SMB_FACT_TREE_CONNECT,
	SMB_FACT_TREE_DISCONNECT,
	SMB_FACT_CREATE,	/* SMB2 CREATE, SMB1 NT_CREATE_ANDX */
	SMB_FACT_CLOSE,
	SMB_FACT_READ,		/* SMB2 READ, SMB1 READ_ANDX */
	SMB_FACT_WRITE,		/* SMB2 WRITE, SMB1 WRITE_ANDX */
	/* SMB2 IOCTL; SMB1 TRANSACTION TransactNmPipe (ctl_code 0x26). */
	SMB_FACT_IOCTL,
	/* SMB2/3 TRANSFORM header (0xFD 'SMB'): the message is sealed, so
	 * always flagged SMB_FACT_F_UNVERIFIABLE. */
	SMB_FACT_ENCRYPTED,
	/*
	 * SMB 3.1.1 COMPRESSION_TRANSFORM header (0xFC 'SMB'), one per
	 * compressed record, reported after the facts of the message it
	 * carried: the message is inflated (its start, SMB_INFLATE_MAX
	 * bytes at most) and parsed as if it had come plain. Flagged
	 * SMB_FACT_F_UNVERIFIABLE, with the reason in u.transform, when any
	 * part a plain message would have shown could not be seen.
	 */
	SMB_FACT_COMPRESSED,
	/* A DCE/RPC fact from a named pipe, wrapped (see struct smb_fact_rpc). */
	SMB_FACT_DCERPC,
	/* The stream was resynchronised after a gap or at mid-stream pickup. */
	SMB_FACT_RESYNC,
	/* Malformed or unsupported input; see enum smb_error. */
	SMB_FACT_ERROR,
};

/* Why an SMB_FACT_ERROR was reported. */
enum smb_error {
	SMB_ERR_NONE = 0,
	/* NBSS message type unknown, or record start not an SMB magic. */
	SMB_ERR_FRAMING,
	/* SMB header shorter than its fixed size or inconsistent. */
	SMB_ERR_HEADER,
	/* A command body, offset or length does not fit the bytes present. */
	SMB_ERR_BODY,
	/* A needed field lies beyond the SMB_RECORD_PREFIX_MAX bytes kept. */
	SMB_ERR_PREFIX_EXCEEDED,
	/* SMB2 NextCommand or SMB1 AndXOffset not moving forward in bounds. */
	SMB_ERR_CHAIN,
	/* Security blob present but not decodable. */
	SMB_ERR_SECURITY_BLOB,
	/* The pool refused the chunk a message prefix held across segments
	 * (or the logon names, or an SMB1 dialect offer) needed: the rest of
	 * the record is passed over unread, or the names or the dialect are
	 * lost. Counted in errors, and by the pool in its buffer class. */
	SMB_ERR_NO_MEMORY,
	SMB_ERR_COUNT,
};

/* Bits of smb_fact.flags. */
#define SMB_FACT_F_RESPONSE	0x0001	/* server to client message */
#define SMB_FACT_F_ASYNC	0x0002	/* SMB2 async header */
#define SMB_FACT_F_RELATED	0x0004	/* SMB2 compound related operation */
#define SMB_FACT_F_COMPOUND	0x0008	/* part of a compound / AndX chain */
#define SMB_FACT_F_PAIRED	0x0010	/* response joined with its request */
#define SMB_FACT_F_TRUNCATED	0x0020	/* a string was cut to fit */
#define SMB_FACT_F_SIGNED	0x0040	/* SMB2 signed / SMB1 security signature */
/* ENCRYPTED, COMPRESSED: what the message carries was not (all) judged. */
#define SMB_FACT_F_UNVERIFIABLE	0x0080

/* SMB_FACT_NBSS_SESSION */
struct smb_fact_nbss {
	uint8_t type;		/* 0x81, 0x82 or 0x83 */
	uint8_t error_code;	/* 0x83 only */
	char called[SMB_NETBIOS_NAME_MAX];	/* "NAME<20>", request only */
	char calling[SMB_NETBIOS_NAME_MAX];
};

/* SMB_FACT_NEGOTIATE */
struct smb_fact_negotiate {
	uint16_t dialect_count;	/* kept in dialects[] (request) */
	uint16_t offered;	/* offered in all (request), maybe more */
	uint16_t dialects[SMB_DIALECTS_MAX];
	uint16_t chosen;	/* response; 0 on requests */
	uint16_t security_mode;
	uint32_t capabilities;
};

/* SMB_FACT_LOGON, SMB_FACT_LOGOFF */
struct smb_fact_logon {
	uint8_t success;	/* response: status 0 */
	/* SMB_AUTH_*: the kind of authentication, from the request's
	 * security blob (NTLMSSP signature, Kerberos ticket or AP-REQ OID) */
	uint8_t mech;
	uint16_t session_flags;	/* SMB2 SessionFlags / SMB1 Action */
	uint16_t dialect;	/* negotiated on this connection, 0 if unseen */
	char user[SMB_ACCOUNT_MAX];
	char domain[SMB_ACCOUNT_MAX];
	char workstation[SMB_ACCOUNT_MAX];
	char realm[SMB_ACCOUNT_MAX];	/* Kerberos ticket realm */
};

#define SMB_AUTH_UNKNOWN	0
#define SMB_AUTH_NTLMSSP	1
#define SMB_AUTH_KERBEROS	2
#define SMB_AUTH_PLAINTEXT	3	/* SMB1 without extended security */

/* SMB_FACT_TREE_CONNECT, SMB_FACT_TREE_DISCONNECT */
struct smb_fact_tree {
	uint8_t share_type;	/* SMB2_SHARE_TYPE_*; SMB1: from service */
	uint8_t is_ipc;
	char path[SMB_NAME_MAX];	/* \\server\share (connect only) */
	char share[SMB_SHARE_MAX];	/* last path component, e.g. ADMIN$ */
};

/* SMB_FACT_CREATE, SMB_FACT_CLOSE, SMB_FACT_READ, SMB_FACT_WRITE, SMB_FACT_IOCTL */
struct smb_fact_file {
	uint8_t file_id[16];	/* SMB2 persistent+volatile; SMB1 FID LE */
	uint8_t is_pipe;
	uint8_t create_action;	/* CREATE response: 0 superseded ... 3 overwritten */
	uint32_t desired_access;	/* CREATE */
	uint32_t disposition;	/* CREATE */
	uint32_t options;	/* CREATE */
	uint32_t ctl_code;	/* IOCTL; SMB1 TRANS: 0x26 TransactNmPipe */
	uint32_t length;	/* READ/WRITE: bytes asked (request) or done (response);
				 * IOCTL: input (request) or output (response) count */
	uint64_t offset;	/* READ/WRITE */
	char name[SMB_NAME_MAX];	/* from the request or the FileId map */
	char share[SMB_SHARE_MAX];	/* share of the tree */
};

/* Why an ENCRYPTED or COMPRESSED fact has SMB_FACT_F_UNVERIFIABLE. */
enum smb_unverifiable {
	SMB_UNVERIFIABLE_NONE = 0,	/* judged like a plain message */
	SMB_UNVERIFIABLE_SEALED,	/* encrypted */
	/* A CompressionAlgorithm not decoded here (LZ4, unknown, NONE
	 * unchained). */
	SMB_UNVERIFIABLE_ALGORITHM,
	/* Malformed compression header or payload chain, compressed data
	 * not valid, or inflating to another size than announced. */
	SMB_UNVERIFIABLE_CORRUPT,
	/* Announced size 0 or above SMB_COMPRESSED_ORIGINAL_MAX. */
	SMB_UNVERIFIABLE_SIZE,
	/* Something to judge lies beyond the SMB_COMPRESSED_PREFIX_MAX
	 * bytes of input kept or the SMB_INFLATE_MAX bytes inflated: a
	 * compound element, its first SMB_RECORD_PREFIX_MAX bytes, or
	 * named-pipe payload. */
	SMB_UNVERIFIABLE_BUDGET,
	SMB_UNVERIFIABLE_COUNT,
};

/* SMB_FACT_ENCRYPTED, SMB_FACT_COMPRESSED */
struct smb_fact_transform {
	uint32_t original_size;	/* OriginalMessageSize /
				 * OriginalCompressedSegmentSize */
	uint32_t record_size;	/* bytes of the whole NBSS record */
	/* ENCRYPTED: transform Flags. COMPRESSED: CompressionAlgorithm
	 * (xca.h numbering); chained: that of the payload that could not be
	 * inflated, else of the first that is not NONE. */
	uint16_t algorithm;
	uint8_t chained;	/* COMPRESSED: SMB2_COMPRESSION_FLAG_CHAINED */
	uint8_t unverifiable;	/* enum smb_unverifiable */
	uint32_t inflated;	/* COMPRESSED: message bytes inflated */
};

/*
 * SMB_FACT_DCERPC: the DCE/RPC parser's fact, unchanged, plus the pipe it
 * travelled on. <rpc> is valid only during the callback. The header fields
 * of the enclosing smb_fact (command, ids) are those of the SMB message
 * whose payload completed the RPC fact.
 */
struct smb_fact_rpc {
	const struct dcerpc_fact *rpc;
	uint8_t file_id[16];
	char pipe[SMB_SHARE_MAX];
};

/* SMB_FACT_RESYNC */
struct smb_fact_resync {
	uint32_t gap_bytes;	/* bytes never seen (0 at pickup / bad framing) */
	uint32_t skipped_bytes;	/* bytes searched before the record start */
};

/* SMB_FACT_ERROR */
struct smb_fact_error {
	enum smb_error reason;
	const char *what;	/* static text naming the field or check */
};

/*
 * One thing the parser understood. The header fields are always set:
 * for messages without them (NBSS, errors before a header) they are 0.
 */
struct smb_fact {
	enum smb_fact_type type;
	enum smb_dir dir;
	uint8_t version;	/* 1 SMB1, 2 SMB2/3, 0 framing only */
	uint16_t command;	/* SMB2 command or SMB1 command byte */
	uint16_t flags;		/* SMB_FACT_F_* */
	uint32_t status;	/* NT status (responses; 0 on requests) */
	uint64_t ts_ns;		/* of the feed call that produced the fact */
	uint64_t message_id;	/* SMB2 MessageId; SMB1 MID */
	uint64_t session_id;	/* SMB2 SessionId; SMB1 UID */
	uint32_t tree_id;	/* SMB2 TreeId; SMB1 TID */
	uint32_t record_seq;	/* TCP sequence of the record's NBSS header */
	uint32_t record_len;	/* bytes of the record including NBSS header */
	union {
		struct smb_fact_nbss nbss;
		struct smb_fact_negotiate negotiate;
		struct smb_fact_logon logon;
		struct smb_fact_tree tree;
		struct smb_fact_file file;
		struct smb_fact_transform transform;
		struct smb_fact_rpc dcerpc;
		struct smb_fact_resync resync;
		struct smb_fact_error error;
	} u;
};

/*
 * Callback receiving facts. <ctx> is the pointer given to smb_feed();
 * <fact> is valid only during the call.
 */
typedef void (*smb_fact_fn)(void *ctx, const struct smb_fact *fact);

/*
 * What the parser did with a connection's bytes. A session keeps the
 * counts of events (records, messages, facts, errors, evictions) in 32
 * bits: they wrap after 2^32 of them on one connection.
 */
struct smb_counters {
	uint64_t bytes;		/* payload bytes fed, both directions */
	uint64_t records;	/* NBSS records framed */
	uint64_t smb1_messages;
	uint64_t smb2_messages;	/* each compound element counts */
	uint64_t encrypted;	/* TRANSFORM records */
	uint64_t compressed;	/* COMPRESSION_TRANSFORM records */
	uint64_t compressed_unverifiable;	/* of which not judged */
	uint64_t inflated_bytes;	/* message bytes inflated to judge them */
	uint64_t keepalives;	/* NBSS 0x85 */
	uint64_t facts;
	uint64_t errors;	/* SMB_FACT_ERROR reported */
	uint64_t resyncs;
	uint64_t gap_bytes;	/* sequence space never seen */
	uint64_t retransmitted_bytes;	/* already seen, dropped */
	uint64_t skipped_bytes;	/* payload passed over without copying */
	uint64_t hunted_bytes;	/* searched while resynchronising */
	uint64_t pipe_bytes;	/* fed to the DCE/RPC parser */
	uint64_t unmatched_responses;	/* no request in the pending table */
	/*
	 * Entries given up for a new one because the pool refused a chunk
	 * (its budget, or this connection's share of it, spent): a request
	 * whose response will go unmatched, a tree, file or pipe whose later
	 * messages lose their names.
	 */
	uint64_t pending_evictions;
	uint64_t tree_evictions;
	uint64_t file_evictions;
	uint64_t pipe_evictions;
	/* New entries not kept at all: refused with nothing to give up. */
	uint64_t table_refusals;
	/* Entries held now, and the most held at once. */
	uint32_t entries;
	uint32_t entries_high;
	uint32_t pipes;
	uint32_t pipes_high;
};

/*
 * Per-connection parser state. Opaque, of fixed size SMB_STATE_SIZE so it
 * can be embedded in a flow entry; initialise with smb_state_init().
 */
struct smb_state {
	alignas(64) uint8_t opaque[SMB_STATE_SIZE];
};

struct chunk_pool;
struct chunk_pool_params;

/*
 * Sets the size classes of <params> to those smb_state_init() needs
 * (SMB_CHUNK_*); the budget and owner limit are left to the caller.
 */
void
smb_chunk_params(struct chunk_pool_params *params);

/*
 * Resets <st> for a new TCP connection: no sequence known in either
 * direction, empty tables, counting into the thread's unread sum (see
 * smb_state_set_counters()). Its tables grow into <pool>
 * (made with smb_chunk_params()), one pool per thread; with <pool> NULL
 * nothing is remembered across messages (names, pipes, request pairing),
 * and the buffers in flight come from malloc() (tools and tests).
 * Must not be called on a state holding chunks: smb_state_release() it
 * first. Cannot fail.
 */
void
smb_state_init(struct smb_state *st, struct chunk_pool *pool);

/*
 * Gives every chunk <st> holds back to its pool and leaves it empty, as
 * at smb_state_init(). Safe to call twice. Cannot fail.
 */
void
smb_state_release(struct smb_state *st);

/*
 * Starts loading into cache what smb_feed() reads first for <dir>: the
 * table index and that direction's stream position. For a caller with a
 * burst of packets from many connections, to overlap the misses.
 */
void
smb_state_prefetch(const struct smb_state *st, enum smb_dir dir);

/*
 * Feeds <len> bytes of TCP payload travelling in direction <dir>, whose
 * first byte has TCP sequence number <seq>, seen at <ts_ns>. The first call
 * for a direction fixes where its stream starts; later calls may repeat
 * bytes (dropped as retransmissions) or leave gaps (the parser skips them
 * and searches for the next record start, reporting SMB_FACT_RESYNC).
 * Segments must arrive in sequence order: an out-of-order segment counts
 * as a gap and the one that was overtaken as a retransmission.
 *
 * <len> 0 (<data> may be NULL) only gives the position: the bytes before
 * <seq> are lost, and the message they cut is read from what came of it
 * at once, not when the next bytes come.
 *
 * Every fact found is passed to <fn> with <ctx> (<fn> may be NULL).
 *
 * Returns 0, or -EINVAL if <st> is NULL, <dir> is not a direction, or
 * <data> is NULL with <len> non-zero. Malformed input is not a failure of
 * the call: it is reported as SMB_FACT_ERROR and counted. Never reads
 * outside <data>[0..len).
 */
int
smb_feed(struct smb_state *st, enum smb_dir dir, uint32_t seq,
	const uint8_t *data, size_t len, uint64_t ts_ns,
	smb_fact_fn fn, void *ctx);

/*
 * Makes <st> count into <counters> (the caller zeroes them; several
 * states may share them, which then hold their sums, and the entries and
 * pipes held and their high-water marks of them all): a session keeps no
 * counters of its own. After smb_state_init(), or with <counters> NULL,
 * a state counts into a per-thread sum that nothing reads. Cannot fail.
 */
void
smb_state_set_counters(struct smb_state *st, struct smb_counters *counters);

/*
 * Copies the counters <st> counts into (smb_state_set_counters()) to
 * <out>; zeroes if it was given none. Cannot fail.
 */
void
smb_state_counters(const struct smb_state *st, struct smb_counters *out);

/*
 * Cheap content check for classification on any port: returns 1 if <data>
 * of <len> bytes starts with an NBSS session message header followed by
 * 0xFE/0xFF/0xFD/0xFC 'SMB', or with an NBSS session request (0x81), else 0.
 */
int
smb_looks_like_smb(const uint8_t *data, size_t len);

/*
 * Returns a static name for SMB2 command <command> ("CREATE") or SMB1
 * command byte <command> when <version> is 1 ("NT_CREATE_ANDX"), or "?"
 * if unknown.
 */
const char *
smb_command_name(uint8_t version, uint16_t command);

/*
 * Returns a static name for the logon kind <auth> (SMB_AUTH_*): "ntlm",
 * "kerberos", "plaintext", or NULL when unknown.
 */
const char *
smb_auth_name(uint8_t auth);

/* Returns a static name for <type> ("create"), or "?" if unknown. */
const char *
smb_fact_type_name(enum smb_fact_type type);

/* Returns a static name for <reason> ("framing"), or "?" if unknown. */
const char *
smb_error_name(enum smb_error reason);

/* Returns a static name for <reason> ("budget"), or "?" if unknown. */
const char *
smb_unverifiable_name(enum smb_unverifiable reason);

#endif /* SMBGW_SMB_H */
