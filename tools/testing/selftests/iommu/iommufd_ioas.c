// SPDX-License-Identifier: GPL-2.0-only
/*
 * kselftests for the IOAS ioctls of /dev/iommu: the struct size rules,
 * reserved fields, flags and IDs shared by every command, then DESTROY,
 * IOAS_ALLOC, IOVA_RANGES, ALLOW_IOVAS, MAP, COPY, UNMAP and OPTION, each
 * with the errno values of the behaviour contract. After a refused call the
 * tests check that nothing changed: accounting and object counters, the
 * IOVA ranges, the options and the mappings.
 *
 * Needs a kernel built with CONFIG_IOMMUFD_TEST (the mock domain).
 */
#include "iommufd_utils.h"

/* offsetofend() of the last field of struct iommu_test_cmd */
#define TEST_CMD_MIN_SIZE \
	(offsetof(struct iommu_test_cmd, last) + sizeof(__u32))

/*
 * The refusals every command shares, for a @cmd that would otherwise be
 * accepted: sizes below @min are EINVAL, non-zero bytes after the structure
 * are E2BIG.
 */
#define EXPECT_SIZE_REFUSED(fd, nr, cmd, min) \
	EXPECT_SIZE_REFUSED_OVER(fd, nr, cmd, min, 1, 16)

/* ====================================================================== */
/* One IOAS, no domain unless a test adds one */

#define BASIC_PAGES 16

FIXTURE(basic) {
	int fd;
	__u32 ioas;
	__u32 hwpt[2];		/* unused, for MAPPED()/UNMAPPED() */
	unsigned int nr_hwpts;
	void *buf;
	size_t buf_size;
	__u64 base;
};

FIXTURE_SETUP(basic)
{
	SETUP_IOAS(0, NULL, BASIC_PAGES, 1);
	ASSERT_NE(0, self->ioas);
	self->base = APERTURE_START;
}

FIXTURE_TEARDOWN(basic)
{
	munmap(self->buf, self->buf_size);
	close(self->fd);
}

/* ---- struct size rule, for every command ---- */

TEST_F(basic, size_destroy)
{
	struct iommu_destroy cmd = { .id = self->ioas };
	__u64 val;

	EXPECT_SIZE_REFUSED(self->fd, IOMMU_DESTROY, cmd, sizeof(cmd));
	/* none of those destroyed the IOAS */
	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, self->ioas,
				 &val));
	EXPECT_EQ(0, sized_ioctl(self->fd, IOMMU_DESTROY, &cmd, sizeof(cmd),
				 sizeof(cmd) + 16, false));
	EXPECT_EQ(ENOENT, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES,
				      self->ioas, &val));
}

TEST_F(basic, size_ioas_alloc)
{
	struct iommu_ioas_alloc cmd = {};
	__u64 val;
	int fd;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	EXPECT_SIZE_REFUSED(fd, IOMMU_IOAS_ALLOC, cmd, sizeof(cmd));
	/* nothing was created: the file still takes RLIMIT_MODE */
	EXPECT_EQ(0, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 0));

	EXPECT_EQ(0, sized_ioctl(fd, IOMMU_IOAS_ALLOC, &cmd, sizeof(cmd),
				 sizeof(cmd) + 16, false));
	EXPECT_NE(0, cmd.out_ioas_id);
	EXPECT_EQ(0, _option_get(fd, IOMMU_OPTION_HUGE_PAGES, cmd.out_ioas_id,
				 &val));
	EXPECT_EQ(1, val);
	EXPECT_EQ(EBUSY, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 0));
	close(fd);
}

TEST_F(basic, size_iova_ranges)
{
	struct iommu_iova_range r[2];
	struct iommu_ioas_iova_ranges cmd = {
		.ioas_id = self->ioas,
		.num_iovas = 2,
		.allowed_iovas = (uintptr_t)r,
	};
	struct ioas_state st;

	SNAPSHOT(&st);
	EXPECT_SIZE_REFUSED(self->fd, IOMMU_IOAS_IOVA_RANGES, cmd,
			    sizeof(cmd));
	UNCHANGED(&st);

	memset(r, 0x5a, sizeof(r));
	cmd.num_iovas = 2;
	EXPECT_EQ(0, sized_ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &cmd,
				 sizeof(cmd), sizeof(cmd) + 16, false));
	EXPECT_EQ(1, cmd.num_iovas);
	EXPECT_EQ(0, r[0].start);
	EXPECT_EQ(U64_MAX, r[0].last);
	EXPECT_EQ(1, cmd.out_iova_alignment);
}

TEST_F(basic, size_allow_iovas)
{
	struct iommu_iova_range allowed = {
		.start = self->base,
		.last = self->base + PS - 1,
	};
	/* a valid command that clears the allowed list */
	struct iommu_ioas_allow_iovas cmd = {
		.ioas_id = self->ioas,
		.num_iovas = 0,
	};

	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &allowed, 1));
	EXPECT_SIZE_REFUSED(self->fd, IOMMU_IOAS_ALLOW_IOVAS, cmd,
			    sizeof(cmd));
	/* the list is still in force */
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas, self->base,
					    PS));

	EXPECT_EQ(0, sized_ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd,
				 sizeof(cmd), sizeof(cmd) + 16, false));
	EXPECT_EQ(0, _add_reserved(self->fd, self->ioas, self->base, PS));
}

TEST_F(basic, size_map)
{
	struct iommu_ioas_map cmd = {
		.flags = MAP_FIXED_RW,
		.ioas_id = self->ioas,
		.user_va = (uintptr_t)self->buf,
		.length = 2 * PS,
		.iova = self->base,
	};
	struct ioas_state st;

	SNAPSHOT(&st);
	EXPECT_SIZE_REFUSED(self->fd, IOMMU_IOAS_MAP, cmd, sizeof(cmd));
	UNCHANGED(&st);
	UNMAPPED(self->base, 2 * PS);

	EXPECT_EQ(0, sized_ioctl(self->fd, IOMMU_IOAS_MAP, &cmd, sizeof(cmd),
				 sizeof(cmd) + 16, false));
	EXPECT_EQ(self->base, cmd.iova);
	MAPPED(self->base, 2 * PS, self->buf);
}

TEST_F(basic, size_copy)
{
	struct iommu_ioas_copy cmd = {
		.flags = MAP_FIXED_RW,
		.dst_ioas_id = self->ioas,
		.src_ioas_id = self->ioas,
		.length = 2 * PS,
		.dst_iova = self->base + 16 * PS,
		.src_iova = self->base,
	};
	struct ioas_state st;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 2 * PS,
				self->base));
	SNAPSHOT(&st);
	EXPECT_SIZE_REFUSED(self->fd, IOMMU_IOAS_COPY, cmd, sizeof(cmd));
	UNCHANGED(&st);
	UNMAPPED(self->base + 16 * PS, 2 * PS);

	EXPECT_EQ(0, sized_ioctl(self->fd, IOMMU_IOAS_COPY, &cmd, sizeof(cmd),
				 sizeof(cmd) + 16, false));
	EXPECT_EQ(self->base + 16 * PS, cmd.dst_iova);
	MAPPED(self->base + 16 * PS, 2 * PS, self->buf);
}

TEST_F(basic, size_unmap)
{
	struct iommu_ioas_unmap cmd = {
		.ioas_id = self->ioas,
		.iova = self->base,
		.length = 2 * PS,
	};
	struct ioas_state st;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 2 * PS,
				self->base));
	SNAPSHOT(&st);
	EXPECT_SIZE_REFUSED(self->fd, IOMMU_IOAS_UNMAP, cmd, sizeof(cmd));
	UNCHANGED(&st);
	MAPPED(self->base, 2 * PS, self->buf);

	cmd.length = 2 * PS;
	EXPECT_EQ(0, sized_ioctl(self->fd, IOMMU_IOAS_UNMAP, &cmd, sizeof(cmd),
				 sizeof(cmd) + 16, false));
	EXPECT_EQ(2 * PS, cmd.length);
	UNMAPPED(self->base, 2 * PS);
}

TEST_F(basic, size_option)
{
	struct iommu_option cmd = {
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_SET,
		.object_id = self->ioas,
		.val64 = 0,
	};
	struct ioas_state st;
	__u64 val;

	SNAPSHOT(&st);
	EXPECT_SIZE_REFUSED(self->fd, IOMMU_OPTION, cmd, sizeof(cmd));
	UNCHANGED(&st);
	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, self->ioas,
				 &val));
	EXPECT_EQ(1, val);

	cmd.val64 = 0;
	EXPECT_EQ(0, sized_ioctl(self->fd, IOMMU_OPTION, &cmd, sizeof(cmd),
				 sizeof(cmd) + 16, false));
	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, self->ioas,
				 &val));
	EXPECT_EQ(0, val);
}

TEST_F(basic, size_test_cmd)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.id = self->ioas,
		.add_reserved = { .start = self->base, .length = PS },
	};
	struct iommu_iova_range exp[3] = {
		{ 0, self->base - 1 },
		{ self->base + PS, self->base + 4 * PS - 1 },
		{ self->base + 5 * PS, U64_MAX },
	};
	struct ioas_state st;

	SNAPSHOT(&st);
	EXPECT_SIZE_REFUSED(self->fd, IOMMU_TEST_CMD, cmd, TEST_CMD_MIN_SIZE);
	UNCHANGED(&st);

	/* the minimum is the end of @last, padding after it may be left out */
	EXPECT_EQ(0, sized_ioctl(self->fd, IOMMU_TEST_CMD, &cmd, sizeof(cmd),
				 TEST_CMD_MIN_SIZE, false));
	cmd.add_reserved.start = self->base + 4 * PS;
	EXPECT_EQ(0, sized_ioctl(self->fd, IOMMU_TEST_CMD, &cmd, sizeof(cmd),
				 sizeof(cmd) + 16, false));
	EXPECT_RANGES(self->fd, self->ioas, exp, 3, 1);
}

/* ---- reserved fields, flags, unknown values ---- */

TEST_F(basic, reserved_fields_einval)
{
	struct iommu_iova_range allowed = {
		.start = self->base + 8 * PS,
		.last = self->base + 9 * PS - 1,
	};
	struct iommu_iova_range out[4];
	struct iommu_ioas_iova_ranges ranges = {
		.size = sizeof(ranges),
		.ioas_id = self->ioas,
		.num_iovas = 4,
		.__reserved = 1,
		.allowed_iovas = (uintptr_t)out,
	};
	struct iommu_ioas_allow_iovas allow = {
		.size = sizeof(allow),
		.ioas_id = self->ioas,
		.num_iovas = 1,
		.__reserved = 1,
		.allowed_iovas = (uintptr_t)&allowed,
	};
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = MAP_FIXED_RW,
		.ioas_id = self->ioas,
		.__reserved = 1,
		.user_va = (uintptr_t)self->buf,
		.length = PS,
		.iova = self->base,
	};
	struct iommu_option opt = {
		.size = sizeof(opt),
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_SET,
		.__reserved = 1,
		.object_id = self->ioas,
		.val64 = 0,
	};
	struct iommu_test_cmd tc = {
		.size = sizeof(tc),
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.id = self->ioas,
		.__reserved = 1,
		.add_reserved = { .start = self->base + 16 * PS, .length = PS },
	};
	struct ioas_state st;

	SNAPSHOT(&st);
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES,
					&ranges));
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS,
					&allow));
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, IOMMU_IOAS_MAP, &map));
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, IOMMU_OPTION, &opt));
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, IOMMU_TEST_CMD, &tc));
	map.__reserved = 0x80000000;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, IOMMU_IOAS_MAP, &map));
	opt.__reserved = 0x8000;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, IOMMU_OPTION, &opt));
	UNCHANGED(&st);
	UNMAPPED(self->base, PS);
	/* the allowed list was not set */
	EXPECT_EQ(0, _add_reserved(self->fd, self->ioas, allowed.start, PS));

	/* and the same commands with __reserved == 0 work */
	ranges.__reserved = 0;
	EXPECT_EQ(0, iommufd_ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &ranges));
	map.__reserved = 0;
	EXPECT_EQ(0, iommufd_ioctl(self->fd, IOMMU_IOAS_MAP, &map));
	opt.__reserved = 0;
	EXPECT_EQ(0, iommufd_ioctl(self->fd, IOMMU_OPTION, &opt));
	tc.__reserved = 0;
	EXPECT_EQ(0, iommufd_ioctl(self->fd, IOMMU_TEST_CMD, &tc));
}

