/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMB2/3 messages (MS-SMB2 2.2): the 64-byte header, compound chains, and
 * the bodies of the commands that carry facts. Offsets in bodies are from
 * the start of the SMB2 header; every one is checked against the bytes of
 * the message present in the prefix buffer (m->len) and against the
 * message's full length (m->msg_len) to tell truncation from malformation.
 */
#include <string.h>
#include <strings.h>

#include "smb_pvt.h"

#define SMB2_HDR	64

#define SMB2_FLAGS_SERVER_TO_REDIR	0x00000001u
#define SMB2_FLAGS_ASYNC_COMMAND	0x00000002u
#define SMB2_FLAGS_RELATED_OPERATIONS	0x00000004u
#define SMB2_FLAGS_SIGNED		0x00000008u

/* Fixed body sizes (StructureSize) of the bodies decoded. */
#define SMB2_NEGOTIATE_REQ_SIZE		36
#define SMB2_NEGOTIATE_RESP_SIZE	65
#define SMB2_SESSION_SETUP_REQ_SIZE	25
#define SMB2_SESSION_SETUP_RESP_SIZE	9
#define SMB2_TREE_CONNECT_REQ_SIZE	9
#define SMB2_TREE_CONNECT_RESP_SIZE	16
#define SMB2_CREATE_REQ_SIZE		57
#define SMB2_CREATE_RESP_SIZE		89
#define SMB2_CLOSE_REQ_SIZE		24
#define SMB2_READ_REQ_SIZE		49
#define SMB2_READ_RESP_SIZE		17
#define SMB2_WRITE_REQ_SIZE		49
#define SMB2_WRITE_RESP_SIZE		17
#define SMB2_IOCTL_REQ_SIZE		57
#define SMB2_IOCTL_RESP_SIZE		49

static const uint8_t all_ones[16] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/*
 * True if [off, off + n) of the message is in the prefix buffer. If not,
 * reports why: beyond the prefix kept, or beyond the message itself.
 */
static bool
need(const struct smb_msg *m, uint32_t off, uint32_t n, const char *what)
{
	if (smb_fits(m->len, off, n))
		return true;
	smb_error(m, smb_fits(m->msg_len, off, n) ? SMB_ERR_PREFIX_EXCEEDED :
		SMB_ERR_BODY, what);
	return false;
}

/* True if the body has StructureSize <size>, i.e. is not an error body. */
static bool
body_is(const struct smb_msg *m, uint16_t size)
{
	return smb_fits(m->len, SMB2_HDR, 2) &&
		smb_le16(m->p + SMB2_HDR) == size;
}

/*
 * Decodes the UTF-16 name at [off, off + n) into <dst>. A name running past
 * the prefix is decoded as far as present and flagged truncated.
 */
static bool
name_at(const struct smb_msg *m, uint32_t off, uint32_t n, char *dst,
	size_t size, uint16_t *flags, const char *what)
{
	dst[0] = '\0';
	if (n == 0)
		return true;
	if (!smb_fits(m->msg_len, off, n)) {
		smb_error(m, SMB_ERR_BODY, what);
		return false;
	}
	if (!smb_fits(m->len, off, n)) {
		if (off >= m->len) {
			smb_error(m, SMB_ERR_PREFIX_EXCEEDED, what);
			return false;
		}
		n = m->len - off;
		*flags |= SMB_FACT_F_TRUNCATED;
	}
	if (smb_utf16_to_utf8(m->p + off, n, dst, size))
		*flags |= SMB_FACT_F_TRUNCATED;
	return true;
}

/* The FileId at <p>, or the compound's when a related request says so. */
static void
file_id_at(const struct smb_msg *m, const uint8_t *p, uint8_t id[16])
{
	if ((m->flags & SMB_FACT_F_RELATED) && memcmp(p, all_ones, 16) == 0)
		memcpy(id, m->s->chain_file, 16);
	else
		memcpy(id, p, 16);
}

