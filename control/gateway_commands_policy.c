/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's commands on the running policy: segments, rules
 * and policy check.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway_pvt.h"
#include "policy_config.h"

int
gateway_cmd_segments(void *arg, const struct ctl_request *req,
	struct ctl_reply *r)
{
	struct gateway *gw = arg;
	const struct policy_spec *spec = gw->policy_spec;
	unsigned int id, i, v;
	char text[64];

	(void)req;
	ctl_reply_array_begin(r, "segments");
	for (id = 0; id <= spec->segment_count; id++) {
		ctl_reply_object_begin(r, NULL);
		ctl_reply_u64(r, "id", id);
		ctl_reply_str(r, "name", spec->segments[id].name);
		ctl_reply_array_begin(r, "prefixes");
		for (i = 0; i < spec->prefix_count; i++) {
			if (spec->prefixes[i].segment != id)
				continue;
			policy_config_format_prefix(&spec->prefixes[i], text,
				sizeof(text));
			ctl_reply_str(r, NULL, text);
		}
		ctl_reply_array_end(r);
		ctl_reply_array_begin(r, "vlans");
		for (v = 1; v < POLICY_VLAN_IDS; v++)
			if (spec->vlan_segment[v] == id && id != 0)
				ctl_reply_u64(r, NULL, v);
		ctl_reply_array_end(r);
		ctl_reply_object_end(r);
	}
	ctl_reply_array_end(r);
	return 0;
}

static const char *
segment_or_any(const struct policy_spec *spec, uint16_t id)
{
	return id == POLICY_SEGMENT_ANY ? "any" : spec->segments[id].name;
}

int
gateway_cmd_rules(void *arg, const struct ctl_request *req,
	struct ctl_reply *r)
{
	struct gateway *gw = arg;
	const struct policy_spec *spec = gw->policy_spec;
	unsigned int i;

	(void)req;
	ctl_reply_str(r, "mode", policy_mode_name(spec->mode));
	ctl_reply_str(r, "default_action",
		policy_action_name(spec->default_action));
	ctl_reply_str(r, "unverifiable_action",
		policy_unverifiable_name(spec->unverifiable_action ==
			POLICY_UNVERIFIABLE_DEFAULT ? POLICY_UNVERIFIABLE_DENY :
			spec->unverifiable_action));
	ctl_reply_array_begin(r, "rules");
	for (i = 0; i < spec->rule_count; i++) {
		const struct policy_rule_spec *rule = &spec->rules[i];

		ctl_reply_object_begin(r, NULL);
		ctl_reply_u64(r, "rule", i + 1);
		ctl_reply_str(r, "name", rule->name);
		ctl_reply_str(r, "from", segment_or_any(spec, rule->from));
		ctl_reply_str(r, "to", segment_or_any(spec, rule->to));
		ctl_reply_str(r, "action", policy_action_name(rule->action));
		if (rule->unverifiable_action != POLICY_UNVERIFIABLE_DEFAULT)
			ctl_reply_str(r, "unverifiable_action",
				policy_unverifiable_name(
					rule->unverifiable_action));
		ctl_reply_bool(r, "conditional", rule->dialects != 0 ||
			rule->share_classes != 0 || rule->pipe_classes != 0 ||
			rule->file_classes != 0 || rule->nonstandard_port >= 0 ||
			rule->encrypted != POLICY_ENCRYPTED_ANY ||
			rule->rpc_count != 0);
		ctl_reply_u64(r, "line", (uint64_t)rule->line);
		ctl_reply_object_end(r);
	}
	ctl_reply_array_end(r);
	return 0;
}

static int
parse_address(const char *text, uint8_t addr[16], uint8_t *ip_version)
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, text, addr) == 1) {
		*ip_version = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr) == 1) {
		*ip_version = 6;
		return 0;
	}
	return -EINVAL;
}

