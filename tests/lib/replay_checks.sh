# Checks the replay tests share; sourced. The caller defines fail().

replay_lib=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
eve_check="/usr/bin/python3 $replay_lib/eve_check.py"
eve_schema=$replay_lib/../schema/suricata-eve-schema.json

# eve_checked JSON LABEL: the EVE log is JSON lines, and every record fits
# Suricata's schema (fields relaxed), or says the schema check is skipped.
eve_checked() {
	local json=$1 label=$2
	$eve_check "$json" valid >/dev/null || fail "$label: EVE log not valid"
	if /usr/bin/python3 -c 'import jsonschema' 2>/dev/null && [ -r "$eve_schema" ]; then
		$eve_check "$json" schema "$eve_schema" >"$json.schema" ||
			{ fail "$label: EVE records do not fit Suricata's schema"; sed 's/^/  | /' "$json.schema"; }
	else
		echo "  skipped: schema check of $label (no python3-jsonschema or no $eve_schema)"
	fi
}

# capture_column OUT COLUMN: COLUMN of the capture's row in the port table
# of `smbgw -r` output OUT (columns found by the table's header).
capture_column() {
	awk -v want="$2" '/^== counters ==$/ { table = 1; next }
		table && $1 == "port" { for (i = 1; i <= NF; i++) if ($i == want) col = i; next }
		table && col && $1 ~ /pcap(ng)?$/ { print $col; exit }' "$1"
}
