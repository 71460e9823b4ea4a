/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef SMBGW_SMB_PVT_H
#define SMBGW_SMB_PVT_H

/*
 * Internals of the SMB parser shared by smb.c (stream, framing, tables),
 * smb1.c, smb2.c and smb_text.c. Not part of the API.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chunk.h"
#include "dcerpc.h"
#include "smb.h"
#include "utf8.h"

/* Dialect strings smb1_dialect_code() knows (smb1.c's table). */
#define SMB1_DIALECT_TABLE	17
/* Names kept in the tables are cut to this, keeping their start and end
 * (utf8_copy_ends()); facts carry SMB_NAME_MAX. */
#define SMB_STORED_NAME_MAX	128
/* Pipe names in DCE/RPC facts are cut to this, NUL included. */
#define SMB_PIPE_NAME_MAX	48

/* Where a direction's stream is. */
enum smb_phase {
	SMB_PHASE_NBSS_HEADER,	/* collecting the 4-byte NBSS header */
	SMB_PHASE_COLLECT,	/* copying a message prefix into buf */
	SMB_PHASE_SKIP,		/* passing over bytes up to next_unit */
	SMB_PHASE_HUNT,		/* searching for a plausible record start */
};

/* Named-pipe payload of the current message still to come from the stream. */
struct smb_forward {
	uint32_t start;		/* record offsets, [start, end) */
	uint32_t end;
	struct smb_pipe *pipe;	/* NULL when none */
	uint8_t version;
	uint16_t command;
	uint32_t status;
	uint32_t tree_id;
	uint64_t message_id;
	uint64_t session_id;
};

/* One direction of the connection. */
struct smb_stream {
	uint32_t next_seq;	/* sequence number of the next new byte */
	uint8_t seq_known;
	uint8_t phase;		/* enum smb_phase */
	uint8_t synced;		/* a good record was framed since the last loss */
	uint8_t nbss_type;
	uint8_t hdr_len;
	uint8_t hdr[4];
	uint8_t magic_checked;
	uint16_t buf_len;
	uint16_t buf_want;
	uint32_t rec_seq;	/* sequence number of the NBSS header */
	uint32_t rec_len;	/* record payload length (after the header) */
	uint32_t rec_off;	/* payload bytes consumed from the stream */
	uint32_t unit_off;	/* record offset of buf[0] */
	uint32_t next_unit;	/* SKIP target */
	/* Pending entry of the compound's CREATE; cleared when it is freed. */
	struct smb_pending *compound_create;
	/* A record's chain state and a hunt's never live at once: a hunt
	 * ends where a record begins (record_begin() clears the chain). */
	union {
		/* Compound chain inheritance (SMB2 RELATED). */
		struct {
			uint64_t chain_session;
			uint32_t chain_tree;
			uint8_t chain_file[16];
		};
		struct {
			uint64_t hunt_window;	/* last 8 bytes seen while hunting */
			uint32_t hunt_fill;
			uint32_t hunt_bytes;	/* searched in this hunt */
			uint32_t lost_bytes;	/* gap that started this hunt */
		};
	};
	struct smb_forward fwd;
	/*
	 * SMB_RECORD_PREFIX_MAX bytes of a message; a compressed record
	 * takes SMB_COMPRESSED_PREFIX_MAX. During a feed call, the
	 * thread's scratch buffer unless a chunk was held; between calls, an
	 * SMB_CHUNK_BUFFER chunk only while buf_len bytes of a message are
	 * held (COLLECT), else NULL.
	 */
	uint8_t *buf;
};
_Static_assert(SMB_COMPRESSED_PREFIX_MAX >= SMB_RECORD_PREFIX_MAX &&
	SMB_COMPRESSED_PREFIX_MAX <= UINT16_MAX &&
	SMB_COMPRESSED_PREFIX_MAX <= SMB_CHUNK_BUFFER_SIZE,
	"prefix buffer sizes");

