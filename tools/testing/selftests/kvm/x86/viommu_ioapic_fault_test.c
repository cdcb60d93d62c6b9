// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_ioapic_fault_test: the in-kernel I/O APIC's remappable
 * redirection entries whose IRTE faults, one test per VT-d fault reason
 * (0x21 to 0x26) and the I/O APIC's requester ID.
 *
 * A faulting pin must leave a record, with the I/O APIC's source-id,
 * deliver nothing and, level-triggered, leave Remote IRR clear: a pin
 * that set it with nothing delivered would never see an EOI and stay
 * wedged after the guest fixed its IRTE.
 */
#include <stdint.h>
#include <unistd.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_ioapic.h"
#include "viommu_test.h"

#define TEST_TIMEOUT_S		60

/* Guest memory that no memslot covers. */
#define NO_MEMSLOT_GPA		0x20000000ULL

FIXTURE(ioapic_fault) {};
FIXTURE_SETUP(ioapic_fault) {}
FIXTURE_TEARDOWN(ioapic_fault) {}

/* An edge pin through IRTE IDX_EDGE, written as given; false to skip. */
static bool fault_case(struct itest *t, uint64_t irte_lo, uint64_t irte_hi, uint8_t reason,
		       uint16_t sid, bool has_sid, bool set_sid)
{
	struct kvm_viommu_ir_ioapic none = {};

	if (!it_setup(t, 2, 0))
		return false;
	if (!set_sid)
		kvm_device_attr_set(t->dev, KVM_DEV_VIOMMU_GRP_IR,
				    KVM_DEV_VIOMMU_IR_IOAPIC, &none);
	viommu_guest_write_irte(t->g, 0, IDX_EDGE, irte_lo, irte_hi);
	it_ioapic_set_rte(t, PIN_EDGE, rte_remappable(IDX_EDGE, 0x40, 0));
	it_pulse(t, PIN_EDGE);
	it_assert_fault(t, reason, IDX_EDGE, sid, has_sid);
	usleep(QUIET_US);
	it_assert_only(t, 0, 0x40, 0, "faulting pin");
	it_teardown(t);
	return true;
}

/*
 * An RTE whose IRTE faults with @reason, on an edge pin, then on a level
 * pin: a record each, nothing delivered, and the level pin's Remote IRR
 * stays clear.  @irta, unless 0, replaces the 256-entry table.  False to
 * skip.
 */
static bool rte_fault_case(struct itest *t, uint64_t irta, uint16_t index, uint64_t irte_lo,
			   uint64_t irte_hi, uint8_t reason)
{
	if (!it_setup(t, 2, 0))
		return false;
	if (irta) {
		viommu_set_irta(t->dev, irta);
		viommu_iec_global(t->dev);
	}
	viommu_guest_write_irte(t->g, 0, index, irte_lo, irte_hi);

	it_ioapic_set_rte(t, PIN_EDGE, rte_remappable(index, 0x40, 0));
	it_pulse(t, PIN_EDGE);
	it_assert_fault(t, reason, index, IOAPIC_SID, true);

	it_ioapic_set_rte(t, PIN_LEVEL, rte_remappable(index, 0x40, RTE_LEVEL));
	kvm_irq_line(t->g->vm, PIN_LEVEL, 1);
	it_assert_fault(t, reason, index, IOAPIC_SID, true);
	usleep(QUIET_US);
	it_assert_only(t, 1, 0x40, 0, "faulting pins");
	it_assert_remote_irr(t, PIN_LEVEL, false);
	kvm_irq_line(t->g->vm, PIN_LEVEL, 0);
	it_teardown(t);
	return true;
}

/* Index 256 of 256; the entry there is good, but beyond the table. */
TEST_F_TIMEOUT(ioapic_fault, fault_0x21_rte_index, TEST_TIMEOUT_S)
{
	struct itest t;

	if (!rte_fault_case(&t, 0, 256, viommu_irte_lo(0x40, 1, false, VIOMMU_DLM_FIXED, 0),
			    viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID),
			    KVM_VIOMMU_FR_IR_INDEX_OVER))
		SKIP(return, "%s", t.why);
}

TEST_F_TIMEOUT(ioapic_fault, fault_0x22_not_present, TEST_TIMEOUT_S)
{
	struct itest t;

	if (!fault_case(&t, 0, 0, KVM_VIOMMU_FR_IR_ENTRY_P, IOAPIC_SID, true, true))
		SKIP(return, "%s", t.why);
}

