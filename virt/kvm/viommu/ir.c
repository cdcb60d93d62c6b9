// SPDX-License-Identifier: GPL-2.0-only
/*
 * The interrupt-remapping cache: IRTEs read from guest memory once, checked,
 * and kept until the guest invalidates them (IEC), as VT-d allows.
 *
 * Lookups are an xarray load under RCU, so a cache hit costs no lock and can
 * be served from the irqfd wakeup.  Fills read guest memory and therefore
 * sleep: they and the invalidations serialise on ir_cache_lock.  Only valid
 * entries are cached, so memory grows with the entries the guest uses, up to
 * the table's size.
 */

#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/static_key.h>

#include "viommu.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

struct kvm_viommu_irte {
	struct vtd_irte irte;
	/* An EOI scan used it: dropping it makes the scan stale. */
	bool scanned;
	struct rcu_head rcu;
};

/* Any VM with interrupt remapping on; the MSI hooks test it first. */
DEFINE_STATIC_KEY_FALSE(kvm_viommu_ir_enabled);
EXPORT_SYMBOL_GPL(kvm_viommu_ir_enabled);

bool __kvm_viommu_ir_enabled(struct kvm *kvm)
{
	struct kvm_viommu *viommu = kvm_viommu_find(kvm);

	return viommu && (READ_ONCE(viommu->ir_flags) & KVM_VIOMMU_IR_ENABLE);
}
EXPORT_SYMBOL_GPL(__kvm_viommu_ir_enabled);

/* Whether @ctx delivers an interrupt, rather than scanning for EOIs. */
static bool kvm_viommu_ir_is_request(enum kvm_viommu_ir_context ctx)
{
	return ctx == KVM_VIOMMU_IR_PROCESS || ctx == KVM_VIOMMU_IR_ATOMIC;
}

static bool kvm_viommu_ir_may_sleep(enum kvm_viommu_ir_context ctx)
{
	return ctx == KVM_VIOMMU_IR_PROCESS || ctx == KVM_VIOMMU_IR_SCAN;
}

void kvm_viommu_ir_init(struct kvm_viommu *viommu)
{
	mutex_init(&viommu->ir_cache_lock);
	xa_init(&viommu->irtes);
}

/* Returns whether an entry that an EOI scan used was dropped. */
static bool kvm_viommu_ir_flush_range(struct kvm_viommu *viommu,
				      unsigned long first, unsigned long last)
{
	struct kvm_viommu_irte *entry;
	bool scanned = false;
	unsigned long index;

	lockdep_assert_held(&viommu->ir_cache_lock);

	xa_for_each_range(&viommu->irtes, index, entry, first, last) {
		scanned |= READ_ONCE(entry->scanned);
		xa_erase(&viommu->irtes, index);
		kfree_rcu(entry, rcu);
	}
	return scanned;
}

void kvm_viommu_ir_destroy(struct kvm_viommu *viommu)
{
	mutex_lock(&viommu->ir_cache_lock);
	kvm_viommu_ir_flush_range(viommu, 0, ULONG_MAX);
	mutex_unlock(&viommu->ir_cache_lock);
	xa_destroy(&viommu->irtes);

	if (viommu->ir_flags & KVM_VIOMMU_IR_ENABLE)
		static_branch_dec(&kvm_viommu_ir_enabled);
}

int kvm_viommu_ir_set_table(struct kvm_viommu *viommu, u64 irta)
{
	bool rescan;

	if (!vtd_irta_valid(irta))
		return -EINVAL;

	/* Entries cached from the old table must not outlive it. */
	mutex_lock(&viommu->ir_cache_lock);
	WRITE_ONCE(viommu->irta, irta);
	rescan = kvm_viommu_ir_flush_range(viommu, 0, ULONG_MAX);
	mutex_unlock(&viommu->ir_cache_lock);

	if (rescan)
		kvm_arch_viommu_ir_invalidated(viommu->kvm, true);
	return 0;
}

int kvm_viommu_ir_set_flags(struct kvm_viommu *viommu, u32 flags)
{
	bool was_on, on = flags & KVM_VIOMMU_IR_ENABLE;

	if (flags & ~(KVM_VIOMMU_IR_ENABLE | KVM_VIOMMU_IR_CFIS))
		return -EINVAL;

	lockdep_assert_held(&viommu->lock);
	if (flags == viommu->ir_flags)
		return 0;

	was_on = viommu->ir_flags & KVM_VIOMMU_IR_ENABLE;
	if (on && !was_on)
		static_branch_inc(&kvm_viommu_ir_enabled);
	WRITE_ONCE(viommu->ir_flags, flags);
	if (!on && was_on)
		static_branch_dec(&kvm_viommu_ir_enabled);

	/* Which vectors need an EOI exit depends on both flags. */
	kvm_arch_viommu_ir_invalidated(viommu->kvm, true);
	return 0;
}

