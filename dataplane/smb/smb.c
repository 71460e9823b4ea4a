/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SMB stream handling: sequence tracking, NBSS framing, resynchronisation,
 * the bounded request / tree / file / pipe tables, and fact delivery.
 * The SMB1 and SMB2 message parsers live in smb1.c and smb2.c.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "smb_pvt.h"

_Static_assert(sizeof(struct smb_impl) <= SMB_STATE_SIZE,
	"struct smb_impl exceeds the SMB_STATE_SIZE budget");
_Static_assert(alignof(struct smb_impl) <= 64,
	"struct smb_state alignment too small for struct smb_impl");

#define NBSS_SESSION_MESSAGE	0x00
#define NBSS_SESSION_REQUEST	0x81
#define NBSS_POSITIVE_RESPONSE	0x82
#define NBSS_NEGATIVE_RESPONSE	0x83
#define NBSS_RETARGET_RESPONSE	0x84
#define NBSS_KEEPALIVE		0x85

/* Smallest message each protocol id can start: header sizes. */
#define SMB1_HEADER_LEN		32
#define SMB2_HEADER_LEN		64
#define SMB2_TRANSFORM_LEN	52
#define SMB2_COMPRESSION_LEN	16

static struct smb_impl *
impl_of(struct smb_state *st)
{
	return (struct smb_impl *)(void *)st->opaque;
}

static const struct smb_impl *
impl_of_const(const struct smb_state *st)
{
	return (const struct smb_impl *)(const void *)st->opaque;
}

static uint32_t
min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* ---- facts ---------------------------------------------------------- */

static void
fact_begin_stream(const struct smb_run *run, const struct smb_stream *s,
	enum smb_dir dir, struct smb_fact *f, enum smb_fact_type type)
{
	/*
	 * Every message gives a COMMAND fact, which has no union part (see
	 * smb.h): clearing its header alone saves half a kilobyte of stores
	 * per message.
	 */
	memset(f, 0, type == SMB_FACT_COMMAND ? offsetof(struct smb_fact, u) :
		sizeof(*f));
	f->type = type;
	f->dir = dir;
	f->ts_ns = run->ts_ns;
	f->record_seq = s->rec_seq;
	f->record_len = s->rec_len + 4;
	if (dir == SMB_DIR_TO_CLIENT)
		f->flags = SMB_FACT_F_RESPONSE;
}

/* Starts fact <f> of <type> with the header fields of message <m>. */
void
smb_fact_begin(const struct smb_msg *m, struct smb_fact *f,
	enum smb_fact_type type)
{
	fact_begin_stream(m->run, m->s, m->dir, f, type);
	f->version = m->version;
	f->command = m->command;
	f->flags = m->flags;
	f->status = m->status;
	f->message_id = m->message_id;
	f->session_id = m->session_id;
	f->tree_id = m->tree_id;
}

/* Counts fact <f> and hands it to the caller's callback. */
void
smb_fact_emit(struct smb_run *run, struct smb_fact *f)
{
	run->st->counters->facts++;
	if (f->type == SMB_FACT_ERROR)
		run->st->counters->errors++;
	/* Cut short where a plain message's prefix would not have been. */
	if (run->inflate_partial && ((f->flags & SMB_FACT_F_TRUNCATED) ||
	    (f->type == SMB_FACT_ERROR &&
	     f->u.error.reason == SMB_ERR_PREFIX_EXCEEDED)))
		run->inflate_short = 1;
	if (run->fn != NULL)
		run->fn(run->ctx, f);
}

/* Reports an SMB_FACT_ERROR for message <m>. <what> must be static. */
void
smb_error(const struct smb_msg *m, enum smb_error reason, const char *what)
{
	struct smb_fact f;

	smb_fact_begin(m, &f, SMB_FACT_ERROR);
	f.u.error.reason = reason;
	f.u.error.what = what;
	smb_fact_emit(m->run, &f);
}

static void
stream_error(struct smb_run *run, struct smb_stream *s, enum smb_dir dir,
	enum smb_error reason, const char *what)
{
	struct smb_fact f;

	fact_begin_stream(run, s, dir, &f, SMB_FACT_ERROR);
	f.u.error.reason = reason;
	f.u.error.what = what;
	smb_fact_emit(run, &f);
}

/* Reports the generic SMB_FACT_COMMAND for message <m>. */
void
smb_emit_command(const struct smb_msg *m)
{
	struct smb_fact f;

	smb_fact_begin(m, &f, SMB_FACT_COMMAND);
	smb_fact_emit(m->run, &f);
}

/* ---- tables --------------------------------------------------------- */

/*
 * Where a new entry goes when the pool refuses one: nowhere. Writes to it
 * are lost, so callers need no failure path; it is per thread, as the
 * pool is, and never linked into a table.
 */
static _Thread_local struct smb_pending scratch_pending;
static _Thread_local struct smb_tree scratch_tree;

/*
 * The prefix buffer of the direction being fed, during a feed call, when
 * it held nothing before the call: a message whose prefix is whole in one
 * segment (most of them) is parsed without taking a chunk. What is still
 * held when the call returns moves to a chunk (stream_hold()).
 */
static _Thread_local uint8_t scratch_prefix[SMB_COMPRESSED_PREFIX_MAX]
	__attribute__((aligned(64)));

/* A buffer in flight (SMB_CHUNK_BUFFER) for <st>; NULL if refused. */
static void *
buffer_alloc(struct smb_impl *st)
{
	if (st->pool == NULL)
		return malloc(SMB_CHUNK_BUFFER_SIZE);
	return chunk_alloc(st->pool, SMB_CHUNK_BUFFER, &st->owner);
}

static unsigned int
files_give_up(struct smb_impl *st, uint32_t bytes,
	const struct smb_file *keep);

/*
 * If a buffer chunk for <st> would go past the session's share, the
 * names of files least recently used are then given up to make room (a
 * message or an RPC call is worth more than a file name), counted.
 */
static void
buffer_make_room(struct smb_impl *st)
{
	if (st->pool != NULL && st->owner.limit != 0 &&
	    st->owner.bytes + SMB_CHUNK_BUFFER_SIZE > st->owner.limit)
		files_give_up(st, SMB_CHUNK_BUFFER_SIZE, NULL);
}

static void
buffer_free(struct smb_impl *st, void *p)
{
	if (st->pool == NULL)
		free(p);
	else
		chunk_free(st->pool, SMB_CHUNK_BUFFER, &st->owner, p);
}

struct smb_auth *
smb_auth_begin(const struct smb_msg *m)
{
	struct smb_impl *st = m->run->st;
	struct smb_auth *auth = st->auth;

	if (auth == NULL) {
		buffer_make_room(st);
		auth = buffer_alloc(st);
		if (auth == NULL) {
			smb_error(m, SMB_ERR_NO_MEMORY, "logon names");
			return NULL;
		}
		st->auth = auth;
	}
	memset(auth, 0, sizeof(*auth));
	auth->key = m->pending_key;
	auth->version = m->version;
	auth->valid = 1;
	return auth;
}

void
smb_auth_end(struct smb_impl *st)
{
	if (st->auth != NULL)
		buffer_free(st, st->auth);
	st->auth = NULL;
}

struct smb1_offer *
smb1_offer_begin(const struct smb_msg *m)
{
	struct smb_impl *st = m->run->st;
	struct smb1_offer *o = st->smb1_offer;

	if (o == NULL) {
		o = st->pool == NULL ? malloc(SMB_CHUNK_SMALL_SIZE) :
			chunk_alloc(st->pool, SMB_CHUNK_SMALL, &st->owner);
		if (o == NULL) {
			smb_error(m, SMB_ERR_NO_MEMORY, "negotiate offer");
			return NULL;
		}
		st->smb1_offer = o;
	}
	memset(o, 0, sizeof(*o));
	return o;
}

