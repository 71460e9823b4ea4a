/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMB1 messages (MS-CIFS 2.2, MS-SMB 2.2): the 32-byte header, AndX
 * chains, and the commands that carry facts. Offsets (AndXOffset, data
 * offsets) are from the start of the SMB header; every one is checked
 * against the bytes present.
 */
#include <string.h>
#include <strings.h>

#include "smb_pvt.h"

#define SMB1_HDR	32

#define SMB1_FLAGS_REPLY		0x80
#define SMB1_FLAGS2_SECURITY_SIGNATURE	0x0004
#define SMB1_FLAGS2_UNICODE		0x8000

#define SMB1_COM_LOCKING_ANDX		0x24
#define SMB1_COM_OPEN_ANDX		0x2d

/* TRANSACTION subcommand carrying a DCE/RPC call on a pipe. */
#define SMB1_TRANS_TRANSACT_NMPIPE	0x26

/* WRITE_ANDX WriteMode: a raw pipe write starts with a 2-byte length. */
#define SMB1_WRITE_RAW_MODE		0x0004

/* NT_CREATE_ANDX response ResourceType values for pipes. */
#define SMB1_FILE_TYPE_BYTE_MODE_PIPE		1
#define SMB1_FILE_TYPE_MESSAGE_MODE_PIPE	2

/* Chains longer than this are treated as malformed. */
#define SMB1_ANDX_MAX	8

/* One command block of a message: parameter words and data bytes. */
struct smb1_block {
	uint32_t off;		/* of the WordCount byte, from the header */
	uint8_t wc;
	const uint8_t *w;	/* parameter words */
	uint32_t bytes_off;	/* of the data bytes, from the header */
	uint32_t bytes_end;	/* end of the data bytes present */
	bool bytes_cut;		/* data bytes continue past the prefix */
};

static bool
is_andx(uint8_t command)
{
	switch (command) {
	case SMB1_COM_LOCKING_ANDX:
	case SMB1_COM_OPEN_ANDX:
	case SMB1_COM_READ_ANDX:
	case SMB1_COM_WRITE_ANDX:
	case SMB1_COM_SESSION_SETUP_ANDX:
	case SMB1_COM_LOGOFF_ANDX:
	case SMB1_COM_TREE_CONNECT_ANDX:
	case SMB1_COM_NT_CREATE_ANDX:
		return true;
	default:
		return false;
	}
}

/* SMB1 FIDs are 16-bit; they share the 16-byte FileId tables with SMB2. */
static void
fid_to_id(uint16_t fid, uint8_t id[16])
{
	memset(id, 0, 16);
	id[0] = (uint8_t)fid;
	id[1] = (uint8_t)(fid >> 8);
}

/*
 * Reads the NUL-terminated string at header offset <off> (Unicode strings
 * are 2-byte aligned from the header) that must end by <end>, into <dst>.
 * Returns the offset after its terminator, or <end> if unterminated.
 */
static uint32_t
smb1_string(const struct smb_msg *m, uint32_t off, uint32_t end, bool unicode,
	char *dst, size_t size, uint16_t *flags)
{
	uint32_t i;

	dst[0] = '\0';
	if (unicode && (off & 1))
		off++;
	if (off >= end)
		return end;
	if (unicode) {
		for (i = off; i + 1 < end; i += 2)
			if (m->p[i] == 0 && m->p[i + 1] == 0)
				break;
		if (smb_utf16_to_utf8(m->p + off, i - off, dst, size))
			*flags |= SMB_FACT_F_TRUNCATED;
		return i + 1 < end ? i + 2 : end;
	}
	for (i = off; i < end && m->p[i] != 0; i++)
		;
	if (smb_ascii_to_utf8(m->p + off, i - off, dst, size))
		*flags |= SMB_FACT_F_TRUNCATED;
	return i < end ? i + 1 : end;
}

/* True if the block has at least <wc> words; reports a body error if not. */
static bool
words(const struct smb_msg *m, const struct smb1_block *blk, uint8_t wc,
	const char *what)
{
	if (blk->wc >= wc)
		return true;
	smb_error(m, SMB_ERR_BODY, what);
	return false;
}

