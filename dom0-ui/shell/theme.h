/* Loads a tandem-shell theme (light, dark, high-contrast, or a CSS path). */
#ifndef TANDEM_SHELL_THEME_H
#define TANDEM_SHELL_THEME_H

#include <stdbool.h>

/* name NULL: $TANDEM_THEME, then ~/.config/tandem/shell.conf "theme=...",
 * then "light". Returns false (with a message on stderr) when not found. */
bool theme_apply(const char *name);

#endif
