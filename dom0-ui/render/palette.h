/* The 16-colour text-mode palette (CGA/VGA order), as XRGB8888. */
#ifndef TANDEM_PALETTE_H
#define TANDEM_PALETTE_H

#include <stdint.h>

extern const uint32_t text_palette[16];

#endif
