// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_msi_delivery_test: what a remapped MSI is delivered as, and to
 * whom.  An IRTE, not the MSI, now names the delivery mode, the
 * destination mode and the destination; each must reach KVM's delivery
 * unchanged: logical and lowest-priority destinations, redirection hints,
 * SMI and INIT, and in x2APIC mode (EIME) the whole 32-bit destination,
 * broadcast included, whatever KVM's x2APIC API quirks say.
 *
 * See include/viommu_msi.h for how each test knows that every vector
 * arrived where it was meant to, and nowhere else.  The program skips when
 * the loaded KVM does not have the device or its interrupt remapping
 * attributes.
 */
#include <stdint.h>
#include <unistd.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_msi.h"
#include "viommu_test.h"
#include "viommu_msi_apic.h"

#define TEST_TIMEOUT_S		60

FIXTURE(msi_delivery) {};
FIXTURE_SETUP(msi_delivery) {}
FIXTURE_TEARDOWN(msi_delivery) {}

/* KVM_CAP_X2APIC_API as QEMU enables it for eim=on, or KVM's default. */
FIXTURE(x2apic_api) {};

FIXTURE_VARIANT(x2apic_api) {
	bool enable;
};

FIXTURE_VARIANT_ADD(x2apic_api, enabled) {
	.enable = true,
};

FIXTURE_VARIANT_ADD(x2apic_api, default) {
	.enable = false,
};

FIXTURE_SETUP(x2apic_api) {}
FIXTURE_TEARDOWN(x2apic_api) {}

/* ---- destination modes -------------------------------------------------------- */

/* Logical fixed, lowest priority and redirection hint. */
TEST_F_TIMEOUT(apic, logical_lowest, TEST_TIMEOUT_S)
{
	struct msi_ctx *t = msi_create_ir(4, variant->gflags);
	int via, i;

	for (via = 0; via < NR_VIAS; via++) {
		uint32_t idx = 200 + via * 16;
		int b = via * 8;

		msi_irte(t, idx, viommu_irte_lo(VEC(b), 0x3, t->eime, VIOMMU_DLM_FIXED,
						VIOMMU_IRTE_DM_LOGICAL), 0);
		msi_irte(t, idx + 1, viommu_irte_lo(VEC(b + 1), 0xf, t->eime, VIOMMU_DLM_FIXED,
						    VIOMMU_IRTE_DM_LOGICAL), 0);
		msi_irte(t, idx + 2, viommu_irte_lo(VEC(b + 2), 0x6, t->eime, VIOMMU_DLM_LOWEST,
						    VIOMMU_IRTE_DM_LOGICAL), 0);
		msi_irte(t, idx + 3, viommu_irte_lo(VEC(b + 3), 0xc, t->eime, VIOMMU_DLM_FIXED,
						    VIOMMU_IRTE_DM_LOGICAL | VIOMMU_IRTE_RH), 0);
		msi_irte(t, idx + 4, viommu_irte_lo(VEC(b + 4), 3, t->eime, VIOMMU_DLM_LOWEST, 0),
			 0);
		msi_irte(t, idx + 5, viommu_irte_lo(VEC(b + 5), 0x9, t->eime, VIOMMU_DLM_LOWEST,
						    VIOMMU_IRTE_DM_LOGICAL | VIOMMU_IRTE_RH), 0);

		msi_step(t, "%s: logical fixed to mask 0x3", via_name(via));
		msi_fire_ok(t, via, msi_remap(idx));
		msi_expect(t, 0, VEC(b), 1);
		msi_expect(t, 1, VEC(b), 1);
		msi_settle(t);

		msi_step(t, "%s: logical fixed to mask 0xf", via_name(via));
		msi_fire_ok(t, via, msi_remap(idx + 1));
		for (i = 0; i < 4; i++)
			msi_expect(t, i, VEC(b + 1), 1);
		msi_settle(t);

		for (i = 0; i < 4; i++) {
			msi_step(t, "%s: logical lowest priority to mask 0x6, #%d", via_name(via),
				 i);
			msi_fire_ok(t, via, msi_remap(idx + 2));
			msi_expect_any(t, 0x6, VEC(b + 2), 1);
			msi_settle(t);

			msi_step(t, "%s: logical fixed with RH to mask 0xc, #%d", via_name(via), i);
			msi_fire_ok(t, via, msi_remap(idx + 3));
			msi_expect_any(t, 0xc, VEC(b + 3), 1);
			msi_settle(t);

			msi_step(t, "%s: physical lowest priority to vCPU 3, #%d", via_name(via),
				 i);
			msi_deliver(t, via, msi_remap(idx + 4), 3, VEC(b + 4));

			msi_step(t, "%s: logical lowest priority with RH to mask 0x9, #%d",
				 via_name(via), i);
			msi_fire_ok(t, via, msi_remap(idx + 5));
			msi_expect_any(t, 0x9, VEC(b + 5), 1);
			msi_settle(t);
		}
	}
	msi_step(t, "end");
	msi_assert_no_faults(t);
	msi_destroy(t);
}