void
smb1_offer_end(struct smb_impl *st)
{
	if (st->smb1_offer == NULL)
		return;
	if (st->pool == NULL)
		free(st->smb1_offer);
	else
		chunk_free(st->pool, SMB_CHUNK_SMALL, &st->owner,
			st->smb1_offer);
	st->smb1_offer = NULL;
}

/* Takes a chunk of class <cls> for a new entry of <st>; NULL if refused. */
static void *
entry_alloc(struct smb_impl *st, unsigned int cls)
{
	void *p = chunk_alloc(st->pool, cls, &st->owner);

	if (p == NULL)
		return NULL;
	if (cls == SMB_CHUNK_PIPE) {
		if (++st->counters->pipes > st->counters->pipes_high)
			st->counters->pipes_high = st->counters->pipes;
	} else if (++st->counters->entries > st->counters->entries_high) {
		st->counters->entries_high = st->counters->entries;
	}
	return p;
}

static void
entry_free(struct smb_impl *st, unsigned int cls, void *p)
{
	chunk_free(st->pool, cls, &st->owner, p);
	if (cls == SMB_CHUNK_PIPE)
		st->counters->pipes--;
	else
		st->counters->entries--;
}

/*
 * The link to the last entry of the non-empty list <head> (its least
 * recently used entry), for giving it up; any entry type with a next
 * member. Only when the pool refuses: the walk is the price of keeping
 * every entry at one pointer of overhead.
 */
#define LIST_TAIL(head) __extension__ ({			\
	__typeof__(head) pp_ = (head);				\
	while ((*pp_)->next != NULL)				\
		pp_ = &(*pp_)->next;				\
	pp_;							\
})

/* Frees every entry of list <head>, chunks of class <cls>, of <st>. */
#define LIST_FREE(st, head, cls) do {				\
	__typeof__(*(head)) e_ = *(head);			\
	while (e_ != NULL) {					\
		__typeof__(e_) next_ = e_->next;		\
		entry_free((st), (cls), e_);			\
		e_ = next_;					\
	}							\
	*(head) = NULL;						\
} while (0)

/* Frees pending entry <pe>, unlinked, and forgets every pointer to it. */
static void
pending_free(struct smb_impl *st, struct smb_pending *pe)
{
	int i;

	for (i = 0; i < 2; i++)
		if (st->dir[i].compound_create == pe)
			st->dir[i].compound_create = NULL;
	if (st->taken == pe)
		st->taken = NULL;
	entry_free(st, SMB_CHUNK_ENTRY, pe);
}

/* The link to the pending entry <m> answers or repeats, or NULL. */
static struct smb_pending **
pending_link(struct smb_impl *st, const struct smb_msg *m)
{
	struct smb_pending **pp;

	for (pp = &st->pending; *pp != NULL; pp = &(*pp)->next) {
		const struct smb_pending *e = *pp;

		if (e->key == m->pending_key && e->command == m->command &&
		    e->version == m->version)
			return pp;
	}
	return NULL;
}

/* Unlinks and returns the pending entry at link <pp>. */
static struct smb_pending *
pending_unlink(struct smb_impl *st, struct smb_pending **pp)
{
	struct smb_pending *pe = *pp;

	*pp = pe->next;
	if (st->pending_tail == &pe->next)
		st->pending_tail = pp;
	return pe;
}

/*
 * Records request <m> for its response; returns the entry for the caller
 * to complete. When the pool refuses a chunk the oldest request is
 * replaced (its response will go unmatched), or with none the request is
 * not kept; both counted. Never fails.
 */
struct smb_pending *
smb_pending_add(struct smb_msg *m)
{
	struct smb_impl *st = m->run->st;
	struct smb_pending **pp, *pe;
	int i;

	if (st->taken != NULL)
		pending_free(st, st->taken);
	pp = pending_link(st, m);
	if (pp != NULL) {
		pe = pending_unlink(st, pp);
	} else {
		pe = entry_alloc(st, SMB_CHUNK_ENTRY);
		if (pe == NULL && st->pending != NULL) {
			pe = pending_unlink(st, &st->pending);
			for (i = 0; i < 2; i++)
				if (st->dir[i].compound_create == pe)
					st->dir[i].compound_create = NULL;
			st->counters->pending_evictions++;
		}
		if (pe == NULL) {
			st->counters->table_refusals++;
			pe = &scratch_pending;
		}
	}
	memset(pe, 0, offsetof(struct smb_pending, name) + 1);
	if (pe != &scratch_pending) {
		*st->pending_tail = pe;
		st->pending_tail = &pe->next;
	}
	pe->key = m->pending_key;
	pe->command = m->command;
	pe->version = m->version;
	pe->session_id = m->session_id;
	pe->tree_id = m->tree_id;
	return pe;
}

/* Returns the request response <m> answers, left in the table, or NULL. */
struct smb_pending *
smb_pending_find(const struct smb_msg *m)
{
	struct smb_pending **pp = pending_link(m->run->st, m);

	return pp == NULL ? NULL : *pp;
}

/*
 * Finds the request response <m> answers and releases its entry, whose
 * contents stay readable until the next smb_pending_add() or
 * smb_pending_take(). Returns NULL, counted, if no request matches.
 */
struct smb_pending *
smb_pending_take(struct smb_msg *m)
{
	struct smb_impl *st = m->run->st;
	struct smb_pending **pp, *pe;

	if (st->taken != NULL)
		pending_free(st, st->taken);
	pp = pending_link(st, m);
	if (pp == NULL) {
		st->counters->unmatched_responses++;
		return NULL;
	}
	pe = pending_unlink(st, pp);
	st->taken = pe;
	return pe;
}

/* The link to the tree <tree_id>, or NULL. */
static struct smb_tree **
tree_link(struct smb_impl *st, uint32_t tree_id)
{
	struct smb_tree **pp;

	for (pp = &st->trees; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->tree_id == tree_id)
			return pp;
	return NULL;
}

/* Unlinks the entry at <pp> and puts it at the front of list <head>. */
#define MOVE_TO_FRONT(head, pp) do {			\
	__typeof__(*(pp)) e_ = *(pp);			\
	if ((pp) != (head)) {				\
		*(pp) = e_->next;			\
		e_->next = *(head);			\
		*(head) = e_;				\
	}						\
} while (0)

struct smb_tree *
smb_tree_find(struct smb_impl *st, uint32_t tree_id)
{
	struct smb_tree **pp = tree_link(st, tree_id);

	if (pp == NULL)
		return NULL;
	MOVE_TO_FRONT(&st->trees, pp);
	return st->trees;
}

/*
 * Returns the entry for <tree_id>, new or reused, cleared; when the pool
 * refuses, the least recently used tree's, or with none one not kept
 * (counted). Never fails.
 */
struct smb_tree *
smb_tree_add(struct smb_impl *st, uint32_t tree_id)
{
	struct smb_tree **pp = tree_link(st, tree_id);
	struct smb_tree *t;

	if (pp != NULL) {
		t = *pp;
		*pp = t->next;
	} else {
		t = entry_alloc(st, SMB_CHUNK_SMALL);
		if (t == NULL && st->trees != NULL) {
			pp = LIST_TAIL(&st->trees);
			t = *pp;
			*pp = NULL;
			st->counters->tree_evictions++;
		}
		if (t == NULL) {
			st->counters->table_refusals++;
			memset(&scratch_tree, 0, sizeof(scratch_tree));
			return &scratch_tree;
		}
	}
	memset(t, 0, sizeof(*t));
	t->tree_id = tree_id;
	t->next = st->trees;
	st->trees = t;
	return t;
}

void
smb_tree_remove(struct smb_impl *st, uint32_t tree_id)
{
	struct smb_tree **pp = tree_link(st, tree_id);
	struct smb_tree *t;

	if (pp == NULL)
		return;
	t = *pp;
	*pp = t->next;
	entry_free(st, SMB_CHUNK_SMALL, t);
}

