#include "kbd.h"

#include "../../pvdrivers/legacy/include/tandem_pv.h"

/* Set-1 make codes 0x00-0x39, US layout. 0 = not a character key. */
static const char plain[0x3A] = {
    0,    27,  '1', '2', '3', '4', '5', '6', '7', '8', '9',  '0', '-', '=',  '\b',
    '\t', 'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p',  '[', ']', '\n', 0,
    'a',  's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`', 0,   '\\', 'z',
    'x',  'c', 'v', 'b', 'n', 'm', ',', '.', '/', 0,   '*',  0,   ' ',
};
static const char shifted[0x3A] = {
    0,    27,  '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+',  '\b',
    '\t', 'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}', '\n', 0,
    'A',  'S', 'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~', 0,   '|',  'Z',
    'X',  'C', 'V', 'B', 'N', 'M', '<', '>', '?', 0,   '*', 0,   ' ',
};
/* Keypad 0x47-0x53 with num lock on. */
static const char keypad[13] = {'7', '8', '9', '-', '4', '5', '6', '+', '1', '2', '3', '0', '.'};

static bool lshift, rshift, lctrl, rctrl, lalt, ralt, caps, numlock = true;

bool kbd_translate(uint16_t entry, struct key *out)
{
        uint8_t sc = (uint8_t)(entry & 0x7F);
        bool ext = entry & TPV_KBD_EXTENDED;
        bool down = !(entry & TPV_KBD_RELEASE);
        switch (sc | (ext ? 0x100 : 0)) {
        case 0x2A:
                lshift = down;
                return false;
        case 0x36:
                rshift = down;
                return false;
        case 0x1D:
                lctrl = down;
                return false;
        case 0x11D:
                rctrl = down;
                return false;
        case 0x38:
                lalt = down;
                return false;
        case 0x138:
                ralt = down;
                return false;
        case 0x3A:
                if (down)
                        caps = !caps;
                return false;
        case 0x45:
                if (down)
                        numlock = !numlock;
                return false;
        default:
                break;
        }
        if (!down)
                return false;
        bool shift = lshift || rshift;
        *out = (struct key){.code = K_NONE,
                            .ch = 0,
                            .scancode = sc,
                            .mods = (uint8_t)((shift ? KMOD_SHIFT : 0) |
                                              (lctrl || rctrl ? KMOD_CTRL : 0) |
                                              (lalt || ralt ? KMOD_ALT : 0))};
        if (ext) {
                switch (sc) {
                case 0x1C:
                        out->code = K_ENTER;
                        break;
                case 0x48:
                        out->code = K_UP;
                        break;
                case 0x50:
                        out->code = K_DOWN;
                        break;
                case 0x4B:
                        out->code = K_LEFT;
                        break;
                case 0x4D:
                        out->code = K_RIGHT;
                        break;
                case 0x53:
                        out->code = K_DELETE;
                        break;
                case 0x47:
                        out->code = K_HOME;
                        break;
                case 0x4F:
                        out->code = K_END;
                        break;
                case 0x35:
                        out->code = K_CHAR;
                        out->ch = '/';
                        break;
                default:
                        return false;
                }
                return true;
        }
        if (sc >= 0x3B && sc <= 0x44) {
                out->code = (enum key_code)(K_F1 + (sc - 0x3B));
                return true;
        }
        if (sc == 0x57 || sc == 0x58) {
                out->code = (enum key_code)(K_F1 + 10 + (sc - 0x57));
                return true;
        }
        if (sc >= 0x47 && sc <= 0x53) {
                if (!numlock)
                        return false;
                out->code = K_CHAR;
                out->ch = keypad[sc - 0x47];
                return true;
        }
        if (sc >= sizeof(plain) || !plain[sc])
                return false;
        char ch = shift ? shifted[sc] : plain[sc];
        if (caps && ch >= 'a' && ch <= 'z')
                ch = (char)(ch - 32);
        else if (caps && ch >= 'A' && ch <= 'Z')
                ch = (char)(ch + 32);
        switch (ch) {
        case '\n':
                out->code = K_ENTER;
                break;
        case '\b':
                out->code = K_BACKSPACE;
                break;
        case '\t':
                out->code = K_TAB;
                break;
        case 27:
                out->code = K_ESC;
                break;
        default:
                out->code = K_CHAR;
                out->ch = ch;
                break;
        }
        return true;
}
