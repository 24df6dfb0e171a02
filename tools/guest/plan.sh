#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The test plan of make check, run in the VM by init.
#
# KUnit ran at boot, on the console. Each program here prints TAP between
# "@@SUITE <name>@@" and "@@END <name> <status>@@"; the host parses them.
# Last comes a kmemleak scan, so a leak by any test fails the run.

leak=/sys/kernel/debug/kmemleak
start=$(cut -d' ' -f1 /proc/uptime)

suite() {	# suite <name> <command...>
	name=$1
	shift
	echo "@@SUITE $name uptime=$(cut -d' ' -f1 /proc/uptime)@@"
	"$@"
	echo "@@END $name $?@@"
}

for t in /tests/kselftest/*; do
	[ -x "$t" ] && suite "kselftest:${t##*/}" "$t"
done
for t in /tests/e2e/*.sh; do
	[ -f "$t" ] && suite "e2e:$(basename "$t" .sh)" sh "$t"
done

if [ -w $leak ]; then
	# kmemleak reports only objects older than 5 s. Objects allocated
	# before the plan started (by boot) are told apart by their age.
	sleep 6
	echo scan >$leak
	echo "@@KMEMLEAK start=$start now=$(cut -d' ' -f1 /proc/uptime)@@"
	cat $leak
	echo "@@KMEMLEAK-END@@"
fi
echo "@@PLAN-COMPLETE@@"
