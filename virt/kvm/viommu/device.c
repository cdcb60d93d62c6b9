// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM device for a guest-visible Intel VT-d IOMMU.
 *
 * The VMM owns the machine model; this device holds the state that KVM's
 * fast paths need, and lives until the VM is destroyed so that those paths
 * never see it vanish under a running guest.
 */

#include <linux/anon_inodes.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/hashtable.h>
#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>
#include <linux/module.h>
#include <linux/percpu.h>
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

/*
 * A published viommu stays in the table until its VM is destroyed, when
 * nothing can look it up any more (see struct kvm_viommu): the fast paths
 * use what they find without a reference.
 */
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

/*
 * KVM_CREATE_DEVICE can still fail after .create, and then destroys the
 * device while the VM runs on.  So the fast paths learn of the device only
 * once the VMM uses its file descriptor, which proves that it exists: no
 * interrupt can be remapped before the VMM has set an attribute.
 */
static void kvm_viommu_publish(struct kvm_viommu *viommu)
{
	/* Only a shortcut: the table lock decides. */
	if (READ_ONCE(viommu->published))
		return;

	spin_lock(&kvm_viommu_table_lock);
	if (!viommu->published) {
		hash_add_rcu(kvm_viommu_table, &viommu->link,
			     (unsigned long)viommu->kvm);
		WRITE_ONCE(viommu->published, true);
	}
	spin_unlock(&kvm_viommu_table_lock);
}

static void kvm_viommu_unpublish(struct kvm_viommu *viommu)
{
	if (!viommu->published)
		return;

	spin_lock(&kvm_viommu_table_lock);
	hash_del_rcu(&viommu->link);
	spin_unlock(&kvm_viommu_table_lock);
	synchronize_rcu();
}

/* What a VT-d unit does at system reset; what the VMM configured stays. */
int kvm_viommu_reset(struct kvm_viommu *viommu)
{
	lockdep_assert_held(&viommu->lock);
	kvm_viommu_regs_reset(viommu);
	kvm_viommu_ir_reset(viommu);
	kvm_viommu_events_ack_all(&viommu->events);
	return 0;
}

static int kvm_viommu_get_info(struct kvm_viommu *viommu, void *data)
{
	struct kvm_viommu_info *info = data;

	info->flags = KVM_VIOMMU_INFO_MSI_DEVID;
	return 0;
}

/*
 * As KVM_CREATE_DEVICE's, the new fd is installed before it is copied
 * out: a VMM that passes a bad address gets -EFAULT and an fd it did not
 * learn of, open until it exits.
 */
static int kvm_viommu_set_reset(struct kvm_viommu *viommu, void *data)
{
	struct kvm_viommu_reset *reset = data;

	if (reset->flags)
		return -EINVAL;

	return kvm_viommu_reset(viommu);
}

static int kvm_viommu_get_ir_table(struct kvm_viommu *viommu, void *data)
{
	struct kvm_viommu_ir_table *table = data;

	table->irta = READ_ONCE(viommu->irta);
	return 0;
}

/*
 * Once KVM serves the register page, the guest's registers and REGS_STATE
 * are the one way to set the IR state.
 */
static int kvm_viommu_ir_state_settable(struct kvm_viommu *viommu)
{
	return viommu->regs.configured ? -EBUSY : 0;
}

static int kvm_viommu_set_ir_table(struct kvm_viommu *viommu, void *data)
{
	struct kvm_viommu_ir_table *table = data;

	if (table->flags || table->__reserved)
		return -EINVAL;

	return kvm_viommu_ir_state_settable(viommu) ?:
	       kvm_viommu_ir_set_table(viommu, table->irta);
}

static int kvm_viommu_get_ir_status(struct kvm_viommu *viommu, void *data)
{
	struct kvm_viommu_ir_status *status = data;

	status->flags = READ_ONCE(viommu->ir_flags);
	return 0;
}

static int kvm_viommu_set_ir_status(struct kvm_viommu *viommu, void *data)
{
	struct kvm_viommu_ir_status *status = data;

	return kvm_viommu_ir_state_settable(viommu) ?:
	       kvm_viommu_ir_set_flags(viommu, status->flags);
}

static int kvm_viommu_set_iec(struct kvm_viommu *viommu, void *data)
{
	return kvm_viommu_ir_invalidate(viommu, data);
}

static int kvm_viommu_get_ir_ioapic(struct kvm_viommu *viommu, void *data)
{
	kvm_viommu_ir_get_ioapic(viommu, data);
	return 0;
}

