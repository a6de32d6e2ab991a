/* Code page 850 (DOS Latin-1), the legacy guest's character set. */
#ifndef TANDEM_CP850_H
#define TANDEM_CP850_H

#include <stddef.h>
#include <stdint.h>

/* Unicode code point of byte b as data (0x00-0x7F are ASCII, control codes
 * included), matching the IBM/Microsoft CP850 mapping. */
uint32_t cp850_to_unicode(uint8_t b);
/* Code point to draw for byte b on a text screen: like cp850_to_unicode, but
 * 0x00 is a space and the control range shows the PC glyphs (smileys,
 * arrows, ...), as a VGA text screen does. */
uint32_t cp850_glyph(uint8_t b);
/* CP850 byte for code point cp, or -1 when CP850 has no such character. */
int cp850_from_unicode(uint32_t cp);
/* Appends the UTF-8 encoding of cp to out (room for 4 bytes needed); returns
 * the number of bytes written. */
size_t utf8_put(char *out, uint32_t cp);
/* Decodes one UTF-8 sequence from s (at most n bytes); stores the code point
 * and returns the sequence length, or 0 on malformed input. */
size_t utf8_get(const char *s, size_t n, uint32_t *cp);

#endif
