// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_qi_test: the invalidation queue of the KVM_DEV_TYPE_INTEL_VIOMMU
 * device's VT-d register page, as the Linux intel-iommu driver uses it: its
 * bring-up of interrupt remapping, the interrupt entry cache, IOTLB and
 * context-cache invalidations and the waits behind them, a queue that wraps,
 * 256-bit descriptors, the IQE that stops the queue on a descriptor it must
 * not run, and the invalidation completion interrupt.  The queue is served
 * in KVM, so none of it may exit to userspace, not even a doorbell storm on
 * the largest queue.
 *
 * The guest runs the driver's register sequences one command at a time
 * (include/viommu_qt.h); a command's only exit is its closing GUEST_SYNC.
 * The program skips without the register page.
 */
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
#include "viommu.h"
#include "viommu_regs.h"
#include "viommu_qt.h"
#include "viommu_qi.h"
#include "viommu_test.h"

#define TEST_TIMEOUT_S		120

/* Outside every memslot. */
#define NO_MEM_GPA		0x7f00000000ULL

/* ---- the guest's commands of this test's own ---------------------------------------- */

enum {
	OP_FILL = QT_OP_TEST,	/* arg: first, count: that many IOTLB-global entries */
	OP_STORM,		/* arg: doorbells: IQT one short of IQH each -> ret IQH */
};

static void guest_fill(struct vtd_iommu *iommu, uint32_t first, uint32_t count)
{
	struct vtd_desc d = vtd_desc_iotlb(VTD_G_GLOBAL, 0, 0, 0, false);
	uint32_t i;

	for (i = 0; i < count; i++)
		memcpy((void *)(iommu->qa + ((uint64_t)((first + i) % iommu->len) << iommu->shift)),
		       &d, 1U << iommu->shift);
}

static uint64_t guest_storm(struct vtd_iommu *iommu, uint64_t doorbells)
{
	uint32_t head = 0;
	uint64_t i;

	for (i = 0; i < doorbells; i++) {
		head = vtd_readl(iommu, DMAR_IQH_REG) >> iommu->shift;
		iommu->free_head = (head + iommu->len - 1) % iommu->len;
		vtd_qi_doorbell(iommu);
		GUEST_ASSERT_2(vtd_readl(iommu, DMAR_IQH_REG) == iommu->free_head << iommu->shift,
			       vtd_readl(iommu, DMAR_IQH_REG), i);
	}
	return vtd_readl(iommu, DMAR_IQH_REG);
}

static bool qi_guest_op(struct qt_mbox *m, struct vtd_iommu *iommu)
{
	uint64_t *a = m->arg;

	switch (m->op) {
	case OP_FILL:
		guest_fill(iommu, a[0], a[1]);
		return true;
	case OP_STORM:
		m->ret = guest_storm(iommu, a[0]);
		return true;
	}
	return false;
}

/* Each test's guests take the storm's commands. */
FIXTURE(qi) {};
FIXTURE_SETUP(qi)
{
	qt_set_guest_op(qi_guest_op);
}

FIXTURE_TEARDOWN(qi) {}

/* ---- tests: the Linux driver's sequences -------------------------------------------- */

