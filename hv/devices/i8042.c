/* The 8042 keyboard controller with an AT keyboard and a PS/2 mouse
 * (IBM PS/2 technical reference register model). One output buffer at 0x60
 * is fed, in priority order, from controller replies, the keyboard queue and
 * the mouse queue; IRQ1/IRQ12 follow "output buffer full" for the device
 * whose byte it holds. The input buffer is always empty: commands complete
 * synchronously. */
#include "platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i8042_keymap.h"
#include "vm.h"

#define STS_OBF  0x01
#define STS_SYS  0x04
#define STS_CMD  0x08 /* last write went to 0x64 */
#define STS_UNLK 0x10 /* keyboard not inhibited */
#define STS_AUX  0x20 /* output buffer holds a mouse byte */

#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS    0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE  0x40

#define ACK    0xFA
#define RESEND 0xFE

#define QUEUE_SIZE 64

struct byte_queue {
        uint16_t b[QUEUE_SIZE]; /* bit 8: the byte is the mouse's */
        unsigned head, count;
};

struct i8042 {
        struct vm *vm;
        uint8_t ctr;         /* controller command byte */
        uint8_t status_cmd;  /* STS_CMD */
        uint8_t outport;     /* bit 0: not in reset, bit 1: A20 */
        uint8_t pending_ctl; /* controller command awaiting its data byte */
        uint8_t ob;          /* output buffer */
        bool ob_full, ob_aux;
        bool kbd_irq, aux_irq;
        struct byte_queue ctl, kbd, aux;

        /* keyboard */
        uint8_t kbd_pending; /* command awaiting a parameter */
        int kbd_set;         /* scan-code set 1..3 */
        bool kbd_scanning;

        /* mouse */
        uint8_t aux_pending;
        bool aux_reporting;
        uint8_t aux_rate, aux_resolution;
        bool aux_scaling21;
        uint32_t aux_buttons;
};

static bool queue_room(const struct byte_queue *q, unsigned n)
{
        return QUEUE_SIZE - q->count >= n;
}

static void queue_push(struct byte_queue *q, uint16_t v)
{
        if (q->count == QUEUE_SIZE)
                return;
        q->b[(q->head + q->count) % QUEUE_SIZE] = v;
        q->count++;
}

static uint16_t queue_pop(struct byte_queue *q)
{
        uint16_t v = q->b[q->head];
        q->head = (q->head + 1) % QUEUE_SIZE;
        q->count--;
        return v;
}

static void update_irqs(struct i8042 *k)
{
        bool kbd = k->ob_full && !k->ob_aux && (k->ctr & CTR_KBDINT);
        bool aux = k->ob_full && k->ob_aux && (k->ctr & CTR_AUXINT);
        if (kbd != k->kbd_irq) {
                k->kbd_irq = kbd;
                vm_irq_line(k->vm, PLATFORM_KBD_IRQ, kbd);
        }
        if (aux != k->aux_irq) {
                k->aux_irq = aux;
                vm_irq_line(k->vm, PLATFORM_AUX_IRQ, aux);
        }
}

static void refill(struct i8042 *k)
{
        if (k->ob_full)
                return;
        struct byte_queue *q = NULL;
        if (k->ctl.count)
                q = &k->ctl;
        else if (k->kbd.count && !(k->ctr & CTR_KBDDIS))
                q = &k->kbd;
        else if (k->aux.count && !(k->ctr & CTR_AUXDIS))
                q = &k->aux;
        if (!q)
                return;
        uint16_t v = queue_pop(q);
        k->ob = (uint8_t)v;
        k->ob_aux = v & 0x100;
        k->ob_full = true;
}

static void kbd_reply(struct i8042 *k, uint8_t byte)
{
        queue_push(&k->kbd, byte);
}

static void aux_reply(struct i8042 *k, uint8_t byte)
{
        queue_push(&k->aux, 0x100 | byte);
}

static void kbd_defaults(struct i8042 *k)
{
        k->kbd_set = 2;
        k->kbd.count = 0;
}

/* Bytes a translating controller would turn into set 1 values. */
static uint8_t kbd_xlate(const struct i8042 *k, uint8_t set2_byte, uint8_t set1_byte)
{
        return (k->ctr & CTR_XLATE) ? set1_byte : set2_byte;
}

