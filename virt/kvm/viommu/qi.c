// SPDX-License-Identifier: GPL-2.0-only
/*
 * Invalidations: the queue (QI) and the registers (CCMD, IOTLB).
 *
 * The queue runs in the vCPU that writes IQT, in the kernel, from IQH to
 * the tail, a bounded number of descriptors at a time: the rest is a
 * request to the same vCPU, handled before it next enters the guest.  So
 * a guest that builds a huge queue or rings the doorbell in a loop costs
 * its own vCPU's time, and viommu->lock is free between two runs for the
 * VMM's ioctls.
 *
 * Only a vCPU may write the guest's status words: KVM 6.1 marks a page
 * dirty only for a running vCPU, and each write takes one entry of that
 * vCPU's dirty ring.  A run stops when the ring is soft-full, so that the
 * vCPU exits to the VMM to harvest it before the queue goes on.  Where the
 * queue resumes without a vCPU (the VMM's acknowledgment, a restore), it
 * asks the vCPUs to run it.
 *
 * The interrupt entry cache is the kernel's, so IEC completes here.  The
 * context cache, the IOTLB and device-TLBs are the VMM's for now: their
 * invalidations become events (event.c), and a wait descriptor behind an
 * event completes only once the VMM has acknowledged it.
 */

#include <linux/kvm_host.h>

#include "viommu.h"
#include "trace.h"

/* Descriptors in one run of the queue. */
#define KVM_VIOMMU_QI_RUN	256

/* Descriptors read from guest memory at once. */
#define KVM_VIOMMU_QI_FETCH	8

/* The descriptors of one guest-memory read, from entry @first on. */
struct kvm_viommu_qi_window {
	u32 first;
	u32 count;
	__le64 raw[KVM_VIOMMU_QI_FETCH * 4];
};

/* Maps @page in @gpc, activating the cache at its first use. */
static int kvm_viommu_gpc_refresh(struct kvm *kvm,
				  struct gfn_to_pfn_cache *gpc, gpa_t page)
{
	if (gpc->active)
		return kvm_gfn_to_pfn_cache_refresh(kvm, gpc, page, PAGE_SIZE);
	return kvm_gpc_activate(kvm, gpc, NULL, KVM_HOST_USES_PFN, page,
				PAGE_SIZE);
}

/*
 * Copies @len bytes at @gpa, within a page, from guest memory (@write:
 * to it) through @gpc, which caches that page's kernel mapping: a
 * kvm_read_guest() or kvm_write_guest() looks the memslot up and checks
 * a copy to the VMM's address space at every access.  Returns false
 * where the cache cannot map the page, read-only memory for a write
 * included: the caller then accesses it the slow way, which fails (IQE)
 * wherever it did without the cache.  On a vCPU, inside its kvm->srcu
 * read-side section: the memslot the cache's generation check vouches
 * for stays, and a write marks the page dirty for that vCPU.
 *
 * Inlined: the doorbell's cost is mostly calls and returns, which an
 * emulated host pays dearly for after each world switch.
 */
static __always_inline bool kvm_viommu_gpc_copy(struct kvm *kvm,
						struct gfn_to_pfn_cache *gpc,
						gpa_t gpa, void *data,
						unsigned int len, bool write)
{
	gpa_t page = gpa & PAGE_MASK;
	struct kvm_memory_slot *slot;
	void *khva;

	read_lock(&gpc->lock);
	while (!kvm_gfn_to_pfn_cache_check(kvm, gpc, page, PAGE_SIZE)) {
		read_unlock(&gpc->lock);
		if (kvm_viommu_gpc_refresh(kvm, gpc, page))
			return false;
		read_lock(&gpc->lock);
	}

	slot = gpc->memslot;
	if (write && (slot->flags & KVM_MEM_READONLY)) {
		read_unlock(&gpc->lock);
		return false;
	}
	khva = gpc->khva + offset_in_page(gpa);
	if (write)
		memcpy(khva, data, len);
	else
		memcpy(data, khva, len);
	read_unlock(&gpc->lock);

	if (write)
		mark_page_dirty_in_slot(kvm, slot, gpa_to_gfn(gpa));
	return true;
}

