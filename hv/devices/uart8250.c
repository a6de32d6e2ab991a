/* 16550A UART (National Semiconductor register model). Transmission is
 * instantaneous: THR is always empty, so LSR.THRE/TEMT read 1 and the
 * transmit interrupt fires as soon as it is enabled or a byte is written.
 * Received bytes come from in_fd on the event loop, or from THR in loopback
 * mode, into a receive FIFO that stops polling in_fd while it is full. */
#include "platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "vm.h"

enum { REG_DATA, REG_IER, REG_IIR_FCR, REG_LCR, REG_MCR, REG_LSR, REG_MSR, REG_SCR };

#define IER_RDI  0x01 /* received data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_RLSI 0x04 /* receiver line status */
#define IER_MSI  0x08 /* modem status */

#define IIR_NONE 0x01
#define IIR_MSI  0x00
#define IIR_THRI 0x02
#define IIR_RDI  0x04
#define IIR_RLSI 0x06
#define IIR_FIFO 0xC0

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08 /* gates the IRQ line on PCs */
#define MCR_LOOP 0x10

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI  0x40
#define MSR_DCD 0x80

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02

#define RX_SIZE 256

struct uart8250 {
        struct vm *vm;
        uint16_t base;
        unsigned irq;
        int in_fd, out_fd;
        bool in_paused; /* in_fd removed from polling while the FIFO is full */

        uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
        uint8_t msr_lines, msr_delta;
        bool overrun;
        bool thri_pending;
        bool irq_level;

        uint8_t rx[RX_SIZE];
        unsigned rx_head, rx_count;
};

static uint8_t current_iir(const struct uart8250 *u)
{
        if ((u->ier & IER_RLSI) && u->overrun)
                return IIR_RLSI;
        if ((u->ier & IER_RDI) && u->rx_count)
                return IIR_RDI;
        if ((u->ier & IER_THRI) && u->thri_pending)
                return IIR_THRI;
        if ((u->ier & IER_MSI) && (u->msr_delta & 0x0F))
                return IIR_MSI;
        return IIR_NONE;
}

static void update_irq(struct uart8250 *u)
{
        bool level = current_iir(u) != IIR_NONE && (u->mcr & MCR_OUT2);
        if (level != u->irq_level) {
                u->irq_level = level;
                vm_irq_line(u->vm, u->irq, level);
        }
}

static void rx_push(struct uart8250 *u, uint8_t byte)
{
        if (u->rx_count == RX_SIZE) {
                u->overrun = true;
                return;
        }
        u->rx[(u->rx_head + u->rx_count) % RX_SIZE] = byte;
        u->rx_count++;
}

static void set_polling(struct uart8250 *u, bool on)
{
        if (u->in_fd < 0 || !u->vm->loop || u->in_paused == !on)
                return;
        if (evloop_mod(u->vm->loop, u->in_fd, on ? EPOLLIN : 0) == 0)
                u->in_paused = !on;
}

static uint8_t rx_pop(struct uart8250 *u)
{
        if (!u->rx_count)
                return 0;
        uint8_t byte = u->rx[u->rx_head];
        u->rx_head = (u->rx_head + 1) % RX_SIZE;
        u->rx_count--;
        if (u->rx_count <= RX_SIZE / 2)
                set_polling(u, true);
        return byte;
}

static void transmit(struct uart8250 *u, uint8_t byte)
{
        if (u->mcr & MCR_LOOP) {
                rx_push(u, byte);
        } else if (u->out_fd >= 0) {
                /* A console that cannot take the byte now loses it: a guest
                 * must never stall on the VMM's stdout. */
                ssize_t n;
                do
                        n = write(u->out_fd, &byte, 1);
                while (n < 0 && errno == EINTR);
        }
        u->thri_pending = true;
}

/* In loopback mode the modem control outputs feed the modem status inputs. */
static uint8_t loop_lines(uint8_t mcr)
{
        uint8_t lines = 0;
        if (mcr & MCR_RTS)
                lines |= MSR_CTS;
        if (mcr & MCR_DTR)
                lines |= MSR_DSR;
        if (mcr & MCR_OUT1)
                lines |= MSR_RI;
        if (mcr & MCR_OUT2)
                lines |= MSR_DCD;
        return lines;
}

/* Outside loopback a present host console looks like a connected modem. */
static uint8_t external_lines(void)
{
        return MSR_CTS | MSR_DSR | MSR_DCD;
}

static void set_msr_lines(struct uart8250 *u, uint8_t lines)
{
        uint8_t changed = u->msr_lines ^ lines;
        if (changed & MSR_CTS)
                u->msr_delta |= 0x01;
        if (changed & MSR_DSR)
                u->msr_delta |= 0x02;
        if ((u->msr_lines & MSR_RI) && !(lines & MSR_RI))
                u->msr_delta |= 0x04; /* trailing edge of ring indicator */
        if (changed & MSR_DCD)
                u->msr_delta |= 0x08;
        u->msr_lines = lines;
}

