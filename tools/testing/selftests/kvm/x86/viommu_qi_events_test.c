// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_qi_events_test: what the KVM_DEV_TYPE_INTEL_VIOMMU device's VT-d
 * register page leaves to the VMM, and what it tells the guest of faults.
 * The invalidations KVM cannot do itself (IOTLB, context cache, device-TLB,
 * through the queue or the registers) and GCMD's root-table and translation
 * switches become events on KVM_DEV_VIOMMU_GRP_EVENT's ring; the queue, or
 * the command's status bit, waits for the VMM's ACK.  Interrupt-remapping
 * faults fill the guest's fault recording registers, up to their overflow,
 * and the VMM's fault ring.
 *
 * The guest runs the Linux intel-iommu driver's register sequences one
 * command at a time (include/viommu_qt.h); a command's only exit is its
 * closing GUEST_SYNC.  The program skips without the register page.
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
#include "viommu_qi.h"
#include "viommu_test.h"

#define TEST_TIMEOUT_S		120

FIXTURE(qi_events) {};
FIXTURE_SETUP(qi_events) {}
FIXTURE_TEARDOWN(qi_events) {}

/* ---- tests: faults ------------------------------------------------------------------ */

#define FAULT_GSI	40

TEST_F_TIMEOUT(qi_events, fault_records_overflow, TEST_TIMEOUT_S)
{
	struct qt *t = qt_create();
	struct kvm_viommu_ir_fault f;
	struct viommu_msi msi;
	uint32_t fsts;
	int i, n;
	bool found;

	qt_fault_events(t, false);
	qt_bringup(t, 0, false);

	/* An empty table: each remappable MSI faults, entry not present. */
	TEST_ASSERT(qt_signal(t, 9) == 0, "MSI of a not-present IRTE delivered");
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT(fsts == DMA_FSTS_PPF, "FSTS 0x%x after one fault, expected PPF, FRI 0", fsts);
	qt_assert_frcd(t, 0, true, KVM_VIOMMU_FR_IR_ENTRY_P, 9);
	qt_assert_frcd(t, 1, false, 0, 0);
	qt_assert_irqs(t, QT_FAULT_VEC, 1, "fault event");
	qt_assert_reg(t, DMAR_FECTL_REG, 4, 0, "FECTL after the fault event");
	/* F is RW1C: 0 leaves it. */
	qt_wr32(t, DMAR_FRCD_REG(0) + 12, 0);
	qt_assert_frcd(t, 0, true, KVM_VIOMMU_FR_IR_ENTRY_P, 9);
	qi_assert_faults_read(t, 1, 9, 0);
	qt_assert_frcd(t, 0, false, 0, 0);
	/* The VMM's read-out keeps working. */
	found = viommu_pop_fault(t->v->dev, &f);
	TEST_ASSERT(found && f.reason == KVM_VIOMMU_FR_IR_ENTRY_P &&
		    f.index == 9 && f.flags == KVM_VIOMMU_FAULT_NO_SID,
		    "fault fd read-out: flags 0x%x reason 0x%x index %u", f.flags, f.reason,
		    f.index);

	/* Nine faults, eight records: PFO, and one event for them all. */
	for (i = 0; i < KVM_VIOMMU_NR_FRCD + 1; i++)
		TEST_ASSERT(qt_signal(t, 20 + i) == 0, "MSI of not-present IRTE %d", 20 + i);
	fsts = qt_rd32(t, DMAR_FSTS_REG);
	TEST_ASSERT((fsts & (DMA_FSTS_PPF | DMA_FSTS_PFO)) == (DMA_FSTS_PPF | DMA_FSTS_PFO) &&
		    DMA_FSTS_FRI(fsts) == 1, "FSTS 0x%x after 9 faults, expected PPF|PFO, FRI 1",
		    fsts);
	for (i = 0; i < KVM_VIOMMU_NR_FRCD; i++)
		qt_assert_frcd(t, (1 + i) % KVM_VIOMMU_NR_FRCD, true, KVM_VIOMMU_FR_IR_ENTRY_P,
			       20 + i);
	qt_assert_irqs(t, QT_FAULT_VEC, 2, "fault events of the burst");
	qi_assert_faults_read(t, KVM_VIOMMU_NR_FRCD, 20, 1);

	/* Masked: FECTL.IP; unmasking sends it. */
	qt_wr32(t, DMAR_FECTL_REG, DMA_ECTL_IM);
	TEST_ASSERT(qt_signal(t, 40) == 0, "MSI of not-present IRTE 40");
	qt_assert_reg(t, DMAR_FECTL_REG, 4, DMA_ECTL_IM | DMA_ECTL_IP, "FECTL, masked fault");
	qt_assert_irqs(t, QT_FAULT_VEC, 2, "fault, masked");
	qt_wr32(t, DMAR_FECTL_REG, 0);
	qt_assert_irqs(t, QT_FAULT_VEC, 3, "fault event unmasked");
	qi_assert_faults_read(t, 1, 40, 1);

	/*
	 * The VMM's ring holds 8 records too, then one that says it lost
	 * faults (IRTEs 28 and 40), as PFO does.
	 */
	for (n = 0; n < KVM_VIOMMU_NR_FRCD; n++) {
		found = viommu_pop_fault(t->v->dev, &f);
		TEST_ASSERT(found && f.flags == KVM_VIOMMU_FAULT_NO_SID &&
			    f.reason == KVM_VIOMMU_FR_IR_ENTRY_P && f.index == 20U + n,
			    "fault fd read-out %d: flags 0x%x reason 0x%x index %u, expected index %d",
			    n, f.flags, f.reason, f.index, 20 + n);
	}
	found = viommu_pop_fault(t->v->dev, &f);
	TEST_ASSERT(found && f.flags == KVM_VIOMMU_FAULT_LOST,
		    "fault fd read-out after 8 records: flags 0x%x reason 0x%x index %u, expected LOST",
		    f.flags, f.reason, f.index);
	found = viommu_pop_fault(t->v->dev, &f);
	TEST_ASSERT(!found,
		    "fault fd read-out after the loss: flags 0x%x index %u", f.flags, f.index);

	/* A fault through an irqfd, injected wherever KVM injects it. */
	msi = viommu_msi_remappable(50, false, 0);
	viommu_route_msi(t->v->g, FAULT_GSI, &msi);
	viommu_commit_routes(t->v->g);
	viommu_irqfd_fire(t->v->g, FAULT_GSI);
	for (i = 0; i < 10000 && !(qt_rd32(t, DMAR_FSTS_REG) & DMA_FSTS_PPF); i++)
		usleep(100);
	qt_assert_irqs(t, QT_FAULT_VEC, 4, "fault event of an irqfd MSI");
	qi_assert_faults_read(t, 1, 50, 2);
	qt_destroy(t);
}

