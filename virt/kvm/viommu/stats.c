// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device's statistics: per-CPU counters (struct kvm_viommu_counters),
 * described once, below, and read through a file in KVM's binary stats
 * format (KVM_DEV_VIOMMU_CTRL_STATS_FD) and through debugfs.
 */

#include <linux/file.h>
#include <linux/kvm_host.h>
#include <linux/seq_file.h>

#include "viommu.h"

/*
 * struct _kvm_stats_desc, but without the flexible name[] of struct
 * kvm_stats_desc inside it: sparse rejects an array of that.  The same
 * layout, so that kvm_stats_read() copies the table out as it is.
 */
struct kvm_viommu_stats_desc {
	u32 flags;
	s16 exponent;
	u16 size;
	u32 offset;
	u32 bucket_size;
	char name[KVM_STATS_NAME_SIZE];
};

static_assert(sizeof(struct kvm_viommu_stats_desc) == sizeof(struct _kvm_stats_desc));
static_assert(offsetof(struct kvm_viommu_stats_desc, offset) ==
	      offsetof(struct _kvm_stats_desc, desc.offset));
static_assert(offsetof(struct kvm_viommu_stats_desc, name) ==
	      offsetof(struct _kvm_stats_desc, name));

#define KVM_VIOMMU_STAT(off)						\
	STATS_DESC_COMMON(KVM_STATS_TYPE_CUMULATIVE, KVM_STATS_UNIT_NONE,	\
			  KVM_STATS_BASE_POW10, 0, 1, 0),		\
	.offset = (off)
