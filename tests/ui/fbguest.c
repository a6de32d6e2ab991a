/* A tiny PVH guest with a framebuffer (tandem-vmm --fb WxH, XRGB8888 at
 * guest-physical 0xD0000000, stride W*4): draws a gradient the test can
 * recognise, prints "fbguest: drawn", then sleeps on HLT for good.
 * Command line: w=WIDTH h=HEIGHT (the configured resolution). */
#include "guest.h"

const char test_name[] = "fbguest";

#define FB_BASE 0xD0000000u

void test_main(const struct hvm_start_info *si)
{
        uint32_t w = 320, h = 240;
        cmdline_u32(si, "w", &w);
        cmdline_u32(si, "h", &h);
        volatile uint32_t *fb = (volatile uint32_t *)FB_BASE;
        for (uint32_t y = 0; y < h; y++)
                for (uint32_t x = 0; x < w; x++)
                        fb[y * w + x] = ((x * 255 / w) << 16) | ((y * 255 / h) << 8) |
                                        ((x / 16 + y / 16) % 2 ? 0xC0 : 0x30);
        printf("fbguest: drawn %ux%u\n", w, h);
        for (;;)
                __asm__ volatile("cli; hlt");
}
