/* The ACPI tables (ACPI 6.0, chapter 5.2), written into the reserved BIOS
 * area of guest RAM: RSDP -> RSDT/XSDT -> FADT (-> FACS, DSDT) and MADT. */
#include "acpi.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vm.h"

#define HDR_LEN      36
#define FADT_LEN     276
#define FACS_LEN     64
#define OEM_ID       "TANDEM"
#define OEM_TABLE_ID "TANDEMVM"

/* FADT flags (5.2.9, table 5-35) */
#define FADT_WBINVD        (1u << 0)
#define FADT_PROC_C1       (1u << 2)
#define FADT_SLP_BUTTON    (1u << 5) /* no fixed sleep button */
#define FADT_FIX_RTC       (1u << 6) /* RTC wake status not in fixed registers */
#define FADT_RESET_REG_SUP (1u << 10)
/* IA-PC boot architecture flags */
#define BOOT_LEGACY_DEVICES  0x0001
#define BOOT_8042            0x0002
#define BOOT_VGA_NOT_PRESENT 0x0004

#define GAS_SYSTEM_IO 1

struct table_writer {
        uint8_t *base; /* host view of PLATFORM_ACPI_BASE */
        uint32_t used; /* bytes handed out so far */
        uint32_t limit;
};

static uint8_t *put(uint8_t *p, uint64_t v, unsigned bytes)
{
        for (unsigned i = 0; i < bytes; i++)
                *p++ = (uint8_t)(v >> (8 * i));
        return p;
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
        uint8_t sum = 0;
        for (size_t i = 0; i < len; i++)
                sum = (uint8_t)(sum + p[i]);
        return (uint8_t)(0 - sum);
}

/* Space for one table, aligned; returns its guest address or 0 when full. */
static uint32_t alloc_table(struct table_writer *w, uint32_t len, uint32_t align, uint8_t **host)
{
        uint32_t off = (w->used + align - 1) & ~(align - 1);
        if (off > w->limit || len > w->limit - off)
                return 0;
        w->used = off + len;
        *host = w->base + off;
        return PLATFORM_ACPI_BASE + off;
}

static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
        memcpy(t, sig, 4);
        put(t + 4, len, 4);
        t[8] = rev;
        memcpy(t + 10, OEM_ID, 6);
        memcpy(t + 16, OEM_TABLE_ID, 8);
        put(t + 24, 1, 4);         /* OEM revision */
        memcpy(t + 28, "TNDM", 4); /* creator id */
        put(t + 32, 1, 4);         /* creator revision */
}

static void finish(uint8_t *t, uint32_t len)
{
        t[9] = 0;
        t[9] = checksum(t, len);
}

static uint8_t *gas_io(uint8_t *p, uint16_t port, uint8_t bits, uint8_t access)
{
        p[0] = GAS_SYSTEM_IO;
        p[1] = bits;
        p[2] = 0;
        p[3] = access; /* 1 byte, 2 word, 3 dword */
        return put(p + 4, port, 8);
}

static uint32_t write_facs(struct table_writer *w)
{
        uint8_t *t;
        uint32_t gpa = alloc_table(w, FACS_LEN, 64, &t);
        if (gpa) {
                memcpy(t, "FACS", 4);
                put(t + 4, FACS_LEN, 4);
                t[32] = 2; /* version; no waking vector, no global lock owner */
        }
        return gpa;
}

static uint32_t write_dsdt(struct table_writer *w, const struct acpi_config *cfg)
{
        struct aml body = {0};
        acpi_dsdt_body(&body, cfg);
        uint32_t gpa = 0;
        uint8_t *t;
        if (!body.oom && (gpa = alloc_table(w, HDR_LEN + (uint32_t)body.len, 16, &t))) {
                header(t, "DSDT", HDR_LEN + (uint32_t)body.len, 2);
                memcpy(t + HDR_LEN, body.buf, body.len);
                finish(t, HDR_LEN + (uint32_t)body.len);
        }
        aml_free(&body);
        return gpa;
}

