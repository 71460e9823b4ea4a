# shellcheck shell=bash
# Sourced by the configuration file tests: turns a path into a file that no
# configuration may be, and back.
#
# bad_kinds                    the kinds, one a line
# bad_make KIND PATH           PATH (absent) becomes a KIND:
#   directory   a directory
#   fifo        a FIFO nobody writes to (reading it blocks for ever)
#   device      a character device node (1,5: /dev/zero, endless)
#   dangling    a symbolic link to a file that does not exist
#   unreadable  a valid-looking file with mode 0000 (root reads it anyway:
#               meaningful only for a reader without CAP_DAC_OVERRIDE and
#               CAP_DAC_READ_SEARCH; see bad_unprivileged)
#   big         a 100 MB sparse file
# bad_remove PATH              removes whatever PATH is
# bad_unprivileged             prints a command prefix under which even root
#                              cannot read an unreadable file (setpriv
#                              dropping the two capabilities), or nothing
#                              when that is not possible; returns 1 then

bad_kinds() {
	printf '%s\n' directory fifo device dangling unreadable big
}

bad_make() {
	local kind=$1 path=$2
	bad_remove "$path"
	case $kind in
	directory) mkdir "$path" ;;
	fifo) mkfifo "$path" ;;
	device)
		if [ "$(id -u)" -eq 0 ]; then
			mknod "$path" c 1 5
		else
			ln -s /dev/zero "$path"
		fi ;;
	dangling) ln -s "$path.missing" "$path" ;;
	unreadable)
		echo '# nobody may read this' >"$path"
		chmod 0000 "$path" ;;
	big) truncate -s 100M "$path" ;;
	*) echo "bad_make: unknown kind $kind" >&2; return 1 ;;
	esac
}

bad_remove() {
	if [ -d "$1" ] && [ ! -L "$1" ]; then
		rm -rf "$1"
	else
		rm -f "$1"
	fi
}

bad_unprivileged() {
	local probe
	if [ "$(id -u)" -ne 0 ]; then
		return 0	# a plain user cannot read mode 0000 anyway
	fi
	command -v setpriv >/dev/null || return 1
	probe=$(mktemp /tmp/smbgw-bad-probe.XXXXXX)
	chmod 0000 "$probe"
	if setpriv --bounding-set -dac_override,-dac_read_search \
			cat "$probe" >/dev/null 2>&1 ||
			! setpriv --bounding-set -dac_override,-dac_read_search \
			true 2>/dev/null; then
		rm -f "$probe"
		return 1
	fi
	rm -f "$probe"
	echo "setpriv --bounding-set -dac_override,-dac_read_search"
}
