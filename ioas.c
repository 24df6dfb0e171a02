// SPDX-License-Identifier: GPL-2.0-only
/*
 * ioas: the IOAS object and its ioctls.
 *
 * Theory of operation
 * -------------------
 * An IOAS is an object holding one io_pagetable. The ioctls here check and
 * translate their user structures and call into io_pagetable.c, which does
 * the work under the table's lock. Every check that can fail on user input
 * happens before anything changes, or the change is undone, so a failed
 * ioctl leaves the IOAS as it was.
 *
 * The IOAS of an ioctl is held by a user reference for the ioctl's
 * duration, so IOMMU_DESTROY of it fails with EBUSY meanwhile. Page tables
 * and devices attached to an IOAS hold a user reference for as long as they
 * are attached.
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/* A 64-bit value of the uAPI that the kernel keeps in an unsigned long. */
static bool iommufd_fits_ulong(u64 value)
{
	return value == (unsigned long)value;
}

/**
 * iommufd_ioas_alloc - create an IOAS object, not yet visible
 * @ictx: the context
 *
 * Return: the IOAS, to finalize or abort, or an ERR_PTR.
 */
struct iommufd_ioas *iommufd_ioas_alloc(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;

	ioas = iommufd_object_alloc(ictx, ioas, IOMMUFD_OBJ_IOAS);
	if (IS_ERR(ioas))
		return ioas;
	iopt_init_table(&ioas->iopt);
	mutex_init(&ioas->mutex);
	INIT_LIST_HEAD(&ioas->hwpt_list);
	INIT_LIST_HEAD(&ioas->access_list);
	return ioas;
}

/**
 * iommufd_ioas_destroy - release what an IOAS holds
 * @obj: the IOAS's object; nothing is attached to it any more
 */
void iommufd_ioas_destroy(struct iommufd_object *obj)
{
	struct iommufd_ioas *ioas = container_of(obj, struct iommufd_ioas, obj);

	WARN_ON(!list_empty(&ioas->hwpt_list));
	WARN_ON(!list_empty(&ioas->access_list));
	iopt_destroy_table(&ioas->iopt);
	mutex_destroy(&ioas->mutex);
}

int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	ioas = iommufd_ioas_alloc(ucmd->ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	cmd->out_ioas_id = ioas->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iommufd_object_abort_and_destroy(ucmd->ictx, &ioas->obj);
		return rc;
	}
	iommufd_object_finalize(ucmd->ictx, &ioas->obj);
	return 0;
}

int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_iova_ranges *cmd = ucmd->cmd;
	struct iommu_iova_range __user *ranges;
	struct iommufd_ioas *ioas;
	struct iopt_span span;
	u32 max_iovas;
	int rc = 0;

	if (cmd->__reserved)
		return -EINVAL;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	ranges = u64_to_user_ptr(cmd->allowed_iovas);
	max_iovas = cmd->num_iovas;
	cmd->num_iovas = 0;
	down_read(&ioas->iopt.rwsem);
	for_each_iopt_span(&span, &ioas->iopt.reserved_itree, 0, ULONG_MAX) {
		struct iommu_iova_range range = {
			.start = span.start,
			.last = span.last,
		};

		if (span.used)
			continue;
		if (cmd->num_iovas < max_iovas &&
		    copy_to_user(&ranges[cmd->num_iovas], &range,
				 sizeof(range))) {
			rc = -EFAULT;
			break;
		}
		cmd->num_iovas++;
	}
	cmd->out_iova_alignment = ioas->iopt.iova_alignment;
	up_read(&ioas->iopt.rwsem);
	if (!rc)
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (!rc && cmd->num_iovas > max_iovas)
		rc = -EMSGSIZE;
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

static int iommufd_read_allowed(struct rb_root_cached *itree,
				struct iommu_iova_range __user *ranges,
				u32 num)
{
	u32 i;

	for (i = 0; i != num; i++) {
		struct iommu_iova_range range;
		struct iopt_allowed *allowed;

		if (copy_from_user(&range, &ranges[i], sizeof(range)))
			return -EFAULT;
		if (range.start > range.last || !iommufd_fits_ulong(range.last))
			return -EINVAL;
		if (interval_tree_iter_first(itree, range.start, range.last))
			return -EINVAL;
		allowed = kzalloc(sizeof(*allowed), GFP_KERNEL_ACCOUNT);
		if (!allowed)
			return -ENOMEM;
		allowed->node.start = range.start;
		allowed->node.last = range.last;
		interval_tree_insert(&allowed->node, itree);
	}
	return 0;
}

