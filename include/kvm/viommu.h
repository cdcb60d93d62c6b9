/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The in-kernel VT-d IOMMU's interrupt remapping, as an architecture's
 * glue uses it to translate the interrupts it delivers (on x86,
 * arch/x86/kvm/irq_remap.c).  The core decides what an interrupt's IRTE
 * is, whether it faults, and when a translation in flight is done with;
 * the glue decodes the architecture's messages and delivers the result.
 */
#ifndef __KVM_VIOMMU_H
#define __KVM_VIOMMU_H

#include <linux/kvm_viommu.h>
#include <kvm/vtd.h>

struct kvm_viommu;

/* A request to translate: which entry, and who asked. */
struct kvm_viommu_ir_request {
	u32 index;
	u16 sid;
	bool has_sid;
};

/*
 * The IRTE that @req selects, and whether it was read in x2APIC mode
 * (IRTA.EIME).  Returns 0; -EWOULDBLOCK when @ctx cannot sleep and the
 * entry is not cached; or -EINVAL after a fault: nothing is delivered.
 */
int kvm_viommu_ir_translate(struct kvm_viommu *viommu,
			    const struct kvm_viommu_ir_request *req,
			    enum kvm_viommu_ir_context ctx,
			    struct vtd_irte *irte, bool *x2apic);
/* Records fault @reason for @req, with @irte if it was read; -EINVAL. */
int kvm_viommu_ir_fault(struct kvm_viommu *viommu,
			const struct kvm_viommu_ir_request *req,
			enum kvm_viommu_ir_context ctx,
			enum kvm_viommu_ir_fault_reason reason,
			const struct vtd_irte *irte);
/* 1 if a compatibility-format interrupt passes (CFIS), else its fault. */
int kvm_viommu_ir_compat(struct kvm_viommu *viommu,
			 const struct kvm_viommu_ir_request *req,
			 enum kvm_viommu_ir_context ctx);
/* The request of the in-kernel I/O APIC's entry @index. */
void kvm_viommu_ir_ioapic_request(struct kvm_viommu *viommu, u32 index,
				  struct kvm_viommu_ir_request *req);

/*
 * A remapped delivery, from before its lookup until it is delivered or
 * dropped: the guest's invalidation wait waits for it.
 */
int kvm_viommu_ir_enter(struct kvm_viommu *viommu);
void kvm_viommu_ir_exit(struct kvm_viommu *viommu, int idx);
/* Where a remapped interrupt went to the local APICs, for the statistics. */
enum kvm_viommu_ir_path {
	KVM_VIOMMU_IR_PATH_MSI_ATOMIC,	/* an MSI, where KVM cannot sleep */
	KVM_VIOMMU_IR_PATH_MSI_PROCESS,	/* an MSI, in process context */
	KVM_VIOMMU_IR_PATH_IOAPIC,	/* a pin of the in-kernel I/O APIC */
	KVM_VIOMMU_IR_NR_PATHS
};

/*
 * Counts an interrupt remapped along @path, and its IR cache hit if the
 * translation could not count it itself (@atomic_hit): an atomic hit may
 * still fall back to process context, and no counter goes back.
 */
void kvm_viommu_ir_count_delivery(struct kvm_viommu *viommu,
				  enum kvm_viommu_ir_path path, bool atomic_hit);
/* An EOI scan used a translation it could not cache: the next IEC rescans. */
void kvm_viommu_ir_scan_stale(struct kvm_viommu *viommu);
/*
 * The architecture holds an interrupt that faulted until the guest's next
 * IEC, which calls kvm_arch_viommu_ir_invalidated() to retry it.
 */
void kvm_viommu_ir_held(struct kvm *kvm);

#endif /* __KVM_VIOMMU_H */
