/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Intel VT-d register and table formats, as the guest programs them.
 *
 * Pure decoding only, with no KVM state, so that tools/testing/viommu can
 * build it in userspace.
 */
#ifndef __KVM_VIOMMU_VTD_H
#define __KVM_VIOMMU_VTD_H

#include <linux/bitfield.h>
#include <linux/bits.h>
#include <linux/types.h>
#include <uapi/linux/kvm_viommu.h>

/* Largest interrupt remapping table: IRTA.S = 15 gives 2^16 entries. */
#define VTD_IRTA_MAX_ENTRIES		BIT(16)

static inline bool vtd_irta_valid(u64 irta)
{
	return !(irta & KVM_VIOMMU_IRTA_RSVD_MASK);
}

static inline u32 vtd_irta_entries(u64 irta)
{
	return 2U << (irta & KVM_VIOMMU_IRTA_SIZE_MASK);
}

static inline u64 vtd_irta_base(u64 irta)
{
	return irta & KVM_VIOMMU_IRTA_ADDR_MASK;
}

static inline bool vtd_irta_x2apic(u64 irta)
{
	return irta & KVM_VIOMMU_IRTA_EIME;
}

/* An interrupt remapping table entry, 128 bits, little endian in memory. */
struct vtd_irte {
	u64 lo;
	u64 hi;
};

#define VTD_IRTE_SIZE			16

#define VTD_IRTE_P			BIT_ULL(0)
#define VTD_IRTE_FPD			BIT_ULL(1)
#define VTD_IRTE_DM_LOGICAL		BIT_ULL(2)
#define VTD_IRTE_RH			BIT_ULL(3)
#define VTD_IRTE_TM_LEVEL		BIT_ULL(4)
#define VTD_IRTE_DLM			GENMASK_ULL(7, 5)
#define VTD_IRTE_IM_POSTED		BIT_ULL(15)
#define VTD_IRTE_VECTOR			GENMASK_ULL(23, 16)
#define VTD_IRTE_DST			GENMASK_ULL(63, 32)
/* Posted format is not advertised, so IM is reserved too. */
#define VTD_IRTE_LO_RSVD		(GENMASK_ULL(14, 12) | VTD_IRTE_IM_POSTED | \
					 GENMASK_ULL(31, 24))
/* In xAPIC mode the destination is DST[15:8]; the rest of DST is reserved. */
#define VTD_IRTE_LO_RSVD_XAPIC		(GENMASK_ULL(39, 32) | GENMASK_ULL(63, 48))

#define VTD_IRTE_SID			GENMASK_ULL(15, 0)
#define VTD_IRTE_SQ			GENMASK_ULL(17, 16)
#define VTD_IRTE_SVT			GENMASK_ULL(19, 18)
#define VTD_IRTE_HI_RSVD		GENMASK_ULL(63, 20)

/* Source validation types. */
#define VTD_SVT_NONE			0
#define VTD_SVT_SID			1
#define VTD_SVT_BUS			2

/* Delivery modes that the DLM field may hold; 3 and 6 are reserved. */
#define VTD_DLM_VALID_MASK		(BIT(0) | BIT(1) | BIT(2) | BIT(4) | \
					 BIT(5) | BIT(7))

static inline u8 vtd_irte_vector(const struct vtd_irte *irte)
{
	return FIELD_GET(VTD_IRTE_VECTOR, irte->lo);
}

static inline u8 vtd_irte_dlm(const struct vtd_irte *irte)
{
	return FIELD_GET(VTD_IRTE_DLM, irte->lo);
}

static inline u32 vtd_irte_dest_id(const struct vtd_irte *irte, bool x2apic)
{
	u32 dst = FIELD_GET(VTD_IRTE_DST, irte->lo);

	return x2apic ? dst : (dst >> 8) & 0xff;
}

/*
 * The checks of interrupt remapping return what hardware would record:
 * VTD_FR_NONE, or the reason of the fault record.
 */
#define VTD_FR_NONE			((enum kvm_viommu_ir_fault_reason)0)

/* x2apic: the table's EIME, which decides how much of DST is reserved. */
static inline enum kvm_viommu_ir_fault_reason
vtd_irte_check(const struct vtd_irte *irte, bool x2apic)
{
	if (!(irte->lo & VTD_IRTE_P))
		return KVM_VIOMMU_FR_IR_ENTRY_P;
	if ((irte->lo & VTD_IRTE_LO_RSVD) || (irte->hi & VTD_IRTE_HI_RSVD) ||
	    (!x2apic && (irte->lo & VTD_IRTE_LO_RSVD_XAPIC)) ||
	    !(VTD_DLM_VALID_MASK & BIT(vtd_irte_dlm(irte))) ||
	    FIELD_GET(VTD_IRTE_SVT, irte->hi) > VTD_SVT_BUS)
		return KVM_VIOMMU_FR_IR_IRTE_RSVD;
	return VTD_FR_NONE;
}