/* Fills file fields of <f> from the maps, falling back to the compound's CREATE. */
static void
fill_file(const struct smb_msg *m, const uint8_t id[16], struct smb_fact *f)
{
	struct smb_impl *st = m->run->st;
	const struct smb_pending *create = m->s->compound_create;

	smb_fill_file_names(st, m->tree_id, id, &f->u.file);
	if (f->u.file.name[0] == '\0' && (m->flags & SMB_FACT_F_RELATED) &&
	    create != NULL && create->command == SMB2_CREATE)
		utf8_copy(f->u.file.name, create->name,
			sizeof(f->u.file.name));
}

static bool
is_ipc_share(const char *share)
{
	return strcasecmp(share, "IPC$") == 0;
}

static void
negotiate(struct smb_msg *m, bool response)
{
	struct smb_impl *st = m->run->st;
	const uint8_t *b = m->p + SMB2_HDR;
	struct smb_fact f;
	uint16_t count, i;

	smb_fact_begin(m, &f, SMB_FACT_NEGOTIATE);
	if (response) {
		/* The answer to a multi-protocol SMB1 NEGOTIATE, if any. */
		smb1_offer_end(st);
		if (!body_is(m, SMB2_NEGOTIATE_RESP_SIZE))
			goto emit;
		if (!need(m, SMB2_HDR, 28, "negotiate response"))
			return;
		f.u.negotiate.security_mode = smb_le16(b + 2);
		f.u.negotiate.chosen = smb_le16(b + 4);
		f.u.negotiate.capabilities = smb_le32(b + 24);
		st->dialect = f.u.negotiate.chosen;
		goto emit;
	}
	if (!need(m, SMB2_HDR, SMB2_NEGOTIATE_REQ_SIZE, "negotiate request"))
		return;
	count = smb_le16(b + 2);
	f.u.negotiate.security_mode = smb_le16(b + 4);
	f.u.negotiate.capabilities = smb_le32(b + 8);
	if (!need(m, SMB2_HDR + SMB2_NEGOTIATE_REQ_SIZE, 2u * count,
			"negotiate dialects"))
		return;
	for (i = 0; i < count && i < SMB_DIALECTS_MAX; i++)
		f.u.negotiate.dialects[i] = smb_le16(b + 36 + 2 * i);
	f.u.negotiate.dialect_count = i;
emit:
	smb_fact_emit(m->run, &f);
}

/* Copies the logon slot's names into LOGON fact <f> if it belongs to <m>. */
static void
join_auth(const struct smb_msg *m, struct smb_fact *f, bool any_key)
{
	struct smb_auth *auth = m->run->st->auth;

	if (auth == NULL || !auth->valid || auth->version != m->version ||
	    (!any_key && auth->key != m->pending_key))
		return;
	f->u.logon.mech = auth->mech;
	memcpy(f->u.logon.user, auth->user, sizeof(auth->user));
	memcpy(f->u.logon.domain, auth->domain, sizeof(auth->domain));
	memcpy(f->u.logon.workstation, auth->workstation,
		sizeof(auth->workstation));
	memcpy(f->u.logon.realm, auth->realm, sizeof(auth->realm));
	if (auth->truncated)
		f->flags |= SMB_FACT_F_TRUNCATED;
	if (m->flags & SMB_FACT_F_RESPONSE) {
		f->flags |= SMB_FACT_F_PAIRED;
		smb_auth_end(m->run->st);
	}
}

/*
 * Reports LOGON for a session setup request that authenticates, or for a
 * final session setup response. Shared with SMB1 (<any_key>: SMB1 setups
 * are sequential, so the last request is the one answered).
 */
void
smb_logon_fact(struct smb_msg *m, uint16_t session_flags, bool any_key)
{
	struct smb_fact f;

	smb_fact_begin(m, &f, SMB_FACT_LOGON);
	f.u.logon.dialect = m->run->st->dialect;
	if (m->flags & SMB_FACT_F_RESPONSE) {
		f.u.logon.success = m->status == SMB_STATUS_SUCCESS;
		f.u.logon.session_flags = session_flags;
	}
	join_auth(m, &f, any_key);
	smb_fact_emit(m->run, &f);
}