/* ---- SMI and INIT --------------------------------------------------------------- */

/*
 * What an SMI or INIT taken for a fixed interrupt would leave: a vector in
 * the vCPU's IRR.
 */
static void assert_irr_empty(struct msi_ctx *t, int vcpu)
{
	struct kvm_lapic_state lapic;
	int i;

	vcpu_ioctl(t->g->vcpus[vcpu], KVM_GET_LAPIC, &lapic);
	for (i = 0; i < 8; i++)
		TEST_ASSERT(!*(uint32_t *)&lapic.regs[0x200 + i * 0x10],
			    "%s: vCPU %d IRR[%d] = 0x%08x, expected 0", t->step, vcpu, i,
			    *(uint32_t *)&lapic.regs[0x200 + i * 0x10]);
}

/* Waits until the vCPUs of @want have an SMI pending; asserts no other. */
static void wait_smis(struct msi_ctx *t, const bool *want)
{
	uint64_t deadline = viommu_now_ns() + SETTLE_TIMEOUT_NS;
	struct kvm_vcpu_events ev;
	int i;

	for (i = 0; i < t->nr; i++) {
		for (;;) {
			vcpu_events_get(t->g->vcpus[i], &ev);
			if (ev.smi.pending || !want[i])
				break;
			TEST_ASSERT(viommu_now_ns() < deadline,
				    "%s: no SMI pending on vCPU %d", t->step, i);
			usleep(20);
		}
	}
	usleep(50000);
	for (i = 0; i < t->nr; i++) {
		vcpu_events_get(t->g->vcpus[i], &ev);
		TEST_ASSERT(ev.smi.pending == want[i] && !ev.smi.smm && !ev.nmi.pending,
			    "%s: vCPU %d: smi.pending %u smi.smm %u nmi.pending %u, expected %u 0 0",
			    t->step, i, ev.smi.pending, ev.smi.smm, ev.nmi.pending, want[i]);
		assert_irr_empty(t, i);
	}
}

/*
 * DLM 2: an SMI on the IRTE's vCPUs, physical and logical, and nowhere
 * else; not the IRTE's vector.  The guests have no SMI handler, so the vCPUs
 * are stopped before: the SMI stays pending, as KVM_GET_VCPU_EVENTS shows.
 */
TEST_F_TIMEOUT(apic, dlm_smi, TEST_TIMEOUT_S)
{
	bool want[VIOMMU_MAX_VCPUS] = { false };
	struct msi_ctx *t;
	int r;

	if (!kvm_has_cap(KVM_CAP_X86_SMM))
		SKIP(return, "KVM_CAP_X86_SMM not reported: no SMM to hold an SMI");
	t = msi_create_ir(4, variant->gflags);
	msi_irte(t, 700, viommu_irte_lo(VEC(5), 1, t->eime, VIOMMU_DLM_SMI, 0), 0);
	msi_irte(t, 701, viommu_irte_lo(VEC(6), 0xc, t->eime, VIOMMU_DLM_SMI,
					VIOMMU_IRTE_DM_LOGICAL), 0);
	viommu_guest_check_corruption(t->g);

	msi_step(t, "%s: SMI to vCPU 1", via_name(VIA_SIGNAL));
	r = msi_fire(t, VIA_SIGNAL, msi_remap(700));
	TEST_ASSERT(r == 1, "%s: KVM_SIGNAL_MSI returned %d (%s), expected 1", t->step, r,
		    viommu_err_str(r));
	want[1] = true;
	wait_smis(t, want);

	msi_step(t, "%s: SMI to logical mask 0xc", via_name(VIA_IRQFD));
	msi_fire(t, VIA_IRQFD, msi_remap(701));
	want[2] = true;
	want[3] = true;
	wait_smis(t, want);
	msi_assert_no_faults(t);
	msi_destroy(t);
}

/* Waits until each vCPU's mp_state is @want's. */
static void wait_mp_states(struct msi_ctx *t, const uint32_t *want)
{
	uint64_t deadline = viommu_now_ns() + SETTLE_TIMEOUT_NS;
	struct kvm_mp_state mp;
	int i;

	for (i = 0; i < t->nr; i++) {
		for (;;) {
			vcpu_mp_state_get(t->g->vcpus[i], &mp);
			if (mp.mp_state == want[i] || want[i] != KVM_MP_STATE_INIT_RECEIVED)
				break;
			TEST_ASSERT(viommu_now_ns() < deadline,
				    "%s: vCPU %d mp_state %u, expected INIT_RECEIVED", t->step,
				    i, mp.mp_state);
			usleep(20);
		}
	}
	usleep(50000);
	for (i = 0; i < t->nr; i++) {
		vcpu_mp_state_get(t->g->vcpus[i], &mp);
		TEST_ASSERT(mp.mp_state == want[i], "%s: vCPU %d mp_state %u, expected %u",
			    t->step, i, mp.mp_state, want[i]);
		if (want[i] != KVM_MP_STATE_INIT_RECEIVED)
			assert_irr_empty(t, i);
	}
}

