/* Writes an XRGB8888 picture as an 8-bit RGB PNG. */
#ifndef TANDEM_PNGWRITE_H
#define TANDEM_PNGWRITE_H

#include <stddef.h>
#include <stdint.h>

int png_write_xrgb(const char *path, const uint32_t *pixels, uint32_t width, uint32_t height,
                   size_t pixel_stride, char *err, size_t errlen);

#endif