TEST_F(basic, unknown_flags_eopnotsupp)
{
	static const __u32 bad_map_flags[] = {
		MAP_FIXED_RW | (1 << 3),
		MAP_RW | (1U << 31),
		0xffffffff,
	};
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct ioas_state st;
	unsigned int i;
	__u64 iova = 0;
	int fd;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	alloc.flags = 1;
	EXPECT_EQ(EOPNOTSUPP, iommufd_ioctl(fd, IOMMU_IOAS_ALLOC, &alloc));
	alloc.flags = 1U << 31;
	EXPECT_EQ(EOPNOTSUPP, iommufd_ioctl(fd, IOMMU_IOAS_ALLOC, &alloc));
	/* no object was created */
	EXPECT_EQ(0, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 0));
	close(fd);

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
				self->base));
	SNAPSHOT(&st);
	for (i = 0; i < ARRAY_SIZE(bad_map_flags); i++) {
		iova = self->base + 8 * PS;
		EXPECT_EQ(EOPNOTSUPP, _ioas_map(self->fd, self->ioas,
						bad_map_flags[i], self->buf,
						PS, &iova));
		iova = self->base + 8 * PS;
		EXPECT_EQ(EOPNOTSUPP, _ioas_copy(self->fd, bad_map_flags[i],
						 self->ioas, &iova, self->ioas,
						 self->base, PS));
	}
	UNCHANGED(&st);
	UNMAPPED(self->base + 8 * PS, PS);
}

TEST_F(basic, option_unknown_eopnotsupp)
{
	__u64 val;

	val = 0;
	EXPECT_EQ(EOPNOTSUPP, _option(self->fd, 2, IOMMU_OPTION_OP_GET, 0,
				      &val));
	val = 0;
	EXPECT_EQ(EOPNOTSUPP, _option(self->fd, 2, IOMMU_OPTION_OP_SET, 0,
				      &val));
	val = 0;
	EXPECT_EQ(EOPNOTSUPP, _option(self->fd, 0xffffffff,
				      IOMMU_OPTION_OP_GET, 0, &val));
	val = 0;
	EXPECT_EQ(EOPNOTSUPP, _option(self->fd, IOMMU_OPTION_RLIMIT_MODE, 2, 0,
				      &val));
	val = 0;
	EXPECT_EQ(EOPNOTSUPP, _option(self->fd, IOMMU_OPTION_RLIMIT_MODE,
				      0xffff, 0, &val));
	val = 0;
	EXPECT_EQ(EOPNOTSUPP, _option(self->fd, IOMMU_OPTION_HUGE_PAGES, 2,
				      self->ioas, &val));

	/* nothing was set by any of those */
	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_RLIMIT_MODE, 0, &val));
	EXPECT_EQ(0, val);
	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, self->ioas,
				 &val));
	EXPECT_EQ(1, val);
}

TEST_F(basic, test_op_unknown_eopnotsupp)
{
	static const __u32 ops[] = {
		999,
		IOMMU_TEST_OP_LOCAL_BASE + 100,
		0x7fffffff,
		0xffffffff,
	};
	struct iommu_test_cmd cmd;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		memset(&cmd, 0, sizeof(cmd));
		cmd.op = ops[i];
		cmd.id = self->ioas;
		EXPECT_EQ(EOPNOTSUPP, _test_cmd(self->fd, &cmd));
	}
}

/* ---- IDs ---- */

TEST_F(basic, bad_ids_enoent)
{
	struct iommu_iova_range r[2];
	__u32 stdev, hwpt, gone, id, num;
	__u32 not_ioas[6], not_hwpt[5];
	struct ioas_state st;
	__u64 iova = 0, val = 0;
	unsigned int i;

	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, NULL));
	gone = GONE_ID(self->fd);
	SET_IDS(not_ioas, 0, gone, 0x7fffffff, 0xffffffff, stdev, hwpt);
	SET_IDS(not_hwpt, 0, gone, 0xffffffff, stdev, self->ioas);
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
				self->base));
	SNAPSHOT(&st);

	/* nothing, or not an IOAS */
	for (i = 0; i < ARRAY_SIZE(not_ioas); i++) {
		id = not_ioas[i];
		iova = self->base + 4 * PS;
		EXPECT_EQ(ENOENT, _ioas_map(self->fd, id, MAP_FIXED_RW,
					    self->buf, PS, &iova));
		iova = 0;
		EXPECT_EQ(ENOENT, _ioas_map(self->fd, id, MAP_RW, self->buf,
					    PS, &iova));
		EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, id, self->base, PS,
					      NULL));
		EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, id, 0, U64_MAX, NULL));
		num = 2;
		EXPECT_EQ(ENOENT, _iova_ranges(self->fd, id, r, &num, NULL));
		EXPECT_EQ(ENOENT, _allow_iovas(self->fd, id, NULL, 0));
		iova = self->base + 8 * PS;
		EXPECT_EQ(ENOENT, _ioas_copy(self->fd, MAP_FIXED_RW, id, &iova,
					     self->ioas, self->base, PS));
		iova = self->base + 8 * PS;
		EXPECT_EQ(ENOENT, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas,
					     &iova, id, self->base, PS));
		EXPECT_EQ(ENOENT, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES,
					      id, &val));
		EXPECT_EQ(ENOENT, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES,
					      id, 1));
		EXPECT_EQ(ENOENT, _add_reserved(self->fd, id,
						self->base + 16 * PS, PS));
		/* MOCK_DOMAIN takes a HWPT too, see mock_domain_ids */
		if (id != hwpt) {
			EXPECT_EQ(ENOENT, _mock_domain(self->fd, id, NULL,
						       NULL, NULL));
			EXPECT_EQ(ENOENT, _mock_domain_attach(self->fd, id,
							      NULL, NULL,
							      NULL));
		}
	}
	/* nothing, or not a mock domain */
	for (i = 0; i < ARRAY_SIZE(not_hwpt); i++) {
		EXPECT_EQ(ENOENT, _md_check_map(self->fd, not_hwpt[i],
						self->base, self->buf, PS));
		EXPECT_EQ(ENOENT, _md_iopte(self->fd, not_hwpt[i], self->base,
					    NULL));
	}
	UNCHANGED(&st);
	EXPECT_EQ(ENOENT, _destroy(self->fd, gone));
	/* the real IDs still do what they should */
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, self->buf, PS));
	EXPECT_EQ(0, _md_iopte(self->fd, hwpt, self->base, NULL));
}

TEST_F(basic, ids_are_per_file)
{
	__u32 ioas2;
	int fd2;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
				self->base));
	fd2 = iommufd_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(ENOENT, _map_fixed(fd2, self->ioas, self->buf, PS,
				     self->base + PS));
	EXPECT_EQ(ENOENT, _ioas_unmap(fd2, self->ioas, 0, U64_MAX, NULL));
	EXPECT_EQ(ENOENT, _destroy(fd2, self->ioas));

	/* fd2's first IOAS may well get the same number: still separate */
	ASSERT_EQ(0, _ioas_alloc(fd2, &ioas2));
	ASSERT_EQ(0, _map_fixed(fd2, ioas2, self->buf, PS,
				self->base + 4 * PS));
	EXPECT_EQ(ENOENT, _probe_mapped(self->fd, self->ioas,
					self->base + 4 * PS, PS));
	EXPECT_EQ(ENOENT, _probe_mapped(fd2, ioas2, self->base, PS));
	EXPECT_EQ(0, _probe_mapped(self->fd, self->ioas, self->base, PS));
	close(fd2);
	EXPECT_EQ(0, _probe_mapped(self->fd, self->ioas, self->base, PS));
}

/* ---- DESTROY ---- */

TEST_F(basic, destroy)
{
	__u32 id;
	__u64 val;

	ASSERT_EQ(0, _ioas_alloc(self->fd, &id));
	ASSERT_NE(0, id);
	ASSERT_NE(self->ioas, id);
	EXPECT_EQ(ENOENT, _destroy(self->fd, 0));
	EXPECT_EQ(ENOENT, _destroy(self->fd, 0xffffffff));
	EXPECT_EQ(0, _destroy(self->fd, id));
	EXPECT_EQ(ENOENT, _destroy(self->fd, id));
	EXPECT_EQ(ENOENT, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, id,
				      &val));
	/* the other IOAS is untouched */
	EXPECT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, self->ioas,
				 &val));
	EXPECT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
				self->base));
}

TEST_F(basic, destroy_busy)
{
	const struct iommu_iova_range full = { 0, U64_MAX };
	struct iommufd_stats before, after;
	struct ioas_state st;
	__u32 stdev, hwpt;

	ASSERT_EQ(0, _get_stats(self->fd, &before));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, NULL));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS,
				self->base));
	SNAPSHOT(&st);

	EXPECT_EQ(EBUSY, _destroy(self->fd, self->ioas));
	EXPECT_EQ(EBUSY, _destroy(self->fd, hwpt));
	UNCHANGED(&st);
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, self->base, self->buf,
				   4 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));

	/* the device goes, and takes its HWPT with it */
	EXPECT_EQ(0, _destroy(self->fd, stdev));
	EXPECT_EQ(ENOENT, _destroy(self->fd, stdev));
	EXPECT_EQ(ENOENT, _destroy(self->fd, hwpt));
	EXPECT_EQ(ENOENT, _md_iopte(self->fd, hwpt, self->base, NULL));
	EXPECT_RANGES(self->fd, self->ioas, &full, 1, 1);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
	MAPPED(self->base, 4 * PS, self->buf);

	/* now the IOAS can go, mapping and all */
	EXPECT_EQ(0, _destroy(self->fd, self->ioas));
	ASSERT_EQ(0, _get_stats(self->fd, &after));
	ASSERT_STATS_EQUAL(&before, &after);
}

TEST_F(basic, destroy_ioas_with_mappings)
{
	struct iommufd_stats before, mid, after;
	__u64 iova = 0;
	__u32 id, stdev;

	ASSERT_EQ(0, _get_stats(self->fd, &before));
	ASSERT_EQ(0, _ioas_alloc(self->fd, &id));
	ASSERT_EQ(0, _map_fixed(self->fd, id, self->buf, 4 * PS, self->base));
	ASSERT_EQ(0, _map_auto(self->fd, id, self->buf + 4 * PS, 2 * PS,
			       &iova));
	iova = self->base + 32 * PS;
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, id, &iova, id,
				self->base, 4 * PS));
	ASSERT_EQ(0, _get_stats(self->fd, &mid));
	EXPECT_EQ(before.areas + 3, mid.areas);
	/* no domain: nothing pinned or charged */
	EXPECT_EQ(before.pinned_pages, mid.pinned_pages);
	EXPECT_EQ(before.user_locked_vm, mid.user_locked_vm);

	EXPECT_EQ(0, _destroy(self->fd, id));
	ASSERT_EQ(0, _get_stats(self->fd, &after));
	ASSERT_STATS_EQUAL(&before, &after);

	/* and with a domain that went first: the pins go with the IOAS */
	ASSERT_EQ(0, _ioas_alloc(self->fd, &id));
	ASSERT_EQ(0, _mock_domain(self->fd, id, &stdev, NULL, NULL));
	ASSERT_EQ(0, _map_fixed(self->fd, id, self->buf, 4 * PS, self->base));
	ASSERT_EQ(0, _get_stats(self->fd, &mid));
	EXPECT_EQ(before.pinned_pages + 4, mid.pinned_pages);
	EXPECT_EQ(0, _destroy(self->fd, stdev));
	EXPECT_EQ(0, _destroy(self->fd, id));
	ASSERT_EQ(0, _get_stats(self->fd, &after));
	ASSERT_STATS_EQUAL(&before, &after);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));
}

