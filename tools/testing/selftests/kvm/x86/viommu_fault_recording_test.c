// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_fault_recording_test: interrupt-remapping and DMA faults of the
 * KVM_DEV_TYPE_INTEL_VIOMMU device as Linux 6.1's intel-iommu driver
 * (dmar_fault()) and QEMU's own intel-iommu expect to find them:
 *
 *  - source-id verification of requests without a requester ID, and the
 *    VMM's choice of QEMU's policy for them (KVM_DEV_VIOMMU_IR_CONFIG);
 *  - PFO blocks new records until software clears it;
 *  - the VMM chooses how many fault recording registers the guest sees
 *    (nr_fault_records), as QEMU's one, for a guest that migrates between
 *    the two;
 *  - a remappable MSI with SHV and data bits 31:16 set is a reserved-field
 *    fault, as the subhandle is 16 bits;
 *  - the VMM records DMA-remapping faults of its own
 *    (KVM_DEV_VIOMMU_REGS_FAULT) as hardware would.
 *
 * Each fault must be seen alike in the registers and in the VMM's fault
 * ring, whether the MSI came by KVM_SIGNAL_MSI or through an irqfd.  The
 * guest (one x2APIC vCPU that counts its interrupts) runs the Linux
 * driver's register sequences, one command at a time
 * (include/viommu_qt.h).  A test that needs an attribute the loaded KVM
 * lacks fails under VIOMMU_REQUIRE_DEVICE and skips otherwise.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
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
#include "viommu_vtd_behaviour.h"
#include "viommu_test.h"

#define TEST_TIMEOUT_S		180

/* The GSI whose irqfd carries the MSIs that go the irqfd way. */
#define T_GSI			40

/* Polls of the guest while an irqfd's interrupt or fault is on its way. */
#define SETTLE_POLLS		5000

FIXTURE(fault_recording) {};
FIXTURE_SETUP(fault_recording) {}
FIXTURE_TEARDOWN(fault_recording) {}

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

#define SID_IDX		10
#define SID_OK		0x0108
#define SID_BAD		0x0109

/*
 * An IRTE with SVT 1 asks for the requester's SID.  A request without one
 * cannot be verified: it fails by default, as on hardware, and passes under
 * QEMU's policy, SID_UNKNOWN_OK.  A wrong SID fails under both.
 */
TEST_F_TIMEOUT(fault_recording, sid_policy, TEST_TIMEOUT_S)
{
	struct viommu_msi none = viommu_msi_remappable(SID_IDX, false, 0);
	struct viommu_msi good = viommu_msi_devid(none, SID_OK);
	struct viommu_msi bad = viommu_msi_devid(none, SID_BAD);
	struct kvm_viommu_ir_config c;
	struct qt *t = qt_create();
	const char *why;
	char what[120];
	int via, i;

	why = vb_attr_unsupported(t->v->dev, KVM_DEV_VIOMMU_GRP_IR, KVM_DEV_VIOMMU_IR_CONFIG,
				  "IR_CONFIG");
	if (why) {
		qt_destroy(t);
		SKIP(return, "%s", why);
	}
	vb_ir_config_get(t->v->dev, &c);
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

	vb_ir_config_set(t->v->dev, KVM_VIOMMU_IR_CONFIG_SID_UNKNOWN_OK);
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
	vb_ir_config_get(t->v->dev, &c);
	TEST_ASSERT(c.flags == KVM_VIOMMU_IR_CONFIG_SID_UNKNOWN_OK,
		    "IR_CONFIG 0x%x after rejected sets, expected SID_UNKNOWN_OK kept", c.flags);

	/* And back: strict again. */
	vb_ir_config_set(t->v->dev, 0);
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
TEST_F_TIMEOUT(fault_recording, pfo_blocks, TEST_TIMEOUT_S)
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
TEST_F_TIMEOUT(fault_recording, fault_record_count, TEST_TIMEOUT_S)
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
	vb_assert_frcd_raw(t, 1, 0, 0, "no second record");
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
	vb_assert_frcd_raw(t, 1, 0, 0, "still no second record");
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
TEST_F_TIMEOUT(fault_recording, shv_reserved_data, TEST_TIMEOUT_S)
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
TEST_F_TIMEOUT(fault_recording, dmar_fault, TEST_TIMEOUT_S)
{
	const struct kvm_viommu_dmar_fault rd = { .flags = KVM_VIOMMU_DMAR_FAULT_READ,
						  .reason = 0x5, .sid = 0x0108,
						  .addr = 0x12345000 };
	const struct kvm_viommu_dmar_fault wr_pasid = { .flags = KVM_VIOMMU_DMAR_FAULT_PASID,
							.reason = 0x6, .sid = 0x0210,
							.addr = 0xabcde000,
							.pasid = 0x12345 };
	struct kvm_viommu_dmar_fault f;
	const char *why;
	struct kvm_vm *vm;
	struct qt *t;
	uint32_t fsts;
	int dev, n, i;

	/* The register page must be there to record anything. */
	vm = viommu_vm_irqchip(&dev);
	why = vb_attr_unsupported(dev, KVM_DEV_VIOMMU_GRP_REGS, KVM_DEV_VIOMMU_REGS_FAULT,
				  "REGS_FAULT");
	if (why) {
		close(dev);
		kvm_vm_free(vm);
		SKIP(return, "%s", why);
	}
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
	vb_assert_frcd_raw(t, 0, 0, 0, "after rejected REGS_FAULTs");
	qt_assert_irqs(t, QT_FAULT_VEC, 0, "no fault event for rejected REGS_FAULTs");

	/* A read of 0x12345000 by 01:01.0, reason 5. */
	VIOMMU_ASSERT_ERRNO(__regs_fault_set(t->v->dev, &rd), 0);
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT(fsts == DMA_FSTS_PPF, "FSTS 0x%x after REGS_FAULT, expected PPF, FRI 0", fsts);
	vb_assert_frcd_raw(t, 0, 0x12345000, FRCD_F | FRCD_T | FRCD_FR(5) | 0x0108,
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
	vb_assert_frcd_raw(t, 1, 0xabcde000,
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
	vb_assert_frcd_raw(t, 3, 0x100000, FRCD_T | FRCD_FR(5) | 0x0108,
			   "the freed record, while PFO is set");
	qt_destroy(t);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, vtd_regs_unsupported);
}