/* Reads @count descriptors from entry @index, all in one page, into @w. */
static int kvm_viommu_qi_read(struct kvm_viommu *viommu, u32 index, u32 count,
			      struct kvm_viommu_qi_window *w)
{
	u64 iqa = viommu->regs.state.iqa, base = iqa & PAGE_MASK;
	unsigned int size = BIT(vtd_iq_shift(iqa));
	gpa_t gpa = base + (u64)index * size;
	struct kvm *kvm = viommu->kvm;
	int ret;

	/* A queue that would wrap past 2^64 is not in guest memory. */
	if (gpa < base)
		return -EFAULT;

	if (!kvm_viommu_gpc_copy(kvm, &viommu->regs.queue_gpc, gpa, w->raw,
				 count * size, false)) {
		ret = kvm_read_guest(kvm, gpa, w->raw, count * size);
		if (ret)
			return ret;
	}
	w->first = index;
	w->count = count;
	return 0;
}

/*
 * Descriptor @index, read with those after it up to the @tail, the
 * queue's end or the page's, whichever comes first: a submission is
 * usually a descriptor or two and a wait.  A page reads whole or not at
 * all, so a read that fails names the descriptor that failed (IQE).
 */
static int kvm_viommu_qi_fetch(struct kvm_viommu *viommu,
			       struct kvm_viommu_qi_window *w, u32 index,
			       u32 tail, u64 *desc)
{
	u64 iqa = viommu->regs.state.iqa;
	unsigned int shift = vtd_iq_shift(iqa), qwords = BIT(shift) / 8;
	u32 end = tail > index ? tail : vtd_iq_entries(iqa);
	u32 in_page = (PAGE_SIZE >> shift) - (index & ((PAGE_SIZE >> shift) - 1));
	int i, ret;

	if (index - w->first >= w->count) {
		ret = kvm_viommu_qi_read(viommu, index,
					 min3(end - index, in_page,
					      (u32)KVM_VIOMMU_QI_FETCH), w);
		if (ret)
			return ret;
	}

	memset(desc, 0, 4 * sizeof(*desc));
	for (i = 0; i < qwords; i++)
		desc[i] = le64_to_cpu(w->raw[(index - w->first) * qwords + i]);
	return 0;
}

static void kvm_viommu_qi_iec(struct kvm_viommu *viommu, const u64 *desc)
{
	struct kvm_viommu_iec iec = {
		.index = FIELD_GET(VTD_IEC_IIDX, desc[0]),
		/* A mask beyond the largest table covers all of it. */
		.mask = min_t(u8, FIELD_GET(VTD_IEC_IM, desc[0]),
			      KVM_VIOMMU_IEC_MAX_MASK),
	};

	if (desc[0] & VTD_IEC_INDEXED)
		iec.flags = KVM_VIOMMU_IEC_INDEX;
	kvm_viommu_ir_invalidate(viommu, &iec);
}

/* Whether a guest write now would overflow @vcpu's dirty ring. */
static bool kvm_viommu_dirty_ring_full(struct kvm_vcpu *vcpu)
{
	return vcpu->kvm->dirty_ring_size &&
	       kvm_dirty_ring_soft_full(&vcpu->dirty_ring);
}

/*
 * Returns -EAGAIN while events before it wait for the VMM, and -EBUSY
 * while @vcpu's dirty ring has no room for the status write.
 */
static int kvm_viommu_qi_wait(struct kvm_viommu *viommu,
			      struct kvm_vcpu *vcpu, const u64 *desc)
{
	__le32 status = cpu_to_le32(FIELD_GET(VTD_WAIT_DATA, desc[0]));
	struct kvm *kvm = viommu->kvm;

	if (kvm_viommu_events_pending(&viommu->events))
		return -EAGAIN;
	if ((desc[0] & VTD_WAIT_SW) && kvm_viommu_dirty_ring_full(vcpu))
		return -EBUSY;

	kvm_viommu_ir_fence(viommu);