static uint32_t write_fadt(struct table_writer *w, uint32_t facs, uint32_t dsdt)
{
        const uint16_t pm = PLATFORM_ACPI_PM_BASE;
        uint8_t *t;
        uint32_t gpa = alloc_table(w, FADT_LEN, 16, &t);
        if (!gpa)
                return 0;
        header(t, "FACP", FADT_LEN, 6);
        put(t + 36, facs, 4);
        put(t + 40, dsdt, 4);
        t[45] = 0;                         /* preferred PM profile: unspecified */
        put(t + 46, PLATFORM_ACPI_SCI, 2); /* SCI_INT */
        put(t + 48, 0, 4);                 /* SMI_CMD 0: always in ACPI mode */
        put(t + 56, pm + ACPI_PM1_EVT_OFF, 4);
        put(t + 64, pm + ACPI_PM1_CNT_OFF, 4);
        put(t + 76, pm + ACPI_PM_TMR_OFF, 4);
        t[88] = 4;            /* PM1_EVT_LEN */
        t[89] = 2;            /* PM1_CNT_LEN */
        t[91] = 4;            /* PM_TMR_LEN */
        put(t + 96, 101, 2);  /* P_LVL2_LAT > 100: no C2 */
        put(t + 98, 1001, 2); /* P_LVL3_LAT > 1000: no C3 */
        t[108] = 0x32;        /* CENTURY index in CMOS */
        put(t + 109, BOOT_LEGACY_DEVICES | BOOT_8042 | BOOT_VGA_NOT_PRESENT, 2);
        put(t + 112,
            FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC | FADT_RESET_REG_SUP, 4);
        gas_io(t + 116, pm + ACPI_RESET_OFF, 8, 1);
        t[128] = ACPI_RESET_VALUE;
        t[131] = 0;            /* FADT minor version: ACPI 6.0 */
        put(t + 132, facs, 8); /* X_FIRMWARE_CTRL */
        put(t + 140, dsdt, 8); /* X_DSDT */
        gas_io(t + 148, pm + ACPI_PM1_EVT_OFF, 32, 2);
        gas_io(t + 172, pm + ACPI_PM1_CNT_OFF, 16, 2);
        gas_io(t + 208, pm + ACPI_PM_TMR_OFF, 32, 3);
        memcpy(t + 268, "TANDEMVM", 8); /* hypervisor vendor identity */
        finish(t, FADT_LEN);
        return gpa;
}

static uint32_t write_madt(struct table_writer *w, unsigned ncpus)
{
        uint32_t len = 44 + 8 * ncpus + 12 + 2 * 10 + 6;
        uint8_t *t;
        uint32_t gpa = alloc_table(w, len, 16, &t);
        if (!gpa)
                return 0;
        header(t, "APIC", len, 4);
        put(t + 36, PLATFORM_LAPIC_ADDR, 4);
        put(t + 40, 1, 4); /* PCAT_COMPAT: there are 8259s to mask */
        uint8_t *p = t + 44;
        for (unsigned i = 0; i < ncpus; i++) {
                p[0] = 0; /* Processor Local APIC */
                p[1] = 8;
                p[2] = (uint8_t)i;    /* ACPI processor UID */
                p[3] = (uint8_t)i;    /* APIC ID, as KVM numbers vCPUs */
                p = put(p + 4, 1, 4); /* enabled */
        }
        p[0] = 1; /* I/O APIC */
        p[1] = 12;
        p[2] = 0; /* I/O APIC ID */
        p[3] = 0;
        put(p + 4, PLATFORM_IOAPIC_ADDR, 4);
        p = put(p + 8, 0, 4); /* GSI base */
        static const struct {
                uint8_t irq, gsi;
                uint16_t flags;
        } overrides[] = {
            {0, 2, 0}, /* PIT on IOAPIC pin 2, bus-default polarity */
            {PLATFORM_ACPI_SCI, PLATFORM_ACPI_SCI, 0x000D}, /* SCI: level, active high */
        };
        for (unsigned i = 0; i < 2; i++) {
                p[0] = 2; /* Interrupt Source Override */
                p[1] = 10;
                p[2] = 0; /* ISA */
                p[3] = overrides[i].irq;
                put(p + 4, overrides[i].gsi, 4);
                p = put(p + 8, overrides[i].flags, 2);
        }
        p[0] = 4; /* Local APIC NMI: every processor's LINT1 */
        p[1] = 6;
        p[2] = 0xFF;
        put(p + 3, 0, 2);
        p[5] = 1;
        finish(t, len);
        return gpa;
}

