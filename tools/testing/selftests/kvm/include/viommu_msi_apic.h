/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The fixture of the MSI programs' tests that run once per APIC mode of
 * the guest (xAPIC, x2APIC).  Include after viommu_test.h, in a program.
 */
#ifndef SELFTEST_KVM_VIOMMU_MSI_APIC_H
#define SELFTEST_KVM_VIOMMU_MSI_APIC_H

/* The guest's APIC mode, with VIOMMU_MAX_VCPUS vCPUs. */
FIXTURE(apic) {};

FIXTURE_VARIANT(apic) {
	unsigned int gflags;
};

FIXTURE_VARIANT_ADD(apic, xapic) {
	.gflags = 0,
};

FIXTURE_VARIANT_ADD(apic, x2apic) {
	.gflags = VIOMMU_GUEST_X2APIC,
};

FIXTURE_SETUP(apic) {}
FIXTURE_TEARDOWN(apic) {}

#endif /* SELFTEST_KVM_VIOMMU_MSI_APIC_H */
