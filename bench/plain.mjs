// Plain-JS baselines over [rows, n] float32 data, written the way a careful JS programmer would:
// typed arrays, one pass per step, Math.exp, no allocation; and, at the end, naive ones as usually written.

/** The largest of x[o], …, x[o + n − 1]. */
function rowMax(x, o, n) {
  let m = -Infinity;
  for (let j = o; j < o + n; j++) if (x[j] > m) m = x[j];
  return m;
}

/** Σ exp(x[j] − m) over the row at o, each exp also written to y[j] when y is given. */
function rowExpSum(x, y, o, n, m) {
  let s = 0;
  if (y) {
    for (let j = o; j < o + n; j++) {
      const e = Math.exp(x[j] - m);
      y[j] = e;
      s += e;
    }
  } else for (let j = o; j < o + n; j++) s += Math.exp(x[j] - m);
  return s;
}

/** y[j] *= f over the row at o. */
function rowScale(y, o, n, f) {
  for (let j = o; j < o + n; j++) y[j] *= f;
}

/** Softmax of each row of x into y: max pass, exp-and-sum pass, scale pass. */
export function softmaxRows(x, y, rows, n) {
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    const m = rowMax(x, o, n);
    rowScale(y, o, n, 1 / rowExpSum(x, y, o, n, m));
  }
}

/** Log-softmax of each row of x into y. */
export function logSoftmaxRows(x, y, rows, n) {
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    const m = rowMax(x, o, n);
    const c = m + Math.log(rowExpSum(x, undefined, o, n, m));
    for (let j = o; j < o + n; j++) y[j] = x[j] - c;
  }
}

/** logsumexp of each row of x into out[rows]. */
export function logSumExpRows(x, out, rows, n) {
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    const m = rowMax(x, o, n);
    out[r] = m + Math.log(rowExpSum(x, undefined, o, n, m));
  }
}

/** Softmax backward of each row: dx = y·(dy − Σ y·dy). */
export function softmaxBackwardRows(y, dy, dx, rows, n) {
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    let g = 0;
    for (let j = o; j < o + n; j++) g += y[j] * dy[j];
    for (let j = o; j < o + n; j++) dx[j] = y[j] * (dy[j] - g);
  }
}

/** Mean cross-entropy of rows of logits against class indices. */
export function crossEntropyRows(x, target, rows, n) {
  let total = 0;
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    const m = rowMax(x, o, n);
    total += Math.log(rowExpSum(x, undefined, o, n, m)) + m - x[o + target[r]];
  }
  return total / rows;
}

/** Mean cross-entropy and its gradient (softmax − one-hot) / rows, into grad: one exp per logit, kept
 *  in grad and then scaled. */
export function crossEntropyWithGradRows(x, target, grad, rows, n) {
  let total = 0;
  const g = 1 / rows;
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    const m = rowMax(x, o, n);
    const s = rowExpSum(x, grad, o, n, m);
    total += Math.log(s) + m - x[o + target[r]];
    rowScale(grad, o, n, g / s);
    grad[o + target[r]] -= g;
  }
  return total / rows;
}

// Naive baselines: softmax as it is usually written in JS (per row, an Array, reduce and map with a
// closure, a new array at every step, log of the softmax for the loss). Not Math.max(...row): spreading
// a row into arguments throws RangeError ("Maximum call stack size exceeded") from about 125,000
// elements in Node 20, so that form cannot even run the 8×128256 shape. Each returns new arrays.

const rowOf = (x, r, n) => Array.from(x.subarray(r * n, r * n + n));

function softmaxRowNaive(row) {
  const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
  const exps = row.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Softmax of each row, naively; returns a new Float32Array. */
export function softmaxNaive(x, rows, n) {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) y.set(softmaxRowNaive(rowOf(x, r, n)), r * n);
  return y;
}

/** Log-softmax of each row, naively (the log of the sum of exps, not of the softmax). */
export function logSoftmaxNaive(x, rows, n) {
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    const row = rowOf(x, r, n);
    const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
    const lse = max + Math.log(row.map((v) => Math.exp(v - max)).reduce((a, b) => a + b, 0));
    y.set(
      row.map((v) => v - lse),
      r * n,
    );
  }
  return y;
}

/** Mean cross-entropy, naively: −log of the softmax at the target, averaged. */
export function crossEntropyNaive(x, target, rows, n) {
  const losses = [];
  for (let r = 0; r < rows; r++) losses.push(-Math.log(softmaxRowNaive(rowOf(x, r, n))[target[r]]));
  return losses.reduce((a, b) => a + b, 0) / rows;
}

/** Mean cross-entropy and its gradient (softmax − one-hot) / rows, naively; returns { loss, grad }. */
export function crossEntropyWithGradNaive(x, target, rows, n) {
  const grad = new Float32Array(rows * n);
  const losses = [];
  for (let r = 0; r < rows; r++) {
    const p = softmaxRowNaive(rowOf(x, r, n));
    losses.push(-Math.log(p[target[r]]));
    grad.set(
      p.map((v, c) => (v - (c === target[r] ? 1 : 0)) / rows),
      r * n,
    );
  }
  return { loss: losses.reduce((a, b) => a + b, 0) / rows, grad };
}
