// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_vtd_behaviour_test: the KVM_DEV_TYPE_INTEL_VIOMMU device behaves as
 * Linux 6.1's intel-iommu driver (drivers/iommu/intel/) and QEMU's own
 * intel-iommu (hw/i386/intel_iommu.c) expect of a VT-d unit, and its uapi
 * for that (include/uapi/linux/kvm_viommu.h) does what
 * Documentation/virt/kvm/devices/viommu.rst says:
 *
 *  - source-id verification of requests without a requester ID, and the
 *    VMM's choice of QEMU's policy for them (KVM_DEV_VIOMMU_IR_CONFIG);
 *  - fault recording: PFO blocks new records until software clears it, the
 *    VMM chooses how many fault recording registers the guest sees
 *    (nr_fault_records), and records DMA-remapping faults of its own
 *    (KVM_DEV_VIOMMU_REGS_FAULT);
 *  - a remappable MSI with SHV and data bits 31:16 set is a reserved-field
 *    fault, as the subhandle is 16 bits;
 *  - a system reset (KVM_DEV_VIOMMU_CTRL_RESET);
 *  - events: KVM_VIOMMU_EVENT_IR, and the ring size (event_config.entries);
 *  - the queue: enabling QIE with a tail written before runs it, and a
 *    page-selective IOTLB invalidation whose address is not 2^AM aligned,
 *    as Linux's qi_flush_iotlb() sends it, completes.
 *
 * The guest (one x2APIC vCPU that counts its interrupts) runs the Linux
 * driver's register sequences from lib/viommu_regs.c, one command at a
 * time (include/viommu_qt.h), as in viommu_qi_test: the host puts a command
 * in the guest's mailbox and runs the vCPU to its next GUEST_SYNC, the only
 * exit a command may cause.  Every case runs in a child of its own; a case
 * that needs an attribute the loaded KVM lacks fails under
 * VIOMMU_REQUIRE_DEVICE and skips otherwise.
 */
#include <errno.h>
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
#include "viommu.h"
#include "viommu_regs.h"
#include "viommu_qt.h"

#define CASE_TIMEOUT_S		180

/* The vector of the remapped MSIs. */
#define MSI_VEC			0x60

/* The GSI whose irqfd carries the MSIs that go the irqfd way. */
#define T_GSI			40

/* Polls of the guest while an irqfd's interrupt or fault is on its way. */
#define SETTLE_POLLS		5000

/* ---- the guest's commands of this test's own ------------------------------------- */

enum {
	/* arg: count, first did: domain IOTLB flushes, one doorbell */
	OP_IOTLB_BURST = QT_OP_TEST,
	/* IQA, IEC + wait, IQT, then QIE -> ret, ret2, ret3 */
	OP_QIE_WITH_TAIL,
};

/* As many domain-selective IOTLB flushes as asked, then one doorbell. */
static void guest_iotlb_burst(struct vtd_iommu *iommu, uint64_t count, uint64_t did)
{
	struct vtd_desc d;
	uint64_t i;

	for (i = 0; i < count; i++) {
		d = vtd_desc_iotlb(VTD_G_DOMAIN, did + i, 0, 0, false);
		vtd_qi_queue(iommu, &d, 1);
	}
	vtd_qi_doorbell(iommu);
}

/*
 * The order Windows guests use: the queue's address and a tail first, QIE
 * last.  ret2 and ret3: the wait's status and IQH before QIE; ret: the
 * wait's status once QIES shows.
 */
static void guest_qie_with_tail(struct qt_mbox *m, struct vtd_iommu *iommu)
{
	struct vtd_desc iec = vtd_desc_iec_global();
	uint32_t wait;

	iommu->qa = VTD_QUEUE_GPA;
	iommu->shift = 4;
	iommu->len = 1U << (12 - iommu->shift);
	iommu->free_head = 0;
	iommu->status = VTD_STATUS_GPA;
	memset((void *)iommu->status, 0, iommu->len * sizeof(uint32_t));

	vtd_writeq(iommu, DMAR_IQA_REG, iommu->qa);
	vtd_qi_queue(iommu, &iec, 1);
	wait = vtd_qi_queue_wait(iommu, 0);
	vtd_qi_doorbell(iommu);
	m->ret2 = READ_ONCE(*vtd_status(iommu, wait));
	m->ret3 = vtd_readq(iommu, DMAR_IQH_REG);

	iommu->gcmd |= DMA_GCMD_QIE;
	vtd_writel(iommu, DMAR_GCMD_REG, iommu->gcmd);
	vtd_wait_gsts(iommu, DMA_GSTS_QIES, DMA_GSTS_QIES);
	m->ret = READ_ONCE(*vtd_status(iommu, wait));
}

static bool vtd_guest_op(struct qt_mbox *m, struct vtd_iommu *iommu)
{
	switch (m->op) {
	case OP_IOTLB_BURST:
		guest_iotlb_burst(iommu, m->arg[0], m->arg[1]);
		return true;
	case OP_QIE_WITH_TAIL:
		guest_qie_with_tail(m, iommu);
		return true;
	}
	return false;
}

/* ---- host side ------------------------------------------------------------------ */

/*
 * The attribute must exist.  Modules from before it answer ENXIO: the case
 * fails where the modules under test must have it, and skips elsewhere.
 */
static void require_attr(int dev, uint32_t group, uint64_t attr, const char *name)
{
	char why[160];
	int r = __kvm_has_device_attr(dev, group, attr) ? -errno : 0;

	if (!r)
		return;
	snprintf(why, sizeof(why), "%s: HAS_DEVICE_ATTR %d (%s): kvm.ko predates it", name, r,
		 viommu_err_str(r));
	viommu_case_skip("%s", viommu_required(why));
}

/* FRCD record @i, all 128 bits. */
static void assert_frcd_raw(struct qt *t, int i, uint64_t lo, uint64_t hi, const char *what)
{
	uint64_t got_lo = qt_rd64(t, DMAR_FRCD_REG(i)), got_hi = qt_rd64(t, DMAR_FRCD_REG(i) + 8);

	TEST_ASSERT(got_lo == lo && got_hi == hi,
		    "%s: FRCD %d reads 0x%016llx%016llx, expected 0x%016llx%016llx", what, i,
		    (unsigned long long)got_hi, (unsigned long long)got_lo,
		    (unsigned long long)hi, (unsigned long long)lo);
}

static void event_config_entries(int dev, uint32_t types, uint32_t entries)
{
	struct kvm_viommu_event_config c = { .types = types, .entries = entries };

	kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_EVENT, KVM_DEV_VIOMMU_EVENT_CONFIG, &c);
}

static int __event_config(int dev, uint32_t types, uint32_t entries)
{
	struct kvm_viommu_event_config c = { .types = types, .entries = entries };

	return __kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_EVENT, KVM_DEV_VIOMMU_EVENT_CONFIG, &c);
}

/* ---- MSIs, two ways, and what they must lead to ------------------------------------- */

enum path { VIA_SIGNAL, VIA_IRQFD, NR_VIAS };

static const char * const via_name[] = { "KVM_SIGNAL_MSI", "irqfd" };

/*
 * Sends @m by KVM_SIGNAL_MSI (returns its result), or through the irqfd of
 * T_GSI, whose MSI route becomes @m (returns 1: an irqfd says nothing).
 */
static int t_fire(struct qt *t, enum path via, struct viommu_msi m)
{
	if (via == VIA_SIGNAL)
		return viommu_signal_msi(t->v->vm, &m);
	viommu_route_msi(t->v->g, T_GSI, &m);
	viommu_commit_routes(t->v->g);
	viommu_irqfd_fire(t->v->g, T_GSI);
	return 1;
}

/*
 * Runs the guest until @vec has arrived @want times or SETTLE_POLLS have
 * passed: an irqfd's interrupt may take the kernel's worker.
 */
static uint32_t t_wait_irqs(struct qt *t, int vec, uint32_t want)
{
	uint32_t got = 0;
	int i;

	for (i = 0; i < SETTLE_POLLS; i++) {
		qt_cmd(t, QT_OP_NOP, 0, 0, 0, 0);
		got = viommu_guest_count(t->v->g, 0, vec);
		if (got >= want)
			break;
		usleep(1000);
	}
	return got;
}

