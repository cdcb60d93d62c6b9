// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VT-d register page as a guest drives it; see include/viommu_regs.h.
 *
 * Everything up to "host side" runs in the guest.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"
#include "kvm_util.h"
#include "processor.h"
#include "viommu.h"
#include "viommu_regs.h"

/* ---- guest side: MMIO ------------------------------------------------------- */

static void *vtd_reg(const struct vtd_iommu *iommu, uint32_t off)
{
	return (void *)(iommu->reg + off);
}

uint32_t vtd_readl(const struct vtd_iommu *iommu, uint32_t off)
{
	return READ_ONCE(*(uint32_t *)vtd_reg(iommu, off));
}

uint64_t vtd_readq(const struct vtd_iommu *iommu, uint32_t off)
{
	return READ_ONCE(*(uint64_t *)vtd_reg(iommu, off));
}

void vtd_writel(const struct vtd_iommu *iommu, uint32_t off, uint32_t val)
{
	WRITE_ONCE(*(uint32_t *)vtd_reg(iommu, off), val);
}

void vtd_writeq(const struct vtd_iommu *iommu, uint32_t off, uint64_t val)
{
	WRITE_ONCE(*(uint64_t *)vtd_reg(iommu, off), val);
}

uint64_t vtd_read(const struct vtd_iommu *iommu, uint32_t off, int size)
{
	switch (size) {
	case 1:
		return READ_ONCE(*(uint8_t *)vtd_reg(iommu, off));
	case 2:
		return READ_ONCE(*(uint16_t *)vtd_reg(iommu, off));
	case 4:
		return vtd_readl(iommu, off);
	}
	return vtd_readq(iommu, off);
}

void vtd_write(const struct vtd_iommu *iommu, uint32_t off, int size, uint64_t val)
{
	switch (size) {
	case 1:
		WRITE_ONCE(*(uint8_t *)vtd_reg(iommu, off), val);
		break;
	case 2:
		WRITE_ONCE(*(uint16_t *)vtd_reg(iommu, off), val);
		break;
	case 4:
		vtd_writel(iommu, off, val);
		break;
	default:
		vtd_writeq(iommu, off, val);
	}
}

/* ---- guest side: the driver's sequences ------------------------------------------ */

void vtd_iommu_init(struct vtd_iommu *iommu, uint64_t reg)
{
	memset(iommu, 0, sizeof(*iommu));
	iommu->reg = reg;
	iommu->cap = vtd_readq(iommu, DMAR_CAP_REG);
	iommu->ecap = vtd_readq(iommu, DMAR_ECAP_REG);
	iommu->spins = VTD_SPINS;
}

/* IOMMU_WAIT_OP(), with an assertion for its panic(). */
uint32_t vtd_wait_gsts(const struct vtd_iommu *iommu, uint32_t mask, uint32_t want)
{
	uint64_t i;
	uint32_t sts;

	for (i = 0;; i++) {
		sts = vtd_readl(iommu, DMAR_GSTS_REG);
		if ((sts & mask) == want)
			return sts;
		GUEST_ASSERT_2(i < iommu->spins, sts, mask);
		cpu_relax();
	}
}

void vtd_enable_qi(struct vtd_iommu *iommu, uint64_t qa, uint8_t qs, bool dw,
		   uint64_t status)
{
	uint64_t val = qa | qs | (dw ? DMA_IQA_DW : 0);

	iommu->qa = qa;
	iommu->shift = dw ? 5 : 4;
	iommu->len = 1U << (12 + qs - iommu->shift);
	iommu->free_head = 0;
	iommu->status = status;
	memset((void *)status, 0, iommu->len * sizeof(uint32_t));

	vtd_writel(iommu, DMAR_IQT_REG, 0);
	vtd_writeq(iommu, DMAR_IQA_REG, val);
	iommu->gcmd |= DMA_GCMD_QIE;
	vtd_writel(iommu, DMAR_GCMD_REG, iommu->gcmd);
	vtd_wait_gsts(iommu, DMA_GSTS_QIES, DMA_GSTS_QIES);
}