static void write_reg(struct uart8250 *u, unsigned reg, uint8_t val)
{
        switch (reg) {
        case REG_DATA:
                if (u->lcr & LCR_DLAB)
                        u->dll = val;
                else
                        transmit(u, val);
                break;
        case REG_IER:
                if (u->lcr & LCR_DLAB) {
                        u->dlm = val;
                } else {
                        /* Enabling THRI with THR empty raises it at once. */
                        if ((val & IER_THRI) && !(u->ier & IER_THRI))
                                u->thri_pending = true;
                        u->ier = val & 0x0F;
                }
                break;
        case REG_IIR_FCR:
                u->fcr = val & (FCR_ENABLE | 0xC0);
                if (val & FCR_CLEAR_RX) {
                        u->rx_count = 0;
                        set_polling(u, true);
                }
                break;
        case REG_LCR:
                u->lcr = val;
                break;
        case REG_MCR:
                u->mcr = val & 0x1F;
                set_msr_lines(u, (u->mcr & MCR_LOOP) ? loop_lines(u->mcr) : external_lines());
                break;
        case REG_SCR:
                u->scr = val;
                break;
        default: /* LSR and MSR are read-only */
                break;
        }
}

static uint8_t read_reg(struct uart8250 *u, unsigned reg)
{
        switch (reg) {
        case REG_DATA:
                if (u->lcr & LCR_DLAB)
                        return u->dll;
                return rx_pop(u);
        case REG_IER:
                return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
        case REG_IIR_FCR: {
                uint8_t iir = current_iir(u);
                if (iir == IIR_THRI)
                        u->thri_pending = false; /* reading IIR acknowledges THRI */
                return iir | ((u->fcr & FCR_ENABLE) ? IIR_FIFO : 0);
        }
        case REG_LCR:
                return u->lcr;
        case REG_MCR:
                return u->mcr;
        case REG_LSR: {
                uint8_t lsr = LSR_THRE | LSR_TEMT;
                if (u->rx_count)
                        lsr |= LSR_DR;
                if (u->overrun)
                        lsr |= LSR_OE;
                u->overrun = false;
                return lsr;
        }
        case REG_MSR: {
                uint8_t msr = u->msr_lines | u->msr_delta;
                u->msr_delta = 0;
                return msr;
        }
        default:
                return u->scr;
        }
}

static void uart_io(void *opaque, uint64_t offset, void *data, unsigned len, bool is_write)
{
        struct uart8250 *u = opaque;
        uint8_t *bytes = data;
        /* Wider accesses act byte by byte on consecutive registers. */
        for (unsigned i = 0; i < len; i++) {
                unsigned reg = (unsigned)(offset + i) & 7;
                if (is_write) {
                        if (reg == REG_DATA && !(u->lcr & LCR_DLAB))
                                u->thri_pending = false;
                        write_reg(u, reg, bytes[i]);
                } else {
                        bytes[i] = read_reg(u, reg);
                }
        }
        update_irq(u);
}

static void uart_input(void *opaque, uint32_t events)
{
        struct uart8250 *u = opaque;
        uint8_t buf[RX_SIZE];
        size_t room = RX_SIZE - u->rx_count;
        if (room == 0) {
                set_polling(u, false);
                return;
        }
        ssize_t n = read(u->in_fd, buf, room);
        if (n < 0 && (errno == EAGAIN || errno == EINTR) && !(events & EPOLLERR))
                return;
        if (n <= 0) {
                /* End of input: the guest just stops receiving. */
                evloop_del(u->vm->loop, u->in_fd);
                u->in_fd = -1;
                return;
        }
        for (ssize_t i = 0; i < n; i++)
                rx_push(u, buf[i]);
        if (u->rx_count == RX_SIZE)
                set_polling(u, false);
        update_irq(u);
}

struct uart8250 *uart8250_create(struct vm *vm, uint16_t base, unsigned irq, int in_fd, int out_fd,
                                 char *err, size_t errlen)
{
        struct uart8250 *u = calloc(1, sizeof(*u));
        if (!u) {
                snprintf(err, errlen, "uart8250: out of memory");
                return NULL;
        }
        u->vm = vm;
        u->base = base;
        u->irq = irq;
        u->in_fd = in_fd;
        u->out_fd = out_fd;
        u->msr_lines = external_lines();
        int r = io_bus_register(&vm->pio, base, 8, uart_io, u, "uart8250");
        if (r < 0) {
                snprintf(err, errlen, "uart8250: cannot claim ports 0x%x-0x%x: %s", base, base + 7,
                         strerror(-r));
                free(u);
                return NULL;
        }
        if (in_fd >= 0) {
                r = vm->loop ? evloop_add(vm->loop, in_fd, EPOLLIN, uart_input, u) : -EINVAL;
                if (r < 0) {
                        snprintf(err, errlen, "uart8250: cannot poll input fd %d: %s", in_fd,
                                 strerror(-r));
                        io_bus_unregister(&vm->pio, base, u);
                        free(u);
                        return NULL;
                }
        }
        return u;
}

void uart8250_destroy(struct uart8250 *u)
{
        if (!u)
                return;
        if (u->in_fd >= 0 && u->vm->loop)
                evloop_del(u->vm->loop, u->in_fd);
        io_bus_unregister(&u->vm->pio, u->base, u);
        free(u);
}
