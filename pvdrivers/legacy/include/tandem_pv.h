/* Tandem PV ABI, version 1: the contract between the legacy guest and
 * tandem-vmm. Shared verbatim by the guest (freestanding, gcc -m32) and the
 * VMM (hosted, 64-bit); it therefore uses only fixed-width types and no
 * pointers. docs/pv-abi.md is the prose version of this file.
 *
 * Conventions: "guest" = the PV frontend (legacy/ and pvdrivers/legacy/),
 * "VMM" = the backend (hv/pv/). A "gpa" is a guest-physical address; the
 * guest runs with paging off, so it is also the guest's pointer value. */
#ifndef TANDEM_PV_H
#define TANDEM_PV_H

#include <stdint.h>

#define TPV_ABI_VERSION 1

/* ELF note that marks a Tandem PV guest: name "Tandem", type 1, desc =
 * uint32_t ABI version. The guest must also carry the Xen PVH entry note
 * (name "Xen", type 18, XEN_ELFNOTE_PHYS32_ENTRY). */
#define TPV_ELFNOTE_NAME         "Tandem"
#define TPV_ELFNOTE_ABI          1
#define TPV_ELFNOTE_PHYS32_ENTRY 18

/* ---- Hypercall convention --------------------------------------------------
 * outl %eax, %dx with DX = TPV_PORT. EAX = hypercall number; arguments in
 * EBX, ECX, ESI, EDI (in that order). The VMM returns the result in EAX
 * (>= 0 success, negative TPV_E* on error) and preserves every other register.
 * One hypercall = one exit to the VMM. */
#define TPV_PORT 0x5A0

enum tpv_hypercall {
        /* -> EAX = TPV_ABI_VERSION. EBX = gpa of struct tpv_version (or 0). */
        TPV_HC_VERSION = 0,
        /* EBX = gpa of bytes, ECX = length (<= TPV_CONSOLE_MAX) -> bytes written. */
        TPV_HC_CONSOLE_WRITE = 1,
        /* EBX = gpa of struct tpv_time -> 0. */
        TPV_HC_GET_TIME = 2,
        /* One-shot timer: EBX = low, ECX = high 32 bits of an absolute
         * monotonic deadline in ns (struct tpv_time.mono_ns clock); 0 cancels.
         * When it passes, TPV_EVSRC_TIMER fires once. -> 0. */
        TPV_HC_SET_TIMER = 3,
        /* EBX = event source (TPV_EVSRC_*), ECX = port (0..30) -> 0.
         * Rebinding a source moves it; a port holds one source. */
        TPV_HC_EVENT_BIND = 4,
        /* EBX = port: notify the backend bound to it (for a PV bus device:
         * "queues have new buffers"). A backend that completes at once sets
         * the port before this returns. -> EAX = all pending ports; the
         * notified port's own bit is reported and cleared, the others stay
         * pending for TPV_HC_BLOCK. */
        TPV_HC_EVENT_NOTIFY = 5,
        /* EBX = mask of ports to wait for. Publishes display damage (see
         * struct tpv_shared_info), then sleeps in the VMM until a port in
         * mask is pending or the VMM needs the vCPU back (pause, shutdown).
         * -> EAX = the pending ports in mask, which are cleared. May return
         * 0 (spurious): the guest simply blocks again. */
        TPV_HC_BLOCK = 6,
        /* EBX = TPV_SHUTDOWN_*; for TPV_SHUTDOWN_CRASH, ECX = gpa of struct
         * tpv_crash_report (or 0). Does not return on success. */
        TPV_HC_SHUTDOWN = 7,
        /* EBX = device index, ECX = gpa of struct tpv_device_info.
         * -> 0, or TPV_ENOENT past the last device. */
        TPV_HC_DEVICE_INFO = 8,
        /* EBX = gpa of the 4 KiB-aligned struct tpv_shared_info page. -> 0. */
        TPV_HC_SHARED_INFO = 9,
        /* EBX = device index, ECX = gpa of struct tpv_bus_op -> 0 or error. */
        TPV_HC_BUS_OP = 10,
        /* EBX = gpa, ECX = length (<= TPV_PRINTER_MAX): append to the
         * printer spool, durably (fdatasync). -> bytes written. */
        TPV_HC_PRINTER_WRITE = 11,
        /* EBX = columns, ECX = rows: switch the text display mode; rows are
         * then packed at cols * 2 bytes. -> 0, or TPV_EINVAL when the mode
         * exceeds max_cols x max_rows. */
        TPV_HC_DISPLAY_MODE = 12,
        TPV_HC_COUNT
};

