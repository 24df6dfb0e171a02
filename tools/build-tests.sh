#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the programs that run inside the VM, statically, against the uAPI
# headers exported by this profile's kernel build, into $BUILD/tests:
#   kselftest/<name>   one per tools/testing/selftests/iommu/*.c, built with
#                      the base tree's kselftest_harness.h
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
# from the tree, where the selftests directory sits beside the harness
for src in "$TREE"/tools/testing/selftests/iommu/*.c; do
	[ -e "$src" ] || continue
	gcc "${CFLAGS[@]}" -o "$out/kselftest/$(basename "$src" .c)" "$src" ||
		die "building $src failed"
done
for dir in guest:bin bench:bench; do
	for src in "$REPO/tools/${dir%:*}"/*.c; do
		[ -e "$src" ] || continue
		gcc "${CFLAGS[@]}" -o "$out/${dir#*:}/$(basename "$src" .c)" \
			"$src" || die "building $src failed"
	done
done
cp "$REPO"/tools/e2e/*.sh "$out/e2e/" 2>/dev/null || true
