// Plain-JS baselines over [rows, n] row-major float32 data, as a careful JS programmer writes them:
// typed arrays, one pass per step, Math.exp, no allocation (the loops of bench/plain.mjs, except that
// crossEntropyWithGradRows here keeps each row's exps for the gradient instead of computing them again).

/** Softmax of each row of x into y. */
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

/** Mean cross-entropy of rows against class indices, and its gradient (softmax − one-hot) / rows into grad. */
export function crossEntropyWithGradRows(x, target, grad, rows, n) {
  let total = 0;
  const g = 1 / rows;
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    let m = -Infinity;
    for (let j = o; j < o + n; j++) if (x[j] > m) m = x[j];
    let s = 0;
    for (let j = o; j < o + n; j++) {
      const e = Math.exp(x[j] - m);
      grad[j] = e;
      s += e;
    }
    total += Math.log(s) + m - x[o + target[r]];
    const inv = g / s;
    for (let j = o; j < o + n; j++) grad[j] *= inv;
    grad[o + target[r]] -= g;
  }
  return total / rows;
}
