/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the programs that hold the VT-d unit to what drivers and VMMs
 * expect of it share (viommu_fault_recording_test, viommu_vmm_events_test,
 * viommu_driver_compat_test): the VMM's attributes beyond viommu.h and
 * viommu_regs.h, and the raw fault recording registers.
 */
#ifndef SELFTEST_KVM_VIOMMU_VTD_BEHAVIOUR_H
#define SELFTEST_KVM_VIOMMU_VTD_BEHAVIOUR_H

#include <stdint.h>

#include <linux/kvm_viommu.h>

#include "viommu_qt.h"

/* The vector of the remapped MSIs. */
#define MSI_VEC			0x60

/*
 * NULL if device @dev has the attribute (@group, @attr), called @name;
 * otherwise why not, for a SKIP().  Modules from before it answer ENXIO:
 * where the modules under test must have it, viommu_required() fails.
 */
const char *vb_attr_unsupported(int dev, uint32_t group, uint64_t attr, const char *name);

/* FRCD record @i, all 128 bits. */
void vb_assert_frcd_raw(struct qt *t, int i, uint64_t lo, uint64_t hi, const char *what);

/* EVENT_CONFIG of @types in a ring of @entries (0: the default). */
int __vb_event_config(int dev, uint32_t types, uint32_t entries);
void vb_event_config(int dev, uint32_t types, uint32_t entries);

/* IR_CONFIG; the get asserts that the reserved fields read 0. */
void vb_ir_config_get(int dev, struct kvm_viommu_ir_config *c);
/* Sets @flags, and asserts that a get reads them back. */
void vb_ir_config_set(int dev, uint32_t flags);

#endif /* SELFTEST_KVM_VIOMMU_VTD_BEHAVIOUR_H */
