// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu-guest: a bare-metal x86 program for QEMU's -kernel (multiboot), the
 * guest of the QEMU that runs inside the test VM with an edu device passed
 * through by vfio-pci. It finds the edu on PCI bus 0, enables it, lets it
 * copy a pattern from guest RAM through its buffer back to guest RAM, checks
 * the bytes and prints one line on COM1:
 *
 *   EDU-GUEST: DMA OK 2048 bytes     or     EDU-GUEST: FAIL <why>
 *
 * then leaves QEMU through isa-debug-exit (port 0xf4): status 1 on success
 * ((0 << 1) | 1), 3 on failure. Entered in 32-bit protected mode without
 * paging, so pointers are guest-physical addresses, which are the IOVAs the
 * host-side QEMU mapped its guest RAM at.
 */
#include "bare.h"

static uint8_t src[4096] __attribute__((aligned(4096)));
static uint8_t dst[4096] __attribute__((aligned(4096)));

static __attribute__((noreturn)) void finish(int ok, const char *why)
{
	puts_com1(ok ? "EDU-GUEST: DMA OK " : "EDU-GUEST: FAIL ");
	if (ok) {
		putu(2048);
		puts_com1(" bytes");
	} else {
		puts_com1(why);
	}
	puts_com1("\n");
	outb(0xf4, ok ? 0 : 1);
	for (;;)
		__asm__ volatile("cli; hlt");
}

static uint32_t *bar0;

static uint32_t mmio_rd(uint32_t reg)
{
	return rd32(bar0, reg);
}

static void mmio_wr(uint32_t reg, uint32_t v)
{
	wr32(bar0, reg, v);
}

static int edu_dma(uint32_t from, uint32_t to, uint32_t len, uint32_t cmd)
{
	uint32_t spins;

	mmio_wr(0x80, from);
	mmio_wr(0x88, to);
	mmio_wr(0x90, len);
	mmio_wr(0x98, cmd);
	/* the model completes after ~100 ms of virtual time; TCG is slow */
	for (spins = 0; spins < 400000000u; spins++)
		if (!(mmio_rd(0x98) & 1))
			return 0;
	return -1;
}

void guest_main(void)
{
	uint32_t dev, id = 0, i;

	for (dev = 0; dev < 32; dev++) {
		id = pci_read(dev, 0);
		if (id == 0x11e81234u)
			break;
	}
	if (dev == 32)
		finish(0, "no edu on PCI bus 0");
	bar0 = (uint32_t *)(pci_read(dev, 0x10) & ~0xfu);
	if (!bar0)
		finish(0, "BAR0 is not assigned");
	/* memory space and bus master */
	pci_write(dev, 0x04, pci_read(dev, 0x04) | 0x6);
	if ((mmio_rd(0) & 0xff) != 0xed)
		finish(0, "BAR0 does not read as an edu");

	for (i = 0; i < 2048; i++) {
		src[i] = (uint8_t)(i * 13 + 7);
		dst[i] = 0xee;
	}
	if (edu_dma((uint32_t)src, 0x40000, 2048, 1))
		finish(0, "DMA RAM -> edu did not finish");
	if (edu_dma(0x40000, (uint32_t)dst, 2048, 3))
		finish(0, "DMA edu -> RAM did not finish");
	for (i = 0; i < 2048; i++)
		if (dst[i] != src[i])
			finish(0, "the bytes differ");
	finish(1, 0);
}
