/* hv/display and the viewer's header checks, without windows:
 *   display_unit               run the checks
 *   display_unit --cp850-dump  print the CP850 table for cp850_check.py */
#include <stdio.h>
#include <string.h>

#include "cp850.h"
#include "display.h"
#include "vmmview.h"

static int failures;
#define CHECK(cond)                                                                                \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
                        failures++;                                                                \
                }                                                                                  \
        } while (0)

static void hostile_geometry(void)
{
        char err[256];
        struct display *d = display_create(NULL, NULL, TANDEM_DISPLAY_FRAMEBUFFER, 640, 480, 1024,
                                           768, 0, err, sizeof(err));
        CHECK(d != NULL);
        struct tandem_display_header *h = display_header(d);
        uint64_t seq = h->seq;
        CHECK(display_set_mode(d, 1024, 768, 4096) == 0);
        CHECK(h->seq == seq + 1);
        /* a guest asking for more than the buffer holds */
        CHECK(display_set_mode(d, 4096, 4096, 16384) < 0);
        CHECK(display_set_mode(d, 1024, 769, 4096) < 0);
        CHECK(display_set_mode(d, 1024, 768, 100) < 0); /* stride below the width */
        CHECK(display_set_mode(d, 0x40000000, 4, 0) < 0);
        CHECK(display_set_mode(d, 1, 0x7fffffff, 4) < 0);
        CHECK(h->width == 1024 && h->height == 768);
        /* damage outside the screen is clipped or dropped */
        seq = h->seq;
        display_damage(d, 2000, 0, 10, 10);
        CHECK(h->seq == seq);
        display_damage(d, 1000, 760, 0xffffffff, 0xffffffff);
        CHECK(h->seq == seq + 1 && h->dirty_w == 24 && h->dirty_h == 8);
        display_destroy(d);
        CHECK(display_create(NULL, NULL, TANDEM_DISPLAY_TEXT, 80, 25, 100000, 25, 0, err,
                             sizeof(err)) == NULL);
        CHECK(display_create(NULL, NULL, TANDEM_DISPLAY_TEXT, 81, 25, 80, 25, 0, err,
                             sizeof(err)) == NULL);
}

static void viewer_rejects_bad_headers(void)
{
        char err[256];
        struct tandem_display_header good = {.magic = TANDEM_DISPLAY_MAGIC,
                                             .version = TANDEM_DISPLAY_VERSION,
                                             .kind = TANDEM_DISPLAY_TEXT,
                                             .width = 80,
                                             .height = 25,
                                             .stride = 160,
                                             .data_offset = 4096,
                                             .data_size = 8192};
        size_t map = 4096 + 8192;
        CHECK(vmmview_validate(&good, map, err, sizeof(err)) == 0);
        struct tandem_display_header h = good;
        h.magic = 0;
        CHECK(vmmview_validate(&h, map, err, sizeof(err)) < 0);
        h = good, h.kind = 7;
        CHECK(vmmview_validate(&h, map, err, sizeof(err)) < 0);
        h = good, h.data_size = 0xfffff000;
        CHECK(vmmview_validate(&h, map, err, sizeof(err)) < 0);
        h = good, h.data_offset = 0xfffff000;
        CHECK(vmmview_validate(&h, map, err, sizeof(err)) < 0);
        h = good, h.height = 52; /* stride*height > data_size */
        CHECK(vmmview_validate(&h, map, err, sizeof(err)) < 0);
        h = good, h.stride = 100; /* narrower than 80 cells */
        CHECK(vmmview_validate(&h, map, err, sizeof(err)) < 0);
        h = good, h.stride = 0x80000000u, h.height = 2;
        CHECK(vmmview_validate(&h, map, err, sizeof(err)) < 0);
        h = good, h.width = 0;
        CHECK(vmmview_validate(&h, map, err, sizeof(err)) < 0);
        h = good, h.kind = TANDEM_DISPLAY_FRAMEBUFFER, h.stride = 160, h.width = 80;
        CHECK(vmmview_validate(&h, map, err, sizeof(err)) < 0); /* 4 bytes per pixel */
}

static void utf8_roundtrip(void)
{
        for (unsigned b = 0; b < 256; b++) {
                char buf[4];
                uint32_t cp;
                size_t n = utf8_put(buf, cp850_to_unicode((uint8_t)b));
                CHECK(utf8_get(buf, n, &cp) == n);
                CHECK(cp850_from_unicode(cp) == (int)b);
        }
        uint32_t cp;
        CHECK(utf8_get("\xc0\x80", 2, &cp) == 0);     /* overlong */
        CHECK(utf8_get("\xed\xa0\x80", 3, &cp) == 0); /* surrogate */
        CHECK(cp850_from_unicode(0x4E2D) == -1);
}

int main(int argc, char **argv)
{
        if (argc > 1 && !strcmp(argv[1], "--cp850-dump")) {
                for (unsigned b = 0; b < 256; b++)
                        printf("%u %u\n", b, cp850_to_unicode((uint8_t)b));
                return 0;
        }
        hostile_geometry();
        viewer_rejects_bad_headers();
        utf8_roundtrip();
        if (failures)
                return 1;
        printf("ok\n");
        return 0;
}
