/* Host-side device tests: a VM without KVM (zeroed struct vm, real guest RAM
 * and I/O buses) whose interrupt lines and exit requests are recorded. */
#ifndef TANDEM_DEVTEST_H
#define TANDEM_DEVTEST_H

#include <stdio.h>
#include <stdlib.h>

#include "vm.h"

extern int devtest_failures;
extern int fake_irq_level[VM_MAX_GSI];
extern unsigned fake_irq_raises[VM_MAX_GSI]; /* 0 -> 1 transitions */

#define CHECK(cond, ...)                                                                           \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);   \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fputc('\n', stderr);                                                       \
                        devtest_failures++;                                                        \
                }                                                                                  \
        } while (0)

/* A VM with ram_size bytes of real guest memory, buses empty, no KVM. */
struct vm *devtest_vm(uint64_t ram_size);
void devtest_vm_free(struct vm *vm);
void fake_reset_irqs(void);

uint8_t pio_in8(struct vm *vm, uint16_t port);
void pio_out8(struct vm *vm, uint16_t port, uint8_t v);
uint16_t pio_in16(struct vm *vm, uint16_t port);
void pio_out16(struct vm *vm, uint16_t port, uint16_t v);
uint32_t pio_in32(struct vm *vm, uint16_t port);

int devtest_finish(const char *name);

#endif
