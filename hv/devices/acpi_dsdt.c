/* The DSDT: the \_S5 sleep package that lets an OS power off, the PCI host
 * bridge whose _CRS tells Linux which windows to scan, the CPUs as ACPI0007
 * devices, and the legacy ISA devices as PNP objects. */
#include "acpi.h"

#include <stdio.h>

static void hid_eisa(struct aml *a, const char *id)
{
        aml_name_decl(a, "_HID");
        aml_eisaid(a, id);
}

static void isa_device(struct aml *a, const char *name, const char *hid, unsigned uid,
                       const uint16_t *ports, const uint8_t *lens, unsigned nports, int irq)
{
        size_t dev = aml_device_open(a, name);
        hid_eisa(a, hid);
        aml_name_decl(a, "_UID");
        aml_integer(a, uid);
        aml_name_decl(a, "_CRS");
        size_t res = aml_restemplate_open(a);
        for (unsigned i = 0; i < nports; i++)
                aml_res_io(a, ports[i], lens[i]);
        if (irq >= 0)
                aml_res_irq(a, (unsigned)irq);
        aml_restemplate_close(a, res);
        aml_close(a, dev);
}

static void pci_host_bridge(struct aml *a, const struct acpi_config *cfg)
{
        size_t dev = aml_device_open(a, "PCI0");
        hid_eisa(a, "PNP0A03");
        aml_name_decl(a, "_UID");
        aml_integer(a, 0);
        aml_name_decl(a, "_BBN");
        aml_integer(a, 0);
        aml_name_decl(a, "_CRS");
        size_t res = aml_restemplate_open(a);
        aml_res_word_bus(a, 0, 0);
        aml_res_io(a, 0xCF8, 8); /* the configuration mechanism #1 ports */
        aml_res_word_io(a, 0x0000, 0x0CF7);
        aml_res_word_io(a, 0x0D00, 0xFFFF);
        if (cfg->pci_mmio_size) {
                uint64_t last = cfg->pci_mmio_base + cfg->pci_mmio_size - 1;
                if (last <= 0xFFFFFFFF)
                        aml_res_dword_mem(a, (uint32_t)cfg->pci_mmio_base, (uint32_t)last);
                else
                        aml_res_qword_mem(a, cfg->pci_mmio_base, last);
        }
        aml_restemplate_close(a, res);
        aml_close(a, dev);
}

void acpi_dsdt_body(struct aml *a, const struct acpi_config *cfg)
{
        /* Package {SLP_TYPa, SLP_TYPb, reserved, reserved} */
        aml_name_decl(a, "\\_S5");
        size_t pkg = aml_package_open(a, 4);
        aml_integer(a, ACPI_SLP_TYP_S5);
        aml_integer(a, ACPI_SLP_TYP_S5);
        aml_integer(a, 0);
        aml_integer(a, 0);
        aml_close(a, pkg);

        size_t sb = aml_scope_open(a, "\\_SB");
        for (unsigned i = 0; i < cfg->ncpus; i++) {
                char name[5];
                snprintf(name, sizeof(name), "C%03X", i & 0xFFF);
                size_t cpu = aml_device_open(a, name);
                aml_name_decl(a, "_HID");
                aml_string(a, "ACPI0007");
                aml_name_decl(a, "_UID");
                aml_integer(a, i);
                aml_close(a, cpu);
        }
        pci_host_bridge(a, cfg);

        static const uint16_t com1[] = {PLATFORM_COM1_BASE};
        static const uint16_t kbd[] = {PLATFORM_I8042_DATA, PLATFORM_I8042_CMD};
        static const uint16_t rtc[] = {PLATFORM_RTC_INDEX};
        static const uint8_t len8[] = {8}, len1x2[] = {1, 1}, len2[] = {2};
        isa_device(a, "COM1", "PNP0501", 1, com1, len8, 1, PLATFORM_COM1_IRQ);
        isa_device(a, "KBD", "PNP0303", 0, kbd, len1x2, 2, PLATFORM_KBD_IRQ);
        isa_device(a, "MOU", "PNP0F13", 0, NULL, NULL, 0, PLATFORM_AUX_IRQ);
        isa_device(a, "RTC", "PNP0B00", 0, rtc, len2, 1, PLATFORM_RTC_IRQ);
        aml_close(a, sb);
}
