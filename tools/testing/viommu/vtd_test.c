// SPDX-License-Identifier: GPL-2.0-only
/* Decoding of the VT-d formats in include/kvm/vtd.h. */

#include <kvm/vtd.h>
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

/* A present, fixed, physical, edge entry for vector 0x31 to APIC 2. */
static struct vtd_irte irte_ok(void)
{
	struct vtd_irte irte = {
		.lo = VTD_IRTE_P | (0x31ULL << 16) | (2ULL << 40),
	};

	return irte;
}

static void irte_present_and_valid(void)
{
	struct vtd_irte irte = irte_ok();

	EXPECT(vtd_irte_check(&irte, false) == 0);
	EXPECT(vtd_irte_vector(&irte) == 0x31);
	EXPECT(vtd_irte_dest_id(&irte, false) == 2);
	EXPECT(vtd_irte_dest_id(&irte, true) == 0x200);

	irte.lo &= ~VTD_IRTE_P;
	EXPECT(vtd_irte_check(&irte, false) == KVM_VIOMMU_FR_IR_ENTRY_P);
}

static void irte_reserved_bits_fault(void)
{
	static const u64 lo_rsvd[] = {
		BIT_ULL(12), BIT_ULL(14), VTD_IRTE_IM_POSTED, BIT_ULL(24),
		BIT_ULL(31),
	};
	struct vtd_irte irte;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lo_rsvd); i++) {
		irte = irte_ok();
		irte.lo |= lo_rsvd[i];
		EXPECT(vtd_irte_check(&irte, true) == KVM_VIOMMU_FR_IR_IRTE_RSVD);
	}

	irte = irte_ok();
	irte.hi |= BIT_ULL(20);
	EXPECT(vtd_irte_check(&irte, true) == KVM_VIOMMU_FR_IR_IRTE_RSVD);

	/* DST bits outside 15:8 are reserved in xAPIC mode only. */
	irte = irte_ok();
	irte.lo |= 1ULL << 32;
	EXPECT(vtd_irte_check(&irte, false) == KVM_VIOMMU_FR_IR_IRTE_RSVD);
	EXPECT(vtd_irte_check(&irte, true) == 0);
	irte.lo = irte_ok().lo | (1ULL << 48);
	EXPECT(vtd_irte_check(&irte, false) == KVM_VIOMMU_FR_IR_IRTE_RSVD);
}

static void irte_delivery_modes(void)
{
	struct vtd_irte irte;
	u64 dlm;

	for (dlm = 0; dlm < 8; dlm++) {
		irte = irte_ok();
		irte.lo |= dlm << 5;
		EXPECT(vtd_irte_dlm(&irte) == dlm);
		EXPECT(vtd_irte_check(&irte, false) ==
		       (dlm == 3 || dlm == 6 ? KVM_VIOMMU_FR_IR_IRTE_RSVD : 0));
	}
}

static struct vtd_irte irte_svt(u64 svt, u64 sq, u16 sid)
{
	struct vtd_irte irte = irte_ok();

	irte.hi = sid | (sq << 16) | (svt << 18);
	return irte;
}

static void irte_sid_verification(void)
{
	struct vtd_irte irte = irte_svt(VTD_SVT_NONE, 0, 0);

	EXPECT(vtd_irte_sid_ok(&irte, 0x1234, true));
	EXPECT(vtd_irte_sid_ok(&irte, 0, false));

	/* 00:03.0 */
	irte = irte_svt(VTD_SVT_SID, 0, 0x0018);
	EXPECT(vtd_irte_sid_ok(&irte, 0x0018, true));
	EXPECT(!vtd_irte_sid_ok(&irte, 0x0019, true));
	EXPECT(!vtd_irte_sid_ok(&irte, 0x001c, true));
	EXPECT(!vtd_irte_sid_ok(&irte, 0x0018, false));
	/* SQ 1, 2, 3 ignore function bits 2, 2:1 and 2:0. */
	irte = irte_svt(VTD_SVT_SID, 1, 0x0018);
	EXPECT(vtd_irte_sid_ok(&irte, 0x001c, true));
	EXPECT(!vtd_irte_sid_ok(&irte, 0x001a, true));
	irte = irte_svt(VTD_SVT_SID, 2, 0x0018);
	EXPECT(vtd_irte_sid_ok(&irte, 0x001e, true));
	EXPECT(!vtd_irte_sid_ok(&irte, 0x0019, true));
	irte = irte_svt(VTD_SVT_SID, 3, 0x0018);
	EXPECT(vtd_irte_sid_ok(&irte, 0x001f, true));
	EXPECT(!vtd_irte_sid_ok(&irte, 0x0020, true));

	/* Buses 2 to 4. */
	irte = irte_svt(VTD_SVT_BUS, 0, 0x0204);
	EXPECT(vtd_irte_sid_ok(&irte, 0x0200, true));
	EXPECT(vtd_irte_sid_ok(&irte, 0x04ff, true));
	EXPECT(!vtd_irte_sid_ok(&irte, 0x01ff, true));
	EXPECT(!vtd_irte_sid_ok(&irte, 0x0500, true));
	EXPECT(!vtd_irte_sid_ok(&irte, 0x0300, false));

	irte = irte_svt(3, 0, 0);
	EXPECT(vtd_irte_check(&irte, false) == KVM_VIOMMU_FR_IR_IRTE_RSVD);
}

static void msi_handle_and_subhandle(void)
{
	u32 index = ~0U;

	EXPECT(vtd_msi_index(0x1234, false, 0xffff, &index) == 0);
	EXPECT(index == 0x1234);
	/* SHV adds data[15:0]; data[31:16] is reserved then (fault 0x20). */
	EXPECT(vtd_msi_index(0x10, true, 0x0003, &index) == 0);
	EXPECT(index == 0x13);
	EXPECT(vtd_msi_index(0x10, true, 0xabcd0003, &index) ==
	       KVM_VIOMMU_FR_IR_REQ_RSVD);
	/* Without SHV the data is not the IOMMU's to check. */
	EXPECT(vtd_msi_index(0x10, false, 0xabcd0003, &index) == 0);
	EXPECT(index == 0x10);
	/* The sum of a 16-bit handle and subhandle needs 17 bits. */
	EXPECT(vtd_msi_index(0xffff, true, 0xffff, &index) == 0);
	EXPECT(index == 0x1fffe);
}

static const struct unit_test tests[] = {
	{ "irte_present_and_valid", irte_present_and_valid },
	{ "irte_reserved_bits_fault", irte_reserved_bits_fault },
	{ "irte_delivery_modes", irte_delivery_modes },
	{ "irte_sid_verification", irte_sid_verification },
	{ "msi_handle_and_subhandle", msi_handle_and_subhandle },
	{ "irta_size_gives_entries", irta_size_gives_entries },
	{ "irta_reserved_bits_rejected", irta_reserved_bits_rejected },
	{ "irta_fields_decode", irta_fields_decode },
};

int main(void)
{
	return tap_run("vtd", tests, ARRAY_SIZE(tests));
}