void vtd_disable_qi(struct vtd_iommu *iommu)
{
	uint64_t i;

	if (!(vtd_readl(iommu, DMAR_GSTS_REG) & DMA_GSTS_QIES))
		return;
	for (i = 0; i < iommu->spins; i++) {
		if (vtd_readl(iommu, DMAR_IQT_REG) == vtd_readl(iommu, DMAR_IQH_REG))
			break;
		cpu_relax();
	}
	iommu->gcmd &= ~DMA_GCMD_QIE;
	vtd_writel(iommu, DMAR_GCMD_REG, iommu->gcmd);
	vtd_wait_gsts(iommu, DMA_GSTS_QIES, 0);
}

int vtd_set_irq_remapping(struct vtd_iommu *iommu, uint64_t irta)
{
	vtd_writeq(iommu, DMAR_IRTA_REG, irta);
	vtd_writel(iommu, DMAR_GCMD_REG, iommu->gcmd | DMA_GCMD_SIRTP);
	vtd_wait_gsts(iommu, DMA_GSTS_IRTPS, DMA_GSTS_IRTPS);
	return vtd_qi_global_iec(iommu);
}

void vtd_enable_irq_remapping(struct vtd_iommu *iommu)
{
	uint32_t sts;

	iommu->gcmd |= DMA_GCMD_IRE;
	vtd_writel(iommu, DMAR_GCMD_REG, iommu->gcmd);
	sts = vtd_wait_gsts(iommu, DMA_GSTS_IRES, DMA_GSTS_IRES);
	if (sts & DMA_GSTS_CFIS) {
		iommu->gcmd &= ~DMA_GCMD_CFI;
		vtd_writel(iommu, DMAR_GCMD_REG, iommu->gcmd);
		vtd_wait_gsts(iommu, DMA_GSTS_CFIS, 0);
	}
}

void vtd_disable_irq_remapping(struct vtd_iommu *iommu)
{
	iommu->gcmd &= ~DMA_GCMD_IRE;
	vtd_writel(iommu, DMAR_GCMD_REG, iommu->gcmd);
	vtd_wait_gsts(iommu, DMA_GSTS_IRES, 0);
}

static void vtd_qi_put(struct vtd_iommu *iommu, uint32_t index, const struct vtd_desc *d)
{
	memcpy((void *)(iommu->qa + ((uint64_t)index << iommu->shift)), d,
	       1U << iommu->shift);
}

uint32_t vtd_qi_queue(struct vtd_iommu *iommu, const struct vtd_desc *desc,
		      unsigned int count)
{
	uint32_t index = iommu->free_head;
	unsigned int i;

	for (i = 0; i < count; i++) {
		vtd_qi_put(iommu, iommu->free_head, &desc[i]);
		WRITE_ONCE(*vtd_status(iommu, iommu->free_head), QI_IN_USE);
		iommu->free_head = (iommu->free_head + 1) % iommu->len;
	}
	return index;
}

uint32_t vtd_qi_queue_wait(struct vtd_iommu *iommu, uint64_t flags)
{
	uint32_t index = iommu->free_head;
	uint64_t status = iommu->status + index * sizeof(uint32_t);
	struct vtd_desc wait = vtd_desc_wait(QI_IWD_SW | flags, QI_DONE, status);

	vtd_qi_queue(iommu, &wait, 1);
	return index;
}

void vtd_qi_doorbell(const struct vtd_iommu *iommu)
{
	vtd_writel(iommu, DMAR_IQT_REG, iommu->free_head << iommu->shift);
}

/* qi_check_fault(): IQE on the submission's first descriptor, ITE, ICE. */
static int vtd_qi_check_fault(struct vtd_iommu *iommu, uint32_t index, uint32_t wait_index)
{
	uint32_t fault = vtd_readl(iommu, DMAR_FSTS_REG), head;

	if (fault & DMA_FSTS_IQE) {
		head = vtd_readl(iommu, DMAR_IQH_REG);
		if ((head >> iommu->shift) == index) {
			memcpy((void *)(iommu->qa + head),
			       (void *)(iommu->qa + ((uint64_t)wait_index << iommu->shift)),
			       1U << iommu->shift);
			vtd_writel(iommu, DMAR_FSTS_REG, DMA_FSTS_IQE);
			return -EINVAL;
		}
	}
	if (fault & DMA_FSTS_ITE)
		vtd_writel(iommu, DMAR_FSTS_REG, DMA_FSTS_ITE);
	if (fault & DMA_FSTS_ICE)
		vtd_writel(iommu, DMAR_FSTS_REG, DMA_FSTS_ICE);
	return 0;
}

