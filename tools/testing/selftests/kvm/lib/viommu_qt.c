// SPDX-License-Identifier: GPL-2.0-only
/*
 * A guest that runs the driver's register sequences command by command; see
 * include/viommu_qt.h.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_regs.h"
#include "viommu_qt.h"

/* ---- guest side ---------------------------------------------------------------- */

static struct qt_mbox qt_mbox;
static struct vtd_iommu qt_iommu;
/* The host's copy is qt_set_guest_op()'s; the guest's, __qt_create()'s sync. */
static qt_guest_op_t qt_guest_op;

static void qt_guest_exec(struct qt_mbox *m)
{
	uint64_t *a = m->arg, spins;
	int i;

	m->ret = 0;
	switch (m->op) {
	case QT_OP_NOP:
		/* Room for interrupts the host just sent. */
		for (i = 0; i < 1000; i++)
			cpu_relax();
		break;
	case QT_OP_READ:
		m->ret = vtd_read(&qt_iommu, a[0], a[1]);
		break;
	case QT_OP_WRITE:
		vtd_write(&qt_iommu, a[0], a[1], a[2]);
		break;
	case QT_OP_ENABLE_QI:
		vtd_enable_qi(&qt_iommu, VTD_QUEUE_GPA, a[0], a[1], VTD_STATUS_GPA);
		break;
	case QT_OP_DISABLE_QI:
		vtd_disable_qi(&qt_iommu);
		break;
	case QT_OP_BRINGUP:
		vtd_enable_qi(&qt_iommu, VTD_QUEUE_GPA, a[0], a[1], VTD_STATUS_GPA);
		m->ret = vtd_set_irq_remapping(&qt_iommu, a[2]);
		if (!m->ret)
			vtd_enable_irq_remapping(&qt_iommu);
		break;
	case QT_OP_DISABLE_IR:
		vtd_disable_irq_remapping(&qt_iommu);
		break;
	case QT_OP_SET_IRTP:
		m->ret = vtd_set_irq_remapping(&qt_iommu, a[0]);
		break;
	case QT_OP_GCMD:
		qt_iommu.gcmd = a[0];
		vtd_writel(&qt_iommu, DMAR_GCMD_REG, qt_iommu.gcmd | a[1]);
		m->ret = vtd_wait_gsts(&qt_iommu, a[2], a[3]);
		break;
	case QT_OP_SUBMIT:
		m->ret = vtd_qi_submit_sync(&qt_iommu, m->desc, m->nr);
		break;
	case QT_OP_QUEUE:
		m->ret = vtd_qi_queue(&qt_iommu, m->desc, m->nr);
		if (a[0] & QT_Q_WAIT)
			m->ret2 = vtd_qi_queue_wait(&qt_iommu, a[1]);
		if (a[0] & QT_Q_RING)
			vtd_qi_doorbell(&qt_iommu);
		break;
	case QT_OP_POLL:
		spins = qt_iommu.spins;
		if (a[2])
			qt_iommu.spins = a[2];
		m->ret = vtd_qi_poll(&qt_iommu, a[0], a[1]);
		qt_iommu.spins = spins;
		break;
	case QT_OP_IEC:
		m->ret = a[2] ? vtd_qi_global_iec(&qt_iommu) :
				vtd_qi_flush_iec(&qt_iommu, a[0], a[1]);
		break;
	case QT_OP_MODIFY_IRTE:
		m->ret = vtd_modify_irte(&qt_iommu, (struct viommu_irte *)VTD_IRT_GPA + a[0],
					 a[0], a[1], a[2]);
		break;
	case QT_OP_FLUSH_IOTLB:
		m->ret = vtd_qi_flush_iotlb(&qt_iommu, a[0], a[1], a[2], a[3]);
		break;
	case QT_OP_FLUSH_CONTEXT:
		m->ret = vtd_qi_flush_context(&qt_iommu, a[0], a[1], a[2], a[3]);
		break;
	case QT_OP_FAULTS:
		m->ret = vtd_fault_handler(&qt_iommu, m->faults, QT_MBOX_FAULTS);
		break;
	default:
		GUEST_ASSERT_1(qt_guest_op && qt_guest_op(m, &qt_iommu), m->op);
	}
}

static void qt_guest(uint64_t idx)
{
	/* A migrated guest has its driver state already. */
	if (!qt_iommu.reg)
		vtd_iommu_init(&qt_iommu, VTD_BASE);
	for (;;) {
		GUEST_SYNC(0);
		qt_guest_exec(&qt_mbox);
	}
}

