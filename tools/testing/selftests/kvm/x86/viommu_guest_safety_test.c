// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_guest_safety_test: what a guest, driving the VT-d register page
 * of the KVM_DEV_TYPE_INTEL_VIOMMU device as its IOMMU driver would, can do
 * to itself and to the host through the invalidation queue and GCMD.
 *
 * Each test is a regression test for one bug, which the comment above it
 * names; it fails on the kernel that has the bug.  The program skips
 * without the register page; a test skips, saying why, when the host lacks
 * what else it needs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kselftest.h"
#include "kvm_util.h"
#include "processor.h"
#include "apic.h"
#include "viommu.h"
#include "viommu_regs.h"
#include "viommu_test.h"

#define TEST_TIMEOUT_S		90

#define MSI_ADDR		0xfee00000U	/* APIC ID 0, physical */
#define INV_VEC			0x51

/* A 256-entry table at VTD_IRT_GPA, x2APIC mode. */
#define IRTA			(VTD_IRT_GPA | KVM_VIOMMU_IRTA_EIME | 7)

#define LAPIC_LVTT		0x320
#define LAPIC_LVT_MASKED	BIT(16)

/* The guest's driver state; each test has a VM of its own. */
static struct vtd_iommu iommu;

FIXTURE(guest_safety) {};
FIXTURE_SETUP(guest_safety) {}
FIXTURE_TEARDOWN(guest_safety) {}

/* ---- host helpers ---------------------------------------------------------------- */

/* One statistic of a vCPU, readable while the vCPU runs. */
struct vcpu_stat {
	int fd;
	struct kvm_stats_header hdr;
	struct kvm_stats_desc *descs;
	struct kvm_stats_desc *desc;
};

/* Before the vCPU runs: KVM_GET_STATS_FD takes the vCPU's mutex. */
static void vcpu_stat_open(struct vcpu_stat *s, struct kvm_vcpu *vcpu, const char *name)
{
	struct kvm_stats_desc *d;
	int i;

	s->fd = vcpu_get_stats_fd(vcpu);
	read_stats_header(s->fd, &s->hdr);
	s->descs = read_stats_descriptors(s->fd, &s->hdr);
	for (i = 0; i < (int)s->hdr.num_desc; i++) {
		d = get_stats_descriptor(s->descs, i, &s->hdr);
		if (!strcmp(d->name, name)) {
			s->desc = d;
			return;
		}
	}
	TEST_FAIL("vCPU statistic '%s' not found", name);
}

static uint64_t vcpu_stat_read(struct vcpu_stat *s)
{
	uint64_t val;

	read_stat_data(s->fd, &s->hdr, s->desc, &val, 1);
	return val;
}

static void vcpu_stat_close(struct vcpu_stat *s)
{
	free(s->descs);
	close(s->fd);
}

/* Polls *@p (guest memory) until it is nonzero; false after @timeout_ns. */
static bool wait_nonzero(uint32_t *p, uint64_t timeout_ns)
{
	uint64_t end = viommu_now_ns() + timeout_ns;

	while (!__atomic_load_n(p, __ATOMIC_SEQ_CST)) {
		if (viommu_now_ns() > end)
			return false;
		usleep(1000);
	}
	return true;
}

/* ---- halted_vcpu_wake -------------------------------------------------------------- */

/*
 * The VMM's EVENT_ACK resumes the queue through a vCPU request, but a
 * request does not make a halted vCPU runnable: the wait behind the event,
 * and its completion interrupt, stay stuck until something else wakes it.
 */

#define WAKE_SID		0x0108
#define WAKE_TIMEOUT_NS		(5ULL * NSEC_PER_SEC)
#define WAKE_OTHER_VEC		0x52

static uint32_t wake_armed;
static uint32_t wake_wait_index;

