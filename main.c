// SPDX-License-Identifier: GPL-2.0-only
/*
 * iommufd: the /dev/iommu character device, its objects and its ioctls.
 *
 * Theory of operation
 * -------------------
 * /dev/iommu is a misc device. Each open() creates a struct iommufd_ctx and
 * stores it in file->private_data; the context is the security boundary of
 * the subsystem: objects created through a file are reachable only through
 * that file, and close() releases all of them. No global state is shared
 * between contexts. With IOMMUFD_VFIO_CONTAINER the same files are also
 * opened as /dev/vfio/vfio, for VMMs that use it as a VFIO type1
 * container (vfio_compat.c); such a file charges pinned memory as type1
 * does, to the mm's locked_vm.
 *
 * Objects. Every IOAS, page table, device or access is a struct
 * iommufd_object in the context's xarray, found by ID and type. Creation is
 * two-phase: iommufd_object_alloc() reserves an ID with XA_ZERO_ENTRY, so a
 * lookup of that ID finds nothing, and iommufd_object_finalize() publishes
 * the finished object. An object that fails half-way is aborted and its ID
 * is freed without ever having been visible.
 *
 * An object has two counts. "users" says whether it may go away: one for
 * the ID table plus one per object that depends on it (a page table holds
 * its IOAS). IOMMU_DESTROY removes an object only if the table's is its
 * last user, checked and unpublished under the xarray lock so no lookup can
 * race in, and fails with EBUSY otherwise. "refs" says whether its memory
 * may be freed: one for the ID table plus one per ioctl that looked it up.
 * Once unpublished (its ID stays reserved), the destroyer drops the table's
 * ref and waits for the ioctls still working on the object to put theirs;
 * only then is it torn down. So a concurrent ioctl never sees the object
 * freed under it, and a short one never makes DESTROY fail. An ioctl can
 * sleep in a page fault for as long as userspace likes, though: DESTROY
 * waits for a bounded time only, then puts the object back and fails with
 * EBUSY. Everything about an object's lifetime is in this file; the other
 * files take and drop users and references through its helpers. Objects
 * owned by another object (the page table a mock device created) are
 * removed by their owner. close() runs when no ioctl is in flight any more
 * and destroys objects in passes: each pass removes those nothing depends
 * on, which makes room for the next.
 *
 * Every command goes through one ioctl entry point. The ioctl number is
 * _IO(IOMMUFD_TYPE, nr); iommufd_cmd_index() maps it to a slot of the
 * command table, and anything that is not exactly such a number in the
 * table's range is answered with -ENOTTY. Each slot names the structure's
 * minimum size (up to its last field in the first version) and the size
 * this kernel knows; copy_struct_from_user() zero-extends shorter input
 * and refuses longer input whose extra bytes are not zero (-E2BIG).
 *
 * Locking: the xarray's spinlock protects the object table, and a users
 * count goes to zero (unpublished) and back from it (put back) only under
 * it, together with the table's entry. Dependents come and go without the
 * lock but never move the count across zero. The lock order of the
 * subsystem is written down in io_pagetable.h.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/iommufd.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/capability.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"
#ifdef CONFIG_IOMMUFD_TEST
#include "iommufd_test.h"
#endif

atomic_long_t iommufd_stats[IOMMUFD_STAT_MAX];

/**
 * iommufd_object_new - allocate an object and reserve its ID
 * @ictx: the context
 * @size: size of the object, which starts with a struct iommufd_object
 * @type: its enum iommufd_object_type
 *
 * The ID stays reserved, and lookups of it find nothing, until
 * iommufd_object_finalize() publishes the object.
 *
 * Return: the zeroed object, or an ERR_PTR.
 */
struct iommufd_object *iommufd_object_new(struct iommufd_ctx *ictx,
					  size_t size,
					  enum iommufd_object_type type)
{
	struct iommufd_object *obj = kzalloc(size, GFP_KERNEL_ACCOUNT);
	u32 id;
	int rc;