TEST_F_TIMEOUT(qi, linux_bringup_iec, TEST_TIMEOUT_S)
{
	struct qt *t = qt_create();
	struct viommu_msi compat = viommu_msi_compat(0, false, QI_MSI_VEC + 15, VIOMMU_DLM_FIXED);
	struct viommu_stats s0, s1;
	struct kvm_viommu_ir_table tbl;
	struct kvm_viommu_ir_status ir_st = { 0 };
	struct kvm_viommu_regs_state st;
	int r;

	/* Before: compatibility MSIs go through, as on stock KVM. */
	r = viommu_signal_msi(t->v->vm, &compat);
	TEST_ASSERT(r >= 1, "compatibility MSI with IR off: %d", r);
	qt_assert_irqs(t, QI_MSI_VEC + 15, 1, "compatibility MSI, IR off");

	qt_bringup(t, 0, false);
	qt_assert_reg(t, DMAR_GCMD_REG, 4, 0, "GCMD is write-only");
	qt_assert_reg(t, DMAR_IRTA_REG, 8, QT_IRTA, "IRTA");
	qt_assert_idle(t, "after bring-up");
	qt_assert_reg(t, DMAR_IQH_REG, 8, 2 << 4, "IQH after the global IEC and its wait");
	TEST_ASSERT(viommu_get_ir_status(t->v->dev) == KVM_VIOMMU_IR_ENABLE,
		    "IR_STATUS 0x%x after GCMD.IRE", viommu_get_ir_status(t->v->dev));
	memset(&tbl, 0, sizeof(tbl));
	kvm_device_attr_get(t->v->dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_TABLE, &tbl);
	TEST_ASSERT(tbl.irta == QT_IRTA, "IR_TABLE 0x%llx after SIRTP, expected 0x%llx",
		    (unsigned long long)tbl.irta, (unsigned long long)QT_IRTA);
	/* The guest's SIRTP sets it now; the VMM's IR_TABLE set is refused. */
	tbl.irta = QT_IRTA + 0x2000;
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t->v->dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_TABLE, &tbl), EBUSY);
	qt_assert_reg(t, DMAR_IRTA_REG, 8, QT_IRTA, "IRTA after a refused IR_TABLE set");
	/* IR on, CFI off: compatibility MSIs are blocked. */
	r = viommu_signal_msi(t->v->vm, &compat);
	TEST_ASSERT(r == 0, "compatibility MSI with IRE, CFIS clear: %d", r);
	qt_assert_irqs(t, QI_MSI_VEC + 15, 1, "compatibility MSI blocked");
	/* That was a fault: record 0, cleared by hand (RW1C). */
	TEST_ASSERT(qt_rd32(t, DMAR_FSTS_REG) & DMA_FSTS_PPF, "no PPF after a blocked MSI");
	qt_assert_frcd(t, 0, true, KVM_VIOMMU_FR_IR_COMPAT, 0);
	qt_wr32(t, DMAR_FRCD_REG(0) + 12, DMA_FRCD_F);
	TEST_ASSERT(!qt_fsts(t), "FSTS 0x%x after clearing record 0", qt_fsts(t));

	/* An IRTE change shows only after the guest's IEC. */
	viommu_get_stats(t->v->dev, &s0);
	TEST_ASSERT(!qt_cmd(t, QT_OP_MODIFY_IRTE, 5, qt_irte_lo(QI_MSI_VEC), 0, 0), "modify_irte");
	qi_assert_remap(t, 5, QI_MSI_VEC, "IRTE 5 -> QI_MSI_VEC");
	qi_assert_remap(t, 5, QI_MSI_VEC, "IRTE 5 -> QI_MSI_VEC, cached");
	viommu_guest_write_irte(t->v->g, 0, 5, qt_irte_lo(QI_MSI_VEC + 1), 0);
	qi_assert_remap(t, 5, QI_MSI_VEC, "IRTE 5 rewritten without an IEC: the cached entry");
	TEST_ASSERT(!qt_cmd(t, QT_OP_IEC, 5, 0, 0, 0), "IEC index 5");
	qi_assert_remap(t, 5, QI_MSI_VEC + 1, "after the IEC of index 5");

	/* An index IEC elsewhere leaves it; its mask covers it; a global one does. */
	viommu_guest_write_irte(t->v->g, 0, 5, qt_irte_lo(QI_MSI_VEC + 2), 0);
	TEST_ASSERT(!qt_cmd(t, QT_OP_IEC, 4, 0, 0, 0), "IEC index 4");
	qi_assert_remap(t, 5, QI_MSI_VEC + 1, "after an IEC of index 4 only");
	TEST_ASSERT(!qt_cmd(t, QT_OP_IEC, 4, 1, 0, 0), "IEC index 4 mask 1");
	qi_assert_remap(t, 5, QI_MSI_VEC + 2, "after an IEC of 4-5");
	viommu_guest_write_irte(t->v->g, 0, 5, qt_irte_lo(QI_MSI_VEC + 3), 0);
	TEST_ASSERT(!qt_cmd(t, QT_OP_IEC, 0, 0, 1, 0), "global IEC");
	qi_assert_remap(t, 5, QI_MSI_VEC + 3, "after a global IEC");
	viommu_get_stats(t->v->dev, &s1);
	TEST_ASSERT(s1.invalidations - s0.invalidations == 5,
		    "stats.invalidations moved by %llu for 5 IEC descriptors",
		    (unsigned long long)(s1.invalidations - s0.invalidations));
	qt_assert_idle(t, "after the IECs");

	/* A new table through SIRTP, with IR on, as after a kexec. */
	viommu_guest_write_irte(t->v->g, 0x1000, 5, qt_irte_lo(QI_MSI_VEC + 6), 0);
	TEST_ASSERT(!qt_cmd(t, QT_OP_SET_IRTP, QT_IRTA + 0x1000, 0, 0, 0),
		    "SIRTP of a second table");
	qt_assert_reg(t, DMAR_GSTS_REG, 4, DMA_GSTS_QIES | DMA_GSTS_IRTPS | DMA_GSTS_IRES,
		      "GSTS after the second SIRTP");
	qi_assert_remap(t, 5, QI_MSI_VEC + 6, "IRTE 5 of the second table");
	memset(&tbl, 0, sizeof(tbl));
	kvm_device_attr_get(t->v->dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_TABLE, &tbl);
	TEST_ASSERT(tbl.irta == QT_IRTA + 0x1000, "IR_TABLE 0x%llx after the second SIRTP",
		    (unsigned long long)tbl.irta);
	TEST_ASSERT(!qt_cmd(t, QT_OP_SET_IRTP, QT_IRTA, 0, 0, 0), "SIRTP of the first table");
	qi_assert_remap(t, 5, QI_MSI_VEC + 3, "IRTE 5 of the first table again");

	/* GCMD.CFI: CFIS, as IR_STATUS has it; compatibility MSIs pass again. */
	r = qt_cmd(t, QT_OP_GCMD, t->iommu->gcmd | DMA_GCMD_CFI, 0, DMA_GSTS_CFIS, DMA_GSTS_CFIS);
	TEST_ASSERT(viommu_get_ir_status(t->v->dev) == (KVM_VIOMMU_IR_ENABLE | KVM_VIOMMU_IR_CFIS),
		    "IR_STATUS 0x%x after GCMD.CFI", viommu_get_ir_status(t->v->dev));
	TEST_ASSERT(viommu_signal_msi(t->v->vm, &compat) >= 1, "compatibility MSI with CFIS");
	qt_assert_irqs(t, QI_MSI_VEC + 15, 2, "compatibility MSI, CFIS");

	/* IRE off: IR_STATUS follows; and the other way round. */
	qt_cmd(t, QT_OP_GCMD, DMA_GCMD_QIE, 0, DMA_GSTS_IRES | DMA_GSTS_CFIS, 0);
	TEST_ASSERT(viommu_get_ir_status(t->v->dev) == 0, "IR_STATUS 0x%x after IRE off",
		    viommu_get_ir_status(t->v->dev));
	/*
	 * The VMM's IR_STATUS set is refused while KVM serves the registers;
	 * REGS_STATE is its way in, and GSTS and IR_STATUS follow it.
	 */
	ir_st.flags = KVM_VIOMMU_IR_ENABLE;
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t->v->dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_STATUS, &ir_st), EBUSY);
	TEST_ASSERT(viommu_get_ir_status(t->v->dev) == 0, "IR_STATUS 0x%x after a refused set",
		    viommu_get_ir_status(t->v->dev));
	qi_regs_state_get(t->v->dev, &st);
	st.gsts |= DMA_GSTS_IRES;
	VIOMMU_ASSERT_ERRNO(__qi_regs_state_set(t->v->dev, &st), 0);
	TEST_ASSERT(viommu_get_ir_status(t->v->dev) == KVM_VIOMMU_IR_ENABLE,
		    "IR_STATUS 0x%x after REGS_STATE with IRES", viommu_get_ir_status(t->v->dev));
	qt_assert_reg(t, DMAR_GSTS_REG, 4, DMA_GSTS_QIES | DMA_GSTS_IRTPS | DMA_GSTS_IRES,
		      "GSTS after IRES set by the VMM through REGS_STATE");
	qt_destroy(t);
}

