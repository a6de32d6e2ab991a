/* Where a guest console goes: the terminal, a pty, a file, or a UNIX socket
 * that clients (tandemd, `tandem console`) attach to and detach from while
 * the guest runs. The device side is always a pair of fds. */
#ifndef TANDEM_CONSOLE_MUX_H
#define TANDEM_CONSOLE_MUX_H

#include <stddef.h>

struct vm;
struct console_mux;

/* spec: stdio | pty | none | file:PATH | socket:PATH. Fills the fds the
 * device reads guest input from (-1: none) and writes guest output to. */
struct console_mux *console_mux_open(struct vm *vm, const char *spec, int *dev_in, int *dev_out,
                                     char *err, size_t errlen);
void console_mux_close(struct console_mux *m);
/* True for a spec console_mux_open would accept (for early argument checks). */
int console_mux_spec_valid(const char *spec);

#endif
