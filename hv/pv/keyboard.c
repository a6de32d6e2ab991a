/* PV keyboard backend: evdev key codes from dom0 become PC scan code set 1
 * entries in the guest's shared ring (TPV_KBD_* flags), and the "send-keys"
 * control command types key names, codes or text. */
#include <linux/input-event-codes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../display/keymap_us.h"
#include "../vmm/control.h"
#include "../vmm/guest_mem.h"
#include "../vmm/vm.h"
#include "legacy_priv.h"

/* evdev 1..88 are the set-1 make codes themselves (Linux defined them so);
 * the cursor block and right-hand modifiers are E0-prefixed. Returns 0 for
 * keys a PC keyboard does not have. */
static uint16_t evdev_to_set1(uint32_t code)
{
        if (code >= 1 && code <= 88 && code != 84 && code != 85 && code != 86)
                return (uint16_t)code;
        switch (code) {
        case KEY_KPENTER:
                return TPV_KBD_EXTENDED | 0x1C;
        case KEY_RIGHTCTRL:
                return TPV_KBD_EXTENDED | 0x1D;
        case KEY_KPSLASH:
                return TPV_KBD_EXTENDED | 0x35;
        case KEY_RIGHTALT:
                return TPV_KBD_EXTENDED | 0x38;
        case KEY_HOME:
                return TPV_KBD_EXTENDED | 0x47;
        case KEY_UP:
                return TPV_KBD_EXTENDED | 0x48;
        case KEY_PAGEUP:
                return TPV_KBD_EXTENDED | 0x49;
        case KEY_LEFT:
                return TPV_KBD_EXTENDED | 0x4B;
        case KEY_RIGHT:
                return TPV_KBD_EXTENDED | 0x4D;
        case KEY_END:
                return TPV_KBD_EXTENDED | 0x4F;
        case KEY_DOWN:
                return TPV_KBD_EXTENDED | 0x50;
        case KEY_PAGEDOWN:
                return TPV_KBD_EXTENDED | 0x51;
        case KEY_INSERT:
                return TPV_KBD_EXTENDED | 0x52;
        case KEY_DELETE:
                return TPV_KBD_EXTENDED | 0x53;
        default:
                return 0;
        }
}

/* Moves queued keys into the guest's ring while it has room. */
void legacy_keys_to_ring_locked(struct legacy_domain *d)
{
        if (!d->keyq_len || !d->shared_gpa)
                return;
        struct tpv_shared_info *s = guest_mem_ptr(&d->vm->mem, d->shared_gpa, sizeof(*s));
        if (!s)
                return;
        uint32_t prod = s->kbd_prod;
        uint32_t cons = __atomic_load_n(&s->kbd_cons, __ATOMIC_ACQUIRE);
        bool moved = false;
        while (d->keyq_len && prod - cons < TPV_KBD_RING_SIZE) {
                s->kbd_ring[prod % TPV_KBD_RING_SIZE] = d->keyq[d->keyq_head];
                d->keyq_head = (d->keyq_head + 1) % LEGACY_KEYQ;
                d->keyq_len--;
                prod++;
                moved = true;
                d->keys_delivered++;
        }
        if (moved) {
                __atomic_store_n(&s->kbd_prod, prod, __ATOMIC_RELEASE);
                legacy_raise_locked(d, EVS_KEYBOARD);
        }
}

void legacy_key(void *opaque, uint32_t evdev_code, bool down)
{
        struct legacy_domain *d = opaque;
        uint16_t sc = evdev_to_set1(evdev_code);
        if (!sc)
                return;
        if (!down)
                sc |= TPV_KBD_RELEASE;
        pthread_mutex_lock(&d->lock);
        if (d->keyq_len < LEGACY_KEYQ) {
                d->keyq[(d->keyq_head + d->keyq_len) % LEGACY_KEYQ] = sc;
                d->keyq_len++;
        } /* else: a real keyboard controller drops keys too when full */
        legacy_keys_to_ring_locked(d);
        pthread_mutex_unlock(&d->lock);
}

