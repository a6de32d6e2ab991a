#include "printer.h"

#include "pv.h"

int pv_printer_present(void)
{
        struct tpv_device_info info;
        for (unsigned i = 0; pv_device_info(i, &info) == 0; i++)
                if (info.type == TPV_DEV_PRINTER)
                        return 1;
        return 0;
}

int pv_printer_write(const void *buf, size_t len)
{
        const char *p = buf;
        while (len) {
                size_t n = len > TPV_PRINTER_MAX ? TPV_PRINTER_MAX : len;
                int r = tpv_hypercall2(TPV_HC_PRINTER_WRITE, TPV_GPA(p), n);
                if (r <= 0)
                        return r < 0 ? r : TPV_EIO;
                p += r;
                len -= (size_t)r;
        }
        return 0;
}
