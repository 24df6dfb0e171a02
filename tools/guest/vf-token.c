// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf-token: the SR-IOV VF token at VFIO_DEVICE_BIND_IOMMUFD, which must be
 * checked as VFIO_GROUP_GET_DEVICE_FD checks the "vf_token=<UUID>" option
 * after a device's name.
 *
 *   vf-token [-o <sysfs dir>]... <pf-bdf>
 *
 * <pf-bdf> is a PCI device with the SR-IOV capability (QEMU's nvme with
 * sriov_max_vfs=2) and no driver; the program moves it between drivers
 * and creates and removes its VFs through sysfs, and leaves it with no
 * driver and no VFs.
 *  - Each -o names the sysfs directory of a VFIO device that keeps no
 *    token (the lone edu on vfio-pci, vfio_emu_test's device): the flag is
 *    refused with EINVAL, as mainline's bind does without a
 *    match_token_uuid op or with vfio-pci's for a device that is neither
 *    PF nor VF; the 16-byte struct of older callers binds it.
 *  - With pci-pf-stub (CONFIG_PCI_PF_STUB), a VF whose PF is not on
 *    vfio-pci: a token is refused with EINVAL, none is needed.
 *  - The PF on vfio-pci (module parameter enable_sriov), its token set
 *    with VFIO_DEVICE_FEATURE_PCI_VF_TOKEN, two VFs created. A VF's cdev
 *    refuses a bind without the flag, with a wrong token (EACCES), with
 *    an unreadable one (EFAULT), an unknown flag (EINVAL), bytes beyond
 *    the struct (E2BIG), each time staying parked and taking no VF user
 *    (the PF then binds with no token needed); it binds with the right
 *    token. The VF's group refuses VFIO_GROUP_GET_DEVICE_FD without
 *    "vf_token=" and with a wrong one, and opens it with the right one.
 *    The PF, while a VF is in use, needs the token too, on both paths,
 *    and no longer once the VF is closed.
 * Each bind argument lies right before an inaccessible page, so the kernel
 * is seen to read no further than argsz. Prints TAP; exits 0 only if every
 * check passed.
 */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>

#include "edu.h"

#define PAGE 4096
#define OLD_SIZE 16		/* up to out_devid: callers before Linux 6.17 */
#define NR_VFS 2

/*
 * VFIO_DEVICE_BIND_IOMMUFD's argument as mainline defines it since Linux
 * 6.17. Headers exported before patch 0012 lack token_uuid_ptr, so the
 * layout is spelled out here and checked against the header's when it has
 * the flag.
 */
struct bind_arg {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
	__aligned_u64 token_uuid_ptr;
};

#ifdef VFIO_DEVICE_BIND_FLAG_TOKEN
static_assert(sizeof(struct vfio_device_bind_iommufd) ==
	      sizeof(struct bind_arg) &&
	      offsetof(struct vfio_device_bind_iommufd, token_uuid_ptr) ==
	      offsetof(struct bind_arg, token_uuid_ptr),
	      "struct vfio_device_bind_iommufd is not mainline's");
#else
#define VFIO_DEVICE_BIND_FLAG_TOKEN (1 << 0)
#endif

/* the token set through the feature, the one set at the PF's bind, a bad one */
static const __u8 tok_feature[16] = {
	0x6b, 0x1e, 0x3c, 0x50, 0x9a, 0x21, 0x4f, 0x0d,
	0x8e, 0x77, 0x12, 0xc4, 0x35, 0xa0, 0xf9, 0x01,
};

static const __u8 tok_bind[16] = {
	0x0f, 0xd2, 0x48, 0x93, 0x6c, 0x1a, 0x4b, 0x7e,
	0xa5, 0x30, 0x5d, 0xe6, 0x29, 0x84, 0xbb, 0x42,
};

static const __u8 tok_wrong[16] = {
	0x6b, 0x1e, 0x3c, 0x50, 0x9a, 0x21, 0x4f, 0x0d,
	0x8e, 0x77, 0x12, 0xc4, 0x35, 0xa0, 0xf9, 0x02,
};

static int iommufd;
static const char *pf;
static unsigned char *guard;	/* a page, then an inaccessible one */

/* the device's sysfs attribute file */
static char *attr_path(const char *bdf, const char *attr, char *path,
		       size_t size)
{
	snprintf(path, size, "/sys/bus/pci/devices/%s/%s", bdf, attr);
	return path;
}

static int write_attr(const char *bdf, const char *attr, const char *val)
{
	char path[PATH_MAX];

	return write_file(attr_path(bdf, attr, path, sizeof(path)), val);
}

/* the last component of the link @path points to, into @out; -1 if none */
static int link_base(const char *path, char *out, size_t size)
{
	char link[PATH_MAX];
	const char *base;
	ssize_t n;
	size_t len;

	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = 0;
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	len = strnlen(base, size - 1);
	memcpy(out, base, len);
	out[len] = 0;
	return 0;
}

/* the name of the driver of the device in @sysdev, "" if none */
static const char *driver_in(const char *sysdev)
{
	static char name[64];
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/driver", sysdev) >=
	    (int)sizeof(path) || link_base(path, name, sizeof(name)))
		return "";
	return name;
}