/*
 * The tables (pending requests, trees, open files, named pipes) are lists
 * of chunks from the worker's pool (dataplane/chunk), grown on demand:
 * an entry costs a chunk while it is in use and nothing after. Requests
 * are kept oldest first, so a response in order is found at once and the
 * oldest is the one given up; in the other tables lookups move what they
 * find to the front, so the recently used entries a message needs are
 * met first and the tail is the least recently used. An entry is given
 * up for a new one when the pool refuses (counted in the *_evictions
 * counters and in the pool's refusals).
 */

/* A request waiting for its response. */
struct smb_pending {
	struct smb_pending *next;
	uint64_t key;		/* SMB2 MessageId; SMB1 PID << 16 | MID */
	uint64_t session_id;
	uint64_t offset;
	uint32_t tree_id;
	uint32_t access;	/* CREATE DesiredAccess; IOCTL ctl code */
	uint32_t disposition;
	uint32_t options;
	uint32_t length;
	uint16_t command;
	uint8_t version;
	uint8_t truncated;
	uint8_t file_id[16];
	char name[SMB_STORED_NAME_MAX];
};

struct smb_tree {
	struct smb_tree *next;
	uint32_t tree_id;
	uint8_t share_type;
	uint8_t is_ipc;
	char share[SMB_SHARE_MAX];
};

/*
 * An open file: in an SMB_CHUNK_SMALL chunk when its name fits there
 * (SMB_FILE_SMALL_NAME bytes with the NUL), else in an SMB_CHUNK_ENTRY
 * one with the whole of <name>.
 */
struct smb_file {
	struct smb_file *next;
	struct smb_pipe *pipe;	/* its DCE/RPC association, or NULL */
	uint8_t file_id[16];
	uint32_t tree_id;
	uint32_t used;		/* smb_impl.file_clock at its last use */
	uint8_t is_pipe;
	uint8_t cls;		/* SMB_CHUNK_SMALL or SMB_CHUNK_ENTRY */
	char name[SMB_STORED_NAME_MAX];
};
#define SMB_FILE_SMALL_NAME	(SMB_CHUNK_SMALL_SIZE - \
	offsetof(struct smb_file, name))

/* A named pipe's association; its name is its file's (a pipe lives no
 * longer than the file entry that points at it). */
struct smb_pipe {
	struct smb_pipe *next;
	uint8_t file_id[16];
	struct dcerpc_conn conn;
};

/*
 * Open files are one list until a session holds SMB_FILES_INDEXED; then
 * SMB_FILE_BUCKETS lists by a hash of the FileId, their heads in a chunk,
 * so that a FileId not held costs a short walk, not one over every file.
 */
#define SMB_FILES_INDEXED	16
#define SMB_FILE_BUCKETS	32

struct smb_file_index {
	struct smb_file *head[SMB_FILE_BUCKETS];
};

_Static_assert(sizeof(struct smb_file_index) <= SMB_CHUNK_ENTRY_SIZE &&
	sizeof(struct smb_pending) <= SMB_CHUNK_ENTRY_SIZE &&
	sizeof(struct smb_tree) <= SMB_CHUNK_SMALL_SIZE &&
	SMB_FILE_SMALL_NAME >= 32 &&
	sizeof(struct smb_file) <= SMB_CHUNK_ENTRY_SIZE &&
	sizeof(struct smb_pipe) <= SMB_CHUNK_PIPE_SIZE,
	"a table entry outgrew its chunk");

/* Names of the last logon request, joined to its response; in an
 * SMB_CHUNK_BUFFER chunk from the request to its response. */
struct smb_auth {
	uint64_t key;
	uint8_t valid;
	uint8_t mech;
	uint8_t version;
	uint8_t truncated;
	char user[SMB_ACCOUNT_MAX];
	char domain[SMB_ACCOUNT_MAX];
	char workstation[SMB_ACCOUNT_MAX];
	char realm[SMB_ACCOUNT_MAX];
};
_Static_assert(sizeof(struct smb_auth) <= SMB_CHUNK_BUFFER_SIZE,
	"logon names outgrew their chunk");

