/* ACPI tables and PM registers. With --dump DIR the tables are also written
 * to DIR/<signature>.dat for acpi-iasl.sh to disassemble with iasl. */
#include <string.h>

#include "devtest.h"
#include "platform.h"

#define NCPUS 4

static uint8_t *gpa(struct vm *vm, uint64_t a, uint64_t len)
{
        return guest_mem_ptr(&vm->mem, a, len);
}

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
        return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
        uint8_t s = 0;
        while (n--)
                s = (uint8_t)(s + *p++);
        return s;
}

static void dump(const char *dir, const char *sig, const uint8_t *t, uint32_t len)
{
        if (!dir)
                return;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%.4s.dat", dir, sig);
        FILE *f = fopen(path, "wb");
        CHECK(f && fwrite(t, 1, len, f) == len, "write %s", path);
        if (f)
                fclose(f);
}

/* A table with a valid header and checksum, or NULL. */
static uint8_t *table(struct vm *vm, uint64_t a, const char *sig, const char *dir)
{
        uint8_t *h = gpa(vm, a, 36);
        CHECK(h && memcmp(h, sig, 4) == 0, "%s at 0x%llx", sig, (unsigned long long)a);
        if (!h || memcmp(h, sig, 4))
                return NULL;
        uint32_t len = le32(h + 4);
        uint8_t *t = gpa(vm, a, len);
        CHECK(t && a + len <= PLATFORM_ACPI_LIMIT, "%s inside the BIOS area", sig);
        if (!t)
                return NULL;
        CHECK(sum(t, len) == 0, "%s checksum", sig);
        dump(dir, sig, t, len);
        return t;
}

static void test_tables(struct vm *vm, uint64_t rsdp_gpa, const char *dir)
{
        CHECK(rsdp_gpa == 0xE0000, "RSDP at 0xE0000");
        uint8_t *r = gpa(vm, rsdp_gpa, 36);
        CHECK(memcmp(r, "RSD PTR ", 8) == 0, "RSDP signature");
        CHECK(sum(r, 20) == 0 && sum(r, 36) == 0, "RSDP checksums");
        CHECK(r[15] == 2 && le32(r + 20) == 36, "RSDP revision 2, length 36");
        uint8_t *rsdt = table(vm, le32(r + 16), "RSDT", dir);
        uint8_t *xsdt = table(vm, le64(r + 24), "XSDT", dir);
        if (!rsdt || !xsdt)
                return;
        CHECK(le32(xsdt + 4) == 36 + 16 && le32(rsdt + 4) == 36 + 8, "two tables listed");
        uint8_t *fadt = table(vm, le64(xsdt + 36), "FACP", dir);
        uint8_t *madt = table(vm, le64(xsdt + 44), "APIC", dir);
        CHECK(le32(rsdt + 36) == le64(xsdt + 36), "RSDT and XSDT agree");
        if (!fadt || !madt)
                return;
        CHECK(le32(fadt + 4) == 276 && fadt[8] == 6, "FADT 6.0 layout");
        CHECK(fadt[46] == 9 && le32(fadt + 48) == 0, "SCI 9, no SMI command port");
        CHECK(le32(fadt + 56) == 0x600 && le32(fadt + 64) == 0x604 && le32(fadt + 76) == 0x608,
              "PM1a event/control and timer ports");
        CHECK(!(le32(fadt + 112) & (1u << 20)), "not hardware-reduced");
        CHECK((fadt[109] & 0x06) == 0x06, "8042 present, no VGA");
        uint8_t *facs = gpa(vm, le64(fadt + 132), 64);
        CHECK(facs && memcmp(facs, "FACS", 4) == 0 && le64(fadt + 132) % 64 == 0,
              "FACS, 64-byte aligned");
        if (facs)
                dump(dir, "FACS", facs, 64);
        uint8_t *dsdt = table(vm, le64(fadt + 140), "DSDT", dir);
        CHECK(le32(fadt + 40) == le64(fadt + 140), "DSDT and X_DSDT agree");
        if (dsdt) {
                uint32_t len = le32(dsdt + 4);
                CHECK(memmem(dsdt, len, "_S5_\x12", 5), "\\_S5 package");
                CHECK(memmem(dsdt, len, "\x0c\x41\xd0\x0a\x03", 5), "PNP0A03 host bridge");
        }
        unsigned lapics = 0, ioapics = 0, overrides = 0;
        uint32_t mlen = le32(madt + 4);
        CHECK(le32(madt + 36) == 0xFEE00000, "LAPIC address");
        for (uint32_t off = 44; off + 2 <= mlen && madt[off + 1] >= 2; off += madt[off + 1]) {
                uint8_t *e = madt + off;
                if (e[0] == 0) {
                        CHECK(e[3] == lapics && (le32(e + 4) & 1), "LAPIC %u enabled", lapics);
                        lapics++;
                } else if (e[0] == 1) {
                        CHECK(le32(e + 4) == 0xFEC00000 && le32(e + 8) == 0, "IOAPIC");
                        ioapics++;
                } else if (e[0] == 2) {
                        overrides++;
                        if (e[3] == 0)
                                CHECK(le32(e + 4) == 2, "IRQ0 -> GSI2");
                        if (e[3] == 9)
                                CHECK((e[8] & 0x0F) == 0x0D, "SCI level, active high");
                }
        }
        CHECK(lapics == NCPUS && ioapics == 1 && overrides == 2, "MADT %u/%u/%u", lapics, ioapics,
              overrides);
}

