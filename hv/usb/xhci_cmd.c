/* The command ring (xHCI 4.6): slot and endpoint management. Contexts are
 * read from the guest's input context and written to its output (device)
 * context, always through guest_mem_ptr; a pointer outside RAM fails the one
 * command with TRB Error. */
#include <string.h>

#include "../vmm/guest_mem.h"
#include "xhci_internal.h"

#define MAX_CMDS_PER_DOORBELL 256

static uint32_t ctx_get(const uint8_t *ctx, unsigned dword)
{
        uint32_t v;
        memcpy(&v, ctx + 4 * dword, 4);
        return v;
}

static void ctx_set(uint8_t *ctx, unsigned dword, uint32_t v)
{
        memcpy(ctx + 4 * dword, &v, 4);
}

static uint8_t *input_ctx(struct xhci *x, const struct xhci_trb *cmd)
{
        return guest_mem_ptr(&x->vm->mem, cmd->param & ~0xfull, 33 * CTX_SIZE);
}

static uint8_t *output_ctx(struct xhci *x, unsigned slot)
{
        return guest_mem_ptr(&x->vm->mem, x->slot[slot].out_ctx, 32 * CTX_SIZE);
}

static void write_slot_state(struct xhci *x, unsigned id)
{
        uint8_t *out = output_ctx(x, id);
        if (!out)
                return;
        struct xhci_slot *s = &x->slot[id];
        struct usb_device *dev = s->port ? x->port[s->port].dev : NULL;
        uint32_t addr = (dev && s->state >= SLOT_ADDRESSED) ? dev->address : 0;
        ctx_set(out, 3, (ctx_get(out, 3) & ~0xf80000ffu) | s->state << 27 | addr);
}

void xhci_ep_write_state(struct xhci *x, unsigned id, unsigned dci)
{
        uint8_t *out = output_ctx(x, id);
        if (!out)
                return;
        struct xhci_ep *ep = &x->slot[id].ep[dci];
        uint8_t *c = out + CTX_SIZE * dci;
        ctx_set(c, 0, (ctx_get(c, 0) & ~7u) | ep->state);
        uint64_t deq = ep->ring.dequeue | (ep->ring.ccs ? 1 : 0);
        ctx_set(c, 2, (uint32_t)deq);
        ctx_set(c, 3, (uint32_t)(deq >> 32));
}

static void ep_from_ctx(struct xhci_ep *ep, const uint8_t *c)
{
        uint64_t deq = ctx_get(c, 2) | (uint64_t)ctx_get(c, 3) << 32;
        ep->type = (ctx_get(c, 1) >> 3) & 7;
        ep->ring.dequeue = deq & ~0xfull;
        ep->ring.ccs = deq & 1;
        ep->state = EP_RUNNING;
        ep->nak_pending = false;
}

static unsigned enable_slot(struct xhci *x, unsigned *id)
{
        unsigned max = x->config < XHCI_MAX_SLOTS ? x->config : XHCI_MAX_SLOTS;
        for (unsigned i = 1; i <= max; i++) {
                if (!x->slot[i].enabled) {
                        memset(&x->slot[i], 0, sizeof(x->slot[i]));
                        x->slot[i].enabled = true;
                        *id = i;
                        return CC_SUCCESS;
                }
        }
        return CC_NO_SLOTS;
}

static unsigned address_device(struct xhci *x, unsigned id, const struct xhci_trb *cmd)
{
        struct xhci_slot *s = &x->slot[id];
        bool bsr = cmd->control & TRB_BSR;
        if (s->state > SLOT_DEFAULT || (s->state == SLOT_DEFAULT && bsr))
                return CC_CONTEXT_STATE;
        const uint8_t *in = input_ctx(x, cmd);
        const uint8_t *dcbaa = guest_mem_ptr(&x->vm->mem, x->dcbaap + 8ull * id, 8);
        if (!in || !dcbaa)
                return CC_TRB;
        if ((ctx_get(in, 1) & 3) != 3)
                return CC_PARAMETER; /* needs A0 and A1 */
        uint64_t out_addr;
        memcpy(&out_addr, dcbaa, 8);
        s->out_ctx = out_addr & ~0x3full;
        uint8_t *out = output_ctx(x, id);
        if (!out)
                return CC_TRB;
        const uint8_t *in_slot = in + CTX_SIZE, *in_ep0 = in + 2 * CTX_SIZE;
        unsigned port = (ctx_get(in_slot, 1) >> 16) & 0xff;
        if (port < 1 || port > XHCI_NUM_PORTS || !x->port[port].dev ||
            !(x->port[port].portsc & PORT_PED))
                return CC_TRANSACTION;
        if (((ctx_get(in_ep0, 1) >> 3) & 7) != EPT_CONTROL)
                return CC_PARAMETER;
        for (unsigned i = 1; i <= XHCI_MAX_SLOTS; i++)
                if (i != id && x->slot[i].enabled && x->slot[i].port == port)
                        return CC_CONTEXT_STATE; /* one slot per device */
        memset(out, 0, 32 * CTX_SIZE);
        memcpy(out, in_slot, CTX_SIZE);
        memcpy(out + CTX_SIZE, in_ep0, CTX_SIZE);
        s->port = port;
        memset(s->ep, 0, sizeof(s->ep));
        ep_from_ctx(&s->ep[1], in_ep0);
        struct usb_device *dev = x->port[port].dev;
        if (!bsr) {
                struct usb_setup set_addr = {.request = USB_REQ_SET_ADDRESS, .value = (uint16_t)id};
                if (usb_device_control(dev, &set_addr, NULL) < 0)
                        return CC_TRANSACTION;
                s->state = SLOT_ADDRESSED;
        } else {
                s->state = SLOT_DEFAULT;
        }
        write_slot_state(x, id);
        xhci_ep_write_state(x, id, 1);
        return CC_SUCCESS;
}

