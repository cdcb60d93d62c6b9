// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_ioapic_split_test: with a split irqchip (KVM_CAP_SPLIT_IRQCHIP)
 * the I/O APIC is the VMM's, as QEMU's is: its pins are remappable MSI
 * routes carrying its requester ID, and the test plays that VMM.
 *
 * Its interrupts must be remapped in the kernel like any MSI, with the
 * I/O APIC's source-id verified, and its level-triggered pins' EOIs must
 * reach the VMM (KVM_EXIT_IOAPIC_EOI) from the vCPU the IRTE targets, and
 * only from it, also once an IEC has moved the pin.
 */
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

#define GSI_EDGE	4
#define GSI_LEVEL	10

FIXTURE(ioapic_split) {};
FIXTURE_SETUP(ioapic_split) {}
FIXTURE_TEARDOWN(ioapic_split) {}

static void split_route(struct itest *t, uint32_t gsi, uint16_t index,
			uint16_t sid)
{
	struct viommu_msi m = viommu_msi_devid(viommu_msi_remappable(index, false, 0),
					       sid);

	viommu_route_msi(t->g, gsi, &m);
	viommu_commit_routes(t->g);
}

TEST_F_TIMEOUT(ioapic_split, split_edge, TEST_TIMEOUT_S)
{
	struct itest t;
	uint64_t exits;
	int i;

	if (!it_setup(&t, 4, VIOMMU_GUEST_X2APIC | VIOMMU_GUEST_SPLIT_IRQCHIP))
		SKIP(return, "%s", t.why);
	it_irte(&t, IDX_EDGE, 0x40, 3, 0, IOAPIC_SID);
	split_route(&t, GSI_EDGE, IDX_EDGE, IOAPIC_SID);

	exits = viommu_guest_exits(t.g);
	for (i = 1; i <= NR_PULSES; i++) {
		it_pulse(&t, GSI_EDGE);
		it_wait_count(&t, 3, 0x40, i, "split edge pulse");
	}
	TEST_ASSERT(viommu_guest_exits(t.g) == exits,
		    "%llu exits to userspace during %d interrupts",
		    (unsigned long long)(viommu_guest_exits(t.g) - exits), NR_PULSES);
	usleep(QUIET_US);
	it_assert_only(&t, 3, 0x40, NR_PULSES, "split edge pulses");

	/* Another requester than the IRTE's. */
	split_route(&t, GSI_EDGE, IDX_EDGE, OTHER_SID);
	it_pulse(&t, GSI_EDGE);
	it_assert_fault(&t, KVM_VIOMMU_FR_IR_SID_ERR, IDX_EDGE, OTHER_SID, true);
	it_teardown(&t);
}

/* Waits for @vcpu's KVM_EXIT_IOAPIC_EOI of @vector; asserts no other. */
static void wait_eoi_exit(struct itest *t, int vcpu, int vector, uint32_t n)
{
	uint64_t deadline = viommu_now_ns() + WAIT_TIMEOUT_NS;
	int i;

	while (viommu_guest_ioapic_eois(t->g, vcpu, vector) < n) {
		TEST_ASSERT(viommu_now_ns() < deadline,
			    "vCPU %d: %u KVM_EXIT_IOAPIC_EOI for 0x%x, want %u", vcpu,
			    viommu_guest_ioapic_eois(t->g, vcpu, vector), vector, n);
		usleep(20);
	}
	usleep(QUIET_US);
	for (i = 0; i < t->nr; i++)
		TEST_ASSERT(viommu_guest_ioapic_eois(t->g, i, vector) == (i == vcpu ? n : 0),
			    "vCPU %d: %u KVM_EXIT_IOAPIC_EOI for 0x%x", i,
			    viommu_guest_ioapic_eois(t->g, i, vector), vector);
}

/*
 * A level pin of the VMM's I/O APIC: the vCPU the IRTE targets, and only
 * it, exits with the IRTE's vector on EOI, also after a retarget + IEC.
 */
TEST_F_TIMEOUT(ioapic_split, split_level_eoi, TEST_TIMEOUT_S)
{
	struct itest t;

	if (!it_setup(&t, 4, VIOMMU_GUEST_X2APIC | VIOMMU_GUEST_SPLIT_IRQCHIP))
		SKIP(return, "%s", t.why);
	it_irte(&t, IDX_LEVEL, 0x50, 1, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	split_route(&t, GSI_LEVEL, IDX_LEVEL, IOAPIC_SID);

	kvm_irq_line(t.g->vm, GSI_LEVEL, 1);
	it_wait_only(&t, 1, 0x50, 1, "split level");
	wait_eoi_exit(&t, 1, 0x50, 1);
	kvm_irq_line(t.g->vm, GSI_LEVEL, 0);

	it_irte(&t, IDX_LEVEL, 0x50, 2, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	viommu_iec_index(t.dev, IDX_LEVEL, 0);
	memset(t.g->ioapic_eois, 0, sizeof(t.g->ioapic_eois));
	kvm_irq_line(t.g->vm, GSI_LEVEL, 1);
	it_wait_count(&t, 2, 0x50, 1, "split level, retargeted");
	wait_eoi_exit(&t, 2, 0x50, 1);
	kvm_irq_line(t.g->vm, GSI_LEVEL, 0);
	it_teardown(&t);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, viommu_ir_unsupported);
}
