/* A hostile guest: garbage of every width into every port of the platform
 * devices, reads of unclaimed ports and MMIO, then checks that each device
 * still works. Only the writes that legitimately stop the machine (i8042
 * reset commands, ACPI S5 and the reset register) are left out. */
#include "guest.h"

const char test_name[] = "abuse";

static uint32_t seed = 0x12345678;

static uint32_t rnd(void)
{
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        return seed;
}

/* Values that would reset or power off: outside this test's scope. */
static uint32_t defuse(uint16_t port, unsigned width, uint32_t v)
{
        if (port <= 0x64 && port + width > 0x64) { /* i8042 command byte */
                unsigned sh = (0x64u - port) * 8;
                uint8_t c = (uint8_t)(v >> sh);
                if (c >= 0xD0)
                        c = 0xAA; /* no output-port writes, no reset pulses */
                v = (v & ~(0xFFu << sh)) | (uint32_t)c << sh;
        }
        if (port <= 0x605 && port + width > 0x605) /* PM1a_CNT high byte: no SLP_EN */
                v &= ~(0x20u << ((0x605u - port) * 8));
        if (port <= 0x60C && port + width > 0x60C) /* ACPI reset register */
                v &= ~(0xFFu << ((0x60Cu - port) * 8));
        return v;
}

static void hammer(uint16_t first, uint16_t last)
{
        for (uint16_t port = first; port <= last; port++) {
                for (int i = 0; i < 24; i++) {
                        unsigned width = 1u << (rnd() % 3);
                        uint32_t v = defuse(port, width, rnd());
                        if (width == 1)
                                outb(port, (uint8_t)v);
                        else if (width == 2)
                                outw(port, (uint16_t)v);
                        else
                                outl(port, v);
                        if (rnd() & 1)
                                (void)inl(port);
                        else
                                (void)inb(port);
                }
        }
}

static void drain_i8042(void)
{
        for (int i = 0; i < 200 && (inb(0x64) & 0x01); i++)
                inb(0x60);
}

void test_main(const struct hvm_start_info *si)
{
        (void)si;
        printf("abuse: writing garbage to the platform ports\n");
        for (int round = 0; round < 3; round++) {
                hammer(0x3F8, 0x3FF);
                hammer(0x60, 0x60);
                hammer(0x64, 0x64);
                hammer(0x70, 0x71);
                hammer(0x600, 0x60F);
        }
        /* Unclaimed ports and MMIO read as all-ones and ignore writes. */
        static const uint16_t holes[] = {0x80, 0x100, 0x2F8, 0x378, 0x3E8, 0x510, 0x7F0};
        for (unsigned i = 0; i < sizeof(holes) / sizeof(holes[0]); i++) {
                outl(holes[i], rnd());
                uint32_t v = inl(holes[i]);
                con_init();
                EXPECT(v == 0xFFFFFFFF, "unclaimed port 0x%x reads 0x%x", holes[i], v);
        }
        mmio_write32(0xD0000000, 0xDEADBEEF);
        uint32_t m = mmio_read32(0xD0000000);
        con_init();
        EXPECT(m == 0xFFFFFFFF, "unclaimed MMIO reads 0x%x", m);

        con_init();
        outb(COM1 + 7, 0xA5);
        EXPECT(inb(COM1 + 7) == 0xA5, "UART scratch register broken after abuse");
        drain_i8042();
        outb(0x64, 0x60); /* restore a sane command byte, then self test */
        outb(0x60, 0x47);
        outb(0x64, 0xAA);
        EXPECT((inb(0x64) & 0x01) && inb(0x60) == 0x55, "i8042 self test fails after abuse");
        outb(0x70, 0x0B);
        outb(0x71, 0x02); /* running, BCD, 24h */
        outb(0x70, 0x0D);
        EXPECT(inb(0x71) & 0x80, "RTC register D broken after abuse");
        EXPECT(inw(PM1A_CNT) & 1, "PM1a_CNT lost SCI_EN");
        printf("abuse: all devices still answer\n");
}
