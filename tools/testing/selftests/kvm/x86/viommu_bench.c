// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_bench: in-kernel fast path vs. exit to userspace, one row at a time.
 *
 *   viommu_bench [-n N] [-l] [ROW...]
 *
 * Each row prints exactly one line on stdout, "bench ROW" followed by
 * key=value pairs: the ns per operation of its two sides, their ratio, and
 * exits_per_op, the KVM_RUN returns to userspace per operation of the side
 * under test.  mmio_exit_limit prints
 *
 *   bench ROW kernel_ns=<ns/op> user_ns=<ns/op> ratio=<user/kernel> \
 *         exits_per_op=<KVM_RUN returns/op, kernel path> user_exits_per_op=<...>
 *
 * and the qi_* rows add overhead= and floor_ns= before exits_per_op.
 *
 * Both sides of a row run in the same process, one after the other, each
 * after a warm-up of its own.  Times are CLOCK_MONOTONIC; under nested
 * emulation only the ratios mean anything.  Diagnostics go to stderr.
 * No ROW: every row.  Exit status 0, KSFT_SKIP (4) when a row cannot run
 * here, anything else on failure.  Each row runs in a child process; one
 * whose guest the emulator under the test host corrupted (see viommu.h)
 * runs once more.
 *
 * Rows:
 *   mmio_exit_limit  The guest does N 4-byte MMIO writes to a GPA that no
 *                    memslot backs.  Kernel side: an ioeventfd covers the
 *                    address, so KVM completes each write itself.  User
 *                    side: no ioeventfd, each write is a KVM_EXIT_MMIO that
 *                    this program's run loop completes.  The upper bound on
 *                    what any in-kernel MMIO fast path can gain.
 *                    Times: the whole KVM_RUN loop of a side / N.
 *
 *   msi_remap_hit    An MSI through an irqfd, remapped by the device with its
 *                    interrupt entry cache warm (remap_ns), against a
 *                    compatibility-format MSI with interrupt remapping off,
 *                    through the same irqfd path (plain_ns).  An operation
 *                    is one round trip: write the eventfd, wait until the
 *                    guest (1 vCPU, spinning) has counted the interrupt.
 *                    ratio=remap/plain.  N/4 operations.
 *
 *   msi_remap_miss   The same remapped round trip with the entry cold (an
 *                    index IEC, outside the clock, before each MSI, so that
 *                    each one reads the IRTE from guest memory: cold_ns)
 *                    against warm (warm_ns).  ratio=cold/warm.  N/4 ops.
 *
 *   msi_plain_ir_neighbours
 *                    What interrupt remapping in other VMs costs a VM that
 *                    has no VT-d IOMMU: its compatibility-format irqfd MSI
 *                    round trip (as msi_remap_hit's plain side) while 16
 *                    other VMs have remapping on (neighbours_ns), against
 *                    the same with no other VM (alone_ns), in alternating
 *                    slices of N/16 operations.  ratio=neighbours/alone,
 *                    target <= 1.05; exits_per_op, target 0.
 *
 *   irte_retarget    Moving one of 32 MSIs to another vCPU, with 4 vCPUs
 *                    spinning in the guest and 24 IOAPIC routes besides.
 *                    Only the retargets are timed, in rounds that move each
 *                    MSI once; delivery to the new vCPUs is verified after
 *                    each round, outside the clock.  kernel_ns:
 *                    write the IRTE into guest memory, then an index IEC
 *                    through the device.  qemu_ns: what QEMU does with
 *                    interrupt remapping in userspace, KVM_SET_GSI_ROUTING
 *                    of all 56 routes with the MSI route rewritten.  Both
 *                    are the median over rounds of a round's time per
 *                    retarget: the four spinning vCPUs preempt the timing
 *                    thread at random, for far longer than a retarget.
 *                    ratio=qemu/kernel, target >= 10.  ioctl_floor_ns: the
 *                    cheapest device ioctl, the floor under kernel_ns.
 *                    N/100 operations a side, in rounds of 32.
 *
 *   ioapic_remap     A level-triggered in-kernel I/O APIC pin: each
 *                    operation raises the line (KVM_IRQ_LINE), waits for the
 *                    guest's handler (1 vCPU, spinning) and lowers the line;
 *                    the guest's EOI clears Remote IRR inside KVM, before
 *                    the next raise can deliver.  remap_ns: remappable RTE and a
 *                    level IRTE with the same vector; plain_ns: the same
 *                    pin with interrupt remapping off and a compatibility
 *                    RTE.  ratio=remap/plain.  N/4 operations per side.
 *
 *   ioapic_remap_split  The same with a split irqchip, the test playing the
 *                    VMM's I/O APIC as QEMU does: KVM_IRQ_LINE on a level
 *                    MSI route, the interrupt, the guest's EOI exiting to
 *                    userspace (KVM_EXIT_IOAPIC_EOI), the line lowered.
 *                    remap_ns: remappable route with the I/O APIC's
 *                    requester ID; plain_ns: compatibility route, IR off.
 *                    ratio=remap/plain; full_ratio=split remap_ns over
 *                    ioapic_remap's, measured in the same run: what the
 *                    in-kernel I/O APIC saves.  N/20 operations per side.
 *
 *   qi_iec_wait      The guest's modify_irte() of one of 32 MSIs, as Linux
 *                    retargets it: the IRTE in guest memory, an index IEC
 *                    and a wait descriptor through the invalidation queue,
 *                    polling the wait's status dword (qi_submit_sync()).
 *                    kernel_ns: the register page in KVM (REGS_CONFIG), the
 *                    I/O APIC and MSI routes of irte_retarget remappable.
 *                    user_ns: no register page in KVM; this program emulates
 *                    it through KVM_EXIT_MMIO as QEMU does, and after each
 *                    IEC re-translates the 32 MSI routes and commits all 56
 *                    with KVM_SET_GSI_ROUTING.  overhead: the kernel side
 *                    against the floor (floor_ns), an MMIO write that an
 *                    ioeventfd completes in a VM of its own, in 8 slices
 *                    that alternate between the two; the median of the
 *                    slices' ratios, since the emulated machine's speed
 *                    drifts within a run.  Target <= 1.2.  exits_per_op:
 *                    the kernel side's, target 0.  N/20 operations a side.
 *
 *   qi_iotlb_wait    The same for qi_flush_iotlb() of one page (page-
 *                    selective, AM 0) and its wait; the emulation drops the
 *                    page from a software IOTLB as QEMU does.  N/10 ops.
 *
 * A new row is a function of type row_fn and an entry in rows[].
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_regs.h"

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

/* @extra: more "key=value " pairs, between ratio= and exits_per_op=. */
static void print_row_extra(const char *name, const struct side_result *k,
			    const struct side_result *u, const char *extra)
{
	printf("bench %s kernel_ns=%.0f user_ns=%.0f ratio=%.2f %s", name,
	       k->ns_per_op, u->ns_per_op,
	       k->ns_per_op > 0 ? u->ns_per_op / k->ns_per_op : 0.0, extra);
	printf("exits_per_op=%.3f user_exits_per_op=%.3f\n",
	       k->exits_per_op, u->exits_per_op);
	fflush(stdout);
}

static void print_row(const char *name, const struct side_result *k,
		      const struct side_result *u)
{
	print_row_extra(name, k, u, "");
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

/* A VM whose guest does MMIO writes, phase by phase. */
struct mmio_vm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	uint64_t phase;
};

static int mmio_vm_create(const char *name, struct mmio_vm *m)
{
	if (!kvm_has_cap(KVM_CAP_IOEVENTFD)) {
		fprintf(stderr, "%s: KVM_CAP_IOEVENTFD not available\n", name);
		return KSFT_SKIP;
	}

	m->vm = vm_create_with_one_vcpu(&m->vcpu, mmio_guest_code);
	virt_pg_map(m->vm, MMIO_GVA, MMIO_GPA);
	m->phase = 0;

	/* Up to the first GUEST_SYNC. */
	vcpu_run(m->vcpu);
	TEST_ASSERT(m->vcpu->run->exit_reason == KVM_EXIT_IO,
		    "unexpected exit reason %u (%s)", m->vcpu->run->exit_reason,
		    exit_reason_str(m->vcpu->run->exit_reason));
	mmio_expect_sync(m->vcpu, m->phase);
	return 0;
}

static void mmio_vm_phase(struct mmio_vm *m, uint64_t iters, struct side_result *res)
{
	mmio_phase(m->vm, m->vcpu, m->phase++, iters, res);
}

/* Kernel side: an ioeventfd completes each write, counted here. */
static void mmio_kernel_phases(struct mmio_vm *m, uint64_t warm, uint64_t iters,
			       struct side_result *kernel)
{
	uint64_t count;
	int efd;

	efd = eventfd(0, EFD_NONBLOCK);
	TEST_ASSERT(efd >= 0, "eventfd: %s", strerror(errno));
	mmio_ioeventfd(m->vm, efd, true);
	mmio_vm_phase(m, warm, NULL);
	mmio_vm_phase(m, iters, kernel);
	mmio_ioeventfd(m->vm, efd, false);
	TEST_ASSERT(read(efd, &count, sizeof(count)) == sizeof(count),
		    "read(eventfd): %s", strerror(errno));
	TEST_ASSERT(count == warm + iters,
		    "ioeventfd signalled %lu times for %lu writes",
		    (unsigned long)count, (unsigned long)(warm + iters));
	close(efd);
}

/*
 * The bare MMIO write exit, completed by an ioeventfd (@kernel) and by this
 * program (@user): 0, or KSFT_SKIP without ioeventfds.
 */
static int mmio_exit_floor(const char *name, const struct bench_opts *o,
			   struct side_result *kernel, struct side_result *user)
{
	uint64_t warm = o->iters / 10 ? o->iters / 10 : 1;
	struct mmio_vm m;
	int r = mmio_vm_create(name, &m);

	if (r)
		return r;
	mmio_kernel_phases(&m, warm, o->iters, kernel);

	/* User side: every write exits to the loop in mmio_phase(). */
	mmio_vm_phase(&m, warm, NULL);
	mmio_vm_phase(&m, o->iters, user);
	TEST_ASSERT(user->exits_per_op >= 1.0,
		    "user side: %.3f exits per write, expected >= 1", user->exits_per_op);

	kvm_vm_free(m.vm);
	return 0;
}

static int row_mmio_exit_limit(const char *name, const struct bench_opts *o)
{
	struct side_result kernel, user;
	int r = mmio_exit_floor(name, o, &kernel, &user);

	if (r)
		return r;
	print_row(name, &kernel, &user);
	return KSFT_PASS;
}

/* ---- rows: interrupt remapping ----------------------------------------------- */

#define IR_WAIT_NS	(10ULL * 1000000000ULL)
#define IR_VEC		0x40
#define IR_INDEX	8		/* the IRTE of msi_remap_{hit,miss} */
#define IR_GSI_PLAIN	1
#define IR_GSI_REMAP	2
#define IR_DEVID	0x0100

static int ir_unsupported(const char *name)
{
	const char *why = viommu_ir_unsupported();

	if (!why)
		return 0;
	fprintf(stderr, "%s: %s\n", name, why);
	return KSFT_SKIP;
}

static uint64_t ir_ops(const struct bench_opts *o, uint64_t div)
{
	return o->iters / div ? o->iters / div : 1;
}

static double ns_ratio(const struct side_result *num, const struct side_result *den)
{
	return den->ns_per_op > 0 ? num->ns_per_op / den->ns_per_op : 0.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of @n > 0 values, which it sorts. */
static double median(double *v, uint64_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* "bench NAME A=<ns> B=<ns> ratio=R exits_per_op=<side under test>" */
static void print_pair(const char *name, const char *a_key, const struct side_result *a,
		       const char *b_key, const struct side_result *b, double ratio,
		       const struct side_result *tested)
{
	printf("bench %s %s=%.0f %s=%.0f ratio=%.2f exits_per_op=%.3f\n", name,
	       a_key, a->ns_per_op, b_key, b->ns_per_op, ratio, tested->exits_per_op);
	fflush(stdout);
}

/*
 * What the IR cache counted between @s0 and @s1 for @n interrupts: a read
 * of the IRTE for each if @cold, else none; never a fault.
 */
static void ir_assert_stats(const char *name, const struct viommu_stats *s0,
			    const struct viommu_stats *s1, uint64_t n, bool cold)
{
	uint64_t hits = s1->hits - s0->hits, misses = s1->misses - s0->misses;

	TEST_ASSERT((cold ? misses == n : !misses && hits >= n) && !s1->faults,
		    "%s: %llu hits, %llu misses, %llu faults for %llu %s interrupts",
		    name, (unsigned long long)hits, (unsigned long long)misses,
		    (unsigned long long)s1->faults, (unsigned long long)n,
		    cold ? "cold" : "warm");
}

/* Waits until @vector has arrived @want times on @vcpu. */
static void ir_wait_count(struct viommu_guest *g, int vcpu, int vector, uint32_t want,
			  bool yield)
{
	uint64_t deadline = now_ns() + IR_WAIT_NS;

	while (viommu_guest_count(g, vcpu, vector) < want) {
		if (now_ns() > deadline) {
			fprintf(stderr, "vector 0x%x on vCPU %d: %u interrupts, expected %u\n",
				vector, vcpu, viommu_guest_count(g, vcpu, vector), want);
			viommu_guest_check_corruption(g);
			TEST_FAIL("vector 0x%x not delivered to vCPU %d", vector, vcpu);
		}
		if (yield)
			sched_yield();
	}
}

/*
 * @n round trips through the irqfd of @gsi to vCPU 0: write the eventfd,
 * wait until the guest has counted @vector once more.  Only the round trips
 * are timed; @iec_index >= 0 invalidates that IRTE before each, unclocked.
 */
static void ir_round_trips(struct viommu_guest *g, uint32_t gsi, int vector, uint64_t n,
			   int iec_index, struct side_result *res)
{
	uint32_t want = viommu_guest_count(g, 0, vector);
	uint64_t exits = viommu_guest_exits(g), ns = 0, t0, i;

	for (i = 0; i < n; i++) {
		if (iec_index >= 0)
			viommu_iec_index(g->dev, iec_index, 0);
		t0 = now_ns();
		viommu_irqfd_fire(g, gsi);
		ir_wait_count(g, 0, vector, ++want, false);
		ns += now_ns() - t0;
	}
	if (res) {
		res->ns_per_op = (double)ns / n;
		res->exits_per_op = (double)(viommu_guest_exits(g) - exits) / n;
	}
}

/*
 * One vCPU (x2APIC, spinning with interrupts enabled: no wake-up from HLT in
 * the round trip), a 256-entry table with IRTE
 * IR_INDEX -> vector IR_VEC on vCPU 0, and two irqfd routes to the same
 * vector: IR_GSI_PLAIN compatibility format, IR_GSI_REMAP remappable.
 */
static struct viommu_guest *ir_hit_miss_guest(void)
{
	struct viommu_guest *g = viommu_guest_create(1, VIOMMU_GUEST_X2APIC | VIOMMU_GUEST_SPIN,
						     true);
	struct viommu_msi plain = viommu_msi_compat(0, false, IR_VEC, VIOMMU_DLM_FIXED);
	struct viommu_msi remap = viommu_msi_devid(viommu_msi_remappable(IR_INDEX, false, 0),
						   IR_DEVID);

	viommu_guest_start(g);
	viommu_set_irta(g->dev, VIOMMU_IRT_GPA | KVM_VIOMMU_IRTA_EIME | 7);
	viommu_guest_write_irte(g, 0, IR_INDEX,
				viommu_irte_lo(IR_VEC, 0, true, VIOMMU_DLM_FIXED, 0),
				viommu_irte_hi(IR_DEVID, 0, VIOMMU_SVT_SID));
	viommu_route_msi(g, IR_GSI_PLAIN, &plain);
	viommu_route_msi(g, IR_GSI_REMAP, &remap);
	viommu_commit_routes(g);
	return g;
}

static int row_msi_remap_hit(const char *name, const struct bench_opts *o)
{
	uint64_t n = ir_ops(o, 4), warm = n / 10 ? n / 10 : 1;
	struct side_result remap, plain;
	struct viommu_stats s0, s1;
	struct viommu_guest *g;
	int r = ir_unsupported(name);

	if (r)
		return r;
	g = ir_hit_miss_guest();

	/* Plain: interrupt remapping off, stock KVM. */
	ir_round_trips(g, IR_GSI_PLAIN, IR_VEC, warm, -1, NULL);
	ir_round_trips(g, IR_GSI_PLAIN, IR_VEC, n, -1, &plain);

	/* Remapped: the first MSI reads the IRTE, the rest hit. */
	viommu_set_ir_status(g->dev, KVM_VIOMMU_IR_ENABLE);
	ir_round_trips(g, IR_GSI_REMAP, IR_VEC, warm, -1, NULL);
	viommu_get_stats(g->dev, &s0);
	ir_round_trips(g, IR_GSI_REMAP, IR_VEC, n, -1, &remap);
	viommu_get_stats(g->dev, &s1);
	ir_assert_stats(name, &s0, &s1, n, false);

	viommu_guest_destroy(g);
	print_pair(name, "remap_ns", &remap, "plain_ns", &plain, ns_ratio(&remap, &plain), &remap);
	return KSFT_PASS;
}

static int row_msi_remap_miss(const char *name, const struct bench_opts *o)
{
	uint64_t n = ir_ops(o, 4), warm = n / 10 ? n / 10 : 1;
	struct side_result cold, hot;
	struct viommu_stats s0, s1;
	struct viommu_guest *g;
	int r = ir_unsupported(name);

	if (r)
		return r;
	g = ir_hit_miss_guest();
	viommu_set_ir_status(g->dev, KVM_VIOMMU_IR_ENABLE);

	/* Warm: every MSI after the first hits the cache. */
	ir_round_trips(g, IR_GSI_REMAP, IR_VEC, warm, -1, NULL);
	ir_round_trips(g, IR_GSI_REMAP, IR_VEC, n, -1, &hot);

	/* Cold: an IEC before each MSI, so that each one misses. */
	ir_round_trips(g, IR_GSI_REMAP, IR_VEC, warm, IR_INDEX, NULL);
	viommu_get_stats(g->dev, &s0);
	ir_round_trips(g, IR_GSI_REMAP, IR_VEC, n, IR_INDEX, &cold);
	viommu_get_stats(g->dev, &s1);
	ir_assert_stats(name, &s0, &s1, n, true);

	viommu_guest_destroy(g);
	print_pair(name, "cold_ns", &cold, "warm_ns", &hot, ns_ratio(&cold, &hot), &cold);
	return KSFT_PASS;
}

#define NB_VMS		16
#define NB_SLICES	4

/* A VM that only holds a VT-d IOMMU with interrupt remapping on. */
static struct kvm_vm *nb_neighbour(int *dev)
{
	struct kvm_vm *vm = vm_create_barebones();

	vm_create_irqchip(vm);
	*dev = viommu_create_or_die(vm);
	viommu_set_irta(*dev, VIOMMU_IRT_GPA | KVM_VIOMMU_IRTA_EIME | 7);
	viommu_set_ir_status(*dev, KVM_VIOMMU_IR_ENABLE);
	return vm;
}

/* One slice of @n round trips, with or without the neighbours. */
static void nb_slice(struct viommu_guest *g, bool neighbours, uint64_t n,
		     struct side_result *sum)
{
	struct kvm_vm *vms[NB_VMS];
	struct side_result res;
	int devs[NB_VMS], i;

	for (i = 0; neighbours && i < NB_VMS; i++)
		vms[i] = nb_neighbour(&devs[i]);
	/* Unclocked: lets the last slice's VM teardown finish first. */
	ir_round_trips(g, IR_GSI_PLAIN, IR_VEC, n / 2, -1, NULL);
	ir_round_trips(g, IR_GSI_PLAIN, IR_VEC, n, -1, &res);
	for (i = 0; neighbours && i < NB_VMS; i++) {
		close(devs[i]);
		kvm_vm_free(vms[i]);
	}
	sum->ns_per_op += res.ns_per_op / NB_SLICES;
	sum->exits_per_op += res.exits_per_op / NB_SLICES;
}

static int row_msi_plain_ir_neighbours(const char *name, const struct bench_opts *o)
{
	struct viommu_msi plain = viommu_msi_compat(0, false, IR_VEC, VIOMMU_DLM_FIXED);
	uint64_t n = ir_ops(o, 4 * NB_SLICES), warm = n / 10 ? n / 10 : 1;
	struct side_result alone = {}, neighbours = {};
	struct viommu_guest *g;
	int r = ir_unsupported(name), i;

	if (r)
		return r;
	g = viommu_guest_create(1, VIOMMU_GUEST_X2APIC | VIOMMU_GUEST_SPIN, false);
	viommu_guest_start(g);
	viommu_route_msi(g, IR_GSI_PLAIN, &plain);
	viommu_commit_routes(g);

	ir_round_trips(g, IR_GSI_PLAIN, IR_VEC, warm, -1, NULL);
	for (i = 0; i < NB_SLICES; i++) {
		nb_slice(g, false, n, &alone);
		nb_slice(g, true, n, &neighbours);
	}

	viommu_guest_destroy(g);
	print_pair(name, "neighbours_ns", &neighbours, "alone_ns", &alone,
		   ns_ratio(&neighbours, &alone), &neighbours);
	return KSFT_PASS;
}

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

static void rt_routes(struct retarget *rt, bool remap)
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

static void rt_write_irte(struct retarget *rt, int j)
{
	viommu_guest_write_irte(rt->g, 0, RT_INDEX(j),
				viommu_irte_lo(RT_VEC(j), rt->dest[j], true,
					       VIOMMU_DLM_FIXED, 0), 0);
}

/* Fires MSI @j and waits until its current vCPU has it. */
static void rt_verify(struct retarget *rt, int j)
{
	int v = rt->dest[j];

	viommu_irqfd_fire(rt->g, RT_GSI(j));
	ir_wait_count(rt->g, v, RT_VEC(j), ++rt->exp[v][j], true);
}

static void rt_retarget(struct retarget *rt, bool kernel, int j)
{
	struct viommu_msi m;

	if (kernel) {
		rt_write_irte(rt, j);
		viommu_iec_index(rt->g->dev, RT_INDEX(j), 0);
	} else {
		m = viommu_msi_compat(rt->dest[j], false, RT_VEC(j), VIOMMU_DLM_FIXED);
		viommu_route_msi(rt->g, RT_GSI(j), &m);
		viommu_commit_routes(rt->g);
	}
}

/*
 * @n retargets one way or the other, in rounds that move each MSI once.
 * Only a round's retargets are timed; its deliveries are checked after it,
 * so that waiting for them (and the vCPU threads they wake) stays off the
 * clock.
 */
static void rt_phase(struct retarget *rt, bool kernel, uint64_t n, struct side_result *res)
{
	uint64_t exits = viommu_guest_exits(rt->g), t0, done, rounds = 0;
	double *round_ns = calloc(n / RT_MSIS + 1, sizeof(*round_ns));
	int j, round;

	TEST_ASSERT(round_ns, "%llu per-round times", (unsigned long long)n);
	for (done = 0; done < n; done += round) {
		round = n - done < RT_MSIS ? n - done : RT_MSIS;
		t0 = now_ns();
		for (j = 0; j < round; j++) {
			rt->dest[j] = (rt->dest[j] + 1) % RT_VCPUS;
			rt_retarget(rt, kernel, j);
		}
		round_ns[rounds++] = (double)(now_ns() - t0) / round;
		for (j = 0; j < round; j++)
			rt_verify(rt, j);
	}
	if (res) {
		res->ns_per_op = median(round_ns, rounds);
		res->exits_per_op = (double)(viommu_guest_exits(rt->g) - exits) / n;
	}
	free(round_ns);
}

/*
 * The cheapest device ioctl, KVM_HAS_DEVICE_ATTR: the floor under the
 * kernel's retarget, which is one ioctl too.
 */
static double rt_ioctl_floor_ns(int dev, uint64_t n)
{
	uint64_t t0 = now_ns(), i;

	for (i = 0; i < n; i++)
		kvm_has_device_attr(dev, KVM_DEV_VIOMMU_GRP_CTRL,
				    KVM_DEV_VIOMMU_CTRL_INFO);
	return (double)(now_ns() - t0) / n;
}

static int row_irte_retarget(const char *name, const struct bench_opts *o)
{
	uint64_t n = ir_ops(o, 100), warm = n / 10 ? n / 10 : 1;
	struct side_result kernel, qemu;
	struct retarget rt = { 0 };
	struct viommu_stats s0, s1;
	int r = ir_unsupported(name), j;
	double floor_ns;

	if (r)
		return r;
	/* Full irqchip, so that the IOAPIC routes are real; vCPUs spin. */
	rt.g = viommu_guest_create(RT_VCPUS, VIOMMU_GUEST_X2APIC | VIOMMU_GUEST_SPIN, true);
	viommu_guest_start(rt.g);
	for (j = 0; j < RT_MSIS; j++)
		rt.dest[j] = j % RT_VCPUS;

	/* Kernel: remappable routes, set once; the IRTEs move. */
	viommu_set_irta(rt.g->dev, VIOMMU_IRT_GPA | KVM_VIOMMU_IRTA_EIME | 7);
	for (j = 0; j < RT_MSIS; j++)
		rt_write_irte(&rt, j);
	viommu_set_ir_status(rt.g->dev, KVM_VIOMMU_IR_ENABLE);
	rt_routes(&rt, true);
	for (j = 0; j < RT_MSIS; j++)
		rt_verify(&rt, j);
	rt_phase(&rt, true, warm, NULL);
	viommu_get_stats(rt.g->dev, &s0);
	rt_phase(&rt, true, n, &kernel);
	viommu_get_stats(rt.g->dev, &s1);
	TEST_ASSERT(s1.invalidations - s0.invalidations == n && s1.faults == 0,
		    "%s: %llu invalidations, %llu faults for %llu retargets", name,
		    (unsigned long long)(s1.invalidations - s0.invalidations),
		    (unsigned long long)s1.faults, (unsigned long long)n);

	/* QEMU: remapping in userspace, translated routes rewritten. */
	viommu_set_ir_status(rt.g->dev, 0);
	rt_routes(&rt, false);
	for (j = 0; j < RT_MSIS; j++)
		rt_verify(&rt, j);
	rt_phase(&rt, false, warm, NULL);
	rt_phase(&rt, false, n, &qemu);
	floor_ns = rt_ioctl_floor_ns(rt.g->dev, n);

	viommu_guest_destroy(rt.g);
	printf("bench %s kernel_ns=%.0f qemu_ns=%.0f ratio=%.2f exits_per_op=%.3f ",
	       name, kernel.ns_per_op, qemu.ns_per_op, ns_ratio(&qemu, &kernel),
	       kernel.exits_per_op);
	printf("ioctl_floor_ns=%.0f\n", floor_ns);
	fflush(stdout);
	return KSFT_PASS;
}

/* ---- rows: qi_iec_wait, qi_iotlb_wait ------------------------------------------ */

#define QB_IRTA		(VTD_IRT_GPA | KVM_VIOMMU_IRTA_EIME | 7)	/* 256 entries */
#define QB_DID		1

enum { QB_IEC, QB_IOTLB };

/* Written by the host before each phase (sync_global_to_guest). */
static uint64_t qb_iters;
static uint64_t qb_kind;
static struct vtd_iommu qb_iommu;

/* The IRTE of MSI @j after operation @i: it moves to the next vCPU. */
static uint64_t qb_irte_lo(uint64_t i, int j)
{
	return viommu_irte_lo(RT_VEC(j), (i / RT_MSIS + 1) % RT_VCPUS, true,
			      VIOMMU_DLM_FIXED, 0);
}

/*
 * Linux's bring-up, then per phase qb_iters operations: retarget an MSI
 * (modify_irte(): the IRTE, an index IEC and its wait) or unmap a page
 * (qi_flush_iotlb() page-selective and its wait), polling the status dword.
 */
static void qb_guest(uint64_t idx)
{
	struct viommu_irte *irt = (struct viommu_irte *)VTD_IRT_GPA;
	uint64_t phase, i;
	int j, rc;

	vtd_iommu_init(&qb_iommu, VTD_BASE);
	vtd_enable_qi(&qb_iommu, VTD_QUEUE_GPA, 0, false, VTD_STATUS_GPA);
	rc = vtd_set_irq_remapping(&qb_iommu, QB_IRTA);
	GUEST_ASSERT_1(!rc, rc);
	vtd_enable_irq_remapping(&qb_iommu);
	for (phase = 0;; phase++) {
		GUEST_SYNC(phase);
		for (i = 0; i < qb_iters; i++) {
			j = i % RT_MSIS;
			if (qb_kind == QB_IEC)
				rc = vtd_modify_irte(&qb_iommu, &irt[RT_INDEX(j)], RT_INDEX(j),
						     qb_irte_lo(i, j), 0);
			else
				rc = vtd_qi_flush_iotlb(&qb_iommu, QB_DID, (i % 512) << 12, 0,
							VTD_G_PAGE);
			GUEST_ASSERT_2(!rc, rc, i);
		}
	}
}

#define QB_IOTLB_ENTRIES	256

/*
 * The register page and queue as QEMU's intel-iommu emulates them, in this
 * program, one KVM_EXIT_MMIO at a time.
 */
struct qb_emu {
	struct retarget rt;
	uint32_t gsts, fsts, ics;
	uint64_t iqa, iqh, iqt, irta, irta_active;
	struct { uint16_t did; uint64_t addr; bool valid; } iotlb[QB_IOTLB_ENTRIES];
	uint64_t iecs, iotlb_invs, waits;
};

/* QEMU's vtd_iec_notify_all() under KVM: every MSI route re-translated. */
static void qb_emu_iec(struct vtd_vm *v, struct qb_emu *e)
{
	struct viommu_irte *irt = addr_gpa2hva(v->vm, e->irta_active & ~0xfffULL);
	int j;

	for (j = 0; j < RT_MSIS; j++)
		e->rt.dest[j] = irt[RT_INDEX(j)].lo >> VIOMMU_IRTE_DST_SHIFT;
	rt_routes(&e->rt, false);
	e->iecs++;
}

/* vtd_iotlb_page_invalidate(): drop the matching entries of the IOTLB. */
static void qb_emu_iotlb(struct qb_emu *e, const uint64_t *d)
{
	uint16_t did = d[0] >> 16;
	uint64_t addr = d[1] & ~0xfffULL, size = 4096ULL << (d[1] & 0x3f);
	int i;

	for (i = 0; i < QB_IOTLB_ENTRIES; i++)
		if (e->iotlb[i].valid && e->iotlb[i].did == did &&
		    e->iotlb[i].addr - addr < size)
			e->iotlb[i].valid = false;
	e->iotlb_invs++;
}

static void qb_emu_queue(struct vtd_vm *v, struct qb_emu *e)
{
	uint32_t len = 1U << (8 + (e->iqa & DMA_IQA_QS_MASK));
	uint64_t *d, status;

	while (e->iqh != e->iqt) {
		d = addr_gpa2hva(v->vm, (e->iqa & ~0xfffULL) + e->iqh);
		switch (d[0] & 0xf) {
		case QI_IEC_TYPE:
			qb_emu_iec(v, e);
			break;
		case QI_IOTLB_TYPE:
			qb_emu_iotlb(e, d);
			break;
		case QI_IWD_TYPE:
			if (d[0] & QI_IWD_SW) {
				status = d[0] >> 32;
				memcpy(addr_gpa2hva(v->vm, d[1]), &status, 4);
			}
			if (d[0] & QI_IWD_IF)
				e->ics |= DMA_ICS_IWC;
			e->waits++;
			break;
		default:
			e->fsts |= DMA_FSTS_IQE;
			return;
		}
		e->iqh = (e->iqh + 16) % (len * 16);
	}
}

static uint32_t qb_emu_read(struct vtd_vm *v, struct qb_emu *e, uint32_t off)
{
	switch (off) {
	case DMAR_VER_REG:
		return DMAR_VER_1_0;
	case DMAR_CAP_REG:
	case DMAR_CAP_REG + 4:
		return (VTD_DEFAULT_CAP | VTD_CAP_LAYOUT) >> (off - DMAR_CAP_REG) * 8;
	case DMAR_ECAP_REG:
	case DMAR_ECAP_REG + 4:
		return (VTD_DEFAULT_ECAP | VTD_ECAP_LAYOUT) >> (off - DMAR_ECAP_REG) * 8;
	case DMAR_GSTS_REG:
		return e->gsts;
	case DMAR_FSTS_REG:
		return e->fsts;
	case DMAR_IQH_REG:
		return e->iqh;
	case DMAR_IQT_REG:
		return e->iqt;
	case DMAR_ICS_REG:
		return e->ics;
	}
	return 0;
}

static void qb_emu_gcmd(struct qb_emu *e, uint32_t cmd)
{
	static const uint32_t persistent = DMA_GCMD_TE | DMA_GCMD_QIE | DMA_GCMD_IRE |
					   DMA_GCMD_CFI;

	if ((cmd & DMA_GCMD_QIE) && !(e->gsts & DMA_GSTS_QIES))
		e->iqh = 0;
	e->gsts = (e->gsts & ~persistent) | (cmd & persistent);
	if (cmd & DMA_GCMD_SIRTP) {
		e->irta_active = e->irta;
		e->gsts |= DMA_GSTS_IRTPS;
	}
	if (cmd & DMA_GCMD_SRTP)
		e->gsts |= DMA_GSTS_RTPS;
}

/* The low (@byte 0) or high (4) dword of a 64-bit register. */
static void qb_set_dword(uint64_t *reg, uint32_t byte, uint32_t val)
{
	uint32_t shift = byte * 8;

	*reg = (*reg & ~(0xffffffffULL << shift)) | (uint64_t)val << shift;
}

static void qb_emu_write(struct vtd_vm *v, struct qb_emu *e, uint32_t off, uint32_t val)
{
	switch (off) {
	case DMAR_GCMD_REG:
		qb_emu_gcmd(e, val);
		break;
	case DMAR_FSTS_REG:
		e->fsts &= ~val;
		break;
	case DMAR_IQT_REG:
		e->iqt = val & 0x7fff0;
		if (e->gsts & DMA_GSTS_QIES)
			qb_emu_queue(v, e);
		break;
	case DMAR_IQA_REG:
	case DMAR_IQA_REG + 4:
		qb_set_dword(&e->iqa, off - DMAR_IQA_REG, val);
		break;
	case DMAR_ICS_REG:
		e->ics &= ~val;
		break;
	case DMAR_IRTA_REG:
	case DMAR_IRTA_REG + 4:
		qb_set_dword(&e->irta, off - DMAR_IRTA_REG, val);
		break;
	}
}

/* A 4- or 8-byte access, the latter as two dwords, low first. */
static void qb_emu_mmio(struct vtd_vm *v, struct kvm_run *run)
{
	struct qb_emu *e = v->priv;
	uint32_t off = run->mmio.phys_addr - VTD_BASE, val[2] = { 0, 0 };
	uint32_t i, n = run->mmio.len / 4;

	TEST_ASSERT(run->mmio.phys_addr >= VTD_BASE && off < KVM_VIOMMU_REG_SIZE &&
		    (run->mmio.len == 4 || run->mmio.len == 8) && !(off % run->mmio.len),
		    "guest MMIO of %u bytes at 0x%llx", run->mmio.len, run->mmio.phys_addr);
	if (run->mmio.is_write) {
		memcpy(val, run->mmio.data, run->mmio.len);
		for (i = 0; i < n; i++)
			qb_emu_write(v, e, off + 4 * i, val[i]);
	} else {
		for (i = 0; i < n; i++)
			val[i] = qb_emu_read(v, e, off + 4 * i);
		memcpy(run->mmio.data, val, run->mmio.len);
	}
}

/*
 * The guest of one side: the kernel's register page (@kernel: remappable
 * routes, the IRTEs translate), or this program's emulation of it through
 * KVM_EXIT_MMIO (compatibility routes that it rewrites after each IEC).
 * The 32 MSI routes and the 24 I/O APIC ones are irte_retarget's.  Returns
 * with the guest's bring-up done.
 */
static struct vtd_vm *qb_side(bool kernel, int kind, struct qb_emu *e)
{
	struct vtd_vm *v = vtd_vm_create(qb_guest, kernel ? VTD_VM_DEV | VTD_VM_REGS : 0);
	int j;

	qb_kind = kind;
	sync_global_to_guest(v->vm, qb_kind);
	memset(e, 0, sizeof(*e));
	e->rt.g = v->g;
	for (j = 0; j < RT_MSIS; j++)
		viommu_guest_write_irte(v->g, 0, RT_INDEX(j), qb_irte_lo(~0ULL, j), 0);
	if (!kernel) {
		v->mmio = qb_emu_mmio;
		v->priv = e;
		for (j = 0; j < QB_IOTLB_ENTRIES; j++) {
			e->iotlb[j].did = QB_DID;
			e->iotlb[j].addr = (uint64_t)j << 12;
			e->iotlb[j].valid = true;
		}
	}
	rt_routes(&e->rt, kernel);
	TEST_ASSERT(vtd_run(v) == 0, "guest bring-up");
	return v;
}

/* @n operations, from one GUEST_SYNC to the next. */
static void qb_phase(struct vtd_vm *v, uint64_t phase, uint64_t n, struct side_result *res)
{
	uint64_t exits = v->exits, t0;

	qb_iters = n;
	sync_global_to_guest(v->vm, qb_iters);
	t0 = now_ns();
	TEST_ASSERT(vtd_run(v) == phase, "guest not at phase %llu", (unsigned long long)phase);
	if (res) {
		res->ns_per_op = (double)(now_ns() - t0) / n;
		/* Not the closing GUEST_SYNC. */
		res->exits_per_op = (double)(v->exits - exits - 1) / n;
	}
}

#define QB_SLICES	8

/*
 * The kernel side in QB_SLICES slices of @slice operations, each right
 * after as many MMIO writes that an ioeventfd completes in the floor VM
 * @f: the emulated machine's speed drifts within a run, so the overhead
 * is the median of the slices' ratios.  @phase is the guest's next one.
 */
static double qb_kernel_vs_floor(struct vtd_vm *v, uint64_t phase, uint64_t slice,
				 struct mmio_vm *f, struct side_result *kernel,
				 struct side_result *floor)
{
	struct side_result ks, fs;
	double ratio[QB_SLICES];
	int i;

	memset(kernel, 0, sizeof(*kernel));
	memset(floor, 0, sizeof(*floor));
	for (i = 0; i < QB_SLICES; i++) {
		mmio_vm_phase(f, slice, &fs);
		qb_phase(v, phase + i, slice, &ks);
		ratio[i] = fs.ns_per_op > 0 ? ks.ns_per_op / fs.ns_per_op : 0.0;
		kernel->ns_per_op += ks.ns_per_op / QB_SLICES;
		kernel->exits_per_op += ks.exits_per_op / QB_SLICES;
		floor->ns_per_op += fs.ns_per_op / QB_SLICES;
	}
	return median(ratio, QB_SLICES);
}

static int qi_row(const char *name, const struct bench_opts *o, int kind, uint64_t div)
{
	uint64_t slice = ir_ops(o, div * QB_SLICES), n = slice * QB_SLICES;
	uint64_t warm = n / 10 ? n / 10 : 1, count;
	struct side_result floor_k, kernel, user;
	struct viommu_stats s0, s1;
	const char *why = vtd_regs_unsupported();
	struct mmio_vm floor_vm;
	double overhead;
	struct qb_emu *e;
	uint64_t done;
	struct vtd_vm *v;
	char extra[96];
	int r, j, efd;

	if (why) {
		fprintf(stderr, "%s: %s\n", name, why);
		return KSFT_SKIP;
	}
	r = mmio_vm_create(name, &floor_vm);
	if (r)
		return r;
	efd = eventfd(0, EFD_NONBLOCK);
	TEST_ASSERT(efd >= 0, "eventfd: %s", strerror(errno));
	mmio_ioeventfd(floor_vm.vm, efd, true);
	mmio_vm_phase(&floor_vm, warm, NULL);
	e = calloc(1, sizeof(*e));
	TEST_ASSERT(e, "out of memory");

	/* Kernel: the guest's descriptors complete in KVM. */
	v = qb_side(true, kind, e);
	qb_phase(v, 1, warm, NULL);
	viommu_get_stats(v->dev, &s0);
	overhead = qb_kernel_vs_floor(v, 2, slice, &floor_vm, &kernel, &floor_k);
	viommu_get_stats(v->dev, &s1);
	TEST_ASSERT(read(efd, &count, sizeof(count)) == sizeof(count) &&
		    count == warm + n, "floor: the ioeventfd completed %llu of %llu writes",
		    (unsigned long long)count, (unsigned long long)(warm + n));
	close(efd);
	kvm_vm_free(floor_vm.vm);
	done = s1.invalidations - s0.invalidations;
	TEST_ASSERT(done == (kind == QB_IEC ? n : 0) && !s1.faults,
		    "%s: %llu IECs and %llu faults in the kernel for %llu operations", name,
		    (unsigned long long)done, (unsigned long long)s1.faults,
		    (unsigned long long)n);
	vtd_vm_destroy(v);

	/* User: every register access an exit, QEMU's work per descriptor. */
	v = qb_side(false, kind, e);
	qb_phase(v, 1, warm, NULL);
	done = kind == QB_IEC ? e->iecs : e->iotlb_invs;
	qb_phase(v, 2, n, &user);
	done = (kind == QB_IEC ? e->iecs : e->iotlb_invs) - done;
	TEST_ASSERT(done == n && !e->fsts, "%s: the emulation did %llu of %llu, FSTS 0x%x",
		    name, (unsigned long long)done, (unsigned long long)n, e->fsts);
	/* The routes follow the IRTEs as the phase's last operations left them. */
	for (j = 0; kind == QB_IEC && j < RT_MSIS && j < (int)n; j++)
		TEST_ASSERT(e->rt.dest[j] == (int)(((n - 1 - j) / RT_MSIS + 1) % RT_VCPUS),
			    "%s: MSI %d routed to vCPU %d", name, j, e->rt.dest[j]);
	vtd_vm_destroy(v);
	free(e);

	snprintf(extra, sizeof(extra), "overhead=%.2f floor_ns=%.0f ", overhead,
		 floor_k.ns_per_op);
	print_row_extra(name, &kernel, &user, extra);
	return KSFT_PASS;
}

static int row_qi_iec_wait(const char *name, const struct bench_opts *o)
{
	return qi_row(name, o, QB_IEC, 20);
}

static int row_qi_iotlb_wait(const char *name, const struct bench_opts *o)
{
	return qi_row(name, o, QB_IOTLB, 10);
}

/* ---- rows: ioapic_remap, ioapic_remap_split ------------------------------------ */

#define IOAPIC_PIN		18	/* not shared with the PIC */
#define IOAPIC_IDX		9
#define IOAPIC_VEC		0x60
#define IOAPIC_SID		0xff00
#define RTE_LEVEL		BIT_ULL(15)
#define RTE_REMAPPABLE		BIT_ULL(48)
/* Level, remappable, IRTE IOAPIC_IDX; the vector matches the IRTE's. */
#define IOAPIC_REMAP_RTE	(RTE_LEVEL | RTE_REMAPPABLE | IOAPIC_VEC | \
				 ((uint64_t)IOAPIC_IDX << 49))

static void ioapic_set_rte(struct kvm_vm *vm, int pin, uint64_t rte)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

	vm_ioctl(vm, KVM_GET_IRQCHIP, &chip);
	chip.chip.ioapic.redirtbl[pin].bits = rte;
	vm_ioctl(vm, KVM_SET_IRQCHIP, &chip);
}

/* A 1-vCPU spinning guest with the IRTE, the device and the I/O APIC's SID. */
static struct viommu_guest *ioapic_guest(unsigned int flags)
{
	struct viommu_guest *g = viommu_guest_create(1, VIOMMU_GUEST_X2APIC |
						     VIOMMU_GUEST_SPIN | flags, true);
	struct kvm_viommu_ir_ioapic ioapic = {
		.flags = KVM_VIOMMU_IOAPIC_SID_VALID,
		.sid = IOAPIC_SID,
	};

	viommu_set_irta(g->dev, VIOMMU_IRT_GPA | KVM_VIOMMU_IRTA_EIME | 7);
	kvm_device_attr_set(g->dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_IOAPIC, &ioapic);
	viommu_guest_write_irte(g, 0, IOAPIC_IDX,
				viommu_irte_lo(IOAPIC_VEC, 0, true, VIOMMU_DLM_FIXED,
					       VIOMMU_IRTE_TM_LEVEL),
				viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID));
	viommu_guest_start(g);
	return g;
}

