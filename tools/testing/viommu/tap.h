/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Minimal TAP for the unit tests: one top-level "ok"/"not ok" line per test
 * function, the failed expectation as a "#" line before it.
 */
#ifndef _VIOMMU_UNIT_TAP_H
#define _VIOMMU_UNIT_TAP_H

#include <stdio.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int tap_test_failed;

#define EXPECT(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("# %s:%d: expected %s\n",		\
			       __FILE__, __LINE__, #cond);		\
			tap_test_failed = 1;				\
		}							\
	} while (0)

struct unit_test {
	const char *name;
	void (*fn)(void);
};

static inline int tap_run(const char *suite, const struct unit_test *tests,
			  int n)
{
	int i, failed = 0;

	printf("1..%d\n", n);
	for (i = 0; i < n; i++) {
		tap_test_failed = 0;
		tests[i].fn();
		printf("%sok %d unit: %s: %s\n", tap_test_failed ? "not " : "",
		       i + 1, suite, tests[i].name);
		failed |= tap_test_failed;
	}
	return failed;
}

#endif
