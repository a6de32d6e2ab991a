#include "boot_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"
#include "vm.h"

/* Selectors follow the Linux boot protocol: __BOOT_CS 0x10, __BOOT_DS 0x18. */
#define SEL_CODE32 0x08
#define SEL_CODE64 0x10
#define SEL_DATA   0x18
#define SEL_TSS    0x20

unsigned boot_e820_build(const struct vm *vm, struct e820_entry *map, unsigned max)
{
        unsigned n = 0;
        const struct guest_mem *m = &vm->mem;
        uint64_t low_end = m->region[0].size;
        if (n < max)
                map[n++] = (struct e820_entry){0, BOOT_E820_RESERVED_BASE, E820_RAM};
        if (n < max)
                map[n++] = (struct e820_entry){BOOT_E820_RESERVED_BASE,
                                               0x100000 - BOOT_E820_RESERVED_BASE, E820_RESERVED};
        if (low_end > 0x100000 && n < max)
                map[n++] = (struct e820_entry){0x100000, low_end - 0x100000, E820_RAM};
        if (m->nregions > 1 && n < max)
                map[n++] = (struct e820_entry){m->region[1].gpa, m->region[1].size, E820_RAM};
        return n;
}

void *boot_read_file(const char *path, size_t *len, const char *what, char *err, size_t errlen)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, errlen, "%s '%s': %s", what, path, strerror(errno));
                return NULL;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                snprintf(err, errlen, "%s '%s': not a regular file", what, path);
                close(fd);
                return NULL;
        }
        size_t size = (size_t)st.st_size;
        uint8_t *buf = malloc(size ? size : 1);
        if (!buf) {
                snprintf(err, errlen, "%s '%s': out of memory", what, path);
                close(fd);
                return NULL;
        }
        size_t got = 0;
        while (got < size) {
                ssize_t r = read(fd, buf + got, size - got);
                if (r <= 0) {
                        snprintf(err, errlen, "%s '%s': read failed", what, path);
                        free(buf);
                        close(fd);
                        return NULL;
                }
                got += (size_t)r;
        }
        close(fd);
        *len = size;
        return buf;
}

static uint64_t gdt_entry(uint32_t flags, uint32_t base, uint32_t limit)
{
        return ((uint64_t)(base & 0xff000000u) << 32) | ((uint64_t)(flags & 0x0000f0ffu) << 40) |
               ((uint64_t)(limit & 0x000f0000u) << 32) | ((uint64_t)(base & 0x00ffffffu) << 16) |
               (uint64_t)(limit & 0x0000ffffu);
}

void boot_write_gdt(struct vm *vm)
{
        uint64_t gdt[5] = {
            0,
            gdt_entry(0xc09b, 0, 0xfffff), /* 32-bit code */
            gdt_entry(0xa09b, 0, 0xfffff), /* 64-bit code */
            gdt_entry(0xc093, 0, 0xfffff), /* data */
            gdt_entry(0x008b, 0, 0x67),    /* TSS */
        };
        guest_mem_write(&vm->mem, BOOT_GDT_GPA, gdt, sizeof(gdt));
}

static struct kvm_segment seg(uint16_t sel, uint8_t type, bool code64)
{
        struct kvm_segment s = {
            .base = 0,
            .limit = 0xffffffff,
            .selector = sel,
            .type = type,
            .present = 1,
            .s = 1,
            .g = 1,
            .db = code64 ? 0 : 1,
            .l = code64 ? 1 : 0,
        };
        return s;
}

static void set_common_sregs(struct kvm_sregs *s, bool code64)
{
        s->cs = seg(code64 ? SEL_CODE64 : SEL_CODE32, 0xb, code64);
        s->ds = s->es = s->fs = s->gs = s->ss = seg(SEL_DATA, 0x3, false);
        s->tr = (struct kvm_segment){.selector = SEL_TSS, .limit = 0x67, .type = 0xb, .present = 1};
        s->ldt = (struct kvm_segment){.type = 0x2, .present = 1, .unusable = 1};
        s->gdt.base = BOOT_GDT_GPA;
        s->gdt.limit = 5 * 8 - 1;
        s->idt.base = 0;
        s->idt.limit = 0;
}

int boot_enter_protected32(struct vcpu *v, uint32_t entry, uint32_t ebx)
{
        struct kvm_sregs s;
        boot_write_gdt(v->vm);
        if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
                return -errno;
        set_common_sregs(&s, false);
        s.cr0 = 0x11; /* PE | ET; paging stays off */
        s.cr3 = s.cr4 = 0;
        s.efer = 0;
        if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
                return -errno;
        struct kvm_regs r = {.rip = entry, .rbx = ebx, .rflags = 0x2};
        return ioctl(v->fd, KVM_SET_REGS, &r) < 0 ? -errno : 0;
}

int boot_enter_long64(struct vm *vm, struct vcpu *v, uint64_t entry, uint64_t rsi)
{
        /* PML4 -> one PDPT -> four page directories of 2 MiB pages: 0..4 GiB. */
        uint64_t pml4 = BOOT_PML4_GPA, pdpt = pml4 + 0x1000, pd = pml4 + 0x2000;
        uint64_t *p = guest_mem_ptr(&vm->mem, pml4, 0x6000);
        if (!p)
                return -EFAULT;
        memset(p, 0, 0x6000);
        p[0] = pdpt | 0x3;
        for (unsigned i = 0; i < 4; i++) {
                p[512 + i] = (pd + i * 0x1000) | 0x3;
                for (unsigned j = 0; j < 512; j++)
                        p[1024 + i * 512 + j] = ((uint64_t)(i * 512 + j) << 21) | 0x83;
        }
        struct kvm_sregs s;
        boot_write_gdt(vm);
        if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
                return -errno;
        set_common_sregs(&s, true);
        s.cr3 = pml4;
        s.cr4 = 0x20;       /* PAE */
        s.cr0 = 0x80000011; /* PG | ET | PE */
        s.efer = 0x500;     /* LME | LMA */
        if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
                return -errno;
        struct kvm_regs r = {.rip = entry, .rsi = rsi, .rflags = 0x2};
        return ioctl(v->fd, KVM_SET_REGS, &r) < 0 ? -errno : 0;
}
