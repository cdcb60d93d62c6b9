// SPDX-License-Identifier: GPL-2.0-only
/* Decoding of the VT-d formats in virt/kvm/viommu/vtd.h. */

#include "vtd.h"
#include "tap.h"

static void irta_size_gives_entries(void)
{
	EXPECT(vtd_irta_entries(0) == 2);
	EXPECT(vtd_irta_entries(7) == 256);
	EXPECT(vtd_irta_entries(15) == VTD_IRTA_MAX_ENTRIES);
	/* EIME and the address do not leak into the size. */
	EXPECT(vtd_irta_entries(0xfedc0000ULL | KVM_VIOMMU_IRTA_EIME | 3) == 16);
}

static void irta_reserved_bits_rejected(void)
{
	int bit;

	EXPECT(vtd_irta_valid(0));
	EXPECT(vtd_irta_valid(~KVM_VIOMMU_IRTA_RSVD_MASK));
	for (bit = 4; bit <= 10; bit++)
		EXPECT(!vtd_irta_valid(1ULL << bit));
}

static void irta_fields_decode(void)
{
	u64 irta = 0x123456789000ULL | KVM_VIOMMU_IRTA_EIME | 0xf;

	EXPECT(vtd_irta_base(irta) == 0x123456789000ULL);
	EXPECT(vtd_irta_x2apic(irta));
	EXPECT(!vtd_irta_x2apic(irta & ~KVM_VIOMMU_IRTA_EIME));
}

static const struct unit_test tests[] = {
	{ "irta_size_gives_entries", irta_size_gives_entries },
	{ "irta_reserved_bits_rejected", irta_reserved_bits_rejected },
	{ "irta_fields_decode", irta_fields_decode },
};

int main(void)
{
	return tap_run("vtd", tests, ARRAY_SIZE(tests));
}
