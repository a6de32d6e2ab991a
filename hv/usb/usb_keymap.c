/* Linux evdev key codes (the display's "key" command uses them) to HID
 * keyboard page usages (HID Usage Tables 1.4, section 10), for injecting
 * keys into the emulated USB keyboard. */
#include <stdint.h>

#include "usb_device.h"

/* Index: evdev code 0..127; 0 means no usage. */
static const uint8_t evdev_to_hid[128] = {
    [1] = 0x29, /* Esc */
    [2] = 0x1e,   [3] = 0x1f,   [4] = 0x20,   [5] = 0x21,
    [6] = 0x22, /* 1..5 */
    [7] = 0x23,   [8] = 0x24,   [9] = 0x25,   [10] = 0x26,
    [11] = 0x27,                                           /* 6..0 */
    [12] = 0x2d,  [13] = 0x2e,  [14] = 0x2a,  [15] = 0x2b, /* - = BS Tab */
    [16] = 0x14,  [17] = 0x1a,  [18] = 0x08,  [19] = 0x15,
    [20] = 0x17, /* qwert */
    [21] = 0x1c,  [22] = 0x18,  [23] = 0x0c,  [24] = 0x12,
    [25] = 0x13,                                           /* yuiop */
    [26] = 0x2f,  [27] = 0x30,  [28] = 0x28,  [29] = 0xe0, /* [ ] Enter LCtrl */
    [30] = 0x04,  [31] = 0x16,  [32] = 0x07,  [33] = 0x09,
    [34] = 0x0a,                                           /* asdfg */
    [35] = 0x0b,  [36] = 0x0d,  [37] = 0x0e,  [38] = 0x0f, /* hjkl */
    [39] = 0x33,  [40] = 0x34,  [41] = 0x35,  [42] = 0xe1,
    [43] = 0x31, /* ; ' ` LShift \ */
    [44] = 0x1d,  [45] = 0x1b,  [46] = 0x06,  [47] = 0x19,
    [48] = 0x05, /* zxcvb */
    [49] = 0x11,  [50] = 0x10,  [51] = 0x36,  [52] = 0x37,
    [53] = 0x38, /* n m , . / */
    [54] = 0xe5,  [55] = 0x55,  [56] = 0xe2,  [57] = 0x2c,
    [58] = 0x39, /* RShift KP* LAlt Space Caps */
    [59] = 0x3a,  [60] = 0x3b,  [61] = 0x3c,  [62] = 0x3d,
    [63] = 0x3e, /* F1..F5 */
    [64] = 0x3f,  [65] = 0x40,  [66] = 0x41,  [67] = 0x42,
    [68] = 0x43,                                           /* F6..F10 */
    [69] = 0x53,  [70] = 0x47,                             /* NumLock ScrollLock */
    [71] = 0x5f,  [72] = 0x60,  [73] = 0x61,  [74] = 0x56, /* KP7 KP8 KP9 KP- */
    [75] = 0x5c,  [76] = 0x5d,  [77] = 0x5e,  [78] = 0x57, /* KP4 KP5 KP6 KP+ */
    [79] = 0x59,  [80] = 0x5a,  [81] = 0x5b,  [82] = 0x62,
    [83] = 0x63,                             /* KP1 KP2 KP3 KP0 KP. */
    [86] = 0x64,  [87] = 0x44,  [88] = 0x45, /* 102nd F11 F12 */
    [96] = 0x58,  [97] = 0xe4,  [98] = 0x54,  [99] = 0x46,
    [100] = 0xe6,                                           /* KPEnter RCtrl KP/ SysRq RAlt */
    [102] = 0x4a, [103] = 0x52, [104] = 0x4b, [105] = 0x50, /* Home Up PgUp Left */
    [106] = 0x4f, [107] = 0x4d, [108] = 0x51, [109] = 0x4e, /* Right End Down PgDn */
    [110] = 0x49, [111] = 0x4c, [119] = 0x48,               /* Insert Delete Pause */
    [125] = 0xe3, [126] = 0xe7, [127] = 0x65,               /* LMeta RMeta Compose */
};

uint8_t usb_hid_usage_of_evdev(unsigned code)
{
        return code < sizeof(evdev_to_hid) ? evdev_to_hid[code] : 0;
}
