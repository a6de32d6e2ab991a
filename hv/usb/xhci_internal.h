/* Between the xhci_*.c files only: controller state, TRB layout, and the
 * constants of the xHCI 1.2 specification they share. */
#ifndef TANDEM_XHCI_INTERNAL_H
#define TANDEM_XHCI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "xhci.h"

#define XHCI_MAX_SLOTS 16
#define XHCI_NUM_PORTS (XHCI_USB2_PORTS + XHCI_USB3_PORTS)
#define XHCI_MAX_EPS   32 /* device context indices 1..31 */
#define XHCI_ERST_MAX  4  /* event ring segment table entries (ERST Max = 2^2) */

/* BAR 0 layout */
#define XHCI_BAR_SIZE   0x4000
#define XHCI_CAPLENGTH  0x80
#define XHCI_XECP       0x40 /* supported protocol capabilities */
#define XHCI_OP         XHCI_CAPLENGTH
#define XHCI_PORTREGS   (XHCI_OP + 0x400)
#define XHCI_RUNTIME    0x1000
#define XHCI_DOORBELL   0x2000
#define XHCI_MSIX_TABLE 0x3000
#define XHCI_MSIX_PBA   0x3800

/* USBCMD / USBSTS (5.4.1, 5.4.2) */
#define CMD_RUN   (1u << 0)
#define CMD_HCRST (1u << 1)
#define CMD_INTE  (1u << 2)
#define STS_HCH   (1u << 0)
#define STS_HSE   (1u << 2)
#define STS_EINT  (1u << 3)
#define STS_PCD   (1u << 4)
#define STS_SRE   (1u << 10)
#define STS_CNR   (1u << 11)
#define STS_HCE   (1u << 12)

/* CRCR (5.4.5) */
#define CRCR_RCS (1u << 0)
#define CRCR_CS  (1u << 1)
#define CRCR_CA  (1u << 2)
#define CRCR_CRR (1u << 3)

/* PORTSC (5.4.8) */
#define PORT_CCS         (1u << 0)
#define PORT_PED         (1u << 1)
#define PORT_PR          (1u << 4)
#define PORT_PLS_SHIFT   5
#define PORT_PLS_MASK    (0xfu << 5)
#define PORT_PP          (1u << 9)
#define PORT_SPEED_SHIFT 10
#define PORT_LWS         (1u << 16)
#define PORT_CSC         (1u << 17)
#define PORT_PEC         (1u << 18)
#define PORT_WRC         (1u << 19)
#define PORT_OCC         (1u << 20)
#define PORT_PRC         (1u << 21)
#define PORT_PLC         (1u << 22)
#define PORT_CEC         (1u << 23)
#define PORT_WAKE_MASK   (7u << 25)
#define PORT_WPR         (1u << 31)
#define PORT_CHANGES     (PORT_CSC | PORT_PEC | PORT_WRC | PORT_OCC | PORT_PRC | PORT_PLC | PORT_CEC)
#define PLS_U0           0
#define PLS_U3           3
#define PLS_RXDETECT     5
#define PLS_POLLING      7
#define PLS_RESUME       15

/* IMAN / ERDP (5.5.2) */
#define IMAN_IP  (1u << 0)
#define IMAN_IE  (1u << 1)
#define ERDP_EHB (1u << 3)

/* TRB (6.4) */
struct xhci_trb {
        uint64_t param;
        uint32_t status;
        uint32_t control;
};

#define TRB_CYCLE   (1u << 0)
#define TRB_TC      (1u << 1) /* link: toggle cycle */
#define TRB_ENT     (1u << 1)
#define TRB_ISP     (1u << 2)
#define TRB_CH      (1u << 4)
#define TRB_IOC     (1u << 5)
#define TRB_IDT     (1u << 6)
#define TRB_BSR     (1u << 9) /* address device: block SET_ADDRESS */
#define TRB_DC      (1u << 9) /* configure endpoint: deconfigure */
#define TRB_DIR_IN  (1u << 16)
#define TRB_TYPE(c) (((c) >> 10) & 0x3f)
#define TRB_SLOT(c) ((c) >> 24)
#define TRB_EP(c)   (((c) >> 16) & 0x1f)
#define TRB_LEN(s)  ((s)&0x1ffff)

enum trb_type {
        TRB_NORMAL = 1,
        TRB_SETUP = 2,
        TRB_DATA = 3,
        TRB_STATUS = 4,
        TRB_ISOCH = 5,
        TRB_LINK = 6,
        TRB_EVENT_DATA = 7,
        TRB_NOOP = 8,
        TRB_ENABLE_SLOT = 9,
        TRB_DISABLE_SLOT = 10,
        TRB_ADDRESS_DEVICE = 11,
        TRB_CONFIGURE_EP = 12,
        TRB_EVALUATE_CTX = 13,
        TRB_RESET_EP = 14,
        TRB_STOP_EP = 15,
        TRB_SET_TR_DEQ = 16,
        TRB_RESET_DEVICE = 17,
        TRB_NOOP_CMD = 23,
        TRB_EV_TRANSFER = 32,
        TRB_EV_CMD_COMPLETE = 33,
        TRB_EV_PORT_STATUS = 34,
        TRB_EV_HOST_CONTROLLER = 37,
};

