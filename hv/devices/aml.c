#include "aml.h"

#include <stdlib.h>
#include <string.h>

#define NAME_OP       0x08
#define STRING_PREFIX 0x0D
#define SCOPE_OP      0x10
#define BUFFER_OP     0x11
#define PACKAGE_OP    0x12
#define EXT_OP_PREFIX 0x5B
#define DEVICE_OP     0x82
#define ROOT_CHAR     0x5C
#define DUAL_NAME     0x2E
#define MULTI_NAME    0x2F

void aml_free(struct aml *a)
{
        free(a->buf);
        *a = (struct aml){0};
}

static bool reserve(struct aml *a, size_t more)
{
        if (a->oom)
                return false;
        if (a->len + more <= a->cap)
                return true;
        size_t cap = a->cap ? a->cap * 2 : 256;
        while (cap < a->len + more)
                cap *= 2;
        uint8_t *n = realloc(a->buf, cap);
        if (!n) {
                a->oom = true;
                return false;
        }
        a->buf = n;
        a->cap = cap;
        return true;
}

void aml_byte(struct aml *a, uint8_t b)
{
        if (reserve(a, 1))
                a->buf[a->len++] = b;
}

void aml_le(struct aml *a, uint64_t v, unsigned bytes)
{
        for (unsigned i = 0; i < bytes; i++)
                aml_byte(a, (uint8_t)(v >> (8 * i)));
}

void aml_integer(struct aml *a, uint64_t v)
{
        if (v == 0) {
                aml_byte(a, 0x00);
        } else if (v == 1) {
                aml_byte(a, 0x01);
        } else if (v <= 0xFF) {
                aml_byte(a, 0x0A);
                aml_le(a, v, 1);
        } else if (v <= 0xFFFF) {
                aml_byte(a, 0x0B);
                aml_le(a, v, 2);
        } else if (v <= 0xFFFFFFFF) {
                aml_byte(a, 0x0C);
                aml_le(a, v, 4);
        } else {
                aml_byte(a, 0x0E);
                aml_le(a, v, 8);
        }
}

void aml_string(struct aml *a, const char *s)
{
        aml_byte(a, STRING_PREFIX);
        for (; *s; s++)
                aml_byte(a, (uint8_t)*s);
        aml_byte(a, 0);
}

static void name_seg(struct aml *a, const char *seg, size_t n)
{
        for (size_t i = 0; i < 4; i++)
                aml_byte(a, i < n ? (uint8_t)seg[i] : '_');
}

void aml_name(struct aml *a, const char *path)
{
        if (*path == '\\') {
                aml_byte(a, ROOT_CHAR);
                path++;
        }
        unsigned nsegs = *path ? 1 : 0;
        for (const char *p = path; *p; p++)
                nsegs += *p == '.';
        if (nsegs == 0) {
                aml_byte(a, 0x00); /* NullName */
                return;
        }
        if (nsegs == 2) {
                aml_byte(a, DUAL_NAME);
        } else if (nsegs > 2) {
                aml_byte(a, MULTI_NAME);
                aml_byte(a, (uint8_t)nsegs);
        }
        while (*path) {
                size_t n = strcspn(path, ".");
                name_seg(a, path, n > 4 ? 4 : n);
                path += n;
                if (*path == '.')
                        path++;
        }
}

static unsigned hexval(char c)
{
        if (c >= '0' && c <= '9')
                return (unsigned)(c - '0');
        return (unsigned)((c | 0x20) - 'a' + 10) & 0xF;
}

void aml_eisaid(struct aml *a, const char *id)
{
        /* Three letters of five bits each, then four hex digits, stored as
         * two big-endian words in the DWord's byte order. */
        unsigned c1 = (unsigned)(id[0] - 0x40) & 0x1F, c2 = (unsigned)(id[1] - 0x40) & 0x1F,
                 c3 = (unsigned)(id[2] - 0x40) & 0x1F;
        uint8_t b[4] = {
            (uint8_t)(c1 << 2 | c2 >> 3),
            (uint8_t)((c2 & 7) << 5 | c3),
            (uint8_t)(hexval(id[3]) << 4 | hexval(id[4])),
            (uint8_t)(hexval(id[5]) << 4 | hexval(id[6])),
        };
        aml_byte(a, 0x0C);
        for (int i = 0; i < 4; i++)
                aml_byte(a, b[i]);
}

size_t aml_open(struct aml *a, const uint8_t *op, unsigned oplen)
{
        for (unsigned i = 0; i < oplen; i++)
                aml_byte(a, op[i]);
        return a->len;
}

