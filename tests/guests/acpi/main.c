/* ACPI as an OS finds it: the RSDP from hvm_start_info, checksummed tables
 * through the XSDT, one MADT Local APIC per vCPU (the runner passes
 * --cpus 2 and ncpus=2), and the PM1a_CNT port from the FADT, which the
 * harness's S5 power-off then uses. */
#include "guest.h"

const char test_name[] = "acpi";

static uint8_t sum(const uint8_t *p, uint32_t n)
{
        uint8_t s = 0;
        while (n--)
                s = (uint8_t)(s + *p++);
        return s;
}

static const uint8_t *table(uint64_t addr, const char *sig)
{
        EXPECT(addr >= 0xE0000 && addr < 0x100000, "%s at 0x%llx, outside the BIOS area", sig,
               addr);
        const uint8_t *t = (const uint8_t *)(uint32_t)addr;
        EXPECT(memcmp(t, sig, 4) == 0, "expected %s at 0x%x", sig, (uint32_t)addr);
        uint32_t len = *(const uint32_t *)(t + 4);
        EXPECT(len >= 36 && addr + len <= 0x100000, "%s length %u", sig, len);
        EXPECT(sum(t, len) == 0, "%s checksum", sig);
        return t;
}

void test_main(const struct hvm_start_info *si)
{
        uint32_t ncpus;
        EXPECT(cmdline_u32(si, "ncpus", &ncpus), "no ncpus= on the command line");
        EXPECT(si->rsdp_paddr == 0xE0000, "hvm_start_info.rsdp_paddr 0x%llx", si->rsdp_paddr);
        const uint8_t *rsdp = (const uint8_t *)(uint32_t)si->rsdp_paddr;
        EXPECT(memcmp(rsdp, "RSD PTR ", 8) == 0, "no RSDP signature");
        EXPECT(sum(rsdp, 20) == 0 && rsdp[15] >= 2 && sum(rsdp, 36) == 0, "RSDP checksums");
        const uint8_t *xsdt = table(*(const uint64_t *)(rsdp + 24), "XSDT");
        const uint8_t *fadt = NULL, *madt = NULL;
        uint32_t n = (*(const uint32_t *)(xsdt + 4) - 36) / 8;
        for (uint32_t i = 0; i < n; i++) {
                uint64_t a = *(const uint64_t *)(xsdt + 36 + 8 * i);
                const uint8_t *t = (const uint8_t *)(uint32_t)a;
                if (memcmp(t, "FACP", 4) == 0)
                        fadt = table(a, "FACP");
                else if (memcmp(t, "APIC", 4) == 0)
                        madt = table(a, "APIC");
        }
        EXPECT(fadt && madt, "XSDT lacks the FADT or the MADT");
        table(*(const uint64_t *)(fadt + 140), "DSDT");
        uint32_t pm1a_cnt = *(const uint32_t *)(fadt + 64);
        EXPECT(pm1a_cnt == PM1A_CNT, "FADT PM1a_CNT_BLK 0x%x, the harness uses 0x%x", pm1a_cnt,
               PM1A_CNT);
        EXPECT(inw((uint16_t)pm1a_cnt) & 1, "SCI_EN clear: not in ACPI mode");
        uint32_t lapics = 0, mlen = *(const uint32_t *)(madt + 4);
        for (uint32_t off = 44; off + 2 <= mlen && madt[off + 1] >= 2; off += madt[off + 1])
                if (madt[off] == 0 && (madt[off + 4] & 1))
                        lapics++;
        EXPECT(lapics == ncpus, "MADT lists %u enabled CPUs, want %u", lapics, ncpus);
        /* The PM timer runs: two reads a few exits apart differ. */
        uint32_t t0 = inl(PM_TMR) & 0xFFFFFF;
        for (int i = 0; i < 50; i++)
                io_delay();
        EXPECT((inl(PM_TMR) & 0xFFFFFF) != t0, "PM timer stands still");
        printf("acpi: RSDP, XSDT, FADT, DSDT, MADT (%u CPUs) valid\n", lapics);
}
