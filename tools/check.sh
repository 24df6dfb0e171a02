#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# make check [ARCH=arm64] [CHECK_PLAN=reduced]: install, prepare, lint,
# build, boot the debug kernel, run the test plan and judge it. Prints the
# summary of tools/results.py and exits non-zero on any failure.
export PROFILE=debug	# before lib.sh, which derives $BUILD from it
source "$(dirname "$0")/lib.sh"
T=$REPO/tools
t0=$(now)

build_for_vm --lint
build_s=$(since "$t0")

msg "booting the $PROFILE kernel and running the test plan"
tv=$(now)
mkdir -p "$LOGS"
run=$(mktemp -d "$LOGS/$(date +%Y%m%d-%H%M%S)-check-$ARCH-$PROFILE-XXXX")
# Device models besides the edus, added the way make vm QEMU_ARGS adds
# them: two e1000 NICs on a hub and an NVMe controller on a 64 MiB sparse
# file of the run, which keeps what is written (e2e:nvme-clients reads back
# what its clients wrote; a null drive would lose it), which
# e2e:other-devices drives through vfio-pci and iommufd too; and an NVMe
# controller with SR-IOV (two VFs) under Intel's ID, so that the others
# leave it alone, for e2e:vf-token; and behind a PCIe root port, a slot of
# two e1000e functions (one iommu_group, no FLR: a reset of one is a bus
# reset of both) for e2e:hot-reset.
truncate -s 64M "$run/nvme.img"
# its LBA 0: the boot sector e2e:kvm-qemu10's L2 boots from and
# e2e:kvm-viommu's L2 reads (both run before e2e:nvme-clients writes there)
# (x86_64 only: on arm64 those suites skip, see tools/build-tests.sh)
[ "$ARCH" != x86_64 ] ||
	dd if="$BUILD/tests/qemu/boot-sector.bin" of="$run/nvme.img" \
		conv=notrunc status=none
more="-netdev hubport,id=hp0,hubid=0 -device e1000,netdev=hp0,addr=05.0"
more+=" -netdev hubport,id=hp1,hubid=0 -device e1000,netdev=hp1,addr=06.0"
more+=" -blockdev driver=file,node-name=nvm0,filename=$run/nvme.img"
more+=" -device nvme,serial=iommufd0,drive=nvm0,addr=07.0"
more+=" -device nvme-subsys,id=nvmsub8 -device nvme,serial=iommufd1"
more+=",subsys=nvmsub8,use-intel-id=on,addr=08.0,sriov_max_vfs=2"
more+=",sriov_vq_flexible=4,sriov_vi_flexible=2"
# (a 5 GT/s port: after a bus reset the kernel waits for a faster one's
# Data Link Layer Link Active, which QEMU 7.2's never sets again)
more+=" -device pcie-root-port,id=rp9,chassis=9,addr=09.0,x-speed=5"
more+=" -netdev hubport,id=hp2,hubid=0 -netdev hubport,id=hp3,hubid=0"
more+=" -device e1000e,netdev=hp2,bus=rp9,addr=00.0,multifunction=on"
more+=" -device e1000e,netdev=hp3,bus=rp9,addr=00.1"
export QEMU_ARGS="$more ${QEMU_ARGS:-}"
# The plan runs about 11 min here (4 of them the fuzzer); a slow day has
# been 3x slower. CHECK_PLAN=reduced runs the reduced plan of
# tools/guest/plan.sh (what CI runs on arm64).
export VM_TIMEOUT=${VM_TIMEOUT:-3600}
case "${CHECK_PLAN:-all}" in
all) ;;
reduced) export VM_APPEND="IOMMUFD_PLAN=reduced ${VM_APPEND:-}" ;;
*) die "CHECK_PLAN=$CHECK_PLAN: all or reduced" ;;
esac
vm_rc=0
RUN_DIR=$run "$T/vm.sh" check || vm_rc=$?
first=$(grep -m1 -E 'KTAP version|TAP version' "$run/console.log" |
	sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p' || true)
vm_s=$(since "$tv")

# A second, short boot without MSI isolation (no interrupt remapping on
# x86_64, no ITS on arm64) for the one suite that needs it, e2e:msi-unsafe,
# judged the same way.
msg "booting again without MSI isolation for e2e:msi-unsafe"
tu=$(now)
run2=$(mktemp -d "$LOGS/$(date +%Y%m%d-%H%M%S)-check-$ARCH-unsafe-msi-XXXX")
vm2_rc=0
RUN_DIR=$run2 VM_MSI_ISOLATION=0 QEMU_ARGS= VM_TIMEOUT=1800 \
	CMD='IOMMUFD_PLAN=unsafe-msi sh /guest/plan.sh' "$T/vm.sh" vm ||
	vm2_rc=$?
printf 'timings: total %s s, install+lint+build %s s, VM %s s (up after %s s), first test at %s s of kernel time; boot without MSI isolation %s s\n' \
	"$(since "$t0")" "$build_s" "$vm_s" \
	"$(cat "$run/boot-wall" 2>/dev/null || echo '?')" "${first:-?}" \
	"$(since "$tu")"
judge_run "$run" "$vm_rc" "make check"
judge_run "$run2" "$vm2_rc" "make check (boot without MSI isolation)"
