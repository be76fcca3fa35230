/**
 * Small SVG charts written by hand (no chart dependency): grouped bars and lines.
 * Output is deterministic text, so charts diff cleanly between runs.
 */

const PALETTE: Record<string, string> = {
  'raw write limit': '#7f7f7f',
  'hand-rolled ws/SSE': '#e08a2c',
  'Socket.IO': '#3b6fb6',
  Herald: '#2e9e5b',
};
const FALLBACK = ['#2e9e5b', '#3b6fb6', '#e08a2c', '#7f7f7f', '#a05195', '#d45087', '#665191'];

function colorOf(name: string, index: number): string {
  for (const [key, color] of Object.entries(PALETTE)) if (name.startsWith(key)) return color;
  return FALLBACK[index % FALLBACK.length]!;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Round numbers for axis ticks. */
function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Short number labels: 1.2M, 45k, 3.5. */
function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  if (abs >= 100) return String(Math.round(value));
  return String(Number(value.toPrecision(3)));
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function header(frame: Frame, title: string, subtitle: string | undefined): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${frame.width}" height="${frame.height}" viewBox="0 0 ${frame.width} ${frame.height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${frame.width}" height="${frame.height}" fill="#ffffff"/>`,
    `<text x="${frame.left}" y="22" font-size="15" font-weight="bold">${escape(title)}</text>`,
    ...(subtitle === undefined ? [] : [`<text x="${frame.left}" y="40" fill="#555">${escape(subtitle)}</text>`]),
  ];
}

function legend(frame: Frame, names: string[]): string[] {
  const out: string[] = [];
  let x = frame.left;
  const y = frame.height - 12;
  names.forEach((name, i) => {
    out.push(`<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${colorOf(name, i)}"/>`);
    out.push(`<text x="${x + 16}" y="${y}">${escape(name)}</text>`);
    x += 24 + name.length * 7;
  });
  return out;
}

