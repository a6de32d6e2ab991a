/* i8042 command 0xFE pulses the CPU reset line: the VMM must stop with
 * status 3 (reboot). Reaching the line after it is the failure. */
#include "guest.h"

const char test_name[] = "reset";

void test_main(const struct hvm_start_info *si)
{
        (void)si;
        outb(0x64, 0xAA);
        EXPECT((inb(0x64) & 0x01) && inb(0x60) == 0x55, "i8042 self test failed");
        printf("reset: pulsing the reset line through the i8042\n");
        outb(0x64, 0xFE);
        for (int i = 0; i < 100; i++)
                io_delay();
        fail("still running after the reset pulse");
}