/* A table where no memslot is. */
TEST_F_TIMEOUT(ioapic_fault, fault_0x23_rte_unreadable, TEST_TIMEOUT_S)
{
	struct itest t;

	if (!rte_fault_case(&t, NO_MEMSLOT_GPA | IRTA_SIZE_256, IDX_EDGE,
			    viommu_irte_lo(0x40, 1, false, VIOMMU_DLM_FIXED, 0),
			    viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID),
			    KVM_VIOMMU_FR_IR_ROOT_INVAL))
		SKIP(return, "%s", t.why);
}

/* A reserved bit of the low quadword (13), and one of the high (20). */
TEST_F_TIMEOUT(ioapic_fault, fault_0x24_rte_irte_rsvd, TEST_TIMEOUT_S)
{
	struct itest t;

	if (!rte_fault_case(&t, 0, IDX_EDGE,
			    viommu_irte_lo(0x40, 1, false, VIOMMU_DLM_FIXED, 0) | BIT_ULL(13),
			    viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID),
			    KVM_VIOMMU_FR_IR_IRTE_RSVD))
		SKIP(return, "%s", t.why);
	if (!rte_fault_case(&t, 0, IDX_LEVEL,
			    viommu_irte_lo(0x40, 1, false, VIOMMU_DLM_FIXED, 0),
			    viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID) | BIT_ULL(20),
			    KVM_VIOMMU_FR_IR_IRTE_RSVD))
		SKIP(return, "%s", t.why);
}

/* A compatibility-format RTE faults until CFIS lets it through as it is. */
TEST_F_TIMEOUT(ioapic_fault, fault_0x25_compat_cfis, TEST_TIMEOUT_S)
{
	uint64_t rte = 0x45 | (1ULL << 56);	/* fixed, physical, vCPU 1 */
	struct itest t;

	if (!it_setup(&t, 2, 0))
		SKIP(return, "%s", t.why);
	it_ioapic_set_rte(&t, PIN_EDGE, rte);
	it_pulse(&t, PIN_EDGE);
	it_assert_fault(&t, KVM_VIOMMU_FR_IR_COMPAT, 0, IOAPIC_SID, true);
	usleep(QUIET_US);
	it_assert_only(&t, 1, 0x45, 0, "compatibility format, CFIS clear");

	viommu_set_ir_status(t.dev, KVM_VIOMMU_IR_ENABLE | KVM_VIOMMU_IR_CFIS);
	it_pulse(&t, PIN_EDGE);
	it_wait_only(&t, 1, 0x45, 1, "compatibility format, CFIS set");
	it_teardown(&t);
}

TEST_F_TIMEOUT(ioapic_fault, fault_0x26_sid, TEST_TIMEOUT_S)
{
	struct itest t;

	if (!fault_case(&t, viommu_irte_lo(0x40, 0, false, VIOMMU_DLM_FIXED, 0),
			viommu_irte_hi(OTHER_SID, 0, VIOMMU_SVT_SID),
			KVM_VIOMMU_FR_IR_SID_ERR, IOAPIC_SID, true, true))
		SKIP(return, "%s", t.why);
}

/* Without the attribute, the I/O APIC has no requester ID to verify. */
TEST_F_TIMEOUT(ioapic_fault, fault_no_ioapic_sid, TEST_TIMEOUT_S)
{
	struct itest t;

	if (!fault_case(&t, viommu_irte_lo(0x40, 0, false, VIOMMU_DLM_FIXED, 0),
			viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID),
			KVM_VIOMMU_FR_IR_SID_ERR, 0, false, false))
		SKIP(return, "%s", t.why);
}

/*
 * A level pin whose IRTE faults does not wedge: nothing is delivered and
 * Remote IRR stays clear; once the guest fixes the IRTE and invalidates
 * it, the interrupt of the line still high arrives.
 */
TEST_F_TIMEOUT(ioapic_fault, fault_level_recovers, TEST_TIMEOUT_S)
{
	struct itest t;

	if (!it_setup(&t, 2, 0))
		SKIP(return, "%s", t.why);
	it_ioapic_set_rte(&t, PIN_LEVEL, rte_remappable(IDX_LEVEL, 0x52, RTE_LEVEL));
	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	it_assert_fault(&t, KVM_VIOMMU_FR_IR_ENTRY_P, IDX_LEVEL, IOAPIC_SID, true);
	usleep(QUIET_US);
	it_assert_only(&t, 1, 0x52, 0, "level pin, IRTE not present");
	it_assert_remote_irr(&t, PIN_LEVEL, false);

	it_irte(&t, IDX_LEVEL, 0x52, 1, 0, IOAPIC_SID);
	viommu_iec_index(t.dev, IDX_LEVEL, 0);
	it_wait_only(&t, 1, 0x52, 1, "level pin after IRTE fix and IEC");
	it_assert_remote_irr(&t, PIN_LEVEL, true);
	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	it_teardown(&t);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, viommu_ir_unsupported);
}
