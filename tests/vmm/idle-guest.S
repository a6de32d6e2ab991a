/* A PVH guest that parks its vCPU forever: the subject of the VMM memory-overhead benchmark. */
.section .note.pvh, "a"
.align 4
.long 4, 4, 18
.asciz "Xen"
.long _start
.text
.code32
.globl _start
_start:
  cli
1: hlt
  jmp 1b
