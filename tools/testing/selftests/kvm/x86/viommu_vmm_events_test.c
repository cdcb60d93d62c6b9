// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_vmm_events_test: what a VMM that follows the guest's VT-d unit
 * gets from the KVM_DEV_TYPE_INTEL_VIOMMU device, and its system reset, as
 * include/uapi/linux/kvm_viommu.h and Documentation/virt/kvm/devices/viommu.rst
 * say:
 *
 *  - KVM_VIOMMU_EVENT_IR, for a VMM that follows interrupt remapping (QEMU's
 *    userspace I/O APIC), which the kernel does not wait for;
 *  - the event ring's size (event_config.entries), sized for a strict-mode
 *    guest's bursts, and the order of the record of a loss;
 *  - KVM_DEV_VIOMMU_CTRL_RESET: what the guest programmed goes, what the
 *    VMM configured stays.
 *
 * The guest (one x2APIC vCPU that counts its interrupts) runs the Linux
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

/* ---- the guest's commands of this program's own ---------------------------------- */

enum {
	/* arg: count, first did: domain IOTLB flushes, one doorbell */
	OP_IOTLB_BURST = QT_OP_TEST,
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

static bool vmm_events_guest_op(struct qt_mbox *m, struct vtd_iommu *iommu)
{
	if (m->op != OP_IOTLB_BURST)
		return false;
	guest_iotlb_burst(iommu, m->arg[0], m->arg[1]);
	return true;
}

FIXTURE(vmm_events) {};
FIXTURE_SETUP(vmm_events)
{
	qt_set_guest_op(vmm_events_guest_op);
}

FIXTURE_TEARDOWN(vmm_events) {}

/*
 * KVM_DEV_VIOMMU_CTRL_RESET is QEMU's device reset: what the guest
 * programmed goes, what the VMM configured stays.
 */
TEST_F_TIMEOUT(vmm_events, reset, TEST_TIMEOUT_S)
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
	const char *why;
	uint32_t wait;
	int i, r;
	bool found;

	why = vb_attr_unsupported(t->v->dev, KVM_DEV_VIOMMU_GRP_CTRL, KVM_DEV_VIOMMU_CTRL_RESET,
				  "CTRL_RESET");
	if (why) {
		qt_destroy(t);
		SKIP(return, "%s", why);
	}
	vtd_regs_get_config(t->v->dev, &before);
	vb_ir_config_set(t->v->dev, KVM_VIOMMU_IR_CONFIG_SID_UNKNOWN_OK);
	vb_event_config(t->v->dev, KVM_VIOMMU_EVENT_IOTLB, 0);

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
	vb_assert_frcd_raw(t, 0, 0, 0, "after reset");
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
	vb_ir_config_get(t->v->dev, &c);
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
TEST_F_TIMEOUT(vmm_events, ir_events, TEST_TIMEOUT_S)
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

	vb_event_config(t->v->dev, KVM_VIOMMU_EVENT_IR, 0);
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
TEST_F_TIMEOUT(vmm_events, event_ring_size, TEST_TIMEOUT_S)
{
	struct kvm_viommu_event_config bad;
	struct qt *t = qt_create();
	int dev = t->v->dev, n, lost;
	uint64_t last;

	VIOMMU_ASSERT_ERRNO(__vb_event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 4096), 0);
	/* A queue of 1024 entries: the burst and more. */
	qt_cmd(t, QT_OP_ENABLE_QI, 2, false, 0, 0);
	iotlb_burst(t, 0);

	/* Queued events do not fit in a smaller ring; they move to one that holds them. */
	VIOMMU_ASSERT_ERRNO(__vb_event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 512), EBUSY);
	VIOMMU_ASSERT_ERRNO(__vb_event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 0), EBUSY);
	VIOMMU_ASSERT_ERRNO(__vb_event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 1024), 0);
	n = pop_all(dev, 0, 1, &lost, &last);
	TEST_ASSERT(n == BURST && !lost && last == BURST,
		    "4096 entries, then 1024: %d of %d events, %d records of a loss, last seq %llu",
		    n, BURST, lost, (unsigned long long)last);
	vtd_event_ack(dev, last);

	/*
	 * The default ring loses most of the same burst, and says so once,
	 * after the 64 that fit, with the last lost number.
	 */
	VIOMMU_ASSERT_ERRNO(__vb_event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 64), 0);
	iotlb_burst(t, 2000);
	n = pop_all(dev, 2000, BURST + 1, &lost, &last);
	TEST_ASSERT(n == 64 && lost == 1 && last == 2 * BURST,
		    "64 entries: %d events, %d records of a loss, last seq %llu; expected 64, one, %d",
		    n, lost, (unsigned long long)last, 2 * BURST);
	vtd_event_ack(dev, last);

	/* 4096 again, for a burst twice over: nothing lost. */
	VIOMMU_ASSERT_ERRNO(__vb_event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 4096), 0);
	iotlb_burst(t, 4000);
	iotlb_burst(t, 5000);
	n = pop_all(dev, 4000, 2 * BURST + 1, &lost, &last);
	TEST_ASSERT(n == 2 * BURST && !lost && last == 4 * BURST,
		    "4096 entries, two bursts: %d events, %d records of a loss, last seq %llu", n,
		    lost, (unsigned long long)last);
	vtd_event_ack(dev, last);

	/* Sizes that are not a power of 2, or above 4096; and __reserved. */
	VIOMMU_ASSERT_ERRNO(__vb_event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 3), EINVAL);
	VIOMMU_ASSERT_ERRNO(__vb_event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 1000), EINVAL);
	VIOMMU_ASSERT_ERRNO(__vb_event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 8192), EINVAL);
	VIOMMU_ASSERT_ERRNO(__vb_event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 0x80000000U), EINVAL);
	for (n = 0; n < (int)ARRAY_SIZE(bad.__reserved); n++) {
		bad = (struct kvm_viommu_event_config){ .types = KVM_VIOMMU_EVENT_IOTLB };
		bad.__reserved[n] = 1;
		VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_EVENT,
							  KVM_DEV_VIOMMU_EVENT_CONFIG, &bad),
				    EINVAL);
	}
	VIOMMU_ASSERT_ERRNO(__vb_event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 1), 0);
	VIOMMU_ASSERT_ERRNO(__vb_event_config(dev, KVM_VIOMMU_EVENT_IOTLB, 0), 0);
	qt_destroy(t);
}

/*
 * A ring of @entries takes @entries events; the next is lost, and a
 * record of the loss follows the events that fit, its seq the last lost
 * one's, updated by later losses.  An event after the VMM made room comes
 * after that record.
 */
#define LO_ENTRIES	4

TEST_F_TIMEOUT(vmm_events, event_ring_lost_order, TEST_TIMEOUT_S)
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

	VIOMMU_ASSERT_ERRNO(__vb_event_config(dev, KVM_VIOMMU_EVENT_IOTLB, LO_ENTRIES), 0);
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

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, vtd_regs_unsupported);
}
