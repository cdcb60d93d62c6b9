/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A guest that runs the Linux driver's register sequences of viommu_regs.h
 * one command at a time, for the cases of the VT-d register page: the host
 * puts a command in the guest's mailbox and runs the vCPU up to the guest's
 * next GUEST_SYNC.  That sync is the only exit to userspace a command may
 * cause: the register page is the kernel's, so an MMIO exit fails the case
 * (vtd_run()), and qt_cmd() asserts that each command took exactly one
 * KVM_RUN return.
 */
#ifndef SELFTEST_KVM_VIOMMU_QT_H
#define SELFTEST_KVM_VIOMMU_QT_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/bits.h>
#include <linux/kvm_viommu.h>

#include "kvm_util.h"
#include "viommu.h"
#include "viommu_regs.h"

/* Vectors of the device's events, and where they go: APIC ID 0, physical. */
#define QT_FAULT_VEC		0x50
#define QT_INV_VEC		0x51
#define QT_MSI_ADDR		0xfee00000U

/* qt_bringup()'s table: 256 entries at VTD_IRT_GPA, x2APIC mode. */
#define QT_IRTA			(VTD_IRT_GPA | KVM_VIOMMU_IRTA_EIME | 7)

/* ---- the guest's commands --------------------------------------------------------- */

enum {
	QT_OP_NOP,
	QT_OP_READ,		/* arg: offset, size -> ret */
	QT_OP_WRITE,		/* arg: offset, size, value */
	QT_OP_ENABLE_QI,	/* arg: qs, dw */
	QT_OP_DISABLE_QI,
	QT_OP_BRINGUP,		/* arg: qs, dw, irta: QI, SIRTP + global IEC, IRE -> ret */
	QT_OP_DISABLE_IR,
	QT_OP_SET_IRTP,		/* arg: irta: SIRTP + global IEC -> ret */
	QT_OP_GCMD,		/* arg: persistent gcmd, one-shot bits, GSTS mask, want -> ret */
	QT_OP_SUBMIT,		/* desc[nr] + wait, polled -> ret */
	QT_OP_QUEUE,		/* desc[nr], arg: QT_Q_*, wait flags -> ret index, ret2 wait */
	QT_OP_POLL,		/* arg: index, wait index, spins (0: default) -> ret */
	QT_OP_IEC,		/* arg: index, mask, global */
	QT_OP_MODIFY_IRTE,	/* arg: index, lo, hi -> ret */
	QT_OP_FLUSH_IOTLB,	/* arg: did, addr, am, g -> ret */
	QT_OP_FLUSH_CONTEXT,	/* arg: did, sid, fm, g -> ret */
	QT_OP_FAULTS,		/* dmar_fault() -> ret records in faults[] */
	QT_OP_TEST,		/* the first of a test's own, see qt_set_guest_op() */
};

#define QT_Q_WAIT		BIT(0)	/* append a wait with SW */
#define QT_Q_RING		BIT(1)	/* write IQT */

#define QT_MBOX_DESCS		80
#define QT_MBOX_FAULTS		16

struct qt_mbox {
	uint64_t op;
	uint64_t arg[4];
	uint32_t nr;
	struct vtd_desc desc[QT_MBOX_DESCS];
	int64_t ret;
	uint64_t ret2;
	uint64_t ret3;
	struct vtd_fault faults[QT_MBOX_FAULTS];
};

/*
 * Guest code: runs the command @m->op of the test's own on the guest's
 * driver state; false if it has no such command.
 */
typedef bool (*qt_guest_op_t)(struct qt_mbox *m, struct vtd_iommu *iommu);

/*
 * For every guest that qt_create*() makes from now on: from main(), the
 * cases' children inherit it.
 */
void qt_set_guest_op(qt_guest_op_t op);

/* ---- host side: a guest and its commands ----------------------------------------- */

struct qt {
	struct vtd_vm *v;
	struct qt_mbox *m;		/* the guest's mailbox */
	struct vtd_iommu *iommu;	/* the guest's driver state */
};

