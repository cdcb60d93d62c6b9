// SPDX-License-Identifier: GPL-2.0-only
/*
 * Checks shared by the register-page and queue programs; see
 * include/viommu_qi.h.
 */
#include <stdint.h>
#include <string.h>

#include "test_util.h"
#include "kvm_util.h"
#include "viommu.h"
#include "viommu_regs.h"
#include "viommu_qt.h"
#include "viommu_qi.h"

void qi_assert_remap(struct qt *t, uint16_t index, int vec, const char *what)
{
	uint32_t before = viommu_guest_count(t->v->g, 0, vec);
	int r = qt_signal(t, index);

	TEST_ASSERT(r >= 1, "%s: KVM_SIGNAL_MSI of IRTE %u: %d", what, index, r);
	qt_assert_irqs(t, vec, before + 1, what);
}

void qi_regs_state_get(int dev, struct kvm_viommu_regs_state *s)
{
	memset(s, 0xa5, sizeof(*s));
	kvm_device_attr_get(dev, KVM_DEV_VIOMMU_GRP_REGS,
			    KVM_DEV_VIOMMU_REGS_STATE, s);
	TEST_ASSERT(!s->flags && !s->__reserved, "REGS_STATE get: flags 0x%x __reserved 0x%x",
		    s->flags, s->__reserved);
}

int __qi_regs_state_set(int dev, struct kvm_viommu_regs_state *s)
{
	return __kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_REGS, KVM_DEV_VIOMMU_REGS_STATE, s);
}

void qi_assert_faults_read(struct qt *t, int want, uint16_t first_index, int first_rec)
{
	int n = qt_cmd(t, QT_OP_FAULTS, 0, 0, 0, 0), i;

	TEST_ASSERT(n == want,
		    "dmar_fault() read %d records, expected %d (FSTS.FRI must name the first pending record)",
		    n, want);
	for (i = 0; i < n && i < QT_MBOX_FAULTS; i++) {
		struct vtd_fault *f = &t->m->faults[i];

		TEST_ASSERT(f->reason == KVM_VIOMMU_FR_IR_ENTRY_P &&
			    f->lo >> 48 == (uint64_t)first_index + i &&
			    f->index == (uint32_t)(first_rec + i) % KVM_VIOMMU_NR_FRCD,
			    "fault %d: record %u reason 0x%x FI 0x%llx, expected record %d index %u",
			    i, f->index, f->reason, (unsigned long long)f->lo,
			    (first_rec + i) % KVM_VIOMMU_NR_FRCD, first_index + i);
	}
	TEST_ASSERT(!qt_fsts(t), "FSTS 0x%x after dmar_fault()", qt_fsts(t));
}
