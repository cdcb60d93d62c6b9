/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The calls KVM makes into the in-kernel VT-d IOMMU.  Every hook in the
 * patches/ series is one of these; with CONFIG_KVM_VIOMMU=n they compile
 * away and KVM behaves exactly as upstream.
 */
#ifndef __LINUX_KVM_VIOMMU_H
#define __LINUX_KVM_VIOMMU_H

#include <linux/jump_label.h>
#include <uapi/linux/kvm.h>
#include <uapi/linux/kvm_viommu.h>

struct kvm;
struct kvm_vcpu;
struct kvm_viommu;

/*
 * Where an interrupt is translated, and why.  A request delivers the
 * interrupt: it is counted and its faults are recorded.  A scan only
 * computes the EOI-exit bitmap, and its faults are left to the request.
 */
enum kvm_viommu_ir_context {
	KVM_VIOMMU_IR_PROCESS,	  /* request; may sleep and read guest memory */
	KVM_VIOMMU_IR_ATOMIC,	  /* request; cache hits, the rest -EWOULDBLOCK */
	KVM_VIOMMU_IR_SCAN,	  /* scan; may sleep and read guest memory */
	KVM_VIOMMU_IR_SCAN_ATOMIC, /* scan; a miss is -EWOULDBLOCK */
};

#ifdef CONFIG_KVM_VIOMMU

/* The device type lies beyond enum kvm_device_type: size the table for it. */
#define KVM_DEV_TYPE_TABLE_SIZE		(KVM_DEV_TYPE_INTEL_VIOMMU + 1)

int kvm_viommu_ops_init(void);
void kvm_viommu_ops_exit(void);

/* Some VM has had interrupt remapping on: the hooks test this first. */
DECLARE_STATIC_KEY_FALSE(kvm_viommu_remapping_key);

struct kvm_viommu *__kvm_viommu_remapping(struct kvm *kvm);

/*
 * @kvm's VT-d IOMMU if it remaps interrupts now, else NULL: the one test
 * of "is remapping on".  Hardware that posts interrupts straight into a
 * vCPU would bypass the translation and its invalidation, so such routes
 * stay on the remapped path while it is.
 */
static inline struct kvm_viommu *kvm_viommu_remapping(struct kvm *kvm)
{
	if (!static_branch_unlikely(&kvm_viommu_remapping_key))
		return NULL;
	return __kvm_viommu_remapping(kvm);
}

/* A vCPU handles the request that kvm_arch_viommu_request_vcpus() made. */
void kvm_viommu_vcpu_request(struct kvm_vcpu *vcpu);

/* Implemented by the architecture. */
bool kvm_arch_viommu_supported(struct kvm *kvm);
void kvm_arch_viommu_ir_invalidated(struct kvm *kvm, bool rescan);
/* Waits for the architecture's remapped deliveries in progress. */
void kvm_arch_viommu_ir_fence(struct kvm *kvm);
/*
 * Asks every vCPU, halted ones included, to call kvm_viommu_vcpu_request()
 * before its next entry; or only @vcpu, to go on with what it was doing.
 */
void kvm_arch_viommu_request_vcpus(struct kvm *kvm);
void kvm_arch_viommu_request_vcpu(struct kvm_vcpu *vcpu);
/* The unit's own event interrupts, which are never remapped. */
void kvm_arch_viommu_send_msi(struct kvm *kvm, u64 address, u32 data);

#else

#define KVM_DEV_TYPE_TABLE_SIZE		KVM_DEV_TYPE_MAX

static inline int kvm_viommu_ops_init(void)
{
	return 0;
}

static inline void kvm_viommu_ops_exit(void)
{
}

static inline struct kvm_viommu *kvm_viommu_remapping(struct kvm *kvm)
{
	return NULL;
}

#endif /* CONFIG_KVM_VIOMMU */

#endif /* __LINUX_KVM_VIOMMU_H */
