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
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
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
	struct iommufd_object *obj;
	struct iommufd_ioas *ioas;

	obj = iommufd_object_new(ictx, sizeof(*ioas), IOMMUFD_OBJ_IOAS);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	ioas = container_of(obj, struct iommufd_ioas, obj);
	ioas->ictx = ictx;
	INIT_LIST_HEAD(&ioas->access_list);
	INIT_LIST_HEAD(&ioas->hwpt_list);
	mutex_init(&ioas->mutex);
	mutex_init(&ioas->notify_lock);
	iopt_init_table(&ioas->iopt);
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
	iommufd_vfio_forget_ioas(ioas);
	iopt_destroy_table(&ioas->iopt);
	mutex_destroy(&ioas->notify_lock);
	mutex_destroy(&ioas->mutex);
}

int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	/* No flags are defined yet. */
	struct iommufd_ioas *ioas = cmd->flags ? ERR_PTR(-EOPNOTSUPP) :
						 iommufd_ioas_alloc(ucmd->ictx);

	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	cmd->out_ioas_id = ioas->obj.id;
	return iommufd_object_respond_publish(ucmd, sizeof(*cmd), &ioas->obj);
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
	down_read(&ioas->iopt.iova_rwsem);
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
	up_read(&ioas->iopt.iova_rwsem);
	if (!rc)
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (!rc && cmd->num_iovas > max_iovas)
		rc = -EMSGSIZE;
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/*
 * Build the tree of allowed ranges from the user's array, refusing empty
 * or overlapping ranges. The array is read one range at a time: its length
 * comes from userspace, and a copy of all of it would be an allocation of
 * any size userspace likes. What the tree takes grows only with ranges
 * userspace really supplied, and is charged to its memory cgroup.
 */