TEST_F_TIMEOUT(qi, iotlb_context_wait, TEST_TIMEOUT_S)
{
	struct qt *t = qt_create();
	struct viommu_stats s0, s1;
	int am, g, rc;

	qt_bringup(t, 0, false);
	viommu_get_stats(t->v->dev, &s0);
	for (g = VTD_G_GLOBAL; g <= VTD_G_DOMAIN; g++) {
		rc = qt_cmd(t, QT_OP_FLUSH_IOTLB, 7, 0, 0, g);
		TEST_ASSERT(!rc, "IOTLB flush, granularity %d: %d", g, rc);
	}
	for (am = 0; am <= VTD_MAMV; am++) {
		uint64_t addr = 0x4000000000ULL + (BIT_ULL(am) << 12);

		rc = qt_cmd(t, QT_OP_FLUSH_IOTLB, 7, addr, am, VTD_G_PAGE);
		TEST_ASSERT(!rc, "page-selective IOTLB flush of 2^%d pages at 0x%llx: %d", am,
			    (unsigned long long)addr, rc);
		/* IH, as unmapping leaf entries only does. */
		rc = qt_submit1(t, vtd_desc_iotlb(VTD_G_PAGE, 7, addr, am, true));
		TEST_ASSERT(!rc, "page-selective IOTLB flush with IH, AM %d: %d", am, rc);
	}
	for (g = VTD_G_GLOBAL; g <= VTD_G_PAGE; g++) {
		rc = qt_cmd(t, QT_OP_FLUSH_CONTEXT, 3, 0x0108, g == VTD_G_PAGE ? 3 : 0, g);
		TEST_ASSERT(!rc, "context-cache flush, granularity %d: %d", g, rc);
	}
	/* Device-TLB, and a fence. */
	TEST_ASSERT(!qt_submit1(t, vtd_desc_devtlb(0x0108, 0x5000)), "device-TLB flush");
	TEST_ASSERT(!qt_submit1(t, vtd_desc_wait(QI_IWD_FN, 0, 0)), "wait with FN only");
	qt_assert_idle(t, "after IOTLB and context flushes");
	qt_assert_reg(t, DMAR_ICS_REG, 4, 0, "ICS: no wait asked for an interrupt");
	viommu_get_stats(t->v->dev, &s1);
	TEST_ASSERT(s1.invalidations == s0.invalidations,
		    "IOTLB/context flushes counted %llu IECs",
		    (unsigned long long)(s1.invalidations - s0.invalidations));
	qt_destroy(t);
}

