// Browser benchmark (not a test): seeds a runstash server over REST in batches, then measures
// in Chromium (1) time to the first rendered row of a 10,000-run experiment, scrolling through
// all of them, and (2) time to draw a 20-run x 100,000-point chart.
//   node bench/run.mjs            starts ../../.venv/bin/runstash on a free port
//   BENCH_BASE_URL=http://host:port node bench/run.mjs   uses a running server (UI at /)
// (3) the experiment chart view of BENCH_VIEW_RUNS runs x BENCH_VIEW_METRICS metrics x
// BENCH_VIEW_POINTS points, and hover frame times on it; (4) grouping all 10,000 runs by a param.
// Sizes: BENCH_RUNS (10000), BENCH_CHART_RUNS (20), BENCH_POINTS (100000), BENCH_VIEW_RUNS (100),
// BENCH_VIEW_METRICS (10), BENCH_VIEW_POINTS (100000). The chart view's runs are seeded in bulk by
// seed_bulk.py (SQL into the bench server's SQLite store; BENCH_SEED=ingest: the gRPC ingest
// stream). BENCH_ONLY=table,chart,view picks parts; BENCH_VIEW_EXPERIMENT=<id> and
// BENCH_TABLE_EXPERIMENT=<id> (with BENCH_BASE_URL) measure experiments seeded before (the id is
// printed), so a timed run under a quiet machine does not include seeding, e.g. on PostgreSQL:
//   .venv/bin/python gateway/ui/bench/seed_bulk.py --base URL --postgres DSN --name view --runs 100
// The load average before and after is printed: the figures are wall-clock times.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, run, SERVER_PYTHON, startServer, uiRoot } from '../e2e/harness.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 10_000);
const CHART_RUNS = Number(process.env.BENCH_CHART_RUNS ?? 20);
const POINTS = Number(process.env.BENCH_POINTS ?? 100_000);
const VIEW_RUNS = Number(process.env.BENCH_VIEW_RUNS ?? 100);
const VIEW_METRICS = Number(process.env.BENCH_VIEW_METRICS ?? 10);
const VIEW_POINTS = Number(process.env.BENCH_VIEW_POINTS ?? 100_000);
const CONCURRENCY = 8;
/** Waits for pages to draw; full-size chart views wait on the server's sampling. */
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 900_000);
const METRICS_PER_BATCH = 1000;

