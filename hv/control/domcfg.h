/* A domain configuration: the xl.cfg subset in docs/config.md, parsed and
 * validated. Diagnostics name file:line; see domcfg_parse(). */
#ifndef TANDEM_DOMCFG_H
#define TANDEM_DOMCFG_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum dom_type { DOM_TYPE_PVH, DOM_TYPE_LEGACY };
enum dom_action { DOM_ACT_DESTROY, DOM_ACT_RESTART, DOM_ACT_PRESERVE };

#define DOMCFG_MAX_DISKS 16
#define DOMCFG_MAX_VIFS  8
#define DOMCFG_MAX_USB   16
#define DOMCFG_NAME_MAX  64

struct dom_disk {
        char *target;
        char vdev[16];
        char format[8]; /* raw, qcow2, vhd, vmdk */
        bool readonly;
};

struct dom_vif {
        char mac[18]; /* empty: generated */
        char *bridge;
        char *model;
        bool user;       /* type=user: libslirp NAT instead of a TAP on the bridge */
        unsigned vlan;   /* 802.1Q VLAN of the bridge port, 0 = none */
        char *hostfwd;   /* type=user: "hostfwd=...,hostfwd=..." for --net */
};

struct domcfg {
        char name[DOMCFG_NAME_MAX + 1];
        enum dom_type type;
        uint64_t memory_mib;
        unsigned vcpus;
        char *kernel;
        char *ramdisk;
        char *cmdline; /* root= and extra= joined, as xl does */
        struct dom_disk disks[DOMCFG_MAX_DISKS];
        size_t n_disks;
        struct dom_vif vifs[DOMCFG_MAX_VIFS];
        size_t n_vifs;
        bool vfb;
        unsigned fb_width, fb_height;
        char *usbdevs[DOMCFG_MAX_USB];
        size_t n_usbdevs;
        char *printer; /* tandem extension: host file for the printer port */
        char *sound;   /* tandem extension: tandem-vmm --sound spec (docs/sound.md) */
        enum dom_action on_poweroff, on_reboot, on_crash;
};

/* Parses text (the contents of file `path`, used for messages and to resolve
 * relative paths against its directory). Returns 0 or -1 with err set to one
 * line "path:line: message". Each warning (unknown or ignored keys) is
 * appended to warnings (a json array of strings) when it is not NULL. */
int domcfg_parse(const char *text, const char *path, struct domcfg *cfg, json_object *warnings,
                 char *err, size_t errlen);
void domcfg_free(struct domcfg *cfg);

const char *dom_action_name(enum dom_action a);
const char *dom_type_name(enum dom_type t);
bool domcfg_valid_name(const char *name);

/* The tandem-vmm command line for cfg (argv strings appended to out, a json
 * array), with control and console sockets at the given paths. */
void domcfg_vmm_args(const struct domcfg *cfg, const char *control_path, const char *console_path,
                     json_object *out);

#endif
