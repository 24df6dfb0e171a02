#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make conformance: run mainline Linux's own iommufd kselftests, unmodified,
# against our kernel, and compare the failures with an expected list.
#
# The tests come from Debian's linux-source-6.12 package (installed when
# missing). What they need is extracted into $CACHE/mainline-6.12, in the
# 6.12 directory layout (the tests include ../kselftest_harness.h and
# drivers/iommu/iommufd/iommufd_test.h by relative path), and the 6.12 uAPI
# headers are exported there with 6.12's own scripts/headers_install.sh.
# Nothing of mainline is copied into this repository.
#
# iommufd and iommufd_fail_nth are built statically into
# $CACHE/conformance/extra with tools/conformance/shim.h force-included (names
# the tests use that the 6.12 header lacks, if any) and
# tools/conformance/timeout.c linked in (the harness's fixed 30 s per-test
# timeout, widened to CONFORMANCE_TIMEOUT seconds). They are run in the VM on
# the debug kernel with 2 MiB hugepages reserved, and tools/conformance/judge.py
# prints the counts per fixture and checks the failures against
# tools/conformance/expected-failures (ARCH=arm64: expected-failures.arm64,
# which may hold only what the x86_64 list holds). For ARCH=arm64 the tests
# are cross-built against the 6.12 uAPI exported for arm64 ($M/usr-arm64).
#
# Environment:
#   CONFORMANCE_NO_BUILD=1   use the kernel and initramfs already in
#                            $BUILD (build-debug, build-arm64-debug; do
#                            not build them)
#   CONFORMANCE_TIMEOUT      per-test timeout in the guest (default 900 s)
#   CONFORMANCE_TESTS        binaries to run (default "iommufd iommufd_fail_nth")
#   CONFORMANCE_ARGS         arguments for each binary (e.g. "-f iommufd_ioas")
#   CONFORMANCE_HUGEPAGES    2 MiB hugepages to reserve at boot (default 32)
#   VM_TIMEOUT               wall-clock limit of the VM (default here 3600 s)
export PROFILE=debug	# before lib.sh, which derives $BUILD from it
source "$(dirname "$0")/lib.sh"
T=$REPO/tools
C=$T/conformance

MPKG=linux-source-6.12
MTAR=/usr/src/$MPKG.tar.xz
M=$CACHE/mainline-6.12
OUT=$CACHE/conformance
expected=$C/expected-failures
if [ "$ARCH" = arm64 ]; then
	OUT=$CACHE/conformance-arm64
	expected=$C/expected-failures.arm64
fi
tests=${CONFORMANCE_TESTS:-iommufd iommufd_fail_nth}
t0=$(now)

# -- the package -------------------------------------------------------------
"$T/deps.sh" "$MPKG"
[ -f "$MTAR" ] || die "$MPKG is installed but $MTAR is missing"
ver=$(dpkg-query -W -f='${Version}' "$MPKG")

# -- extraction and headers (once per package version) ----------------------
# Our own lock for $M and $OUT: the cache lock may be held by a kernel build
# for minutes, and none of this touches what it writes.
exec 7>"$CACHE/.conformance-lock"
if ! flock -n 7; then
	msg "waiting for another make conformance"
	flock 7
fi
if [ "$(cat "$M/.stamp" 2>/dev/null)" != "$ver" ]; then
	msg "extracting the iommufd selftests and uAPI of $MPKG $ver into $M"
	rm -rf "$M" "$M.tmp"
	mkdir -p "$M.tmp"
	tar -xJf "$MTAR" -C "$M.tmp" --strip-components=1 --wildcards \
		'*/tools/testing/selftests/iommu/*' \
		'*/tools/testing/selftests/kselftest*.h' \
		'*/drivers/iommu/iommufd/iommufd_test.h' \
		'*/include/uapi/*' \
		'*/scripts/headers_install.sh' '*/scripts/unifdef.c'
	(cd "$M.tmp" && gcc -O2 -o scripts/unifdef scripts/unifdef.c) ||
		die "building mainline's unifdef failed"
	echo "$ver" >"$M.tmp/.stamp"
	mv "$M.tmp" "$M"
