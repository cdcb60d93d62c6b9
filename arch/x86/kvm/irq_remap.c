// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86 glue of the in-kernel VT-d IOMMU: remappable MSIs and I/O APIC
 * redirection entries decoded, translated through the IR cache
 * (virt/kvm/viommu) and turned into the kvm_lapic_irq that KVM delivers
 * into the local APICs.
 */

#include <linux/kvm_host.h>
#include <linux/kvm_viommu.h>
#include <linux/msi.h>

#include <kvm/viommu.h>

#include "ioapic.h"
#include "irq.h"
#include "irq_remap.h"
#include "lapic.h"

bool kvm_arch_viommu_supported(struct kvm *kvm)
{
	/*
	 * Remapped interrupts are delivered into the in-kernel local APIC,
	 * which both a full and a split irqchip provide.
	 */
	return irqchip_in_kernel(kvm);
}

/*
 * A halted vCPU wakes for the request, and handles it without leaving
 * the halted state (the vcpu_block() hook): KVM_REQ_UNBLOCK ends its wait
 * without making it runnable.
 */
void kvm_arch_viommu_request_vcpus(struct kvm *kvm)
{
	struct kvm_vcpu *vcpu;
	unsigned long i;

	kvm_for_each_vcpu(i, vcpu, kvm) {
		kvm_make_request(KVM_REQ_VIOMMU, vcpu);
		kvm_make_request(KVM_REQ_UNBLOCK, vcpu);
		kvm_vcpu_kick(vcpu);
	}
}

void kvm_arch_viommu_request_vcpu(struct kvm_vcpu *vcpu)
{
	kvm_make_request(KVM_REQ_VIOMMU, vcpu);
}

void kvm_arch_viommu_send_msi(struct kvm *kvm, u64 address, u32 data)
{
	struct kvm_kernel_irq_routing_entry e = {
		.msi.address_lo = lower_32_bits(address),
		.msi.address_hi = upper_32_bits(address),
		.msi.data = data,
	};
	struct msi_msg msg = { .address_lo = e.msi.address_lo };
	struct kvm_lapic_irq irq;

	/* A message that is not an interrupt goes nowhere, as on hardware. */
	if (msg.arch_addr_lo.base_address != X86_MSI_BASE_ADDRESS_LOW)
		return;
	kvm_set_msi_irq(kvm, &e, &irq);
	kvm_irq_delivery_to_apic(kvm, NULL, &irq, NULL);
}

static void kvm_irte_to_lapic_irq(const struct vtd_irte *irte, bool x2apic,
				  struct kvm_lapic_irq *irq)
{
	irq->vector = vtd_irte_vector(irte);
	/* DLM holds the APIC delivery mode, APIC_DM_* >> 8. */
	irq->delivery_mode = vtd_irte_dlm(irte) << 8;
	irq->dest_mode = kvm_lapic_irq_dest_mode(irte->lo & VTD_IRTE_DM_LOGICAL);
	irq->trig_mode = !!(irte->lo & VTD_IRTE_TM_LEVEL);
	irq->dest_id = vtd_irte_dest_id(irte, x2apic);
	irq->msi_redir_hint = irte->lo & VTD_IRTE_RH;
	irq->level = 1;
	irq->shorthand = APIC_DEST_NOSHORT;
}

/*
 * Without KVM_CAP_X2APIC_API's DISABLE_BROADCAST_QUIRK, KVM takes
 * destination 0xff from a device for an x2APIC broadcast, and 0xffffffff
 * for nobody: physical x2APIC without remapping needs that.  An EIME IRTE
 * names its destination exactly, so give KVM the two the quirk would get
 * wrong in a form it delivers as the IRTE means.  A logical destination of
 * cluster 0, mask 0xff, has no such form; Linux never programs one.
 */
static void kvm_irte_x2apic_dest_exact(struct kvm *kvm,
				       struct kvm_lapic_irq *irq)
{
	if (kvm->arch.x2apic_broadcast_quirk_disabled)
		return;

	if (irq->dest_id == X2APIC_BROADCAST) {
		irq->shorthand = APIC_DEST_ALLINC;
	} else if (irq->dest_id == APIC_BROADCAST &&
		   irq->dest_mode == APIC_DEST_PHYSICAL) {
		/* In x2APIC mode, ID 0xff is logical cluster 0xf, bit 15. */
		irq->dest_id = 0xf << 16 | BIT(0xf);
		irq->dest_mode = APIC_DEST_LOGICAL;
	}
}