static void wake_guest(uint64_t idx)
{
	struct vtd_desc flush = vtd_desc_devtlb(WAKE_SID, 0x5000);

	/* Nothing but the wait's interrupt may end the HLT. */
	x2apic_write_reg(LAPIC_LVTT, LAPIC_LVT_MASKED);
	vtd_iommu_init(&iommu, VTD_BASE);
	vtd_writel(&iommu, DMAR_IEDATA_REG, INV_VEC);
	vtd_writel(&iommu, DMAR_IEADDR_REG, MSI_ADDR);
	vtd_writel(&iommu, DMAR_IEUADDR_REG, 0);
	vtd_writel(&iommu, DMAR_IECTL_REG, 0);
	vtd_enable_qi(&iommu, VTD_QUEUE_GPA, 0, false, VTD_STATUS_GPA);
	vtd_qi_queue(&iommu, &flush, 1);
	WRITE_ONCE(wake_wait_index, vtd_qi_queue_wait(&iommu, QI_IWD_IF));
	vtd_qi_doorbell(&iommu);
	WRITE_ONCE(wake_armed, 1);
	/* Back to the lib's HLT loop, interrupts enabled. */
}

TEST_F_TIMEOUT(guest_safety, halted_vcpu_wake, TEST_TIMEOUT_S)
{
	struct kvm_viommu_event e;
	struct viommu_guest *g;
	struct vcpu_stat blocking;
	struct viommu_msi unrelated = viommu_msi_compat(0, false, WAKE_OTHER_VEC,
							VIOMMU_DLM_FIXED);
	uint64_t t0, waited_ms, other_ms;
	uint32_t *status, st;
	bool woke;
	int r;

	g = viommu_guest_create(1, VIOMMU_GUEST_X2APIC, true);
	vtd_guest_prepare(g, wake_guest);
	vtd_regs_config(g->dev, VTD_BASE, VTD_DEFAULT_CAP, VTD_DEFAULT_ECAP);
	vtd_event_config(g->dev, KVM_VIOMMU_EVENT_DEVTLB);
	vcpu_stat_open(&blocking, g->vcpus[0], "blocking");
	viommu_guest_start(g);

	TEST_ASSERT(wait_nonzero(addr_gva2hva(g->vm, (vm_vaddr_t)&wake_armed),
				 30ULL * NSEC_PER_SEC),
		    "the guest did not ring the doorbell");
	status = (uint32_t *)((uint8_t *)g->irt + (VTD_STATUS_GPA - VTD_MEM_GPA)) +
		 *(uint32_t *)addr_gva2hva(g->vm, (vm_vaddr_t)&wake_wait_index);

	vtd_event_pop(g->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_DEVTLB && (e.flags & KVM_VIOMMU_EVENT_F_QUEUED),
		    "event: type 0x%x flags 0x%x, expected the queued device-TLB flush",
		    e.type, e.flags);

	/* Asleep in HLT, not polling and not about to enter the guest. */
	t0 = viommu_now_ns();
	while (vcpu_stat_read(&blocking) != 1) {
		TEST_ASSERT(viommu_now_ns() - t0 < 30ULL * NSEC_PER_SEC,
			    "the vCPU did not block in HLT");
		usleep(1000);
	}
	usleep(100000);
	TEST_ASSERT(vcpu_stat_read(&blocking) == 1, "the vCPU left HLT before the ACK");
	st = __atomic_load_n(status, __ATOMIC_SEQ_CST);
	TEST_ASSERT(st == QI_IN_USE, "the wait completed (status %u) before the ACK", st);
	TEST_ASSERT(!viommu_guest_count(g, 0, INV_VEC), "IWC interrupt before the ACK");

	vtd_event_ack(g->dev, e.seq);
	t0 = viommu_now_ns();
	while (!viommu_guest_count(g, 0, INV_VEC) && viommu_now_ns() - t0 < WAKE_TIMEOUT_NS)
		usleep(1000);
	waited_ms = (viommu_now_ns() - t0) / 1000000;
	woke = viommu_guest_count(g, 0, INV_VEC);

	if (!woke) {
		/* Show that only the wakeup is missing: any interrupt brings it. */
		st = __atomic_load_n(status, __ATOMIC_SEQ_CST);
		t0 = viommu_now_ns();
		r = viommu_signal_msi(g->vm, &unrelated);
		TEST_ASSERT(r >= 1, "KVM_SIGNAL_MSI of vector 0x%x: %d", WAKE_OTHER_VEC, r);
		while (!viommu_guest_count(g, 0, INV_VEC) &&
		       viommu_now_ns() - t0 < WAKE_TIMEOUT_NS)
			usleep(1000);
		other_ms = (viommu_now_ns() - t0) / 1000000;
		TEST_FAIL("halted vCPU not woken by EVENT_ACK:\n"
			  "  no IWC interrupt in %llu ms, the wait's status still %u (%s);\n"
			  "  after an unrelated interrupt (vector 0x%x, taken %u times): IWC interrupt %s, %llu ms",
			  (unsigned long long)waited_ms, st,
			  st == QI_IN_USE ? "not run" : "written", WAKE_OTHER_VEC,
			  viommu_guest_count(g, 0, WAKE_OTHER_VEC),
			  viommu_guest_count(g, 0, INV_VEC) ? "arrived" : "still missing",
			  (unsigned long long)other_ms);
	}
	ksft_print_msg("halted_vcpu_wake: IWC interrupt %llu ms after EVENT_ACK\n",
		       (unsigned long long)waited_ms);
	st = __atomic_load_n(status, __ATOMIC_SEQ_CST);
	TEST_ASSERT(st == QI_DONE, "IWC interrupt, but the wait's status is %u", st);
	vcpu_stat_close(&blocking);
	viommu_guest_destroy(g);
}

