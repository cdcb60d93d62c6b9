// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_driver_compat_test: the invalidation queue of the
 * KVM_DEV_TYPE_INTEL_VIOMMU device, driven as guest drivers other than the
 * Linux bring-up that the other programs play drive it, and as QEMU's own
 * intel-iommu (hw/i386/intel_iommu.c) lets them:
 *
 *  - QIE enabled with a tail written before runs the queue (Windows);
 *  - a page-selective IOTLB invalidation whose address is not 2^AM
 *    aligned, as Linux's qi_flush_iotlb() sends it, completes, and reaches
 *    the VMM as the guest wrote it.
 *
 * The guest (one x2APIC vCPU that counts its interrupts) runs the driver's
 * register sequences one command at a time (include/viommu_qt.h).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

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

enum {
	/* IQA, IEC + wait, IQT, then QIE -> ret, ret2, ret3 */
	OP_QIE_WITH_TAIL = QT_OP_TEST,
};

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

static bool driver_compat_guest_op(struct qt_mbox *m, struct vtd_iommu *iommu)
{
	if (m->op != OP_QIE_WITH_TAIL)
		return false;
	guest_qie_with_tail(m, iommu);
	return true;
}

FIXTURE(driver_compat) {};
FIXTURE_SETUP(driver_compat)
{
	qt_set_guest_op(driver_compat_guest_op);
}

FIXTURE_TEARDOWN(driver_compat) {}

/*
 * QEMU's vtd_handle_gcmd_qie() runs the queue when QIE is enabled with a
 * tail already written; Windows guests rely on it.
 */
TEST_F_TIMEOUT(driver_compat, qie_with_tail, TEST_TIMEOUT_S)
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
TEST_F_TIMEOUT(driver_compat, psi_unaligned, TEST_TIMEOUT_S)
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
	vb_event_config(t->v->dev, KVM_VIOMMU_EVENT_IOTLB, 0);
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

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, vtd_regs_unsupported);
}
