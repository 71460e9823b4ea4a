#!/usr/bin/env python3
"""Checks an EVE log (JSON lines) written by smbgw.

  eve_check.py EVE.json valid
      every line is a JSON object with timestamp and event_type
  eve_check.py EVE.json alerts
      prints "SIGNATURE_ID SRC DEST" for every new alert (update false)
  eve_check.py EVE.json alert SIGNATURE_ID KEY=VALUE...
      exits 0 if a new alert of SIGNATURE_ID has every KEY=VALUE, where KEY
      is a dotted path (smb.share, smb.ntlmssp.user, smb.filename, src_ip)
      and VALUE may end in '*' to match a prefix or start with '*' for a
      suffix
  eve_check.py EVE.json count EVENT_TYPE
      prints how many records of EVENT_TYPE there are
  eve_check.py EVE.json schema SCHEMA.json [KEY...]
      every record (with KEYs: every record having one of these dotted
      keys) is valid against Suricata's EVE schema with
      additionalProperties relaxed to true: fields Suricata defines keep
      its names and types, our own fields are allowed (and documented in
      docs/detection.md); needs python3-jsonschema
  eve_check.py EVE.json own SCHEMA.json DOC.md
      every field that Suricata's schema does not define (smbgw's own) is
      named, in backquotes, in DOC.md; prints the own fields found
  eve_check.py EVE.json flows
      every flow_id is below 2^51; every record of a flow (same flow_id)
      has the same addresses and ports as its flow record, and a
      timestamp no earlier than its flow.start; prints the flows checked
"""
import json
import sys


def records(path):
    with open(path) as f:
        for number, line in enumerate(f, 1):
            try:
                record = json.loads(line)
            except ValueError as error:
                sys.exit("%s:%d: not JSON: %s" % (path, number, error))
            if not isinstance(record, dict) or "timestamp" not in record \
                    or "event_type" not in record:
                sys.exit("%s:%d: not an EVE record" % (path, number))
            yield record


def lookup(record, dotted):
    value = record
    for key in dotted.split("."):
        # A number steps into a list: dcerpc.interfaces.0.service
        if isinstance(value, list) and key.isdigit():
            if int(key) >= len(value):
                return None
            value = value[int(key)]
            continue
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def matches(value, wanted):
    text = str(value)
    if wanted.endswith("*"):
        return text.startswith(wanted[:-1])
    if wanted.startswith("*"):
        return text.endswith(wanted[1:])
    return text == wanted


def new_alerts(path):
    return [r for r in records(path) if r["event_type"] == "alert"
            and not r["alert"].get("update", False)]


def relaxed(node):
    """The schema with every additionalProperties: false made true."""
    if isinstance(node, dict):
        return {k: (True if k == "additionalProperties" and v is False
                    else relaxed(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [relaxed(v) for v in node]
    return node


def check_schema(path, schema_path, keys):
    from jsonschema import Draft202012Validator
    with open(schema_path) as f:
        validator = Draft202012Validator(relaxed(json.load(f)))
    bad = 0
    count = 0
    for number, record in enumerate(records(path), 1):
        if keys and all(lookup(record, k) is None for k in keys):
            continue
        count += 1
        for error in validator.iter_errors(record):
            bad += 1
            print("%s:%d: %s at %s" % (path, number, error.message,
                  "/".join(str(p) for p in error.absolute_path)))
    if bad:
        return 1
    print("%d records valid" % count)
    return 0


def own_fields(record, schema, root, prefix=""):
    """Dotted paths of the members of <record> that <schema> does not define."""
    found = set()
    if "$ref" in schema:
        node = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    if isinstance(record, dict):
        props = schema.get("properties", {})
        for key, value in record.items():
            path = prefix + key
            if key not in props:
                found.add(path)
                continue
            found |= own_fields(value, props[key], root, path + ".")
    elif isinstance(record, list) and isinstance(schema.get("items"), dict):
        for item in record:
            found |= own_fields(item, schema["items"], root, prefix)
    return found


def check_own(path, schema_path, doc_path):
    with open(schema_path) as f:
        schema = json.load(f)
    with open(doc_path) as f:
        doc = f.read()
    own = set()
    for record in records(path):
        own |= own_fields(record, schema, schema)
    missing = sorted(p for p in own if "`%s`" % p.split(".")[-1] not in doc
                     and "`%s`" % p not in doc)
    for p in missing:
        print("%s: own field %s is not documented in %s" % (path, p, doc_path))
    if missing:
        return 1
    print("%d own fields, all documented: %s" % (len(own), " ".join(sorted(own))))
    return 0


def check_flows(path):
    """flow_id within 51 bits, consistent, and flow.start first."""
    bad = 0
    flows = {}
    others = []
    for number, record in enumerate(records(path), 1):
        flow_id = record.get("flow_id")
        if flow_id is None:
            continue
        if not isinstance(flow_id, int) or not 0 < flow_id < 2 ** 51:
            print("%s:%d: flow_id %r is not within 51 bits" % (path, number, flow_id))
            bad += 1
        if record["event_type"] == "flow":
            if flow_id in flows:
                print("%s:%d: a second flow record for flow_id %d" % (path, number, flow_id))
                bad += 1
            flows[flow_id] = record
        others.append((number, record))
    ends = ("src_ip", "src_port", "dest_ip", "dest_port")
    for number, record in others:
        flow = flows.get(record["flow_id"])
        if flow is None:
            continue
        if any(record.get(k) != flow.get(k) for k in ends if k in record):
            print("%s:%d: %s record of flow_id %d has other endpoints than its flow"
                  % (path, number, record["event_type"], record["flow_id"]))
            bad += 1
        if record["timestamp"] < flow["flow"]["start"]:
            print("%s:%d: %s record at %s, before its flow.start %s"
                  % (path, number, record["event_type"], record["timestamp"],
                     flow["flow"]["start"]))
            bad += 1
        if flow["flow"]["end"] < flow["flow"]["start"]:
            print("%s: flow %d ends before it starts" % (path, record["flow_id"]))
            bad += 1
    if bad:
        return 1
    print("%d flows consistent" % len(flows))
    return 0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    path, command = sys.argv[1], sys.argv[2]
    if command == "valid":
        print("%d records" % sum(1 for _ in records(path)))
    elif command == "alerts":
        for r in new_alerts(path):
            print(r["alert"]["signature_id"], r["src_ip"], r["dest_ip"])
    elif command == "alert":
        wanted = [a.split("=", 1) for a in sys.argv[4:]]
        for r in new_alerts(path):
            if str(r["alert"]["signature_id"]) != sys.argv[3]:
                continue
            if all(matches(lookup(r, k), v) for k, v in wanted):
                return 0
        print("no new alert %s with %s" % (sys.argv[3], " ".join(sys.argv[4:])))
        return 1
    elif command == "schema":
        return check_schema(path, sys.argv[3], sys.argv[4:])
    elif command == "own":
        return check_own(path, sys.argv[3], sys.argv[4])
    elif command == "flows":
        return check_flows(path)
    elif command == "count":
        print(sum(1 for r in records(path) if r["event_type"] == sys.argv[3]))
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main())