/*
 * SMB1 NEGOTIATE request: dialects offered, and for each dialect string
 * known the last and first place (index + 1, 0 if not offered; the first
 * only among the first 255) it had, so that the response's DialectIndex is
 * named however many were offered. In an SMB_CHUNK_SMALL chunk from the
 * request to a response (SMB1, or SMB2 to a multi-protocol offer).
 */
struct smb1_offer {
	uint16_t offered;
	uint16_t last[SMB1_DIALECT_TABLE];
	uint8_t first[SMB1_DIALECT_TABLE];
};
_Static_assert(sizeof(struct smb1_offer) <= SMB_CHUNK_SMALL_SIZE,
	"SMB1 offer outgrew its chunk");

/* What smb_state_init() clears comes first: the rest is cleared on use. */
struct smb_impl {
	/*
	 * The tables, each a list of chunks. Requests oldest first, as
	 * responses mostly come (<pending_tail> is the last link); the
	 * others most recently used first.
	 */
	struct smb_pending *pending;
	struct smb_pending **pending_tail;
	struct smb_tree *trees;
	struct smb_file *files;		/* while file_index is NULL */
	struct smb_file_index *file_index;
	uint32_t file_count;
	uint32_t file_clock;	/* ticks at each file lookup or add */
	struct smb_pipe *pipes;
	/* The last entry smb_pending_take() handed out, freed at the next
	 * add or take. */
	struct smb_pending *taken;
	/* An SMB1 NEGOTIATE request's offer until its response, or NULL. */
	struct smb1_offer *smb1_offer;
	struct chunk_pool *pool;	/* where the tables grow; may be NULL */
	struct chunk_owner owner;	/* what they hold of it */
	uint16_t dialect;
	/* The last logon request's names, or NULL. */
	struct smb_auth *auth;
	/*
	 * Where this session counts: the caller's (smb_state_set_counters())
	 * or the thread's, which nothing reads, so that a session keeps no
	 * counters of its own.
	 */
	struct smb_counters *counters;
	struct smb_stream dir[2];	/* cleared up to buf */
};

/* One feed call's context. */
struct smb_run {
	struct smb_impl *st;
	smb_fact_fn fn;
	void *ctx;
	uint64_t ts_ns;
	/* Set while parsing an inflated message when something it needs
	 * lies beyond the bytes inflated (SMB_UNVERIFIABLE_BUDGET). */
	uint8_t inflate_short;
	/* Set while parsing an inflated compound element from fewer bytes
	 * than a plain one would have had: a field running past them then
	 * sets inflate_short. */
	uint8_t inflate_partial;
};

/*
 * One SMB message being parsed: <p> holds <len> bytes from its header on
 * (what the prefix buffer has); the message is <msg_len> bytes in the
 * record, at record offset <rec_off>. <avail> bytes from <p> on can be
 * read for named-pipe payload (the whole buffer, which may go past the
 * message). An inflated message (<inflated>) lives in the inflate buffer:
 * its offsets are from the start of the decompressed data, and what is
 * not in it will not come from the stream.
 */
struct smb_msg {
	struct smb_run *run;
	struct smb_stream *s;
	enum smb_dir dir;
	const uint8_t *p;
	uint32_t len;
	uint32_t avail;
	uint32_t msg_len;
	uint32_t rec_off;
	uint8_t inflated;
	uint8_t version;
	uint8_t unicode;	/* SMB1 FLAGS2_UNICODE */
	uint16_t command;
	uint16_t flags;		/* SMB_FACT_F_* */
	uint32_t status;
	uint64_t message_id;
	uint64_t session_id;
	uint32_t tree_id;
	uint64_t pending_key;
};

/* Little-endian readers; the caller has checked the bounds. */
static inline uint16_t
smb_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
smb_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

static inline uint64_t
smb_le64(const uint8_t *p)
{
	return (uint64_t)smb_le32(p) | (uint64_t)smb_le32(p + 4) << 32;
}

