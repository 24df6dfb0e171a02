/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Definitions shared by the files of the iommufd subsystem. Nothing here is
 * visible outside drivers/iommu/iommufd.
 */
#ifndef __IOMMUFD_PRIVATE_H
#define __IOMMUFD_PRIVATE_H

#include <linux/atomic.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "io_pagetable.h"

struct device;
struct file;
struct iommu_domain;
struct iommu_group;

/*
 * How pinned memory is charged against RLIMIT_MEMLOCK (IOMMU_OPTION
 * RLIMIT_MODE): to the user_struct of the mapping process, or to its mm.
 * mm->pinned_vm is raised in both modes.
 */
enum iommufd_account_mode {
	IOMMUFD_ACCOUNT_USER = 0,
	IOMMUFD_ACCOUNT_MM = 1,
};

/**
 * struct iommufd_ctx - state of one open file of /dev/iommu
 * @file: the file this context belongs to; the context lives exactly as
 *        long as the file and is freed by its release
 * @objects: every object of the file, by ID. An ID whose slot holds
 *           XA_ZERO_ENTRY is reserved for an object still being built.
 * @destroy_wait: woken when an object loses a user, for whoever waits to
 *                destroy it
 * @account_mode: enum iommufd_account_mode, for pages pinned from now on
 * @groups: struct iommufd_group by iommu_group ID, the groups whose DMA
 *          ownership the context holds
 * @groups_lock: protects @groups and the groups' bind counts
 * @vfio_lock: protects @vfio_ioas and @vfio_claims
 * @vfio_ioas: the IOAS the VFIO container ioctls act on (vfio_compat.c),
 *             or NULL; not a user of it, cleared when it is destroyed
 * @vfio_claims: the VFIO groups whose container the context is (struct
 *               iommufd_vfio_claim, vfio_compat.c)
 *
 * The context is the unit of ownership: everything created through a file
 * belongs to it, and holding the file descriptor is what grants access.
 */
struct iommufd_ctx {
	struct file *file;
	struct xarray objects;
	wait_queue_head_t destroy_wait;
	u8 account_mode;
	struct xarray groups;
	struct mutex groups_lock; /* see the kernel-doc */
	struct mutex vfio_lock; /* see the kernel-doc */
	struct iommufd_ioas *vfio_ioas;
	struct list_head vfio_claims;
};

int iommufd_cmd_index(unsigned int cmd, unsigned int ncmds);

/**
 * struct iommufd_ucmd - one ioctl being executed
 * @ictx: the file's context
 * @ubuffer: the user's copy of the command structure
 * @user_size: the size userspace said the structure has
 * @cmd: the kernel's copy, zero-extended to the kernel's size
 */
struct iommufd_ucmd {
	struct iommufd_ctx *ictx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len);
struct iommufd_object;
int iommufd_object_respond_publish(struct iommufd_ucmd *ucmd, size_t cmd_len,
				   struct iommufd_object *obj);

enum iommufd_object_type {
	IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_ANY = IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_HW_PAGETABLE,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_ACCESS,
	IOMMUFD_OBJ_SELFTEST,
	IOMMUFD_OBJ_MAX,
};

/**
 * struct iommufd_object - what every object of a file starts with
 * @refs: references to the object's memory: one for the ID table while the
 *        object is visible, plus one for each ioctl that looked it up and is
 *        still working on it. The object is freed only once they are gone.
 * @users: what the object's existence is relied upon by: one for the ID
 *         table, plus one per dependent object (a HWPT on its IOAS, a device
 *         on its HWPT). IOMMU_DESTROY succeeds only when the table's is the
 *         last one, and fails with EBUSY otherwise. Zero while the object is
 *         unpublished for removal: no dependent can be added then. Not a
 *         refcount_t: it goes to zero by a compare-and-exchange of the
 *         expected count (under the xarray lock, with the ID table entry),
 *         and may come back from zero when a removal is given up.
 * @type: enum iommufd_object_type
 * @id: the object's ID in &iommufd_ctx.objects
 */
