// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VT-d register page, served by the kernel on KVM's MMIO bus so that
 * the guest's driver programs its IOMMU without exits to the VMM.
 *
 * The page is one table, kvm_viommu_reg_table, and every access goes
 * through it a dword at a time: VT-d software accesses a 64-bit register
 * with one 8-byte access or two 4-byte ones, and either must work.  The
 * side effects of a 64-bit register happen on the write of the dword that
 * holds the command bit (IQT's tail, CCMD.ICC, IOTLB.IVT).  Accesses of
 * any other size or alignment read zero and are dropped, as the
 * specification leaves them undefined and a guest may try anything.
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

/* GCMD: the commands, which show in GSTS once done. */
static void kvm_viommu_write_gcmd(struct kvm_viommu *viommu, u64 cmd, u64 mask)
{
	struct kvm_viommu_regs *r = &viommu->regs;
	u32 val = cmd & kvm_viommu_gcmd_allowed(r);
	u32 seen = kvm_viommu_gsts(viommu);
	u32 old = kvm_viommu_gsts_now(viommu), gsts;

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

static u32 kvm_viommu_read_ver(struct kvm_viommu *viommu)
{
	return VTD_VER_VALUE;
}

/* GCMD is write-only. */
static u32 kvm_viommu_read_gcmd(struct kvm_viommu *viommu)
{
	return 0;
}

/* FSTS: what is left pending after the guest cleared some. */
static void kvm_viommu_write_fsts(struct kvm_viommu *viommu, u64 val, u64 mask)
{
	kvm_viommu_fault_status_changed(&viommu->regs);
}

/* A fault recording register's high qword: the guest cleared F. */
static void kvm_viommu_write_frcd_hi(struct kvm_viommu *viommu, u64 val,
				     u64 mask)
{
	if (val & mask & VTD_FRCD_F)
		kvm_viommu_fault_status_changed(&viommu->regs);
}

/* FECTL: an interrupt held back by IM goes once IM clears. */
static void kvm_viommu_write_fectl(struct kvm_viommu *viommu, u64 val,
				   u64 mask)
{
	if (viommu->regs.state.fectl & VTD_ECTL_IP)
		kvm_viommu_send_fault_event(viommu);
}

/* IECTL: likewise, for the invalidation completion event. */
static void kvm_viommu_write_iectl(struct kvm_viommu *viommu, u64 val,
				   u64 mask)
{
	if (viommu->regs.state.iectl & VTD_ECTL_IP)
		kvm_viommu_send_inv_event(viommu);
}

/* ICS: IECTL.IP goes with the IWC the guest cleared. */
static void kvm_viommu_write_ics(struct kvm_viommu *viommu, u64 val, u64 mask)
{
	struct kvm_viommu_regs *r = &viommu->regs;

	if (!(r->state.ics & VTD_ICS_IWC))
		r->state.iectl &= ~VTD_ECTL_IP;
}

/* IQT: the dword with the tail rings the doorbell. */
static void kvm_viommu_write_iqt(struct kvm_viommu *viommu, u64 val, u64 mask)
{
	if (mask & VTD_IQT_MASK)
		kvm_viommu_qi_run(viommu);
}

/* CCMD: the dword with ICC starts the invalidation. */
static void kvm_viommu_write_ccmd(struct kvm_viommu *viommu, u64 val, u64 mask)
{
	if (mask & viommu->regs.state.ccmd & VTD_CCMD_ICC)
		kvm_viommu_ccmd_invalidate(viommu);
}

/* IOTLB: the dword with IVT starts the invalidation. */
static void kvm_viommu_write_iotlb(struct kvm_viommu *viommu, u64 val,
				   u64 mask)
{
	if (mask & viommu->regs.state.iotlb & VTD_IOTLB_IVT)
		kvm_viommu_iotlb_reg_invalidate(viommu);
}

/*
 * A register of the page, @width bytes at @offset.  Its value is @read's,
 * or is kept at @field in struct kvm_viommu_regs.  A write of a dword
 * stores the @writable bits (none without the @ecap capabilities), clears
 * the @w1c bits written as 1, and then calls @write with the value and
 * the mask of the dword, both in the register's bit positions.
 */
struct kvm_viommu_reg {
	u16 offset;
	u8 width;
	u16 field;
	u64 writable;
	u64 w1c;
	u64 ecap;
	u32 (*read)(struct kvm_viommu *viommu);
	void (*write)(struct kvm_viommu *viommu, u64 val, u64 mask);
};

/* A register that struct kvm_viommu_regs keeps. */
#define KVM_VIOMMU_REG(_name, _width, _field, _writable, _w1c, ...)	\
	{ .offset = VTD_REG_##_name, .width = _width,			\
	  .field = offsetof(struct kvm_viommu_regs, _field),		\
	  .writable = _writable, .w1c = _w1c, __VA_ARGS__ }

/* A 32-bit register without a value of its own. */
#define KVM_VIOMMU_REG_FN(_name, _read, _write)				\
	{ .offset = VTD_REG_##_name, .width = 4, .read = _read,	\
	  .write = _write }

/*
 * The registers of the fault event (FE) and of the invalidation event
 * (IE), which VT-d lays out alike.  The upper address dword is there in
 * extended interrupt mode only.
 */
#define KVM_VIOMMU_ECTL(_EV, _ev, _write)				\
	KVM_VIOMMU_REG(_EV##CTL, 4, state._ev##ctl, VTD_ECTL_IM, 0,	\
		       .write = _write)
#define KVM_VIOMMU_EDATA(_EV, _ev)					\
	KVM_VIOMMU_REG(_EV##DATA, 4, state._ev##data, VTD_EDATA_MASK, 0)
#define KVM_VIOMMU_EADDR(_EV, _ev)					\
	KVM_VIOMMU_REG(_EV##ADDR, 4, state._ev##addr, VTD_EADDR_MASK, 0)
#define KVM_VIOMMU_EUADDR(_EV, _ev)					\
	KVM_VIOMMU_REG(_EV##UADDR, 4, state._ev##uaddr, U32_MAX, 0,	\
		       .ecap = VTD_ECAP_EIM)

/* A fault record is 128 bits, in the page and in the state alike. */
#define VTD_FRCD_SIZE		sizeof_field(struct kvm_viommu_regs_state, frcd[0])
#define VTD_REG_FRCD_HI		(VTD_REG_FRCD + 8)

/*
 * The register page, in the order of the offsets.  What is not here reads
 * 0 and ignores writes: PMEN, say, as PLMR and PHMR are not advertised.
 * The fault recording registers are record 0's, which the others repeat
 * every VTD_FRCD_SIZE bytes, up to CAP.NFR.
 */
static const struct kvm_viommu_reg kvm_viommu_reg_table[] = {
	KVM_VIOMMU_REG_FN(VER, kvm_viommu_read_ver, NULL),
	KVM_VIOMMU_REG(CAP, 8, cap, 0, 0),
	KVM_VIOMMU_REG(ECAP, 8, ecap, 0, 0),
	KVM_VIOMMU_REG_FN(GCMD, kvm_viommu_read_gcmd, kvm_viommu_write_gcmd),
	KVM_VIOMMU_REG_FN(GSTS, kvm_viommu_gsts, NULL),
	KVM_VIOMMU_REG(RTADDR, 8, state.rtaddr, VTD_RTADDR_MASK, 0),
	KVM_VIOMMU_REG(CCMD, 8, state.ccmd, VTD_CCMD_RW, 0,
		       .write = kvm_viommu_write_ccmd),
	KVM_VIOMMU_REG(FSTS, 4, state.fsts, 0, VTD_FSTS_RW1C,
		       .write = kvm_viommu_write_fsts),
	KVM_VIOMMU_ECTL(FE, fe, kvm_viommu_write_fectl), KVM_VIOMMU_EDATA(FE, fe),
	KVM_VIOMMU_EADDR(FE, fe), KVM_VIOMMU_EUADDR(FE, fe),
	KVM_VIOMMU_REG(IQH, 8, state.iqh, 0, 0),
	KVM_VIOMMU_REG(IQT, 8, state.iqt, VTD_IQT_MASK, 0,
		       .write = kvm_viommu_write_iqt),
	KVM_VIOMMU_REG(IQA, 8, state.iqa, VTD_IQA_MASK, 0),
	KVM_VIOMMU_REG(ICS, 4, state.ics, 0, VTD_ICS_IWC,
		       .write = kvm_viommu_write_ics),
	KVM_VIOMMU_ECTL(IE, ie, kvm_viommu_write_iectl), KVM_VIOMMU_EDATA(IE, ie),
	KVM_VIOMMU_EADDR(IE, ie), KVM_VIOMMU_EUADDR(IE, ie),
	KVM_VIOMMU_REG(IRTA, 8, state.irta, VTD_IRTA_MASK, 0),
	KVM_VIOMMU_REG(IVA, 8, state.iva, VTD_IVA_MASK, 0),
	KVM_VIOMMU_REG(IOTLB, 8, state.iotlb, VTD_IOTLB_RW, 0,
		       .write = kvm_viommu_write_iotlb),
	KVM_VIOMMU_REG(FRCD, 8, state.frcd[0][0], 0, 0),
	KVM_VIOMMU_REG(FRCD_HI, 8, state.frcd[0][1], 0, VTD_FRCD_F,
		       .write = kvm_viommu_write_frcd_hi),
};

/* An access to a dword of the page, decoded. */
struct kvm_viommu_access {
	const struct kvm_viommu_reg *reg;
	/* Where the register's value is kept, or NULL: reg->read has it. */
	void *val;
	/* Where the dword is in the register. */
	unsigned int shift;
};

/*
 * Fault record @n's offsets as record 0's: returns @n, and 0 below the
 * records.  Records beyond CAP.NFR are not there: @n >= nr_frcd.
 */
static unsigned int kvm_viommu_frcd_fold(u32 *offset)
{
	unsigned int n;

	if (*offset < VTD_REG_FRCD)
		return 0;
	n = (*offset - VTD_REG_FRCD) / VTD_FRCD_SIZE;
	*offset -= n * VTD_FRCD_SIZE;
	return n;
}

/* The register that holds the dword at @offset, or NULL. */
static const struct kvm_viommu_reg *kvm_viommu_find_reg(u32 offset)
{
	const struct kvm_viommu_reg *reg;

	for (reg = kvm_viommu_reg_table;
	     reg < kvm_viommu_reg_table + ARRAY_SIZE(kvm_viommu_reg_table); reg++)
		if (offset - reg->offset < reg->width)
			return reg;
	return NULL;
}

/* Which register the dword at @offset is of, if any, and where. */
static bool kvm_viommu_decode(struct kvm_viommu_regs *r, u32 offset,
			      struct kvm_viommu_access *a)
{
	unsigned int n = kvm_viommu_frcd_fold(&offset);

	a->reg = kvm_viommu_find_reg(offset);
	if (!a->reg || n >= r->nr_frcd)
		return false;
	a->shift = (offset - a->reg->offset) * 8;
	a->val = a->reg->read ? NULL :
		 (void *)r + a->reg->field + n * VTD_FRCD_SIZE;
	return true;
}

static u64 kvm_viommu_reg_load(const struct kvm_viommu_access *a)
{
	return a->reg->width == 8 ? *(u64 *)a->val : *(u32 *)a->val;
}

static void kvm_viommu_reg_save(const struct kvm_viommu_access *a, u64 val)
{
	if (a->reg->width == 8)
		*(u64 *)a->val = val;
	else
		*(u32 *)a->val = val;
}

/* The bits the guest may write, as the capabilities have it. */
static u64 kvm_viommu_reg_writable(const struct kvm_viommu_regs *r,
				   const struct kvm_viommu_reg *reg)
{
	return (r->ecap & reg->ecap) == reg->ecap ? reg->writable : 0;
}

/* Takes the bits of @val under @mask that the register takes. */
static void kvm_viommu_reg_store(struct kvm_viommu_regs *r,
				 const struct kvm_viommu_access *a, u64 val,
				 u64 mask)
{
	u64 writable = kvm_viommu_reg_writable(r, a->reg) & mask;
	u64 clear = a->reg->w1c & mask & val;
	u64 old;

	if (!(writable | clear))
		return;
	old = kvm_viommu_reg_load(a);
	kvm_viommu_reg_save(a, ((old & ~writable) | (val & writable)) & ~clear);
}

static u32 kvm_viommu_read_dword(struct kvm_viommu *viommu, u32 offset)
{
	struct kvm_viommu_access a;
	u64 val;

	if (!kvm_viommu_decode(&viommu->regs, offset, &a))
		return 0;
	val = a.val ? kvm_viommu_reg_load(&a) : a.reg->read(viommu);
	return val >> a.shift;
}

static void kvm_viommu_write_dword(struct kvm_viommu *viommu, u32 offset,
				   u32 val)
{
	struct kvm_viommu_access a;
	u64 mask;

	if (!kvm_viommu_decode(&viommu->regs, offset, &a))
		return;
	mask = (u64)U32_MAX << a.shift;
	kvm_viommu_reg_store(&viommu->regs, &a, (u64)val << a.shift, mask);
	if (a.reg->write)
		a.reg->write(viommu, (u64)val << a.shift, mask);
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

	/* Each access would be an exit to a VMM that emulates the page. */
	this_cpu_inc(viommu->counters->exits_avoided);
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

	this_cpu_inc(viommu->counters->exits_avoided);
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