void aml_close(struct aml *a, size_t mark)
{
        if (a->oom)
                return;
        size_t body = a->len - mark;
        /* PkgLength counts its own bytes: 1 byte up to 63, then a lead byte
         * carrying the low nibble and 1-3 more bytes. */
        uint8_t enc[4];
        unsigned n;
        if (body + 1 < 0x40) {
                enc[0] = (uint8_t)(body + 1);
                n = 1;
        } else {
                n = body + 2 < 0x1000 ? 2 : body + 3 < 0x100000 ? 3 : 4;
                size_t total = body + n;
                enc[0] = (uint8_t)((n - 1) << 6 | (total & 0x0F));
                for (unsigned i = 1; i < n; i++)
                        enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
        }
        if (!reserve(a, n))
                return;
        memmove(a->buf + mark + n, a->buf + mark, body);
        memcpy(a->buf + mark, enc, n);
        a->len += n;
}

size_t aml_scope_open(struct aml *a, const char *name)
{
        static const uint8_t op[] = {SCOPE_OP};
        size_t mark = aml_open(a, op, 1);
        aml_name(a, name);
        return mark;
}

size_t aml_device_open(struct aml *a, const char *name)
{
        static const uint8_t op[] = {EXT_OP_PREFIX, DEVICE_OP};
        size_t mark = aml_open(a, op, 2);
        aml_name(a, name);
        return mark;
}

size_t aml_package_open(struct aml *a, uint8_t nelems)
{
        static const uint8_t op[] = {PACKAGE_OP};
        size_t mark = aml_open(a, op, 1);
        aml_byte(a, nelems);
        return mark;
}

void aml_name_decl(struct aml *a, const char *name)
{
        aml_byte(a, NAME_OP);
        aml_name(a, name);
}

/* The buffer's size is only known at close: open leaves a DWord placeholder
 * for it, so the encoding never changes length after the fact. */
size_t aml_restemplate_open(struct aml *a)
{
        static const uint8_t op[] = {BUFFER_OP};
        size_t mark = aml_open(a, op, 1);
        aml_byte(a, 0x0C);
        aml_le(a, 0, 4);
        return mark;
}

void aml_restemplate_close(struct aml *a, size_t mark)
{
        aml_byte(a, 0x79); /* End Tag; checksum 0 means "no checksum" */
        aml_byte(a, 0x00);
        if (a->oom)
                return;
        uint32_t size = (uint32_t)(a->len - mark - 5);
        for (int i = 0; i < 4; i++)
                a->buf[mark + 1 + i] = (uint8_t)(size >> (8 * i));
        aml_close(a, mark);
}

void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
        aml_byte(a, 0x47);
        aml_byte(a, 0x01); /* decodes 16 address lines */
        aml_le(a, base, 2);
        aml_le(a, base, 2);
        aml_byte(a, 0x01); /* alignment */
        aml_byte(a, len);
}

void aml_res_irq(struct aml *a, unsigned irq)
{
        aml_byte(a, 0x22);
        aml_le(a, 1u << irq, 2);
}

#define ADDR_MEM 0
#define ADDR_IO  1
#define ADDR_BUS 2
/* General flags: resource producer, positive decode, min and max fixed. */
#define ADDR_FIXED_PRODUCER 0x0C

static void addr_head(struct aml *a, uint8_t tag, uint16_t len, uint8_t type, uint8_t tflags)
{
        aml_byte(a, tag);
        aml_le(a, len, 2);
        aml_byte(a, type);
        aml_byte(a, ADDR_FIXED_PRODUCER);
        aml_byte(a, tflags);
}

static void addr_body(struct aml *a, uint64_t min, uint64_t max, unsigned w)
{
        aml_le(a, 0, w); /* granularity */
        aml_le(a, min, w);
        aml_le(a, max, w);
        aml_le(a, 0, w); /* translation offset */
        aml_le(a, max - min + 1, w);
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
        addr_head(a, 0x88, 13, ADDR_BUS, 0);
        addr_body(a, min, max, 2);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
        addr_head(a, 0x88, 13, ADDR_IO, 0x03); /* decodes the entire range */
        addr_body(a, min, max, 2);
}

void aml_res_dword_mem(struct aml *a, uint32_t min, uint32_t max)
{
        addr_head(a, 0x87, 23, ADDR_MEM, 0x01); /* read-write, non-cacheable */
        addr_body(a, min, max, 4);
}

void aml_res_qword_mem(struct aml *a, uint64_t min, uint64_t max)
{
        addr_head(a, 0x8A, 43, ADDR_MEM, 0x01);
        addr_body(a, min, max, 8);
}