static void disable_endpoints(struct xhci *x, unsigned id, uint8_t *out)
{
        for (unsigned dci = 2; dci < XHCI_MAX_EPS; dci++) {
                x->slot[id].ep[dci].state = EP_DISABLED;
                if (out)
                        ctx_set(out + CTX_SIZE * dci, 0, ctx_get(out + CTX_SIZE * dci, 0) & ~7u);
        }
}

static bool supported_type(unsigned type)
{
        return type == EPT_BULK_OUT || type == EPT_BULK_IN || type == EPT_INT_OUT ||
               type == EPT_INT_IN;
}

static unsigned configure_endpoint(struct xhci *x, unsigned id, const struct xhci_trb *cmd)
{
        struct xhci_slot *s = &x->slot[id];
        if (s->state != SLOT_ADDRESSED && s->state != SLOT_CONFIGURED)
                return CC_CONTEXT_STATE;
        uint8_t *out = output_ctx(x, id);
        if (!out)
                return CC_TRB;
        if (cmd->control & TRB_DC) {
                disable_endpoints(x, id, out);
                s->state = SLOT_ADDRESSED;
                write_slot_state(x, id);
                return CC_SUCCESS;
        }
        const uint8_t *in = input_ctx(x, cmd);
        if (!in)
                return CC_TRB;
        uint32_t drop = ctx_get(in, 0), add = ctx_get(in, 1);
        if ((drop & 3) || (add & 2))
                return CC_PARAMETER; /* slot and EP0 are not added or dropped here */
        for (unsigned dci = 2; dci < XHCI_MAX_EPS; dci++) /* validate before changing */
                if ((add >> dci & 1) &&
                    !supported_type((ctx_get(in + CTX_SIZE * (dci + 1), 1) >> 3) & 7))
                        return CC_RESOURCE; /* isochronous: not offered */
        bool any = false;
        for (unsigned dci = 2; dci < XHCI_MAX_EPS; dci++) {
                struct xhci_ep *ep = &s->ep[dci];
                if (drop >> dci & 1) {
                        ep->state = EP_DISABLED;
                        ctx_set(out + CTX_SIZE * dci, 0, ctx_get(out + CTX_SIZE * dci, 0) & ~7u);
                }
                if (add >> dci & 1) {
                        const uint8_t *c = in + CTX_SIZE * (dci + 1);
                        memcpy(out + CTX_SIZE * dci, c, CTX_SIZE);
                        ep_from_ctx(ep, c);
                        xhci_ep_write_state(x, id, dci);
                }
                any |= ep->state != EP_DISABLED;
        }
        if (add & 1) { /* context entries */
                uint32_t ent = ctx_get(in + CTX_SIZE, 0) & 0xf8000000u;
                ctx_set(out, 0, (ctx_get(out, 0) & ~0xf8000000u) | ent);
        }
        s->state = any ? SLOT_CONFIGURED : SLOT_ADDRESSED;
        write_slot_state(x, id);
        return CC_SUCCESS;
}