static const char *driver_of(const char *bdf)
{
	char dev[PATH_MAX];

	if (snprintf(dev, sizeof(dev), "/sys/bus/pci/devices/%s", bdf) >=
	    (int)sizeof(dev))
		return "";
	return driver_in(dev);
}

/* move @bdf to the driver @drv, or to none for "" */
static void set_driver(const char *bdf, const char *drv)
{
	if (*driver_of(bdf))
		write_attr(bdf, "driver/unbind", bdf);
	write_attr(bdf, "driver_override", *drv ? drv : "\n");
	if (*drv)
		write_file("/sys/bus/pci/drivers_probe", bdf);
}

/* the address of the PF's VF number @i, from its virtfn<i> link */
static int vf_of(int i, char *bdf, size_t size)
{
	char name[32], path[PATH_MAX];

	snprintf(name, sizeof(name), "virtfn%d", i);
	return link_base(attr_path(pf, name, path, sizeof(path)), bdf, size);
}

/* whether @bdf is on vfio-pci with its cdev, waiting up to 30 s */
static bool vfio_ready(const char *bdf)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < 300; i++) {
		if (!strcmp(driver_of(bdf), "vfio-pci") &&
		    !cdev_path(bdf, path, sizeof(path)) && !access(path, F_OK))
			return true;
		usleep(100 * 1000);
	}
	return false;
}

static void uuid_str(const __u8 *u, char *s, size_t size)
{
	snprintf(s, size,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

/*
 * VFIO_DEVICE_BIND_IOMMUFD with the @len bytes at @arg as its argument,
 * copied to just before the inaccessible page
 */
static int bind_bytes(int dev, const void *arg, size_t len, __u32 *devid)
{
	unsigned char *p = guard + PAGE - len;
	int ret;

	memcpy(p, arg, len);
	ret = ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, p);
	if (!ret && devid)
		memcpy(devid, p + offsetof(struct bind_arg, out_devid),
		       sizeof(*devid));
	return ret;
}

/* with the 24-byte struct, @flags and @ptr as token_uuid_ptr */
static int bind_ptr(int dev, __u32 flags, const void *ptr, __u32 *devid)
{
	struct bind_arg b = {
		.argsz = sizeof(b),
		.flags = flags,
		.iommufd = iommufd,
		.token_uuid_ptr = (uintptr_t)ptr,
	};

	return bind_bytes(dev, &b, sizeof(b), devid);
}

/* with the 24-byte struct, the flag set for a @token, clear for NULL */
static int bind_token(int dev, const __u8 *token, __u32 *devid)
{
	return bind_ptr(dev, token ? VFIO_DEVICE_BIND_FLAG_TOKEN : 0, token,
			devid);
}

/* with the 16-byte struct of older callers: no token_uuid_ptr passed */
static int bind_old(int dev, __u32 flags)
{
	struct bind_arg b = {
		.argsz = OLD_SIZE,
		.flags = flags,
		.iommufd = iommufd,
	};

	return bind_bytes(dev, &b, OLD_SIZE, NULL);
}

/* with argsz 32: the struct, the @token, then 8 bytes of @tail */
static int bind_long(int dev, const __u8 *token, unsigned char tail)
{
	unsigned char buf[sizeof(struct bind_arg) + 8];
	struct bind_arg b = {
		.argsz = sizeof(buf),
		.flags = VFIO_DEVICE_BIND_FLAG_TOKEN,
		.iommufd = iommufd,
		.token_uuid_ptr = (uintptr_t)token,
	};

	memcpy(buf, &b, sizeof(b));
	memset(buf + sizeof(b), tail, sizeof(buf) - sizeof(b));
	return bind_bytes(dev, buf, sizeof(buf), NULL);
}

/* with an argsz of @argsz and the flag clear */
static int bind_argsz(int dev, __u32 argsz)
{
	struct bind_arg b = {
		.argsz = argsz,
		.iommufd = iommufd,
	};

	return bind_bytes(dev, &b, sizeof(b), NULL);
}

/* whether @dev is a parked (unbound) cdev descriptor */
static bool parked(int dev)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	return ioctl(dev, VFIO_DEVICE_GET_INFO, &info) < 0 && errno == EINVAL;
}