static void
session_setup(struct smb_msg *m, bool response)
{
	const uint8_t *b = m->p + SMB2_HDR;
	uint16_t off, len;
	uint32_t present;

	if (response) {
		if (m->status == SMB_STATUS_MORE_PROCESSING_REQUIRED)
			return;
		smb_logon_fact(m, body_is(m, SMB2_SESSION_SETUP_RESP_SIZE) &&
			smb_fits(m->len, SMB2_HDR, 4) ? smb_le16(b + 2) : 0,
			false);
		return;
	}
	if (!need(m, SMB2_HDR, 16, "session setup request"))
		return;
	off = smb_le16(b + 12);
	len = smb_le16(b + 14);
	if (len == 0)
		return;
	if (!smb_fits(m->msg_len, off, len) || off < SMB2_HDR) {
		smb_error(m, SMB_ERR_BODY, "session setup security buffer");
		return;
	}
	if (off >= m->len) {
		smb_error(m, SMB_ERR_PREFIX_EXCEEDED,
			"session setup security buffer");
		return;
	}
	present = m->len - off < len ? m->len - off : len;
	if (present < len)
		smb_prefix_cut(m);
	if (smb_security_blob(m, m->p + off, present, present == len))
		smb_logon_fact(m, 0, false);
}

static void
tree_connect(struct smb_msg *m, bool response)
{
	struct smb_impl *st = m->run->st;
	const uint8_t *b = m->p + SMB2_HDR;
	struct smb_pending *pe;
	struct smb_fact f;

	smb_fact_begin(m, &f, SMB_FACT_TREE_CONNECT);
	if (!response) {
		if (!need(m, SMB2_HDR, 8, "tree connect request"))
			return;
		if (!name_at(m, smb_le16(b + 4), smb_le16(b + 6),
				f.u.tree.path, sizeof(f.u.tree.path),
				&f.flags, "tree connect path"))
			return;
		smb_set_share(f.u.tree.path, f.u.tree.share,
			sizeof(f.u.tree.share));
		f.u.tree.is_ipc = is_ipc_share(f.u.tree.share);
		pe = smb_pending_add(m);
		pe->truncated = utf8_copy_ends(pe->name, f.u.tree.path,
			sizeof(pe->name));
		smb_fact_emit(m->run, &f);
		return;
	}
	pe = smb_pending_take(m);
	if (pe != NULL) {
		f.flags |= SMB_FACT_F_PAIRED;
		utf8_copy(f.u.tree.path, pe->name, sizeof(f.u.tree.path));
		smb_set_share(f.u.tree.path, f.u.tree.share,
			sizeof(f.u.tree.share));
	}
	if (body_is(m, SMB2_TREE_CONNECT_RESP_SIZE) &&
	    smb_fits(m->len, SMB2_HDR, 3))
		f.u.tree.share_type = b[2];
	f.u.tree.is_ipc = f.u.tree.share_type == SMB2_SHARE_TYPE_PIPE ||
		is_ipc_share(f.u.tree.share);
	if (m->status == SMB_STATUS_SUCCESS) {
		struct smb_tree *t = smb_tree_add(st, m->tree_id);

		t->share_type = f.u.tree.share_type;
		t->is_ipc = f.u.tree.is_ipc;
		utf8_copy(t->share, f.u.tree.share, sizeof(t->share));
	}
	smb_fact_emit(m->run, &f);
}

