/* A live guest console: a GtkDrawingArea showing one VMM display, redrawn
 * only where frame events say the guest changed something. Keyboard input is
 * forwarded while the pane holds the grab (click to grab, Ctrl+Alt to release). */
#ifndef TANDEM_SHELL_CONSOLE_H
#define TANDEM_SHELL_CONSOLE_H

#include <gtk/gtk.h>
#include <stdbool.h>

struct console;

/* control_path NULL: the pane shows "no display" until console_attach. */
struct console *console_new(const char *domain, const char *control_path);
/* Without a control path, the display comes from tandemd's "display" method
 * (tandemd_socket NULL: libtandem's default). */
void console_use_tandemd(struct console *c, const char *tandemd_socket);
GtkWidget *console_widget(struct console *c);
const char *console_domain(const struct console *c);
/* (Re)connects; on failure the pane shows why. */
void console_attach(struct console *c, const char *control_path);
/* tandemd says the domain is stopped, crashed or destroyed (reason: its
 * "reason", may be NULL): show that, drop the view; running: reattach. */
void console_set_domain_state(struct console *c, const char *state, const char *reason);
void console_set_scale_to_fit(struct console *c, bool fit);

#endif
