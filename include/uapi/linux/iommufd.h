/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * iommufd user API: the ioctls of /dev/iommu.
 *
 * The numbering and structure layouts are those of mainline Linux, so that
 * programs written for mainline's iommufd run unchanged on this kernel.
 */
#ifndef _UAPI_IOMMUFD_H
#define _UAPI_IOMMUFD_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* ioctl "magic" shared by every iommufd command */
#define IOMMUFD_TYPE (';')

/**
 * DOC: Calling convention
 *
 * Every command is issued as ioctl(fd, IOMMU_xxx, arg), where arg points to
 * the command's structure and the number is _IO(IOMMUFD_TYPE, nr): the
 * direction and size bits of the number are always zero. Instead, the first
 * __u32 of every command structure is its size, as userspace compiled it.
 * This lets a structure grow at its end over time:
 *
 *  - a size smaller than the first version of the structure is refused with
 *    EINVAL;
 *  - bytes past the end of what the running kernel knows are accepted only if
 *    they are all zero, otherwise the command fails with E2BIG;
 *  - a structure shorter than the kernel's is treated as if the missing tail
 *    were zero.
 *
 * The errno values have a fixed meaning shared by all commands:
 *
 *  - ENOTTY: the ioctl number is not a command this kernel implements;
 *  - E2BIG: the command is known, but non-zero bytes follow the part of the
 *    structure the kernel understands;
 *  - EOPNOTSUPP: the structure is understood, but a flag or a field's value
 *    asks for something this kernel does not support;
 *  - EINVAL: everything was understood, but a value is wrong (reserved
 *    fields not zero, bad alignment, inconsistent lengths, ...);
 *  - ENOENT: an object ID or IOVA named in the command does not exist;
 *  - ENOMEM: memory, or the caller's locked-memory limit, ran out;
 *  - EOVERFLOW: an address or length calculation overflowed.
 *
 * A command may document further errno values of its own.
 */

/* Command numbers: nr field of the ioctl number, starting at the base. */
enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f,
	IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92,
};

/**
 * struct iommu_destroy - ioctl(IOMMU_DESTROY)
 * @size: sizeof(struct iommu_destroy)
 * @id: ID of the object to destroy, of any type that can be destroyed
 *
 * Removes an object from the file. Fails with ENOENT if @id names no
 * object, and with EBUSY while another object depends on it (for instance an
 * IOAS that a page table or device is still attached to).
 */
struct iommu_destroy {
	__u32 size;
	__u32 id;
};

#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/**
 * struct iommu_ioas_alloc - ioctl(IOMMU_IOAS_ALLOC)
 * @size: sizeof(struct iommu_ioas_alloc)
 * @flags: no flags are defined, must be 0
 * @out_ioas_id: returns the ID of the new IOAS
 *
 * Creates an empty I/O address space (IOAS). An IOAS maps IOVA to user
 * memory; devices and page tables attached to it see those mappings.
 */
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};

#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

