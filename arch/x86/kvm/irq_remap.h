/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef __KVM_X86_IRQ_REMAP_H
#define __KVM_X86_IRQ_REMAP_H

#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>
#include <linux/workqueue.h>

struct kvm_ioapic;
struct kvm_viommu;

/*
 * The in-kernel I/O APIC delivers under its spinlock, where only cached
 * IRTEs can be used.  A pin whose IRTE is not cached waits here while a
 * work item reads it; the bitmaps are only changed with atomic bitops.
 */
struct kvm_ioapic_remap {
#ifdef CONFIG_KVM_VIOMMU
	unsigned long service_pins;	/* to deliver once translated */
	unsigned long scan_pins;	/* to rescan for EOIs once translated */
	unsigned long blocked_pins;	/* faulted; retried after an IEC */
	unsigned long line_status_pins;	/* service_pins the RTC tracks */
	unsigned long rtc_pins;		/* missed by the RTC's EOI tracking */
	/*
	 * Pins the work item translated, which the cache may not hold (an
	 * allocation failed, or the guest's invalidations kept overtaking
	 * the read): the next service or scan of the pin takes what the
	 * work found instead of handing the pin back to it, forever.
	 * service_irq is written under the I/O APIC's lock.
	 */
	unsigned long service_filled;
	unsigned long scan_filled;
	struct kvm_lapic_irq service_irq[KVM_IOAPIC_NUM_PINS];
	struct work_struct work;
#endif
};

/*
 * A remapped MSI between its translation and its delivery: the guest's
 * invalidation wait drains those that used an entry it invalidated.
 */
struct kvm_msi_remap {
#ifdef CONFIG_KVM_VIOMMU
	struct kvm_viommu *viommu;	/* NULL: not remapped */
	int srcu_idx;
	bool atomic_hit;		/* counted once delivered */
#endif
};

/* How ioapic_service() sends a pin's interrupt. */
enum kvm_ioapic_remap_result {
	KVM_IOAPIC_DIRECT,	/* not remapped: the RTE is the message */
	KVM_IOAPIC_REMAPPED,	/* translated by the guest's VT-d IOMMU */
	KVM_IOAPIC_BLOCKED,	/* faulted, or waits for its IRTE */
};

#ifdef CONFIG_KVM_VIOMMU

/* Work of the guest's VT-d IOMMU that must run on a vCPU; see qi.c. */
#define KVM_REQ_VIOMMU		KVM_ARCH_REQ(48)

int kvm_viommu_set_msi_irq(struct kvm *kvm,
			   struct kvm_kernel_irq_routing_entry *e,
			   struct kvm_lapic_irq *irq,
			   enum kvm_viommu_ir_context ctx,
			   struct kvm_msi_remap *remap);
void __kvm_msi_remap_done(struct kvm_msi_remap *remap, bool delivered);
void kvm_ioapic_remap_init(struct kvm_ioapic *ioapic);
void kvm_ioapic_remap_destroy(struct kvm_ioapic *ioapic);
enum kvm_ioapic_remap_result __kvm_ioapic_remap_irq(struct kvm_ioapic *ioapic,
						    int pin, bool line_status,
						    struct kvm_lapic_irq *irq);
enum kvm_ioapic_remap_result __kvm_ioapic_remap_peek(struct kvm_ioapic *ioapic,
						     int pin,
						     struct kvm_lapic_irq *irq);
bool __kvm_ioapic_scan_remapped(struct kvm_vcpu *vcpu, int pin,
				ulong *ioapic_handled_vectors);

#else

static inline void kvm_ioapic_remap_init(struct kvm_ioapic *ioapic)
{
}

static inline void kvm_ioapic_remap_destroy(struct kvm_ioapic *ioapic)
{
}

#endif /* CONFIG_KVM_VIOMMU */

