// SPDX-License-Identifier: GPL-2.0-only
/*
 * The benchmarks' common machinery: options, a child per row, the figures
 * and their lines; see include/viommu_perf.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "test_util.h"
#include "kselftest.h"
#include "kvm_util.h"
#include "viommu.h"
#include "viommu_perf.h"

uint64_t perf_ops(const struct perf_opts *o, uint64_t div)
{
	return o->iters / div ? o->iters / div : 1;
}

double perf_ratio(const struct perf_side *num, const struct perf_side *den)
{
	return den->ns_per_op > 0 ? num->ns_per_op / den->ns_per_op : 0.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double perf_median(double *v, uint64_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void perf_print_row_extra(const char *name, const struct perf_side *k,
			  const struct perf_side *u, const char *extra)
{
	printf("bench %s kernel_ns=%.0f user_ns=%.0f ratio=%.2f %s", name,
	       k->ns_per_op, u->ns_per_op,
	       k->ns_per_op > 0 ? u->ns_per_op / k->ns_per_op : 0.0, extra);
	printf("exits_per_op=%.3f user_exits_per_op=%.3f\n",
	       k->exits_per_op, u->exits_per_op);
	fflush(stdout);
}

void perf_print_row(const char *name, const struct perf_side *k, const struct perf_side *u)
{
	perf_print_row_extra(name, k, u, "");
}

void perf_print_pair(const char *name, const char *a_key, const struct perf_side *a,
		     const char *b_key, const struct perf_side *b, double ratio,
		     const struct perf_side *tested)
{
	printf("bench %s %s=%.0f %s=%.0f ratio=%.2f exits_per_op=%.3f\n", name,
	       a_key, a->ns_per_op, b_key, b->ns_per_op, ratio, tested->exits_per_op);
	fflush(stdout);
}

void rt_routes(struct retarget *rt, bool remap)
{
	struct viommu_msi m;
	int j;

	for (j = 0; j < RT_PINS; j++)
		viommu_route_irqchip(rt->g, j, KVM_IRQCHIP_IOAPIC, j);
	for (j = 0; j < RT_MSIS; j++) {
		if (remap)
			m = viommu_msi_devid(viommu_msi_remappable(RT_INDEX(j), false, 0), j);
		else
			m = viommu_msi_compat(rt->dest[j], false, RT_VEC(j), VIOMMU_DLM_FIXED);
		viommu_route_msi(rt->g, RT_GSI(j), &m);
	}
	viommu_commit_routes(rt->g);
}

/* ---- the driver ---------------------------------------------------------------------- */

/* A row in a child of its own: 0, KSFT_SKIP or a failure status. */
static int fork_row(const struct perf_row *row, const struct perf_opts *o)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork: %s", strerror(errno));
	if (!pid)
		exit(row->fn(row->name, o));
	TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "%s: killed by signal %d\n", row->name, WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

/*
 * Once more when the emulator under the test host corrupted a guest (see
 * viommu.h): such a run measured nothing.
 */
static int run_row(const struct perf_row *row, const struct perf_opts *o)
{
	int r = fork_row(row, o);

	if (r == VIOMMU_EXIT_NESTED_CORRUPTION) {
		fprintf(stderr, "%s: guest state corrupted by the nested emulation, again\n",
			row->name);
		r = fork_row(row, o);
	}
	return r;
}

static void __noreturn print_usage(const char *prog, const struct perf_row *rows,
				   int nr_rows, const char *ops_help, int status)
{
	FILE *f = status ? stderr : stdout;
	int i;

	fprintf(f,
		"usage: %s [-n N] [-l] [ROW...]\n"
		"  -n N  operations per side (default %d; %s)\n"
		"  -l    list the rows\n"
		"No ROW: every row.  Rows:\n", prog, PERF_DEFAULT_ITERS, ops_help);
	for (i = 0; i < nr_rows; i++)
		fprintf(f, "  %-18s %s\n", rows[i].name, rows[i].help);
	exit(status);
}

int perf_main(int argc, char *argv[], const struct perf_row *rows, int nr_rows,
	      const char *ops_help)
{
	struct perf_opts o = { .iters = PERF_DEFAULT_ITERS };
	int opt, i, j, ret = KSFT_PASS, r;
	bool any_run = false, any_skip = false;
	char *end;

	while ((opt = getopt(argc, argv, "n:lh")) != -1) {
		switch (opt) {
		case 'n':
			errno = 0;
			o.iters = strtoull(optarg, &end, 0);
			if (errno || *end || !o.iters || o.iters > (1ULL << 40)) {
				fprintf(stderr, "bad -n '%s'\n", optarg);
				print_usage(argv[0], rows, nr_rows, ops_help, 2);
			}
			break;
		case 'l':
			for (i = 0; i < nr_rows; i++)
				printf("%s\n", rows[i].name);
			return 0;
		case 'h':
			print_usage(argv[0], rows, nr_rows, ops_help, 0);
		default:
			print_usage(argv[0], rows, nr_rows, ops_help, 2);
		}
	}

	/* Check every name before running anything. */
	for (j = optind; j < argc; j++) {
		for (i = 0; i < nr_rows; i++)
			if (!strcmp(argv[j], rows[i].name))
				break;
		if (i == nr_rows) {
			fprintf(stderr, "unknown row '%s'\n", argv[j]);
			print_usage(argv[0], rows, nr_rows, ops_help, 2);
		}
	}

	for (i = 0; i < nr_rows; i++) {
		bool wanted = optind == argc;

		for (j = optind; j < argc && !wanted; j++)
			wanted = !strcmp(argv[j], rows[i].name);
		if (!wanted)
			continue;
		r = run_row(&rows[i], &o);
		if (r == KSFT_SKIP)
			any_skip = true;
		else if (r == KSFT_PASS)
			any_run = true;
		else
			ret = r;
	}

	if (ret == KSFT_PASS && any_skip && !any_run)
		ret = KSFT_SKIP;
	return ret;
}
