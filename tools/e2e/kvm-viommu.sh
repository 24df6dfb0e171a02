#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# QEMU 10's iommufd backend behind a vIOMMU: the L2 QEMU (-accel kvm)
# gives its guest an emulated VT-d in caching mode and the NVMe (slot 7)
# through its cdev. The guest, tools/l2guest/nvme-vtd-guest.c, turns DMA
# remapping on with six IOVA pages mapped at 1 GiB and drives the NVMe by
# IOVAs only; it then unmaps the data page and reads to it again, and maps
# it to another page and reads once more. L2 QEMU shadows each change into
# our IOAS (IOMMU_IOAS_UNMAP of guest RAM when remapping starts, then one
# IOMMU_IOAS_MAP or UNMAP per guest PTE change). The guest's COM1 says
# what each DMA did; here we check that, that the IOAS holds the guest's
# six pages and nothing else (QEMU's VmPin), that L1's IOMMU is what
# refused the unmapped read, and QEMU's ioctls. Prints TAP.

T=/tmp/kvm-viommu
. "$(dirname "$0")/qemu10.inc"

nvme=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat $d/vendor):$(cat $d/device)" = 0x1b36:0x0010 ] && nvme=${d##*/}
done
[ -n "$nvme" ] && [ -c /dev/kvm ] && [ -x $X/bin/qemu10-system-x86_64 ] &&
	[ -f $X/nvme-vtd-guest.elf ]
ok $? "an NVMe ($nvme), /dev/kvm, QEMU $(cat $X/qemu10.version 2>/dev/null) and the L2 guest"
end_if_failed
to_vfio $nvme
ok $? "the NVMe is on vfio-pci"

avail0=$(mem_avail)
klines=$(dmesg | wc -l)
# intel-iommu before the device it translates for, with: caching mode,
# which vfio-pci behind a vIOMMU needs; no interrupt remapping (the guest
# polls); the address width of L1's VT-d, which QEMU 10 checks against
# ours. The irqchip is split, the way an intel-iommu with KVM is set up
# elsewhere here (QEMU 7.2 needs it); this run does not test the other.
qemu10_start -machine q35,kernel-irqchip=split \
	-device intel-iommu,caching-mode=on,intremap=off,aw-bits=39 \
	-object iommufd,id=fd0 -device vfio-pci,host=$nvme,iommufd=fd0 \
	-kernel $X/nvme-vtd-guest.elf

qemu10_wait '^NVME-VTD: (PASS|FAIL)' 900
ok $? "the L2 guest finished ($(($(uptime_s) - t0)) s)"
sed 's/^/# L2: /' $T/serial
line() {
	grep -q "^NVME-VTD: $1" $T/serial
}
line 'remapping on, 6 IOVA pages at 0x40000000'
ok $? "the L2 turned DMA remapping on: 6 IOVA pages at 1 GiB"
line 'identify: done' && line 'create I/O CQ: done' && line 'create I/O SQ: done'
ok $? "admin and I/O queues by IOVA: IDENTIFY, CREATE I/O CQ and SQ done"
line 'read LBA 0 to IOVA page 5: done' &&
	line 'the boot sector came through IOVA 0x40005000'
ok $? "READ of LBA 0 through IOVA 0x40005000 done, the boot sector in the page"
line 'read to the unmapped IOVA: nothing written'
ok $? "after the guest unmapped it, a READ to that IOVA wrote nothing to the old page"
line 'read LBA 0 to the remapped IOVA: done' &&
	line 'the remapped read landed in the new page only'
ok $? "remapped to another page, the READ landed there and not in the old one"
line PASS
ok $? "the L2 guest says PASS"

# The refused READ: L1's VT-d refused the NVMe's write to the IOVA that
# the IOAS no longer maps, and our kernel logged the fault. (QEMU 7.2's
# NVMe model completes the command with success regardless: it reads
# into a bounce buffer and drops the failed write-back.)
dmesg | tail -n +$((klines + 1)) >$T/dmesg
grep 'DMAR' $T/dmesg | sed 's/^/# L1: /'
grep -q "fault addr 0x40005000" $T/dmesg
ok $? "L1's IOMMU refused the write to IOVA 0x40005000 (DMAR fault logged)"

# the IOAS holds the guest's six pages, not guest RAM
pin=$(qemu10_vmpin)
echo "# QEMU (pid ${pid:-?}) has VmPin ${pin:-?} kB with remapping on"
[ -n "$pin" ] && [ "$pin" -eq 24 ]
ok $? "only the guest's 6 mapped pages are pinned (VmPin 24 kB)"

qemu10_stop
ok $? "QEMU ended on SIGTERM ($stop_secs s)"
maps=$(count 0x3b85 0)
unmaps=$(count 0x3b86 0)
echo "# IOMMU_IOAS_MAP: $maps, IOMMU_IOAS_UNMAP: $unmaps"
[ "$(count 0x3b81 0)" -eq 1 ] && [ "$(count 0x3b76 0)" -eq 1 ] &&
	[ "$(count 0x3b77 0)" -ge 1 ]
ok $? "one IOAS, the NVMe bound and attached"
# guest RAM (at least one map) before remapping, then the 6 pages and the
# remapped one; guest RAM unmapped when remapping began, and the data page
[ "$maps" -ge 8 ] && [ "$unmaps" -ge 2 ]
ok $? "QEMU shadowed the guest's tables: $maps MAPs (>= 1 + 6 + 1), $unmaps UNMAPs (>= 2)"
qemu10_only_expected_failures
ok $? "no iommufd or VFIO ioctl failed but those QEMU expects to ($(wc -l <$T/ours) made)"

groups_free $nvme
ok $? "after QEMU, the NVMe's group opens again: nothing is bound"
ram_came_back "its guest RAM"
echo "1..$n"
exit $fail