/* ---- dirty_ring_doorbell ------------------------------------------------------------ */

/*
 * One IQT write runs the whole queue in the kernel, and each wait with SW
 * pushes a dirty-ring entry, but KVM checks the ring's soft limit only
 * before it enters the guest: a queue longer than the ring overruns it
 * (WARN in kvm_dirty_ring_push()) and the pages whose entries were
 * overwritten are never reported to the VMM.
 */

#define DR_ENTRIES		4096
#define DR_WAITS		8192
#define DR_QS			6	/* 16384 entries: the waits and an empty slot */
#define DR_SLOT			11
#define DR_GPA			0x40000000ULL
#define DR_DEADLINE_NS		(60ULL * NSEC_PER_SEC)

enum { DR_QI_ON = 1, DR_POLLED };

static uint64_t dr_iqh;
static uint32_t dr_fsts;

static void dirty_guest(void)
{
	uint64_t tail = (uint64_t)DR_WAITS << 4, i;

	vtd_iommu_init(&iommu, VTD_BASE);
	vtd_enable_qi(&iommu, VTD_QUEUE_GPA, DR_QS, false, VTD_STATUS_GPA);
	GUEST_SYNC(DR_QI_ON);
	/* The host has filled the queue. */
	vtd_writel(&iommu, DMAR_IQT_REG, tail);
	for (;;) {
		for (i = 0; i < VTD_SPINS; i++) {
			WRITE_ONCE(dr_iqh, vtd_readq(&iommu, DMAR_IQH_REG));
			WRITE_ONCE(dr_fsts, vtd_readl(&iommu, DMAR_FSTS_REG));
			if (dr_iqh == tail || (dr_fsts & DMA_FSTS_IQE))
				break;
			cpu_relax();
		}
		GUEST_SYNC(DR_POLLED);
	}
}

struct dr {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	struct kvm_dirty_gfn *ring;
	uint32_t fetch;
	uint8_t *seen;			/* per page of the slot */
	uint64_t harvested, harvests, full_exits, max_harvest;
	bool wedged;
};

/* Collects and resets what the ring holds; returns the number of entries. */
static uint32_t dr_harvest(struct dr *d)
{
	struct kvm_dirty_gfn *e;
	uint32_t n = 0, cleared;

	for (;;) {
		e = &d->ring[d->fetch % DR_ENTRIES];
		if (__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) != KVM_DIRTY_GFN_F_DIRTY)
			break;
		TEST_ASSERT(e->slot == DR_SLOT && e->offset < DR_WAITS,
			    "dirty ring entry %u: slot %u offset 0x%llx", d->fetch, e->slot,
			    (unsigned long long)e->offset);
		d->seen[e->offset] = 1;
		__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
		d->fetch++;
		n++;
	}
	cleared = kvm_vm_reset_dirty_ring(d->vm);
	TEST_ASSERT(cleared == n, "KVM_RESET_DIRTY_RINGS reset %u entries, %u collected",
		    cleared, n);
	d->harvested += n;
	d->harvests++;
	if (n > d->max_harvest)
		d->max_harvest = n;
	return n;
}

