// SPDX-License-Identifier: GPL-2.0-only
/*
 * viommu_msi_iec_test: the device's interrupt entry cache.  Like the
 * hardware's, it keeps serving an IRTE that was rewritten in guest
 * memory until an invalidation (KVM_DEV_VIOMMU_IR_INVALIDATE) covers it:
 * after a global, an index or an index+mask invalidation of the entry, the
 * next MSI must see the new entry; invalidations of other entries must
 * leave the old translation in place.  Each counts once in the statistics.
 *
 * See include/viommu_msi.h for how each test knows that every vector
 * arrived where it was meant to, and nowhere else.  The program skips when
 * the loaded KVM does not have the device or its interrupt remapping
 * attributes.
 */
#include <stdint.h>

#include <linux/kvm_viommu.h>

#include "test_util.h"
#include "kvm_util.h"
#include "viommu.h"
#include "viommu_msi.h"
#include "viommu_test.h"

#define TEST_TIMEOUT_S		60

enum iec_kind { IEC_GLOBAL, IEC_INDEX, IEC_INDEX_MASK };

/* The invalidation that makes the rewritten entry current, and the guest's APIC. */
FIXTURE(iec) {};

FIXTURE_VARIANT(iec) {
	enum iec_kind kind;
	unsigned int gflags;
};

FIXTURE_VARIANT_ADD(iec, global) {
	.kind = IEC_GLOBAL,
	.gflags = VIOMMU_GUEST_X2APIC,
};

FIXTURE_VARIANT_ADD(iec, index) {
	.kind = IEC_INDEX,
	.gflags = 0,
};

FIXTURE_VARIANT_ADD(iec, index_mask) {
	.kind = IEC_INDEX_MASK,
	.gflags = VIOMMU_GUEST_X2APIC,
};

FIXTURE_SETUP(iec) {}
FIXTURE_TEARDOWN(iec) {}

TEST_F_TIMEOUT(iec, invalidate, TEST_TIMEOUT_S)
{
	static const char * const kind_name[] = { "global", "index", "index+mask" };
	enum iec_kind kind = variant->kind;
	struct msi_ctx *t = msi_create_ir(4, variant->gflags);
	struct viommu_stats s;
	uint64_t inval = 0;
	int via, round;

	for (via = 0; via < NR_VIAS; via++) {
		/* Index 37 (or 101): inside 32..39 (96..103), the mask-3 block. */
		uint32_t idx = 37 + via * 64;
		int old_vcpu = 0, new_vcpu = 3;

		for (round = 0; round < 2; round++) {
			uint8_t old_vec = VEC(via * 16 + round * 2);
			uint8_t new_vec = old_vec + 1;

			msi_irte_phys(t, idx, old_vec, old_vcpu);
			if (round) {
				/* The entry is cached from round 0: make it current. */
				viommu_iec_index(t->dev, idx, 0);
				inval++;
			}
			msi_step(t, "%s, IEC %s, round %d: first use of IRTE %u", via_name(via),
				 kind_name[kind], round, idx);
			msi_deliver(t, via, msi_remap(idx), old_vcpu, old_vec);

			/* Rewritten without an invalidation: the old translation stays. */
			msi_irte_phys(t, idx, new_vec, new_vcpu);
			msi_step(t, "%s, IEC %s, round %d: IRTE %u rewritten, no IEC",
				 via_name(via), kind_name[kind], round, idx);
			msi_deliver(t, via, msi_remap(idx), old_vcpu, old_vec);
			msi_deliver(t, via, msi_remap(idx), old_vcpu, old_vec);

			if (kind != IEC_GLOBAL) {
				/* Invalidations of other entries leave it alone. */
				static const struct { uint16_t index; uint8_t mask; } miss[] = {
					{ 36, 0 }, { 38, 0 }, { 38, 1 }, { 32, 2 },
					{ 40, 3 }, { 24, 3 }, { 0, 5 }, { 64, 6 },
				};
				int i;

				for (i = 0; i < (int)ARRAY_SIZE(miss); i++) {
					uint16_t index = miss[i].index + via * 64;
					uint8_t mask = miss[i].mask;

					/* 64..127 would hold index 101: use 128..191. */
					if (via && mask == 6)
						index = 128;
					viommu_iec_index(t->dev, index, mask);
					inval++;
					msi_step(t, "%s: IRTE %u rewritten, IEC index %u mask %u",
						 via_name(via), idx, index, mask);
					msi_deliver(t, via, msi_remap(idx), old_vcpu, old_vec);
				}
			}

			switch (kind) {
			case IEC_GLOBAL:
				viommu_iec_global(t->dev);
				break;
			case IEC_INDEX:
				viommu_iec_index(t->dev, idx, 0);
				break;
			case IEC_INDEX_MASK:
				/* Aligned down: index | 7 covers index & ~7 .. + 8 too. */
				viommu_iec_index(t->dev, round ? idx : idx | 7, 3);
				break;
			}
			inval++;
			msi_step(t, "%s, IEC %s, round %d: after the IEC", via_name(via),
				 kind_name[kind], round);
			msi_deliver(t, via, msi_remap(idx), new_vcpu, new_vec);
			msi_deliver(t, via, msi_remap(idx), new_vcpu, new_vec);
		}
	}
	viommu_get_stats(t->dev, &s);
	TEST_ASSERT(s.invalidations == inval, "stats.invalidations %llu, expected %llu",
		    (unsigned long long)s.invalidations, (unsigned long long)inval);
	msi_step(t, "end");
	msi_assert_no_faults(t);
	msi_destroy(t);
}

int main(int argc, char *argv[])
{
	return viommu_test_main(argc, argv, msi_unsupported);
}
