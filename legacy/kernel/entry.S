/* PVH entry of the legacy kernel: the VMM starts us in 32-bit flat protected
 * mode, paging off, interrupts off, EBX = hvm_start_info. We install our own
 * GDT (so selectors are known), an IDT whose exception handlers report a
 * crash by hypercall (they never return, so no iret is ever executed), and
 * call kmain(start_info). */

#ifndef TANDEM_ABI_VERSION
#define TANDEM_ABI_VERSION 1
#endif

/* Test builds leave the note out to check that tandem-vmm refuses them. */
#ifndef NO_TANDEM_NOTE
        .section .note.tandem, "a"
        .balign 4
        .long 7                 /* namesz: "Tandem\0" */
        .long 4                 /* descsz */
        .long 1                 /* type: Tandem PV ABI */
        .asciz "Tandem"
        .balign 4
        .long TANDEM_ABI_VERSION
#endif

        .section .note.xen, "a"
        .balign 4
        .long 4                 /* namesz: "Xen\0" */
        .long 4                 /* descsz */
        .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
        .asciz "Xen"
        .balign 4
        .long _start

        .section .text.entry, "ax"
        .code32
        .globl _start
_start:
        cli
        cld
        movl $stack_top, %esp
        lgdt gdt_desc
        ljmp $0x08, $1f
1:      movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %ss
        movw %ax, %fs
        movw %ax, %gs
        pushl %ebx
        call idt_setup
        call kmain
2:      hlt
        jmp 2b

/* Exception stubs: push a zero error code where the CPU does not, then the
 * vector, then jump to the C reporter with (vector, error, eip) on the stack. */
.macro EXC n, has_err
        .globl exc_stub_\n
exc_stub_\n:
        .if \has_err == 0
        pushl $0
        .endif
        pushl $\n
        jmp exc_common
.endm
        EXC 0,0
        EXC 1,0
        EXC 2,0
        EXC 3,0
        EXC 4,0
        EXC 5,0
        EXC 6,0
        EXC 7,0
        EXC 8,1
        EXC 9,0
        EXC 10,1
        EXC 11,1
        EXC 12,1
        EXC 13,1
        EXC 14,1
        EXC 15,0
        EXC 16,0
        EXC 17,1
        EXC 18,0
        EXC 19,0
        EXC 20,0
        EXC 21,1

exc_common:
        movl $stack_top, %eax   /* the faulting stack may be unusable */
        movl 0(%esp), %ebx      /* vector */
        movl 4(%esp), %ecx      /* error code */
        movl 8(%esp), %edx      /* eip */
        movl %esp, %esi
        movl %eax, %esp
        pushl %esi
        pushl %edx
        pushl %ecx
        pushl %ebx
        call exc_report
3:      hlt
        jmp 3b

        .section .rodata
        .balign 8
gdt:
        .quad 0
        .quad 0x00CF9A000000FFFF /* 0x08: code, flat 4 GiB */
        .quad 0x00CF92000000FFFF /* 0x10: data, flat 4 GiB */
gdt_end:
gdt_desc:
        .word gdt_end - gdt - 1
        .long gdt

        .section .bss
        .balign 16
        .globl stack_top
stack:
        .skip 65536
stack_top:

        .section .note.GNU-stack, "", @progbits
