// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_bench: in-kernel fast path vs. exit to userspace, one row at a time.
 *
 *   viommu_bench [-n N] [-l] [ROW...]
 *
 * Each row prints exactly one line on stdout,
 *
 *   bench ROW kernel_ns=<ns/op> user_ns=<ns/op> ratio=<user/kernel> \
 *         exits_per_op=<KVM_RUN returns/op, kernel path> user_exits_per_op=<...>
 *
 * and both sides of a row run in the same process, one after the other, each
 * after a warm-up of its own.  Times are CLOCK_MONOTONIC around the whole
 * KVM_RUN loop of a side, divided by the number of operations; under nested
 * emulation only the ratios mean anything.  Diagnostics go to stderr.
 * No ROW: every row.  Exit status 0, KSFT_SKIP (4) when a row cannot run
 * here, anything else on failure.
 *
 * Rows:
 *   mmio_exit_limit  The guest does N 4-byte MMIO writes to a GPA that no
 *                    memslot backs.  Kernel side: an ioeventfd covers the
 *                    address, so KVM completes each write itself.  User
 *                    side: no ioeventfd, each write is a KVM_EXIT_MMIO that
 *                    this program's run loop completes.  The upper bound on
 *                    what any in-kernel MMIO fast path can gain.
 *
 * A new row is a function of type row_fn and an entry in rows[].
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"

#define DEFAULT_ITERS	20000

struct bench_opts {
	uint64_t iters;
};

/* One side of a row: ns per op and KVM_RUN returns to userspace per op. */
struct side_result {
	double ns_per_op;
	double exits_per_op;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	TEST_ASSERT(!clock_gettime(CLOCK_MONOTONIC, &ts), "clock_gettime: %s",
		    strerror(errno));
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void print_row(const char *name, const struct side_result *k,
		      const struct side_result *u)
{
	printf("bench %s kernel_ns=%.0f user_ns=%.0f ratio=%.2f ", name,
	       k->ns_per_op, u->ns_per_op,
	       k->ns_per_op > 0 ? u->ns_per_op / k->ns_per_op : 0.0);
	printf("exits_per_op=%.3f user_exits_per_op=%.3f\n",
	       k->exits_per_op, u->exits_per_op);
	fflush(stdout);
}

/* ---- row: mmio_exit_limit -------------------------------------------------- */

/* Not backed by any memslot, clear of the lib's memory and of the xAPIC. */
#define MMIO_GPA	0xe0000000ULL
#define MMIO_GVA	MMIO_GPA

/* Written by the host before each phase (sync_global_to_guest). */
static uint64_t mmio_iters;

static void mmio_guest_code(void)
{
	uint32_t *reg = (uint32_t *)MMIO_GVA;
	uint64_t phase, i;

	for (phase = 0;; phase++) {
		/* The host sets up the phase, then resumes the guest. */
		GUEST_SYNC(phase);
		for (i = 0; i < mmio_iters; i++)
			WRITE_ONCE(*reg, (uint32_t)i);
	}
}

static void mmio_expect_sync(struct kvm_vcpu *vcpu, uint64_t phase)
{
	struct ucall uc;

	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == phase, "guest at phase %lu, expected %lu",
			    (unsigned long)uc.args[1], (unsigned long)phase);
		return;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("unexpected ucall %lu", (unsigned long)uc.cmd);
	}
}

/*
 * Let the guest do mmio_iters writes, from one GUEST_SYNC to the next, and
 * time it.  Every KVM_RUN return other than the closing ucall counts as an
 * exit; an MMIO exit must be the guest's write.
 */
static void mmio_phase(struct kvm_vm *vm, struct kvm_vcpu *vcpu, uint64_t phase,
		       uint64_t iters, struct side_result *res)
{
	struct kvm_run *run = vcpu->run;
	uint64_t exits = 0, t0, t1;

	mmio_iters = iters;
	sync_global_to_guest(vm, mmio_iters);

	t0 = now_ns();
	for (;;) {
		vcpu_run(vcpu);
		if (run->exit_reason == KVM_EXIT_IO)
			break;	/* the next GUEST_SYNC, checked below */
		exits++;
		TEST_ASSERT(run->exit_reason == KVM_EXIT_MMIO,
			    "unexpected exit reason %u (%s)", run->exit_reason,
			    exit_reason_str(run->exit_reason));
		TEST_ASSERT(run->mmio.is_write && run->mmio.len == 4 &&
			    run->mmio.phys_addr == MMIO_GPA,
			    "unexpected MMIO: %s of %u bytes at 0x%llx",
			    run->mmio.is_write ? "write" : "read", run->mmio.len,
			    (unsigned long long)run->mmio.phys_addr);
	}
	t1 = now_ns();
	mmio_expect_sync(vcpu, phase + 1);

	if (res) {
		res->ns_per_op = (double)(t1 - t0) / iters;
		res->exits_per_op = (double)exits / iters;
	}
}