static int kvm_viommu_set_ir_ioapic(struct kvm_viommu *viommu, void *data)
{
	struct kvm_viommu_ir_ioapic *ioapic = data;

	if (ioapic->flags & ~KVM_VIOMMU_IOAPIC_SID_VALID)
		return -EINVAL;

	kvm_viommu_ir_set_ioapic(viommu, ioapic);
	return 0;
}

static int kvm_viommu_get_ir_config(struct kvm_viommu *viommu, void *data)
{
	kvm_viommu_ir_get_config(viommu, data);
	return 0;
}

static int kvm_viommu_set_ir_config(struct kvm_viommu *viommu, void *data)
{
	return kvm_viommu_ir_set_config(viommu, data);
}

/*
 * A new read-only file for the VMM, and the number it is to have: the get
 * that makes it installs it once the VMM has the number.  The file holds
 * the VM, and with it the device, which lives until the VM is destroyed;
 * its release puts the VM.
 */
int kvm_viommu_get_file(struct kvm *kvm, const char *name,
			const struct file_operations *fops, void *priv,
			struct file **file)
{
	int fd = get_unused_fd_flags(O_CLOEXEC);

	if (fd < 0)
		return fd;

	*file = anon_inode_getfile(name, fops, priv, O_RDONLY);
	if (IS_ERR(*file)) {
		put_unused_fd(fd);
		return PTR_ERR(*file);
	}
	kvm_get_kvm(kvm);
	return fd;
}

/*
 * A get that makes a file: the file gets its number at once, but joins
 * the VMM's file table only once the VMM has the number, so that a copy
 * that fails leaves no descriptor behind.
 */
struct kvm_viommu_fd_get {
	struct kvm_viommu_fd out;
	struct file *file;
};

static int kvm_viommu_fd_got(void *data, int fd, struct file *file)
{
	struct kvm_viommu_fd_get *get = data;

	if (fd < 0)
		return fd;
	get->out.fd = fd;
	get->file = file;
	return 0;
}

static void kvm_viommu_fd_copied(void *data, bool copied)
{
	struct kvm_viommu_fd_get *get = data;

	if (copied) {
		fd_install(get->out.fd, get->file);
		return;
	}
	put_unused_fd(get->out.fd);
	fput(get->file);
}

static int kvm_viommu_get_stats_fd(struct kvm_viommu *viommu, void *data)
{
	struct file *file;
	int fd = kvm_viommu_stats_get_file(viommu, &file);

	return kvm_viommu_fd_got(data, fd, file);
}

static int kvm_viommu_get_fault_fd(struct kvm_viommu *viommu, void *data)
{
	struct file *file;
	int fd = kvm_viommu_ring_get_file(&viommu->faults, &file);

	return kvm_viommu_fd_got(data, fd, file);
}

static int kvm_viommu_get_event_fd(struct kvm_viommu *viommu, void *data)
{
	struct file *file;
	int fd = kvm_viommu_ring_get_file(&viommu->events.ring, &file);

	return kvm_viommu_fd_got(data, fd, file);
}

static int kvm_viommu_get_regs_config(struct kvm_viommu *viommu, void *data)
{
	kvm_viommu_regs_get_config(viommu, data);
	return 0;
}

static int kvm_viommu_set_regs_config(struct kvm_viommu *viommu, void *data)
{
	struct kvm_viommu_regs_config *config = data;

	if (config->flags)
		return -EINVAL;

	return kvm_viommu_regs_configure(viommu, config);
}

static int kvm_viommu_get_regs_state(struct kvm_viommu *viommu, void *data)
{
	if (!viommu->regs.configured)
		return -ENXIO;

	kvm_viommu_regs_get_state(viommu, data);
	return 0;
}

static int kvm_viommu_set_regs_state(struct kvm_viommu *viommu, void *data)
{
	struct kvm_viommu_regs_state *state = data;

	if (state->flags || state->__reserved)
		return -EINVAL;

	return kvm_viommu_regs_set_state(viommu, state);
}

static int kvm_viommu_set_dmar_fault(struct kvm_viommu *viommu, void *data)
{
	struct kvm_viommu_dmar_fault *fault = data;
	int r;

	if (fault->flags & ~KVM_VIOMMU_DMAR_FAULT_FLAGS || fault->__reserved ||
	    !fault->reason ||
	    (!(fault->flags & KVM_VIOMMU_DMAR_FAULT_PASID) && fault->pasid) ||
	    fault->pasid >> 20 || fault->addr & ~PAGE_MASK)
		return -EINVAL;

	r = kvm_viommu_regs_dmar_fault(viommu, fault);
	if (!r)
		this_cpu_inc(viommu->counters->dmar_faults);
	return r;
}