/**
 * struct iommu_iova_range - one inclusive range of IOVA
 * @start: first IOVA of the range
 * @last: last IOVA of the range, inclusive (so a range can end at U64_MAX)
 */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/**
 * struct iommu_ioas_iova_ranges - ioctl(IOMMU_IOAS_IOVA_RANGES)
 * @size: sizeof(struct iommu_ioas_iova_ranges)
 * @ioas_id: the IOAS to report on
 * @num_iovas: in: number of entries @allowed_iovas has room for;
 *             out: number of ranges the IOAS has
 * @__reserved: must be 0
 * @allowed_iovas: user pointer to an array of struct iommu_iova_range
 * @out_iova_alignment: returns the alignment MAP and COPY require
 *
 * Reports the IOVA ranges in which mappings may be placed: everything that is
 * not reserved, by a device attached to the IOAS (its aperture, MSI window,
 * firmware-reserved regions) or otherwise. The ranges change as devices come
 * and go, so a VMM should read them again after every attach and detach.
 *
 * The array is filled as far as it has room. If the IOAS has more ranges than
 * @num_iovas entries, the ioctl fails with EMSGSIZE and @num_iovas is set to
 * the number needed; call again with a big enough array.
 *
 * Both the IOVA and the IOVA + length of a later MAP or COPY must be multiples
 * of @out_iova_alignment. It is 1 while no page table limits it, and never
 * more than PAGE_SIZE.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};

#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

/**
 * struct iommu_ioas_allow_iovas - ioctl(IOMMU_IOAS_ALLOW_IOVAS)
 * @size: sizeof(struct iommu_ioas_allow_iovas)
 * @ioas_id: the IOAS to change
 * @num_iovas: number of entries in @allowed_iovas (0 clears the list)
 * @__reserved: must be 0
 * @allowed_iovas: user pointer to an array of struct iommu_iova_range
 *
 * Promises that the given IOVA ranges stay usable. The list replaces any
 * earlier one. While a range is allowed, nothing may reserve IOVA inside it:
 * attaching a device whose restrictions would cut into it fails instead.
 * The call itself fails with EADDRINUSE if part of a range is reserved
 * already, and with EINVAL if ranges overlap or a range ends before it
 * starts. When allowed ranges exist, MAP and COPY without
 * IOMMU_IOAS_MAP_FIXED_IOVA pick IOVA only inside them.
 */
struct iommu_ioas_allow_iovas {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
};

#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

/**
 * enum iommufd_ioas_map_flags - flags of IOMMU_IOAS_MAP and IOMMU_IOAS_COPY
 * @IOMMU_IOAS_MAP_FIXED_IOVA: place the mapping at the IOVA given by the
 *                             caller; without it the kernel picks one
 * @IOMMU_IOAS_MAP_WRITEABLE: devices may write through the mapping
 * @IOMMU_IOAS_MAP_READABLE: devices may read through the mapping
 */
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

/**
 * struct iommu_ioas_map - ioctl(IOMMU_IOAS_MAP)
 * @size: sizeof(struct iommu_ioas_map)
 * @flags: combination of enum iommufd_ioas_map_flags
 * @ioas_id: the IOAS to map into
 * @__reserved: must be 0
 * @user_va: start of the user memory to map
 * @length: number of bytes to map
 * @iova: with IOMMU_IOAS_MAP_FIXED_IOVA, the IOVA to map at; in every case
 *        returns the IOVA of the mapping
 *
 * Maps user memory into the IOAS. The memory is pinned (and charged against
 * RLIMIT_MEMLOCK) while some page table or software access needs it, and at
 * most once however many page tables use it. A fixed IOVA range must be
 * entirely free (EEXIST otherwise) and must not touch reserved IOVA (EINVAL
 * otherwise). Without a fixed IOVA, the kernel picks a free range inside the
 * allowed ranges (if any were set) and returns it; ENOSPC means there is
 * none of this size.
 */
struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};

#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

/**
 * struct iommu_ioas_map_file - ioctl(IOMMU_IOAS_MAP_FILE)
 * @size: sizeof(struct iommu_ioas_map_file)
 * @flags: combination of enum iommufd_ioas_map_flags
 * @ioas_id: the IOAS to map into
 * @fd: a memfd, or another shmem (tmpfs) or hugetlbfs file
 * @start: byte offset in the file of the first byte to map
 * @length: number of bytes to map
 * @iova: with IOMMU_IOAS_MAP_FIXED_IOVA, the IOVA to map at; in every case
 *        returns the IOVA of the mapping
 *
 * As IOMMU_IOAS_MAP, with a range of a file where IOMMU_IOAS_MAP takes
 * user memory: the pages are the file's, found by offset, not through
 * anyone's mappings (a VMM's guest RAM in a memfd or on hugetlbfs, for
 * instance), and they are pinned and charged as IOMMU_IOAS_MAP's are. A
 * hole of the file is filled when its page is first pinned. The file
 * offset sets the IOVA's alignment as the user address does for
 * IOMMU_IOAS_MAP.
 *
 * Errors besides IOMMU_IOAS_MAP's: EBADF if @fd is not an open file;
 * EINVAL for a file of another kind or a range past the file's end;
 * EACCES if the file was not opened for reading, or for writing when the
 * mapping is writeable; EPERM if it is writeable and the file is sealed
 * against writes.
 *
 * Context: process context; pins memory, may sleep.
 */
