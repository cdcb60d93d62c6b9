// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86 glue of the in-kernel VT-d IOMMU: remappable MSIs decoded, translated
 * through the IR cache (virt/kvm/viommu) and turned into the kvm_lapic_irq
 * that KVM delivers into the local APICs.
 */

#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>

#include "irq.h"
#include "irq_remap.h"
#include "../../../virt/kvm/viommu/viommu.h"

bool kvm_arch_viommu_supported(struct kvm *kvm)
{
	/*
	 * Remapped interrupts are delivered into the in-kernel local APIC,
	 * which both a full and a split irqchip provide.
	 */
	return irqchip_in_kernel(kvm);
}

void kvm_arch_viommu_ir_invalidated(struct kvm *kvm)
{
	kvm_make_scan_ioapic_request(kvm);
}

static void kvm_irte_to_lapic_irq(const struct vtd_irte *irte, bool x2apic,
				  struct kvm_lapic_irq *irq)
{
	irq->vector = vtd_irte_vector(irte);
	/* DLM holds the APIC delivery mode, APIC_DM_* >> 8. */
	irq->delivery_mode = vtd_irte_dlm(irte) << 8;
	irq->dest_mode = kvm_lapic_irq_dest_mode(irte->lo & VTD_IRTE_DM_LOGICAL);
	irq->trig_mode = !!(irte->lo & VTD_IRTE_TM_LEVEL);
	irq->dest_id = vtd_irte_dest_id(irte, x2apic);
	irq->msi_redir_hint = irte->lo & VTD_IRTE_RH;
	irq->level = 1;
	irq->shorthand = APIC_DEST_NOSHORT;
}

int kvm_viommu_set_msi_irq(struct kvm *kvm,
			   struct kvm_kernel_irq_routing_entry *e,
			   struct kvm_lapic_irq *irq,
			   enum kvm_viommu_ir_context ctx)
{
	u64 address = (u64)e->msi.address_hi << 32 | e->msi.address_lo;
	struct kvm_viommu_ir_request req = {
		.sid = e->msi.devid,
		.has_sid = e->msi.flags & KVM_MSI_VALID_DEVID,
	};
	struct kvm_viommu *viommu = kvm_viommu_find(kvm);
	u32 ir_flags = viommu ? READ_ONCE(viommu->ir_flags) : 0;
	struct vtd_irte irte;
	u8 reason;
	int r;

	if (!(ir_flags & KVM_VIOMMU_IR_ENABLE))
		goto compat;

	if (!vtd_msi_remappable(address)) {
		if (ir_flags & KVM_VIOMMU_IR_CFIS)
			goto compat;
		return kvm_viommu_ir_fault(viommu, &req, ctx,
					   KVM_VIOMMU_FR_IR_COMPAT, NULL);
	}

	reason = vtd_msi_index(address, e->msi.data, &req.index);
	if (reason)
		return kvm_viommu_ir_fault(viommu, &req, ctx, reason, NULL);

	r = kvm_viommu_ir_translate(viommu, &req, ctx, &irte);
	if (r)
		return r;

	kvm_irte_to_lapic_irq(&irte, vtd_irta_x2apic(READ_ONCE(viommu->irta)),
			      irq);
	return 0;

compat:
	kvm_set_msi_irq(kvm, e, irq);
	return 0;
}