/* Error codes (returned negated in EAX; errno-compatible values). */
#define TPV_EPERM  (-1)
#define TPV_ENOENT (-2)
#define TPV_EIO    (-5)
#define TPV_EFAULT (-14) /* a gpa range outside guest RAM */
#define TPV_EBUSY  (-16)
#define TPV_ENODEV (-19)
#define TPV_EINVAL (-22) /* an argument out of range */
#define TPV_ENOSPC (-28)
#define TPV_ENOSYS (-38) /* unknown hypercall number */

#define TPV_CONSOLE_MAX 4096
#define TPV_PRINTER_MAX 65536

struct tpv_version {
        uint32_t abi_version;
        uint32_t features; /* TPV_FEAT_* */
        char vmm[24];      /* NUL-terminated VMM name and version */
};
#define TPV_FEAT_PRINTER  (1u << 0)
#define TPV_FEAT_DISPLAY  (1u << 1)
#define TPV_FEAT_KEYBOARD (1u << 2)
#define TPV_FEAT_BLOCK    (1u << 3)

struct tpv_time {
        uint64_t wall_sec; /* seconds since 1970-01-01 00:00 UTC */
        uint32_t wall_nsec;
        int32_t utc_offset; /* seconds east of UTC (local time = wall + offset) */
        uint64_t mono_ns;   /* monotonic, since an arbitrary origin */
};

enum tpv_shutdown_reason {
        TPV_SHUTDOWN_POWEROFF = 0,
        TPV_SHUTDOWN_REBOOT = 1,
        TPV_SHUTDOWN_CRASH = 2,
};

struct tpv_crash_report {
        uint32_t vector;     /* CPU exception vector, or TPV_CRASH_PANIC */
        uint32_t error_code; /* exception error code (0 if none) */
        uint32_t eip;        /* faulting instruction */
        uint32_t esp;
        char message[64]; /* NUL-terminated, may be empty */
};
#define TPV_CRASH_PANIC 0xFFFFFFFFu

/* ---- Event channels ---------------------------------------------------------
 * 31 ports (0..30), one bit each; there is no port 31, so a returned mask is
 * never negative. The VMM sets a port's bit when its source fires;
 * TPV_HC_BLOCK returns and clears them. Sources: */
#define TPV_EVSRC_TIMER     0x100 /* the one-shot timer expired */
#define TPV_EVSRC_KEYBOARD  0x101 /* keyboard ring has new entries */
#define TPV_EVSRC_CONTROL   0x102 /* shared_info.control_request changed */
#define TPV_EVSRC_DEVICE(i) (i)   /* PV bus device i used a buffer */
#define TPV_NR_PORTS        31

/* ---- Devices ---------------------------------------------------------------- */
enum tpv_device_type {
        TPV_DEV_VIRTIO = 1,  /* a virtio device on the PV bus */
        TPV_DEV_DISPLAY = 2, /* text cell display */
        TPV_DEV_KEYBOARD = 3,
        TPV_DEV_PRINTER = 4,
};

struct tpv_device_info {
        uint32_t type;        /* enum tpv_device_type */
        uint32_t virtio_id;   /* TPV_DEV_VIRTIO: virtio device ID (2 = block) */
        uint32_t num_queues;  /* TPV_DEV_VIRTIO */
        uint32_t queue_max;   /* TPV_DEV_VIRTIO: largest queue size */
        uint32_t config_size; /* TPV_DEV_VIRTIO: bytes of device config */
        uint32_t flags;       /* TPV_DEVF_* */
        uint64_t gpa;         /* TPV_DEV_DISPLAY: where the cells are mapped */
        uint32_t cols, rows;  /* TPV_DEV_DISPLAY: current mode */
        uint32_t max_cols, max_rows;
        uint32_t stride; /* TPV_DEV_DISPLAY: bytes per row = cols * 2 */
        uint32_t reserved[5];
};
#define TPV_DEVF_READONLY (1u << 0)