/* ---- tests: the VMM's events -------------------------------------------------------- */

static void assert_event(const struct kvm_viommu_event *e, uint32_t type, uint64_t seq,
			 uint32_t flags, const uint64_t *desc, int nr_qw)
{
	int i;

	TEST_ASSERT(e->type == type && e->seq == seq && e->flags == flags,
		    "event: type 0x%x seq %llu flags 0x%x, expected type 0x%x seq %llu flags 0x%x",
		    e->type, (unsigned long long)e->seq, e->flags, type,
		    (unsigned long long)seq, flags);
	for (i = 0; i < nr_qw; i++)
		TEST_ASSERT(e->desc[i] == desc[i], "event %llu: desc[%d] 0x%llx, expected 0x%llx",
			    (unsigned long long)seq, i, (unsigned long long)e->desc[i],
			    (unsigned long long)desc[i]);
}

TEST_F_TIMEOUT(qi_events, events_ack, TEST_TIMEOUT_S)
{
	struct vtd_desc items[3] = { vtd_desc_iotlb(VTD_G_PAGE, 3, 0x7000, 0, true),
				     vtd_desc_context(VTD_G_PAGE, 3, 0x0108, 1),
				     vtd_desc_devtlb(0x0108, 0x9000) };
	static const uint32_t types[3] = { KVM_VIOMMU_EVENT_IOTLB, KVM_VIOMMU_EVENT_CONTEXT,
					   KVM_VIOMMU_EVENT_DEVTLB };
	struct vtd_desc many[QT_MBOX_DESCS];
	struct kvm_viommu_event_config c;
	struct kvm_viommu_event e;
	struct qt *t = qt_create();
	int rfd = vtd_event_fd(t->v->dev), i, n, rc;
	uint32_t index, wait;
	uint64_t seq = 0, last;

	vtd_event_config(t->v->dev, KVM_VIOMMU_EVENT_CONTEXT | KVM_VIOMMU_EVENT_IOTLB |
		     KVM_VIOMMU_EVENT_DEVTLB);
	qt_bringup(t, 0, false);
	TEST_ASSERT(!viommu_ring_readable(rfd), "event fd readable after IECs");
	vtd_assert_no_event(t->v->dev);

	for (i = 0; i < 3; i++) {
		index = qt_queue(t, &items[i], 1, QT_Q_WAIT | QT_Q_RING, 0, &wait);
		TEST_ASSERT(viommu_ring_readable(rfd), "event %d: event fd not readable", i);
		TEST_ASSERT(qt_status(t, wait) == QI_IN_USE, "event %d: wait completed unACKed", i);
		qt_assert_reg(t, DMAR_IQH_REG, 8, wait << 4, "IQH stopped on the wait");
		rc = qt_poll(t, index, wait, 1000);
		TEST_ASSERT(rc == -ETIMEDOUT, "event %d: poll %d before the ACK", i, rc);
		vtd_event_pop(t->v->dev, &e);
		assert_event(&e, types[i], ++seq, KVM_VIOMMU_EVENT_F_QUEUED, items[i].qw, 4);
		vtd_assert_no_event(t->v->dev);
		TEST_ASSERT(qt_status(t, wait) == QI_IN_USE, "event %d: popped is not ACKed", i);
		vtd_event_ack(t->v->dev, seq);
		/* The queue resumes on the vCPU, before it next enters the guest. */
		TEST_ASSERT(!qt_poll(t, index, wait, 0), "event %d: poll after the ACK", i);
		TEST_ASSERT(qt_status(t, wait) == QI_DONE, "event %d: wait not done after the ACK",
			    i);
		qt_assert_idle(t, "after the ACK");
	}

	/* Without a wait nothing stalls; one ACK covers them all. */
	qt_queue(t, items, 3, QT_Q_RING, 0, NULL);
	qt_assert_idle(t, "events without a wait");
	for (i = 0; i < 3; i++) {
		vtd_event_pop(t->v->dev, &e);
		assert_event(&e, types[i], ++seq, KVM_VIOMMU_EVENT_F_QUEUED, items[i].qw, 2);
	}
	vtd_event_ack(t->v->dev, seq);

	/* Only what the VMM asked for. */
	vtd_event_config(t->v->dev, KVM_VIOMMU_EVENT_IOTLB);
	TEST_ASSERT(!qt_submit1(t, items[1]), "context flush without interest");
	TEST_ASSERT(!qt_submit1(t, items[2]), "device-TLB flush without interest");
	vtd_assert_no_event(t->v->dev);

	/*
	 * Overflow of the ring (64 by default): the events that fit, then a
	 * record of the loss with the last lost number, which is what to ACK.
	 */
	for (i = 0; i < QT_MBOX_DESCS; i++)
		many[i] = vtd_desc_iotlb(VTD_G_DOMAIN, i, 0, 0, false);
	qt_queue(t, many, QT_MBOX_DESCS, QT_Q_RING, 0, NULL);
	qt_assert_idle(t, "80 IOTLB events");
	for (n = 0, last = seq; vtd_event_pop(t->v->dev, &e) && e.type; n++) {
		TEST_ASSERT(e.seq == last + 1 && e.type == KVM_VIOMMU_EVENT_IOTLB &&
			    e.flags == KVM_VIOMMU_EVENT_F_QUEUED,
			    "event %d of the overflow: type 0x%x flags 0x%x seq %llu after %llu", n,
			    e.type, e.flags, (unsigned long long)e.seq, (unsigned long long)last);
		last = e.seq;
	}
	TEST_ASSERT(n == 64 && e.flags == KVM_VIOMMU_EVENT_F_LOST && !e.type &&
		    e.seq == seq + QT_MBOX_DESCS,
		    "overflow: %d events, then type 0x%x flags 0x%x seq %llu; expected 64, then F_LOST seq %llu",
		    n, e.type, e.flags, (unsigned long long)e.seq,
		    (unsigned long long)(seq + QT_MBOX_DESCS));
	vtd_assert_no_event(t->v->dev);
	last = e.seq;
	vtd_event_ack(t->v->dev, last);
	TEST_ASSERT(!qt_submit1(t, vtd_desc_iec_global()), "IEC after the overflow");

	/* EVENT_CONFIG is set-only. */
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_get(t->v->dev, KVM_DEV_VIOMMU_GRP_EVENT,
						  KVM_DEV_VIOMMU_EVENT_CONFIG, &c), ENXIO);

	/* No interest: IOTLB flushes complete at once. */
	vtd_event_config(t->v->dev, 0);
	TEST_ASSERT(!qt_submit1(t, items[0]), "IOTLB flush without interest");
	vtd_assert_no_event(t->v->dev);
	qt_assert_idle(t, "events");
	close(rfd);
	qt_destroy(t);
}