/* ---- IOAS_ALLOC ---- */

TEST(ioas_alloc_many)
{
	const struct iommu_iova_range full = { 0, U64_MAX };
	__u32 ids[64];
	unsigned int i, j;
	__u64 val;
	int fd;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		ASSERT_EQ(0, _ioas_alloc(fd, &ids[i]));
		ASSERT_NE(0, ids[i]);
		for (j = 0; j < i; j++) {
			__u32 other = ids[j];

			ASSERT_NE(other, ids[i]);
		}
		/* every new IOAS is empty, unrestricted, with huge pages */
		EXPECT_RANGES(fd, ids[i], &full, 1, 1);
		ASSERT_EQ(0, _option_get(fd, IOMMU_OPTION_HUGE_PAGES, ids[i],
					 &val));
		EXPECT_EQ(1, val);
		EXPECT_EQ(ENOENT, _probe_mapped(fd, ids[i], 0, PS));
	}
	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		int rc = _destroy(fd, ids[i]);

		ASSERT_EQ(0, rc);
	}
	/* all gone: the file holds no object any more */
	EXPECT_EQ(0, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 0));
	close(fd);
}

/* ---- IOVA_RANGES and reserved IOVA ---- */

TEST_F(basic, iova_ranges_domain_lifecycle)
{
	const struct iommu_iova_range plain[2] = {
		{ 0, self->base + PS - 1 },
		{ self->base + 2 * PS, U64_MAX },
	};
	const struct iommu_iova_range with_domain[2] = {
		{ APERTURE_START, self->base + PS - 1 },
		{ self->base + 2 * PS, APERTURE_LAST },
	};
	__u32 stdev1, stdev2;

	ASSERT_EQ(0, _add_reserved(self->fd, self->ioas, self->base + PS, PS));
	EXPECT_RANGES(self->fd, self->ioas, plain, 2, 1);

	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev1, NULL, NULL));
	EXPECT_RANGES(self->fd, self->ioas, with_domain, 2, MOCK_GRAN);
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev2, NULL, NULL));
	EXPECT_RANGES(self->fd, self->ioas, with_domain, 2, MOCK_GRAN);

	ASSERT_EQ(0, _destroy(self->fd, stdev1));
	EXPECT_RANGES(self->fd, self->ioas, with_domain, 2, MOCK_GRAN);
	ASSERT_EQ(0, _destroy(self->fd, stdev2));
	EXPECT_RANGES(self->fd, self->ioas, plain, 2, 1);
}

TEST_F(basic, add_reserved_eaddrinuse)
{
	const struct iommu_iova_range after[3] = {
		{ 0, self->base - PS - 1 },
		{ self->base, self->base + 4 * PS - 1 },
		{ self->base + 5 * PS, U64_MAX },
	};
	struct ioas_state st;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS,
				self->base));
	SNAPSHOT(&st);
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas, self->base,
					    PS));
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas,
					    self->base + 3 * PS, 2 * PS));
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas,
					    self->base - PS, 2 * PS));
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas,
					    self->base - PS, 6 * PS));
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas,
					    self->base + 4 * PS - 1, 1));
	UNCHANGED(&st);
	MAPPED(self->base, 4 * PS, self->buf);

	/* right next to the mapping is fine */
	EXPECT_EQ(0, _add_reserved(self->fd, self->ioas, self->base + 4 * PS,
				   PS));
	EXPECT_EQ(0, _add_reserved(self->fd, self->ioas, self->base - PS, PS));
	EXPECT_RANGES(self->fd, self->ioas, after, 3, 1);
	/* and MAP stays out of it */
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf, PS,
				     self->base + 4 * PS));
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf, PS,
				     self->base - PS));
}

TEST_F(basic, mock_domain_ids)
{
	__u32 stdev1, hwpt1, idev1, stdev2, hwpt2, idev2, stdev3, hwpt3;
	__u32 stdev4, hwpt4;

	idev1 = 0xdead;
	idev2 = 0xdead;
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev1, &hwpt1,
				  &idev1));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev2, &hwpt2,
				  &idev2));
	EXPECT_NE(0, stdev1);
	EXPECT_NE(0, hwpt1);
	EXPECT_NE(0, stdev2);
	EXPECT_NE(0, hwpt2);
	/* the bound mock devices are objects of their own */
	EXPECT_NE(0, idev1);
	EXPECT_NE(0, idev2);
	EXPECT_NE(idev1, idev2);
	EXPECT_NE(idev1, stdev1);
	EXPECT_NE(idev1, hwpt1);
	EXPECT_NE(stdev1, hwpt1);
	EXPECT_NE(stdev1, stdev2);
	EXPECT_NE(hwpt1, hwpt2);
	EXPECT_NE(stdev2, hwpt2);
	EXPECT_NE(stdev1, hwpt2);
	EXPECT_NE(stdev2, hwpt1);
	EXPECT_NE(self->ioas, stdev1);
	EXPECT_NE(self->ioas, hwpt1);
	EXPECT_NE(self->ioas, stdev2);
	EXPECT_NE(self->ioas, hwpt2);

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 2 * PS,
				self->base));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt1, self->base, self->buf,
				   2 * PS));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, self->base, self->buf,
				   2 * PS));
	/*
	 * Mainline's MOCK_DOMAIN attaches as a driver would: given an IOAS,
	 * it reuses an automatic HWPT there; given a HWPT, it uses that one.
	 * (_mock_domain() is our MOCK_DOMAIN_NEW, which never reuses.)
	 */
	ASSERT_EQ(0, _mock_domain_attach(self->fd, self->ioas, &stdev3, &hwpt3,
					 NULL));
	EXPECT_TRUE(hwpt3 == hwpt1 || hwpt3 == hwpt2);
	ASSERT_EQ(0, _destroy(self->fd, stdev3));
	ASSERT_EQ(0, _mock_domain_attach(self->fd, hwpt1, &stdev3, &hwpt3,
					 NULL));
	EXPECT_EQ(hwpt1, hwpt3);
	ASSERT_EQ(0, _mock_domain_flags_attach(self->fd, hwpt2, 0, &stdev4,
					       &hwpt4, NULL));
	EXPECT_EQ(hwpt2, hwpt4);
	EXPECT_EQ(EBUSY, _destroy(self->fd, hwpt1));
	ASSERT_EQ(0, _destroy(self->fd, stdev3));
	ASSERT_EQ(0, _destroy(self->fd, stdev4));
	/* removing one device leaves the other domain alone */
	ASSERT_EQ(0, _destroy(self->fd, stdev1));
	EXPECT_EQ(ENOENT, _md_check_map(self->fd, hwpt1, self->base, self->buf,
					2 * PS));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, self->base, self->buf,
				   2 * PS));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 2 * PS, 1));
}

/* ---- ALLOW_IOVAS against domains ---- */

TEST_F(basic, allow_iovas_vs_domain)
{
	const struct iommu_iova_range below = { PS, 2 * PS - 1 };
	const struct iommu_iova_range inside = {
		self->base + 64 * PS, self->base + 65 * PS - 1
	};
	const struct iommu_iova_range across_end = {
		APERTURE_LAST + 1 - PS, APERTURE_LAST + PS
	};
	struct ioas_state st;
	__u32 stdev;

	/* an unpinned mapping, so a failed attach can be seen to pin nothing */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS,
				self->base));

	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &below, 1));
	SNAPSHOT(&st);
	EXPECT_EQ(EADDRINUSE, _mock_domain(self->fd, self->ioas, NULL, NULL,
					   NULL));
	UNCHANGED(&st);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));

	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &across_end, 1));
	SNAPSHOT(&st);
	EXPECT_EQ(EADDRINUSE, _mock_domain(self->fd, self->ioas, NULL, NULL,
					   NULL));
	UNCHANGED(&st);

	/* inside the aperture nothing is cut */
	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &inside, 1));
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, NULL, NULL));
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 1));
	ASSERT_EQ(0, _destroy(self->fd, stdev));

	/* and with the list cleared, anything goes */
	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &below, 1));
	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, NULL, 0));
	EXPECT_EQ(0, _mock_domain(self->fd, self->ioas, NULL, NULL, NULL));
}

/* ---- MAP/UNMAP corner cases of an IOAS without a domain ---- */

TEST_F(basic, map_iova_overflow)
{
	const __u64 top = U64_MAX - PS + 1;
	struct ioas_state st;
	__u64 len;

	SNAPSHOT(&st);
	EXPECT_EQ(EOVERFLOW, _map_fixed(self->fd, self->ioas, self->buf,
					2 * PS, top));
	EXPECT_EQ(EOVERFLOW, _map_fixed(self->fd, self->ioas, self->buf, 2,
					U64_MAX));
	/* user_va + length wraps to exactly 0 */
	EXPECT_EQ(EOVERFLOW, _map_fixed(self->fd, self->ioas, self->buf,
					-(__u64)(uintptr_t)self->buf, 0));
	UNCHANGED(&st);

	/* ending on the very last IOVA is not an overflow */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS, top));
	EXPECT_EQ(0, _probe_mapped(self->fd, self->ioas, top, PS));
	/* and neither is starting at 0 */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS, 0));
	EXPECT_EQ(0, _probe_mapped(self->fd, self->ioas, 0, PS));
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, top, PS, &len));
	EXPECT_EQ(PS, len);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, PS, &len));
	EXPECT_EQ(PS, len);
	UNCHANGED(&st);
}

TEST_F(basic, byte_granular)
{
	unsigned char *buf = self->buf;
	__u64 iova = 0, len = 0;

	/* alignment is 1: any user_va, length and IOVA */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf + 1, 3,
				self->base + 5));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf + 100, 1,
				self->base + 8));
	EXPECT_EQ(EEXIST, _map_fixed(self->fd, self->ioas, buf, 1,
				     self->base + 7));
	EXPECT_EQ(0, _probe_mapped(self->fd, self->ioas, self->base + 5, 4));
	EXPECT_EQ(ENOENT, _probe_mapped(self->fd, self->ioas, self->base + 4,
					1));
	EXPECT_EQ(ENOENT, _probe_mapped(self->fd, self->ioas, self->base + 9,
					1));

	/* automatic IOVA keeps the offset into the page */
	ASSERT_EQ(0, _map_auto(self->fd, self->ioas, buf + 0x7ff, PS + 1,
			       &iova));
	EXPECT_EQ(0x7ff, iova % PS);
	EXPECT_EQ(0, _probe_mapped(self->fd, self->ioas, iova, PS + 1));

	/* a sub-range of a byte mapping copies */
	iova = self->base + 64 * PS + 3;
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas, &iova,
				self->ioas, self->base + 6, 2));
	EXPECT_EQ(0, _probe_mapped(self->fd, self->ioas, iova, 2));

	/* unmap is byte exact */
	EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas, self->base + 5, 2,
				      NULL));
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->base + 5, 3,
				 &len));
	EXPECT_EQ(3, len);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->base + 8, 1,
				 &len));
	EXPECT_EQ(1, len);
	EXPECT_EQ(ENOENT, _probe_mapped(self->fd, self->ioas, self->base + 5,
					1));
	/* the copy is independent of the mapping it came from */
	EXPECT_EQ(0, _probe_mapped(self->fd, self->ioas, iova, 2));
}

/* ---- OPTION ---- */