/*
 * Runs the guest until FSTS shows a fault: one that a kernel worker met
 * reaches the registers through the vCPU's next entry.
 */
static uint32_t t_wait_fault(struct qt *t)
{
	uint32_t fsts = 0;
	int i;

	for (i = 0; i < SETTLE_POLLS; i++) {
		fsts = qt_rd32(t, DMAR_FSTS_REG);
		if (fsts & (DMA_FSTS_PPF | DMA_FSTS_PFO))
			break;
		usleep(1000);
	}
	return fsts;
}

/* Neither the registers nor the VMM's ring have a fault. */
static void t_expect_no_fault(struct qt *t, const char *what)
{
	struct kvm_viommu_ir_fault f;
	uint32_t fsts = qt_fsts(t);
	bool found;

	TEST_ASSERT(!fsts, "%s: FSTS 0x%x, expected no fault", what, fsts);
	found = viommu_pop_fault(t->v->dev, &f);
	TEST_ASSERT(!found,
		    "%s: the fault fd has a record: flags 0x%x reason 0x%x index %u sid 0x%x", what,
		    f.flags, f.reason, f.index, f.sid);
}

/*
 * One fault, and only one, in the registers (read by the guest's
 * dmar_fault()) and in the VMM's ring; @sid < 0: the request had none.
 */
static void t_expect_fault(struct qt *t, uint8_t reason, uint16_t index, int sid,
			   const char *what)
{
	uint32_t want_flags = sid < 0 ? KVM_VIOMMU_FAULT_NO_SID : 0;
	struct kvm_viommu_ir_fault f;
	struct vtd_fault *r = &t->m->faults[0];
	int n = qt_cmd(t, QT_OP_FAULTS, 0, 0, 0, 0);
	bool found;

	TEST_ASSERT(n == 1 && r->reason == reason && r->lo >> 48 == index &&
		    r->sid == (sid < 0 ? 0 : sid),
		    "%s: dmar_fault() read %d records, the first reason 0x%x index %llu SID 0x%x; expected 1, reason 0x%x index %u SID 0x%x",
		    what, n, r->reason, (unsigned long long)(r->lo >> 48), r->sid, reason, index,
		    sid < 0 ? 0 : sid);
	TEST_ASSERT(!qt_fsts(t), "%s: FSTS 0x%x after dmar_fault()", what, qt_fsts(t));
	found = viommu_pop_fault(t->v->dev, &f);
	TEST_ASSERT(found && f.flags == want_flags &&
		    f.reason == reason && f.index == index && f.sid == (sid < 0 ? 0 : sid),
		    "%s: fault fd record flags 0x%x reason 0x%x index %u sid 0x%x; expected flags 0x%x reason 0x%x index %u",
		    what, f.flags, f.reason, f.index, f.sid, want_flags, reason, index);
	found = viommu_pop_fault(t->v->dev, &f);
	TEST_ASSERT(!found,
		    "%s: a second fault fd record: flags 0x%x reason 0x%x index %u", what, f.flags,
		    f.reason, f.index);
}

/* @m arrives as @vec, once, and faults nowhere. */
static void t_deliver(struct qt *t, enum path via, struct viommu_msi m, int vec,
		      const char *what)
{
	uint32_t before = viommu_guest_count(t->v->g, 0, vec), got;
	int r = t_fire(t, via, m);

	TEST_ASSERT(r >= 1, "%s: %s (devid %s0x%x): %d (%s), expected delivered", what,
		    via_name[via], m.has_devid ? "" : "none ", m.devid, r, viommu_err_str(r));
	got = t_wait_irqs(t, vec, before + 1);
	TEST_ASSERT(got == before + 1,
		    "%s: %s (devid %s0x%x): vector 0x%x arrived %u times, expected %u", what,
		    via_name[via], m.has_devid ? "" : "none ", m.devid, vec, got - before, 1);
	t_expect_no_fault(t, what);
}

/* @m is blocked: @vec does not arrive, and the fault is recorded. */
static void t_block(struct qt *t, enum path via, struct viommu_msi m, int vec, uint8_t reason,
		    uint16_t index, const char *what)
{
	uint32_t before = viommu_guest_count(t->v->g, 0, vec), fsts;
	int r = t_fire(t, via, m);

	TEST_ASSERT(r == 0 || via != VIA_SIGNAL,
		    "%s: KVM_SIGNAL_MSI (devid %s0x%x) that must fault: %d (%s), expected 0", what,
		    m.has_devid ? "" : "none ", m.devid, r, viommu_err_str(r));
	fsts = t_wait_fault(t);
	TEST_ASSERT(fsts & DMA_FSTS_PPF,
		    "%s: %s (devid %s0x%x): FSTS 0x%x, expected a fault (vector 0x%x arrived %u times)",
		    what, via_name[via], m.has_devid ? "" : "none ", m.devid, fsts, vec,
		    viommu_guest_count(t->v->g, 0, vec) - before);
	qt_assert_irqs(t, vec, before, what);
	t_expect_fault(t, reason, index, m.has_devid ? (int)(m.devid & 0xffff) : -1, what);
}

/* ---- cases ------------------------------------------------------------------------------ */

static void ir_config_get(int dev, struct kvm_viommu_ir_config *c)
{
	int i;

	memset(c, 0xa5, sizeof(*c));
	kvm_device_attr_get(dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_CONFIG, c);
	TEST_ASSERT(!c->__reserved, "IR_CONFIG get: __reserved 0x%x", c->__reserved);
	for (i = 0; i < (int)ARRAY_SIZE(c->__reserved2); i++)
		TEST_ASSERT(!c->__reserved2[i], "IR_CONFIG get: __reserved2[%d] 0x%llx", i,
			    (unsigned long long)c->__reserved2[i]);
}

static void ir_config_set(int dev, uint32_t flags)
{
	struct kvm_viommu_ir_config c = { .flags = flags };
	struct kvm_viommu_ir_config got;

	kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_CONFIG, &c);
	ir_config_get(dev, &got);
	TEST_ASSERT(got.flags == flags, "IR_CONFIG get: flags 0x%x after a set of 0x%x",
		    got.flags, flags);
}

#define SID_IDX		10
#define SID_OK		0x0108
#define SID_BAD		0x0109

/*
 * An IRTE with SVT 1 asks for the requester's SID.  A request without one
 * cannot be verified: it fails by default, as on hardware, and passes under
 * QEMU's policy, SID_UNKNOWN_OK.  A wrong SID fails under both.
 */