static unsigned evaluate_context(struct xhci *x, unsigned id, const struct xhci_trb *cmd)
{
        if (x->slot[id].state == SLOT_DISABLED)
                return CC_CONTEXT_STATE;
        const uint8_t *in = input_ctx(x, cmd);
        uint8_t *out = output_ctx(x, id);
        if (!in || !out)
                return CC_TRB;
        uint32_t add = ctx_get(in, 1);
        if (add & 1) { /* max exit latency, interrupter target */
                const uint8_t *sc = in + CTX_SIZE;
                ctx_set(out, 1, (ctx_get(out, 1) & ~0xffffu) | (ctx_get(sc, 1) & 0xffff));
                ctx_set(out, 2, (ctx_get(out, 2) & 0x3fffffu) | (ctx_get(sc, 2) & ~0x3fffffu));
        }
        if (add & 2) { /* EP0 max packet size */
                const uint8_t *ec = in + 2 * CTX_SIZE;
                uint8_t *oc = out + CTX_SIZE;
                ctx_set(oc, 1, (ctx_get(oc, 1) & 0xffffu) | (ctx_get(ec, 1) & 0xffff0000u));
        }
        return CC_SUCCESS;
}

static unsigned endpoint_command(struct xhci *x, unsigned id, const struct xhci_trb *cmd)
{
        unsigned dci = TRB_EP(cmd->control);
        if (dci < 1)
                return CC_TRB;
        struct xhci_ep *ep = &x->slot[id].ep[dci];
        if (ep->state == EP_DISABLED)
                return CC_EP_NOT_ENABLED;
        switch (TRB_TYPE(cmd->control)) {
        case TRB_RESET_EP:
                if (ep->state != EP_HALTED)
                        return CC_CONTEXT_STATE;
                ep->state = EP_STOPPED;
                break;
        case TRB_STOP_EP:
                if (ep->state != EP_RUNNING)
                        return CC_CONTEXT_STATE;
                ep->state = EP_STOPPED;
                ep->nak_pending = false;
                break;
        case TRB_SET_TR_DEQ: {
                if (ep->state != EP_STOPPED && ep->state != EP_ERROR)
                        return CC_CONTEXT_STATE;
                uint64_t deq = cmd->param & ~0xfull;
                if (!guest_mem_ptr(&x->vm->mem, deq, 16))
                        return CC_PARAMETER;
                ep->ring.dequeue = deq;
                ep->ring.ccs = cmd->param & 1;
                ep->state = EP_STOPPED;
                break;
        }
        }
        xhci_ep_write_state(x, id, dci);
        return CC_SUCCESS;
}

static unsigned run_command(struct xhci *x, const struct xhci_trb *cmd, unsigned *slot_out)
{
        unsigned type = TRB_TYPE(cmd->control);
        unsigned id = TRB_SLOT(cmd->control);
        *slot_out = id;
        if (type == TRB_NOOP_CMD) {
                *slot_out = 0;
                return CC_SUCCESS;
        }
        if (type == TRB_ENABLE_SLOT) {
                *slot_out = 0;
                return enable_slot(x, slot_out);
        }
        if (type < TRB_DISABLE_SLOT || type > TRB_RESET_DEVICE)
                return CC_TRB;
        if (id < 1 || id > XHCI_MAX_SLOTS || !x->slot[id].enabled)
                return CC_SLOT_NOT_ENABLED;
        switch (type) {
        case TRB_DISABLE_SLOT:
                memset(&x->slot[id], 0, sizeof(x->slot[id]));
                return CC_SUCCESS;
        case TRB_ADDRESS_DEVICE:
                return address_device(x, id, cmd);
        case TRB_CONFIGURE_EP:
                return configure_endpoint(x, id, cmd);
        case TRB_EVALUATE_CTX:
                return evaluate_context(x, id, cmd);
        case TRB_RESET_DEVICE: {
                struct xhci_slot *s = &x->slot[id];
                if (s->state < SLOT_ADDRESSED)
                        return CC_CONTEXT_STATE;
                disable_endpoints(x, id, output_ctx(x, id));
                s->state = SLOT_DEFAULT;
                write_slot_state(x, id);
                return CC_SUCCESS;
        }
        default:
                return endpoint_command(x, id, cmd);
        }
}

void xhci_command_doorbell(struct xhci *x)
{
        x->cmd_running = true;
        for (unsigned n = 0; n < MAX_CMDS_PER_DOORBELL && x->cmd_running; n++) {
                struct xhci_trb cmd;
                uint64_t addr;
                int r = xhci_ring_fetch(x, &x->cmd_ring, &cmd, &addr);
                if (r < 0) {
                        xhci_fail(x, "command ring at a bad address or in a link loop");
                        return;
                }
                if (r == 0)
                        return;
                xhci_ring_advance(&x->cmd_ring);
                unsigned slot = 0;
                unsigned cc = run_command(x, &cmd, &slot);
                xhci_event_cmd(x, addr, cc, slot);
        }
}