static const struct {
        const char *name;
        uint16_t code;
} key_names[] = {
    {"ESC", KEY_ESC},
    {"ENTER", KEY_ENTER},
    {"BACKSPACE", KEY_BACKSPACE},
    {"TAB", KEY_TAB},
    {"SPACE", KEY_SPACE},
    {"LEFTSHIFT", KEY_LEFTSHIFT},
    {"RIGHTSHIFT", KEY_RIGHTSHIFT},
    {"LEFTCTRL", KEY_LEFTCTRL},
    {"RIGHTCTRL", KEY_RIGHTCTRL},
    {"LEFTALT", KEY_LEFTALT},
    {"RIGHTALT", KEY_RIGHTALT},
    {"CAPSLOCK", KEY_CAPSLOCK},
    {"UP", KEY_UP},
    {"DOWN", KEY_DOWN},
    {"LEFT", KEY_LEFT},
    {"RIGHT", KEY_RIGHT},
    {"HOME", KEY_HOME},
    {"END", KEY_END},
    {"PAGEUP", KEY_PAGEUP},
    {"PAGEDOWN", KEY_PAGEDOWN},
    {"INSERT", KEY_INSERT},
    {"DELETE", KEY_DELETE},
    {"KPENTER", KEY_KPENTER},
    {"F1", KEY_F1},
    {"F2", KEY_F2},
    {"F3", KEY_F3},
    {"F4", KEY_F4},
    {"F5", KEY_F5},
    {"F6", KEY_F6},
    {"F7", KEY_F7},
    {"F8", KEY_F8},
    {"F9", KEY_F9},
    {"F10", KEY_F10},
    {"F11", KEY_F11},
    {"F12", KEY_F12},
};

/* "KEY_ENTER", "enter", "a", "5" or a number -> evdev code; 0 if unknown. */
static uint32_t key_by_name(json_object *k)
{
        if (json_object_is_type(k, json_type_int)) {
                int64_t v = json_object_get_int64(k);
                return v > 0 && v <= KEY_MAX ? (uint32_t)v : 0;
        }
        if (!json_object_is_type(k, json_type_string))
                return 0;
        const char *s = json_object_get_string(k);
        if (strncasecmp(s, "KEY_", 4) == 0)
                s += 4;
        for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++)
                if (strcasecmp(s, key_names[i].name) == 0)
                        return key_names[i].code;
        if (s[0] && !s[1]) {
                uint16_t code;
                bool shift;
                char c = s[0] >= 'A' && s[0] <= 'Z' ? (char)(s[0] + 32) : s[0];
                if (keymap_us_lookup((unsigned char)c, &code, &shift) && !shift)
                        return code;
        }
        return 0;
}

static int cmd_send_keys(void *opaque, struct control_client *client, json_object *req,
                         json_object *reply, const char **error, int *fd_out)
{
        (void)client, (void)fd_out;
        struct legacy_domain *d = opaque;
        json_object *keys = NULL, *text = NULL;
        json_object_object_get_ex(req, "keys", &keys);
        json_object_object_get_ex(req, "text", &text);
        if (!keys == !text) {
                *error = "send-keys: give either \"keys\" (a list of evdev names or codes) or "
                         "\"text\" (a string)";
                return -1;
        }
        int n = 0;
        if (keys) {
                if (!json_object_is_type(keys, json_type_array) ||
                    json_object_array_length(keys) > 1024) {
                        *error = "send-keys: \"keys\" must be a list of at most 1024 keys";
                        return -1;
                }
                size_t len = json_object_array_length(keys);
                for (size_t i = 0; i < len; i++) {
                        if (!key_by_name(json_object_array_get_idx(keys, i))) {
                                *error = "send-keys: unknown key name or code in \"keys\"";
                                return -1;
                        }
                }
                for (size_t i = 0; i < len; i++) {
                        uint32_t code = key_by_name(json_object_array_get_idx(keys, i));
                        legacy_key(d, code, true);
                        legacy_key(d, code, false);
                        n++;
                }
        } else {
                if (!json_object_is_type(text, json_type_string) ||
                    json_object_get_string_len(text) > 1024) {
                        *error = "send-keys: \"text\" must be a string of at most 1024 bytes";
                        return -1;
                }
                const char *s = json_object_get_string(text);
                uint16_t code;
                bool shift;
                for (const char *p = s; *p; p++) {
                        if (!keymap_us_lookup((unsigned char)*p, &code, &shift)) {
                                *error = "send-keys: text has a character the US layout cannot "
                                         "type";
                                return -1;
                        }
                }
                for (const char *p = s; *p; p++, n++) {
                        keymap_us_lookup((unsigned char)*p, &code, &shift);
                        if (shift)
                                legacy_key(d, KEY_LEFTSHIFT, true);
                        legacy_key(d, code, true);
                        legacy_key(d, code, false);
                        if (shift)
                                legacy_key(d, KEY_LEFTSHIFT, false);
                }
        }
        json_object_object_add(reply, "sent", json_object_new_int(n));
        return 0;
}

int legacy_register_send_keys(struct legacy_domain *d)
{
        return d->ctl ? control_register(d->ctl, "send-keys", cmd_send_keys, d) : 0;
}