static void test_sid_policy(void)
{
	struct viommu_msi none = viommu_msi_remappable(SID_IDX, false, 0);
	struct viommu_msi good = viommu_msi_devid(none, SID_OK);
	struct viommu_msi bad = viommu_msi_devid(none, SID_BAD);
	struct kvm_viommu_ir_config c;
	struct qt *t = qt_create();
	char what[120];
	int via, i;

	require_attr(t->v->dev, KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_CONFIG, "IR_CONFIG");
	ir_config_get(t->v->dev, &c);
	TEST_ASSERT(c.flags == 0, "IR_CONFIG initially 0x%x, expected 0 (strict)", c.flags);

	qt_fault_events(t, false);
	qt_bringup(t, 0, false);
	TEST_ASSERT(!qt_cmd(t, QT_OP_MODIFY_IRTE, SID_IDX, qt_irte_lo(MSI_VEC),
			    viommu_irte_hi(SID_OK, 0, VIOMMU_SVT_SID), 0), "modify_irte");

	for (via = 0; via < NR_VIAS; via++) {
		snprintf(what, sizeof(what), "strict, %s, the right SID", via_name[via]);
		t_deliver(t, via, good, MSI_VEC, what);
		snprintf(what, sizeof(what), "strict, %s, no requester ID", via_name[via]);
		t_block(t, via, none, MSI_VEC, KVM_VIOMMU_FR_IR_SID_ERR, SID_IDX, what);
		snprintf(what, sizeof(what), "strict, %s, a wrong SID", via_name[via]);
		t_block(t, via, bad, MSI_VEC, KVM_VIOMMU_FR_IR_SID_ERR, SID_IDX, what);
	}

	ir_config_set(t->v->dev, KVM_VIOMMU_IR_CONFIG_SID_UNKNOWN_OK);
	for (via = 0; via < NR_VIAS; via++) {
		snprintf(what, sizeof(what), "SID_UNKNOWN_OK, %s, no requester ID", via_name[via]);
		t_deliver(t, via, none, MSI_VEC, what);
		snprintf(what, sizeof(what), "SID_UNKNOWN_OK, %s, a wrong SID", via_name[via]);
		t_block(t, via, bad, MSI_VEC, KVM_VIOMMU_FR_IR_SID_ERR, SID_IDX, what);
		snprintf(what, sizeof(what), "SID_UNKNOWN_OK, %s, the right SID", via_name[via]);
		t_deliver(t, via, good, MSI_VEC, what);
	}

	/* What is not a policy changes nothing. */
	for (i = 1; i < 32; i++) {
		c = (struct kvm_viommu_ir_config){ .flags = BIT(i) };
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t->v->dev, KVM_DEV_VIOMMU_GRP_IR,
							  KVM_DEV_VIOMMU_IR_CONFIG, &c), EINVAL);
	}
	c = (struct kvm_viommu_ir_config){ .__reserved = 1 };
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t->v->dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_CONFIG, &c), EINVAL);
	for (i = 0; i < (int)ARRAY_SIZE(c.__reserved2); i++) {
		c = (struct kvm_viommu_ir_config){ .flags = 0 };
		c.__reserved2[i] = 1;
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t->v->dev, KVM_DEV_VIOMMU_GRP_IR,
							  KVM_DEV_VIOMMU_IR_CONFIG, &c), EINVAL);
	}
	ir_config_get(t->v->dev, &c);
	TEST_ASSERT(c.flags == KVM_VIOMMU_IR_CONFIG_SID_UNKNOWN_OK,
		    "IR_CONFIG 0x%x after rejected sets, expected SID_UNKNOWN_OK kept", c.flags);

	/* And back: strict again. */
	ir_config_set(t->v->dev, 0);
	for (via = 0; via < NR_VIAS; via++) {
		snprintf(what, sizeof(what), "strict again, %s, no requester ID", via_name[via]);
		t_block(t, via, none, MSI_VEC, KVM_VIOMMU_FR_IR_SID_ERR, SID_IDX, what);
	}
	qt_destroy(t);
}

/*
 * VT-d: while PFO is set, no fault is recorded, even in a fault recording
 * register that software has freed, until software clears PFO.  Linux's
 * dmar_fault() clears PFO after it has read the records; a record made in
 * between would go unnoticed.
 */
static void test_pfo_blocks(void)
{
	struct qt *t = qt_create();
	uint32_t fsts;
	int i;

	qt_fault_events(t, false);
	qt_bringup(t, 0, false);

	/* Eight faults fill the eight records; the ninth overflows. */
	for (i = 0; i < KVM_VIOMMU_NR_FRCD + 1; i++)
		TEST_ASSERT(qt_signal(t, 20 + i) == 0, "MSI of not-present IRTE %d delivered",
			    20 + i);
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT((fsts & (DMA_FSTS_PPF | DMA_FSTS_PFO)) == (DMA_FSTS_PPF | DMA_FSTS_PFO) &&
		    DMA_FSTS_FRI(fsts) == 0, "FSTS 0x%x after 9 faults, expected PPF|PFO, FRI 0",
		    fsts);
	for (i = 0; i < KVM_VIOMMU_NR_FRCD; i++)
		qt_assert_frcd(t, i, true, KVM_VIOMMU_FR_IR_ENTRY_P, 20 + i);
	qt_assert_irqs(t, QT_FAULT_VEC, 1, "one fault event for the burst");

	/*
	 * Record 0 is where the next fault goes.  Freed, with PFO still set:
	 * the next fault must not be recorded there.
	 */
	qt_wr32(t, DMAR_FRCD_REG(0) + 12, DMA_FRCD_F);
	qt_assert_frcd(t, 0, false, 0, 0);
	TEST_ASSERT(qt_signal(t, 40) == 0, "MSI of not-present IRTE 40 delivered");
	qt_assert_frcd(t, 0, false, 0, 0);
	for (i = 1; i < KVM_VIOMMU_NR_FRCD; i++)
		qt_assert_frcd(t, i, true, KVM_VIOMMU_FR_IR_ENTRY_P, 20 + i);
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT((fsts & (DMA_FSTS_PPF | DMA_FSTS_PFO)) == (DMA_FSTS_PPF | DMA_FSTS_PFO),
		    "FSTS 0x%x with PFO set and record 0 free, expected PPF|PFO", fsts);
	qt_assert_irqs(t, QT_FAULT_VEC, 1, "no fault event while PFO is set");

	/* PFO cleared: the next fault goes to record 0. */
	qt_wr32(t, DMAR_FSTS_REG, DMA_FSTS_PFO);
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT((fsts & (DMA_FSTS_PPF | DMA_FSTS_PFO)) == DMA_FSTS_PPF,
		    "FSTS 0x%x after PFO was cleared, expected PPF only", fsts);
	TEST_ASSERT(qt_signal(t, 41) == 0, "MSI of not-present IRTE 41 delivered");
	qt_assert_frcd(t, 0, true, KVM_VIOMMU_FR_IR_ENTRY_P, 41);
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT(!(fsts & DMA_FSTS_PFO), "FSTS 0x%x: PFO again after one fault in a free record",
		    fsts);
	qt_destroy(t);
}

/* On a fresh device: REGS_CONFIG set of @nr records and @cap must return @want. */
static void config_fresh(uint32_t nr, uint64_t cap, int want)
{
	struct kvm_viommu_regs_config c = { .nr_fault_records = nr, .base = VTD_BASE,
					    .cap = cap, .ecap = VTD_DEFAULT_ECAP };
	struct kvm_vm *vm;
	int dev, r;

	vm = viommu_vm_irqchip(&dev);
	r = __kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_REGS, KVM_DEV_VIOMMU_REGS_CONFIG,
				  &c) ? -errno : 0;
	TEST_ASSERT(r == want,
		    "REGS_CONFIG nr_fault_records %u, CAP.NFR %llu: %d (%s), expected %d (%s)", nr,
		    (unsigned long long)((cap & CAP_NFR_MASK) >> CAP_NFR_SHIFT), r,
		    viommu_err_str(r), want, viommu_err_str(want));
	close(dev);
	kvm_vm_free(vm);
}

/*
 * QEMU's intel-iommu has one fault recording register; a VMM that must
 * look the same to the guest (to migrate between the two) asks for one.
 */