static uint32_t write_sdt(struct table_writer *w, const char *sig, unsigned entry_bytes,
                          const uint32_t *tables, unsigned n)
{
        uint32_t len = HDR_LEN + entry_bytes * n;
        uint8_t *t;
        uint32_t gpa = alloc_table(w, len, 16, &t);
        if (!gpa)
                return 0;
        header(t, sig, len, 1);
        for (unsigned i = 0; i < n; i++)
                put(t + HDR_LEN + entry_bytes * i, tables[i], entry_bytes);
        finish(t, len);
        return gpa;
}

static void write_rsdp(uint8_t *r, uint32_t rsdt, uint32_t xsdt)
{
        memcpy(r, "RSD PTR ", 8);
        memcpy(r + 9, OEM_ID, 6);
        r[15] = 2; /* ACPI 2.0+ layout */
        put(r + 16, rsdt, 4);
        put(r + 20, 36, 4);
        put(r + 24, xsdt, 8);
        r[8] = checksum(r, 20);
        r[32] = checksum(r, 36);
}

int acpi_setup(struct vm *vm, const struct acpi_config *cfg, uint64_t *rsdp_gpa, char *err,
               size_t errlen)
{
        const uint32_t size = PLATFORM_ACPI_LIMIT - PLATFORM_ACPI_BASE;
        if (cfg->ncpus == 0 || cfg->ncpus > 255) {
                snprintf(err, errlen, "acpi: %u vCPUs cannot be described (1..255)", cfg->ncpus);
                return -EINVAL;
        }
        if (cfg->pci_mmio_size && cfg->pci_mmio_base + cfg->pci_mmio_size < cfg->pci_mmio_base) {
                snprintf(err, errlen, "acpi: PCI memory window wraps around");
                return -EINVAL;
        }
        uint8_t *base = guest_mem_ptr(&vm->mem, PLATFORM_ACPI_BASE, size);
        if (!base) {
                snprintf(err, errlen, "acpi: guest RAM does not cover 0x%x-0x%x for the tables",
                         PLATFORM_ACPI_BASE, PLATFORM_ACPI_LIMIT - 1);
                return -EFAULT;
        }
        memset(base, 0, size);
        struct table_writer w = {.base = base, .used = 0, .limit = size};
        uint8_t *rsdp;
        alloc_table(&w, 36, 16, &rsdp); /* first, at 0xE0000, where scans look */
        uint32_t facs = write_facs(&w);
        uint32_t dsdt = write_dsdt(&w, cfg);
        uint32_t fadt = facs && dsdt ? write_fadt(&w, facs, dsdt) : 0;
        uint32_t madt = write_madt(&w, cfg->ncpus);
        uint32_t tables[] = {fadt, madt};
        uint32_t rsdt = fadt && madt ? write_sdt(&w, "RSDT", 4, tables, 2) : 0;
        uint32_t xsdt = rsdt ? write_sdt(&w, "XSDT", 8, tables, 2) : 0;
        if (!xsdt) {
                snprintf(err, errlen, "acpi: tables do not fit in 0x%x-0x%x", PLATFORM_ACPI_BASE,
                         PLATFORM_ACPI_LIMIT - 1);
                return -ENOSPC;
        }
        write_rsdp(rsdp, rsdt, xsdt);
        int r = acpi_pm_create(vm);
        if (r < 0) {
                snprintf(err, errlen, "acpi: cannot claim PM ports 0x%x-0x%x: %s",
                         PLATFORM_ACPI_PM_BASE, PLATFORM_ACPI_PM_BASE + PLATFORM_ACPI_PM_LEN - 1,
                         strerror(-r));
                return r;
        }
        *rsdp_gpa = PLATFORM_ACPI_BASE;
        return 0;
}