/* Returns 0 with @irq translated, or as kvm_viommu_ir_translate(). */
static int kvm_viommu_translate_irq(struct kvm *kvm,
				    struct kvm_viommu *viommu,
				    const struct kvm_viommu_ir_request *req,
				    enum kvm_viommu_ir_context ctx,
				    struct kvm_lapic_irq *irq)
{
	struct vtd_irte irte;
	bool x2apic;
	int r;

	r = kvm_viommu_ir_translate(viommu, req, ctx, &irte, &x2apic);
	if (r)
		return r;

	kvm_irte_to_lapic_irq(&irte, x2apic, irq);
	if (x2apic)
		kvm_irte_x2apic_dest_exact(kvm, irq);
	return 0;
}

/*
 * Translates a remappable MSI.  A request stays in flight from before its
 * lookup until the caller has delivered it (kvm_msi_remap_done()).
 */
static int kvm_viommu_remap_msi(struct kvm *kvm, struct kvm_viommu *viommu,
				const struct kvm_viommu_ir_request *req,
				enum kvm_viommu_ir_context ctx,
				struct kvm_lapic_irq *irq,
				struct kvm_msi_remap *remap)
{
	int r;

	if (!remap)
		return kvm_viommu_translate_irq(kvm, viommu, req, ctx, irq);

	remap->srcu_idx = kvm_viommu_ir_enter(viommu);
	r = kvm_viommu_translate_irq(kvm, viommu, req, ctx, irq);
	if (r) {
		kvm_viommu_ir_exit(viommu, remap->srcu_idx);
		return r;
	}
	remap->viommu = viommu;
	remap->atomic_hit = ctx == KVM_VIOMMU_IR_ATOMIC;
	if (!remap->atomic_hit)
		kvm_viommu_ir_count_delivery(viommu,
					     KVM_VIOMMU_IR_PATH_MSI_PROCESS,
					     false);
	return 0;
}

void __kvm_msi_remap_done(struct kvm_msi_remap *remap, bool delivered)
{
	/* Not delivered here: the process-context retry counts it. */
	if (remap->atomic_hit && delivered)
		kvm_viommu_ir_count_delivery(remap->viommu,
					     KVM_VIOMMU_IR_PATH_MSI_ATOMIC, true);
	kvm_viommu_ir_exit(remap->viommu, remap->srcu_idx);
}

/* A remappable MSI's handle: handle[14:0] in address 19:5, handle[15] in 2. */
static u32 kvm_msi_remap_handle(const struct msi_msg *msg)
{
	return msg->arch_addr_lo.dmar_index_0_14 |
	       msg->arch_addr_lo.dmar_index_15 << 15;
}

int kvm_viommu_set_msi_irq(struct kvm *kvm,
			   struct kvm_kernel_irq_routing_entry *e,
			   struct kvm_lapic_irq *irq,
			   enum kvm_viommu_ir_context ctx,
			   struct kvm_msi_remap *remap)
{
	struct msi_msg msg = {
		.address_lo = e->msi.address_lo,
		.address_hi = e->msi.address_hi,
		.data = e->msi.data,
	};
	struct kvm_viommu_ir_request req = {
		.sid = e->msi.devid,
		.has_sid = e->msi.flags & KVM_MSI_VALID_DEVID,
	};
	struct kvm_viommu *viommu = kvm_viommu_remapping(kvm);
	enum kvm_viommu_ir_fault_reason reason;
	int r;

	if (!viommu)
		goto compat;

	if (!msg.arch_addr_lo.dmar_format) {
		r = kvm_viommu_ir_compat(viommu, &req, ctx);
		if (r < 0)
			return r;
		goto compat;
	}

	/* The upper address of a remappable request is reserved. */
	if (msg.address_hi)
		reason = KVM_VIOMMU_FR_IR_REQ_RSVD;
	else
		reason = vtd_msi_index(kvm_msi_remap_handle(&msg),
				       msg.arch_addr_lo.dmar_subhandle_valid,
				       msg.data, &req.index);
	if (reason)
		return kvm_viommu_ir_fault(viommu, &req, ctx, reason, NULL);

	return kvm_viommu_remap_msi(kvm, viommu, &req, ctx, irq, remap);

compat:
	kvm_set_msi_irq(kvm, e, irq);
	return 0;
}

