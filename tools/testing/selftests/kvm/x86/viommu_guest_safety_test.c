// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_guest_safety_test: what a guest, driving the VT-d register page
 * of the KVM_DEV_TYPE_INTEL_VIOMMU device as its IOMMU driver would, can do
 * to itself and to the host through the invalidation queue and GCMD.
 *
 * Each case is a regression test for one bug, which the comment above it
 * names; it fails on the kernel that has the bug.
 *
 * Every case runs in a child process of its own, so that a failed assertion
 * (TEST_ASSERT exits) or a hang (alarm) costs one TAP result, not the rest.
 * The whole program skips without the device's interrupt remapping, each
 * case when the loaded KVM does not serve the register page or lacks what
 * else it needs (it says what).
 */
#define _GNU_SOURCE
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
#include "apic.h"
#include "viommu.h"
#include "viommu_regs.h"

#define CASE_TIMEOUT_S		90

#define MSI_ADDR		0xfee00000U	/* APIC ID 0, physical */
#define INV_VEC			0x51

/* A 256-entry table at VTD_IRT_GPA, x2APIC mode. */
#define IRTA			(VTD_IRT_GPA | KVM_VIOMMU_IRTA_EIME | 7)

#define LAPIC_LVTT		0x320
#define LAPIC_LVT_MASKED	BIT(16)

/* The guest's driver state; each case has a VM of its own. */
static struct vtd_iommu iommu;

/* ---- host helpers ---------------------------------------------------------------- */

static void skip_without_regs(void)
{
	const char *why = vtd_regs_unsupported();

	if (why)
		viommu_case_skip("%s", why);
}

static void event_config(int dev, uint32_t types)
{
	struct kvm_viommu_event_config c = { .types = types, .eventfd = -1 };

	VIOMMU_ASSERT_RET(viommu_set_attr(dev, KVM_DEV_VIOMMU_GRP_EVENT,
					  KVM_DEV_VIOMMU_EVENT_CONFIG, &c), 0);
}

static void event_pop(int dev, struct kvm_viommu_event *e)
{
	memset(e, 0xa5, sizeof(*e));
	VIOMMU_ASSERT_RET(viommu_get_attr(dev, KVM_DEV_VIOMMU_GRP_EVENT,
					  KVM_DEV_VIOMMU_EVENT_POP, e), 0);
}

static void event_ack(int dev, uint64_t seq)
{
	struct kvm_viommu_event_ack a = { .seq = seq };

	VIOMMU_ASSERT_RET(viommu_set_attr(dev, KVM_DEV_VIOMMU_GRP_EVENT,
					  KVM_DEV_VIOMMU_EVENT_ACK, &a), 0);
}

/* One statistic of a vCPU, readable while the vCPU runs. */
struct vcpu_stat {
	int fd;
	struct kvm_stats_header hdr;
	struct kvm_stats_desc *descs;
	struct kvm_stats_desc *desc;
};

/* Before the vCPU runs: KVM_GET_STATS_FD takes the vCPU's mutex. */
static void vcpu_stat_open(struct vcpu_stat *s, struct kvm_vcpu *vcpu, const char *name)
{
	struct kvm_stats_desc *d;
	int i;

	s->fd = vcpu_get_stats_fd(vcpu);
	read_stats_header(s->fd, &s->hdr);
	s->descs = read_stats_descriptors(s->fd, &s->hdr);
	for (i = 0; i < (int)s->hdr.num_desc; i++) {
		d = get_stats_descriptor(s->descs, i, &s->hdr);
		if (!strcmp(d->name, name)) {
			s->desc = d;
			return;
		}
	}
	TEST_FAIL("vCPU statistic '%s' not found", name);
}

static uint64_t vcpu_stat_read(struct vcpu_stat *s)
{
	uint64_t val;

	read_stat_data(s->fd, &s->hdr, s->desc, &val, 1);
	return val;
}

static void vcpu_stat_close(struct vcpu_stat *s)
{
	free(s->descs);
	close(s->fd);
}

/* Polls *@p (guest memory) until it is nonzero; false after @timeout_ns. */
static bool wait_nonzero(uint32_t *p, uint64_t timeout_ns)
{
	uint64_t end = viommu_now_ns() + timeout_ns;

	while (!__atomic_load_n(p, __ATOMIC_SEQ_CST)) {
		if (viommu_now_ns() > end)
			return false;
		usleep(1000);
	}
	return true;
}

/* ---- halted_vcpu_wake -------------------------------------------------------------- */

/*
 * The VMM's EVENT_ACK resumes the queue through a vCPU request, but a
 * request does not make a halted vCPU runnable: the wait behind the event,
 * and its completion interrupt, stay stuck until something else wakes it.
 */

#define WAKE_SID		0x0108
#define WAKE_TIMEOUT_NS		(5ULL * NSEC_PER_SEC)
#define WAKE_OTHER_VEC		0x52

static uint32_t wake_armed;
static uint32_t wake_wait_index;

static void wake_guest(uint64_t idx)
{
	struct vtd_desc flush = vtd_desc_devtlb(WAKE_SID, 0x5000);

	/* Nothing but the wait's interrupt may end the HLT. */
	x2apic_write_reg(LAPIC_LVTT, LAPIC_LVT_MASKED);
	vtd_iommu_init(&iommu, VTD_BASE);
	vtd_writel(&iommu, DMAR_IEDATA_REG, INV_VEC);
	vtd_writel(&iommu, DMAR_IEADDR_REG, MSI_ADDR);
	vtd_writel(&iommu, DMAR_IEUADDR_REG, 0);
	vtd_writel(&iommu, DMAR_IECTL_REG, 0);
	vtd_enable_qi(&iommu, VTD_QUEUE_GPA, 0, false, VTD_STATUS_GPA);
	vtd_qi_queue(&iommu, &flush, 1);
	WRITE_ONCE(wake_wait_index, vtd_qi_queue_wait(&iommu, QI_IWD_IF));
	vtd_qi_doorbell(&iommu);
	WRITE_ONCE(wake_armed, 1);
	/* Back to the lib's HLT loop, interrupts enabled. */
}

