// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_ioapic_guest_test: the guest programs the in-kernel I/O APIC's
 * remappable redirection entries itself, through IOREGSEL/IOWIN, as
 * Linux's intel irq_remapping and io_apic.c do, and ends level-triggered
 * interrupts as Linux does, or holds their EOIs.
 *
 * A guest's RTE write and its mask and unmask, which rewrite only the low
 * word, go through the I/O APIC's own MMIO path rather than
 * KVM_SET_IRQCHIP: the EOI scan that finds the IRTE's vCPUs has to follow
 * it there, and a guest must read back what it wrote.
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

FIXTURE(ioapic_guest) {};
FIXTURE_SETUP(ioapic_guest) {}
FIXTURE_TEARDOWN(ioapic_guest) {}

static void wait_linux_count(struct itest *t, int vcpu, uint32_t n)
{
	uint64_t deadline = viommu_now_ns() + WAIT_TIMEOUT_NS;

	while (__atomic_load_n(&t->linux_count[vcpu], __ATOMIC_SEQ_CST) < n) {
		if (viommu_now_ns() > deadline) {
			viommu_guest_check_corruption(t->g);
			TEST_FAIL("vCPU %d took vector 0x%x %u times, want %u", vcpu,
				  LINUX_LEVEL_VEC, t->linux_count[vcpu], n);
		}
		usleep(20);
	}
}

static void assert_rte(struct itest *t, int pin, uint64_t want, const char *what)
{
	uint64_t host = it_ioapic_rte(t, pin);
	uint64_t guest = it_guest_cmd(t, GOP_READ_RTE, pin, 0);

	TEST_ASSERT(host == want && guest == want,
		    "%s: pin %d RTE 0x%llx (KVM_GET_IRQCHIP), 0x%llx (IOWIN), want 0x%llx",
		    what, pin, (unsigned long long)host, (unsigned long long)guest,
		    (unsigned long long)want);
}

/*
 * An edge pin the guest programs, with handle[15] in RTE bit 11 (64K
 * entries): the IRTE's vector on the IRTE's vCPU, per pulse; then Linux's
 * mask and unmask, which rewrite only the low word: a masked pin loses its
 * edges, an unmasked one takes the next, through the same IRTE.
 */
TEST_F_TIMEOUT(ioapic_guest, guest_edge_mask_unmask, TEST_TIMEOUT_S)
{
	uint16_t index = 0x8000 | IDX_EDGE;
	/* Linux puts the pin number in the vector field. */
	uint64_t rte = rte_remappable(index, PIN_EDGE, 0), exits;
	struct itest t;
	int i;

	if (!it_setup_guest(&t, 4, VIOMMU_GUEST_X2APIC, IRTA_SIZE_64K))
		SKIP(return, "%s", t.why);
	it_irte(&t, index, 0x40, 3, 0, IOAPIC_SID);
	/* What the RTE would name without bit 11. */
	it_irte(&t, IDX_EDGE, 0x41, 1, 0, IOAPIC_SID);

	it_guest_cmd(&t, GOP_WRITE_RTE, PIN_EDGE, rte);
	assert_rte(&t, PIN_EDGE, rte, "written by the guest");

	exits = viommu_guest_exits(t.g);
	for (i = 1; i <= 20; i++) {
		it_pulse(&t, PIN_EDGE);
		it_wait_count(&t, 3, 0x40, i, "guest-programmed edge pulse");
	}
	it_assert_no_exits(&t, exits, "20 guest-programmed edge pulses");
	usleep(QUIET_US);
	it_assert_only(&t, 3, 0x40, 20, "guest-programmed edge pulses");

	it_guest_cmd(&t, GOP_MASK, PIN_EDGE, 0);
	assert_rte(&t, PIN_EDGE, rte | RTE_MASKED, "masked by the guest");
	for (i = 0; i < 3; i++)
		it_pulse(&t, PIN_EDGE);
	usleep(QUIET_US);
	it_assert_only(&t, 3, 0x40, 20, "pulses on the masked pin");

	it_guest_cmd(&t, GOP_UNMASK, PIN_EDGE, 0);
	assert_rte(&t, PIN_EDGE, rte, "unmasked by the guest");
	usleep(QUIET_US);
	it_assert_only(&t, 3, 0x40, 20, "unmasked, before a pulse");
	it_pulse(&t, PIN_EDGE);
	it_wait_only(&t, 3, 0x40, 21, "pulse after the unmask");
	it_assert_only(&t, 1, 0x41, 0, "the IRTE without handle[15]");
	it_teardown(&t);
}

