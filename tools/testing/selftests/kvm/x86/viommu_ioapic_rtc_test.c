// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_ioapic_rtc_test: the RTC's interrupt (GSI 8), remapped through a
 * redirection entry the guest programs as Linux does, is coalesced while
 * its vCPU has not EOIed the last one, and KVM_IRQ_LINE_STATUS says so.
 *
 * Windows guests keep time by the RTC, and a VMM re-injects the ticks that
 * KVM reports coalesced: KVM's EOI tracking of the RTC must follow the
 * IRTE's destination and vector, not the RTE's, whether the tick hit the
 * IR cache, waited for its IRTE, or the tracking was rebuilt by
 * KVM_SET_IRQCHIP.  The guest's handler (HOLD_VEC) holds each EOI until
 * the host lets it go.
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

#define RTC_GSI		8
/* Below 128: the index bits of the RTE make destination 0, not RTC_VCPU. */
#define IDX_RTC		7
#define RTC_VCPU	1
/* Ticks tried until one takes the path a test wants (rtc_tick_held()). */
#define RTC_ATTEMPTS	50

FIXTURE(ioapic_rtc) {};
FIXTURE_SETUP(ioapic_rtc) {}
FIXTURE_TEARDOWN(ioapic_rtc) {}

/* KVM_IRQ_LINE_STATUS: > 0 delivered, 0 coalesced, < 0 not delivered now. */
static int rtc_tick(struct itest *t)
{
	struct kvm_irq_level irq = { .irq = RTC_GSI, .level = 1 };
	int status;

	vm_ioctl(t->g->vm, KVM_IRQ_LINE_STATUS, &irq);
	/* The status overwrites the GSI: they share a union. */
	status = irq.status;
	irq.irq = RTC_GSI;
	irq.level = 0;
	vm_ioctl(t->g->vm, KVM_IRQ_LINE_STATUS, &irq);
	return status;
}

/* Lets RTC_VCPU end its @n-th RTC interrupt, and waits for the EOI. */
static void rtc_release(struct itest *t, uint32_t n)
{
	__atomic_store_n(&t->hold->release[RTC_VCPU], n, __ATOMIC_SEQ_CST);
	it_wait_guest_u32(t, &t->hold->eoi[RTC_VCPU], n, "RTC EOIs");
}

static void assert_rtc_coalesced(struct itest *t, uint32_t n, const char *what)
{
	int status = rtc_tick(t);

	TEST_ASSERT(status == 0,
		    "%s: a tick while vCPU %d holds the last gets status %d, want 0 (coalesced)",
		    what, RTC_VCPU, status);
	usleep(QUIET_US);
	TEST_ASSERT(t->hold->count[RTC_VCPU] == n,
		    "%s: vCPU %d took %u RTC interrupts, want %u", what, RTC_VCPU,
		    t->hold->count[RTC_VCPU], n);
}

/*
 * The RTC's pin remapped, as Linux programs it, to RTC_VCPU's hold
 * handler; false to skip.
 */
static bool rtc_setup(struct itest *t)
{
	if (!it_setup_guest(t, 2, 0, IRTA_SIZE_256))
		return false;
	it_irte(t, IDX_RTC, HOLD_VEC, RTC_VCPU, 0, IOAPIC_SID);
	/* The I/O APIC's pin only: the PIC would add a status of its own. */
	viommu_route_irqchip(t->g, RTC_GSI, KVM_IRQCHIP_IOAPIC, RTC_GSI);
	viommu_commit_routes(t->g);
	/* Linux programs the pin's number as the RTE's vector. */
	it_guest_cmd(t, GOP_WRITE_RTE, RTC_GSI, rte_remappable(IDX_RTC, RTC_GSI, 0));
	return true;
}

/*
 * Ticks until one is delivered at once (@waited false) or after waiting for
 * its IRTE (@waited true), leaving that one held; @n counts the interrupts.
 * Either can take more than one try: the EOI scan that follows an RTE write
 * or an IEC reads the IRTE into the cache at a time of its own.
 */
static void rtc_tick_held(struct itest *t, uint32_t *n, bool waited)
{
	int attempt, status;
	bool deferred;

	for (attempt = 0;; attempt++) {
		TEST_ASSERT(attempt < RTC_ATTEMPTS, "no RTC tick %s in %d attempts",
			    waited ? "waited for its IRTE" : "hit the IR cache", attempt);
		if (waited)
			viommu_iec_index(t->dev, IDX_RTC, 0);
		status = rtc_tick(t);
		TEST_ASSERT(status != 0, "RTC tick %u coalesced, none pending", *n + 1);
		it_wait_guest_u32(t, &t->hold->count[RTC_VCPU], ++*n, "RTC interrupts");
		deferred = status < 0;
		if (deferred == waited)
			return;
		rtc_release(t, *n);
	}
}

/* After the EOI, the next tick is delivered. */
static void rtc_end(struct itest *t, uint32_t n)
{
	int status;

	rtc_release(t, n);
	status = rtc_tick(t);
	TEST_ASSERT(status > 0, "a tick after the EOI gets status %d, want > 0", status);
	it_wait_guest_u32(t, &t->hold->count[RTC_VCPU], n + 1, "RTC interrupts after the EOI");
	rtc_release(t, n + 1);
	it_teardown(t);
}

/*
 * The RTC's interrupt, remapped, is coalesced while its vCPU has not EOIed
 * the last one, as KVM_IRQ_LINE_STATUS tells the VMM (Windows guests keep
 * time by it), also when the last one waited for its IRTE.
 */
TEST_F_TIMEOUT(ioapic_rtc, rtc_coalesce_waited, TEST_TIMEOUT_S)
{
	struct itest t;
	uint32_t n = 0;

	if (!rtc_setup(&t))
		SKIP(return, "%s", t.why);
	rtc_tick_held(&t, &n, true);
	assert_rtc_coalesced(&t, n, "after a tick that waited for its IRTE");
	rtc_end(&t, n);
}

/*
 * KVM_SET_IRQCHIP restores the RTC's EOI tracking from the local APICs:
 * by the IRTE's destination and vector, not the RTE's index bits.
 */
TEST_F_TIMEOUT(ioapic_rtc, rtc_coalesce_restored, TEST_TIMEOUT_S)
{
	struct itest t;
	uint32_t n = 0;

	if (!rtc_setup(&t))
		SKIP(return, "%s", t.why);
	rtc_tick_held(&t, &n, false);
	assert_rtc_coalesced(&t, n, "before KVM_SET_IRQCHIP");
	it_ioapic_set_rte(&t, RTC_GSI, it_ioapic_rte(&t, RTC_GSI));
	assert_rtc_coalesced(&t, n, "after KVM_SET_IRQCHIP");
	rtc_end(&t, n);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, viommu_ir_unsupported);
}
