/* A tiny PVH guest with a framebuffer (tandem-vmm --fb WxH, XRGB8888 at
 * guest-physical 0xD0000000, stride W*4): draws a gradient the test can
 * recognise, prints "fbguest: drawn", then sleeps on HLT for good.
 * Command line: w=WIDTH h=HEIGHT (the configured resolution); crash=1: the
 * first key the i8042 delivers crashes the guest (a real triple fault: the
 * keyboard interrupt meets an empty IDT), so a test decides when it dies. */
#include "guest.h"

const char test_name[] = "fbguest";

#define FB_BASE     0xD0000000u
#define LAPIC_BASE  0xFEE00000u
#define LAPIC_SVR   0xF0u
#define IOAPIC_BASE 0xFEC00000u
#define KBD_IRQ     1
#define KBD_VECTOR  0x21
#define I8042_CMD   0x64
#define I8042_DATA  0x60
#define CTR_KBDINT  0x01
#define CTR_XLATE   0x40

static void ioapic_write(uint32_t reg, uint32_t v)
{
        mmio_write32(IOAPIC_BASE, reg);
        mmio_write32(IOAPIC_BASE + 0x10, v);
}

static void arm_crash_on_key(void)
{
        /* software-enable the local APIC so it accepts the routed interrupt */
        mmio_write32(LAPIC_BASE + LAPIC_SVR, 0x1FF);
        /* IOAPIC pin 1: fixed delivery of KBD_VECTOR to APIC 0, edge, unmasked */
        ioapic_write(0x10 + 2 * KBD_IRQ + 1, 0);
        ioapic_write(0x10 + 2 * KBD_IRQ, KBD_VECTOR);
        /* the i8042 raises IRQ 1 when a key byte is waiting */
        outb(I8042_CMD, 0x60);
        outb(I8042_DATA, CTR_KBDINT | CTR_XLATE);
        /* an IDT with no entries: delivering any vector faults, the fault
         * cannot be delivered either, and the CPU shuts down */
        static const struct {
                uint16_t limit;
                uint32_t base;
        } __attribute__((packed)) empty_idt = {0, 0};
        __asm__ volatile("lidt %0" : : "m"(empty_idt));
}

void test_main(const struct hvm_start_info *si)
{
        uint32_t w = 320, h = 240, crash = 0;
        cmdline_u32(si, "w", &w);
        cmdline_u32(si, "h", &h);
        cmdline_u32(si, "crash", &crash);
        volatile uint32_t *fb = (volatile uint32_t *)FB_BASE;
        for (uint32_t y = 0; y < h; y++)
                for (uint32_t x = 0; x < w; x++)
                        fb[y * w + x] = ((x * 255 / w) << 16) | ((y * 255 / h) << 8) |
                                        ((x / 16 + y / 16) % 2 ? 0xC0 : 0x30);
        if (crash)
                arm_crash_on_key();
        printf("fbguest: drawn %ux%u%s\n", w, h, crash ? ", crashes on a key" : "");
        if (crash)
                for (;;)
                        __asm__ volatile("sti; hlt");
        for (;;)
                __asm__ volatile("cli; hlt");
}