/* ---- host side ----------------------------------------------------------------- */

void qt_set_guest_op(qt_guest_op_t op)
{
	qt_guest_op = op;
}

struct qt *__qt_create(const struct kvm_viommu_regs_config *cfg)
{
	struct qt *t = calloc(1, sizeof(*t));
	int r;

	TEST_ASSERT(t, "out of memory");
	t->v = vtd_vm_create(qt_guest, VTD_VM_DEV | (cfg ? 0 : VTD_VM_REGS));
	if (cfg) {
		r = __kvm_device_attr_set(t->v->dev, KVM_DEV_VIOMMU_GRP_REGS,
					  KVM_DEV_VIOMMU_REGS_CONFIG, (void *)cfg);
		TEST_ASSERT(!r,
			    "REGS_CONFIG (nr_fault_records %u, cap 0x%llx, ecap 0x%llx): %s",
			    cfg->nr_fault_records, (unsigned long long)cfg->cap,
			    (unsigned long long)cfg->ecap, strerror(errno));
		vtd_regs_get_config(t->v->dev, &t->v->cfg);
	}
	sync_global_to_guest(t->v->vm, qt_guest_op);
	t->m = addr_gva2hva(t->v->vm, (vm_vaddr_t)&qt_mbox);
	t->iommu = addr_gva2hva(t->v->vm, (vm_vaddr_t)&qt_iommu);
	memset(t->m, 0, sizeof(*t->m));
	return t;
}

void qt_start(struct qt *t)
{
	vtd_run(t->v);
	TEST_ASSERT(t->iommu->reg == VTD_BASE, "guest driver not initialised");
}

struct qt *qt_create_cfg(const struct kvm_viommu_regs_config *cfg)
{
	struct qt *t = __qt_create(cfg);

	qt_start(t);
	return t;
}

struct qt *qt_create(void)
{
	return qt_create_cfg(NULL);
}

void qt_destroy(struct qt *t)
{
	TEST_ASSERT(t->v->exits == t->v->syncs,
		    "%llu KVM_RUN returns for %llu GUEST_SYNCs",
		    (unsigned long long)t->v->exits, (unsigned long long)t->v->syncs);
	vtd_vm_destroy(t->v);
	free(t);
}

int64_t qt_cmd(struct qt *t, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2,
	       uint64_t a3)
{
	uint64_t exits = t->v->exits;

	t->m->op = op;
	t->m->arg[0] = a0;
	t->m->arg[1] = a1;
	t->m->arg[2] = a2;
	t->m->arg[3] = a3;
	vtd_run(t->v);
	TEST_ASSERT(t->v->exits - exits == 1,
		    "command %llu: %llu exits to userspace, expected only its GUEST_SYNC",
		    (unsigned long long)op, (unsigned long long)(t->v->exits - exits));
	return t->m->ret;
}

uint64_t qt_read(struct qt *t, uint32_t off, int size)
{
	return qt_cmd(t, QT_OP_READ, off, size, 0, 0);
}

uint32_t qt_rd32(struct qt *t, uint32_t off)
{
	return qt_read(t, off, 4);
}

uint64_t qt_rd64(struct qt *t, uint32_t off)
{
	return qt_read(t, off, 8);
}

void qt_write(struct qt *t, uint32_t off, int size, uint64_t val)
{
	qt_cmd(t, QT_OP_WRITE, off, size, val, 0);
}

void qt_wr32(struct qt *t, uint32_t off, uint32_t val)
{
	qt_write(t, off, 4, val);
}

void qt_wr64(struct qt *t, uint32_t off, uint64_t val)
{
	qt_write(t, off, 8, val);
}

void qt_descs(struct qt *t, const struct vtd_desc *d, unsigned int nr)
{
	TEST_ASSERT(nr <= QT_MBOX_DESCS, "%u descriptors", nr);
	if (nr)
		memcpy(t->m->desc, d, nr * sizeof(*d));
	t->m->nr = nr;
}

int qt_submit(struct qt *t, const struct vtd_desc *d, unsigned int nr)
{
	qt_descs(t, d, nr);
	return qt_cmd(t, QT_OP_SUBMIT, 0, 0, 0, 0);
}

int qt_submit1(struct qt *t, struct vtd_desc d)
{
	return qt_submit(t, &d, 1);
}

uint32_t qt_queue(struct qt *t, const struct vtd_desc *d, unsigned int nr,
		  uint64_t qflags, uint64_t wait_flags, uint32_t *wait_index)
{
	uint32_t index;

	qt_descs(t, d, nr);
	index = qt_cmd(t, QT_OP_QUEUE, qflags, wait_flags, 0, 0);
	if (wait_index)
		*wait_index = t->m->ret2;
	return index;
}