static void mmio_ioeventfd(struct kvm_vm *vm, int efd, bool assign)
{
	struct kvm_ioeventfd ioev = {
		.addr = MMIO_GPA,
		.len = 4,
		.fd = efd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	vm_ioctl(vm, KVM_IOEVENTFD, &ioev);
}

static int row_mmio_exit_limit(const char *name, const struct bench_opts *o)
{
	struct side_result kernel, user;
	uint64_t warm = o->iters / 10 ? o->iters / 10 : 1, phase = 0, count;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	int efd;

	if (!kvm_has_cap(KVM_CAP_IOEVENTFD)) {
		fprintf(stderr, "%s: KVM_CAP_IOEVENTFD not available\n", name);
		return KSFT_SKIP;
	}

	vm = vm_create_with_one_vcpu(&vcpu, mmio_guest_code);
	virt_pg_map(vm, MMIO_GVA, MMIO_GPA);

	/* Up to the first GUEST_SYNC. */
	vcpu_run(vcpu);
	TEST_ASSERT(vcpu->run->exit_reason == KVM_EXIT_IO,
		    "unexpected exit reason %u (%s)", vcpu->run->exit_reason,
		    exit_reason_str(vcpu->run->exit_reason));
	mmio_expect_sync(vcpu, phase);

	/* Kernel side: the ioeventfd completes every write. */
	efd = eventfd(0, EFD_NONBLOCK);
	TEST_ASSERT(efd >= 0, "eventfd: %s", strerror(errno));
	mmio_ioeventfd(vm, efd, true);
	mmio_phase(vm, vcpu, phase++, warm, NULL);
	mmio_phase(vm, vcpu, phase++, o->iters, &kernel);
	mmio_ioeventfd(vm, efd, false);
	TEST_ASSERT(read(efd, &count, sizeof(count)) == sizeof(count),
		    "read(eventfd): %s", strerror(errno));
	TEST_ASSERT(count == warm + o->iters,
		    "ioeventfd signalled %lu times for %lu writes",
		    (unsigned long)count, (unsigned long)(warm + o->iters));
	close(efd);

	/* User side: every write exits to the loop above. */
	mmio_phase(vm, vcpu, phase++, warm, NULL);
	mmio_phase(vm, vcpu, phase++, o->iters, &user);

	TEST_ASSERT(user.exits_per_op >= 1.0,
		    "user side: %.3f exits per write, expected >= 1", user.exits_per_op);

	kvm_vm_free(vm);
	print_row(name, &kernel, &user);
	return KSFT_PASS;
}

/* ---- driver ------------------------------------------------------------------ */

typedef int (*row_fn)(const char *name, const struct bench_opts *o);

static const struct {
	const char *name;
	row_fn fn;
	const char *help;
} rows[] = {
	{ "mmio_exit_limit", row_mmio_exit_limit,
	  "MMIO write completed by an ioeventfd vs. by KVM_EXIT_MMIO" },
};

static void __noreturn print_usage(const char *prog, int status)
{
	int i;

	fprintf(status ? stderr : stdout,
		"usage: %s [-n N] [-l] [ROW...]\n"
		"  -n N  operations per side (default %d)\n"
		"  -l    list the rows\n"
		"No ROW: every row.  Rows:\n", prog, DEFAULT_ITERS);
	for (i = 0; i < (int)ARRAY_SIZE(rows); i++)
		fprintf(status ? stderr : stdout, "  %-18s %s\n", rows[i].name, rows[i].help);
	exit(status);
}

int main(int argc, char *argv[])
{
	struct bench_opts o = { .iters = DEFAULT_ITERS };
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
				print_usage(argv[0], 2);
			}
			break;
		case 'l':
			for (i = 0; i < (int)ARRAY_SIZE(rows); i++)
				printf("%s\n", rows[i].name);
			return 0;
		case 'h':
			print_usage(argv[0], 0);
		default:
			print_usage(argv[0], 2);
		}
	}

	/* Check every name before running anything. */
	for (j = optind; j < argc; j++) {
		for (i = 0; i < (int)ARRAY_SIZE(rows); i++)
			if (!strcmp(argv[j], rows[i].name))
				break;
		if (i == (int)ARRAY_SIZE(rows)) {
			fprintf(stderr, "unknown row '%s'\n", argv[j]);
			print_usage(argv[0], 2);
		}
	}

	for (i = 0; i < (int)ARRAY_SIZE(rows); i++) {
		bool wanted = optind == argc;

		for (j = optind; j < argc && !wanted; j++)
			wanted = !strcmp(argv[j], rows[i].name);
		if (!wanted)
			continue;
		r = rows[i].fn(rows[i].name, &o);
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