static void test_fault_record_count(void)
{
	struct kvm_viommu_regs_config cfg = { .nr_fault_records = 1, .base = VTD_BASE,
					      .cap = VTD_DEFAULT_CAP,
					      .ecap = VTD_DEFAULT_ECAP };
	struct qt *t = qt_create_cfg(&cfg);
	uint64_t cap;
	uint32_t fsts;
	int n;

	cap = qt_rd64(t, DMAR_CAP_REG);
	TEST_ASSERT((cap & CAP_NFR_MASK) == 0 &&
		    (cap & CAP_FRO_MASK) >> CAP_FRO_SHIFT == KVM_VIOMMU_REG_FRCD / 16,
		    "guest reads CAP 0x%llx: NFR %llu FRO 0x%llx, expected NFR 0 (one record), FRO 0x%x",
		    (unsigned long long)cap,
		    (unsigned long long)((cap & CAP_NFR_MASK) >> CAP_NFR_SHIFT),
		    (unsigned long long)((cap & CAP_FRO_MASK) >> CAP_FRO_SHIFT),
		    KVM_VIOMMU_REG_FRCD / 16);
	TEST_ASSERT(t->v->cfg.nr_fault_records == 1 && t->v->cfg.cap == cap &&
		    t->v->cfg.base == VTD_BASE && !t->v->cfg.flags,
		    "REGS_CONFIG get: nr_fault_records %u cap 0x%llx base 0x%llx flags 0x%x; expected 1, the guest's CAP 0x%llx",
		    t->v->cfg.nr_fault_records, (unsigned long long)t->v->cfg.cap,
		    (unsigned long long)t->v->cfg.base, t->v->cfg.flags,
		    (unsigned long long)cap);

	qt_fault_events(t, false);
	qt_bringup(t, 0, false);
	TEST_ASSERT(qt_signal(t, 5) == 0, "MSI of not-present IRTE 5 delivered");
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT(fsts == DMA_FSTS_PPF, "FSTS 0x%x after one fault, expected PPF, FRI 0", fsts);
	qt_assert_frcd(t, 0, true, KVM_VIOMMU_FR_IR_ENTRY_P, 5);

	/* The only record is full: overflow, not a record beyond it. */
	TEST_ASSERT(qt_signal(t, 6) == 0, "MSI of not-present IRTE 6 delivered");
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT(fsts == (DMA_FSTS_PPF | DMA_FSTS_PFO),
		    "FSTS 0x%x after a second fault, expected PPF|PFO, FRI 0", fsts);
	qt_assert_frcd(t, 0, true, KVM_VIOMMU_FR_IR_ENTRY_P, 5);
	assert_frcd_raw(t, 1, 0, 0, "no second record");
	qt_assert_irqs(t, QT_FAULT_VEC, 1, "one fault event");

	/* dmar_fault() reads CAP.NFR + 1 records; the next fault wraps to 0. */
	n = qt_cmd(t, QT_OP_FAULTS, 0, 0, 0, 0);
	TEST_ASSERT(n == 1 && t->m->faults[0].index == 0 && t->m->faults[0].lo >> 48 == 5,
		    "dmar_fault() read %d records (first: record %u index %llu), expected record 0 of index 5",
		    n, t->m->faults[0].index, (unsigned long long)(t->m->faults[0].lo >> 48));
	TEST_ASSERT(!qt_fsts(t), "FSTS 0x%x after dmar_fault()", qt_fsts(t));
	TEST_ASSERT(qt_signal(t, 7) == 0, "MSI of not-present IRTE 7 delivered");
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT(fsts == DMA_FSTS_PPF, "FSTS 0x%x after the third fault, expected PPF, FRI 0",
		    fsts);
	qt_assert_frcd(t, 0, true, KVM_VIOMMU_FR_IR_ENTRY_P, 7);
	assert_frcd_raw(t, 1, 0, 0, "still no second record");
	qt_assert_irqs(t, QT_FAULT_VEC, 2, "the third fault's event");
	qt_destroy(t);

	/* More than the page has; CAP.NFR that says otherwise. */
	config_fresh(KVM_VIOMMU_NR_FRCD + 1, VTD_DEFAULT_CAP, -EINVAL);
	config_fresh(2, VTD_DEFAULT_CAP | 3ULL << CAP_NFR_SHIFT, -EINVAL);
	config_fresh(1, VTD_DEFAULT_CAP | 1ULL << CAP_NFR_SHIFT, -EINVAL);
	/* NFR that agrees, or that the kernel fills in. */
	config_fresh(2, VTD_DEFAULT_CAP | 1ULL << CAP_NFR_SHIFT, 0);
	config_fresh(KVM_VIOMMU_NR_FRCD, VTD_DEFAULT_CAP, 0);
}

/*
 * With SHV the subhandle is data[15:0]; VT-d reserves data[31:16], and a
 * request with them set faults 0x20 instead of reaching handle + data.
 */
static void test_shv_reserved_data(void)
{
	static const uint32_t bad_data[] = { 0x00010003, 0x80000003, 0xffff0003 };
	struct viommu_msi m = viommu_msi_remappable(64, true, 3);
	struct qt *t = qt_create();
	char what[120];
	unsigned int i;
	int via;

	qt_fault_events(t, false);
	qt_bringup(t, 0, false);
	/* Handle 64 + subhandle 3; and what data[31:16] might be read as. */
	TEST_ASSERT(!qt_cmd(t, QT_OP_MODIFY_IRTE, 67, qt_irte_lo(MSI_VEC + 1), 0, 0),
		    "modify_irte 67");
	TEST_ASSERT(!qt_cmd(t, QT_OP_MODIFY_IRTE, 64, qt_irte_lo(MSI_VEC + 2), 0, 0),
		    "modify_irte 64");

	for (via = 0; via < NR_VIAS; via++) {
		for (i = 0; i < ARRAY_SIZE(bad_data); i++) {
			m.data = bad_data[i];
			snprintf(what, sizeof(what), "%s, SHV, data 0x%08x", via_name[via],
				 bad_data[i]);
			t_block(t, via, m, MSI_VEC + 1, KVM_VIOMMU_FR_IR_REQ_RSVD, 0, what);
			qt_assert_irqs(t, MSI_VEC + 2, 0, what);
		}
		m.data = 3;
		snprintf(what, sizeof(what), "%s, SHV, data 0x00000003", via_name[via]);
		t_deliver(t, via, m, MSI_VEC + 1, what);
	}
	qt_assert_irqs(t, MSI_VEC + 2, 0, "nothing reached handle 64 alone");
	qt_destroy(t);
}

static int __regs_fault_set(int dev, const struct kvm_viommu_dmar_fault *f)
{
	return __kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_REGS, KVM_DEV_VIOMMU_REGS_FAULT,
				     (void *)f);
}

#define FRCD_F		BIT_ULL(63)
#define FRCD_T		BIT_ULL(62)	/* bit 126 of the record: a read */
#define FRCD_PV(p)	((uint64_t)(p) << 40)
#define FRCD_FR(r)	((uint64_t)(r) << 32)
#define FRCD_PP		BIT_ULL(31)

/*
 * The VMM's own DMA translation faults, recorded as hardware (and QEMU's
 * vtd_report_dmar_fault()) records them, with the fault event.
 */
