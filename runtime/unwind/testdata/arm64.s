// The arm64 fixture of runtime/unwind: main -> outer -> mid -> leaf, with
// the prologues GCC emits, pointer authentication in mid, a function
// without CFI that keeps a frame record (nocfi), and a realigned frame
// whose CFA is an expression (expr).
	.text
	.globl leaf
	.type leaf,%function
leaf:
	.cfi_startproc
	add x0, x0, #1
	ret
	.cfi_endproc

	.globl mid
	.type mid,%function
mid:
	.cfi_startproc
	paciasp
	.cfi_negate_ra_state
	stp x29, x30, [sp, #-32]!
	.cfi_def_cfa_offset 32
	.cfi_offset 29, -32
	.cfi_offset 30, -24
	mov x29, sp
	.cfi_def_cfa_register 29
	str x19, [sp, #16]
	.cfi_offset 19, -16
	bl leaf
	ldr x19, [sp, #16]
	ldp x29, x30, [sp], #32
	.cfi_restore 19
	.cfi_def_cfa 31, 0
	.cfi_restore 29
	.cfi_restore 30
	autiasp
	.cfi_negate_ra_state
	ret
	.cfi_endproc

	.globl outer
	.type outer,%function
outer:
	.cfi_startproc
	stp x29, x30, [sp, #-16]!
	.cfi_def_cfa_offset 16
	.cfi_offset 29, -16
	.cfi_offset 30, -8
	mov x29, sp
	bl mid
	bl nocfi
	ldp x29, x30, [sp], #16
	.cfi_restore 30
	.cfi_restore 29
	.cfi_def_cfa_offset 0
	ret
	.cfi_endproc

	// nocfi has no FDE: unwinders must use its frame record.
	.globl nocfi
	.type nocfi,%function
nocfi:
	stp x29, x30, [sp, #-16]!
	mov x29, sp
	bl leaf
	ldp x29, x30, [sp], #16
	ret

	.globl expr
	.type expr,%function
expr:
	.cfi_startproc
	stp x29, x30, [sp, #-16]!
	.cfi_def_cfa_offset 16
	.cfi_offset 29, -16
	.cfi_offset 30, -8
	mov x29, sp
	// CFA = x29 + 16, as an expression: DW_OP_breg29 16
	.cfi_escape 0x0f, 0x02, 0x8d, 0x10
	and sp, x0, #-64
	bl leaf
	mov sp, x29
	ldp x29, x30, [sp], #16
	ret
	.cfi_endproc

	.globl main
	.type main,%function
main:
	.cfi_startproc
	.cfi_undefined 30
	bl outer
	bl expr
	mov x8, #93
	svc #0
	.cfi_endproc
