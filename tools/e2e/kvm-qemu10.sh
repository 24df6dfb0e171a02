#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# QEMU 10's own iommufd backend, with KVM, the way users run a VM on
# /dev/iommu: -object iommufd and two vfio-pci devices given by their
# cdevs, under -accel kvm (KVM runs in our VM: its -cpu max has SVM).
#  - the NVMe (slot 7), whose LBA 0 make check wrote with a boot sector
#    (tools/l2guest/boot-sector.S): SeaBIOS reads it by the NVMe's DMA
#    through the IOAS and runs it, and it reports on the L2's COM1;
#  - the first e1000e function behind the root port, which has no FLR:
#    QEMU resets it at machine start by a hot reset proven through its
#    iommufd (GET_PCI_HOT_RESET_INFO with DEV_ID, PCI_HOT_RESET with an
#    empty array).
# Both share one IOAS and one HWPT, so guest RAM is pinned and charged
# once. QEMU ends on SIGTERM within a bound, and then nothing of it is
# left pinned or bound. Every ioctl QEMU made is recorded with strace
# and counted; an ioctl that failed fails the test, but for the ones
# QEMU expects to fail (listed in qemu10.inc, with why). Prints TAP.

T=/tmp/kvm-qemu10
. "$(dirname "$0")/qemu10.inc"

nvme=
e1k=
for d in /sys/bus/pci/devices/*; do
	case "$(cat $d/vendor):$(cat $d/device)" in
	0x1b36:0x0010) nvme=${d##*/} ;;
	0x8086:0x10d3) case ${d##*/} in *.0) e1k=${d##*/} ;; esac ;;
	esac
done
[ -n "$nvme" ] && [ -n "$e1k" ]
ok $? "an NVMe ($nvme) and an e1000e behind a root port ($e1k)"
[ -c /dev/kvm ]
ok $? "/dev/kvm is there"
[ -x $X/bin/qemu10-system-x86_64 ]
ok $? "QEMU $(cat $X/qemu10.version 2>/dev/null) is in $X"
end_if_failed

# every function of the e1000e slot on vfio-pci: the group must be viable
bound=0
for b in $nvme ${e1k%.0}.0 ${e1k%.0}.1; do
	to_vfio "$b" || bound=1
done
ok $bound "the NVMe and both e1000e functions are on vfio-pci"

avail0=$(mem_avail)
qemu10_start -machine q35 -object iommufd,id=fd0 \
	-device vfio-pci,host=$nvme,iommufd=fd0,bootindex=0 \
	-device vfio-pci,host=$e1k,iommufd=fd0,rombar=0

# the boot sector's line on the L2's COM1, or QEMU gone, or 900 s
qemu10_wait '^IOMMUFD-L2: booted from the assigned NVMe' 900
ok $? "the L2 booted from the NVMe through iommufd and said so ($(($(uptime_s) - t0)) s)"

# guest RAM is 128 MiB: pinned once, it is about that, twice twice that
pin=$(qemu10_vmpin)
echo "# QEMU (pid ${pid:-?}) has VmPin ${pin:-?} kB with two devices"
[ -n "$pin" ] && [ "$pin" -ge 131072 ] && [ "$pin" -lt 196608 ]
ok $? "guest RAM is pinned and charged once (128 MiB <= VmPin < 192 MiB)"

qemu10_stop
ok $? "QEMU ended on SIGTERM ($stop_secs s)"

[ "$(count 0x3b81 0)" -eq 1 ]
ok $? "one IOMMU_IOAS_ALLOC: the two devices share one IOAS"
[ "$(count 0x3b76 0)" -eq 2 ]
ok $? "two VFIO_DEVICE_BIND_IOMMUFD"
[ "$(count 0x3b77 0)" -ge 2 ] && [ "$(awk '$1 == "0x3b77" && $2 != "0"' $T/ioctls | wc -l)" -eq 0 ]
ok $? "VFIO_DEVICE_ATTACH_IOMMUFD_PT: $(count 0x3b77 0) done, none refused"
[ "$(count 0x3b89 0)" -le 1 ]
ok $? "at most one IOMMU_HWPT_ALLOC ($(count 0x3b89 0)): the second device took the first's HWPT"
[ "$(count 0x4018aee1 0)" -ge 2 ] && [ "$(awk '$1 == "0x4018aee1" && $2 != "0"' $T/ioctls | wc -l)" -eq 0 ]
ok $? "KVM took both cdevs (KVM_SET_DEVICE_ATTR FILE_ADD: $(count 0x4018aee1 0), none refused)"
[ "$(count 0x3b70 0)" -ge 1 ] && [ "$(count 0x3b71 0)" -ge 1 ]
ok $? "the e1000e was hot reset through its iommufd (GET_PCI_HOT_RESET_INFO $(count 0x3b70 0), PCI_HOT_RESET $(count 0x3b71 0))"
[ "$(count 0x3b6f 0)" -ge 1 ]
ok $? "the NVMe (FLR) was reset by VFIO_DEVICE_RESET ($(count 0x3b6f 0))"
[ "$(count 0x3b85 0)" -ge 1 ]
ok $? "guest RAM was mapped: $(count 0x3b85 0) IOMMU_IOAS_MAP"
qemu10_only_expected_failures
ok $? "no iommufd or VFIO ioctl failed but those QEMU expects to ($(wc -l <$T/ours) made)"

# afterwards: nothing bound (the groups open), nothing pinned
groups_free $nvme $e1k
ok $? "after QEMU, its devices' groups open again: nothing is bound"
ram_came_back "its 128 MiB of guest RAM"
echo "1..$n"
exit $fail
