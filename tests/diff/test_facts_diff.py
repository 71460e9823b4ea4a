#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The differential's own logic on made-up input, without tshark: a
disagreement must count, each normalisation must do only what it says,
and a fragmented call must count once."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import smb_diff  # noqa: E402
import smb_facts_diff as fd  # noqa: E402

CONN = fd.conn_key("198.18.1.10", "50000", "198.18.2.20", "445")
SVCCTL = fd.SVCCTL_UUID


def fact(kind, response=False, **kw):
    f = {"conn": "0", "fact": kind, "ver": kw.pop("ver", "2"),
         "flags": kw.pop("flags", "0x0001" if response else "0x0000"),
         "status": kw.pop("status", "0x00000000")}
    f.update(kw)
    return f


def ours(*facts):
    return fd.parser_facts(list(facts), {"0": CONN})


def frame(**layers):
    return dict(layers)


def smb2_msg(cmd, body, response=False, fid=None):
    msg = {"SMB2 Header": {
        "smb2.cmd": str(cmd), "smb2.nt_status": "0x00000000",
        "smb2.flags_tree": {"smb2.flags.response":
                            "1" if response else "0"}}}
    msg["Body"] = dict(body)
    if fid:
        msg["Body"]["smb2.fid"] = fid
    return msg


def rpc_pdu(ptype, first_frag=True, **kw):
    pdu = {"dcerpc.pkt_type": str(ptype),
           "dcerpc.cn_flags_tree": {
               "dcerpc.cn_flags.first_frag": "1" if first_frag else "0"}}
    pdu.update(kw)
    return pdu


def theirs(*frames):
    tf = fd.TsharkFacts()
    for layers in frames:
        tf.frame(layers, CONN)
    return tf.facts


class Agreement(unittest.TestCase):
    def test_equal_multisets_agree(self):
        t = theirs(frame(smb2=smb2_msg(3, {"smb2.tree": "\\\\S\\data"})))
        o = ours(fact("tree_connect", path="\\\\S\\data"))
        self.assertEqual(fd.compare(t, o)["tree"][:2], (1, 1))

    def test_count_difference_is_a_disagreement(self):
        t = theirs(frame(smb2=smb2_msg(3, {"smb2.tree": "\\\\S\\data"})))
        o = ours(fact("tree_connect", path="\\\\S\\data"),
                 fact("tree_connect", path="\\\\S\\data"))
        agree, total, diffs, _ = fd.compare(t, o)["tree"]
        self.assertEqual((agree, total), (1, 2))
        self.assertEqual(diffs, [(CONN, "\\\\S\\DATA", 1, 2)])

    def test_frame_connections(self):
        rec = {"ip.src": ["198.18.2.20"], "ip.dst": ["198.18.1.10"],
               "ipv6.src": [], "ipv6.dst": [],
               "tcp.srcport": ["445"], "tcp.dstport": ["50000"]}
        self.assertEqual(smb_diff.frame_connections({7: rec}), {7: CONN})

    def test_other_connection_is_not_the_same_fact(self):
        t = theirs(frame(smb2=smb2_msg(5, {"smb2.filename": "a.txt"})))
        o = fd.parser_facts([fact("create", name="a.txt")], {
            "0": fd.conn_key("198.18.1.11", "50000", "198.18.2.20", "445")})
        self.assertEqual(fd.compare(t, o)["open"][:2], (0, 2))


class Compressed(unittest.TestCase):
    def test_message_below_a_compression_transform(self):
        inner = smb2_msg(3, {"smb2.tree": "\\\\S\\ADMIN$"})
        outer = {"SMB2 Compression Transform Header": {
            "smb2.protocol_id": "0xfc534d42",
            "Decompressed SMB3 data": {"smb2": inner}}}
        t = theirs(frame(smb2=outer))
        o = ours(fact("tree_connect", path="\\\\S\\ADMIN$"))
        self.assertEqual(fd.compare(t, o)["tree"][:2], (1, 1))


