#!/usr/bin/python3
"""DCE/RPC over TCP the way Windows clients reach a domain controller: ask
the endpoint mapper (TCP 135, ept_map) where an interface listens, connect
to the dynamic port it names, bind with NTLMSSP authentication and call.

usage: rpc_tcp_client.py HOST DOMAIN USER PASSWORD

samr: SamrConnect, SamrEnumerateDomainsInSamServer, SamrLookupDomainInSamServer,
SamrOpenDomain, SamrEnumerateUsersInDomain; lsarpc: LsarOpenPolicy2."""
import sys

from impacket.dcerpc.v5 import epm, lsad, lsat, samr, transport
from impacket.dcerpc.v5.rpcrt import RPC_C_AUTHN_LEVEL_PKT_INTEGRITY
from impacket.dcerpc.v5.dtypes import MAXIMUM_ALLOWED


def connect(host, uuid, domain, user, password):
	binding = epm.hept_map(host, uuid, protocol='ncacn_ip_tcp')
	print('ept_map:', binding)
	rpc = transport.DCERPCTransportFactory(binding)
	rpc.set_credentials(user, password, domain)
	dce = rpc.get_dce_rpc()
	# Integrity (signed, readable stubs), so that the calls can be
	# compared with a dissector; Windows often seals (privacy) instead.
	dce.set_auth_level(RPC_C_AUTHN_LEVEL_PKT_INTEGRITY)
	dce.connect()
	dce.bind(uuid)
	return dce


def main():
	host, domain, user, password = sys.argv[1:5]
	dce = connect(host, samr.MSRPC_UUID_SAMR, domain, user, password)
	server = samr.hSamrConnect(dce)['ServerHandle']
	for d in samr.hSamrEnumerateDomainsInSamServer(dce, server)['Buffer']['Buffer']:
		print('samr: domain', d['Name'])
	sid = samr.hSamrLookupDomainInSamServer(dce, server, domain)['DomainId']
	handle = samr.hSamrOpenDomain(dce, server, domainId=sid)['DomainHandle']
	for u in samr.hSamrEnumerateUsersInDomain(dce, handle)['Buffer']['Buffer']:
		print('samr: user', u['Name'])
	dce.disconnect()

	# Samba refuses LsarOpenPolicy2 outside named pipes (an access-denied
	# fault); the bind, the authentication and the call are on the wire.
	dce = connect(host, lsat.MSRPC_UUID_LSAT, domain, user, password)
	try:
		lsad.hLsarOpenPolicy2(dce, MAXIMUM_ALLOWED | lsat.POLICY_LOOKUP_NAMES)
	except Exception as e:
		print('lsarpc:', e)
	dce.disconnect()


if __name__ == '__main__':
	main()