/*
 * The I/O APIC's interrupt for redirection entry @rte, as the IOMMU sees
 * it.  Returns 0 with @irq translated, 1 if the RTE itself is the message
 * (compatibility format, allowed by CFIS), or as kvm_viommu_ir_translate().
 */
static int kvm_ioapic_translate(struct kvm *kvm, struct kvm_viommu *viommu,
				u64 rte, enum kvm_viommu_ir_context ctx,
				struct kvm_lapic_irq *irq)
{
	bool remappable = vtd_ioapic_rte_remappable(rte);
	struct kvm_viommu_ir_request req;

	kvm_viommu_ir_ioapic_request(viommu,
				     remappable ? vtd_ioapic_rte_index(rte) : 0,
				     &req);
	if (!remappable)
		return kvm_viommu_ir_compat(viommu, &req, ctx);
	return kvm_viommu_translate_irq(kvm, viommu, &req, ctx, irq);
}

static void kvm_ioapic_remap_mark(unsigned long pins, unsigned long *set)
{
	int pin;

	for_each_set_bit(pin, &pins, IOAPIC_NUM_PINS)
		set_bit(pin, set);
}

/* Hands @pins to the work item, for the process-context half of the job. */
static void kvm_ioapic_remap_defer(struct kvm_ioapic *ioapic,
				   unsigned long pins, unsigned long *set)
{
	kvm_ioapic_remap_mark(pins, set);
	schedule_work(&ioapic->remap.work);
}

/*
 * @pin's interrupt translated under the I/O APIC's lock: 0 with @irq, 1 if
 * the RTE itself is the message (remapping off included), or as
 * kvm_viommu_ir_translate().  *@viommu: the unit that translated it, so
 * that a pin looks the VM's unit up once.
 */
static int kvm_ioapic_translate_locked(struct kvm_ioapic *ioapic, int pin,
				       enum kvm_viommu_ir_context ctx,
				       struct kvm_lapic_irq *irq,
				       struct kvm_viommu **viommu)
{
	lockdep_assert_held(&ioapic->lock);
	*viommu = kvm_viommu_remapping(ioapic->kvm);
	if (!*viommu)
		return 1;
	return kvm_ioapic_translate(ioapic->kvm, *viommu,
				    ioapic->redirtbl[pin].bits, ctx, irq);
}

enum kvm_ioapic_remap_result __kvm_ioapic_remap_irq(struct kvm_ioapic *ioapic,
						    int pin, bool line_status,
						    struct kvm_lapic_irq *irq)
{
	struct kvm_viommu *viommu;
	bool hit;
	int r;

	r = kvm_ioapic_translate_locked(ioapic, pin, KVM_VIOMMU_IR_ATOMIC, irq,
					&viommu);
	if (r > 0)
		return KVM_IOAPIC_DIRECT;
	hit = !r;
	if (r == -EWOULDBLOCK &&
	    test_and_clear_bit(pin, &ioapic->remap.service_filled)) {
		*irq = ioapic->remap.service_irq[pin];
		r = 0;
	}
	if (!r) {
		clear_bit(pin, &ioapic->remap.blocked_pins);
		/*
		 * Counted once, where the pin is delivered: a miss was
		 * counted by the work item that read it, a hit is here.
		 */
		kvm_viommu_ir_count_delivery(viommu, KVM_VIOMMU_IR_PATH_IOAPIC,
					     hit);
		return KVM_IOAPIC_REMAPPED;
	}

	/* Read the IRTE, or record the fault, where that may sleep. */
	if (line_status)
		set_bit(pin, &ioapic->remap.line_status_pins);
	kvm_ioapic_remap_defer(ioapic, BIT(pin), &ioapic->remap.service_pins);
	return KVM_IOAPIC_BLOCKED;
}

enum kvm_ioapic_remap_result __kvm_ioapic_remap_peek(struct kvm_ioapic *ioapic,
						     int pin,
						     struct kvm_lapic_irq *irq)
{
	struct kvm_viommu *viommu;
	int r;

	r = kvm_ioapic_translate_locked(ioapic, pin, KVM_VIOMMU_IR_SCAN_ATOMIC,
					irq, &viommu);
	if (r > 0)
		return KVM_IOAPIC_DIRECT;
	if (!r)
		return KVM_IOAPIC_REMAPPED;

