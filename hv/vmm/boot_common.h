/* Pieces both loaders share: the e820 map and flat segment setup. */
#ifndef TANDEM_BOOT_COMMON_H
#define TANDEM_BOOT_COMMON_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct vcpu;

#define E820_RAM      1
#define E820_RESERVED 2

struct e820_entry {
        uint64_t addr;
        uint64_t size;
        uint32_t type;
} __attribute__((packed));

#define BOOT_E820_MAX 8

/* Fills map with guest RAM and the reserved low BIOS area; returns the count. */
unsigned boot_e820_build(const struct vm *vm, struct e820_entry *map, unsigned max);

/* Reads a whole file into a malloc'd buffer; NULL with err filled on failure. */
void *boot_read_file(const char *path, size_t *len, const char *what, char *err, size_t errlen);

/* Writes a GDT with flat code/data descriptors at BOOT_GDT_GPA. */
void boot_write_gdt(struct vm *vm);
/* Puts vcpu in flat 32-bit protected mode (paging off) at entry with ebx. */
int boot_enter_protected32(struct vcpu *vcpu, uint32_t entry, uint32_t ebx);
/* Builds identity page tables for the low 4 GiB and enters 64-bit mode at entry with rsi. */
int boot_enter_long64(struct vm *vm, struct vcpu *vcpu, uint64_t entry, uint64_t rsi);

#endif