TEST(option_rlimit_mode)
{
	__u32 ioas, stdev;
	__u64 val;
	int fd;

	fd = iommufd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, _option_get(fd, IOMMU_OPTION_RLIMIT_MODE, 0, &val));
	EXPECT_EQ(0, val);

	/* global: object_id must be 0 */
	EXPECT_EQ(EINVAL, _option_get(fd, IOMMU_OPTION_RLIMIT_MODE, 1, &val));
	EXPECT_EQ(EINVAL, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 1, 1));
	EXPECT_EQ(EINVAL, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE,
				      0xffffffff, 0));
	/* only 0 and 1 */
	EXPECT_EQ(EINVAL, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 2));
	EXPECT_EQ(EINVAL, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0,
				      U64_MAX));
	ASSERT_EQ(0, _option_get(fd, IOMMU_OPTION_RLIMIT_MODE, 0, &val));
	EXPECT_EQ(0, val);

	ASSERT_EQ(0, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 1));
	ASSERT_EQ(0, _option_get(fd, IOMMU_OPTION_RLIMIT_MODE, 0, &val));
	EXPECT_EQ(1, val);
	ASSERT_EQ(0, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 1));
	ASSERT_EQ(0, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 0));
	ASSERT_EQ(0, _option_get(fd, IOMMU_OPTION_RLIMIT_MODE, 0, &val));
	EXPECT_EQ(0, val);

	/* any object makes it EBUSY */
	ASSERT_EQ(0, _ioas_alloc(fd, &ioas));
	EXPECT_EQ(EBUSY, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 1));
	ASSERT_EQ(0, _option_get(fd, IOMMU_OPTION_RLIMIT_MODE, 0, &val));
	EXPECT_EQ(0, val);
	ASSERT_EQ(0, _mock_domain(fd, ioas, &stdev, NULL, NULL));
	EXPECT_EQ(EBUSY, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 1));
	ASSERT_EQ(0, _destroy(fd, stdev));
	EXPECT_EQ(EBUSY, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 1));
	ASSERT_EQ(0, _destroy(fd, ioas));
	EXPECT_EQ(0, _option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 1));
	ASSERT_EQ(0, _option_get(fd, IOMMU_OPTION_RLIMIT_MODE, 0, &val));
	EXPECT_EQ(1, val);
	close(fd);

	/* a new file starts at the default again */
	fd = iommufd_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, _option_get(fd, IOMMU_OPTION_RLIMIT_MODE, 0, &val));
	EXPECT_EQ(0, val);
	close(fd);
}

static void option_rlimit_mode_eperm_child(void)
{
	__u64 val;
	int fd;

	fd = iommufd_open();
	CHILD_ASSERT(fd >= 0);
	CHILD_ASSERT(drop_capability(CAP_SYS_RESOURCE) == 0);
	CHILD_ASSERT(!have_capability(CAP_SYS_RESOURCE));
	CHILD_ASSERT(_option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 1) == EPERM);
	/* even to the value it already has */
	CHILD_ASSERT(_option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 0) == EPERM);
	/* reading needs nothing */
	CHILD_ASSERT(_option_get(fd, IOMMU_OPTION_RLIMIT_MODE, 0, &val) == 0);
	CHILD_ASSERT(val == 0);
	close(fd);
}

TEST(option_rlimit_mode_eperm)
{
	RUN_IN_CHILD(option_rlimit_mode_eperm_child);
}

TEST_F(basic, option_huge_pages_eaddrinuse)
{
	unsigned char *buf = self->buf;
	struct ioas_state st;
	__u64 val;

	/* byte mapping: neither iova nor length page aligned */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf, 3, self->base + 5));
	SNAPSHOT(&st);
	EXPECT_EQ(EADDRINUSE, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES,
					  self->ioas, 0));
	UNCHANGED(&st);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));

	/* aligned IOVA, unaligned length */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf, PS + 5, self->base));
	SNAPSHOT(&st);
	EXPECT_EQ(EADDRINUSE, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES,
					  self->ioas, 0));
	UNCHANGED(&st);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));

	/* unaligned IOVA, aligned length */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf, PS,
				self->base + PS / 2));
	SNAPSHOT(&st);
	EXPECT_EQ(EADDRINUSE, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES,
					  self->ioas, 0));
	UNCHANGED(&st);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));

	/* page aligned mappings are fine */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf, 2 * PS, self->base));
	ASSERT_EQ(0, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES,
				 self->ioas, 0));
	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES,
				 self->ioas, &val));
	EXPECT_EQ(0, val);
	MAPPED(self->base, 2 * PS, buf);
	/* and byte mappings are now refused */
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, buf, 5,
				     self->base + 8 * PS));
}

/* ====================================================================== */
/* One IOAS with zero, one or two mock domains */

#define IOAS_PAGES 64

FIXTURE(ioas) {
	int fd;
	__u32 ioas;
	unsigned int nr_hwpts;
	__u32 stdev[2];
	__u32 hwpt[2];
	void *buf;
	size_t buf_size;
	__u64 base;
	__u64 align;		/* what IOVA_RANGES reports */
};

FIXTURE_DOMAINS(ioas);
DOMAINS_VARIANT(ioas, no_domain, 0);
DOMAINS_VARIANT(ioas, mock_domain, 1);
DOMAINS_VARIANT(ioas, two_mock_domains, 2);

FIXTURE_SETUP(ioas)
{
	struct iommu_iova_range r[MAX_SNAPSHOT_RANGES];
	__u32 num = MAX_SNAPSHOT_RANGES;

	SETUP_IOAS(variant->domains, self->stdev, IOAS_PAGES, 3);
	/* inside the mock aperture, so good for every variant */
	self->base = APERTURE_START;
	ASSERT_EQ(0, _iova_ranges(self->fd, self->ioas, r, &num, &self->align));
}

FIXTURE_TEARDOWN(ioas)
{
	munmap(self->buf, self->buf_size);
	close(self->fd);
}

/* ---- IOVA_RANGES ---- */

TEST_F(ioas, iova_ranges_initial)
{
	const struct iommu_iova_range full = { 0, U64_MAX };
	const struct iommu_iova_range aperture = {
		APERTURE_START, APERTURE_LAST
	};

	if (self->nr_hwpts)
		EXPECT_RANGES(self->fd, self->ioas, &aperture, 1, MOCK_GRAN);
	else
		EXPECT_RANGES(self->fd, self->ioas, &full, 1, 1);
	/* a power of two, never more than a page */
	EXPECT_NE(0, self->align);
	EXPECT_EQ(0, self->align & (self->align - 1));
	EXPECT_GE(PS, self->align);
}

TEST_F(ioas, iova_ranges_emsgsize)
{
	const __u64 top = self->nr_hwpts ? APERTURE_LAST : U64_MAX;
	const __u64 bottom = self->nr_hwpts ? APERTURE_START : 0;
	/* two holes in the middle; bottom == base with a domain */
	const struct iommu_iova_range exp[3] = {
		{ bottom, self->base + 16 * PS - 1 },
		{ self->base + 32 * PS, self->base + 64 * PS - 1 },
		{ self->base + 80 * PS, top },
	};
	struct iommu_iova_range r[8];
	__u32 num, i;
	__u64 align;

	ASSERT_EQ(0, _add_reserved(self->fd, self->ioas, self->base + 16 * PS,
				   16 * PS));
	ASSERT_EQ(0, _add_reserved(self->fd, self->ioas, self->base + 64 * PS,
				   16 * PS));

	num = 0;
	EXPECT_EQ(EMSGSIZE, _iova_ranges(self->fd, self->ioas, NULL, &num,
					 NULL));
	EXPECT_EQ(3, num);

	for (num = 1; num < 3; num++) {
		__u32 room = num;

		memset(r, 0xa5, sizeof(r));
		EXPECT_EQ(EMSGSIZE, _iova_ranges(self->fd, self->ioas, r, &num,
						 NULL));
		EXPECT_EQ(3, num);
		/* filled as far as it fits, not one entry further */
		for (i = 0; i < room; i++) {
			EXPECT_EQ(exp[i].start, r[i].start);
			EXPECT_EQ(exp[i].last, r[i].last);
		}
		EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, r[room].start);
		EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, r[room].last);
		num = room;
	}

	num = 3;
	ASSERT_EQ(0, _iova_ranges(self->fd, self->ioas, r, &num, &align));
	EXPECT_EQ(3, num);
	num = ARRAY_SIZE(r);
	ASSERT_EQ(0, _iova_ranges(self->fd, self->ioas, r, &num, &align));
	EXPECT_EQ(3, num);
	EXPECT_EQ(self->align, align);
	EXPECT_RANGES(self->fd, self->ioas, exp, 3, self->align);
}

/*
 * IOVA the kernel chooses is never in the first or the last page of the
 * address space, as mainline's: a device that wraps around or DMAs to a
 * NULL address faults instead of reaching memory. Allowed ranges that hold
 * nothing else leave no room (ENOSPC, nothing mapped); one page more on
 * each, and the mapping lands just inside.
 */
TEST_F(ioas, auto_iova_not_first_or_last_page)
{
	struct iommu_iova_range low = { 0, PS - 1 };
	struct iommu_iova_range high = { U64_MAX - PS + 1, U64_MAX };
	struct iommu_iova_range low2 = { 0, 2 * PS - 1 };
	struct iommu_iova_range high2 = { U64_MAX - 2 * PS + 1, U64_MAX };
	struct iommufd_stats before, now;
	__u64 iova = 0;

	if (self->nr_hwpts)
		SKIP(return, "a mock domain's aperture holds neither end");
	ASSERT_EQ(0, _get_stats(self->fd, &before));
	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &low, 1));
	EXPECT_EQ(ENOSPC, _ioas_map(self->fd, self->ioas, MAP_RW, self->buf,
				    PS, &iova));
	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &high, 1));
	EXPECT_EQ(ENOSPC, _ioas_map(self->fd, self->ioas, MAP_RW, self->buf,
				    PS, &iova));
	ASSERT_EQ(0, _get_stats(self->fd, &now));
	ASSERT_STATS_EQUAL(&before, &now);

	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &low2, 1));
	ASSERT_EQ(0, _ioas_map(self->fd, self->ioas, MAP_RW, self->buf, PS,
			       &iova));
	EXPECT_EQ(PS, iova);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, iova, PS, NULL));
	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &high2, 1));
	ASSERT_EQ(0, _ioas_map(self->fd, self->ioas, MAP_RW, self->buf, PS,
			       &iova));
	EXPECT_EQ(U64_MAX - 2 * PS + 1, iova);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, iova, PS, NULL));

	/* with no allowed range either end is still left alone */
	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, NULL, 0));
	ASSERT_EQ(0, _ioas_map(self->fd, self->ioas, MAP_RW, self->buf, PS,
			       &iova));
	EXPECT_LE(PS, iova);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, iova, PS, NULL));
}

/* ---- ALLOW_IOVAS ---- */

TEST_F(ioas, allow_iovas_einval)
{
	const __u64 b = self->base;
	const struct iommu_iova_range good = { b, b + 16 * PS - 1 };
	const struct iommu_iova_range backwards = { b + 33 * PS, b + 32 * PS };
	const struct iommu_iova_range overlap[2] = {
		{ b + 32 * PS, b + 40 * PS - 1 },
		{ b + 36 * PS, b + 48 * PS - 1 },
	};
	const struct iommu_iova_range overlap_rev[2] = {
		overlap[1], overlap[0],
	};
	const struct iommu_iova_range same[2] = {
		{ b + 32 * PS, b + 33 * PS - 1 },
		{ b + 32 * PS, b + 33 * PS - 1 },
	};
	const struct iommu_iova_range touching[2] = {
		{ b + 32 * PS, b + 40 * PS },
		{ b + 40 * PS, b + 48 * PS - 1 },
	};
	const struct iommu_iova_range second_bad[2] = {
		{ b + 32 * PS, b + 33 * PS - 1 },
		{ b + 41 * PS, b + 40 * PS },
	};
	const struct iommu_iova_range one_byte = { b + 32 * PS, b + 32 * PS };
	const struct iommu_iova_range byte = { b + 50 * PS, b + 50 * PS };
	struct iommu_iova_range out;
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas,
		.num_iovas = 1,
		.__reserved = 1,
		.allowed_iovas = (uintptr_t)&out,
	};
	struct ioas_state st;

	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &good, 1));
	SNAPSHOT(&st);
	EXPECT_EQ(EINVAL, _allow_iovas(self->fd, self->ioas, &backwards, 1));
	EXPECT_EQ(EINVAL, _allow_iovas(self->fd, self->ioas, overlap, 2));
	EXPECT_EQ(EINVAL, _allow_iovas(self->fd, self->ioas, overlap_rev, 2));
	EXPECT_EQ(EINVAL, _allow_iovas(self->fd, self->ioas, same, 2));
	EXPECT_EQ(EINVAL, _allow_iovas(self->fd, self->ioas, touching, 2));
	EXPECT_EQ(EINVAL, _allow_iovas(self->fd, self->ioas, second_bad, 2));
	out = one_byte;
	EXPECT_EQ(EINVAL, iommufd_ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS,
					&cmd));
	UNCHANGED(&st);

	/* the old list is still in force ... */
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas, b + 15 * PS,
					    PS));
	/* ... and none of the refused ones got in */
	EXPECT_EQ(0, _add_reserved(self->fd, self->ioas, b + 32 * PS,
				   16 * PS));
	/* a single byte range is a valid range, of exactly one byte */
	EXPECT_EQ(0, _allow_iovas(self->fd, self->ioas, &byte, 1));
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas, byte.start,
					    1));
	EXPECT_EQ(0, _add_reserved(self->fd, self->ioas, byte.start + 1, PS));
	EXPECT_EQ(0, _add_reserved(self->fd, self->ioas, byte.start - PS, PS));
}

