/* i8042: controller commands, keyboard and mouse protocols, scan codes,
 * IRQ1/IRQ12 edges and the reset paths. */
#include <string.h>

#include "devtest.h"
#include "platform.h"

#define DATA 0x60
#define CMD  0x64

static int read_byte(struct vm *vm)
{
        if (!(pio_in8(vm, CMD) & 0x01))
                return -1;
        return pio_in8(vm, DATA);
}

static void expect(struct vm *vm, const char *what, const uint8_t *bytes, unsigned n)
{
        for (unsigned i = 0; i < n; i++) {
                int b = read_byte(vm);
                CHECK(b == bytes[i], "%s: byte %u is 0x%02x, want 0x%02x", what, i, b, bytes[i]);
        }
        CHECK(read_byte(vm) == -1, "%s: nothing more", what);
}

static void test_controller(struct vm *vm)
{
        pio_out8(vm, CMD, 0xAA);
        expect(vm, "self test", (const uint8_t[]){0x55}, 1);
        pio_out8(vm, CMD, 0x20);
        int ctr = read_byte(vm);
        CHECK(ctr == 0x47, "initial command byte 0x%02x", ctr);
        pio_out8(vm, CMD, 0x60);
        pio_out8(vm, DATA, 0x65);
        pio_out8(vm, CMD, 0x20);
        expect(vm, "command byte written", (const uint8_t[]){0x65}, 1);
        pio_out8(vm, CMD, 0xA8); /* enable aux: clears bit 5 */
        pio_out8(vm, CMD, 0x20);
        expect(vm, "aux enabled", (const uint8_t[]){0x45}, 1);
        pio_out8(vm, CMD, 0xAB);
        expect(vm, "kbd interface test", (const uint8_t[]){0x00}, 1);
        pio_out8(vm, CMD, 0xD3);
        pio_out8(vm, DATA, 0x5A);
        uint8_t st = pio_in8(vm, CMD);
        CHECK((st & 0x21) == 0x21, "aux loopback byte flagged as mouse data (0x%02x)", st);
        expect(vm, "aux loopback", (const uint8_t[]){0x5A}, 1);
        CHECK(pio_in8(vm, CMD) & 0x04, "system flag set");
}

static void test_keyboard(struct vm *vm, struct i8042 *k)
{
        pio_out8(vm, DATA, 0xFF);
        expect(vm, "kbd reset", (const uint8_t[]){0xFA, 0xAA}, 2);
        pio_out8(vm, DATA, 0xF2);
        expect(vm, "identify (translated)", (const uint8_t[]){0xFA, 0xAB, 0x41}, 3);
        pio_out8(vm, DATA, 0xED);
        pio_out8(vm, DATA, 0x07);
        expect(vm, "LEDs", (const uint8_t[]){0xFA, 0xFA}, 2);

        fake_reset_irqs();
        i8042_key(k, 30 /* KEY_A */, true);
        i8042_key(k, 30, false);
        CHECK(fake_irq_level[1] == 1, "key raises IRQ1");
        expect(vm, "A in set 1", (const uint8_t[]){0x1E, 0x9E}, 2);
        CHECK(fake_irq_raises[1] == 2, "one IRQ1 edge per byte (%u)", fake_irq_raises[1]);
        CHECK(fake_irq_level[1] == 0, "IRQ1 low when drained");
        i8042_key(k, 103 /* KEY_UP */, true);
        expect(vm, "Up in set 1", (const uint8_t[]){0xE0, 0x48}, 2);

        pio_out8(vm, CMD, 0x60); /* no translation: the keyboard's set 2 shows */
        pio_out8(vm, DATA, 0x05);
        pio_out8(vm, DATA, 0xF0);
        pio_out8(vm, DATA, 0x00);
        expect(vm, "get scan set", (const uint8_t[]){0xFA, 0xFA, 0x02}, 3);
        i8042_key(k, 30, true);
        i8042_key(k, 30, false);
        i8042_key(k, 111 /* KEY_DELETE */, false);
        expect(vm, "A and Delete-up in set 2",
               (const uint8_t[]){0x1C, 0xF0, 0x1C, 0xE0, 0xF0, 0x71}, 6);
        i8042_key(k, 0xFFFF, true);
        expect(vm, "unknown key ignored", NULL, 0);

        pio_out8(vm, CMD, 0xAD); /* keyboard disabled: keys wait */
        i8042_key(k, 2, true);
        CHECK(read_byte(vm) == -1, "disabled keyboard interface holds bytes");
        pio_out8(vm, CMD, 0xAE);
        expect(vm, "released after enable", (const uint8_t[]){0x16}, 1);
        for (int i = 0; i < 200; i++) /* a guest that never reads */
                i8042_key(k, 30, i & 1);
        int n = 0;
        while (read_byte(vm) >= 0)
                n++;
        CHECK(n > 0 && n <= 65, "queue bounded (%d bytes: 64 queued + the output buffer)", n);
        pio_out8(vm, CMD, 0x60);
        pio_out8(vm, DATA, 0x47);
}

