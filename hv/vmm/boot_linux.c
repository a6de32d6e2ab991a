/* The Linux x86 boot protocol (Documentation/arch/x86/boot.rst), 64-bit entry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "boot_common.h"
#include "vm.h"

/* Offsets into boot_params ("the zero page") and its embedded setup header. */
#define BP_SCREEN_INFO       0x000
#define BP_ACPI_RSDP         0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES      0x1e8
#define BP_SETUP_SECTS       0x1f1
#define BP_HDR_START         0x1f1
#define BP_JUMP              0x200
#define BP_HEADER_MAGIC      0x202
#define BP_VERSION           0x206
#define BP_TYPE_OF_LOADER    0x210
#define BP_LOADFLAGS         0x211
#define BP_RAMDISK_IMAGE     0x218
#define BP_RAMDISK_SIZE      0x21c
#define BP_HEAP_END_PTR      0x224
#define BP_CMD_LINE_PTR      0x228
#define BP_INITRD_ADDR_MAX   0x22c
#define BP_KERNEL_ALIGNMENT  0x230
#define BP_RELOCATABLE       0x234
#define BP_XLOADFLAGS        0x236
#define BP_CMDLINE_SIZE      0x238
#define BP_PREF_ADDRESS      0x258
#define BP_INIT_SIZE         0x260
#define BP_E820_TABLE        0x2d0
#define BP_SIZE              0x1000

#define LOADFLAG_LOADED_HIGH  0x01
#define LOADFLAG_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64         0x01
#define VIDEO_TYPE_VLFB       0x23

static uint16_t rd16(const uint8_t *p, size_t off)
{
        return (uint16_t)(p[off] | p[off + 1] << 8);
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
        return (uint32_t)rd16(p, off) | (uint32_t)rd16(p, off + 2) << 16;
}

static uint64_t rd64(const uint8_t *p, size_t off)
{
        return (uint64_t)rd32(p, off) | (uint64_t)rd32(p, off + 4) << 32;
}

