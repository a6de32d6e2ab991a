/* The harness for tiny test guests: freestanding 32-bit code, paging and
 * interrupts off (the dev machines' software KVM cannot return from a 32-bit
 * interrupt). A test is one main.c that defines test_name and test_main();
 * it ends with pass() or fail(), which print the verdict line
 *     TEST <name>: PASS        or        TEST <name>: FAIL <reason>
 * on COM1 and power the VM off through ACPI S5 (VMM exit status 0). */
#ifndef TANDEM_GUEST_H
#define TANDEM_GUEST_H

typedef unsigned char uint8_t;
typedef unsigned short uint16_t;
typedef unsigned int uint32_t;
typedef unsigned long long uint64_t;
typedef int int32_t;
typedef long long int64_t;
typedef unsigned int size_t;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type)   __builtin_va_arg(ap, type)
#define va_end(ap)         __builtin_va_end(ap)

/* hvm_start_info, version 1 (Xen public ABI, arch-x86/hvm/start_info.h) */
struct hvm_start_info {
        uint32_t magic; /* 0x336ec578 */
        uint32_t version;
        uint32_t flags;
        uint32_t nr_modules;
        uint64_t modlist_paddr;
        uint64_t cmdline_paddr;
        uint64_t rsdp_paddr;
        uint64_t memmap_paddr;
        uint32_t memmap_entries;
        uint32_t reserved;
};
#define HVM_START_MAGIC 0x336ec578

static inline void outb(uint16_t port, uint8_t v)
{
        __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
        __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
        __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
        uint8_t v;
        __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}
static inline uint16_t inw(uint16_t port)
{
        uint16_t v;
        __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}
static inline uint32_t inl(uint16_t port)
{
        uint32_t v;
        __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}
static inline uint32_t mmio_read32(uint32_t addr)
{
        return *(volatile uint32_t *)addr;
}
static inline uint16_t mmio_read16(uint32_t addr)
{
        return *(volatile uint16_t *)addr;
}
static inline uint8_t mmio_read8(uint32_t addr)
{
        return *(volatile uint8_t *)addr;
}
static inline void mmio_write32(uint32_t addr, uint32_t v)
{
        *(volatile uint32_t *)addr = v;
}
static inline void mmio_write16(uint32_t addr, uint16_t v)
{
        *(volatile uint16_t *)addr = v;
}
static inline void mmio_write8(uint32_t addr, uint8_t v)
{
        *(volatile uint8_t *)addr = v;
}
#define barrier() __asm__ volatile("" ::: "memory")

/* A pause that costs one exit to the VMM (unclaimed port 0x80): waiting
 * loops use it so they never spin in emulated guest code. */
static inline void io_delay(void)
{
        inb(0x80);
}

/* defined by each test */
extern const char test_name[];
void test_main(const struct hvm_start_info *si);

/* lib */
void con_init(void);
void con_putc(char c);
void printf(const char *fmt, ...);
void vprintf(const char *fmt, va_list ap);
__attribute__((noreturn)) void pass(void);
__attribute__((noreturn)) void fail(const char *fmt, ...);
__attribute__((noreturn)) void poweroff(void);
#define EXPECT(cond, ...)                                                                          \
        do {                                                                                       \
                if (!(cond))                                                                       \
                        fail(__VA_ARGS__);                                                         \
        } while (0)

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
/* Value of "key=<decimal>" on the kernel command line, or false. */
bool cmdline_u32(const struct hvm_start_info *si, const char *key, uint32_t *val);

/* PCI configuration mechanism #1 (bus 0 only) */
uint32_t pci_read32(unsigned dev, unsigned fn, unsigned off);
uint16_t pci_read16(unsigned dev, unsigned fn, unsigned off);
uint8_t pci_read8(unsigned dev, unsigned fn, unsigned off);
void pci_write32(unsigned dev, unsigned fn, unsigned off, uint32_t v);
void pci_write16(unsigned dev, unsigned fn, unsigned off, uint16_t v);
/* First function on bus 0 with this vendor/device; returns dev*8+fn or -1. */
int pci_find(uint16_t vendor, uint16_t device);

/* platform ports (docs/platform.md) */
#define COM1       0x3F8
#define PM1A_EVT   0x600
#define PM1A_CNT   0x604
#define PM_TMR     0x608
#define SLP_TYP_S5 (5 << 10)
#define SLP_EN     (1 << 13)

#endif