/* A FileId's halves folded into one word. */
static uint64_t
smb_file_key(const uint8_t id[16])
{
	uint64_t persistent, volatile_part;

	memcpy(&persistent, id, 8);
	memcpy(&volatile_part, id + 8, 8);
	return persistent ^ volatile_part;
}

/* The list file <id> belongs to. */
static struct smb_file **
file_head(struct smb_impl *st, const uint8_t id[16])
{
	uint64_t key;

	if (st->file_index == NULL)
		return &st->files;
	/* The FileId's halves folded and mixed (SplitMix64's finaliser). */
	key = smb_file_key(id);
	key = (key ^ (key >> 30)) * 0xbf58476d1ce4e5b9ull;
	key = (key ^ (key >> 27)) * 0x94d049bb133111ebull;
	return &st->file_index->head[(key ^ (key >> 31)) % SMB_FILE_BUCKETS];
}

/* Every file list: their heads, how many. */
static unsigned int
file_lists(struct smb_impl *st, struct smb_file ***heads)
{
	if (st->file_index == NULL) {
		*heads = &st->files;
		return 1;
	}
	*heads = st->file_index->head;
	return SMB_FILE_BUCKETS;
}

/* The link to the file <id>, or NULL. */
static struct smb_file **
file_link(struct smb_impl *st, const uint8_t id[16])
{
	struct smb_file **pp;

	for (pp = file_head(st, id); *pp != NULL; pp = &(*pp)->next)
		if (memcmp((*pp)->file_id, id, 16) == 0)
			return pp;
	return NULL;
}

struct smb_file *
smb_file_find(struct smb_impl *st, const uint8_t id[16])
{
	struct smb_file **head, **pp = file_link(st, id);

	if (pp == NULL)
		return NULL;
	head = file_head(st, id);
	MOVE_TO_FRONT(head, pp);
	(*head)->used = ++st->file_clock;
	return *head;
}

/*
 * Spreads the one file list over SMB_FILE_BUCKETS, in a chunk; stays one
 * list if the pool refuses it. Order within each list is kept.
 */
static void
files_index(struct smb_impl *st)
{
	struct smb_file **tails[SMB_FILE_BUCKETS];
	struct smb_file *fe = st->files;
	unsigned int i;

	st->file_index = chunk_alloc(st->pool, SMB_CHUNK_ENTRY, &st->owner);
	if (st->file_index == NULL)
		return;
	for (i = 0; i < SMB_FILE_BUCKETS; i++) {
		st->file_index->head[i] = NULL;
		tails[i] = &st->file_index->head[i];
	}
	st->files = NULL;
	while (fe != NULL) {
		struct smb_file *next = fe->next;
		struct smb_file **head = file_head(st, fe->file_id);

		i = (unsigned int)(head - st->file_index->head);
		fe->next = NULL;
		*tails[i] = fe;
		tails[i] = &fe->next;
		fe = next;
	}
}

/* Back to one list once no file is left. */
static void
files_unindex(struct smb_impl *st)
{
	if (st->file_index == NULL || st->file_count != 0)
		return;
	chunk_free(st->pool, SMB_CHUNK_ENTRY, &st->owner, st->file_index);
	st->file_index = NULL;
	st->files = NULL;
}

/*
 * The link to the least recently used file, or when <files_only> of those
 * that are not pipes, other than <keep> (may be NULL). NULL when there is
 * none. A walk over every file, paid only when the pool refuses.
 */
static struct smb_file **
file_victim(struct smb_impl *st, bool files_only, const struct smb_file *keep)
{
	struct smb_file **heads, **victim = NULL, **pp;
	unsigned int n = file_lists(st, &heads), i;

	for (i = 0; i < n; i++)
		for (pp = &heads[i]; *pp != NULL; pp = &(*pp)->next) {
			if ((files_only && (*pp)->is_pipe) || *pp == keep)
				continue;
			/* Ages relative to now, so the clock may wrap. */
			if (victim == NULL || st->file_clock - (*pp)->used >
					st->file_clock - (*victim)->used)
				victim = pp;
		}
	return victim;
}

/*
 * Frees pipe <p>, unlinked: no file or stream may point at it after.
 * <owner> is the file known to point at it, or NULL to look.
 */
static void
pipe_free(struct smb_impl *st, struct smb_pipe *p, struct smb_file *owner)
{
	struct smb_file *fe;
	int i;

	if (owner != NULL && owner->pipe == p) {
		owner->pipe = NULL;
	} else {
		struct smb_file **heads;
		unsigned int n = file_lists(st, &heads), l;

		for (l = 0; l < n; l++)
			for (fe = heads[l]; fe != NULL; fe = fe->next)
				if (fe->pipe == p)
					fe->pipe = NULL;
	}
	for (i = 0; i < 2; i++)
		if (st->dir[i].fwd.pipe == p) {
			st->dir[i].fwd.pipe = NULL;
			st->dir[i].fwd.start = st->dir[i].fwd.end = 0;
		}
	dcerpc_conn_release(&p->conn);
	entry_free(st, SMB_CHUNK_PIPE, p);
}

/* Frees the pipe of file <fe>, if it has one. */
static void
pipe_release(struct smb_impl *st, struct smb_file *fe)
{
	struct smb_pipe **pp;

	if (fe->pipe == NULL)
		return;
	for (pp = &st->pipes; *pp != NULL; pp = &(*pp)->next)
		if (*pp == fe->pipe) {
			*pp = fe->pipe->next;
			pipe_free(st, fe->pipe, fe);
			return;
		}
	fe->pipe = NULL;
}

/*
 * Maps FileId <id> to <name> on <tree_id>. When the pool refuses a chunk
 * the least recently used file's entry is given up for it (counted).
 * Returns the entry, or NULL (counted) when nothing could be given up.
 */
/* The chunk class for a file named <name>. */
static unsigned int
file_class(const char *name)
{
	return strnlen(name, SMB_FILE_SMALL_NAME) < SMB_FILE_SMALL_NAME ?
		SMB_CHUNK_SMALL : SMB_CHUNK_ENTRY;
}

/* Bytes of <fe>'s name its chunk holds, the NUL included. */
static size_t
file_name_room(const struct smb_file *fe)
{
	return fe->cls == SMB_CHUNK_SMALL ? SMB_FILE_SMALL_NAME :
		sizeof(fe->name);
}

/*
 * A chunk of class <cls> for a new file entry: a new one (counted in
 * file_count), else the least recently used files are given up (counted)
 * until one is had. NULL when none could be.
 */
static struct smb_file *
file_take(struct smb_impl *st, unsigned int cls)
{
	struct smb_file *fe = entry_alloc(st, cls), **pp;

	if (fe != NULL) {
		if (++st->file_count == SMB_FILES_INDEXED &&
		    st->file_index == NULL)
			files_index(st);
		fe->cls = (uint8_t)cls;
		return fe;
	}
	while ((pp = file_victim(st, false, NULL)) != NULL) {
		fe = *pp;
		*pp = NULL;
		pipe_release(st, fe);
		st->counters->file_evictions++;
		if (fe->cls == cls)
			return fe;
		/* Of the other size: its chunk may make room for one. */
		entry_free(st, fe->cls, fe);
		st->file_count--;
		fe = entry_alloc(st, cls);
		if (fe != NULL) {
			st->file_count++;
			fe->cls = (uint8_t)cls;
			return fe;
		}
	}
	return NULL;
}

/*
 * Maps FileId <id> to <name> on <tree_id>. When the pool refuses a chunk
 * the least recently used file's entry is given up for it (counted).
 * Returns the entry, or NULL (counted) when nothing could be given up.
 */