#define KVM_VIOMMU_COUNTER(field)					\
	{ KVM_VIOMMU_STAT(offsetof(struct kvm_viommu_counters, field)),	\
	  .name = #field }
#define KVM_VIOMMU_IR_FAULT(_name, reason)				\
	{ KVM_VIOMMU_STAT(offsetof(struct kvm_viommu_counters,		\
				   ir_faults[KVM_VIOMMU_FR_IR_##reason -	\
					     KVM_VIOMMU_FR_IR_REQ_RSVD])),	\
	  .name = "ir_fault_" #_name }
#define KVM_VIOMMU_REMAPPED(_name, path)					\
	{ KVM_VIOMMU_STAT(offsetof(struct kvm_viommu_counters,		\
				   remapped[KVM_VIOMMU_IR_PATH_##path])),	\
	  .name = "remapped_" #_name }
#define KVM_VIOMMU_QI_DESC(_name, type)					\
	{ KVM_VIOMMU_STAT(offsetof(struct kvm_viommu_counters, qi_desc[type])), \
	  .name = "qi_desc_" #_name }

static const struct kvm_viommu_stats_desc kvm_viommu_stats_desc[] = {
	KVM_VIOMMU_REMAPPED(msi_atomic, MSI_ATOMIC),
	KVM_VIOMMU_REMAPPED(msi_process, MSI_PROCESS),
	KVM_VIOMMU_REMAPPED(ioapic, IOAPIC),
	KVM_VIOMMU_COUNTER(ir_hits),
	KVM_VIOMMU_COUNTER(ir_misses),
	KVM_VIOMMU_COUNTER(ir_fills),
	KVM_VIOMMU_COUNTER(ir_invalidations),
	KVM_VIOMMU_IR_FAULT(req_rsvd, REQ_RSVD),
	KVM_VIOMMU_IR_FAULT(index_over, INDEX_OVER),
	KVM_VIOMMU_IR_FAULT(entry_p, ENTRY_P),
	KVM_VIOMMU_IR_FAULT(root_inval, ROOT_INVAL),
	KVM_VIOMMU_IR_FAULT(irte_rsvd, IRTE_RSVD),
	KVM_VIOMMU_IR_FAULT(compat, COMPAT),
	KVM_VIOMMU_IR_FAULT(sid_err, SID_ERR),
	KVM_VIOMMU_COUNTER(dmar_faults),
	KVM_VIOMMU_QI_DESC(invalid, 0),
	KVM_VIOMMU_QI_DESC(context, VTD_DESC_CONTEXT),
	KVM_VIOMMU_QI_DESC(iotlb, VTD_DESC_IOTLB),
	KVM_VIOMMU_QI_DESC(devtlb, VTD_DESC_DEVTLB),
	KVM_VIOMMU_QI_DESC(iec, VTD_DESC_IEC),
	KVM_VIOMMU_QI_DESC(wait, VTD_DESC_WAIT),
	KVM_VIOMMU_COUNTER(events_queued),
	KVM_VIOMMU_COUNTER(events_lost),
	KVM_VIOMMU_COUNTER(exits_avoided),
};

/* A counter without a name would be summed and never shown. */
static_assert(ARRAY_SIZE(kvm_viommu_stats_desc) ==
	      sizeof(struct kvm_viommu_counters) / sizeof(u64));

static const struct kvm_stats_header kvm_viommu_stats_header = {
	.name_size = KVM_STATS_NAME_SIZE,
	.num_desc = ARRAY_SIZE(kvm_viommu_stats_desc),
	.id_offset = sizeof(struct kvm_stats_header),
	.desc_offset = sizeof(struct kvm_stats_header) + KVM_STATS_NAME_SIZE,
	.data_offset = sizeof(struct kvm_stats_header) + KVM_STATS_NAME_SIZE +
		       sizeof(kvm_viommu_stats_desc),
};

static u64 *kvm_viommu_stat(struct kvm_viommu_counters *counters,
			    const struct kvm_viommu_stats_desc *d)
{
	return (void *)counters + d->offset;
}

/* Each CPU's counters added up; a CPU's own may wrap, the sum does not. */
static void kvm_viommu_stats_sum(struct kvm_viommu *viommu,
				 struct kvm_viommu_counters *sum)
{
	const struct kvm_viommu_stats_desc *d;
	int cpu;

	memset(sum, 0, sizeof(*sum));
	for_each_possible_cpu(cpu)
		for (d = kvm_viommu_stats_desc;
		     d < kvm_viommu_stats_desc + ARRAY_SIZE(kvm_viommu_stats_desc); d++)
			*kvm_viommu_stat(sum, d) +=
				*kvm_viommu_stat(per_cpu_ptr(viommu->counters, cpu), d);
}

void kvm_viommu_stats_init(struct kvm_viommu *viommu)
{
	snprintf(viommu->stats_id, sizeof(viommu->stats_id), "%s-viommu",
		 viommu->kvm->stats_id);
}

static ssize_t kvm_viommu_stats_read(struct file *file, char __user *buf,
				     size_t size, loff_t *offset)
{
	struct kvm_viommu *viommu = file->private_data;
	struct kvm_viommu_counters sum;

	kvm_viommu_stats_sum(viommu, &sum);
	return kvm_stats_read(viommu->stats_id, &kvm_viommu_stats_header,
			      (const struct _kvm_stats_desc *)kvm_viommu_stats_desc,
			      &sum, sizeof(sum), buf, size, offset);
}

static int kvm_viommu_stats_release(struct inode *inode, struct file *file)
{
	struct kvm_viommu *viommu = file->private_data;

	kvm_put_kvm(viommu->kvm);
	return 0;
}

static const struct file_operations kvm_viommu_stats_fops = {
	.owner = THIS_MODULE,
	.read = kvm_viommu_stats_read,
	.release = kvm_viommu_stats_release,
	.llseek = noop_llseek,
};

/*
 * A new file of the device's statistics, as KVM_GET_STATS_FD makes for a
 * VM, and as kvm_viommu_get_file() makes it.
 */
int kvm_viommu_stats_get_file(struct kvm_viommu *viommu, struct file **file)
{
	int fd = kvm_viommu_get_file(viommu->kvm, "kvm-viommu-stats",
				     &kvm_viommu_stats_fops, viommu, file);

	if (fd >= 0)
		(*file)->f_mode |= FMODE_PREAD;
	return fd;
}

static int kvm_viommu_stats_show(struct seq_file *m, void *unused)
{
	struct kvm_viommu_counters sum;
	const struct kvm_viommu_stats_desc *d;

	kvm_viommu_stats_sum(m->private, &sum);
	for (d = kvm_viommu_stats_desc;
	     d < kvm_viommu_stats_desc + ARRAY_SIZE(kvm_viommu_stats_desc); d++)
		seq_printf(m, "%s %llu\n", d->name, *kvm_viommu_stat(&sum, d));
	return 0;
}

static int kvm_viommu_stats_open(struct inode *inode, struct file *file)
{
	return single_open(file, kvm_viommu_stats_show, inode->i_private);
}

const struct file_operations kvm_viommu_stats_debugfs_fops = {
	.owner = THIS_MODULE,
	.open = kvm_viommu_stats_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};