/*
 * kvm_set_msi_irq(), through the guest's interrupt remapping where it is
 * enabled.  Returns 0 with @irq to deliver; otherwise nothing is delivered:
 * -EWOULDBLOCK asks the atomic caller to retry in process context, and any
 * other error means the guest's IOMMU blocked the request.
 *
 * A request that returns 0 is in flight until kvm_msi_remap_done(@remap),
 * which the caller owes once it has delivered @irq.  A scan, which
 * delivers nothing, passes no @remap.
 */
static inline int kvm_set_msi_irq_remapped(struct kvm *kvm,
					   struct kvm_kernel_irq_routing_entry *e,
					   struct kvm_lapic_irq *irq,
					   enum kvm_viommu_ir_context ctx,
					   struct kvm_msi_remap *remap)
{
#ifdef CONFIG_KVM_VIOMMU
	if (remap)
		remap->viommu = NULL;
	if (static_branch_unlikely(&kvm_viommu_remapping_key))
		return kvm_viommu_set_msi_irq(kvm, e, irq, ctx, remap);
#endif
	kvm_set_msi_irq(kvm, e, irq);
	return 0;
}

/* The MSI that @remap translated has gone to the local APICs, or not. */
static inline void kvm_msi_remap_done(struct kvm_msi_remap *remap,
				      bool delivered)
{
#ifdef CONFIG_KVM_VIOMMU
	if (remap->viommu)
		__kvm_msi_remap_done(remap, delivered);
#endif
}

/*
 * Translates the interrupt of I/O APIC @pin into @irq if the guest's VT-d
 * IOMMU remaps it.  A pin that waits for its IRTE is delivered later,
 * with @line_status.  Called with ioapic->lock held.
 */
static inline enum kvm_ioapic_remap_result
kvm_ioapic_remap_irq(struct kvm_ioapic *ioapic, int pin, bool line_status,
		     struct kvm_lapic_irq *irq)
{
#ifdef CONFIG_KVM_VIOMMU
	if (static_branch_unlikely(&kvm_viommu_remapping_key))
		return __kvm_ioapic_remap_irq(ioapic, pin, line_status, irq);
#endif
	return KVM_IOAPIC_DIRECT;
}

/*
 * As kvm_ioapic_remap_irq(), for the RTC's EOI tracking, which delivers
 * nothing: a pin that waits for its IRTE has the tracking restored once
 * it is read.  Called with ioapic->lock held.
 */
static inline enum kvm_ioapic_remap_result
kvm_ioapic_remap_peek(struct kvm_ioapic *ioapic, int pin,
		      struct kvm_lapic_irq *irq)
{
#ifdef CONFIG_KVM_VIOMMU
	if (static_branch_unlikely(&kvm_viommu_remapping_key))
		return __kvm_ioapic_remap_peek(ioapic, pin, irq);
#endif
	return KVM_IOAPIC_DIRECT;
}

/*
 * The EOI scan of a remapped I/O APIC pin: sets the vector that @vcpu
 * will EOI if the pin's IRTE targets it.  Returns false if the pin is not
 * remapped, and the RTE itself is to be scanned.  Called with
 * ioapic->lock held.
 */
static inline bool kvm_ioapic_scan_remapped(struct kvm_vcpu *vcpu, int pin,
					    ulong *ioapic_handled_vectors)
{
#ifdef CONFIG_KVM_VIOMMU
	if (static_branch_unlikely(&kvm_viommu_remapping_key))
		return __kvm_ioapic_scan_remapped(vcpu, pin,
						  ioapic_handled_vectors);
#endif
	return false;
}

/* Called with the other requests, before entering the guest. */
static inline void kvm_viommu_check_request(struct kvm_vcpu *vcpu)
{
#ifdef CONFIG_KVM_VIOMMU
	if (kvm_check_request(KVM_REQ_VIOMMU, vcpu))
		kvm_viommu_vcpu_request(vcpu);
#endif
}

#endif /* __KVM_X86_IRQ_REMAP_H */