/* Submissions of three descriptors, so that some straddle the queue's end. */
static void wrap(uint8_t qs, bool dw, unsigned int submissions)
{
	struct vtd_desc d[2] = { vtd_desc_iec_global(),
				 vtd_desc_iotlb(VTD_G_DOMAIN, 1, 0, 0, false) };
	struct qt *t = qt_create();
	unsigned int i, wraps = 0;
	uint32_t head, prev = 0;
	int rc;

	qt_bringup(t, qs, dw);
	for (i = 0; i < submissions; i++) {
		rc = qt_submit(t, d, 2);
		TEST_ASSERT(!rc, "submission %u: %d", i, rc);
		head = t->iommu->free_head;
		wraps += head < prev;
		prev = head;
	}
	TEST_ASSERT(wraps >= 2, "%u wraps of a %u-entry queue", wraps, t->iommu->len);
	qt_assert_idle(t, "after the wraps");
	TEST_ASSERT(t->iommu->free_head == (2 + 3 * submissions) % t->iommu->len,
		    "guest tail %u", t->iommu->free_head);
	qt_destroy(t);
}

TEST_F_TIMEOUT(qi, queue_wrap, TEST_TIMEOUT_S)
{
	struct qt *t;

	wrap(0, false, 200);	/* 256 entries */
	wrap(0, true, 100);	/* 128 entries */
	wrap(1, false, 400);	/* 512 entries */

	/* QI off and on again, as dmar_reenable_qi(): IQH starts over. */
	t = qt_create();
	qt_bringup(t, 0, false);
	TEST_ASSERT(!qt_submit1(t, vtd_desc_iec_global()), "IEC");
	qt_cmd(t, QT_OP_DISABLE_QI, 0, 0, 0, 0);
	qt_assert_reg(t, DMAR_GSTS_REG, 4, DMA_GSTS_IRTPS | DMA_GSTS_IRES, "GSTS, QI off");
	qt_assert_reg(t, DMAR_IQH_REG, 8, 4 << 4, "IQH, QI off");
	qt_cmd(t, QT_OP_ENABLE_QI, 0, 0, 0, 0);
	qt_assert_reg(t, DMAR_IQH_REG, 8, 0, "IQH after QIE");
	TEST_ASSERT(!qt_submit1(t, vtd_desc_iec_global()), "IEC after re-enabling QI");
	qt_assert_idle(t, "QI re-enabled");
	qt_assert_reg(t, DMAR_IQH_REG, 8, 2 << 4, "IQH after one submission");
	qt_destroy(t);
}

/*
 * @bad, queued with a wait behind it: the queue stops on @bad with IQE, the
 * wait's status stays unwritten and the fault event fires once.  Linux's
 * recovery (the wait copied over @bad, IQE cleared) then lets the next
 * submission complete them all.
 */