/* True if [off, off + n) lies within <len> bytes, without overflow. */
static inline bool
smb_fits(uint32_t len, uint32_t off, uint32_t n)
{
	return off <= len && n <= len - off;
}

/*
 * A field of <m> ran past the bytes present. For an inflated message
 * parsed from fewer bytes than a plain one would have had, the facts may
 * then differ from the plain message's: it cannot be judged.
 */
static inline void
smb_prefix_cut(const struct smb_msg *m)
{
	if (m->inflated && m->run->inflate_partial)
		m->run->inflate_short = 1;
}

/* smb.c: facts and tables. */
void smb_fact_begin(const struct smb_msg *m, struct smb_fact *f,
	enum smb_fact_type type);
void smb_fact_emit(struct smb_run *run, struct smb_fact *f);
void smb_error(const struct smb_msg *m, enum smb_error reason,
	const char *what);
void smb_emit_command(const struct smb_msg *m);
struct smb_pending *smb_pending_add(struct smb_msg *m);
struct smb_pending *smb_pending_take(struct smb_msg *m);
struct smb_pending *smb_pending_find(const struct smb_msg *m);
struct smb_tree *smb_tree_find(struct smb_impl *st, uint32_t tree_id);
/* TREE_DISCONNECT request or response, SMB1 or SMB2. */
void smb_tree_disconnect(struct smb_msg *m, bool response);
struct smb_tree *smb_tree_add(struct smb_impl *st, uint32_t tree_id);
void smb_tree_remove(struct smb_impl *st, uint32_t tree_id);
struct smb_file *smb_file_find(struct smb_impl *st, const uint8_t id[16]);
struct smb_file *smb_file_add(struct smb_impl *st, const uint8_t id[16],
	uint32_t tree_id, const char *name, bool is_pipe);
void smb_file_remove(struct smb_impl *st, const uint8_t id[16]);
void smb_fill_file_names(struct smb_impl *st, uint32_t tree_id,
	const uint8_t id[16], struct smb_fact_file *ff);
void smb_pipe_payload(struct smb_msg *m, const uint8_t id[16],
	uint32_t off, uint32_t count);
void smb_set_share(const char *path, char *share, size_t size);
void smb_logon_fact(struct smb_msg *m, uint16_t session_flags, bool any_key);
/* The logon slot, cleared, for request <m>'s names; NULL (counted, and
 * reported) when the pool refuses. */
struct smb_auth *smb_auth_begin(const struct smb_msg *m);
/* Gives the logon slot back (its response came, or the state goes). */
void smb_auth_end(struct smb_impl *st);
/* The SMB1 offer, cleared, for NEGOTIATE request <m>; NULL (counted, and
 * reported) when the pool refuses. */
struct smb1_offer *smb1_offer_begin(const struct smb_msg *m);
/* Gives the SMB1 offer back (answered, or the state goes). */
void smb1_offer_end(struct smb_impl *st);

/* smb1.c, smb2.c: parse one message; return the record offset where the
 * next message of the record starts (the record length when none). */
uint32_t smb1_parse(struct smb_msg *m);
uint32_t smb2_parse(struct smb_msg *m);

/* smb_compress.c: a COMPRESSION_TRANSFORM record held in the prefix
 * buffer (m->p, m->len of m->msg_len): inflates it, parses the messages
 * inside and reports SMB_FACT_COMPRESSED. */
void smb_compressed(struct smb_msg *m);

/* smb_text.c: strings and security blobs. */
bool smb_utf16_to_utf8(const uint8_t *src, size_t nbytes, char *dst,
	size_t size);
bool smb_ascii_to_utf8(const uint8_t *src, size_t nbytes, char *dst,
	size_t size);
bool smb_security_blob(const struct smb_msg *m, const uint8_t *blob,
	uint32_t len, bool complete);
void smb_netbios_name(const uint8_t *p, uint32_t len, char *dst,
	size_t size);

#endif /* SMBGW_SMB_PVT_H */