class Normalisation(unittest.TestCase):
    def test_share_case_and_nul(self):
        self.assertEqual(fd.norm_tree("\\\\srv\\Data\x00"),
                         fd.norm_tree("\\\\SRV\\data"))

    def test_file_names_keep_their_case(self):
        t = theirs(frame(smb2=smb2_msg(5, {"smb2.filename": "A.txt"})))
        o = ours(fact("create", name="a.txt"))
        self.assertEqual(fd.compare(t, o)["open"][:2], (0, 2))

    def test_empty_create_name(self):
        t = theirs(frame(smb2=smb2_msg(5, {})))
        o = ours(fact("create", name=""))
        self.assertEqual(fd.compare(t, o)["open"][:2], (1, 1))

    def test_smb1_names_as_tshark_prints_them(self):
        self.assertEqual(fd.smb1_as_tshark("\\\u0444a\u00f1.txt"),
                         "\\?a\ufffd.txt")
        t = theirs(frame(smb={
            "SMB Header": {"smb.cmd": "0xa2", "smb.nt_status": "0x0",
                           "smb.flags_tree": {"smb.flags.response": "0"}},
            "NT Create AndX Request (0xa2)": {"smb.file": "\\?x.txt"}}))
        right = ours(fact("create", ver="1", name="\\\u0444x.txt"))
        wrong = ours(fact("create", ver="1", name="\\\u0444y.txt"))
        self.assertEqual(fd.compare(t, right)["open"][:2], (1, 1))
        self.assertEqual(fd.compare(t, wrong)["open"][:2], (0, 2))

    def test_truncated_name_needs_a_longer_partner(self):
        long_name = "d" * 300 + "\\x.exe"
        cut = long_name[:120] + fd.ELISION + long_name[-130:]
        t = theirs(frame(smb2=smb2_msg(5, {"smb2.filename": long_name})))
        good = ours(fact("create", name=cut, flags="0x0020"))
        bad = ours(fact("create", name=cut.replace("x.exe", "y.exe"),
                        flags="0x0020"))
        unflagged = ours(fact("create", name=cut))
        self.assertEqual(fd.compare(t, good)["open"][:2], (1, 1))
        self.assertEqual(fd.compare(t, good)["open"][3], 1)
        self.assertEqual(fd.compare(t, bad)["open"][:2], (0, 2))
        self.assertEqual(fd.compare(t, unflagged)["open"][:2], (0, 2))

    def test_null_user(self):
        self.assertEqual(fd.norm_user("NULL", "NULL"), "\\")
        self.assertNotEqual(fd.norm_user("LAB", "root"),
                            fd.norm_user("LAB", "Root"))

    def test_unknown_interface_only_matches_unknown(self):
        t = theirs(frame(dcerpc=rpc_pdu(0, **{"dcerpc.cn_ctx_id": "0",
                                              "dcerpc.opnum": "15"})))
        zero = ours(fact("dcerpc", rpc="6", iface=fd.ZERO_UUID,
                         opnum="15"))
        known = ours(fact("dcerpc", rpc="6", iface=SVCCTL, opnum="15"))
        self.assertEqual(fd.compare(t, zero)["call"][:2], (1, 1))
        self.assertEqual(fd.compare(t, known)["call"][:2], (0, 2))


class Calls(unittest.TestCase):
    def bind(self, fid, uuid):
        item = {"dcerpc.cn_ctx_id": "0", "dcerpc.cn_bind_abstract_syntax":
                {"dcerpc.cn_bind_to_uuid": uuid}}
        return frame(smb2=smb2_msg(9, {}, fid=fid),
                     dcerpc=rpc_pdu(11, **{"dcerpc.cn_ctx_item": item}))

    def request(self, fid, opnum, first_frag=True):
        return frame(smb2=smb2_msg(11, {}, fid=fid), dcerpc=rpc_pdu(
            0, first_frag, **{"dcerpc.cn_ctx_id": "0",
                              "dcerpc.opnum": str(opnum)}))

    def test_context_is_per_pipe(self):
        srvsvc = "4b324fc8-1670-01d3-1278-5a47bf6ee188"
        t = theirs(self.bind("f1", SVCCTL), self.bind("f2", srvsvc),
                   self.request("f1", 15), self.request("f2", 15))
        self.assertEqual(dict(t[CONN]["call"]), {
            SVCCTL + ":15": 1, srvsvc + ":15": 1})
        self.assertEqual(dict(t[CONN]["bind"]), {SVCCTL: 1, srvsvc: 1})

    def test_fragmented_call_counts_once(self):
        t = theirs(self.bind("f1", SVCCTL), self.request("f1", 12),
                   self.request("f1", 12, first_frag=False))
        self.assertEqual(dict(t[CONN]["call"]), {SVCCTL + ":12": 1})

    def test_frame_opnums_at_last_fragment(self):
        rec = {"dcerpc.opnum": ["2", "2"], "dcerpc.pkt_type": ["2", "2"],
               "dcerpc.cn_flags.last_frag": ["0", "1"]}
        self.assertEqual(smb_diff.complete_call_opnums(rec), [2])
        rec["dcerpc.cn_flags.last_frag"] = ["0", "0"]
        self.assertEqual(smb_diff.complete_call_opnums(rec), [])


class Dialects(unittest.TestCase):
    def test_smb1_name_from_offer(self):
        neg = {"SMB Header": {"smb.cmd": "0x72",
                              "smb.nt_status": "0x00000000",
                              "smb.flags_tree": {"smb.flags.response": "0"}},
               "Negotiate Protocol Request (0x72)": {
                   "smb.dialect.name": ["NT LANMAN 1.0", "NT LM 0.12"]}}
        resp = {"SMB Header": {"smb.cmd": "0x72",
                               "smb.nt_status": "0x00000000",
                               "smb.flags_tree": {
                                   "smb.flags.response": "1"}},
                "Negotiate Protocol Response (0x72)": {
                    "smb.dialect.index": "1"}}
        t = theirs(frame(smb=neg), frame(smb=resp))
        o = ours(fact("negotiate", response=True, ver="1", chosen="0x0001"))
        self.assertEqual(fd.compare(t, o)["dialect"][:2], (1, 1))
        other = ours(fact("negotiate", response=True, ver="1",
                          chosen="0x0000"))
        self.assertEqual(fd.compare(t, other)["dialect"][:2], (0, 2))


class DecodeAs(unittest.TestCase):
    def test_smb_off_port(self):
        lines = ["connection conn=0 kind=smb client=198.18.1.10 cport=1"
                 " server=198.18.2.20 sport=8445",
                 "connection conn=1 kind=smb client=198.18.1.10 cport=2"
                 " server=198.18.2.20 sport=445",
                 "connection conn=2 kind=dcerpc client=198.18.1.10 cport=3"
                 " server=198.18.2.20 sport=49152"]
        self.assertEqual(smb_diff.decode_as_rules(lines),
                         ["tcp.port==8445,nbss"])


if __name__ == "__main__":
    unittest.main()