static bool usable(int dev)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	return !ioctl(dev, VFIO_DEVICE_GET_INFO, &info);
}

/* a BIND that must fail with @err and leave @dev parked */
static void refused(int dev, int ret, int err, const char *what)
{
	int got = errno;
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s (%s), still parked", what,
		 strerror(err), ret ? strerror(got) : "it bound");
	ok(ret && got == err && parked(dev), msg);
}

/* a VFIO_GROUP_GET_DEVICE_FD that must fail with @err */
static void refused_fd(int fd, int err, const char *what)
{
	int got = errno;
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s (%s)", what, strerror(err),
		 fd < 0 ? strerror(got) : "it opened");
	ok(fd < 0 && got == err, msg);
	if (fd >= 0)
		close(fd);
}

/* the group of @bdf, opened, with the iommufd as its container */
static int group_open(const char *bdf)
{
	char path[PATH_MAX];
	int group;

	group = open(group_path(bdf, path, sizeof(path)), O_RDWR | O_CLOEXEC);
	if (group < 0)
		die("open the group");
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &iommufd))
		die("VFIO_GROUP_SET_CONTAINER with the iommufd");
	return group;
}

/* VFIO_GROUP_GET_DEVICE_FD of @bdf, "vf_token=@token" after it if any */
static int group_get(int group, const char *bdf, const __u8 *token)
{
	char name[128], uuid[40];

	if (token) {
		uuid_str(token, uuid, sizeof(uuid));
		snprintf(name, sizeof(name), "%s vf_token=%s", bdf, uuid);
	} else {
		snprintf(name, sizeof(name), "%s", bdf);
	}
	return ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name);
}

/* VFIO_DEVICE_FEATURE_PCI_VF_TOKEN: probe it, then set @token */
static int set_token(int dev, const __u8 *token)
{
	__u64 buf[(sizeof(struct vfio_device_feature) + 16 + 7) / 8] = { 0 };
	struct vfio_device_feature *f = (void *)buf;

	f->argsz = sizeof(*f) + 16;
	f->flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET |
		   VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	if (ioctl(dev, VFIO_DEVICE_FEATURE, f))
		return -1;
	f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	memcpy(f->data, token, 16);
	return ioctl(dev, VFIO_DEVICE_FEATURE, f);
}

