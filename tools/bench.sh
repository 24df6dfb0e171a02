#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: build the perf profile (no debug options) and run every
# benchmark program from tools/bench/*.c in one boot of the VM, with
# -icount so guest time counts instructions and results repeat run to run.
# Each program prints its own results; nothing here asserts a speed.
export PROFILE=perf ICOUNT=1	# before lib.sh, which derives $BUILD from it
source "$(dirname "$0")/lib.sh"
T=$REPO/tools

build_for_vm
exec 9>&-
ls "$BUILD"/tests/bench/* >/dev/null 2>&1 || die "no benchmarks in tools/bench"
CMD='for b in /tests/bench/*; do echo "== ${b##*/}"; "$b" || exit 1; done' \
	exec "$T/vm.sh" vm
