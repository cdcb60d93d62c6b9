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

#endif /* _TRACE_KVM_VIOMMU_H */

/* Relative to include/trace/ in tree, and to virt/kvm/ out of tree. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH ../../virt/kvm/viommu
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace

/* This part must be outside protection */
#include <trace/define_trace.h>