struct iommu_ioas_map_file {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__s32 fd;
	__aligned_u64 start;
	__aligned_u64 length;
	__aligned_u64 iova;
};

#define IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP_FILE)

/**
 * struct iommu_ioas_change_process - ioctl(IOMMU_IOAS_CHANGE_PROCESS)
 * @size: sizeof(struct iommu_ioas_change_process)
 * @__reserved: must be 0
 *
 * Charges the pinned memory of every mapping of every IOAS of the file to
 * the calling process from now on, and moves what is pinned now: for live
 * update, where a new VMM process takes over the old one's descriptors.
 * Only mappings made with IOMMU_IOAS_MAP_FILE can move, since their memory
 * is no process's; with any other mapping present it fails with EINVAL.
 * ENOMEM if the moved pins would exceed the caller's RLIMIT_MEMLOCK;
 * EOPNOTSUPP for a non-zero @__reserved. On failure nothing changed.
 * Mappings made while it runs are not covered.
 *
 * Context: process context, may sleep.
 */
struct iommu_ioas_change_process {
	__u32 size;
	__u32 __reserved;
};

#define IOMMU_IOAS_CHANGE_PROCESS                                              \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_CHANGE_PROCESS)

/**
 * struct iommu_ioas_copy - ioctl(IOMMU_IOAS_COPY)
 * @size: sizeof(struct iommu_ioas_copy)
 * @flags: combination of enum iommufd_ioas_map_flags
 * @dst_ioas_id: the IOAS to map into
 * @src_ioas_id: the IOAS to take the memory from (may equal @dst_ioas_id)
 * @length: number of bytes to copy
 * @dst_iova: with IOMMU_IOAS_MAP_FIXED_IOVA, the IOVA to map at in the
 *            destination; in every case returns where the copy was placed
 * @src_iova: first IOVA of the source
 *
 * Maps, in the destination, the same user memory that @src_iova ..
 * @src_iova + @length - 1 maps in the source. That source range must be
 * fully mapped (ENOENT otherwise). The new mapping shares the pinned pages
 * of the source: nothing is pinned or charged twice. It is independent
 * afterwards, and unmapping either side leaves the other in place.
 */
struct iommu_ioas_copy {
	__u32 size;
	__u32 flags;
	__u32 dst_ioas_id;
	__u32 src_ioas_id;
	__aligned_u64 length;
	__aligned_u64 dst_iova;
	__aligned_u64 src_iova;
};

#define IOMMU_IOAS_COPY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

/**
 * struct iommu_ioas_unmap - ioctl(IOMMU_IOAS_UNMAP)
 * @size: sizeof(struct iommu_ioas_unmap)
 * @ioas_id: the IOAS to unmap from
 * @iova: first IOVA of the range
 * @length: in: length of the range; out: number of bytes unmapped
 *
 * Removes every mapping that lies inside the range. Mappings are removed
 * whole: a mapping (made by one MAP or COPY) that the range only partly
 * covers makes the ioctl fail with ENOENT and nothing is unmapped, as it
 * does when the range holds no mapping at all. @iova 0 with @length U64_MAX
 * unmaps everything and succeeds even on an empty IOAS.
 */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};

#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

