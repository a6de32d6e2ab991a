/* 8250 UART: registers, loopback, interrupts, host output and input. */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "devtest.h"
#include "platform.h"

#define COM1 0x3F8
#define IRQ  4

static void test_registers(struct vm *vm)
{
        pio_out8(vm, COM1 + 7, 0x5A);
        CHECK(pio_in8(vm, COM1 + 7) == 0x5A, "scratch register keeps 0x5A");
        uint8_t lsr = pio_in8(vm, COM1 + 5);
        CHECK((lsr & 0x61) == 0x60, "idle LSR has THRE|TEMT, no DR (0x%02x)", lsr);
        CHECK(pio_in8(vm, COM1 + 2) == 0x01, "IIR: no interrupt pending");
        pio_out8(vm, COM1 + 3, 0x80); /* DLAB */
        pio_out8(vm, COM1 + 0, 0x01);
        pio_out8(vm, COM1 + 1, 0x00);
        CHECK(pio_in8(vm, COM1 + 0) == 0x01 && pio_in8(vm, COM1 + 1) == 0x00,
              "divisor latch reads back 115200 baud");
        pio_out8(vm, COM1 + 3, 0x03); /* 8N1 */
        CHECK(pio_in8(vm, COM1 + 3) == 0x03, "LCR reads back");
        pio_out8(vm, COM1 + 2, 0x07);
        CHECK((pio_in8(vm, COM1 + 2) & 0xC0) == 0xC0, "FIFO enabled shows in IIR");
}

static void test_loopback(struct vm *vm)
{
        pio_out8(vm, COM1 + 4, 0x10 | 0x02); /* loopback, RTS */
        uint8_t msr = pio_in8(vm, COM1 + 6);
        CHECK(msr & 0x10, "loopback: RTS appears as CTS (MSR 0x%02x)", msr);
        CHECK(!(msr & 0x20), "loopback: DTR off, so no DSR");
        const char *msg = "loop!";
        for (const char *p = msg; *p; p++)
                pio_out8(vm, COM1, (uint8_t)*p);
        char got[8] = {0};
        for (int i = 0; i < 5; i++) {
                CHECK(pio_in8(vm, COM1 + 5) & 0x01, "DR set before byte %d", i);
                got[i] = (char)pio_in8(vm, COM1);
        }
        CHECK(strcmp(got, msg) == 0, "loopback returns what was sent (%s)", got);
        CHECK(!(pio_in8(vm, COM1 + 5) & 0x01), "DR clear once drained");
        for (int i = 0; i < 300; i++) /* more than the FIFO holds */
                pio_out8(vm, COM1, (uint8_t)i);
        CHECK(pio_in8(vm, COM1 + 5) & 0x02, "overrun reported in LSR");
        CHECK(!(pio_in8(vm, COM1 + 5) & 0x02), "overrun clears on LSR read");
        pio_out8(vm, COM1 + 2, 0x07); /* clear FIFOs */
        CHECK(!(pio_in8(vm, COM1 + 5) & 0x01), "FCR clears the receive FIFO");
        pio_out8(vm, COM1 + 4, 0x00);
}

static void test_interrupts(struct vm *vm)
{
        fake_reset_irqs();
        pio_out8(vm, COM1 + 1, 0x02); /* THRI only, OUT2 still off */
        CHECK(fake_irq_level[IRQ] == 0, "no IRQ without OUT2");
        CHECK((pio_in8(vm, COM1 + 2) & 0x0F) == 0x02, "IIR reports THRI");
        CHECK((pio_in8(vm, COM1 + 2) & 0x0F) == 0x01, "reading IIR acknowledged THRI");
        pio_out8(vm, COM1 + 4, 0x08); /* OUT2 */
        pio_out8(vm, COM1, 'x');
        CHECK(fake_irq_level[IRQ] == 1, "THRI raises IRQ 4 after a write");
        pio_in8(vm, COM1 + 2);
        CHECK(fake_irq_level[IRQ] == 0, "IIR read lowers IRQ 4");
        pio_out8(vm, COM1 + 1, 0x01); /* RDI */
        pio_out8(vm, COM1 + 4, 0x18); /* loopback + OUT2 */
        pio_out8(vm, COM1, 'y');
        CHECK((pio_in8(vm, COM1 + 2) & 0x0F) == 0x04, "IIR reports received data");
        CHECK(fake_irq_level[IRQ] == 1, "received data raises IRQ 4");
        CHECK(pio_in8(vm, COM1) == 'y', "the byte");
        CHECK(fake_irq_level[IRQ] == 0, "draining lowers IRQ 4");
        pio_out8(vm, COM1 + 1, 0x00);
        pio_out8(vm, COM1 + 4, 0x00);
}

