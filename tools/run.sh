#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make run / make vm: build what is missing for PROFILE, then boot the VM
# in the given mode (run: the demo; vm: $CMD). Exits with the VM's status.
source "$(dirname "$0")/lib.sh"
check_profile
T=$REPO/tools
mode=${1:?usage: run.sh run|vm}

build_for_vm
# The VM does not write the cache; let another build proceed meanwhile.
exec 9>&-
exec "$T/vm.sh" "$mode"