struct smb_file *
smb_file_add(struct smb_impl *st, const uint8_t id[16], uint32_t tree_id,
	const char *name, bool is_pipe)
{
	struct smb_file **head, **pp = file_link(st, id);
	unsigned int cls = file_class(name);
	struct smb_file *fe;

	if (pp != NULL) {
		fe = *pp;
		*pp = fe->next;
		pipe_release(st, fe);
		if (fe->cls != cls) {
			/* A name of the other size: a chunk to fit it, or
			 * (refused) the name cut to the chunk it has. */
			struct smb_file *other = entry_alloc(st, cls);

			if (other != NULL) {
				entry_free(st, fe->cls, fe);
				fe = other;
				fe->cls = (uint8_t)cls;
			}
		}
	} else {
		fe = file_take(st, cls);
		if (fe == NULL) {
			st->counters->table_refusals++;
			return NULL;
		}
	}
	head = file_head(st, id);
	fe->next = *head;
	*head = fe;
	fe->used = ++st->file_clock;
	memcpy(fe->file_id, id, 16);
	fe->tree_id = tree_id;
	fe->is_pipe = is_pipe;
	fe->pipe = NULL;
	utf8_copy(fe->name, name, file_name_room(fe));
	return fe;
}

void
smb_file_remove(struct smb_impl *st, const uint8_t id[16])
{
	struct smb_file **pp = file_link(st, id);
	struct smb_file *fe;

	if (pp == NULL)
		return;
	fe = *pp;
	*pp = fe->next;
	pipe_release(st, fe);
	entry_free(st, fe->cls, fe);
	st->file_count--;
	files_unindex(st);
}

/* Fills the file id, name, pipe flag and share of <ff> from the maps. */
void
smb_fill_file_names(struct smb_impl *st, uint32_t tree_id,
	const uint8_t id[16], struct smb_fact_file *ff)
{
	struct smb_file *fe = smb_file_find(st, id);
	struct smb_tree *t;

	memcpy(ff->file_id, id, 16);
	if (fe != NULL) {
		utf8_copy(ff->name, fe->name, sizeof(ff->name));
		ff->is_pipe = fe->is_pipe;
		tree_id = fe->tree_id;
	}
	t = smb_tree_find(st, tree_id);
	if (t != NULL)
		utf8_copy(ff->share, t->share, sizeof(ff->share));
}

/* Writes the last component of UNC <path> ("\\srv\ADMIN$") into <share>. */
void
smb_set_share(const char *path, char *share, size_t size)
{
	const char *last = strrchr(path, '\\');

	utf8_copy(share, last != NULL ? last + 1 : path, size);
}

/* ---- named pipes ---------------------------------------------------- */

/* Context of a DCE/RPC feed, to wrap its facts. */
struct rpc_feed {
	struct smb_run *run;
	struct smb_stream *s;
	enum smb_dir dir;
	const struct smb_forward *hdr;
	const struct smb_pipe *pipe;
};

static void
rpc_fact_wrap(void *ctx, const struct dcerpc_fact *rf)
{
	struct rpc_feed *rfd = ctx;
	struct smb_file **fe = file_link(rfd->run->st, rfd->pipe->file_id);
	char name[SMB_PIPE_NAME_MAX];
	struct smb_fact f;

	utf8_copy(name, fe != NULL ? (*fe)->name : "", sizeof(name));
	fact_begin_stream(rfd->run, rfd->s, rfd->dir, &f, SMB_FACT_DCERPC);
	f.version = rfd->hdr->version;
	f.command = rfd->hdr->command;
	f.status = rfd->hdr->status;
	f.message_id = rfd->hdr->message_id;
	f.session_id = rfd->hdr->session_id;
	f.tree_id = rfd->hdr->tree_id;
	f.u.dcerpc.rpc = rf;
	memcpy(f.u.dcerpc.file_id, rfd->pipe->file_id, 16);
	utf8_copy(f.u.dcerpc.pipe, name, sizeof(f.u.dcerpc.pipe));
	smb_fact_emit(rfd->run, &f);
}

/*
 * <len> bytes of a pipe's payload to its DCE/RPC parser: <data>, or NULL
 * for bytes lost in a hole of the TCP stream, which it passes over by
 * length.
 */
static void
pipe_feed(struct smb_run *run, struct smb_stream *s, enum smb_dir dir,
	const struct smb_forward *hdr, const uint8_t *data, uint32_t len)
{
	struct smb_pipe *pipe = hdr->pipe;
	struct rpc_feed rfd = {
		.run = run, .s = s, .dir = dir, .hdr = hdr, .pipe = pipe,
	};

	if (len == 0 || pipe == NULL)
		return;
	/* A PDU left in flight takes the association a buffer chunk. */
	if (pipe->conn.bodies == NULL)
		buffer_make_room(run->st);
	if (data == NULL) {
		dcerpc_conn_gap(&pipe->conn, dir == SMB_DIR_TO_CLIENT, len,
			run->ts_ns, rpc_fact_wrap, &rfd);
		return;
	}
	run->st->counters->pipe_bytes += len;
	dcerpc_conn_feed(&pipe->conn, dir == SMB_DIR_TO_CLIENT, data, len,
		run->ts_ns, rpc_fact_wrap, &rfd);
}

/*
 * Gives up the least recently used entries of files that are not pipes,
 * <count> at most, other than <keep>; returns how many went (counted).
 */
static unsigned int
files_give_up(struct smb_impl *st, uint32_t bytes,
	const struct smb_file *keep)
{
	unsigned int done = 0;
	uint32_t freed = 0;

	while (freed < bytes) {
		struct smb_file **victim = file_victim(st, true, keep);

		if (victim == NULL)
			break;
		freed += chunk_size(st->pool, (*victim)->cls);
		smb_file_remove(st, (*victim)->file_id);
		st->counters->file_evictions++;
		done++;
	}
	return done;
}

/*
 * Returns the pipe of file <fe>, starting one for it if it has none. When
 * the pool refuses, the names of files least recently used are given up
 * first (an RPC interface is worth more than a file name), then the least
 * recently used pipe's association; both counted. Returns NULL (counted)
 * when nothing could be.
 */
static struct smb_pipe *
pipe_of(struct smb_impl *st, struct smb_file *fe)
{
	struct smb_pipe *p = fe->pipe;
	struct smb_pipe **pp;

	if (p != NULL) {
		for (pp = &st->pipes; *pp != NULL && *pp != p;
		     pp = &(*pp)->next)
			;
		if (*pp != NULL) {
			MOVE_TO_FRONT(&st->pipes, pp);
			return p;
		}
		fe->pipe = NULL;	/* not ours: never so, but cheap to check */
	}
	p = entry_alloc(st, SMB_CHUNK_PIPE);
	/* Only this session's share helps: freed entries stay entries. */
	if (p == NULL && st->owner.limit != 0 &&
	    st->owner.bytes + SMB_CHUNK_PIPE_SIZE > st->owner.limit &&
	    files_give_up(st, SMB_CHUNK_PIPE_SIZE, fe) != 0)
		p = entry_alloc(st, SMB_CHUNK_PIPE);
	if (p == NULL && st->pipes != NULL) {
		pp = LIST_TAIL(&st->pipes);
		p = *pp;
		*pp = NULL;
		pipe_free(st, p, NULL);
		st->counters->pipe_evictions++;
		/* Freed, so the chunk is there to take again. */
		p = entry_alloc(st, SMB_CHUNK_PIPE);
	}
	if (p == NULL) {
		st->counters->table_refusals++;
		return NULL;
	}
	p->next = st->pipes;
	st->pipes = p;
	memcpy(p->file_id, fe->file_id, 16);
	dcerpc_conn_init(&p->conn);
	/* Contexts past the inline ones take entry chunks of the session,
	 * a PDU in flight a buffer chunk. */
	dcerpc_conn_set_memory(&p->conn, st->pool, SMB_CHUNK_ENTRY,
		SMB_CHUNK_BUFFER, &st->owner);
	fe->pipe = p;
	return p;
}

