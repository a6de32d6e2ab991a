#include "kbdfront.h"

#include "pv.h"

bool pv_kbd_next(uint16_t *entry)
{
        uint32_t cons = pv_shared.kbd_cons;
        if (cons == pv_shared.kbd_prod)
                return false;
        __asm__ volatile("" ::: "memory"); /* index before payload */
        *entry = pv_shared.kbd_ring[cons % TPV_KBD_RING_SIZE];
        __asm__ volatile("" ::: "memory");
        pv_shared.kbd_cons = cons + 1;
        return true;
}
