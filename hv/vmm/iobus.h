/* Port-I/O and MMIO dispatch. A device claims a range once at setup; a vCPU
 * exit looks the address up and calls the handler with the offset into the
 * range. Handlers run with the VMM device lock held (see vm.h). */
#ifndef TANDEM_IOBUS_H
#define TANDEM_IOBUS_H

#include <stdbool.h>
#include <stdint.h>

/* data points at len bytes (1, 2, 4 or 8): read handlers fill it, write
 * handlers consume it. Unclaimed reads return all-ones, as on real buses. */
typedef void (*io_handler_fn)(void *opaque, uint64_t offset, void *data, unsigned len,
                              bool is_write);

#define IOBUS_MAX_RANGES 64

struct io_range {
        uint64_t base, len;
        io_handler_fn fn;
        void *opaque;
        const char *name;
};

struct io_bus {
        unsigned count;
        struct io_range range[IOBUS_MAX_RANGES];
};

/* Returns 0, -EBUSY when the range overlaps a claimed one, -ENOSPC when full. */
int io_bus_register(struct io_bus *bus, uint64_t base, uint64_t len, io_handler_fn fn, void *opaque,
                    const char *name);
/* Moves a claimed range (PCI BAR reprogramming); -ENOENT if opaque/old_base unknown. */
int io_bus_move(struct io_bus *bus, uint64_t old_base, void *opaque, uint64_t new_base);
int io_bus_unregister(struct io_bus *bus, uint64_t base, void *opaque);
/* Returns false when nothing claims addr (reads are then filled with 0xff). */
bool io_bus_dispatch(const struct io_bus *bus, uint64_t addr, void *data, unsigned len,
                     bool is_write);

#endif