async function post(base, path, body) {
  const response = await fetch(`${base}/api/2.0/mlflow/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : {};
}

/** Runs `count` tasks with at most CONCURRENCY in flight. */
async function pool(count, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function timed(label, work) {
  const start = performance.now();
  const result = await work();
  const seconds = (performance.now() - start) / 1000;
  console.log(`  ${label}: ${seconds.toFixed(1)} s`);
  return result;
}

async function createRun(base, experimentId, name, startTime) {
  const { run } = await post(base, 'runs/create', { experiment_id: experimentId, run_name: name, start_time: startTime });
  return run.info.run_id;
}

async function seedTable(base) {
  const { experiment_id: id } = await post(base, 'experiments/create', { name: `bench-table-${Date.now()}` });
  const t0 = Date.now() - RUNS * 1000;
  await pool(RUNS, async (i) => {
    const runId = await createRun(base, id, `run-${i}`, t0 + i * 1000);
    await post(base, 'runs/log-batch', {
      run_id: runId,
      params: [
        { key: 'lr', value: String(10 ** -(1 + (i % 4))) },
        { key: 'model', value: ['tree', 'forest', 'linear'][i % 3] },
        { key: 'seed', value: String(i) },
      ],
      metrics: [
        { key: 'accuracy', value: (i % 1000) / 1000, timestamp: t0 + i * 1000, step: 0 },
        { key: 'loss', value: 1 / (1 + i), timestamp: t0 + i * 1000, step: 0 },
      ],
      tags: [{ key: 'team', value: i % 2 ? 'nlp' : 'vision' }],
    });
  });
  return id;
}

async function seedChart(base) {
  const { experiment_id: id } = await post(base, 'experiments/create', { name: `bench-chart-${Date.now()}` });
  const runIds = [];
  for (let r = 0; r < CHART_RUNS; r += 1) runIds.push(await createRun(base, id, `curve-${r}`, Date.now()));
  const batches = Math.ceil(POINTS / METRICS_PER_BATCH);
  const t0 = Date.now() - POINTS * 10;
  // Batches of one run go in order, runs in parallel (the store appends history points).
  await pool(CHART_RUNS, async (r) => {
    for (let b = 0; b < batches; b += 1) {
      const metrics = [];
      for (let s = b * METRICS_PER_BATCH; s < Math.min(POINTS, (b + 1) * METRICS_PER_BATCH); s += 1) {
        const value = Math.exp(-s / (POINTS / (2 + r / 4))) + 0.02 * Math.sin(s / 50 + r);
        metrics.push({ key: 'loss', value, timestamp: t0 + s * 10, step: s });
      }
      await post(base, 'runs/log-batch', { run_id: runIds[r], metrics });
    }
  });
  return runIds;
}

/**
 * The chart view's runs through seed_bulk.py: over the gRPC ingest stream with BENCH_SEED=ingest,
 * else (default) straight into the bench server's SQLite store (see seed_bulk.py for why).
 */
async function seedChartView(server) {
  const sink = process.env.BENCH_SEED === 'ingest' ? ['--grpc', server.grpcTarget] : ['--sqlite', server.sqlitePath];
  if (!sink[1]) throw new Error(`BENCH_SEED=${process.env.BENCH_SEED ?? 'sqlite'} needs the server started here (no BENCH_BASE_URL)`);
  const args = [join(uiRoot, 'bench', 'seed_bulk.py'), '--base', server.url, ...sink, '--name', `bench-view-${Date.now()}`];
  args.push('--runs', String(VIEW_RUNS), '--metrics', String(VIEW_METRICS), '--points', String(VIEW_POINTS));
  const { out, err } = await run(SERVER_PYTHON, args);
  console.log(`  ${err.trim().split('\n').pop()}`);
  return JSON.parse(out.trim().split('\n').pop()).experiment_id;
}

/** The chart data calls (runstash's batched get-chart-histories, or MLflow's bulk-interval). */
const CHART_CALL = /get-chart-histories|get-history-bulk-interval/;

/** The chart data requests the page made after `since` ms: count, slowest, max_results asked, keys per call. */
function bulkRequests(page, since = 0) {
  return page.evaluate(
    ([since, pattern]) => {
      const call = new RegExp(pattern);
      const entries = performance.getEntriesByType('resource').filter((e) => call.test(e.name) && e.startTime >= since);
      const params = entries.map((e) => new URL(e.name).searchParams);
      const maxResults = [...new Set(params.map((p) => p.get('max_results')))];
      const keysPerCall = [...new Set(params.map((p) => p.getAll('metric_keys').length || 1))];
      return { count: entries.length, slowestMs: Math.max(0, ...entries.map((e) => e.duration)), maxResults, keysPerCall };
    },
    [since, CHART_CALL.source],
  );
}

/**
 * The browser's own share: per chart, from the end of the answer holding its data to its first
 * drawing (JSON parsing, alignment, uPlot's draw); the slowest and the median chart.
 */
function clientTimes(page) {
  return page.evaluate((pattern) => {
    const call = new RegExp(pattern);
    const answers = performance.getEntriesByType('resource').filter((e) => call.test(e.name));
    const gaps = [];
    for (const answer of answers) {
      const params = new URL(answer.name).searchParams;
      for (const key of params.getAll('metric_keys').concat(params.getAll('metric_key'))) {
        const drawn = performance.getEntriesByName(`runstash:chart-drawn:${key}`).find((m) => m.startTime >= answer.responseEnd);
        if (drawn) gaps.push(drawn.startTime - answer.responseEnd);
      }
    }
    gaps.sort((a, b) => a - b);
    return { charts: gaps.length, medianMs: gaps[gaps.length >> 1] ?? 0, maxMs: gaps[gaps.length - 1] ?? 0 };
  }, CHART_CALL.source);
}

/** Chart view: navigation until every chart is drawn (scrolling mounts the lower ones), then hover frames. */
async function measureChartView(page, base, experimentId) {
  await page.goto(`${base}/#/experiments/${experimentId}?tab=charts`);
  const drawnCount = () => page.evaluate(() => [...document.querySelectorAll('[data-testid=metric-chart]')].filter((c) => Number(c.dataset.drawn ?? 0) > 0).length);
  // The first screen: every card in the viewport has drawn its chart.
  await page.waitForFunction(() => {
    const inView = [...document.querySelectorAll('[data-testid=chart-card]')].filter((c) => c.getBoundingClientRect().top < innerHeight);
    return inView.length > 0 && inView.every((c) => Number(c.querySelector('[data-testid=metric-chart]')?.dataset.drawn ?? 0) > 0);
  }, null, { timeout: TIMEOUT_MS, polling: 'raf' });
  const firstScreenMs = await page.evaluate(() => performance.now());
  const firstScreenCharts = await drawnCount();
  const firstScreenRequests = await bulkRequests(page);
  await page.waitForFunction(
    (n) => {
      window.scrollTo(0, document.body.scrollHeight);
      const drawn = [...document.querySelectorAll('[data-testid=metric-chart]')].filter((c) => Number(c.dataset.drawn ?? 0) > 0);
      return drawn.length >= n;
    },
    VIEW_METRICS,
    { timeout: TIMEOUT_MS, polling: 100 },
  );
  const allChartsMs = await page.evaluate(() => performance.now());
  const allRequests = await bulkRequests(page);
  const uiAfterData = await clientTimes(page);
  await page.evaluate(() => window.scrollTo(0, 0));
  const over = await page.locator('[data-testid=metric-chart] .u-over').first().boundingBox();
  // Hover sweeps one chart; the shared cursor moves every chart's cursor with it.
  const hover = await page.evaluate(
    ([x, y, w, h]) =>
      new Promise((resolve) => {
        const target = document.elementFromPoint(x + 2, y + h / 2);
        const deltas = [];
        let last = performance.now();
        let i = 0;
        const tick = (now) => {
          deltas.push(now - last);
          last = now;
          i += 1;
          target.dispatchEvent(new MouseEvent('mousemove', { clientX: x + (w * i) / 120, clientY: y + h / 2, bubbles: true }));
          if (i < 120) requestAnimationFrame(tick);
          else resolve(deltas.slice(1).sort((a, b) => a - b));
        };
        requestAnimationFrame(tick);
      }),
    [over.x, over.y, over.width, over.height],
  );
  const pct = (p) => hover[Math.min(hover.length - 1, Math.floor((p / 100) * hover.length))];
  return { firstScreenMs, firstScreenCharts, firstScreenRequests, allChartsMs, allRequests, uiAfterData, hoverP50Ms: pct(50), hoverP95Ms: pct(95), hoverMaxMs: hover[hover.length - 1] };
}

/** Grouping the loaded 10,000 runs by a param, as measured by the page (performance.measure). */
async function measureGrouping(page) {
  await page.evaluate(() => {
    performance.clearMeasures('runstash:group');
    location.hash += `${location.hash.includes('?') ? '&' : '?'}group=param:model`;
  });
  await page.waitForFunction(() => document.querySelector('[data-testid=runs-count]')?.textContent?.includes('in 3 groups'), null, { timeout: 60_000 });
  return page.evaluate(() => {
    const entries = performance.getEntriesByName('runstash:group');
    return { groupMs: entries[entries.length - 1].duration, measures: entries.length };
  });
}

/** Records when the first run row is mounted, from navigation start. */
const FIRST_ROW_PROBE = () => {
  new MutationObserver((_, observer) => {
    if (document.querySelector('[data-testid=run-row]')) {
      window.__firstRowMs = performance.now();
      observer.disconnect();
    }
  }).observe(document, { childList: true, subtree: true });
};

async function measureTable(page, base, experimentId) {
  await page.goto(`${base}/#/experiments/${experimentId}`);
  await page.waitForFunction(() => window.__firstRowMs !== undefined, null, { timeout: 120_000 });
  const firstRowMs = await page.evaluate(() => window.__firstRowMs);
  await page.waitForFunction(
    (n) => {
      const box = document.querySelector('[data-testid=runs-scroll]');
      if (box) box.scrollTop = box.scrollHeight; // reaching the end fetches the next page
      return document.querySelector('[data-testid=runs-count]')?.textContent?.startsWith(`${n} runs`);
    },
    RUNS,
    { timeout: 300_000, polling: 250 },
  );
  const allRowsMs = await page.evaluate(() => performance.now());
  const rowsMounted = await page.locator('[data-testid=run-row]').count();
  const wheel = await scrollFrames(page, 'wheel');
  const jump = await scrollFrames(page, 'jump');
  return { firstRowMs, allRowsMs, wheel, jump, rowsMounted, grouping: await measureGrouping(page) };
}

/**
 * Frame times over 120 animation frames of scrolling: `wheel` moves 60 px (two rows) a frame
 * like a mouse wheel; `jump` crosses the whole list (~80 rows a frame), the worst case.
 */
async function scrollFrames(page, mode) {
  const frames = await page.evaluate(
    (mode) =>
      new Promise((resolve) => {
        const box = document.querySelector('[data-testid=runs-scroll]');
        box.scrollTop = 0;
        const steps = 120;
        const deltas = [];
        let last = performance.now();
        let i = 0;
        const tick = (now) => {
          deltas.push(now - last);
          last = now;
          i += 1;
          box.scrollTop = mode === 'wheel' ? i * 60 : (box.scrollHeight - box.clientHeight) * (i / steps);
          if (i < steps) requestAnimationFrame(tick);
          else resolve(deltas.slice(1));
        };
        requestAnimationFrame(tick);
      }),
    mode,
  );
  frames.sort((a, b) => a - b);
  const pct = (p) => frames[Math.min(frames.length - 1, Math.floor((p / 100) * frames.length))];
  return { p50Ms: pct(50), p95Ms: pct(95), maxMs: frames[frames.length - 1] };
}


async function measureChart(page, base, runIds) {
  await page.goto(`${base}/#/compare?runs=${runIds.join(',')}&metric=loss`);
  await page.waitForFunction(() => Number(document.querySelector('[data-title=loss]')?.dataset.drawn ?? 0) > 0, null, {
    timeout: 120_000,
  });
  return page.evaluate(() => {
    const drawn = performance.getEntriesByName('runstash:chart-drawn:loss')[0].startTime;
    const fetches = performance.getEntriesByType('resource').filter((e) => /get-chart-histories|get-history-bulk-interval/.test(e.name));
    const fetched = Math.max(...fetches.map((e) => e.responseEnd));
    return { navigationToDrawnMs: drawn, fetchedAtMs: fetched, drawAfterFetchMs: drawn - fetched, bulkRequests: fetches.length };
  });
}

/** `BENCH_ONLY=view` (or `table`, `chart`, comma-separated) measures only those parts. */
const ONLY = new Set((process.env.BENCH_ONLY ?? 'table,chart,view').split(','));

async function main() {
  mkdirSync(join(uiRoot, 'bench-results'), { recursive: true });
  const server = await startServer(process.env.BENCH_BASE_URL, { grpc: process.env.BENCH_SEED === 'ingest' });
  const base = server.url;
  try {
    const results = { load: loadAverage() };
    const browser = await launchBrowser();
    try {
      // A fresh page per measurement, so performance.now() counts from that navigation.
      const newPage = () => browser.newPage({ viewport: { width: 1400, height: 900 } });
      if (ONLY.has('table')) {
        const tableExperiment = process.env.BENCH_TABLE_EXPERIMENT ?? (await timed(`seed ${RUNS} runs`, () => seedTable(base)));
        console.log(`  table experiment: ${tableExperiment}`);
        const tablePage = await newPage();
        await tablePage.addInitScript(FIRST_ROW_PROBE);
        results.table = { runs: RUNS, ...(await measureTable(tablePage, base, tableExperiment)) };
        printTable(results.table);
      }
      if (ONLY.has('chart')) {
        const chartRuns = await timed(`seed ${CHART_RUNS} x ${POINTS} points`, () => seedChart(base));
        const page = await newPage();
        results.chart = { runs: CHART_RUNS, pointsPerRun: POINTS, ...(await measureChart(page, base, chartRuns)) };
        await page.screenshot({ path: join(uiRoot, 'bench-results', 'chart-20x100k.png') });
        printChart(results.chart);
      }
      if (ONLY.has('view')) {
        const viewExperiment =
          process.env.BENCH_VIEW_EXPERIMENT ??
          (await timed(`seed chart view ${VIEW_RUNS} runs x ${VIEW_METRICS} metrics x ${VIEW_POINTS} points`, () => seedChartView(server)));
        const viewPage = await newPage();
        results.view = { runs: VIEW_RUNS, metrics: VIEW_METRICS, points: VIEW_POINTS, ...(await measureChartView(viewPage, base, viewExperiment)) };
        await viewPage.screenshot({ path: join(uiRoot, 'bench-results', 'chart-view.png') });
        printView(results.view);
      }
    } finally {
      await browser.close();
    }
    results.load.after = loadAverage().now;
    writeFileSync(join(uiRoot, 'bench-results', 'bench.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log(`load average (1 min) before / after: ${results.load.now} / ${results.load.after}`);
  } finally {
    await server.stop();
  }
}

function loadAverage() {
  return { now: Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]), cores: cpus().length };
}

const ms = (v) => `${v.toFixed(0)} ms`;
const frames = (f) => `${f.p50Ms.toFixed(1)} / ${f.p95Ms.toFixed(1)} / ${f.maxMs.toFixed(1)} ms`;

function printTable(table) {
  console.log(`runs table (${table.runs} runs):`);
  console.log(`  first rendered row after navigation: ${ms(table.firstRowMs)}`);
  console.log(`  all ${table.runs} rows loaded (paged):     ${ms(table.allRowsMs)}`);
  console.log(`  scroll frame time p50/p95/max, wheel (2 rows/frame): ${frames(table.wheel)}`);
  console.log(`  scroll frame time p50/p95/max, jump (whole list in 120 frames): ${frames(table.jump)}`);
  console.log(`  row elements mounted: ${table.rowsMounted} of ${table.runs}`);
  console.log(`  grouping ${table.runs} runs by a param in the browser: ${table.grouping.groupMs.toFixed(1)} ms`);
}

function printChart(chart) {
  console.log(`chart (${chart.runs} runs x ${chart.pointsPerRun} points, server-downsampled):`);
  console.log(`  navigation -> drawn: ${ms(chart.navigationToDrawnMs)}`);
  console.log(`  data fetched -> drawn: ${ms(chart.drawAfterFetchMs)} (${chart.bulkRequests} bulk request(s))`);
}

function printView(view) {
  console.log(`chart view (${view.runs} runs x ${view.metrics} metrics x ${view.points} points):`);
  console.log(`  navigation -> first screen of charts drawn (${view.firstScreenCharts} charts): ${ms(view.firstScreenMs)}`);
  console.log(`  chart data requests on the first screen: ${view.firstScreenRequests.count} (${view.firstScreenRequests.keysPerCall.join(', ')} keys each), slowest ${ms(view.firstScreenRequests.slowestMs)} (server + transfer)`);
  console.log(`  navigation -> all ${view.metrics} charts drawn (scrolled): ${ms(view.allChartsMs)}`);
  console.log(`  chart data requests in all: ${view.allRequests.count}, max_results ${view.allRequests.maxResults.join(', ')}`);
  console.log(`  browser time per chart, bulk answer received -> drawn, median / max: ${ms(view.uiAfterData.medianMs)} / ${ms(view.uiAfterData.maxMs)}`);
  console.log(`  hover frame time p50/p95/max (shared cursor): ${view.hoverP50Ms.toFixed(1)} / ${view.hoverP95Ms.toFixed(1)} / ${view.hoverMaxMs.toFixed(1)} ms`);
}

await main();