static void test_dmar_fault(void)
{
	const struct kvm_viommu_dmar_fault rd = { .flags = KVM_VIOMMU_DMAR_FAULT_READ,
						  .reason = 0x5, .sid = 0x0108,
						  .addr = 0x12345000 };
	const struct kvm_viommu_dmar_fault wr_pasid = { .flags = KVM_VIOMMU_DMAR_FAULT_PASID,
							.reason = 0x6, .sid = 0x0210,
							.addr = 0xabcde000,
							.pasid = 0x12345 };
	struct kvm_viommu_dmar_fault f;
	struct kvm_vm *vm;
	struct qt *t;
	uint32_t fsts;
	int dev, n, i;

	/* The register page must be there to record anything. */
	vm = viommu_vm_irqchip(&dev);
	require_attr(dev, KVM_DEV_VIOMMU_GRP_REGS, KVM_DEV_VIOMMU_REGS_FAULT, "REGS_FAULT");
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(dev, &rd), ENXIO);
	close(dev);
	kvm_vm_free(vm);

	t = qt_create();
	qt_fault_events(t, false);

	/* What the VMM may not ask for records nothing. */
	f = rd;
	f.flags |= BIT(2);
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &f), EINVAL);
	f = rd;
	f.flags = BIT(31);
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &f), EINVAL);
	f = rd;
	f.reason = 0;
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &f), EINVAL);
	f = rd;
	f.addr = 0x12345800;
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &f), EINVAL);
	f = rd;
	f.addr = 0x12345001;
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &f), EINVAL);
	f = rd;
	f.pasid = 5;
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &f), EINVAL);
	f = wr_pasid;
	f.pasid = BIT(20);
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &f), EINVAL);
	f = rd;
	f.__reserved = 1;
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &f), EINVAL);
	for (i = 0; i < (int)ARRAY_SIZE(f.__reserved2); i++) {
		f = rd;
		f.__reserved2[i] = 1;
		VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &f), EINVAL);
	}
	TEST_ASSERT(!qt_fsts(t), "FSTS 0x%x after rejected REGS_FAULTs", qt_fsts(t));
	assert_frcd_raw(t, 0, 0, 0, "after rejected REGS_FAULTs");
	qt_assert_irqs(t, QT_FAULT_VEC, 0, "no fault event for rejected REGS_FAULTs");

	/* A read of 0x12345000 by 01:01.0, reason 5. */
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &rd), 0);
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT(fsts == DMA_FSTS_PPF, "FSTS 0x%x after REGS_FAULT, expected PPF, FRI 0", fsts);
	assert_frcd_raw(t, 0, 0x12345000, FRCD_F | FRCD_T | FRCD_FR(5) | 0x0108,
			"a read fault");
	qt_assert_irqs(t, QT_FAULT_VEC, 1, "the fault event through FEDATA/FEADDR");
	qt_assert_reg(t, DMAR_FECTL_REG, 4, 0, "FECTL after the fault event");
	n = qt_cmd(t, QT_OP_FAULTS, 0, 0, 0, 0);
	TEST_ASSERT(n == 1 && t->m->faults[0].reason == 5 && t->m->faults[0].sid == 0x0108 &&
		    t->m->faults[0].lo == 0x12345000,
		    "dmar_fault(): %d records, reason 0x%x sid 0x%x addr 0x%llx", n,
		    t->m->faults[0].reason, t->m->faults[0].sid,
		    (unsigned long long)t->m->faults[0].lo);
	TEST_ASSERT(!qt_fsts(t), "FSTS 0x%x after dmar_fault()", qt_fsts(t));

	/* A write with a PASID, and the event goes where FEDATA now says. */
	qt_wr32(t, DMAR_FEDATA_REG, QT_FAULT_VEC + 1);
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &wr_pasid), 0);
	assert_frcd_raw(t, 1, 0xabcde000,
			FRCD_F | FRCD_PV(0x12345) | FRCD_FR(6) | FRCD_PP | 0x0210,
			"a write fault with a PASID");
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT(fsts == (DMA_FSTS_PPF | 1 << 8),
		    "FSTS 0x%x after the second REGS_FAULT, expected PPF, FRI 1", fsts);
	qt_assert_irqs(t, QT_FAULT_VEC + 1, 1, "the fault event at the new FEDATA");
	qt_assert_irqs(t, QT_FAULT_VEC, 1, "nothing at the old FEDATA");
	TEST_ASSERT(qt_cmd(t, QT_OP_FAULTS, 0, 0, 0, 0) == 1, "dmar_fault() of the PASID record");

	/* Masked: FECTL.IP until the guest unmasks. */
	qt_wr32(t, DMAR_FECTL_REG, DMA_ECTL_IM);
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &rd), 0);
	qt_assert_reg(t, DMAR_FECTL_REG, 4, DMA_ECTL_IM | DMA_ECTL_IP, "FECTL, masked");
	qt_assert_irqs(t, QT_FAULT_VEC + 1, 1, "masked fault event");
	qt_wr32(t, DMAR_FECTL_REG, 0);
	qt_assert_irqs(t, QT_FAULT_VEC + 1, 2, "the fault event, unmasked");
	TEST_ASSERT(qt_cmd(t, QT_OP_FAULTS, 0, 0, 0, 0) == 1, "dmar_fault() of the masked one");

	/* Like every fault: PFO when full, and nothing while PFO is set. */
	for (i = 0; i < KVM_VIOMMU_NR_FRCD + 1; i++) {
		f = rd;
		f.addr = 0x100000 + ((uint64_t)i << 12);
		VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &f), 0);
	}
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT((fsts & (DMA_FSTS_PPF | DMA_FSTS_PFO)) == (DMA_FSTS_PPF | DMA_FSTS_PFO),
		    "FSTS 0x%x after 9 REGS_FAULTs, expected PPF|PFO", fsts);
	/* Records 0-2 were used, the burst went to 3-7 and 0-2. */
	qt_wr32(t, DMAR_FRCD_REG(3) + 12, DMA_FRCD_F);
	f = rd;
	f.addr = 0x200000;
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &f), 0);
	assert_frcd_raw(t, 3, 0x100000, FRCD_T | FRCD_FR(5) | 0x0108,
			"the freed record, while PFO is set");
	qt_destroy(t);
}

/*
 * KVM_DEV_VIOMMU_CTRL_RESET is QEMU's device reset: what the guest
 * programmed goes, what the VMM configured stays.
 */
static void test_reset(void)
{
	struct viommu_msi compat = viommu_msi_compat(0, false, MSI_VEC + 15, VIOMMU_DLM_FIXED);
	struct vtd_desc flush = vtd_desc_iotlb(VTD_G_DOMAIN, 4, 0, 0, false);
	struct kvm_viommu_regs_config before, after;
	struct kvm_viommu_ir_table tbl;
	struct kvm_viommu_ir_config c;
	struct kvm_viommu_reset rst;
	struct kvm_viommu_ir_fault f;
	struct kvm_viommu_event e;
	struct qt *t = qt_create();
	uint32_t wait;
	int i, r;
	bool found;

	require_attr(t->v->dev, KVM_DEV_VIOMMU_GRP_CTRL, KVM_DEV_VIOMMU_CTRL_RESET, "CTRL_RESET");
	vtd_regs_get_config(t->v->dev, &before);
	ir_config_set(t->v->dev, KVM_VIOMMU_IR_CONFIG_SID_UNKNOWN_OK);
	event_config_entries(t->v->dev, KVM_VIOMMU_EVENT_IOTLB, 0);

	qt_fault_events(t, false);
	qt_inv_events(t, false);
	qt_bringup(t, 0, false);
	TEST_ASSERT(!qt_cmd(t, QT_OP_MODIFY_IRTE, 5, qt_irte_lo(MSI_VEC), 0, 0), "modify_irte");
	qt_wr64(t, DMAR_RTADDR_REG, 0x5555000);
	/* A pending fault, and a compatibility MSI that IR on blocks. */
	TEST_ASSERT(qt_signal(t, 9) == 0, "MSI of not-present IRTE 9 delivered");
	TEST_ASSERT(viommu_signal_msi(t->v->vm, &compat) == 0,
		    "compatibility MSI delivered with IRE on, CFIS clear");
	qt_assert_irqs(t, MSI_VEC + 15, 0, "compatibility MSI blocked before the reset");
	TEST_ASSERT(qt_rd32(t, DMAR_FSTS_REG) & DMA_FSTS_PPF, "no pending fault before the reset");
	/* An event the VMM has not popped holds a wait. */
	qt_queue(t, &flush, 1, QT_Q_WAIT | QT_Q_RING, 0, &wait);
	TEST_ASSERT(qt_status(t, wait) == QI_IN_USE, "wait behind an unACKed event completed");

	/* Nothing but zeros resets. */
	rst = (struct kvm_viommu_reset){ .flags = 1 };
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t->v->dev, KVM_DEV_VIOMMU_GRP_CTRL,
						  KVM_DEV_VIOMMU_CTRL_RESET, &rst), EINVAL);
	rst = (struct kvm_viommu_reset){ .__reserved = 1 };
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t->v->dev, KVM_DEV_VIOMMU_GRP_CTRL,
						  KVM_DEV_VIOMMU_CTRL_RESET, &rst), EINVAL);
	for (i = 0; i < (int)ARRAY_SIZE(rst.__reserved2); i++) {
		rst = (struct kvm_viommu_reset){ .flags = 0 };
		rst.__reserved2[i] = 1;
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t->v->dev, KVM_DEV_VIOMMU_GRP_CTRL,
							  KVM_DEV_VIOMMU_CTRL_RESET, &rst), EINVAL);
	}
	qt_assert_reg(t, DMAR_GSTS_REG, 4, DMA_GSTS_QIES | DMA_GSTS_IRTPS | DMA_GSTS_IRES,
		      "GSTS after rejected resets");

	rst = (struct kvm_viommu_reset){ .flags = 0 };
	kvm_device_attr_set(t->v->dev, KVM_DEV_VIOMMU_GRP_CTRL,
			    KVM_DEV_VIOMMU_CTRL_RESET, &rst);

	/* The register file as at power-on. */
	qt_assert_reg(t, DMAR_GSTS_REG, 4, 0, "GSTS after reset");
	qt_assert_reg(t, DMAR_FSTS_REG, 4, 0, "FSTS after reset");
	qt_assert_reg(t, DMAR_FECTL_REG, 4, DMA_ECTL_IM, "FECTL after reset");
	qt_assert_reg(t, DMAR_FEDATA_REG, 4, 0, "FEDATA after reset");
	qt_assert_reg(t, DMAR_FEADDR_REG, 4, 0, "FEADDR after reset");
	qt_assert_reg(t, DMAR_IECTL_REG, 4, DMA_ECTL_IM, "IECTL after reset");
	qt_assert_reg(t, DMAR_IEDATA_REG, 4, 0, "IEDATA after reset");
	qt_assert_reg(t, DMAR_ICS_REG, 4, 0, "ICS after reset");
	qt_assert_reg(t, DMAR_IQA_REG, 8, 0, "IQA after reset");
	qt_assert_reg(t, DMAR_IQT_REG, 8, 0, "IQT after reset");
	qt_assert_reg(t, DMAR_IQH_REG, 8, 0, "IQH after reset");
	qt_assert_reg(t, DMAR_IRTA_REG, 8, 0, "IRTA after reset");
	qt_assert_reg(t, DMAR_RTADDR_REG, 8, 0, "RTADDR after reset");
	assert_frcd_raw(t, 0, 0, 0, "after reset");
	qt_assert_reg(t, DMAR_CAP_REG, 8, before.cap, "CAP after reset");
	qt_assert_reg(t, DMAR_ECAP_REG, 8, before.ecap, "ECAP after reset");
	TEST_ASSERT(viommu_get_ir_status(t->v->dev) == 0, "IR_STATUS 0x%x after reset",
		    viommu_get_ir_status(t->v->dev));
	memset(&tbl, 0xa5, sizeof(tbl));
	kvm_device_attr_get(t->v->dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_TABLE, &tbl);
	TEST_ASSERT(tbl.irta == 0, "IR_TABLE 0x%llx after reset", (unsigned long long)tbl.irta);

	/* What the VMM configured. */
	vtd_regs_get_config(t->v->dev, &after);
	TEST_ASSERT(!memcmp(&before, &after, sizeof(before)),
		    "REGS_CONFIG changed by the reset: base 0x%llx/0x%llx cap 0x%llx/0x%llx ecap 0x%llx/0x%llx nr %u/%u",
		    (unsigned long long)before.base, (unsigned long long)after.base,
		    (unsigned long long)before.cap, (unsigned long long)after.cap,
		    (unsigned long long)before.ecap, (unsigned long long)after.ecap,
		    before.nr_fault_records, after.nr_fault_records);
	ir_config_get(t->v->dev, &c);
	TEST_ASSERT(c.flags == KVM_VIOMMU_IR_CONFIG_SID_UNKNOWN_OK,
		    "IR_CONFIG 0x%x after reset, expected SID_UNKNOWN_OK kept", c.flags);
	/* The VMM's fault records not yet read are still there. */
	found = viommu_pop_fault(t->v->dev, &f);
	TEST_ASSERT(found && f.reason == KVM_VIOMMU_FR_IR_ENTRY_P &&
		    f.index == 9, "fault fd after reset: flags 0x%x reason 0x%x index %u", f.flags,
		    f.reason, f.index);
	found = viommu_pop_fault(t->v->dev, &f);
	TEST_ASSERT(found && f.reason == KVM_VIOMMU_FR_IR_COMPAT,
		    "fault fd after reset: flags 0x%x reason 0x%x, expected the compat fault",
		    f.flags, f.reason);
	/* Pending events went as acknowledged (the numbering goes on, below). */
	vtd_assert_no_event(t->v->dev);

	/* Interrupts as without remapping. */
	r = viommu_signal_msi(t->v->vm, &compat);
	TEST_ASSERT(r >= 1, "compatibility MSI after reset: %d", r);
	qt_assert_irqs(t, MSI_VEC + 15, 1, "compatibility MSI after reset");
	qt_assert_irqs(t, QT_FAULT_VEC, 1, "no fault event after reset");

	/* The guest's driver starts again, as after a reboot. */
	t->iommu->gcmd = 0;
	qt_fault_events(t, false);
	qt_bringup(t, 0, false);
	r = qt_signal(t, 5);
	TEST_ASSERT(r >= 1, "IRTE 5 after the new bring-up: %d", r);
	qt_assert_irqs(t, MSI_VEC, 1, "IRTE 5 after the new bring-up");
	qt_queue(t, &flush, 1, QT_Q_RING, 0, NULL);
	vtd_event_pop(t->v->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_IOTLB && e.seq == 2 && e.desc[0] == flush.qw[0],
		    "event types kept by the reset: type 0x%x seq %llu desc 0x%llx", e.type,
		    (unsigned long long)e.seq, (unsigned long long)e.desc[0]);
	vtd_event_ack(t->v->dev, e.seq);
	qt_assert_idle(t, "after the new bring-up");
	qt_destroy(t);
}