struct iommufd_object {
	refcount_t refs;
	atomic_t users;
	enum iommufd_object_type type;
	u32 id;
};

struct iommufd_object *iommufd_object_new(struct iommufd_ctx *ictx,
					  size_t size,
					  enum iommufd_object_type type);
/* A new object of the type of *@ptr (its header must be first, "obj"). */
#define iommufd_object_alloc(ictx, ptr, type)                                  \
	container_of(iommufd_object_new(ictx, sizeof(*(ptr)), type),           \
		     typeof(*(ptr)), obj)
void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj);
void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj);
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj);
struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, u32 id,
					  enum iommufd_object_type type);
void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj);
/*
 * Look up an object of @objtype as its containing @stype, or an ERR_PTR.
 * The header must be @stype's first member, named obj, so that error
 * pointers pass through unchanged.
 */
#define iommufd_get_typed(ictx, id, objtype, stype)                            \
	((typeof(stype) *)iommufd_get_object(ictx, id, objtype) +              \
	 BUILD_BUG_ON_ZERO(offsetof(typeof(stype), obj)))

bool iommufd_object_tryget(struct iommufd_object *obj);
bool iommufd_object_add_user(struct iommufd_object *obj);
void iommufd_object_add_owner(struct iommufd_object *obj);
void iommufd_object_drop_user(struct iommufd_object *obj);
void iommufd_object_destroy_owned(struct iommufd_ctx *ictx,
				  struct iommufd_object *obj);
bool iommufd_object_destroy_if_last(struct iommufd_ctx *ictx,
				    struct iommufd_object *obj);
void iommufd_object_put_user(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj, bool destroy_if_last);

/**
 * struct iommufd_ioas - an I/O address space (IOMMUFD_OBJ_IOAS)
 * @obj: the object header
 * @ictx: the context the IOAS belongs to
 * @iopt: the IOVA-to-memory map and the domains it is mirrored into
 * @mutex: protects @hwpt_list and @access_list
 * @hwpt_list: the HWPTs on this IOAS (&iommufd_hw_pagetable.hwpt_item)
 * @access_list: the accesses attached (&iommufd_access.ioas_item)
 * @notify_lock: one unmap notification of the accesses at a time
 * @notify_gen: number of the last notification; protected by @notify_lock
 */
struct iommufd_ioas {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct io_pagetable iopt;
	struct mutex mutex; /* see the kernel-doc */
	struct list_head hwpt_list;
	struct list_head access_list;
	struct mutex notify_lock; /* see the kernel-doc */
	u64 notify_gen;
};

static inline struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx, u32 id)
{
	return iommufd_get_typed(ictx, id, IOMMUFD_OBJ_IOAS,
				 struct iommufd_ioas);
}

struct iommufd_ioas *iommufd_ioas_alloc(struct iommufd_ctx *ictx);
void iommufd_ioas_destroy(struct iommufd_object *obj);

/* ioas.c: the IOAS commands, in the order of their numbers */
int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd);	/* 0x81 */
int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd);	/* 0x82 */
int iommufd_ioas_copy(struct iommufd_ucmd *ucmd);		/* 0x83 */
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd);	/* 0x84 */
int iommufd_ioas_map(struct iommufd_ucmd *ucmd);		/* 0x85 */
int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd);		/* 0x86 */
int iommufd_ioas_option(struct iommufd_ucmd *ucmd);		/* 0x87 */
int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd);		/* 0x8f */
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd);	/* 0x92 */

/* vfio_compat.c: VFIO type1 container ioctls on the compatibility IOAS */
int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd);		/* 0x88 */
long iommufd_vfio_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			unsigned long arg);
void iommufd_vfio_forget_ioas(struct iommufd_ioas *ioas);