/*
 * The dialect strings of MS-CIFS 1.7 and MS-SMB 1.7 (and Samba's own), in
 * the order of struct smb1_offer's first and last.
 */
static const struct {
	uint16_t code;
	uint8_t len;
	const char *name;
} smb1_dialects[SMB1_DIALECT_TABLE] = {
#define DIALECT(code, name) { code, sizeof(name) - 1, name }
	DIALECT(SMB_DIALECT_SMB1_NT_LM_012, "NT LM 0.12"),
	DIALECT(SMB_DIALECT_SMB1_PC_NETWORK_PROGRAM, "PC NETWORK PROGRAM 1.0"),
	DIALECT(SMB_DIALECT_SMB1_PCLAN, "PCLAN1.0"),
	DIALECT(SMB_DIALECT_SMB1_MSNET_103, "MICROSOFT NETWORKS 1.03"),
	DIALECT(SMB_DIALECT_SMB1_MSNET_30, "MICROSOFT NETWORKS 3.0"),
	DIALECT(SMB_DIALECT_SMB1_LANMAN_10, "LANMAN1.0"),
	DIALECT(SMB_DIALECT_SMB1_WFW_31A, "Windows for Workgroups 3.1a"),
	DIALECT(SMB_DIALECT_SMB1_LM12X002, "LM1.2X002"),
	DIALECT(SMB_DIALECT_SMB1_DOS_LM12X002, "DOS LM1.2X002"),
	DIALECT(SMB_DIALECT_SMB1_DOS_LANMAN_21, "DOS LANMAN2.1"),
	DIALECT(SMB_DIALECT_SMB1_LANMAN_21, "LANMAN2.1"),
	DIALECT(SMB_DIALECT_SMB1_SAMBA, "Samba"),
	DIALECT(SMB_DIALECT_SMB1_NT_LANMAN_10, "NT LANMAN 1.0"),
	DIALECT(SMB_DIALECT_SMB1_XENIX_CORE, "XENIX CORE"),
	DIALECT(SMB_DIALECT_SMB1_CAIRO, "Cairo 0.xa"),
	DIALECT(0x0202, "SMB 2.002"),
	DIALECT(SMB_DIALECT_SMB2_WILDCARD, "SMB 2.???"),
#undef DIALECT
};

/* The place of string <s> in smb1_dialects, or -1. */
static int
dialect_slot(const uint8_t *s, uint32_t len)
{
	unsigned int i;

	for (i = 0; i < SMB1_DIALECT_TABLE; i++)
		if (smb1_dialects[i].len == len &&
				memcmp(s, smb1_dialects[i].name, len) == 0)
			return (int)i;
	return -1;
}

uint16_t
smb1_dialect_code(const uint8_t *s, uint32_t len)
{
	int slot = dialect_slot(s, len);

	return slot < 0 ? SMB_DIALECT_SMB1_OTHER : smb1_dialects[slot].code;
}

const char *
smb_dialect_name(uint16_t code)
{
	unsigned int i;

	switch (code) {
	case 0: return NULL;
	case SMB_DIALECT_SMB1_OTHER: return "SMB1 (other)";
	case 0x0202: return "2.02";
	case 0x0210: return "2.1";
	case 0x0300: return "3.0";
	case 0x0302: return "3.0.2";
	case 0x0311: return "3.1.1";
	case SMB_DIALECT_SMB2_WILDCARD: return "2.??";
	default:
		break;
	}
	for (i = 0; i < SMB1_DIALECT_TABLE; i++)
		if (smb1_dialects[i].code == code)
			return smb1_dialects[i].name;
	return NULL;
}

/*
 * The dialect the response's DialectIndex <idx> chose: the string
 * offered at that place. A string offered more than once is found at its
 * first and last place (servers pick one of those); an index past the
 * offer, or 0xFFFF (none acceptable), chooses nothing.
 */
static uint16_t
chosen_dialect(const struct smb_impl *st, uint16_t idx)
{
	const struct smb1_offer *o = st->smb1_offer;
	unsigned int i;

	if (o == NULL || idx >= o->offered)
		return 0;
	for (i = 0; i < SMB1_DIALECT_TABLE; i++)
		if (o->first[i] == idx + 1 || o->last[i] == idx + 1)
			return smb1_dialects[i].code;
	return SMB_DIALECT_SMB1_OTHER;
}

