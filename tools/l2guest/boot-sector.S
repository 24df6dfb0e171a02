/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A boot sector for e2e:qemu10: the harness writes it to LBA 0 of the NVMe
 * that an L2 QEMU boots from through iommufd. SeaBIOS reads it with the
 * NVMe's DMA into guest RAM at 0x7c00 and jumps here, so each byte printed
 * is a byte that DMA carried. It says so on COM1 and halts: the test ends
 * QEMU with a signal.
 */
	.code16
	.section .text
	.globl _start
_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %ss
	movw	$0x7c00, %sp
	movw	$banner, %si
next:
	lodsb
	testb	%al, %al
	jz	done
	movw	$0x3fd, %dx		/* COM1 line status: wait for room */
wait:
	inb	%dx, %al
	testb	$0x20, %al
	jz	wait
	movb	-1(%si), %al
	movw	$0x3f8, %dx
	outb	%al, %dx
	jmp	next
done:
	hlt
	jmp	done

banner:
	.asciz	"IOMMUFD-L2: booted from the assigned NVMe\r\n"

	.org	510
	.byte	0x55, 0xaa
