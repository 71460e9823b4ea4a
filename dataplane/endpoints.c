/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints.h"

/* Reader retries while a writer is busy with the entry, then gives up:
 * the entry is being replaced, so a miss is a truthful answer. */
#define READ_RETRIES	4

/* One cache line. seq is odd while the owner writes the entry. */
struct endpoint_entry {
	uint32_t seq;
	uint16_t port;
	uint8_t ip_version;	/* 0: free */
	uint8_t pad;
	uint64_t expires_ns;
	uint8_t addr[16];
	uint8_t iface_uuid[16];
	uint16_t iface_ver_major;
	uint8_t pad2[14];
};

_Static_assert(sizeof(struct endpoint_entry) == 64,
	"an endpoint entry is one cache line");

struct endpoint_table {
	struct endpoint_entry *entries;
	uint32_t bucket_mask;
	struct endpoint_counters counters;
} __attribute__((aligned(64)));

struct endpoint_registry {
	unsigned int count;
	uint64_t expiry_ns;
	/* One bit per port: in a dynamic range. */
	uint64_t dynamic[65536 / 64];
	struct endpoint_table tables[];
};

const struct endpoint_port_range endpoint_default_ranges[2] = {
	{ 49152, 65535 },
	{ 1024, 5000 },
};

struct endpoint_registry *
endpoint_registry_create(unsigned int tables, uint32_t entries,
			 uint64_t expiry_ns,
			 const struct endpoint_port_range *ranges,
			 unsigned int range_count)
{
	struct endpoint_registry *reg;
	uint32_t buckets = 1;
	unsigned int i;

	if (tables == 0 || tables > ENDPOINT_TABLES_MAX || entries == 0 ||
	    entries > (1u << 24) || range_count > ENDPOINT_RANGES_MAX ||
	    (range_count > 0 && ranges == NULL)) {
		errno = EINVAL;
		return NULL;
	}
	while (buckets * ENDPOINT_BUCKET_WAYS < entries)
		buckets <<= 1;
	reg = calloc(1, sizeof(*reg) + tables * sizeof(reg->tables[0]));
	if (reg == NULL)
		return NULL;
	reg->count = tables;
	reg->expiry_ns = expiry_ns;
	for (i = 0; i < range_count; i++) {
		uint32_t p;

		for (p = ranges[i].first; p <= ranges[i].last && p <= 65535;
		     p++)
			reg->dynamic[p / 64] |= 1ull << (p % 64);
	}
	for (i = 0; i < tables; i++) {
		struct endpoint_table *t = &reg->tables[i];

		if (posix_memalign((void **)&t->entries, 64,
				   (size_t)buckets * ENDPOINT_BUCKET_WAYS *
				   sizeof(*t->entries)) != 0) {
			endpoint_registry_free(reg);
			errno = ENOMEM;
			return NULL;
		}
		memset(t->entries, 0, (size_t)buckets * ENDPOINT_BUCKET_WAYS *
		       sizeof(*t->entries));
		t->bucket_mask = buckets - 1;
	}
	return reg;
}

void
endpoint_registry_free(struct endpoint_registry *reg)
{
	unsigned int i;

	if (reg == NULL)
		return;
	for (i = 0; i < reg->count; i++)
		free(reg->tables[i].entries);
	free(reg);
}

static size_t
addr_len(uint8_t ip_version)
{
	return ip_version == 4 ? 4 : 16;
}