/*
 * A level pin the guest programs, masked first as Linux does, with a level
 * IRTE whose vector the RTE repeats: the local APIC's EOI is broadcast to
 * the I/O APIC.  The RTE's bits 63:56, read as a destination, would name
 * vCPU 0, the IRTE names vCPU 2: only if the guest's RTE write rescans
 * every vCPU does vCPU 2's EOI reach the I/O APIC, and the line held high
 * deliver again.
 */
TEST_F_TIMEOUT(ioapic_guest, guest_level_eoi, TEST_TIMEOUT_S)
{
	uint64_t rte = rte_remappable(IDX_LEVEL, 0x50, RTE_LEVEL), exits;
	struct itest t;

	if (!it_setup_guest(&t, 4, 0, IRTA_SIZE_256))
		SKIP(return, "%s", t.why);
	it_irte(&t, IDX_LEVEL, 0x50, 2, VIOMMU_IRTE_TM_LEVEL, IOAPIC_SID);
	it_guest_cmd(&t, GOP_WRITE_RTE, PIN_LEVEL, rte | RTE_MASKED);
	assert_rte(&t, PIN_LEVEL, rte | RTE_MASKED, "written masked by the guest");

	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	usleep(QUIET_US);
	it_assert_only(&t, 2, 0x50, 0, "masked level pin, line high");

	exits = viommu_guest_exits(t.g);
	it_guest_cmd(&t, GOP_UNMASK, PIN_LEVEL, 0);
	it_wait_count(&t, 2, 0x50, 20, "guest-unmasked level pin, line high");
	it_assert_no_exits(&t, exits, "level re-delivery");
	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	usleep(QUIET_US);
	it_assert_remote_irr(&t, PIN_LEVEL, false);
	assert_rte(&t, PIN_LEVEL, rte, "after the line went low");
	it_level_storm(&t, 2, 0x50, viommu_guest_count(t.g, 2, 0x50) + 5);
	it_teardown(&t);
}

/*
 * Linux's level pin: the RTE's vector is the pin number, the IRTE is edge,
 * and the guest's handler ends each interrupt at the I/O APIC itself
 * (guest_linux_level_handler(), lib/viommu_ioapic.c): with the line held
 * high, each EOI brings the next; once it is low, Remote IRR is clear and
 * nothing comes.
 */
TEST_F_TIMEOUT(ioapic_guest, guest_level_linux_eoi, TEST_TIMEOUT_S)
{
	uint64_t rte = rte_remappable(IDX_LEVEL, PIN_LEVEL, RTE_LEVEL), exits;
	uint32_t seen;
	struct itest t;
	int i;

	if (!it_setup_guest(&t, 4, 0, IRTA_SIZE_256))
		SKIP(return, "%s", t.why);
	it_irte(&t, IDX_LEVEL, LINUX_LEVEL_VEC, 1, 0, IOAPIC_SID);
	it_guest_cmd(&t, GOP_WRITE_RTE, PIN_LEVEL, rte | RTE_MASKED);
	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	usleep(QUIET_US);
	TEST_ASSERT(!t.linux_count[1], "masked pin: %u interrupts", t.linux_count[1]);

	exits = viommu_guest_exits(t.g);
	it_guest_cmd(&t, GOP_UNMASK, PIN_LEVEL, 0);
	wait_linux_count(&t, 1, 20);
	it_assert_no_exits(&t, exits, "level pin ended by the guest at the I/O APIC");
	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	usleep(QUIET_US);
	seen = __atomic_load_n(&t.linux_count[1], __ATOMIC_SEQ_CST);
	it_assert_remote_irr(&t, PIN_LEVEL, false);
	assert_rte(&t, PIN_LEVEL, rte, "after the guest's I/O APIC EOIs");
	usleep(QUIET_US);
	for (i = 0; i < t.nr; i++)
		TEST_ASSERT(__atomic_load_n(&t.linux_count[i], __ATOMIC_SEQ_CST) ==
			    (i == 1 ? seen : 0),
			    "vCPU %d: %u interrupts after the line went low, want %u", i,
			    t.linux_count[i], i == 1 ? seen : 0);

	/* The line up again: one more, at least. */
	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	wait_linux_count(&t, 1, seen + 1);
	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	/* Every one went to the Linux handler. */
	it_assert_only(&t, 1, LINUX_LEVEL_VEC, 0, "the counting handler");
	it_teardown(&t);
}