/* Runs the vCPU to its next GUEST_SYNC, harvesting when the ring is full. */
static uint64_t dr_run(struct dr *d)
{
	struct kvm_run *run = d->vcpu->run;
	struct ucall uc;
	int r;

	for (;;) {
		r = __vcpu_run(d->vcpu);
		if (r < 0 && errno == EINTR)
			continue;
		TEST_ASSERT(!r, "KVM_RUN: %s", strerror(errno));
		if (run->exit_reason == KVM_EXIT_DIRTY_RING_FULL) {
			d->full_exits++;
			/* Full, with nothing to collect: it overflowed, and stays "full". */
			if (!dr_harvest(d)) {
				d->wedged = true;
				return 0;
			}
			continue;
		}
		if (run->exit_reason == KVM_EXIT_SHUTDOWN)
			viommu_exit_nested_corruption(0, 0);
		TEST_ASSERT(run->exit_reason == KVM_EXIT_IO, "unexpected exit reason %u (%s)",
			    run->exit_reason, exit_reason_str(run->exit_reason));
		switch (get_ucall(d->vcpu, &uc)) {
		case UCALL_SYNC:
			return uc.args[1];
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT_2(uc, "vals = 0x%lx 0x%lx");
			break;
		default:
			TEST_FAIL("unexpected ucall %lu", (unsigned long)uc.cmd);
		}
	}
}

