/* Guest physical memory: one memfd, mapped once into the VMM, split around the
 * 32-bit PCI hole. Every guest-supplied address goes through guest_mem_ptr(),
 * which is the single bounds check between a guest and the VMM's address space. */
#ifndef TANDEM_GUEST_MEM_H
#define TANDEM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

/* RAM above this address is relocated to 4 GiB so that [3 GiB, 4 GiB) stays
 * free for MMIO: the PCI window, the framebuffer, the LAPIC and IOAPIC. */
#define GUEST_MEM_LOW_LIMIT 0xC0000000ULL
#define GUEST_MEM_HIGH_BASE 0x100000000ULL
#define GUEST_MEM_HUGE      (2u << 20) /* huge page size the RAM mapping is aligned to */

struct guest_mem_region {
        uint64_t gpa;  /* first guest-physical address */
        uint64_t size; /* bytes */
        uint8_t *host; /* where the VMM sees it */
};

struct guest_mem {
        int memfd;
        uint8_t *base;     /* whole memfd mapping */
        uint64_t ram_size; /* total guest RAM in bytes */
        unsigned nregions; /* 1 or 2 */
        struct guest_mem_region region[2];
};

/* Creates guest RAM of ram_size bytes (a multiple of 4 KiB). Returns 0 or -errno. */
int guest_mem_init(struct guest_mem *mem, uint64_t ram_size);
void guest_mem_destroy(struct guest_mem *mem);

/* Host pointer for [gpa, gpa+len), or NULL when any byte of it lies outside
 * guest RAM or the range straddles two regions. len may be 0. */
void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len);

/* Copies; return 0 or -EFAULT when the range is not entirely RAM. */
int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst, uint64_t len);
int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len);

#endif
