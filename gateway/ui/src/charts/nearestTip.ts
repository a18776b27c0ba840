// With too many series for a legend, hovering names the one series nearest to the pointer and
// its value: one element per chart, updated in the shared hover frame (O(series) per update,
// and only writes to the page: a read of its layout here would force one layout per chart).
import type uPlot from 'uplot';
import { formatNumber } from '../util/format';

/** The series (1-based) whose point at the cursor is nearest to the pointer's height, if any. */
export function nearestSeries(u: uPlot): number | undefined {
  const { idxs, top } = u.cursor;
  if (!idxs || top === undefined || top < 0) return undefined;
  let best: number | undefined;
  let bestDistance = Infinity;
  for (let i = 1; i < u.series.length; i += 1) {
    const idx = idxs[i];
    if (idx === null || idx === undefined || u.series[i]?.show === false) continue;
    const y = u.data[i]?.[idx];
    if (y === null || y === undefined) continue;
    const distance = Math.abs(u.valToPos(y, 'y') - top);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = i;
    }
  }
  return best;
}

export function nearestTipHooks(): uPlot.Hooks.Arrays {
  let tip: HTMLDivElement | undefined;
  return {
    init: [
      (u) => {
        tip = document.createElement('div');
        tip.className = 'nearest-tip';
        tip.dataset.testid = 'nearest-tip';
        tip.style.display = 'none';
        u.over.appendChild(tip);
      },
    ],
    setCursor: [
      (u) => {
        if (!tip) return;
        const i = nearestSeries(u);
        const idx = i === undefined ? null : u.cursor.idxs?.[i];
        if (i === undefined || idx === null || idx === undefined) {
          tip.style.display = 'none';
          return;
        }
        const series = u.series[i];
        const x = u.data[0][idx] as number;
        const y = u.data[i]?.[idx] as number;
        tip.textContent = `${String(series?.label ?? '')}: ${formatNumber(y)} at ${formatNumber(x)}`;
        const stroke = series?.stroke;
        tip.style.borderColor = String((typeof stroke === 'function' ? stroke(u, i) : stroke) ?? '');
        tip.style.display = '';
        tip.style.transform = `translate(${Math.min(u.valToPos(x, 'x') + 10, u.bbox.width / devicePixelRatio - 180)}px, ${Math.max(u.valToPos(y, 'y') - 28, 0)}px)`;
      },
    ],
  };
}
