/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bare.h: what the bare-metal L2 guests share. Each is one C file built
 * with -m32 -ffreestanding -nostdlib and linked by edu-guest.ld, loaded by
 * QEMU's -kernel as a multiboot image at 1 MiB, and entered in 32-bit
 * protected mode without paging: pointers are guest-physical addresses.
 * Including this gives the multiboot header, a stack, an entry point that
 * calls the program's guest_main(), port I/O, COM1 output, PCI
 * configuration access through ports 0xcf8/0xcfc, and 32-bit MMIO.
 */
#ifndef L2GUEST_BARE_H
#define L2GUEST_BARE_H

#include <stdint.h>

#define MB_MAGIC 0x1badb002u
#define MB_FLAGS 0u

struct mb_header {
	uint32_t magic, flags, checksum;
};

__attribute__((section(".multiboot"), used, aligned(4)))
static const struct mb_header mb = {
	MB_MAGIC, MB_FLAGS, (uint32_t)-(MB_MAGIC + MB_FLAGS),
};

uint8_t stack[16384] __attribute__((aligned(16)));

void guest_main(void);

__asm__(".globl _start\n"
	"_start:\n"
	"	mov $stack + 16384, %esp\n"
	"	call guest_main\n"
	"1:	hlt\n"
	"	jmp 1b\n");

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void putc_com1(char c)
{
	while (!(inb(0x3f8 + 5) & 0x20))	/* wait for room */
		;
	outb(0x3f8, c);
}

static inline void puts_com1(const char *s)
{
	while (*s)
		putc_com1(*s++);
}

static inline void putu(uint32_t v)
{
	char buf[11];
	int i = 10;

	buf[i] = 0;
	do
		buf[--i] = '0' + v % 10;
	while (v /= 10);
	puts_com1(buf + i);
}

static inline void puthex(uint32_t v)
{
	int i;

	puts_com1("0x");
	for (i = 28; i >= 0; i -= 4)
		putc_com1("0123456789abcdef"[(v >> i) & 0xf]);
}

/* configuration register @reg of device @dev on bus 0, function 0 */
static inline uint32_t pci_read(uint32_t dev, uint32_t reg)
{
	outl(0xcf8, 0x80000000u | dev << 11 | (reg & 0xfc));
	return inl(0xcfc);
}

static inline void pci_write(uint32_t dev, uint32_t reg, uint32_t v)
{
	outl(0xcf8, 0x80000000u | dev << 11 | (reg & 0xfc));
	outl(0xcfc, v);
}

/* MMIO: one 32-bit access each, never merged or dropped by the compiler */
static inline uint32_t rd32(uint32_t *base, uint32_t reg)
{
	return __atomic_load_n(&base[reg / 4], __ATOMIC_SEQ_CST);
}

static inline void wr32(uint32_t *base, uint32_t reg, uint32_t v)
{
	__atomic_store_n(&base[reg / 4], v, __ATOMIC_SEQ_CST);
}

#endif