TEST_F_TIMEOUT(guest_safety, dirty_ring_doorbell, TEST_TIMEOUT_S)
{
	uint64_t tail = (uint64_t)DR_WAITS << 4, deadline, *iqh;
	uint32_t i, written = 0, collected = 0, *fsts;
	struct vtd_desc wait;
	uint8_t *queue;
	struct kvm_regs regs;
	uint8_t *pages;
	struct dr d = { 0 };
	int dev, r;

	if (!kvm_has_cap(KVM_CAP_DIRTY_LOG_RING) && !kvm_has_cap(KVM_CAP_DIRTY_LOG_RING_ACQ_REL))
		SKIP(return, "KVM_CAP_DIRTY_LOG_RING not available");

	/* The ring must exist before the vCPU, so no lib guest here. */
	d.vm = __vm_create(VM_MODE_DEFAULT, 1, 0);
	vm_enable_dirty_ring(d.vm, DR_ENTRIES * sizeof(struct kvm_dirty_gfn));
	d.vcpu = vm_vcpu_add(d.vm, 0, dirty_guest);
	vm_init_descriptor_tables(d.vm);
	vcpu_init_descriptor_tables(d.vcpu);
	/* Entered as if called: see vtd_guest_prepare(). */
	vcpu_regs_get(d.vcpu, &regs);
	regs.rsp = (regs.rsp & ~15ULL) - 8;
	vcpu_regs_set(d.vcpu, &regs);
	vm_userspace_mem_region_add(d.vm, VM_MEM_SRC_ANONYMOUS, VTD_MEM_GPA, VIOMMU_IRT_SLOT,
				    VTD_MEM_SIZE / d.vm->page_size, 0);
	virt_map(d.vm, VTD_MEM_GPA, VTD_MEM_GPA, VTD_MEM_SIZE / d.vm->page_size);
	virt_pg_map(d.vm, VTD_BASE, VTD_BASE);
	vm_userspace_mem_region_add(d.vm, VM_MEM_SRC_ANONYMOUS, DR_GPA, DR_SLOT, DR_WAITS,
				    KVM_MEM_LOG_DIRTY_PAGES);
	pages = addr_gpa2hva(d.vm, DR_GPA);
	dev = viommu_create_or_die(d.vm);
	vtd_regs_config(dev, VTD_BASE, VTD_DEFAULT_CAP, VTD_DEFAULT_ECAP);
	d.ring = vcpu_map_dirty_ring(d.vcpu);
	d.seen = calloc(DR_WAITS, 1);
	TEST_ASSERT(d.seen, "out of memory");
	iqh = addr_gva2hva(d.vm, (vm_vaddr_t)&dr_iqh);
	fsts = addr_gva2hva(d.vm, (vm_vaddr_t)&dr_fsts);

	TEST_ASSERT(dr_run(&d) == DR_QI_ON, "guest did not enable QI");
	dr_harvest(&d);
	/* Wait i writes i + 1 to the first dword of page i of the slot. */
	queue = addr_gpa2hva(d.vm, VTD_QUEUE_GPA);
	for (i = 0; i < DR_WAITS; i++) {
		wait = vtd_desc_wait(QI_IWD_SW, i + 1, DR_GPA + (uint64_t)i * 4096);
		memcpy(queue + i * 16, &wait, 16);	/* 128-bit descriptors */
	}
	memset(d.seen, 0, DR_WAITS);
	d.harvested = 0;

	deadline = viommu_now_ns() + DR_DEADLINE_NS;
	for (;;) {
		r = dr_run(&d);
		if (d.wedged)
			break;
		TEST_ASSERT(r == DR_POLLED, "guest stage %d", r);
		if (*iqh == tail || (*fsts & DMA_FSTS_IQE))
			break;
		TEST_ASSERT(viommu_now_ns() < deadline,
			    "the queue made no progress: IQH 0x%llx of 0x%llx, FSTS 0x%x, %llu ring-full exits",
			    (unsigned long long)*iqh, (unsigned long long)tail, *fsts,
			    (unsigned long long)d.full_exits);
	}
	if (!d.wedged)
		dr_harvest(&d);

	for (i = 0; i < DR_WAITS; i++) {
		written += (*(uint32_t *)(pages + (uint64_t)i * 4096) == i + 1);
		collected += d.seen[i];
	}
	ksft_print_msg("dirty_ring_doorbell: %u waits, %u status writes, %u pages in the ring\n",
		       DR_WAITS, written, collected);
	ksft_print_msg("dirty_ring_doorbell: %llu entries, %llu harvests (largest %llu, ring %u)\n",
		       (unsigned long long)d.harvested, (unsigned long long)d.harvests,
		       (unsigned long long)d.max_harvest, DR_ENTRIES);
	ksft_print_msg("dirty_ring_doorbell: %llu ring-full exits%s\n",
		       (unsigned long long)d.full_exits,
		       d.wedged ? ", the last with nothing to harvest" : "");
	TEST_ASSERT(!d.wedged && d.max_harvest < DR_ENTRIES && written == DR_WAITS &&
		    collected == DR_WAITS && !(*fsts & DMA_FSTS_IQE),
		    "one doorbell of %u waits overran a %u-entry dirty ring:\n"
		    "  %u of %u status words written, only %u of those pages reported in the ring;\n"
		    "  largest harvest %llu entries%s%s; FSTS 0x%x",
		    DR_WAITS, DR_ENTRIES, written, DR_WAITS, collected,
		    (unsigned long long)d.max_harvest,
		    d.max_harvest >= DR_ENTRIES ? " (the whole ring, reserve and all)" : "",
		    d.wedged ?
		    ";\n  then KVM_EXIT_DIRTY_RING_FULL with no entry to harvest, for good" : "",
		    *fsts);
	free(d.seen);
	close(dev);
	kvm_vm_free(d.vm);
}

/* ---- ire_toggle_ipis ------------------------------------------------------------------ */

/*
 * Every change of GCMD.IRE moves a static key (static_branch_inc/dec), and
 * each move rewrites kvm.ko's text with IPIs to every host CPU: any guest
 * can keep all the host's CPUs busy with function-call interrupts.
 */