static void kbd_write(struct i8042 *k, uint8_t byte)
{
        uint8_t pending = k->kbd_pending;
        k->kbd_pending = 0;
        if (pending == 0xF0) { /* select or query scan-code set */
                kbd_reply(k, ACK);
                if (byte == 0) {
                        static const uint8_t set1[] = {0, 0x43, 0x41, 0x3F};
                        kbd_reply(k, kbd_xlate(k, (uint8_t)k->kbd_set, set1[k->kbd_set]));
                } else if (byte <= 3) {
                        k->kbd_set = byte;
                }
                return;
        }
        if (pending) { /* LED state or typematic rate: accepted, no effect */
                kbd_reply(k, ACK);
                return;
        }
        switch (byte) {
        case 0xED: /* set LEDs */
        case 0xF0: /* scan-code set */
        case 0xF3: /* typematic rate */
                k->kbd_pending = byte;
                kbd_reply(k, ACK);
                break;
        case 0xEE: /* echo */
                kbd_reply(k, 0xEE);
                break;
        case 0xF2: /* identify: MF2 keyboard */
                kbd_reply(k, ACK);
                kbd_reply(k, 0xAB);
                kbd_reply(k, kbd_xlate(k, 0x83, 0x41));
                break;
        case 0xF4:
                k->kbd.count = 0;
                k->kbd_scanning = true;
                kbd_reply(k, ACK);
                break;
        case 0xF5:
                kbd_defaults(k);
                k->kbd_scanning = false;
                kbd_reply(k, ACK);
                break;
        case 0xF6:
                kbd_defaults(k);
                kbd_reply(k, ACK);
                break;
        case 0xF7:
        case 0xF8:
        case 0xF9:
        case 0xFA:
        case 0xFB:
        case 0xFC:
        case 0xFD:
                kbd_reply(k, ACK); /* set 3 key attributes */
                break;
        case 0xFF: /* reset and self test */
                kbd_defaults(k);
                k->kbd_scanning = true;
                kbd_reply(k, ACK);
                kbd_reply(k, 0xAA);
                break;
        default:
                kbd_reply(k, RESEND);
                break;
        }
}

static void aux_defaults(struct i8042 *k)
{
        k->aux_reporting = false;
        k->aux_rate = 100;
        k->aux_resolution = 2;
        k->aux_scaling21 = false;
        k->aux.count = 0;
}

static void aux_packet(struct i8042 *k, int dx, int dy)
{
        uint8_t head = 0x08 | (k->aux_buttons & 7);
        if (dx < -256 || dx > 255) {
                head |= 0x40;
                dx = dx < 0 ? -256 : 255;
        }
        if (dy < -256 || dy > 255) {
                head |= 0x80;
                dy = dy < 0 ? -256 : 255;
        }
        if (dx < 0)
                head |= 0x10;
        if (dy < 0)
                head |= 0x20;
        aux_reply(k, head);
        aux_reply(k, (uint8_t)dx);
        aux_reply(k, (uint8_t)dy);
}

