/* Test guest: every hypercall abuse must come back as an error code, the VMM
 * must keep running, and a CPU fault must end as a crash report. Prints one
 * "CHECK name got=X want=Y ok|BAD" line per probe and "VERDICT PASS|FAIL". */
#include "../../legacy/kernel/lib.h"
#include "../../pvdrivers/legacy/pv.h"

void kmain(uint32_t start_info);

static unsigned failures;

static void check(const char *name, int32_t got, int32_t want)
{
        bool ok = got == want;
        failures += !ok;
        klog("CHECK %s got=%d want=%d %s\n", name, got, want, ok ? "ok" : "BAD");
}

static struct tpv_device_info info;
static struct tpv_bus_op op;
static char page[8192] __attribute__((aligned(4096)));

void kmain(uint32_t start_info)
{
        (void)start_info;
        check("version", tpv_hypercall2(TPV_HC_VERSION, 0, 0), TPV_ABI_VERSION);
        check("unknown-number", tpv_hypercall2(0x1234, 0, 0), TPV_ENOSYS);
        check("unknown-number-max", tpv_hypercall2(0xFFFFFFFFu, 1, 2), TPV_ENOSYS);
        check("console-bad-pointer", tpv_hypercall2(TPV_HC_CONSOLE_WRITE, 0xFFFFFF00u, 64),
              TPV_EFAULT);
        check("console-too-long", tpv_hypercall2(TPV_HC_CONSOLE_WRITE, 0x100000, 1u << 20),
              TPV_EINVAL);
        check("console-straddles-ram-end",
              tpv_hypercall2(TPV_HC_CONSOLE_WRITE, (16u << 20) - 8, 64), TPV_EFAULT);
        check("time-bad-pointer", tpv_hypercall2(TPV_HC_GET_TIME, 0xC0000000u, 0), TPV_EFAULT);
        check("version-bad-pointer", tpv_hypercall2(TPV_HC_VERSION, 0xFFFFFFF0u, 0), TPV_EFAULT);
        check("bind-bad-port", tpv_hypercall2(TPV_HC_EVENT_BIND, TPV_EVSRC_TIMER, 31), TPV_EINVAL);
        check("bind-bad-source", tpv_hypercall2(TPV_HC_EVENT_BIND, 0x999, 1), TPV_EINVAL);
        check("bind-absent-device", tpv_hypercall2(TPV_HC_EVENT_BIND, 3, 1), TPV_ENODEV);
        check("notify-unbound", tpv_hypercall2(TPV_HC_EVENT_NOTIFY, 30, 0), TPV_ENOENT);
        check("notify-bad-port", tpv_hypercall2(TPV_HC_EVENT_NOTIFY, 1000, 0), TPV_EINVAL);
        check("device-info-past-end", tpv_hypercall2(TPV_HC_DEVICE_INFO, 99, TPV_GPA(&info)),
              TPV_ENOENT);
        check("device-info-bad-pointer", tpv_hypercall2(TPV_HC_DEVICE_INFO, 0, 0xFFFFFFF0u),
              TPV_EFAULT);
        check("shared-misaligned", tpv_hypercall2(TPV_HC_SHARED_INFO, TPV_GPA(page) + 8, 0),
              TPV_EINVAL);
        check("shared-outside-ram", tpv_hypercall2(TPV_HC_SHARED_INFO, 0xF0000000u, 0),
              TPV_EFAULT);
        check("shared-no-magic", tpv_hypercall2(TPV_HC_SHARED_INFO, TPV_GPA(page), 0), TPV_EINVAL);
        check("bus-absent-device", tpv_hypercall2(TPV_HC_BUS_OP, 7, TPV_GPA(&op)), TPV_ENODEV);
        op.opcode = 77;
        check("bus-bad-opcode", tpv_hypercall2(TPV_HC_BUS_OP, 0, TPV_GPA(&op)), TPV_EINVAL);
        check("bus-bad-pointer", tpv_hypercall2(TPV_HC_BUS_OP, 0, 0xFFFFFF00u), TPV_EFAULT);
        op = (struct tpv_bus_op){.opcode = TPV_BUS_READ_CONFIG, .offset = 4090, .length = 64};
        check("bus-config-out-of-range", tpv_hypercall2(TPV_HC_BUS_OP, 0, TPV_GPA(&op)),
              TPV_EINVAL);
        op = (struct tpv_bus_op){.opcode = TPV_BUS_QUEUE_SETUP, .queue = 0, .value = 3};
        check("bus-queue-size-not-pow2", tpv_hypercall2(TPV_HC_BUS_OP, 0, TPV_GPA(&op)),
              TPV_EINVAL);
        op = (struct tpv_bus_op){.opcode = TPV_BUS_QUEUE_SETUP, .queue = 5, .value = 8};
        check("bus-queue-index", tpv_hypercall2(TPV_HC_BUS_OP, 0, TPV_GPA(&op)), TPV_EINVAL);
        /* A ring outside RAM: the device must refuse it (NEEDS_RESET), not crash. */
        op = (struct tpv_bus_op){.opcode = TPV_BUS_SET_STATUS, .value = 1 | 2};
        tpv_hypercall2(TPV_HC_BUS_OP, 0, TPV_GPA(&op));
        op = (struct tpv_bus_op){.opcode = TPV_BUS_SET_FEATURES, .features = 1ull << 32};
        tpv_hypercall2(TPV_HC_BUS_OP, 0, TPV_GPA(&op));
        op = (struct tpv_bus_op){.opcode = TPV_BUS_SET_STATUS, .value = 1 | 2 | 8};
        tpv_hypercall2(TPV_HC_BUS_OP, 0, TPV_GPA(&op));
        op = (struct tpv_bus_op){.opcode = TPV_BUS_QUEUE_SETUP,
                                 .queue = 0,
                                 .value = 8,
                                 .desc = 0xFFFFF000u,
                                 .avail = 0xFFFFF800u,
                                 .used = 0xFFFFFC00u};
        check("bus-ring-outside-ram", tpv_hypercall2(TPV_HC_BUS_OP, 0, TPV_GPA(&op)), TPV_EFAULT);
        check("display-mode-too-big", tpv_hypercall2(TPV_HC_DISPLAY_MODE, 1000, 1000), TPV_EINVAL);
        check("display-mode-zero", tpv_hypercall2(TPV_HC_DISPLAY_MODE, 0, 25), TPV_EINVAL);
        check("printer-absent", tpv_hypercall2(TPV_HC_PRINTER_WRITE, TPV_GPA(page), 16),
              TPV_ENODEV);
        check("shutdown-bad-reason", tpv_hypercall2(TPV_HC_SHUTDOWN, 9, 0), TPV_EINVAL);
        /* The good path still works after all that: a timer wakes a block. */
        check("bind-timer", tpv_hypercall2(TPV_HC_EVENT_BIND, TPV_EVSRC_TIMER, 0), 0);
        pv_set_timer_ns(pv_monotonic_ns() + 20000000ull);
        check("block-timer", tpv_hypercall2(TPV_HC_BLOCK, 1, 0), 1);
        klog("VERDICT %s (%u bad)\n", failures ? "FAIL" : "PASS", failures);
        /* Last: a CPU fault must become a crash report with vector and EIP. */
        __asm__ volatile("ud2");
        for (;;)
                ;
}