/*
 * The array of ALLOW_IOVAS is as long as userspace says: the kernel must
 * read it piecewise, never allocate for all of it at once. A count that
 * would need 2 GiB (over INT_MAX: a WARN in kvmalloc) or just under, with
 * a buffer of two valid ranges before an unmapped page, fails at the page
 * with EFAULT and changes nothing. A long valid array is taken whole.
 */
TEST_F(ioas, allow_iovas_huge_count)
{
	static const __u32 counts[] = { 0x08000000, 0x07ffffff, 3 };
	const __u64 b = self->base;
	struct iommu_iova_range *ranges, *many;
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas,
	};
	const unsigned int nr_many = 4096;
	struct ioas_state st;
	long avail_kb;
	unsigned int i;
	char *two;

	/* two ranges at the end of a page, the next page inaccessible */
	two = mmap(NULL, 2 * PS, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	ASSERT_EQ(0, munmap(two + PS, PS));
	ranges = (struct iommu_iova_range *)(two + PS) - 2;
	ranges[0] = (struct iommu_iova_range){ b, b + PS - 1 };
	ranges[1] = (struct iommu_iova_range){ b + 4 * PS, b + 5 * PS - 1 };
	cmd.allowed_iovas = (uintptr_t)ranges;

	SNAPSHOT(&st);
	avail_kb = proc_key_val("/proc/meminfo", "MemAvailable");
	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		cmd.num_iovas = counts[i];
		EXPECT_EQ(-1, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd));
		EXPECT_EQ(EFAULT, errno) {
			TH_LOG("num_iovas %#x", counts[i]);
		}
	}
	UNCHANGED(&st);
	/* nothing of the refused lists is allowed: all of it can be reserved */
	EXPECT_EQ(0, _add_reserved(self->fd, self->ioas, b, 8 * PS));
	/* nor did any of it stay allocated (a loose bound: other users run) */
	if (avail_kb > 0)
		EXPECT_GT(64 * 1024, avail_kb - proc_key_val("/proc/meminfo",
							     "MemAvailable"));

	many = calloc(nr_many, sizeof(*many));
	ASSERT_NE(NULL, many);
	for (i = 0; i < nr_many; i++) {
		many[i].start = b + 16 * PS + 2 * i * PS;
		many[i].last = many[i].start + PS - 1;
	}
	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, many, nr_many));
	/* the last one counts, the gaps between them are not allowed */
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas,
					    many[nr_many - 1].start, 1));
	EXPECT_EQ(0, _add_reserved(self->fd, self->ioas,
				   many[nr_many - 1].start - PS, PS));
	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, NULL, 0));
	free(many);
	munmap(two, PS);
}

TEST_F(ioas, allow_iovas_eaddrinuse)
{
	const __u64 b = self->base;
	const struct iommu_iova_range good = { b, b + 16 * PS - 1 };
	const struct iommu_iova_range into_reserved = {
		b + 30 * PS, b + 34 * PS - 1
	};
	const struct iommu_iova_range second_into[2] = {
		{ b, b + PS - 1 },
		{ b + 39 * PS, b + 40 * PS - 1 },
	};
	const struct iommu_iova_range next_to[2] = {
		{ b + 28 * PS, b + 32 * PS - 1 },
		{ b + 40 * PS, b + 48 * PS - 1 },
	};
	const struct iommu_iova_range outside[3] = {
		{ 0, PS - 1 },
		{ APERTURE_LAST + 1 - PS, APERTURE_LAST + PS },
		{ APERTURE_LAST + 1, U64_MAX },
	};
	struct ioas_state st;
	unsigned int i;

	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &good, 1));
	ASSERT_EQ(0, _add_reserved(self->fd, self->ioas, b + 32 * PS, 8 * PS));
	SNAPSHOT(&st);
	EXPECT_EQ(EADDRINUSE, _allow_iovas(self->fd, self->ioas,
					   &into_reserved, 1));
	EXPECT_EQ(EADDRINUSE, _allow_iovas(self->fd, self->ioas, second_into,
					   2));
	if (self->nr_hwpts) {
		/* everything outside the aperture is reserved */
		for (i = 0; i < ARRAY_SIZE(outside); i++) {
			EXPECT_EQ(EADDRINUSE, _allow_iovas(self->fd, self->ioas,
							   &outside[i], 1));
		}
	}
	UNCHANGED(&st);
	/* the old list is still in force */
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas, b, PS));

	/* right next to the reserved range is fine */
	EXPECT_EQ(0, _allow_iovas(self->fd, self->ioas, next_to, 2));
	EXPECT_EQ(0, _add_reserved(self->fd, self->ioas, b, PS));
}

TEST_F(ioas, allow_iovas_vs_add_reserved)
{
	const __u64 b = self->base;
	const struct iommu_iova_range allowed = { b + 16 * PS,
						  b + 32 * PS - 1 };
	struct ioas_state st;

	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, &allowed, 1));
	SNAPSHOT(&st);
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas, b + 31 * PS,
					    2 * PS));
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas, b + 8 * PS,
					    9 * PS));
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas, b + 20 * PS,
					    PS));
	EXPECT_EQ(EADDRINUSE, _add_reserved(self->fd, self->ioas, b,
					    64 * PS));
	UNCHANGED(&st);

	EXPECT_EQ(0, _add_reserved(self->fd, self->ioas, b + 32 * PS, PS));
	EXPECT_EQ(0, _add_reserved(self->fd, self->ioas, b + 15 * PS, PS));
	/* a cleared list doesn't protect anything */
	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, NULL, 0));
	EXPECT_EQ(0, _add_reserved(self->fd, self->ioas, b + 20 * PS, PS));
}

TEST_F(ioas, allow_iovas_auto_map)
{
	const __u64 b = self->base;
	/* given out of order: only overlaps are refused */
	const struct iommu_iova_range allowed[2] = {
		{ b + 128 * PS, b + 129 * PS - 1 },	/* one page */
		{ b + 64 * PS, b + 66 * PS - 1 },	/* two pages */
	};
	__u64 iova[3] = {}, len = 0;
	struct ioas_state st;
	unsigned int i, j;

	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, allowed, 2));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, _map_auto(self->fd, self->ioas, self->buf, PS,
				       &iova[i]));
		EXPECT_TRUE((iova[i] >= allowed[0].start &&
			     iova[i] + PS - 1 <= allowed[0].last) ||
			    (iova[i] >= allowed[1].start &&
			     iova[i] + PS - 1 <= allowed[1].last));
		for (j = 0; j < i; j++)
			EXPECT_NE(iova[j], iova[i]);
		MAPPED(iova[i], PS, self->buf);
	}
	/* all three allowed pages are used */
	SNAPSHOT(&st);
	EXPECT_EQ(ENOSPC, _map_auto(self->fd, self->ioas, self->buf, PS,
				    &iova[0]));
	EXPECT_EQ(ENOSPC, _ioas_copy(self->fd, MAP_RW, self->ioas, &iova[0],
				     self->ioas, iova[1], PS));
	UNCHANGED(&st);

	/* two pages only fit in the second range */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, &len));
	EXPECT_EQ(3 * PS, len);
	ASSERT_EQ(0, _map_auto(self->fd, self->ioas, self->buf, 2 * PS,
			       &iova[0]));
	EXPECT_EQ(b + 64 * PS, iova[0]);
	EXPECT_EQ(ENOSPC, _map_auto(self->fd, self->ioas, self->buf, 2 * PS,
				    &iova[1]));

	/* without a list, the same request finds room */
	ASSERT_EQ(0, _allow_iovas(self->fd, self->ioas, NULL, 0));
	ASSERT_EQ(0, _map_auto(self->fd, self->ioas, self->buf, 2 * PS,
			       &iova[1]));
	MAPPED(iova[1], 2 * PS, self->buf);
}

/* ---- MAP ---- */

TEST_F(ioas, map_fixed)
{
	struct iommufd_stats before, after;
	__u64 iova = 0;

	ASSERT_EQ(0, _get_stats(self->fd, &before));
	iova = self->base;
	ASSERT_EQ(0, _ioas_map(self->fd, self->ioas, MAP_FIXED_RW, self->buf,
			       4 * PS, &iova));
	EXPECT_EQ(self->base, iova);
	iova = self->base + 4 * PS;
	ASSERT_EQ(0, _ioas_map(self->fd, self->ioas, MAP_FIXED_RW,
			       self->buf + 4 * PS, 4 * PS, &iova));
	EXPECT_EQ(self->base + 4 * PS, iova);
	MAPPED(self->base, 8 * PS, self->buf);
	UNMAPPED(self->base + 8 * PS, 8 * PS);
	ASSERT_EQ(0, _get_stats(self->fd, &after));
	EXPECT_EQ(before.areas + 2, after.areas);
	/* the mock domains hold one reference, without any there is none */
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 8 * PS,
				    self->nr_hwpts ? 1 : 0));
}

TEST_F(ioas, map_fixed_eexist)
{
	const __u64 b = self->base;
	const struct {
		__u64 iova;
		__u64 length;
	} cases[] = {
		{ b + 8 * PS, 8 * PS },		/* the same */
		{ b + 4 * PS, 8 * PS },		/* over the start */
		{ b + 12 * PS, 8 * PS },	/* over the end */
		{ b + 4 * PS, 16 * PS },	/* around it */
		{ b + 10 * PS, 2 * PS },	/* inside it */
		{ b + 15 * PS, PS },		/* its last page */
		{ b + 7 * PS, 2 * PS },		/* its first page */
		{ b + 16 * PS - MOCK_GRAN, MOCK_GRAN },	/* last granule */
	};
	struct ioas_state st;
	unsigned int i;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 8 * PS,
				b + 8 * PS));
	SNAPSHOT(&st);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		EXPECT_EQ(EEXIST, _map_fixed(self->fd, self->ioas,
					     self->buf + 16 * PS,
					     cases[i].length, cases[i].iova));
	}
	if (!self->nr_hwpts) {
		EXPECT_EQ(EEXIST, _map_fixed(self->fd, self->ioas, self->buf,
					     1, b + 16 * PS - 1));
	}
	UNCHANGED(&st);
	MAPPED(b + 8 * PS, 8 * PS, self->buf);

	/* either side is free */
	EXPECT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf + 16 * PS,
				4 * PS, b + 4 * PS));
	EXPECT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf + 20 * PS,
				4 * PS, b + 16 * PS));
	MAPPED(b + 4 * PS, 4 * PS, self->buf + 16 * PS);
	MAPPED(b + 8 * PS, 8 * PS, self->buf);
	MAPPED(b + 16 * PS, 4 * PS, self->buf + 20 * PS);
}