#define IPI_TOGGLES		10000
#define IPI_MAX_PER_TOGGLE	0.05

enum { IPI_CONTROL = 1, IPI_IRE };

static uint64_t ipi_op;

static void ipi_guest(uint64_t idx)
{
	uint64_t i;

	vtd_iommu_init(&iommu, VTD_BASE);
	for (;;) {
		GUEST_SYNC(0);
		for (i = 0; i < IPI_TOGGLES; i++) {
			if (READ_ONCE(ipi_op) == IPI_IRE) {
				if (i & 1)
					vtd_disable_irq_remapping(&iommu);
				else
					vtd_enable_irq_remapping(&iommu);
			} else {
				/* A register write and a GSTS read, as a toggle has. */
				vtd_writel(&iommu, DMAR_FEDATA_REG, i & 0xff);
				vtd_readl(&iommu, DMAR_GSTS_REG);
			}
		}
	}
}

/* The "CAL" (function call interrupts) line of /proc/interrupts, all CPUs. */
static bool read_cal(uint64_t *sum)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char *line = NULL, *p, *end;
	bool found = false;
	size_t size = 0;
	uint64_t v;

	if (!f)
		return false;
	while (!found && getline(&line, &size, f) > 0) {
		for (p = line; *p == ' '; p++)
			;
		if (strncmp(p, "CAL:", 4))
			continue;
		found = true;
		*sum = 0;
		for (p += 4;; p = end) {
			v = strtoull(p, &end, 10);
			if (end == p)
				break;
			*sum += v;
		}
	}
	free(line);
	fclose(f);
	return found;
}

static uint64_t ipis_during(struct vtd_vm *v, uint64_t op, uint64_t *ms)
{
	uint64_t before, after, t0;

	*(uint64_t *)addr_gva2hva(v->vm, (vm_vaddr_t)&ipi_op) = op;
	TEST_ASSERT(read_cal(&before), "/proc/interrupts: no CAL line");
	t0 = viommu_now_ns();
	TEST_ASSERT(vtd_run(v) == 0, "guest out of step");
	*ms = (viommu_now_ns() - t0) / 1000000;
	TEST_ASSERT(read_cal(&after), "/proc/interrupts: no CAL line");
	return after - before;
}

TEST_F_TIMEOUT(guest_safety, ire_toggle_ipis, TEST_TIMEOUT_S)
{
	uint64_t ire, control, ire_ms, control_ms, sum;
	struct vtd_vm *v;
	double excess;

	if (!read_cal(&sum))
		SKIP(return, "no CAL (function call interrupts) line in /proc/interrupts");
	v = vtd_vm_create(ipi_guest, VTD_VM_DEV | VTD_VM_REGS);
	TEST_ASSERT(vtd_run(v) == 0, "guest did not start");

	control = ipis_during(v, IPI_CONTROL, &control_ms);
	ire = ipis_during(v, IPI_IRE, &ire_ms);
	TEST_ASSERT(viommu_get_ir_status(v->dev) == 0,
		    "IR_STATUS 0x%x after an even number of toggles", viommu_get_ir_status(v->dev));

	ksft_print_msg("ire_toggle: %d toggles, %llu function-call IPIs (%.3f per toggle)\n",
		       IPI_TOGGLES, (unsigned long long)ire, (double)ire / IPI_TOGGLES);
	ksft_print_msg("control: %d FEDATA writes, %llu function-call IPIs (%.3f per write)\n",
		       IPI_TOGGLES, (unsigned long long)control, (double)control / IPI_TOGGLES);
	ksft_print_msg("ire_toggle: toggles took %llu ms, the control loop %llu ms\n",
		       (unsigned long long)ire_ms, (unsigned long long)control_ms);
	excess = ((double)ire - (double)control) / IPI_TOGGLES;
	TEST_ASSERT(excess < IPI_MAX_PER_TOGGLE,
		    "GCMD.IRE toggles cost the host %.3f function-call IPIs each beyond the control loop's (limit %.2f)",
		    excess, IPI_MAX_PER_TOGGLE);
	vtd_vm_destroy(v);
}