/* Completion codes (6.4.5) */
enum trb_cc {
        CC_SUCCESS = 1,
        CC_DATA_BUFFER = 2,
        CC_BABBLE = 3,
        CC_TRANSACTION = 4,
        CC_TRB = 5,
        CC_STALL = 6,
        CC_RESOURCE = 7,
        CC_NO_SLOTS = 9,
        CC_SLOT_NOT_ENABLED = 11,
        CC_EP_NOT_ENABLED = 12,
        CC_SHORT_PACKET = 13,
        CC_PARAMETER = 17,
        CC_CONTEXT_STATE = 19,
        CC_EVENT_RING_FULL = 21,
        CC_CMD_RING_STOPPED = 24,
        CC_STOPPED = 26,
};

/* Slot and endpoint context states (6.2.2, 6.2.3) */
enum { SLOT_DISABLED = 0, SLOT_DEFAULT = 1, SLOT_ADDRESSED = 2, SLOT_CONFIGURED = 3 };
enum { EP_DISABLED = 0, EP_RUNNING = 1, EP_HALTED = 2, EP_STOPPED = 3, EP_ERROR = 4 };
enum { EPT_BULK_OUT = 2, EPT_INT_OUT = 3, EPT_CONTROL = 4, EPT_BULK_IN = 6, EPT_INT_IN = 7 };

#define CTX_SIZE 32 /* HCCPARAMS1.CSZ = 0 */

/* Bounds on what one doorbell may make us walk (guest-controlled rings). */
#define XHCI_MAX_TD_TRBS      1024
#define XHCI_MAX_TD_BYTES     (4u << 20)
#define XHCI_MAX_LINK_HOPS    32 /* consecutive link TRBs before we call it a loop */
#define XHCI_MAX_TRBS_PER_RUN 4096

/* A ring the controller consumes: where it reads next and its cycle state. */
struct xhci_ring {
        uint64_t dequeue;
        bool ccs;
};

struct xhci_ep {
        unsigned state; /* EP_* as mirrored in the output context */
        unsigned type;  /* EPT_* */
        struct xhci_ring ring;
        bool nak_pending; /* an IN TD waits for device data */
};

struct xhci_slot {
        bool enabled;
        unsigned state; /* SLOT_* */
        unsigned port;  /* root port 1..N, 0 before Address Device */
        uint64_t out_ctx;
        struct xhci_ep ep[XHCI_MAX_EPS];
};

struct xhci_port {
        struct xhci *xhci; /* for the device's wakeup callback */
        unsigned num;
        uint32_t portsc;
        bool usb3;
        struct usb_device *dev;
};

struct xhci {
        struct pci_device pci;
        struct vm *vm;
        uint32_t usbcmd, usbsts, dnctrl, config;
        uint64_t crcr, dcbaap;
        struct xhci_ring cmd_ring;
        bool cmd_running;
        /* interrupter 0 */
        uint32_t iman, imod, erstsz;
        uint64_t erstba, erdp;
        unsigned ev_seg; /* enqueue position: segment, index within it */
        unsigned ev_idx;
        bool ev_pcs; /* producer cycle state */
        uint64_t ev_seg_base[XHCI_ERST_MAX];
        uint32_t ev_seg_size[XHCI_ERST_MAX];
        unsigned ev_nsegs; /* 0: event ring not set up */
        bool ev_full;
        struct xhci_slot slot[XHCI_MAX_SLOTS + 1];
        struct xhci_port port[XHCI_NUM_PORTS + 1];
        /* TRBs of the TD being executed (scratch, bounded). */
        struct xhci_td_trb {
                uint64_t addr;
                struct xhci_trb trb;
        } td[XHCI_MAX_TD_TRBS];
        uint64_t errors; /* guest mistakes answered with an error, for stats */
        uint64_t tds;    /* transfer descriptors completed, for stats */
};

/* xhci_regs.c */
void xhci_reset(struct xhci *x);
/* Host Controller Error: the guest broke a structure we cannot recover. */
void xhci_fail(struct xhci *x, const char *why);

/* xhci_event.c */
void xhci_event_ring_setup(struct xhci *x);
void xhci_event(struct xhci *x, const struct xhci_trb *ev);
void xhci_erdp_written(struct xhci *x);
void xhci_event_cmd(struct xhci *x, uint64_t trb, unsigned cc, unsigned slot);
void xhci_event_port(struct xhci *x, unsigned port);

/* xhci_ring.c: next TRB the controller owns on ring r (following link TRBs,
 * bounded), or 0 when the ring is empty, -1 on a bad address or link loop. */
int xhci_ring_fetch(struct xhci *x, struct xhci_ring *r, struct xhci_trb *trb, uint64_t *addr);
void xhci_ring_advance(struct xhci_ring *r);

/* xhci_cmd.c */
void xhci_command_doorbell(struct xhci *x);

/* xhci_transfer.c */
void xhci_endpoint_doorbell(struct xhci *x, unsigned slot, unsigned dci);
void xhci_ep_write_state(struct xhci *x, unsigned slot, unsigned dci);

void xhci_endpoint_wakeup(void *port, uint8_t ep);

/* xhci_port.c */
uint32_t xhci_portsc_read(struct xhci *x, unsigned port);
void xhci_portsc_write(struct xhci *x, unsigned port, uint32_t v);
void xhci_ports_reset(struct xhci *x);

#endif
