/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kvm-viommu programs on kselftest_harness.h: each test is a TEST_F()
 * of the program's fixture, forked and bounded by its timeout.  Include
 * this in a program, never in lib/: the harness defines its runner in the
 * including file.
 *
 * A program's main() returns viommu_test_main(), which skips the whole
 * program when @unsupported gives a reason (viommu_required() turns that
 * into a failure where the device must be there), and runs the tests named
 * on the command line, or all.  6.1's harness has no filter of its own;
 * run_tests uses this one to run a test again alone.  Tests that build
 * their own guest share a fixture with no state, as KVM's
 * KVM_ONE_VCPU_TEST_SUITE() tests share one with a vCPU.
 *
 * A name on the command line matches a test by its own name ("stats") or
 * by the name the harness prints ("msi_remap.xapic_1vcpu.stats").
 */
#ifndef SELFTEST_KVM_VIOMMU_TEST_H
#define SELFTEST_KVM_VIOMMU_TEST_H

/* 6.1's test_util.h has an ASSERT_EQ() of its own; the harness's replaces it. */
#undef ASSERT_EQ
#include "kselftest_harness.h"

static inline bool viommu_test_wanted(struct __fixture_metadata *f,
				      struct __fixture_variant_metadata *v,
				      struct __test_metadata *t,
				      int argc, char **argv)
{
	char full[256];
	int i;

	snprintf(full, sizeof(full), "%s%s%s.%s", f->name, v->name[0] ? "." : "",
		 v->name, t->name);
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], t->name) || !strcmp(argv[i], full))
			return true;
	return false;
}

/* test_harness_run(), for the tests named on the command line, or all. */
static inline int viommu_test_main(int argc, char **argv,
				   const char *(*unsupported)(void))
{
	struct __fixture_variant_metadata no_variant = { .name = "" };
	struct __fixture_variant_metadata *v;
	struct __fixture_metadata *f;
	struct __test_results *results;
	struct __test_metadata *t;
	unsigned int count = 0, passed = 0;
	const char *why;

	setbuf(stdout, NULL);
	why = unsupported ? unsupported() : NULL;
	if (why) {
		ksft_print_header();
		ksft_exit_skip("%s\n", why);
	}
	if (argc < 2)
		return test_harness_run(argc, argv);

	for (f = __fixture_list; f; f = f->next)
		for (v = f->variant ?: &no_variant; v; v = v->next)
			for (t = f->tests; t; t = t->next)
				count += viommu_test_wanted(f, v, t, argc, argv);
	if (!count)
		ksft_exit_fail_msg("no test of this program is named %s\n", argv[1]);

	results = mmap(NULL, sizeof(*results), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(results != MAP_FAILED, "mmap: %s", strerror(errno));

	ksft_print_header();
	ksft_set_plan(count);
	for (f = __fixture_list; f; f = f->next) {
		for (v = f->variant ?: &no_variant; v; v = v->next) {
			for (t = f->tests; t; t = t->next) {
				if (!viommu_test_wanted(f, v, t, argc, argv))
					continue;
				t->results = results;
				__run_test(f, v, t);
				t->results = NULL;
				passed += t->passed;
			}
		}
	}
	munmap(results, sizeof(*results));

	ksft_print_msg("%s: %u / %u tests passed.\n",
		       passed == count ? "PASSED" : "FAILED", passed, count);
	ksft_exit(passed == count);
	return KSFT_FAIL;	/* not reached */
}

#endif /* SELFTEST_KVM_VIOMMU_TEST_H */