int vtd_qi_poll(struct vtd_iommu *iommu, uint32_t index, uint32_t wait_index)
{
	uint64_t i;
	int rc;

	for (i = 0; READ_ONCE(*vtd_status(iommu, wait_index)) != QI_DONE; i++) {
		rc = vtd_qi_check_fault(iommu, index, wait_index);
		if (rc)
			return rc;
		if (i >= iommu->spins)
			return -ETIMEDOUT;
		cpu_relax();
	}
	return 0;
}

int vtd_qi_submit_sync(struct vtd_iommu *iommu, const struct vtd_desc *desc,
		       unsigned int count)
{
	uint32_t index, wait_index, i;
	int rc;

	index = vtd_qi_queue(iommu, desc, count);
	wait_index = vtd_qi_queue_wait(iommu, 0);
	vtd_qi_doorbell(iommu);
	rc = vtd_qi_poll(iommu, index, wait_index);
	for (i = 0; i <= count; i++)
		WRITE_ONCE(*vtd_status(iommu, (index + i) % iommu->len), QI_FREE);
	return rc;
}

int vtd_qi_global_iec(struct vtd_iommu *iommu)
{
	struct vtd_desc d = vtd_desc_iec_global();

	return vtd_qi_submit_sync(iommu, &d, 1);
}

int vtd_qi_flush_iec(struct vtd_iommu *iommu, uint16_t index, uint8_t mask)
{
	struct vtd_desc d = vtd_desc_iec(index, mask);

	return vtd_qi_submit_sync(iommu, &d, 1);
}

int vtd_qi_flush_iotlb(struct vtd_iommu *iommu, uint16_t did, uint64_t addr,
		       uint8_t am, uint8_t g)
{
	struct vtd_desc d = vtd_desc_iotlb(g, did, addr, am, false);

	if (iommu->cap & CAP_DWD)
		d.qw[0] |= QI_IOTLB_DW;
	if (iommu->cap & CAP_DRD)
		d.qw[0] |= QI_IOTLB_DR;
	return vtd_qi_submit_sync(iommu, &d, 1);
}

int vtd_qi_flush_context(struct vtd_iommu *iommu, uint16_t did, uint16_t sid,
			 uint8_t fm, uint8_t g)
{
	struct vtd_desc d = vtd_desc_context(g, did, sid, fm);

	return vtd_qi_submit_sync(iommu, &d, 1);
}

int vtd_modify_irte(struct vtd_iommu *iommu, struct viommu_irte *irte, uint16_t index,
		    uint64_t lo, uint64_t hi)
{
	WRITE_ONCE(irte->lo, lo);
	WRITE_ONCE(irte->hi, hi);
	return vtd_qi_flush_iec(iommu, index, 0);
}

int vtd_fault_handler(const struct vtd_iommu *iommu, struct vtd_fault *out, int max)
{
	uint32_t fsts = vtd_readl(iommu, DMAR_FSTS_REG), hi, off;
	int nr_regs = ((iommu->cap & CAP_NFR_MASK) >> CAP_NFR_SHIFT) + 1;
	int fault_index, n = 0;

	if (!(fsts & DMA_FSTS_PPF))
		goto clear;
	fault_index = DMA_FSTS_FRI(fsts);
	for (;;) {
		off = ((iommu->cap & CAP_FRO_MASK) >> CAP_FRO_SHIFT) * 16 + fault_index * 16;
		hi = vtd_readl(iommu, off + 12);
		if (!(hi & DMA_FRCD_F))
			break;
		if (n < max) {
			out[n].index = fault_index;
			out[n].reason = DMA_FRCD_FR(hi);
			out[n].sid = vtd_readl(iommu, off + 8) & 0xffff;
			out[n].lo = vtd_readq(iommu, off);
		}
		n++;
		vtd_writel(iommu, off + 12, DMA_FRCD_F);
		if (++fault_index >= nr_regs)
			fault_index = 0;
	}
clear:
	vtd_writel(iommu, DMAR_FSTS_REG, DMA_FSTS_PFO | DMA_FSTS_PPF | DMA_FSTS_PRO);
	return n;
}

/* ---- host side ------------------------------------------------------------------ */