TEST_F_TIMEOUT(qi_events, gcmd_events, TEST_TIMEOUT_S)
{
	struct qt *t = qt_create();
	struct kvm_viommu_event e;
	int rfd = vtd_event_fd(t->v->dev);
	uint32_t gsts;

	vtd_event_config(t->v->dev, KVM_VIOMMU_EVENT_GCMD);
	qt_wr64(t, DMAR_RTADDR_REG, 0x1234000);
	qt_assert_reg(t, DMAR_RTADDR_REG, 8, 0x1234000, "RTADDR");
	/*
	 * RTPS and TES show the switch once the VMM has made it: the guest
	 * waits for them before it relies on the new tables.
	 */
	gsts = qt_cmd(t, QT_OP_GCMD, 0, DMA_GCMD_SRTP, 0, 0);
	TEST_ASSERT(!(gsts & DMA_GSTS_RTPS), "GSTS 0x%x after SRTP, before the ack", gsts);
	TEST_ASSERT(viommu_ring_readable(rfd), "SRTP: event fd not readable");
	vtd_event_pop(t->v->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_GCMD && e.seq == 1 &&
		    (e.desc[0] & DMA_GSTS_RTPS) && e.desc[1] == 0x1234000,
		    "SRTP event: type 0x%x seq %llu GSTS 0x%llx RTADDR 0x%llx", e.type,
		    (unsigned long long)e.seq, (unsigned long long)e.desc[0],
		    (unsigned long long)e.desc[1]);
	vtd_event_ack(t->v->dev, e.seq);
	qt_assert_reg(t, DMAR_GSTS_REG, 4, DMA_GSTS_RTPS, "GSTS after the SRTP ack");
	/* A later RTADDR is not latched until the next SRTP. */
	qt_wr64(t, DMAR_RTADDR_REG, 0x5678000);
	gsts = qt_cmd(t, QT_OP_GCMD, DMA_GCMD_TE, 0, 0, 0);
	TEST_ASSERT(!(gsts & DMA_GSTS_TES), "GSTS 0x%x after TE, before the ack", gsts);
	vtd_event_pop(t->v->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_GCMD && e.seq == 2 && (e.desc[0] & DMA_GSTS_TES),
		    "TE event: type 0x%x seq %llu GSTS 0x%llx", e.type,
		    (unsigned long long)e.seq, (unsigned long long)e.desc[0]);
	vtd_event_ack(t->v->dev, e.seq);
	qt_assert_reg(t, DMAR_GSTS_REG, 4, DMA_GSTS_TES | DMA_GSTS_RTPS, "GSTS after the TE ack");
	/* WBF is one-shot and WBFS stays clear; nothing for the VMM. */
	gsts = qt_cmd(t, QT_OP_GCMD, DMA_GCMD_TE, DMA_GCMD_WBF, 0, 0);
	TEST_ASSERT(gsts == (DMA_GSTS_TES | DMA_GSTS_RTPS), "GSTS 0x%x after WBF", gsts);
	vtd_assert_no_event(t->v->dev);
	qt_assert_reg(t, DMAR_GCMD_REG, 4, 0, "GCMD");
	close(rfd);
	qt_destroy(t);
}