	if (!obj)
		return ERR_PTR(-ENOMEM);
	rc = xa_alloc(&ictx->objects, &id, XA_ZERO_ENTRY, xa_limit_31b,
		      GFP_KERNEL_ACCOUNT);
	if (rc) {
		kfree(obj);
		return ERR_PTR(rc);
	}
	*obj = (struct iommufd_object){
		.refs = REFCOUNT_INIT(1),
		.users = ATOMIC_INIT(1),
		.type = type,
		.id = id,
	};
	return obj;
}

/*
 * Put @entry where @obj's ID was reserved: the object itself to publish
 * it, or NULL to give the ID back. The reservation means nothing else can
 * be there and nothing needs allocating. (xa_cmpxchg() reports a reserved
 * entry it replaced as NULL.)
 */
static void iommufd_object_fill_slot(struct iommufd_ctx *ictx,
				     struct iommufd_object *obj, void *entry)
{
	void *prev = xa_cmpxchg(&ictx->objects, obj->id, XA_ZERO_ENTRY, entry,
				GFP_KERNEL);

	WARN_ON(prev);
}

/**
 * iommufd_object_finalize - make a fully built object visible by its ID
 * @ictx: the context the object was allocated in
 * @obj: the object
 */
void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj)
{
	iommufd_object_fill_slot(ictx, obj, obj);
}

/**
 * iommufd_object_abort - free an object that was never finalized
 * @ictx: the context the object was allocated in
 * @obj: the object; whatever it holds must have been released already
 */
void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	iommufd_object_fill_slot(ictx, obj, NULL);
	kfree(obj);
}

static void iommufd_object_destroy(struct iommufd_object *obj);

/**
 * iommufd_object_abort_and_destroy - release and free an unfinalized object
 * @ictx: the context the object was allocated in
 * @obj: the object, fully built but not visible
 */
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj)
{
	iommufd_object_destroy(obj);
	iommufd_object_abort(ictx, obj);
}

/**
 * iommufd_object_respond_publish - answer a command that created an object
 * @ucmd: the command, whose structure names the new object's ID already
 * @cmd_len: the kernel's size of the command structure
 * @obj: the new, unpublished object
 *
 * The object becomes visible only if userspace got its ID; otherwise it is
 * taken apart again.
 *
 * Return: 0 or -EFAULT.
 */
int iommufd_object_respond_publish(struct iommufd_ucmd *ucmd, size_t cmd_len,
				   struct iommufd_object *obj)
{
	int rc = iommufd_ucmd_respond(ucmd, cmd_len);

	if (rc)
		iommufd_object_abort_and_destroy(ucmd->ictx, obj);
	else
		iommufd_object_finalize(ucmd->ictx, obj);
	return rc;
}

/**
 * iommufd_get_object - look an object up by ID and take a user reference
 * @ictx: the context
 * @id: the object's ID
 * @type: the type it must have, or IOMMUFD_OBJ_ANY
 *
 * Return: the object, which must be released with iommufd_put_object(), or
 * ERR_PTR(-ENOENT) if @id names no visible object of @type.
 */
struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, u32 id,
					  enum iommufd_object_type type)
{
	struct iommufd_object *obj;

	xa_lock(&ictx->objects);
	obj = xa_load(&ictx->objects, id);
	if (!obj || (type != IOMMUFD_OBJ_ANY && obj->type != type) ||
	    !refcount_inc_not_zero(&obj->refs))
		obj = ERR_PTR(-ENOENT);
	xa_unlock(&ictx->objects);
	return obj;
}

/**
 * iommufd_put_object - drop a reference taken by iommufd_get_object()
 * @ictx: the context
 * @obj: the object
 */
void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	/* Zero means a destroyer is waiting for us: the table's ref is gone. */
	if (refcount_dec_and_test(&obj->refs))
		wake_up_all(&ictx->destroy_wait);
}

/**
 * iommufd_object_tryget - take a reference on an object the caller can see
 * @obj: an object found through another object's list or pointer
 *
 * Like iommufd_get_object() without the lookup: it keeps @obj's memory and
 * makes a destroyer of @obj wait. Drop it with iommufd_put_object().
 *
 * Return: false if @obj is being destroyed.
 */
