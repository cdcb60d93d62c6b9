/* SPDX-License-Identifier: GPL-2.0-only */
#if !defined(_TRACE_KVM_VIOMMU_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_KVM_VIOMMU_H

#include <linux/tracepoint.h>

#undef TRACE_SYSTEM
#define TRACE_SYSTEM kvm_viommu

/* An interrupt request translated through the IRTE at @index. */
TRACE_EVENT(kvm_viommu_translate,
	TP_PROTO(u32 index, u16 sid, bool has_sid, u8 vector, u32 dest,
		 bool hit),
	TP_ARGS(index, sid, has_sid, vector, dest, hit),

	TP_STRUCT__entry(
		__field(u32, index)
		__field(u16, sid)
		__field(bool, has_sid)
		__field(u8, vector)
		__field(u32, dest)
		__field(bool, hit)
	),

	TP_fast_assign(
		__entry->index = index;
		__entry->sid = sid;
		__entry->has_sid = has_sid;
		__entry->vector = vector;
		__entry->dest = dest;
		__entry->hit = hit;
	),

	TP_printk("index %u sid %s%04x vector 0x%x dest 0x%x %s",
		  __entry->index, __entry->has_sid ? "" : "none/",
		  __entry->sid, __entry->vector, __entry->dest,
		  __entry->hit ? "hit" : "miss")
);

/* A request that delivered nothing; @recorded is false under FPD. */
TRACE_EVENT(kvm_viommu_fault,
	TP_PROTO(u8 reason, u32 index, u16 sid, bool has_sid, bool recorded),
	TP_ARGS(reason, index, sid, has_sid, recorded),

	TP_STRUCT__entry(
		__field(u8, reason)
		__field(u32, index)
		__field(u16, sid)
		__field(bool, has_sid)
		__field(bool, recorded)
	),

	TP_fast_assign(
		__entry->reason = reason;
		__entry->index = index;
		__entry->sid = sid;
		__entry->has_sid = has_sid;
		__entry->recorded = recorded;
	),

	TP_printk("reason 0x%x index %u sid %s%04x %s",
		  __entry->reason, __entry->index,
		  __entry->has_sid ? "" : "none/", __entry->sid,
		  __entry->recorded ? "recorded" : "suppressed by FPD")
);

TRACE_EVENT(kvm_viommu_iec,
	TP_PROTO(bool global, u32 index, u8 mask),
	TP_ARGS(global, index, mask),

	TP_STRUCT__entry(
		__field(bool, global)
		__field(u32, index)
		__field(u8, mask)
	),

	TP_fast_assign(
		__entry->global = global;
		__entry->index = index;
		__entry->mask = mask;
	),

	TP_printk("%s index %u mask %u",
		  __entry->global ? "global" : "selective",
		  __entry->index, __entry->mask)
);

/*
 * An invalidation wait drains the remapped deliveries in flight, because
 * an invalidation before it dropped an entry that requests used.
 */
TRACE_EVENT(kvm_viommu_ir_fence,
	TP_PROTO(u64 gen),
	TP_ARGS(gen),

	TP_STRUCT__entry(
		__field(u64, gen)
	),

	TP_fast_assign(
		__entry->gen = gen;
	),

	TP_printk("after invalidation %llu", __entry->gen)
);

/* The invalidation queue ran a descriptor, or stopped at it. */
TRACE_EVENT(kvm_viommu_qi_desc,
	TP_PROTO(u32 index, u64 qw0, u64 qw1, int result),
	TP_ARGS(index, qw0, qw1, result),

	TP_STRUCT__entry(
		__field(u32, index)
		__field(u64, qw0)
		__field(u64, qw1)
		__field(int, result)
	),

	TP_fast_assign(
		__entry->index = index;
		__entry->qw0 = qw0;
		__entry->qw1 = qw1;
		__entry->result = result;
	),

	TP_printk("index %u desc 0x%016llx 0x%016llx %s", __entry->index,
		  __entry->qw0, __entry->qw1,
		  __entry->result == 0 ? "done" :
		  __entry->result == -EAGAIN ? "waits for the VMM" : "IQE")
);

/* Work queued for the VMM; @lost if the ring was full. */
TRACE_EVENT(kvm_viommu_event,
	TP_PROTO(u32 type, u64 seq, bool lost),
	TP_ARGS(type, seq, lost),

	TP_STRUCT__entry(
		__field(u32, type)
		__field(u64, seq)
		__field(bool, lost)
	),

	TP_fast_assign(
		__entry->type = type;
		__entry->seq = seq;
		__entry->lost = lost;
	),

	TP_printk("type 0x%x seq %llu%s", __entry->type, __entry->seq,
		  __entry->lost ? " lost" : "")
);

/* The fault event or the invalidation completion event, sent or held. */
TRACE_EVENT(kvm_viommu_event_irq,
	TP_PROTO(bool fault, u64 address, u32 data, bool masked),
	TP_ARGS(fault, address, data, masked),

	TP_STRUCT__entry(
		__field(bool, fault)
		__field(u64, address)
		__field(u32, data)
		__field(bool, masked)
	),

	TP_fast_assign(
		__entry->fault = fault;
		__entry->address = address;
		__entry->data = data;
		__entry->masked = masked;
	),

	TP_printk("%s event address 0x%llx data 0x%x %s",
		  __entry->fault ? "fault" : "invalidation", __entry->address,
		  __entry->data, __entry->masked ? "pending (IM)" : "sent")
);

#endif /* _TRACE_KVM_VIOMMU_H */

/* Relative to include/trace/ in tree, and to virt/kvm/ out of tree. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH ../../virt/kvm/viommu
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace

/* This part must be outside protection */
#include <trace/define_trace.h>
