/* Console on COM1, verdicts, and the few C library functions the compiler
 * may call even in freestanding code. */
#include "guest.h"

void con_init(void)
{
        outb(COM1 + 1, 0x00); /* no interrupts */
        outb(COM1 + 3, 0x80); /* DLAB: 115200 baud */
        outb(COM1 + 0, 0x01);
        outb(COM1 + 1, 0x00);
        outb(COM1 + 3, 0x03); /* 8N1 */
        outb(COM1 + 2, 0x07); /* FIFOs on and cleared */
        outb(COM1 + 4, 0x03); /* DTR, RTS */
}

void con_putc(char c)
{
        if (c == '\n')
                con_putc('\r');
        for (int i = 0; i < 1000 && !(inb(COM1 + 5) & 0x20); i++)
                ;
        outb(COM1, (uint8_t)c);
}

static void put_num(uint64_t v, unsigned base, int width, char pad, bool neg)
{
        char buf[24];
        int n = 0;
        do {
                unsigned d = base == 16 ? (unsigned)(v & 15) : (unsigned)((uint32_t)v % 10);
                buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
                v = base == 16 ? v >> 4 : (uint32_t)v / 10;
        } while (v && n < 23);
        if (neg)
                buf[n++] = '-';
        while (n < width)
                con_putc(pad), width--;
        while (n)
                con_putc(buf[--n]);
}

/* %s %c %d %u %x %llx with optional zero padding and width */
void vprintf(const char *fmt, va_list ap)
{
        for (; *fmt; fmt++) {
                if (*fmt != '%') {
                        con_putc(*fmt);
                        continue;
                }
                fmt++;
                char pad = ' ';
                int width = 0;
                if (*fmt == '0')
                        pad = '0', fmt++;
                while (*fmt >= '0' && *fmt <= '9')
                        width = width * 10 + (*fmt++ - '0');
                bool ll = false;
                if (fmt[0] == 'l' && fmt[1] == 'l')
                        ll = true, fmt += 2;
                switch (*fmt) {
                case 's': {
                        const char *s = va_arg(ap, const char *);
                        while (*s)
                                con_putc(*s++);
                        break;
                }
                case 'c':
                        con_putc((char)va_arg(ap, int));
                        break;
                case 'd': {
                        int32_t v = va_arg(ap, int32_t);
                        put_num(v < 0 ? (uint32_t)-v : (uint32_t)v, 10, width, pad, v < 0);
                        break;
                }
                case 'u':
                        put_num(va_arg(ap, uint32_t), 10, width, pad, false);
                        break;
                case 'x':
                        put_num(ll ? va_arg(ap, uint64_t) : va_arg(ap, uint32_t), 16, width, pad,
                                false);
                        break;
                case '%':
                        con_putc('%');
                        break;
                default:
                        return;
                }
        }
}

void printf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
}

void poweroff(void)
{
        outw(PM1A_CNT, SLP_TYP_S5 | SLP_EN);
        printf("%s: ACPI S5 did not stop the VM\n", test_name);
        for (;;)
                __asm__ volatile("cli; hlt");
}

void pass(void)
{
        printf("TEST %s: PASS\n", test_name);
        poweroff();
}

void fail(const char *fmt, ...)
{
        va_list ap;
        printf("TEST %s: FAIL ", test_name);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        con_putc('\n');
        poweroff();
}

void guest_start(const struct hvm_start_info *si);
void guest_start(const struct hvm_start_info *si)
{
        con_init();
        if (!si || si->magic != HVM_START_MAGIC)
                fail("no hvm_start_info in EBX (0x%x)", (uint32_t)si);
        test_main(si);
        pass();
}

void *memset(void *d, int c, size_t n)
{
        uint8_t *p = d;
        while (n--)
                *p++ = (uint8_t)c;
        return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
        uint8_t *p = d;
        const uint8_t *q = s;
        while (n--)
                *p++ = *q++;
        return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
        const uint8_t *p = a, *q = b;
        for (; n; n--, p++, q++)
                if (*p != *q)
                        return *p < *q ? -1 : 1;
        return 0;
}

size_t strlen(const char *s)
{
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}

bool cmdline_u32(const struct hvm_start_info *si, const char *key, uint32_t *val)
{
        if (!si->cmdline_paddr || si->cmdline_paddr >= 0x100000000ULL)
                return false;
        const char *p = (const char *)(uint32_t)si->cmdline_paddr;
        size_t klen = strlen(key);
        for (; *p; p++) {
                if ((p == (const char *)(uint32_t)si->cmdline_paddr || p[-1] == ' ') &&
                    memcmp(p, key, klen) == 0 && p[klen] == '=') {
                        uint32_t v = 0;
                        const char *d = p + klen + 1;
                        if (*d < '0' || *d > '9')
                                return false;
                        while (*d >= '0' && *d <= '9')
                                v = v * 10 + (uint32_t)(*d++ - '0');
                        *val = v;
                        return true;
                }
        }
        return false;
}

static void pci_addr(unsigned dev, unsigned fn, unsigned off)
{
        outl(0xCF8, 0x80000000u | dev << 11 | fn << 8 | (off & 0xFC));
}

uint32_t pci_read32(unsigned dev, unsigned fn, unsigned off)
{
        pci_addr(dev, fn, off);
        return inl(0xCFC);
}

uint16_t pci_read16(unsigned dev, unsigned fn, unsigned off)
{
        pci_addr(dev, fn, off);
        return inw((uint16_t)(0xCFC + (off & 2)));
}

uint8_t pci_read8(unsigned dev, unsigned fn, unsigned off)
{
        pci_addr(dev, fn, off);
        return inb((uint16_t)(0xCFC + (off & 3)));
}

void pci_write32(unsigned dev, unsigned fn, unsigned off, uint32_t v)
{
        pci_addr(dev, fn, off);
        outl(0xCFC, v);
}

void pci_write16(unsigned dev, unsigned fn, unsigned off, uint16_t v)
{
        pci_addr(dev, fn, off);
        outw((uint16_t)(0xCFC + (off & 2)), v);
}

int pci_find(uint16_t vendor, uint16_t device)
{
        for (unsigned dev = 0; dev < 32; dev++) {
                uint32_t id = pci_read32(dev, 0, 0);
                if ((id & 0xFFFF) == 0xFFFF)
                        continue;
                unsigned nfn = (pci_read8(dev, 0, 0x0E) & 0x80) ? 8 : 1;
                for (unsigned fn = 0; fn < nfn; fn++) {
                        id = pci_read32(dev, fn, 0);
                        if ((id & 0xFFFF) == vendor && (id >> 16) == device)
                                return (int)(dev * 8 + fn);
                }
        }
        return -1;
}
