// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM device for a guest-visible Intel VT-d IOMMU.
 *
 * The VMM owns the machine model; this device holds the state that KVM's
 * fast paths need, and lives until the VM is destroyed so that those paths
 * never see it vanish under a running guest.
 */

#include <linux/debugfs.h>
#include <linux/hashtable.h>
#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "viommu.h"

MODULE_VERSION(KVM_VIOMMU_VERSION);

/*
 * struct kvm cannot grow (modules built against it read past it), so the
 * fast paths find a VM's viommu here.  They only look once a remappable
 * request, or interrupt remapping in some VM, makes them.
 */
#define KVM_VIOMMU_HASH_BITS	6
static DEFINE_HASHTABLE(kvm_viommu_table, KVM_VIOMMU_HASH_BITS);
/* Protects kvm_viommu_table writers; readers use RCU. */
static DEFINE_SPINLOCK(kvm_viommu_table_lock);

static struct kvm_device_ops kvm_viommu_ops;

struct kvm_viommu *kvm_viommu_find(struct kvm *kvm)
{
	struct kvm_viommu *viommu, *found = NULL;

	rcu_read_lock();
	hash_for_each_possible_rcu(kvm_viommu_table, viommu, link,
				   (unsigned long)kvm) {
		if (viommu->kvm == kvm) {
			found = viommu;
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

static bool kvm_viommu_reserved_zero(const u64 *reserved, size_t n)
{
	return !memchr_inv(reserved, 0, n * sizeof(*reserved));
}

static void kvm_viommu_read_counters(struct kvm_viommu *viommu,
				     struct kvm_viommu_counters *sum)
{
	const struct kvm_viommu_counters *c;
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(viommu->counters, cpu);
		sum->hits += c->hits;
		sum->misses += c->misses;
		sum->faults += c->faults;
		sum->invalidations += c->invalidations;
		sum->atomic_hits += c->atomic_hits;
	}
}

static int kvm_viommu_get_info(void __user *uaddr)
{
	struct kvm_viommu_info info = {
		.abi_version = KVM_VIOMMU_ABI_VERSION,
		.flags = KVM_VIOMMU_INFO_MSI_DEVID,
	};

	if (copy_to_user(uaddr, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static int kvm_viommu_get_stats(struct kvm_viommu *viommu, void __user *uaddr)
{
	struct kvm_viommu_counters sum;
	struct kvm_viommu_stats stats = {};

	kvm_viommu_read_counters(viommu, &sum);
	stats.hits = sum.hits;
	stats.misses = sum.misses;
	stats.faults = sum.faults;
	stats.invalidations = sum.invalidations;
	stats.atomic_hits = sum.atomic_hits;

	if (copy_to_user(uaddr, &stats, sizeof(stats)))
		return -EFAULT;
	return 0;
}

static int kvm_viommu_get_ir_table(struct kvm_viommu *viommu,
				   void __user *uaddr)
{
	struct kvm_viommu_ir_table table = {
		.irta = READ_ONCE(viommu->irta),
	};

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
	    !kvm_viommu_reserved_zero(table.reserved, ARRAY_SIZE(table.reserved)))
		return -EINVAL;

	return kvm_viommu_ir_set_table(viommu, table.irta);
}

static int kvm_viommu_get_ir_status(struct kvm_viommu *viommu,
				    void __user *uaddr)
{
	struct kvm_viommu_ir_status status = {
		.flags = READ_ONCE(viommu->ir_flags),
	};

	if (copy_to_user(uaddr, &status, sizeof(status)))
		return -EFAULT;
	return 0;
}

static int kvm_viommu_set_ir_status(struct kvm_viommu *viommu,
				    void __user *uaddr)
{
	struct kvm_viommu_ir_status status;

	if (copy_from_user(&status, uaddr, sizeof(status)))
		return -EFAULT;

	if (status.pad ||
	    !kvm_viommu_reserved_zero(status.reserved, ARRAY_SIZE(status.reserved)))
		return -EINVAL;

	return kvm_viommu_ir_set_flags(viommu, status.flags);
}

static int kvm_viommu_ir_invalidate_attr(struct kvm_viommu *viommu,
					 void __user *uaddr)
{
	struct kvm_viommu_iec iec;

	if (copy_from_user(&iec, uaddr, sizeof(iec)))
		return -EFAULT;

	if (iec.pad ||
	    !kvm_viommu_reserved_zero(iec.reserved, ARRAY_SIZE(iec.reserved)))
		return -EINVAL;

	return kvm_viommu_ir_invalidate(viommu, &iec);
}

static int kvm_viommu_get_ir_ioapic(struct kvm_viommu *viommu,
				    void __user *uaddr)
{
	struct kvm_viommu_ir_ioapic ioapic = {};

	kvm_viommu_ir_get_ioapic(viommu, &ioapic);
	if (copy_to_user(uaddr, &ioapic, sizeof(ioapic)))
		return -EFAULT;
	return 0;
}

static int kvm_viommu_set_ir_ioapic(struct kvm_viommu *viommu,
				    void __user *uaddr)
{
	struct kvm_viommu_ir_ioapic ioapic;

	if (copy_from_user(&ioapic, uaddr, sizeof(ioapic)))
		return -EFAULT;

	if (ioapic.flags & ~KVM_VIOMMU_IOAPIC_SID_VALID || ioapic.pad ||
	    !kvm_viommu_reserved_zero(ioapic.reserved,
				      ARRAY_SIZE(ioapic.reserved)))
		return -EINVAL;

	kvm_viommu_ir_set_ioapic(viommu, &ioapic);
	return 0;
}

static int kvm_viommu_get_ir_fault(struct kvm_viommu *viommu,
				   void __user *uaddr)
{
	struct kvm_viommu_ir_fault record;

	/* Check first, so that a bad address does not consume a record. */
	if (!access_ok(uaddr, sizeof(record)))
		return -EFAULT;

	kvm_viommu_fault_pop(&viommu->faults, &record);
	if (copy_to_user(uaddr, &record, sizeof(record)))
		return -EFAULT;
	return 0;
}

static int kvm_viommu_set_fault_eventfd(struct kvm_viommu *viommu,
					void __user *uaddr)
{
	struct kvm_viommu_eventfd efd;

	if (copy_from_user(&efd, uaddr, sizeof(efd)))
		return -EFAULT;

	if (efd.flags ||
	    !kvm_viommu_reserved_zero(efd.reserved, ARRAY_SIZE(efd.reserved)))
		return -EINVAL;

	return kvm_viommu_fault_set_eventfd(&viommu->faults, efd.fd);
}

static int kvm_viommu_get_regs_config(struct kvm_viommu *viommu,
				      void __user *uaddr)
{
	struct kvm_viommu_regs_config config = {};

	kvm_viommu_regs_get_config(viommu, &config);
	if (copy_to_user(uaddr, &config, sizeof(config)))
		return -EFAULT;
	return 0;
}

static int kvm_viommu_set_regs_config(struct kvm_viommu *viommu,
				      void __user *uaddr)
{
	struct kvm_viommu_regs_config config;

	if (copy_from_user(&config, uaddr, sizeof(config)))
		return -EFAULT;

	if (config.flags || config.pad ||
	    !kvm_viommu_reserved_zero(config.reserved,
				      ARRAY_SIZE(config.reserved)))
		return -EINVAL;

	return kvm_viommu_regs_configure(viommu, &config);
}

static int kvm_viommu_get_regs_state(struct kvm_viommu *viommu,
				     void __user *uaddr)
{
	struct kvm_viommu_regs_state *state;
	int r = 0;

	if (!viommu->regs.configured)
		return -ENXIO;

	/* Too big for the stack. */
	state = kzalloc(sizeof(*state), GFP_KERNEL_ACCOUNT);
	if (!state)
		return -ENOMEM;
	kvm_viommu_regs_get_state(viommu, state);
	if (copy_to_user(uaddr, state, sizeof(*state)))
		r = -EFAULT;
	kfree(state);
	return r;
}

static int kvm_viommu_set_regs_state(struct kvm_viommu *viommu,
				     void __user *uaddr)
{
	struct kvm_viommu_regs_state *state;
	int r;

	state = memdup_user(uaddr, sizeof(*state));
	if (IS_ERR(state))
		return PTR_ERR(state);

	if (state->flags ||
	    !kvm_viommu_reserved_zero(state->reserved,
				      ARRAY_SIZE(state->reserved)))
		r = -EINVAL;
	else
		r = kvm_viommu_regs_set_state(viommu, state);
	kfree(state);
	return r;
}

static int kvm_viommu_set_event_config(struct kvm_viommu *viommu,
				       void __user *uaddr)
{
	struct kvm_viommu_event_config config;

	if (copy_from_user(&config, uaddr, sizeof(config)))
		return -EFAULT;

	if (!kvm_viommu_reserved_zero(config.reserved,
				      ARRAY_SIZE(config.reserved)))
		return -EINVAL;

	return kvm_viommu_events_configure(viommu, &config);
}

static int kvm_viommu_get_event(struct kvm_viommu *viommu, void __user *uaddr)
{
	struct kvm_viommu_event event;

	/* Check first, so that a bad address does not consume an event. */
	if (!access_ok(uaddr, sizeof(event)))
		return -EFAULT;

	kvm_viommu_event_pop(viommu, &event);
	if (copy_to_user(uaddr, &event, sizeof(event)))
		return -EFAULT;
	return 0;
}

static int kvm_viommu_set_event_ack(struct kvm_viommu *viommu,
				    void __user *uaddr)
{
	struct kvm_viommu_event_ack ack;

	if (copy_from_user(&ack, uaddr, sizeof(ack)))
		return -EFAULT;

	if (!kvm_viommu_reserved_zero(ack.reserved, ARRAY_SIZE(ack.reserved)))
		return -EINVAL;

	return kvm_viommu_event_ack(viommu, ack.seq);
}

/* The register file and the event ring change under viommu->lock. */
static int kvm_viommu_get_locked_attr(struct kvm_viommu *viommu, u32 group,
				      u64 attr, void __user *uaddr)
{
	int r = -ENXIO;

	mutex_lock(&viommu->lock);
	if (group == KVM_DEV_VIOMMU_GRP_REGS && attr == KVM_DEV_VIOMMU_REGS_CONFIG)
		r = kvm_viommu_get_regs_config(viommu, uaddr);
	else if (group == KVM_DEV_VIOMMU_GRP_REGS && attr == KVM_DEV_VIOMMU_REGS_STATE)
		r = kvm_viommu_get_regs_state(viommu, uaddr);
	else if (group == KVM_DEV_VIOMMU_GRP_EVENT && attr == KVM_DEV_VIOMMU_EVENT_POP)
		r = kvm_viommu_get_event(viommu, uaddr);
	mutex_unlock(&viommu->lock);
	return r;
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
		switch (attr->attr) {
		case KVM_DEV_VIOMMU_CTRL_INFO:
			return kvm_viommu_get_info(uaddr);
		case KVM_DEV_VIOMMU_CTRL_STATS:
			return kvm_viommu_get_stats(viommu, uaddr);
		}
		break;
	case KVM_DEV_VIOMMU_GRP_IR:
		switch (attr->attr) {
		case KVM_DEV_VIOMMU_IR_TABLE:
			return kvm_viommu_get_ir_table(viommu, uaddr);
		case KVM_DEV_VIOMMU_IR_STATUS:
			return kvm_viommu_get_ir_status(viommu, uaddr);
		case KVM_DEV_VIOMMU_IR_FAULT:
			return kvm_viommu_get_ir_fault(viommu, uaddr);
		case KVM_DEV_VIOMMU_IR_IOAPIC:
			return kvm_viommu_get_ir_ioapic(viommu, uaddr);
		}
		break;
	case KVM_DEV_VIOMMU_GRP_REGS:
	case KVM_DEV_VIOMMU_GRP_EVENT:
		return kvm_viommu_get_locked_attr(viommu, attr->group,
						  attr->attr, uaddr);
	}

	return -ENXIO;
}

static int kvm_viommu_set_ir_attr(struct kvm_viommu *viommu, u64 attr,
				  void __user *uaddr)
{
	switch (attr) {
	case KVM_DEV_VIOMMU_IR_TABLE:
		return kvm_viommu_set_ir_table(viommu, uaddr);
	case KVM_DEV_VIOMMU_IR_STATUS:
		return kvm_viommu_set_ir_status(viommu, uaddr);
	case KVM_DEV_VIOMMU_IR_INVALIDATE:
		return kvm_viommu_ir_invalidate_attr(viommu, uaddr);
	case KVM_DEV_VIOMMU_IR_FAULT_EVENTFD:
		return kvm_viommu_set_fault_eventfd(viommu, uaddr);
	case KVM_DEV_VIOMMU_IR_IOAPIC:
		return kvm_viommu_set_ir_ioapic(viommu, uaddr);
	}

	return -ENXIO;
}

static int kvm_viommu_set_regs_attr(struct kvm_viommu *viommu, u64 attr,
				    void __user *uaddr)
{
	switch (attr) {
	case KVM_DEV_VIOMMU_REGS_CONFIG:
		return kvm_viommu_set_regs_config(viommu, uaddr);
	case KVM_DEV_VIOMMU_REGS_STATE:
		return kvm_viommu_set_regs_state(viommu, uaddr);
	}

	return -ENXIO;
}

static int kvm_viommu_set_event_attr(struct kvm_viommu *viommu, u64 attr,
				     void __user *uaddr)
{
	switch (attr) {
	case KVM_DEV_VIOMMU_EVENT_CONFIG:
		return kvm_viommu_set_event_config(viommu, uaddr);
	case KVM_DEV_VIOMMU_EVENT_ACK:
		return kvm_viommu_set_event_ack(viommu, uaddr);
	}

	return -ENXIO;
}

static int kvm_viommu_set_attr(struct kvm_device *dev,
			       struct kvm_device_attr *attr)
{
	void __user *uaddr = u64_to_user_ptr(attr->addr);
	struct kvm_viommu *viommu = dev->private;
	int r;

	if (attr->flags)
		return -EINVAL;

	mutex_lock(&viommu->lock);
	switch (attr->group) {
	case KVM_DEV_VIOMMU_GRP_IR:
		r = kvm_viommu_set_ir_attr(viommu, attr->attr, uaddr);
		break;
	case KVM_DEV_VIOMMU_GRP_REGS:
		r = kvm_viommu_set_regs_attr(viommu, attr->attr, uaddr);
		break;
	case KVM_DEV_VIOMMU_GRP_EVENT:
		r = kvm_viommu_set_event_attr(viommu, attr->attr, uaddr);
		break;
	default:
		r = -ENXIO;
	}
	mutex_unlock(&viommu->lock);
	return r;
}

static int kvm_viommu_has_attr(struct kvm_device *dev,
			       struct kvm_device_attr *attr)
{
	if (attr->flags)
		return -EINVAL;

	switch (attr->group) {
	case KVM_DEV_VIOMMU_GRP_CTRL:
		switch (attr->attr) {
		case KVM_DEV_VIOMMU_CTRL_INFO:
		case KVM_DEV_VIOMMU_CTRL_STATS:
			return 0;
		}
		break;
	case KVM_DEV_VIOMMU_GRP_IR:
		switch (attr->attr) {
		case KVM_DEV_VIOMMU_IR_TABLE:
		case KVM_DEV_VIOMMU_IR_STATUS:
		case KVM_DEV_VIOMMU_IR_INVALIDATE:
		case KVM_DEV_VIOMMU_IR_FAULT:
		case KVM_DEV_VIOMMU_IR_FAULT_EVENTFD:
		case KVM_DEV_VIOMMU_IR_IOAPIC:
			return 0;
		}
		break;
	case KVM_DEV_VIOMMU_GRP_REGS:
		switch (attr->attr) {
		case KVM_DEV_VIOMMU_REGS_CONFIG:
		case KVM_DEV_VIOMMU_REGS_STATE:
			return 0;
		}
		break;
	case KVM_DEV_VIOMMU_GRP_EVENT:
		switch (attr->attr) {
		case KVM_DEV_VIOMMU_EVENT_CONFIG:
		case KVM_DEV_VIOMMU_EVENT_POP:
		case KVM_DEV_VIOMMU_EVENT_ACK:
			return 0;
		}
		break;
	}

	return -ENXIO;
}

static int kvm_viommu_stats_show(struct seq_file *m, void *unused)
{
	struct kvm_viommu *viommu = m->private;
	struct kvm_viommu_counters sum;

	kvm_viommu_read_counters(viommu, &sum);
	seq_printf(m, "hits %llu\nmisses %llu\nfaults %llu\ninvalidations %llu\natomic_hits %llu\n",
		   sum.hits, sum.misses, sum.faults, sum.invalidations,
		   sum.atomic_hits);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(kvm_viommu_stats);

static void kvm_viommu_free(struct kvm_viommu *viommu)
{
	kvm_viommu_events_destroy(&viommu->events);
	kvm_viommu_faults_destroy(&viommu->faults);
	free_percpu(viommu->counters);
	kfree(viommu);
}

static int kvm_viommu_create(struct kvm_device *dev, u32 type)
{
	struct kvm *kvm = dev->kvm;
	struct kvm_viommu *viommu;
	struct kvm_device *tmp;

	lockdep_assert_held(&kvm->lock);

	/* A VT-d unit models the platform's one remapping hardware unit. */
	list_for_each_entry(tmp, &kvm->devices, vm_node)
		if (tmp->ops == &kvm_viommu_ops)
			return -EEXIST;

	if (!kvm_arch_viommu_supported(kvm))
		return -EINVAL;

	viommu = kzalloc(sizeof(*viommu), GFP_KERNEL_ACCOUNT);
	if (!viommu)
		return -ENOMEM;
	viommu->counters = alloc_percpu_gfp(struct kvm_viommu_counters,
					    GFP_KERNEL_ACCOUNT);
	if (!viommu->counters) {
		kfree(viommu);
		return -ENOMEM;
	}

	viommu->kvm = kvm;
	mutex_init(&viommu->lock);
	kvm_viommu_ir_init(viommu);
	kvm_viommu_faults_init(&viommu->faults);
	dev->private = viommu;

	spin_lock(&kvm_viommu_table_lock);
	hash_add_rcu(kvm_viommu_table, &viommu->link, (unsigned long)kvm);
	spin_unlock(&kvm_viommu_table_lock);

	/* The VM's debugfs directory, and this file with it, goes first. */
	if (!IS_ERR_OR_NULL(kvm->debugfs_dentry))
		debugfs_create_file("viommu_stats", 0444, kvm->debugfs_dentry,
				    viommu, &kvm_viommu_stats_fops);
	return 0;
}

static void kvm_viommu_destroy(struct kvm_device *dev)
{
	struct kvm_viommu *viommu = dev->private;
	struct kvm *kvm = dev->kvm;

	/*
	 * A VM being destroyed has removed its debugfs directory already;
	 * a live one is here because KVM_CREATE_DEVICE failed after .create.
	 */
	if (refcount_read(&kvm->users_count) && !IS_ERR_OR_NULL(kvm->debugfs_dentry))
		debugfs_lookup_and_remove("viommu_stats", kvm->debugfs_dentry);

	spin_lock(&kvm_viommu_table_lock);
	hash_del_rcu(&viommu->link);
	spin_unlock(&kvm_viommu_table_lock);
	synchronize_rcu();

	kvm_viommu_ir_destroy(viommu);
	kvm_viommu_free(viommu);
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
