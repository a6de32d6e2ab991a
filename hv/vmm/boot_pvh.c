/* PVH ELF entry: load PT_LOAD segments at their physical addresses, find the
 * XEN_ELFNOTE_PHYS32_ENTRY note, pass an hvm_start_info in EBX. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot.h"
#include "boot_common.h"
#include "vm.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC          0x336ec578

/* The PVH start-info layout (version 1) as published by the Xen project ABI. */
struct hvm_start_info {
        uint32_t magic;
        uint32_t version;
        uint32_t flags;
        uint32_t nr_modules;
        uint64_t modlist_paddr;
        uint64_t cmdline_paddr;
        uint64_t rsdp_paddr;
        uint64_t memmap_paddr;
        uint32_t memmap_entries;
        uint32_t reserved;
};

struct hvm_memmap_entry {
        uint64_t addr;
        uint64_t size;
        uint32_t type;
        uint32_t reserved;
};

#define PVH_MEMMAP_GPA (BOOT_PARAMS_GPA + 0x100)

bool boot_file_is_elf(const char *path)
{
        unsigned char m[4];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        bool elf = read(fd, m, 4) == 4 && memcmp(m, ELFMAG, SELFMAG) == 0;
        close(fd);
        return elf;
}

struct elf_seg {
        uint32_t type;
        uint64_t offset, paddr, filesz, memsz;
};

static int read_segments(const uint8_t *f, size_t len, struct elf_seg *segs, unsigned *nsegs,
                         char *err, size_t errlen)
{
        bool is64 = f[EI_CLASS] == ELFCLASS64;
        if (f[EI_CLASS] != ELFCLASS32 && !is64) {
                snprintf(err, errlen, "ELF has an unknown class %u", f[EI_CLASS]);
                return -EINVAL;
        }
        if (f[EI_DATA] != ELFDATA2LSB) {
                snprintf(err, errlen, "ELF is not little-endian");
                return -EINVAL;
        }
        uint64_t phoff;
        unsigned phnum, phentsize;
        if (is64) {
                if (len < sizeof(Elf64_Ehdr))
                        goto truncated;
                const Elf64_Ehdr *eh = (const void *)f;
                if (eh->e_machine != EM_X86_64)
                        goto wrong_machine;
                phoff = eh->e_phoff;
                phnum = eh->e_phnum;
                phentsize = eh->e_phentsize;
                if (phentsize != sizeof(Elf64_Phdr))
                        goto bad_ph;
        } else {
                if (len < sizeof(Elf32_Ehdr))
                        goto truncated;
                const Elf32_Ehdr *eh = (const void *)f;
                if (eh->e_machine != EM_386)
                        goto wrong_machine;
                phoff = eh->e_phoff;
                phnum = eh->e_phnum;
                phentsize = eh->e_phentsize;
                if (phentsize != sizeof(Elf32_Phdr))
                        goto bad_ph;
        }
        if (phnum == 0 || phnum > 64 || phoff > len || (uint64_t)phnum * phentsize > len - phoff)
                goto bad_ph;
        for (unsigned i = 0; i < phnum; i++) {
                const uint8_t *ph = f + phoff + (uint64_t)i * phentsize;
                struct elf_seg *s = &segs[i];
                if (is64) {
                        const Elf64_Phdr *p = (const void *)ph;
                        *s = (struct elf_seg){p->p_type, p->p_offset, p->p_paddr, p->p_filesz,
                                              p->p_memsz};
                } else {
                        const Elf32_Phdr *p = (const void *)ph;
                        *s = (struct elf_seg){p->p_type, p->p_offset, p->p_paddr, p->p_filesz,
                                              p->p_memsz};
                }
                if (s->offset > len || s->filesz > len - s->offset) {
                        snprintf(err, errlen, "ELF segment %u lies outside the file (truncated?)",
                                 i);
                        return -EINVAL;
                }
        }
        *nsegs = phnum;
        return 0;
truncated:
        snprintf(err, errlen, "ELF file is truncated");
        return -EINVAL;
wrong_machine:
        snprintf(err, errlen, "ELF is not an x86 executable");
        return -EINVAL;
bad_ph:
        snprintf(err, errlen, "ELF program headers are invalid");
        return -EINVAL;
}

