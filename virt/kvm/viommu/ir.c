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

#include <linux/kthread.h>
#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>
#include <linux/memcontrol.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/static_key.h>

#include "viommu.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

struct kvm_viommu_irte {
	struct vtd_irte irte;
	/* IRTA.EIME when it was read: one decode, whatever IRTA does next. */
	bool x2apic;
	/* An EOI scan used it: dropping it makes the scan stale. */
	bool scanned;
	/* A request used it: dropping it needs the next wait to fence. */
	bool used;
	/*
	 * Cleared by an invalidation, which leaves the entry in place: the
	 * fill that reads the IRTE again replaces it.  That keeps the
	 * allocator off the guest's IEC, which a retarget pays for.
	 */
	bool valid;
	struct rcu_head rcu;
};

/* A fill that keeps racing with invalidations gives up caching after this. */
#define KVM_VIOMMU_IR_FILL_TRIES	3

/*
 * Any VM that has had interrupt remapping on; the MSI hooks test it first.
 * A VM takes its count once, the first time its guest enables remapping,
 * and drops it when destroyed: re-patching kvm.ko and interrupting every
 * host CPU at each GCMD.IRE toggle would let a guest tax the whole host.
 */
DEFINE_STATIC_KEY_FALSE(kvm_viommu_remapping_key);
EXPORT_SYMBOL_GPL(kvm_viommu_remapping_key);

struct kvm_viommu *__kvm_viommu_remapping(struct kvm *kvm)
{
	struct kvm_viommu *viommu = kvm_viommu_find(kvm);

	if (viommu && (READ_ONCE(viommu->ir_flags) & KVM_VIOMMU_IR_ENABLE))
		return viommu;
	return NULL;
}
EXPORT_SYMBOL_GPL(__kvm_viommu_remapping);

/* Whether @ctx delivers an interrupt, rather than scanning for EOIs. */
static bool kvm_viommu_ir_is_request(enum kvm_viommu_ir_context ctx)
{
	return ctx == KVM_VIOMMU_IR_PROCESS || ctx == KVM_VIOMMU_IR_ATOMIC;
}

static bool kvm_viommu_ir_may_sleep(enum kvm_viommu_ir_context ctx)
{
	return ctx == KVM_VIOMMU_IR_PROCESS || ctx == KVM_VIOMMU_IR_SCAN;
}

/*
 * The faults ring holds what the fault recording registers would, and
 * its record of a loss plays PFO: a guest that faults in a loop costs the
 * host nothing but a counter.
 */
int kvm_viommu_ir_init(struct kvm_viommu *viommu)
{
	int r;

	mutex_init(&viommu->ir_cache_lock);
	xa_init(&viommu->irtes);
	r = kvm_viommu_ring_init(&viommu->faults, viommu->kvm,
				 KVM_VIOMMU_FAULT_RECORDS,
				 sizeof(struct kvm_viommu_ir_fault));
	if (r)
		return r;
	r = init_srcu_struct(&viommu->ir_srcu);
	if (r)
		kvm_viommu_ring_destroy(&viommu->faults);
	return r;
}

/*
 * Notes who used @entry: what its invalidation will have to redo (an EOI
 * scan) or wait for (a delivery).  Written once, so that hits on the fast
 * path only read the entry's cache line.
 */
static void kvm_viommu_irte_note_use(struct kvm_viommu_irte *entry, bool scan)
{
	bool *user = scan ? &entry->scanned : &entry->used;

	if (!READ_ONCE(*user))
		WRITE_ONCE(*user, true);
}

/* The entry cached for @index, if valid.  Under RCU or ir_cache_lock. */
static struct kvm_viommu_irte *kvm_viommu_ir_lookup(struct kvm_viommu *viommu,
						    u32 index)
{
	struct kvm_viommu_irte *entry = xa_load(&viommu->irtes, index);

	return entry && READ_ONCE(entry->valid) ? entry : NULL;
}

/* Drops @entry, if valid.  Returns whether an EOI scan used it. */
static bool kvm_viommu_ir_flush_entry(struct kvm_viommu *viommu,
				      struct kvm_viommu_irte *entry)
{
	if (!entry->valid)
		return false;
	if (READ_ONCE(entry->used))
		WRITE_ONCE(viommu->ir_fence_needed, true);
	WRITE_ONCE(entry->valid, false);
	return READ_ONCE(entry->scanned);
}

