/* Internals shared by the ACPI table builder and the PM register block. */
#ifndef TANDEM_ACPI_H
#define TANDEM_ACPI_H

#include "aml.h"
#include "platform.h"

/* Register offsets inside the PM block at PLATFORM_ACPI_PM_BASE. */
#define ACPI_PM1_EVT_OFF 0x0 /* PM1_STS (2 bytes), PM1_EN (2 bytes) */
#define ACPI_PM1_CNT_OFF 0x4 /* 2 bytes */
#define ACPI_PM_TMR_OFF  0x8 /* 4 bytes, 24-bit counter at 3.579545 MHz */
#define ACPI_RESET_OFF   0xC /* 1 byte: ACPI_RESET_VALUE resets the machine */
#define ACPI_RESET_VALUE 0x06

#define ACPI_SLP_TYP_S5 5

#define PM1_TMR_STS           0x0001
#define PM1_PWRBTN_STS        0x0100
#define PM1_WAK_STS           0x8000
#define PM1_CNT_SCI_EN        0x0001
#define PM1_CNT_SLP_EN        0x2000
#define PM1_CNT_SLP_TYP_SHIFT 10

/* Appends the DSDT's definition block body (no table header) to a. */
void acpi_dsdt_body(struct aml *a, const struct acpi_config *cfg);

/* Claims the PM block; returns 0 or -errno. */
int acpi_pm_create(struct vm *vm);

#endif