static bool ioapic_remote_irr(struct kvm_vm *vm, int pin)
{
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };

	vm_ioctl(vm, KVM_GET_IRQCHIP, &chip);
	return chip.chip.ioapic.redirtbl[pin].fields.remote_irr;
}

/* Waits until the pin is idle: every interrupt taken and EOIed. */
static void ioapic_drain(struct viommu_guest *g)
{
	uint64_t deadline = now_ns() + IR_WAIT_NS;

	while (ioapic_remote_irr(g->vm, IOAPIC_PIN))
		TEST_ASSERT(now_ns() < deadline, "pin %d: Remote IRR stays set", IOAPIC_PIN);
	usleep(10000);
}

/*
 * @n level interrupts of the in-kernel I/O APIC: raise the line, wait for
 * the guest's handler, lower the line.  The handler's EOI clears Remote IRR
 * in KVM, and a raise before it waits for it there, so the EOI is on the
 * clock too.  An EOI before the line is lowered brings the interrupt once
 * more, as on hardware; each operation therefore waits for one interrupt
 * more than it has seen.  The pin is drained, off the clock, at the end.
 */
static void ioapic_round_trips(struct viommu_guest *g, uint64_t n, struct side_result *res)
{
	uint64_t exits = viommu_guest_exits(g), ns = 0, t0, i;
	uint32_t want;

	for (i = 0; i < n; i++) {
		want = viommu_guest_count(g, 0, IOAPIC_VEC) + 1;
		t0 = now_ns();
		kvm_irq_line(g->vm, IOAPIC_PIN, 1);
		ir_wait_count(g, 0, IOAPIC_VEC, want, false);
		kvm_irq_line(g->vm, IOAPIC_PIN, 0);
		ns += now_ns() - t0;
	}
	ioapic_drain(g);
	if (res) {
		res->ns_per_op = (double)ns / n;
		res->exits_per_op = (double)(viommu_guest_exits(g) - exits) / n;
	}
}