bool iommufd_object_tryget(struct iommufd_object *obj)
{
	return refcount_inc_not_zero(&obj->refs);
}

/**
 * iommufd_object_add_user - become a dependent of a visible object
 * @obj: the object; the caller holds a reference on it
 *
 * While the user is held, IOMMU_DESTROY of @obj fails with EBUSY. Drop it
 * with iommufd_object_drop_user() or iommufd_object_put_user().
 *
 * Return: false if @obj is being destroyed; it takes no new users then.
 */
bool iommufd_object_add_user(struct iommufd_object *obj)
{
	/* Zero: unpublished for removal, see __iommufd_object_unpublish(). */
	return atomic_inc_not_zero(&obj->users);
}

/**
 * iommufd_object_add_owner - give a new object the user of its owner
 * @obj: an object not finalized yet
 *
 * The owner (a driver's bound device or access) removes it with
 * iommufd_object_destroy_owned(); userspace can't destroy it meanwhile.
 */
void iommufd_object_add_owner(struct iommufd_object *obj)
{
	/* Nobody else sees @obj yet: its count is the table's 1. */
	atomic_inc(&obj->users);
}

/*
 * Drop a dependent's user of @obj, never the table's: the count stays one
 * or more, so it never reaches zero here. With @unless_last, a count of two
 * (the table's and the caller's) is left as it is.
 *
 * Return: false if that count of two was left, true otherwise.
 */
static bool iommufd_object_dec_users(struct iommufd_object *obj,
				     bool unless_last)
{
	int users = atomic_read(&obj->users);

	do {
		if (unless_last && users == 2)
			return false;
		/* the caller holds one besides the table's */
		if (WARN_ON(users < 2))
			return true;
	} while (!atomic_try_cmpxchg(&obj->users, &users, users - 1));
	return true;
}

/**
 * iommufd_object_drop_user - drop a user taken by iommufd_object_add_user()
 * @obj: the object, which stays visible
 */
void iommufd_object_drop_user(struct iommufd_object *obj)
{
	iommufd_object_dec_users(obj, false);
}

/*
 * Take @obj out of the ID table if the table and @holders more are its only
 * users; its ID stays reserved (XA_ZERO_ENTRY) until the object is freed or
 * put back. The users count drops to zero, which keeps new dependents out
 * (atomic_inc_not_zero()); under the xarray lock no lookup can take a new
 * ref meanwhile.
 */
static bool __iommufd_object_unpublish(struct iommufd_ctx *ictx,
				       struct iommufd_object *obj,
				       unsigned int holders)
{
	lockdep_assert_held(&ictx->objects.xa_lock);
	/* One step, against a dependent coming or going meanwhile. */
	if (atomic_cmpxchg(&obj->users, 1 + holders, 0) != 1 + holders)
		return false;
	/* Replacing an entry allocates nothing. */
	__xa_cmpxchg(&ictx->objects, obj->id, obj, XA_ZERO_ENTRY, GFP_ATOMIC);
	return true;
}

static bool iommufd_object_unpublish(struct iommufd_ctx *ictx,
				     struct iommufd_object *obj,
				     unsigned int holders)
{
	bool removed;

	xa_lock(&ictx->objects);
	removed = __iommufd_object_unpublish(ictx, obj, holders);
	xa_unlock(&ictx->objects);
	return removed;
}

/*
 * Undo iommufd_object_unpublish(): @obj, whose users count is zero, is
 * visible again with the users of the table and @holders.
 */
static void iommufd_object_republish(struct iommufd_ctx *ictx,
				     struct iommufd_object *obj,
				     unsigned int holders)
{
	xa_lock(&ictx->objects);
	atomic_set(&obj->users, 1 + holders);
	/* Replacing an entry allocates nothing. */
	WARN_ON(__xa_cmpxchg(&ictx->objects, obj->id, XA_ZERO_ENTRY, obj,
			     GFP_ATOMIC));
	xa_unlock(&ictx->objects);
}