static void
create(struct smb_msg *m, bool response)
{
	struct smb_impl *st = m->run->st;
	const uint8_t *b = m->p + SMB2_HDR;
	struct smb_pending *pe;
	struct smb_tree *t;
	struct smb_fact f;

	smb_fact_begin(m, &f, SMB_FACT_CREATE);
	if (!response) {
		if (!need(m, SMB2_HDR, SMB2_CREATE_REQ_SIZE - 1,
				"create request"))
			return;
		f.u.file.desired_access = smb_le32(b + 24);
		f.u.file.disposition = smb_le32(b + 36);
		f.u.file.options = smb_le32(b + 40);
		if (!name_at(m, smb_le16(b + 44), smb_le16(b + 46),
				f.u.file.name, sizeof(f.u.file.name),
				&f.flags, "create name"))
			return;
		t = smb_tree_find(st, m->tree_id);
		if (t != NULL) {
			utf8_copy(f.u.file.share, t->share,
				sizeof(f.u.file.share));
			f.u.file.is_pipe = t->is_ipc;
		}
		pe = smb_pending_add(m);
		pe->access = f.u.file.desired_access;
		pe->disposition = f.u.file.disposition;
		pe->options = f.u.file.options;
		pe->truncated = utf8_copy_ends(pe->name, f.u.file.name,
			sizeof(pe->name));
		/* Not when the request is not kept. */
		m->s->compound_create = st->pending_tail == &pe->next ?
			pe : NULL;
		smb_fact_emit(m->run, &f);
		return;
	}
	pe = smb_pending_take(m);
	if (pe != NULL) {
		f.flags |= SMB_FACT_F_PAIRED;
		f.u.file.desired_access = pe->access;
		f.u.file.disposition = pe->disposition;
		f.u.file.options = pe->options;
		utf8_copy(f.u.file.name, pe->name, sizeof(f.u.file.name));
		if (pe->truncated)
			f.flags |= SMB_FACT_F_TRUNCATED;
	}
	t = smb_tree_find(st, m->tree_id);
	if (t != NULL) {
		utf8_copy(f.u.file.share, t->share, sizeof(f.u.file.share));
		f.u.file.is_pipe = t->is_ipc;
	}
	if (body_is(m, SMB2_CREATE_RESP_SIZE) &&
	    need(m, SMB2_HDR, 80, "create response")) {
		f.u.file.create_action = (uint8_t)smb_le32(b + 4);
		memcpy(f.u.file.file_id, b + 64, 16);
		memcpy(m->s->chain_file, b + 64, 16);
		if (m->status == SMB_STATUS_SUCCESS)
			smb_file_add(st, f.u.file.file_id, m->tree_id,
				f.u.file.name, f.u.file.is_pipe);
	}
	smb_fact_emit(m->run, &f);
}

static void
close_file(struct smb_msg *m, bool response)
{
	struct smb_impl *st = m->run->st;
	struct smb_pending *pe;
	struct smb_fact f;
	uint8_t id[16];

	smb_fact_begin(m, &f, SMB_FACT_CLOSE);
	if (!response) {
		if (!need(m, SMB2_HDR, SMB2_CLOSE_REQ_SIZE, "close request"))
			return;
		file_id_at(m, m->p + SMB2_HDR + 8, id);
		fill_file(m, id, &f);
		pe = smb_pending_add(m);
		memcpy(pe->file_id, id, 16);
		smb_fact_emit(m->run, &f);
		return;
	}
	pe = smb_pending_take(m);
	if (pe != NULL) {
		f.flags |= SMB_FACT_F_PAIRED;
		memcpy(id, pe->file_id, 16);
		if (memcmp(id, all_ones, 16) == 0)
			memcpy(id, m->s->chain_file, 16);
		fill_file(m, id, &f);
		if (m->status == SMB_STATUS_SUCCESS)
			smb_file_remove(st, id);
	}
	smb_fact_emit(m->run, &f);
}

