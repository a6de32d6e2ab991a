#include "iobus.h"

#include <errno.h>
#include <string.h>

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
        return a < b + blen && b < a + alen;
}

int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, io_handler_fn fn, void *opaque,
                    const char *name)
{
        if (len == 0 || base + len < base)
                return -EINVAL;
        for (unsigned i = 0; i < bus->count; i++)
                if (overlaps(base, len, bus->range[i].base, bus->range[i].len))
                        return -EBUSY;
        if (bus->count == IOBUS_MAX_RANGES)
                return -ENOSPC;
        bus->range[bus->count++] =
            (struct io_range){.base = base, .len = len, .fn = fn, .opaque = opaque, .name = name};
        return 0;
}

static int find(const struct io_bus *bus, uint64_t base, void *opaque)
{
        for (unsigned i = 0; i < bus->count; i++)
                if (bus->range[i].base == base && bus->range[i].opaque == opaque)
                        return (int)i;
        return -1;
}

int io_bus_move(struct io_bus *bus, uint64_t old_base, void *opaque, uint64_t new_base)
{
        int i = find(bus, old_base, opaque);
        if (i < 0)
                return -ENOENT;
        uint64_t len = bus->range[i].len;
        for (unsigned j = 0; j < bus->count; j++)
                if ((int)j != i && overlaps(new_base, len, bus->range[j].base, bus->range[j].len))
                        return -EBUSY;
        bus->range[i].base = new_base;
        return 0;
}

int io_bus_unregister(struct io_bus *bus, uint64_t base, void *opaque)
{
        int i = find(bus, base, opaque);
        if (i < 0)
                return -ENOENT;
        bus->range[i] = bus->range[--bus->count];
        return 0;
}

bool io_bus_dispatch(const struct io_bus *bus, uint64_t addr, void *data, unsigned len,
                     bool is_write)
{
        for (unsigned i = 0; i < bus->count; i++) {
                const struct io_range *r = &bus->range[i];
                if (addr >= r->base && addr - r->base < r->len) {
                        r->fn(r->opaque, addr - r->base, data, len, is_write);
                        return true;
                }
        }
        if (!is_write)
                memset(data, 0xff, len);
        return false;
}
