/* tandem-vmm command line. */
#ifndef TANDEM_VMM_OPTIONS_H
#define TANDEM_VMM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_MAX_DISKS 8
#define VMM_MAX_USB   8
#define VMM_MAX_NETS  4

struct vmm_disk {
        const char *path;
        const char *format; /* NULL: probe; "raw", "qcow2", "vpc", "vmdk" */
        bool readonly;
        bool direct; /* cache=none: O_DIRECT for guest data */
};

struct vmm_options {
        const char *name;
        const char *kernel, *initrd, *cmdline, *legacy;
        uint64_t mem;
        unsigned cpus;
        unsigned ndisks;
        struct vmm_disk disk[VMM_MAX_DISKS];
        const char *console, *vconsole, *control, *printer;
        const char *sound; /* --sound backend spec (pvdrivers/audio/audio.h); NULL: none */
        uint32_t fb_width, fb_height;
        bool rng;
        bool count_insns; /* single-step to count guest instructions */
        bool no_sandbox;  /* skip the seccomp allow-list */
        unsigned nusb;
        const char *usb[VMM_MAX_USB];
        unsigned nnets;
        const char *net[VMM_MAX_NETS]; /* --net specs (pvdrivers/net/net_spec.h) */
};

/* Returns 0, 1 after printing help/version (exit 0), or -1 with err set (exit 2). */
int vmm_options_parse(int argc, char **argv, struct vmm_options *o, char *err, size_t errlen);

#endif