fi
# The 6.12 uAPI headers of an architecture, once: usr/include for x86,
# usr-arm64/include for arm64.
karch=x86 usr=usr
[ "$ARCH" = arm64 ] && karch=arm64 usr=usr-arm64
if [ ! -f "$M/$usr/.stamp" ]; then
	msg "exporting the $karch uAPI headers of $MPKG into $M/$usr"
	[ -d "$M/arch/$karch/include/uapi/asm" ] ||
		die "$MTAR: no arch/$karch/include/uapi"
	(
		cd "$M"
		rm -rf "$usr"
		# What "make headers_install" does: every uAPI header through
		# headers_install.sh into $usr/include ...
		find include/uapi "arch/$karch/include/uapi" -name '*.h' |
		while read -r f; do
			case $f in
			include/uapi/*) d=$usr/include/${f#include/uapi/} ;;
			*) d=$usr/include/${f#arch/"$karch"/include/uapi/} ;;
			esac
			echo "$f $d"
		done | xargs -n 2 -P "$JOBS" sh -c \
			'mkdir -p "$(dirname "$2")" && sh scripts/headers_install.sh "$1" "$2"' sh
		# ... and, for each header every arch must have that this one
		# does not provide, a wrapper around asm-generic's. (x86's
		# generated unistd_*.h are left to the system's headers.)
		sed -n 's/^mandatory-y += \(.*\.h\)$/\1/p' \
			include/uapi/asm-generic/Kbuild | while read -r h; do
			[ -e "$usr/include/asm/$h" ] ||
				echo "#include <asm-generic/$h>" >"$usr/include/asm/$h"
		done
		touch "$usr/.stamp"
	) || die "exporting the $karch headers into $M/$usr failed"
fi

# -- the test programs --------------------------------------------------------
msg "building the mainline tests ($tests)"
rm -rf "$OUT/extra"
mkdir -p "$OUT/extra"
CFLAGS=(-O2 -Wall -Wno-unused-function -D_GNU_SOURCE -static -pthread
	-isystem "$M/$usr/include" -include "$C/shim.h")
"$CC" -O2 -Wall -Werror -c -o "$OUT/timeout.o" "$C/timeout.c"
# From the tests' own directory, so that their messages say "iommufd.c:123".
cd "$M/tools/testing/selftests/iommu"
for t in $tests; do
	[ -f "$t.c" ] || die "no $t.c in $PWD"
	"$CC" "${CFLAGS[@]}" -o "$OUT/extra/$t" "$t.c" "$OUT/timeout.o" \
		-Wl,--wrap=alarm 2>"$OUT/$t.warnings" || {
		cat "$OUT/$t.warnings" >&2
		die "building $t failed"
	}
	n=$(grep -c 'warning:' "$OUT/$t.warnings" || true)
	[ "$n" = 0 ] || msg "$t: $n compiler warning(s) in mainline's code, see $OUT/$t.warnings"
done
cd "$REPO"
cp "$C/guest.sh" "$OUT/extra/run.sh"
{
	echo "CONFORMANCE_TIMEOUT=${CONFORMANCE_TIMEOUT:-900}"
	echo "CONFORMANCE_TESTS='$tests'"
	echo "CONFORMANCE_ARGS='${CONFORMANCE_ARGS:-}'"
} >"$OUT/extra/settings"
build_tests_s=$(since "$t0")

# -- the kernel ---------------------------------------------------------------
if [ "${CONFORMANCE_NO_BUILD:-0}" = 1 ]; then
	# Another build may be writing it: wait for the cache lock to be free.
	lock_cache
	[ -f "$BUILD/$KIMAGE" ] && [ -f "$BUILD/initramfs.cpio.gz" ] ||
		die "CONFORMANCE_NO_BUILD=1 but no kernel/initramfs in $BUILD"
else
	build_for_vm
fi
exec 9>&-
build_s=$(since "$t0")

# -- the run ------------------------------------------------------------------
msg "booting the $PROFILE kernel and running the mainline tests"
tv=$(now)
mkdir -p "$LOGS"
run=$(mktemp -d "$LOGS/$(date +%Y%m%d-%H%M%S)-conformance-$ARCH-$PROFILE-XXXX")
rc=0
RUN_DIR=$run CMD='sh /extra/run.sh' EXTRA=$OUT/extra \
	VM_TIMEOUT=${VM_TIMEOUT:-3600} \
	VM_APPEND="hugepages=${CONFORMANCE_HUGEPAGES:-32} ${VM_APPEND:-}" \
	"$T/vm.sh" vm >"$run/stream.log" 2>&1 || rc=$?
vm_s=$(since "$tv")

jrc=0
python3 "$C/judge.py" "$run" "$expected" || jrc=$?
msg "build ${build_s} s (of which mainline tests ${build_tests_s} s), VM ${vm_s} s, total $(since "$t0") s; logs in $run"
if [ $jrc -eq 0 ] && [ $rc -ne 0 ]; then
	# The guest script exits 0 once every binary has run: anything else
	# is a VM timeout or crash, even when the results looked fine.
	echo "error: the VM run ended with status $rc (see $run)" >&2
	jrc=1
fi
exit $jrc
