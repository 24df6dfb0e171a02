# SPDX-License-Identifier: GPL-2.0-only
# Shared settings of the build and VM scripts; sourced, never run.
#
# Everything that is built or extracted lives under $IOMMUFD_CACHE, outside
# the repository:
#   pristine/linux-source-6.1   the extracted Debian tarball, never modified
#   linux-6.1                   working tree: pristine + patches/series +
#                               links to this repository's files
#   build-<profile>             kbuild output (O=) of one kernel profile
#   logs/<run>                  console and output of each VM run

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CACHE=${IOMMUFD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iommufd}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd -P)
case "$CACHE/" in
"$REPO"/*) echo "IOMMUFD_CACHE ($CACHE) must be outside the repository" >&2
	   exit 2 ;;
esac

BASE_PKG=linux-source-6.1
TARBALL=/usr/src/$BASE_PKG.tar.xz
PRISTINE=$CACHE/pristine/$BASE_PKG
TREE=$CACHE/linux-6.1
PROFILE=${PROFILE:-debug}
# ARCH: x86_64 (QEMU q35 with VT-d, the default) or arm64 (QEMU virt with
# SMMUv3, cross-built with Debian's gcc-aarch64-linux-gnu). Each has its
# own build directories; x86_64's keep their old names.
#   KIMAGE      the kernel image the VM boots, relative to $BUILD
#   CROSS       CROSS_COMPILE prefix; CC the compiler for the VM's programs
case "${ARCH:-x86_64}" in
x86_64|x86|amd64)
	ARCH=x86_64 CROSS= KIMAGE=arch/x86/boot/bzImage KTARGET=bzImage
	BUILD=$CACHE/build-$PROFILE ;;
arm64|aarch64)
	ARCH=arm64 CROSS=aarch64-linux-gnu- KIMAGE=arch/arm64/boot/Image
	KTARGET=Image
	BUILD=$CACHE/build-arm64-$PROFILE ;;
*)	echo "unknown ARCH '$ARCH' (x86_64 or arm64)" >&2; exit 2 ;;
esac
export ARCH
CC=${CROSS}gcc
LOGS=$CACHE/logs
JOBS=${JOBS:-$(nproc)}

msg() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Serialise everything that writes the cache: two builds at once would
# corrupt the tree or a build directory.
lock_cache() {
	exec 9>"$CACHE/.lock"
	if ! flock -n 9; then
		msg "waiting for another user of $CACHE"
		flock 9
	fi
}

check_profile() {
	case "$PROFILE" in
	debug|perf) ;;
	*) die "unknown PROFILE '$PROFILE' (debug or perf)" ;;
	esac
}

# Build everything a boot of $PROFILE needs, where it is missing or stale:
# packages, tree, kernel, test programs and the base initramfs. Takes the
# cache lock and keeps it (fd 9); --lint also runs the static checks, after
# configuring and before compiling. Callers release the lock (exec 9>&-)
# before a long VM run that no longer writes the cache.
build_for_vm() {
	local t=$REPO/tools
	"$t/deps.sh"
	lock_cache
	"$t/prepare-tree.sh"
	if [ "${1:-}" = --lint ]; then
		"$t/build-kernel.sh" --config-only
		"$t/lint.sh"
	fi
	"$t/build-kernel.sh"
	"$t/build-tests.sh"
	"$t/mkinitramfs.sh" base "$BUILD/initramfs.cpio.gz"
}

# Seconds since the epoch, with fractions, for the timings we report.
# judge_run <run dir> <vm status> <what>: results.py's verdict on a run of
# the plan (checks, splats, kmemleak); exits 1 if it or the VM failed.
judge_run() {
	local res=0
	echo
	echo "==> results ($1)"
	"$REPO/tools/results.py" --require-kmemleak "$1" || res=$?
	if [ "$res" -ne 0 ] || [ "$2" -ne 0 ]; then
		echo "$3 FAILED; console log: $1/console.log, plan output: $1/output.log" >&2
		exit 1
	fi
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# kbuild_progress <log> <objects file> <pid> <t0>: while the kernel build
# <pid> writes <log>, show on a terminal one line with the objects
# compiled so far (the log's CC and AS lines) and the time since <t0>; for
# a build from (nearly) nothing, also the share done of the objects a full
# build of this profile had last time (kept in <objects file>; a first
# build takes KBUILD_OBJECTS_GUESS, measured here). Without a terminal it
# stays quiet: the caller prints one line at the end.
KBUILD_OBJECTS_GUESS=2400
kbuild_progress() {
	local log=$1 objs=$2 pid=$3 t0=$4 total have n pct el
	[ -t 2 ] || return 0
	total=$(cat "$objs" 2>/dev/null || echo "$KBUILD_OBJECTS_GUESS")
	have=$(find "$BUILD" -name '*.o' 2>/dev/null | wc -l)
	while kill -0 "$pid" 2>/dev/null; do
		n=$(grep -c -E '^  (CC|AS) ' "$log" 2>/dev/null || true)
		el=$(awk -v a="$t0" -v b="$(now)" \
			'BEGIN { s = int(b - a); printf "%dm%02ds", s / 60, s % 60 }')
		if [ $((have * 2)) -lt "$total" ]; then
			pct=$(( (have + n) * 100 / total ))
			[ "$pct" -gt 99 ] && pct=99
			printf '\r==> building kernel: %d%% (%d objects), %s ' \
				"$pct" "$n" "$el" >&2
		else
			printf '\r==> building kernel: %d objects recompiled, %s ' \
				"$n" "$el" >&2
		fi
		sleep 2
	done
	printf '\n' >&2
}