/* ---- iec_fence ------------------------------------------------------------------------ */

/*
 * IEC drops the cached IRTE, but a translation already holding a copy of it
 * (an irqfd wakeup, under RCU) is not waited for: it can deliver the old
 * vector after the wait descriptor behind the IEC has completed, which VT-d
 * forbids and which a guest tearing down an interrupt relies on.
 *
 * The guest (one vCPU) rewrites the IRTE's vector and runs IEC + wait with
 * interrupts off, then opens a window for them: whatever KVM had made
 * pending by the wait's completion is taken there (and not checked).  From
 * then on until its next rewrite, in a second window, the old vector must
 * not arrive.  Interrupts are taken only in those windows, where the
 * guest's code has nothing below RSP: the selftests are built without
 * -mno-red-zone.
 */

#define FENCE_IDX		7
#define FENCE_GSI		20
#define FENCE_VEC_A		0x60
#define FENCE_VEC_B		0x70
#define FENCE_GENS		2000
#define FENCE_BATCH		50
#define FENCE_DRAIN		100
#define FENCE_DWELL		1000
#define FENCE_DEADLINE_NS	(40ULL * NSEC_PER_SEC)

static uint64_t fence_batch;
static uint64_t fence_gen;
static uint32_t fence_cur;	/* the vector whose wait has completed */
static bool fence_strict;	/* fence_cur is final: the other one is a violation */
static uint64_t fence_arrivals[2];
static uint64_t fence_drained;	/* the old vector, pending when the wait completed */
static uint64_t fence_violations;
static uint64_t fence_first_violation;

static void fence_irq(struct ex_regs *regs)
{
	uint32_t vec = regs->vector;

	fence_arrivals[vec == FENCE_VEC_B]++;
	if (vec != READ_ONCE(fence_cur)) {
		if (!READ_ONCE(fence_strict)) {
			fence_drained++;
		} else {
			if (!fence_violations)
				fence_first_violation = READ_ONCE(fence_gen);
			fence_violations++;
		}
	}
	x2apic_write_reg(APIC_EOI, 0);
}

/* Interrupts on for @spins pauses, from a function with no stack of its own. */
static noinline void fence_irq_window(uint32_t spins)
{
	asm volatile("sti\n"
		     "1: pause\n"
		     "dec %0\n"
		     "jnz 1b\n"
		     "cli"
		     : "+r"(spins) : : "memory", "cc");
}

static uint64_t fence_irte_lo(uint8_t vec)
{
	return viommu_irte_lo(vec, 0, true, VIOMMU_DLM_FIXED, 0);
}

static void fence_guest(uint64_t idx)
{
	struct viommu_irte *irte = (struct viommu_irte *)VTD_IRT_GPA + FENCE_IDX;
	uint64_t k;
	uint8_t vec;
	int rc;

	asm volatile("cli" ::: "memory");
	vtd_iommu_init(&iommu, VTD_BASE);
	vtd_enable_qi(&iommu, VTD_QUEUE_GPA, 0, false, VTD_STATUS_GPA);
	WRITE_ONCE(irte->hi, 0);
	WRITE_ONCE(irte->lo, fence_irte_lo(FENCE_VEC_A));
	rc = vtd_set_irq_remapping(&iommu, IRTA);
	GUEST_ASSERT_1(!rc, rc);
	vtd_enable_irq_remapping(&iommu);
	WRITE_ONCE(fence_cur, FENCE_VEC_A);
	WRITE_ONCE(fence_strict, true);

	for (;;) {
		GUEST_SYNC(0);
		for (k = 0; k < READ_ONCE(fence_batch); k++) {
			/* Checked: the previous wait has long completed. */
			fence_irq_window(FENCE_DWELL);
			vec = fence_gen & 1 ? FENCE_VEC_A : FENCE_VEC_B;
			WRITE_ONCE(fence_strict, false);
			WRITE_ONCE(irte->lo, fence_irte_lo(vec));
			rc = vtd_qi_flush_iec(&iommu, FENCE_IDX, 0);
			GUEST_ASSERT_2(!rc, rc, fence_gen);
			WRITE_ONCE(fence_cur, vec);
			/* Not checked: pending by the time the wait completed. */
			fence_irq_window(FENCE_DRAIN);
			WRITE_ONCE(fence_gen, fence_gen + 1);
			WRITE_ONCE(fence_strict, true);
		}
	}
}