/*
 * Message <m> carries <count> bytes of payload at offset <off> from its
 * header, for file <id>. If the file is a named pipe the bytes go to its
 * DCE/RPC parser: those in the prefix buffer now, the rest as the stream
 * delivers them. Anything else is left to be skipped.
 */
void
smb_pipe_payload(struct smb_msg *m, const uint8_t id[16], uint32_t off,
	uint32_t count)
{
	struct smb_impl *st = m->run->st;
	struct smb_stream *s = m->s;
	struct smb_file *fe = smb_file_find(st, id);
	struct smb_forward hdr;
	uint32_t start, end, buf_end;

	if (count == 0)
		return;
	if (!smb_fits(m->msg_len, off, count)) {
		smb_error(m, SMB_ERR_BODY, "pipe payload beyond message");
		return;
	}
	if ((fe == NULL || (!fe->is_pipe &&
			    smb_tree_find(st, fe->tree_id) == NULL)) &&
	    m->dir == SMB_DIR_TO_SERVER && !smb_fits(m->len, off,
		min_u32(count, DCERPC_HEADER_LEN)))
		smb_prefix_cut(m);
	if ((fe == NULL || (!fe->is_pipe &&
			    smb_tree_find(st, fe->tree_id) == NULL)) &&
	    m->dir == SMB_DIR_TO_SERVER && off < m->len &&
	    dcerpc_looks_like_pdu(m->p + off, min_u32(count, m->len - off))) {
		/* The open was not seen (stream picked up later): a write of
		 * what parses as a DCE/RPC PDU makes the file a pipe. */
		char name[SMB_STORED_NAME_MAX];

		utf8_copy(name, fe != NULL ? fe->name : "", sizeof(name));
		fe = smb_file_add(st, id, m->tree_id, name, true);
	}
	if (fe == NULL || !fe->is_pipe)
		return;
	hdr.pipe = pipe_of(st, fe);
	if (hdr.pipe == NULL)
		return;
	hdr.version = m->version;
	hdr.command = m->command;
	hdr.status = m->status;
	hdr.tree_id = m->tree_id;
	hdr.message_id = m->message_id;
	hdr.session_id = m->session_id;
	start = m->rec_off + off;
	end = start + count;
	buf_end = m->rec_off + m->avail;
	if (start < buf_end)
		pipe_feed(m->run, s, m->dir, &hdr, m->p + off,
			min_u32(end, buf_end) - start);
	if (end <= buf_end)
		return;
	if (m->inflated) {
		/* The rest was not inflated: the pipe's parser misses it. */
		m->run->inflate_short = 1;
		return;
	}
	hdr.start = start > buf_end ? start : buf_end;
	hdr.end = end;
	s->fwd = hdr;
}

/* ---- framing -------------------------------------------------------- */

/* Starts searching for a record start; <lost> bytes were never seen. */
static void
stream_hunt(struct smb_stream *s, uint32_t lost)
{
	s->phase = SMB_PHASE_HUNT;
	s->hunt_window = 0;
	s->hunt_fill = 0;
	s->hunt_bytes = 0;
	s->lost_bytes = lost;
	s->synced = 0;
	s->fwd.end = s->fwd.start = 0;
}

static void
record_end(struct smb_stream *s)
{
	s->phase = SMB_PHASE_NBSS_HEADER;
	s->hdr_len = 0;
	s->fwd.start = s->fwd.end = 0;
}

/*
 * A compressed record is inflated from the bytes kept, so it keeps more
 * of them: called once the protocol id at the record's start is known.
 */
static void
record_magic_known(struct smb_stream *s)
{
	if (s->unit_off == 0 && s->buf[0] == 0xfc)
		s->buf_want = (uint16_t)min_u32(s->rec_len,
			SMB_COMPRESSED_PREFIX_MAX);
}

/* Starts collecting the message at record offset <off>. */
static void
unit_begin(struct smb_stream *s, uint32_t off)
{
	s->unit_off = off;
	s->buf_len = 0;
	s->buf_want = (uint16_t)min_u32(s->rec_len - off, SMB_RECORD_PREFIX_MAX);
	s->phase = SMB_PHASE_COLLECT;
}

static void
record_begin(struct smb_stream *s, uint8_t type, uint32_t len)
{
	s->nbss_type = type;
	s->rec_len = len;
	s->rec_off = 0;
	s->magic_checked = 0;
	s->chain_session = 0;
	s->chain_tree = 0;
	memset(s->chain_file, 0, sizeof(s->chain_file));
	s->compound_create = NULL;
	s->fwd.start = s->fwd.end = 0;
	if (len == 0)
		record_end(s);
	else
		unit_begin(s, 0);
}

static bool
smb_magic(const uint8_t *p)
{
	return (p[0] == 0xfe || p[0] == 0xff || p[0] == 0xfd ||
		p[0] == 0xfc) && p[1] == 'S' && p[2] == 'M' && p[3] == 'B';
}

static uint32_t
magic_min_len(uint8_t b)
{
	switch (b) {
	case 0xfe:
		return SMB2_HEADER_LEN;
	case 0xff:
		return SMB1_HEADER_LEN;
	case 0xfd:
		return SMB2_TRANSFORM_LEN;
	default:
		return SMB2_COMPRESSION_LEN;
	}
}

/* Parses an NBSS session service record other than a session message. */
static void
parse_nbss(struct smb_run *run, struct smb_stream *s, enum smb_dir dir)
{
	struct smb_fact f;

	switch (s->nbss_type) {
	case NBSS_SESSION_REQUEST:
		fact_begin_stream(run, s, dir, &f, SMB_FACT_NBSS_SESSION);
		f.u.nbss.type = s->nbss_type;
		if (s->buf_len < 68) {
			stream_error(run, s, dir, SMB_ERR_BODY,
				"nbss session request names");
			return;
		}
		smb_netbios_name(s->buf, 34, f.u.nbss.called,
			sizeof(f.u.nbss.called));
		smb_netbios_name(s->buf + 34, 34, f.u.nbss.calling,
			sizeof(f.u.nbss.calling));
		smb_fact_emit(run, &f);
		break;
	case NBSS_POSITIVE_RESPONSE:
	case NBSS_NEGATIVE_RESPONSE:
		fact_begin_stream(run, s, dir, &f, SMB_FACT_NBSS_SESSION);
		f.u.nbss.type = s->nbss_type;
		if (s->nbss_type == NBSS_NEGATIVE_RESPONSE && s->buf_len >= 1)
			f.u.nbss.error_code = s->buf[0];
		smb_fact_emit(run, &f);
		break;
	default:
		break;
	}
}

/* A sealed record (TRANSFORM, 0xFD): reported, never opened. */
static void
parse_sealed(struct smb_msg *m)
{
	struct smb_impl *st = m->run->st;
	struct smb_fact f;

	if (m->len < SMB2_TRANSFORM_LEN) {
		smb_error(m, SMB_ERR_HEADER, "transform header");
		return;
	}
	m->version = 2;
	st->counters->encrypted++;
	m->session_id = smb_le64(m->p + 44);
	smb_fact_begin(m, &f, SMB_FACT_ENCRYPTED);
	f.flags |= SMB_FACT_F_UNVERIFIABLE;
	f.u.transform.unverifiable = SMB_UNVERIFIABLE_SEALED;
	f.u.transform.original_size = smb_le32(m->p + 36);
	f.u.transform.algorithm = smb_le16(m->p + 42);
	f.u.transform.record_size = m->s->rec_len + 4;
	smb_fact_emit(m->run, &f);
}