/*
 * KVM_VIOMMU_EVENT_IR tells a VMM that follows interrupt remapping
 * (QEMU's vtd_* IR state, for its userspace I/O APIC) what the guest did.
 * The kernel does not wait for the VMM: neither GSTS nor the queue.
 */
static void test_ir_events(void)
{
	static const uint32_t want_gsts[3] = {
		DMA_GSTS_QIES | DMA_GSTS_IRTPS,
		DMA_GSTS_QIES | DMA_GSTS_IRTPS | DMA_GSTS_IRES,
		DMA_GSTS_QIES | DMA_GSTS_IRTPS,
	};
	struct kvm_viommu_event e;
	struct qt *t = qt_create();
	int rfd = vtd_event_fd(t->v->dev), i, rc;
	uint32_t gsts, index, wait;
	bool released = false;
	struct vtd_desc iec;

	event_config_entries(t->v->dev, KVM_VIOMMU_EVENT_IR, 0);
	qt_cmd(t, QT_OP_ENABLE_QI, 0, false, 0, 0);
	qt_wr64(t, DMAR_IRTA_REG, QT_IRTA);
	TEST_ASSERT(!viommu_ring_readable(rfd), "event fd readable after QIE or an IRTA write");
	vtd_assert_no_event(t->v->dev);

	/* SIRTP, IRE, IRE off: each shows in GSTS at once. */
	gsts = qt_cmd(t, QT_OP_GCMD, DMA_GCMD_QIE, DMA_GCMD_SIRTP, DMA_GSTS_IRTPS, DMA_GSTS_IRTPS);
	TEST_ASSERT(gsts == want_gsts[0], "GSTS 0x%x after SIRTP", gsts);
	gsts = qt_cmd(t, QT_OP_GCMD, DMA_GCMD_QIE | DMA_GCMD_IRE, 0, DMA_GSTS_IRES, DMA_GSTS_IRES);
	TEST_ASSERT(gsts == want_gsts[1], "GSTS 0x%x after IRE", gsts);
	gsts = qt_cmd(t, QT_OP_GCMD, DMA_GCMD_QIE, 0, DMA_GSTS_IRES, 0);
	TEST_ASSERT(gsts == want_gsts[2], "GSTS 0x%x after IRE off", gsts);
	TEST_ASSERT(viommu_ring_readable(rfd), "event fd not readable for IR events");

	for (i = 0; i < 3; i++) {
		viommu_ring_read(rfd, &e, sizeof(e));
		TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_IR && e.seq == (uint64_t)i + 1 && !e.flags &&
			    e.desc[0] == want_gsts[i] && e.desc[1] == QT_IRTA && !e.desc[2] &&
			    !e.desc[3],
			    "IR event %d: type 0x%x seq %llu flags 0x%x GSTS 0x%llx IRTA 0x%llx; expected type 0x%x seq %d GSTS 0x%x IRTA 0x%llx",
			    i, e.type, (unsigned long long)e.seq, e.flags,
			    (unsigned long long)e.desc[0], (unsigned long long)e.desc[1],
			    KVM_VIOMMU_EVENT_IR, i + 1, want_gsts[i], (unsigned long long)QT_IRTA);
	}
	vtd_assert_no_event(t->v->dev);

	/*
	 * None of them acknowledged: the driver's next qi_submit_sync() (the
	 * global IEC that Linux sends after SIRTP) must complete all the same.
	 */
	iec = vtd_desc_iec_global();
	index = qt_queue(t, &iec, 1, QT_Q_WAIT | QT_Q_RING, 0, &wait);
	rc = qt_poll(t, index, wait, 0);
	if (rc) {
		/* Say what held it: if the ACK releases the wait, the IR events did. */
		vtd_event_ack(t->v->dev, 3);
		released = !qt_poll(t, index, wait, 0);
	}
	TEST_ASSERT(!rc,
		    "global IEC + wait with 3 IR events unacknowledged: poll %d (%s); %s",
		    rc, rc == -ETIMEDOUT ? "the wait never completed" : "IQE",
		    released ? "the ACK of the IR events released it: IR events hold the queue" :
		    "not even an ACK of the IR events released it");
	qt_assert_idle(t, "after the IEC");

	/*
	 * The Linux bring-up from the start, with the events still unACKed:
	 * SIRTP, its global IEC, IRE.
	 */
	qt_cmd(t, QT_OP_DISABLE_QI, 0, 0, 0, 0);
	rc = qt_cmd(t, QT_OP_BRINGUP, 0, false, QT_IRTA, 0);
	TEST_ASSERT(!rc, "Linux bring-up with IR events unacknowledged: %d", rc);
	vtd_event_pop(t->v->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_IR && e.seq == 4,
		    "bring-up's SIRTP event: type 0x%x seq %llu", e.type,
		    (unsigned long long)e.seq);
	vtd_event_pop(t->v->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_IR && e.seq == 5 &&
		    e.desc[0] == (DMA_GSTS_QIES | DMA_GSTS_IRTPS | DMA_GSTS_IRES),
		    "bring-up's IRE event: type 0x%x seq %llu GSTS 0x%llx", e.type,
		    (unsigned long long)e.seq, (unsigned long long)e.desc[0]);
	vtd_event_ack(t->v->dev, e.seq);
	close(rfd);
	qt_destroy(t);
}