static void wr16(uint8_t *p, size_t off, uint16_t v)
{
        p[off] = (uint8_t)v;
        p[off + 1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, size_t off, uint32_t v)
{
        wr16(p, off, (uint16_t)v);
        wr16(p, off + 2, (uint16_t)(v >> 16));
}

static void wr64(uint8_t *p, size_t off, uint64_t v)
{
        wr32(p, off, (uint32_t)v);
        wr32(p, off + 4, (uint32_t)(v >> 32));
}

static void fill_screen_info(uint8_t *bp, const struct boot_fb *fb)
{
        uint8_t *si = bp + BP_SCREEN_INFO;
        si[0x0f] = VIDEO_TYPE_VLFB;
        wr16(si, 0x12, (uint16_t)fb->width);
        wr16(si, 0x14, (uint16_t)fb->height);
        wr16(si, 0x16, 32);
        wr32(si, 0x18, (uint32_t)fb->gpa);
        /* VLFB sizes are in 64 KiB units */
        wr32(si, 0x1c, (uint32_t)(((uint64_t)fb->stride * fb->height + 0xffff) >> 16));
        wr16(si, 0x24, (uint16_t)fb->stride);
        si[0x26] = 8; /* red size, pos */
        si[0x27] = 16;
        si[0x28] = 8; /* green */
        si[0x29] = 8;
        si[0x2a] = 8; /* blue */
        si[0x2b] = 0;
        si[0x2c] = 8; /* reserved */
        si[0x2d] = 24;
        wr32(si, 0x36, 0x2); /* VIDEO_CAPABILITY_64BIT_BASE */
        wr32(si, 0x3a, (uint32_t)(fb->gpa >> 32));
}

int boot_linux_load(struct vm *vm, const struct boot_linux_params *p, char *err, size_t errlen)
{
        size_t klen = 0;
        uint8_t *k = boot_read_file(p->kernel, &klen, "kernel", err, errlen);
        if (!k)
                return -ENOENT;
        int rc = -EINVAL;
        uint8_t *initrd = NULL;
        size_t ilen = 0;

        if (klen < 0x1000 || rd32(k, BP_HEADER_MAGIC) != 0x53726448 /* "HdrS" */) {
                snprintf(err, errlen, "kernel '%s' is not a Linux bzImage (no HdrS header)",
                         p->kernel);
                goto out;
        }
        uint16_t version = rd16(k, BP_VERSION);
        if (version < 0x020c || !(k[BP_XLOADFLAGS] & XLF_KERNEL_64)) {
                snprintf(err, errlen,
                         "kernel '%s': boot protocol %u.%02u without a 64-bit entry "
                         "(2.12 or later with XLF_KERNEL_64 is required)",
                         p->kernel, version >> 8, version & 0xff);
                goto out;
        }
        unsigned setup_sects = k[BP_SETUP_SECTS] ? k[BP_SETUP_SECTS] : 4;
        size_t setup_size = (size_t)(setup_sects + 1) * 512;
        if (setup_size >= klen) {
                snprintf(err, errlen, "kernel '%s' is truncated (setup %zu bytes, file %zu)",
                         p->kernel, setup_size, klen);
                goto out;
        }
        size_t pm_size = klen - setup_size;
        uint64_t load = rd64(k, BP_PREF_ADDRESS);
        uint32_t init_size = rd32(k, BP_INIT_SIZE);
        if (load < BOOT_HIGH_LOAD)
                load = BOOT_HIGH_LOAD;
        uint64_t kernel_end = load + (init_size > pm_size ? init_size : pm_size);
        uint64_t low_ram = vm->mem.region[0].size;
        if (kernel_end > low_ram) {
                snprintf(err, errlen,
                         "guest memory too small: the kernel needs %llu MiB below 3 GiB, "
                         "%llu MiB available",
                         (unsigned long long)(kernel_end >> 20),
                         (unsigned long long)(low_ram >> 20));
                goto out;
        }
        if (guest_mem_write(&vm->mem, load, k + setup_size, pm_size) < 0) {
                snprintf(err, errlen, "kernel does not fit in guest memory");
                goto out;
        }

        uint8_t *bp = guest_mem_ptr(&vm->mem, BOOT_PARAMS_GPA, BP_SIZE);
        memset(bp, 0, BP_SIZE);
        size_t hdr_end = 0x202 + k[0x201];
        if (hdr_end > BP_SIZE || hdr_end > klen)
                hdr_end = 0x268;
        memcpy(bp + BP_HDR_START, k + BP_HDR_START, hdr_end - BP_HDR_START);
        bp[BP_TYPE_OF_LOADER] = 0xff;
        bp[BP_LOADFLAGS] |= LOADFLAG_LOADED_HIGH | LOADFLAG_CAN_USE_HEAP;
        wr16(bp, BP_HEAP_END_PTR, 0xfe00);

        const char *cmdline = p->cmdline ? p->cmdline : "";
        size_t clen = strlen(cmdline);
        uint32_t cmax = rd32(k, BP_CMDLINE_SIZE);
        if (cmax == 0)
                cmax = 255;
        if (clen > cmax || clen >= BOOT_CMDLINE_MAX) {
                snprintf(err, errlen, "command line is %zu bytes; this kernel accepts %u", clen,
                         cmax);
                goto out;
        }
        guest_mem_write(&vm->mem, BOOT_CMDLINE_GPA, cmdline, clen + 1);
        wr32(bp, BP_CMD_LINE_PTR, BOOT_CMDLINE_GPA);
        wr32(bp, BP_EXT_CMD_LINE_PTR, 0);

        if (p->initrd) {
                initrd = boot_read_file(p->initrd, &ilen, "initrd", err, errlen);
                if (!initrd) {
                        rc = -ENOENT;
                        goto out;
                }
                uint64_t max = rd32(k, BP_INITRD_ADDR_MAX);
                if (max == 0)
                        max = 0x37ffffff;
                uint64_t top = low_ram < max + 1 ? low_ram : max + 1;
                uint64_t addr = (top - ilen) & ~0xfffULL;
                if (ilen > top || addr < kernel_end) {
                        snprintf(
                            err, errlen,
                            "guest memory too small for the initrd: %zu KiB initrd, %llu "
                            "KiB free after the kernel",
                            ilen >> 10,
                            (unsigned long long)(top > kernel_end ? (top - kernel_end) >> 10 : 0));
                        goto out;
                }
                guest_mem_write(&vm->mem, addr, initrd, ilen);
                wr32(bp, BP_RAMDISK_IMAGE, (uint32_t)addr);
                wr32(bp, BP_RAMDISK_SIZE, (uint32_t)ilen);
                wr32(bp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(addr >> 32));
                wr32(bp, BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)ilen >> 32));
        }

        struct e820_entry map[BOOT_E820_MAX];
        unsigned n = boot_e820_build(vm, map, BOOT_E820_MAX);
        bp[BP_E820_ENTRIES] = (uint8_t)n;
        memcpy(bp + BP_E820_TABLE, map, n * sizeof(map[0]));
        if (vm->acpi_rsdp)
                wr64(bp, BP_ACPI_RSDP, vm->acpi_rsdp);
        if (p->fb.gpa)
                fill_screen_info(bp, &p->fb);

        /* The 64-bit entry point is 0x200 past the start of the protected-mode code. */
        rc = boot_enter_long64(vm, &vm->vcpu[0], load + 0x200, BOOT_PARAMS_GPA);
        if (rc < 0)
                snprintf(err, errlen, "cannot set up vCPU 0 for the 64-bit entry: %s",
                         strerror(-rc));
out:
        free(initrd);
        free(k);
        return rc;
}
