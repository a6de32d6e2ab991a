/* Exception vectors 0-21 report a crash to the VMM and never return: the
 * legacy guest takes no interrupts and never executes iret. */
#include <stdint.h>

#include "../../pvdrivers/legacy/pv.h"

struct idt_gate {
        uint16_t off_lo, selector;
        uint8_t zero, type;
        uint16_t off_hi;
} __attribute__((packed));

#define NVEC 22
static struct idt_gate idt[NVEC] __attribute__((aligned(8)));

#define STUB(n) extern char exc_stub_##n[];
STUB(0)
STUB(1) STUB(2) STUB(3) STUB(4) STUB(5) STUB(6) STUB(7) STUB(8) STUB(9) STUB(10) STUB(11) STUB(12)
    STUB(13) STUB(14) STUB(15) STUB(16) STUB(17) STUB(18) STUB(19) STUB(20) STUB(21)

        static char *const stubs[NVEC] = {
            exc_stub_0,  exc_stub_1,  exc_stub_2,  exc_stub_3,  exc_stub_4,  exc_stub_5,
            exc_stub_6,  exc_stub_7,  exc_stub_8,  exc_stub_9,  exc_stub_10, exc_stub_11,
            exc_stub_12, exc_stub_13, exc_stub_14, exc_stub_15, exc_stub_16, exc_stub_17,
            exc_stub_18, exc_stub_19, exc_stub_20, exc_stub_21,
};

void idt_setup(void);
void exc_report(uint32_t vector, uint32_t error, uint32_t eip, uint32_t esp);

void idt_setup(void)
{
        for (unsigned i = 0; i < NVEC; i++) {
                uint32_t off = (uint32_t)(uintptr_t)stubs[i];
                idt[i] = (struct idt_gate){(uint16_t)off, 0x08, 0, 0x8E, (uint16_t)(off >> 16)};
        }
        struct {
                uint16_t limit;
                uint32_t base;
        } __attribute__((packed)) desc = {sizeof(idt) - 1, (uint32_t)(uintptr_t)idt};
        __asm__ volatile("lidt %0" ::"m"(desc));
}

void exc_report(uint32_t vector, uint32_t error, uint32_t eip, uint32_t esp)
{
        static struct tpv_crash_report rep;
        static const char msg[] = "CPU exception";
        rep.vector = vector;
        rep.error_code = error;
        rep.eip = eip;
        rep.esp = esp;
        for (unsigned i = 0; i < sizeof(msg); i++)
                rep.message[i] = msg[i];
        for (;;)
                tpv_hypercall2(TPV_HC_SHUTDOWN, TPV_SHUTDOWN_CRASH, TPV_GPA(&rep));
}