static void assert_iqe(struct qt *t, struct vtd_desc bad, const char *what)
{
	uint32_t faults = viommu_guest_count(t->v->g, 0, QT_FAULT_VEC), index, wait, fsts;
	uint64_t iqh;
	int rc;

	index = qt_queue(t, &bad, 1, QT_Q_WAIT | QT_Q_RING, 0, &wait);
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	iqh = qt_rd64(t, DMAR_IQH_REG);
	TEST_ASSERT(fsts == DMA_FSTS_IQE && iqh == (uint64_t)index << t->iommu->shift,
		    "%s: FSTS 0x%x IQH 0x%llx, expected IQE and IQH 0x%x", what, fsts,
		    (unsigned long long)iqh, index << t->iommu->shift);
	TEST_ASSERT(qt_status(t, wait) == QI_IN_USE, "%s: the wait behind it completed", what);
	qt_assert_irqs(t, QT_FAULT_VEC, faults + 1, what);
	/* Ringing again does not get past it. */
	qt_wr32(t, DMAR_IQT_REG, t->iommu->free_head << t->iommu->shift);
	qt_assert_reg(t, DMAR_IQH_REG, 8, iqh, what);
	TEST_ASSERT(qt_status(t, wait) == QI_IN_USE, "%s: IQT again, wait completed", what);
	qt_assert_irqs(t, QT_FAULT_VEC, faults + 1, what);

	rc = qt_poll(t, index, wait, 0);
	TEST_ASSERT(rc == -EINVAL, "%s: qi_check_fault() %d, expected -EINVAL", what, rc);
	qt_assert_reg(t, DMAR_FSTS_REG, 4, 0, what);
	rc = qt_submit1(t, vtd_desc_iec_global());
	TEST_ASSERT(!rc, "%s: the submission after the recovery: %d", what, rc);
	TEST_ASSERT(qt_status(t, wait) == QI_DONE, "%s: the recovered wait did not complete",
		    what);
	qt_assert_idle(t, what);
}