/** A grouped bar chart: one group per label, one bar per series; null values are left out. */
export function barChart(options: {
  title: string;
  subtitle?: string;
  yLabel: string;
  groups: string[];
  series: Array<{ name: string; values: Array<number | null> }>;
  /** A dashed horizontal line, e.g. a target. */
  line?: { value: number; label: string };
}): string {
  const frame: Frame = { width: 760, height: 380, left: 70, right: 20, top: 56, bottom: 70 };
  const plotW = frame.width - frame.left - frame.right;
  const plotH = frame.height - frame.top - frame.bottom;
  const values = options.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = Math.max(...values, options.line?.value ?? 0, 1e-9) * 1.08;
  const ticks = niceTicks(max);
  const top = ticks[ticks.length - 1]!;
  const y = (v: number): number => frame.top + plotH - (v / top) * plotH;
  const out = header(frame, options.title, options.subtitle);
  for (const tick of ticks) {
    out.push(`<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${frame.left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" fill="#555">${formatNumber(tick)}</text>`);
  }
  out.push(`<text transform="translate(16 ${frame.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escape(options.yLabel)}</text>`);
  const groupW = plotW / Math.max(1, options.groups.length);
  const barW = Math.min(48, (groupW * 0.8) / Math.max(1, options.series.length));
  options.groups.forEach((group, g) => {
    const present = options.series.map((s, i) => ({ s, i, v: s.values[g] ?? null })).filter((b) => b.v !== null);
    const start = frame.left + g * groupW + (groupW - present.length * barW) / 2;
    present.forEach((bar, k) => {
      const x = start + k * barW;
      const v = bar.v!;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 3).toFixed(1)}" height="${(frame.top + plotH - y(v)).toFixed(1)}" fill="${colorOf(bar.s.name, bar.i)}"><title>${escape(`${bar.s.name}: ${v}`)}</title></rect>`,
      );
      out.push(
        `<text x="${(x + (barW - 3) / 2).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#333">${formatNumber(v)}</text>`,
      );
    });
    out.push(`<text x="${(frame.left + g * groupW + groupW / 2).toFixed(1)}" y="${frame.top + plotH + 18}" text-anchor="middle">${escape(group)}</text>`);
  });
  if (options.line !== undefined) {
    const ly = y(options.line.value).toFixed(1);
    out.push(`<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${ly}" y2="${ly}" stroke="#c0392b" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${frame.width - frame.right}" y="${Number(ly) - 4}" text-anchor="end" fill="#c0392b">${escape(options.line.label)}</text>`);
  }
  out.push(`<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${frame.top + plotH}" y2="${frame.top + plotH}" stroke="#333"/>`);
  out.push(
    ...legend(
      frame,
      options.series.map((s) => s.name),
    ),
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** A line chart with points; `logY` for latencies spanning orders of magnitude. */
export function lineChart(options: {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: Array<{ name: string; points: Array<[number, number]> }>;
  logY?: boolean;
  line?: { value: number; label: string };
}): string {
  const frame: Frame = { width: 760, height: 380, left: 70, right: 20, top: 56, bottom: 70 };
  const plotW = frame.width - frame.left - frame.right;
  const plotH = frame.height - frame.top - frame.bottom;
  const xs = options.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = options.series.flatMap((s) => s.points.map((p) => p[1]));
  const xTicks = niceTicks(Math.max(...xs, 1));
  const xMax = xTicks[xTicks.length - 1]!;
  const x = (v: number): number => frame.left + (v / xMax) * plotW;
  let y: (v: number) => number;
  let yTicks: number[];
  if (options.logY === true) {
    const lo = 10 ** Math.floor(Math.log10(Math.max(Math.min(...ys, options.line?.value ?? Infinity), 0.01)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...ys, options.line?.value ?? 0, lo * 10)));
    yTicks = [];
    for (let v = lo; v <= hi * 1.0001; v *= 10) yTicks.push(Number(v.toPrecision(6)));
    y = (v: number) => frame.top + plotH - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotH;
  } else {
    yTicks = niceTicks(Math.max(...ys, options.line?.value ?? 0, 1e-9) * 1.05);
    const top = yTicks[yTicks.length - 1]!;
    y = (v: number) => frame.top + plotH - (v / top) * plotH;
  }
  const out = header(frame, options.title, options.subtitle);
  for (const tick of yTicks) {
    out.push(`<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${frame.left - 6}" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" fill="#555">${formatNumber(tick)}</text>`);
  }
  for (const tick of xTicks) {
    out.push(`<text x="${x(tick).toFixed(1)}" y="${frame.top + plotH + 16}" text-anchor="middle" fill="#555">${formatNumber(tick)}</text>`);
  }
  out.push(`<text x="${frame.left + plotW / 2}" y="${frame.top + plotH + 34}" text-anchor="middle" fill="#333">${escape(options.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${frame.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escape(options.yLabel)}</text>`);
  if (options.line !== undefined) {
    const ly = y(options.line.value).toFixed(1);
    out.push(`<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${ly}" y2="${ly}" stroke="#c0392b" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${frame.width - frame.right}" y="${Number(ly) - 4}" text-anchor="end" fill="#c0392b">${escape(options.line.label)}</text>`);
  }
  options.series.forEach((s, i) => {
    const color = colorOf(s.name, i);
    const points = [...s.points].sort((a, b) => a[0] - b[0]);
    if (points.length > 1) {
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"/>`,
      );
    }
    for (const p of points) {
      out.push(
        `<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3.5" fill="${color}"><title>${escape(`${s.name}: ${p[0]} → ${p[1]}`)}</title></circle>`,
      );
    }
  });
  out.push(`<line x1="${frame.left}" x2="${frame.width - frame.right}" y1="${frame.top + plotH}" y2="${frame.top + plotH}" stroke="#333"/>`);
  out.push(
    ...legend(
      frame,
      options.series.map((s) => s.name),
    ),
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