/*
 * DLM 5: INIT on the IRTE's vCPUs, physical and logical (all APs): each
 * goes to INIT_RECEIVED, as KVM_GET_MP_STATE shows once KVM has taken the
 * INIT; the others stay as they were, without the IRTE's vector.
 */
TEST_F_TIMEOUT(apic, dlm_init, TEST_TIMEOUT_S)
{
	uint32_t want[VIOMMU_MAX_VCPUS];
	struct kvm_mp_state mp;
	struct msi_ctx *t;
	int i, r;

	t = msi_create_ir(4, variant->gflags);
	msi_irte(t, 710, viommu_irte_lo(VEC(7), 2, t->eime, VIOMMU_DLM_INIT, 0), 0);
	msi_irte(t, 711, viommu_irte_lo(VEC(8), 0xa, t->eime, VIOMMU_DLM_INIT,
					VIOMMU_IRTE_DM_LOGICAL), 0);
	viommu_guest_check_corruption(t->g);
	for (i = 0; i < t->nr; i++) {
		vcpu_mp_state_get(t->g->vcpus[i], &mp);
		TEST_ASSERT(mp.mp_state != KVM_MP_STATE_INIT_RECEIVED,
			    "vCPU %d in INIT_RECEIVED before any INIT", i);
		want[i] = mp.mp_state;
	}

	msi_step(t, "%s: INIT to vCPU 2", via_name(VIA_SIGNAL));
	r = msi_fire(t, VIA_SIGNAL, msi_remap(710));
	TEST_ASSERT(r == 1, "%s: KVM_SIGNAL_MSI returned %d (%s), expected 1", t->step, r,
		    viommu_err_str(r));
	want[2] = KVM_MP_STATE_INIT_RECEIVED;
	wait_mp_states(t, want);

	msi_step(t, "%s: INIT to logical mask 0xa", via_name(VIA_IRQFD));
	msi_fire(t, VIA_IRQFD, msi_remap(711));
	want[1] = KVM_MP_STATE_INIT_RECEIVED;
	want[3] = KVM_MP_STATE_INIT_RECEIVED;
	wait_mp_states(t, want);
	msi_assert_no_faults(t);
	msi_destroy(t);
}

/* ---- x2APIC destinations above 8 bits ------------------------------------------- */

/*
 * EIME: kvm_irte_to_lapic_irq() hands the IRTE's whole 32-bit destination
 * to KVM's delivery.  These name no vCPU (x2APIC IDs 0 to 3, all in
 * cluster 0), so nothing arrives anywhere, KVM_SIGNAL_MSI returns 0 and
 * nothing faults; a destination cut to 8 or 16 bits would reach one of the
 * vCPUs.  Cluster 0 and APIC ID 3 still do.
 */
