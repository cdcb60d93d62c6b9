/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the programs on the VT-d register page and its invalidation queue
 * (viommu_regs_test, viommu_qi_test, viommu_qi_events_test) check in the
 * same way: a remapped MSI, the device's saved state, the faults the
 * guest's driver reads out.  Their guests are viommu_qt.h's.
 */
#ifndef SELFTEST_KVM_VIOMMU_QI_H
#define SELFTEST_KVM_VIOMMU_QI_H

#include <stdint.h>

#include <linux/kvm_viommu.h>

#include "viommu_qt.h"

/* The vector of the remapped MSIs. */
#define QI_MSI_VEC		0x60

/* The remappable MSI of IRTE @index must arrive as @vec (once more). */
void qi_assert_remap(struct qt *t, uint16_t index, int vec, const char *what);

/* KVM_DEV_VIOMMU_REGS_STATE get; asserts that flags and __reserved are 0. */
void qi_regs_state_get(int dev, struct kvm_viommu_regs_state *s);
/* KVM_DEV_VIOMMU_REGS_STATE set: 0, or -1 with errno. */
int __qi_regs_state_set(int dev, struct kvm_viommu_regs_state *s);

/*
 * The guest's dmar_fault() must read @want interrupt-remapping faults of
 * a not-present entry, on the indexes from @first_index in the records
 * from @first_rec, and leave FSTS clear.
 */
void qi_assert_faults_read(struct qt *t, int want, uint16_t first_index, int first_rec);

#endif /* SELFTEST_KVM_VIOMMU_QI_H */
