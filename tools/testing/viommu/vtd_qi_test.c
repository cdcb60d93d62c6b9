// SPDX-License-Identifier: GPL-2.0-only
/*
 * The register page's pure logic in include/kvm/vtd.h: capability
 * checks, queue geometry and invalidation descriptor validation.
 */

#include <kvm/vtd.h>
#include "tap.h"

#define QI_IR		(VTD_ECAP_QI | VTD_ECAP_IR)
#define CAP_PSI_MAMV(m)	(VTD_CAP_PSI | FIELD_PREP(VTD_CAP_MAMV, (m)))

static bool caps_ok(u64 cap, u64 ecap)
{
	return vtd_caps_complete(&cap, &ecap, KVM_VIOMMU_NR_FRCD);
}

static void caps_layout_filled_in(void)
{
	u64 cap = VTD_CAP_CM, ecap = QI_IR;

	EXPECT(vtd_caps_complete(&cap, &ecap, KVM_VIOMMU_NR_FRCD));
	EXPECT(FIELD_GET(VTD_CAP_FRO, cap) * 16 == KVM_VIOMMU_REG_FRCD);
	EXPECT(FIELD_GET(VTD_CAP_NFR, cap) + 1 == KVM_VIOMMU_NR_FRCD);
	EXPECT(FIELD_GET(VTD_ECAP_IRO, ecap) * 16 == KVM_VIOMMU_REG_IVA);
	EXPECT(cap & VTD_CAP_CM);
	/* The kernel's own layout, passed back, is accepted as it is. */
	EXPECT(vtd_caps_complete(&cap, &ecap, KVM_VIOMMU_NR_FRCD));
}

/* A VMM can present the one fault record that QEMU's own unit has. */
static void caps_fault_records_chosen(void)
{
	u64 cap = VTD_CAP_CM, ecap = QI_IR;

	EXPECT(vtd_caps_complete(&cap, &ecap, 1));
	EXPECT(FIELD_GET(VTD_CAP_NFR, cap) == 0);
	cap = FIELD_PREP(VTD_CAP_NFR, 3);
	EXPECT(vtd_caps_complete(&cap, &ecap, 4));
	EXPECT(!vtd_caps_complete(&cap, &ecap, 2));
	cap = 0;
	EXPECT(!vtd_caps_complete(&cap, &ecap, 0));
	EXPECT(!vtd_caps_complete(&cap, &ecap, KVM_VIOMMU_NR_FRCD + 1));
}

static void caps_unimplemented_rejected(void)
{
	int bit;

	for (bit = 0; bit < 64; bit++) {
		if (!(VTD_CAP_OK & BIT_ULL(bit)))
			EXPECT(!caps_ok(BIT_ULL(bit), QI_IR));
		if (!(VTD_ECAP_OK & BIT_ULL(bit)))
			EXPECT(!caps_ok(0, QI_IR | BIT_ULL(bit)));
	}
	/* SAGAW: 39, 48 and 57 bits only. */
	EXPECT(!caps_ok(BIT_ULL(8), QI_IR));
	EXPECT(caps_ok(BIT_ULL(10), QI_IR));
}

static void caps_other_layout_rejected(void)
{
	EXPECT(!caps_ok(FIELD_PREP(VTD_CAP_FRO, 0x10), QI_IR));
	EXPECT(!caps_ok(FIELD_PREP(VTD_CAP_NFR, 3), QI_IR));
	EXPECT(!caps_ok(0, QI_IR | FIELD_PREP(VTD_ECAP_IRO, 0x20)));
}

static void caps_dependencies(void)
{
	EXPECT(caps_ok(0, 0));
	EXPECT(caps_ok(0, VTD_ECAP_QI));
	EXPECT(!caps_ok(0, VTD_ECAP_IR));
	EXPECT(!caps_ok(0, VTD_ECAP_DT));
	EXPECT(!caps_ok(0, VTD_ECAP_QI | VTD_ECAP_EIM));
	EXPECT(caps_ok(0, QI_IR | VTD_ECAP_EIM | VTD_ECAP_DT));
}

static void iq_geometry(void)
{
	u32 index;

	EXPECT(vtd_iq_entries(0) == 256);
	EXPECT(vtd_iq_entries(VTD_IQ_DW) == 128);
	EXPECT(vtd_iq_entries(7) == 32768);
	EXPECT(vtd_iq_entries(0x12345000ULL | VTD_IQ_DW | 7) == 16384);

	EXPECT(vtd_iq_index(0, 255 << 4, &index) && index == 255);
	EXPECT(!vtd_iq_index(0, 256 << 4, &index));
	EXPECT(vtd_iq_index(VTD_IQ_DW, 127 << 5, &index) && index == 127);
	/* A 256-bit queue's tail cannot point into the middle of an entry. */
	EXPECT(!vtd_iq_index(VTD_IQ_DW, 1 << 4, &index));
	EXPECT(!vtd_iq_index(VTD_IQ_DW, 128 << 5, &index));
}

static u8 check(u64 qw0, u64 qw1, u64 cap, u64 ecap)
{
	const u64 desc[4] = { qw0, qw1 };

	return vtd_desc_check(desc, false, cap, ecap);
}