static void
negotiate(struct smb_msg *m, const struct smb1_block *blk, bool response)
{
	struct smb_impl *st = m->run->st;
	struct smb1_offer *o;
	struct smb_fact f;
	uint32_t i, start;
	uint16_t n = 0;

	smb_fact_begin(m, &f, SMB_FACT_NEGOTIATE);
	if (response) {
		if (blk->wc >= 1) {
			f.u.negotiate.chosen = chosen_dialect(st,
				smb_le16(blk->w));
			st->dialect = f.u.negotiate.chosen;
		}
		smb1_offer_end(st);
		if (blk->wc >= 17) {
			f.u.negotiate.security_mode = blk->w[2];
			f.u.negotiate.capabilities = smb_le32(blk->w + 19);
		}
		smb_fact_emit(m->run, &f);
		return;
	}
	/*
	 * Dialects: 0x02 then a NUL-terminated OEM string, repeated, as many
	 * as the byte count holds (DialectIndex is 16 bits).
	 */
	o = smb1_offer_begin(m);
	i = blk->bytes_off;
	while (i < blk->bytes_end && n < UINT16_MAX) {
		int slot;

		if (m->p[i] != 0x02)
			break;
		start = ++i;
		while (i < blk->bytes_end && m->p[i] != 0)
			i++;
		slot = dialect_slot(m->p + start, i - start);
		if (n < SMB_DIALECTS_MAX)
			f.u.negotiate.dialects[n] = slot < 0 ?
				SMB_DIALECT_SMB1_OTHER :
				smb1_dialects[slot].code;
		n++;
		if (slot >= 0 && o != NULL) {
			if (o->last[slot] == 0 && n <= UINT8_MAX)
				o->first[slot] = (uint8_t)n;
			o->last[slot] = n;
		}
		i++;
	}
	f.u.negotiate.dialect_count = n < SMB_DIALECTS_MAX ? n :
		SMB_DIALECTS_MAX;
	f.u.negotiate.offered = n;
	if (o != NULL)
		o->offered = n;
	smb_fact_emit(m->run, &f);
}

static void
session_setup(struct smb_msg *m, const struct smb1_block *blk, bool response)
{
	struct smb_auth *auth;
	uint32_t off, len, present;
	uint16_t flags = 0;

	if (response) {
		if (m->status == SMB_STATUS_MORE_PROCESSING_REQUIRED)
			return;
		smb_logon_fact(m, blk->wc >= 3 ? smb_le16(blk->w + 4) : 0,
			true);
		return;
	}
	if (blk->wc == 12) {
		/* Extended security: the blob opens the data bytes. */
		len = smb_le16(blk->w + 14);
		off = blk->bytes_off;
		if (len == 0)
			return;
		if (!smb_fits(m->msg_len, off, len)) {
			smb_error(m, SMB_ERR_BODY, "session setup blob");
			return;
		}
		present = blk->bytes_end > off ? blk->bytes_end - off : 0;
		if (present > len)
			present = len;
		if (smb_security_blob(m, m->p + off, present, present == len))
			smb_logon_fact(m, 0, true);
		return;
	}
	if (!words(m, blk, 13, "session setup words"))
		return;
	/* Plain NT LM 0.12 logon: passwords, then account and domain. */
	off = blk->bytes_off + smb_le16(blk->w + 14) + smb_le16(blk->w + 16);
	if (off > blk->bytes_end) {
		smb_error(m, SMB_ERR_BODY, "session setup passwords");
		return;
	}
	auth = smb_auth_begin(m);
	if (auth != NULL) {
		auth->mech = SMB_AUTH_PLAINTEXT;
		off = smb1_string(m, off, blk->bytes_end, m->unicode,
			auth->user, sizeof(auth->user), &flags);
		smb1_string(m, off, blk->bytes_end, m->unicode, auth->domain,
			sizeof(auth->domain), &flags);
		auth->truncated = flags != 0;
	}
	smb_logon_fact(m, 0, true);
}