static void aux_write(struct i8042 *k, uint8_t byte)
{
        uint8_t pending = k->aux_pending;
        k->aux_pending = 0;
        if (pending == 0xF3) {
                k->aux_rate = byte;
                aux_reply(k, ACK);
                return;
        }
        if (pending == 0xE8) {
                k->aux_resolution = byte & 3;
                aux_reply(k, ACK);
                return;
        }
        switch (byte) {
        case 0xE6:
        case 0xE7:
                k->aux_scaling21 = byte == 0xE7;
                aux_reply(k, ACK);
                break;
        case 0xE8:
        case 0xF3:
                k->aux_pending = byte;
                aux_reply(k, ACK);
                break;
        case 0xE9: /* status request */
                aux_reply(k, ACK);
                aux_reply(k,
                          (uint8_t)((k->aux_reporting ? 0x20 : 0) | (k->aux_scaling21 ? 0x10 : 0) |
                                    (k->aux_buttons & 1) << 2 | (k->aux_buttons & 2 ? 1 : 0) |
                                    (k->aux_buttons & 4 ? 2 : 0)));
                aux_reply(k, k->aux_resolution);
                aux_reply(k, k->aux_rate);
                break;
        case 0xEA: /* stream mode */
        case 0xEC: /* reset wrap mode */
        case 0xF0: /* remote mode */
                aux_reply(k, ACK);
                break;
        case 0xEB: /* read data */
                aux_reply(k, ACK);
                aux_packet(k, 0, 0);
                break;
        case 0xF2: /* get device id: standard PS/2 mouse */
                aux_reply(k, ACK);
                aux_reply(k, 0x00);
                break;
        case 0xF4:
                k->aux_reporting = true;
                aux_reply(k, ACK);
                break;
        case 0xF5:
                k->aux_reporting = false;
                aux_reply(k, ACK);
                break;
        case 0xF6:
                aux_defaults(k);
                aux_reply(k, ACK);
                break;
        case 0xFF:
                aux_defaults(k);
                aux_reply(k, ACK);
                aux_reply(k, 0xAA);
                aux_reply(k, 0x00);
                break;
        default:
                aux_reply(k, RESEND);
                break;
        }
}

static void ctl_reply(struct i8042 *k, uint8_t byte, bool aux)
{
        queue_push(&k->ctl, (uint16_t)((aux ? 0x100 : 0) | byte));
}

static void machine_reset(struct i8042 *k)
{
        vm_request_exit(k->vm, VM_EXIT_REBOOT, "guest reset via i8042");
}

static void write_outport(struct i8042 *k, uint8_t val)
{
        k->outport = val;
        if (!(val & 0x01))
                machine_reset(k);
}

static void ctl_data(struct i8042 *k, uint8_t cmd, uint8_t byte)
{
        switch (cmd) {
        case 0x60:
                k->ctr = byte;
                break;
        case 0xD1:
                write_outport(k, byte);
                break;
        case 0xD2:
                ctl_reply(k, byte, false);
                break;
        case 0xD3:
                ctl_reply(k, byte, true);
                break;
        case 0xD4:
                aux_write(k, byte);
                break;
        default: /* other controller RAM bytes are not kept */
                break;
        }
}

static void ctl_command(struct i8042 *k, uint8_t cmd)
{
        if (cmd == 0x20) {
                ctl_reply(k, k->ctr, false);
                return;
        }
        if (cmd > 0x20 && cmd < 0x40) {
                ctl_reply(k, 0, false);
                return;
        }
        if ((cmd >= 0x60 && cmd < 0x80) || (cmd >= 0xD1 && cmd <= 0xD4)) {
                k->pending_ctl = cmd;
                return;
        }
        if (cmd >= 0xF0) { /* pulse output lines low; bit 0 is the reset line */
                if (!(cmd & 0x01))
                        machine_reset(k);
                return;
        }
        switch (cmd) {
        case 0xA4: /* password installed? no */
                ctl_reply(k, 0xF1, false);
                break;
        case 0xA7:
                k->ctr |= CTR_AUXDIS;
                break;
        case 0xA8:
                k->ctr &= ~CTR_AUXDIS;
                break;
        case 0xA9: /* aux interface test: ok */
        case 0xAB: /* keyboard interface test: ok */
                ctl_reply(k, 0x00, false);
                break;
        case 0xAA: /* controller self test */
                ctl_reply(k, 0x55, false);
                break;
        case 0xAD:
                k->ctr |= CTR_KBDDIS;
                break;
        case 0xAE:
                k->ctr &= ~CTR_KBDDIS;
                break;
        case 0xC0: /* input port: keyboard not inhibited */
                ctl_reply(k, 0x80, false);
                break;
        case 0xD0:
                ctl_reply(k, k->outport, false);
                break;
        case 0xE0: /* test inputs */
                ctl_reply(k, 0x00, false);
                break;
        default: /* A20 gates (0xDD/0xDF) and vendor commands: ignored */
                break;
        }
}

static void read_data(struct i8042 *k, uint8_t *val)
{
        *val = k->ob;
        k->ob_full = false;
        /* Lower the line before refilling, so the next byte is a new edge. */
        update_irqs(k);
        refill(k);
}

