#include "guest_mem.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int guest_mem_init(struct guest_mem *mem, uint64_t ram_size)
{
        memset(mem, 0, sizeof(*mem));
        mem->memfd = -1;
        if (ram_size == 0 || (ram_size & 0xfff))
                return -EINVAL;
        int fd = memfd_create("tandem-guest-ram", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, (off_t)ram_size) < 0) {
                int err = -errno;
                close(fd);
                return err;
        }
        /* 2 MiB-aligned, so the host can back it with huge pages and KVM can
         * map the guest with 2 MiB entries: fewer TLB misses and shorter
         * nested walks (the rig's nested SVM gains the most). A PROT_NONE
         * reservation a huge page larger is trimmed around the mapping. */
        size_t span = ram_size + GUEST_MEM_HUGE;
        uint8_t *r =
            mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (r == MAP_FAILED) {
                int err = -errno;
                close(fd);
                return err;
        }
        uint8_t *aligned =
            (uint8_t *)(((uintptr_t)r + GUEST_MEM_HUGE - 1) & ~(uintptr_t)(GUEST_MEM_HUGE - 1));
        void *p = mmap(aligned, ram_size, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_NORESERVE | MAP_FIXED, fd, 0);
        if (p == MAP_FAILED) {
                int err = -errno;
                munmap(r, span);
                close(fd);
                return err;
        }
        if (aligned > r)
                munmap(r, (size_t)(aligned - r));
        if (aligned + ram_size < r + span)
                munmap(aligned + ram_size, (size_t)(r + span - (aligned + ram_size)));
        /* Huge pages for shmem need the host's shmem_enabled at "advise" (or
         * "always"); elsewhere this is a no-op (docs/ARCHITECTURE.md). */
        madvise(p, ram_size, MADV_HUGEPAGE);
        /* Guest RAM is never part of a core dump: it is the guest's data, and large. */
        madvise(p, ram_size, MADV_DONTDUMP);
        mem->memfd = fd;
        mem->base = p;
        mem->ram_size = ram_size;
        uint64_t low = ram_size < GUEST_MEM_LOW_LIMIT ? ram_size : GUEST_MEM_LOW_LIMIT;
        mem->region[0] = (struct guest_mem_region){.gpa = 0, .size = low, .host = mem->base};
        mem->nregions = 1;
        if (ram_size > low) {
                mem->region[1] = (struct guest_mem_region){
                    .gpa = GUEST_MEM_HIGH_BASE, .size = ram_size - low, .host = mem->base + low};
                mem->nregions = 2;
        }
        return 0;
}

void guest_mem_destroy(struct guest_mem *mem)
{
        if (mem->base)
                munmap(mem->base, mem->ram_size);
        if (mem->memfd >= 0)
                close(mem->memfd);
        memset(mem, 0, sizeof(*mem));
        mem->memfd = -1;
}

void *guest_mem_ptr(const struct guest_mem *mem, uint64_t gpa, uint64_t len)
{
        for (unsigned i = 0; i < mem->nregions; i++) {
                const struct guest_mem_region *r = &mem->region[i];
                if (gpa < r->gpa || gpa - r->gpa > r->size)
                        continue;
                uint64_t off = gpa - r->gpa;
                if (len > r->size - off)
                        return NULL;
                return r->host + off;
        }
        return NULL;
}

int guest_mem_read(const struct guest_mem *mem, uint64_t gpa, void *dst, uint64_t len)
{
        const void *src = guest_mem_ptr(mem, gpa, len);
        if (!src)
                return -EFAULT;
        memcpy(dst, src, len);
        return 0;
}

int guest_mem_write(const struct guest_mem *mem, uint64_t gpa, const void *src, uint64_t len)
{
        void *dst = guest_mem_ptr(mem, gpa, len);
        if (!dst)
                return -EFAULT;
        memcpy(dst, src, len);
        return 0;
}
