/* The legacy PV guest's VMM side: hypercalls, event channels, the PV bus
 * (virtio devices without PCI), display cells, keyboard and printer. The ABI
 * is pvdrivers/legacy/include/tandem_pv.h, described in docs/pv-abi.md. */
#ifndef TANDEM_PV_LEGACY_H
#define TANDEM_PV_LEGACY_H

#include <stdbool.h>
#include <stddef.h>

struct vm;
struct control;
struct pvh_image;
struct legacy_domain;
struct audio;

struct legacy_config {
        const char *disk_path; /* NULL: no data disk */
        bool disk_readonly;
        const char *disk_format;  /* NULL: probe (see blk_image.h) */
        bool disk_direct;         /* cache=none */
        const char *printer_path; /* NULL: no printer */
        unsigned cols, rows;      /* initial text mode (0 = 80x25) */
        const char *console;      /* console_mux spec for the PV console; NULL = stderr */
        struct audio *audio;      /* the domain's sound backend; NULL: no PV sound device */
        const char *const *nets;  /* --net specs: PV network devices (docs/net.md) */
        unsigned nnets;
        const char *name; /* domain name, for default MACs; NULL = "" */
        const char *const *usb; /* --usb specs: devices on PV USB (docs/usb.md) */
        unsigned nusb;          /* 0: no PV USB device */
};

/* Call after boot_pvh_load. Refuses an image without the Tandem ABI note or
 * with an unsupported ABI version; on failure returns NULL with a one-line
 * reason in err. */
struct legacy_domain *legacy_setup(struct vm *vm, struct control *ctl, const struct pvh_image *img,
                                   const struct legacy_config *cfg, char *err, size_t errlen);
/* Clean shutdown request: raised as a control event; the guest flushes and
 * makes the shutdown hypercall. Safe from any thread. */
void legacy_request_shutdown(struct legacy_domain *d);

#endif
