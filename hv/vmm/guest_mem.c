#include "guest_mem.h"

#include <errno.h>
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
        void *p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
        if (p == MAP_FAILED) {
                int err = -errno;
                close(fd);
                return err;
        }
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
