/* The slice of vm.c the platform devices call, without KVM: interrupt lines
 * and exit requests land in plain variables the tests inspect. */
#include <string.h>

#include "devtest.h"

int devtest_failures;
int fake_irq_level[VM_MAX_GSI];
unsigned fake_irq_raises[VM_MAX_GSI];

int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
        (void)vm;
        if (gsi >= VM_MAX_GSI)
                return -1;
        if (level && !fake_irq_level[gsi])
                fake_irq_raises[gsi]++;
        fake_irq_level[gsi] = level;
        return 0;
}

void vm_irq_pulse(struct vm *vm, unsigned gsi)
{
        vm_irq_line(vm, gsi, 1);
        vm_irq_line(vm, gsi, 0);
}

void vm_request_exit(struct vm *vm, enum vm_exit status, const char *reason)
{
        int running = VM_RUNNING;
        if (atomic_compare_exchange_strong(&vm->exit_status, &running, (int)status))
                snprintf(vm->exit_reason, sizeof(vm->exit_reason), "%s", reason);
}

void vm_lock(struct vm *vm)
{
        pthread_mutex_lock(&vm->lock);
}

void vm_unlock(struct vm *vm)
{
        pthread_mutex_unlock(&vm->lock);
}

struct vm *devtest_vm(uint64_t ram_size)
{
        struct vm *vm = calloc(1, sizeof(*vm));
        if (!vm)
                abort();
        pthread_mutex_init(&vm->lock, NULL);
        vm->exit_status = VM_RUNNING;
        vm->ncpus = 1;
        if (ram_size && guest_mem_init(&vm->mem, ram_size) < 0) {
                fprintf(stderr, "guest_mem_init failed\n");
                abort();
        }
        return vm;
}

void devtest_vm_free(struct vm *vm)
{
        if (vm->mem.ram_size)
                guest_mem_destroy(&vm->mem);
        pthread_mutex_destroy(&vm->lock);
        free(vm);
}

void fake_reset_irqs(void)
{
        memset(fake_irq_level, 0, sizeof(fake_irq_level));
        memset(fake_irq_raises, 0, sizeof(fake_irq_raises));
}

uint8_t pio_in8(struct vm *vm, uint16_t port)
{
        uint8_t v;
        io_bus_dispatch(&vm->pio, port, &v, 1, false);
        return v;
}

void pio_out8(struct vm *vm, uint16_t port, uint8_t v)
{
        io_bus_dispatch(&vm->pio, port, &v, 1, true);
}

uint16_t pio_in16(struct vm *vm, uint16_t port)
{
        uint16_t v;
        io_bus_dispatch(&vm->pio, port, &v, 2, false);
        return v;
}

void pio_out16(struct vm *vm, uint16_t port, uint16_t v)
{
        io_bus_dispatch(&vm->pio, port, &v, 2, true);
}

uint32_t pio_in32(struct vm *vm, uint16_t port)
{
        uint32_t v;
        io_bus_dispatch(&vm->pio, port, &v, 4, false);
        return v;
}

int devtest_finish(const char *name)
{
        if (devtest_failures) {
                printf("%s: %d check(s) failed\n", name, devtest_failures);
                return 1;
        }
        printf("%s: all checks passed\n", name);
        return 0;
}