/*
 * How long IOMMU_DESTROY waits for the ioctls still using an object. An
 * ioctl can sleep for as long as a page fault on its user memory takes
 * (FUSE, userfaultfd): DESTROY gives up rather than sleep with it.
 */
#define IOMMUFD_DESTROY_WAIT (10 * HZ)

/*
 * Free an unpublished object once the ioctls that looked it up are done
 * with it. With @bounded, waiting ends after IOMMUFD_DESTROY_WAIT or on a
 * fatal signal: the object is then put back as it was, with the users of
 * the table and @holders, and -EBUSY or -EINTR returned. Without, the wait
 * is for ioctls that hold no reference while they sleep on user memory:
 * nothing holds a device or an access across a page fault.
 */
static int iommufd_object_remove(struct iommufd_ctx *ictx,
				 struct iommufd_object *obj,
				 unsigned int holders, bool bounded)
{
	long left;

	if (refcount_dec_and_test(&obj->refs))
		goto destroy;
	if (!bounded) {
		wait_event(ictx->destroy_wait, !refcount_read(&obj->refs));
		goto destroy;
	}
	left = wait_event_killable_timeout(ictx->destroy_wait,
					   !refcount_read(&obj->refs),
					   IOMMUFD_DESTROY_WAIT);
	/* The last ref may have gone just as the wait ended. */
	if (left > 0 || !refcount_inc_not_zero(&obj->refs))
		goto destroy;
	iommufd_object_republish(ictx, obj, holders);
	return left ? -EINTR : -EBUSY;

destroy:
	iommufd_object_abort_and_destroy(ictx, obj);
	return 0;
}

/**
 * iommufd_object_destroy_owned - destroy an object its owner created
 * @ictx: the context
 * @obj: a visible object whose owner holds a user of it, and nothing else
 *
 * Removes and destroys @obj, consuming the owner's user. IOMMU_DESTROY of
 * @obj fails with EBUSY until then, because of the owner's user.
 */
void iommufd_object_destroy_owned(struct iommufd_ctx *ictx,
				  struct iommufd_object *obj)
{
	if (!WARN_ON(!iommufd_object_unpublish(ictx, obj, 1)))
		iommufd_object_remove(ictx, obj, 1, false);
}

/**
 * iommufd_object_put_user - drop a dependent's user of an object
 * @ictx: the context
 * @obj: a visible object on which the caller holds a user
 * @destroy_if_last: destroy @obj if the caller's user was its last one
 *                   besides the ID table
 *
 * Deciding and dropping is one atomic step, so two dependents leaving at
 * once can't both see the other and leave the object behind.
 */
void iommufd_object_put_user(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj, bool destroy_if_last)
{
	/*
	 * A count of two goes to iommufd_object_destroy_if_last(), which
	 * fails only if another dependent came meanwhile: then drop again.
	 */
	while (!iommufd_object_dec_users(obj, destroy_if_last)) {
		if (iommufd_object_destroy_if_last(ictx, obj))
			return;
	}
}

/**
 * iommufd_object_destroy_if_last - destroy an object with its last dependent
 * @ictx: the context
 * @obj: a visible object on which the caller holds a user
 *
 * Return: true if the caller's user was the last one besides the ID table:
 * @obj is then destroyed and gone. false if others still use it: the
 * caller's user is kept and must be dropped by the caller.
 */
bool iommufd_object_destroy_if_last(struct iommufd_ctx *ictx,
				    struct iommufd_object *obj)
{
	if (!iommufd_object_unpublish(ictx, obj, 1))
		return false;
	iommufd_object_remove(ictx, obj, 1, false);
	return true;
}

static void iommufd_object_destroy(struct iommufd_object *obj)
{
	switch (obj->type) {
	case IOMMUFD_OBJ_IOAS:
		iommufd_ioas_destroy(obj);
		break;
	case IOMMUFD_OBJ_HW_PAGETABLE:
		iommufd_hw_pagetable_destroy(obj);
		break;
	case IOMMUFD_OBJ_DEVICE:
		iommufd_device_destroy(obj);
		break;
	case IOMMUFD_OBJ_ACCESS:
		iommufd_access_destroy_object(obj);
		break;
#ifdef CONFIG_IOMMUFD_TEST
	case IOMMUFD_OBJ_SELFTEST:
		iommufd_selftest_destroy(obj);
		break;
#endif
	default:
		WARN_ON(1);
	}
}

