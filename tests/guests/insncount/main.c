/* A known amount of work for tandem-vmm --count-instructions: a loop of
 * exactly two instructions run loops= times (from the command line), with
 * interrupts off, so two runs that differ only in loops= must differ by
 * exactly twice the difference in the counter (tests/vmm/insn-count.sh). */
#include "guest.h"

const char test_name[] = "insncount";

void test_main(const struct hvm_start_info *si)
{
        uint32_t loops = 0;
        EXPECT(cmdline_u32(si, "loops", &loops), "no loops= on the command line");
        if (loops) {
                uint32_t n = loops;
                __asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n) : : "cc");
        }
        pass();
}
