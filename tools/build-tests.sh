#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Build the programs that run inside the VM, statically, against the uAPI
# headers exported by this profile's kernel build, into $BUILD/tests:
#   kselftest/<name>   one per tools/testing/selftests/iommu/*.c, built by
#                      that directory's Makefile (make -C tools/testing/
#                      selftests TARGETS=iommu) with the base tree's harness
#   bin/<name>         helper programs from tools/guest/*.c
#   bench/<name>       benchmarks from tools/bench/*.c
#   modules/<name>.ko  test-only kernel modules from tools/modules
#   e2e/<name>.sh      end-to-end scripts from tools/e2e
#   nvme/<name>        libvfn's examples, from shared/clients (nvme-clients)
#   qemu/...           QEMU and qemu-io with their libraries (qemu-client,
#                      nvme-clients)
source "$(dirname "$0")/lib.sh"
check_profile

hdr=$BUILD/usr/include
[ -f "$hdr/linux/iommufd.h" ] || die "no exported headers in $hdr; build the kernel first"
out=$BUILD/tests
rm -rf "$out"
mkdir -p "$out/kselftest" "$out/bin" "$out/bench" "$out/e2e"

CFLAGS=(-O2 -Wall -Werror -D_GNU_SOURCE -static -pthread -isystem "$hdr")
# The kselftests are built the kernel's way, by their own Makefile through
# tools/testing/selftests (O= puts them in $BUILD/kselftest/iommu and takes
# the headers from $BUILD/usr/include); statically, and warnings are errors.
ksft=$BUILD/kselftest/iommu
rm -rf "$ksft"
make -s -C "$TREE/tools/testing/selftests" TARGETS=iommu O="$BUILD" \
	ARCH="$ARCH" ${CROSS:+CROSS_COMPILE=$CROSS} FORCE_TARGETS=1 USERCFLAGS=-Werror USERLDFLAGS=-static \
	>"$BUILD/kselftest.log" 2>&1 ||
	{ cat "$BUILD/kselftest.log" >&2; die "building the kselftests failed"; }