TEST_F_TIMEOUT(msi_delivery, x2apic_dest_high, TEST_TIMEOUT_S)
{
	static const struct {
		uint32_t dest;
		uint8_t dlm;
		uint64_t flags;
		const char *what;
	} none[] = {
		{ 0x100, VIOMMU_DLM_FIXED, 0, "physical 0x100" },
		{ 0x103, VIOMMU_DLM_FIXED, 0, "physical 0x103" },
		{ 0x10002, VIOMMU_DLM_FIXED, 0, "physical 0x10002" },
		{ 0x101, VIOMMU_DLM_LOWEST, 0, "physical 0x101, lowest priority" },
		{ 0x00010001, VIOMMU_DLM_FIXED, VIOMMU_IRTE_DM_LOGICAL,
		  "logical cluster 1, bit 0" },
		{ 0x00020006, VIOMMU_DLM_FIXED, VIOMMU_IRTE_DM_LOGICAL,
		  "logical cluster 2, bits 1-2" },
		{ 0x00010001, VIOMMU_DLM_LOWEST, VIOMMU_IRTE_DM_LOGICAL,
		  "logical cluster 1, bit 0, lowest priority" },
		{ 0x00010001, VIOMMU_DLM_NMI, VIOMMU_IRTE_DM_LOGICAL,
		  "logical cluster 1, bit 0, NMI" },
	};
	struct msi_ctx *t = msi_create_ir(4, VIOMMU_GUEST_X2APIC);
	int via, i, r;

	for (via = 0; via < NR_VIAS; via++) {
		for (i = 0; i < (int)ARRAY_SIZE(none); i++) {
			uint32_t idx = 720 + via * 16 + i;

			msi_irte(t, idx, viommu_irte_lo(VEC(i), none[i].dest, true, none[i].dlm,
							none[i].flags), 0);
			msi_step(t, "%s: x2APIC %s, IRTE %u", via_name(via), none[i].what, idx);
			r = msi_fire(t, via, msi_remap(idx));
			TEST_ASSERT(r == 0 || via != VIA_SIGNAL,
				    "%s: KVM_SIGNAL_MSI returned %d (%s), expected 0 (no vCPU)",
				    t->step, r, viommu_err_str(r));
			msi_settle(t);
			msi_expect_no_fault(t);
		}
		msi_irte(t, 760 + via, viommu_irte_lo(VEC(0x10), 0x00000006, true,
						      VIOMMU_DLM_FIXED, VIOMMU_IRTE_DM_LOGICAL), 0);
		msi_step(t, "%s: x2APIC logical cluster 0, bits 1-2", via_name(via));
		msi_fire_ok(t, via, msi_remap(760 + via));
		msi_expect(t, 1, VEC(0x10), 1);
		msi_expect(t, 2, VEC(0x10), 1);
		msi_settle(t);
		msi_irte(t, 770 + via, viommu_irte_lo(VEC(0x11), 3, true, VIOMMU_DLM_FIXED, 0), 0);
		msi_step(t, "%s: x2APIC physical 3", via_name(via));
		msi_deliver(t, via, msi_remap(770 + via), 3, VEC(0x11));
	}
	msi_step(t, "end");
	msi_assert_no_faults(t);
	msi_destroy(t);
}

/*
 * EIME: the x2APIC broadcast is 0xffffffff; 0xff is APIC ID 255, which no
 * vCPU has, or in logical mode cluster 0's IDs 0-7 (vCPUs 0-3).  Both with
 * KVM_CAP_X2APIC_API as QEMU enables it for eim=on (32-bit IDs, no
 * broadcast quirk), and with KVM's default, where KVM takes 0xff for a
 * broadcast "to support physical x2APIC without interrupt remapping"
 * (Documentation/virt/kvm/api.rst): with remapping, the IRTE's 32 bits are
 * the destination either way.
 */
TEST_F_TIMEOUT(x2apic_api, x2apic_broadcast, TEST_TIMEOUT_S)
{
	const uint64_t api = KVM_X2APIC_API_USE_32BIT_IDS |
			     KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK;
	struct msi_ctx *t;
	int via, i, r;

	if (variant->enable && (kvm_check_cap(KVM_CAP_X2APIC_API) & api) != api)
		SKIP(return, "no KVM_CAP_X2APIC_API with 32-bit IDs and no broadcast quirk");
	t = msi_create_ir(4, VIOMMU_GUEST_X2APIC);
	if (variant->enable)
		vm_enable_cap(t->g->vm, KVM_CAP_X2APIC_API, api);
	for (via = 0; via < NR_VIAS; via++) {
		uint32_t idx = 780 + via * 4;

		msi_irte(t, idx, viommu_irte_lo(VEC(0), 0xff, true, VIOMMU_DLM_FIXED, 0), 0);
		msi_step(t, "%s: x2APIC physical 0xff (APIC ID 255)", via_name(via));
		r = msi_fire(t, via, msi_remap(idx));
		TEST_ASSERT(r == 0 || via != VIA_SIGNAL,
			    "%s: KVM_SIGNAL_MSI returned %d (%s), expected 0 (no vCPU)",
			    t->step, r, viommu_err_str(r));
		msi_settle(t);

		msi_irte(t, idx + 1, viommu_irte_lo(VEC(1), 0xffffffff, true,
						    VIOMMU_DLM_FIXED, 0), 0);
		msi_step(t, "%s: x2APIC physical 0xffffffff (broadcast)", via_name(via));
		msi_fire_ok(t, via, msi_remap(idx + 1));
		for (i = 0; i < t->nr; i++)
			msi_expect(t, i, VEC(1), 1);
		msi_settle(t);

		msi_irte(t, idx + 2, viommu_irte_lo(VEC(2), 0xff, true, VIOMMU_DLM_FIXED,
						    VIOMMU_IRTE_DM_LOGICAL), 0);
		msi_step(t, "%s: x2APIC logical 0x000000ff", via_name(via));
		msi_fire_ok(t, via, msi_remap(idx + 2));
		for (i = 0; i < t->nr; i++)
			msi_expect(t, i, VEC(2), 1);
		msi_settle(t);
	}
	msi_step(t, "end");
	msi_assert_no_faults(t);
	msi_destroy(t);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, msi_unsupported);
}