TEST_F_TIMEOUT(qi, iqe_garbage, TEST_TIMEOUT_S)
{
	struct {
		const char *what;
		struct vtd_desc d;
	} bad[] = {
		{ "type 0", { { 0 } } },
		{ "type 0xf", { { 0xf } } },
		{ "type 6 (PASID IOTLB)", { { 6 | 1 << 4 } } },
		{ "type 7 (PASID cache)", { { 7 | 1 << 4 } } },
		{ "IEC with qw0 bit 9", vtd_desc_iec_global() },
		{ "IEC with qw0 bit 63", vtd_desc_iec(5, 0) },
		{ "IEC with qw0 bit 5", vtd_desc_iec(5, 0) },
		{ "IEC with qw1 set", vtd_desc_iec_global() },
		{ "context G=0", vtd_desc_context(0, 0, 0, 0) },
		{ "context with qw1 set", vtd_desc_context(VTD_G_GLOBAL, 0, 0, 0) },
		{ "IOTLB G=0", vtd_desc_iotlb(0, 1, 0, 0, false) },
		{ "IOTLB AM > MAMV", vtd_desc_iotlb(VTD_G_PAGE, 1, 0, VTD_MAMV + 1, false) },
		{ "IOTLB qw1 bit 7", vtd_desc_iotlb(VTD_G_PAGE, 1, 0, 0, false) },
		{ "IOTLB qw0 bit 8", vtd_desc_iotlb(VTD_G_GLOBAL, 1, 0, 0, false) },
		{ "wait status outside guest memory", vtd_desc_wait(QI_IWD_SW, 1, NO_MEM_GPA) },
		{ "wait status not 4-byte aligned",
		  vtd_desc_wait(QI_IWD_SW, 1, VTD_SCRATCH_GPA + 2) },
		{ "wait with qw0 bit 8", vtd_desc_wait(QI_IWD_SW, 1, VTD_SCRATCH_GPA) },
	};
	struct kvm_viommu_regs_config no_dt = {
		.base = VTD_BASE,
		.cap = VTD_DEFAULT_CAP,
		.ecap = VTD_DEFAULT_ECAP & ~ECAP_DT,
	};
	struct qt *t = qt_create();
	uint32_t faults;
	unsigned int i;

	bad[4].d.qw[0] |= BIT_ULL(9);
	bad[5].d.qw[0] |= BIT_ULL(63);
	bad[6].d.qw[0] |= BIT_ULL(5);
	bad[7].d.qw[1] = 1;
	bad[9].d.qw[1] = 1;
	bad[12].d.qw[1] |= BIT_ULL(7);
	bad[13].d.qw[0] |= BIT_ULL(8);
	bad[16].d.qw[0] |= BIT_ULL(8);

	qt_fault_events(t, false);
	qt_bringup(t, 0, false);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		assert_iqe(t, bad[i].d, bad[i].what);
	TEST_ASSERT(*(uint32_t *)vtd_hva(t->v, VTD_SCRATCH_GPA) == 0,
		    "a rejected wait wrote its status");
	/*
	 * Not garbage: Linux widens AM over a range and leaves ADDR where
	 * the range starts; hardware ignores ADDR's bits below 2^AM.
	 */
	TEST_ASSERT(!qt_submit1(t, vtd_desc_iotlb(VTD_G_PAGE, 1, 0x1000, 2, false)),
		    "page-selective IOTLB flush, ADDR not 2^AM aligned");
	qt_assert_idle(t, "unaligned page-selective flush");

	/* Masked: FECTL.IP instead of the interrupt; unmasking sends it. */
	faults = viommu_guest_count(t->v->g, 0, QT_FAULT_VEC);
	qt_wr32(t, DMAR_FECTL_REG, DMA_ECTL_IM);
	qt_queue(t, &bad[0].d, 1, QT_Q_RING, 0, NULL);
	qt_assert_reg(t, DMAR_FECTL_REG, 4, DMA_ECTL_IM | DMA_ECTL_IP, "IQE, fault event masked");
	qt_assert_irqs(t, QT_FAULT_VEC, faults, "IQE, fault event masked");
	qt_wr32(t, DMAR_FECTL_REG, 0);
	qt_assert_irqs(t, QT_FAULT_VEC, faults + 1, "fault event unmasked");
	qt_assert_reg(t, DMAR_FECTL_REG, 4, 0, "FECTL after the event was sent");
	/* RW1C: 0 leaves IQE, 1 clears it. */
	qt_wr32(t, DMAR_FSTS_REG, 0);
	qt_assert_reg(t, DMAR_FSTS_REG, 4, DMA_FSTS_IQE, "FSTS after writing 0");
	qt_wr32(t, DMAR_FSTS_REG, DMA_FSTS_IQE);
	qt_assert_reg(t, DMAR_FSTS_REG, 4, 0, "FSTS after writing IQE");
	/* Masked, then serviced (IQE cleared): IP goes, unmasking sends nothing. */
	qt_wr32(t, DMAR_FECTL_REG, DMA_ECTL_IM);
	qt_wr32(t, DMAR_IQT_REG, t->iommu->free_head << 4);
	qt_assert_reg(t, DMAR_FECTL_REG, 4, DMA_ECTL_IM | DMA_ECTL_IP, "IQE again, masked");
	qt_wr32(t, DMAR_FSTS_REG, DMA_FSTS_IQE);
	qt_assert_reg(t, DMAR_FECTL_REG, 4, DMA_ECTL_IM, "FECTL after IQE was cleared");
	qt_wr32(t, DMAR_FECTL_REG, 0);
	qt_assert_irqs(t, QT_FAULT_VEC, faults + 1, "unmasked after IQE was cleared");
	qt_destroy(t);

	/* Device-TLB descriptors only with ECAP.DT. */
	t = qt_create_cfg(&no_dt);
	qt_fault_events(t, false);
	qt_bringup(t, 0, false);
	assert_iqe(t, vtd_desc_devtlb(0x0108, 0), "device-TLB without ECAP.DT");
	qt_destroy(t);
}

