/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "affinity.h"
#include "decode.h"
#include "frag.h"
#include "inspect.h"
#include "worker.h"

#define WORKER_BURST_MAX 256
/* Pieces of one re-fragmented datagram: its fragments were at most 8. */
#define REFRAGMENT_MAX 64

static void
drop_frames(struct port_counters *port, enum drop_reason reason,
	struct rte_mbuf **pkts, uint16_t count)
{
	port->drops[reason] += count;
	rte_pktmbuf_free_bulk(pkts, count);
}

static void
transmit(struct worker *worker, const struct worker_link *link,
	struct port_counters *port, struct rte_mbuf **pkts, uint16_t count)
{
	uint16_t sent = 0;
	unsigned int attempt;
	uint64_t bytes = 0;
	uint16_t i;

	for (attempt = 0; attempt <= worker->tx_retries && sent < count;
			attempt++)
		sent += rte_eth_tx_burst(link->tx_port, link->tx_queue,
			pkts + sent, count - sent);
	for (i = 0; i < sent; i++)
		bytes += pkts[i]->pkt_len;
	port->tx += sent;
	port->tx_bytes += bytes;
	if (sent < count)
		drop_frames(port, DROP_TX_FULL, pkts + sent, count - sent);
}

/* Frames received and forwarded as they are. */
static void
forward_frames(struct worker *worker, const struct worker_link *link,
	struct port_counters *port, struct rte_mbuf **pkts, uint16_t count)
{
	if (count == 0)
		return;
	if (link->transmit)
		transmit(worker, link, port, pkts, count);
	else
		drop_frames(port, DROP_RECEIVE_ONLY, pkts, count);
}

uint64_t
worker_now_ns(const struct worker *worker)
{
	uint64_t cycles = rte_rdtsc() - worker->start_tsc;

	return worker->start_ns +
		(uint64_t)((double)cycles * 1e9 / (double)worker->tsc_hz);
}

/*
 * Sends frames the gateway made (TCP resets) out of <port_id>; on a
 * receive-only link, or when the queue is full, they are freed and
 * counted unsent.
 */
static void
send_generated(const struct worker_link *link, struct port_counters *port,
	uint16_t port_id, uint16_t queue, struct rte_mbuf **frames,
	uint16_t count)
{
	uint16_t sent = 0;

	if (count == 0)
		return;
	if (link->transmit)
		sent = rte_eth_tx_burst(port_id, queue, frames, count);
	port->resets_sent += sent;
	port->resets_unsent += count - sent;
	if (sent < count)
		rte_pktmbuf_free_bulk(frames + sent, count - sent);
}

/*
 * A reassembled datagram <m> (decoded in <frame>) with verdict <verdict>:
 * dropped, its fragments counted with the reason; or fragmented again and
 * sent in order, its fragments counted reassembled and the pieces apart.
 */
static void
send_datagram(struct worker *worker, const struct worker_link *link,
	struct port_counters *port, struct rte_mbuf *m,
	const struct decoded_frame *frame, const struct frag_datagram *d,
	uint8_t verdict)
{
	struct rte_mbuf *pieces[REFRAGMENT_MAX];
	unsigned int attempt;
	uint16_t sent = 0;
	int count;

	if (verdict == DROP_REASON_MAX && !link->transmit)
		verdict = DROP_RECEIVE_ONLY;
	if (verdict == DROP_REASON_MAX) {
		count = frag_refragment(m, frame, d, link->pool, pieces,
			REFRAGMENT_MAX);
		if (count < 0)
			verdict = count == -ENOMEM ? DROP_FRAG_NO_BUFFER :
				DROP_FRAG_INVALID;
	}
	if (verdict != DROP_REASON_MAX) {
		port->drops[verdict] += d->fragments;
		rte_pktmbuf_free(m);
		return;
	}
	port->reassembled += d->fragments;
	for (attempt = 0; attempt <= worker->tx_retries && sent < count;
			attempt++)
		sent += rte_eth_tx_burst(link->tx_port, link->tx_queue,
			pieces + sent, count - sent);
	port->refragmented_sent += sent;
	port->refragmented_unsent += count - sent;
	if (sent < count)
		rte_pktmbuf_free_bulk(pieces + sent, count - sent);
}

