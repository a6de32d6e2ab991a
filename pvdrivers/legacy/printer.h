/* Guest PV printer: bytes appended durably to the host spool. */
#ifndef TANDEM_PV_PRINTER_H
#define TANDEM_PV_PRINTER_H

#include <stddef.h>

/* 0 when every byte reached the spool, else a TPV_E* code. */
int pv_printer_write(const void *buf, size_t len);
int pv_printer_present(void);

#endif
