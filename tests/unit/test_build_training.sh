#!/bin/bash
# The profile-feedback build (scripts/build.sh, scripts/pgo_train.sh):
#   1. the build under test is the trained one: meson b_pgo=use, the stamp
#      written, and profiles for the packet path's objects; a build left
#      instrumented (training interrupted) or trained with nothing fails;
#   2. the training set: every classic capture of tests/pcaps except the
#      benchmark's and the callgrind check's sources, Ethernet ones made
#      into 40 flows, other link types as they are, pcapng left out;
#   3. a training run that fails stops the training with the capture's
#      name, and a work directory that is a file is replaced.
# Steps 2 and 3 run pgo_train.sh with a stand-in for smbgw.
# usage: test_build_training.sh BUILD_DIR SOURCE_DIR
set -uo pipefail

build=$1
source=$2
python=/usr/bin/python3
tool=$source/tests/lib/pcap_tool.py
work=$(mktemp -d /tmp/smbgw-build-training.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# 1. The build itself.
pgo=$("$python" -c 'import json, sys
for o in json.load(open(sys.argv[1])):
    if o["name"] == "b_pgo": print(o["value"])' \
	"$build/meson-info/intro-buildoptions.json")
if [ "$pgo" = off ]; then
	echo "SKIP: built without profile feedback (SMBGW_PGO=0)"
	exit 77
fi
[ "$pgo" = use ] || fail "b_pgo is '$pgo', not 'use': the tested binary is not the trained one"
[ -f "$build/pgo-trained" ] || fail "no training stamp in $build"
for object in dataplane/libdataplane.a.p/inspect.c dataplane/smb/libsmb.a.p/smb2.c \
		dataplane/flow/libflow.a.p/flow.c app/smbgw.p/offline.c; do
	[ -s "$build/$object.gcda" ] || fail "no profile for $object"
done

# 2. What the training reads. The stand-in records each capture's name,
# link type and frame count.
cat >"$work/describe.py" <<EOF
import sys
sys.path.insert(0, "$(dirname "$tool")")
from pcap_tool import read_pcap
print(len(read_pcap(sys.argv[1])[2]))
EOF
cat >"$work/stand-in" <<EOF
#!/bin/bash
[ "\$1" = -r ] || exit 2
echo "\$(basename "\$2") \$("$python" "$tool" linktype "\$2")" \\
	"\$("$python" "$work/describe.py" "\$2")" >>"$work/seen"
[ "\$(basename "\$2")" != "\${FAIL_ON:-}" ]
EOF
chmod +x "$work/stand-in"
if ! out=$("$source/scripts/pgo_train.sh" "$work/stand-in" "$work/train" 2>&1); then
	fail "pgo_train.sh with a stand-in that succeeds: $out"
fi
expected=0
for capture in "$source"/tests/pcaps/*.pcap; do
	name=$(basename "$capture")
	link=$("$python" "$tool" linktype "$capture")
	frames=$("$python" "$work/describe.py" "$capture" 2>/dev/null)
	line=$(grep "^$name " "$work/seen" 2>/dev/null)
	case ${name%.pcap} in
	psexec_smb2|psexec_smb2_*|benign_copy_smb2)
		[ -z "$line" ] || fail "$name, a benchmark source, was trained on"
		continue ;;
	esac
	if [ -z "$link" ]; then
		[ -z "$line" ] || fail "$name is not a classic pcap but was used"
		continue
	fi
	expected=$((expected + 1))
	if [ "$link" = 1 ]; then
		[ "$line" = "$name 1 $((frames * 40))" ] ||
			fail "$name: expected 40 flows of $frames frames, saw '$line'"
	else
		[ "$line" = "$name $link $frames" ] ||
			fail "$name: expected as it is ($link, $frames frames), saw '$line'"
	fi
done
[ "$expected" -gt 20 ] || fail "only $expected training captures"
echo "$out" | grep -qx "pgo_train: $expected captures analysed" ||
	fail "pgo_train.sh did not report $expected captures: $out"
! grep -q '\.pcapng ' "$work/seen" || fail "a pcapng was used"

# 3. A failing run stops the training and names its capture; the work
# directory given as a regular file is replaced.
: >"$work/seen"
echo "not a directory" >"$work/file"
if out=$(FAIL_ON=smb2_basic.pcap "$source/scripts/pgo_train.sh" \
		"$work/stand-in" "$work/file" 2>&1); then
	fail "pgo_train.sh went on after a failed run: $out"
fi
echo "$out" | grep -q "pgo_train: smbgw -r smb2_basic.pcap failed" ||
	fail "the failure does not name its capture: $out"
[ -d "$work/file" ] || fail "the work path that was a file was not replaced"

if [ "$failures" -ne 0 ]; then
	echo "$failures failure(s)"
	exit 1
fi
echo "PASS: the tested build is trained; the training set is $expected captures" \
	"without the benchmark's sources; a failed run stops it"