#define BURST		1000

/* A burst of @BURST IOTLB flushes, DIDs from @did; the queue drains. */
static void iotlb_burst(struct qt *t, uint16_t did)
{
	qt_cmd(t, OP_IOTLB_BURST, BURST, did, 0, 0);
	qt_assert_idle(t, "after the burst");
}

/*
 * Reads the ring until it is empty.  Returns how many events there were;
 * *lost counts the records of a loss, which must come after every event,
 * and *last is the last record's seq.
 */
static int pop_all(int dev, uint16_t did, uint64_t first_seq, int *lost, uint64_t *last)
{
	struct kvm_viommu_event e;
	uint64_t prev = first_seq - 1;
	int n;

	*lost = 0;
	*last = 0;
	for (n = 0; vtd_event_pop(dev, &e); n++) {
		*last = e.seq;
		if (e.flags & KVM_VIOMMU_EVENT_F_LOST) {
			TEST_ASSERT(e.flags == KVM_VIOMMU_EVENT_F_LOST && !e.type && e.seq > prev,
				    "record of a loss %d: type 0x%x flags 0x%x seq %llu after seq %llu",
				    n, e.type, e.flags, (unsigned long long)e.seq,
				    (unsigned long long)prev);
			(*lost)++;
			n--;
			continue;
		}
		TEST_ASSERT(!*lost, "event %d: seq %llu after the record of a loss", n,
			    (unsigned long long)e.seq);
		TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_IOTLB && e.seq == first_seq + n &&
			    e.flags == KVM_VIOMMU_EVENT_F_QUEUED &&
			    (uint16_t)(e.desc[0] >> 16) == (uint16_t)(did + n),
			    "event %d: type 0x%x seq %llu flags 0x%x DID %u, expected seq %llu DID %u",
			    n, e.type, (unsigned long long)e.seq, e.flags,
			    (uint16_t)(e.desc[0] >> 16), (unsigned long long)(first_seq + n),
			    (uint16_t)(did + n));
		prev = e.seq;
	}
	return n;
}

/*
 * A strict-mode guest unmaps in bursts; a VMM sizes the ring for them.
 * 1000 IOTLB flushes fit in 4096 entries, not in the default 64.
 */
static void test_event_ring_size(void)
{
	struct kvm_viommu_event_config bad;
	struct qt *t = qt_create();
	int dev = t->v->dev, n, lost;
	uint64_t last;

	VIOMMU_ASSERT_ERRNO(__event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 4096), 0);
	/* A queue of 1024 entries: the burst and more. */
	qt_cmd(t, QT_OP_ENABLE_QI, 2, false, 0, 0);
	iotlb_burst(t, 0);

	/* Queued events do not fit in a smaller ring; they move to one that holds them. */
	VIOMMU_ASSERT_ERRNO(__event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 512), EBUSY);
	VIOMMU_ASSERT_ERRNO(__event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 0), EBUSY);
	VIOMMU_ASSERT_ERRNO(__event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 1024), 0);
	n = pop_all(dev, 0, 1, &lost, &last);
	TEST_ASSERT(n == BURST && !lost && last == BURST,
		    "4096 entries, then 1024: %d of %d events, %d records of a loss, last seq %llu",
		    n, BURST, lost, (unsigned long long)last);
	vtd_event_ack(dev, last);

	/*
	 * The default ring loses most of the same burst, and says so once,
	 * after the 64 that fit, with the last lost number.
	 */
	VIOMMU_ASSERT_ERRNO(__event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 64), 0);
	iotlb_burst(t, 2000);
	n = pop_all(dev, 2000, BURST + 1, &lost, &last);
	TEST_ASSERT(n == 64 && lost == 1 && last == 2 * BURST,
		    "64 entries: %d events, %d records of a loss, last seq %llu; expected 64, one, %d",
		    n, lost, (unsigned long long)last, 2 * BURST);
	vtd_event_ack(dev, last);

	/* 4096 again, for a burst twice over: nothing lost. */
	VIOMMU_ASSERT_ERRNO(__event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 4096), 0);
	iotlb_burst(t, 4000);
	iotlb_burst(t, 5000);
	n = pop_all(dev, 4000, 2 * BURST + 1, &lost, &last);
	TEST_ASSERT(n == 2 * BURST && !lost && last == 4 * BURST,
		    "4096 entries, two bursts: %d events, %d records of a loss, last seq %llu", n,
		    lost, (unsigned long long)last);
	vtd_event_ack(dev, last);

	/* Sizes that are not a power of 2, or above 4096; and __reserved. */
	VIOMMU_ASSERT_ERRNO(__event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 3), EINVAL);
	VIOMMU_ASSERT_ERRNO(__event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 1000), EINVAL);
	VIOMMU_ASSERT_ERRNO(__event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 8192), EINVAL);
	VIOMMU_ASSERT_ERRNO(__event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 0x80000000U), EINVAL);
	for (n = 0; n < (int)ARRAY_SIZE(bad.__reserved); n++) {
		bad = (struct kvm_viommu_event_config){ .types = KVM_VIOMMU_EVENT_IOTLB };
		bad.__reserved[n] = 1;
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_EVENT,
							  KVM_DEV_VIOMMU_EVENT_CONFIG, &bad), EINVAL);
	}
	VIOMMU_ASSERT_ERRNO(__event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 1), 0);
	VIOMMU_ASSERT_ERRNO(__event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 0), 0);
	qt_destroy(t);
}

/*
 * A ring of @entries takes @entries events; the next is lost, and a
 * record of the loss follows the events that fit, its seq the last lost
 * one's, updated by later losses.  An event after the VMM made room comes
 * after that record.
 */
#define LO_ENTRIES	4