void kvm_viommu_ir_set_ioapic(struct kvm_viommu *viommu,
			      const struct kvm_viommu_ir_ioapic *ioapic)
{
	u32 rid = 0;

	if (ioapic->flags & KVM_VIOMMU_IOAPIC_SID_VALID)
		rid = KVM_VIOMMU_IOAPIC_RID_VALID |
		      FIELD_PREP(KVM_VIOMMU_IOAPIC_RID_SID, ioapic->sid);
	WRITE_ONCE(viommu->ioapic_rid, rid);
}

void kvm_viommu_ir_get_ioapic(struct kvm_viommu *viommu,
			      struct kvm_viommu_ir_ioapic *ioapic)
{
	u32 rid = READ_ONCE(viommu->ioapic_rid);

	if (rid & KVM_VIOMMU_IOAPIC_RID_VALID)
		ioapic->flags = KVM_VIOMMU_IOAPIC_SID_VALID;
	ioapic->sid = FIELD_GET(KVM_VIOMMU_IOAPIC_RID_SID, rid);
}

/* A request from the in-kernel I/O APIC for IRTE @index. */
void kvm_viommu_ir_ioapic_request(struct kvm_viommu *viommu, u32 index,
				  struct kvm_viommu_ir_request *req)
{
	u32 rid = READ_ONCE(viommu->ioapic_rid);

	req->index = index;
	req->sid = FIELD_GET(KVM_VIOMMU_IOAPIC_RID_SID, rid);
	req->has_sid = rid & KVM_VIOMMU_IOAPIC_RID_VALID;
}

int kvm_viommu_ir_invalidate(struct kvm_viommu *viommu,
			     const struct kvm_viommu_iec *iec)
{
	bool global = !(iec->flags & KVM_VIOMMU_IEC_INDEX);
	unsigned long first = 0, last = ULONG_MAX;
	bool rescan;

	if (iec->flags & ~KVM_VIOMMU_IEC_INDEX ||
	    iec->mask > KVM_VIOMMU_IEC_MAX_MASK)
		return -EINVAL;

	if (!global) {
		first = iec->index & ~(BIT(iec->mask) - 1);
		last = first + BIT(iec->mask) - 1;
	}

	trace_kvm_viommu_iec(global, iec->index, iec->mask);
	this_cpu_inc(viommu->counters->invalidations);

	mutex_lock(&viommu->ir_cache_lock);
	rescan = kvm_viommu_ir_flush_range(viommu, first, last);
	mutex_unlock(&viommu->ir_cache_lock);

	/*
	 * The EOI scan is redone if an entry it used went, whatever its
	 * trigger mode (the guest may have rewritten an edge entry as
	 * level), or if it skipped an entry that faulted and may be valid
	 * now.  Kicking every vCPU for each MSI retarget would cost more
	 * than the retarget.
	 */
	rescan |= xchg(&viommu->ir_scan_stale, false);
	kvm_arch_viommu_ir_invalidated(viommu->kvm, rescan);
	return 0;
}

/*
 * Blocks a request that faulted.  Returns -EINVAL: nothing is delivered.
 * The atomic path records nothing and returns -EWOULDBLOCK, so that the
 * fault is recorded once, by the process-context retry.
 */
int kvm_viommu_ir_fault(struct kvm_viommu *viommu,
			const struct kvm_viommu_ir_request *req,
			enum kvm_viommu_ir_context ctx, u8 reason,
			const struct vtd_irte *irte)
{
	struct kvm_viommu_ir_fault record = {
		.flags = KVM_VIOMMU_FAULT_VALID |
			 (req->has_sid ? 0 : KVM_VIOMMU_FAULT_NO_SID),
		.reason = reason,
		.sid = req->sid,
		.index = req->index,
	};
	bool recorded = !(irte && (irte->lo & VTD_IRTE_FPD));

	if (ctx == KVM_VIOMMU_IR_ATOMIC)
		return -EWOULDBLOCK;
	/*
	 * Only a fault that the guest's IEC can clear makes the EOI scan
	 * stale.  A compatibility-format or malformed request depends on
	 * the RTE or route and on CFIS, whose changes rescan by themselves;
	 * marking those would rescan every vCPU at every IEC.
	 */
	if (!kvm_viommu_ir_is_request(ctx)) {
		if (reason != KVM_VIOMMU_FR_IR_COMPAT &&
		    reason != KVM_VIOMMU_FR_IR_REQ_RSVD)
			WRITE_ONCE(viommu->ir_scan_stale, true);
		return -EINVAL;
	}

	trace_kvm_viommu_fault(reason, req->index, req->sid, req->has_sid,
			       recorded);
	this_cpu_inc(viommu->counters->faults);
	if (recorded) {
		kvm_viommu_fault_record(&viommu->faults, &record);
		kvm_viommu_regs_record_fault(viommu, &record);
	}
	return -EINVAL;
}