static void test_halted_vcpu_wake(void)
{
	struct kvm_viommu_event e;
	struct viommu_guest *g;
	struct vcpu_stat blocking;
	struct viommu_msi unrelated = viommu_msi_compat(0, false, WAKE_OTHER_VEC,
							VIOMMU_DLM_FIXED);
	uint64_t t0, waited_ms, other_ms;
	uint32_t *status, st;
	bool woke;
	int r;

	skip_without_regs();
	g = viommu_guest_create(1, VIOMMU_GUEST_X2APIC, true);
	vtd_guest_prepare(g, wake_guest);
	r = vtd_regs_config(g->dev, VTD_BASE, VTD_DEFAULT_CAP, VTD_DEFAULT_ECAP);
	TEST_ASSERT(!r, "REGS_CONFIG: %s", strerror(-r));
	event_config(g->dev, KVM_VIOMMU_EVENT_DEVTLB);
	vcpu_stat_open(&blocking, g->vcpus[0], "blocking");
	viommu_guest_start(g);

	TEST_ASSERT(wait_nonzero(addr_gva2hva(g->vm, (vm_vaddr_t)&wake_armed),
				 30ULL * NSEC_PER_SEC),
		    "the guest did not ring the doorbell");
	status = (uint32_t *)((uint8_t *)g->irt + (VTD_STATUS_GPA - VTD_MEM_GPA)) +
		 *(uint32_t *)addr_gva2hva(g->vm, (vm_vaddr_t)&wake_wait_index);

	event_pop(g->dev, &e);
	TEST_ASSERT(e.type == KVM_VIOMMU_EVENT_DEVTLB && (e.flags & KVM_VIOMMU_EVENT_F_QUEUED),
		    "event: type 0x%x flags 0x%x, expected the queued device-TLB flush",
		    e.type, e.flags);

	/* Asleep in HLT, not polling and not about to enter the guest. */
	t0 = viommu_now_ns();
	while (vcpu_stat_read(&blocking) != 1) {
		TEST_ASSERT(viommu_now_ns() - t0 < 30ULL * NSEC_PER_SEC,
			    "the vCPU did not block in HLT");
		usleep(1000);
	}
	usleep(100000);
	TEST_ASSERT(vcpu_stat_read(&blocking) == 1, "the vCPU left HLT before the ACK");
	st = __atomic_load_n(status, __ATOMIC_SEQ_CST);
	TEST_ASSERT(st == QI_IN_USE, "the wait completed (status %u) before the ACK", st);
	TEST_ASSERT(!viommu_guest_count(g, 0, INV_VEC), "IWC interrupt before the ACK");

	event_ack(g->dev, e.seq);
	t0 = viommu_now_ns();
	while (!viommu_guest_count(g, 0, INV_VEC) && viommu_now_ns() - t0 < WAKE_TIMEOUT_NS)
		usleep(1000);
	waited_ms = (viommu_now_ns() - t0) / 1000000;
	woke = viommu_guest_count(g, 0, INV_VEC);

	if (!woke) {
		/* Show that only the wakeup is missing: any interrupt brings it. */
		st = __atomic_load_n(status, __ATOMIC_SEQ_CST);
		t0 = viommu_now_ns();
		r = viommu_signal_msi(g->vm, &unrelated);
		TEST_ASSERT(r >= 1, "KVM_SIGNAL_MSI of vector 0x%x: %d", WAKE_OTHER_VEC, r);
		while (!viommu_guest_count(g, 0, INV_VEC) &&
		       viommu_now_ns() - t0 < WAKE_TIMEOUT_NS)
			usleep(1000);
		other_ms = (viommu_now_ns() - t0) / 1000000;
		TEST_FAIL("halted vCPU not woken by EVENT_ACK:\n"
			  "  no IWC interrupt in %llu ms, the wait's status still %u (%s);\n"
			  "  after an unrelated interrupt (vector 0x%x, taken %u times): IWC interrupt %s, %llu ms",
			  (unsigned long long)waited_ms, st,
			  st == QI_IN_USE ? "not run" : "written", WAKE_OTHER_VEC,
			  viommu_guest_count(g, 0, WAKE_OTHER_VEC),
			  viommu_guest_count(g, 0, INV_VEC) ? "arrived" : "still missing",
			  (unsigned long long)other_ms);
	}
	ksft_print_msg("halted_vcpu_wake: IWC interrupt %llu ms after EVENT_ACK\n",
		       (unsigned long long)waited_ms);
	st = __atomic_load_n(status, __ATOMIC_SEQ_CST);
	TEST_ASSERT(st == QI_DONE, "IWC interrupt, but the wait's status is %u", st);
	vcpu_stat_close(&blocking);
	viommu_guest_destroy(g);
}

/* ---- driver ----------------------------------------------------------------------------- */

static const struct viommu_case cases[] = {
	{ "halted_vcpu_wake",		test_halted_vcpu_wake },
};

int main(int argc, char *argv[])
{
	viommu_ir_test_main(argc, argv, cases, ARRAY_SIZE(cases), CASE_TIMEOUT_S);
}