/*
 * Source-id verification of a request from requester @sid.  A request
 * without a requester ID (@has_sid false) passes only an entry that asks
 * for no verification: hardware would never know less than the source.
 */
static inline bool vtd_irte_sid_ok(const struct vtd_irte *irte, u16 sid,
				   bool has_sid)
{
	/* SQ: which low bits of the function number are not compared. */
	static const u16 sq_mask[] = { 0xffff, 0xfffb, 0xfff9, 0xfff8 };
	u16 want = FIELD_GET(VTD_IRTE_SID, irte->hi);
	u8 bus = sid >> 8;

	switch (FIELD_GET(VTD_IRTE_SVT, irte->hi)) {
	case VTD_SVT_NONE:
		return true;
	case VTD_SVT_SID:
		return has_sid &&
		       !((sid ^ want) & sq_mask[FIELD_GET(VTD_IRTE_SQ, irte->hi)]);
	case VTD_SVT_BUS:
		return has_sid && bus >= (want >> 8) && bus <= (want & 0xff);
	}
	return false;
}

/*
 * The IRTE index of a remappable MSI, from the handle that its address
 * carries (the architecture decodes that: <asm/msi.h> on x86), whether
 * SHV is set, and its data.  A request with reserved bits set faults.
 */
static inline enum kvm_viommu_ir_fault_reason
vtd_msi_index(u32 handle, bool shv, u32 data, u32 *index)
{
	if (shv) {
		/* The subhandle is 16 bits; the rest of the data is reserved. */
		if (data >> 16)
			return KVM_VIOMMU_FR_IR_REQ_RSVD;
		handle += data & 0xffff;
	}
	*index = handle;
	return VTD_FR_NONE;
}

/*
 * Remappable-format I/O APIC redirection entry: handle[14:0] in 63:49,
 * handle[15] in 11.  The I/O APIC sends no subhandle, so the handle is
 * the index; the vector stays the RTE's own, for matching EOIs.
 */
#define VTD_IOAPIC_RTE_REMAPPABLE	BIT_ULL(48)
#define VTD_IOAPIC_RTE_HANDLE_LO	GENMASK_ULL(63, 49)
#define VTD_IOAPIC_RTE_HANDLE_HI	BIT_ULL(11)

static inline bool vtd_ioapic_rte_remappable(u64 rte)
{
	return rte & VTD_IOAPIC_RTE_REMAPPABLE;
}

static inline u32 vtd_ioapic_rte_index(u64 rte)
{
	return FIELD_GET(VTD_IOAPIC_RTE_HANDLE_LO, rte) |
	       (rte & VTD_IOAPIC_RTE_HANDLE_HI ? BIT(15) : 0);
}

/* The register page.  Offsets as in the VT-d specification, chapter 11. */
#define VTD_REG_VER			0x000
#define VTD_REG_CAP			0x008
#define VTD_REG_ECAP			0x010
#define VTD_REG_GCMD			0x018
#define VTD_REG_GSTS			0x01c
#define VTD_REG_RTADDR			0x020
#define VTD_REG_CCMD			0x028
#define VTD_REG_FSTS			0x034
#define VTD_REG_FECTL			0x038
#define VTD_REG_FEDATA			0x03c
#define VTD_REG_FEADDR			0x040
#define VTD_REG_FEUADDR			0x044
#define VTD_REG_PMEN			0x064
#define VTD_REG_IQH			0x080
#define VTD_REG_IQT			0x088
#define VTD_REG_IQA			0x090
#define VTD_REG_ICS			0x09c
#define VTD_REG_IECTL			0x0a0
#define VTD_REG_IEDATA			0x0a4
#define VTD_REG_IEADDR			0x0a8
#define VTD_REG_IEUADDR			0x0ac
#define VTD_REG_IRTA			0x0b8
#define VTD_REG_IVA			KVM_VIOMMU_REG_IVA
#define VTD_REG_IOTLB			(KVM_VIOMMU_REG_IVA + 8)
#define VTD_REG_FRCD			KVM_VIOMMU_REG_FRCD
#define VTD_REG_FRCD_END		(VTD_REG_FRCD + 16 * KVM_VIOMMU_NR_FRCD)

