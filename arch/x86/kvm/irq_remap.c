// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86 glue of the in-kernel VT-d IOMMU: what the architecture-neutral core in
 * virt/kvm/viommu needs to know about x86 interrupt delivery.
 */

#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>

#include "irq.h"

bool kvm_arch_viommu_supported(struct kvm *kvm)
{
	/*
	 * Remapped interrupts are delivered into the in-kernel local APIC,
	 * which both a full and a split irqchip provide.
	 */
	return irqchip_in_kernel(kvm);
}