TEST_F(ioas, map_fixed_reserved)
{
	const __u64 b = self->base;
	const struct {
		__u64 iova;
		__u64 length;
	} cases[] = {
		{ b + 32 * PS, PS },
		{ b + 30 * PS, 4 * PS },
		{ b + 35 * PS, 2 * PS },
		{ b + 28 * PS, 16 * PS },
	}, outside[] = {
		{ 0, PS },
		{ APERTURE_START - PS, 2 * PS },
		{ APERTURE_LAST + 1 - PS, 2 * PS },
		{ APERTURE_LAST + 1, PS },
	};
	struct ioas_state st;
	unsigned int i;

	ASSERT_EQ(0, _add_reserved(self->fd, self->ioas, b + 32 * PS, 4 * PS));
	SNAPSHOT(&st);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf,
					     cases[i].length, cases[i].iova));
	}
	if (self->nr_hwpts) {
		for (i = 0; i < ARRAY_SIZE(outside); i++) {
			EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas,
						     self->buf,
						     outside[i].length,
						     outside[i].iova));
		}
	}
	UNCHANGED(&st);
	UNMAPPED(b + 28 * PS, 4 * PS);

	EXPECT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
				b + 36 * PS));
	EXPECT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
				b + 31 * PS));
	/* the last page of the aperture is usable */
	if (self->nr_hwpts) {
		EXPECT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
					APERTURE_LAST + 1 - PS));
	}
}

TEST_F(ioas, map_auto_alignment)
{
	const __u64 lens[] = { PS, 16 * PS, 3 * PS, 2 * PS, 8 * PS };
	__u64 iova[ARRAY_SIZE(lens)] = {};
	unsigned int i, j;
	__u64 want;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ASSERT_EQ(0, _map_auto(self->fd, self->ioas, self->buf,
				       lens[i], &iova[i]));
		/* the largest power of two dividing the length */
		want = lens[i] & -lens[i];
		EXPECT_EQ(0, iova[i] % want);
		if (self->nr_hwpts) {
			EXPECT_LE(APERTURE_START, iova[i]);
			EXPECT_GE(APERTURE_LAST, iova[i] + lens[i] - 1);
		}
		for (j = 0; j < i; j++) {
			EXPECT_TRUE(iova[i] + lens[i] - 1 < iova[j] ||
				    iova[j] + lens[j] - 1 < iova[i]);
		}
	}
	for (i = 0; i < ARRAY_SIZE(lens); i++)
		MAPPED(iova[i], lens[i], self->buf);

	/* the offset into the page is kept */
	if (self->nr_hwpts) {
		ASSERT_EQ(0, _map_auto(self->fd, self->ioas,
				       self->buf + MOCK_GRAN, MOCK_GRAN,
				       &iova[0]));
		EXPECT_EQ(MOCK_GRAN, iova[0] % PS);
		MAPPED(iova[0], MOCK_GRAN, self->buf + MOCK_GRAN);
	} else {
		ASSERT_EQ(0, _map_auto(self->fd, self->ioas, self->buf + 0x123,
				       5, &iova[0]));
		EXPECT_EQ(0x123, iova[0] % PS);
		MAPPED(iova[0], 5, self->buf + 0x123);
	}
}

TEST_F(ioas, map_invalid)
{
	const void *top_va = (void *)(uintptr_t)(U64_MAX & ~(PS - 1));
	struct ioas_state st;
	__u64 iova = 0;

	SNAPSHOT(&st);
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf, 0,
				     self->base));
	EXPECT_EQ(EINVAL, _map_auto(self->fd, self->ioas, self->buf, 0,
				    &iova));
	/* user_va + length wraps */
	EXPECT_EQ(EOVERFLOW, _map_fixed(self->fd, self->ioas, top_va, 2 * PS,
					self->base));
	EXPECT_EQ(EOVERFLOW, _map_auto(self->fd, self->ioas, top_va, 2 * PS,
				       &iova));
	UNCHANGED(&st);
	UNMAPPED(self->base, 2 * PS);
}

/*
 * MAP and COPY must ask for READABLE or WRITEABLE or both. A mapping with
 * neither is refused with EINVAL before anything is pinned: no domain
 * could take it, and every later attach would fail on it.
 */
TEST_F(ioas, map_no_permission_einval)
{
	static const __u32 flags[] = { 0, IOMMU_IOAS_MAP_FIXED_IOVA };
	const __u64 b = self->base;
	struct ioas_state st;
	__u32 stdev, hwpt;
	unsigned int i;
	__u64 iova;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS, b));
	SNAPSHOT(&st);
	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		iova = b + 8 * PS;
		EXPECT_EQ(EINVAL, _ioas_map(self->fd, self->ioas, flags[i],
					    self->buf + 4 * PS, 4 * PS, &iova));
		iova = b + 8 * PS;
		EXPECT_EQ(EINVAL, _ioas_copy(self->fd, flags[i], self->ioas,
					     &iova, self->ioas, b, 4 * PS));
	}
	UNCHANGED(&st);
	UNMAPPED(b + 8 * PS, 4 * PS);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf + 4 * PS, 4 * PS,
				    0));
	/* and a new domain still attaches to the IOAS */
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpt, NULL));
	EXPECT_EQ(0, _md_check_map(self->fd, hwpt, b, self->buf, 4 * PS));
	ASSERT_EQ(0, _destroy(self->fd, stdev));
}

TEST_F(ioas, map_alignment)
{
	unsigned char *buf = self->buf;
	const __u64 b = self->base;
	struct ioas_state st;
	__u64 iova = 0;

	if (!self->nr_hwpts) {
		/* alignment 1: odd values everywhere are fine */
		ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf + 1, 3,
					b + 5));
		ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf + 1024, 2048,
					b + 3 * PS + 1024));
		MAPPED(b + 5, 3, buf + 1);
		MAPPED(b + 3 * PS + 1024, 2048, buf + 1024);
		return;
	}

	SNAPSHOT(&st);
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, buf + 1024,
				     MOCK_GRAN, b));
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, buf + 1,
				     MOCK_GRAN, b));
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, buf, 1024, b));
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, buf, PS + 1, b));
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, buf, MOCK_GRAN,
				     b + 1024));
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, buf, MOCK_GRAN,
				     b + 1));
	EXPECT_EQ(EINVAL, _map_auto(self->fd, self->ioas, buf + 1, PS, &iova));
	EXPECT_EQ(EINVAL, _map_auto(self->fd, self->ioas, buf, 100, &iova));
	UNCHANGED(&st);
	UNMAPPED(b, 2 * PS);

	/* MOCK_IOPTE_SIZE multiples are enough, even below a page */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf + MOCK_GRAN,
				MOCK_GRAN, b + MOCK_GRAN));
	MAPPED(b + MOCK_GRAN, MOCK_GRAN, buf + MOCK_GRAN);
	/* and the IOVA need not share the user_va's offset in the page */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf + 4 * PS + MOCK_GRAN,
				PS, b + 4 * PS));
	MAPPED(b + 4 * PS, PS, buf + 4 * PS + MOCK_GRAN);
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf + 8 * PS, MOCK_GRAN,
				b + 8 * PS + MOCK_GRAN));
	MAPPED(b + 8 * PS + MOCK_GRAN, MOCK_GRAN, buf + 8 * PS);
	UNMAPPED(b, MOCK_GRAN);
}

TEST_F(ioas, map_efault)
{
	struct ioas_state st;
	unsigned char *hole, *part;
	__u64 iova = 0, len = 0;

	hole = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(0, munmap(hole, 4 * PS));
	part = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, part);
	memset(part, 0x42, 2 * PS);
	ASSERT_EQ(0, munmap(part + 2 * PS, 2 * PS));

	SNAPSHOT(&st);
	if (self->nr_hwpts) {
		EXPECT_EQ(EFAULT, _map_fixed(self->fd, self->ioas, hole, 4 * PS,
					     self->base));
		EXPECT_EQ(EFAULT, _map_auto(self->fd, self->ioas, hole, 4 * PS,
					    &iova));
		/* the first half could be pinned: it must not stay pinned */
		EXPECT_EQ(EFAULT, _map_fixed(self->fd, self->ioas, part, 4 * PS,
					     self->base));
		UNCHANGED(&st);
		UNMAPPED(self->base, 4 * PS);
		EXPECT_EQ(0, _md_check_refs(self->fd, part, 2 * PS, 0));
	} else {
		/* nothing is pinned without a domain, so nothing is noticed */
		EXPECT_EQ(0, _map_fixed(self->fd, self->ioas, hole, 4 * PS,
					self->base));
		EXPECT_EQ(0, _probe_mapped(self->fd, self->ioas, self->base,
					   4 * PS));
		ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->base,
					 4 * PS, &len));
		EXPECT_EQ(4 * PS, len);
		UNCHANGED(&st);
	}
	munmap(part, 2 * PS);
}

TEST_F(ioas, map_readonly_memory)
{
	struct mock_iopte pte;
	struct ioas_state st;
	unsigned char *ro;
	__u64 iova = 0;
	unsigned int i;

	ro = mmap(NULL, 4 * PS, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	memset(ro, 0x37, 4 * PS);
	ASSERT_EQ(0, mprotect(ro, 4 * PS, PROT_READ));

	if (self->nr_hwpts) {
		SNAPSHOT(&st);
		EXPECT_EQ(EFAULT, _map_fixed(self->fd, self->ioas, ro, 4 * PS,
					     self->base));
		iova = self->base;
		EXPECT_EQ(EFAULT, _ioas_map(self->fd, self->ioas,
					    IOMMU_IOAS_MAP_FIXED_IOVA |
					    IOMMU_IOAS_MAP_WRITEABLE,
					    ro, 4 * PS, &iova));
		UNCHANGED(&st);
		UNMAPPED(self->base, 4 * PS);
		EXPECT_EQ(0, _md_check_refs(self->fd, ro, 4 * PS, 0));
	}
	/* read-only is what read-only memory can do */
	iova = self->base;
	ASSERT_EQ(0, _ioas_map(self->fd, self->ioas,
			       IOMMU_IOAS_MAP_FIXED_IOVA |
			       IOMMU_IOAS_MAP_READABLE,
			       ro, 4 * PS, &iova));
	MAPPED(self->base, 4 * PS, ro);
	for (i = 0; i < self->nr_hwpts; i++) {
		ASSERT_EQ(0, _md_iopte(self->fd, self->hwpt[i], self->base,
				       &pte));
		EXPECT_EQ(MOCK_PROT_READ, pte.prot & MOCK_PROT_RW);
	}
	if (!self->nr_hwpts) {
		/* and without a domain nothing checks writability */
		EXPECT_EQ(0, _map_fixed(self->fd, self->ioas, ro, 4 * PS,
					self->base + 8 * PS));
	}
	munmap(ro, 4 * PS);
}

/* ---- COPY ---- */

TEST_F(ioas, copy_same_ioas)
{
	const __u64 src = self->base, dst = self->base + 32 * PS;
	struct iommufd_stats before, after;
	__u64 iova = 0, len = 0;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 8 * PS, src));
	ASSERT_EQ(0, _get_stats(self->fd, &before));
	iova = dst;
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas, &iova,
				self->ioas, src, 8 * PS));
	EXPECT_EQ(dst, iova);
	MAPPED(src, 8 * PS, self->buf);
	MAPPED(dst, 8 * PS, self->buf);
	ASSERT_EQ(0, _get_stats(self->fd, &after));
	EXPECT_EQ(before.areas + 1, after.areas);
	/* the same pages, not pinned again */
	EXPECT_EQ(before.pinned_pages, after.pinned_pages);
	EXPECT_EQ(before.pages_objects, after.pages_objects);

	/* the copy outlives its source */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, src, 8 * PS, &len));
	EXPECT_EQ(8 * PS, len);
	UNMAPPED(src, 8 * PS);
	MAPPED(dst, 8 * PS, self->buf);

	/* a copy of the copy, at an IOVA the kernel picks */
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_RW, self->ioas, &iova,
				self->ioas, dst, 8 * PS));
	EXPECT_NE(dst, iova);
	MAPPED(iova, 8 * PS, self->buf);
}

