# SPDX-License-Identifier: GPL-2.0-only
#
# Developer entry point of the iommufd repository. (kbuild reads Kbuild in
# this directory, never this file.) See README.md.
#
#   make check                 lint, build the debug kernel, boot it, run all tests
#   make run                   boot the VM and show the demo (a shell if interactive)
#   make vm CMD='...'          boot the VM and run CMD in it (QEMU_ARGS='...'
#                              adds QEMU devices)
#   make bench                 benchmarks on the perf kernel
#   make stress [SECONDS=N]    the stress suites alone, N s in all (180)
#   make conformance           mainline 6.12's iommufd kselftests against our kernel
#   make build [PROFILE=...]   just build the kernel and the test programs
#   make lint                  checkpatch, W=1 and sparse on our code

SHELL := /bin/bash
export PROFILE CMD EXTRA QEMU_ARGS ICOUNT ARCH VM_TIMEOUT VM_MEM VM_APPEND \
	VM_MSI_ISOLATION CHECK_PLAN IOMMUFD_CACHE

.PHONY: help check run vm bench stress conformance build lint cache-clean

help:
	@sed -n 's/^#   //p' Makefile

check:
	@tools/check.sh

run:
	@tools/run.sh run

vm:
	@tools/run.sh vm

bench:
	@tools/bench.sh

# SECONDS is also bash's clock; only a value given to make is taken
stress:
	@STRESS_SECONDS='$(SECONDS)' tools/stress.sh

conformance:
	@tools/conformance.sh

build:
	@source tools/lib.sh && check_profile && build_for_vm

lint:
	@source tools/lib.sh && tools/deps.sh && lock_cache && \
		tools/prepare-tree.sh && tools/build-kernel.sh --config-only && \
		tools/lint.sh

cache-clean:
	@source tools/lib.sh && lock_cache && echo "removing $$CACHE" && \
		rm -rf "$$CACHE"
