/* tandemd's USB rules: which domain may get a device (docs/usb.md). */
#ifndef TANDEM_USB_POLICY_H
#define TANDEM_USB_POLICY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define USB_SPEC_MAX 256

/* What rules match on: "VVVV:PPPP" (empty if unknown), the class (-1 if
 * unknown), and for host devices the port path ("1-2.3"). */
struct usb_ident {
        char id[10];
        int cls;
        char path[32];
};

/* /sys/bus/usb/devices, or $TANDEM_USB_SYSFS (tests). */
const char *usb_sysfs_root(void);
/* Fills ident from a --usb spec (host devices are looked up in sysfs). */
void usb_ident_of(const char *spec, struct usb_ident *ident);
/* 0 if spec is a device spec tandem-vmm accepts, else -1 with a reason. */
int usb_spec_check(const char *spec, char *err, size_t errlen);
/* Which domain gets spec when domain (may be NULL) is asked for: 0 with the
 * name in chosen, -1 with the rule that refuses it in err, or -2 (with a
 * reason in err) when domain is NULL and no rule chooses one. */
int usb_policy_decide(const char *spec, const char *domain, char *chosen, size_t chosen_len,
                      char *err, size_t errlen);
/* Applies {"rules": [...], "focused": "NAME"|null} (either key optional;
 * NULL params changes nothing). -1 with a reason leaves the rules as they
 * were. */
int usb_policy_set(json_object *params, char *err, size_t errlen);
/* {"rules": [{"match": ..., "action": ...}], "focused": ...} */
json_object *usb_policy_get(void);
/* Appends the host's USB devices (sysfs) that are not tracked yet. */
void usb_policy_host_devices(json_object *array);

/* tandemd start (after domains_restore): rebuilds device ownership from
 * the running VMMs' usb-list, and starts applying the rules to hotplugged
 * host devices (api_usb.c). */
void usb_daemon_start(void);

/* Host USB hotplug (usb_hotplug.c): calls fn with the sysfs name
 * ("1-2.3") of each USB device the kernel adds or removes, from tandemd's
 * event loop. An added device is reported only if it is in sysfs. */
typedef void (*usb_hotplug_fn)(const char *name, bool added);
int usb_hotplug_start(usb_hotplug_fn fn, char *err, size_t errlen);

#endif