/* Returns whether an entry that an EOI scan used was dropped. */
static bool kvm_viommu_ir_flush_range(struct kvm_viommu *viommu,
				      unsigned long first, unsigned long last)
{
	struct kvm_viommu_irte *entry;
	bool scanned = false;
	unsigned long index;

	lockdep_assert_held(&viommu->ir_cache_lock);

	xa_for_each_range(&viommu->irtes, index, entry, first, last)
		scanned |= kvm_viommu_ir_flush_entry(viommu, entry);
	return scanned;
}

void kvm_viommu_ir_destroy(struct kvm_viommu *viommu)
{
	struct kvm_viommu_irte *entry;
	unsigned long index;

	/* Unpublished: no translation can hold an entry any more. */
	xa_for_each(&viommu->irtes, index, entry)
		kfree(entry);
	xa_destroy(&viommu->irtes);
	cleanup_srcu_struct(&viommu->ir_srcu);
	kvm_viommu_ring_destroy(&viommu->faults);

	if (viommu->ir_key_held)
		static_branch_dec(&kvm_viommu_remapping_key);
}

/*
 * A remapped delivery starts: before it looks its entry up.  The section
 * outlives this function, so sparse is told it ends here and begins
 * again in kvm_viommu_ir_exit(); lockdep still sees all of it.
 */
int kvm_viommu_ir_enter(struct kvm_viommu *viommu)
{
	int idx = srcu_read_lock(&viommu->ir_srcu);

	__release(&viommu->ir_srcu);
	return idx;
}

/* ... and ends, once KVM has delivered it or given up. */
void kvm_viommu_ir_exit(struct kvm_viommu *viommu, int idx)
{
	__acquire(&viommu->ir_srcu);
	srcu_read_unlock(&viommu->ir_srcu, idx);
}

/*
 * The guest's invalidation wait: VT-d drains the interrupt requests that
 * the invalidations before it concern, so no delivery that translated
 * through an entry they dropped may still be on its way once the wait
 * completes.  Only invalidations of entries that requests used need it,
 * so a guest that reprograms idle entries, as Linux does at bring-up,
 * waits for nothing.
 */
void __kvm_viommu_ir_fence(struct kvm_viommu *viommu)
{
	if (!xchg(&viommu->ir_fence_needed, false))
		return;

	trace_kvm_viommu_ir_fence(READ_ONCE(viommu->ir_cache_gen));
	synchronize_srcu_expedited(&viommu->ir_srcu);
	kvm_arch_viommu_ir_fence(viommu->kvm);
}

/* Remapping off and no table, as after a system reset. */
void kvm_viommu_ir_reset(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	kvm_viommu_ir_set_flags(viommu, 0);
	kvm_viommu_ir_set_table(viommu, 0);
}

int kvm_viommu_ir_set_table(struct kvm_viommu *viommu, u64 irta)
{
	bool rescan;

	if (!vtd_irta_valid(irta))
		return -EINVAL;

	/* Entries cached from the old table must not outlive it. */
	mutex_lock(&viommu->ir_cache_lock);
	WRITE_ONCE(viommu->irta, irta);
	viommu->ir_cache_gen++;
	rescan = kvm_viommu_ir_flush_range(viommu, 0, ULONG_MAX);
	mutex_unlock(&viommu->ir_cache_lock);

	if (rescan)
		kvm_arch_viommu_ir_invalidated(viommu->kvm, true);
	return 0;
}