/**
 * struct iommufd_hw_pagetable - an iommu_domain (IOMMUFD_OBJ_HW_PAGETABLE)
 * @obj: the object header
 * @ioas: the IOAS whose mappings the domain mirrors; the HWPT is one of its
 *        users
 * @domain: the IOMMU driver's page table
 * @hwpt_item: entry in &iommufd_ioas.hwpt_list
 * @auto_domain: created by the kernel for an attach; destroyed with its
 *               last device, and reused by other devices' attach
 * @enforce_cache_coherency: the domain forbids no-snoop DMA
 * @joined: the domain is in the IOAS's io_pagetable, mirroring its areas;
 *          set once, under the IOAS mutex
 * @domain_stuck: a group could not leave the domain (&iommufd_group.stuck)
 *                and owns it: the HWPT must not free it. Set under the
 *                group lock while the group is a user of the HWPT.
 * @msi_cookie: the domain has its MSI cookie, for devices whose MSIs the
 *              IOMMU translates (iommufd_hwpt_setup_msi() in device.c); set
 *              once, under the IOAS mutex, before a device uses the domain
 */
struct iommufd_hw_pagetable {
	struct iommufd_object obj;
	struct iommufd_ioas *ioas;
	struct iommu_domain *domain;
	struct list_head hwpt_item;
	bool auto_domain;
	bool enforce_cache_coherency;
	bool joined;
	bool domain_stuck;
	bool msi_cookie;
};

struct iommufd_hw_pagetable *
iommufd_hw_pagetable_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			   struct device *dev, bool auto_domain, bool enforce);
bool iommufd_hw_pagetable_ready(struct iommufd_hw_pagetable *hwpt);
int iommufd_hw_pagetable_join(struct iommufd_hw_pagetable *hwpt);
void iommufd_hw_pagetable_destroy(struct iommufd_object *obj);
int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd);

static inline struct iommufd_hw_pagetable *
iommufd_get_hwpt(struct iommufd_ctx *ictx, u32 id)
{
	return iommufd_get_typed(ictx, id, IOMMUFD_OBJ_HW_PAGETABLE,
				 struct iommufd_hw_pagetable);
}

/**
 * struct iommufd_group - an iommu_group whose DMA a context owns
 * @group: the group (referenced)
 * @lock: serialises attach, replace and detach of the group's devices
 * @hwpt: the HWPT the group's attached devices use, NULL while blocked
 * @nbound: devices of the group bound to the context
 * @nattached: devices of the group attached to @hwpt
 * @enforce: the group's IOMMU takes domains that enforce cache coherency;
 *	found out once, when the group is first bound, and never changed
 * @geometry: the aperture of an empty domain of the group's IOMMU once
 *	the group was attached to it, found out with @enforce (a driver may
 *	finalise it only at attach); force_aperture is false if the driver
 *	forces none
 * @pgsizes: that domain's page sizes, found out with @geometry
 * @stuck: NULL, or the domain the group could not be moved off to block
 *	its DMA: the group owns it from then on (its HWPT, if any, unmaps
 *	the IOAS from it but does not free it) and takes no attach again
 */
struct iommufd_group {
	struct iommu_group *group;
	struct mutex lock; /* see the kernel-doc */
	struct iommufd_hw_pagetable *hwpt;
	unsigned int nbound;
	unsigned int nattached;
	bool enforce;
	struct iommu_domain_geometry geometry;
	unsigned long pgsizes;
	struct iommu_domain *stuck;
};

struct iommufd_group *iommufd_group_claim(struct iommufd_ctx *ictx,
					  struct iommu_group *group);
void iommufd_group_unclaim(struct iommufd_ctx *ictx,
			   struct iommufd_group *igroup);

/**
 * struct iommufd_device - a device bound to a context (IOMMUFD_OBJ_DEVICE)
 * @obj: the object header
 * @ictx: the context
 * @dev: the device
 * @igroup: the ownership of its iommu_group
 * @hwpt: the HWPT it is attached to, or NULL; protected by the group lock
 */
