#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make stress [SECONDS=N]: boot the debug kernel and run only the stress
# suites (kselftest iommufd_stress: one_fd, across_fds and memory_churn;
# e2e:edu-stress), N seconds in all, a quarter each (180 s by default;
# make check gives each
# 20 s), then judge the run as make check does: every check passed, no
# splat, kmemleak clean.
export PROFILE=debug
source "$(dirname "$0")/lib.sh"
T=$REPO/tools
total=${STRESS_SECONDS:-}
[ -n "$total" ] || total=180
[[ "$total" =~ ^[0-9]+$ ]] && [ "$total" -ge 4 ] ||
	die "SECONDS must be a whole number of seconds, 4 or more"
each=$((total / 4))

build_for_vm
exec 9>&-
mkdir -p "$LOGS"
run=$(mktemp -d "$LOGS/$(date +%Y%m%d-%H%M%S)-stress-$PROFILE-XXXX")
msg "stress: 4 suites of $each s each"
# boot, the four suites and the slowest teardown, with room for TCG
export VM_TIMEOUT=${VM_TIMEOUT:-$((total * 3 + 900))}
export CMD="IOMMUFD_PLAN=stress IOMMUFD_STRESS_SECONDS=$each sh /guest/plan.sh"
vm_rc=0
RUN_DIR=$run "$T/vm.sh" vm || vm_rc=$?
judge_run "$run" "$vm_rc" "make stress"
