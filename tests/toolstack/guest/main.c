/* The toolstack's test domain: a tiny PVH guest whose behaviour is chosen
 * on its command line, so lifecycle tests cost almost no emulated time.
 *   mode=0  idle: print a banner, then halt with interrupts off (the vCPU
 *           sleeps in KVM until paused, killed or destroyed)
 *   mode=1  power off at once (ACPI S5, VMM exit 0)
 *   mode=2  reboot at once (i8042 reset pulse, VMM exit 3)
 *   mode=3  crash at once (triple fault, VMM exit 4) */
#include "guest.h"

const char test_name[] = "toolstack";

static void triple_fault(void)
{
        static const struct {
                uint16_t limit;
                uint32_t base;
        } __attribute__((packed)) empty_idt = {0, 0};
        __asm__ volatile("lidt %0; int3" : : "m"(empty_idt));
}

void test_main(const struct hvm_start_info *si)
{
        uint32_t mode = 0;
        cmdline_u32(si, "mode", &mode);
        printf("toolstack guest: mode %u\n", mode);
        switch (mode) {
        case 1:
                outw(PM1A_CNT, SLP_TYP_S5 | SLP_EN);
                break;
        case 2:
                outb(0x64, 0xFE);
                break;
        case 3:
                triple_fault();
                break;
        }
        for (;;)
                __asm__ volatile("cli; hlt");
}
