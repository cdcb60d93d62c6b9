// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VT-d register page, served by the kernel on KVM's MMIO bus so that
 * the guest's driver programs its IOMMU without exits to the VMM.
 *
 * Every register is handled as one or two dwords: VT-d software accesses a
 * 64-bit register with one 8-byte access or two 4-byte ones, and either
 * must work.  The side effects of a 64-bit register happen on the write of
 * the dword that holds the command bit (IQT's tail, CCMD.ICC, IOTLB.IVT).
 * Accesses of any other size or alignment read zero and are dropped, as
 * the specification leaves them undefined and a guest may try anything.
 */

#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>

#include "viommu.h"
#include "trace.h"

static struct kvm_viommu *to_viommu(struct kvm_io_device *dev)
{
	return container_of(dev, struct kvm_viommu, regs.dev);
}

/* Sends FECTL's or IECTL's interrupt, unless masked: then it stays IP. */
static void kvm_viommu_send_event(struct kvm_viommu *viommu, u32 *ectl,
				  u32 addr, u32 uaddr, u32 data)
{
	u64 address = (u64)uaddr << 32 | addr;
	bool fault = ectl == &viommu->regs.state.fectl;

	trace_kvm_viommu_event_irq(fault, address, data, *ectl & VTD_ECTL_IM);
	if (*ectl & VTD_ECTL_IM)
		return;
	kvm_arch_viommu_send_msi(viommu->kvm, address, data);
	*ectl &= ~VTD_ECTL_IP;
}

static void kvm_viommu_send_fault_event(struct kvm_viommu *viommu)
{
	struct kvm_viommu_regs *r = &viommu->regs;

	kvm_viommu_send_event(viommu, &r->state.fectl, r->state.feaddr,
			      r->state.feuaddr, r->state.fedata);
}

static void kvm_viommu_send_inv_event(struct kvm_viommu *viommu)
{
	struct kvm_viommu_regs *r = &viommu->regs;

	kvm_viommu_send_event(viommu, &r->state.iectl, r->state.ieaddr,
			      r->state.ieuaddr, r->state.iedata);
}

/* A fault condition; an event only if none was pending before. */
static void kvm_viommu_raise_fault(struct kvm_viommu *viommu, u32 fsts)
{
	struct kvm_viommu_regs *r = &viommu->regs;
	bool pending = r->state.fsts & VTD_FSTS_PENDING;

	r->state.fsts |= fsts;
	if (pending)
		return;
	r->state.fectl |= VTD_ECTL_IP;
	kvm_viommu_send_fault_event(viommu);
}

/* PPF mirrors the records' F bits; IP goes with the last pending fault. */
static void kvm_viommu_fault_status_changed(struct kvm_viommu_regs *r)
{
	int i;

	r->state.fsts &= ~VTD_FSTS_PPF;
	for (i = 0; i < r->nr_frcd; i++)
		if (r->state.frcd[i][1] & VTD_FRCD_F)
			r->state.fsts |= VTD_FSTS_PPF;
	if (!(r->state.fsts & VTD_FSTS_PENDING))
		r->state.fectl &= ~VTD_ECTL_IP;
}

/*
 * Records a fault in the next fault recording register, as VT-d does:
 * nothing while PFO is set, and PFO when that register is still full.
 */
static void kvm_viommu_frcd_record(struct kvm_viommu *viommu, u64 lo, u64 hi)
{
	struct kvm_viommu_regs *r = &viommu->regs;
	unsigned int next;

	lockdep_assert_held(&viommu->lock);
	if (!r->configured || (r->state.fsts & VTD_FSTS_PFO))
		return;

	/* Hardware's own index of the next record, which FRI is not. */
	next = r->state.frcd_next;
	if (r->state.frcd[next][1] & VTD_FRCD_F) {
		kvm_viommu_raise_fault(viommu, VTD_FSTS_PFO);
		return;
	}
	r->state.frcd[next][0] = lo;
	r->state.frcd[next][1] = VTD_FRCD_F | hi;
	r->state.frcd_next = (next + 1) % r->nr_frcd;

	/* FRI names the first pending record, from PPF's rise on. */
	if (!(r->state.fsts & VTD_FSTS_PPF)) {
		r->state.fsts &= ~VTD_FSTS_FRI;
		r->state.fsts |= FIELD_PREP(VTD_FSTS_FRI, next);
	}
	kvm_viommu_raise_fault(viommu, VTD_FSTS_PPF);
}

static void kvm_viommu_frcd_record_ir(struct kvm_viommu *viommu,
				      const struct kvm_viommu_ir_fault *record)
{
	kvm_viommu_frcd_record(viommu,
			       FIELD_PREP(VTD_FRCD_IR_INDEX, record->index),
			       FIELD_PREP(VTD_FRCD_FR, record->reason) |
			       FIELD_PREP(VTD_FRCD_SID, record->sid));
}

/*
 * Whoever records a fault must not wait for viommu->lock: a vCPU holds it
 * across guest-memory accesses that the VMM may take its time to resolve
 * (userfaultfd, postcopy), and across the invalidation wait's fence, which
 * waits for the very deliveries that record faults.  A fault that finds
 * the lock taken waits here for a vCPU instead; what does not fit is lost
 * as the registers would lose it, with PFO.
 */
static void kvm_viommu_regs_defer_fault(struct kvm_viommu *viommu,
					const struct kvm_viommu_ir_fault *record)
{
	struct kvm_viommu_regs *r = &viommu->regs;
	unsigned long irqflags;

	spin_lock_irqsave(&r->pending_lock, irqflags);
	if (r->nr_pending < ARRAY_SIZE(r->pending))
		r->pending[r->nr_pending++] = *record;
	else
		r->pending_overflow = true;
	spin_unlock_irqrestore(&r->pending_lock, irqflags);

	kvm_arch_viommu_request_vcpus(viommu->kvm);
}

void kvm_viommu_regs_record_fault(struct kvm_viommu *viommu,
				  const struct kvm_viommu_ir_fault *record)
{
	if (!mutex_trylock(&viommu->lock)) {
		kvm_viommu_regs_defer_fault(viommu, record);
		return;
	}
	kvm_viommu_frcd_record_ir(viommu, record);
	mutex_unlock(&viommu->lock);
}

/* On a vCPU: the faults that found viommu->lock taken, into the registers. */
void kvm_viommu_regs_record_pending(struct kvm_viommu *viommu)
{
	struct kvm_viommu_regs *r = &viommu->regs;
	struct kvm_viommu_ir_fault pending[ARRAY_SIZE(r->pending)];
	unsigned int i, n;
	bool overflow;

	lockdep_assert_held(&viommu->lock);
	/* The request is mostly for the queue: skip the lock then. */
	if (!READ_ONCE(r->nr_pending) && !READ_ONCE(r->pending_overflow))
		return;

	spin_lock_irq(&r->pending_lock);
	n = r->nr_pending;
	memcpy(pending, r->pending, n * sizeof(*pending));
	overflow = r->pending_overflow;
	r->nr_pending = 0;
	r->pending_overflow = false;
	spin_unlock_irq(&r->pending_lock);

	for (i = 0; i < n; i++)
		kvm_viommu_frcd_record_ir(viommu, &pending[i]);
	if (overflow && r->configured)
		kvm_viommu_raise_fault(viommu, VTD_FSTS_PFO);
}

/* A DMA-remapping fault from the VMM's own translation. */
int kvm_viommu_regs_dmar_fault(struct kvm_viommu *viommu,
			       const struct kvm_viommu_dmar_fault *fault)
{
	u64 hi = FIELD_PREP(VTD_FRCD_FR, fault->reason) |
		 FIELD_PREP(VTD_FRCD_SID, fault->sid);

	lockdep_assert_held(&viommu->lock);
	if (!viommu->regs.configured)
		return -ENXIO;

	if (fault->flags & KVM_VIOMMU_DMAR_FAULT_READ)
		hi |= VTD_FRCD_T;
	if (fault->flags & KVM_VIOMMU_DMAR_FAULT_PASID)
		hi |= VTD_FRCD_PP | FIELD_PREP(VTD_FRCD_PV, fault->pasid);
	kvm_viommu_frcd_record(viommu, fault->addr, hi);
	return 0;
}

void kvm_viommu_regs_queue_error(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	kvm_viommu_raise_fault(viommu, VTD_FSTS_IQE);
}

/* A wait descriptor with IF: ICS.IWC, and the event if it was clear. */
void kvm_viommu_regs_wait_done(struct kvm_viommu *viommu)
{
	struct kvm_viommu_regs *r = &viommu->regs;

	lockdep_assert_held(&viommu->lock);
	if (r->state.ics & VTD_ICS_IWC)
		return;
	r->state.ics |= VTD_ICS_IWC;
	r->state.iectl |= VTD_ECTL_IP;
	kvm_viommu_send_inv_event(viommu);
}

/* GSTS as it takes effect: IRES and CFIS are the IR cache's. */
static u32 kvm_viommu_gsts_now(struct kvm_viommu *viommu)
{
	u32 ir = READ_ONCE(viommu->ir_flags);
	u32 gsts = viommu->regs.state.gsts & ~(VTD_GCMD_IRE | VTD_GCMD_CFI);

	if (ir & KVM_VIOMMU_IR_ENABLE)
		gsts |= VTD_GCMD_IRE;
	if (ir & KVM_VIOMMU_IR_CFIS)
		gsts |= VTD_GCMD_CFI;
	return gsts;
}

/*
 * GSTS as the guest reads it.  TES and RTPS show the VMM's state: while
 * it switches its address spaces, they keep what they were (gsts_held).
 */
static u32 kvm_viommu_gsts(struct kvm_viommu *viommu)
{
	struct kvm_viommu_regs *r = &viommu->regs;
	u32 gsts = kvm_viommu_gsts_now(viommu);

	if (r->gcmd_seq)
		gsts = (gsts & ~VTD_GSTS_VMM) | r->gsts_held;
	return gsts;
}

/* The commands the advertised capabilities allow. */
static u32 kvm_viommu_gcmd_allowed(const struct kvm_viommu_regs *r)
{
	u32 allowed = VTD_GCMD_TE | VTD_GCMD_SRTP | VTD_GCMD_WBF;

	if (r->ecap & VTD_ECAP_QI)
		allowed |= VTD_GCMD_QIE;
	if (r->ecap & VTD_ECAP_IR)
		allowed |= VTD_GCMD_IRE | VTD_GCMD_SIRTP | VTD_GCMD_CFI;
	return allowed;
}

static void kvm_viommu_set_ir_from_gsts(struct kvm_viommu *viommu, u32 gsts)
{
	u32 flags = 0;

	if (gsts & VTD_GCMD_IRE)
		flags |= KVM_VIOMMU_IR_ENABLE;
	if (gsts & VTD_GCMD_CFI)
		flags |= KVM_VIOMMU_IR_CFIS;
	kvm_viommu_ir_set_flags(viommu, flags);
}

/* Tells a VMM that follows interrupt remapping what the guest changed. */
static void kvm_viommu_post_ir_event(struct kvm_viommu *viommu)
{
	u64 event[2] = { kvm_viommu_gsts(viommu), READ_ONCE(viommu->irta) };

	kvm_viommu_event_post(viommu, KVM_VIOMMU_EVENT_IR, 0, event,
			      ARRAY_SIZE(event));
}

/*
 * TE and SRTP change the VMM's DMA address spaces.  A VMM that takes GCMD
 * events acknowledges the switch, and only then does GSTS show it, so
 * that the guest's wait for TES or RTPS means what it means on hardware.
 * RTPS clears at the command, and sets once it is done.
 */
static void kvm_viommu_post_gcmd_event(struct kvm_viommu *viommu, u32 seen,
				       bool srtp)
{
	struct kvm_viommu_regs *r = &viommu->regs;
	u64 event[2] = { r->state.gsts, r->state.rtaddr_active };
	u64 seq;

	seq = kvm_viommu_event_post(viommu, KVM_VIOMMU_EVENT_GCMD, 0, event,
				    ARRAY_SIZE(event));
	if (!seq)
		return;
	if (!r->gcmd_seq)
		r->gsts_held = seen & VTD_GSTS_VMM;
	if (srtp)
		r->gsts_held &= ~VTD_GCMD_SRTP;
	r->gcmd_seq = seq;
}

void kvm_viommu_regs_gcmd_acked(struct kvm_viommu *viommu)
{
	struct kvm_viommu_regs *r = &viommu->regs;

	lockdep_assert_held(&viommu->lock);
	if (r->gcmd_seq && r->gcmd_seq <= viommu->events.acked)
		r->gcmd_seq = 0;
}

static void kvm_viommu_write_gcmd(struct kvm_viommu *viommu, u32 val)
{
	struct kvm_viommu_regs *r = &viommu->regs;
	u32 seen = kvm_viommu_gsts(viommu);
	u32 old = kvm_viommu_gsts_now(viommu), gsts;

	val &= kvm_viommu_gcmd_allowed(r);
	gsts = (old & ~VTD_GCMD_PERSISTENT) | (val & VTD_GCMD_PERSISTENT);

	if (val & VTD_GCMD_SRTP) {
		r->state.rtaddr_active = r->state.rtaddr;
		gsts |= VTD_GCMD_SRTP;
	}
	if (val & VTD_GCMD_SIRTP) {
		/* IRTA's writable bits are always a valid table. */
		kvm_viommu_ir_set_table(viommu, r->state.irta);
		gsts |= VTD_GCMD_SIRTP;
	}
	/* The queue starts at entry 0 each time it is enabled. */
	if ((gsts & ~old) & VTD_GCMD_QIE)
		r->state.iqh = 0;
	if ((gsts ^ old) & (VTD_GCMD_IRE | VTD_GCMD_CFI))
		kvm_viommu_set_ir_from_gsts(viommu, gsts);
	r->state.gsts = gsts;

	if ((val & VTD_GCMD_SRTP) || ((gsts ^ old) & VTD_GCMD_TE))
		kvm_viommu_post_gcmd_event(viommu, seen, val & VTD_GCMD_SRTP);
	if ((val & VTD_GCMD_SIRTP) ||
	    ((gsts ^ old) & (VTD_GCMD_IRE | VTD_GCMD_CFI)))
		kvm_viommu_post_ir_event(viommu);
	/*
	 * A tail written before the queue was enabled is work to do, as
	 * QEMU has it: Windows guests rely on that.
	 */
	if (((gsts & ~old) & VTD_GCMD_QIE) && r->state.iqt)
		kvm_viommu_qi_run(viommu);
}

static void kvm_viommu_write_ectl(struct kvm_viommu *viommu, u32 *ectl,
				  u32 val)
{
	*ectl = (*ectl & ~VTD_ECTL_IM) | (val & VTD_ECTL_IM);
	if (*ectl & VTD_ECTL_IP) {
		if (ectl == &viommu->regs.state.fectl)
			kvm_viommu_send_fault_event(viommu);
		else
			kvm_viommu_send_inv_event(viommu);
	}
}

/* The dwords of the 32-bit registers, or NULL. */
static u32 *kvm_viommu_reg32(struct kvm_viommu_regs *r, u32 offset)
{
	switch (offset) {
	case VTD_REG_FSTS:	return &r->state.fsts;
	case VTD_REG_FECTL:	return &r->state.fectl;
	case VTD_REG_FEDATA:	return &r->state.fedata;
	case VTD_REG_FEADDR:	return &r->state.feaddr;
	case VTD_REG_FEUADDR:	return &r->state.feuaddr;
	case VTD_REG_ICS:	return &r->state.ics;
	case VTD_REG_IECTL:	return &r->state.iectl;
	case VTD_REG_IEDATA:	return &r->state.iedata;
	case VTD_REG_IEADDR:	return &r->state.ieaddr;
	case VTD_REG_IEUADDR:	return &r->state.ieuaddr;
	}
	return NULL;
}

/* The 64-bit register that holds @offset, or NULL. */
static u64 *kvm_viommu_reg64(struct kvm_viommu_regs *r, u32 offset)
{
	offset &= ~7;
	if (offset >= VTD_REG_FRCD && offset < VTD_REG_FRCD + 16 * r->nr_frcd)
		return &r->state.frcd[(offset - VTD_REG_FRCD) / 16][(offset / 8) & 1];

	switch (offset) {
	case VTD_REG_CAP:	return &r->cap;
	case VTD_REG_ECAP:	return &r->ecap;
	case VTD_REG_RTADDR:	return &r->state.rtaddr;
	case VTD_REG_CCMD:	return &r->state.ccmd;
	case VTD_REG_IQH:	return &r->state.iqh;
	case VTD_REG_IQT:	return &r->state.iqt;
	case VTD_REG_IQA:	return &r->state.iqa;
	case VTD_REG_IRTA:	return &r->state.irta;
	case VTD_REG_IVA:	return &r->state.iva;
	case VTD_REG_IOTLB:	return &r->state.iotlb;
	}
	return NULL;
}

static u32 kvm_viommu_read_dword(struct kvm_viommu *viommu, u32 offset)
{
	struct kvm_viommu_regs *r = &viommu->regs;
	u32 *reg32;
	u64 *reg64;

	if (offset == VTD_REG_VER)
		return VTD_VER_VALUE;
	if (offset == VTD_REG_GSTS)
		return kvm_viommu_gsts(viommu);
	reg32 = kvm_viommu_reg32(r, offset);
	if (reg32)
		return *reg32;
	reg64 = kvm_viommu_reg64(r, offset);
	if (reg64)
		return offset & 4 ? upper_32_bits(*reg64) : lower_32_bits(*reg64);
	/* GCMD is write-only; PMEN is not advertised (no PLMR/PHMR). */
	return 0;
}

static void kvm_viommu_write_dword32(struct kvm_viommu *viommu, u32 offset,
				     u32 val)
{
	struct kvm_viommu_regs *r = &viommu->regs;

	switch (offset) {
	case VTD_REG_GCMD:
		kvm_viommu_write_gcmd(viommu, val);
		break;
	case VTD_REG_FSTS:
		r->state.fsts &= ~(val & VTD_FSTS_RW1C);
		kvm_viommu_fault_status_changed(r);
		break;
	case VTD_REG_FECTL:
		kvm_viommu_write_ectl(viommu, &r->state.fectl, val);
		break;
	case VTD_REG_ICS:
		r->state.ics &= ~(val & VTD_ICS_IWC);
		if (!(r->state.ics & VTD_ICS_IWC))
			r->state.iectl &= ~VTD_ECTL_IP;
		break;
	case VTD_REG_IECTL:
		kvm_viommu_write_ectl(viommu, &r->state.iectl, val);
		break;
	case VTD_REG_FEDATA:
	case VTD_REG_IEDATA:
		*kvm_viommu_reg32(r, offset) = val & VTD_EDATA_MASK;
		break;
	case VTD_REG_FEADDR:
	case VTD_REG_IEADDR:
		*kvm_viommu_reg32(r, offset) = val & VTD_EADDR_MASK;
		break;
	case VTD_REG_FEUADDR:
	case VTD_REG_IEUADDR:
		if (r->ecap & VTD_ECAP_EIM)
			*kvm_viommu_reg32(r, offset) = val;
		break;
	}
}

/* The bits of each 64-bit register that software can write. */
static u64 kvm_viommu_reg64_writable(u32 offset)
{
	if (offset >= VTD_REG_FRCD && offset < VTD_REG_FRCD_END)
		return 0;	/* F is write-1-to-clear, handled apart */

	switch (offset) {
	case VTD_REG_RTADDR:	return VTD_RTADDR_MASK;
	case VTD_REG_CCMD:	return VTD_CCMD_RW;
	case VTD_REG_IQT:	return VTD_IQT_MASK;
	case VTD_REG_IQA:	return VTD_IQA_MASK;
	case VTD_REG_IRTA:	return VTD_IRTA_MASK;
	case VTD_REG_IVA:	return VTD_IVA_MASK;
	case VTD_REG_IOTLB:	return VTD_IOTLB_RW;
	}
	return 0;
}

static void kvm_viommu_write_dword64(struct kvm_viommu *viommu, u32 offset,
				     u32 val, u64 *reg)
{
	u32 base = offset & ~7, shift = (offset & 4) * 8;
	u64 mask = kvm_viommu_reg64_writable(base) & (0xffffffffULL << shift);

	*reg = (*reg & ~mask) | (((u64)val << shift) & mask);

	if (base >= VTD_REG_FRCD && base < VTD_REG_FRCD_END && (base & 8) &&
	    shift && (val & upper_32_bits(VTD_FRCD_F))) {
		*reg &= ~VTD_FRCD_F;
		kvm_viommu_fault_status_changed(&viommu->regs);
	} else if (base == VTD_REG_IQT && !shift) {
		kvm_viommu_qi_run(viommu);
	} else if (base == VTD_REG_CCMD && shift && (*reg & VTD_CCMD_ICC)) {
		kvm_viommu_ccmd_invalidate(viommu);
	} else if (base == VTD_REG_IOTLB && shift && (*reg & VTD_IOTLB_IVT)) {
		kvm_viommu_iotlb_reg_invalidate(viommu);
	}
}

static void kvm_viommu_write_dword(struct kvm_viommu *viommu, u32 offset,
				   u32 val)
{
	u64 *reg64 = kvm_viommu_reg64(&viommu->regs, offset);

	if (reg64)
		kvm_viommu_write_dword64(viommu, offset, val, reg64);
	else
		kvm_viommu_write_dword32(viommu, offset, val);
}

static bool kvm_viommu_access_ok(u32 offset, int len)
{
	return (len == 4 || len == 8) && !(offset & (len - 1));
}

static int kvm_viommu_mmio_read(struct kvm_vcpu *vcpu,
				struct kvm_io_device *dev, gpa_t addr, int len,
				void *val)
{
	struct kvm_viommu *viommu = to_viommu(dev);
	u32 offset = addr - viommu->regs.base;
	u64 data = 0;

	memset(val, 0, len);
	if (!kvm_viommu_access_ok(offset, len))
		return 0;

	mutex_lock(&viommu->lock);
	data = kvm_viommu_read_dword(viommu, offset);
	if (len == 8)
		data |= (u64)kvm_viommu_read_dword(viommu, offset + 4) << 32;
	mutex_unlock(&viommu->lock);

	memcpy(val, &data, len);
	return 0;
}

static int kvm_viommu_mmio_write(struct kvm_vcpu *vcpu,
				 struct kvm_io_device *dev, gpa_t addr, int len,
				 const void *val)
{
	struct kvm_viommu *viommu = to_viommu(dev);
	u32 offset = addr - viommu->regs.base;
	u64 data = 0;

	if (!kvm_viommu_access_ok(offset, len))
		return 0;
	memcpy(&data, val, len);

	mutex_lock(&viommu->lock);
	kvm_viommu_write_dword(viommu, offset, lower_32_bits(data));
	if (len == 8)
		kvm_viommu_write_dword(viommu, offset + 4, upper_32_bits(data));
	mutex_unlock(&viommu->lock);
	return 0;
}

static const struct kvm_io_device_ops kvm_viommu_mmio_ops = {
	.read = kvm_viommu_mmio_read,
	.write = kvm_viommu_mmio_write,
};

/*
 * The registers as after a system reset: everything the guest programmed
 * is gone, what the VMM configured (base, CAP, ECAP) stays.
 */
static void kvm_viommu_regs_clear(struct kvm_viommu_regs *r)
{
	unsigned long irqflags;

	memset(&r->state, 0, sizeof(r->state));
	r->state.fectl = VTD_ECTL_IM;
	r->state.iectl = VTD_ECTL_IM;
	r->ccmd_seq = 0;
	r->iotlb_seq = 0;
	r->gcmd_seq = 0;

	spin_lock_irqsave(&r->pending_lock, irqflags);
	r->nr_pending = 0;
	r->pending_overflow = false;
	spin_unlock_irqrestore(&r->pending_lock, irqflags);
}

void kvm_viommu_regs_reset(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	kvm_viommu_regs_clear(&viommu->regs);
}

/*
 * Puts the register page on the VM's MMIO bus.  It stays there until the
 * VM goes: KVM destroys its buses, and the device in them, before it
 * destroys the VM's devices, so .destroy has nothing to unregister.
 */
int kvm_viommu_regs_configure(struct kvm_viommu *viommu,
			      const struct kvm_viommu_regs_config *config)
{
	unsigned int nr_frcd = config->nr_fault_records ?: KVM_VIOMMU_NR_FRCD;
	struct kvm_viommu_regs *r = &viommu->regs;
	u64 cap = config->cap, ecap = config->ecap;
	struct kvm *kvm = viommu->kvm;
	int ret;

	lockdep_assert_held(&viommu->lock);
	if (r->configured)
		return -EBUSY;
	if (!PAGE_ALIGNED(config->base) || config->base >> 52 ||
	    !vtd_caps_complete(&cap, &ecap, nr_frcd))
		return -EINVAL;

	r->base = config->base;
	r->cap = cap;
	r->ecap = ecap;
	r->nr_frcd = nr_frcd;
	kvm_viommu_regs_clear(r);
	kvm_iodevice_init(&r->dev, &kvm_viommu_mmio_ops);

	/*
	 * Registering waits for kvm->srcu readers while viommu->lock is
	 * held.  That cannot deadlock: the only reader that takes the lock
	 * is this device's MMIO handler, and the device is not on the bus.
	 */
	mutex_lock(&kvm->slots_lock);
	ret = kvm_io_bus_register_dev(kvm, KVM_MMIO_BUS, r->base,
				      KVM_VIOMMU_REG_SIZE, &r->dev);
	mutex_unlock(&kvm->slots_lock);
	if (ret)
		return ret;

	r->configured = true;
	return 0;
}

void kvm_viommu_regs_get_config(struct kvm_viommu *viommu,
				struct kvm_viommu_regs_config *config)
{
	struct kvm_viommu_regs *r = &viommu->regs;

	lockdep_assert_held(&viommu->lock);
	if (!r->configured)
		return;
	config->base = r->base;
	config->cap = r->cap;
	config->ecap = r->ecap;
	config->nr_fault_records = r->nr_frcd;
}

void kvm_viommu_regs_get_state(struct kvm_viommu *viommu,
			       struct kvm_viommu_regs_state *s)
{
	lockdep_assert_held(&viommu->lock);
	*s = viommu->regs.state;
	/* A restore acknowledges every event, so save what they lead to. */
	s->gsts = kvm_viommu_gsts_now(viommu);
	s->irta_active = READ_ONCE(viommu->irta);
}

#define VTD_FRCD_HI_VALID	(VTD_FRCD_F | VTD_FRCD_T | VTD_FRCD_PV | \
				 VTD_FRCD_FR | VTD_FRCD_PP | VTD_FRCD_SID)

