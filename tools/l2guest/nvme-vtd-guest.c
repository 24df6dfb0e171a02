// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvme-vtd-guest: a bare-metal x86 program for QEMU's -kernel (multiboot),
 * the guest of a QEMU 10 inside the test VM that gives it an NVMe through
 * iommufd *behind an emulated VT-d* (-device intel-iommu,caching-mode=on).
 *
 * The story, as the guest tells it on COM1 ("NVME-VTD: ..." lines):
 *
 *  1. It builds second-level page tables that map six IOVA pages at
 *     1 GiB (queues and buffers), far from the guest-physical addresses of
 *     the memory behind them, gives the NVMe a context entry pointing at
 *     them and turns DMA remapping on. With caching mode, L2 QEMU learns
 *     of each change from the invalidation that follows it and makes the
 *     IOAS match: it unmaps guest RAM (the device no longer sees it
 *     1:1) and maps the six pages, one IOMMU_IOAS_MAP each.
 *  2. It drives the NVMe by IOVAs only: admin queues, IDENTIFY, an I/O
 *     queue pair, a READ of LBA 0 (the harness wrote a boot sector there).
 *     Every byte of it crossed three translations: the L2 VT-d's tables,
 *     shadowed into our IOAS, and L1's real (emulated) VT-d.
 *  3. It unmaps the data page (clears its PTE, page-selective IOTLB
 *     invalidation: L2 QEMU issues IOMMU_IOAS_UNMAP) and reads again to
 *     the same IOVA: the page must stay untouched (the test finds the
 *     refused write in L1's IOMMU fault log). Data in the page here is an
 *     isolation failure.
 *  4. It maps the same IOVA to another page (IOMMU_IOAS_MAP again) and
 *     reads once more: the data lands in the new page, not in the old.
 *
 * Each step ends in one of: done, nothing written, timed out, wrong page,
 * with the evidence (the NVMe's status). The last line is "NVME-VTD: PASS" or
 * "NVME-VTD: FAIL <why>"; then the program halts with the final mapping
 * in place (the test reads what the IOAS holds, then ends QEMU).
 *
 * Entered in 32-bit protected mode without paging: pointers are
 * guest-physical addresses, below 4 GiB, and so are the BARs SeaBIOS gave.
 */
#include "bare.h"

#define PAGE 4096u

static __attribute__((noreturn)) void finish(const char *why)
{
	puts_com1(why ? "NVME-VTD: FAIL " : "NVME-VTD: PASS");
	if (why)
		puts_com1(why);
	puts_com1("\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* a 64-bit register as two 32-bit writes, the low half first */
static void wr64(uint32_t *base, uint32_t reg, uint64_t v)
{
	wr32(base, reg, (uint32_t)v);
	wr32(base, reg + 4, (uint32_t)(v >> 32));
}

/*
 * Tries of a wait before the guest calls it timed out. Each try reads a
 * register (an exit to QEMU), so this is hours even on a fast host: the
 * bound that counts is the test's on the host (e2e:kvm-viommu waits 900 s
 * for the last line, and shows the last step reached), and no step here
 * gives up early because the host is busy.
 */
#define SPINS 0xffffffffu

/* Wait for (rd32(base, reg) & mask) == want; 0 once it is, else -1. */
static int wait32(uint32_t *base, uint32_t reg, uint32_t mask,
		  uint32_t want)
{
	uint32_t spins;

	for (spins = 0; spins < SPINS; spins++)
		if ((rd32(base, reg) & mask) == want)
			return 0;
	return -1;
}

/* ---- the remapping unit (VT-d, legacy mode) ------------------------ */

/* where QEMU's q35 puts the unit; its ACPI DMAR table says the same */
#define VTD_BASE 0xfed90000u
#define VTD_VER 0x00
#define VTD_CAP 0x08
#define VTD_ECAP 0x10
#define VTD_GCMD 0x18
#define VTD_GSTS 0x1c
#define VTD_RTADDR 0x20
#define VTD_CCMD 0x28
#define VTD_GCMD_TE (1u << 31)
#define VTD_GCMD_SRTP (1u << 30)
#define VTD_GSTS_TES (1u << 31)
#define VTD_GSTS_RTPS (1u << 30)
/* CCMD high half: ICC (bit 63), CIRG = global (bits 62:61 = 01) */
#define VTD_CCMD_HI_GLOBAL ((1u << 31) | (1u << 29))
/* IOTLB high half: IVT (bit 63), IIRG (bits 61:60), DID (bits 47:32) */
#define VTD_IOTLB_HI_IVT (1u << 31)
#define VTD_IOTLB_HI_GLOBAL (1u << 28)
#define VTD_IOTLB_HI_PAGE (3u << 28)

#define DOMAIN_ID 1u
/* second-level PTE bits: read, write */
#define SL_RW 3ull

static uint32_t *vtd;
static uint32_t iotlb_reg;	/* IVA at iotlb_reg, IOTLB at iotlb_reg + 8 */

static uint64_t root_table[512] __attribute__((aligned(PAGE)));
static uint64_t context_table[512] __attribute__((aligned(PAGE)));
/* a 39-bit, three-level table: level 3 -> level 2 -> level 1 (4 KiB) */
static uint64_t sl3[512] __attribute__((aligned(PAGE)));
static uint64_t sl2[512] __attribute__((aligned(PAGE)));
static uint64_t sl1[512] __attribute__((aligned(PAGE)));

/* the IOVA window: 2 MiB at 1 GiB, one level-1 table */
#define IOVA_BASE 0x40000000u
#define IOVA(n) (IOVA_BASE + (n) * PAGE)

static void vtd_flush_context(void)
{
	wr32(vtd, VTD_CCMD, 0);
	wr32(vtd, VTD_CCMD + 4, VTD_CCMD_HI_GLOBAL);
	if (wait32(vtd, VTD_CCMD + 4, 1u << 31, 0))
		finish("context-cache invalidation did not finish");
}

/* page-selective when @iova is set, else global */
static void vtd_flush_iotlb(uint32_t iova)
{
	if (iova) {
		wr64(vtd, iotlb_reg, iova);	/* IVA: address, AM = 0 */
		wr32(vtd, iotlb_reg + 8, 0);
		wr32(vtd, iotlb_reg + 12, VTD_IOTLB_HI_IVT |
			  VTD_IOTLB_HI_PAGE | DOMAIN_ID);
	} else {
		wr32(vtd, iotlb_reg + 8, 0);
		wr32(vtd, iotlb_reg + 12, VTD_IOTLB_HI_IVT |
			  VTD_IOTLB_HI_GLOBAL);
	}
	if (wait32(vtd, iotlb_reg + 12, VTD_IOTLB_HI_IVT, 0))
		finish("IOTLB invalidation did not finish");
}

/* map IOVA page @n to the guest page at @gpa, or unmap it (@gpa 0) */
static void vtd_set_page(uint32_t n, void *gpa)
{
	sl1[n] = gpa ? (uint32_t)gpa | SL_RW : 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vtd_flush_iotlb(IOVA(n));
}

static void vtd_enable(uint32_t devfn, void *const *pages, uint32_t npages)
{
	uint64_t cap;
	uint32_t i;

	vtd = (uint32_t *)VTD_BASE;
	if (rd32(vtd, VTD_VER) == 0 || rd32(vtd, VTD_VER) == 0xffffffffu)
		finish("no remapping unit at 0xfed90000");
	cap = rd32(vtd, VTD_CAP) | (uint64_t)rd32(vtd, VTD_CAP + 4) << 32;
	if (!(cap & (1u << 9)))		/* SAGAW bit 1: 39-bit, 3-level */
		finish("the unit has no 3-level tables");
	if (!(cap & (1ull << 7)))	/* CM: the case we are here for */
		finish("the unit is not in caching mode");
	iotlb_reg = ((rd32(vtd, VTD_ECAP) >> 8) & 0x3ff) * 16;

	for (i = 0; i < npages; i++)
		sl1[i] = (uint32_t)pages[i] | SL_RW;
	sl2[0] = (uint32_t)sl1 | SL_RW;
	sl3[IOVA_BASE >> 30] = (uint32_t)sl2 | SL_RW;
	/* present, translation type 00 (untranslated requests), AW 1 */
	context_table[2 * devfn] = (uint32_t)sl3 | 1;
	context_table[2 * devfn + 1] = DOMAIN_ID << 8 | 1;
	root_table[0] = (uint32_t)context_table | 1;	/* bus 0 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	wr64(vtd, VTD_RTADDR, (uint32_t)root_table);
	wr32(vtd, VTD_GCMD, VTD_GCMD_SRTP);
	if (wait32(vtd, VTD_GSTS, VTD_GSTS_RTPS, VTD_GSTS_RTPS))
		finish("the root table pointer was not taken");
	vtd_flush_context();
	vtd_flush_iotlb(0);
	wr32(vtd, VTD_GCMD, VTD_GCMD_TE);
	if (wait32(vtd, VTD_GSTS, VTD_GSTS_TES, VTD_GSTS_TES))
		finish("translation did not turn on");
}

/* ---- the NVMe, by IOVAs only --------------------------------------- */

#define QDEPTH 8u
#define NVME_CAP 0x00
#define NVME_CC 0x14
#define NVME_CSTS 0x1c
#define NVME_AQA 0x24
#define NVME_ASQ 0x28
#define NVME_ACQ 0x30

struct sqe {
	uint8_t opcode, flags;
	uint16_t cid;
	uint32_t nsid, rsvd[2];
	uint64_t mptr, prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct cqe {
	uint32_t result, rsvd;
	uint16_t sq_head, sq_id, cid, status;
};

/* the pages behind IOVA pages 0..5; data_a and data_b share IOVA 5 */
static struct sqe asq[PAGE / sizeof(struct sqe)] __attribute__((aligned(PAGE)));
static struct cqe acq[PAGE / sizeof(struct cqe)] __attribute__((aligned(PAGE)));
static struct sqe iosq[PAGE / sizeof(struct sqe)] __attribute__((aligned(PAGE)));
static struct cqe iocq[PAGE / sizeof(struct cqe)] __attribute__((aligned(PAGE)));
static uint8_t ident[PAGE] __attribute__((aligned(PAGE)));
static uint8_t data_a[PAGE] __attribute__((aligned(PAGE)));
static uint8_t data_b[PAGE] __attribute__((aligned(PAGE)));
enum { P_ASQ, P_ACQ, P_IOSQ, P_IOCQ, P_IDENT, P_DATA, P_COUNT };

struct queue {
	struct sqe *sq;
	struct cqe *cq;
	uint32_t qid, tail, head, phase;
};

static uint32_t *nvme;
static uint32_t dstrd;
static struct queue admin = { asq, acq, 0, 0, 0, 1 };
static struct queue io = { iosq, iocq, 1, 0, 0, 1 };
static uint16_t next_cid = 1;

enum outcome { DONE, FAILED, TIMED_OUT };

/* submit @cmd on @q and wait for its completion; *status: SCT/SC */
static enum outcome nvme_cmd(struct queue *q, struct sqe *cmd,
			     uint32_t *status)
{
	struct cqe *c;
	uint32_t spins;

	cmd->cid = next_cid++;
	q->sq[q->tail] = *cmd;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	q->tail = (q->tail + 1) % QDEPTH;
	wr32(nvme, 0x1000 + (2 * q->qid << (2 + dstrd)), q->tail);
	c = &q->cq[q->head];
	/* each try also reads CSTS: an exit, and a fatal controller seen */
	for (spins = 0; spins < SPINS; spins++) {
		if ((__atomic_load_n(&c->status, __ATOMIC_SEQ_CST) & 1) ==
		    q->phase)
			break;
		if (rd32(nvme, NVME_CSTS) & 2)
			finish("the NVMe reports a fatal status (CSTS.CFS)");
	}
	if (spins == SPINS)
		return TIMED_OUT;
	*status = c->status >> 1;
	if (c->cid != cmd->cid)
		finish("a completion for another command");
	q->head = (q->head + 1) % QDEPTH;
	if (!q->head)
		q->phase ^= 1;
	wr32(nvme, 0x1000 + ((2 * q->qid + 1) << (2 + dstrd)), q->head);
	return *status ? FAILED : DONE;
}

static void nvme_enable(void)
{
	dstrd = rd32(nvme, NVME_CAP + 4) & 0xf;	/* doorbell stride */
	wr32(nvme, NVME_CC, 0);
	if (wait32(nvme, NVME_CSTS, 1, 0))
		finish("the NVMe did not stop");
	wr32(nvme, NVME_AQA, (QDEPTH - 1) << 16 | (QDEPTH - 1));
	wr64(nvme, NVME_ASQ, IOVA(P_ASQ));
	wr64(nvme, NVME_ACQ, IOVA(P_ACQ));
	/* EN, 4 KiB pages, 64-byte SQ and 16-byte CQ entries */
	wr32(nvme, NVME_CC, 1 | 6u << 16 | 4u << 20);
	if (wait32(nvme, NVME_CSTS, 3, 1))
		finish("the NVMe did not become ready (admin queues by IOVA)");
}

static void must(enum outcome o, uint32_t status, const char *what)
{
	puts_com1("NVME-VTD: ");
	puts_com1(what);
	puts_com1(o == DONE ? ": done\n" : o == TIMED_OUT ? ": timed out\n" :
		  ": failed, status ");
	if (o == FAILED) {
		puthex(status);
		puts_com1("\n");
	}
	if (o != DONE)
		finish(what);
}

static enum outcome read_lba0(uint32_t *status)
{
	struct sqe cmd = { .opcode = 0x02, .nsid = 1, .prp1 = IOVA(P_DATA) };

	return nvme_cmd(&io, &cmd, status);	/* LBA 0, one block */
}

static int sector_ok(const uint8_t *p)
{
	static const char banner[] = "IOMMUFD-L2: booted";
	uint32_t i, j;

	if (p[510] != 0x55 || p[511] != 0xaa)
		return 0;
	for (i = 0; i + sizeof(banner) - 1 < 510; i++) {
		for (j = 0; j < sizeof(banner) - 1; j++)
			if (p[i + j] != (uint8_t)banner[j])
				break;
		if (j == sizeof(banner) - 1)
			return 1;
	}
	return 0;
}

static int untouched(const uint8_t *p)
{
	uint32_t i;

	for (i = 0; i < PAGE; i++)
		if (p[i] != 0xee)
			return 0;
	return 1;
}

static void fill(uint8_t *p)
{
	uint32_t i;

	for (i = 0; i < PAGE; i++)
		p[i] = 0xee;
}

void guest_main(void)
{
	void *pages[P_COUNT] = { asq, acq, iosq, iocq, ident, data_a };
	struct sqe cmd;
	uint32_t dev, status = 0;
	enum outcome o;

	for (dev = 0; dev < 32; dev++)
		if (pci_read(dev, 0) == 0x00101b36u)	/* QEMU's NVMe */
			break;
	if (dev == 32)
		finish("no NVMe on PCI bus 0");
	if ((pci_read(dev, 0x10) & 0x6) == 0x4 && pci_read(dev, 0x14))
		finish("BAR0 is above 4 GiB");
	nvme = (uint32_t *)(pci_read(dev, 0x10) & ~0xfu);
	if (!nvme)
		finish("BAR0 is not assigned");
	/* memory space and bus master */
	pci_write(dev, 0x04, pci_read(dev, 0x04) | 0x6);
	fill(data_a);
	fill(data_b);

	/* 1: the NVMe sees six IOVA pages and nothing else */
	vtd_enable(dev << 3, pages, P_COUNT);
	puts_com1("NVME-VTD: remapping on, 6 IOVA pages at ");
	puthex(IOVA_BASE);
	puts_com1("\n");

	/* 2: every queue and buffer by IOVA */
	nvme_enable();
	cmd = (struct sqe){ .opcode = 0x06, .prp1 = IOVA(P_IDENT),
			    .cdw10 = 1 };	/* IDENTIFY controller */
	must(nvme_cmd(&admin, &cmd, &status), status, "identify");
	if (ident[0] != 0x36 || ident[1] != 0x1b)
		finish("identify: wrong page (no vendor ID 0x1b36)");
	cmd = (struct sqe){ .opcode = 0x05, .prp1 = IOVA(P_IOCQ),
			    .cdw10 = (QDEPTH - 1) << 16 | 1, .cdw11 = 1 };
	must(nvme_cmd(&admin, &cmd, &status), status, "create I/O CQ");
	cmd = (struct sqe){ .opcode = 0x01, .prp1 = IOVA(P_IOSQ),
			    .cdw10 = (QDEPTH - 1) << 16 | 1,
			    .cdw11 = 1u << 16 | 1 };
	must(nvme_cmd(&admin, &cmd, &status), status, "create I/O SQ");
	must(read_lba0(&status), status, "read LBA 0 to IOVA page 5");
	if (!sector_ok(data_a))
		finish("read: wrong page (no boot sector in it)");
	puts_com1("NVME-VTD: the boot sector came through IOVA ");
	puthex(IOVA(P_DATA));
	puts_com1("\n");

	/*
	 * 3: unmapped, the same read must change nothing. Whether the NVMe
	 * says so depends on the model: QEMU 7.2's, behind L1's VT-d, reads
	 * the block into a bounce buffer and reports success even though
	 * its IOMMU refused the write-back. What counts here is the page;
	 * the test checks L1's fault log for the refused IOVA.
	 */
	fill(data_a);
	vtd_set_page(P_DATA, 0);
	o = read_lba0(&status);
	puts_com1("NVME-VTD: read to the unmapped IOVA: ");
	if (o == TIMED_OUT) {
		puts_com1("timed out\n");
		finish("the refused read never completed");
	}
	if (!untouched(data_a) || !untouched(data_b)) {
		puts_com1("wrong page (a page it no longer maps was written)\n");
		finish("a read to an unmapped IOVA reached guest memory");
	}
	puts_com1("nothing written, status ");
	puthex(status);
	puts_com1("\n");

	/* 4: the IOVA again, now another page behind it */
	vtd_set_page(P_DATA, data_b);
	must(read_lba0(&status), status, "read LBA 0 to the remapped IOVA");
	if (!untouched(data_a))
		finish("remapped read: wrong page (the old page was written)");
	if (!sector_ok(data_b))
		finish("remapped read: wrong page (the new page lacks it)");
	puts_com1("NVME-VTD: the remapped read landed in the new page only\n");
	finish(0);
}
