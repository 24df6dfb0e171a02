#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Boot the test VM once: vm.sh check|run|vm
#
# The VM runs under TCG with three edu DMA devices: one alone in slot 3,
# two as functions 0 and 1 of slot 4. On x86_64 (the default) it is QEMU's
# q35 with emulated VT-d (interrupt remapping on); the guest's kernel
# console (ttyS0) goes to console.log, and what init and the tests print
# (ttyS1) goes to output.log and is streamed here. On ARCH=arm64 it is
# QEMU's virt with an SMMUv3 in front of the PCIe host bridge, a GICv3
# with an ITS and EL2 (for KVM); the console is the PL011 (ttyAMA0), the
# tests' output a virtio console (hvc0; virtio-mmio, not behind the SMMU).
# VM_MSI_ISOLATION=0 takes away what isolates MSIs: VT-d's interrupt
# remapping; on arm64 the ITS, by a GICv2 whose v2m frame gives MSIs that
# do not tell devices apart (a GICv3 without an ITS has no MSIs at all,
# and QEMU's edu refuses to exist without them).
#
# Environment: RUN_DIR (where to keep the logs), CMD (mode vm), EXTRA (a directory, appears as /extra),
# QEMU_ARGS (more QEMU options, split at spaces: extra devices such as
# "-device nvme,serial=n1,drive=d -drive if=none,id=d,file=...,format=raw"),
# ICOUNT=1 (deterministic guest time), VM_TIMEOUT (seconds, wall clock),
# BOOT_STALL, BOOT_STALL_KNOWN, BOOT_TIMEOUT and VM_BOOT_TRIES (hung boots,
# see below),
# VM_MEM, VM_APPEND (more kernel parameters), ARCH (x86_64 or arm64),
# VM_MSI_ISOLATION (0: none, see above).
#
# Leaves in the run directory: console.log, output.log, qemu.log and
# status ("exit N", "timeout" or "crash"); the directory's path is printed
# on failure and $LOGS/latest points to it.
source "$(dirname "$0")/lib.sh"
check_profile

mode=${1:-}
case "$mode" in
check|run|vm) ;;
*) die "usage: vm.sh check|run|vm" ;;
esac
[ "$mode" != vm ] || [ -n "${CMD:-}" ] || die "make vm needs CMD='...'"

# One VM at a time on this machine (2 cores): a second waits its turn.
exec 8>"$CACHE/.vm-lock"
if ! flock -n 8; then
	msg "waiting for another VM run to finish"
	flock 8
fi

kernel=$BUILD/$KIMAGE
base=$BUILD/initramfs.cpio.gz
[ -f "$kernel" ] && [ -f "$base" ] || die "no kernel/initramfs in $BUILD; build first"

mkdir -p "$LOGS"
run=${RUN_DIR:-$(mktemp -d "$LOGS/$(date +%Y%m%d-%H%M%S)-$mode-$PROFILE-XXXX")}
ln -sfn "$run" "$LOGS/latest"

interactive=
[ "$mode" = run ] && [ -t 0 ] && [ -t 1 ] && interactive=1
"$(dirname "$0")/mkinitramfs.sh" run "$run/run.cpio.gz" "$mode" \
	"${CMD:-}" "${EXTRA:-}" "$interactive"
cat "$base" "$run/run.cpio.gz" >"$run/initrd.gz"

dma=dma_mask=0xffffffffffffffff
append="panic=-1 kasan_multi_shot log_buf_len=4M rdinit=/init"
case "$ARCH" in
x86_64)
	ir=on
	[ "${VM_MSI_ISOLATION:-1}" = 0 ] && ir=off
	qemu=(qemu-system-x86_64
		-machine q35,kernel-irqchip=split -accel tcg -cpu max,la57=off
		-device "intel-iommu,intremap=$ir,caching-mode=on")
	append="console=ttyS0 intel_iommu=on no_timer_check idle=poll $append"
	# the tests' output: the second serial port (ttyS1)
	out_file() { echo "-serial file:$1"; }
	out_stdio=(-serial mon:stdio) ;;