static bool kvm_viommu_frcd_valid(const struct kvm_viommu_regs *r,
				  const struct kvm_viommu_regs_state *s)
{
	int i;

	for (i = 0; i < KVM_VIOMMU_NR_FRCD; i++) {
		if ((s->frcd[i][0] & GENMASK_ULL(11, 0)) ||
		    (s->frcd[i][1] & ~VTD_FRCD_HI_VALID))
			return false;
		if (i >= r->nr_frcd && (s->frcd[i][0] | s->frcd[i][1]))
			return false;
	}
	return FIELD_GET(VTD_FSTS_FRI, s->fsts) < r->nr_frcd &&
	       s->frcd_next < r->nr_frcd;
}

/* What a guest could have put in the registers, and nothing else. */
static bool kvm_viommu_state_valid(const struct kvm_viommu_regs *r,
				   const struct kvm_viommu_regs_state *s)
{
	u32 allowed = kvm_viommu_gcmd_allowed(r);

	/* The upper address dwords exist only with extended interrupt mode. */
	if (!(r->ecap & VTD_ECAP_EIM) && (s->feuaddr | s->ieuaddr))
		return false;
	/* The copy keeps it; device.c has checked flags and __reserved. */
	if (s->__pad)
		return false;

	return kvm_viommu_frcd_valid(r, s) &&
	       !(s->gsts & ~(VTD_GSTS_VALID & allowed)) &&
	       !(s->fsts & ~(VTD_FSTS_RW1C | VTD_FSTS_PPF | VTD_FSTS_FRI)) &&
	       !((s->fectl | s->iectl) & ~(VTD_ECTL_IM | VTD_ECTL_IP)) &&
	       !((s->fedata | s->iedata) & ~VTD_EDATA_MASK) &&
	       !((s->feaddr | s->ieaddr) & ~VTD_EADDR_MASK) &&
	       !(s->ics & ~VTD_ICS_IWC) &&
	       !((s->rtaddr | s->rtaddr_active) & ~VTD_RTADDR_MASK) &&
	       !(s->ccmd & ~(VTD_CCMD_RW | VTD_CCMD_CAIG)) &&
	       !((s->iqh | s->iqt) & ~VTD_IQT_MASK) &&
	       !(s->iqa & ~VTD_IQA_MASK) &&
	       !((s->irta | s->irta_active) & ~VTD_IRTA_MASK) &&
	       !(s->iva & ~VTD_IVA_MASK) &&
	       !(s->iotlb & ~(VTD_IOTLB_RW | VTD_IOTLB_IAIG));
}

/*
 * Restores a saved register file.  Events are not state: a VMM saves once
 * it has finished them, and this acknowledges any left.  Register
 * invalidations in flight complete, and the queue resumes.
 */
int kvm_viommu_regs_set_state(struct kvm_viommu *viommu,
			      const struct kvm_viommu_regs_state *s)
{
	struct kvm_viommu_regs *r = &viommu->regs;
	int ret;

	lockdep_assert_held(&viommu->lock);
	if (!r->configured)
		return -ENXIO;
	if (!kvm_viommu_state_valid(r, s))
		return -EINVAL;

	ret = kvm_viommu_ir_set_table(viommu, s->irta_active);
	if (ret)
		return ret;
	kvm_viommu_set_ir_from_gsts(viommu, s->gsts);

	r->state = *s;
	kvm_viommu_fault_status_changed(r);

	kvm_viommu_events_ack_all(&viommu->events);
	kvm_viommu_events_acked(viommu);
	return 0;
}