TEST_F_TIMEOUT(qi, wide_descriptors, TEST_TIMEOUT_S)
{
	struct vtd_desc d[3] = { vtd_desc_iec(5, 0),
				 vtd_desc_iotlb(VTD_G_PAGE, 1, 0x200000, 9, false),
				 vtd_desc_context(VTD_G_GLOBAL, 0, 0, 0) };
	struct qt *t = qt_create();
	struct vtd_desc bad;
	uint32_t faults;
	int i, rc;

	qt_fault_events(t, false);
	qt_bringup(t, 0, true);
	TEST_ASSERT(t->iommu->len == 128 && t->iommu->shift == 5, "256-bit queue of %u",
		    t->iommu->len);
	qt_assert_reg(t, DMAR_IQH_REG, 8, 2 << 5, "IQH in 32-byte units");
	rc = qt_submit(t, d, 3);
	TEST_ASSERT(!rc, "IEC + IOTLB + context + wait, 256-bit: %d", rc);
	TEST_ASSERT(!qt_cmd(t, QT_OP_MODIFY_IRTE, 5, qt_irte_lo(QI_MSI_VEC), 0, 0), "modify_irte");
	qi_assert_remap(t, 5, QI_MSI_VEC, "IRTE 5, 256-bit IEC");
	viommu_guest_write_irte(t->v->g, 0, 5, qt_irte_lo(QI_MSI_VEC + 1), 0);
	TEST_ASSERT(!qt_cmd(t, QT_OP_IEC, 5, 0, 0, 0), "IEC index 5");
	qi_assert_remap(t, 5, QI_MSI_VEC + 1, "after a 256-bit IEC");
	qt_assert_idle(t, "256-bit descriptors");

	/* qw2 and qw3 are reserved. */
	for (i = 2; i < 4; i++) {
		bad = vtd_desc_iec_global();
		bad.qw[i] = BIT_ULL(i * 8);
		assert_iqe(t, bad, i == 2 ? "256-bit IEC with qw2 set" :
					   "256-bit IEC with qw3 set");
	}

	/* An IQT that is not on a 256-bit boundary. */
	faults = viommu_guest_count(t->v->g, 0, QT_FAULT_VEC);
	qt_wr32(t, DMAR_IQT_REG, t->iommu->free_head << 5 | 0x10);
	qt_assert_reg(t, DMAR_FSTS_REG, 4, DMA_FSTS_IQE, "IQT bit 4 in a 256-bit queue");
	qt_assert_irqs(t, QT_FAULT_VEC, faults + 1, "IQT bit 4 in a 256-bit queue");
	qt_wr32(t, DMAR_FSTS_REG, DMA_FSTS_IQE);
	rc = qt_submit1(t, vtd_desc_iec_global());
	TEST_ASSERT(!rc, "submission after IQT bit 4: %d", rc);
	qt_assert_idle(t, "after IQT bit 4");
	qt_destroy(t);
}

TEST_F_TIMEOUT(qi, wait_interrupt, TEST_TIMEOUT_S)
{
	struct vtd_desc nosw = vtd_desc_wait(QI_IWD_IF, 0, 0);
	struct qt *t = qt_create();
	uint32_t wait;
	int rc;

	qt_bringup(t, 0, false);
	qt_inv_events(t, false);

	/* IF and SW: the status, ICS.IWC, one interrupt. */
	qt_queue(t, NULL, 0, QT_Q_WAIT | QT_Q_RING, QI_IWD_IF, &wait);
	rc = qt_poll(t, wait, wait, 0);
	TEST_ASSERT(!rc, "wait with IF|SW: %d", rc);
	qt_assert_reg(t, DMAR_ICS_REG, 4, DMA_ICS_IWC, "ICS after a wait with IF");
	qt_assert_irqs(t, QT_INV_VEC, 1, "wait with IF");
	qt_assert_reg(t, DMAR_IECTL_REG, 4, 0, "IECTL after the event was sent");
	/* IWC still set: no new interrupt condition. */
	qt_queue(t, NULL, 0, QT_Q_WAIT | QT_Q_RING, QI_IWD_IF, &wait);
	TEST_ASSERT(!qt_poll(t, wait, wait, 0), "second wait with IF");
	qt_assert_irqs(t, QT_INV_VEC, 1, "wait with IF, IWC already set");
	/* RW1C. */
	qt_wr32(t, DMAR_ICS_REG, 0);
	qt_assert_reg(t, DMAR_ICS_REG, 4, DMA_ICS_IWC, "ICS after writing 0");
	qt_wr32(t, DMAR_ICS_REG, DMA_ICS_IWC);
	qt_assert_reg(t, DMAR_ICS_REG, 4, 0, "ICS after writing IWC");

	/* IF without SW: only ICS tells. */
	qt_queue(t, &nosw, 1, QT_Q_RING, 0, NULL);
	qt_assert_reg(t, DMAR_ICS_REG, 4, DMA_ICS_IWC, "ICS after a wait with IF only");
	qt_assert_irqs(t, QT_INV_VEC, 2, "wait with IF only");
	qt_assert_idle(t, "wait with IF only");
	qt_wr32(t, DMAR_ICS_REG, DMA_ICS_IWC);

	/* Masked: IECTL.IP; unmasking delivers it. */
	qt_wr32(t, DMAR_IECTL_REG, DMA_ECTL_IM);
	qt_queue(t, NULL, 0, QT_Q_WAIT | QT_Q_RING, QI_IWD_IF | QI_IWD_FN, &wait);
	TEST_ASSERT(!qt_poll(t, wait, wait, 0), "wait with IF, masked");
	qt_assert_reg(t, DMAR_ICS_REG, 4, DMA_ICS_IWC, "ICS, masked");
	qt_assert_reg(t, DMAR_IECTL_REG, 4, DMA_ECTL_IM | DMA_ECTL_IP, "IECTL, masked");
	qt_assert_irqs(t, QT_INV_VEC, 2, "wait with IF, masked");
	qt_wr32(t, DMAR_IECTL_REG, 0);
	qt_assert_irqs(t, QT_INV_VEC, 3, "invalidation event unmasked");
	qt_assert_reg(t, DMAR_IECTL_REG, 4, 0, "IECTL after unmasking");
	/* Masked, then serviced (IWC cleared): IP goes, unmasking sends nothing. */
	qt_wr32(t, DMAR_ICS_REG, DMA_ICS_IWC);
	qt_wr32(t, DMAR_IECTL_REG, DMA_ECTL_IM);
	qt_queue(t, NULL, 0, QT_Q_WAIT | QT_Q_RING, QI_IWD_IF, &wait);
	TEST_ASSERT(!qt_poll(t, wait, wait, 0), "wait with IF, masked again");
	qt_assert_reg(t, DMAR_IECTL_REG, 4, DMA_ECTL_IM | DMA_ECTL_IP, "IECTL, masked again");
	qt_wr32(t, DMAR_ICS_REG, DMA_ICS_IWC);
	qt_assert_reg(t, DMAR_IECTL_REG, 4, DMA_ECTL_IM, "IECTL after IWC was cleared");
	qt_wr32(t, DMAR_IECTL_REG, 0);
	qt_assert_irqs(t, QT_INV_VEC, 3, "unmasked after IWC was cleared");
	qt_assert_idle(t, "wait interrupts");
	qt_destroy(t);
}

