#include "keymap_us.h"

#include <linux/input-event-codes.h>

/* Unshifted and shifted characters of each key, row by row. */
struct key_chars {
        uint16_t code;
        char plain, shifted;
};

static const struct key_chars us_keys[] = {
    {KEY_GRAVE, '`', '~'},       {KEY_1, '1', '!'},          {KEY_2, '2', '@'},
    {KEY_3, '3', '#'},           {KEY_4, '4', '$'},          {KEY_5, '5', '%'},
    {KEY_6, '6', '^'},           {KEY_7, '7', '&'},          {KEY_8, '8', '*'},
    {KEY_9, '9', '('},           {KEY_0, '0', ')'},          {KEY_MINUS, '-', '_'},
    {KEY_EQUAL, '=', '+'},       {KEY_Q, 'q', 'Q'},          {KEY_W, 'w', 'W'},
    {KEY_E, 'e', 'E'},           {KEY_R, 'r', 'R'},          {KEY_T, 't', 'T'},
    {KEY_Y, 'y', 'Y'},           {KEY_U, 'u', 'U'},          {KEY_I, 'i', 'I'},
    {KEY_O, 'o', 'O'},           {KEY_P, 'p', 'P'},          {KEY_LEFTBRACE, '[', '{'},
    {KEY_RIGHTBRACE, ']', '}'},  {KEY_BACKSLASH, '\\', '|'}, {KEY_A, 'a', 'A'},
    {KEY_S, 's', 'S'},           {KEY_D, 'd', 'D'},          {KEY_F, 'f', 'F'},
    {KEY_G, 'g', 'G'},           {KEY_H, 'h', 'H'},          {KEY_J, 'j', 'J'},
    {KEY_K, 'k', 'K'},           {KEY_L, 'l', 'L'},          {KEY_SEMICOLON, ';', ':'},
    {KEY_APOSTROPHE, '\'', '"'}, {KEY_Z, 'z', 'Z'},          {KEY_X, 'x', 'X'},
    {KEY_C, 'c', 'C'},           {KEY_V, 'v', 'V'},          {KEY_B, 'b', 'B'},
    {KEY_N, 'n', 'N'},           {KEY_M, 'm', 'M'},          {KEY_COMMA, ',', '<'},
    {KEY_DOT, '.', '>'},         {KEY_SLASH, '/', '?'},      {KEY_SPACE, ' ', ' '},
    {KEY_ENTER, '\n', '\r'},     {KEY_TAB, '\t', '\t'},      {KEY_BACKSPACE, '\b', '\b'},
    {KEY_ESC, 0x1B, 0x1B},
};

bool keymap_us_lookup(uint32_t c, uint16_t *code, bool *shift)
{
        if (c >= 0x80 || c == 0)
                return false;
        for (unsigned i = 0; i < sizeof(us_keys) / sizeof(us_keys[0]); i++) {
                if (us_keys[i].plain == (char)c) {
                        *code = us_keys[i].code;
                        *shift = false;
                        return true;
                }
                if (us_keys[i].shifted == (char)c) {
                        *code = us_keys[i].code;
                        *shift = us_keys[i].code != KEY_ENTER;
                        return true;
                }
        }
        return false;
}
