/* Byte sizes on command lines: "512M", "2G", "65536K", "1048576", "1E". */
#ifndef TANDEM_SIZE_PARSE_H
#define TANDEM_SIZE_PARSE_H

#include <stdint.h>

/* K/M/G/T/E are powers of 1024, optionally followed by "i", "B" or "iB".
 * Returns 0, or -1 for anything else or a value that overflows 64 bits. */
int size_parse(const char *s, uint64_t *out);

#endif