/*
 * Takes the burst's TCP fragments into the link's table; returns whether
 * a completed datagram may concern inspection.
 */
static bool
take_fragments(struct worker *worker, const struct worker_link *link,
	struct port_counters *port, struct rte_mbuf **pkts,
	struct decoded_frame *frames, uint8_t *verdicts, uint16_t count,
	const uint64_t *ts_ns, struct frag_burst *datagrams)
{
	bool enforce = worker->inspector == NULL ||
		inspector_enforcing(worker->inspector);
	bool inspect = false;
	uint16_t i;

	frag_take(link->frag, pkts, frames, verdicts, count, ts_ns,
		worker->now_ns, enforce, port, datagrams);
	if (worker->port_flags == NULL)
		return false;
	for (i = 0; i < datagrams->count; i++) {
		uint16_t slot = datagrams->datagrams[i].slot;

		inspect |= inspect_maybe_candidate(worker->port_flags,
			pkts[slot], &frames[slot]);
	}
	return inspect;
}

/*
 * The verdicts of a burst in which datagrams were completed: each leaves
 * (or is dropped) in its place, after the frames that arrived before it.
 */
static void __attribute__((noinline))
dispatch_with_datagrams(struct worker *worker, const struct worker_link *link,
	struct port_counters *port, struct rte_mbuf **pkts,
	const struct decoded_frame *frames, const uint8_t *verdicts,
	uint16_t count, const struct frag_burst *datagrams)
{
	struct rte_mbuf *forward[WORKER_BURST_MAX];
	uint16_t forward_count = 0, next = 0, i;

	for (i = 0; i < count; i++) {
		if (next < datagrams->count &&
				datagrams->datagrams[next].slot == i) {
			forward_frames(worker, link, port, forward,
				forward_count);
			forward_count = 0;
			send_datagram(worker, link, port, pkts[i], &frames[i],
				&datagrams->datagrams[next++], verdicts[i]);
		} else if (verdicts[i] == DROP_REASON_MAX) {
			forward[forward_count++] = pkts[i];
		} else if (verdicts[i] != FRAG_VERDICT_TAKEN) {
			drop_frames(port, verdicts[i], &pkts[i], 1);
		}
	}
	forward_frames(worker, link, port, forward, forward_count);
}

void
worker_flush_fragments(struct worker *worker)
{
	unsigned int i;

	for (i = 0; i < worker->link_count; i++) {
		const struct worker_link *link = &worker->links[i];

		if (link->frag != NULL)
			frag_flush(link->frag,
				&worker->counters.port[link->rx_index]);
	}
}

/*
 * The pipeline for frames of link <link_index>: received from its queue
 * (<received>: rx counted here) or handed over by the worker that
 * received them (counted there).
 */