/*
 * A guest whose register page is at VTD_BASE with @cfg, or with the
 * selftests' default CAP and ECAP if NULL; skips the case where the loaded
 * KVM has no register page.  It has not reached its mailbox: a migration
 * target sets the device's state and the guest's memory before qt_start().
 */
struct qt *__qt_create(const struct kvm_viommu_regs_config *cfg);
/* Up to the guest's first GUEST_SYNC: its driver has read CAP and ECAP. */
void qt_start(struct qt *t);
struct qt *qt_create_cfg(const struct kvm_viommu_regs_config *cfg);
struct qt *qt_create(void);
/* Asserts that every exit was a command's GUEST_SYNC. */
void qt_destroy(struct qt *t);

/* One command; it must cost exactly one exit, its closing GUEST_SYNC. */
int64_t qt_cmd(struct qt *t, uint64_t op, uint64_t a0, uint64_t a1, uint64_t a2,
	       uint64_t a3);

uint64_t qt_read(struct qt *t, uint32_t off, int size);
uint32_t qt_rd32(struct qt *t, uint32_t off);
uint64_t qt_rd64(struct qt *t, uint32_t off);
void qt_write(struct qt *t, uint32_t off, int size, uint64_t val);
void qt_wr32(struct qt *t, uint32_t off, uint32_t val);
void qt_wr64(struct qt *t, uint32_t off, uint64_t val);

/* Into the mailbox, for the next command. */
void qt_descs(struct qt *t, const struct vtd_desc *d, unsigned int nr);
/* qi_submit_sync() of @nr descriptors in the guest. */
int qt_submit(struct qt *t, const struct vtd_desc *d, unsigned int nr);
int qt_submit1(struct qt *t, struct vtd_desc d);
/*
 * Queues @nr descriptors, and with QT_Q_WAIT a wait with @wait_flags (its
 * index in *@wait_index), rings with QT_Q_RING; returns the first index.
 */
uint32_t qt_queue(struct qt *t, const struct vtd_desc *d, unsigned int nr,
		  uint64_t qflags, uint64_t wait_flags, uint32_t *wait_index);
int qt_poll(struct qt *t, uint32_t index, uint32_t wait_index, uint64_t spins);
/* desc_status[@index], as the guest would read it. */
uint32_t qt_status(struct qt *t, uint32_t index);

/* The Linux driver's bring-up: QI, QT_IRTA, IR on; asserts GSTS. */
void qt_bringup(struct qt *t, uint8_t qs, bool dw);

/* FSTS without FRI, which means nothing while PPF is clear. */
uint32_t qt_fsts(struct qt *t);
void qt_assert_reg(struct qt *t, uint32_t off, int size, uint64_t want,
		   const char *what);
/* The queue drained: IQH == IQT == the guest's tail, no error. */
void qt_assert_idle(struct qt *t, const char *what);
/* Interrupt @vec counted @want times, after a command to let it in. */
void qt_assert_irqs(struct qt *t, int vec, uint32_t want, const char *what);
/*
 * Fault recording register @i, as a guest reads it: F as @f, and if set, an
 * interrupt-remapping fault of @reason on interrupt index @index.
 */
void qt_assert_frcd(struct qt *t, int i, bool f, uint8_t reason, uint16_t index);

/* The device's event registers: @vec, QT_MSI_ADDR, unmasked unless @masked. */
void qt_events(struct qt *t, uint32_t ctl, uint32_t data, uint32_t vec, bool masked);
void qt_fault_events(struct qt *t, bool masked);
void qt_inv_events(struct qt *t, bool masked);

/* A remappable MSI of IRTE @handle, without a requester ID. */
int qt_signal(struct qt *t, uint16_t handle);

/* An IRTE's low qword: fixed delivery of @vec to APIC ID 0 (x2APIC). */
static inline uint64_t qt_irte_lo(uint8_t vec)
{
	return viommu_irte_lo(vec, 0, true, VIOMMU_DLM_FIXED, 0);
}

#endif /* SELFTEST_KVM_VIOMMU_QT_H */
