/* Guest loaders: the Linux x86 boot protocol (bzImage) and the PVH ELF entry.
 * Both write into guest RAM through guest_mem and set up the boot vCPU. */
#ifndef TANDEM_BOOT_H
#define TANDEM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* Guest-physical layout shared by the loaders (see docs/platform.md). */
#define BOOT_GDT_GPA            0x500
#define BOOT_PARAMS_GPA         0x7000 /* zero page (Linux) / hvm_start_info (PVH) */
#define BOOT_CMDLINE_GPA        0x20000
#define BOOT_CMDLINE_MAX        0x10000
#define BOOT_PML4_GPA           0x9000 /* identity page tables for the 64-bit entry */
#define BOOT_E820_RESERVED_BASE 0x9FC00
#define BOOT_HIGH_LOAD          0x100000 /* kernels load at 1 MiB */

struct boot_fb {
        uint64_t gpa; /* 0 = no framebuffer */
        uint32_t width, height, stride;
};

struct boot_linux_params {
        const char *kernel;  /* bzImage path */
        const char *initrd;  /* may be NULL */
        const char *cmdline; /* may be NULL */
        struct boot_fb fb;
        uint64_t acpi_rsdp; /* 0 = none */
};

/* Loads a bzImage (protocol >= 2.12 with a 64-bit entry), boot_params with
 * e820, the initrd (placed as high as the kernel allows) and the command
 * line, and puts vCPU 0 in 64-bit mode at the 64-bit entry. */
int boot_linux_load(struct vm *vm, const struct boot_linux_params *p, char *err, size_t errlen);

/* An ELF note the legacy guest carries to say it speaks Tandem's PV ABI:
 * name "Tandem", type TANDEM_ELFNOTE_PV_ABI, desc = uint32_t ABI version. */
#define TANDEM_ELFNOTE_PV_ABI 1

struct pvh_image {
        uint32_t entry;          /* from XEN_ELFNOTE_PHYS32_ENTRY */
        uint64_t start_info_gpa; /* hvm_start_info, passed in EBX */
        uint64_t image_end;      /* first byte after the highest loaded segment */
        bool has_tandem_note;
        uint32_t tandem_abi; /* valid when has_tandem_note */
};

/* Loads a 32- or 64-bit ELF with a PVH entry note; builds hvm_start_info
 * (version 1, with the command line and the e820 memory map) and puts vCPU 0
 * in 32-bit flat protected mode, paging off, at the entry, EBX = start info. */
int boot_pvh_load(struct vm *vm, const char *path, const char *cmdline, struct pvh_image *img,
                  char *err, size_t errlen);

/* True when the file starts with the ELF magic (used to pick the loader). */
bool boot_file_is_elf(const char *path);

#endif