/* VT-d 1.0, as QEMU's intel-iommu reports. */
#define VTD_VER_VALUE			0x10

#define VTD_CAP_ND			GENMASK_ULL(2, 0)
#define VTD_CAP_CM			BIT_ULL(7)
#define VTD_CAP_SAGAW_OK		(BIT_ULL(9) | BIT_ULL(10) | BIT_ULL(11))
#define VTD_CAP_MGAW			GENMASK_ULL(21, 16)
#define VTD_CAP_ZLR			BIT_ULL(22)
#define VTD_CAP_FRO			GENMASK_ULL(33, 24)
#define VTD_CAP_SLLPS_OK		(BIT_ULL(34) | BIT_ULL(35))
#define VTD_CAP_PSI			BIT_ULL(39)
#define VTD_CAP_NFR			GENMASK_ULL(47, 40)
#define VTD_CAP_MAMV			GENMASK_ULL(53, 48)
#define VTD_CAP_DWD			BIT_ULL(54)
#define VTD_CAP_DRD			BIT_ULL(55)
/* What the kernel implements; FRO and NFR are its layout. */
#define VTD_CAP_OK			(VTD_CAP_ND | VTD_CAP_CM | VTD_CAP_SAGAW_OK | \
					 VTD_CAP_MGAW | VTD_CAP_ZLR | VTD_CAP_FRO | \
					 VTD_CAP_SLLPS_OK | VTD_CAP_PSI | VTD_CAP_NFR | \
					 VTD_CAP_MAMV | VTD_CAP_DWD | VTD_CAP_DRD)
#define VTD_CAP_LAYOUT			FIELD_PREP(VTD_CAP_FRO, VTD_REG_FRCD / 16)

#define VTD_ECAP_C			BIT_ULL(0)
#define VTD_ECAP_QI			BIT_ULL(1)
#define VTD_ECAP_DT			BIT_ULL(2)
#define VTD_ECAP_IR			BIT_ULL(3)
#define VTD_ECAP_EIM			BIT_ULL(4)
#define VTD_ECAP_PT			BIT_ULL(6)
#define VTD_ECAP_SC			BIT_ULL(7)
#define VTD_ECAP_IRO			GENMASK_ULL(17, 8)
#define VTD_ECAP_MHMV			GENMASK_ULL(23, 20)
#define VTD_ECAP_OK			(VTD_ECAP_C | VTD_ECAP_QI | VTD_ECAP_DT | \
					 VTD_ECAP_IR | VTD_ECAP_EIM | VTD_ECAP_PT | \
					 VTD_ECAP_SC | VTD_ECAP_IRO | VTD_ECAP_MHMV)
#define VTD_ECAP_LAYOUT			FIELD_PREP(VTD_ECAP_IRO, VTD_REG_IVA / 16)

/*
 * Completes a VMM's CAP and ECAP with the kernel's register layout and
 * @nr_frcd fault recording registers.  Returns false if they ask for what
 * is not implemented, or for another layout or number of records.
 */
static inline bool vtd_caps_complete(u64 *cap, u64 *ecap, unsigned int nr_frcd)
{
	u64 nfr = FIELD_PREP(VTD_CAP_NFR, nr_frcd - 1);
	u64 cap_layout = *cap & VTD_CAP_FRO;
	u64 ecap_layout = *ecap & VTD_ECAP_IRO;

	if (!nr_frcd || nr_frcd > KVM_VIOMMU_NR_FRCD)
		return false;
	if ((*cap & ~VTD_CAP_OK) || (*ecap & ~VTD_ECAP_OK))
		return false;
	if ((cap_layout && cap_layout != VTD_CAP_LAYOUT) ||
	    (ecap_layout && ecap_layout != VTD_ECAP_LAYOUT) ||
	    ((*cap & VTD_CAP_NFR) && (*cap & VTD_CAP_NFR) != nfr))
		return false;
	/* Remapping and device-TLBs are only ever invalidated through QI. */
	if ((*ecap & (VTD_ECAP_IR | VTD_ECAP_DT)) && !(*ecap & VTD_ECAP_QI))
		return false;
	if ((*ecap & VTD_ECAP_EIM) && !(*ecap & VTD_ECAP_IR))
		return false;

	*cap |= VTD_CAP_LAYOUT | nfr;
	*ecap |= VTD_ECAP_LAYOUT;
	return true;
}