	if ((desc[0] & VTD_WAIT_SW) &&
	    !kvm_viommu_gpc_copy(kvm, &viommu->regs.status_gpc, desc[1],
				 &status, sizeof(status), true) &&
	    kvm_write_guest(kvm, desc[1], &status, sizeof(status)))
		return -EINVAL;
	if (desc[0] & VTD_WAIT_IF)
		kvm_viommu_regs_wait_done(viommu);
	return 0;
}

static u32 kvm_viommu_qi_event_type(u8 desc_type)
{
	switch (desc_type) {
	case VTD_DESC_CONTEXT:	return KVM_VIOMMU_EVENT_CONTEXT;
	case VTD_DESC_IOTLB:	return KVM_VIOMMU_EVENT_IOTLB;
	case VTD_DESC_DEVTLB:	return KVM_VIOMMU_EVENT_DEVTLB;
	}
	return 0;
}

/*
 * Returns 0 when done, -EAGAIN or -EBUSY to stop before it (see
 * kvm_viommu_qi_wait()), -EINVAL for IQE.
 */
static int kvm_viommu_qi_exec(struct kvm_viommu *viommu,
			      struct kvm_vcpu *vcpu, const u64 *desc)
{
	struct kvm_viommu_regs *r = &viommu->regs;
	bool wide = r->state.iqa & VTD_IQ_DW;
	u8 type = vtd_desc_check(desc, wide, r->cap, r->ecap);

	switch (type) {
	case 0:
		return -EINVAL;
	case VTD_DESC_IEC:
		kvm_viommu_qi_iec(viommu, desc);
		return 0;
	case VTD_DESC_WAIT:
		return kvm_viommu_qi_wait(viommu, vcpu, desc);
	}

	kvm_viommu_event_post(viommu, kvm_viommu_qi_event_type(type),
			      KVM_VIOMMU_EVENT_F_QUEUED, desc, wide ? 4 : 2);
	return 0;
}

/* Counted once done, as a wait is tried again while it waits. */
static void kvm_viommu_qi_count(struct kvm_viommu *viommu, const u64 *desc)
{
	u8 type = FIELD_GET(VTD_DESC_TYPE, desc[0]);

	this_cpu_inc(viommu->counters->qi_desc[type]);
}

void kvm_viommu_qi_init(struct kvm_viommu *viommu)
{
	kvm_gpc_init(&viommu->regs.queue_gpc);
	kvm_gpc_init(&viommu->regs.status_gpc);
}

/* Off the VM's list of caches, before the VM's memory goes. */
void kvm_viommu_qi_destroy(struct kvm_viommu *viommu)
{
	kvm_gpc_deactivate(viommu->kvm, &viommu->regs.queue_gpc);
	kvm_gpc_deactivate(viommu->kvm, &viommu->regs.status_gpc);
}

/*
 * Runs the queue on the current vCPU, which the caller must be, inside its
 * kvm->srcu read-side section (an MMIO exit, a request) for guest memory.
 */
