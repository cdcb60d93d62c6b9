// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_ioapic_test: I/O APIC interrupts remapped by the
 * KVM_DEV_TYPE_INTEL_VIOMMU device, the in-kernel I/O APIC (full irqchip)
 * programmed by the host: its redirection entries in remappable format
 * through KVM_SET_IRQCHIP, the IRTEs they name written into guest memory,
 * the pins driven with KVM_IRQ_LINE.
 *
 * The guests count every interrupt per vCPU and vector and EOI it; the
 * checks assert the IRTE's vector on the IRTE's vCPUs only, Remote IRR and
 * re-delivery of level-triggered pins, logical and lowest-priority
 * destinations, retargeting through the IRTE and an IEC, handle[15], and no
 * exit to userspace per interrupt; with remapping off, the stock I/O APIC.
 * The guest that programs the I/O APIC itself, the faults, the RTC and the
 * split irqchip have programs of their own (viommu_ioapic_*_test).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_ioapic.h"
#include "viommu_test.h"

#define TEST_TIMEOUT_S		60

FIXTURE(ioapic) {};
FIXTURE_SETUP(ioapic) {}
FIXTURE_TEARDOWN(ioapic) {}

TEST_F_TIMEOUT(ioapic, ioapic_attr, TEST_TIMEOUT_S)
{
	struct kvm_viommu_ir_ioapic a = {}, b;
	struct itest t;

	if (!it_setup(&t, 1, 0))
		SKIP(return, "%s", t.why);
	kvm_device_attr_get(t.dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_IOAPIC, &b);
	TEST_ASSERT(b.flags == KVM_VIOMMU_IOAPIC_SID_VALID && b.sid == IOAPIC_SID,
		    "IR_IOAPIC: flags 0x%x sid 0x%x", b.flags, b.sid);

	a.flags = 2;
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t.dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_IOAPIC, &a), EINVAL);
	a.flags = 0;
	a.__reserved = 1;
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t.dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_IOAPIC, &a), EINVAL);
	a.__reserved = 0;
	a.__reserved2[2] = 1;
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t.dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_IOAPIC, &a), EINVAL);
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_set(t.dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_IOAPIC, (void *)8), EFAULT);
	VIOMMU_ASSERT_ERRNO(__kvm_device_attr_get(t.dev, KVM_DEV_VIOMMU_GRP_IR,
						  KVM_DEV_VIOMMU_IR_IOAPIC, (void *)8), EFAULT);

	/* Nothing above changed it. */
	kvm_device_attr_get(t.dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_IOAPIC, &b);
	TEST_ASSERT(b.flags == KVM_VIOMMU_IOAPIC_SID_VALID && b.sid == IOAPIC_SID,
		    "IR_IOAPIC after bad writes: flags 0x%x sid 0x%x", b.flags, b.sid);
	it_teardown(&t);
}

/* IR off: the RTE is the message, as in stock KVM. */
TEST_F_TIMEOUT(ioapic, ir_off_direct, TEST_TIMEOUT_S)
{
	struct itest t;

	if (!it_setup(&t, 2, 0))
		SKIP(return, "%s", t.why);
	viommu_set_ir_status(t.dev, 0);
	it_ioapic_set_rte(&t, PIN_EDGE, 0x46 | (1ULL << 56));
	it_pulse(&t, PIN_EDGE);
	it_wait_only(&t, 1, 0x46, 1, "IR off, compatibility RTE");
	it_teardown(&t);
}

/*
 * With the device present and remapping off, the I/O APIC behaves as stock
 * KVM's: edge pins once per pulse, level pins re-delivered on EOI while
 * the line is high, Remote IRR clear once it is low, masked pins quiet.
 */
TEST_F_TIMEOUT(ioapic, ir_off_stock_ioapic, TEST_TIMEOUT_S)
{
	uint64_t level = 0x56 | RTE_LEVEL | (1ULL << 56);
	struct itest t;
	int i;

	if (!it_setup(&t, 2, 0))
		SKIP(return, "%s", t.why);
	viommu_set_ir_status(t.dev, 0);
	it_ioapic_set_rte(&t, PIN_EDGE, 0x46 | (1ULL << 56));
	it_ioapic_set_rte(&t, PIN_LEVEL, level | RTE_MASKED);

	for (i = 1; i <= 5; i++) {
		it_pulse(&t, PIN_EDGE);
		it_wait_only(&t, 1, 0x46, i, "IR off, edge pulses");
	}

	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	usleep(QUIET_US);
	it_assert_only(&t, 1, 0x56, 0, "IR off, masked level pin");
	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);

	it_ioapic_set_rte(&t, PIN_LEVEL, level);
	it_level_storm(&t, 1, 0x56, 20);
	it_teardown(&t);
}

