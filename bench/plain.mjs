// Plain-JS baselines over [rows, n] float32 data, written the way a careful JS programmer would:
// typed arrays, one pass per step, Math.exp, no allocation.

/** Softmax of each row of x into y: max pass, exp-and-sum pass, scale pass. */
export function softmaxRows(x, y, rows, n) {
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    let m = -Infinity;
    for (let j = o; j < o + n; j++) if (x[j] > m) m = x[j];
    let s = 0;
    for (let j = o; j < o + n; j++) {
      const e = Math.exp(x[j] - m);
      y[j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = o; j < o + n; j++) y[j] *= inv;
  }
}

/** Log-softmax of each row of x into y. */
export function logSoftmaxRows(x, y, rows, n) {
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    let m = -Infinity;
    for (let j = o; j < o + n; j++) if (x[j] > m) m = x[j];
    let s = 0;
    for (let j = o; j < o + n; j++) s += Math.exp(x[j] - m);
    const c = m + Math.log(s);
    for (let j = o; j < o + n; j++) y[j] = x[j] - c;
  }
}

/** logsumexp of each row of x into out[rows]. */
export function logSumExpRows(x, out, rows, n) {
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    let m = -Infinity;
    for (let j = o; j < o + n; j++) if (x[j] > m) m = x[j];
    let s = 0;
    for (let j = o; j < o + n; j++) s += Math.exp(x[j] - m);
    out[r] = m + Math.log(s);
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
    let m = -Infinity;
    for (let j = o; j < o + n; j++) if (x[j] > m) m = x[j];
    let s = 0;
    for (let j = o; j < o + n; j++) s += Math.exp(x[j] - m);
    total += Math.log(s) + m - x[o + target[r]];
  }
  return total / rows;
}

/** Mean cross-entropy and its gradient (softmax − one-hot) / rows, into grad. */
export function crossEntropyWithGradRows(x, target, grad, rows, n) {
  let total = 0;
  const g = 1 / rows;
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    let m = -Infinity;
    for (let j = o; j < o + n; j++) if (x[j] > m) m = x[j];
    let s = 0;
    for (let j = o; j < o + n; j++) s += Math.exp(x[j] - m);
    total += Math.log(s) + m - x[o + target[r]];
    const inv = g / s;
    for (let j = o; j < o + n; j++) grad[j] = Math.exp(x[j] - m) * inv;
    grad[o + target[r]] -= g;
  }
  return total / rows;
}