/* Register-based invalidation, QI off: the command bit clears at once or on the ACK. */
TEST_F_TIMEOUT(qi_events, reg_invalidation, TEST_TIMEOUT_S)
{
	struct qt *t = qt_create();
	struct kvm_viommu_event e;
	int rfd = vtd_event_fd(t->v->dev);
	uint64_t val, got;
	int g;

	for (g = VTD_G_GLOBAL; g <= VTD_G_PAGE; g++) {
		val = DMA_CCMD_ICC | DMA_CCMD_CIRG(g) | (g > 1 ? 5 : 0) |
		      (g > 2 ? 0x0108ULL << 16 | 1ULL << 32 : 0);
		qt_wr64(t, DMAR_CCMD_REG, val);
		got = qt_rd64(t, DMAR_CCMD_REG);
		TEST_ASSERT(!(got & DMA_CCMD_ICC) && DMA_CCMD_CAIG(got) == (uint64_t)g,
			    "CCMD 0x%llx after 0x%llx", (unsigned long long)got,
			    (unsigned long long)val);
		qt_wr64(t, DMAR_IVA_REG, 0x100000 | 4);
		val = DMA_TLB_IVT | DMA_TLB_IIRG(g) | DMA_TLB_DID(5);
		qt_wr64(t, DMAR_IOTLB_REG, val);
		got = qt_rd64(t, DMAR_IOTLB_REG);
		TEST_ASSERT(!(got & DMA_TLB_IVT) && DMA_TLB_IAIG(got) == (uint64_t)g,
			    "IOTLB register 0x%llx after 0x%llx", (unsigned long long)got,
			    (unsigned long long)val);
	}
	vtd_assert_no_event(t->v->dev);

	vtd_event_config(t->v->dev, KVM_VIOMMU_EVENT_CONTEXT | KVM_VIOMMU_EVENT_IOTLB);
	val = DMA_CCMD_ICC | DMA_CCMD_CIRG(VTD_G_DOMAIN) | 9;
	qt_wr64(t, DMAR_CCMD_REG, val);
	got = qt_rd64(t, DMAR_CCMD_REG);
	TEST_ASSERT(got & DMA_CCMD_ICC, "CCMD 0x%llx: ICC clear before the ACK",
		    (unsigned long long)got);
	TEST_ASSERT(viommu_ring_readable(rfd), "CCMD: event fd not readable");
	vtd_event_pop(t->v->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_CONTEXT && e.seq == 1 &&
		    !(e.flags & KVM_VIOMMU_EVENT_F_QUEUED) && e.desc[0] >> 61 == val >> 61 &&
		    (uint32_t)e.desc[0] == 9,
		    "CCMD event: type 0x%x seq %llu flags 0x%x CCMD 0x%llx", e.type,
		    (unsigned long long)e.seq, e.flags, (unsigned long long)e.desc[0]);
	vtd_event_ack(t->v->dev, 1);
	got = qt_rd64(t, DMAR_CCMD_REG);
	TEST_ASSERT(!(got & DMA_CCMD_ICC) && DMA_CCMD_CAIG(got) == VTD_G_DOMAIN,
		    "CCMD 0x%llx after the ACK", (unsigned long long)got);

	qt_wr64(t, DMAR_IVA_REG, 0x200000 | QI_IOTLB_IH | 1);
	val = DMA_TLB_IVT | DMA_TLB_IIRG(VTD_G_PAGE) | DMA_TLB_DID(6);
	qt_wr64(t, DMAR_IOTLB_REG, val);
	got = qt_rd64(t, DMAR_IOTLB_REG);
	TEST_ASSERT(got & DMA_TLB_IVT, "IOTLB 0x%llx: IVT clear before the ACK",
		    (unsigned long long)got);
	vtd_event_pop(t->v->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_IOTLB && e.seq == 2 &&
		    e.desc[0] >> 60 == val >> 60 && e.desc[1] == (0x200000 | QI_IOTLB_IH | 1),
		    "IOTLB event: type 0x%x seq %llu IOTLB 0x%llx IVA 0x%llx", e.type,
		    (unsigned long long)e.seq, (unsigned long long)e.desc[0],
		    (unsigned long long)e.desc[1]);
	vtd_event_ack(t->v->dev, 2);
	got = qt_rd64(t, DMAR_IOTLB_REG);
	TEST_ASSERT(!(got & DMA_TLB_IVT) && DMA_TLB_IAIG(got) == VTD_G_PAGE,
		    "IOTLB 0x%llx after the ACK", (unsigned long long)got);
	close(rfd);
	qt_destroy(t);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, vtd_regs_unsupported);
}