static uint32_t
bucket_of(const struct endpoint_table *t, const uint8_t addr[16],
	  uint8_t ip_version, uint16_t port)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ port;
	size_t i, n = addr_len(ip_version);

	for (i = 0; i < n; i++) {
		h ^= addr[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (uint32_t)h & t->bucket_mask;
}

static bool
entry_is(const struct endpoint_entry *e, const uint8_t addr[16],
	 uint8_t ip_version, uint16_t port)
{
	return e->ip_version == ip_version && e->port == port &&
	       memcmp(e->addr, addr, addr_len(ip_version)) == 0;
}

/* The owner's write: readers see an odd sequence until it is done. */
static void
entry_write(struct endpoint_entry *e, const uint8_t addr[16],
	    uint8_t ip_version, uint16_t port, const uint8_t *iface,
	    uint16_t ver, uint64_t expires_ns)
{
	uint32_t seq = __atomic_load_n(&e->seq, __ATOMIC_RELAXED);

	__atomic_store_n(&e->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->ip_version = ip_version;
	e->port = port;
	memset(e->addr, 0, sizeof(e->addr));
	memcpy(e->addr, addr, addr_len(ip_version));
	if (iface != NULL)
		memcpy(e->iface_uuid, iface, sizeof(e->iface_uuid));
	else
		memset(e->iface_uuid, 0, sizeof(e->iface_uuid));
	e->iface_ver_major = ver;
	e->expires_ns = expires_ns;
	__atomic_store_n(&e->seq, seq + 2, __ATOMIC_RELEASE);
}

enum endpoint_learn_result
endpoint_learn(struct endpoint_registry *reg, unsigned int table,
	       const uint8_t addr[16], uint8_t ip_version, uint16_t port,
	       const uint8_t *iface_uuid, uint16_t iface_ver_major,
	       uint64_t now_ns)
{
	struct endpoint_table *t;
	struct endpoint_entry *bucket, *victim;
	struct endpoint_entry *free_way = NULL, *expired = NULL, *oldest = NULL;
	uint64_t expires = now_ns + reg->expiry_ns;
	unsigned int i;

	if (reg == NULL || table >= reg->count || addr == NULL ||
	    (ip_version != 4 && ip_version != 6) || port == 0)
		return ENDPOINT_REFUSED;
	t = &reg->tables[table];
	bucket = &t->entries[(size_t)bucket_of(t, addr, ip_version, port) *
			     ENDPOINT_BUCKET_WAYS];
	for (i = 0; i < ENDPOINT_BUCKET_WAYS; i++) {
		struct endpoint_entry *e = &bucket[i];

		if (e->ip_version == 0) {
			if (free_way == NULL)
				free_way = e;
		} else if (entry_is(e, addr, ip_version, port)) {
			/* An answer without an interface (DCOM) does not
			 * forget the one the endpoint mapper named. */
			static const uint8_t zero[16];
			bool keep = iface_uuid == NULL ||
				    memcmp(iface_uuid, zero, 16) == 0;

			entry_write(e, addr, ip_version, port,
				    keep ? e->iface_uuid : iface_uuid,
				    keep ? e->iface_ver_major : iface_ver_major,
				    expires);
			t->counters.renewed++;
			return ENDPOINT_RENEWED;
		} else if (e->expires_ns <= now_ns) {
			if (expired == NULL)
				expired = e;
		} else if (oldest == NULL || e->expires_ns < oldest->expires_ns) {
			oldest = e;
		}
	}
	victim = free_way != NULL ? free_way :
		 expired != NULL ? expired : oldest;
	entry_write(victim, addr, ip_version, port, iface_uuid,
		    iface_ver_major, expires);
	t->counters.learned++;
	if (victim == oldest) {
		t->counters.evicted++;
		return ENDPOINT_EVICTED;
	}
	return ENDPOINT_LEARNED;
}

/* Copies <e> consistently into <out>; false if it kept changing. */
static bool
entry_read(const struct endpoint_entry *e, struct endpoint_entry *out)
{
	unsigned int i;

	for (i = 0; i < READ_RETRIES; i++) {
		uint32_t before = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

		if (before & 1)
			continue;
		memcpy(out, e, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == before)
			return true;
	}
	return false;
}

static bool
table_lookup(const struct endpoint_table *t, const uint8_t addr[16],
	     uint8_t ip_version, uint16_t port, uint64_t now_ns,
	     struct endpoint_info *info)
{
	const struct endpoint_entry *bucket;
	unsigned int i;

	bucket = &t->entries[(size_t)bucket_of(t, addr, ip_version, port) *
			     ENDPOINT_BUCKET_WAYS];
	for (i = 0; i < ENDPOINT_BUCKET_WAYS; i++) {
		struct endpoint_entry copy;

		/* A cheap look first: most ways hold other endpoints. */
		if (__atomic_load_n(&bucket[i].port, __ATOMIC_RELAXED) != port)
			continue;
		if (!entry_read(&bucket[i], &copy))
			continue;
		if (copy.ip_version == 0 ||
		    !entry_is(&copy, addr, ip_version, port) ||
		    copy.expires_ns <= now_ns)
			continue;
		if (info != NULL) {
			memcpy(info->iface_uuid, copy.iface_uuid, 16);
			info->iface_ver_major = copy.iface_ver_major;
			info->expires_ns = copy.expires_ns;
		}
		return true;
	}
	return false;
}

bool
endpoint_lookup(struct endpoint_registry *reg, unsigned int table,
		const uint8_t addr[16], uint8_t ip_version, uint16_t port,
		uint64_t now_ns, struct endpoint_info *info)
{
	unsigned int n, i;

	if (reg == NULL || table >= reg->count || addr == NULL ||
	    (ip_version != 4 && ip_version != 6))
		return false;
	for (n = 0; n < reg->count; n++) {
		i = (table + n) % reg->count;
		if (table_lookup(&reg->tables[i], addr, ip_version, port,
				 now_ns, info)) {
			if (info != NULL)
				info->table = i;
			reg->tables[table].counters.hits++;
			return true;
		}
	}
	return false;
}

bool
endpoint_port_dynamic(const struct endpoint_registry *reg, uint16_t port)
{
	return reg != NULL && (reg->dynamic[port / 64] >> (port % 64)) & 1;
}

void
endpoint_counters_get(const struct endpoint_registry *reg, unsigned int table,
		      struct endpoint_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (reg != NULL && table < reg->count)
		*out = reg->tables[table].counters;
}

uint32_t
endpoint_count(const struct endpoint_registry *reg, unsigned int table,
	       uint64_t now_ns)
{
	const struct endpoint_table *t;
	uint32_t n = 0;
	size_t i;

	if (reg == NULL || table >= reg->count)
		return 0;
	t = &reg->tables[table];
	for (i = 0; i < ((size_t)t->bucket_mask + 1) * ENDPOINT_BUCKET_WAYS;
	     i++)
		if (t->entries[i].ip_version != 0 &&
		    t->entries[i].expires_ns > now_ns)
			n++;
	return n;
}

unsigned int
endpoint_table_count(const struct endpoint_registry *reg)
{
	return reg != NULL ? reg->count : 0;
}
