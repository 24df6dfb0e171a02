#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The test plan of make check, run in the VM by init.
#
# KUnit ran at boot, on the console. Each program here prints TAP between
# "@@SUITE <name>@@" and "@@END <name> <status>@@"; the host parses them.
# Last comes a kmemleak scan, so a leak by any test fails the run; the
# host requires its report in the debug profile.

leak=/sys/kernel/debug/kmemleak

# IOMMUFD_PLAN=stress (make stress) runs only the stress suites, for
# IOMMUFD_STRESS_SECONDS each; IOMMUFD_PLAN=unsafe-msi (make check's boot
# without MSI isolation) only e2e:msi-unsafe; IOMMUFD_PLAN=reduced
# (CHECK_PLAN=reduced make check, CI's arm64 run) the kselftests but the
# time-bound fuzzer and stress suites, and the e2e suites of real DMA;
# the default plan runs everything.
want() {	# want <suite name>
	case ${IOMMUFD_PLAN:-all}:$1 in
	reduced:*fuzz|reduced:*stress) return 1 ;;
	all:*|stress:*stress*|unsafe-msi:e2e:msi-unsafe) return 0 ;;
	reduced:kselftest:*|reduced:e2e:edu-*) return 0 ;;
	reduced:e2e:compat-info|reduced:e2e:hot-reset) return 0 ;;
	esac
	return 1
}

suite() {	# suite <name> <command...>
	name=$1
	shift
	want "$name" || return 0
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

# kmemleak reports only objects older than 5 s. Every leak it lists counts,
# boot's included: a boot of this kernel leaks nothing kmemleak can see.
if [ ! -e $leak ]; then
	echo "@@KMEMLEAK-UNAVAILABLE@@"
else
	sleep 6
	if echo scan >$leak; then
		echo "@@KMEMLEAK@@"
		cat $leak
		echo "@@KMEMLEAK-END@@"
	else
		echo "@@KMEMLEAK-FAILED@@"
	fi
fi
echo "@@PLAN-COMPLETE@@"
