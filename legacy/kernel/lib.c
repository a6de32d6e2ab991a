#include "lib.h"

#include "../../pvdrivers/legacy/pv.h"

void *memset(void *d, int c, size_t n)
{
        __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
        return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
        void *r = d;
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
        return r;
}

void *memmove(void *d, const void *s, size_t n)
{
        unsigned char *dp = d;
        const unsigned char *sp = s;
        if (dp <= sp || dp >= sp + n)
                return memcpy(d, s, n);
        while (n--)
                dp[n] = sp[n];
        return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
        const unsigned char *x = a, *y = b;
        for (size_t i = 0; i < n; i++)
                if (x[i] != y[i])
                        return x[i] - y[i];
        return 0;
}

size_t strlen(const char *s)
{
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}

struct out {
        char *buf;
        size_t size, len;
};

static void put(struct out *o, char c)
{
        if (o->len + 1 < o->size)
                o->buf[o->len] = c;
        o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, unsigned width, bool left, char pad)
{
        size_t fill = width > n ? width - n : 0;
        if (!left)
                while (fill--)
                        put(o, pad);
        for (size_t i = 0; i < n; i++)
                put(o, s[i]);
        if (left)
                while (fill--)
                        put(o, ' ');
}

int vfmt(char *buf, size_t size, const char *f, va_list ap)
{
        struct out o = {buf, size, 0};
        for (; *f; f++) {
                if (*f != '%') {
                        put(&o, *f);
                        continue;
                }
                f++;
                bool left = false;
                char pad = ' ';
                unsigned width = 0;
                if (*f == '-') {
                        left = true;
                        f++;
                }
                if (*f == '0') {
                        pad = '0';
                        f++;
                }
                while (*f >= '0' && *f <= '9')
                        width = width * 10 + (unsigned)(*f++ - '0');
                char tmp[12];
                size_t n = 0;
                switch (*f) {
                case 's': {
                        const char *s = va_arg(ap, const char *);
                        put_padded(&o, s, strlen(s), width, left, ' ');
                        break;
                }
                case 'c':
                        tmp[0] = (char)va_arg(ap, int);
                        put_padded(&o, tmp, 1, width, left, ' ');
                        break;
                case 'd':
                case 'u':
                case 'x': {
                        uint32_t v;
                        bool neg = false;
                        if (*f == 'd') {
                                int32_t sv = va_arg(ap, int32_t);
                                neg = sv < 0;
                                v = neg ? (uint32_t)-sv : (uint32_t)sv;
                        } else {
                                v = va_arg(ap, uint32_t);
                        }
                        unsigned base = *f == 'x' ? 16 : 10;
                        char rev[12];
                        do {
                                rev[n++] = "0123456789abcdef"[v % base];
                                v /= base;
                        } while (v);
                        size_t k = 0;
                        if (neg)
                                tmp[k++] = '-';
                        while (n)
                                tmp[k++] = rev[--n];
                        put_padded(&o, tmp, k, width, left, pad);
                        break;
                }
                case '%':
                        put(&o, '%');
                        break;
                default:
                        put(&o, '?');
                        break;
                }
        }
        if (size)
                buf[o.len < size ? o.len : size - 1] = 0;
        return (int)o.len;
}

int fmt(char *buf, size_t size, const char *f, ...)
{
        va_list ap;
        va_start(ap, f);
        int n = vfmt(buf, size, f, ap);
        va_end(ap);
        return n;
}

void klog(const char *f, ...)
{
        char buf[256];
        va_list ap;
        va_start(ap, f);
        int n = vfmt(buf, sizeof(buf), f, ap);
        va_end(ap);
        pv_console_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

long parse_digits(const char *s, unsigned n)
{
        long v = 0;
        for (unsigned i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

void field_copy(char *dst, const char *src, unsigned w)
{
        unsigned n = w;
        while (n && (src[n - 1] == ' ' || src[n - 1] == 0))
                n--;
        memcpy(dst, src, n);
        dst[n] = 0;
}