int qt_poll(struct qt *t, uint32_t index, uint32_t wait_index, uint64_t spins)
{
	return qt_cmd(t, QT_OP_POLL, index, wait_index, spins, 0);
}

uint32_t qt_status(struct qt *t, uint32_t index)
{
	uint32_t *s = vtd_hva(t->v, VTD_STATUS_GPA);

	return __atomic_load_n(&s[index], __ATOMIC_SEQ_CST);
}

void qt_bringup(struct qt *t, uint8_t qs, bool dw)
{
	uint32_t gsts;
	int rc = qt_cmd(t, QT_OP_BRINGUP, qs, dw, QT_IRTA, 0);

	TEST_ASSERT(!rc, "bring-up: qi_submit_sync of the global IEC: %d", rc);
	gsts = qt_rd32(t, DMAR_GSTS_REG);
	TEST_ASSERT(gsts == (DMA_GSTS_QIES | DMA_GSTS_IRTPS | DMA_GSTS_IRES),
		    "GSTS 0x%x after bring-up, expected QIES|IRTPS|IRES", gsts);
}

uint32_t qt_fsts(struct qt *t)
{
	uint32_t fsts = qt_rd32(t, DMAR_FSTS_REG);

	return fsts & DMA_FSTS_PPF ? fsts : fsts & 0xff;
}

void qt_assert_reg(struct qt *t, uint32_t off, int size, uint64_t want,
		   const char *what)
{
	uint64_t got = qt_read(t, off, size);

	TEST_ASSERT(got == want, "%s: register 0x%x (%d bytes) reads 0x%llx, expected 0x%llx",
		    what, off, size, (unsigned long long)got, (unsigned long long)want);
}

void qt_assert_idle(struct qt *t, const char *what)
{
	uint64_t iqh = qt_rd64(t, DMAR_IQH_REG), iqt = qt_rd64(t, DMAR_IQT_REG);
	uint32_t fsts = qt_fsts(t);

	TEST_ASSERT(iqh == iqt && iqt == (uint64_t)t->iommu->free_head << t->iommu->shift &&
		    !fsts, "%s: IQH 0x%llx IQT 0x%llx (guest tail 0x%x) FSTS 0x%x", what,
		    (unsigned long long)iqh, (unsigned long long)iqt,
		    t->iommu->free_head << t->iommu->shift, fsts);
}

void qt_assert_irqs(struct qt *t, int vec, uint32_t want, const char *what)
{
	uint32_t got;

	qt_cmd(t, QT_OP_NOP, 0, 0, 0, 0);
	got = viommu_guest_count(t->v->g, 0, vec);
	TEST_ASSERT(got == want, "%s: vector 0x%x arrived %u times, expected %u", what, vec,
		    got, want);
}

void qt_assert_frcd(struct qt *t, int i, bool f, uint8_t reason, uint16_t index)
{
	uint64_t lo = qt_rd64(t, DMAR_FRCD_REG(i)), hi = qt_rd64(t, DMAR_FRCD_REG(i) + 8);
	bool got_f = hi & BIT_ULL(63);

	TEST_ASSERT(got_f == f && (!f || (((hi >> 32) & 0xff) == reason && lo >> 48 == index)),
		    "FRCD %d: 0x%016llx%016llx, expected F %d FR 0x%x interrupt index %u", i,
		    (unsigned long long)hi, (unsigned long long)lo, f, reason, index);
}

void qt_events(struct qt *t, uint32_t ctl, uint32_t data, uint32_t vec, bool masked)
{
	qt_wr32(t, data, vec);
	qt_wr32(t, data + 4, QT_MSI_ADDR);
	qt_wr32(t, data + 8, 0);
	qt_wr32(t, ctl, masked ? DMA_ECTL_IM : 0);
}

void qt_fault_events(struct qt *t, bool masked)
{
	qt_events(t, DMAR_FECTL_REG, DMAR_FEDATA_REG, QT_FAULT_VEC, masked);
}

void qt_inv_events(struct qt *t, bool masked)
{
	qt_events(t, DMAR_IECTL_REG, DMAR_IEDATA_REG, QT_INV_VEC, masked);
}

int qt_signal(struct qt *t, uint16_t handle)
{
	struct viommu_msi m = viommu_msi_remappable(handle, false, 0);

	return viommu_signal_msi(t->v->vm, &m);
}
