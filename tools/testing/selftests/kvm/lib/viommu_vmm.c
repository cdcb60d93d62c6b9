// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shared helpers of the hostile-VMM programs; see include/viommu_vmm.h.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "test_util.h"
#include "kselftest.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_regs.h"
#include "viommu_vmm.h"

void vmm_report(const char *name, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ksft_print_msg("%s: %s\n", name, buf);
}

void vmm_ir_on(int dev)
{
	viommu_set_irta(dev, VMM_IRTA);
	viommu_set_ir_status(dev, KVM_VIOMMU_IR_ENABLE);
}

uint64_t vmm_irte_lo(uint8_t vector)
{
	return viommu_irte_lo(vector, 0, true, VIOMMU_DLM_FIXED, 0);
}

int vmm_signal_index(struct kvm_vm *vm, uint16_t index)
{
	struct viommu_msi m = viommu_msi_remappable(index, false, 0);

	return viommu_signal_msi(vm, &m);
}

void vmm_route_index(struct viommu_guest *g, uint32_t gsi, uint16_t index)
{
	struct viommu_msi m = viommu_msi_remappable(index, false, 0);

	viommu_route_msi(g, gsi, &m);
	viommu_commit_routes(g);
	viommu_irqfd(g, gsi);
}

uint64_t vmm_ms_since(uint64_t t0)
{
	return (viommu_now_ns() - t0) / 1000000;
}

void vmm_event_guest(uint64_t idx)
{
	struct vtd_iommu me = { .reg = VTD_BASE };

	vtd_writeq(&me, DMAR_CCMD_REG, DMA_CCMD_ICC | DMA_CCMD_CIRG(VTD_G_GLOBAL));
	GUEST_SYNC(1);
	for (;;)
		asm volatile("hlt" ::: "memory");
}