static int iommufd_destroy(struct iommufd_ucmd *ucmd)
{
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommu_destroy *cmd = ucmd->cmd;
	struct iommufd_object *obj;
	int rc = 0;

	xa_lock(&ictx->objects);
	obj = xa_load(&ictx->objects, cmd->id);
	if (!obj)
		rc = -ENOENT;
	else if (!__iommufd_object_unpublish(ictx, obj, 0))
		rc = -EBUSY;
	xa_unlock(&ictx->objects);
	if (rc)
		return rc;
	return iommufd_object_remove(ictx, obj, 0, true);
}

/**
 * iommufd_ucmd_respond - copy the command structure back to userspace
 * @ucmd: the command
 * @cmd_len: the kernel's size of the structure
 *
 * Copies no more than the user's structure has room for.
 *
 * Return: 0 or -EFAULT.
 */
int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

static int iommufd_option_rlimit_mode(struct iommufd_ucmd *ucmd,
				      struct iommu_option *cmd)
{
	struct iommufd_ctx *ictx = ucmd->ictx;
	int rc = 0;

	if (cmd->object_id)
		return -EINVAL;
	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = ictx->account_mode;
		return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	if (!capable(CAP_SYS_RESOURCE))
		return -EPERM;
	if (cmd->val64 > IOMMUFD_ACCOUNT_MM)
		return -EINVAL;
	/* Pages already pinned were charged the old way. */
	xa_lock(&ictx->objects);
	if (!xa_empty(&ictx->objects))
		rc = -EBUSY;
	else
		ictx->account_mode = cmd->val64;
	xa_unlock(&ictx->objects);
	return rc;
}

static int iommufd_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;

	if (cmd->__reserved)
		return -EINVAL;
	if (cmd->op != IOMMU_OPTION_OP_SET && cmd->op != IOMMU_OPTION_OP_GET)
		return -EOPNOTSUPP;
	switch (cmd->option_id) {
	case IOMMU_OPTION_RLIMIT_MODE:
		return iommufd_option_rlimit_mode(ucmd, cmd);
	case IOMMU_OPTION_HUGE_PAGES:
		return iommufd_ioas_option(ucmd);
	default:
		return -EOPNOTSUPP;
	}
}

/* Room for the largest command structure, on the stack of the ioctl. */
union iommufd_cmd_buffer {
	struct iommu_destroy destroy;
	struct iommu_ioas_alloc ioas_alloc;
	struct iommu_ioas_iova_ranges iova_ranges;
	struct iommu_ioas_allow_iovas allow_iovas;
	struct iommu_ioas_map map;
	struct iommu_ioas_copy copy;
	struct iommu_ioas_unmap unmap;
	struct iommu_option option;
	struct iommu_vfio_ioas vfio_ioas;
	struct iommu_hwpt_alloc hwpt_alloc;
	struct iommu_hw_info hw_info;
#ifdef CONFIG_IOMMUFD_TEST
	struct iommu_test_cmd test;
#endif
};

/*
 * The command table, indexed by nr - IOMMUFD_CMD_BASE. A slot without a
 * handler is a number the uAPI reserves but this kernel does not implement.
 */
struct iommufd_cmd_op {
	int (*execute)(struct iommufd_ucmd *ucmd);
	u32 size;
	u32 min_size;
};

/* The slot of command @_nr: its handler and its structure's sizes. */
#define IOMMUFD_CMD(_nr, _fn, _struct, _last)                                  \
	[(_nr) - IOMMUFD_CMD_BASE] = {                                         \
		.execute = _fn,                                                \
		.size = sizeof(struct _struct),                                \
		.min_size = offsetofend(struct _struct, _last),                \
	}

