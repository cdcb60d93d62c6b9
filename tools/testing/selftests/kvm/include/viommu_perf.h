/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kvm-viommu benchmarks, x86/viommu_*_perf_test: in-kernel fast path
 * vs. exit to userspace, one row at a time.
 *
 *   viommu_<topic>_perf_test [-n N] [-l] [ROW...]
 *
 * Each row prints exactly one line on stdout, "bench ROW" followed by
 * key=value pairs: the ns per operation of its two sides, their ratio, and
 * exits_per_op, the KVM_RUN returns to userspace per operation of the side
 * under test.  scripts/bench runs every program in one boot of the test
 * host and makes a table of these lines.
 *
 * Both sides of a row run in the same process, one after the other, each
 * after a warm-up of its own.  Times are CLOCK_MONOTONIC; under nested
 * emulation only the ratios mean anything.  Diagnostics go to stderr.
 * No ROW: every row of the program.  Exit status 0, KSFT_SKIP (4) when no
 * row could run here, anything else on failure.  Each row runs in a child
 * process; one whose guest the emulator under the test host corrupted (see
 * viommu.h) runs once more.
 *
 * A new row is a function of type perf_row_fn and an entry in its
 * program's table of struct perf_row.
 */
#ifndef SELFTEST_KVM_VIOMMU_PERF_H
#define SELFTEST_KVM_VIOMMU_PERF_H

#include <stdint.h>

#include "viommu.h"

#define PERF_DEFAULT_ITERS	20000

struct perf_opts {
	uint64_t iters;		/* -n */
};

/* One side of a row: ns per op and KVM_RUN returns to userspace per op. */
struct perf_side {
	double ns_per_op;
	double exits_per_op;
};

/* Returns KSFT_PASS once it has printed its line, or KSFT_SKIP. */
typedef int (*perf_row_fn)(const char *name, const struct perf_opts *o);

struct perf_row {
	const char *name;
	perf_row_fn fn;
	const char *help;	/* one line for -h */
};

/*
 * main() of a benchmark: parses the options, then runs the rows named on
 * the command line, or all of @rows.  @ops_help, for -h, says how many
 * operations each row does of -n's N.
 */
int perf_main(int argc, char *argv[], const struct perf_row *rows, int nr_rows,
	      const char *ops_help);

/* @o's N / @div, at least 1. */
uint64_t perf_ops(const struct perf_opts *o, uint64_t div);
/* @num's ns per op over @den's, 0 if @den has none. */
double perf_ratio(const struct perf_side *num, const struct perf_side *den);
/* The median of @n > 0 values, which it sorts. */
double perf_median(double *v, uint64_t n);

/*
 * "bench NAME kernel_ns=<k> user_ns=<u> ratio=<u/k> @extra
 * exits_per_op=<k's> user_exits_per_op=<u's>": @extra is more
 * "key=value " pairs, or "".
 */
void perf_print_row_extra(const char *name, const struct perf_side *k,
			  const struct perf_side *u, const char *extra);
void perf_print_row(const char *name, const struct perf_side *k, const struct perf_side *u);
/* "bench NAME A=<ns> B=<ns> ratio=R exits_per_op=<side under test>" */
void perf_print_pair(const char *name, const char *a_key, const struct perf_side *a,
		     const char *b_key, const struct perf_side *b, double ratio,
		     const struct perf_side *tested);

/*
 * irte_retarget's guest, whose routes qi_iec_wait's emulation of the
 * register page rewrites too: 24 I/O APIC routes (GSI 0..23) and 32 MSI
 * routes, MSI j with vector RT_VEC(j) through IRTE RT_INDEX(j), over
 * RT_VCPUS vCPUs.
 */
#define RT_MSIS		32
#define RT_PINS		24		/* IOAPIC routes, GSI 0..23 */
#define RT_GSI(j)	(RT_PINS + (j))	/* MSI routes */
#define RT_INDEX(j)	(64 + (j))	/* their IRTEs */
#define RT_VEC(j)	(0x40 + (j))
#define RT_VCPUS	4

struct retarget {
	struct viommu_guest *g;
	int dest[RT_MSIS];			/* current vCPU of each MSI */
	uint32_t exp[RT_VCPUS][RT_MSIS];	/* interrupts expected so far */
};

/*
 * Commits all 56 routes: the MSIs remappable through their IRTEs if
 * @remap, else in compatibility format to their dest[] vCPUs.
 */
void rt_routes(struct retarget *rt, bool remap);

#endif /* SELFTEST_KVM_VIOMMU_PERF_H */