struct iommufd_device {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct device *dev;
	struct iommufd_group *igroup;
	struct iommufd_hw_pagetable *hwpt;
};

static inline struct iommufd_device *
iommufd_get_device(struct iommufd_ctx *ictx, u32 id)
{
	return iommufd_get_typed(ictx, id, IOMMUFD_OBJ_DEVICE,
				 struct iommufd_device);
}

void iommufd_device_destroy(struct iommufd_object *obj);

/**
 * struct iommufd_access - a software access (IOMMUFD_OBJ_ACCESS)
 * @obj: the object header
 * @ictx: the context
 * @ops: the driver's callbacks
 * @data: the driver's argument to them
 * @ioas_lock: protects @ioas, @npinned and @leaving
 * @ioas: the IOAS attached to, a user of it; or NULL
 * @ioas_item: entry in &iommufd_ioas.access_list
 * @npinned: ranges pinned by iommufd_access_pin_pages() and not unpinned
 * @leaving: the access is about to leave @ioas and has asked its driver to
 *           unpin everything: new pins and copies fail as if detached
 * @notified: the IOAS's last unmap notification this access was called
 *            for; protected by &iommufd_ioas.mutex
 */
struct iommufd_access {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	const struct iommufd_access_ops *ops;
	void *data;
	struct mutex ioas_lock; /* see the kernel-doc */
	struct iommufd_ioas *ioas;
	struct list_head ioas_item;
	unsigned int npinned;
	bool leaving;
	u64 notified;
};

void iommufd_access_destroy_object(struct iommufd_object *obj);
void iommufd_access_notify_unmap(struct io_pagetable *iopt,
				 unsigned long first, unsigned long last);
int iommufd_device_attach_new_hwpt(struct iommufd_device *idev, u32 *ioas_id);
int iommufd_get_hw_info(struct iommufd_ucmd *ucmd);

/* Room for the IOMMU_GET_HW_INFO data of any driver (the mock: 8 bytes). */
#define IOMMUFD_HW_INFO_MAX 64

/* Counters the selftest reports; cheap enough to keep always. */
enum iommufd_stat {
	IOMMUFD_STAT_PINNED_PAGES,
	IOMMUFD_STAT_PAGES_OBJECTS,
	IOMMUFD_STAT_AREAS,
	/* pages whose PFN was read back from the CPU page table, a domain */
	IOMMUFD_STAT_READ_CPU,
	IOMMUFD_STAT_READ_DOMAIN,
	/* CPU page table snapshots not taken: the mmap lock was busy */
	IOMMUFD_STAT_READ_CPU_BUSY,
	IOMMUFD_STAT_MAX,
};

extern atomic_long_t iommufd_stats[IOMMUFD_STAT_MAX];

static inline void iommufd_stat_add(enum iommufd_stat stat, long n)
{
	atomic_long_add(n, &iommufd_stats[stat]);
}

#ifdef CONFIG_IOMMUFD_TEST
int iommufd_test(struct iommufd_ucmd *ucmd);
void iommufd_selftest_destroy(struct iommufd_object *obj);
size_t iommufd_test_temp_limit(size_t size);
bool iommufd_selftest_is_mock_dev(struct device *dev);
bool iommufd_selftest_domain_final(struct iommu_domain *domain);
size_t iommufd_selftest_hw_info(void *data, u32 *type);
int __init iommufd_test_init(void);
void iommufd_test_exit(void);
#else
static inline bool iommufd_selftest_is_mock_dev(struct device *dev)
{
	return false;
}

static inline bool iommufd_selftest_domain_final(struct iommu_domain *domain)
{
	return false;
}

static inline size_t iommufd_selftest_hw_info(void *data, u32 *type)
{
	return 0;
}

static inline size_t iommufd_test_temp_limit(size_t size)
{
	return size;
}

static inline int iommufd_test_init(void)
{
	return 0;
}

static inline void iommufd_test_exit(void)
{
}
#endif

#endif