static inline __attribute__((always_inline)) void
handle_frames(struct worker *worker, unsigned int link_index,
	struct rte_mbuf **pkts, uint16_t count, const uint64_t *ts_ns,
	bool received)
{
	const struct worker_link *link = &worker->links[link_index];
	struct port_counters *port = &worker->counters.port[link->rx_index];
	struct decoded_frame frames[WORKER_BURST_MAX];
	uint8_t verdicts[WORKER_BURST_MAX];
	struct rte_mbuf *forward[WORKER_BURST_MAX];
	uint16_t forward_count = 0;
	struct inspect_generated generated;
	/* Fragments are rare: the decoder's count says if any came. */
	uint64_t fragmented = worker->counters.decode.fragmented;
	struct frag_burst datagrams;
	bool inspect = false;
	uint16_t i;

	if (received)
		port->rx += count;
	else
		port->redirected_in += count;
	for (i = 0; i < count; i++) {
		struct rte_mbuf *m = pkts[i];

		if (received)
			port->rx_bytes += m->pkt_len;
		/* Headers sit in the first segment; later stages walk the chain. */
		decode_frame(rte_pktmbuf_mtod(m, const uint8_t *),
			m->data_len, &frames[i], &worker->counters.decode);
		verdicts[i] = unlikely(m->pkt_len > worker->max_frame) ?
			DROP_OVERSIZE : DROP_REASON_MAX;
		/* Bursts with no SMB candidate skip inspection altogether. */
		if (worker->port_flags != NULL)
			inspect |= inspect_maybe_candidate(worker->port_flags,
				m, &frames[i]);
	}
	datagrams.count = 0;
	if (unlikely(worker->counters.decode.fragmented != fragmented) &&
			link->frag != NULL)
		inspect |= take_fragments(worker, link, port, pkts, frames,
			verdicts, count, ts_ns, &datagrams);
	if (inspect) {
		generated.to_peer_count = generated.to_origin_count = 0;
		inspector_process(worker->inspector, pkts, frames, count,
			ts_ns, worker->now_ns, verdicts, &generated);
	}
	if (unlikely(datagrams.count > 0)) {
		dispatch_with_datagrams(worker, link, port, pkts, frames,
			verdicts, count, &datagrams);
	} else {
		for (i = 0; i < count; i++) {
			if (likely(verdicts[i] == DROP_REASON_MAX))
				forward[forward_count++] = pkts[i];
			else if (verdicts[i] != FRAG_VERDICT_TAKEN)
				drop_frames(port, verdicts[i], &pkts[i], 1);
		}
		forward_frames(worker, link, port, forward, forward_count);
	}
	if (inspect && (generated.to_peer_count | generated.to_origin_count)) {
		send_generated(link, port, link->tx_port, link->tx_queue,
			generated.to_peer, generated.to_peer_count);
		send_generated(link, port, link->rx_port, link->rx_queue,
			generated.to_origin, generated.to_origin_count);
	}
	if (link->frag != NULL && port->held > 0)
		frag_expire(link->frag, ts_ns != NULL ? ts_ns[count - 1] :
			worker->now_ns, port);
}

/*
 * Kept a call of its own under link-time optimisation: a call a burst
 * costs nothing, and the callgrind gate measures the pipeline as this
 * function's inclusive cost.
 */
__rte_noinline void
worker_handle_burst(struct worker *worker, unsigned int link_index,
	struct rte_mbuf **pkts, uint16_t count, const uint64_t *ts_ns)
{
	handle_frames(worker, link_index, pkts, count, ts_ns, true);
}

/*
 * Hands the frames of <pkts>[0..<count>), received on link <link_index>,
 * whose flows other workers own to those workers' redirect rings, and
 * keeps the rest in order at the front of <pkts>; returns how many are
 * kept. A frame that finds its owner's ring full is dropped and counted.
 */
static uint16_t __attribute__((noinline))
redirect_foreign(struct worker *worker, unsigned int link_index,
	struct rte_mbuf **pkts, uint16_t count)
{
	const struct worker_link *link = &worker->links[link_index];
	struct port_counters *port = &worker->counters.port[link->rx_index];
	struct rte_mbuf *foreign[WORKER_BURST_MAX], *batch[WORKER_BURST_MAX];
	uint8_t owners[WORKER_BURST_MAX];
	uint64_t destinations = 0;	/* peer_count <= 64 (gateway.workers) */
	uint16_t kept = 0, foreign_count = 0, i;

	for (i = 0; i < count; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t hash = affinity_hash(rte_pktmbuf_mtod(m,
			const uint8_t *), m->data_len);
		unsigned int owner = hash == AFFINITY_ANY_WORKER ? worker->id :
			affinity_worker(hash, worker->peer_count);

		if (owner == worker->id) {
			pkts[kept++] = m;
			continue;
		}
		destinations |= 1ull << owner;
		owners[foreign_count] = (uint8_t)owner;
		foreign[foreign_count++] = m;
		port->rx++;
		port->rx_bytes += m->pkt_len;
	}
	while (destinations != 0) {
		unsigned int owner = (unsigned int)__builtin_ctzll(destinations);
		uint16_t n = 0, sent;

		destinations &= destinations - 1;
		for (i = 0; i < foreign_count; i++)
			if (owners[i] == owner)
				batch[n++] = foreign[i];
		sent = (uint16_t)rte_ring_mp_enqueue_burst(
			worker->peers[owner]->links[link_index].redirect_in,
			(void **)batch, n, NULL);
		port->redirected_out += sent;
		if (sent < n)
			drop_frames(port, DROP_REDIRECT_FULL, batch + sent,
				n - sent);
	}
	return kept;
}