/* GCMD and GSTS share bit positions. */
#define VTD_GCMD_TE			BIT(31)
#define VTD_GCMD_SRTP			BIT(30)
#define VTD_GCMD_WBF			BIT(27)
#define VTD_GCMD_QIE			BIT(26)
#define VTD_GCMD_IRE			BIT(25)
#define VTD_GCMD_SIRTP			BIT(24)
#define VTD_GCMD_CFI			BIT(23)
/* Commands that stay on in GSTS, rather than one-shot latches. */
#define VTD_GCMD_PERSISTENT		(VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | \
					 VTD_GCMD_CFI)
#define VTD_GSTS_VALID			(VTD_GCMD_PERSISTENT | VTD_GCMD_SRTP | \
					 VTD_GCMD_SIRTP)

/* The GSTS bits that show the VMM's DMA remapping state. */
#define VTD_GSTS_VMM			(VTD_GCMD_TE | VTD_GCMD_SRTP)

#define VTD_RTADDR_MASK			GENMASK_ULL(63, 12)

#define VTD_CCMD_ICC			BIT_ULL(63)
#define VTD_CCMD_CIRG			GENMASK_ULL(62, 61)
#define VTD_CCMD_CAIG			GENMASK_ULL(60, 59)
#define VTD_CCMD_RW			(VTD_CCMD_ICC | VTD_CCMD_CIRG | GENMASK_ULL(33, 0))

#define VTD_FSTS_PFO			BIT(0)
#define VTD_FSTS_PPF			BIT(1)
#define VTD_FSTS_IQE			BIT(4)
#define VTD_FSTS_ICE			BIT(5)
#define VTD_FSTS_ITE			BIT(6)
#define VTD_FSTS_FRI			GENMASK(15, 8)
#define VTD_FSTS_RW1C			(VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | \
					 VTD_FSTS_ITE)
/* Any of these pending holds back a new fault event. */
#define VTD_FSTS_PENDING		(VTD_FSTS_RW1C | VTD_FSTS_PPF)

/* FECTL and IECTL. */
#define VTD_ECTL_IM			BIT(31)
#define VTD_ECTL_IP			BIT(30)
#define VTD_EDATA_MASK			GENMASK(15, 0)
#define VTD_EADDR_MASK			GENMASK(31, 2)

#define VTD_ICS_IWC			BIT(0)

#define VTD_IQ_DW			BIT_ULL(11)
#define VTD_IQ_QS			GENMASK_ULL(2, 0)
#define VTD_IQA_MASK			(GENMASK_ULL(63, 12) | VTD_IQ_DW | VTD_IQ_QS)
#define VTD_IQT_MASK			GENMASK_ULL(18, 4)

#define VTD_IRTA_MASK			(~KVM_VIOMMU_IRTA_RSVD_MASK)

#define VTD_IVA_MASK			(GENMASK_ULL(63, 12) | GENMASK_ULL(6, 0))
#define VTD_IOTLB_IVT			BIT_ULL(63)
#define VTD_IOTLB_IIRG			GENMASK_ULL(61, 60)
#define VTD_IOTLB_IAIG			GENMASK_ULL(58, 57)
#define VTD_IOTLB_RW			(VTD_IOTLB_IVT | VTD_IOTLB_IIRG | \
					 GENMASK_ULL(49, 48) | GENMASK_ULL(47, 32))

#define VTD_FRCD_F			BIT_ULL(63)
#define VTD_FRCD_T			BIT_ULL(62)	/* a read, else a write */
#define VTD_FRCD_PV			GENMASK_ULL(59, 40)
#define VTD_FRCD_FR			GENMASK_ULL(39, 32)
#define VTD_FRCD_PP			BIT_ULL(31)
#define VTD_FRCD_SID			GENMASK_ULL(15, 0)
#define VTD_FRCD_IR_INDEX		GENMASK_ULL(63, 48)

/* The invalidation queue: 2^QS 4 KiB pages of 128- or 256-bit descriptors. */
static inline unsigned int vtd_iq_shift(u64 iqa)
{
	return iqa & VTD_IQ_DW ? 5 : 4;
}

static inline u32 vtd_iq_entries(u64 iqa)
{
	return BIT(12 + FIELD_GET(VTD_IQ_QS, iqa) - vtd_iq_shift(iqa));
}

/* The index in IQH or IQT; false if the queue cannot have it. */
static inline bool vtd_iq_index(u64 iqa, u64 reg, u32 *index)
{
	unsigned int shift = vtd_iq_shift(iqa);

	*index = reg >> shift;
	return !(reg & (BIT_ULL(shift) - 1)) && *index < vtd_iq_entries(iqa);
}