static void test_event_ring_lost_order(void)
{
	struct kvm_viommu_event ev[LO_ENTRIES + 4];
	struct vtd_desc d[LO_ENTRIES + 3];
	struct qt *t = qt_create();
	int dev = t->v->dev, rfd, i;
	static const struct { uint64_t seq; uint32_t flags; } want[] = {
		{ 3, KVM_VIOMMU_EVENT_F_QUEUED }, { 4, KVM_VIOMMU_EVENT_F_QUEUED },
		{ 6, KVM_VIOMMU_EVENT_F_LOST }, { 7, KVM_VIOMMU_EVENT_F_QUEUED },
	};
	ssize_t n;

	VIOMMU_ASSERT_ERRNO(__event_config(dev, KVM_VIOMMU_EVENT_IOTLB, LO_ENTRIES), 0);
	qt_cmd(t, QT_OP_ENABLE_QI, 0, false, 0, 0);
	for (i = 0; i < (int)ARRAY_SIZE(d); i++)
		d[i] = vtd_desc_iotlb(VTD_G_DOMAIN, i + 1, 0, 0, false);
	rfd = vtd_event_fd(dev);

	/* entries + 1 events, then one more: seq 5 lost, then 6. */
	qt_queue(t, d, LO_ENTRIES + 1, QT_Q_RING, 0, NULL);
	qt_queue(t, &d[LO_ENTRIES + 1], 1, QT_Q_RING, 0, NULL);
	qt_assert_idle(t, "entries + 2 IOTLB events");

	/* Two of them in one read; then room for one more event, seq 7. */
	n = read(rfd, ev, 2 * sizeof(ev[0]));
	TEST_ASSERT(n == 2 * sizeof(ev[0]) && ev[0].seq == 1 && ev[1].seq == 2,
		    "read of 2 records: %zd bytes (%s), seq %llu %llu", n,
		    n < 0 ? strerror(errno) : "ok", (unsigned long long)ev[0].seq,
		    (unsigned long long)ev[1].seq);
	qt_queue(t, &d[LO_ENTRIES + 2], 1, QT_Q_RING, 0, NULL);
	qt_assert_idle(t, "an IOTLB event after the read");

	memset(ev, 0, sizeof(ev));
	n = read(rfd, ev, sizeof(ev));
	TEST_ASSERT(n == ARRAY_SIZE(want) * sizeof(ev[0]),
		    "read of the rest: %zd bytes (%s), expected %zu records", n,
		    n < 0 ? strerror(errno) : "ok", ARRAY_SIZE(want));
	for (i = 0; i < (int)ARRAY_SIZE(want); i++)
		TEST_ASSERT(ev[i].seq == want[i].seq && ev[i].flags == want[i].flags &&
			    ev[i].type == (want[i].flags & KVM_VIOMMU_EVENT_F_LOST ?
					   0 : KVM_VIOMMU_EVENT_IOTLB),
			    "record %d: type 0x%x flags 0x%x seq %llu, expected flags 0x%x seq %llu",
			    i, ev[i].type, ev[i].flags, (unsigned long long)ev[i].seq,
			    want[i].flags, (unsigned long long)want[i].seq);
	TEST_ASSERT(!viommu_ring_readable(rfd), "the event fd readable once emptied");
	vtd_event_ack(dev, 7);
	close(rfd);
	qt_assert_idle(t, "after the ACK");
	qt_destroy(t);
}

/*
 * QEMU's vtd_handle_gcmd_qie() runs the queue when QIE is enabled with a
 * tail already written; Windows guests rely on it.
 */
static void test_qie_with_tail(void)
{
	struct viommu_stats s0, s1;
	struct qt *t = qt_create();
	int64_t status;

	viommu_get_stats(t->v->dev, &s0);
	status = qt_cmd(t, OP_QIE_WITH_TAIL, 0, 0, 0, 0);
	TEST_ASSERT(t->m->ret2 == QI_IN_USE && t->m->ret3 == 0,
		    "before QIE: wait status %llu, IQH 0x%llx; expected nothing run",
		    (unsigned long long)t->m->ret2, (unsigned long long)t->m->ret3);
	TEST_ASSERT(status == QI_DONE,
		    "wait status %lld once QIES shows, expected %d (QI_DONE): the tail written before QIE was not run",
		    (long long)status, QI_DONE);
	qt_assert_reg(t, DMAR_IQH_REG, 8, 2 << 4, "IQH after QIE");
	qt_assert_reg(t, DMAR_IQT_REG, 8, 2 << 4, "IQT after QIE");
	qt_assert_idle(t, "after QIE");
	viommu_get_stats(t->v->dev, &s1);
	TEST_ASSERT(s1.invalidations - s0.invalidations == 1,
		    "stats.invalidations moved by %llu, expected the queued IEC's 1",
		    (unsigned long long)(s1.invalidations - s0.invalidations));
	/* And the queue goes on from there. */
	TEST_ASSERT(!qt_submit1(t, vtd_desc_iec(3, 0)), "IEC after QIE");
	qt_assert_idle(t, "after a later IEC");
	qt_destroy(t);
}

/*
 * Linux's qi_flush_iotlb() widens AM over a range and leaves ADDR's low
 * bits set (ADDR 0x1000 with AM 2); hardware ignores them.  AM beyond
 * MAMV is still an invalid descriptor.
 */
static void test_psi_unaligned(void)
{
	static const uint64_t addrs[] = { 0x1000, 0x2000, 0x3000, 0x12345000 };
	struct kvm_viommu_event e;
	struct vtd_desc d;
	struct qt *t = qt_create();
	uint32_t index, wait;
	unsigned int i;
	int rc;

	qt_bringup(t, 0, false);
	for (i = 0; i < ARRAY_SIZE(addrs); i++) {
		rc = qt_cmd(t, QT_OP_FLUSH_IOTLB, 7, addrs[i], 2, VTD_G_PAGE);
		TEST_ASSERT(!rc, "qi_flush_iotlb(ADDR 0x%llx, AM 2): %d (%s)",
			    (unsigned long long)addrs[i], rc, rc == -EINVAL ? "IQE" : "timed out");
		qt_assert_idle(t, "after a PSI with ADDR below 2^AM set");
	}
	rc = qt_cmd(t, QT_OP_FLUSH_IOTLB, 7, 0x1ff000, VTD_MAMV, VTD_G_PAGE);
	TEST_ASSERT(!rc, "qi_flush_iotlb(ADDR 0x1ff000, AM MAMV): %d", rc);
	rc = qt_cmd(t, QT_OP_FLUSH_IOTLB, 7, 0x1000, VTD_MAMV + 1, VTD_G_PAGE);
	TEST_ASSERT(rc == -EINVAL, "qi_flush_iotlb(AM MAMV + 1): %d, expected IQE (-EINVAL)", rc);
	/* Linux's recovery: the wait over it, IQE cleared, the next submission. */
	TEST_ASSERT(!qt_submit1(t, vtd_desc_iec_global()), "IEC after the IQE");
	qt_assert_idle(t, "after the IQE was handled");

	/* The VMM gets the descriptor as the guest wrote it. */
	event_config_entries(t->v->dev, KVM_VIOMMU_EVENT_IOTLB, 0);
	d = vtd_desc_iotlb(VTD_G_PAGE, 7, 0x1000, 2, false);
	d.qw[0] |= QI_IOTLB_DW | QI_IOTLB_DR;
	index = qt_queue(t, &d, 1, QT_Q_WAIT | QT_Q_RING, 0, &wait);
	TEST_ASSERT(!(qt_rd32(t, DMAR_FSTS_REG) & DMA_FSTS_IQE), "IQE on the PSI with events on");
	vtd_event_pop(t->v->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_IOTLB && e.seq == 1 &&
		    e.flags == KVM_VIOMMU_EVENT_F_QUEUED && e.desc[0] == d.qw[0] &&
		    e.desc[1] == d.qw[1],
		    "PSI event: type 0x%x seq %llu flags 0x%x desc 0x%llx 0x%llx; expected 0x%llx 0x%llx",
		    e.type, (unsigned long long)e.seq, e.flags, (unsigned long long)e.desc[0],
		    (unsigned long long)e.desc[1], (unsigned long long)d.qw[0],
		    (unsigned long long)d.qw[1]);
	TEST_ASSERT(qt_status(t, wait) == QI_IN_USE, "wait completed before the ACK");
	vtd_event_ack(t->v->dev, e.seq);
	TEST_ASSERT(!qt_poll(t, index, wait, 0), "poll of the PSI's wait after the ACK");
	qt_assert_idle(t, "after the ACK");
	qt_destroy(t);
}

/* ---- driver ----------------------------------------------------------------------------- */

static const struct viommu_case cases[] = {
	{ "sid_policy",			test_sid_policy },
	{ "pfo_blocks",			test_pfo_blocks },
	{ "fault_record_count",		test_fault_record_count },
	{ "shv_reserved_data",		test_shv_reserved_data },
	{ "dmar_fault",			test_dmar_fault },
	{ "reset",			test_reset },
	{ "ir_events",			test_ir_events },
	{ "event_ring_size",		test_event_ring_size },
	{ "event_ring_lost_order",	test_event_ring_lost_order },
	{ "qie_with_tail",		test_qie_with_tail },
	{ "psi_unaligned",		test_psi_unaligned },
};

int main(int argc, char *argv[])
{
	qt_set_guest_op(vtd_guest_op);
	viommu_ir_test_main(argc, argv, cases, ARRAY_SIZE(cases), CASE_TIMEOUT_S);
}