void kvm_viommu_qi_run(struct kvm_viommu *viommu)
{
	struct kvm_vcpu *vcpu = kvm_get_running_vcpu();
	struct kvm_viommu_regs *r = &viommu->regs;
	struct kvm_viommu_qi_window window = {};
	u32 head, tail, entries, done;
	u64 desc[4];
	int ret;

	lockdep_assert_held(&viommu->lock);
	RCU_LOCKDEP_WARN(!srcu_read_lock_held(&viommu->kvm->srcu),
			 "the queue runs outside kvm->srcu");
	if (WARN_ON_ONCE(!vcpu || vcpu->kvm != viommu->kvm))
		return;
	if (!(r->state.gsts & VTD_GCMD_QIE) || (r->state.fsts & VTD_FSTS_IQE))
		return;

	/* A tail or head the queue cannot have: IQE, and IQH stays. */
	if (!vtd_iq_index(r->state.iqa, r->state.iqt, &tail) ||
	    !vtd_iq_index(r->state.iqa, r->state.iqh, &head)) {
		kvm_viommu_regs_queue_error(viommu);
		return;
	}

	entries = vtd_iq_entries(r->state.iqa);
	for (done = 0; head != tail; done++) {
		if (done == KVM_VIOMMU_QI_RUN) {
			kvm_arch_viommu_request_vcpu(vcpu);
			return;
		}

		ret = kvm_viommu_qi_fetch(viommu, &window, head, tail, desc);
		if (ret)
			ret = -EINVAL;
		else
			ret = kvm_viommu_qi_exec(viommu, vcpu, desc);
		trace_kvm_viommu_qi_desc(head, desc[0], desc[1], ret);
		if (ret == -EAGAIN)
			return;
		if (ret == -EBUSY) {
			kvm_arch_viommu_request_vcpu(vcpu);
			return;
		}
		if (ret) {
			this_cpu_inc(viommu->counters->qi_desc[0]);
			kvm_viommu_regs_queue_error(viommu);
			return;
		}

		kvm_viommu_qi_count(viommu, desc);
		head = (head + 1) % entries;
		r->state.iqh = (u64)head << vtd_iq_shift(r->state.iqa);
	}
}

void kvm_viommu_vcpu_request(struct kvm_vcpu *vcpu)
{
	struct kvm_viommu *viommu = kvm_viommu_find(vcpu->kvm);

	if (!viommu)
		return;
	mutex_lock(&viommu->lock);
	kvm_viommu_regs_record_pending(viommu);
	kvm_viommu_qi_run(viommu);
	mutex_unlock(&viommu->lock);
}

/* The VMM acknowledged events: finish register invalidations behind them. */
void kvm_viommu_reg_invalidations_acked(struct kvm_viommu *viommu)
{
	struct kvm_viommu_regs *r = &viommu->regs;
	u64 acked = viommu->events.acked;

	lockdep_assert_held(&viommu->lock);
	if ((r->state.ccmd & VTD_CCMD_ICC) && r->ccmd_seq <= acked) {
		r->state.ccmd &= ~(VTD_CCMD_ICC | VTD_CCMD_CAIG);
		r->state.ccmd |= FIELD_PREP(VTD_CCMD_CAIG,
					    FIELD_GET(VTD_CCMD_CIRG, r->state.ccmd));
		r->ccmd_seq = 0;
	}
	if ((r->state.iotlb & VTD_IOTLB_IVT) && r->iotlb_seq <= acked) {
		r->state.iotlb &= ~(VTD_IOTLB_IVT | VTD_IOTLB_IAIG);
		r->state.iotlb |= FIELD_PREP(VTD_IOTLB_IAIG,
					     FIELD_GET(VTD_IOTLB_IIRG, r->state.iotlb));
		r->iotlb_seq = 0;
	}
}

/*
 * The VMM finished events: what waited for them completes, and the queue
 * goes on, on a vCPU.
 */
void kvm_viommu_events_acked(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	kvm_viommu_reg_invalidations_acked(viommu);
	kvm_viommu_regs_gcmd_acked(viommu);
	kvm_arch_viommu_request_vcpus(viommu->kvm);
}

/* CCMD.ICC stays set while the VMM works on the invalidation. */
void kvm_viommu_ccmd_invalidate(struct kvm_viommu *viommu)
{
	struct kvm_viommu_regs *r = &viommu->regs;

	r->ccmd_seq = kvm_viommu_event_post(viommu, KVM_VIOMMU_EVENT_CONTEXT, 0,
					    &r->state.ccmd, 1);
	kvm_viommu_reg_invalidations_acked(viommu);
}

void kvm_viommu_iotlb_reg_invalidate(struct kvm_viommu *viommu)
{
	struct kvm_viommu_regs *r = &viommu->regs;
	u64 regs[2] = { r->state.iotlb, r->state.iva };

	r->iotlb_seq = kvm_viommu_event_post(viommu, KVM_VIOMMU_EVENT_IOTLB, 0,
					     regs, ARRAY_SIZE(regs));
	kvm_viommu_reg_invalidations_acked(viommu);
}
