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
# QEMU expects to fail (listed below, with why). Prints TAP.

. "$(dirname "$0")/tap.inc"
X=/tests/qemu
T=/tmp/kvm-qemu10
echo "TAP version 13"
rm -rf $T
mkdir -p $T

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
if [ $fail -ne 0 ]; then
	echo "1..$n"
	exit 1
fi

# every function of the e1000e slot on vfio-pci: the group must be viable
to_vfio() {
	d=/sys/bus/pci/devices/$1
	[ "$(basename "$(readlink $d/driver)")" = vfio-pci ] && return 0
	[ -e $d/driver ] && echo "$1" >$d/driver/unbind
	echo vfio-pci >$d/driver_override
	echo "$1" >/sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink $d/driver)")" = vfio-pci ]
}
bound=0
for b in $nvme ${e1k%.0}.0 ${e1k%.0}.1; do
	to_vfio "$b" || bound=1
done
ok $bound "the NVMe and both e1000e functions are on vfio-pci"

mem_avail() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	awk '/^MemAvailable:/ { print $2 }' /proc/meminfo
}
avail0=$(mem_avail)

# QEMU's ld.so and libraries are ours (LD_LIBRARY_PATH); so are strace's.
# -ff: one file per thread, so that no line is split.
t0=$(cut -d. -f1 /proc/uptime)
LD_LIBRARY_PATH=$X/lib $X/lib/ld-linux-x86-64.so.2 $X/bin/strace -qq -ff \
	-o $T/st -e trace=ioctl -e raw=ioctl \
	$X/lib/ld-linux-x86-64.so.2 $X/bin/qemu10-system-x86_64 \
	-machine q35 -accel kvm -m 128M -nodefaults -no-user-config \
	-display none -L $X/fw10 -object iommufd,id=fd0 \
	-device vfio-pci,host=$nvme,iommufd=fd0,bootindex=0 \
	-device vfio-pci,host=$e1k,iommufd=fd0,rombar=0 \
	-serial file:$T/serial -pidfile $T/pid >$T/qemu.log 2>&1 &
spid=$!

# the boot sector's line on the L2's COM1, or QEMU gone, or 900 s
pid=
booted=1
while :; do
	[ -z "$pid" ] && [ -s $T/pid ] && pid=$(cat $T/pid)
	if grep -q '^IOMMUFD-L2: booted from the assigned NVMe' $T/serial \
		2>/dev/null; then
		booted=0
		break
	fi
	kill -0 $spid 2>/dev/null || break
	[ $(( $(cut -d. -f1 /proc/uptime) - t0 )) -ge 900 ] && break
	sleep 1
done
secs=$(( $(cut -d. -f1 /proc/uptime) - t0 ))
ok $booted "the L2 booted from the NVMe through iommufd and said so ($secs s)"

# guest RAM is 128 MiB: pinned once, it is about that, twice twice that
pin=
[ -n "$pid" ] && pin=$(awk '/^VmPin:/ { print $2 }' /proc/$pid/status 2>/dev/null)
echo "# QEMU (pid ${pid:-?}) has VmPin ${pin:-?} kB with two devices"
[ -n "$pin" ] && [ "$pin" -ge 131072 ] && [ "$pin" -lt 196608 ]
ok $? "guest RAM is pinned and charged once (128 MiB <= VmPin < 192 MiB)"

# SIGTERM to QEMU itself (a SIGTERM to strace would leave it running)
t1=$(cut -d. -f1 /proc/uptime)
[ -n "$pid" ] && kill -TERM "$pid"
gone=1
while [ $(( $(cut -d. -f1 /proc/uptime) - t1 )) -lt 120 ]; do
	if [ -z "$pid" ] || [ ! -d /proc/$pid ]; then
		gone=0
		break
	fi
	sleep 1
done
ok $gone "QEMU ended on SIGTERM ($(( $(cut -d. -f1 /proc/uptime) - t1 )) s)"
[ $gone -ne 0 ] && [ -n "$pid" ] && kill -KILL "$pid"
wait $spid
sed 's/^/# qemu: /' $T/qemu.log