/* policy check SRC DST [PORT]: which rule decides, and what it does. */
int
gateway_cmd_policy_check(void *arg, const struct ctl_request *req,
	struct ctl_reply *r)
{
	struct gateway *gw = arg;
	const struct policy *pol = policy_current(gw->parts.policy);
	uint8_t src[16], dst[16], src_version, dst_version;
	uint16_t src_segment, dst_segment;
	struct policy_verdict v;

	if (req->argc < 2 || req->argc > 3)
		return ctl_reply_error(r, -EINVAL,
			"usage: policy check SRC DST [PORT]");
	if (parse_address(req->argv[0], src, &src_version) != 0 ||
			parse_address(req->argv[1], dst, &dst_version) != 0 ||
			src_version != dst_version)
		return ctl_reply_error(r, -EINVAL,
			"SRC and DST must be IPv4 or IPv6 addresses of one family");
	if (req->argc == 3 && (atoi(req->argv[2]) <= 0 ||
			atoi(req->argv[2]) > 65535))
		return ctl_reply_error(r, -EINVAL, "PORT must be 1 to 65535");
	src_segment = policy_segment_of(pol, src_version, src, 0);
	dst_segment = policy_segment_of(pol, dst_version, dst, 0);
	v = policy_pair_verdict(pol, src_segment, dst_segment);
	ctl_reply_str(r, "src_segment", policy_segment_name(pol, src_segment));
	ctl_reply_str(r, "dst_segment", policy_segment_name(pol, dst_segment));
	ctl_reply_u64(r, "rule", v.rule);
	ctl_reply_str(r, "rule_name", v.rule == 0 ? "default_action" :
		gw->policy_spec->rules[v.rule - 1].name);
	ctl_reply_str(r, "verdict", policy_action_name(v.action));
	ctl_reply_bool(r, "blocks", (v.flags & POLICY_VERDICT_BLOCK) != 0);
	ctl_reply_bool(r, "resets", (v.flags & POLICY_VERDICT_RESET) != 0);
	ctl_reply_bool(r, "smb_conditions",
		(v.flags & POLICY_VERDICT_SMB_RULES) != 0);
	if (v.flags & POLICY_VERDICT_SMB_RULES) {
		/* What an SMB 3.1.1 session sealed after its logon gets. */
		struct policy_smb_facts sealed = {
			.dialect = POLICY_DIALECT_3_1_1,
			.encrypted = true,
		};
		struct policy_verdict u = policy_unverifiable_verdict(pol,
			src_segment, dst_segment, &sealed);

		ctl_reply_str(r, "sealed_session",
			policy_action_name(u.action));
		ctl_reply_u64(r, "sealed_session_rule", u.rule);
		ctl_reply_bool(r, "sealed_session_unverifiable",
			(u.flags & POLICY_VERDICT_UNVERIFIABLE) != 0);
	}
	{
		/* What SMB over QUIC to the port (443 by default) gets. */
		bool unverifiable;
		struct policy_verdict q = policy_quic_verdict(pol, src_segment,
			dst_segment, req->argc == 3 ?
			(uint16_t)atoi(req->argv[2]) : POLICY_QUIC_PORT,
			&unverifiable);

		ctl_reply_str(r, "smb_over_quic", policy_action_name(q.action));
		ctl_reply_bool(r, "smb_over_quic_blocks",
			(q.flags & POLICY_VERDICT_BLOCK) != 0);
		ctl_reply_bool(r, "smb_over_quic_unverifiable", unverifiable);
	}
	ctl_reply_bool(r, "smb_conditions_block",
		(v.flags & POLICY_VERDICT_SMB_BLOCKS) != 0);
	ctl_reply_str(r, "mode", policy_mode_name(policy_mode(pol)));
	if (req->argc == 3)
		ctl_reply_str(r, "port_note", atoi(req->argv[2]) == 445 ||
			atoi(req->argv[2]) == 139 || atoi(req->argv[2]) == 135 ?
			"an SMB or RPC port" :
			"the policy applies here to SMB or DCE/RPC found by content");
	return 0;
}