	/*
	 * Not while the work item restores the tracking: an IRTE that it
	 * read yet could not cache would bring it back here forever.
	 */
	if (r == -EWOULDBLOCK &&
	    !test_and_set_bit(pin, &ioapic->remap.rtc_pins))
		schedule_work(&ioapic->remap.work);
	return KVM_IOAPIC_BLOCKED;
}

bool __kvm_ioapic_scan_remapped(struct kvm_vcpu *vcpu, int pin,
				ulong *ioapic_handled_vectors)
{
	struct kvm_ioapic *ioapic = vcpu->kvm->arch.vioapic;
	struct kvm_viommu *viommu;
	struct kvm_lapic_irq irq;
	int r;

	r = kvm_ioapic_translate_locked(ioapic, pin, KVM_VIOMMU_IR_SCAN_ATOMIC,
					&irq, &viommu);
	if (r > 0)
		return false;

	/*
	 * The local APIC EOIs the IRTE's vector, which the I/O APIC then
	 * matches against the RTE's: exit on the former.  An entry not yet
	 * cached cannot have been delivered either; the work item rescans
	 * once it is.
	 */
	if (r == -EWOULDBLOCK) {
		/* Filled, yet not cacheable now: the next IEC rescans. */
		if (test_and_clear_bit(pin, &ioapic->remap.scan_filled))
			kvm_viommu_ir_scan_stale(viommu);
		else
			kvm_ioapic_remap_defer(ioapic, BIT(pin),
					       &ioapic->remap.scan_pins);
	} else if (!r &&
		 (kvm_apic_match_dest(vcpu, NULL, APIC_DEST_NOSHORT,
				      irq.dest_id, irq.dest_mode) ||
		  kvm_apic_pending_eoi(vcpu, irq.vector)))
		__set_bit(irq.vector, ioapic_handled_vectors);
	return true;
}

/* Leaves @pin's translation for its next service or scan. */
static void kvm_ioapic_remap_filled(struct kvm_ioapic *ioapic, int pin,
				    enum kvm_viommu_ir_context ctx,
				    const struct kvm_lapic_irq *irq)
{
	if (ctx == KVM_VIOMMU_IR_SCAN) {
		set_bit(pin, &ioapic->remap.scan_filled);
		return;
	}
	spin_lock(&ioapic->lock);
	ioapic->remap.service_irq[pin] = *irq;
	set_bit(pin, &ioapic->remap.service_filled);
	spin_unlock(&ioapic->lock);
}

/* Translates @pin's redirection entry as it is now, where that may sleep. */
static int kvm_ioapic_translate_pin(struct kvm_ioapic *ioapic, int pin,
				    enum kvm_viommu_ir_context ctx,
				    struct kvm_lapic_irq *irq)
{
	struct kvm_viommu *viommu = kvm_viommu_remapping(ioapic->kvm);
	u64 rte;

	/* Remapping went off meanwhile: the RTE is the message. */
	if (!viommu)
		return 1;

	spin_lock(&ioapic->lock);
	rte = ioapic->redirtbl[pin].bits;
	spin_unlock(&ioapic->lock);
	return kvm_ioapic_translate(ioapic->kvm, viommu, rte, ctx, irq);
}

/*
 * Reads the IRTEs of @pins into the IR cache, recording faults if @ctx is
 * a request.  Returns the pins that can be delivered now.
 */
static unsigned long kvm_ioapic_remap_fill(struct kvm_ioapic *ioapic,
					   unsigned long pins,
					   enum kvm_viommu_ir_context ctx)
{
	unsigned long ready = 0;
	struct kvm_lapic_irq irq;
	int pin, r;

	for_each_set_bit(pin, &pins, IOAPIC_NUM_PINS) {
		r = kvm_ioapic_translate_pin(ioapic, pin, ctx, &irq);
		if (r < 0)
			continue;
		__set_bit(pin, &ready);
		if (!r)
			kvm_ioapic_remap_filled(ioapic, pin, ctx, &irq);
	}
	return ready;
}

/* Reads the IRTEs that the RTC's EOI tracking missed, and restores it. */
static void kvm_ioapic_remap_rtc_tracking(struct kvm_ioapic *ioapic)
{
	unsigned long pins = READ_ONCE(ioapic->remap.rtc_pins);
	struct kvm_lapic_irq irq;
	int pin;

	for_each_set_bit(pin, &pins, IOAPIC_NUM_PINS)
		kvm_ioapic_translate_pin(ioapic, pin, KVM_VIOMMU_IR_SCAN, &irq);
	if (pins)
		kvm_ioapic_restore_rtc_eoi_tracking(ioapic);
	for_each_set_bit(pin, &pins, IOAPIC_NUM_PINS)
		clear_bit(pin, &ioapic->remap.rtc_pins);
}

