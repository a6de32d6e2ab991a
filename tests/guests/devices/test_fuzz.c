/* Random accesses of every width to every platform port, interleaved with
 * host-side input, under the sanitizers: nothing may crash, and each device
 * must still answer correctly afterwards. Deterministic seed. */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "devtest.h"
#include "platform.h"

static uint64_t state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return (uint32_t)state;
}

int main(void)
{
        struct vm *vm = devtest_vm(16 << 20);
        char err[160];
        int devnull = open("/dev/null", O_WRONLY);
        struct uart8250 *u = uart8250_create(vm, 0x3F8, 4, -1, devnull, err, sizeof(err));
        struct i8042 *k = i8042_create(vm, err, sizeof(err));
        struct cmos_rtc *rtc = cmos_rtc_create(vm, err, sizeof(err));
        struct acpi_config cfg = {.ncpus = 2, .ram_size = 16 << 20};
        uint64_t rsdp;
        CHECK(u && k && rtc && acpi_setup(vm, &cfg, &rsdp, err, sizeof(err)) == 0, "setup: %s",
              err);
        static const uint16_t ranges[][2] = {
            {0x3F8, 0x3FF}, {0x60, 0x60}, {0x64, 0x64}, {0x70, 0x71}, {0x600, 0x60F}};
        for (int i = 0; i < 400000; i++) {
                unsigned r = rnd() % 5;
                uint16_t port =
                    (uint16_t)(ranges[r][0] + rnd() % (ranges[r][1] - ranges[r][0] + 1));
                unsigned len = 1u << (rnd() % 4);
                uint64_t v = (uint64_t)rnd() << 32 | rnd();
                io_bus_dispatch(&vm->pio, port, &v, len, rnd() & 1);
                switch (rnd() % 64) {
                case 0:
                        i8042_key(k, rnd() % 300, rnd() & 1);
                        break;
                case 1:
                        i8042_pointer(k, (int)(rnd() % 2001) - 1000, (int)(rnd() % 2001) - 1000,
                                      rnd());
                        break;
                case 2:
                        acpi_request_power_button(vm);
                        break;
                }
        }
        /* The guest's chaos may have reset or powered off the VM; the devices
         * must still work as a fresh guest would find them. */
        pio_out8(vm, 0x3FC, 0x00);
        pio_out8(vm, 0x3FB, 0x03);
        pio_out8(vm, 0x3FF, 0x42);
        CHECK(pio_in8(vm, 0x3FF) == 0x42, "UART scratch");
        for (int i = 0; i < 200 && (pio_in8(vm, 0x64) & 1); i++)
                pio_in8(vm, 0x60);
        pio_out8(vm, 0x64, 0xAA);
        CHECK(pio_in8(vm, 0x60) == 0x55, "i8042 self test");
        pio_out8(vm, 0x70, 0x0D);
        CHECK(pio_in8(vm, 0x71) == 0x80, "RTC register D");
        CHECK(pio_in16(vm, 0x604) & 1, "SCI_EN");
        printf("fuzz: VM state after chaos: %d (%s)\n", vm->exit_status, vm->exit_reason);
        uart8250_destroy(u);
        i8042_destroy(k);
        cmos_rtc_destroy(rtc);
        acpi_teardown(vm);
        close(devnull);
        devtest_vm_free(vm);
        return devtest_finish("fuzz");
}