static const struct iommufd_cmd_op iommufd_cmd_ops[] = {
	IOMMUFD_CMD(IOMMUFD_CMD_DESTROY, iommufd_destroy, iommu_destroy, id),
	IOMMUFD_CMD(IOMMUFD_CMD_IOAS_ALLOC, iommufd_ioas_alloc_ioctl,
		    iommu_ioas_alloc, out_ioas_id),
	IOMMUFD_CMD(IOMMUFD_CMD_IOAS_ALLOW_IOVAS, iommufd_ioas_allow_iovas,
		    iommu_ioas_allow_iovas, allowed_iovas),
	IOMMUFD_CMD(IOMMUFD_CMD_IOAS_COPY, iommufd_ioas_copy, iommu_ioas_copy,
		    src_iova),
	IOMMUFD_CMD(IOMMUFD_CMD_IOAS_IOVA_RANGES, iommufd_ioas_iova_ranges,
		    iommu_ioas_iova_ranges, out_iova_alignment),
	IOMMUFD_CMD(IOMMUFD_CMD_IOAS_MAP, iommufd_ioas_map, iommu_ioas_map,
		    iova),
	IOMMUFD_CMD(IOMMUFD_CMD_IOAS_UNMAP, iommufd_ioas_unmap,
		    iommu_ioas_unmap, length),
	IOMMUFD_CMD(IOMMUFD_CMD_OPTION, iommufd_option, iommu_option, val64),
	IOMMUFD_CMD(IOMMUFD_CMD_VFIO_IOAS, iommufd_vfio_ioas, iommu_vfio_ioas,
		    __reserved),
	IOMMUFD_CMD(IOMMUFD_CMD_HWPT_ALLOC, iommufd_hwpt_alloc,
		    iommu_hwpt_alloc, __reserved),
	IOMMUFD_CMD(IOMMUFD_CMD_GET_HW_INFO, iommufd_get_hw_info,
		    iommu_hw_info, __reserved),
	IOMMUFD_CMD(IOMMUFD_CMD_IOAS_MAP_FILE, iommufd_ioas_map_file,
		    iommu_ioas_map_file, iova),
	IOMMUFD_CMD(IOMMUFD_CMD_IOAS_CHANGE_PROCESS,
		    iommufd_ioas_change_process, iommu_ioas_change_process,
		    __reserved),
#ifdef CONFIG_IOMMUFD_TEST
	IOMMUFD_CMD(IOMMUFD_CMD_BASE + 32, iommufd_test, iommu_test_cmd, last),
#endif
};

/**
 * iommufd_cmd_index - map an ioctl number to a slot of the command table
 * @cmd: the ioctl number passed by userspace
 * @ncmds: number of slots in the command table
 *
 * Only _IO(IOMMUFD_TYPE, nr) numbers with IOMMUFD_CMD_BASE <= nr <
 * IOMMUFD_CMD_BASE + @ncmds are commands; a number with the right nr but
 * with direction or size bits set is a different number and is not one.
 *
 * Return: the table slot, or -ENOTTY if @cmd is not an iommufd command.
 */
int iommufd_cmd_index(unsigned int cmd, unsigned int ncmds)
{
	unsigned int nr = _IOC_NR(cmd);

	if (cmd != _IO(IOMMUFD_TYPE, nr))
		return -ENOTTY;
	if (nr < IOMMUFD_CMD_BASE || nr - IOMMUFD_CMD_BASE >= ncmds)
		return -ENOTTY;
	return nr - IOMMUFD_CMD_BASE;
}

/* whether @filp was opened through our /dev/vfio/vfio, not /dev/iommu */
static bool iommufd_file_is_vfio_node(struct file *filp)
{
	return IS_ENABLED(CONFIG_IOMMUFD_VFIO_CONTAINER) &&
	       file_inode(filp)->i_rdev == MKDEV(MISC_MAJOR, VFIO_MINOR);
}