static int kvm_viommu_set_event_config(struct kvm_viommu *viommu, void *data)
{
	return kvm_viommu_events_configure(viommu, data);
}

static int kvm_viommu_set_event_ack(struct kvm_viommu *viommu, void *data)
{
	struct kvm_viommu_event_ack *ack = data;

	return kvm_viommu_event_ack(viommu, ack->seq);
}

/*
 * One attribute: its structure, up to the last field that means
 * something, and what get and set do with it.  The structure is copied
 * between the VMM and the kernel outside every lock, so that a VMM page
 * fault (userfaultfd, postcopy) never holds a lock that KVM's own workers
 * take.
 *
 * A set with anything but zeroes after @last fails here, once for all.
 * Handlers run under viommu->lock unless @unlocked.  A get with @copied
 * learns whether the VMM got the structure: it makes something that must
 * not exist unless the VMM knows of it.
 */
struct kvm_viommu_attr {
	u32 group;
	u64 attr;
	size_t size;
	/* offsetofend() of the last field; what follows must be 0 on set. */
	size_t last;
	bool unlocked;
	int (*get)(struct kvm_viommu *viommu, void *data);
	int (*set)(struct kvm_viommu *viommu, void *data);
	void (*copied)(void *data, bool copied);
};

/* The largest structure: every call copies through the stack. */
#define KVM_VIOMMU_ATTR_MAX						\
	(sizeof(struct kvm_viommu_regs_state) >				\
	 sizeof(struct kvm_viommu_fd_get) ?			\
	 sizeof(struct kvm_viommu_regs_state) :				\
	 sizeof(struct kvm_viommu_fd_get))

/*
 * An attribute carries struct kvm_viommu_<name>; its handlers are
 * kvm_viommu_get_<name>() and kvm_viommu_set_<name>().
 */
