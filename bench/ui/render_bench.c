/* One render of an 80x25 legacy screen, for callgrind instruction counts:
 *   render_bench full|cell   (run under valgrind --tool=callgrind
 *                             --collect-atstart=no)
 * Only the text_render_cells call is collected: the font is rasterized once
 * at open, so this is what a frame costs a viewer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <valgrind/callgrind.h>

#include "cellfont.h"
#include "textrender.h"

#define COLS 80
#define ROWS 25

int main(int argc, char **argv)
{
        if (argc != 2 || (strcmp(argv[1], "full") && strcmp(argv[1], "cell"))) {
                fprintf(stderr, "usage: render_bench full|cell\n");
                return 2;
        }
        char err[256];
        struct cellfont *f = cellfont_open(cellfont_default_path(), 16, err, sizeof(err));
        if (!f) {
                fprintf(stderr, "render_bench: %s\n", err);
                return 1;
        }
        /* a busy screen like the legacy guest's: text everywhere, a title
         * bar and input fields in other colours */
        static uint8_t cells[COLS * ROWS * 2];
        for (unsigned i = 0; i < COLS * ROWS; i++) {
                cells[2 * i] = (uint8_t)(' ' + i % 95);
                cells[2 * i + 1] = i < COLS ? 0x1F : (i % 7 ? 0x07 : 0x1E);
        }
        struct text_screen s = {cells, COLS, ROWS, COLS * 2, true, 10, 5};
        size_t stride = (size_t)COLS * f->cell_w;
        uint32_t *pixels = calloc(stride * ROWS * f->cell_h, 4);
        text_render_all(f, &s, pixels, stride); /* warm caches and pages */
        cells[2 * (5 * COLS + 10)] = 'X';
        CALLGRIND_TOGGLE_COLLECT;
        if (!strcmp(argv[1], "full"))
                text_render_all(f, &s, pixels, stride);
        else
                text_render_cells(f, &s, 10, 5, 1, 1, pixels, stride);
        CALLGRIND_TOGGLE_COLLECT;
        printf("%s: %ux%u px, pixel %08x\n", argv[1], (unsigned)stride, ROWS * f->cell_h,
               pixels[0]);
        free(pixels);
        cellfont_close(f);
        return 0;
}
