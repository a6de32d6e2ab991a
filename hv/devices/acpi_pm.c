/* The ACPI fixed-hardware register block (ACPI 6.x, 4.8): PM1a event and
 * control registers, the PM timer, and the FADT reset register. The OS is
 * always in ACPI mode (SCI_EN reads 1, there is no SMI command port). The
 * SCI is level-triggered on GSI 9 and follows PM1_STS & PM1_EN. */
#include "acpi.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vm.h"

#define PM_TIMER_HZ 3579545ULL

struct acpi_pm {
        struct vm *vm;
        uint16_t sts, en, cnt;
        bool sci_level;
};

static uint32_t pm_timer(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        /* Split to keep the product in 64 bits for any uptime. */
        uint64_t ticks =
            (uint64_t)ts.tv_sec * PM_TIMER_HZ + (uint64_t)ts.tv_nsec * PM_TIMER_HZ / 1000000000ULL;
        return (uint32_t)(ticks & 0xFFFFFF);
}

static void update_sci(struct acpi_pm *pm)
{
        bool level = (pm->sts & pm->en) != 0;
        if (level != pm->sci_level) {
                pm->sci_level = level;
                vm_irq_line(pm->vm, PLATFORM_ACPI_SCI, level);
        }
}

static void write_cnt_high(struct acpi_pm *pm, uint8_t val)
{
        uint16_t v = (uint16_t)(val << 8);
        /* SLP_EN is write-only: it starts the sleep and never reads back. */
        pm->cnt = (uint16_t)((pm->cnt & 0x00FF) | (v & ~PM1_CNT_SLP_EN));
        if (!(v & PM1_CNT_SLP_EN))
                return;
        unsigned typ = (v >> PM1_CNT_SLP_TYP_SHIFT) & 7;
        if (typ == ACPI_SLP_TYP_S5)
                vm_request_exit(pm->vm, VM_EXIT_POWEROFF, "guest powered off (ACPI S5)");
        /* No other sleep state is offered in the DSDT: nothing to enter. */
}

static void write_byte(struct acpi_pm *pm, unsigned off, uint8_t val)
{
        switch (off) {
        case 0: /* PM1_STS: write 1 to clear */
                pm->sts &= (uint16_t)~val;
                break;
        case 1:
                pm->sts &= (uint16_t) ~(val << 8);
                break;
        case 2:
                pm->en = (uint16_t)((pm->en & 0xFF00) | val);
                break;
        case 3:
                pm->en = (uint16_t)((pm->en & 0x00FF) | val << 8);
                break;
        case 4:
                pm->cnt = (uint16_t)((pm->cnt & 0xFF00) | val | PM1_CNT_SCI_EN);
                break;
        case 5:
                write_cnt_high(pm, val);
                break;
        case ACPI_RESET_OFF:
                if (val == ACPI_RESET_VALUE)
                        vm_request_exit(pm->vm, VM_EXIT_REBOOT, "guest reset via ACPI");
                break;
        default: /* the timer is read-only */
                break;
        }
}

static void pm_io(void *opaque, uint64_t offset, void *data, unsigned len, bool is_write)
{
        struct acpi_pm *pm = opaque;
        uint8_t *bytes = data;
        if (is_write) {
                for (unsigned i = 0; i < len && offset + i < PLATFORM_ACPI_PM_LEN; i++)
                        write_byte(pm, (unsigned)offset + i, bytes[i]);
                update_sci(pm);
                return;
        }
        uint8_t regs[PLATFORM_ACPI_PM_LEN + 8] = {0};
        uint32_t tmr = pm_timer();
        regs[0] = (uint8_t)pm->sts;
        regs[1] = (uint8_t)(pm->sts >> 8);
        regs[2] = (uint8_t)pm->en;
        regs[3] = (uint8_t)(pm->en >> 8);
        regs[4] = (uint8_t)pm->cnt;
        regs[5] = (uint8_t)(pm->cnt >> 8);
        for (unsigned i = 0; i < 4; i++)
                regs[ACPI_PM_TMR_OFF + i] = (uint8_t)(tmr >> (8 * i));
        memcpy(data, regs + offset, len); /* offset < 16, len <= 8 */
}

int acpi_pm_create(struct vm *vm)
{
        struct acpi_pm *pm = calloc(1, sizeof(*pm));
        if (!pm)
                return -ENOMEM;
        pm->vm = vm;
        pm->cnt = PM1_CNT_SCI_EN;
        int r = io_bus_register(&vm->pio, PLATFORM_ACPI_PM_BASE, PLATFORM_ACPI_PM_LEN, pm_io, pm,
                                "acpi_pm");
        if (r < 0)
                free(pm);
        return r;
}

/* The VM has one PM block; its bus claim is how we find it again. */
static struct acpi_pm *find_pm(struct vm *vm)
{
        for (unsigned i = 0; i < vm->pio.count; i++)
                if (vm->pio.range[i].fn == pm_io)
                        return vm->pio.range[i].opaque;
        return NULL;
}

void acpi_request_power_button(struct vm *vm)
{
        struct acpi_pm *pm = find_pm(vm);
        if (!pm)
                return;
        pm->sts |= PM1_PWRBTN_STS;
        update_sci(pm);
}

void acpi_teardown(struct vm *vm)
{
        struct acpi_pm *pm = find_pm(vm);
        if (!pm)
                return;
        io_bus_unregister(&vm->pio, PLATFORM_ACPI_PM_BASE, pm);
        free(pm);
}