/* READ and WRITE share their layout enough to share a parser. */
static void
read_write(struct smb_msg *m, bool response)
{
	const uint8_t *b = m->p + SMB2_HDR;
	bool is_write = m->command == SMB2_WRITE;
	struct smb_pending *pe;
	struct smb_fact f;
	uint8_t id[16];

	smb_fact_begin(m, &f, is_write ? SMB_FACT_WRITE : SMB_FACT_READ);
	if (!response) {
		if (!need(m, SMB2_HDR, 32, "read/write request"))
			return;
		file_id_at(m, b + 16, id);
		fill_file(m, id, &f);
		f.u.file.length = smb_le32(b + 4);
		f.u.file.offset = smb_le64(b + 8);
		pe = smb_pending_add(m);
		memcpy(pe->file_id, id, 16);
		pe->offset = f.u.file.offset;
		pe->length = f.u.file.length;
		smb_fact_emit(m->run, &f);
		if (is_write)
			smb_pipe_payload(m, id, smb_le16(b + 2),
				f.u.file.length);
		return;
	}
	pe = smb_pending_take(m);
	if (pe == NULL) {
		smb_fact_emit(m->run, &f);
		return;
	}
	f.flags |= SMB_FACT_F_PAIRED;
	memcpy(id, pe->file_id, 16);
	if (memcmp(id, all_ones, 16) == 0)
		memcpy(id, m->s->chain_file, 16);
	fill_file(m, id, &f);
	f.u.file.offset = pe->offset;
	if (!body_is(m, is_write ? SMB2_WRITE_RESP_SIZE : SMB2_READ_RESP_SIZE)) {
		smb_fact_emit(m->run, &f);
		return;
	}
	if (!need(m, SMB2_HDR, 8, "read/write response"))
		return;
	f.u.file.length = smb_le32(b + 4);
	smb_fact_emit(m->run, &f);
	if (!is_write && (m->status == SMB_STATUS_SUCCESS ||
			  m->status == SMB_STATUS_BUFFER_OVERFLOW))
		smb_pipe_payload(m, id, b[2], f.u.file.length);
}

static void
io_control(struct smb_msg *m, bool response)
{
	const uint8_t *b = m->p + SMB2_HDR;
	struct smb_pending *pe;
	struct smb_fact f;
	uint32_t off, count;
	uint8_t id[16];

	smb_fact_begin(m, &f, SMB_FACT_IOCTL);
	if (!response) {
		if (!need(m, SMB2_HDR, 32, "ioctl request"))
			return;
		f.u.file.ctl_code = smb_le32(b + 4);
		file_id_at(m, b + 8, id);
		fill_file(m, id, &f);
		off = smb_le32(b + 24);
		count = smb_le32(b + 28);
		f.u.file.length = count;
		pe = smb_pending_add(m);
		memcpy(pe->file_id, id, 16);
		pe->access = f.u.file.ctl_code;
		smb_fact_emit(m->run, &f);
		if (f.u.file.ctl_code == SMB2_FSCTL_PIPE_TRANSCEIVE)
			smb_pipe_payload(m, id, off, count);
		return;
	}
	pe = smb_pending_take(m);
	if (pe != NULL) {
		f.flags |= SMB_FACT_F_PAIRED;
		f.u.file.ctl_code = pe->access;
		memcpy(id, pe->file_id, 16);
		fill_file(m, id, &f);
	}
	if (!body_is(m, SMB2_IOCTL_RESP_SIZE)) {
		smb_fact_emit(m->run, &f);
		return;
	}
	if (!need(m, SMB2_HDR, 40, "ioctl response"))
		return;
	f.u.file.ctl_code = smb_le32(b + 4);
	file_id_at(m, b + 8, id);
	fill_file(m, id, &f);
	off = smb_le32(b + 32);
	count = smb_le32(b + 36);
	f.u.file.length = count;
	smb_fact_emit(m->run, &f);
	if (f.u.file.ctl_code == SMB2_FSCTL_PIPE_TRANSCEIVE &&
	    (m->status == SMB_STATUS_SUCCESS ||
	     m->status == SMB_STATUS_BUFFER_OVERFLOW))
		smb_pipe_payload(m, id, off, count);
}

static void
logoff(struct smb_msg *m)
{
	struct smb_fact f;

	smb_fact_begin(m, &f, SMB_FACT_LOGOFF);
	f.u.logon.dialect = m->run->st->dialect;
	smb_fact_emit(m->run, &f);
}

