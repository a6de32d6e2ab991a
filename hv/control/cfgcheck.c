/* tandem-cfgcheck: validates an xl.cfg file offline (also `tandem cfgcheck`). */
#include "domcfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
        const char *file = argc == 3 && !strcmp(argv[1], "cfgcheck") ? argv[2]
                           : argc == 2                               ? argv[1]
                                                                     : NULL;
        if (!file) {
                fprintf(stderr, "usage: tandem cfgcheck CONFIG\n");
                return 2;
        }
        FILE *f = fopen(file, "re");
        if (!f) {
                fprintf(stderr, "tandem: %s: %s\n", file, strerror(errno));
                return 6;
        }
        static char text[1 << 20];
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = '\0';
        if (strlen(text) != n) {
                fprintf(stderr, "tandem: %s:1: NUL byte in config\n", file);
                return 6;
        }
        struct domcfg cfg;
        char err[600];
        json_object *warnings = json_object_new_array();
        int rc = domcfg_parse(text, file, &cfg, warnings, err, sizeof(err));
        for (size_t i = 0; i < json_object_array_length(warnings); i++)
                fprintf(stderr, "%s\n",
                        json_object_get_string(json_object_array_get_idx(warnings, i)));
        json_object_put(warnings);
        if (rc < 0) {
                fprintf(stderr, "%s\n", err);
                return 6;
        }
        json_object *args = json_object_new_array();
        domcfg_vmm_args(&cfg, "CONTROL", "CONSOLE", args);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(cfg.name));
        json_object_object_add(o, "type", json_object_new_string(dom_type_name(cfg.type)));
        json_object_object_add(o, "on_poweroff",
                               json_object_new_string(dom_action_name(cfg.on_poweroff)));
        json_object_object_add(o, "on_reboot",
                               json_object_new_string(dom_action_name(cfg.on_reboot)));
        json_object_object_add(o, "on_crash",
                               json_object_new_string(dom_action_name(cfg.on_crash)));
        json_object_object_add(o, "vmm_args", args);
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        domcfg_free(&cfg);
        return 0;
}