static void desc_valid_types(void)
{
	u64 wait = VTD_DESC_WAIT | VTD_WAIT_SW | VTD_WAIT_IF | VTD_WAIT_FN |
		   (0x1234ULL << 32);

	EXPECT(check(wait, 0x10000, 0, QI_IR) == VTD_DESC_WAIT);
	EXPECT(check(VTD_DESC_IEC, 0, 0, QI_IR) == VTD_DESC_IEC);
	EXPECT(check(VTD_DESC_IEC | VTD_IEC_INDEXED | (4ULL << 27) |
		     (0x40ULL << 32), 0, 0, QI_IR) == VTD_DESC_IEC);
	EXPECT(check(VTD_DESC_CONTEXT | (1 << 4), 0, 0, QI_IR) ==
	       VTD_DESC_CONTEXT);
	EXPECT(check(VTD_DESC_CONTEXT | (3 << 4) | (5ULL << 16) |
		     (0x0100ULL << 32), 0, 0, QI_IR) == VTD_DESC_CONTEXT);
	EXPECT(check(VTD_DESC_IOTLB | (2 << 4) | (7ULL << 16), 0, 0, QI_IR) ==
	       VTD_DESC_IOTLB);
	EXPECT(check(VTD_DESC_IOTLB | (3 << 4), 0x40000 | VTD_IOTLB_DESC_IH | 2,
		     CAP_PSI_MAMV(2), QI_IR) == VTD_DESC_IOTLB);
	EXPECT(check(VTD_DESC_DEVTLB | (0x10ULL << 32), 0x5000,
		     0, QI_IR | VTD_ECAP_DT) == VTD_DESC_DEVTLB);
}

static void desc_invalid_rejected(void)
{
	const u64 wide_bad[4] = { VTD_DESC_IEC, 0, 0, 1 };
	const u64 wide_ok[4] = { VTD_DESC_IEC, 0, 0, 0 };
	int type;

	for (type = 0; type < 16; type++)
		if (type < VTD_DESC_CONTEXT || type > VTD_DESC_WAIT)
			EXPECT(!check(type, 0, ~0ULL, ~0ULL));
	/* Type bits 11:9 are the high bits of the type. */
	EXPECT(!check(VTD_DESC_WAIT | BIT_ULL(9), 0, 0, QI_IR));
	/* Reserved bits, one of each descriptor. */
	EXPECT(!check(VTD_DESC_WAIT | BIT_ULL(12), 0, 0, QI_IR));
	EXPECT(!check(VTD_DESC_WAIT, 0x10002, 0, QI_IR));
	EXPECT(!check(VTD_DESC_IEC | BIT_ULL(5), 0, 0, QI_IR));
	EXPECT(!check(VTD_DESC_IEC, 1, 0, QI_IR));
	EXPECT(!check(VTD_DESC_CONTEXT | (1 << 4) | BIT_ULL(63), 0, 0, QI_IR));
	EXPECT(!check(VTD_DESC_IOTLB | (1 << 4) | BIT_ULL(40), 0, 0, QI_IR));
	/* G 0 is reserved for the context cache and the IOTLB. */
	EXPECT(!check(VTD_DESC_CONTEXT, 0, 0, QI_IR));
	EXPECT(!check(VTD_DESC_IOTLB, 0, 0, QI_IR));
	/* Page-selective needs PSI and AM within MAMV. */
	EXPECT(!check(VTD_DESC_IOTLB | (3 << 4), 0x1000, 0, QI_IR));
	EXPECT(!check(VTD_DESC_IOTLB | (3 << 4), 0x40003, CAP_PSI_MAMV(2),
		      QI_IR));
	/* Not advertised: IEC without IR, device-TLB without DT. */
	EXPECT(!check(VTD_DESC_IEC, 0, 0, VTD_ECAP_QI));
	EXPECT(!check(VTD_DESC_DEVTLB, 0x5000, 0, QI_IR));
	/* The upper half of a 256-bit descriptor is reserved. */
	EXPECT(!vtd_desc_check(wide_bad, true, 0, QI_IR));
	EXPECT(vtd_desc_check(wide_ok, true, 0, QI_IR) == VTD_DESC_IEC);
	EXPECT(vtd_desc_check(wide_bad, false, 0, QI_IR) == VTD_DESC_IEC);
}

/*
 * Hardware ignores ADDR's bits below 2^AM, and Linux relies on it: it
 * widens AM to cover a range and leaves ADDR where the range starts
 * (qi_flush_iotlb(), iommu_flush_iotlb_psi()).
 */
static void desc_psi_unaligned_addr(void)
{
	EXPECT(check(VTD_DESC_IOTLB | (3 << 4), 0x41002, CAP_PSI_MAMV(2),
		     QI_IR) == VTD_DESC_IOTLB);
	EXPECT(check(VTD_DESC_IOTLB | (3 << 4), 0x7f009, CAP_PSI_MAMV(9),
		     QI_IR) == VTD_DESC_IOTLB);
}

static const struct unit_test tests[] = {
	{ "caps_layout_filled_in", caps_layout_filled_in },
	{ "caps_fault_records_chosen", caps_fault_records_chosen },
	{ "caps_unimplemented_rejected", caps_unimplemented_rejected },
	{ "caps_other_layout_rejected", caps_other_layout_rejected },
	{ "caps_dependencies", caps_dependencies },
	{ "iq_geometry", iq_geometry },
	{ "desc_valid_types", desc_valid_types },
	{ "desc_invalid_rejected", desc_invalid_rejected },
	{ "desc_psi_unaligned_addr", desc_psi_unaligned_addr },
};

int main(void)
{
	return tap_run("vtd_qi", tests, ARRAY_SIZE(tests));
}
