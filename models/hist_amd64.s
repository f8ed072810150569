#include "textflag.h"

#define prefetchAhead 16

// func addRowsSSE2(hist *histBin, bins *uint8, cols int, gh *histBin, rows []int32, feats []int)
//
// for each i in rows: p := gh[i]; for each f in feats:
//     hist[f*256 + bins[i*cols+f]] += p   (a pair of float64: one ADDPD)
TEXT ·addRowsSSE2(SB), NOSPLIT, $0-80
	MOVQ hist+0(FP), DI
	MOVQ bins+8(FP), SI
	MOVQ cols+16(FP), R8
	MOVQ gh+24(FP), R9
	MOVQ rows_base+32(FP), R10
	MOVQ rows_len+40(FP), R11
	MOVQ feats_base+56(FP), R12
	MOVQ feats_len+64(FP), R13

rows:
	// Prefetch the row prefetchAhead rows on: a node's rows are scattered
	// over the matrix, and the hardware does not see where the next ones
	// are. Its bins may span two cache lines.
	CMPQ    R11, $prefetchAhead
	JLE     noprefetch
	MOVLQSX prefetchAhead*4(R10), AX
	MOVQ    AX, BX
	SHLQ    $4, BX
	PREFETCHT0 (R9)(BX*1)
	IMULQ   R8, AX
	LEAQ    (SI)(AX*1), AX
	PREFETCHT0 (AX)
	PREFETCHT0 -1(AX)(R8*1)

noprefetch:
	MOVLQSX (R10), AX      // i
	MOVQ    AX, BX
	SHLQ    $4, BX
	MOVUPD  (R9)(BX*1), X0 // gh[i]
	IMULQ   R8, AX
	LEAQ    (SI)(AX*1), DX // &bins[i*cols]
	XORQ    CX, CX

feats:
	MOVQ    (R12)(CX*8), AX // f
	MOVBQZX (DX)(AX*1), BX  // its bin
	SHLQ    $8, AX
	ADDQ    BX, AX
	SHLQ    $4, AX          // the byte offset of hist[f*256+bin]
	MOVUPD  (DI)(AX*1), X1
	ADDPD   X0, X1
	MOVUPD  X1, (DI)(AX*1)
	INCQ    CX
	CMPQ    CX, R13
	JLT     feats

	ADDQ $4, R10
	DECQ R11
	JNZ  rows
	RET