arm64)
	# pauth-impdef: QEMU's own pointer-authentication algorithm, much
	# cheaper under TCG than the architected one
	gic=gic-version=3,its=on
	[ "${VM_MSI_ISOLATION:-1}" = 0 ] && gic=gic-version=2
	qemu=(qemu-system-aarch64
		-machine "virt,iommu=smmuv3,$gic,virtualization=on"
		-accel tcg -cpu max,pauth-impdef=on
		-device virtio-serial-device)
	# iommufd_out: init's variable naming the tests' output (hvc0)
	append="console=ttyAMA0 iommufd_out=hvc0 $append"
	out_file() { echo "-chardev file,id=out,path=$1 -device virtconsole,chardev=out"; }
	out_stdio=(-chardev stdio,id=out,mux=on,signal=off -mon chardev=out
		   -device virtconsole,chardev=out) ;;
esac
qemu+=(-smp 2 -m "${VM_MEM:-2G}" -nodefaults -display none -no-reboot
	-device edu,addr=03.0,$dma
	-device edu,addr=04.0,multifunction=on,$dma
	-device edu,addr=04.1,multifunction=on,$dma
	-kernel "$kernel" -initrd "$run/initrd.gz"
	-append "$append ${VM_APPEND:-}"
	-serial "file:$run/console.log")
# More devices for make vm; a PCI device that honours the vIOMMU (e1000,
# nvme, edu; virtio only with iommu_platform=on) can be bound to vfio-pci
# in the guest and driven through iommufd.
# shellcheck disable=SC2206
[ -n "${QEMU_ARGS:-}" ] && qemu+=(${QEMU_ARGS})
# -icount makes guest time count instructions. It also makes TCG run the
# vCPUs round-robin, where the second vCPU never came up: use one.
[ "${ICOUNT:-0}" = 1 ] && qemu+=(-icount shift=0,sleep=off -smp 1)

if [ -n "$interactive" ]; then
	# The user's terminal is the tests' output (ttyS1, hvc0); Ctrl-A X
	# quits QEMU.
	"${qemu[@]}" "${out_stdio[@]}"
	exit $?
fi