static void scan_notes(const uint8_t *n, uint64_t len, struct pvh_image *img, bool *has_entry)
{
        uint64_t off = 0;
        while (len - off >= 12) {
                uint32_t namesz, descsz, type;
                memcpy(&namesz, n + off, 4);
                memcpy(&descsz, n + off + 4, 4);
                memcpy(&type, n + off + 8, 4);
                uint64_t name_off = off + 12;
                uint64_t desc_off = name_off + ((namesz + 3ULL) & ~3ULL);
                uint64_t next = desc_off + ((descsz + 3ULL) & ~3ULL);
                if (next > len || next <= off)
                        return;
                const char *name = (const char *)n + name_off;
                if (namesz == 4 && memcmp(name, "Xen", 4) == 0 &&
                    type == XEN_ELFNOTE_PHYS32_ENTRY && (descsz == 4 || descsz == 8)) {
                        memcpy(&img->entry, n + desc_off, 4);
                        *has_entry = true;
                } else if (namesz == 7 && memcmp(name, "Tandem", 7) == 0 &&
                           type == TANDEM_ELFNOTE_PV_ABI && descsz == 4) {
                        memcpy(&img->tandem_abi, n + desc_off, 4);
                        img->has_tandem_note = true;
                }
                off = next;
        }
}

int boot_pvh_load(struct vm *vm, const char *path, const char *cmdline, struct pvh_image *img,
                  char *err, size_t errlen)
{
        memset(img, 0, sizeof(*img));
        size_t len = 0;
        uint8_t *f = boot_read_file(path, &len, "kernel", err, errlen);
        if (!f)
                return -ENOENT;
        int rc = -EINVAL;
        struct elf_seg segs[64];
        unsigned nsegs = 0;
        bool has_entry = false;
        if (len < SELFMAG || memcmp(f, ELFMAG, SELFMAG) != 0) {
                snprintf(err, errlen, "'%s' is not an ELF file", path);
                goto out;
        }
        if (len < EI_NIDENT) {
                snprintf(err, errlen, "ELF file is truncated");
                goto out;
        }
        if (read_segments(f, len, segs, &nsegs, err, errlen) < 0)
                goto out;
        for (unsigned i = 0; i < nsegs; i++)
                if (segs[i].type == PT_NOTE)
                        scan_notes(f + segs[i].offset, segs[i].filesz, img, &has_entry);
        if (!has_entry) {
                snprintf(err, errlen,
                         "'%s' has no PVH entry (no XEN_ELFNOTE_PHYS32_ENTRY note): not a PVH "
                         "kernel",
                         path);
                goto out;
        }
        for (unsigned i = 0; i < nsegs; i++) {
                const struct elf_seg *s = &segs[i];
                if (s->type != PT_LOAD || s->memsz == 0)
                        continue;
                if (s->filesz > s->memsz || s->paddr < BOOT_HIGH_LOAD ||
                    !guest_mem_ptr(&vm->mem, s->paddr, s->memsz)) {
                        snprintf(err, errlen,
                                 "ELF segment at 0x%llx (%llu bytes) does not fit guest memory "
                                 "above 1 MiB",
                                 (unsigned long long)s->paddr, (unsigned long long)s->memsz);
                        goto out;
                }
                uint8_t *dst = guest_mem_ptr(&vm->mem, s->paddr, s->memsz);
                memcpy(dst, f + s->offset, s->filesz);
                memset(dst + s->filesz, 0, s->memsz - s->filesz);
                if (s->paddr + s->memsz > img->image_end)
                        img->image_end = s->paddr + s->memsz;
        }
        if (!guest_mem_ptr(&vm->mem, img->entry, 1)) {
                snprintf(err, errlen, "PVH entry 0x%x is outside guest memory", img->entry);
                goto out;
        }

        const char *cl = cmdline ? cmdline : "";
        size_t clen = strlen(cl);
        if (clen >= BOOT_CMDLINE_MAX) {
                snprintf(err, errlen, "command line is too long (%zu bytes)", clen);
                goto out;
        }
        guest_mem_write(&vm->mem, BOOT_CMDLINE_GPA, cl, clen + 1);

        struct e820_entry map[BOOT_E820_MAX];
        unsigned n = boot_e820_build(vm, map, BOOT_E820_MAX);
        struct hvm_memmap_entry mm[BOOT_E820_MAX];
        for (unsigned i = 0; i < n; i++)
                mm[i] = (struct hvm_memmap_entry){map[i].addr, map[i].size, map[i].type, 0};
        guest_mem_write(&vm->mem, PVH_MEMMAP_GPA, mm, n * sizeof(mm[0]));
        struct hvm_start_info si = {
            .magic = HVM_START_MAGIC,
            .version = 1,
            .cmdline_paddr = BOOT_CMDLINE_GPA,
            .rsdp_paddr = vm->acpi_rsdp,
            .memmap_paddr = PVH_MEMMAP_GPA,
            .memmap_entries = n,
        };
        guest_mem_write(&vm->mem, BOOT_PARAMS_GPA, &si, sizeof(si));
        img->start_info_gpa = BOOT_PARAMS_GPA;
        rc = boot_enter_protected32(&vm->vcpu[0], img->entry, BOOT_PARAMS_GPA);
        if (rc < 0)
                snprintf(err, errlen, "cannot set up vCPU 0 for the PVH entry: %s", strerror(-rc));
out:
        free(f);
        return rc;
}
