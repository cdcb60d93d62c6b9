/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the programs that play a hostile VMM (x86/viommu_vmm_*_test.c)
 * share: one table and one IRTE format for their guests, MSIs named by
 * their handle, the guest that leaves the VMM an event, and the lines of
 * what a test measured, which also show when the assertion holds.
 */
#ifndef SELFTEST_KVM_VIOMMU_VMM_H
#define SELFTEST_KVM_VIOMMU_VMM_H

#include <stdint.h>

#include "kvm_util.h"
#include "viommu.h"

/* A 256-entry table at VIOMMU_IRT_GPA; x2APIC guests (EIME). */
#define VMM_IRTA		(VIOMMU_IRT_GPA | KVM_VIOMMU_IRTA_EIME | 7)

/* One "# @name: ..." line of what a test measured. */
void __printf(2, 3) vmm_report(const char *name, const char *fmt, ...);

/* Interrupt remapping on, through VMM_IRTA. */
void vmm_ir_on(int dev);
/* A present x2APIC-format IRTE for @vector, fixed, to APIC ID 0. */
uint64_t vmm_irte_lo(uint8_t vector);
/* KVM_SIGNAL_MSI of the remappable MSI of handle @index, as viommu_signal_msi(). */
int vmm_signal_index(struct kvm_vm *vm, uint16_t index);
/* Routes @gsi to the remappable MSI of handle @index, with its irqfd. */
void vmm_route_index(struct viommu_guest *g, uint32_t gsi, uint16_t index);
uint64_t vmm_ms_since(uint64_t t0);

/*
 * Guest code for vtd_vm_create(): one register-based context invalidation,
 * which leaves the VMM a CONTEXT event if it asked for one, then
 * GUEST_SYNC(1) and HLT for good.
 */
void vmm_event_guest(uint64_t idx);

#endif /* SELFTEST_KVM_VIOMMU_VMM_H */
