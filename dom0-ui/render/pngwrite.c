#include "pngwrite.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int png_write_xrgb(const char *path, const uint32_t *pixels, uint32_t width, uint32_t height,
                   size_t pixel_stride, char *err, size_t errlen)
{
        if (width == 0 || height == 0 || width > 65536 || height > 65536) {
                snprintf(err, errlen, "png: bad picture size %ux%u", width, height);
                return -1;
        }
        FILE *fp = fopen(path, "wb");
        if (!fp) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
        }
        png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
        png_infop info = png ? png_create_info_struct(png) : NULL;
        uint8_t *volatile row = malloc((size_t)width * 3);
        if (!png || !info || !row) {
                snprintf(err, errlen, "png: out of memory");
                goto fail;
        }
        if (setjmp(png_jmpbuf(png))) {
                snprintf(err, errlen, "%s: libpng failed while writing", path);
                goto fail;
        }
        png_init_io(png, fp);
        png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (uint32_t y = 0; y < height; y++) {
                const uint32_t *src = pixels + (size_t)y * pixel_stride;
                for (uint32_t x = 0; x < width; x++) {
                        row[3 * x] = (uint8_t)(src[x] >> 16);
                        row[3 * x + 1] = (uint8_t)(src[x] >> 8);
                        row[3 * x + 2] = (uint8_t)src[x];
                }
                png_write_row(png, row);
        }
        png_write_end(png, NULL);
        png_destroy_write_struct(&png, &info);
        free(row);
        if (fclose(fp) != 0) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                return -1;
        }
        return 0;
fail:
        png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
        free(row);
        fclose(fp);
        return -1;
}
