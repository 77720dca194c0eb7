// Hand-written SVG: service throughput (linear, left axis) and p99 latency (log, right axis: it
// spans milliseconds to minutes) against concurrent clients (log x axis), the raw ONNX Runtime
// rate as a horizontal line. No dependencies, readable as text.

export interface ChartPoint {
  clients: number;
  itemsPerS: number;
  p99Ms: number;
}

const W = 760;
const H = 460;
const M = { left: 70, right: 80, top: 76, bottom: 58 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;
const THROUGHPUT = '#1f6feb';
const LATENCY = '#d9480f';
const RAW = '#444';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (v === 0 || v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const px = (v: number) => v.toFixed(1);

/** 0..max in about five round steps. */
function ticks(max: number): number[] {
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw)!;
  return Array.from({ length: Math.floor(max / step) + 1 }, (_, i) => i * step);
}

export function throughputChart(points: readonly ChartPoint[], rawItemsPerS: number, title: string, note: string): string {
  const xs = points.map((p) => p.clients);
  const lx0 = Math.log2(Math.min(...xs));
  const lx1 = Math.log2(Math.max(...xs));
  const x = (c: number) => M.left + ((Math.log2(c) - lx0) / (lx1 - lx0 || 1)) * PW;
  const yMaxT = Math.max(rawItemsPerS, ...points.map((p) => p.itemsPerS)) * 1.15;
  const decade0 = Math.floor(Math.log10(Math.min(...points.map((p) => p.p99Ms))));
  const decade1 = Math.ceil(Math.log10(Math.max(...points.map((p) => p.p99Ms))));
  const yT = (v: number) => M.top + PH - (v / yMaxT) * PH;
  const yL = (v: number) => M.top + PH - ((Math.log10(v) - decade0) / (decade1 - decade0 || 1)) * PH;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${esc(note)}</text>`);

  for (const t of ticks(yMaxT)) {
    out.push(`<line x1="${M.left}" x2="${M.left + PW}" y1="${px(yT(t))}" y2="${px(yT(t))}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 8}" y="${px(yT(t) + 4)}" text-anchor="end" fill="${THROUGHPUT}">${fmt(t)}</text>`);
  }
  for (let d = decade0; d <= decade1; d++) {
    const ms = 10 ** d;
    out.push(`<text x="${M.left + PW + 8}" y="${px(yL(ms) + 4)}" fill="${LATENCY}">${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}</text>`);
  }
  for (const c of xs) {
    out.push(`<line x1="${px(x(c))}" x2="${px(x(c))}" y1="${M.top}" y2="${M.top + PH}" stroke="#f3f3f3"/>`);
    out.push(`<text x="${px(x(c))}" y="${M.top + PH + 18}" text-anchor="middle">${c}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${M.left + PW / 2}" y="${H - 14}" text-anchor="middle">concurrent clients, one item per request (log scale)</text>`);
  out.push(`<text transform="translate(18 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle" fill="${THROUGHPUT}">items/s</text>`);
  out.push(`<text transform="translate(${W - 16} ${M.top + PH / 2}) rotate(90)" text-anchor="middle" fill="${LATENCY}">p99 latency (log scale)</text>`);

  out.push(`<line x1="${M.left}" x2="${M.left + PW}" y1="${px(yT(rawItemsPerS))}" y2="${px(yT(rawItemsPerS))}" stroke="${RAW}" stroke-dasharray="6 4"/>`);
  out.push(`<text x="${M.left + 6}" y="${px(yT(rawItemsPerS) - 6)}" fill="${RAW}">raw ONNX Runtime loop: ${fmt(rawItemsPerS)} items/s</text>`);

  const line = (pts: [number, number][], color: string) =>
    `<polyline points="${pts.map(([a, b]) => `${px(a)},${px(b)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`;
  out.push(line(points.map((p) => [x(p.clients), yT(p.itemsPerS)]), THROUGHPUT));
  out.push(line(points.map((p) => [x(p.clients), yL(p.p99Ms)]), LATENCY));
  for (const p of points) {
    out.push(`<circle cx="${px(x(p.clients))}" cy="${px(yT(p.itemsPerS))}" r="4" fill="${THROUGHPUT}"><title>${p.clients} client${p.clients === 1 ? '' : 's'}: ${fmt(p.itemsPerS)} items/s</title></circle>`);
    out.push(`<rect x="${px(x(p.clients) - 4)}" y="${px(yL(p.p99Ms) - 4)}" width="8" height="8" fill="${LATENCY}"><title>${p.clients} client${p.clients === 1 ? '' : 's'}: p99 ${fmt(p.p99Ms)} ms</title></rect>`);
  }

  // Legend in one row above the plot, where no line can run through it.
  const ly = M.top - 14;
  const lx = M.left + PW / 2 - 190;
  out.push(`<circle cx="${lx}" cy="${ly - 4}" r="4" fill="${THROUGHPUT}"/><text x="${lx + 10}" y="${ly}">service throughput (items/s)</text>`);
  out.push(`<rect x="${lx + 196}" y="${ly - 8}" width="8" height="8" fill="${LATENCY}"/><text x="${lx + 210}" y="${ly}">service p99 latency (ms)</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export interface SweepSeries {
  label: string;
  points: readonly { length: number; tokensPerS: number }[];
}

const SERIES_COLORS = ['#1f6feb', '#d9480f', '#2f9e44', '#7048e8'];

/** Tokens/s (linear) against item length (log x axis), one line per runtime. */
export function lengthSweepChart(series: readonly SweepSeries[], title: string, note: string): string {
  const lengths = [...new Set(series.flatMap((s) => s.points.map((p) => p.length)))].sort((a, b) => a - b);
  const lx0 = Math.log2(lengths[0]);
  const lx1 = Math.log2(lengths[lengths.length - 1]);
  const x = (len: number) => M.left + ((Math.log2(len) - lx0) / (lx1 - lx0 || 1)) * PW;
  const yMax = Math.max(...series.flatMap((s) => s.points.map((p) => p.tokensPerS))) * 1.15;
  const y = (v: number) => M.top + PH - (v / yMax) * PH;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${W / 2}" y="40" text-anchor="middle" fill="#555">${esc(note)}</text>`);
  for (const t of ticks(yMax)) {
    out.push(`<line x1="${M.left}" x2="${M.left + PW}" y1="${px(y(t))}" y2="${px(y(t))}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 8}" y="${px(y(t) + 4)}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const len of lengths) {
    out.push(`<line x1="${px(x(len))}" x2="${px(x(len))}" y1="${M.top}" y2="${M.top + PH}" stroke="#f3f3f3"/>`);
    out.push(`<text x="${px(x(len))}" y="${M.top + PH + 18}" text-anchor="middle">${len}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#999"/>`);
  out.push(`<text x="${M.left + PW / 2}" y="${H - 14}" text-anchor="middle">tokens per item (log scale)</text>`);
  out.push(`<text transform="translate(18 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle">tokens/s</text>`);
  series.forEach((s, k) => {
    const color = SERIES_COLORS[k % SERIES_COLORS.length];
    out.push(`<polyline points="${s.points.map((p) => `${px(x(p.length))},${px(y(p.tokensPerS))}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of s.points) {
      out.push(`<circle cx="${px(x(p.length))}" cy="${px(y(p.tokensPerS))}" r="4" fill="${color}"><title>${esc(s.label)}, ${p.length} tokens: ${fmt(p.tokensPerS)} tokens/s</title></circle>`);
    }
    const lx = M.left + 10 + k * 200;
    out.push(`<circle cx="${lx}" cy="${M.top - 18}" r="4" fill="${color}"/><text x="${lx + 10}" y="${M.top - 14}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
