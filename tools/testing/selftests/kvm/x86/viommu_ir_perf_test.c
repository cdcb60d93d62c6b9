// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_ir_perf_test: what interrupt remapping in KVM costs an interrupt,
 * and what it saves the VMM, one row at a time (include/viommu_perf.h).
 *
 *   viommu_ir_perf_test [-n N] [-l] [ROW...]
 *
 * Rows:
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
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "kselftest.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_perf.h"

/* ---- rows: msi_remap_hit, msi_remap_miss, msi_plain_ir_neighbours ------------------- */

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
	uint64_t deadline = viommu_now_ns() + IR_WAIT_NS;

	while (viommu_guest_count(g, vcpu, vector) < want) {
		if (viommu_now_ns() > deadline) {
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
			   int iec_index, struct perf_side *res)
{
	uint32_t want = viommu_guest_count(g, 0, vector);
	uint64_t exits = viommu_guest_exits(g), ns = 0, t0, i;

	for (i = 0; i < n; i++) {
		if (iec_index >= 0)
			viommu_iec_index(g->dev, iec_index, 0);
		t0 = viommu_now_ns();
		viommu_irqfd_fire(g, gsi);
		ir_wait_count(g, 0, vector, ++want, false);
		ns += viommu_now_ns() - t0;
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

/*
 * @warm round trips through IR_GSI_REMAP, then @n timed ones, whose reads
 * of the IRTE the IR cache must have counted: one each with @iec_index
 * >= 0 (see ir_round_trips()), else none.
 */
static void ir_remap_round_trips(const char *name, struct viommu_guest *g, uint64_t warm,
				 uint64_t n, int iec_index, struct perf_side *res)
{
	struct viommu_stats s0, s1;

	ir_round_trips(g, IR_GSI_REMAP, IR_VEC, warm, iec_index, NULL);
	viommu_get_stats(g->dev, &s0);
	ir_round_trips(g, IR_GSI_REMAP, IR_VEC, n, iec_index, res);
	viommu_get_stats(g->dev, &s1);
	ir_assert_stats(name, &s0, &s1, n, iec_index >= 0);
}

static int row_msi_remap_hit(const char *name, const struct perf_opts *o)
{
	uint64_t n = perf_ops(o, 4), warm = n / 10 ? n / 10 : 1;
	struct perf_side remap, plain;
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
	ir_remap_round_trips(name, g, warm, n, -1, &remap);

	viommu_guest_destroy(g);
	perf_print_pair(name, "remap_ns", &remap, "plain_ns", &plain, perf_ratio(&remap, &plain),
			&remap);
	return KSFT_PASS;
}

static int row_msi_remap_miss(const char *name, const struct perf_opts *o)
{
	uint64_t n = perf_ops(o, 4), warm = n / 10 ? n / 10 : 1;
	struct perf_side cold, hot;
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
	ir_remap_round_trips(name, g, warm, n, IR_INDEX, &cold);

	viommu_guest_destroy(g);
	perf_print_pair(name, "cold_ns", &cold, "warm_ns", &hot, perf_ratio(&cold, &hot), &cold);
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
		     struct perf_side *sum)
{
	struct kvm_vm *vms[NB_VMS];
	struct perf_side res;
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

static int row_msi_plain_ir_neighbours(const char *name, const struct perf_opts *o)
{
	struct viommu_msi plain = viommu_msi_compat(0, false, IR_VEC, VIOMMU_DLM_FIXED);
	uint64_t n = perf_ops(o, 4 * NB_SLICES), warm = n / 10 ? n / 10 : 1;
	struct perf_side alone = {}, neighbours = {};
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
	perf_print_pair(name, "neighbours_ns", &neighbours, "alone_ns", &alone,
			perf_ratio(&neighbours, &alone), &neighbours);
	return KSFT_PASS;
}

/* ---- row: irte_retarget ------------------------------------------------------------- */

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
static void rt_phase(struct retarget *rt, bool kernel, uint64_t n, struct perf_side *res)
{
	uint64_t exits = viommu_guest_exits(rt->g), t0, done, rounds = 0;
	double *round_ns = calloc(n / RT_MSIS + 1, sizeof(*round_ns));
	int j, round;

	TEST_ASSERT(round_ns, "%llu per-round times", (unsigned long long)n);
	for (done = 0; done < n; done += round) {
		round = n - done < RT_MSIS ? n - done : RT_MSIS;
		t0 = viommu_now_ns();
		for (j = 0; j < round; j++) {
			rt->dest[j] = (rt->dest[j] + 1) % RT_VCPUS;
			rt_retarget(rt, kernel, j);
		}
		round_ns[rounds++] = (double)(viommu_now_ns() - t0) / round;
		for (j = 0; j < round; j++)
			rt_verify(rt, j);
	}
	if (res) {
		res->ns_per_op = perf_median(round_ns, rounds);
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
	uint64_t t0 = viommu_now_ns(), i;

	for (i = 0; i < n; i++)
		kvm_has_device_attr(dev, KVM_DEV_VIOMMU_GRP_CTRL,
				    KVM_DEV_VIOMMU_CTRL_INFO);
	return (double)(viommu_now_ns() - t0) / n;
}

static int row_irte_retarget(const char *name, const struct perf_opts *o)
{
	uint64_t n = perf_ops(o, 100), warm = n / 10 ? n / 10 : 1;
	struct perf_side kernel, qemu;
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
	       name, kernel.ns_per_op, qemu.ns_per_op, perf_ratio(&qemu, &kernel),
	       kernel.exits_per_op);
	printf("ioctl_floor_ns=%.0f\n", floor_ns);
	fflush(stdout);
	return KSFT_PASS;
}

/* ---- rows: ioapic_remap, ioapic_remap_split ----------------------------------------- */

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
	uint64_t deadline = viommu_now_ns() + IR_WAIT_NS;

	while (ioapic_remote_irr(g->vm, IOAPIC_PIN))
		TEST_ASSERT(viommu_now_ns() < deadline, "pin %d: Remote IRR stays set", IOAPIC_PIN);
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
static void ioapic_round_trips(struct viommu_guest *g, uint64_t n, struct perf_side *res)
{
	uint64_t exits = viommu_guest_exits(g), ns = 0, t0, i;
	uint32_t want;

	for (i = 0; i < n; i++) {
		want = viommu_guest_count(g, 0, IOAPIC_VEC) + 1;
		t0 = viommu_now_ns();
		kvm_irq_line(g->vm, IOAPIC_PIN, 1);
		ir_wait_count(g, 0, IOAPIC_VEC, want, false);
		kvm_irq_line(g->vm, IOAPIC_PIN, 0);
		ns += viommu_now_ns() - t0;
	}
	ioapic_drain(g);
	if (res) {
		res->ns_per_op = (double)ns / n;
		res->exits_per_op = (double)(viommu_guest_exits(g) - exits) / n;
	}
}

static void ioapic_measure(struct viommu_guest *g, uint64_t n, struct perf_side *res)
{
	ioapic_round_trips(g, n / 10 ? n / 10 : 1, NULL);
	ioapic_round_trips(g, n, res);
}

static int row_ioapic_remap(const char *name, const struct perf_opts *o)
{
	uint64_t n = perf_ops(o, 4) < 9000 ? perf_ops(o, 4) : 9000;
	uint64_t plain_rte = RTE_LEVEL | IOAPIC_VEC;	/* physical, APIC ID 0 */
	struct perf_side remap, plain;
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
	perf_print_pair(name, "remap_ns", &remap, "plain_ns", &plain, perf_ratio(&remap, &plain),
			&remap);
	return KSFT_PASS;
}

#define SPLIT_GSI_PLAIN	10
#define SPLIT_GSI_REMAP	11

/*
 * @n level interrupts from the test's I/O APIC: raise the line, wait for
 * the guest's EOI to exit to userspace, lower the line.
 */
static void split_round_trips(struct viommu_guest *g, uint32_t gsi, uint64_t n,
			      struct perf_side *res)
{
	uint32_t want = viommu_guest_ioapic_eois(g, 0, IOAPIC_VEC);
	uint64_t exits = viommu_guest_exits(g), ns = 0, deadline, t0, i;

	for (i = 0; i < n; i++) {
		t0 = viommu_now_ns();
		deadline = t0 + IR_WAIT_NS;
		kvm_irq_line(g->vm, gsi, 1);
		while (viommu_guest_ioapic_eois(g, 0, IOAPIC_VEC) < want + 1)
			TEST_ASSERT(viommu_now_ns() < deadline, "GSI %u: no EOI exit", gsi);
		want++;
		kvm_irq_line(g->vm, gsi, 0);
		ns += viommu_now_ns() - t0;
	}
	if (res) {
		res->ns_per_op = (double)ns / n;
		res->exits_per_op = (double)(viommu_guest_exits(g) - exits) / n;
	}
}

static int row_ioapic_remap_split(const char *name, const struct perf_opts *o)
{
	uint64_t n = perf_ops(o, 20), warm = n / 10 ? n / 10 : 1;
	struct viommu_msi plain = viommu_msi_compat(0, false, IOAPIC_VEC, VIOMMU_DLM_FIXED);
	struct viommu_msi remap = viommu_msi_devid(viommu_msi_remappable(IOAPIC_IDX, false, 0),
						   IOAPIC_SID);
	struct perf_side r_remap, r_plain, full;
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
	ioapic_measure(g, perf_ops(o, 4) < 9000 ? perf_ops(o, 4) : 9000, &full);
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
	       name, r_remap.ns_per_op, r_plain.ns_per_op, perf_ratio(&r_remap, &r_plain),
	       r_remap.exits_per_op);
	printf("full_ratio=%.2f\n", perf_ratio(&r_remap, &full));
	fflush(stdout);
	return KSFT_PASS;
}

static const struct perf_row rows[] = {
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
};

int main(int argc, char *argv[])
{
	return perf_main(argc, argv, rows, ARRAY_SIZE(rows),
			 "msi_remap_*, msi_plain_ir_neighbours and\n"
			 "        ioapic_remap: N/4, irte_retarget: N/100, ioapic_remap_split: N/20");
}
