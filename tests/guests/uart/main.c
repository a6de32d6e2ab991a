/* 8250 UART: scratch register, line status, divisor latch, loopback data and
 * modem lines. The verdict itself proves the transmit path. */
#include "guest.h"

const char test_name[] = "uart";

void test_main(const struct hvm_start_info *si)
{
        (void)si;
        static const uint8_t pats[] = {0x00, 0x55, 0xAA, 0xFF, 0x3C};
        for (unsigned i = 0; i < sizeof(pats); i++) {
                outb(COM1 + 7, pats[i]);
                EXPECT(inb(COM1 + 7) == pats[i], "scratch register lost 0x%02x", pats[i]);
        }
        uint8_t lsr = inb(COM1 + 5);
        EXPECT((lsr & 0x60) == 0x60, "LSR 0x%02x lacks THRE|TEMT", lsr);
        EXPECT(!(lsr & 0x01), "LSR 0x%02x: data ready with nothing sent", lsr);
        EXPECT((inb(COM1 + 2) & 0x0F) == 0x01, "IIR: interrupt pending with IER 0");

        outb(COM1 + 3, 0x83);
        outb(COM1 + 0, 0x0C); /* 9600 baud */
        outb(COM1 + 1, 0x00);
        EXPECT(inb(COM1 + 0) == 0x0C, "divisor latch low byte");
        outb(COM1 + 3, 0x03);
        EXPECT(inb(COM1 + 1) == 0x00, "IER visible again after DLAB");

        outb(COM1 + 4, 0x10 | 0x01 | 0x04); /* loopback, DTR, OUT1 */
        uint8_t msr = inb(COM1 + 6);
        EXPECT((msr & 0xF0) == (0x20 | 0x40), "loopback MSR 0x%02x, want DSR|RI", msr);
        static const char msg[] = "Tandem 8250 loopback";
        for (unsigned i = 0; msg[i]; i++)
                outb(COM1, (uint8_t)msg[i]);
        for (unsigned i = 0; msg[i]; i++) {
                EXPECT(inb(COM1 + 5) & 0x01, "loopback: no data for byte %u", i);
                uint8_t c = inb(COM1);
                EXPECT(c == (uint8_t)msg[i], "loopback byte %u is 0x%02x, want 0x%02x", i, c,
                       (uint8_t)msg[i]);
        }
        EXPECT(!(inb(COM1 + 5) & 0x01), "loopback: extra data");
        outb(COM1 + 1, 0x01); /* received-data interrupt: shown in IIR */
        outb(COM1, 'z');
        EXPECT((inb(COM1 + 2) & 0x0F) == 0x04, "IIR does not report received data");
        inb(COM1);
        EXPECT((inb(COM1 + 2) & 0x0F) == 0x01, "IIR still busy after the read");
        outb(COM1 + 1, 0x00);
        con_init(); /* back to a normal console for the verdict */
        printf("uart: loopback ok, %u bytes echoed\n", (uint32_t)sizeof(msg) - 1);
}
