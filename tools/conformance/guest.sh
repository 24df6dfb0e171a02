#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# In the VM (make conformance): run each mainline test binary from /extra,
# its TAP between "@@CONF <name>@@" and "@@CONF-END <name> <status> <s>@@"
# lines for tools/conformance/judge.py. Always exits 0 once every binary
# has run; the judging is done on the host.
. /extra/settings
export CONFORMANCE_TIMEOUT
echo "# hugepages: $(grep -E '^(HugePages_Total|Hugepagesize)' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
echo "# kernel: $(uname -r); cmdline: $(cat /proc/cmdline)"
for t in $CONFORMANCE_TESTS; do
	echo "@@CONF $t@@"
	s=$(cut -d' ' -f1 /proc/uptime)
	# shellcheck disable=SC2086
	/extra/$t $CONFORMANCE_ARGS 2>&1
	rc=$?
	e=$(cut -d' ' -f1 /proc/uptime)
	echo "@@CONF-END $t $rc $(awk -v a="$s" -v b="$e" 'BEGIN { printf "%.1f", b - a }')@@"
done
exit 0
