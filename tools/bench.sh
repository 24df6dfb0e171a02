#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: build the perf profile (no debug options) and run every
# benchmark program from tools/bench/*.c in one boot of the VM, with
# -icount so guest time counts instructions and results repeat run to run.
# The VM gets memory for 2 GiB buffers of each kind and a pool of 2M
# hugetlb pages. tools/bench/report.py turns the results into
# $CACHE/bench/bench.{json,md,png} (gnuplot from Debian draws the plot).
# Nothing here asserts a speed.
#
# BENCH_QUICK=1: 64 MiB only, one repetition (a smoke run of the programs).
export PROFILE=perf ICOUNT=1	# before lib.sh, which derives $BUILD from it
source "$(dirname "$0")/lib.sh"
T=$REPO/tools

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
mkdir -p "$CACHE/bench"
"$T/bench/report.py" "$run/output.log" "$CACHE/bench"
