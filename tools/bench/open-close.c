// SPDX-License-Identifier: GPL-2.0-only
/*
 * open-close: the fixed cost of an iommufd context.
 *
 * Times open()+close() of /dev/iommu and an unknown-command ioctl on it,
 * against the same operations on /dev/null as the baseline of the syscall
 * and VFS path, and prints the ratios. Run under -icount (make bench) the
 * clock counts guest instructions, so the numbers repeat run to run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/iommufd.h>

#define ROUNDS 20000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double open_close(const char *path)
{
	double t0 = now_ns();
	int i, fd;

	for (i = 0; i < ROUNDS; i++) {
		fd = open(path, O_RDWR);
		if (fd < 0 || close(fd)) {
			perror(path);
			return -1;
		}
	}
	return (now_ns() - t0) / ROUNDS;
}

static double bad_ioctl(const char *path)
{
	int fd = open(path, O_RDWR);
	double t0;
	int i;

	if (fd < 0) {
		perror(path);
		return -1;
	}
	t0 = now_ns();
	for (i = 0; i < ROUNDS; i++) {
		if (ioctl(fd, _IO(IOMMUFD_TYPE, 0xff), NULL) != -1 ||
		    errno != ENOTTY) {
			fprintf(stderr, "%s: unknown ioctl did not fail ENOTTY\n",
				path);
			return -1;
		}
	}
	t0 = (now_ns() - t0) / ROUNDS;
	close(fd);
	return t0;
}

int main(void)
{
	double io = open_close("/dev/iommu"), nu = open_close("/dev/null");
	double ii = bad_ioctl("/dev/iommu"), ni = bad_ioctl("/dev/null");

	if (io < 0 || nu < 0 || ii < 0 || ni < 0)
		return 1;
	printf("open+close      /dev/iommu %8.0f ns  /dev/null %8.0f ns  ratio %.2f\n",
	       io, nu, io / nu);
	printf("unknown ioctl   /dev/iommu %8.0f ns  /dev/null %8.0f ns  ratio %.2f\n",
	       ii, ni, ii / ni);
	return 0;
}
