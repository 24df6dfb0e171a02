// SPDX-License-Identifier: GPL-2.0-only
/*
 * Linked into the mainline kselftests with -Wl,--wrap=alarm. Their harness
 * arms alarm(2) with a test's timeout (30 s unless the test asks for more)
 * and offers no way to change it; under TCG with KASAN that is too short.
 * Every non-zero timeout becomes CONFORMANCE_TIMEOUT seconds when that is
 * set (and larger); alarm(0), which disarms, is passed through.
 */
#include <stdlib.h>
#include <unistd.h>

unsigned int __real_alarm(unsigned int seconds);

unsigned int __wrap_alarm(unsigned int seconds)
{
	const char *env = getenv("CONFORMANCE_TIMEOUT");
	unsigned long wide;

	if (seconds && env && *env) {
		wide = strtoul(env, NULL, 10);
		if (wide > seconds)
			seconds = wide;
	}
	return __real_alarm(seconds);
}