static void ioapic_measure(struct viommu_guest *g, uint64_t n, struct side_result *res)
{
	ioapic_round_trips(g, n / 10 ? n / 10 : 1, NULL);
	ioapic_round_trips(g, n, res);
}

static int row_ioapic_remap(const char *name, const struct bench_opts *o)
{
	uint64_t n = ir_ops(o, 4) < 9000 ? ir_ops(o, 4) : 9000;
	uint64_t plain_rte = RTE_LEVEL | IOAPIC_VEC;	/* physical, APIC ID 0 */
	struct side_result remap, plain;
	struct viommu_stats s0, s1;
	struct viommu_guest *g;
	int r = ir_unsupported(name);

	if (r)
		return r;
	g = ioapic_guest(0);

	ioapic_set_rte(g->vm, IOAPIC_PIN, plain_rte);
	ioapic_measure(g, n, &plain);

	viommu_set_ir_status(g->dev, KVM_VIOMMU_IR_ENABLE);
	ioapic_set_rte(g->vm, IOAPIC_PIN, IOAPIC_REMAP_RTE);
	ioapic_round_trips(g, n / 10 ? n / 10 : 1, NULL);
	viommu_get_stats(g->dev, &s0);
	ioapic_round_trips(g, n, &remap);
	viommu_get_stats(g->dev, &s1);
	ir_assert_stats(name, &s0, &s1, n, false);

	viommu_guest_destroy(g);
	print_pair(name, "remap_ns", &remap, "plain_ns", &plain, ns_ratio(&remap, &plain), &remap);
	return KSFT_PASS;
}