int kvm_viommu_ir_set_flags(struct kvm_viommu *viommu, u32 flags)
{
	bool on = flags & KVM_VIOMMU_IR_ENABLE;

	if (flags & ~(KVM_VIOMMU_IR_ENABLE | KVM_VIOMMU_IR_CFIS))
		return -EINVAL;

	lockdep_assert_held(&viommu->lock);
	if (flags == viommu->ir_flags)
		return 0;

	if (on && !viommu->ir_key_held) {
		static_branch_inc(&kvm_viommu_remapping_key);
		viommu->ir_key_held = true;
	}
	WRITE_ONCE(viommu->ir_flags, flags);

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

int kvm_viommu_ir_set_config(struct kvm_viommu *viommu,
			     const struct kvm_viommu_ir_config *config)
{
	if (config->flags & ~KVM_VIOMMU_IR_CONFIG_FLAGS)
		return -EINVAL;

	WRITE_ONCE(viommu->ir_config, config->flags);
	return 0;
}

void kvm_viommu_ir_get_config(struct kvm_viommu *viommu,
			      struct kvm_viommu_ir_config *config)
{
	config->flags = READ_ONCE(viommu->ir_config);
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
	struct kvm_viommu_irte *entry;
	bool rescan, held;

	if (iec->flags & ~KVM_VIOMMU_IEC_INDEX ||
	    iec->mask > KVM_VIOMMU_IEC_MAX_MASK)
		return -EINVAL;

	if (!global) {
		first = iec->index & ~(BIT(iec->mask) - 1);
		last = first + BIT(iec->mask) - 1;
	}

	trace_kvm_viommu_iec(global, iec->index, iec->mask);
	this_cpu_inc(viommu->counters->ir_invalidations);

	mutex_lock(&viommu->ir_cache_lock);
	viommu->ir_cache_gen++;
	/* One entry, as a retarget invalidates: one walk of the xarray. */
	if (first == last) {
		entry = xa_load(&viommu->irtes, first);
		rescan = entry && kvm_viommu_ir_flush_entry(viommu, entry);
	} else {
		rescan = kvm_viommu_ir_flush_range(viommu, first, last);
	}
	mutex_unlock(&viommu->ir_cache_lock);

	/*
	 * The EOI scan is redone if an entry it used went, whatever its
	 * trigger mode (the guest may have rewritten an edge entry as
	 * level), or if it skipped an entry that faulted and may be valid
	 * now.  Kicking every vCPU for each MSI retarget would cost more
	 * than the retarget.  The architecture retries what it held, and
	 * otherwise has nothing to do: a retarget does not call it.
	 */
	if (READ_ONCE(viommu->ir_scan_stale))
		rescan |= xchg(&viommu->ir_scan_stale, false);
	held = READ_ONCE(viommu->ir_held) && xchg(&viommu->ir_held, false);
	if (rescan || held)
		kvm_arch_viommu_ir_invalidated(viommu->kvm, rescan);
	return 0;
}

int kvm_viommu_ir_compat(struct kvm_viommu *viommu,
			 const struct kvm_viommu_ir_request *req,
			 enum kvm_viommu_ir_context ctx)
{
	if (READ_ONCE(viommu->ir_flags) & KVM_VIOMMU_IR_CFIS)
		return 1;
	return kvm_viommu_ir_fault(viommu, req, ctx, KVM_VIOMMU_FR_IR_COMPAT,
				   NULL);
}

void kvm_viommu_ir_scan_stale(struct kvm_viommu *viommu)
{
	WRITE_ONCE(viommu->ir_scan_stale, true);
}

void kvm_viommu_ir_held(struct kvm *kvm)
{
	struct kvm_viommu *viommu = kvm_viommu_find(kvm);

	if (!viommu)
		return;
	/* After what is held: the IEC that takes the flag sees that too. */
	smp_store_release(&viommu->ir_held, true);
}

void kvm_viommu_ir_count_delivery(struct kvm_viommu *viommu,
				  enum kvm_viommu_ir_path path, bool atomic_hit)
{
	if (atomic_hit)
		this_cpu_inc(viommu->counters->ir_hits);
	this_cpu_inc(viommu->counters->remapped[path]);
}

static void kvm_viommu_count_ir_fault(struct kvm_viommu *viommu,
				      enum kvm_viommu_ir_fault_reason reason)
{
	unsigned int i = reason - KVM_VIOMMU_FR_IR_REQ_RSVD;

	if (!WARN_ON_ONCE(i >= KVM_VIOMMU_IR_NR_REASONS))
		this_cpu_inc(viommu->counters->ir_faults[i]);
}

/*
 * Blocks a request that faulted.  Returns -EINVAL: nothing is delivered.
 * The atomic path records nothing and returns -EWOULDBLOCK, so that the
 * fault is recorded once, by the process-context retry.
 */
int kvm_viommu_ir_fault(struct kvm_viommu *viommu,
			const struct kvm_viommu_ir_request *req,
			enum kvm_viommu_ir_context ctx,
			enum kvm_viommu_ir_fault_reason reason,
			const struct vtd_irte *irte)
{
	struct kvm_viommu_ir_fault record = {
		.flags = req->has_sid ? 0 : KVM_VIOMMU_FAULT_NO_SID,
		.reason = reason,
		.sid = req->sid,
		.index = req->index,
	};
	static const struct kvm_viommu_ir_fault lost = {
		.flags = KVM_VIOMMU_FAULT_LOST,
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
	kvm_viommu_count_ir_fault(viommu, reason);
	if (recorded) {
		kvm_viommu_ring_push(&viommu->faults, &record, &lost);
		kvm_viommu_regs_record_fault(viommu, &record);
	}
	return -EINVAL;
}

/*
 * The VM's address space and memory cgroup, for a kernel worker (the
 * irqfd fallback, the I/O APIC's remap work) that reads guest memory.  A
 * worker has no mm of its own: uaccess there would go through whatever mm
 * its CPU ran last, another process's, and its allocations would be
 * charged to nobody.  Every other caller is the VMM or one of its vCPUs.
 */
struct kvm_viommu_vm_context {
	struct mm_struct *mm;		/* borrowed by a worker, else NULL */
	struct mem_cgroup *memcg;
	struct mem_cgroup *old_memcg;
};

static bool kvm_viommu_enter_vm(struct kvm *kvm,
				struct kvm_viommu_vm_context *ctx)
{
	ctx->mm = NULL;
	if (current->mm == kvm->mm)
		return true;
	if (!(current->flags & PF_KTHREAD) || current->mm ||
	    !mmget_not_zero(kvm->mm))
		return false;

	ctx->mm = kvm->mm;
	kthread_use_mm(ctx->mm);
	ctx->memcg = get_mem_cgroup_from_mm(ctx->mm);
	ctx->old_memcg = set_active_memcg(ctx->memcg);
	return true;
}

static void kvm_viommu_exit_vm(struct kvm_viommu_vm_context *ctx)
{
	if (!ctx->mm)
		return;
	set_active_memcg(ctx->old_memcg);
	mem_cgroup_put(ctx->memcg);
	kthread_unuse_mm(ctx->mm);
	mmput(ctx->mm);
}

/*
 * A request without a requester ID fails any verification that the IRTE
 * asks for, unless the VMM chose QEMU's policy of letting it pass.
 */
static bool kvm_viommu_ir_sid_ok(struct kvm_viommu *viommu,
				 const struct kvm_viommu_ir_request *req,
				 const struct vtd_irte *irte)
{
	if (!req->has_sid &&
	    (READ_ONCE(viommu->ir_config) & KVM_VIOMMU_IR_CONFIG_SID_UNKNOWN_OK))
		return true;
	return vtd_irte_sid_ok(irte, req->sid, req->has_sid);
}

/* Reads IRTE @index of the table at @irta, as hardware would. */
static enum kvm_viommu_ir_fault_reason
kvm_viommu_ir_read(struct kvm *kvm, u64 irta, u32 index, struct vtd_irte *irte)
{
	gpa_t base = vtd_irta_base(irta), gpa = base + (u64)index * VTD_IRTE_SIZE;
	__le64 raw[2];
	int idx, r;

	if (index >= vtd_irta_entries(irta))
		return KVM_VIOMMU_FR_IR_INDEX_OVER;
	/* An entry past 2^64 is not in guest memory, whatever wraps to. */
	if (gpa < base)
		return KVM_VIOMMU_FR_IR_ROOT_INVAL;

	idx = srcu_read_lock(&kvm->srcu);
	r = kvm_read_guest(kvm, gpa, raw, sizeof(raw));
	srcu_read_unlock(&kvm->srcu, idx);
	if (r)
		return KVM_VIOMMU_FR_IR_ROOT_INVAL;

	irte->lo = le64_to_cpu(raw[0]);
	irte->hi = le64_to_cpu(raw[1]);
	return vtd_irte_check(irte, vtd_irta_x2apic(irta));
}

/*
 * Caches @irte for @index unless an invalidation or a new table came
 * after generation @gen, or another fill won.  Returns whether @irte is
 * what the cache holds now.
 */
static bool kvm_viommu_ir_insert(struct kvm_viommu *viommu, u32 index,
				 u64 gen, bool scanned, bool x2apic,
				 const struct vtd_irte *irte)
{
	struct kvm_viommu_irte *entry, *old;
	bool cached = false;

	entry = kmalloc(sizeof(*entry), GFP_KERNEL_ACCOUNT);

	mutex_lock(&viommu->ir_cache_lock);
	if (viommu->ir_cache_gen != gen)
		goto out;

	cached = true;
	if (kvm_viommu_ir_lookup(viommu, index))
		goto out;
	/* Not caching only costs a later miss, so failure is no fault. */
	if (entry) {
		entry->irte = *irte;
		entry->x2apic = x2apic;
		entry->scanned = scanned;
		entry->used = !scanned;
		entry->valid = true;
		old = xa_store(&viommu->irtes, index, entry, GFP_KERNEL_ACCOUNT);
		if (!xa_is_err(old)) {
			if (old)
				kfree_rcu(old, rcu);
			entry = NULL;
			this_cpu_inc(viommu->counters->ir_fills);
		}
	}
out:
	mutex_unlock(&viommu->ir_cache_lock);
	kfree(entry);
	return cached;
}

/*
 * Reads the IRTE at @index from guest memory and caches it if valid.
 * The read happens outside ir_cache_lock, which a guest-memory fault
 * (userfaultfd, postcopy) could otherwise hold for as long as the VMM
 * likes.  A fill that keeps racing with the guest's invalidations
 * delivers what it read last without caching it.
 */
static enum kvm_viommu_ir_fault_reason
kvm_viommu_ir_fill(struct kvm_viommu *viommu, u32 index, bool scanned,
		   struct vtd_irte *irte, bool *x2apic)
{
	struct kvm_viommu_vm_context ctx;
	struct kvm_viommu_irte *entry;
	enum kvm_viommu_ir_fault_reason reason;
	int tries;
	u64 irta, gen;

	if (!kvm_viommu_enter_vm(viommu->kvm, &ctx))
		return KVM_VIOMMU_FR_IR_ROOT_INVAL;

	for (tries = 0; tries < KVM_VIOMMU_IR_FILL_TRIES; tries++) {
		mutex_lock(&viommu->ir_cache_lock);
		entry = kvm_viommu_ir_lookup(viommu, index);
		if (entry) {
			kvm_viommu_irte_note_use(entry, scanned);
			*irte = entry->irte;
			*x2apic = entry->x2apic;
		}
		irta = viommu->irta;
		gen = viommu->ir_cache_gen;
		mutex_unlock(&viommu->ir_cache_lock);
		if (entry) {
			reason = VTD_FR_NONE;
			break;
		}

		*x2apic = vtd_irta_x2apic(irta);
		reason = kvm_viommu_ir_read(viommu->kvm, irta, index, irte);
		if (reason ||
		    kvm_viommu_ir_insert(viommu, index, gen, scanned, *x2apic,
					 irte))
			break;
	}
	/* Delivered without an entry to drop: the next wait fences it. */
	if (tries == KVM_VIOMMU_IR_FILL_TRIES)
		WRITE_ONCE(viommu->ir_fence_needed, true);

	kvm_viommu_exit_vm(&ctx);
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
			    struct vtd_irte *irte, bool *x2apic)
{
	enum kvm_viommu_ir_fault_reason reason;
	struct kvm_viommu_irte *entry;
	bool hit = false;

	/* A miss reads guest memory: check the caller also when it hits. */
	if (kvm_viommu_ir_may_sleep(ctx))
		might_sleep();

	rcu_read_lock();
	entry = kvm_viommu_ir_lookup(viommu, req->index);
	if (entry) {
		kvm_viommu_irte_note_use(entry, !kvm_viommu_ir_is_request(ctx));
		*irte = entry->irte;
		*x2apic = entry->x2apic;
		hit = true;
	}
	rcu_read_unlock();

	if (!hit) {
		if (!kvm_viommu_ir_may_sleep(ctx))
			return -EWOULDBLOCK;

		reason = kvm_viommu_ir_fill(viommu, req->index,
					    !kvm_viommu_ir_is_request(ctx), irte,
					    x2apic);
		/* Only an entry that was read can have FPD set. */
		if (reason)
			return kvm_viommu_ir_fault(viommu, req, ctx, reason,
						   reason == KVM_VIOMMU_FR_IR_ENTRY_P ||
						   reason == KVM_VIOMMU_FR_IR_IRTE_RSVD ?
						   irte : NULL);
	}

	if (!kvm_viommu_ir_sid_ok(viommu, req, irte))
		return kvm_viommu_ir_fault(viommu, req, ctx,
					   KVM_VIOMMU_FR_IR_SID_ERR, irte);

	/*
	 * An atomic hit may still not be delivered, and be retried in
	 * process context: its caller counts it once delivered, so that no
	 * counter ever goes back.
	 */
	if (ctx == KVM_VIOMMU_IR_PROCESS) {
		if (hit)
			this_cpu_inc(viommu->counters->ir_hits);
		else
			this_cpu_inc(viommu->counters->ir_misses);
	}
	trace_kvm_viommu_translate(req->index, req->sid, req->has_sid,
				   vtd_irte_vector(irte),
				   vtd_irte_dest_id(irte, *x2apic), hit);
	return 0;
}