/*
 * Edge pins: each pulse delivers the IRTE's vector once, on the IRTE's vCPU,
 * with no exit to userspace.  The first goes through the IRTE fill.
 */
FIXTURE(edge) {};
FIXTURE_VARIANT(edge) {
	int nr_vcpus;
	unsigned int flags;
};

FIXTURE_VARIANT_ADD(edge, xapic_1vcpu) {
	.nr_vcpus = 1,
	.flags = 0,
};

FIXTURE_VARIANT_ADD(edge, x2apic_4vcpu) {
	.nr_vcpus = 4,
	.flags = VIOMMU_GUEST_X2APIC,
};

FIXTURE_SETUP(edge) {}
FIXTURE_TEARDOWN(edge) {}

TEST_F_TIMEOUT(edge, pulses, TEST_TIMEOUT_S)
{
	int dest = variant->nr_vcpus - 1, i;
	struct itest t;
	uint64_t exits;

	if (!it_setup(&t, variant->nr_vcpus, variant->flags))
		SKIP(return, "%s", t.why);
	it_irte(&t, IDX_EDGE, 0x40, dest, 0, IOAPIC_SID);
	/* The RTE vector is only for EOIs; make it differ. */
	it_ioapic_set_rte(&t, PIN_EDGE, rte_remappable(IDX_EDGE, 0x99, 0));

	exits = viommu_guest_exits(t.g);
	for (i = 1; i <= NR_PULSES; i++) {
		it_pulse(&t, PIN_EDGE);
		it_wait_count(&t, dest, 0x40, i, "edge pulse");
	}
	TEST_ASSERT(viommu_guest_exits(t.g) == exits,
		    "%llu exits to userspace during %d interrupts",
		    (unsigned long long)(viommu_guest_exits(t.g) - exits), NR_PULSES);
	usleep(QUIET_US);
	it_assert_only(&t, dest, 0x40, NR_PULSES, "edge pulses");
	it_assert_only(&t, dest, 0x99, 0, "the RTE's vector");
	it_teardown(&t);
}