#define SPLIT_GSI_PLAIN	10
#define SPLIT_GSI_REMAP	11

/*
 * @n level interrupts from the test's I/O APIC: raise the line, wait for
 * the guest's EOI to exit to userspace, lower the line.
 */
static void split_round_trips(struct viommu_guest *g, uint32_t gsi, uint64_t n,
			      struct side_result *res)
{
	uint32_t want = viommu_guest_ioapic_eois(g, 0, IOAPIC_VEC);
	uint64_t exits = viommu_guest_exits(g), ns = 0, deadline, t0, i;

	for (i = 0; i < n; i++) {
		t0 = now_ns();
		deadline = t0 + IR_WAIT_NS;
		kvm_irq_line(g->vm, gsi, 1);
		while (viommu_guest_ioapic_eois(g, 0, IOAPIC_VEC) < want + 1)
			TEST_ASSERT(now_ns() < deadline, "GSI %u: no EOI exit", gsi);
		want++;
		kvm_irq_line(g->vm, gsi, 0);
		ns += now_ns() - t0;
	}
	if (res) {
		res->ns_per_op = (double)ns / n;
		res->exits_per_op = (double)(viommu_guest_exits(g) - exits) / n;
	}
}

static int row_ioapic_remap_split(const char *name, const struct bench_opts *o)
{
	uint64_t n = ir_ops(o, 20), warm = n / 10 ? n / 10 : 1;
	struct viommu_msi plain = viommu_msi_compat(0, false, IOAPIC_VEC, VIOMMU_DLM_FIXED);
	struct viommu_msi remap = viommu_msi_devid(viommu_msi_remappable(IOAPIC_IDX, false, 0),
						   IOAPIC_SID);
	struct side_result r_remap, r_plain, full;
	struct viommu_guest *g;
	int r = ir_unsupported(name);

	if (r)
		return r;
	if (!kvm_has_cap(KVM_CAP_SPLIT_IRQCHIP)) {
		fprintf(stderr, "%s: KVM_CAP_SPLIT_IRQCHIP not available\n", name);
		return KSFT_SKIP;
	}

	/* The full irqchip's figure, in this same run. */
	g = ioapic_guest(0);
	ioapic_set_rte(g->vm, IOAPIC_PIN, IOAPIC_REMAP_RTE);
	viommu_set_ir_status(g->dev, KVM_VIOMMU_IR_ENABLE);
	ioapic_measure(g, ir_ops(o, 4) < 9000 ? ir_ops(o, 4) : 9000, &full);
	viommu_guest_destroy(g);

	g = ioapic_guest(VIOMMU_GUEST_SPLIT_IRQCHIP);
	plain.data |= 1U << 15;		/* level */
	viommu_route_msi(g, SPLIT_GSI_PLAIN, &plain);
	viommu_route_msi(g, SPLIT_GSI_REMAP, &remap);
	viommu_commit_routes(g);

	split_round_trips(g, SPLIT_GSI_PLAIN, warm, NULL);
	split_round_trips(g, SPLIT_GSI_PLAIN, n, &r_plain);
	viommu_set_ir_status(g->dev, KVM_VIOMMU_IR_ENABLE);
	split_round_trips(g, SPLIT_GSI_REMAP, warm, NULL);
	split_round_trips(g, SPLIT_GSI_REMAP, n, &r_remap);
	viommu_guest_destroy(g);

	printf("bench %s remap_ns=%.0f plain_ns=%.0f ratio=%.2f exits_per_op=%.3f ",
	       name, r_remap.ns_per_op, r_plain.ns_per_op, ns_ratio(&r_remap, &r_plain),
	       r_remap.exits_per_op);
	printf("full_ratio=%.2f\n", ns_ratio(&r_remap, &full));
	fflush(stdout);
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
	{ "msi_remap_hit", row_msi_remap_hit,
	  "irqfd MSI remapped from a warm cache vs. not remapped" },
	{ "msi_remap_miss", row_msi_remap_miss,
	  "irqfd MSI remapped with a cold vs. a warm cache entry" },
	{ "msi_plain_ir_neighbours", row_msi_plain_ir_neighbours,
	  "irqfd MSI of a VM without the device: 16 VMs remapping vs. none" },
	{ "irte_retarget", row_irte_retarget,
	  "retarget an MSI: IRTE + IEC vs. KVM_SET_GSI_ROUTING (ratio qemu/kernel)" },
	{ "ioapic_remap", row_ioapic_remap,
	  "level I/O APIC pin, delivery + EOI in KVM: remapped vs. not remapped" },
	{ "ioapic_remap_split", row_ioapic_remap_split,
	  "the same through a split irqchip's userspace I/O APIC" },
	{ "qi_iec_wait", row_qi_iec_wait,
	  "guest IRTE + IEC + wait: kernel register page vs. emulated via MMIO exits" },
	{ "qi_iotlb_wait", row_qi_iotlb_wait,
	  "guest page-selective IOTLB + wait: kernel register page vs. emulated" },
};

/* A row in a child of its own: 0, KSFT_SKIP or a failure status. */
static int fork_row(int i, const struct bench_opts *o)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork: %s", strerror(errno));
	if (!pid)
		exit(rows[i].fn(rows[i].name, o));
	TEST_ASSERT(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "%s: killed by signal %d\n", rows[i].name, WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

/*
 * Once more when the emulator under the test host corrupted a guest (see
 * viommu.h): such a run measured nothing.
 */
static int run_row(int i, const struct bench_opts *o)
{
	int r = fork_row(i, o);

	if (r == VIOMMU_EXIT_NESTED_CORRUPTION) {
		fprintf(stderr, "%s: guest state corrupted by the nested emulation, again\n",
			rows[i].name);
		r = fork_row(i, o);
	}
	return r;
}

static void __noreturn print_usage(const char *prog, int status)
{
	int i;

	fprintf(status ? stderr : stdout,
		"usage: %s [-n N] [-l] [ROW...]\n"
		"  -n N  operations per side (default %d; msi_remap_*: N/4, irte_retarget and\n"
		"        qi_iec_wait: N/20, qi_iotlb_wait: N/10)\n"
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
		r = run_row(i, &o);
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