const char *vtd_regs_unsupported(void)
{
	const char *why = viommu_ir_unsupported();
	struct viommu_guest *g;
	int r;

	if (why)
		return why;
	g = viommu_guest_create(1, 0, true);
	r = __kvm_has_device_attr(g->dev, KVM_DEV_VIOMMU_GRP_REGS, KVM_DEV_VIOMMU_REGS_CONFIG);
	viommu_guest_destroy(g);
	if (!r)
		return NULL;
	return viommu_required("REGS_CONFIG not supported: kvm.ko predates the register page");
}

int __vtd_regs_config(int dev, uint64_t base, uint64_t cap, uint64_t ecap)
{
	struct kvm_viommu_regs_config c = { .base = base, .cap = cap, .ecap = ecap };

	return __kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_REGS, KVM_DEV_VIOMMU_REGS_CONFIG, &c);
}

void vtd_regs_config(int dev, uint64_t base, uint64_t cap, uint64_t ecap)
{
	int r = __vtd_regs_config(dev, base, cap, ecap);

	TEST_ASSERT(!r, "REGS_CONFIG(base 0x%llx cap 0x%llx ecap 0x%llx): %s",
		    (unsigned long long)base, (unsigned long long)cap,
		    (unsigned long long)ecap, strerror(errno));
}

void vtd_regs_get_config(int dev, struct kvm_viommu_regs_config *cfg)
{
	memset(cfg, 0xa5, sizeof(*cfg));
	kvm_device_attr_get(dev, KVM_DEV_VIOMMU_GRP_REGS,
			    KVM_DEV_VIOMMU_REGS_CONFIG, cfg);
}

void vtd_ir_state_set(int dev, uint64_t irta, uint32_t ir_flags)
{
	struct kvm_viommu_regs_state s;

	kvm_device_attr_get(dev, KVM_DEV_VIOMMU_GRP_REGS,
			    KVM_DEV_VIOMMU_REGS_STATE, &s);
	s.irta = irta;
	s.irta_active = irta;
	s.gsts &= ~(DMA_GSTS_IRTPS | DMA_GSTS_IRES | DMA_GSTS_CFIS);
	s.gsts |= DMA_GSTS_IRTPS;
	if (ir_flags & KVM_VIOMMU_IR_ENABLE)
		s.gsts |= DMA_GSTS_IRES;
	if (ir_flags & KVM_VIOMMU_IR_CFIS)
		s.gsts |= DMA_GSTS_CFIS;
	kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_REGS,
			    KVM_DEV_VIOMMU_REGS_STATE, &s);
	TEST_ASSERT(viommu_get_ir_status(dev) == ir_flags,
		    "IR_STATUS 0x%x after REGS_STATE with GSTS 0x%x, expected 0x%x",
		    viommu_get_ir_status(dev), s.gsts, ir_flags);
}

void vtd_event_config(int dev, uint32_t types)
{
	struct kvm_viommu_event_config c = { .types = types };

	kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_EVENT,
			    KVM_DEV_VIOMMU_EVENT_CONFIG, &c);
}

int vtd_event_fd(int dev)
{
	return viommu_ring_fd(dev, KVM_DEV_VIOMMU_GRP_EVENT, KVM_DEV_VIOMMU_EVENT_FD, true);
}

bool vtd_event_pop(int dev, struct kvm_viommu_event *e)
{
	return viommu_ring_pop(dev, KVM_DEV_VIOMMU_GRP_EVENT, KVM_DEV_VIOMMU_EVENT_FD, e,
			       sizeof(*e));
}

void vtd_event_ack(int dev, uint64_t seq)
{
	struct kvm_viommu_event_ack a = { .seq = seq };

	kvm_device_attr_set(dev, KVM_DEV_VIOMMU_GRP_EVENT,
			    KVM_DEV_VIOMMU_EVENT_ACK, &a);
}

void vtd_assert_no_event(int dev)
{
	struct kvm_viommu_event e;
	bool found = vtd_event_pop(dev, &e);

	TEST_ASSERT(!found, "event ring: type 0x%x flags 0x%x seq %llu, expected empty",
		    e.type, e.flags, (unsigned long long)e.seq);
}

