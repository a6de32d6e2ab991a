/* Reading a ring the guest produces (xHCI 4.9.2): the cycle bit says who
 * owns a TRB, Link TRBs jump (and may toggle the cycle state). A ring whose
 * links only lead to more links is a loop; the caller treats it as an error. */
#include <string.h>

#include "../vmm/guest_mem.h"
#include "xhci_internal.h"

int xhci_ring_fetch(struct xhci *x, struct xhci_ring *r, struct xhci_trb *trb, uint64_t *addr)
{
        for (unsigned hops = 0;; hops++) {
                const uint8_t *p = guest_mem_ptr(&x->vm->mem, r->dequeue, 16);
                if (!p)
                        return -1;
                uint32_t control = __atomic_load_n((const uint32_t *)(p + 12), __ATOMIC_ACQUIRE);
                if ((bool)(control & TRB_CYCLE) != r->ccs)
                        return 0;
                memcpy(&trb->param, p, 8);
                memcpy(&trb->status, p + 8, 4);
                trb->control = control;
                if (TRB_TYPE(control) != TRB_LINK) {
                        *addr = r->dequeue;
                        return 1;
                }
                if (hops >= XHCI_MAX_LINK_HOPS)
                        return -1;
                r->dequeue = trb->param & ~0xfull;
                if (control & TRB_TC)
                        r->ccs = !r->ccs;
        }
}

void xhci_ring_advance(struct xhci_ring *r)
{
        r->dequeue += 16;
}