TEST_F(ioas, copy_sub_range)
{
	const __u64 b = self->base;
	unsigned char *buf = self->buf;
	__u64 iova = 0;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf, 16 * PS, b));

	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_RW, self->ioas, &iova,
				self->ioas, b + 2 * PS, 3 * PS));
	EXPECT_EQ(0, iova % self->align);
	MAPPED(iova, 3 * PS, buf + 2 * PS);

	iova = b + 64 * PS;
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas, &iova,
				self->ioas, b + 15 * PS, PS));
	MAPPED(b + 64 * PS, PS, buf + 15 * PS);

	/* starting and ending inside a page */
	if (self->nr_hwpts) {
		iova = b + 80 * PS;
		ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas,
					&iova, self->ioas,
					b + PS + MOCK_GRAN, PS));
		MAPPED(b + 80 * PS, PS, buf + PS + MOCK_GRAN);
	} else {
		iova = b + 80 * PS + 3;
		ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas,
					&iova, self->ioas, b + 5, 7));
		MAPPED(b + 80 * PS + 3, 7, buf + 5);
	}
	MAPPED(b, 16 * PS, buf);
}

TEST_F(ioas, copy_spanning_mappings)
{
	const __u64 b = self->base;
	unsigned char *buf2;
	__u64 iova = 0;

	buf2 = alloc_buffer(4 * PS, 9);
	ASSERT_NE(NULL, buf2);
	/* two adjacent mappings of unrelated memory */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS, b));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf2, 4 * PS,
				b + 4 * PS));

	iova = b + 32 * PS;
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas, &iova,
				self->ioas, b + 2 * PS, 4 * PS));
	MAPPED(b + 32 * PS, 2 * PS, self->buf + 2 * PS);
	MAPPED(b + 34 * PS, 2 * PS, buf2);

	iova = b + 64 * PS;
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas, &iova,
				self->ioas, b, 8 * PS));
	MAPPED(b + 64 * PS, 4 * PS, self->buf);
	MAPPED(b + 68 * PS, 4 * PS, buf2);

	/* the sources go, the copies stay */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, b, 8 * PS, NULL));
	UNMAPPED(b, 8 * PS);
	MAPPED(b + 32 * PS, 2 * PS, self->buf + 2 * PS);
	MAPPED(b + 34 * PS, 2 * PS, buf2);
	MAPPED(b + 64 * PS, 4 * PS, self->buf);
	MAPPED(b + 68 * PS, 4 * PS, buf2);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	munmap(buf2, 4 * PS);
}

TEST_F(ioas, copy_holes_enoent)
{
	const __u64 b = self->base;
	const struct {
		__u64 iova;
		__u64 length;
	} cases[] = {
		{ b, 12 * PS },			/* over the hole */
		{ b + 2 * PS, 4 * PS },		/* runs into it */
		{ b + 4 * PS, PS },		/* in it */
		{ b + 6 * PS, 4 * PS },		/* comes out of it */
		{ b - PS, 2 * PS },		/* starts before everything */
		{ b + 10 * PS, 4 * PS },	/* runs off the end */
		{ b + 64 * PS, PS },		/* nowhere near */
	};
	struct ioas_state st;
	unsigned int i;
	__u64 iova = 0;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS, b));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf + 8 * PS,
				4 * PS, b + 8 * PS));
	SNAPSHOT(&st);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		iova = b + 32 * PS;
		EXPECT_EQ(ENOENT, _ioas_copy(self->fd, MAP_FIXED_RW,
					     self->ioas, &iova, self->ioas,
					     cases[i].iova, cases[i].length));
		EXPECT_EQ(ENOENT, _ioas_copy(self->fd, MAP_RW, self->ioas,
					     &iova, self->ioas, cases[i].iova,
					     cases[i].length));
	}
	UNCHANGED(&st);
	UNMAPPED(b + 32 * PS, 16 * PS);
}

TEST_F(ioas, copy_across_ioas)
{
	const __u64 b = self->base;
	__u32 ioas2, stdev2 = 0, hwpt2 = 0;
	__u64 iova = 0;

	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	if (self->nr_hwpts) {
		ASSERT_EQ(0, _mock_domain(self->fd, ioas2, &stdev2, &hwpt2,
					  NULL));
	}
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 8 * PS, b));

	iova = b + 16 * PS;
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, ioas2, &iova,
				self->ioas, b, 8 * PS));
	EXPECT_EQ(b + 16 * PS, iova);
	EXPECT_EQ(0, _probe_mapped(self->fd, ioas2, b + 16 * PS, 8 * PS));
	EXPECT_EQ(ENOENT, _probe_mapped(self->fd, ioas2, b, PS));
	if (hwpt2) {
		EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, b + 16 * PS,
					   self->buf, 8 * PS));
	}
	/* nothing appeared in the source IOAS */
	UNMAPPED(b + 16 * PS, 8 * PS);

	/* unmapping the source leaves the destination */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, b, 8 * PS, NULL));
	EXPECT_EQ(0, _probe_mapped(self->fd, ioas2, b + 16 * PS, 8 * PS));
	if (hwpt2) {
		EXPECT_EQ(0, _md_check_map(self->fd, hwpt2, b + 16 * PS,
					   self->buf, 8 * PS));
	}

	/* and back again */
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_RW, self->ioas, &iova, ioas2,
				b + 18 * PS, 2 * PS));
	MAPPED(iova, 2 * PS, self->buf + 2 * PS);

	if (stdev2)
		ASSERT_EQ(0, _destroy(self->fd, stdev2));
	ASSERT_EQ(0, _destroy(self->fd, ioas2));
	MAPPED(iova, 2 * PS, self->buf + 2 * PS);
}

TEST_F(ioas, copy_errors)
{
	const __u64 b = self->base;
	struct ioas_state st;
	__u64 iova = 0;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS, b));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS,
				b + 8 * PS));
	SNAPSHOT(&st);
	iova = b + 32 * PS;
	EXPECT_EQ(EOPNOTSUPP, _ioas_copy(self->fd, MAP_FIXED_RW | (1 << 3),
					 self->ioas, &iova, self->ioas, b,
					 PS));
	iova = b + 32 * PS;
	EXPECT_EQ(ENOENT, _ioas_copy(self->fd, MAP_FIXED_RW, 0, &iova,
				     self->ioas, b, PS));
	iova = b + 32 * PS;
	EXPECT_EQ(ENOENT, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas,
				     &iova, 0, b, PS));
	if (self->nr_hwpts) {
		iova = b + 32 * PS;
		EXPECT_EQ(ENOENT, _ioas_copy(self->fd, MAP_FIXED_RW,
					     self->hwpt[0], &iova, self->ioas,
					     b, PS));
		iova = b + 32 * PS;
		EXPECT_EQ(ENOENT, _ioas_copy(self->fd, MAP_FIXED_RW,
					     self->ioas, &iova, self->hwpt[0],
					     b, PS));
	}
	/* a fixed destination must be free */
	iova = b + 6 * PS;
	EXPECT_EQ(EEXIST, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas,
				     &iova, self->ioas, b, 4 * PS));
	iova = b;
	EXPECT_EQ(EEXIST, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas,
				     &iova, self->ioas, b + 8 * PS, PS));
	UNCHANGED(&st);
	UNMAPPED(b + 4 * PS, 4 * PS);
	UNMAPPED(b + 32 * PS, PS);
}

/* ---- UNMAP ---- */

TEST_F(ioas, unmap_partial_enoent)
{
	const __u64 b = self->base;
	const struct {
		__u64 iova;
		__u64 length;
	} cases[] = {
		{ b, 4 * PS },
		{ b + 2 * PS, 2 * PS },
		{ b + 4 * PS, 4 * PS },
		{ b + 7 * PS, PS },
		{ b - PS, 4 * PS },
		{ b + 4 * PS, 8 * PS },
		{ b + PS, 8 * PS },
		{ b, 8 * PS - MOCK_GRAN },
	};
	struct ioas_state st;
	unsigned int i;
	__u64 len;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 8 * PS, b));
	SNAPSHOT(&st);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas,
					      cases[i].iova, cases[i].length,
					      NULL));
	}
	if (!self->nr_hwpts) {
		EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas, b, 1,
					      NULL));
		EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas,
					      b + 8 * PS - 1, 1, NULL));
	}
	UNCHANGED(&st);
	MAPPED(b, 8 * PS, self->buf);

	/* a range reaching past both ends takes it whole */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, b - PS, 10 * PS, &len));
	EXPECT_EQ(8 * PS, len);
	UNMAPPED(b, 8 * PS);
}

TEST_F(ioas, unmap_multiple)
{
	const __u64 b = self->base;
	struct iommufd_stats before, after;
	struct ioas_state st;
	__u64 iova = 0, len = 0;

	ASSERT_EQ(0, _get_stats(self->fd, &before));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 2 * PS, b));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf + 4 * PS,
				3 * PS, b + 4 * PS));
	iova = b + 10 * PS;
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_FIXED_RW, self->ioas, &iova,
				self->ioas, b, 2 * PS));
	/* something outside the range that must survive */
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
				b + 20 * PS));

	/* covers the first fully, the second partly: nothing happens */
	SNAPSHOT(&st);
	EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas, b, 5 * PS, NULL));
	EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas, b + 5 * PS,
				      8 * PS, NULL));
	UNCHANGED(&st);
	MAPPED(b, 2 * PS, self->buf);
	MAPPED(b + 4 * PS, 3 * PS, self->buf + 4 * PS);
	MAPPED(b + 10 * PS, 2 * PS, self->buf);

	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, b, 12 * PS, &len));
	EXPECT_EQ(7 * PS, len);
	UNMAPPED(b, 12 * PS);
	MAPPED(b + 20 * PS, PS, self->buf);
	ASSERT_EQ(0, _get_stats(self->fd, &after));
	EXPECT_EQ(before.areas + 1, after.areas);
}

TEST_F(ioas, unmap_nothing_enoent)
{
	const __u64 b = self->base;
	struct ioas_state st;

	EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas, b, PS, NULL));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 2 * PS, b));
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 2 * PS,
				b + 8 * PS));
	SNAPSHOT(&st);
	EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas, b + 3 * PS,
				      4 * PS, NULL));
	EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas, b + 2 * PS,
				      6 * PS, NULL));
	EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas, b + 64 * PS,
				      64 * PS, NULL));
	EXPECT_EQ(ENOENT, _ioas_unmap(self->fd, self->ioas, 0, b, NULL));
	UNCHANGED(&st);
}

TEST_F(ioas, unmap_all)
{
	struct iommufd_stats before, after;
	__u64 iova = 0, len = 0;

	ASSERT_EQ(0, _get_stats(self->fd, &before));
	len = 0xdead;
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, &len));
	EXPECT_EQ(0, len);

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS,
				self->base));
	ASSERT_EQ(0, _map_auto(self->fd, self->ioas, self->buf, 2 * PS,
			       &iova));
	ASSERT_EQ(0, _ioas_copy(self->fd, MAP_RW, self->ioas, &iova,
				self->ioas, self->base, 3 * PS));
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, &len));
	EXPECT_EQ(9 * PS, len);
	UNMAPPED(self->base, 4 * PS);
	UNMAPPED(iova, 3 * PS);
	ASSERT_EQ(0, _get_stats(self->fd, &after));
	ASSERT_STATS_EQUAL(&before, &after);
	EXPECT_EQ(0, _md_check_refs(self->fd, self->buf, 4 * PS, 0));

	len = 0xdead;
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, &len));
	EXPECT_EQ(0, len);
}

