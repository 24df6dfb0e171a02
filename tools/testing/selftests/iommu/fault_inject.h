/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fault_inject.h: make the Nth allocation of this thread fail.
 *
 * The kernel's fault injection (CONFIG_FAULT_INJECTION, FAILSLAB,
 * FAIL_PAGE_ALLOC, FAULT_INJECTION_DEBUG_FS) has a per-thread counter,
 * /proc/self/task/<tid>/fail-nth: written N, the thread's Nth pass through
 * any injection point fails, and reading it back gives 0 once that
 * happened. For the allocations we care about to count, failslab and
 * fail_page_alloc must not skip sleeping (GFP_KERNEL) allocations or
 * order-0 pages, and must stay quiet: a forced failure would otherwise
 * print a stack dump, which make check counts as a splat. fi_setup()
 * sets that up in debugfs and fi_restore() puts the old values back.
 * (iommufd_faults replays a point that went wrong with the dumps on when
 * FI_VERBOSE is set in its environment.)
 *
 * Used by the kselftests and by the VM's VFIO fault programs; plain C,
 * no test harness.
 */
#ifndef FAULT_INJECT_H
#define FAULT_INJECT_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define FI_DEBUGFS "/sys/kernel/debug"

/* the debugfs knobs fi_setup() sets, and the value each gets */
static const struct {
	const char *path;
	const char *value;
} fi_knobs[] = {
	{ FI_DEBUGFS "/failslab/ignore-gfp-wait", "N" },
	{ FI_DEBUGFS "/failslab/verbose", "0" },
	{ FI_DEBUGFS "/fail_page_alloc/ignore-gfp-wait", "N" },
	{ FI_DEBUGFS "/fail_page_alloc/ignore-gfp-highmem", "N" },
	{ FI_DEBUGFS "/fail_page_alloc/min-order", "0" },
	{ FI_DEBUGFS "/fail_page_alloc/verbose", "0" },
};

#define FI_NR_KNOBS ARRAY_SIZE(fi_knobs)

struct fault_inject {
	int nth_fd;			/* this thread's fail-nth */
	char saved[FI_NR_KNOBS][32];	/* the knobs' values before */
};

static inline int fi_read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static inline int fi_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * Set the knobs and open this thread's fail-nth. Returns 0, or -1 if fault
 * injection is not available (the caller skips), with nothing changed.
 */
static inline int fi_setup(struct fault_inject *fi)
{
	char path[64];
	unsigned int i;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	fi->nth_fd = open(path, O_RDWR | O_CLOEXEC);
	if (fi->nth_fd < 0)
		return -1;
	for (i = 0; i != FI_NR_KNOBS; i++) {
		if (fi_read_file(fi_knobs[i].path, fi->saved[i],
				 sizeof(fi->saved[i])))
			goto undo;
	}
	for (i = 0; i != FI_NR_KNOBS; i++) {
		const char *val = fi_knobs[i].value;

		if (fi_write_file(fi_knobs[i].path, val))
			goto undo;
	}
	return 0;
undo:
	while (i--)
		fi_write_file(fi_knobs[i].path, fi->saved[i]);
	close(fi->nth_fd);
	fi->nth_fd = -1;
	return -1;
}

static inline void fi_restore(struct fault_inject *fi)
{
	unsigned int i;

	for (i = 0; i != FI_NR_KNOBS; i++)
		fi_write_file(fi_knobs[i].path, fi->saved[i]);
	close(fi->nth_fd);
	fi->nth_fd = -1;
}

/* From now on, the @n-th injection point this thread passes fails. */
static inline int fi_arm(struct fault_inject *fi, unsigned int n)
{
	char val[16];
	int len = snprintf(val, sizeof(val), "%u", n);

	return pwrite(fi->nth_fd, val, len, 0) == len ? 0 : -1;
}

/*
 * Stop injecting. Returns 1 if the armed failure happened, 0 if the thread
 * did not pass that many injection points, -1 on error.
 */
static inline int fi_disarm(struct fault_inject *fi)
{
	char val[16];
	ssize_t n;

	n = pread(fi->nth_fd, val, sizeof(val) - 1, 0);
	if (pwrite(fi->nth_fd, "0", 1, 0) != 1 || n <= 0)
		return -1;
	val[n] = 0;
	return atoi(val) == 0;
}

#endif
