/* The few C library pieces the freestanding kernel needs. */
#ifndef LEGACY_LIB_H
#define LEGACY_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Formats like snprintf for %s %c %d %u %x %%, with optional '-', '0' and
 * width (e.g. %-12s, %06u). Always NUL-terminates; returns the length. */
int fmt(char *buf, size_t size, const char *f, ...);
int vfmt(char *buf, size_t size, const char *f, va_list ap);
/* Console (hypercall) logging with fmt formatting. */
void klog(const char *f, ...);

/* Parses n decimal digits at s; -1 when any is not a digit. */
long parse_digits(const char *s, unsigned n);
/* Copies a field of width w, trimming trailing spaces, NUL-terminated. */
void field_copy(char *dst, const char *src, unsigned w);

#endif