/*
 * A logical level pin (mask 0x6, xAPIC flat), programmed by the guest,
 * whose handlers hold their EOIs: while no vCPU has EOIed, Remote IRR
 * stays set and the line held high brings nothing more; vCPU 1's EOI
 * alone clears it and brings the next interrupt to both vCPUs; with the
 * line low, the remaining EOIs leave Remote IRR clear and bring nothing.
 */
TEST_F_TIMEOUT(ioapic_guest, level_logical_held_eoi, TEST_TIMEOUT_S)
{
	uint64_t rte = rte_remappable(IDX_LEVEL, HOLD_VEC, RTE_LEVEL);
	struct ghold *h;
	struct itest t;
	int i;

	if (!it_setup_guest(&t, 4, 0, IRTA_SIZE_256))
		SKIP(return, "%s", t.why);
	h = t.hold;
	viommu_guest_write_irte(t.g, 0, IDX_LEVEL,
				viommu_irte_lo(HOLD_VEC, 0x6, false, VIOMMU_DLM_FIXED,
					       VIOMMU_IRTE_DM_LOGICAL | VIOMMU_IRTE_TM_LEVEL),
				viommu_irte_hi(IOAPIC_SID, 0, VIOMMU_SVT_SID));
	it_guest_cmd(&t, GOP_WRITE_RTE, PIN_LEVEL, rte);

	kvm_irq_line(t.g->vm, PIN_LEVEL, 1);
	it_wait_guest_u32(&t, &h->count[1], 1, "vCPU 1, held level interrupts");
	it_wait_guest_u32(&t, &h->count[2], 1, "vCPU 2, held level interrupts");
	usleep(QUIET_US);
	TEST_ASSERT(h->count[1] == 1 && h->count[2] == 1,
		    "no EOI yet, line high: vCPUs 1 and 2 took %u and %u, want 1 and 1",
		    h->count[1], h->count[2]);
	it_assert_remote_irr(&t, PIN_LEVEL, true);

	/* vCPU 1's EOI: the next interrupt, while vCPU 2 still holds its own. */
	__atomic_store_n(&h->release[1], 1, __ATOMIC_SEQ_CST);
	it_wait_guest_u32(&t, &h->eoi[1], 1, "vCPU 1, EOIs");
	it_wait_guest_u32(&t, &h->count[1], 2, "vCPU 1, after its EOI, line high");
	it_assert_remote_irr(&t, PIN_LEVEL, true);

	kvm_irq_line(t.g->vm, PIN_LEVEL, 0);
	__atomic_store_n(&h->release[1], ~0U, __ATOMIC_SEQ_CST);
	__atomic_store_n(&h->release[2], ~0U, __ATOMIC_SEQ_CST);
	/* vCPU 2 takes the one pending in its IRR after its EOI. */
	it_wait_guest_u32(&t, &h->eoi[1], 2, "vCPU 1, EOIs, line low");
	it_wait_guest_u32(&t, &h->eoi[2], 2, "vCPU 2, EOIs, line low");
	usleep(QUIET_US);
	it_assert_remote_irr(&t, PIN_LEVEL, false);
	for (i = 0; i < t.nr; i++) {
		uint32_t want = i == 1 || i == 2 ? 2 : 0;

		TEST_ASSERT(h->count[i] == want && h->eoi[i] == want,
			    "line low, all EOIed: vCPU %d took %u, EOIed %u, want %u", i,
			    h->count[i], h->eoi[i], want);
	}
	it_assert_only(&t, 1, HOLD_VEC, 0, "the counting handler");
	it_teardown(&t);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, viommu_ir_unsupported);
}
