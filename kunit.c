// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit suites for the pure helpers of iommufd: code whose behaviour can be
 * checked without a device, a user mm or a file. They run when the iommufd
 * module initialises (at boot when built in) and report in KTAP.
 */
#include <kunit/test.h>
#include <linux/ioctl.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

#define NCMDS 4

/* Every slot of the table is reachable through its exact _IO number. */
static void cmd_index_maps_each_slot(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < NCMDS; i++)
		KUNIT_EXPECT_EQ(test, (int)i,
				iommufd_cmd_index(_IO(IOMMUFD_TYPE,
						      IOMMUFD_CMD_BASE + i),
						  NCMDS));
}

/* Numbers just outside the table, on either side, are not commands. */
static void cmd_index_rejects_out_of_range(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IO(IOMMUFD_TYPE,
					      IOMMUFD_CMD_BASE - 1), NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IO(IOMMUFD_TYPE,
					      IOMMUFD_CMD_BASE + NCMDS),
					  NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IO(IOMMUFD_TYPE, 0), NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IO(IOMMUFD_TYPE, 0xff), NCMDS));
}

/* An empty table has no commands at all, not even at the base. */
static void cmd_index_empty_table(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE),
					  0));
}

/*
 * The right nr is not enough: another ioctl type, or direction or size bits,
 * make a different number that must not alias a command.
 */
static void cmd_index_rejects_other_encodings(struct kunit *test)
{
	unsigned int nr = IOMMUFD_CMD_BASE + 1;

	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IO('V', nr), NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IOR(IOMMUFD_TYPE, nr, __u32),
					  NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IOW(IOMMUFD_TYPE, nr, __u64),
					  NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IOWR(IOMMUFD_TYPE, nr, __u32),
					  NCMDS));
	KUNIT_EXPECT_EQ(test, -ENOTTY,
			iommufd_cmd_index(_IOC(_IOC_NONE, IOMMUFD_TYPE, nr, 8),
					  NCMDS));
}

static struct kunit_case iommufd_cmd_index_cases[] = {
	KUNIT_CASE(cmd_index_maps_each_slot),
	KUNIT_CASE(cmd_index_rejects_out_of_range),
	KUNIT_CASE(cmd_index_empty_table),
	KUNIT_CASE(cmd_index_rejects_other_encodings),
	{}
};

static struct kunit_suite iommufd_cmd_index_suite = {
	.name = "iommufd_cmd_index",
	.test_cases = iommufd_cmd_index_cases,
};

kunit_test_suite(iommufd_cmd_index_suite);