static int iommufd_read_allowed(struct rb_root_cached *itree,
				struct iommu_iova_range __user *uranges,
				u32 num)
{
	struct iommu_iova_range r;
	u32 i;

	for (i = 0; i != num; i++) {
		if (copy_from_user(&r, &uranges[i], sizeof(r)))
			return -EFAULT;
		if (r.start > r.last || !iommufd_fits_ulong(r.last) ||
		    interval_tree_iter_first(itree, r.start, r.last))
			return -EINVAL;
		if (!iopt_itree_add(itree, sizeof(struct iopt_allowed),
				    offsetof(struct iopt_allowed, node),
				    r.start, r.last))
			return -ENOMEM;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
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

/*
 * The IOMMU permissions of MAP and COPY flags. A mapping with neither is
 * refused: no domain would take it, and every attach would fail on it.
 */
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

/*
 * A new mapping is at *@iova in @ioas: tell userspace where. If that copy
 * fails userspace can't know the mapping exists, so it is taken away again.
 */
static int iommufd_report_mapping(struct iommufd_ucmd *ucmd, size_t cmd_len,
				  __u64 *out_iova, struct iommufd_ioas *ioas,
				  unsigned long iova, unsigned long length)
{
	int rc;

	*out_iova = iova;
	rc = iommufd_ucmd_respond(ucmd, cmd_len);
	if (rc)
		iopt_unmap_iova(&ioas->iopt, iova, length, NULL);
	return rc;
}

/*
 * The argument checks MAP and MAP_FILE share, in MAP's order; @where is
 * the user address or the file offset.
 */
static int iommufd_map_args(u32 flags, u32 reserved, u64 length, u64 iova,
			    u64 where)
{
	if (flags & ~IOMMUFD_MAP_FLAGS)
		return -EOPNOTSUPP;
	if (reserved || !length || !iommufd_map_prot(flags))
		return -EINVAL;
	if (!iommufd_fits_ulong(iova | length | where))
		return -EOVERFLOW;
	return 0;
}

int iommufd_ioas_map(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map *cmd = ucmd->cmd;
	unsigned long iova = cmd->iova;
	struct iommufd_ioas *ioas;
	int rc;

	rc = iommufd_map_args(cmd->flags, cmd->__reserved, cmd->length,
			      cmd->iova, cmd->user_va);
	if (rc)
		return rc;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = iopt_map_user_pages(&ioas->iopt, &iova,
				 u64_to_user_ptr(cmd->user_va), cmd->length,
				 iommufd_map_prot(cmd->flags), cmd->flags,
				 ucmd->ictx->account_mode) ?:
	     iommufd_report_mapping(ucmd, sizeof(*cmd), &cmd->iova, ioas, iova,
				    cmd->length);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/*
 * IOMMU_IOAS_MAP_FILE: as IOMMU_IOAS_MAP, with a range of a memfd, tmpfs
 * or hugetlbfs file in place of user memory (pages.c pins it from the
 * file's page cache).
 */
int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map_file *cmd = ucmd->cmd;
	unsigned long iova = cmd->iova;
	struct iommufd_ioas *ioas;
	struct file *file;
	int rc;

	rc = iommufd_map_args(cmd->flags, 0, cmd->length, cmd->iova,
			      cmd->start);
	if (rc)
		return rc;
	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	file = fget(cmd->fd);
	if (!file) {
		rc = -EBADF;
		goto out_put;
	}
	rc = iopt_map_file_pages(&ioas->iopt, &iova, file, cmd->start,
				 cmd->length, iommufd_map_prot(cmd->flags),
				 cmd->flags, ucmd->ictx->account_mode) ?:
	     iommufd_report_mapping(ucmd, sizeof(*cmd), &cmd->iova, ioas, iova,
				    cmd->length);
	fput(file);
out_put:
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/*
 * Gather into @set the pages objects of every mapping of every IOAS of
 * @ictx, referenced; -EINVAL as soon as one is not a file's.
 */
static int iommufd_gather_file_pages(struct iommufd_ctx *ictx,
				     struct xarray *set)
{
	struct iommufd_object *obj;
	struct iommufd_ioas *ioas;
	struct iopt_area *area;
	unsigned long id;
	int rc = 0;

	xa_for_each(&ictx->objects, id, obj) {
		/* checks the type under the table's lock; ERR_PTR if not */
		ioas = iommufd_get_ioas(ictx, id);
		if (IS_ERR(ioas))
			continue;
		down_read(&ioas->iopt.iova_rwsem);
		for_each_iopt_area(area, &ioas->iopt, 0, ULONG_MAX) {
			struct iopt_pages *pages = area->pages;

			if (!pages->file) {
				rc = -EINVAL;
				break;
			}
			if (xa_load(set, (unsigned long)pages))
				continue;
			rc = xa_err(xa_store(set, (unsigned long)pages, pages,
					     GFP_KERNEL));
			if (rc)
				break;
			kref_get(&pages->kref);
		}
		up_read(&ioas->iopt.iova_rwsem);
		iommufd_put_object(ictx, &ioas->obj);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Whether the caller's RLIMIT_MEMLOCK takes what moving @set to it would
 * charge anew, in each account mode.
 */
static bool iommufd_change_fits(struct xarray *set)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	unsigned long user = 0, mm = 0, index;
	struct iopt_pages *pages;

	if (capable(CAP_IPC_LOCK))
		return true;
	xa_for_each(set, index, pages) {
		user += iopt_pages_new_charge(pages, IOMMUFD_ACCOUNT_USER);
		mm += iopt_pages_new_charge(pages, IOMMUFD_ACCOUNT_MM);
	}
	return atomic_long_read(&current_user()->locked_vm) + user <= limit &&
	       READ_ONCE(current->mm->locked_vm) + mm <= limit;
}

/*
 * IOMMU_IOAS_CHANGE_PROCESS: charge every mapping's pins to the caller
 * from now on (live update: a new VMM process takes over the descriptors
 * of the old one). Only file mappings can move: user memory belongs to
 * the mm that mapped it. The limit is checked for all that moves before
 * anything moves, so nothing fails halfway.
 */
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_change_process *cmd = ucmd->cmd;
	struct iopt_pages *pages;
	unsigned long index;
	struct xarray set;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if (!current->mm)
		return -EINVAL;
	xa_init(&set);
	rc = iommufd_gather_file_pages(ucmd->ictx, &set);
	if (!rc && !iommufd_change_fits(&set))
		rc = -ENOMEM;
	xa_for_each(&set, index, pages) {
		if (!rc)
			iopt_pages_change_process(pages);
		iopt_put_pages(pages);
	}
	xa_destroy(&set);
	return rc;
}

int iommufd_ioas_copy(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_copy *cmd = ucmd->cmd;
	unsigned long iova = cmd->dst_iova;
	struct iommufd_ioas *ioas[2];
	int rc;

	if (cmd->flags & ~IOMMUFD_MAP_FLAGS)
		return -EOPNOTSUPP;
	if (!cmd->length || !iommufd_map_prot(cmd->flags))
		return -EINVAL;
	if (!iommufd_fits_ulong(cmd->length | cmd->src_iova | cmd->dst_iova))
		return -EOVERFLOW;

	/* [0] the source, [1] the destination */
	ioas[0] = iommufd_get_ioas(ucmd->ictx, cmd->src_ioas_id);
	if (IS_ERR(ioas[0]))
		return PTR_ERR(ioas[0]);
	ioas[1] = iommufd_get_ioas(ucmd->ictx, cmd->dst_ioas_id);
	if (IS_ERR(ioas[1])) {
		iommufd_put_object(ucmd->ictx, &ioas[0]->obj);
		return PTR_ERR(ioas[1]);
	}
	rc = iopt_copy(&ioas[1]->iopt, &ioas[0]->iopt, &iova, cmd->src_iova,
		       cmd->length, iommufd_map_prot(cmd->flags), cmd->flags) ?:
	     iommufd_report_mapping(ucmd, sizeof(*cmd), &cmd->dst_iova,
				    ioas[1], iova, cmd->length);
	iommufd_put_object(ucmd->ictx, &ioas[1]->obj);
	iommufd_put_object(ucmd->ictx, &ioas[0]->obj);
	return rc;
}

int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_unmap *cmd = ucmd->cmd;
	bool everything = !cmd->iova && cmd->length == U64_MAX;
	unsigned long unmapped = 0;
	struct iommufd_ioas *ioas;
	int rc;

	/* 0..U64_MAX means "all", every other range must make sense */
	if (!everything && !cmd->length)
		return -EINVAL;
	if (!everything && !iommufd_fits_ulong(cmd->iova | cmd->length))
		return -EOVERFLOW;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (everything)
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
	else
		rc = iopt_unmap_iova(&ioas->iopt, cmd->iova, cmd->length,
				     &unmapped);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	if (rc)
		return rc;
	cmd->length = unmapped;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
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
