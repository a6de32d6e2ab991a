/* A small encoder for ACPI Machine Language (ACPI 6.x, chapter 20) and the
 * resource descriptors of chapter 6.4: just what the DSDT needs. */
#ifndef TANDEM_AML_H
#define TANDEM_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
        uint8_t *buf;
        size_t len, cap;
        bool oom;
};

void aml_free(struct aml *a);
void aml_byte(struct aml *a, uint8_t b);
void aml_le(struct aml *a, uint64_t v, unsigned bytes);
/* The smallest integer encoding (ZeroOp, OneOp, Byte/Word/DWord/QWordPrefix). */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* A NameString: "\\_SB.PCI0", "_HID"; short segments are padded with '_'. */
void aml_name(struct aml *a, const char *path);
void aml_eisaid(struct aml *a, const char *id); /* "PNP0A03" as a DWord */

/* Objects with a PkgLength: open returns a mark, close fills the length in. */
size_t aml_open(struct aml *a, const uint8_t *op, unsigned oplen);
void aml_close(struct aml *a, size_t mark);
size_t aml_scope_open(struct aml *a, const char *name);
size_t aml_device_open(struct aml *a, const char *name);
size_t aml_package_open(struct aml *a, uint8_t nelems);
/* Name(name, ...) prefix: follow it with exactly one data object. */
void aml_name_decl(struct aml *a, const char *name);

/* ResourceTemplate(): a Buffer of descriptors ending in an End Tag. */
size_t aml_restemplate_open(struct aml *a);
void aml_restemplate_close(struct aml *a, size_t mark);
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
void aml_res_irq(struct aml *a, unsigned irq); /* IRQNoFlags(): edge, high */
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_res_dword_mem(struct aml *a, uint32_t min, uint32_t max);
void aml_res_qword_mem(struct aml *a, uint64_t min, uint64_t max);

#endif
