/* SPDX-License-Identifier: GPL-2.0-only */
/**
 * DOC: iommufd kernel API
 *
 * For drivers that give userspace control over the DMA of their devices
 * (VFIO first). A driver never programs an iommu_domain on behalf of
 * userspace itself. It hands its device to an iommufd context chosen by the
 * user, and the context decides which I/O page table the device uses:
 *
 *  - iommufd_device_bind() claims DMA ownership of the device's whole
 *    iommu_group for the context. From then on the group's DMA is blocked
 *    until a device of it is attached. Devices of one group may all be bound
 *    to the same context; another context, or a kernel driver on a device
 *    of the group, makes binding fail with -EBUSY.
 *  - iommufd_device_attach() points the device (and its group) at an IOAS
 *    or a HWPT of the context. Attaching an attached device replaces its
 *    page table with no window in which DMA is unblocked.
 *  - iommufd_device_detach() blocks the group's DMA again, and
 *    iommufd_device_unbind() gives the group back.
 *
 * A driver gets the context from the file descriptor userspace passes with
 * iommufd_ctx_from_file(). The context stays alive while a device or an
 * access is bound to it.
 */
#ifndef __LINUX_IOMMUFD_H
#define __LINUX_IOMMUFD_H

#include <linux/err.h>
#include <linux/types.h>

struct device;
struct file;
struct iommu_group;
struct iommufd_access;
struct iommufd_ctx;
struct iommufd_device;
struct iommufd_vfio_claim;
struct page;

/**
 * struct iommufd_access_ops - a software access's callbacks
 * @unmap: userspace is unmapping [@iova, @iova + @length) of the IOAS; the
 *         driver must unpin every range it pinned there before returning,
 *         or the unmap fails with -EBUSY
 */
struct iommufd_access_ops {
	void (*unmap)(void *data, unsigned long iova, unsigned long length);
};

/* flags of iommufd_access_pin_pages() and iommufd_access_rw() */
enum {
	IOMMUFD_ACCESS_RW_READ = 0,
	IOMMUFD_ACCESS_RW_WRITE = 1 << 0,
	/* iommufd_access_rw(): pin, never copy through current->mm */
	IOMMUFD_ACCESS_RW_PIN = 1 << 2,
};

#if IS_ENABLED(CONFIG_IOMMUFD)
struct iommufd_ctx *iommufd_ctx_from_file(struct file *file);
void iommufd_ctx_put(struct iommufd_ctx *ictx);
struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   struct device *dev, u32 *id);
void iommufd_device_unbind(struct iommufd_device *idev);
int iommufd_device_attach(struct iommufd_device *idev, u32 *pt_id);
void iommufd_device_detach(struct iommufd_device *idev);
bool iommufd_device_enforced_coherent(struct iommufd_device *idev);
struct iommufd_ctx *iommufd_device_bound_to(struct iommufd_device *idev,
					    u32 *id);
bool iommufd_ctx_has_group(struct iommufd_ctx *ictx, struct iommu_group *group);
int iommufd_vfio_compat_ioas(struct iommufd_ctx *ictx, u32 *ioas_id);
struct iommufd_vfio_claim *iommufd_vfio_compat_claim(struct iommufd_ctx *ictx,
						     struct iommu_group *group);
void iommufd_vfio_compat_unclaim(struct iommufd_vfio_claim *claim);

struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx,
		      const struct iommufd_access_ops *ops, void *data, u32 *id);
void iommufd_access_destroy(struct iommufd_access *access);
int iommufd_access_attach(struct iommufd_access *access, u32 ioas_id);
int iommufd_access_replace(struct iommufd_access *access, u32 ioas_id);
void iommufd_access_detach(struct iommufd_access *access);
int iommufd_access_pin_pages(struct iommufd_access *access,
			     unsigned long iova, unsigned long length,
			     struct page **out_pages, unsigned int flags);
void iommufd_access_unpin_pages(struct iommufd_access *access,
				unsigned long iova, unsigned long length);
int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		      void *data, size_t length, unsigned int flags);
#else
static inline struct iommufd_ctx *iommufd_ctx_from_file(struct file *file)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
}

static inline struct iommufd_device *
iommufd_device_bind(struct iommufd_ctx *ictx, struct device *dev, u32 *id)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void iommufd_device_unbind(struct iommufd_device *idev)
{
}

static inline int iommufd_device_attach(struct iommufd_device *idev,
					u32 *pt_id)
{
	return -EOPNOTSUPP;
}

static inline void iommufd_device_detach(struct iommufd_device *idev)
{
}

static inline bool
iommufd_device_enforced_coherent(struct iommufd_device *idev)
{
	return false;
}

static inline struct iommufd_ctx *
iommufd_device_bound_to(struct iommufd_device *idev, u32 *id)
{
	return NULL;
}

static inline bool iommufd_ctx_has_group(struct iommufd_ctx *ictx,
					 struct iommu_group *group)
{
	return false;
}

static inline int iommufd_vfio_compat_ioas(struct iommufd_ctx *ictx,
					   u32 *ioas_id)
{
	return -EOPNOTSUPP;
}

static inline struct iommufd_vfio_claim *
iommufd_vfio_compat_claim(struct iommufd_ctx *ictx, struct iommu_group *group)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void iommufd_vfio_compat_unclaim(struct iommufd_vfio_claim *claim)
{
}

static inline struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx,
		      const struct iommufd_access_ops *ops, void *data, u32 *id)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void iommufd_access_destroy(struct iommufd_access *access)
{
}

static inline int iommufd_access_attach(struct iommufd_access *access,
					u32 ioas_id)
{
	return -EOPNOTSUPP;
}

static inline int iommufd_access_replace(struct iommufd_access *access,
					 u32 ioas_id)
{
	return -EOPNOTSUPP;
}

static inline void iommufd_access_detach(struct iommufd_access *access)
{
}

static inline int iommufd_access_pin_pages(struct iommufd_access *access,
					   unsigned long iova,
					   unsigned long length,
					   struct page **out_pages,
					   unsigned int flags)
{
	return -EOPNOTSUPP;
}

static inline void iommufd_access_unpin_pages(struct iommufd_access *access,
					      unsigned long iova,
					      unsigned long length)
{
}

static inline int iommufd_access_rw(struct iommufd_access *access,
				    unsigned long iova, void *data,
				    size_t length, unsigned int flags)
{
	return -EOPNOTSUPP;
}
#endif

#endif