/* ---- tests: a doorbell storm -------------------------------------------------------- */

struct storm {
	int dev;
	bool stop;
	uint64_t max_ns;
	uint64_t calls;
};

static void *storm_prober(void *data)
{
	struct storm *st = data;
	struct viommu_stats s;
	uint64_t t0, d;

	while (!__atomic_load_n(&st->stop, __ATOMIC_SEQ_CST)) {
		t0 = viommu_now_ns();
		viommu_get_stats(st->dev, &s);
		d = viommu_now_ns() - t0;
		if (d > st->max_ns)
			st->max_ns = d;
		st->calls++;
		usleep(1000);
	}
	return NULL;
}

/* A full 32K-entry queue, rung again and again: the host stays responsive. */
TEST_F_TIMEOUT(qi, doorbell_storm, TEST_TIMEOUT_S)
{
	struct storm st = { 0 };
	struct qt *t = qt_create();
	pthread_t th;
	uint64_t t0, ns, iqh;
	int r;

	qt_cmd(t, QT_OP_ENABLE_QI, VTD_QUEUE_MAX_QS, 0, 0, 0);
	TEST_ASSERT(t->iommu->len == 32768, "queue of %u entries", t->iommu->len);
	qt_cmd(t, OP_FILL, 0, t->iommu->len, 0, 0);
	st.dev = t->v->dev;
	r = pthread_create(&th, NULL, storm_prober, &st);
	TEST_ASSERT(!r, "pthread_create: %s", strerror(r));
	t0 = viommu_now_ns();
	iqh = qt_cmd(t, OP_STORM, 8, 0, 0, 0);
	ns = viommu_now_ns() - t0;
	__atomic_store_n(&st.stop, true, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);
	ksft_print_msg("storm: 8 doorbells of 32767 descriptors: %llu ms; %s %llu ms (%llu)\n",
		       (unsigned long long)(ns / 1000000), "device ioctl at most",
		       (unsigned long long)(st.max_ns / 1000000), (unsigned long long)st.calls);
	TEST_ASSERT(iqh == (uint64_t)t->iommu->free_head << 4, "IQH 0x%llx after the storm",
		    (unsigned long long)iqh);
	qt_assert_reg(t, DMAR_FSTS_REG, 4, 0, "FSTS after the storm");
	TEST_ASSERT(st.max_ns < 10ULL * 1000000000ULL,
		    "a device ioctl waited %llu ms during the storm",
		    (unsigned long long)(st.max_ns / 1000000));
	qt_destroy(t);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, vtd_regs_unsupported);
}
