#include "pv.h"

struct tpv_shared_info pv_shared __attribute__((aligned(4096)));

int pv_init(void)
{
        int32_t v = tpv_hypercall2(TPV_HC_VERSION, 0, 0);
        if (v != TPV_ABI_VERSION)
                return v < 0 ? v : TPV_ENOSYS;
        pv_shared.magic = TPV_SHARED_MAGIC;
        pv_shared.version = TPV_ABI_VERSION;
        int32_t r = tpv_hypercall2(TPV_HC_SHARED_INFO, TPV_GPA(&pv_shared), 0);
        if (r < 0)
                return r;
        if ((r = tpv_hypercall2(TPV_HC_EVENT_BIND, TPV_EVSRC_TIMER, PV_PORT_TIMER)) < 0)
                return r;
        if ((r = tpv_hypercall2(TPV_HC_EVENT_BIND, TPV_EVSRC_KEYBOARD, PV_PORT_KEYBOARD)) < 0)
                return r;
        return tpv_hypercall2(TPV_HC_EVENT_BIND, TPV_EVSRC_CONTROL, PV_PORT_CONTROL);
}

uint32_t pv_block(uint32_t mask)
{
        for (;;) {
                int32_t r = tpv_hypercall2(TPV_HC_BLOCK, mask, 0);
                if (r < 0)
                        pv_panic("block hypercall failed");
                if (r)
                        return (uint32_t)r;
        }
}

uint64_t pv_monotonic_ns(void)
{
        struct tpv_time t;
        tpv_hypercall2(TPV_HC_GET_TIME, TPV_GPA(&t), 0);
        return t.mono_ns;
}

void pv_wall_time(struct tpv_time *t)
{
        tpv_hypercall2(TPV_HC_GET_TIME, TPV_GPA(t), 0);
}

void pv_set_timer_ns(uint64_t deadline)
{
        tpv_hypercall2(TPV_HC_SET_TIMER, (uint32_t)deadline, (uint32_t)(deadline >> 32));
}

void pv_console_write(const char *s, size_t len)
{
        tpv_hypercall2(TPV_HC_CONSOLE_WRITE, TPV_GPA(s), len);
}

int pv_device_info(unsigned index, struct tpv_device_info *info)
{
        return tpv_hypercall2(TPV_HC_DEVICE_INFO, index, TPV_GPA(info));
}

void pv_shutdown(enum tpv_shutdown_reason reason)
{
        for (;;)
                tpv_hypercall2(TPV_HC_SHUTDOWN, reason, 0);
}

void pv_panic(const char *msg)
{
        static struct tpv_crash_report rep;
        rep.vector = TPV_CRASH_PANIC;
        unsigned i = 0;
        for (; msg[i] && i < sizeof(rep.message) - 1; i++)
                rep.message[i] = msg[i];
        rep.message[i] = 0;
        for (;;)
                tpv_hypercall2(TPV_HC_SHUTDOWN, TPV_SHUTDOWN_CRASH, TPV_GPA(&rep));
}