/* Parses one message at record offset <off>; returns the next's offset. */
static uint32_t
parse_message(struct smb_msg *m)
{
	if (m->len < 4 || !smb_magic(m->p)) {
		smb_error(m, m->rec_off == 0 ? SMB_ERR_FRAMING : SMB_ERR_CHAIN,
			"protocol id");
		return m->s->rec_len;
	}
	switch (m->p[0]) {
	case 0xfe:
		return smb2_parse(m);
	case 0xff:
		return smb1_parse(m);
	case 0xfd:
		parse_sealed(m);
		return m->s->rec_len;
	default:
		smb_compressed(m);
		return m->s->rec_len;
	}
}

/* Parses the messages held in the prefix buffer; sets the next phase. */
static void
stream_parse(struct smb_run *run, struct smb_stream *s, enum smb_dir dir)
{
	for (;;) {
		struct smb_msg m;
		uint32_t next;

		memset(&m, 0, sizeof(m));
		m.run = run;
		m.s = s;
		m.dir = dir;
		m.p = s->buf;
		m.len = s->buf_len;
		m.avail = s->buf_len;
		m.rec_off = s->unit_off;
		m.msg_len = s->rec_len - s->unit_off;
		if (dir == SMB_DIR_TO_CLIENT)
			m.flags = SMB_FACT_F_RESPONSE;
		if (s->nbss_type != NBSS_SESSION_MESSAGE) {
			parse_nbss(run, s, dir);
			next = s->rec_len;
		} else {
			next = parse_message(&m);
		}
		if (next <= s->unit_off || next > s->rec_len)
			next = s->rec_len;
		if (next < s->unit_off + s->buf_len) {
			/* The next message of a compound already has bytes
			 * here: move them to the front and go on. */
			uint32_t keep = s->unit_off + s->buf_len - next;

			memmove(s->buf, s->buf + (next - s->unit_off), keep);
			unit_begin(s, next);
			s->buf_len = (uint16_t)keep;
			if (s->buf_len < s->buf_want)
				return;
			continue;
		}
		if (next == s->rec_len && s->rec_off == s->rec_len) {
			record_end(s);
		} else if (next == s->rec_off) {
			unit_begin(s, next);
		} else {
			/* Bulk data (or the rest of a long message) follows:
			 * pass over it by length, without copying. */
			s->next_unit = next;
			s->phase = SMB_PHASE_SKIP;
		}
		return;
	}
}

/* Passes <n> bytes in SKIP (data NULL for a gap), forwarding pipe bytes. */
static void
stream_skip(struct smb_run *run, struct smb_stream *s, enum smb_dir dir,
	const uint8_t *data, uint32_t n)
{
	uint32_t from = s->rec_off;
	uint32_t to = s->rec_off + n;

	if (s->fwd.end > s->fwd.start && from < s->fwd.end &&
	    to > s->fwd.start) {
		uint32_t a = from > s->fwd.start ? from : s->fwd.start;
		uint32_t b = to < s->fwd.end ? to : s->fwd.end;

		pipe_feed(run, s, dir, &s->fwd,
			data != NULL ? data + (a - from) : NULL, b - a);
	}
	run->st->counters->skipped_bytes += n;
	s->rec_off = to;
	if (s->rec_off < s->next_unit)
		return;
	s->fwd.start = s->fwd.end = 0;
	if (s->next_unit >= s->rec_len)
		record_end(s);
	else
		unit_begin(s, s->next_unit);
}