n=0
for src in "$REPO"/tools/testing/selftests/iommu/*.c; do
	bin=$ksft/$(basename "$src" .c)
	[ -x "$bin" ] || die "the selftests Makefile did not build $bin"
	cp "$bin" "$out/kselftest/"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || die "no kselftests in tools/testing/selftests/iommu"
for dir in guest:bin bench:bench; do
	for src in "$REPO/tools/${dir%:*}"/*.c; do
		[ -e "$src" ] || continue
		"$CC" "${CFLAGS[@]}" -o "$out/${dir#*:}/$(basename "$src" .c)" \
			"$src" || die "building $src failed"
	done
done
# The QEMU clients and their L2 guests (e2e:qemu-client, e2e:qemu10,
# e2e:kvm-*, qemu-io in e2e:nvme-clients) are host binaries, so x86_64
# only: on arm64 those checks skip (README, "Architectures").
qemu_clients() {
# e2e:qemu-client: Debian's QEMU with the libraries, TCG module and firmware
# it needs, and its bare-metal guest (32-bit multiboot), under /tests/qemu
q=$out/qemu
mkdir -p "$q/bin" "$q/lib" "$q/mod" "$q/fw"
cp /usr/bin/qemu-system-x86_64 "$q/bin/"
mods=/usr/lib/x86_64-linux-gnu/qemu
cp "$mods/accel-tcg-x86_64.so" "$q/mod/"
for lib in $( (ldd /usr/bin/qemu-system-x86_64; ldd "$mods/accel-tcg-x86_64.so") |
	awk '/=>/ { print $3 } /ld-linux/ { print $1 }' | sort -u); do
	cp -L "$lib" "$q/lib/"
done
cp -L /usr/share/seabios/bios-256k.bin /usr/share/qemu/multiboot_dma.bin \
	/usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/kvmvapic.bin "$q/fw/"
# e2e:nvme-clients: QEMU's userspace NVMe driver, qemu-io (qemu-utils), whose
# libraries are those of qemu-system-x86_64 above
cp /usr/bin/qemu-io "$q/bin/"
for lib in $(ldd /usr/bin/qemu-io | awk '/=>/ { print $3 }'); do
	[ -e "$q/lib/$(basename "$lib")" ] || cp -L "$lib" "$q/lib/"
done
gcc -m32 -ffreestanding -nostdlib -fno-pic -fno-pie -no-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -O2 -Wall -Werror \
	-static -Wl,-T,"$REPO/tools/l2guest/edu-guest.ld" -Wl,--build-id=none \
	-o "$q/edu-guest.elf" "$REPO/tools/l2guest/edu-guest.c" ||
	die "building the bare-metal edu guest failed"
# e2e:qemu10: QEMU 10 (bookworm-backports, unpacked into the cache by
# deps.sh) beside it as bin/qemu10-system-x86_64, with its firmware in
# fw10 (SeaBIOS is bookworm's) and the libraries it needs added to lib;
# strace, to record the ioctls QEMU makes; and the boot sector the L2
# boots from (tools/l2guest/boot-sector.S), which make check writes to
# the NVMe's disk before the VM starts.
q10=$CACHE/qemu10/root
[ -x "$q10/usr/bin/qemu-system-x86_64" ] || die "no QEMU 10 in $q10 (tools/deps.sh fetches it)"
mkdir -p "$q/fw10"
cp "$q10/usr/bin/qemu-system-x86_64" "$q/bin/qemu10-system-x86_64"
cp /usr/bin/strace "$q/bin/"
for lib in $( (ldd "$q10/usr/bin/qemu-system-x86_64"; ldd /usr/bin/strace) |
	awk '/=>/ { print $3 }'); do
	[ -e "$q/lib/$(basename "$lib")" ] || cp -L "$lib" "$q/lib/"
done
cp -L /usr/share/seabios/bios-256k.bin "$q10/usr/share/qemu/kvmvapic.bin" \
	"$q10/usr/share/qemu/linuxboot_dma.bin" \
	"$q10/usr/share/qemu/multiboot_dma.bin" "$q/fw10/"
# e2e:viommu-qemu10: the bare-metal L2 that turns on QEMU's emulated VT-d
# and drives the NVMe by IOVAs (tools/l2guest/nvme-vtd-guest.c)
gcc -m32 -ffreestanding -nostdlib -fno-pic -fno-pie -no-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -O2 -Wall -Werror \
	-static -Wl,-T,"$REPO/tools/l2guest/edu-guest.ld" -Wl,--build-id=none \
	-Wl,--no-warn-rwx-segments \
	-o "$q/nvme-vtd-guest.elf" "$REPO/tools/l2guest/nvme-vtd-guest.c" ||
	die "building the bare-metal NVMe-behind-VT-d guest failed"
cat "$CACHE/qemu10/version" >"$q/qemu10.version"
gcc -m32 -nostdlib -static -fno-pic -no-pie -Wl,-Ttext=0x7c00 \
	-Wl,--oformat=binary -Wl,--build-id=none -o "$q/boot-sector.bin" \
	"$REPO/tools/l2guest/boot-sector.S" ||
	die "building the L2 boot sector failed"
[ "$(stat -c %s "$q/boot-sector.bin")" -eq 512 ] ||
	die "the L2 boot sector is not 512 bytes"
}
[ "$ARCH" != x86_64 ] || qemu_clients

# e2e:nvme-clients: libvfn's identify and io examples under /tests/nvme,
# built statically from the unmodified upstream tarball in shared/clients
# against this profile's linux/iommufd.h and linux/vfio.h; without the
# tarball the script skips their checks. For arm64, cross-built against
# the arm64 sysroot tools/deps.sh unpacks (libnvme, json-c, OpenSSL). Where: IOMMUFD_CLIENTS, else
# shared/clients beside this repository, else beside the repository this
# one was cloned from (a clean clone elsewhere, as CI makes).
origin=$(git -C "$REPO" config --get remote.origin.url 2>/dev/null || true)
vfn_tar=
for clients in ${IOMMUFD_CLIENTS:-"$REPO/../shared/clients" \
	"${origin:-/nonexistent}/../shared/clients"}; do
	for f in "$clients"/libvfn-*.tar.gz; do
		[ -f "$f" ] && vfn_tar=$f
	done
	[ -n "$vfn_tar" ] && break
done
if [ -n "$vfn_tar" ]; then
	vfn=$BUILD/libvfn
	# built again only when the tarball or the two headers change
	sum=$(cat "$vfn_tar" "$hdr/linux/iommufd.h" "$hdr/linux/vfio.h" |
		sha256sum | cut -d' ' -f1)
	if [ "$(cat "$vfn/stamp" 2>/dev/null)" != "$sum" ]; then
		rm -rf "$vfn"
		mkdir -p "$vfn/src" "$vfn/include/linux"
		cp "$hdr/linux/iommufd.h" "$hdr/linux/vfio.h" \
			"$vfn/include/linux/"
		tar -xzf "$vfn_tar" -C "$vfn/src"
		cross=()
		if [ "$ARCH" = arm64 ]; then
			root=$CACHE/arm64-root/root
			[ -f "$root/usr/lib/aarch64-linux-gnu/libnvme.a" ] ||
				die "no arm64 libnvme in $root (tools/deps.sh fetches it)"
			cat >"$vfn/cross.ini" <<-EOF
			[binaries]
			c = '${CROSS}gcc'
			cpp = '${CROSS}g++'
			ar = '${CROSS}ar'
			strip = '${CROSS}strip'
			pkgconfig = 'pkg-config'
			# libvfn's build runs a table generator it builds, and
			# meson a sanity check: Debian's qemu-user runs them here,
			# with the cross libc for the dynamic ones
			exe_wrapper = ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu']
			[built-in options]
			c_args = ['-isystem', '$root/usr/include/aarch64-linux-gnu']
			[properties]
			sys_root = '$root'
			pkg_config_libdir = '$root/usr/lib/aarch64-linux-gnu/pkgconfig:$root/usr/share/pkgconfig'
			[host_machine]
			system = 'linux'
			cpu_family = 'aarch64'
			cpu = 'aarch64'
			endian = 'little'
			EOF
			cross=(--cross-file "$vfn/cross.ini")
		fi
		(cd "$vfn"/src/libvfn* &&
			meson setup "$vfn/build" "${cross[@]}" \
				-Dlinux-headers="$vfn/include" \
				-Diommufd=enabled -Ddocs=disabled \
				-Dlibnvme=enabled --default-library=static \
				--prefer-static -Dc_link_args=-static &&
			ninja -C "$vfn/build" examples/identify examples/io) \
			>"$BUILD/libvfn.log" 2>&1 ||
			{ cat "$BUILD/libvfn.log" >&2; die "building libvfn failed"; }
		echo "$sum" >"$vfn/stamp"
	fi
	mkdir -p "$out/nvme"
	"${CROSS}strip" -o "$out/nvme/identify" "$vfn/build/examples/identify"
	"${CROSS}strip" -o "$out/nvme/io" "$vfn/build/examples/io"
else
	msg "no libvfn tarball in shared/clients: e2e:nvme-clients skips libvfn"
fi
# test modules (tools/modules), built against this profile's kernel in a
# copy of their directory, so that no build output lands in the repository
tmods=$BUILD/test-modules
rm -rf "$tmods"
mkdir -p "$tmods" "$out/modules"
cp "$REPO"/tools/modules/* "$tmods/"
make -s -C "$BUILD" ARCH="$ARCH" ${CROSS:+CROSS_COMPILE=$CROSS} M="$tmods" modules >"$BUILD/test-modules.log" 2>&1 ||
	{ cat "$BUILD/test-modules.log" >&2; die "building the test modules failed"; }
cp "$tmods"/*.ko "$out/modules/"
cp "$REPO"/tools/e2e/*.sh "$REPO"/tools/e2e/*.inc "$out/e2e/" 2>/dev/null || true
