/* Guest side of the hypercall convention (docs/pv-abi.md): one OUT to
 * TPV_PORT, number in EAX, arguments in EBX/ECX/ESI/EDI, result in EAX. */
#ifndef TANDEM_PV_HYPERCALL_H
#define TANDEM_PV_HYPERCALL_H

#include "include/tandem_pv.h"

static inline int32_t tpv_hypercall4(uint32_t nr, uint32_t a1, uint32_t a2, uint32_t a3,
                                     uint32_t a4)
{
        uint32_t ret = nr;
        /* "memory": the VMM reads and writes guest buffers during the call. */
        __asm__ volatile("outl %%eax, %%dx"
                         : "+a"(ret)
                         : "d"((uint16_t)TPV_PORT), "b"(a1), "c"(a2), "S"(a3), "D"(a4)
                         : "memory");
        return (int32_t)ret;
}

static inline int32_t tpv_hypercall2(uint32_t nr, uint32_t a1, uint32_t a2)
{
        return tpv_hypercall4(nr, a1, a2, 0, 0);
}

#define TPV_GPA(p) ((uint32_t)(uintptr_t)(p))

#endif