TEST_F_TIMEOUT(ioapic, level_broadcast_eoi, TEST_TIMEOUT_S)
{
	struct itest t;
	uint64_t exits;

	if (!it_setup(&t, 4, VIOMMU_GUEST_X2APIC))
		SKIP(return, "%s", t.why);
	it_irte(&t, IDX_LEVEL, 0x50, 2, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	it_ioapic_set_rte(&t, PIN_LEVEL, rte_remappable(IDX_LEVEL, 0x50, RTE_LEVEL));

	exits = viommu_guest_exits(t.g);
	it_level_storm(&t, 2, 0x50, 20);
	TEST_ASSERT(viommu_guest_exits(t.g) == exits,
		    "%llu exits to userspace during level re-delivery",
		    (unsigned long long)(viommu_guest_exits(t.g) - exits));
	it_teardown(&t);
}

/*
 * Linux programs the RTE vector with the pin number and an edge IRTE, and
 * ends the interrupt at the I/O APIC itself (the trigger-mode toggle): one
 * delivery, then Remote IRR holds the pin until then.
 */
TEST_F_TIMEOUT(ioapic, level_linux_style, TEST_TIMEOUT_S)
{
	uint64_t rte = rte_remappable(IDX_LEVEL, PIN_LEVEL, RTE_LEVEL);
	struct itest t;

	if (!it_setup(&t, 4, 0))
		SKIP(return, "%s", t.why);
	it_irte(&t, IDX_LEVEL, 0x51, 1, 0, IOAPIC_SID);
	it_ioapic_set_rte(&t, PIN_LEVEL, rte);

	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	it_wait_only(&t, 1, 0x51, 1, "level, edge IRTE");
	it_assert_remote_irr(&t, PIN_LEVEL, true);

	/* The I/O APIC EOI: Remote IRR clear, the line still high. */
	it_ioapic_set_rte(&t, PIN_LEVEL, rte);
	it_wait_only(&t, 1, 0x51, 2, "after the I/O APIC EOI, line high");

	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	it_ioapic_set_rte(&t, PIN_LEVEL, rte);
	usleep(QUIET_US);
	it_assert_only(&t, 1, 0x51, 2, "after the I/O APIC EOI, line low");
	it_assert_only(&t, 1, PIN_LEVEL, 0, "the RTE's vector");
	it_teardown(&t);
}

/* An IRTE changed without IEC still delivers the cached translation. */
TEST_F_TIMEOUT(ioapic, retarget_iec, TEST_TIMEOUT_S)
{
	struct itest t;

	if (!it_setup(&t, 4, VIOMMU_GUEST_X2APIC))
		SKIP(return, "%s", t.why);
	it_irte(&t, IDX_EDGE, 0x40, 0, 0, IOAPIC_SID);
	it_ioapic_set_rte(&t, PIN_EDGE, rte_remappable(IDX_EDGE, 0x40, 0));
	it_pulse(&t, PIN_EDGE);
	it_wait_only(&t, 0, 0x40, 1, "edge before retarget");

	it_irte(&t, IDX_EDGE, 0x41, 3, 0, IOAPIC_SID);
	it_pulse(&t, PIN_EDGE);
	it_wait_only(&t, 0, 0x40, 2, "edge retargeted without IEC");
	viommu_iec_index(t.dev, IDX_EDGE, 0);
	it_pulse(&t, PIN_EDGE);
	it_wait_only(&t, 3, 0x41, 1, "edge retargeted with IEC");

	/*
	 * A level pin moved to another vCPU: only if the IEC made KVM redo
	 * the EOI scan does the new vCPU's EOI reach the I/O APIC, and the
	 * line held high deliver more than once.
	 */
	it_irte(&t, IDX_LEVEL, 0x50, 1, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	it_ioapic_set_rte(&t, PIN_LEVEL, rte_remappable(IDX_LEVEL, 0x50, RTE_LEVEL));
	it_level_storm(&t, 1, 0x50, 3);
	it_irte(&t, IDX_LEVEL, 0x50, 2, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	viommu_iec_index(t.dev, IDX_LEVEL, 0);
	memset(t.g->counts, 0, sizeof(uint32_t) * VIOMMU_MAX_VCPUS * 256);
	it_level_storm(&t, 2, 0x50, 3);
	it_teardown(&t);
}

TEST_F_TIMEOUT(ioapic, masked, TEST_TIMEOUT_S)
{
	uint64_t rte = rte_remappable(IDX_LEVEL, 0x50, RTE_LEVEL);
	struct itest t;

	if (!it_setup(&t, 1, 0))
		SKIP(return, "%s", t.why);
	it_irte(&t, IDX_LEVEL, 0x50, 0, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	it_irte(&t, IDX_EDGE, 0x40, 0, 0, IOAPIC_SID);
	it_ioapic_set_rte(&t, PIN_LEVEL, rte | RTE_MASKED);
	it_ioapic_set_rte(&t, PIN_EDGE, rte_remappable(IDX_EDGE, 0x40, RTE_MASKED));

	it_pulse(&t, PIN_EDGE);
	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	usleep(QUIET_US);
	it_assert_only(&t, 0, 0x40, 0, "masked edge pin");
	it_assert_only(&t, 0, 0x50, 0, "masked level pin");

	it_ioapic_set_rte(&t, PIN_LEVEL, rte);
	it_wait_count(&t, 0, 0x50, 1, "level pin unmasked, line high");
	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	it_teardown(&t);
}

/*
 * A level pin whose IRTE has a logical destination, mask 0x6 of 4 vCPUs
 * (xAPIC flat, or x2APIC cluster 0): fixed, vCPUs 1 and 2 both take each
 * interrupt, lowest priority one of them; vCPUs 0 and 3 never.  Their EOIs
 * clear Remote IRR, so the line held high delivers again and again; once
 * low, nothing comes, and raised again it delivers anew.
 */
FIXTURE(level_logical) {};
FIXTURE_VARIANT(level_logical) {
	unsigned int flags;
	uint8_t dlm;
};

FIXTURE_VARIANT_ADD(level_logical, fixed_xapic) {
	.flags = 0,
	.dlm = VIOMMU_DLM_FIXED,
};

FIXTURE_VARIANT_ADD(level_logical, fixed_x2apic) {
	.flags = VIOMMU_GUEST_X2APIC,
	.dlm = VIOMMU_DLM_FIXED,
};

FIXTURE_VARIANT_ADD(level_logical, lowest_xapic) {
	.flags = 0,
	.dlm = VIOMMU_DLM_LOWEST,
};

FIXTURE_SETUP(level_logical) {}
FIXTURE_TEARDOWN(level_logical) {}

TEST_F_TIMEOUT(level_logical, eoi_redelivery, TEST_TIMEOUT_S)
{
	uint64_t rte = rte_remappable(IDX_LEVEL, 0x50, RTE_LEVEL), exits;
	bool lowest = variant->dlm == VIOMMU_DLM_LOWEST;
	uint32_t seen[VIOMMU_MAX_VCPUS];
	struct itest t;
	int round, i;

	if (!it_setup(&t, 4, variant->flags))
		SKIP(return, "%s", t.why);
	viommu_guest_write_irte(t.g, 0, IDX_LEVEL,
				viommu_irte_lo(0x50, 0x6, viommu_guest_x2apic(t.g), variant->dlm,
					       VIOMMU_IRTE_DM_LOGICAL | VIOMMU_IRTE_TM_LEVEL),
				viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID));
	it_ioapic_set_rte(&t, PIN_LEVEL, rte);

	for (round = 1; round <= 2; round++) {
		uint64_t deadline = viommu_now_ns() + WAIT_TIMEOUT_NS;
		uint32_t want = round * 10;

		exits = viommu_guest_exits(t.g);
		kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
		if (!lowest) {
			it_wait_count(&t, 1, 0x50, want, "logical level, line high");
			it_wait_count(&t, 2, 0x50, want, "logical level, line high");
		}
		while (lowest && viommu_guest_count(t.g, 1, 0x50) +
				 viommu_guest_count(t.g, 2, 0x50) < want) {
			TEST_ASSERT(viommu_now_ns() < deadline,
				    "lowest priority level, line high: vCPUs 1 and 2 took 0x50 %u and %u times, want %u in all",
				    viommu_guest_count(t.g, 1, 0x50),
				    viommu_guest_count(t.g, 2, 0x50), want);
			usleep(20);
		}
		it_assert_no_exits(&t, exits, "logical level re-delivery");
		kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
		usleep(QUIET_US);
		for (i = 0; i < t.nr; i++)
			seen[i] = viommu_guest_count(t.g, i, 0x50);
		it_assert_remote_irr(&t, PIN_LEVEL, false);
		usleep(QUIET_US);
		for (i = 0; i < t.nr; i++)
			TEST_ASSERT(viommu_guest_count(t.g, i, 0x50) == seen[i] &&
				    (i == 1 || i == 2 || !seen[i]),
				    "round %d, line low: vCPU %d took 0x50 %u times, then %u",
				    round, i, seen[i], viommu_guest_count(t.g, i, 0x50));
	}
	it_teardown(&t);
}

/*
 * handle[15], in RTE bit 11, with 64K entries: indexes 0x8005 and 0xffff,
 * not 0x0005 and 0x7fff; with 256 entries, 0x8005 is beyond the table.
 */
TEST_F_TIMEOUT(ioapic, rte_handle15_64k, TEST_TIMEOUT_S)
{
	uint16_t index = 0x8000 | IDX_EDGE;
	struct itest t;

	if (!it_setup_table(&t, 4, VIOMMU_GUEST_X2APIC, IRTA_SIZE_64K))
		SKIP(return, "%s", t.why);
	it_irte(&t, index, 0x42, 1, 0, IOAPIC_SID);
	it_irte(&t, IDX_EDGE, 0x43, 0, 0, IOAPIC_SID);
	it_irte(&t, 0xffff, 0x44, 2, 0, IOAPIC_SID);
	it_irte(&t, 0x7fff, 0x45, 3, 0, IOAPIC_SID);

	it_ioapic_set_rte(&t, PIN_EDGE, rte_remappable(index, 0x42, 0));
	it_pulse(&t, PIN_EDGE);
	it_wait_only(&t, 1, 0x42, 1, "RTE index 0x8005");
	it_ioapic_set_rte(&t, PIN_EDGE, rte_remappable(0xffff, 0x44, 0));
	it_pulse(&t, PIN_EDGE);
	it_wait_only(&t, 2, 0x44, 1, "RTE index 0xffff");
	it_assert_only(&t, 0, 0x43, 0, "IRTE 0x0005");
	it_assert_only(&t, 3, 0x45, 0, "IRTE 0x7fff");

	viommu_set_irta(t.dev, it_irta(&t, VIOMMU_IRT_GPA, IRTA_SIZE_256));
	viommu_iec_global(t.dev);
	it_ioapic_set_rte(&t, PIN_EDGE, rte_remappable(index, 0x42, 0));
	it_pulse(&t, PIN_EDGE);
	it_assert_fault(&t, KVM_VIOMMU_FR_IR_INDEX_OVER, index, IOAPIC_SID, true);
	usleep(QUIET_US);
	it_assert_only(&t, 1, 0x42, 1, "RTE index 0x8005 of 256");
	it_assert_only(&t, 0, 0x43, 0, "IRTE 0x0005, 256 entries");
	it_teardown(&t);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, viommu_ir_unsupported);
}
