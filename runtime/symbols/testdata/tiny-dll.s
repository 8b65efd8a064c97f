# The source of tiny.dll, the PE fixture of the symbols tests (see
# README.md). Functions are laid out at known offsets of .text: padding
# that no symbol names, two exported functions, a static one and a global
# one that is not exported.
	.text
pad:
	.space	32, 0xcc		# .text+0x00: named by nothing
	.globl	TinyAdd
	.def	TinyAdd; .scl 2; .type 32; .endef
TinyAdd:				# .text+0x20: exported
	lea	(%rcx,%rdx), %rax
	ret
	.space	14, 0xcc
	.def	tiny_static; .scl 3; .type 32; .endef
tiny_static:				# .text+0x33: COFF symbol only, static
	mov	%rcx, %rax
	imul	%rdx, %rax
	ret
	.space	8, 0xcc
	.globl	TinyMul
	.def	TinyMul; .scl 2; .type 32; .endef
TinyMul:				# .text+0x43: exported
	call	tiny_static
	ret
	.space	16, 0xcc
	.globl	tiny_internal
	.def	tiny_internal; .scl 2; .type 32; .endef
tiny_internal:				# .text+0x59: COFF symbol only, global
	xor	%eax, %eax
	ret