static void test_mouse(struct vm *vm, struct i8042 *k)
{
        pio_out8(vm, CMD, 0xA8);
        i8042_pointer(k, 5, 5, 0);
        CHECK(read_byte(vm) == -1, "no packets before reporting is enabled");
        pio_out8(vm, CMD, 0xD4);
        pio_out8(vm, DATA, 0xFF);
        expect(vm, "mouse reset", (const uint8_t[]){0xFA, 0xAA, 0x00}, 3);
        pio_out8(vm, CMD, 0xD4);
        pio_out8(vm, DATA, 0xF2);
        expect(vm, "mouse id", (const uint8_t[]){0xFA, 0x00}, 2);
        pio_out8(vm, CMD, 0xD4);
        pio_out8(vm, DATA, 0xF4);
        expect(vm, "enable reporting", (const uint8_t[]){0xFA}, 1);
        fake_reset_irqs();
        i8042_pointer(k, 3, 2, 1);
        CHECK(fake_irq_level[12] == 1 && fake_irq_level[1] == 0, "mouse data raises IRQ12");
        CHECK(pio_in8(vm, CMD) & 0x20, "status says mouse byte");
        /* left button, y negated (PS/2 counts upwards) */
        expect(vm, "packet", (const uint8_t[]){0x29, 0x03, 0xFE}, 3);
        i8042_pointer(k, -1000, 0, 0);
        expect(vm, "overflow clamps", (const uint8_t[]){0x58, 0x00, 0x00}, 3);
}

static void test_reset(void)
{
        struct vm *vm = devtest_vm(0);
        char err[160];
        struct i8042 *k = i8042_create(vm, err, sizeof(err));
        pio_out8(vm, CMD, 0xFF); /* pulse nothing */
        CHECK(vm->exit_status == VM_RUNNING, "0xFF pulses no line");
        pio_out8(vm, CMD, 0xFE);
        CHECK(vm->exit_status == VM_EXIT_REBOOT, "0xFE resets");
        CHECK(strcmp(vm->exit_reason, "guest reset via i8042") == 0, "reason: %s", vm->exit_reason);
        i8042_destroy(k);
        devtest_vm_free(vm);

        vm = devtest_vm(0);
        k = i8042_create(vm, err, sizeof(err));
        pio_out8(vm, CMD, 0xD1);
        pio_out8(vm, DATA, 0x02);
        CHECK(vm->exit_status == VM_EXIT_REBOOT, "output port bit 0 low resets");
        i8042_destroy(k);
        devtest_vm_free(vm);
}

int main(void)
{
        struct vm *vm = devtest_vm(0);
        char err[160];
        struct i8042 *k = i8042_create(vm, err, sizeof(err));
        CHECK(k, "create: %s", err);
        CHECK(pio_in8(vm, 0x61) == 0xFF, "0x61 left for the system control port");
        test_controller(vm);
        test_keyboard(vm, k);
        test_mouse(vm, k);
        uint16_t wide = pio_in16(vm, DATA);
        CHECK(wide == 0xFFFF, "word access ignored");
        CHECK(vm->exit_status == VM_RUNNING, "nothing above reset the VM");
        i8042_destroy(k);
        devtest_vm_free(vm);
        test_reset();
        return devtest_finish("i8042");
}