#define KVM_VIOMMU_ATTR(_group, _attr, name, _last, ...)		\
	{ .group = KVM_DEV_VIOMMU_GRP_##_group,				\
	  .attr = KVM_DEV_VIOMMU_##_attr,				\
	  .size = sizeof(struct kvm_viommu_##name),			\
	  .last = offsetofend(struct kvm_viommu_##name, _last), __VA_ARGS__ }

#define KVM_VIOMMU_ATTR_GET_SET(_group, _attr, name, _last)		\
	KVM_VIOMMU_ATTR(_group, _attr, name, _last,			\
			.get = kvm_viommu_get_##name,			\
			.set = kvm_viommu_set_##name)

#define KVM_VIOMMU_ATTR_SET(_group, _attr, name, _last)			\
	KVM_VIOMMU_ATTR(_group, _attr, name, _last, .set = kvm_viommu_set_##name)

/* A new file must not need viommu->lock, and dies if the VMM never saw it. */
#define KVM_VIOMMU_ATTR_FD(_group, _attr, name)				\
	KVM_VIOMMU_ATTR(_group, _attr, fd, fd, .unlocked = true,	\
			.get = kvm_viommu_get_##name##_fd,		\
			.copied = kvm_viommu_fd_copied)

static const struct kvm_viommu_attr kvm_viommu_attrs[] = {
	/* The device itself */
	KVM_VIOMMU_ATTR(CTRL, CTRL_INFO, info, flags, .unlocked = true, .get = kvm_viommu_get_info),
	KVM_VIOMMU_ATTR_FD(CTRL, CTRL_STATS_FD, stats),
	KVM_VIOMMU_ATTR_SET(CTRL, CTRL_RESET, reset, flags),

	/* Interrupt remapping, for a VMM that serves the registers itself */
	KVM_VIOMMU_ATTR_GET_SET(IR, IR_TABLE, ir_table, irta),
	KVM_VIOMMU_ATTR_GET_SET(IR, IR_STATUS, ir_status, flags),
	KVM_VIOMMU_ATTR_SET(IR, IR_INVALIDATE, iec, mask),
	KVM_VIOMMU_ATTR_FD(IR, IR_FAULT_FD, fault),
	KVM_VIOMMU_ATTR_GET_SET(IR, IR_IOAPIC, ir_ioapic, sid),
	KVM_VIOMMU_ATTR_GET_SET(IR, IR_CONFIG, ir_config, flags),

	/* The register page KVM serves, and its migration */
	KVM_VIOMMU_ATTR_GET_SET(REGS, REGS_CONFIG, regs_config, ecap),
	KVM_VIOMMU_ATTR_GET_SET(REGS, REGS_STATE, regs_state, frcd),
	KVM_VIOMMU_ATTR_SET(REGS, REGS_FAULT, dmar_fault, pasid),

	/* What the VMM must finish before the guest sees completion */
	KVM_VIOMMU_ATTR_SET(EVENT, EVENT_CONFIG, event_config, entries),
	KVM_VIOMMU_ATTR_FD(EVENT, EVENT_FD, event),
	KVM_VIOMMU_ATTR_SET(EVENT, EVENT_ACK, event_ack, seq),
};

static const struct kvm_viommu_attr *
kvm_viommu_find_attr(const struct kvm_device_attr *attr)
{
	const struct kvm_viommu_attr *a;

	for (a = kvm_viommu_attrs; a < kvm_viommu_attrs + ARRAY_SIZE(kvm_viommu_attrs); a++)
		if (a->group == attr->group && a->attr == attr->attr)
			return a;
	return NULL;
}

static int kvm_viommu_call(struct kvm_viommu *viommu,
			   const struct kvm_viommu_attr *a,
			   int (*fn)(struct kvm_viommu *viommu, void *data),
			   void *data)
{
	int r;

	if (a->unlocked)
		return fn(viommu, data);

	mutex_lock(&viommu->lock);
	r = fn(viommu, data);
	mutex_unlock(&viommu->lock);
	return r;
}

static int kvm_viommu_attr_get(struct kvm_viommu *viommu,
			       const struct kvm_viommu_attr *a, void *data,
			       void __user *uaddr)
{
	bool copied;
	int r;

	r = kvm_viommu_call(viommu, a, a->get, data);
	if (r)
		return r;

	copied = !copy_to_user(uaddr, data, a->size);
	if (a->copied)
		a->copied(data, copied);
	return copied ? 0 : -EFAULT;
}

static int kvm_viommu_attr_access(struct kvm_device *dev,
				  struct kvm_device_attr *attr, bool set)
{
	u64 data[DIV_ROUND_UP(KVM_VIOMMU_ATTR_MAX, sizeof(u64))];
	void __user *uaddr = u64_to_user_ptr(attr->addr);
	struct kvm_viommu *viommu = dev->private;
	const struct kvm_viommu_attr *a;

	if (attr->flags)
		return -EINVAL;
	a = kvm_viommu_find_attr(attr);
	if (!a || !(set ? a->set : a->get))
		return -ENXIO;
	if (WARN_ON_ONCE(a->size > sizeof(data)))
		return -EINVAL;

	kvm_viommu_publish(viommu);

	if (!set) {
		memset(data, 0, a->size);
		return kvm_viommu_attr_get(viommu, a, data, uaddr);
	}
	if (copy_from_user(data, uaddr, a->size))
		return -EFAULT;
	if (memchr_inv((void *)data + a->last, 0, a->size - a->last))
		return -EINVAL;
	return kvm_viommu_call(viommu, a, a->set, data);
}

static int kvm_viommu_get_attr(struct kvm_device *dev,
			       struct kvm_device_attr *attr)
{
	return kvm_viommu_attr_access(dev, attr, false);
}

static int kvm_viommu_set_attr(struct kvm_device *dev,
			       struct kvm_device_attr *attr)
{
	return kvm_viommu_attr_access(dev, attr, true);
}

static int kvm_viommu_has_attr(struct kvm_device *dev,
			       struct kvm_device_attr *attr)
{
	if (attr->flags)
		return -EINVAL;
	return kvm_viommu_find_attr(attr) ? 0 : -ENXIO;
}

static void kvm_viommu_free(struct kvm_viommu *viommu)
{
	kvm_viommu_events_destroy(&viommu->events);
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
		kvm_viommu_free(viommu);
		return -ENOMEM;
	}

	viommu->kvm = kvm;
	kvm_viommu_stats_init(viommu);
	mutex_init(&viommu->lock);
	spin_lock_init(&viommu->regs.pending_lock);
	kvm_viommu_qi_init(viommu);
	if (kvm_viommu_events_init(viommu)) {
		kvm_viommu_free(viommu);
		return -ENOMEM;
	}
	if (kvm_viommu_ir_init(viommu)) {
		kvm_viommu_free(viommu);
		return -ENOMEM;
	}
	dev->private = viommu;

	/* The VM's debugfs directory, and this file with it, goes first. */
	if (!IS_ERR_OR_NULL(kvm->debugfs_dentry))
		debugfs_create_file("viommu_stats", 0444, kvm->debugfs_dentry,
				    viommu, &kvm_viommu_stats_debugfs_fops);
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

	kvm_viommu_unpublish(viommu);
	kvm_viommu_qi_destroy(viommu);
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
