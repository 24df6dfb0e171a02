#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Static checks of our kernel code, run by make check before the build:
#   - scripts/checkpatch.pl --strict on every C file, header and patch,
#     except MACRO_ARG_REUSE: our macros reuse only type and struct names
#     (sizeof/typeof/container_of) or iterator variables, which have no
#     side effects; in the kselftests COMPLEX_MACRO, for macros that
#     expand to the harness' own declarations; and in userspace programs
#     BIT_MACRO (userspace has no BIT());
#   - scripts/kernel-doc -Werror on our kernel sources and headers;
#   - every ".. kernel-doc::" directive of our rst files finds what it
#     names (tools/kdoc-refs.sh);
#   - our objects compiled with W=1 and checked by sparse (C=2).
# Needs the profile's .config (tools/build-kernel.sh --config-only).
source "$(dirname "$0")/lib.sh"
check_profile

fail=0
cd "$TREE"
list=$(cd "$REPO" && git ls-files -co --exclude-standard -- '*.c' '*.h')
mapfile -t files <<<"$list"
[ -n "$list" ] && [ ${#files[@]} -gt 0 ] || die "lint: git listed no C files in $REPO"
# Each file is checked under its path in the tree, where the repository
# itself is linked as drivers/iommu/iommufd; kernel-doc covers the kernel
# sources and headers, not the userspace programs under tools/.
kdoc=()
for f in "${files[@]}"; do
	ign=MACRO_ARG_REUSE
	case "$f" in
	# macros that expand to the harness' declarations (FIXTURE_VARIANT)
	# can't be parenthesised; the tests' FUSE server answers ENOSYS for
	# what it does not implement, which is what the FUSE protocol asks
	tools/testing/selftests/*) p=$f; ign=$ign,COMPLEX_MACRO,BIT_MACRO,ENOSYS ;;
	# the bare-metal guest has no kernel headers (no __aligned and the
	# like), and its port I/O helpers are named after the instructions
	# in their asm strings
	tools/l2guest/*) p=drivers/iommu/iommufd/$f
		ign=$ign,BIT_MACRO,PREFER_DEFINED_ATTRIBUTE_MACRO,EMBEDDED_FUNCTION_NAME ;;
	# userspace programs: no BIT() there
	tools/*) p=drivers/iommu/iommufd/$f; ign=$ign,BIT_MACRO ;;
	include/*) p=$f; kdoc+=("$p") ;;
	*) p=drivers/iommu/iommufd/$f; kdoc+=("$p") ;;
	esac
	scripts/checkpatch.pl --strict --quiet --terse --no-summary \
		--show-types --ignore "$ign" -f "$p" || fail=1
done
scripts/kernel-doc -none -Werror "${kdoc[@]}" || fail=1
"$REPO/tools/kdoc-refs.sh" || fail=1
for p in "$REPO"/patches/*.patch; do
	scripts/checkpatch.pl --strict --quiet --terse --no-summary \
		--show-types "$p" || fail=1
done
[ $fail -eq 0 ] && msg "checkpatch --strict: ${#files[@]} files and $(ls "$REPO"/patches/*.patch | wc -l) patches clean; kernel-doc: ${#kdoc[@]} files clean"

# W=1 + sparse on our directory and on the VFIO files of ours only, in a build
# directory of its own so the profile's objects (and its vmlinux) are not
# rebuilt for it; for the architecture being built (ARCH=arm64: cross).
lint=$CACHE/lint-$PROFILE
[ "$ARCH" = x86_64 ] || lint=$CACHE/lint-$ARCH-$PROFILE
mkdir -p "$lint"
cmp -s "$BUILD/.config" "$lint/.config" || cp "$BUILD/.config" "$lint/.config"
log=$lint/lint.log
if make -C "$TREE" O="$lint" ARCH="$ARCH" ${CROSS:+CROSS_COMPILE=$CROSS} \
	-j"$JOBS" W=1 C=2 \
	drivers/iommu/iommufd/ drivers/vfio/iommufd.o \
	drivers/vfio/device_cdev.o >"$log" 2>&1; then
	# (arm64's prepare step builds its vDSO, and C=2 has sparse check
	# it too: its three undeclared entry points are the base tree's,
	# never ours, and left out here)
	if grep -E ': (warning|error):' "$log" |
		grep -v '/arch/arm64/kernel/vdso/vgettimeofday\.c:' >&2; then
		fail=1
	else
		msg "W=1 and sparse: clean"
	fi
else
	cat "$log" >&2
	fail=1
fi
[ $fail -eq 0 ] || die "lint failed"