struct hammer {
	int fd;
	bool stop;
	uint64_t writes;
};

static void *hammer_thread(void *data)
{
	struct hammer *h = data;
	uint64_t one = 1;

	while (!__atomic_load_n(&h->stop, __ATOMIC_RELAXED)) {
		if (write(h->fd, &one, sizeof(one)) == sizeof(one))
			h->writes++;
		else
			TEST_ASSERT(errno == EAGAIN, "write(irqfd): %s", strerror(errno));
	}
	return NULL;
}

TEST_F_TIMEOUT(guest_safety, iec_fence, TEST_TIMEOUT_S)
{
	struct viommu_msi msi = viommu_msi_remappable(FENCE_IDX, false, 0);
	uint64_t *gen, *arrivals, *violations, *first, *drained, deadline, t0, ms;
	struct hammer h = { 0 };
	struct vtd_vm *v;
	pthread_t th;
	int r;

	v = vtd_vm_create(fence_guest, VTD_VM_DEV | VTD_VM_REGS);
	vm_install_exception_handler(v->vm, FENCE_VEC_A, fence_irq);
	vm_install_exception_handler(v->vm, FENCE_VEC_B, fence_irq);
	*(uint64_t *)addr_gva2hva(v->vm, (vm_vaddr_t)&fence_batch) = FENCE_BATCH;
	gen = addr_gva2hva(v->vm, (vm_vaddr_t)&fence_gen);
	arrivals = addr_gva2hva(v->vm, (vm_vaddr_t)fence_arrivals);
	violations = addr_gva2hva(v->vm, (vm_vaddr_t)&fence_violations);
	first = addr_gva2hva(v->vm, (vm_vaddr_t)&fence_first_violation);
	drained = addr_gva2hva(v->vm, (vm_vaddr_t)&fence_drained);
	viommu_route_msi(v->g, FENCE_GSI, &msi);
	viommu_commit_routes(v->g);
	h.fd = viommu_irqfd(v->g, FENCE_GSI);
	TEST_ASSERT(vtd_run(v) == 0, "guest did not enable interrupt remapping");

	r = pthread_create(&th, NULL, hammer_thread, &h);
	TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	t0 = viommu_now_ns();
	deadline = t0 + FENCE_DEADLINE_NS;
	while (*gen < FENCE_GENS && viommu_now_ns() < deadline)
		TEST_ASSERT(vtd_run(v) == 0, "guest out of step");
	ms = (viommu_now_ns() - t0) / 1000000;
	__atomic_store_n(&h.stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);

	ksft_print_msg("iec_fence: %llu IEC+wait generations in %llu ms, %llu irqfd writes\n",
		       (unsigned long long)*gen, (unsigned long long)ms,
		       (unsigned long long)h.writes);
	ksft_print_msg("iec_fence: %llu interrupts (0x%x: %llu, 0x%x: %llu), %llu violations\n",
		       (unsigned long long)(arrivals[0] + arrivals[1]), FENCE_VEC_A,
		       (unsigned long long)arrivals[0], FENCE_VEC_B,
		       (unsigned long long)arrivals[1], (unsigned long long)*violations);
	ksft_print_msg("iec_fence: %llu of the old vector pending as its wait completed\n",
		       (unsigned long long)*drained);
	TEST_ASSERT(!*violations,
		    "%llu interrupts arrived with the old IRTE's vector after the wait behind its IEC completed (first in generation %llu)",
		    (unsigned long long)*violations, (unsigned long long)*first);
	TEST_ASSERT(arrivals[0] && arrivals[1],
		    "the irqfd's interrupts did not arrive as both vectors: the race was not exercised");
	vtd_vm_destroy(v);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, vtd_regs_unsupported);
}