TEST_F(ioas, unmap_invalid)
{
	struct ioas_state st;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, PS,
				self->base));
	SNAPSHOT(&st);
	EXPECT_EQ(EINVAL, _ioas_unmap(self->fd, self->ioas, self->base, 0,
				      NULL));
	EXPECT_EQ(EINVAL, _ioas_unmap(self->fd, self->ioas, 0, 0, NULL));
	EXPECT_EQ(EOVERFLOW, _ioas_unmap(self->fd, self->ioas, 2, U64_MAX,
					 NULL));
	EXPECT_EQ(EOVERFLOW, _ioas_unmap(self->fd, self->ioas, U64_MAX, 2,
					 NULL));
	EXPECT_EQ(EOVERFLOW, _ioas_unmap(self->fd, self->ioas, self->base,
					 U64_MAX, NULL));
	UNCHANGED(&st);
	MAPPED(self->base, PS, self->buf);
}

/* ---- OPTION HUGE_PAGES ---- */

TEST_F(ioas, option_huge_pages)
{
	struct ioas_state st;
	__u64 val;

	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, self->ioas,
				 &val));
	EXPECT_EQ(1, val);

	/* the object must be an IOAS */
	SNAPSHOT(&st);
	EXPECT_EQ(ENOENT, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, 0,
				      &val));
	EXPECT_EQ(ENOENT, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES, 0, 0));
	if (self->nr_hwpts) {
		EXPECT_EQ(ENOENT, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES,
					      self->hwpt[0], 0));
		EXPECT_EQ(ENOENT, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES,
					      self->stdev[0], &val));
	}
	EXPECT_EQ(EINVAL, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES,
				      self->ioas, 2));
	EXPECT_EQ(EINVAL, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES,
				      self->ioas, U64_MAX));
	UNCHANGED(&st);

	/* off: IOVA alignment becomes PAGE_SIZE */
	ASSERT_EQ(0, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES, self->ioas,
				 0));
	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, self->ioas,
				 &val));
	EXPECT_EQ(0, val);
	ASSERT_EQ(0, ioas_state_get(self->fd, self->ioas, &st));
	EXPECT_EQ(PS, st.align);
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf, PS,
				     self->base + PS / 2));
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf + PS / 2,
				     PS, self->base));
	EXPECT_EQ(EINVAL, _map_fixed(self->fd, self->ioas, self->buf, PS / 2,
				     self->base));
	UNCHANGED(&st);
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 2 * PS,
				self->base));
	MAPPED(self->base, 2 * PS, self->buf);
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, self->base, 2 * PS,
				 NULL));

	/* and on again */
	ASSERT_EQ(0, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES, self->ioas,
				 1));
	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, self->ioas,
				 &val));
	EXPECT_EQ(1, val);
	ASSERT_EQ(0, ioas_state_get(self->fd, self->ioas, &st));
	EXPECT_EQ(self->align, st.align);
}

TEST_F(ioas, option_huge_pages_ebusy)
{
	struct ioas_state st;
	__u64 val;

	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS,
				self->base));
	if (!self->nr_hwpts) {
		/* mappings alone, page aligned, don't stop it */
		EXPECT_EQ(0, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES,
					 self->ioas, 0));
		ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES,
					 self->ioas, &val));
		EXPECT_EQ(0, val);
		MAPPED(self->base, 4 * PS, self->buf);
		return;
	}

	/* a domain and mappings: the page sizes are in use */
	SNAPSHOT(&st);
	EXPECT_EQ(EBUSY, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES,
				     self->ioas, 0));
	UNCHANGED(&st);
	MAPPED(self->base, 4 * PS, self->buf);

	/* without the mappings it's fine */
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, 0, U64_MAX, NULL));
	EXPECT_EQ(0, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES, self->ioas,
				 0));
	ASSERT_EQ(0, _option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, self->ioas,
				 &val));
	EXPECT_EQ(0, val);
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS,
				self->base));
	MAPPED(self->base, 4 * PS, self->buf);
}

/* ---- the mock domain's own test ops ---- */

TEST_F(ioas, md_check_map_mismatch)
{
	const __u64 b = self->base;
	unsigned char *buf2;
	unsigned int i;

	if (!self->nr_hwpts)
		SKIP(return, "needs a mock domain");
	buf2 = alloc_buffer(8 * PS, 5);
	ASSERT_NE(NULL, buf2);
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS, b));
	for (i = 0; i < self->nr_hwpts; i++) {
		EXPECT_EQ(0, _md_check_map(self->fd, self->hwpt[i], b,
					   self->buf, 4 * PS));
		/* other memory, shifted memory, unmapped IOVA */
		EXPECT_EQ(EINVAL, _md_check_map(self->fd, self->hwpt[i], b,
						buf2, 4 * PS));
		EXPECT_EQ(EINVAL, _md_check_map(self->fd, self->hwpt[i], b,
						self->buf + PS, 3 * PS));
		EXPECT_EQ(EINVAL, _md_check_map(self->fd, self->hwpt[i],
						b + MOCK_GRAN, self->buf,
						MOCK_GRAN));
		EXPECT_EQ(EINVAL, _md_check_map(self->fd, self->hwpt[i], b,
						self->buf, 5 * PS));
		EXPECT_EQ(EINVAL, _md_check_map(self->fd, self->hwpt[i],
						b + 4 * PS, self->buf + 4 * PS,
						PS));
		/* a mismatch in the last granule only */
		EXPECT_EQ(EINVAL, _md_check_map(self->fd, self->hwpt[i],
						b + 4 * PS - MOCK_GRAN, buf2,
						MOCK_GRAN));
	}
	munmap(buf2, 8 * PS);
}

TEST_F(ioas, md_iopte)
{
	const __u64 b = self->base;
	unsigned char *buf = self->buf;
	struct mock_iopte pte;
	__u64 iova = 0, pfn = 0;
	unsigned int i;

	if (!self->nr_hwpts)
		SKIP(return, "needs a mock domain");
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, buf, 4 * PS, b));
	iova = b + 8 * PS;
	ASSERT_EQ(0, _ioas_map(self->fd, self->ioas,
			       IOMMU_IOAS_MAP_FIXED_IOVA |
			       IOMMU_IOAS_MAP_WRITEABLE,
			       buf + 4 * PS, PS, &iova));
	iova = b + 10 * PS;
	ASSERT_EQ(0, _ioas_map(self->fd, self->ioas,
			       IOMMU_IOAS_MAP_FIXED_IOVA |
			       IOMMU_IOAS_MAP_READABLE,
			       buf + 5 * PS, PS, &iova));
	pfn = virt_to_pfn(buf + 2 * PS);
	for (i = 0; i < self->nr_hwpts; i++) {
		ASSERT_EQ(0, _md_iopte(self->fd, self->hwpt[i], b + 2 * PS,
				       &pte));
		EXPECT_EQ(MOCK_IOPTE_SIZE, pte.size);
		EXPECT_EQ(MOCK_PROT_RW | MOCK_PROT_CACHE, pte.prot);
		if (pfn)
			EXPECT_EQ(pfn, pte.phys / PS);
		/* the second granule of the page */
		ASSERT_EQ(0, _md_iopte(self->fd, self->hwpt[i],
				       b + 2 * PS + MOCK_GRAN, &pte));
		EXPECT_EQ(MOCK_GRAN, pte.phys % PS);
		if (pfn)
			EXPECT_EQ(pfn, pte.phys / PS);

		ASSERT_EQ(0, _md_iopte(self->fd, self->hwpt[i], b + 8 * PS,
				       &pte));
		EXPECT_EQ(MOCK_PROT_WRITE | MOCK_PROT_CACHE, pte.prot);
		ASSERT_EQ(0, _md_iopte(self->fd, self->hwpt[i], b + 10 * PS,
				       &pte));
		EXPECT_EQ(MOCK_PROT_READ | MOCK_PROT_CACHE, pte.prot);

		EXPECT_EQ(ENOENT, _md_iopte(self->fd, self->hwpt[i],
					    b + 4 * PS, &pte));
		EXPECT_EQ(ENOENT, _md_iopte(self->fd, self->hwpt[i],
					    b + 100 * PS, &pte));
		EXPECT_EQ(ENOENT, _md_iopte(self->fd, self->hwpt[i],
					    APERTURE_START - PS, &pte));
	}
	ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, b, 4 * PS, NULL));
	for (i = 0; i < self->nr_hwpts; i++) {
		EXPECT_EQ(ENOENT, _md_iopte(self->fd, self->hwpt[i], b + 2 * PS,
					    &pte));
	}
}

/*
 * Every IOPTE is cache coherent (IOMMU_CACHE), however it was made: by
 * MAP into existing domains, by filling a domain attached later, by COPY,
 * with large pages disabled, and in a 2 MiB IOPTE. Without it some page
 * table formats (arm64's) make non-snooping entries.
 */
TEST_F(ioas, iopte_cache_coherent)
{
	const __u64 b = self->base;
	struct mock_iopte pte;
	__u32 hwpts[MAX_SNAPSHOT_HWPTS];
	unsigned int n = 0, i;
	__u32 stdev, ioas2;
	__u64 iova, off;
	void *huge;

	for (i = 0; i < self->nr_hwpts; i++)
		hwpts[n++] = self->hwpt[i];
	ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, self->buf, 4 * PS, b));
	iova = b + 8 * PS;
	ASSERT_EQ(0, _ioas_copy(self->fd, IOMMU_IOAS_MAP_FIXED_IOVA |
				IOMMU_IOAS_MAP_READABLE, self->ioas, &iova,
				self->ioas, b, 2 * PS));
	/* a domain that joins after the mappings exist is filled */
	ASSERT_EQ(0, _mock_domain(self->fd, self->ioas, &stdev, &hwpts[n++],
				  NULL));
	for (i = 0; i < n; i++) {
		for (off = 0; off < 4 * PS; off += MOCK_GRAN) {
			ASSERT_EQ(0, _md_iopte(self->fd, hwpts[i], b + off,
					       &pte));
			EXPECT_EQ(MOCK_PROT_RW | MOCK_PROT_CACHE, pte.prot);
		}
		ASSERT_EQ(0, _md_iopte(self->fd, hwpts[i], b + 9 * PS, &pte));
		EXPECT_EQ(MOCK_PROT_READ | MOCK_PROT_CACHE, pte.prot);
	}
	ASSERT_EQ(0, _destroy(self->fd, stdev));

	/* page by page, in an IOAS with large pages off */
	ASSERT_EQ(0, _ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, _option_set(self->fd, IOMMU_OPTION_HUGE_PAGES, ioas2, 0));
	ASSERT_EQ(0, _mock_domain(self->fd, ioas2, &stdev, &hwpts[0], NULL));
	ASSERT_EQ(0, _map_fixed(self->fd, ioas2, self->buf, 2 * PS, b));
	ASSERT_EQ(0, _md_iopte(self->fd, hwpts[0], b + PS, &pte));
	EXPECT_EQ(MOCK_PROT_RW | MOCK_PROT_CACHE, pte.prot);

	/* and a 2 MiB IOPTE, where hugetlbfs has a page for us */
	huge = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (huge != MAP_FAILED) {
		memset(huge, 1, SZ_2M);
		ASSERT_EQ(0, _map_fixed(self->fd, self->ioas, huge, SZ_2M,
					b + 2 * SZ_2M));
		for (i = 0; i < self->nr_hwpts; i++) {
			ASSERT_EQ(0, _md_iopte(self->fd, self->hwpt[i],
					       b + 2 * SZ_2M + PS, &pte));
			EXPECT_EQ(MOCK_IOPTE_HUGE_SIZE, pte.size);
			EXPECT_EQ(MOCK_PROT_RW | MOCK_PROT_CACHE, pte.prot);
		}
		ASSERT_EQ(0, _ioas_unmap(self->fd, self->ioas, b + 2 * SZ_2M,
					 SZ_2M, NULL));
		munmap(huge, SZ_2M);
	}
	ASSERT_EQ(0, _destroy(self->fd, stdev));
	ASSERT_EQ(0, _destroy(self->fd, ioas2));
}

TEST_HARNESS_MAIN