#ifdef CONFIG_IOMMUFD_TEST
/**
 * iommufd_cmd_hidden - whether a command is not there for this caller
 * @filp: the file the ioctl is on
 * @cmd: the ioctl number, an iommufd command's
 *
 * IOMMU_TEST_CMD drives the mock IOMMU: it makes devices, injects faults
 * and reads kernel state. /dev/vfio/vfio is open to every user (see
 * iommufd_nodes[]), so on a file of that node the command exists for
 * CAP_SYS_ADMIN only; anyone else is answered as by a kernel without it.
 *
 * Context: process context, the caller's credentials.
 * Return: true if the ioctl is to fail with -ENOTTY.
 */
static bool iommufd_cmd_hidden(struct file *filp, unsigned int cmd)
{
	return cmd == IOMMU_TEST_CMD && iommufd_file_is_vfio_node(filp) &&
	       !capable(CAP_SYS_ADMIN);
}
#else
static bool iommufd_cmd_hidden(struct file *filp, unsigned int cmd)
{
	return false;
}
#endif

static long iommufd_fops_ioctl(struct file *filp, unsigned int cmd,
			       unsigned long arg)
{
	struct iommufd_ucmd ucmd = {
		.ictx = filp->private_data,
		.ubuffer = (void __user *)arg,
	};
	union iommufd_cmd_buffer buf;
	const struct iommufd_cmd_op *op;
	int idx;
	int rc;

	idx = iommufd_cmd_index(cmd, ARRAY_SIZE(iommufd_cmd_ops));
	/*
	 * VFIO's numbers share our type (';') below IOMMUFD_CMD_BASE: the
	 * container ioctls, for programs written for type1.
	 */
	if (idx < 0)
		return iommufd_vfio_ioctl(ucmd.ictx, cmd, arg);
	op = &iommufd_cmd_ops[idx];
	if (!op->execute || iommufd_cmd_hidden(filp, cmd))
		return -ENOTTY;

	if (get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer))
		return -EFAULT;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	rc = copy_struct_from_user(&buf, op->size, ucmd.ubuffer,
				   ucmd.user_size);
	if (rc)
		return rc;
	ucmd.cmd = &buf;
	return op->execute(&ucmd);
}

/* the device nodes iommufd registers, see iommufd_nodes[] */
enum {
	IOMMUFD_NODE_IOMMU,
	IOMMUFD_NODE_VFIO,
	IOMMUFD_NR_NODES,
};

static struct miscdevice iommufd_nodes[IOMMUFD_NR_NODES];