/* a device that keeps no token: the flag is refused, the old struct binds */
static void no_token_device(const char *sysdev)
{
	/* vfio-pci reads the token before it finds that it keeps none */
	bool pci = !strcmp(driver_in(sysdev), "vfio-pci");
	int unread = pci ? EFAULT : EINVAL;
	char path[PATH_MAX], what[PATH_MAX + 64];
	int dev;

	printf("# --- %s (%s): a device that keeps no token ---\n", sysdev,
	       driver_in(sysdev));
	if (sysfs_cdev_path(sysdev, path, sizeof(path)))
		die("find the device's cdev");
	dev = open(path, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		die("open the cdev");
	refused(dev, bind_token(dev, tok_feature, NULL), EINVAL,
		"BIND with a token");
	refused(dev, bind_ptr(dev, VFIO_DEVICE_BIND_FLAG_TOKEN, NULL, NULL),
		unread, "BIND with the flag and a NULL token pointer");
	refused(dev, bind_old(dev, VFIO_DEVICE_BIND_FLAG_TOKEN), unread,
		"BIND with the flag in the 16-byte struct");
	refused(dev, bind_ptr(dev, 1 << 1, NULL, NULL), EINVAL,
		"BIND with the unknown flag 1 << 1");
	refused(dev, bind_ptr(dev, 1u << 31, NULL, NULL), EINVAL,
		"BIND with the unknown flag 1 << 31");
	refused(dev, bind_long(dev, tok_feature, 0xa5), E2BIG,
		"BIND with argsz 32 and non-zero bytes past the struct");
	refused(dev, bind_argsz(dev, OLD_SIZE - 4), EINVAL,
		"BIND with argsz short of out_devid");
	snprintf(what, sizeof(what),
		 "the 16-byte struct without the flag binds %s", path);
	ok(bind_old(dev, 0) == 0 && usable(dev), what);
	close(dev);
}

/* a VF whose PF is on a driver other than vfio-pci: no token is kept */
static void foreign_pf(void)
{
	char vf[32];
	int dev, group, fd;

	printf("# --- a VF of %s on pci-pf-stub ---\n", pf);
	if (access("/sys/bus/pci/drivers/pci-pf-stub", F_OK)) {
		ok(1, "# SKIP no pci-pf-stub (CONFIG_PCI_PF_STUB)");
		return;
	}
	set_driver(pf, "pci-pf-stub");
	ok(!strcmp(driver_of(pf), "pci-pf-stub"), "the PF is on pci-pf-stub");
	write_attr(pf, "sriov_drivers_autoprobe", "0");
	ok(write_attr(pf, "sriov_numvfs", "1") == 0 &&
	   vf_of(0, vf, sizeof(vf)) == 0, "one VF created");
	set_driver(vf, "vfio-pci");
	if (!vfio_ready(vf))
		die("the VF on vfio-pci with its cdev");
	dev = open_cdev(vf);
	refused(dev, bind_token(dev, tok_feature, NULL), EINVAL,
		"VF of a PF outside vfio-pci: BIND with a token");

	group = group_open(vf);
	refused_fd(group_get(group, vf, tok_feature), EINVAL,
		   "its group: GET_DEVICE_FD with vf_token=");
	fd = group_get(group, vf, NULL);
	ok(fd >= 0, "its group: GET_DEVICE_FD without vf_token= opens it");
	if (fd >= 0)
		close(fd);
	close(group);
	ok(bind_token(dev, NULL, NULL) == 0 && usable(dev),
	   "BIND without the flag binds it");
	close(dev);

	ok(write_attr(pf, "sriov_numvfs", "0") == 0, "the VF removed");
	write_attr(pf, "sriov_drivers_autoprobe", "1");
	set_driver(pf, "");
}

/* The PF on vfio-pci, two VFs: the token on both paths, both ways. */
static void vfio_pf(void)
{
	char vf[NR_VFS][32], num[8], old_param[8] = "N";
	const char *param = "/sys/module/vfio_pci/parameters/enable_sriov";
	int pfd, v0, v1, group, fd, i;
	__u32 devid = 0;
	FILE *f;

	printf("# --- %s on vfio-pci with %d VFs ---\n", pf, NR_VFS);
	f = fopen(param, "r");
	if (!f || !fgets(old_param, sizeof(old_param), f))
		die("read vfio-pci's enable_sriov (CONFIG_PCI_IOV?)");
	fclose(f);
	old_param[strcspn(old_param, "\n")] = 0;
	set_driver(pf, "vfio-pci");
	ok(!strcmp(driver_of(pf), "vfio-pci"), "the PF is on vfio-pci");
	ok(write_file(param, "1") == 0, "vfio-pci's enable_sriov set");

	/* as a userspace PF driver does: open the PF, set the token, add VFs */
	pfd = open_cdev(pf);
	ok(bind_old(pfd, 0) == 0 && usable(pfd),
	   "PF, no VF yet: the 16-byte struct without the flag binds it");
	ok(set_token(pfd, tok_feature) == 0,
	   "VFIO_DEVICE_FEATURE_PCI_VF_TOKEN sets the PF's token");
	snprintf(num, sizeof(num), "%d", NR_VFS);
	ok(write_attr(pf, "sriov_numvfs", num) == 0, "two VFs created");
	for (i = 0; i < NR_VFS; i++) {
		if (vf_of(i, vf[i], sizeof(vf[i])) || !vfio_ready(vf[i]))
			die("a VF on vfio-pci with its cdev");
		printf("# VF %d: %s\n", i, vf[i]);
	}
	close(pfd);

	v0 = open_cdev(vf[0]);
	refused(v0, bind_old(v0, 0), EACCES,
		"VF: BIND with the 16-byte struct, no token");
	refused(v0, bind_token(v0, NULL, NULL), EACCES,
		"VF: BIND without the flag");
	refused(v0, bind_token(v0, tok_wrong, NULL), EACCES,
		"VF: BIND with a wrong token");
	refused(v0, bind_ptr(v0, VFIO_DEVICE_BIND_FLAG_TOKEN, NULL, NULL),
		EFAULT, "VF: BIND with the flag and a NULL token pointer");
	refused(v0, bind_ptr(v0, VFIO_DEVICE_BIND_FLAG_TOKEN, guard + PAGE,
			     NULL),
		EFAULT, "VF: BIND with the token pointer on an inaccessible page");
	refused(v0, bind_old(v0, VFIO_DEVICE_BIND_FLAG_TOKEN), EFAULT,
		"VF: BIND with the flag in the 16-byte struct (pointer reads as 0)");
	refused(v0, bind_ptr(v0, VFIO_DEVICE_BIND_FLAG_TOKEN | (1 << 1),
			     tok_feature, NULL),
		EINVAL, "VF: BIND with the right token and an unknown flag");
	refused(v0, bind_long(v0, tok_feature, 0xa5), E2BIG,
		"VF: BIND with the right token, argsz 32, non-zero bytes past the struct");
	refused(v0, bind_argsz(v0, OLD_SIZE - 4), EINVAL,
		"VF: BIND with argsz short of out_devid");

	/*
	 * No refused bind opened the VF: with no VF in use, the PF binds, and
	 * a token given then becomes the PF's (mainline's rule).
	 */
	pfd = open_cdev(pf);
	ok(bind_token(pfd, tok_bind, NULL) == 0 && usable(pfd),
	   "PF, no VF in use after the refusals: BIND with a token sets it");
	close(pfd);

	refused(v0, bind_token(v0, tok_feature, NULL), EACCES,
		"VF: BIND with the PF's previous token");
	ok(bind_token(v0, tok_bind, &devid) == 0 && devid && usable(v0),
	   "VF: BIND with the right token binds it after the refusals");
	printf("# VF 0 is device %u of the iommufd\n", devid);

	printf("# --- the group path, VF 1 ---\n");
	group = group_open(vf[1]);
	refused_fd(group_get(group, vf[1], NULL), EACCES,
		   "VF group: GET_DEVICE_FD without vf_token=");
	refused_fd(group_get(group, vf[1], tok_wrong), EACCES,
		   "VF group: GET_DEVICE_FD with a wrong vf_token=");
	fd = group_get(group, vf[1], tok_bind);
	ok(fd >= 0 && usable(fd),
	   "VF group: GET_DEVICE_FD with the right vf_token= opens it");
	if (fd >= 0)
		close(fd);
	close(group);
	v1 = open_cdev(vf[1]);
	ok(bind_long(v1, tok_bind, 0) == 0 && usable(v1),
	   "VF 1's cdev then binds with the token, argsz 32 and zero bytes past the struct");
	close(v1);

	printf("# --- the PF while VF 0 is in use ---\n");
	pfd = open_cdev(pf);
	refused(pfd, bind_old(pfd, 0), EACCES,
		"PF: BIND with the 16-byte struct, no token");
	refused(pfd, bind_token(pfd, NULL, NULL), EACCES,
		"PF: BIND without the flag");
	refused(pfd, bind_token(pfd, tok_feature, NULL), EACCES,
		"PF: BIND with a wrong token");
	ok(bind_token(pfd, tok_bind, NULL) == 0 && usable(pfd),
	   "PF: BIND with the right token binds it");
	close(pfd);
	group = group_open(pf);
	refused_fd(group_get(group, pf, NULL), EACCES,
		   "PF group: GET_DEVICE_FD without vf_token=");
	refused_fd(group_get(group, pf, tok_wrong), EACCES,
		   "PF group: GET_DEVICE_FD with a wrong vf_token=");
	fd = group_get(group, pf, tok_bind);
	ok(fd >= 0 && usable(fd),
	   "PF group: GET_DEVICE_FD with the right vf_token= opens it");
	if (fd >= 0)
		close(fd);
	close(group);

	close(v0);
	pfd = open_cdev(pf);
	ok(bind_old(pfd, 0) == 0 && usable(pfd),
	   "PF once VF 0 is closed: the 16-byte struct without the flag binds it");
	close(pfd);

	ok(write_attr(pf, "sriov_numvfs", "0") == 0, "the VFs removed");
	write_file(param, old_param);
	set_driver(pf, "");
}

int main(int argc, char **argv)
{
	const char *others[8];
	int i, n = 0, c;

	while ((c = getopt(argc, argv, "o:")) != -1) {
		if (c != 'o' || n == 8) {
			fprintf(stderr, "usage: %s [-o sysfs-dir]... pf-bdf\n",
				argv[0]);
			return 2;
		}
		others[n++] = optarg;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: %s [-o sysfs-dir]... pf-bdf\n", argv[0]);
		return 2;
	}
	pf = argv[optind];

	printf("TAP version 13\n# PF %s\n", pf);
	guard = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard == MAP_FAILED || mprotect(guard + PAGE, PAGE, PROT_NONE))
		die("a page before an inaccessible one");
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		die("open /dev/iommu");

	for (i = 0; i < n; i++)
		no_token_device(others[i]);
	foreign_pf();
	vfio_pf();

	close(iommufd);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
