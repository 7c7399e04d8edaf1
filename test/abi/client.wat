;; A wasm module that uses simdmax through its raw ABI (docs/ABI.md): it imports simdmax's functions and
;; its memory under the module name "simdmax", writes its inputs above simdmax's heapBase(), calls the
;; kernels and reads their outputs. Used by test/abi-wat.test.ts (from JS, both memory variants) and by
;; test/abi-spectest.test.ts (in WABT's C++ interpreter, no JS at all).
;;
;; Its memory layout, from base = heapBase() rounded up to 16 (byte offsets):
;;   +0   x       up to 16 float32          +144 gscale  3 float32
;;   +64  y       up to 16 float32          +160 loss    3 float64
;;   +128 target  3 int32                   +192 lse     3 float32 (sample4: samplingPrepare's results)
;;   +208 grad    9 float32                 +256 ws      the workspace, up to 512 bytes
;; (distillSeed: the student's logits at +0, the teacher's at +64, its loss at +160, its gradient at +208.)
;;   +1048576 the sampler's workspace, samplingWorkspaceBytes(4) bytes (memory grown for it; 1 MiB up,
;;            past what test/abi-spectest.test.ts writes above +1024)
(module
  (import "simdmax" "memory" (memory 1))
  (import "simdmax" "heapBase" (func $heapBase (result i32)))
  (import "simdmax" "workspaceBytes" (func $workspaceBytes (param i32 i32) (result i32)))
  (import "simdmax" "crossEntropyWorkspaceBytes" (func $crossEntropyWorkspaceBytes (param i32 i32) (result i32)))
  ;; (outer, dim, inner, x, y, T, flags, ws)
  (import "simdmax" "softmax" (func $softmax (param i32 i32 i32 i32 i32 f64 i32 i32)))
  (import "simdmax" "logSoftmax" (func $logSoftmax (param i32 i32 i32 i32 i32 f64 i32 i32)))
  ;; (outer, dim, inner, x, out, T, ws)
  (import "simdmax" "logSumExp" (func $logSumExp (param i32 i32 i32 i32 i32 f64 i32)))
  ;; (outer, dim, inner, y, dy, dx, T, ws)
  (import "simdmax" "softmaxBackward" (func $softmaxBackward (param i32 i32 i32 i32 i32 i32 f64 i32 i32)))
  ;; (outer, dim, inner, x, target, flags, ignoreIndex, w, W, eps, T, zLoss, loss, lse, grad, gscale, ws)
  (import "simdmax" "crossEntropy"
    (func $crossEntropy (param i32 i32 i32 i32 i32 i32 i32 i32 f64 f64 f64 f64 i32 i32 i32 i32 i32)))
  (import "simdmax" "distillWorkspaceBytes" (func $distillWorkspaceBytes (param i32 i32) (result i32)))
  ;; (outer, dim, inner, student, teacher, flags, beta, T, loss, terms, termScale, grad, gradScale,
  ;;  gradOutput, target, ignoreIndex, w, W, eps, hardLoss, hardScale, ws)
  (import "simdmax" "distill"
    (func $distill (param i32 i32 i32 i32 i32 i32 f64 f64 i32 i32 f64 i32 f64 i32 i32 i32 i32 f64 f64 i32 f64 i32)))
  ;; the sampler: (n) → bytes; (n, x, y, dtype, flags, out, ws) → check; (n, y, topK, minKeep, ws);
  ;; (n, y, u, logprob, ws) → token
  (import "simdmax" "samplingWorkspaceBytes" (func $samplingWorkspaceBytes (param i32) (result i32)))
  (import "simdmax" "samplingPrepare" (func $samplingPrepare (param i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "simdmax" "samplingTopK" (func $samplingTopK (param i32 i32 i32 i32 i32)))
  (import "simdmax" "samplingDraw" (func $samplingDraw (param i32 i32 f64 i32 i32) (result i32)))

  (func $base (result i32)
    (i32.and (i32.add (call $heapBase) (i32.const 15)) (i32.const -16)))

  ;; Makes sure [base, base + 1024) is inside memory: the host of simdmax may grow the memory.
  (func $reserve (result i32)
    (local $need i32)
    (local.set $need (i32.add (call $base) (i32.const 1024)))
    (if (i32.gt_u (local.get $need) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $need) (i32.shl (memory.size) (i32.const 16))) (i32.const 65535)) (i32.const 16))))))
    (call $base))

  ;; Makes sure [base, base + 1 MiB + bytes) is inside memory.
  (func $reserveMore (param $bytes i32) (result i32)
    (local $need i32)
    (local.set $need (i32.add (call $base) (i32.add (i32.const 1048576) (local.get $bytes))))
    (if (i32.gt_u (local.get $need) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.shr_u (i32.add (i32.sub (local.get $need) (i32.shl (memory.size) (i32.const 16))) (i32.const 65535)) (i32.const 16))))))
    (call $base))

  ;; A token drawn with u from logits [0, 1, 2, 3] after topK 2 (tokens 2 and 3 stay); its
  ;; log-probability goes to base + 160 (float64).
  (func $sample4 (export "sample4") (param $u f64) (result i32)
    (local $b i32)
    (local.set $b (call $reserveMore (call $samplingWorkspaceBytes (i32.const 4))))
    (call $put3 (local.get $b) (f32.const 0) (f32.const 1) (f32.const 2))
    (f32.store offset=12 (local.get $b) (f32.const 3))
    ;; loaded and checked (flags 3: write the scores, and the logsumexp), its max, count, logsumexp at +192
    (if (i32.ne (call $samplingPrepare (i32.const 4) (local.get $b) (i32.add (local.get $b) (i32.const 64)) (i32.const 0)
          (i32.const 3) (i32.add (local.get $b) (i32.const 192)) (i32.add (local.get $b) (i32.const 1048576))) (i32.const -1))
      (then (return (i32.const -1))))
    (call $samplingTopK (i32.const 4) (i32.add (local.get $b) (i32.const 64)) (i32.const 2) (i32.const 1) (i32.add (local.get $b) (i32.const 1048576)))
    (call $samplingDraw (i32.const 4) (i32.add (local.get $b) (i32.const 64)) (local.get $u) (i32.add (local.get $b) (i32.const 160))
      (i32.add (local.get $b) (i32.const 1048576))))

  (func $put3 (param $p i32) (param $a f32) (param $b f32) (param $c f32)
    (f32.store (local.get $p) (local.get $a))
    (f32.store offset=4 (local.get $p) (local.get $b))
    (f32.store offset=8 (local.get $p) (local.get $c)))

  ;; The cross-entropy seed's logits [[2, 0.5, 1], [0.2, 1.5, 0.3], [1, 2, 0.1]] at base + 0.
  (func $putLogits (param $b i32)
    (call $put3 (local.get $b) (f32.const 2) (f32.const 0.5) (f32.const 1))
    (call $put3 (i32.add (local.get $b) (i32.const 12)) (f32.const 0.2) (f32.const 1.5) (f32.const 0.3))
    (call $put3 (i32.add (local.get $b) (i32.const 24)) (f32.const 1) (f32.const 2) (f32.const 0.1)))

  ;; softmax([1, 2, 3] / T), into y.
  (func $softmax3 (export "softmax3") (param $T f64) (result f32 f32 f32)
    (local $b i32)
    (local.set $b (call $reserve))
    (call $put3 (local.get $b) (f32.const 1) (f32.const 2) (f32.const 3))
    (call $softmax (i32.const 1) (i32.const 3) (i32.const 1) (local.get $b) (i32.add (local.get $b) (i32.const 64))
      (local.get $T) (i32.const 0) (i32.add (local.get $b) (i32.const 256)))
    (f32.load offset=64 (local.get $b))
    (f32.load offset=68 (local.get $b))
    (f32.load offset=72 (local.get $b)))

  ;; softmax of a fully masked row [−Inf, −Inf, −Inf] with `flags`, in place.
  (func $masked3 (export "masked3") (param $flags i32) (result f32 f32 f32)
    (local $b i32)
    (local.set $b (call $reserve))
    (call $put3 (local.get $b) (f32.const -inf) (f32.const -inf) (f32.const -inf))
    (call $softmax (i32.const 1) (i32.const 3) (i32.const 1) (local.get $b) (local.get $b)
      (f64.const 1) (local.get $flags) (i32.add (local.get $b) (i32.const 256)))
    (f32.load (local.get $b))
    (f32.load offset=4 (local.get $b))
    (f32.load offset=8 (local.get $b)))

  ;; logsumexp([1, 2, 3]).
  (func $logSumExp3 (export "logSumExp3") (result f32)
    (local $b i32)
    (local.set $b (call $reserve))
    (call $put3 (local.get $b) (f32.const 1) (f32.const 2) (f32.const 3))
    (call $logSumExp (i32.const 1) (i32.const 3) (i32.const 1) (local.get $b) (i32.add (local.get $b) (i32.const 64))
      (f64.const 1) (i32.add (local.get $b) (i32.const 256)))
    (f32.load offset=64 (local.get $b)))

  ;; Element $i of logSoftmax of the 3×3 seed logits over the last axis.
  (func $logSoftmax3x3 (export "logSoftmax3x3") (param $i i32) (result f32)
    (local $b i32)
    (local.set $b (call $reserve))
    (call $putLogits (local.get $b))
    (call $logSoftmax (i32.const 3) (i32.const 3) (i32.const 1) (local.get $b) (i32.add (local.get $b) (i32.const 64))
      (f64.const 1) (i32.const 0) (i32.add (local.get $b) (i32.const 256)))
    (f32.load offset=64 (i32.add (local.get $b) (i32.shl (local.get $i) (i32.const 2)))))

  ;; dx = softmaxBackward(y = softmax([1, 2, 3]), dy = [1, 0, 0]); dx[0] = y0·(1 − y0).
  (func $softmaxBackward3 (export "softmaxBackward3") (result f32 f32 f32)
    (local $b i32)
    (drop (drop (drop (call $softmax3 (f64.const 1))))) ;; y at base + 64
    (local.set $b (call $base))
    (call $put3 (local.get $b) (f32.const 1) (f32.const 0) (f32.const 0)) ;; dy at base + 0
    (call $softmaxBackward (i32.const 1) (i32.const 3) (i32.const 1) (i32.add (local.get $b) (i32.const 64)) (local.get $b)
      (i32.add (local.get $b) (i32.const 208)) (f64.const 1) (i32.const 0) (i32.add (local.get $b) (i32.const 256)))
    (f32.load offset=208 (local.get $b))
    (f32.load offset=212 (local.get $b))
    (f32.load offset=216 (local.get $b)))

  ;; The mean cross-entropy of the seed (targets [0, 1, 1]) with its gradient (gscale 1/3 each: the
  ;; mean's) into grad and the logsumexps into lse. Returns the mean of the three float64 losses.
  (func $crossEntropySeed (export "crossEntropySeed") (result f64)
    (local $b i32)
    (local.set $b (call $reserve))
    (call $putLogits (local.get $b))
    (i32.store offset=128 (local.get $b) (i32.const 0))
    (i32.store offset=132 (local.get $b) (i32.const 1))
    (i32.store offset=136 (local.get $b) (i32.const 1))
    (call $put3 (i32.add (local.get $b) (i32.const 144)) (f32.const 0x1.555556p-2) (f32.const 0x1.555556p-2) (f32.const 0x1.555556p-2))
    (call $crossEntropy
      (i32.const 3) (i32.const 3) (i32.const 1)      ;; outer, dim (classes), inner
      (local.get $b) (i32.add (local.get $b) (i32.const 128)) ;; x, target
      (i32.const 0) (i32.const -100)                 ;; flags (index targets, no weights), ignoreIndex
      (i32.const 0) (f64.const 3)                    ;; w (none), W = dim without weights
      (f64.const 0) (f64.const 1) (f64.const 0)      ;; eps, T, zLoss
      (i32.add (local.get $b) (i32.const 160))       ;; loss (float64 per position)
      (i32.add (local.get $b) (i32.const 192))       ;; lse
      (i32.add (local.get $b) (i32.const 208))       ;; grad
      (i32.add (local.get $b) (i32.const 144))       ;; gscale
      (i32.add (local.get $b) (i32.const 256)))      ;; ws
    (f64.div
      (f64.add (f64.add (f64.load offset=160 (local.get $b)) (f64.load offset=168 (local.get $b))) (f64.load offset=176 (local.get $b)))
      (f64.const 3)))

  ;; KL(teacher ‖ student) from logits: the student's [0, 0] (q = [0.5, 0.5]) at x, the teacher's
  ;; [ln 9, 0] (p = [0.9, 0.1]) at y; the loss into loss[0], the gradient q − p (gradScale 1) into grad.
  (func $distillSeed (export "distillSeed") (result f64)
    (local $b i32)
    (local.set $b (call $reserve))
    (f32.store (local.get $b) (f32.const 0))
    (f32.store offset=4 (local.get $b) (f32.const 0))
    (f32.store offset=64 (local.get $b) (f32.const 0x1.193ea8p+1)) ;; ln 9 = 2.1972246
    (f32.store offset=68 (local.get $b) (f32.const 0))
    (call $distill
      (i32.const 1) (i32.const 2) (i32.const 1)      ;; outer, dim (classes), inner
      (local.get $b) (i32.add (local.get $b) (i32.const 64)) ;; student, teacher
      (i32.const 0) (f64.const 0) (f64.const 1)      ;; flags, beta (KL), T
      (i32.add (local.get $b) (i32.const 160))       ;; loss (float64 per position)
      (i32.const 0) (f64.const 0)                    ;; no terms
      (i32.add (local.get $b) (i32.const 208)) (f64.const 1) (i32.const 0) ;; grad, gradScale, no gradOutput
      (i32.const 0) (i32.const -100) (i32.const 0) (f64.const 2) (f64.const 0) ;; no hard part
      (i32.const 0) (f64.const 0)
      (i32.add (local.get $b) (i32.const 256)))      ;; ws
    (f64.load offset=160 (local.get $b)))

  ;; After crossEntropySeed or distillSeed: grad[i] and lse[i].
  (func $grad (export "grad") (param $i i32) (result f32)
    (f32.load offset=208 (i32.add (call $base) (i32.shl (local.get $i) (i32.const 2)))))
  (func $lse (export "lse") (param $i i32) (result f32)
    (f32.load offset=192 (i32.add (call $base) (i32.shl (local.get $i) (i32.const 2)))))

  (func $near (param $got f32) (param $want f32) (param $tol f32) (result i32)
    (f32.le (f32.abs (f32.sub (local.get $got) (local.get $want))) (local.get $tol)))
  (func $near64 (param $got f64) (param $want f64) (param $tol f64) (result i32)
    (f64.le (f64.abs (f64.sub (local.get $got) (local.get $want))) (local.get $tol)))
  (func $near3 (param $a f32) (param $b f32) (param $c f32) (param $wa f32) (param $wb f32) (param $wc f32) (param $tol f32) (result i32)
    (i32.and (i32.and
      (call $near (local.get $a) (local.get $wa) (local.get $tol))
      (call $near (local.get $b) (local.get $wb) (local.get $tol)))
      (call $near (local.get $c) (local.get $wc) (local.get $tol))))

  ;; Every check against the seed numbers (PyTorch's, to their printed digits): 0 when all pass,
  ;; else the number of the first that failed.
  (func (export "selfCheck") (result i32)
    (local $a f32) (local $b f32) (local $c f32) (local $i i32)
    ;; 1: the workspaces fit the 512 bytes at base + 256
    (if (i32.or (i32.or (i32.gt_u (call $workspaceBytes (i32.const 3) (i32.const 1)) (i32.const 512))
                (i32.gt_u (call $crossEntropyWorkspaceBytes (i32.const 3) (i32.const 1)) (i32.const 512)))
                (i32.gt_u (call $distillWorkspaceBytes (i32.const 2) (i32.const 1)) (i32.const 512)))
      (then (return (i32.const 1))))
    ;; 2: softmax([1, 2, 3])
    (if (i32.eqz (call $near3 (call $softmax3 (f64.const 1))
          (f32.const 0.09003057) (f32.const 0.24472847) (f32.const 0.66524096) (f32.const 1.05e-7)))
      (then (return (i32.const 2))))
    ;; 3: temperature 2: softmax([1, 2, 3] / 2) = softmax([0.5, 1, 1.5])
    (if (i32.eqz (call $near3 (call $softmax3 (f64.const 2))
          (f32.const 0.18632372) (f32.const 0.30719589) (f32.const 0.50648039) (f32.const 1.05e-7)))
      (then (return (i32.const 3))))
    ;; 4: logsumexp([1, 2, 3])
    (if (i32.eqz (call $near (call $logSumExp3) (f32.const 3.40760596) (f32.const 5e-7)))
      (then (return (i32.const 4))))
    ;; 5: logSoftmax of the 3×3 seed, to 4 decimals
    (if (i32.eqz (i32.and (i32.and
          (call $near (call $logSoftmax3x3 (i32.const 0)) (f32.const -0.4644) (f32.const 5.1e-5))
          (call $near (call $logSoftmax3x3 (i32.const 4)) (f32.const -0.4534) (f32.const 5.1e-5)))
          (call $near (call $logSoftmax3x3 (i32.const 8)) (f32.const -2.317) (f32.const 5.1e-4))))
      (then (return (i32.const 5))))
    ;; 6: softmaxBackward: dx = y ⊙ (dy − y0) = [y0(1 − y0), −y0·y1, −y0·y2]
    (if (i32.eqz (call $near3 (call $softmaxBackward3)
          (f32.const 0.08192506) (f32.const -0.02203304) (f32.const -0.05989202) (f32.const 2e-7)))
      (then (return (i32.const 6))))
    ;; 7: a fully masked row: NaN without flags, 0 with flags bit 0
    (call $masked3 (i32.const 0))
    (local.set $c) (local.set $b) (local.set $a)
    (if (i32.or (i32.or (f32.eq (local.get $a) (local.get $a)) (f32.eq (local.get $b) (local.get $b))) (f32.eq (local.get $c) (local.get $c)))
      (then (return (i32.const 7))))
    (if (i32.eqz (call $near3 (call $masked3 (i32.const 1)) (f32.const 0) (f32.const 0) (f32.const 0) (f32.const 0)))
      (then (return (i32.const 7))))
    ;; 8: the mean cross-entropy of the seed, 0.4449
    (if (i32.eqz (call $near64 (call $crossEntropySeed) (f64.const 0.4449) (f64.const 5.1e-5)))
      (then (return (i32.const 8))))
    ;; 9: its gradient: each row sums to 0; grad[0] = (p00 − 1)/3; lse[0] = logsumexp([2, 0.5, 1])
    (local.set $i (i32.const 0))
    (block $done
      (loop $rows
        (br_if $done (i32.eq (local.get $i) (i32.const 3)))
        (if (i32.eqz (call $near
              (f32.add (f32.add (call $grad (i32.mul (local.get $i) (i32.const 3))) (call $grad (i32.add (i32.mul (local.get $i) (i32.const 3)) (i32.const 1))))
                (call $grad (i32.add (i32.mul (local.get $i) (i32.const 3)) (i32.const 2))))
              (f32.const 0) (f32.const 1e-7)))
          (then (return (i32.const 9))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rows)))
    (if (i32.eqz (i32.and
          (call $near (call $grad (i32.const 0)) (f32.const -0.12382276) (f32.const 1e-7))
          (call $near (call $lse (i32.const 0)) (f32.const 2.46436878) (f32.const 5e-7))))
      (then (return (i32.const 9))))
    ;; 10: KL([0.9, 0.1] ‖ [0.5, 0.5]) = 0.9·ln 1.8 + 0.1·ln 0.2 = 0.3680642, gradient q − p = [−0.4, 0.4]
    (if (i32.eqz (i32.and (i32.and
          (call $near64 (call $distillSeed) (f64.const 0.3680642) (f64.const 1e-6))
          (call $near (call $grad (i32.const 0)) (f32.const -0.4) (f32.const 1e-6)))
          (call $near (call $grad (i32.const 1)) (f32.const 0.4) (f32.const 1e-6))))
      (then (return (i32.const 10))))
    ;; 11: the sampler: u = 0 draws token 2, u = 0.99 token 3 (p = e³/(e² + e³) = 0.7311), its
    ;; log-probability −0.31326; tokens 0 and 1 removed (−Infinity)
    (if (i32.ne (call $sample4 (f64.const 0)) (i32.const 2)) (then (return (i32.const 11))))
    (if (i32.ne (call $sample4 (f64.const 0.99)) (i32.const 3)) (then (return (i32.const 11))))
    (if (i32.eqz (call $near64 (f64.load offset=160 (call $base)) (f64.const -0.31326169) (f64.const 1e-7)))
      (then (return (i32.const 11))))
    (if (f32.ne (f32.load offset=68 (call $base)) (f32.const -inf)) (then (return (i32.const 11))))
    ;; samplingPrepare's results: max 3, 4 finite logits, logsumexp(0, 1, 2, 3) = 3.4401897
    (if (f32.ne (f32.load offset=192 (call $base)) (f32.const 3)) (then (return (i32.const 11))))
    (if (i32.ne (i32.load offset=196 (call $base)) (i32.const 4)) (then (return (i32.const 11))))
    (if (i32.eqz (call $near64 (f64.promote_f32 (f32.load offset=200 (call $base))) (f64.const 3.4401897) (f64.const 1e-6)))
      (then (return (i32.const 11))))
    (i32.const 0))
)