static void
tree_connect(struct smb_msg *m, const struct smb1_block *blk, bool response)
{
	struct smb_impl *st = m->run->st;
	struct smb_pending *pe;
	struct smb_fact f;
	char service[8];
	uint32_t off;

	smb_fact_begin(m, &f, SMB_FACT_TREE_CONNECT);
	if (!response) {
		if (!words(m, blk, 4, "tree connect words"))
			return;
		off = blk->bytes_off + smb_le16(blk->w + 6);
		if (off > blk->bytes_end) {
			smb_error(m, SMB_ERR_BODY, "tree connect password");
			return;
		}
		off = smb1_string(m, off, blk->bytes_end, m->unicode,
			f.u.tree.path, sizeof(f.u.tree.path), &f.flags);
		smb1_string(m, off, blk->bytes_end, false, service,
			sizeof(service), &f.flags);
		smb_set_share(f.u.tree.path, f.u.tree.share,
			sizeof(f.u.tree.share));
		f.u.tree.is_ipc = strcasecmp(f.u.tree.share, "IPC$") == 0 ||
			strcmp(service, "IPC") == 0;
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
	smb1_string(m, blk->bytes_off, blk->bytes_end, false, service,
		sizeof(service), &f.flags);
	if (strcmp(service, "IPC") == 0)
		f.u.tree.share_type = SMB2_SHARE_TYPE_PIPE;
	else if (strcmp(service, "A:") == 0)
		f.u.tree.share_type = SMB2_SHARE_TYPE_DISK;
	else if (strncmp(service, "LPT", 3) == 0)
		f.u.tree.share_type = SMB2_SHARE_TYPE_PRINT;
	f.u.tree.is_ipc = f.u.tree.share_type == SMB2_SHARE_TYPE_PIPE ||
		strcasecmp(f.u.tree.share, "IPC$") == 0;
	if (m->status == SMB_STATUS_SUCCESS) {
		struct smb_tree *t = smb_tree_add(st, m->tree_id);

		t->share_type = f.u.tree.share_type;
		t->is_ipc = f.u.tree.is_ipc;
		utf8_copy(t->share, f.u.tree.share, sizeof(t->share));
	}
	smb_fact_emit(m->run, &f);
}

static void
nt_create(struct smb_msg *m, const struct smb1_block *blk, bool response)
{
	struct smb_impl *st = m->run->st;
	struct smb_pending *pe;
	struct smb_tree *t = smb_tree_find(st, m->tree_id);
	struct smb_fact f;
	uint32_t name_len, end;

	smb_fact_begin(m, &f, SMB_FACT_CREATE);
	if (t != NULL) {
		utf8_copy(f.u.file.share, t->share, sizeof(f.u.file.share));
		f.u.file.is_pipe = t->is_ipc;
	}
	if (!response) {
		if (!words(m, blk, 24, "nt create words"))
			return;
		name_len = smb_le16(blk->w + 5);
		f.u.file.desired_access = smb_le32(blk->w + 15);
		f.u.file.disposition = smb_le32(blk->w + 35);
		f.u.file.options = smb_le32(blk->w + 39);
		end = blk->bytes_off + (m->unicode && (blk->bytes_off & 1)) +
			name_len;
		if (end > blk->bytes_end) {
			if (!blk->bytes_cut) {
				smb_error(m, SMB_ERR_BODY, "nt create name");
				return;
			}
			end = blk->bytes_end;
			f.flags |= SMB_FACT_F_TRUNCATED;
		}
		smb1_string(m, blk->bytes_off, end, m->unicode, f.u.file.name,
			sizeof(f.u.file.name), &f.flags);
		pe = smb_pending_add(m);
		pe->access = f.u.file.desired_access;
		pe->disposition = f.u.file.disposition;
		pe->options = f.u.file.options;
		pe->truncated = utf8_copy_ends(pe->name, f.u.file.name,
			sizeof(pe->name));
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
	}
	if (blk->wc >= 34) {
		uint16_t type = smb_le16(blk->w + 63);

		fid_to_id(smb_le16(blk->w + 5), f.u.file.file_id);
		f.u.file.create_action = (uint8_t)smb_le32(blk->w + 7);
		if (type == SMB1_FILE_TYPE_BYTE_MODE_PIPE ||
		    type == SMB1_FILE_TYPE_MESSAGE_MODE_PIPE)
			f.u.file.is_pipe = 1;
		if (m->status == SMB_STATUS_SUCCESS)
			smb_file_add(st, f.u.file.file_id, m->tree_id,
				f.u.file.name, f.u.file.is_pipe);
	}
	smb_fact_emit(m->run, &f);
}

static void
close_file(struct smb_msg *m, const struct smb1_block *blk, bool response)
{
	struct smb_pending *pe;
	struct smb_fact f;
	uint8_t id[16];

	smb_fact_begin(m, &f, SMB_FACT_CLOSE);
	if (!response) {
		if (!words(m, blk, 1, "close words"))
			return;
		fid_to_id(smb_le16(blk->w), id);
		smb_fill_file_names(m->run->st, m->tree_id, id, &f.u.file);
		pe = smb_pending_add(m);
		memcpy(pe->file_id, id, 16);
		smb_fact_emit(m->run, &f);
		return;
	}
	pe = smb_pending_take(m);
	if (pe != NULL) {
		f.flags |= SMB_FACT_F_PAIRED;
		smb_fill_file_names(m->run->st, m->tree_id, pe->file_id,
			&f.u.file);
		if (m->status == SMB_STATUS_SUCCESS)
			smb_file_remove(m->run->st, pe->file_id);
	}
	smb_fact_emit(m->run, &f);
}

static void
write_andx(struct smb_msg *m, const struct smb1_block *blk, bool response)
{
	struct smb_pending *pe;
	struct smb_fact f;
	uint32_t data_off, len;
	uint8_t id[16];

	smb_fact_begin(m, &f, SMB_FACT_WRITE);
	if (response) {
		pe = smb_pending_take(m);
		if (pe != NULL) {
			f.flags |= SMB_FACT_F_PAIRED;
			smb_fill_file_names(m->run->st, m->tree_id,
				pe->file_id, &f.u.file);
			f.u.file.offset = pe->offset;
		}
		if (blk->wc >= 5)
			f.u.file.length = smb_le16(blk->w + 4) |
				(uint32_t)smb_le16(blk->w + 8) << 16;
		smb_fact_emit(m->run, &f);
		return;
	}
	if (!words(m, blk, 12, "write andx words"))
		return;
	fid_to_id(smb_le16(blk->w + 4), id);
	smb_fill_file_names(m->run->st, m->tree_id, id, &f.u.file);
	f.u.file.offset = smb_le32(blk->w + 6);
	if (blk->wc >= 14)
		f.u.file.offset |= (uint64_t)smb_le32(blk->w + 24) << 32;
	len = smb_le16(blk->w + 20) | (uint32_t)smb_le16(blk->w + 18) << 16;
	data_off = smb_le16(blk->w + 22);
	/* DataLengthHigh is only meaningful for large writes; some clients
	 * leave junk there, so fall back to the low half if it overflows. */
	if (!smb_fits(m->msg_len, data_off, len))
		len = smb_le16(blk->w + 20);
	f.u.file.length = len;
	pe = smb_pending_add(m);
	memcpy(pe->file_id, id, 16);
	pe->offset = f.u.file.offset;
	smb_fact_emit(m->run, &f);
	if ((smb_le16(blk->w + 14) & SMB1_WRITE_RAW_MODE) && len >= 2) {
		data_off += 2;
		len -= 2;
	}
	smb_pipe_payload(m, id, data_off, len);
}

static void
read_andx(struct smb_msg *m, const struct smb1_block *blk, bool response)
{
	struct smb_pending *pe;
	struct smb_fact f;
	uint32_t len;
	uint8_t id[16];

	smb_fact_begin(m, &f, SMB_FACT_READ);
	if (!response) {
		if (!words(m, blk, 10, "read andx words"))
			return;
		fid_to_id(smb_le16(blk->w + 4), id);
		smb_fill_file_names(m->run->st, m->tree_id, id, &f.u.file);
		f.u.file.offset = smb_le32(blk->w + 6);
		if (blk->wc >= 12)
			f.u.file.offset |= (uint64_t)smb_le32(blk->w + 20) << 32;
		f.u.file.length = smb_le16(blk->w + 10);
		pe = smb_pending_add(m);
		memcpy(pe->file_id, id, 16);
		pe->offset = f.u.file.offset;
		smb_fact_emit(m->run, &f);
		return;
	}
	pe = smb_pending_take(m);
	if (pe == NULL || blk->wc < 12) {
		smb_fact_emit(m->run, &f);
		return;
	}
	f.flags |= SMB_FACT_F_PAIRED;
	memcpy(id, pe->file_id, 16);
	smb_fill_file_names(m->run->st, m->tree_id, id, &f.u.file);
	f.u.file.offset = pe->offset;
	len = smb_le16(blk->w + 10) | (uint32_t)smb_le16(blk->w + 14) << 16;
	if (!smb_fits(m->msg_len, smb_le16(blk->w + 12), len))
		len = smb_le16(blk->w + 10);
	f.u.file.length = len;
	smb_fact_emit(m->run, &f);
	if (m->status == SMB_STATUS_SUCCESS ||
	    m->status == SMB_STATUS_BUFFER_OVERFLOW)
		smb_pipe_payload(m, id, smb_le16(blk->w + 12), len);
}

/* TRANSACTION: only TransactNmPipe matters (DCE/RPC over a pipe). */
static void
transaction(struct smb_msg *m, const struct smb1_block *blk, bool response)
{
	struct smb_pending *pe;
	struct smb_fact f;
	uint8_t id[16];

	smb_fact_begin(m, &f, SMB_FACT_IOCTL);
	if (!response) {
		if (!words(m, blk, 14, "transaction words"))
			return;
		if (blk->w[26] < 2 || blk->wc < 14 + blk->w[26] ||
		    smb_le16(blk->w + 28) != SMB1_TRANS_TRANSACT_NMPIPE)
			return;
		fid_to_id(smb_le16(blk->w + 30), id);
		smb_fill_file_names(m->run->st, m->tree_id, id, &f.u.file);
		f.u.file.ctl_code = SMB1_TRANS_TRANSACT_NMPIPE;
		f.u.file.length = smb_le16(blk->w + 22);
		pe = smb_pending_add(m);
		memcpy(pe->file_id, id, 16);
		pe->access = SMB1_TRANS_TRANSACT_NMPIPE;
		smb_fact_emit(m->run, &f);
		smb_pipe_payload(m, id, smb_le16(blk->w + 24),
			smb_le16(blk->w + 22));
		return;
	}
	pe = smb_pending_take(m);
	if (pe == NULL || pe->access != SMB1_TRANS_TRANSACT_NMPIPE)
		return;
	f.flags |= SMB_FACT_F_PAIRED;
	memcpy(id, pe->file_id, 16);
	smb_fill_file_names(m->run->st, m->tree_id, id, &f.u.file);
	f.u.file.ctl_code = SMB1_TRANS_TRANSACT_NMPIPE;
	if (blk->wc >= 10)
		f.u.file.length = smb_le16(blk->w + 12);
	smb_fact_emit(m->run, &f);
	if (blk->wc >= 10 && (m->status == SMB_STATUS_SUCCESS ||
			      m->status == SMB_STATUS_BUFFER_OVERFLOW))
		smb_pipe_payload(m, id, smb_le16(blk->w + 14),
			smb_le16(blk->w + 12));
}

static void
logoff(struct smb_msg *m)
{
	struct smb_fact f;

	smb_fact_begin(m, &f, SMB_FACT_LOGOFF);
	f.u.logon.dialect = m->run->st->dialect;
	smb_fact_emit(m->run, &f);
}

static void
dispatch(struct smb_msg *m, const struct smb1_block *blk, bool response)
{
	switch (m->command) {
	case SMB1_COM_NEGOTIATE:
		negotiate(m, blk, response);
		break;
	case SMB1_COM_SESSION_SETUP_ANDX:
		session_setup(m, blk, response);
		break;
	case SMB1_COM_LOGOFF_ANDX:
		logoff(m);
		break;
	case SMB1_COM_TREE_CONNECT_ANDX:
		tree_connect(m, blk, response);
		break;
	case SMB1_COM_TREE_DISCONNECT:
		smb_tree_disconnect(m, response);
		break;
	case SMB1_COM_NT_CREATE_ANDX:
		nt_create(m, blk, response);
		break;
	case SMB1_COM_CLOSE:
		close_file(m, blk, response);
		break;
	case SMB1_COM_WRITE_ANDX:
		write_andx(m, blk, response);
		break;
	case SMB1_COM_READ_ANDX:
		read_andx(m, blk, response);
		break;
	case SMB1_COM_TRANSACTION:
		transaction(m, blk, response);
		break;
	default:
		break;
	}
}

/*
 * Parses the SMB1 message at m->p and its AndX chain. SMB1 has no
 * compounding across messages, so returns the record length.
 */
uint32_t
smb1_parse(struct smb_msg *m)
{
	struct smb_impl *st = m->run->st;
	const uint8_t *h = m->p;
	uint32_t off = SMB1_HDR;
	uint8_t command;
	bool response;
	int links;

	st->counters->smb1_messages++;
	m->version = 1;
	if (m->len < SMB1_HDR) {
		smb_error(m, SMB_ERR_HEADER, "smb1 header");
		return m->s->rec_len;
	}
	command = h[4];
	m->status = smb_le32(h + 5);
	response = h[9] & SMB1_FLAGS_REPLY;
	m->unicode = (smb_le16(h + 10) & SMB1_FLAGS2_UNICODE) != 0;
	m->tree_id = smb_le16(h + 24);
	m->session_id = smb_le16(h + 28);
	m->message_id = smb_le16(h + 30);
	m->pending_key = (uint64_t)smb_le16(h + 12) << 32 |
		(uint64_t)smb_le16(h + 26) << 16 | m->message_id;
	m->flags = response ? SMB_FACT_F_RESPONSE : 0;
	if (smb_le16(h + 10) & SMB1_FLAGS2_SECURITY_SIGNATURE)
		m->flags |= SMB_FACT_F_SIGNED;
	if (!response)
		m->status = 0;

	for (links = 0; links < SMB1_ANDX_MAX; links++) {
		struct smb1_block blk;
		uint32_t bcc_off;
		uint16_t bcc;
		uint32_t andx_off;

		m->command = command;
		if (links > 0)
			m->flags |= SMB_FACT_F_COMPOUND;
		if (off >= m->len) {
			smb_error(m, off < m->msg_len ?
				SMB_ERR_PREFIX_EXCEEDED : SMB_ERR_HEADER,
				"smb1 word count");
			break;
		}
		blk.off = off;
		blk.wc = h[off];
		blk.w = h + off + 1;
		bcc_off = off + 1 + 2u * blk.wc;
		if (!smb_fits(m->len, bcc_off, 2)) {
			smb_emit_command(m);
			smb_error(m, smb_fits(m->msg_len, bcc_off, 2) ?
				SMB_ERR_PREFIX_EXCEEDED : SMB_ERR_BODY,
				"smb1 parameter words");
			break;
		}
		bcc = smb_le16(h + bcc_off);
		blk.bytes_off = bcc_off + 2;
		blk.bytes_end = blk.bytes_off + bcc;
		blk.bytes_cut = false;
		if (blk.bytes_end > m->len) {
			if (blk.bytes_end > m->msg_len) {
				smb_emit_command(m);
				smb_error(m, SMB_ERR_BODY, "smb1 byte count");
				break;
			}
			blk.bytes_end = m->len;
			blk.bytes_cut = true;
		}
		if (links == 0 && is_andx(command) && blk.wc >= 2 &&
		    blk.w[0] != SMB1_COM_NONE)
			m->flags |= SMB_FACT_F_COMPOUND;
		smb_emit_command(m);
		dispatch(m, &blk, response);
		if (!is_andx(command) || blk.wc < 2 ||
		    blk.w[0] == SMB1_COM_NONE)
			break;
		command = blk.w[0];
		andx_off = smb_le16(blk.w + 2);
		if (andx_off <= off || andx_off >= m->msg_len) {
			smb_error(m, SMB_ERR_CHAIN, "smb1 andx offset");
			break;
		}
		off = andx_off;
	}
	return m->s->rec_len;
}
