#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Configure and build the kernel of one profile in $BUILD (O=), plus the
# exported uAPI headers the test programs compile against.
#
# The .config is regenerated only when a fragment or the patch series
# changed, so an ordinary edit of a .c file rebuilds just that object and the
# link. Every option our fragments ask for is checked in the final .config:
# an option that Kconfig silently dropped fails the build here, not a test
# much later.
source "$(dirname "$0")/lib.sh"
check_profile

# the architecture's defconfig (and, for x86_64, kvm_guest.config), then
# ours: common, the architecture's, the tests', the profile's
case "$ARCH" in
x86_64)	frags=("$TREE/arch/x86/configs/x86_64_defconfig"
	       "$TREE/kernel/configs/kvm_guest.config") ;;
arm64)	frags=("$TREE/arch/arm64/configs/defconfig") ;;
esac
nbase=${#frags[@]}
frags+=("$REPO/tools/kconfig/base.config"
	"$REPO/tools/kconfig/$ARCH.config"
	"$REPO/tools/testing/selftests/iommu/config"
	"$REPO/tools/kconfig/$PROFILE.config")
ours=("${frags[@]:$nbase}")
# arm64's defconfig makes ~550 modules for SoCs the VM has not: none is
# loaded, so they are turned off (m -> n where nothing forces them)
finish=olddefconfig
[ "$ARCH" = arm64 ] && finish=mod2noconfig
kmake=(make -C "$TREE" O="$BUILD" ARCH="$ARCH" ${CROSS:+CROSS_COMPILE=$CROSS})

# Every option of our fragments must be in the final .config as asked.
# Checked after configuring and again after each build, since kbuild
# re-runs Kconfig by itself when a Kconfig file changes.
verify_config() {
	local line got bad=0
	while read -r line; do
		if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
			grep -qxF "$line" "$BUILD/.config" && continue
		elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			! grep -q "^${BASH_REMATCH[1]}=" "$BUILD/.config" &&
				continue
		else
			continue
		fi
		got=$(grep -E "^(# )?${BASH_REMATCH[1]}[= ]" "$BUILD/.config" ||
		      echo "${BASH_REMATCH[1]} absent")
		printf 'config: wanted "%s", got "%s"\n' "$line" "$got" >&2
		bad=1
	done < <(cat "${ours[@]}")
	[ $bad -eq 0 ] || die "profile $PROFILE: Kconfig did not honour the fragments above"
}

mkdir -p "$BUILD" "$LOGS"
sum=$(cat "${frags[@]}" "$TREE/.iommufd-series" | sha256sum | cut -d' ' -f1)
if [ ! -f "$BUILD/.config" ] ||
   [ "$(cat "$BUILD/.iommufd-config" 2>/dev/null)" != "$sum" ]; then
	msg "configuring profile $PROFILE"
	rm -f "$BUILD/.iommufd-config"
	(cd "$TREE" && ARCH=$ARCH scripts/kconfig/merge_config.sh -m \
		-O "$BUILD" "${frags[@]}") >"$BUILD/merge_config.log" 2>&1 ||
		{ cat "$BUILD/merge_config.log"; die "merge_config failed"; }
	"${kmake[@]}" -s "$finish"
	verify_config
	echo "$sum" >"$BUILD/.iommufd-config"
fi

[ "${1:-}" = --config-only ] && exit 0

msg "building $ARCH kernel (profile $PROFILE, $JOBS jobs; log $BUILD/build.log)"
t0=$(now)
# modules too: the in-tree ones are not used, but they give Module.symvers
# and the module linker script, which the test modules (tools/modules) need
"${kmake[@]}" -j"$JOBS" "$KTARGET" modules headers >"$BUILD/build.log" 2>&1 &
mpid=$!
kbuild_progress "$BUILD/build.log" "$BUILD.objects" "$mpid" "$t0"
if ! wait "$mpid"; then
	grep -E 'error|Error|warning:' "$BUILD/build.log" | head -40 >&2 || true
	tail -20 "$BUILD/build.log" >&2
	die "kernel build failed; full log: $BUILD/build.log"
fi
# the size of a full build, for the next build's progress line
find "$BUILD" -name '*.o' | wc -l >"$BUILD.objects"
grep -E 'drivers/iommu/iommufd/[^:]*:[0-9]+:([0-9]+:)? warning:|linux/iommufd\.h:[0-9]+:([0-9]+:)? warning:' \
	"$BUILD/build.log" >&2 && die "warnings in iommufd; full log: $BUILD/build.log"
verify_config
msg "kernel built in $(since "$t0") s"