int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_allow_iovas *cmd = ucmd->cmd;
	struct rb_root_cached allowed = RB_ROOT_CACHED;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->__reserved)
		return -EINVAL;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iommufd_read_allowed(&allowed,
				  u64_to_user_ptr(cmd->allowed_iovas),
				  cmd->num_iovas);
	if (!rc)
		rc = iopt_set_allowed(&ioas->iopt, &allowed);
	/* On success this frees the old list, on failure the new one. */
	iopt_free_allowed(&allowed);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

static int iommufd_map_prot(u32 flags)
{
	int prot = 0;

	if (flags & IOMMU_IOAS_MAP_WRITEABLE)
		prot |= IOMMU_WRITE;
	if (flags & IOMMU_IOAS_MAP_READABLE)
		prot |= IOMMU_READ;
	return prot;
}

#define IOMMUFD_MAP_FLAGS                                                      \
	(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |                \
	 IOMMU_IOAS_MAP_READABLE)

int iommufd_ioas_map(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map *cmd = ucmd->cmd;
	unsigned long iova = cmd->iova;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->flags & ~IOMMUFD_MAP_FLAGS)
		return -EOPNOTSUPP;
	if (cmd->__reserved || !cmd->length)
		return -EINVAL;
	if (!iommufd_fits_ulong(cmd->iova) || !iommufd_fits_ulong(cmd->length) ||
	    !iommufd_fits_ulong(cmd->user_va))
		return -EOVERFLOW;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iopt_map_user_pages(&ioas->iopt, &iova,
				 u64_to_user_ptr(cmd->user_va), cmd->length,
				 iommufd_map_prot(cmd->flags), cmd->flags,
				 ucmd->ictx->account_mode);
	if (!rc) {
		cmd->iova = iova;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
		/* The caller can't learn where it went: undo it. */
		if (rc)
			iopt_unmap_iova(&ioas->iopt, iova, cmd->length, NULL);
	}
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

int iommufd_ioas_copy(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_copy *cmd = ucmd->cmd;
	unsigned long iova = cmd->dst_iova;
	struct iommufd_ioas *src;
	struct iommufd_ioas *dst;
	int rc;

	if (cmd->flags & ~IOMMUFD_MAP_FLAGS)
		return -EOPNOTSUPP;
	if (!cmd->length)
		return -EINVAL;
	if (!iommufd_fits_ulong(cmd->length) ||
	    !iommufd_fits_ulong(cmd->src_iova) ||
	    !iommufd_fits_ulong(cmd->dst_iova))
		return -EOVERFLOW;

	src = iommufd_get_ioas(ucmd->ictx, cmd->src_ioas_id);
	if (IS_ERR(src))
		return PTR_ERR(src);
	dst = iommufd_get_ioas(ucmd->ictx, cmd->dst_ioas_id);
	if (IS_ERR(dst)) {
		rc = PTR_ERR(dst);
		goto out_put_src;
	}
	rc = iopt_copy(&dst->iopt, &src->iopt, &iova, cmd->src_iova,
		       cmd->length, iommufd_map_prot(cmd->flags), cmd->flags);
	if (!rc) {
		cmd->dst_iova = iova;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
		if (rc)
			iopt_unmap_iova(&dst->iopt, iova, cmd->length, NULL);
	}
	iommufd_put_object(ucmd->ictx, &dst->obj);
out_put_src:
	iommufd_put_object(ucmd->ictx, &src->obj);
	return rc;
}

int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_unmap *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	unsigned long unmapped = 0;
	int rc;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	if (cmd->iova == 0 && cmd->length == U64_MAX) {
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
	} else if (!cmd->length) {
		rc = -EINVAL;
	} else if (!iommufd_fits_ulong(cmd->iova) ||
		   !iommufd_fits_ulong(cmd->length)) {
		rc = -EOVERFLOW;
	} else {
		rc = iopt_unmap_iova(&ioas->iopt, cmd->iova, cmd->length,
				     &unmapped);
	}
	if (!rc) {
		cmd->length = unmapped;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/**
 * iommufd_ioas_option - IOMMU_OPTION for the per-IOAS options
 * @ucmd: the command, a struct iommu_option of option IOMMU_OPTION_HUGE_PAGES
 *
 * Return: 0 or a negative errno.
 */
int iommufd_ioas_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int rc = 0;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->object_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = !ioas->iopt.disable_large_pages;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	} else if (cmd->val64 > 1) {
		rc = -EINVAL;
	} else {
		rc = iopt_set_large_pages(&ioas->iopt, cmd->val64);
	}
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}
