// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM device for a guest-visible Intel VT-d IOMMU.
 *
 * The VMM owns the machine model; this device holds the state that KVM's
 * fast paths need, and lives until the VM is destroyed so that those paths
 * never see it vanish under a running guest.
 */

#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "viommu.h"
#include "vtd.h"

MODULE_VERSION(KVM_VIOMMU_VERSION);

static struct kvm_device_ops kvm_viommu_ops;

static bool kvm_viommu_reserved_zero(const u64 *reserved, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (reserved[i])
			return false;
	return true;
}

static int kvm_viommu_get_info(void __user *uaddr)
{
	struct kvm_viommu_info info = {
		.abi_version = KVM_VIOMMU_ABI_VERSION,
	};

	if (copy_to_user(uaddr, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static int kvm_viommu_get_ir_table(struct kvm_viommu *viommu,
				   void __user *uaddr)
{
	struct kvm_viommu_ir_table table = {};

	mutex_lock(&viommu->lock);
	table.irta = viommu->irta;
	mutex_unlock(&viommu->lock);

	if (copy_to_user(uaddr, &table, sizeof(table)))
		return -EFAULT;
	return 0;
}

static int kvm_viommu_set_ir_table(struct kvm_viommu *viommu,
				   void __user *uaddr)
{
	struct kvm_viommu_ir_table table;

	if (copy_from_user(&table, uaddr, sizeof(table)))
		return -EFAULT;

	if (table.flags || table.pad ||
	    !kvm_viommu_reserved_zero(table.reserved, ARRAY_SIZE(table.reserved)) ||
	    !vtd_irta_valid(table.irta))
		return -EINVAL;

	mutex_lock(&viommu->lock);
	viommu->irta = table.irta;
	mutex_unlock(&viommu->lock);
	return 0;
}

static int kvm_viommu_get_attr(struct kvm_device *dev,
			       struct kvm_device_attr *attr)
{
	void __user *uaddr = u64_to_user_ptr(attr->addr);
	struct kvm_viommu *viommu = dev->private;

	if (attr->flags)
		return -EINVAL;

	switch (attr->group) {
	case KVM_DEV_VIOMMU_GRP_CTRL:
		if (attr->attr == KVM_DEV_VIOMMU_CTRL_INFO)
			return kvm_viommu_get_info(uaddr);
		break;
	case KVM_DEV_VIOMMU_GRP_IR:
		if (attr->attr == KVM_DEV_VIOMMU_IR_TABLE)
			return kvm_viommu_get_ir_table(viommu, uaddr);
		break;
	}

	return -ENXIO;
}

static int kvm_viommu_set_attr(struct kvm_device *dev,
			       struct kvm_device_attr *attr)
{
	void __user *uaddr = u64_to_user_ptr(attr->addr);
	struct kvm_viommu *viommu = dev->private;

	if (attr->flags)
		return -EINVAL;

	switch (attr->group) {
	case KVM_DEV_VIOMMU_GRP_IR:
		if (attr->attr == KVM_DEV_VIOMMU_IR_TABLE)
			return kvm_viommu_set_ir_table(viommu, uaddr);
		break;
	}

	return -ENXIO;
}

static int kvm_viommu_has_attr(struct kvm_device *dev,
			       struct kvm_device_attr *attr)
{
	if (attr->flags)
		return -EINVAL;

	switch (attr->group) {
	case KVM_DEV_VIOMMU_GRP_CTRL:
		if (attr->attr == KVM_DEV_VIOMMU_CTRL_INFO)
			return 0;
		break;
	case KVM_DEV_VIOMMU_GRP_IR:
		if (attr->attr == KVM_DEV_VIOMMU_IR_TABLE)
			return 0;
		break;
	}

	return -ENXIO;
}

static int kvm_viommu_create(struct kvm_device *dev, u32 type)
{
	struct kvm_viommu *viommu;
	struct kvm_device *tmp;

	lockdep_assert_held(&dev->kvm->lock);

	/* A VT-d unit models the platform's one remapping hardware unit. */
	list_for_each_entry(tmp, &dev->kvm->devices, vm_node)
		if (tmp->ops == &kvm_viommu_ops)
			return -EEXIST;

	if (!kvm_arch_viommu_supported(dev->kvm))
		return -EINVAL;

	viommu = kzalloc(sizeof(*viommu), GFP_KERNEL_ACCOUNT);
	if (!viommu)
		return -ENOMEM;

	viommu->kvm = dev->kvm;
	mutex_init(&viommu->lock);
	dev->private = viommu;
	return 0;
}

static void kvm_viommu_destroy(struct kvm_device *dev)
{
	kfree(dev->private);
	kfree(dev); /* alloc by kvm_ioctl_create_device, free by .destroy */
}

static struct kvm_device_ops kvm_viommu_ops = {
	.name = "kvm-viommu",
	.create = kvm_viommu_create,
	.destroy = kvm_viommu_destroy,
	.set_attr = kvm_viommu_set_attr,
	.get_attr = kvm_viommu_get_attr,
	.has_attr = kvm_viommu_has_attr,
};

int kvm_viommu_ops_init(void)
{
	return kvm_register_device_ops(&kvm_viommu_ops,
				       KVM_DEV_TYPE_INTEL_VIOMMU);
}

void kvm_viommu_ops_exit(void)
{
	kvm_unregister_device_ops(KVM_DEV_TYPE_INTEL_VIOMMU);
}