/*
 * Parses the SMB2 message at m->p (one compound element). Returns the
 * record offset of the next element, or the record length at the end of
 * the chain or when the chain is broken (reported).
 */
uint32_t
smb2_parse(struct smb_msg *m)
{
	struct smb_impl *st = m->run->st;
	struct smb_stream *s = m->s;
	const uint8_t *h = m->p;
	uint32_t next = m->rec_off + m->msg_len;
	uint32_t hflags, next_cmd;
	bool response;

	st->counters->smb2_messages++;
	m->version = 2;
	if (m->len < SMB2_HDR || smb_le16(h + 4) != SMB2_HDR) {
		smb_error(m, SMB_ERR_HEADER, "smb2 header");
		return next;
	}
	m->status = smb_le32(h + 8);
	m->command = smb_le16(h + 12);
	hflags = smb_le32(h + 16);
	next_cmd = smb_le32(h + 20);
	m->message_id = smb_le64(h + 24);
	m->session_id = smb_le64(h + 40);
	m->pending_key = m->message_id;
	response = hflags & SMB2_FLAGS_SERVER_TO_REDIR;
	m->flags = response ? SMB_FACT_F_RESPONSE : 0;
	if (hflags & SMB2_FLAGS_ASYNC_COMMAND)
		m->flags |= SMB_FACT_F_ASYNC;
	else
		m->tree_id = smb_le32(h + 36);
	if (hflags & SMB2_FLAGS_SIGNED)
		m->flags |= SMB_FACT_F_SIGNED;
	if (!response)
		m->status = 0;

	if (next_cmd != 0) {
		if (next_cmd < SMB2_HDR || (next_cmd & 7) != 0 ||
		    next_cmd >= m->msg_len) {
			smb_error(m, SMB_ERR_CHAIN, "smb2 next command");
		} else {
			next = m->rec_off + next_cmd;
			m->msg_len = next_cmd;
			if (m->len > m->msg_len)
				m->len = m->msg_len;
		}
		m->flags |= SMB_FACT_F_COMPOUND;
	} else if (m->rec_off != 0) {
		m->flags |= SMB_FACT_F_COMPOUND;
	}
	if (hflags & SMB2_FLAGS_RELATED_OPERATIONS) {
		m->flags |= SMB_FACT_F_RELATED;
		if (m->session_id == 0 || m->session_id == UINT64_MAX)
			m->session_id = s->chain_session;
		if (!(m->flags & SMB_FACT_F_ASYNC) &&
		    (m->tree_id == 0 || m->tree_id == UINT32_MAX))
			m->tree_id = s->chain_tree;
	}
	s->chain_session = m->session_id;
	s->chain_tree = m->tree_id;
	if (response && (m->flags & SMB_FACT_F_ASYNC)) {
		/* Async responses carry no TreeId: take the request's. */
		const struct smb_pending *pe = smb_pending_find(m);

		if (pe != NULL)
			m->tree_id = pe->tree_id;
	}

	smb_emit_command(m);
	if (response && m->status == SMB_STATUS_PENDING &&
	    (m->flags & SMB_FACT_F_ASYNC))
		return next;	/* interim: the final response follows */

	switch (m->command) {
	case SMB2_NEGOTIATE:
		negotiate(m, response);
		break;
	case SMB2_SESSION_SETUP:
		session_setup(m, response);
		break;
	case SMB2_LOGOFF:
		logoff(m);
		break;
	case SMB2_TREE_CONNECT:
		tree_connect(m, response);
		break;
	case SMB2_TREE_DISCONNECT:
		smb_tree_disconnect(m, response);
		break;
	case SMB2_CREATE:
		create(m, response);
		break;
	case SMB2_CLOSE:
		close_file(m, response);
		break;
	case SMB2_READ:
	case SMB2_WRITE:
		read_write(m, response);
		break;
	case SMB2_IOCTL:
		io_control(m, response);
		break;
	default:
		break;
	}
	return next;
}