/*
 * Frames whose flows this worker owns, handed over by the others: up to
 * one burst per link, through the same pipeline as its own.
 */
static void
take_redirected(struct worker *worker, uint16_t burst)
{
	struct rte_mbuf *pkts[WORKER_BURST_MAX];
	unsigned int i;

	for (i = 0; i < worker->link_count; i++) {
		uint16_t count = (uint16_t)rte_ring_sc_dequeue_burst(
			worker->links[i].redirect_in, (void **)pkts, burst,
			NULL);

		if (count > 0)
			handle_frames(worker, i, pkts, count, NULL, false);
	}
}

void
worker_drop_redirected(struct worker *worker)
{
	struct rte_mbuf *pkts[WORKER_BURST_MAX];
	unsigned int i, count;

	for (i = 0; i < worker->link_count; i++) {
		const struct worker_link *link = &worker->links[i];
		struct port_counters *port =
			&worker->counters.port[link->rx_index];

		if (link->redirect_in == NULL)
			continue;
		while ((count = rte_ring_sc_dequeue_burst(link->redirect_in,
				(void **)pkts, WORKER_BURST_MAX, NULL)) > 0) {
			port->redirected_in += count;
			drop_frames(port, DROP_REDIRECT_STOPPED, pkts,
				(uint16_t)count);
		}
	}
}

/*
 * A worker stuck on purpose, as a worker caught in a loop or a driver call
 * would be: no heartbeat, no frames, until released or stopped.
 */
static void __rte_noinline
worker_stall(const struct worker *worker, const volatile bool *stall)
{
	while (*stall && !*worker->stop)
		rte_pause();
}

int
worker_main(void *arg)
{
	static const volatile bool never;
	struct worker *worker = arg;
	const volatile bool *stall = worker->stall != NULL ? worker->stall :
		&never;
	struct rte_mbuf *pkts[WORKER_BURST_MAX];
	uint16_t burst = RTE_MIN(worker->burst_size, WORKER_BURST_MAX);
	uint64_t start;
	unsigned int i;

	if (worker->inspector != NULL)
		inspector_online(worker->inspector);
	while (!*worker->stop) {
		__atomic_store_n(&worker->heartbeat, worker->heartbeat + 1,
			__ATOMIC_RELAXED);
		if (unlikely(*stall))
			worker_stall(worker, stall);
		/* One clock read a pass serves every burst and the ageing. */
		worker->now_ns = worker_now_ns(worker);
		for (i = 0; i < worker->link_count; i++) {
			const struct worker_link *link = &worker->links[i];
			uint16_t count = rte_eth_rx_burst(link->rx_port,
				link->rx_queue, pkts, burst);

			worker->counters.polls++;
			if (count == 0)
				continue;
			worker->counters.bursts++;
			start = rte_rdtsc();
			if (worker->peers != NULL)
				count = redirect_foreign(worker, i, pkts, count);
			if (count > 0)
				worker_handle_burst(worker, i, pkts, count, NULL);
			worker->counters.busy_cycles += rte_rdtsc() - start;
		}
		if (worker->peers != NULL) {
			start = rte_rdtsc();
			take_redirected(worker, burst);
			worker->counters.busy_cycles += rte_rdtsc() - start;
		}
		if (worker->inspector != NULL)
			inspector_expire(worker->inspector, worker->now_ns);
		/* Datagrams time out on idle links too. */
		for (i = 0; i < worker->link_count; i++) {
			const struct worker_link *link = &worker->links[i];
			struct port_counters *port =
				&worker->counters.port[link->rx_index];

			if (link->frag != NULL && port->held > 0)
				frag_expire(link->frag, worker->now_ns, port);
		}
	}
	/* What the others handed over before they saw the stop. */
	if (worker->peers != NULL)
		take_redirected(worker, burst);
	worker_flush_fragments(worker);
	if (worker->inspector != NULL) {
		inspector_flush(worker->inspector);
		inspector_offline(worker->inspector);
	}
	return 0;
}
