// Draws bench/chart.svg from the bench's results: throughput (Gelem/s, higher is better) of simdmax,
// TF.js-wasm, ONNX Runtime Web (wasm) and plain JS (optimized and naive) for each op and shape, as
// grouped bars on a log scale. A candidate missing at a shape (ORT's gradient) leaves its slot empty.

const COLORS = {
  simdmax: "#1f6feb",
  "TF.js wasm": "#f0883e",
  "ORT wasm": "#8250df",
  "plain JS (optimized)": "#8b949e",
  "plain JS (naive)": "#d0d7de",
};

export function chartSvg(results, title) {
  const ops = ["softmax", "logSoftmax", "crossEntropy", "crossEntropyWithGrad"];
  const rows = results.filter((r) => r.op.endsWith(" vs peers") && r.gelemPerS > 0);
  const shapes = [...new Set(rows.map((r) => r.shape.join("×")))];
  const cands = Object.keys(COLORS);
  const panelH = 170,
    top = 56,
    left = 70,
    barW = 14,
    gap = 34,
    groupW = cands.length * (barW + 4) + gap + 40;
  const W = Math.max(980, left + 20 + shapes.length * groupW + 10);
  const H = top + ops.length * panelH + 40;
  const lo = -3,
    hi = 1; // 10^-3 … 10^1 Gelem/s
  const y = (v, y0) => y0 + panelH - 30 - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * (panelH - 50);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  cands.forEach((c, i) => {
    out.push(
      `<rect x="${left + i * 175}" y="34" width="12" height="12" fill="${COLORS[c]}"/><text x="${left + 18 + i * 175}" y="45">${esc(c)}</text>`,
    );
  });
  ops.forEach((op, k) => {
    const y0 = top + k * panelH;
    out.push(`<text x="8" y="${y0 + 18}" font-weight="bold">${op}</text>`);
    for (let e = lo; e <= hi; e++) {
      const yy = y(10 ** e, y0);
      out.push(
        `<line x1="${left}" x2="${W - 10}" y1="${yy}" y2="${yy}" stroke="#ddd"/><text x="${left - 6}" y="${yy + 4}" text-anchor="end" fill="#666">${10 ** e}</text>`,
      );
    }
    shapes.forEach((shape, s) => {
      const x0 = left + 20 + s * groupW;
      if (!rows.some((q) => q.op === `${op} vs peers` && q.shape.join("×") === shape)) return; // not measured for this op
      cands.forEach((c, i) => {
        const r = rows.find((q) => q.op === `${op} vs peers` && q.shape.join("×") === shape && q.candidate === c);
        if (!r) return;
        const yy = y(r.gelemPerS, y0),
          base = y(10 ** lo, y0);
        out.push(
          `<rect x="${x0 + i * (barW + 4)}" y="${yy}" width="${barW}" height="${base - yy}" fill="${COLORS[c]}"><title>${esc(`${c}: ${r.gelemPerS.toFixed(3)} Gelem/s`)}</title></rect>`,
        );
      });
      out.push(`<text x="${x0}" y="${y0 + panelH - 12}" fill="#333">${shape}</text>`);
    });
  });
  out.push(`<text x="${left}" y="${H - 12}" fill="#666">Gelem/s, log scale, higher is better</text></svg>`);
  return out.join("\n");
}

function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}
