-- Pktgen-DPDK script for smbgw on a real rig (docs/benchmarks-rig.md):
-- Pktgen port 0 -> gateway port A, gateway port B -> Pktgen port 1.
-- Runs 64-byte non-SMB TCP over 1,000 flows at line rate, then, when
-- Pktgen was started with captures (-s 0:FILE -s 1:FILE, see
-- pcap-replay.pkt), replays them; for each it prints frames sent and
-- received per second. Run it once against the gateway and once against
-- `dpdk-testpmd --forward-mode=io` on the same ports: the ratio is the
-- figure that matters.
--
--   pktgen -l 0-4 -n 4 -a PCI0 -a PCI1 -- -P -m "[1:2].0,[3:4].1" \
--       [-s 0:smbmix.port0.pcap -s 1:smbmix.port1.pcap] -f tests/bench/pktgen/bench.lua
package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local seconds = 10		-- measured time per case
local warmup = 2		-- not measured: the gateway's tables fill

local function totals()
	local s = pktgen.portStats("all", "port")
	local tx = s[0].opackets + s[1].opackets
	local rx = s[0].ipackets + s[1].ipackets
	return tx, rx
end

local function measure(name, ports)
	pktgen.clr()
	pktgen.start(ports)
	pktgen.delay(warmup * 1000)
	local tx0, rx0 = totals()
	pktgen.delay(seconds * 1000)
	local tx1, rx1 = totals()
	pktgen.stop(ports)
	pktgen.delay(500)
	printf("RESULT case=%s tx_mpps=%.3f rx_mpps=%.3f\n", name,
		(tx1 - tx0) / seconds / 1e6, (rx1 - rx0) / seconds / 1e6)
end

-- 64-byte established non-SMB TCP, 1,000 clients (as tcp64.pkt).
pktgen.set("all", "count", 0)
pktgen.set("all", "rate", 100)
pktgen.set("all", "burst", 32)
pktgen.set_type("0", "ipv4")
pktgen.set_proto("0", "tcp")
pktgen.set("0", "size", 64)
pktgen.set_ipaddr("0", "src", "10.0.0.1/14")
pktgen.set_ipaddr("0", "dst", "198.18.2.20")
pktgen.set("0", "sport", 1024)
pktgen.set("0", "dport", 80)
pktgen.range.src_ip("0", "start", "10.0.0.1")
pktgen.range.src_ip("0", "min", "10.0.0.1")
pktgen.range.src_ip("0", "max", "10.0.3.232")
pktgen.range.src_ip("0", "inc", "0.0.0.1")
pktgen.range.dst_ip("0", "start", "198.18.2.20")
pktgen.range.dst_ip("0", "min", "198.18.2.20")
pktgen.range.dst_ip("0", "max", "198.18.2.20")
pktgen.range.dst_ip("0", "inc", "0.0.0.0")
pktgen.range.pkt_size("0", "start", 64)
pktgen.range.pkt_size("0", "min", 64)
pktgen.range.pkt_size("0", "max", 64)
pktgen.range.pkt_size("0", "inc", 0)
pktgen.set_range("0", "on")
measure("tcp64", "0")
pktgen.set_range("0", "off")

-- Captures given with -s: IMIX or the SMB session mix (pcap-replay.pkt).
if pktgen.pcap ~= nil then
	pktgen.pcap("all", "on")
	measure("pcap", "all")
	pktgen.pcap("all", "off")
end