static void i8042_io(void *opaque, uint64_t offset, void *data, unsigned len, bool is_write)
{
        struct i8042 *k = opaque;
        uint8_t *val = data;
        if (len != 1) { /* the 8042 decodes byte accesses only */
                if (!is_write)
                        memset(data, 0xff, len);
                return;
        }
        bool cmd_port = offset == PLATFORM_I8042_CMD - PLATFORM_I8042_DATA;
        if (!is_write) {
                if (cmd_port)
                        *val =
                            (uint8_t)((k->ob_full ? STS_OBF : 0) |
                                      (k->ob_full && k->ob_aux ? STS_AUX : 0) |
                                      (k->ctr & CTR_SYS ? STS_SYS : 0) | k->status_cmd | STS_UNLK);
                else
                        read_data(k, val);
        } else if (cmd_port) {
                k->status_cmd = STS_CMD;
                k->pending_ctl = 0;
                ctl_command(k, *val);
        } else {
                k->status_cmd = 0;
                uint8_t pending = k->pending_ctl;
                k->pending_ctl = 0;
                if (pending)
                        ctl_data(k, pending, *val);
                else
                        kbd_write(k, *val);
        }
        refill(k);
        update_irqs(k);
}

static void i8042_io_data(void *opaque, uint64_t offset, void *data, unsigned len, bool is_write)
{
        (void)offset;
        i8042_io(opaque, 0, data, len, is_write);
}

static void i8042_io_cmd(void *opaque, uint64_t offset, void *data, unsigned len, bool is_write)
{
        (void)offset;
        i8042_io(opaque, PLATFORM_I8042_CMD - PLATFORM_I8042_DATA, data, len, is_write);
}

void i8042_key(struct i8042 *k, uint32_t evdev_code, bool down)
{
        if (!k->kbd_scanning)
                return;
        uint8_t bytes[SCANCODE_MAX];
        int set = (k->ctr & CTR_XLATE) || k->kbd_set == 1 ? 1 : 2;
        unsigned n = i8042_scancode(evdev_code, down, set, bytes);
        if (!queue_room(&k->kbd, n))
                return; /* a guest that stopped reading loses keys, whole ones */
        for (unsigned i = 0; i < n; i++)
                kbd_reply(k, bytes[i]);
        refill(k);
        update_irqs(k);
}

void i8042_pointer(struct i8042 *k, int dx, int dy, uint32_t buttons)
{
        k->aux_buttons = buttons & 7;
        if (!k->aux_reporting || !queue_room(&k->aux, 3))
                return;
        aux_packet(k, dx, -dy); /* PS/2 counts y upwards */
        refill(k);
        update_irqs(k);
}

struct i8042 *i8042_create(struct vm *vm, char *err, size_t errlen)
{
        struct i8042 *k = calloc(1, sizeof(*k));
        if (!k) {
                snprintf(err, errlen, "i8042: out of memory");
                return NULL;
        }
        k->vm = vm;
        k->ctr = CTR_KBDINT | CTR_AUXINT | CTR_SYS | CTR_XLATE;
        k->outport = 0x03;
        k->kbd_scanning = true;
        kbd_defaults(k);
        aux_defaults(k);
        /* Two claims: 0x61-0x63 belong to the PC speaker and system control. */
        int r = io_bus_register(&vm->pio, PLATFORM_I8042_DATA, 1, i8042_io_data, k, "i8042");
        if (r == 0) {
                r = io_bus_register(&vm->pio, PLATFORM_I8042_CMD, 1, i8042_io_cmd, k, "i8042");
                if (r < 0)
                        io_bus_unregister(&vm->pio, PLATFORM_I8042_DATA, k);
        }
        if (r < 0) {
                snprintf(err, errlen, "i8042: cannot claim ports 0x60/0x64: %s", strerror(-r));
                free(k);
                return NULL;
        }
        return k;
}

void i8042_destroy(struct i8042 *k)
{
        if (!k)
                return;
        io_bus_unregister(&k->vm->pio, PLATFORM_I8042_DATA, k);
        io_bus_unregister(&k->vm->pio, PLATFORM_I8042_CMD, k);
        free(k);
}
