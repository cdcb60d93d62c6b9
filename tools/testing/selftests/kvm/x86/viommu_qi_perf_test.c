// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_qi_perf_test: the guest's invalidation queue served by KVM's VT-d
 * register page against the same emulated in userspace, and the bound on
 * any in-kernel MMIO path; one row at a time (include/viommu_perf.h).
 *
 *   viommu_qi_perf_test [-n N] [-l] [ROW...]
 *
 * mmio_exit_limit prints
 *
 *   bench ROW kernel_ns=<ns/op> user_ns=<ns/op> ratio=<user/kernel> \
 *         exits_per_op=<KVM_RUN returns/op, kernel path> user_exits_per_op=<...>
 *
 * and the qi_* rows add overhead= and floor_ns= before exits_per_op.
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
 *   qi_iec_wait      The guest's modify_irte() of one of 32 MSIs, as Linux
 *                    retargets it: the IRTE in guest memory, an index IEC
 *                    and a wait descriptor through the invalidation queue,
 *                    polling the wait's status dword (qi_submit_sync()).
 *                    kernel_ns: the register page in KVM (REGS_CONFIG), the
 *                    I/O APIC and MSI routes of viommu_ir_perf_test's
 *                    irte_retarget remappable.
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
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "test_util.h"
#include "kselftest.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_regs.h"
#include "viommu_perf.h"

/* ---- row: mmio_exit_limit ----------------------------------------------------------- */

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
		       uint64_t iters, struct perf_side *res)
{
	struct kvm_run *run = vcpu->run;
	uint64_t exits = 0, t0, t1;

	mmio_iters = iters;
	sync_global_to_guest(vm, mmio_iters);

	t0 = viommu_now_ns();
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
	t1 = viommu_now_ns();
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

static void mmio_vm_phase(struct mmio_vm *m, uint64_t iters, struct perf_side *res)
{
	mmio_phase(m->vm, m->vcpu, m->phase++, iters, res);
}

/* Kernel side: an ioeventfd completes each write, counted here. */
static void mmio_kernel_phases(struct mmio_vm *m, uint64_t warm, uint64_t iters,
			       struct perf_side *kernel)
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
static int mmio_exit_floor(const char *name, const struct perf_opts *o,
			   struct perf_side *kernel, struct perf_side *user)
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

static int row_mmio_exit_limit(const char *name, const struct perf_opts *o)
{
	struct perf_side kernel, user;
	int r = mmio_exit_floor(name, o, &kernel, &user);

	if (r)
		return r;
	perf_print_row(name, &kernel, &user);
	return KSFT_PASS;
}

/* ---- rows: qi_iec_wait, qi_iotlb_wait ----------------------------------------------- */

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
 * The 32 MSI routes and the 24 I/O APIC ones are irte_retarget's, from
 * rt_routes().  Returns with the guest's bring-up done.
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
static void qb_phase(struct vtd_vm *v, uint64_t phase, uint64_t n, struct perf_side *res)
{
	uint64_t exits = v->exits, t0;

	qb_iters = n;
	sync_global_to_guest(v->vm, qb_iters);
	t0 = viommu_now_ns();
	TEST_ASSERT(vtd_run(v) == phase, "guest not at phase %llu", (unsigned long long)phase);
	if (res) {
		res->ns_per_op = (double)(viommu_now_ns() - t0) / n;
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
				 struct mmio_vm *f, struct perf_side *kernel,
				 struct perf_side *floor)
{
	struct perf_side ks, fs;
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
	return perf_median(ratio, QB_SLICES);
}

static int qi_row(const char *name, const struct perf_opts *o, int kind, uint64_t div)
{
	uint64_t slice = perf_ops(o, div * QB_SLICES), n = slice * QB_SLICES;
	uint64_t warm = n / 10 ? n / 10 : 1, count;
	struct perf_side floor_k, kernel, user;
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
	perf_print_row_extra(name, &kernel, &user, extra);
	return KSFT_PASS;
}

static int row_qi_iec_wait(const char *name, const struct perf_opts *o)
{
	return qi_row(name, o, QB_IEC, 20);
}

static int row_qi_iotlb_wait(const char *name, const struct perf_opts *o)
{
	return qi_row(name, o, QB_IOTLB, 10);
}

static const struct perf_row rows[] = {
	{ "mmio_exit_limit", row_mmio_exit_limit,
	  "MMIO write completed by an ioeventfd vs. by KVM_EXIT_MMIO" },
	{ "qi_iec_wait", row_qi_iec_wait,
	  "guest IRTE + IEC + wait: kernel register page vs. emulated via MMIO exits" },
	{ "qi_iotlb_wait", row_qi_iotlb_wait,
	  "guest page-selective IOTLB + wait: kernel register page vs. emulated" },
};

int main(int argc, char *argv[])
{
	return perf_main(argc, argv, rows, ARRAY_SIZE(rows),
			 "qi_iec_wait: N/20, qi_iotlb_wait: N/10");
}
