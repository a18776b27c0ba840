// Where the chart view's time goes (not a test): opens the chart view of an experiment already
// seeded on a running server with the CPU profiler on, then prints per chart data request the
// server wait (request sent -> first byte) and transfer, and the functions with most self time.
//   BENCH_BASE_URL=http://127.0.0.1:PORT BENCH_VIEW_EXPERIMENT=<id> node bench/profile.mjs
import { launchBrowser } from '../e2e/harness.mjs';

const base = process.env.BENCH_BASE_URL;
const experiment = process.env.BENCH_VIEW_EXPERIMENT;
if (!base || !experiment) throw new Error('BENCH_BASE_URL and BENCH_VIEW_EXPERIMENT are required');

/** Self time per function (ms) from a CDP CPU profile, largest first. */
function selfTimes(profile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const node = byId.get(profile.samples[i]);
    const f = node.callFrame;
    const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + (dt[i] ?? 0) / 1000);
  }
  return [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
}

const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  await cdp.send('Profiler.start');
  await page.goto(`${base}/#/experiments/${experiment}?tab=charts`);
  await page.waitForFunction(() => {
    const inView = [...document.querySelectorAll('[data-testid=chart-card]')].filter((c) => c.getBoundingClientRect().top < innerHeight);
    return inView.length > 0 && inView.every((c) => Number(c.querySelector('[data-testid=metric-chart]')?.dataset.drawn ?? 0) > 0);
  }, null, { timeout: 600_000, polling: 'raf' });
  const firstScreen = await page.evaluate(() => performance.now());
  const { profile } = await cdp.send('Profiler.stop');
  const timings = await page.evaluate(() =>
    performance.getEntriesByType('resource').filter((e) => /ajax-api|api\/2.0/.test(e.name)).map((e) => ({
      call: new URL(e.name).pathname.split('/').slice(-2).join('/'),
      keys: new URL(e.name).searchParams.getAll('metric_keys').length,
      start: Math.round(e.startTime),
      wait: Math.round(e.responseStart - e.requestStart),
      transfer: Math.round(e.responseEnd - e.responseStart),
      bytes: e.encodedBodySize,
    })),
  );
  const drawn = await page.evaluate(() => performance.getEntriesByType('mark').filter((m) => m.name.startsWith('runstash:chart-drawn')).map((m) => `${m.name.split(':').pop()}@${Math.round(m.startTime)}`));
  console.log(`first screen: ${Math.round(firstScreen)} ms`);
  console.table(timings);
  console.log('drawn:', drawn.join(' '));
  let total = 0;
  for (const t of profile.timeDeltas) total += t / 1000;
  console.log(`profiled ${Math.round(total)} ms; self time by function:`);
  for (const [name, ms] of selfTimes(profile)) console.log(`  ${ms.toFixed(1).padStart(8)} ms  ${name}`);
} finally {
  await browser.close();
}
