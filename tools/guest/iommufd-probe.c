// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd-probe: show, for the make run demo, that /dev/iommu answers.
 *
 * Opens /dev/iommu twice (each open is its own context), sends a command
 * number no kernel implements and reports the errno, then closes both.
 * Exits non-zero if anything differs from what the uAPI promises.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/iommufd.h>

int main(void)
{
	unsigned int cmd = _IO(IOMMUFD_TYPE, 0xff);
	int a, b, rc;

	a = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	b = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (a < 0 || b < 0) {
		perror("open /dev/iommu");
		return 1;
	}
	printf("opened /dev/iommu twice: fds %d and %d, two separate contexts\n",
	       a, b);

	rc = ioctl(a, cmd, NULL);
	printf("ioctl(_IO(IOMMUFD_TYPE, 0xff)) = %d, errno %d (%s)\n", rc,
	       rc ? errno : 0, rc ? strerror(errno) : "none");
	if (rc != -1 || errno != ENOTTY) {
		fprintf(stderr, "expected ENOTTY for an unknown command\n");
		return 1;
	}
	if (close(a) || close(b)) {
		perror("close");
		return 1;
	}
	printf("closed both; the contexts are gone\n");
	return 0;
}
