// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VMM's attributes and the raw fault records of the VT-d behaviour
 * programs: see include/viommu_vtd_behaviour.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "test_util.h"
#include "kvm_util.h"
#include "viommu.h"
#include "viommu_regs.h"
#include "viommu_qt.h"
#include "viommu_vtd_behaviour.h"

const char *vb_attr_unsupported(int dev, uint32_t group, uint64_t attr, const char *name)
{
	static char why[160];
	int r = __kvm_has_device_attr(dev, group, attr) ? -errno : 0;

	if (!r)
		return NULL;
	snprintf(why, sizeof(why), "%s: HAS_DEVICE_ATTR %d (%s): kvm.ko predates it", name, r,
		 viommu_err_str(r));
	return viommu_required(why);
}

void vb_assert_frcd_raw(struct qt *t, int i, uint64_t lo, uint64_t hi, const char *what)
{
	uint64_t got_lo = qt_rd64(t, DMAR_FRCD_REG(i)), got_hi = qt_rd64(t, DMAR_FRCD_REG(i) + 8);

	TEST_ASSERT(got_lo == lo && got_hi == hi,
		    "%s: FRCD %d reads 0x%016llx%016llx, expected 0x%016llx%016llx", what, i,
		    (unsigned long long)got_hi, (unsigned long long)got_lo,
		    (unsigned long long)hi, (unsigned long long)lo);
}

int __vb_event_config(int dev, uint32_t types, uint32_t entries)
{
	struct kvm_viommu_event_config c = { .types = types, .entries = entries };

	return __kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_EVENT,
				     KVM_DEV_VIOMMU_EVENT_CONFIG, &c);
}

void vb_event_config(int dev, uint32_t types, uint32_t entries)
{
	struct kvm_viommu_event_config c = { .types = types, .entries = entries };

	kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_EVENT, KVM_DEV_VIOMMU_EVENT_CONFIG, &c);
}

void vb_ir_config_get(int dev, struct kvm_viommu_ir_config *c)
{
	int i;

	memset(c, 0xa5, sizeof(*c));
	kvm_device_attr_get(dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_CONFIG, c);
	TEST_ASSERT(!c->__reserved, "IR_CONFIG get: __reserved 0x%x", c->__reserved);
	for (i = 0; i < (int)ARRAY_SIZE(c->__reserved2); i++)
		TEST_ASSERT(!c->__reserved2[i], "IR_CONFIG get: __reserved2[%d] 0x%llx", i,
			    (unsigned long long)c->__reserved2[i]);
}

void vb_ir_config_set(int dev, uint32_t flags)
{
	struct kvm_viommu_ir_config c = { .flags = flags };
	struct kvm_viommu_ir_config got;

	kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_IR,
			    KVM_DEV_VIOMMU_IR_CONFIG, &c);
	vb_ir_config_get(dev, &got);
	TEST_ASSERT(got.flags == flags, "IR_CONFIG get: flags 0x%x after a set of 0x%x",
		    got.flags, flags);
}
