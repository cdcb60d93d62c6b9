/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef __KVM_X86_IRQ_REMAP_H
#define __KVM_X86_IRQ_REMAP_H

#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>

int kvm_viommu_set_msi_irq(struct kvm *kvm,
			   struct kvm_kernel_irq_routing_entry *e,
			   struct kvm_lapic_irq *irq,
			   enum kvm_viommu_ir_context ctx);

/*
 * kvm_set_msi_irq(), through the guest's interrupt remapping where it is
 * enabled.  Returns 0 with @irq to deliver; otherwise nothing is delivered:
 * -EWOULDBLOCK asks the atomic caller to retry in process context, and any
 * other error means the guest's IOMMU blocked the request.
 */
static inline int kvm_set_msi_irq_remapped(struct kvm *kvm,
					   struct kvm_kernel_irq_routing_entry *e,
					   struct kvm_lapic_irq *irq,
					   enum kvm_viommu_ir_context ctx)
{
#ifdef CONFIG_KVM_VIOMMU
	if (static_branch_unlikely(&kvm_viommu_ir_enabled))
		return kvm_viommu_set_msi_irq(kvm, e, irq, ctx);
#endif
	kvm_set_msi_irq(kvm, e, irq);
	return 0;
}

#endif /* __KVM_X86_IRQ_REMAP_H */