void vtd_guest_prepare(struct viommu_guest *g, viommu_guest_code_t guest_code)
{
	struct kvm_regs regs;
	int i;

	viommu_guest_set_code(g, guest_code);
	/*
	 * The 6.1 selftest library enters a vCPU with RSP 16-byte aligned,
	 * where a call would leave it 8 off; compiled code that spills SSE
	 * registers to the stack (struct copies) then takes #GP.  Enter as
	 * if called.
	 */
	for (i = 0; i < g->nr_vcpus; i++) {
		vcpu_regs_get(g->vcpus[i], &regs);
		regs.rsp = (regs.rsp & ~15ULL) - 8;
		vcpu_regs_set(g->vcpus[i], &regs);
	}
	virt_map(g->vm, VTD_MEM_GPA, VTD_MEM_GPA, VTD_MEM_SIZE / g->vm->page_size);
	virt_pg_map(g->vm, VTD_BASE, VTD_BASE);
}

struct vtd_vm *vtd_vm_create_caps(viommu_guest_code_t guest_code, unsigned int flags,
				  uint64_t cap, uint64_t ecap)
{
	struct vtd_vm *v = calloc(1, sizeof(*v));

	TEST_ASSERT(v, "out of memory");
	v->g = viommu_guest_create(1, VIOMMU_GUEST_X2APIC, flags & (VTD_VM_DEV | VTD_VM_REGS));
	v->vm = v->g->vm;
	v->vcpu = v->g->vcpus[0];
	v->dev = v->g->dev;
	v->mem = (uint8_t *)v->g->irt;

	vtd_guest_prepare(v->g, guest_code);
	if (flags & VTD_VM_REGS) {
		vtd_regs_config(v->dev, VTD_BASE, cap, ecap);
		vtd_regs_get_config(v->dev, &v->cfg);
	}
	/* The lib's guest enables its APIC and syncs before it calls ours. */
	vtd_run(v);
	return v;
}

struct vtd_vm *vtd_vm_create(viommu_guest_code_t guest_code, unsigned int flags)
{
	return vtd_vm_create_caps(guest_code, flags, VTD_DEFAULT_CAP, VTD_DEFAULT_ECAP);
}

void vtd_vm_destroy(struct vtd_vm *v)
{
	viommu_guest_destroy(v->g);
	free(v);
}

uint64_t vtd_run(struct vtd_vm *v)
{
	struct kvm_run *run = v->vcpu->run;
	struct ucall uc;
	uint64_t rip;
	int r;

	for (;;) {
		r = __vcpu_run(v->vcpu);
		if (r < 0 && errno == EINTR)
			continue;
		TEST_ASSERT(!r, "KVM_RUN: %s", strerror(errno));
		v->exits++;
		if (run->exit_reason == KVM_EXIT_MMIO) {
			TEST_ASSERT(v->mmio,
				    "guest MMIO %s of %u bytes at 0x%llx (register page offset 0x%llx) exited to userspace",
				    run->mmio.is_write ? "write" : "read", run->mmio.len,
				    run->mmio.phys_addr, run->mmio.phys_addr - VTD_BASE);
			v->mmio(v, run);
			continue;
		}
		if (run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "exit reason %u (%s)\n", run->exit_reason,
				exit_reason_str(run->exit_reason));
			if (run->exit_reason == KVM_EXIT_SHUTDOWN)
				viommu_exit_nested_corruption(0, 0);
			if (viommu_guest_rip_corrupt(v->vcpu, &rip))
				viommu_exit_nested_corruption(0, rip);
			TEST_FAIL("unexpected exit reason %u (%s)", run->exit_reason,
				  exit_reason_str(run->exit_reason));
		}
		switch (get_ucall(v->vcpu, &uc)) {
		case UCALL_SYNC:
			v->syncs++;
			return uc.args[1];
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT_2(uc, "vals = 0x%lx 0x%lx");
			break;
		case UCALL_UNHANDLED: {
			struct kvm_sregs sregs;
			struct kvm_regs regs;

			vcpu_sregs_get(v->vcpu, &sregs);
			vcpu_regs_get(v->vcpu, &regs);
			TEST_FAIL("unexpected vector 0x%lx in the guest (CR2 0x%llx, RSP 0x%llx)",
				  (unsigned long)uc.args[0], sregs.cr2, regs.rsp);
			break;
		}
		default:
			TEST_FAIL("unexpected exit to userspace: port 0x%x, ucall %lu",
				  run->io.port, (unsigned long)uc.cmd);
		}
	}
}