static int iommufd_fops_open(struct inode *inode, struct file *filp)
{
	/* misc_open() passes the miscdevice that was opened */
	bool as_vfio_container =
		filp->private_data == &iommufd_nodes[IOMMUFD_NODE_VFIO];
	struct iommufd_ctx *ictx;

	ictx = kzalloc(sizeof(*ictx), GFP_KERNEL_ACCOUNT);
	if (!ictx)
		return -ENOMEM;
	xa_init_flags(&ictx->objects, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	init_waitqueue_head(&ictx->destroy_wait);
	xa_init(&ictx->groups);
	mutex_init(&ictx->groups_lock);
	mutex_init(&ictx->vfio_lock);
	INIT_LIST_HEAD(&ictx->vfio_claims);
	/* a type1 container charges locked_vm of the mm that pins */
	if (as_vfio_container)
		ictx->account_mode = IOMMUFD_ACCOUNT_MM;
	ictx->file = filp;
	filp->private_data = ictx;
	return 0;
}

/*
 * No ioctl runs any more. Each pass destroys the objects nothing depends
 * on; destroying them releases what they held, so the next pass can go on.
 */
static int iommufd_fops_release(struct inode *inode, struct file *filp)
{
	struct iommufd_ctx *ictx = filp->private_data;
	struct iommufd_object *obj;
	unsigned long index;
	bool progress = true;

	while (!xa_empty(&ictx->objects) && progress) {
		progress = false;
		xa_for_each(&ictx->objects, index, obj) {
			if (!iommufd_object_unpublish(ictx, obj, 0))
				continue;
			iommufd_object_remove(ictx, obj, 0, false);
			progress = true;
		}
	}
	/* Something kept a reference it should have dropped. */
	WARN_ON(!xa_empty(&ictx->objects));
	WARN_ON(!xa_empty(&ictx->groups));
	xa_destroy(&ictx->objects);
	mutex_destroy(&ictx->groups_lock);
	kfree(ictx);
	return 0;
}

static const struct file_operations iommufd_fops = {
	.owner = THIS_MODULE,
	.open = iommufd_fops_open,
	.release = iommufd_fops_release,
	.unlocked_ioctl = iommufd_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/**
 * iommufd_ctx_from_file - the iommufd context of a file userspace passed
 * @file: a file, for instance from fget() of a descriptor in an ioctl
 *
 * Takes a reference on @file, dropped by iommufd_ctx_put().
 *
 * Context: any context.
 * Return: the context, or ERR_PTR(-EBADFD) if @file is not /dev/iommu.
 */
struct iommufd_ctx *iommufd_ctx_from_file(struct file *file)
{
	if (file->f_op != &iommufd_fops)
		return ERR_PTR(-EBADFD);
	get_file(file);
	return file->private_data;
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_from_file, IOMMUFD);

/**
 * iommufd_ctx_put - drop the reference iommufd_ctx_from_file() took
 * @ictx: the context
 *
 * Context: process context; the last put closes the file.
 */
void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
	fput(ictx->file);
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_put, IOMMUFD);

/*
 * Our device nodes. /dev/iommu is for its owner and group; /dev/vfio/vfio
 * (only with IOMMUFD_VFIO_CONTAINER, in VFIO's place) is open to all, as
 * VFIO's own is: a file of it has no right over anything until a group is
 * given to it, and the group's node has the permissions that matter. The
 * mock IOMMU's IOMMU_TEST_CMD is not for all, though: see
 * iommufd_cmd_hidden().
 */
static struct miscdevice iommufd_nodes[IOMMUFD_NR_NODES] = {
	[IOMMUFD_NODE_IOMMU] = {
		.minor = MISC_DYNAMIC_MINOR,
		.name = "iommu",
		.nodename = "iommu",
		.mode = 0660,
		.fops = &iommufd_fops,
	},
	[IOMMUFD_NODE_VFIO] = {
		.minor = VFIO_MINOR,
		.name = "vfio",
		.nodename = "vfio/vfio",
		.mode = 0666,
		.fops = &iommufd_fops,
	},
};

/* how many of iommufd_nodes[] this kernel registers */
static unsigned int iommufd_nr_nodes(void)
{
	return IS_ENABLED(CONFIG_IOMMUFD_VFIO_CONTAINER) ? IOMMUFD_NR_NODES :
							   IOMMUFD_NODE_VFIO;
}

static int __init iommufd_init(void)
{
	unsigned int i;
	int rc;

	rc = iommufd_test_init();
	if (rc)
		return rc;
	for (i = 0; i != iommufd_nr_nodes(); i++) {
		rc = misc_register(&iommufd_nodes[i]);
		if (rc)
			goto err_nodes;
	}
	if (iommufd_nr_nodes() > IOMMUFD_NODE_VFIO)
		pr_info("iommufd: serving /dev/vfio/vfio as the VFIO container\n");
	return 0;

err_nodes:
	while (i--)
		misc_deregister(&iommufd_nodes[i]);
	iommufd_test_exit();
	return rc;
}

static void __exit iommufd_exit(void)
{
	unsigned int i = iommufd_nr_nodes();

	while (i--)
		misc_deregister(&iommufd_nodes[i]);
	iommufd_test_exit();
}

module_init(iommufd_init);
module_exit(iommufd_exit);

MODULE_DESCRIPTION("I/O Address Space Management for passthrough devices");
MODULE_LICENSE("GPL");
#if IS_ENABLED(CONFIG_IOMMUFD_VFIO_CONTAINER)
MODULE_ALIAS_MISCDEV(VFIO_MINOR);
MODULE_ALIAS("devname:vfio/vfio");
#endif