limit=${VM_TIMEOUT:-1800}
# log_buf_len=4M: the fuzzer and the stress tests make thousands of mock
# devices, each logged twice; with the default 128 KiB the kernel log no
# longer held the boot's lines that later tests look for (iommufd serving
# /dev/vfio/vfio) by the time they ran.
#
# Without idle=poll (on the command line above) the TCG guest often stopped
# for good early in boot, before any of our code runs (at worst 4 boots in
# a row today): vCPU 0 sat in HLT with interrupts on while its local APIC
# had the timer vector (236) in service, a timer interrupt that QEMU 7.2's
# TCG accepted but never delivered; the console's last line was "Running
# RCU-tasks wait API self tests". With idle=poll the guest never halts, and
# 4 boots in a row got past that point; it still happens, though (on
# 2026-12-02 in 12 of 30 boots, once 5 in a row). It is neither the LAPIC
# timer nor a second vCPU: boots with -smp 1, with lapic=notscdeadline and
# with nolapic_timer hung at the same line (2026-12-02). That line comes
# before SMP bring-up, where the boot first sleeps on a timer. So a boot
# whose console has been silent for BOOT_STALL seconds (a KASAN boot prints
# every few seconds even on a busy host), or for BOOT_STALL_KNOWN seconds
# after that very line (a healthy boot prints the next line at once), or
# that has not reached init after BOOT_TIMEOUT seconds, is killed and
# started again, VM_BOOT_TRIES times at most; each hung console is kept as
# console.hung-N.log and reported.
boot_limit=${BOOT_TIMEOUT:-480}
boot_stall=${BOOT_STALL:-120}
boot_stall_known=${BOOT_STALL_KNOWN:-40}
known_hang='Running RCU-tasks wait API self tests'
tries=${VM_BOOT_TRIES:-8}
t0=$(now)
try=1
while :; do
	: >"$run/output.log"
	rm -f "$run/boot-wall" "$run/boot-hung"
	# shellcheck disable=SC2046
	timeout -k 10 "$limit" "${qemu[@]}" $(out_file "$run/output.log") \
		</dev/null >"$run/qemu.log" 2>&1 9>&- &
	qpid=$!
	# timeout(1) gives QEMU a process group of its own: stop it with us.
	trap 'kill $qpid 2>/dev/null || true' EXIT
	(
		# Hung: no new console output for $boot_stall s ($boot_stall_known
		# s after the known hang's line), or no init after $boot_limit s.
		waited=0 still=0 size=-1 stall=$boot_stall
		while [ ! -f "$run/boot-wall" ] && kill -0 $qpid 2>/dev/null; do
			if [ $waited -ge "$boot_limit" ] || [ $still -ge "$stall" ]; then
				touch "$run/boot-hung"
				kill $qpid
				break
			fi
			sleep 5
			waited=$((waited + 5))
			now_size=$(stat -c %s "$run/console.log" 2>/dev/null || echo 0)
			if [ "$now_size" = "$size" ]; then
				still=$((still + 5))
			else
				still=0
				size=$now_size
				stall=$boot_stall
				if tail -n 1 "$run/console.log" | grep -qF "$known_hang"; then
					stall=$boot_stall_known
				fi
			fi
		done
	) 9>&- 8>&- &
	wpid=$!

	# Stream ttyS1 as it comes; note when the first test suite starts.
	tail -s 0.2 -n +1 -f --pid=$qpid "$run/output.log" | while IFS= read -r line; do
		line=${line%$'\r'}
		case "$line" in
		@@IOMMUFD-EXIT*|@@KMEMLEAK*|@@PLAN-COMPLETE@@) ;;
		@@IOMMUFD-BOOTED*)
			echo "$(since "$t0")" >"$run/boot-wall"
			[ "$mode" = vm ] || printf -- '--- VM up after %s s\n' "$(since "$t0")" ;;
		@@SUITE*)
			[ -f "$run/first-suite-wall" ] || since "$t0" >"$run/first-suite-wall"
			line=${line#@@SUITE }
			printf -- '--- %s\n' "${line%@@}" ;;
		@@END*) ;;
		*) printf '%s\n' "$line" ;;
		esac
	done
	wait $qpid && qrc=0 || qrc=$?
	kill $wpid 2>/dev/null || true
	wait $wpid 2>/dev/null || true
	[ -f "$run/boot-hung" ] && [ "$try" -lt "$tries" ] || break
	mv "$run/console.log" "$run/console.hung-$try.log"
	printf 'warning: boot %s hung before init (console stopped at "%s"); booting again\n' \
		"$try" "$(tail -n 1 "$run/console.hung-$try.log" | tr -d '\r' | sed 's/^\[ *[0-9.]*\] //')" >&2
	try=$((try + 1))
done
since "$t0" >"$run/vm-wall"

status=$(sed -n 's/^@@IOMMUFD-EXIT \([0-9]*\)@@\r*$/exit \1/p' "$run/output.log" | tail -n 1)
if [ -f "$run/boot-hung" ]; then
	status=timeout
	printf 'error: %s boots in a row hung before init\n' "$try" >&2
elif [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
	status=timeout
	printf 'error: the VM did not finish within VM_TIMEOUT=%s s and was killed\n' "$limit" >&2
elif [ -z "$status" ]; then
	status=crash
	printf 'error: the VM stopped before init finished (QEMU status %s): kernel panic or QEMU failure\n' "$qrc" >&2
	[ -s "$run/qemu.log" ] && sed 's/^/qemu: /' "$run/qemu.log" >&2
fi
echo "$status" >"$run/status"

case "$status" in
"exit 0") exit 0 ;;
"exit "*)
	[ "$mode" = check ] || printf 'error: the command in the VM exited with status %s\n' "${status#exit }" >&2
	rc=${status#exit } ;;
*) rc=125 ;;
esac
[ "$mode" = check ] || printf 'console log: %s/console.log\n' "$run" >&2
exit "$rc"