/* Invalidation descriptors. */
#define VTD_DESC_CONTEXT		0x1
#define VTD_DESC_IOTLB			0x2
#define VTD_DESC_DEVTLB			0x3
#define VTD_DESC_IEC			0x4
#define VTD_DESC_WAIT			0x5

#define VTD_DESC_TYPE			GENMASK_ULL(3, 0)
#define VTD_DESC_TYPE_HI		GENMASK_ULL(11, 9)
#define VTD_DESC_G			GENMASK_ULL(5, 4)

#define VTD_IEC_INDEXED			BIT_ULL(4)
#define VTD_IEC_IM			GENMASK_ULL(31, 27)
#define VTD_IEC_IIDX			GENMASK_ULL(47, 32)

#define VTD_WAIT_IF			BIT_ULL(4)
#define VTD_WAIT_SW			BIT_ULL(5)
#define VTD_WAIT_FN			BIT_ULL(6)
#define VTD_WAIT_DATA			GENMASK_ULL(63, 32)

#define VTD_IOTLB_DESC_AM		GENMASK_ULL(5, 0)
#define VTD_IOTLB_DESC_IH		BIT_ULL(6)
#define VTD_IOTLB_DESC_ADDR		GENMASK_ULL(63, 12)

/* Granularity (G) values of the context-cache and IOTLB descriptors. */
#define VTD_G_GLOBAL			1
#define VTD_G_DOMAIN			2
#define VTD_G_PAGE			3	/* IOTLB; device for the context cache */

/* Reserved bits of each descriptor type, in its first and second qwords. */
struct vtd_desc_rsvd {
	u64 lo;
	u64 hi;
};

static const struct vtd_desc_rsvd vtd_desc_rsvd[] = {
	[VTD_DESC_CONTEXT] = { GENMASK_ULL(8, 6) | GENMASK_ULL(15, 12) |
			       GENMASK_ULL(63, 50), ~0ULL },
	[VTD_DESC_IOTLB]   = { BIT_ULL(8) | GENMASK_ULL(15, 12) | GENMASK_ULL(63, 32),
			       GENMASK_ULL(11, 7) },
	[VTD_DESC_DEVTLB]  = { GENMASK_ULL(8, 4) | GENMASK_ULL(31, 21) |
			       GENMASK_ULL(51, 48), GENMASK_ULL(11, 1) },
	[VTD_DESC_IEC]     = { GENMASK_ULL(8, 5) | GENMASK_ULL(26, 12) |
			       GENMASK_ULL(63, 48), ~0ULL },
	[VTD_DESC_WAIT]    = { BIT_ULL(8) | GENMASK_ULL(31, 12), GENMASK_ULL(1, 0) },
};

/*
 * Checks a descriptor against the capabilities.  Returns its type, or 0 if
 * the hardware would report it as invalid (IQE).  @desc has four qwords;
 * the last two only count in 256-bit queues, where they are reserved.
 */
static inline u8 vtd_desc_check(const u64 *desc, bool wide, u64 cap, u64 ecap)
{
	u8 type = FIELD_GET(VTD_DESC_TYPE, desc[0]);
	u8 g = FIELD_GET(VTD_DESC_G, desc[0]);
	u8 am;

	if ((desc[0] & VTD_DESC_TYPE_HI) || (wide && (desc[2] | desc[3])))
		return 0;
	if (type < VTD_DESC_CONTEXT || type > VTD_DESC_WAIT ||
	    (desc[0] & vtd_desc_rsvd[type].lo) || (desc[1] & vtd_desc_rsvd[type].hi))
		return 0;

	switch (type) {
	case VTD_DESC_CONTEXT:
		return g ? type : 0;
	case VTD_DESC_IOTLB:
		if (!g)
			return 0;
		/* Only a page-selective request reads the second qword. */
		if (g != VTD_G_PAGE)
			return type;
		/* ADDR's bits below 2^AM are ignored, as hardware does. */
		am = FIELD_GET(VTD_IOTLB_DESC_AM, desc[1]);
		if (!(cap & VTD_CAP_PSI) || am > FIELD_GET(VTD_CAP_MAMV, cap))
			return 0;
		return type;
	case VTD_DESC_DEVTLB:
		return ecap & VTD_ECAP_DT ? type : 0;
	case VTD_DESC_IEC:
		return ecap & VTD_ECAP_IR ? type : 0;
	}
	return type;
}

#endif /* __KVM_VIOMMU_VTD_H */