/* True if the 8 bytes in <w> (first byte most significant) can start a record. */
static bool
hunt_plausible(uint64_t w)
{
	uint8_t b[8];
	uint32_t len;
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(w >> (56 - 8 * i));
	if (b[0] != NBSS_SESSION_MESSAGE || !smb_magic(b + 4))
		return false;
	len = (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return len >= magic_min_len(b[4]);
}

/* Searches <len> bytes for a record start; returns bytes consumed. */
static uint32_t
stream_hunt_bytes(struct smb_run *run, struct smb_stream *s,
	enum smb_dir dir, const uint8_t *data, uint32_t len, uint32_t seq)
{
	struct smb_fact f;
	uint32_t i;

	for (i = 0; i < len; i++) {
		uint64_t window;
		uint32_t lost, hunted;

		s->hunt_window = s->hunt_window << 8 | data[i];
		s->hunt_fill++;
		s->hunt_bytes++;
		if (s->hunt_fill < 8 || !hunt_plausible(s->hunt_window))
			continue;
		i++;
		/* The record's chain state takes the hunt's place. */
		window = s->hunt_window;
		lost = s->lost_bytes;
		hunted = s->hunt_bytes - 8;
		run->st->counters->hunted_bytes += hunted;
		run->st->counters->resyncs++;
		s->rec_seq = seq + i - 8;
		record_begin(s, NBSS_SESSION_MESSAGE,
			(uint32_t)(window >> 32) & 0xffffff);
		s->magic_checked = 1;
		s->synced = 1;
		s->buf[0] = (uint8_t)(window >> 24);
		s->buf[1] = 'S';
		s->buf[2] = 'M';
		s->buf[3] = 'B';
		s->buf_len = 4;
		s->rec_off = 4;
		record_magic_known(s);
		fact_begin_stream(run, s, dir, &f, SMB_FACT_RESYNC);
		f.u.resync.gap_bytes = lost;
		f.u.resync.skipped_bytes = hunted;
		smb_fact_emit(run, &f);
		return i;
	}
	return len;
}

/* Consumes <len> new in-order bytes starting at sequence <seq>. */
static void
stream_input(struct smb_run *run, struct smb_stream *s, enum smb_dir dir,
	const uint8_t *data, uint32_t len, uint32_t seq)
{
	while (len > 0) {
		uint32_t n;

		switch (s->phase) {
		case SMB_PHASE_NBSS_HEADER:
			if (s->hdr_len == 0)
				s->rec_seq = seq;
			n = min_u32(4 - s->hdr_len, len);
			memcpy(s->hdr + s->hdr_len, data, n);
			s->hdr_len += n;
			break;
		case SMB_PHASE_COLLECT:
			n = min_u32(s->buf_want - s->buf_len, len);
			memcpy(s->buf + s->buf_len, data, n);
			s->buf_len += n;
			s->rec_off += n;
			break;
		case SMB_PHASE_SKIP:
			n = min_u32(s->next_unit - s->rec_off, len);
			stream_skip(run, s, dir, data, n);
			break;
		default:
			n = stream_hunt_bytes(run, s, dir, data, len, seq);
			break;
		}
		data += n;
		len -= n;
		seq += n;

		if (s->phase == SMB_PHASE_NBSS_HEADER && s->hdr_len == 4) {
			uint8_t type = s->hdr[0];
			uint32_t rlen = (uint32_t)s->hdr[1] << 16 |
				(uint32_t)s->hdr[2] << 8 | s->hdr[3];

			if (type == NBSS_SESSION_MESSAGE ||
			    (type >= NBSS_SESSION_REQUEST &&
			     type <= NBSS_KEEPALIVE && s->hdr[1] <= 1)) {
				run->st->counters->records++;
				if (type == NBSS_KEEPALIVE)
					run->st->counters->keepalives++;
				record_begin(s, type, rlen);
				if (rlen == 0 && type != NBSS_SESSION_MESSAGE)
					parse_nbss(run, s, dir);
			} else {
				if (s->synced)
					stream_error(run, s, dir,
						SMB_ERR_FRAMING,
						"nbss message type");
				stream_hunt(s, 0);
			}
			continue;
		}
		if (s->phase != SMB_PHASE_COLLECT)
			continue;
		if (!s->magic_checked && s->nbss_type == NBSS_SESSION_MESSAGE &&
		    s->buf_len >= min_u32(4, s->rec_len)) {
			s->magic_checked = 1;
			if (s->rec_len < 4 || !smb_magic(s->buf) ||
			    s->rec_len < magic_min_len(s->buf[0])) {
				if (s->synced)
					stream_error(run, s, dir,
						SMB_ERR_FRAMING, "protocol id");
				stream_hunt(s, 0);
				continue;
			}
			s->synced = 1;
			record_magic_known(s);
		}
		if (s->buf_len == s->buf_want)
			stream_parse(run, s, dir);
	}
}

/*
 * At the end of a feed call: a direction holding part of a message
 * prefix keeps it in a chunk until the rest comes; any other gives its
 * buffer back. When the pool refuses, the rest of the record is passed
 * over unread, reported and counted.
 */
static void
stream_hold(struct smb_run *run, struct smb_stream *s, enum smb_dir dir)
{
	struct smb_impl *st = run->st;
	uint8_t *p;

	if (s->phase != SMB_PHASE_COLLECT || s->buf_len == 0) {
		if (s->buf != scratch_prefix)
			buffer_free(st, s->buf);
		s->buf = NULL;
		return;
	}
	if (s->buf != scratch_prefix)
		return;
	buffer_make_room(st);
	p = buffer_alloc(st);
	if (p != NULL) {
		memcpy(p, scratch_prefix, s->buf_len);
		s->buf = p;
		return;
	}
	s->buf = NULL;
	stream_error(run, s, dir, SMB_ERR_NO_MEMORY, "prefix buffer");
	s->fwd.start = s->fwd.end = 0;
	s->next_unit = s->rec_len;
	s->phase = SMB_PHASE_SKIP;
}

/*
 * At the end of a feed call: the request a response took is not needed
 * past it, unless a compound's CREATE in a record still being read names
 * it (between records, or hunting, that pointer is dead: record_begin()
 * clears it).
 */
static void
taken_release(struct smb_impl *st)
{
	int i;

	for (i = 0; i < 2; i++)
		if (st->dir[i].compound_create == st->taken &&
		    (st->dir[i].phase == SMB_PHASE_COLLECT ||
		     st->dir[i].phase == SMB_PHASE_SKIP))
			return;
	pending_free(st, st->taken);
}

/* ---- API ------------------------------------------------------------ */

void
smb_chunk_params(struct chunk_pool_params *params)
{
	params->sizes[SMB_CHUNK_ENTRY] = SMB_CHUNK_ENTRY_SIZE;
	params->sizes[SMB_CHUNK_PIPE] = SMB_CHUNK_PIPE_SIZE;
	params->sizes[SMB_CHUNK_BUFFER] = SMB_CHUNK_BUFFER_SIZE;
	params->sizes[SMB_CHUNK_SMALL] = SMB_CHUNK_SMALL_SIZE;
	params->classes = SMB_CHUNK_CLASSES;
}

/*
 * Where sessions count unless their caller asks for their counters: one
 * per thread, summed over its sessions and read by nobody, so that the
 * data path keeps no counters per session (136 bytes each).
 */
static __thread struct smb_counters thread_counters;

void
smb_state_init(struct smb_state *state, struct chunk_pool *pool)
{
	struct smb_impl *st = impl_of(state);
	int i;

	/*
	 * Only what is read before it is written: a new session costs a few
	 * cache lines, not the whole state (which a new-flow storm would pay
	 * for every connection).
	 */
	memset(st, 0, offsetof(struct smb_impl, dir));
	st->pending_tail = &st->pending;
	st->counters = &thread_counters;
	st->pool = pool;
	chunk_owner_init(&st->owner, pool);
	for (i = 0; i < 2; i++) {
		memset(&st->dir[i], 0, offsetof(struct smb_stream, buf));
		st->dir[i].phase = SMB_PHASE_NBSS_HEADER;
		st->dir[i].buf = NULL;
	}
}

/* Frees every file of list <head>, each chunk of its class. */
static void
files_free(struct smb_impl *st, struct smb_file **head)
{
	struct smb_file *fe = *head;

	while (fe != NULL) {
		struct smb_file *next = fe->next;

		entry_free(st, fe->cls, fe);
		fe = next;
	}
	*head = NULL;
}

void
smb_state_release(struct smb_state *state)
{
	struct smb_impl *st = impl_of(state);
	struct smb_pipe *p;
	int i;

	if (st->taken != NULL)
		entry_free(st, SMB_CHUNK_ENTRY, st->taken);
	st->taken = NULL;
	LIST_FREE(st, &st->pending, SMB_CHUNK_ENTRY);
	st->pending_tail = &st->pending;
	LIST_FREE(st, &st->trees, SMB_CHUNK_SMALL);
	if (st->file_index != NULL) {
		for (i = 0; i < SMB_FILE_BUCKETS; i++)
			files_free(st, &st->file_index->head[i]);
		chunk_free(st->pool, SMB_CHUNK_ENTRY, &st->owner,
			st->file_index);
		st->file_index = NULL;
	}
	files_free(st, &st->files);
	st->file_count = 0;
	for (p = st->pipes; p != NULL; p = p->next)
		dcerpc_conn_release(&p->conn);
	LIST_FREE(st, &st->pipes, SMB_CHUNK_PIPE);
	for (i = 0; i < 2; i++) {
		struct smb_stream *s = &st->dir[i];

		s->compound_create = NULL;
		s->fwd.pipe = NULL;
		s->fwd.start = s->fwd.end = 0;
		/* The scratch buffer (a release from within a feed call)
		 * is left to the end of that call. */
		if (s->buf != NULL && s->buf != scratch_prefix) {
			/* A message prefix was held: the stream cannot go on
			 * from here, so it starts over with the next one. */
			buffer_free(st, s->buf);
			s->buf = NULL;
			if (s->phase == SMB_PHASE_COLLECT)
				stream_hunt(s, 0);
		}
	}
	smb_auth_end(st);
	smb1_offer_end(st);
}

void
smb_state_prefetch(const struct smb_state *state, enum smb_dir dir)
{
	const struct smb_impl *st = impl_of_const(state);
	const struct smb_stream *s = &st->dir[dir];

	/* The table heads; the entries are a pointer further. */
	__builtin_prefetch(st);
	__builtin_prefetch(s, 1);
	__builtin_prefetch((const uint8_t *)s + 64, 1);
	__builtin_prefetch(&s->fwd, 1);
	/* A message prefix held across segments: written, then read back. */
	if (s->buf != NULL)
		__builtin_prefetch(s->buf, 1);
}

/*
 * Bytes of a long message's body passed over by length (a READ's or a
 * WRITE's data), in order, none for a pipe and none reaching the body's
 * end: what stream_skip() would count, taken without a run. Most segments
 * of a file copy are these. Returns whether <len> bytes at <seq> were.
 */
static bool
skip_inside_body(struct smb_impl *st, struct smb_stream *s, uint32_t seq,
	size_t len)
{
	uint32_t to;

	if (s->phase != SMB_PHASE_SKIP || !s->seq_known ||
	    seq != s->next_seq || s->buf != NULL ||
	    len >= s->next_unit - s->rec_off)
		return false;
	to = s->rec_off + (uint32_t)len;
	if (s->fwd.end > s->fwd.start && s->rec_off < s->fwd.end &&
	    to > s->fwd.start)
		return false;
	st->counters->bytes += len;
	st->counters->skipped_bytes += len;
	s->rec_off = to;
	s->next_seq = seq + (uint32_t)len;
	if (st->taken != NULL)
		taken_release(st);
	return true;
}

/* <gap> bytes before the next ones fed were never seen. */
static void
stream_gap(struct smb_run *run, struct smb_stream *s, enum smb_dir dir,
	uint32_t gap)
{
	run->st->counters->gap_bytes += gap;
	if (s->phase == SMB_PHASE_COLLECT && s->synced && s->magic_checked &&
	    s->buf_len != 0 && s->nbss_type == NBSS_SESSION_MESSAGE) {
		/*
		 * Lost inside a message of a record whose length is known:
		 * what was collected is parsed as the prefix of a longer
		 * message (as one past SMB_RECORD_PREFIX_MAX is), so that its
		 * header and leading fields still count, and the rest is
		 * passed over below.
		 */
		s->buf_want = s->buf_len;
		stream_parse(run, s, dir);
	}
	if (s->phase == SMB_PHASE_SKIP && gap <= s->next_unit - s->rec_off) {
		/* Lost bytes we would have skipped anyway. */
		stream_skip(run, s, dir, NULL, gap);
	} else if (s->phase == SMB_PHASE_HUNT) {
		s->hunt_fill = 0;
		s->lost_bytes += gap;
	} else {
		stream_hunt(s, gap);
	}
}

int
smb_feed(struct smb_state *state, enum smb_dir dir, uint32_t seq,
	const uint8_t *data, size_t len, uint64_t ts_ns,
	smb_fact_fn fn, void *ctx)
{
	struct smb_impl *st;
	struct smb_stream *s;
	struct smb_run run;
	int32_t delta;

	if (state == NULL || (dir != SMB_DIR_TO_SERVER &&
	    dir != SMB_DIR_TO_CLIENT) || (data == NULL && len != 0))
		return -EINVAL;
	st = impl_of(state);
	s = &st->dir[dir];
	if (len != 0 && skip_inside_body(st, s, seq, len))
		return 0;
	run.st = st;
	run.fn = fn;
	run.ctx = ctx;
	run.ts_ns = ts_ns;
	run.inflate_short = 0;
	run.inflate_partial = 0;
	if (s->buf == NULL)
		s->buf = scratch_prefix;

	/* Only a position: the bytes before <seq> are known to be lost. */
	if (len == 0 && s->seq_known && (int32_t)(seq - s->next_seq) > 0) {
		stream_gap(&run, s, dir, seq - s->next_seq);
		s->next_seq = seq;
	}
	while (len > 0) {
		/* Feed at most 1 GiB at a time so sequence arithmetic holds. */
		uint32_t chunk = len > (1u << 30) ? (1u << 30) : (uint32_t)len;

		if (!s->seq_known) {
			s->next_seq = seq;
			s->seq_known = 1;
		}
		delta = (int32_t)(seq - s->next_seq);
		if (delta < 0) {
			uint32_t dup = (uint32_t)-(int64_t)delta;

			if (dup >= chunk) {
				st->counters->retransmitted_bytes += chunk;
				goto next_chunk;
			}
			st->counters->retransmitted_bytes += dup;
			data += dup;
			len -= dup;
			chunk -= dup;
			seq += dup;
		} else if (delta > 0) {
			stream_gap(&run, s, dir, (uint32_t)delta);
		}
		st->counters->bytes += chunk;
		stream_input(&run, s, dir, data, chunk, seq);
		s->next_seq = seq + chunk;
next_chunk:
		data += chunk;
		len -= chunk;
		seq += chunk;
	}
	stream_hold(&run, s, dir);
	if (st->taken != NULL)
		taken_release(st);
	return 0;
}

void
smb_state_set_counters(struct smb_state *state, struct smb_counters *counters)
{
	impl_of(state)->counters = counters != NULL ? counters :
		&thread_counters;
}

void
smb_state_counters(const struct smb_state *state, struct smb_counters *out)
{
	const struct smb_counters *k = impl_of_const(state)->counters;

	if (k == &thread_counters)
		memset(out, 0, sizeof(*out));
	else
		*out = *k;
}

int
smb_looks_like_smb(const uint8_t *data, size_t len)
{
	if (data == NULL || len < 4)
		return 0;
	if (data[0] == NBSS_SESSION_REQUEST && data[1] <= 1)
		return 1;
	return len >= 8 && data[0] == NBSS_SESSION_MESSAGE &&
		smb_magic(data + 4);
}

const char *
smb_command_name(uint8_t version, uint16_t command)
{
	static const char *const smb2_names[SMB2_COMMAND_COUNT] = {
		"NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT",
		"TREE_DISCONNECT", "CREATE", "CLOSE", "FLUSH", "READ",
		"WRITE", "LOCK", "IOCTL", "CANCEL", "ECHO",
		"QUERY_DIRECTORY", "CHANGE_NOTIFY", "QUERY_INFO",
		"SET_INFO", "OPLOCK_BREAK",
	};

	if (version != 1)
		return command < SMB2_COMMAND_COUNT ? smb2_names[command] : "?";
	switch (command) {
	case SMB1_COM_CLOSE:
		return "CLOSE";
	case SMB1_COM_TRANSACTION:
		return "TRANSACTION";
	case SMB1_COM_READ_ANDX:
		return "READ_ANDX";
	case SMB1_COM_WRITE_ANDX:
		return "WRITE_ANDX";
	case SMB1_COM_TREE_DISCONNECT:
		return "TREE_DISCONNECT";
	case SMB1_COM_NEGOTIATE:
		return "NEGOTIATE";
	case SMB1_COM_SESSION_SETUP_ANDX:
		return "SESSION_SETUP_ANDX";
	case SMB1_COM_LOGOFF_ANDX:
		return "LOGOFF_ANDX";
	case SMB1_COM_TREE_CONNECT_ANDX:
		return "TREE_CONNECT_ANDX";
	case SMB1_COM_NT_CREATE_ANDX:
		return "NT_CREATE_ANDX";
	default:
		return "?";
	}
}

const char *
smb_fact_type_name(enum smb_fact_type type)
{
	switch (type) {
	case SMB_FACT_COMMAND:
		return "command";
	case SMB_FACT_NBSS_SESSION:
		return "nbss";
	case SMB_FACT_NEGOTIATE:
		return "negotiate";
	case SMB_FACT_LOGON:
		return "logon";
	case SMB_FACT_LOGOFF:
		return "logoff";
	case SMB_FACT_TREE_CONNECT:
		return "tree_connect";
	case SMB_FACT_TREE_DISCONNECT:
		return "tree_disconnect";
	case SMB_FACT_CREATE:
		return "create";
	case SMB_FACT_CLOSE:
		return "close";
	case SMB_FACT_READ:
		return "read";
	case SMB_FACT_WRITE:
		return "write";
	case SMB_FACT_IOCTL:
		return "ioctl";
	case SMB_FACT_ENCRYPTED:
		return "encrypted";
	case SMB_FACT_COMPRESSED:
		return "compressed";
	case SMB_FACT_DCERPC:
		return "dcerpc";
	case SMB_FACT_RESYNC:
		return "resync";
	case SMB_FACT_ERROR:
		return "error";
	}
	return "?";
}

const char *
smb_error_name(enum smb_error reason)
{
	static const char *const names[SMB_ERR_COUNT] = {
		"none", "framing", "header", "body", "prefix_exceeded",
		"chain", "security_blob", "no_memory",
	};

	return (unsigned int)reason < SMB_ERR_COUNT ? names[reason] : "?";
}

const char *
smb_unverifiable_name(enum smb_unverifiable reason)
{
	static const char *const names[SMB_UNVERIFIABLE_COUNT] = {
		"none", "sealed", "algorithm", "corrupt", "size", "budget",
	};

	return (unsigned int)reason < SMB_UNVERIFIABLE_COUNT ?
		names[reason] : "?";
}

/*
 * TREE_DISCONNECT, the same in SMB1 and SMB2: a fact naming the tree's
 * share, and the tree forgotten once the server has agreed.
 */
void
smb_tree_disconnect(struct smb_msg *m, bool response)
{
	struct smb_tree *t = smb_tree_find(m->run->st, m->tree_id);
	struct smb_fact f;

	smb_fact_begin(m, &f, SMB_FACT_TREE_DISCONNECT);
	if (t != NULL) {
		utf8_copy(f.u.tree.share, t->share, sizeof(f.u.tree.share));
		f.u.tree.share_type = t->share_type;
		f.u.tree.is_ipc = t->is_ipc;
		if (response && m->status == SMB_STATUS_SUCCESS)
			smb_tree_remove(m->run->st, m->tree_id);
	}
	smb_fact_emit(m->run, &f);
}