static void lock(void *arg)
{
        vm_lock(arg);
}

static void unlock(void *arg)
{
        vm_unlock(arg);
}

static void *loop_thread(void *arg)
{
        struct vm *vm = arg;
        evloop_run(vm->loop, lock, unlock, vm);
        return NULL;
}

static void test_host_fds(void)
{
        int in[2], out[2];
        if (pipe(in) || pipe(out))
                abort();
        fcntl(in[0], F_SETFL, O_NONBLOCK);
        struct vm *vm = devtest_vm(0);
        vm->loop = evloop_new();
        char err[160];
        struct uart8250 *u = uart8250_create(vm, COM1, IRQ, in[0], out[1], err, sizeof(err));
        CHECK(u, "create with fds: %s", err);
        struct uart8250 *dup = uart8250_create(vm, COM1 + 4, IRQ, -1, -1, err, sizeof(err));
        CHECK(!dup && strstr(err, "0x3fc"), "overlapping claim refused: %s", err);
        pthread_t t;
        pthread_create(&t, NULL, loop_thread, vm);

        vm_lock(vm);
        for (const char *p = "hello"; *p; p++)
                pio_out8(vm, COM1, (uint8_t)*p);
        vm_unlock(vm);
        char buf[16] = {0};
        CHECK(read(out[0], buf, 5) == 5 && strcmp(buf, "hello") == 0, "host sees output");

        /* 600 bytes of input: more than the FIFO, so polling must pause and resume. */
        char input[600];
        for (int i = 0; i < 600; i++)
                input[i] = (char)('a' + i % 26);
        CHECK(write(in[1], input, sizeof(input)) == (ssize_t)sizeof(input), "pipe write");
        int got = 0, bad = 0;
        for (int spins = 0; got < 600 && spins < 20000; spins++) {
                vm_lock(vm);
                while (pio_in8(vm, COM1 + 5) & 0x01) {
                        if (pio_in8(vm, COM1) != (uint8_t)input[got])
                                bad++;
                        got++;
                }
                vm_unlock(vm);
                usleep(100);
        }
        CHECK(got == 600 && bad == 0, "guest received all input in order (%d, %d bad)", got, bad);
        vm_lock(vm);
        CHECK(!(pio_in8(vm, COM1 + 5) & 0x02), "no overrun from host input");
        vm_unlock(vm);

        close(in[1]); /* EOF: the UART stops polling and stays usable */
        usleep(20000);
        evloop_stop(vm->loop);
        pthread_join(t, NULL);
        uart8250_destroy(u);
        evloop_free(vm->loop);
        devtest_vm_free(vm);
        close(in[0]);
        close(out[0]);
        close(out[1]);
}

int main(void)
{
        struct vm *vm = devtest_vm(0);
        char err[160];
        struct uart8250 *u = uart8250_create(vm, COM1, IRQ, -1, -1, err, sizeof(err));
        CHECK(u, "create: %s", err);
        test_registers(vm);
        test_loopback(vm);
        test_interrupts(vm);
        uint32_t wide;
        io_bus_dispatch(&vm->pio, COM1 + 4, &wide, 4, false); /* odd widths do not crash */
        uart8250_destroy(u);
        CHECK(pio_in8(vm, COM1 + 7) == 0xFF, "ports released on destroy");
        devtest_vm_free(vm);
        test_host_fds();
        return devtest_finish("uart8250");
}