static void test_pm(struct vm *vm)
{
        fake_reset_irqs();
        CHECK(pio_in16(vm, 0x604) & 1, "SCI_EN reads 1");
        uint32_t t0 = pio_in32(vm, 0x608);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
        uint32_t t1 = pio_in32(vm, 0x608);
        uint32_t ticks = (t1 - t0) & 0xFFFFFF;
        CHECK(t0 <= 0xFFFFFF && ticks >= 7000, "PM timer ticks at 3.58 MHz (%u in 2 ms)", ticks);

        acpi_request_power_button(vm);
        CHECK(pio_in16(vm, 0x600) & 0x100, "PWRBTN_STS set");
        CHECK(fake_irq_level[9] == 0, "no SCI while PWRBTN_EN is clear");
        pio_out16(vm, 0x602, 0x100);
        CHECK(fake_irq_level[9] == 1, "SCI once enabled");
        pio_out16(vm, 0x600, 0x100);
        CHECK(!(pio_in16(vm, 0x600) & 0x100) && fake_irq_level[9] == 0,
              "write-1-to-clear lowers the SCI");
        acpi_request_power_button(vm);
        CHECK(fake_irq_level[9] == 1 && fake_irq_raises[9] == 2, "second press, second SCI");

        pio_out16(vm, 0x604, (uint16_t)(3 << 10 | 1 << 13)); /* S3: not offered */
        CHECK(vm->exit_status == VM_RUNNING, "SLP_TYP 3 does nothing");
        CHECK(!(pio_in16(vm, 0x604) & (1 << 13)), "SLP_EN reads 0");
        pio_out8(vm, 0x60C, 0x05);
        CHECK(vm->exit_status == VM_RUNNING, "wrong reset value ignored");
        pio_out16(vm, 0x604, (uint16_t)(5 << 10 | 1 << 13));
        CHECK(vm->exit_status == VM_EXIT_POWEROFF, "S5 powers off");
        CHECK(strcmp(vm->exit_reason, "guest powered off (ACPI S5)") == 0, "reason %s",
              vm->exit_reason);
}

static void test_errors(void)
{
        char err[160];
        uint64_t rsdp;
        struct vm *vm = devtest_vm(512 << 10);
        struct acpi_config cfg = {.ncpus = 1, .ram_size = 512 << 10};
        CHECK(acpi_setup(vm, &cfg, &rsdp, err, sizeof(err)) < 0 && strstr(err, "0xe0000"),
              "RAM below the BIOS area refused: %s", err);
        devtest_vm_free(vm);
        vm = devtest_vm(16 << 20);
        cfg.ncpus = 0;
        CHECK(acpi_setup(vm, &cfg, &rsdp, err, sizeof(err)) < 0 && strstr(err, "vCPUs"),
              "0 vCPUs refused: %s", err);
        cfg.ncpus = 255; /* the most the MADT's 8-bit IDs describe: must still fit */
        CHECK(acpi_setup(vm, &cfg, &rsdp, err, sizeof(err)) == 0, "255 vCPUs fit: %s", err);
        CHECK(acpi_setup(vm, &cfg, &rsdp, err, sizeof(err)) < 0 && strstr(err, "0x600"),
              "PM ports claimed once: %s", err);
        acpi_request_power_button(vm);
        acpi_teardown(vm);
        devtest_vm_free(vm);
}

int main(int argc, char **argv)
{
        const char *dir = argc == 3 && strcmp(argv[1], "--dump") == 0 ? argv[2] : NULL;
        struct vm *vm = devtest_vm(16 << 20);
        struct acpi_config cfg = {.ncpus = NCPUS,
                                  .ram_size = 16 << 20,
                                  .pci_mmio_base = 0xC0000000,
                                  .pci_mmio_size = 0x20000000,
                                  .pci_io_base = 0xC000,
                                  .pci_io_size = 0x1000};
        char err[160];
        uint64_t rsdp = 0;
        CHECK(acpi_setup(vm, &cfg, &rsdp, err, sizeof(err)) == 0, "setup: %s", err);
        test_tables(vm, rsdp, dir);
        test_pm(vm);
        acpi_teardown(vm);
        devtest_vm_free(vm);
        test_errors();
        return devtest_finish("acpi");
}
