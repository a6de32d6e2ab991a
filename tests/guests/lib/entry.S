/* PVH entry (Xen's hvm_start_info boot ABI): the loader finds _start in the
 * XEN_ELFNOTE_PHYS32_ENTRY note and enters it in 32-bit flat protected mode,
 * paging off, EBX = hvm_start_info. Interrupts stay off: see guest.h. */
        .section .note.xen, "a"
        .balign 4
        .long 4                 /* name size: "Xen\0" */
        .long 4                 /* descriptor size */
        .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
        .asciz "Xen"
        .long _start

        .section .text.entry, "ax"
        .code32
        .globl _start
_start:
        cli
        mov $stack_top, %esp
        push %ebx
        call guest_start
1:      hlt
        jmp 1b

        .section .bss
        .balign 16
        .space 16384
stack_top:

        .section .note.GNU-stack, "", @progbits