/* Reads the IRTE at @index from guest memory and caches it if valid. */
static u8 kvm_viommu_ir_fill(struct kvm_viommu *viommu, u32 index,
			     bool scanned, struct vtd_irte *irte)
{
	struct kvm_viommu_irte *entry;
	struct kvm *kvm = viommu->kvm;
	__le64 raw[2];
	u8 reason = 0;
	int idx, r;
	u64 irta;

	mutex_lock(&viommu->ir_cache_lock);

	/* Another fill may have won the race for this entry. */
	entry = xa_load(&viommu->irtes, index);
	if (entry) {
		if (scanned)
			WRITE_ONCE(entry->scanned, true);
		*irte = entry->irte;
		goto out;
	}

	irta = viommu->irta;
	if (index >= vtd_irta_entries(irta)) {
		reason = KVM_VIOMMU_FR_IR_INDEX_OVER;
		goto out;
	}

	idx = srcu_read_lock(&kvm->srcu);
	r = kvm_read_guest(kvm, vtd_irta_base(irta) + (u64)index * VTD_IRTE_SIZE,
			   raw, sizeof(raw));
	srcu_read_unlock(&kvm->srcu, idx);
	if (r) {
		reason = KVM_VIOMMU_FR_IR_ROOT_INVAL;
		goto out;
	}
	irte->lo = le64_to_cpu(raw[0]);
	irte->hi = le64_to_cpu(raw[1]);

	reason = vtd_irte_check(irte, vtd_irta_x2apic(irta));
	if (reason)
		goto out;

	/* Not caching only costs a later miss, so failure is no fault. */
	entry = kmalloc(sizeof(*entry), GFP_KERNEL_ACCOUNT);
	if (entry) {
		entry->irte = *irte;
		entry->scanned = scanned;
		if (xa_err(xa_store(&viommu->irtes, index, entry,
				    GFP_KERNEL_ACCOUNT)))
			kfree(entry);
	}
out:
	mutex_unlock(&viommu->ir_cache_lock);
	return reason;
}

/*
 * Translates @req into the IRTE to deliver.  Returns 0; -EWOULDBLOCK when
 * @ctx cannot sleep and the entry is not cached, or when an atomic request
 * faults; or -EINVAL after a fault: nothing is to be delivered.
 */
int kvm_viommu_ir_translate(struct kvm_viommu *viommu,
			    const struct kvm_viommu_ir_request *req,
			    enum kvm_viommu_ir_context ctx,
			    struct vtd_irte *irte)
{
	bool x2apic = vtd_irta_x2apic(READ_ONCE(viommu->irta));
	struct kvm_viommu_irte *entry;
	bool hit = false;
	u8 reason;

	rcu_read_lock();
	entry = xa_load(&viommu->irtes, req->index);
	if (entry) {
		if (!kvm_viommu_ir_is_request(ctx) && !READ_ONCE(entry->scanned))
			WRITE_ONCE(entry->scanned, true);
		*irte = entry->irte;
		hit = true;
	}
	rcu_read_unlock();

	if (!hit) {
		if (!kvm_viommu_ir_may_sleep(ctx))
			return -EWOULDBLOCK;

		reason = kvm_viommu_ir_fill(viommu, req->index,
					    !kvm_viommu_ir_is_request(ctx), irte);
		/* Only an entry that was read can have FPD set. */
		if (reason)
			return kvm_viommu_ir_fault(viommu, req, ctx, reason,
						   reason == KVM_VIOMMU_FR_IR_ENTRY_P ||
						   reason == KVM_VIOMMU_FR_IR_IRTE_RSVD ?
						   irte : NULL);
	}

	if (!vtd_irte_sid_ok(irte, req->sid, req->has_sid))
		return kvm_viommu_ir_fault(viommu, req, ctx,
					   KVM_VIOMMU_FR_IR_SID_ERR, irte);

	if (kvm_viommu_ir_is_request(ctx)) {
		if (hit)
			this_cpu_inc(viommu->counters->hits);
		else
			this_cpu_inc(viommu->counters->misses);
		if (hit && ctx == KVM_VIOMMU_IR_ATOMIC)
			this_cpu_inc(viommu->counters->atomic_hits);
	}
	trace_kvm_viommu_translate(req->index, req->sid, req->has_sid,
				   vtd_irte_vector(irte),
				   vtd_irte_dest_id(irte, x2apic), hit);
	return 0;
}
