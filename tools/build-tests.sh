#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the programs that run inside the VM, statically, against the uAPI
# headers exported by this profile's kernel build, into $BUILD/tests:
#   kselftest/<name>   one per tools/testing/selftests/iommu/*.c, built by
#                      that directory's Makefile (make -C tools/testing/
#                      selftests TARGETS=iommu) with the base tree's harness
#   bin/<name>         helper programs from tools/guest/*.c
#   bench/<name>       benchmarks from tools/bench/*.c
#   e2e/<name>.sh      end-to-end scripts from tools/e2e
source "$(dirname "$0")/lib.sh"
check_profile

hdr=$BUILD/usr/include
[ -f "$hdr/linux/iommufd.h" ] || die "no exported headers in $hdr; build the kernel first"
out=$BUILD/tests
rm -rf "$out"
mkdir -p "$out/kselftest" "$out/bin" "$out/bench" "$out/e2e"

CFLAGS=(-O2 -Wall -Werror -D_GNU_SOURCE -static -pthread -isystem "$hdr")
# The kselftests are built the kernel's way, by their own Makefile through
# tools/testing/selftests (O= puts them in $BUILD/kselftest/iommu and takes
# the headers from $BUILD/usr/include); statically, and warnings are errors.
ksft=$BUILD/kselftest/iommu
rm -rf "$ksft"
make -s -C "$TREE/tools/testing/selftests" TARGETS=iommu O="$BUILD" \
	FORCE_TARGETS=1 USERCFLAGS=-Werror USERLDFLAGS=-static \
	>"$BUILD/kselftest.log" 2>&1 ||
	{ cat "$BUILD/kselftest.log" >&2; die "building the kselftests failed"; }
n=0
for src in "$REPO"/tools/testing/selftests/iommu/*.c; do
	bin=$ksft/$(basename "$src" .c)
	[ -x "$bin" ] || die "the selftests Makefile did not build $bin"
	cp "$bin" "$out/kselftest/"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || die "no kselftests in tools/testing/selftests/iommu"
for dir in guest:bin bench:bench; do
	for src in "$REPO/tools/${dir%:*}"/*.c; do
		[ -e "$src" ] || continue
		gcc "${CFLAGS[@]}" -o "$out/${dir#*:}/$(basename "$src" .c)" \
			"$src" || die "building $src failed"
	done
done
cp "$REPO"/tools/e2e/*.sh "$REPO"/tools/e2e/*.inc "$out/e2e/" 2>/dev/null || true