/**
 * enum iommufd_option - option IDs of IOMMU_OPTION
 * @IOMMU_OPTION_RLIMIT_MODE: how pinned memory is charged against
 *	RLIMIT_MEMLOCK. 0 (the default): to the user that owns the process,
 *	shared by all its processes; 1: to the process itself. Global to the
 *	file, @object_id must be 0. Setting it needs CAP_SYS_RESOURCE (EPERM)
 *	and is refused with EBUSY while the file holds any object.
 * @IOMMU_OPTION_HUGE_PAGES: 1 (the default): contiguous memory is mapped with
 *	the largest page sizes the page tables support. 0: everything is mapped
 *	with PAGE_SIZE pages, and IOVA must be PAGE_SIZE aligned. Per IOAS,
 *	@object_id is the IOAS ID.
 */
enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0,
	IOMMU_OPTION_HUGE_PAGES = 1,
};

/**
 * enum iommufd_option_ops - what IOMMU_OPTION does with the option
 * @IOMMU_OPTION_OP_SET: set the option to @val64
 * @IOMMU_OPTION_OP_GET: return the option's value in @val64
 */
enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

/**
 * struct iommu_option - ioctl(IOMMU_OPTION)
 * @size: sizeof(struct iommu_option)
 * @option_id: one of enum iommufd_option
 * @op: one of enum iommufd_option_ops
 * @__reserved: must be 0
 * @object_id: the object the option belongs to, 0 for global options
 * @val64: the value to set, or the value read
 *
 * Reads or changes a simple option of the file or of one of its objects.
 */
struct iommu_option {
	__u32 size;
	__u32 option_id;
	__u16 op;
	__u16 __reserved;
	__u32 object_id;
	__aligned_u64 val64;
};

#define IOMMU_OPTION _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

/**
 * enum iommufd_vfio_ioas_op - what IOMMU_VFIO_IOAS does
 * @IOMMU_VFIO_IOAS_GET: report the compatibility IOAS
 * @IOMMU_VFIO_IOAS_SET: make @ioas_id the compatibility IOAS
 * @IOMMU_VFIO_IOAS_CLEAR: have no compatibility IOAS
 */
enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,
	IOMMU_VFIO_IOAS_SET = 1,
	IOMMU_VFIO_IOAS_CLEAR = 2,
};

/**
 * struct iommu_vfio_ioas - ioctl(IOMMU_VFIO_IOAS)
 * @size: sizeof(struct iommu_vfio_ioas)
 * @ioas_id: in for IOMMU_VFIO_IOAS_SET, the IOAS to use; out for
 *           IOMMU_VFIO_IOAS_GET, the IOAS in use
 * @op: one of enum iommufd_vfio_ioas_op
 * @__reserved: must be 0
 *
 * VFIO's container interface has no object IDs: its ioctls (MAP_DMA,
 * UNMAP_DMA, GET_INFO, ...) issued on this file act on one IOAS of it,
 * the compatibility IOAS. GET fails with ENODEV while there is none; SET
 * fails with ENOENT if @ioas_id is not an IOAS. Destroying the IOAS, or
 * CLEAR, leaves the file without one; CLEAR destroys nothing.
 */
struct iommu_vfio_ioas {
	__u32 size;
	__u32 ioas_id;
	__u16 op;
	__u16 __reserved;
};

#define IOMMU_VFIO_IOAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)

/**
 * enum iommufd_hwpt_alloc_flags - flags of IOMMU_HWPT_ALLOC
 * @IOMMU_HWPT_ALLOC_NEST_PARENT: the HWPT is to be the parent of nested
 *                                page tables
 * @IOMMU_HWPT_ALLOC_DIRTY_TRACKING: the HWPT tracks dirty IOVA
 * @IOMMU_HWPT_FAULT_ID_VALID: @fault_id names a fault queue
 *
 * The IOMMU drivers of this kernel support none of them: each is refused
 * with EOPNOTSUPP.
 */
enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
};

/**
 * enum iommu_hwpt_data_type - formats of driver data for IOMMU_HWPT_ALLOC
 * @IOMMU_HWPT_DATA_NONE: no data, an ordinary page table for an IOAS
 * @IOMMU_HWPT_DATA_VTD_S1: an Intel VT-d stage-1 table (not supported here)
 */
enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
	IOMMU_HWPT_DATA_VTD_S1 = 1,
};

/**
 * struct iommu_hwpt_alloc - ioctl(IOMMU_HWPT_ALLOC)
 * @size: sizeof(struct iommu_hwpt_alloc)
 * @flags: combination of enum iommufd_hwpt_alloc_flags
 * @dev_id: a device bound to this file; the page table is made by its IOMMU
 * @pt_id: the IOAS whose mappings the page table mirrors
 * @out_hwpt_id: returns the ID of the new HWPT
 * @__reserved: must be 0
 * @data_type: one of enum iommu_hwpt_data_type
 * @data_len: length of the driver data at @data_uptr
 * @data_uptr: user pointer to driver data, for types other than NONE
 * @fault_id: with IOMMU_HWPT_FAULT_ID_VALID, a fault queue
 * @__reserved2: must be 0
 *
 * Creates a HW page table that devices like @dev_id can be attached to,
 * filled with the IOAS's mappings and kept in sync with them. Unlike the
 * page tables the kernel creates on attach, this one lives until
 * IOMMU_DESTROY (EBUSY while devices use it). If the device can, the page
 * table enforces cache coherency, and devices that cannot are refused
 * (EINVAL) when they try to attach to it.
 *
 * ENOENT: @dev_id is not a device, or @pt_id names no object. EINVAL:
 * @pt_id is an object other than an IOAS (a HWPT: nesting is not supported)
 * or a reserved field is not 0.
 * EOPNOTSUPP: a flag, or a @data_type other than NONE.
 */
struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 __reserved2;
};

#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

/**
 * enum iommu_hw_info_type - formats of IOMMU_GET_HW_INFO data
 * @IOMMU_HW_INFO_TYPE_NONE: the driver reports nothing
 * @IOMMU_HW_INFO_TYPE_INTEL_VTD: struct iommu_hw_info_vtd
 */
enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
};

/**
 * struct iommu_hw_info_vtd - Intel VT-d registers
 * @flags: no flags are reported, 0
 * @__reserved: 0
 * @cap_reg: the Capability Register (VT-d specification 11.4.2)
 * @ecap_reg: the Extended Capability Register (VT-d specification 11.4.3)
 */
struct iommu_hw_info_vtd {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 cap_reg;
	__aligned_u64 ecap_reg;
};

/**
 * enum iommufd_hw_capabilities - generic IOMMU capabilities
 * @IOMMU_HW_CAP_DIRTY_TRACKING: the IOMMU can track dirty IOVA
 * @IOMMU_HW_CAP_PCI_PASID_EXEC: PASID execute permission
 * @IOMMU_HW_CAP_PCI_PASID_PRIV: PASID privileged mode
 *
 * None is reported by this kernel.
 */
enum iommufd_hw_capabilities {
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1,
	IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2,
};

/**
 * struct iommu_hw_info - ioctl(IOMMU_GET_HW_INFO)
 * @size: sizeof(struct iommu_hw_info)
 * @flags: must be 0
 * @dev_id: a device bound to this file
 * @data_len: in: size of the buffer at @data_uptr; out: size of the data
 *            the kernel has for this IOMMU
 * @data_uptr: user buffer for the driver-specific data
 * @out_data_type: returns one of enum iommu_hw_info_type
 * @out_max_pasid_log2: returns the PASID width, 0 without PASID support
 * @__reserved: must be 0
 * @out_capabilities: returns enum iommufd_hw_capabilities bits
 *
 * Describes the IOMMU in front of a device, for a VMM that presents a
 * virtual IOMMU to its guest. The data is copied as far as @data_len allows;
 * a larger buffer has its tail zeroed. @data_len 0 only reads the type.
 *
 * ENOENT: @dev_id is not a device. EOPNOTSUPP: @flags is not 0.
 */
struct iommu_hw_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 out_data_type;
	__u8 out_max_pasid_log2;
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;
};

#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

#endif
