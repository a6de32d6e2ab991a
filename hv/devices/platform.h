/* The x86 platform devices of tandem-vmm: COM1-style 8250 UART, i8042
 * keyboard/mouse controller, CMOS RTC, and the ACPI tables with the PM1
 * register block that lets a guest find its CPUs and power itself off.
 * docs/platform.md describes what a guest sees. Every device registers its
 * ports on vm->pio at creation and lives as long as the VM. */
#ifndef TANDEM_PLATFORM_H
#define TANDEM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* Guest-visible addresses (ABI: docs/platform.md). */
#define PLATFORM_COM1_BASE    0x3F8
#define PLATFORM_COM1_IRQ     4
#define PLATFORM_I8042_DATA   0x60
#define PLATFORM_I8042_CMD    0x64
#define PLATFORM_KBD_IRQ      1
#define PLATFORM_AUX_IRQ      12
#define PLATFORM_RTC_INDEX    0x70
#define PLATFORM_RTC_IRQ      8
#define PLATFORM_ACPI_PM_BASE 0x600 /* PM1a_EVT 0x600, PM1a_CNT 0x604, PM_TMR 0x608, RESET 0x60C   \
                                     */
#define PLATFORM_ACPI_PM_LEN 16
#define PLATFORM_ACPI_SCI    9
#define PLATFORM_ACPI_BASE   0xE0000 /* tables live in [0xE0000, 0x100000) */
#define PLATFORM_ACPI_LIMIT  0x100000
#define PLATFORM_IOAPIC_ADDR 0xFEC00000u
#define PLATFORM_LAPIC_ADDR  0xFEE00000u

struct uart8250;
struct i8042;
struct cmos_rtc;

/* A 16550A at base (8 ports) on IRQ irq. Bytes the guest transmits go to
 * out_fd (dropped when -1); bytes read from in_fd on vm->loop are received
 * (in_fd may be -1). Returns NULL and a one-line reason in err on failure. */
struct uart8250 *uart8250_create(struct vm *vm, uint16_t base, unsigned irq, int in_fd, int out_fd,
                                 char *err, size_t errlen);

/* The 8042 controller at 0x60/0x64 with a keyboard (IRQ1) and a PS/2 mouse
 * (IRQ12). Command 0xFE and output-port writes with bit 0 clear reset the
 * machine: vm_request_exit(VM_EXIT_REBOOT). */
struct i8042 *i8042_create(struct vm *vm, char *err, size_t errlen);
/* A Linux KEY_* code pressed or released, sent in the scan-code set the guest
 * configured (set 1 when the controller translates, else set 2). Like every
 * device entry point, call it with the VM lock held (evloop callbacks do). */
void i8042_key(struct i8042 *k, uint32_t evdev_code, bool down);
/* Relative motion (dy > 0 is downwards, as evdev REL_Y) and buttons (bit 0
 * left, 1 right, 2 middle), sent when the guest enabled mouse reporting.
 * Call with the VM lock held. */
void i8042_pointer(struct i8042 *k, int dx, int dy, uint32_t buttons);

/* The MC146818-style RTC and CMOS NVRAM at 0x70/0x71, on the host's UTC clock. */
struct cmos_rtc *cmos_rtc_create(struct vm *vm, char *err, size_t errlen);

struct acpi_config {
        unsigned ncpus;
        uint64_t ram_size;
        uint64_t pci_mmio_base, pci_mmio_size; /* 32-bit PCI memory window */
        uint16_t pci_io_base, pci_io_size;     /* PCI I/O window (informational) */
};

/* Writes RSDP, RSDT, XSDT, FADT, FACS, MADT and DSDT into guest RAM at
 * [0xE0000, 0x100000) and claims the PM1 register block on vm->pio. Returns
 * 0 and the RSDP's guest address, or -errno and a one-line reason. */
int acpi_setup(struct vm *vm, const struct acpi_config *cfg, uint64_t *rsdp_gpa, char *err,
               size_t errlen);
/* Presses the ACPI fixed power button: PWRBTN_STS and, when the guest enabled
 * it, an SCI. Linux answers with an orderly shutdown. Call with the VM lock
 * held. */
void acpi_request_power_button(struct vm *vm);

/* Release a device's ports and memory (the VMM may simply exit instead). */
void uart8250_destroy(struct uart8250 *u);
void i8042_destroy(struct i8042 *k);
void cmos_rtc_destroy(struct cmos_rtc *rtc);
void acpi_teardown(struct vm *vm);

#endif
