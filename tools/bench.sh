#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: build the perf profile (no debug options) and run every
# benchmark program from tools/bench/*.c in one boot of the VM, with
# -icount so guest time counts instructions and results repeat run to run.
# The VM gets memory for 2 GiB buffers of each kind and a pool of 2M
# hugetlb pages. tools/bench/report.py turns the results into
# $CACHE/bench/bench.{json,md,png} (gnuplot from Debian draws the plot);
# with ARCH=arm64 (QEMU's virt with SMMUv3, the same paths and table)
# $CACHE/bench-arm64/. Nothing here asserts a speed.
#
# BENCH_QUICK=1: 64 MiB only, one repetition (a smoke run of the programs).
# BENCH_PROFILE=1: instead, where the time of the 4K MAP+UNMAP pairs goes:
# Debian's perf (linux-perf, bundled with its libraries) samples
# map-bench's pairs of each path in the VM (a second run, once the IOMMU
# page tables of every IOVA slot exist), and the kernel functions that
# took at least 1% of the samples, with what they called, go to
# $CACHE/bench/profile.txt (x86_64 only: it runs the host's perf in the
# VM).
export PROFILE=perf ICOUNT=1	# before lib.sh, which derives $BUILD from it
source "$(dirname "$0")/lib.sh"
T=$REPO/tools
out=$CACHE/bench
[ "$ARCH" = x86_64 ] || out=$CACHE/bench-$ARCH

if [ "${BENCH_PROFILE:-0}" = 1 ]; then
	[ "$ARCH" = x86_64 ] ||
		die "BENCH_PROFILE=1 runs the host's perf in the VM: x86_64 only"
	"$T/deps.sh" linux-perf
	build_for_vm
	exec 9>&-
	x=$CACHE/bench/perf-extra
	rm -rf "$x"
	mkdir -p "$x/lib" "$CACHE/bench"
	cp /usr/bin/perf "$x/"
	for lib in $(ldd /usr/bin/perf | awk '/=>/ { print $3 } /ld-linux/ { print $1 }'); do
		cp -L "$lib" "$x/lib/"
	done
	cat >"$x/profile.sh" <<'EOS'
P="env LD_LIBRARY_PATH=/extra/lib /extra/lib/ld-linux-x86-64.so.2 /extra/perf"
echo 0 >/proc/sys/kernel/kptr_restrict
mkfifo /tmp/perf-ctl
for path in type1 cdev compat mock; do
	echo "@@PROFILE $path"
	# events off until map-bench's second run of pairs begins
	BENCH_PAIRS_ONLY=$path BENCH_PERF_CTL=/tmp/perf-ctl \
		$P record -q -D -1 --control=fifo:/tmp/perf-ctl -e cpu-clock \
		-F 2000 -g -o /tmp/$path.data /tests/bench/map-bench |
		grep pairs | tail -1
	$P report -i /tmp/$path.data --stdio --children --percent-limit 1 \
		-g none --sort sym 2>/dev/null | grep '%'
done
echo "@@PROFILE-DONE"
EOS
	run=$(mktemp -d "$LOGS/$(date +%Y%m%d-%H%M%S)-profile-XXXX")
	RUN_DIR=$run VM_MEM=${VM_MEM:-3G} VM_TIMEOUT=${VM_TIMEOUT:-3600} \
		EXTRA=$x CMD="sh /extra/profile.sh" "$T/vm.sh" vm ||
		die "the profile failed; logs in $run"
	grep -q '@@PROFILE-DONE' "$run/output.log" ||
		die "the profile did not finish; logs in $run"
	sed -n '/@@PROFILE /,/@@PROFILE-DONE/p' "$run/output.log" |
		grep -v '@@PROFILE-DONE' >"$CACHE/bench/profile.txt"
	msg "profile: $CACHE/bench/profile.txt"
	exit 0
fi

"$T/deps.sh" gnuplot-nox
build_for_vm
exec 9>&-
ls "$BUILD"/tests/bench/* >/dev/null 2>&1 || die "no benchmarks in tools/bench"
run=$(mktemp -d "$LOGS/$(date +%Y%m%d-%H%M%S)-bench-XXXX")
quick=${BENCH_QUICK:-0}
rc=0
RUN_DIR=$run VM_MEM=${VM_MEM:-7G} VM_TIMEOUT=${VM_TIMEOUT:-5400} \
	VM_APPEND="hugepages=1040 ${VM_APPEND:-}" \
	CMD="for b in /tests/bench/*; do echo \"== \${b##*/}\"; BENCH_QUICK=$quick \"\$b\" || exit 1; done" \
	"$T/vm.sh" vm || rc=$?
[ "$rc" -eq 0 ] || die "the benchmarks failed (status $rc); logs in $run"
mkdir -p "$out"
"$T/bench/report.py" "$run/output.log" "$out"