/* ---- PV bus (virtio devices without PCI) -------------------------------------
 * The guest drives a TPV_DEV_VIRTIO device through TPV_HC_BUS_OP with this
 * request block. Sequence (virtio 1.2 §3.1.1): RESET, STATUS(ACK|DRIVER),
 * GET_FEATURES, SET_FEATURES, STATUS(+FEATURES_OK), GET_STATUS to confirm,
 * QUEUE_SETUP per queue, READ_CONFIG as needed, STATUS(+DRIVER_OK). Kicks are
 * TPV_HC_EVENT_NOTIFY on the port bound to TPV_EVSRC_DEVICE(i); completions
 * set that port. */
enum tpv_bus_opcode {
        TPV_BUS_RESET = 0,
        TPV_BUS_GET_FEATURES = 1, /* -> features */
        TPV_BUS_SET_FEATURES = 2, /* features = driver features */
        TPV_BUS_SET_STATUS = 3,   /* value = virtio status byte */
        TPV_BUS_GET_STATUS = 4,   /* -> value */
        TPV_BUS_QUEUE_SETUP = 5,  /* queue, value = size, desc/avail/used gpas */
        TPV_BUS_READ_CONFIG = 6,  /* offset, length (<= 64) -> data */
};

struct tpv_bus_op {
        uint32_t opcode;
        uint32_t queue;
        uint32_t value;
        uint32_t offset;
        uint32_t length;
        uint32_t reserved;
        uint64_t features;
        uint64_t desc, avail, used;
        uint8_t data[64];
};

/* ---- Shared info page -------------------------------------------------------
 * One 4 KiB page of guest RAM, registered with TPV_HC_SHARED_INFO. Each field
 * says who writes it. Both sides are x86 (TSO): a writer stores the payload,
 * then the index, with a compiler barrier between (the VMM uses release
 * stores); a reader loads the index, then the payload. */
#define TPV_KBD_RING_SIZE 128 /* power of two */

/* Keyboard ring entries: PC scan code set 1. */
#define TPV_KBD_EXTENDED 0x0100u /* the key is sent with an 0xE0 prefix */
#define TPV_KBD_RELEASE  0x8000u /* break (key up); make otherwise */

#define TPV_CONTROL_NONE     0
#define TPV_CONTROL_SHUTDOWN 1 /* dom0 asks for a clean shutdown */

struct tpv_shared_info {
        uint32_t magic;   /* guest writes TPV_SHARED_MAGIC before registering */
        uint32_t version; /* guest writes TPV_ABI_VERSION */

        /* Keyboard ring. VMM writes kbd_ring[kbd_prod % SIZE], then kbd_prod;
         * guest consumes while kbd_cons != kbd_prod, then writes kbd_cons.
         * When the ring is full the VMM keeps further keys queued on its side
         * and adds them at the next TPV_HC_BLOCK. Indices are free-running. */
        volatile uint32_t kbd_prod;                    /* VMM */
        volatile uint32_t kbd_cons;                    /* guest */
        volatile uint16_t kbd_ring[TPV_KBD_RING_SIZE]; /* VMM */

        /* Display damage, written by the guest, consumed (and reset to
         * disp_dirty = 0) by the VMM at every TPV_HC_BLOCK, i.e. while the
         * vCPU is stopped: no race. The rectangle is in cells, half-open. */
        volatile uint32_t disp_dirty;                         /* guest sets 1, VMM clears */
        volatile uint32_t disp_x0, disp_y0, disp_x1, disp_y1; /* guest */
        volatile uint32_t cursor_x, cursor_y, cursor_visible; /* guest */

        /* Requests from dom0 (TPV_CONTROL_*), VMM writes, then fires
         * TPV_EVSRC_CONTROL; the guest reads and acts. */
        volatile uint32_t control_request;
};
#define TPV_SHARED_MAGIC 0x53565054u /* "TPVS" */

#endif