# ioctl numbers: iommufd's (';', 0x80 + n), VFIO's (';', 100 + n), KVM's
name() {
	case $1 in
	0x3b80) echo IOMMU_DESTROY ;;
	0x3b81) echo IOMMU_IOAS_ALLOC ;;
	0x3b82) echo IOMMU_IOAS_ALLOW_IOVAS ;;
	0x3b83) echo IOMMU_IOAS_COPY ;;
	0x3b84) echo IOMMU_IOAS_IOVA_RANGES ;;
	0x3b85) echo IOMMU_IOAS_MAP ;;
	0x3b86) echo IOMMU_IOAS_UNMAP ;;
	0x3b87) echo IOMMU_OPTION ;;
	0x3b89) echo IOMMU_HWPT_ALLOC ;;
	0x3b8a) echo IOMMU_GET_HW_INFO ;;
	0x3b6b) echo VFIO_DEVICE_GET_INFO ;;
	0x3b6c) echo VFIO_DEVICE_GET_REGION_INFO ;;
	0x3b6d) echo VFIO_DEVICE_GET_IRQ_INFO ;;
	0x3b6e) echo VFIO_DEVICE_SET_IRQS ;;
	0x3b6f) echo VFIO_DEVICE_RESET ;;
	0x3b70) echo VFIO_DEVICE_GET_PCI_HOT_RESET_INFO ;;
	0x3b71) echo VFIO_DEVICE_PCI_HOT_RESET ;;
	0x3b75) echo VFIO_DEVICE_FEATURE ;;
	0x3b76) echo VFIO_DEVICE_BIND_IOMMUFD ;;
	0x3b77) echo VFIO_DEVICE_ATTACH_IOMMUFD_PT ;;
	0x3b78) echo VFIO_DEVICE_DETACH_IOMMUFD_PT ;;
	0xc00caee0) echo KVM_CREATE_DEVICE ;;
	0x4018aee1) echo KVM_SET_DEVICE_ATTR ;;
	*) echo "$1" ;;
	esac
}
# "<request> <0 or errno>" per ioctl, of every thread, KVM_RUN left out
cat $T/st.* 2>/dev/null | sed -n \
	's/^ioctl([^,]*, \(0x[0-9a-f]*\),.*= \(-1 \([A-Z0-9]*\)\|\([0-9][0-9]*\|0x[0-9a-f]*\)\).*$/\1 \3/p' |
	awk '$1 != "0xae80" { print $1, ($2 == "" ? "0" : $2) }' >$T/ioctls
count() {	# count <request> <0 or errno>
	awk -v r="$1" -v e="$2" '$1 == r && $2 == e' $T/ioctls | wc -l
}
# the iommufd, VFIO and KVM-VFIO ones: type ';', and KVM's device ones
awk '$1 ~ /^0x3b[0-9a-f][0-9a-f]$/ || $1 == "0x4018aee1" ||
     $1 == "0xc00caee0"' $T/ioctls >$T/ours
echo "# iommufd, VFIO and KVM-VFIO ioctls QEMU made, by request and result"
echo "# (and $(($(wc -l <$T/ioctls) - $(wc -l <$T/ours))) others, KVM_RUN left out):"
sort $T/ours | uniq -c | while read -r c r e; do
	echo "#   $(name $r) ($r): $c x ${e}"
done

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

# Of those, the failures QEMU expects, as on mainline:
#  - IOMMU_IOAS_MAP EFAULT: it maps each RAM-backed region it sees, the
#    mmaps of the devices' BARs too, which can't be pinned; it says so and
#    goes on (the guest's peer-to-peer DMA to a BAR is all it loses);
#  - IOMMU_IOAS_IOVA_RANGES EMSGSIZE and GET_PCI_HOT_RESET_INFO ENOSPC:
#    it asks first with room for nothing, to learn how many there are;
#  - VFIO_DEVICE_FEATURE ENOTTY: it probes migration and dirty page
#    logging, which vfio-pci has for no device of ours.
awk '$2 != "0" && !($1 == "0x3b85" && $2 == "EFAULT") &&
     !($1 == "0x3b84" && $2 == "EMSGSIZE") &&
     !($1 == "0x3b70" && $2 == "ENOSPC") &&
     !($1 == "0x3b75" && $2 == "ENOTTY")' $T/ours >$T/unexpected
while read -r r e; do
	echo "# unexpected: $(name $r) ($r) failed with $e"
done <$T/unexpected
[ ! -s $T/unexpected ]
ok $? "no iommufd or VFIO ioctl failed but those QEMU expects to ($(wc -l <$T/ours) made)"

# afterwards: nothing bound (the groups open), nothing pinned
left=0
for b in $nvme $e1k; do
	g=/dev/vfio/$(basename "$(readlink /sys/bus/pci/devices/$b/iommu_group)")
	(exec 3<>"$g") 2>/dev/null || left=1
done
ok $left "after QEMU, its devices' groups open again: nothing is bound"
avail1=$(mem_avail)
echo "# MemAvailable: $avail0 kB before QEMU, $avail1 kB after"
[ $((avail0 - avail1)) -lt 65536 ]
ok $? "after QEMU, its 128 MiB of guest RAM came back (within 64 MiB)"
echo "1..$n"
exit $fail
