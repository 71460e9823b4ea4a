/* SPDX-License-Identifier: BSD-3-Clause */
#include <inttypes.h>
#include <string.h>

#include <rte_ethdev.h>

#include "stats.h"
#include "worker.h"

void
stats_sum(struct worker_counters *total, struct worker *const *workers,
	unsigned int worker_count)
{
	unsigned int i;

	memset(total, 0, sizeof(*total));
	for (i = 0; i < worker_count; i++)
		worker_counters_add(total, &workers[i]->counters);
}

bool
stats_print(FILE *out, const char *title, const struct worker_counters *total,
	const char *const *names, unsigned int port_count)
{
	const struct decode_counters *d = &total->decode;
	bool balanced = true;
	unsigned int i, r;

	fprintf(out, "== %s ==\n", title);
	fprintf(out, "%-18s %12s %12s", "port", "rx", "tx");
	for (r = 0; r < DROP_REASON_MAX; r++)
		fprintf(out, " %12s", drop_reason_name(r));
	fprintf(out, " %10s\n", "rx=tx+drop");

	for (i = 0; i < port_count; i++) {
		const struct port_counters *p = &total->port[i];
		bool ok = p->rx == p->tx + port_counters_drops(p);

		balanced = balanced && ok;
		fprintf(out, "%-18s %12" PRIu64 " %12" PRIu64, names[i],
			p->rx, p->tx);
		for (r = 0; r < DROP_REASON_MAX; r++)
			fprintf(out, " %12" PRIu64, p->drops[r]);
		fprintf(out, " %10s\n", ok ? "ok" : "MISMATCH");
	}
	fprintf(out,
		"decoded: vlan %" PRIu64 " qinq %" PRIu64 " arp %" PRIu64
		" ipv4 %" PRIu64 " ipv6 %" PRIu64 " other_l3 %" PRIu64
		" tcp %" PRIu64 " udp %" PRIu64 " other_l4 %" PRIu64
		" fragments %" PRIu64 " malformed %" PRIu64 "\n",
		d->vlan, d->qinq, d->arp, d->ipv4, d->ipv6, d->other_l3,
		d->tcp, d->udp, d->other_l4, d->ip_fragments, d->malformed);
	fflush(out);
	return balanced;
}

void
stats_print_devices(FILE *out, const uint16_t *port_ids,
	const char *const *names, unsigned int port_count)
{
	unsigned int i;

	for (i = 0; i < port_count; i++) {
		struct rte_eth_stats s;

		if (rte_eth_stats_get(port_ids[i], &s) != 0)
			continue;
		fprintf(out,
			"device %s: ipackets %" PRIu64 " opackets %" PRIu64
			" imissed %" PRIu64 " ierrors %" PRIu64
			" oerrors %" PRIu64 " rx_nombuf %" PRIu64 "\n",
			names[i], s.ipackets, s.opackets, s.imissed,
			s.ierrors, s.oerrors, s.rx_nombuf);
	}
	fflush(out);
}