static void kvm_ioapic_remap_work(struct work_struct *work)
{
	struct kvm_ioapic *ioapic = container_of(work, struct kvm_ioapic,
						 remap.work);
	unsigned long service = xchg(&ioapic->remap.service_pins, 0);
	unsigned long scan = xchg(&ioapic->remap.scan_pins, 0);
	unsigned long ready, line_status;
	struct kvm_viommu *viommu;
	int pin, idx = 0;

	/* Rescan before delivering, so that the vCPU exits on the EOI. */
	if (kvm_ioapic_remap_fill(ioapic, scan, KVM_VIOMMU_IR_SCAN))
		kvm_make_scan_ioapic_request(ioapic->kvm);

	/* Its translations are in flight until delivered, as an MSI's. */
	viommu = kvm_viommu_remapping(ioapic->kvm);
	if (viommu)
		idx = kvm_viommu_ir_enter(viommu);

	ready = kvm_ioapic_remap_fill(ioapic, service, KVM_VIOMMU_IR_PROCESS);
	/* A blocked edge is dropped; a level waits for an IEC. */
	kvm_ioapic_remap_mark(service & ~ready, &ioapic->remap.blocked_pins);
	if (service & ~ready)
		kvm_viommu_ir_held(ioapic->kvm);
	line_status = READ_ONCE(ioapic->remap.line_status_pins) & service;
	if (ready)
		kvm_ioapic_service_deferred(ioapic, ready, line_status);
	/* A level pin whose line fell meanwhile is translated afresh later. */
	for_each_set_bit(pin, &service, IOAPIC_NUM_PINS) {
		clear_bit(pin, &ioapic->remap.line_status_pins);
		if (test_bit(pin, &ready))
			clear_bit(pin, &ioapic->remap.service_filled);
	}

	if (viommu)
		kvm_viommu_ir_exit(viommu, idx);

	kvm_ioapic_remap_rtc_tracking(ioapic);
}

void kvm_ioapic_remap_init(struct kvm_ioapic *ioapic)
{
	INIT_WORK(&ioapic->remap.work, kvm_ioapic_remap_work);
}

void kvm_ioapic_remap_destroy(struct kvm_ioapic *ioapic)
{
	cancel_work_sync(&ioapic->remap.work);
}

/*
 * After an IEC, an asserted level-triggered pin that faulted may translate
 * now; the guest cannot raise its line again, so deliver it again.
 */
static void kvm_ioapic_remap_invalidated(struct kvm_ioapic *ioapic)
{
	unsigned long level = 0, retry;
	union kvm_ioapic_redirect_entry *e;
	int pin;

	/* Nothing blocked, the common case: every IEC gets here. */
	if (!READ_ONCE(ioapic->remap.blocked_pins))
		return;

	spin_lock(&ioapic->lock);
	for (pin = 0; pin < IOAPIC_NUM_PINS; pin++) {
		e = &ioapic->redirtbl[pin];
		if (e->fields.trig_mode == IOAPIC_LEVEL_TRIG &&
		    vtd_ioapic_rte_remappable(e->bits))
			__set_bit(pin, &level);
	}
	retry = xchg(&ioapic->remap.blocked_pins, 0) & level & ioapic->irr;
	spin_unlock(&ioapic->lock);

	if (retry)
		kvm_ioapic_remap_defer(ioapic, retry, &ioapic->remap.service_pins);
}

/* Deliveries of the in-kernel I/O APIC complete under its lock. */
void kvm_arch_viommu_ir_fence(struct kvm *kvm)
{
	struct kvm_ioapic *ioapic = kvm->arch.vioapic;

	if (!ioapic_in_kernel(kvm))
		return;
	spin_lock(&ioapic->lock);
	spin_unlock(&ioapic->lock);
}

void kvm_arch_viommu_ir_invalidated(struct kvm *kvm, bool rescan)
{
	if (ioapic_in_kernel(kvm))
		kvm_ioapic_remap_invalidated(kvm->arch.vioapic);

	if (rescan)
		kvm_make_scan_ioapic_request(kvm);
}
