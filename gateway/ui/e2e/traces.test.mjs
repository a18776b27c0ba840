// Browser tests of the traces UI: a real runstash server, traces written by the stock mlflow
// client (and one OTLP/HTTP protobuf upload per big trace), driven in Chromium.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, resultsDir, seed, startServer } from './harness.mjs';

/** Open-time bounds of the brief: all spans of 100 / 1,000, the first of 30,000. */
const BOUNDS_MS = { 100: 1000, 1000: 2000, 30000: 3000 };
/** Longest main-thread task allowed while a big trace streams in. */
const MAX_TASK_MS = 500;
const TAIL_MS = 2000;

let server;
let browser;
let page;
let seeded;
const timings = {};

const shot = (name) => page.screenshot({ path: join(resultsDir, `${name}.png`), fullPage: true });
const at = (hash) => page.goto(`${server.url}/${hash}`);
const traceRows = () => page.locator('[data-testid=trace-row]');
const traceIds = async () => traceRows().evaluateAll((rows) => rows.map((r) => r.dataset.traceId));
const tracesTab = (query = '') => at(`#/experiments/${seeded.experiment_id}?tab=traces${query}`);

async function filterTraces(text) {
  await page.getByLabel('Filter traces').fill(text);
  await page.getByLabel('Filter traces').press('Enter');
}

/** Waits until the table shows exactly `count` traces (the count line says so once loaded). */
async function waitForCount(count) {
  await page.getByTestId('traces-count').getByText(new RegExp(`^${count} traces?$`)).waitFor();
}

/** One span through OTLP/HTTP JSON, the way an OpenTelemetry SDK exports it. */
async function sendOtlpSpan(name) {
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'e2e-tail' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: randomBytes(16).toString('hex'),
                spanId: randomBytes(8).toString('hex'),
                name,
                kind: 1,
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 5_000_000n),
                attributes: [{ key: 'mlflow.spanInputs', value: { stringValue: JSON.stringify({ tail: name }) } }],
                status: { code: 1 },
              },
            ],
          },
        ],
      },
    ],
  };
  const response = await fetch(`${server.trackingUri}/v1/traces`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'x-mlflow-experiment-id': seeded.experiment_id },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

/** Opens a trace by URL; returns ms to the first span row and to the last span loaded. */
async function openTrace(traceId, spans) {
  await at('#/experiments');
  await page.evaluate(() => {
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longest = Math.max(window.__longest, entry.duration);
    }).observe({ type: 'longtask', buffered: false });
  });
  const t0 = Date.now();
  await page.evaluate((hash) => (window.location.hash = hash), `#/experiments/${seeded.experiment_id}/traces/${traceId}`);
  await page.locator('[data-testid=span-row]').first().waitFor({ timeout: 60_000 });
  const first = Date.now() - t0;
  await page.locator(`[data-testid=span-count][data-done]`).waitFor({ timeout: 120_000 });
  const all = Date.now() - t0;
  assert.equal(await page.getByTestId('span-count').textContent(), `${spans} spans`);
  const longestTask = await page.evaluate(() => window.__longest);
  return { first, all, longestTask };
}

before(async () => {
  mkdirSync(resultsDir, { recursive: true });
  server = await startServer();
  try {
    seeded = await seed(server.trackingUri, 'seed_traces.py');
  } catch (error) {
    error.message += `\n--- server log (tail) ---\n${server.log?.().slice(-4000) ?? ''}`;
    throw error;
  }
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(15_000);
});

after(async () => {
  if (Object.keys(timings).length) writeFileSync(join(resultsDir, 'trace-open-times.json'), `${JSON.stringify(timings, null, 2)}\n`);
  await browser?.close();
  await server?.stop();
});

test('the Traces tab lists every trace with previews, latency, status, tokens, tags and assessments', async () => {
  await tracesTab();
  await waitForCount(7);
  const [first] = seeded.chat_ids;
  const row = page.locator(`[data-testid=trace-row][data-trace-id="${first}"]`);
  assert.match(await row.locator('.trace-request').textContent(), /what is runstash\?/);
  assert.match(await row.locator('.trace-response').textContent(), /answer to what is runstash\? from 2 docs/);
  assert.equal(await row.locator('.trace-state').textContent(), 'OK');
  assert.equal(await row.locator('.trace-tokens').textContent(), '20');
  assert.match(await row.locator('.trace-tags').textContent(), /team=search/);
  assert.match(await row.locator('.trace-assessments').textContent(), /correct: true/);
  assert.match(await row.locator('.trace-latency').textContent(), /^\d+(ms|\.\ds)$/);
  const failed = page.locator(`[data-testid=trace-row][data-trace-id="${seeded.error_id}"]`);
  assert.equal(await failed.locator('.trace-state').textContent(), 'ERROR');
  assert.match(await failed.locator('.trace-assessments').textContent(), /correct: false/);
  await shot('traces-table');
});

test('the filter box takes MLflow trace search grammar and shows its errors', async () => {
  await tracesTab();
  await waitForCount(7);
  await filterTraces("trace.status = 'ERROR'");
  await waitForCount(1);
  assert.deepEqual(await traceIds(), [seeded.error_id]);
  await filterTraces("span.type = 'LLM' and tags.team = 'search'");
  await waitForCount(3);
  assert.deepEqual((await traceIds()).sort(), [...seeded.chat_ids].sort());
  await filterTraces("feedback.correct = 'true'");
  await waitForCount(1);
  assert.deepEqual(await traceIds(), [seeded.chat_ids[0]]);
  await filterTraces("metadata.`mlflow.trace.session` = 'session-a'");
  await waitForCount(2);
  await shot('traces-filter');
  // The syntax help's examples run as they are.
  await page.getByTestId('filter-help').locator('summary').click();
  await page.getByTestId('filter-help').getByRole('button', { name: "trace.name = 'chat'" }).click();
  await waitForCount(3);
  assert.equal(await page.getByLabel('Filter traces').inputValue(), "trace.name = 'chat'");
  await filterTraces('trace.status >>> 1');
  await page.getByTestId('error').waitFor();
  assert.match(await page.getByTestId('error').textContent(), /INVALID_PARAMETER_VALUE/);
  await shot('traces-filter-error');
});

test('live tail adds new traces on top; paused, it adds none until resumed', async () => {
  await tracesTab();
  await waitForCount(7);
  await sendOtlpSpan('tail-one');
  await page.getByTestId('traces-count').getByText('8 traces (1 new since opened)').waitFor({ timeout: 4 * TAIL_MS });
  assert.match(await traceRows().first().locator('.trace-request').textContent(), /tail-one/);
  await page.getByTestId('tail-toggle').click();
  await page.getByTestId('tail-state').getByText('live tail paused').waitFor();
  await sendOtlpSpan('tail-two');
  // Three poll periods with nothing new on screen is what "paused" means.
  await page.waitForTimeout(3 * TAIL_MS);
  assert.equal(await traceRows().count(), 8);
  await page.getByTestId('tail-toggle').click();
  await page.getByTestId('traces-count').getByText('9 traces (2 new since opened)').waitFor({ timeout: 4 * TAIL_MS });
  assert.match(await traceRows().first().locator('.trace-request').textContent(), /tail-two/);
});

test('the trace view shows the span tree, payloads as JSON, the run link and the assessments panel', async () => {
  const [first] = seeded.chat_ids;
  await tracesTab();
  await page.locator(`[data-testid=trace-row][data-trace-id="${first}"] a`).click();
  await page.locator('[data-testid=span-count][data-done]').waitFor();
  const names = await page.locator('[data-testid=span-row]').evaluateAll((rows) => rows.map((r) => r.dataset.spanName));
  assert.deepEqual(names, ['chat', 'retrieve', 'postprocess', 'generate']);
  assert.equal(await page.getByTestId('trace-title').locator('text=chat').count(), 1);
  await page.locator('[data-testid=span-row][data-span-name=generate]').click();
  await page.getByTestId('span-detail-name').getByText('generate').waitFor();
  assert.match(await page.getByTestId('span-outputs').textContent(), /answer to what is runstash\? from 2 docs/);
  assert.match(await page.getByTestId('span-inputs').textContent(), /question/);
  await page.locator('[data-testid=span-row][data-span-name=postprocess]').click();
  await page.getByTestId('span-detail-name').getByText('postprocess').waitFor();
  await page.getByTestId('span-attributes').locator('summary').click();
  assert.match(await page.getByTestId('span-attributes').textContent(), /flavour.*vanilla/);
  // Assessments: feedback with its rationale and source, the expectation with its value.
  const feedback = page.locator('[data-testid=assessment-row][data-name=correct]');
  assert.match(await feedback.textContent(), /feedback.*true.*matches the docs.*HUMAN.*alice@example\.com/);
  const expectation = page.locator('[data-testid=assessment-row][data-name=expected_answer]');
  assert.match(await expectation.textContent(), /expectation.*a tracking server/);
  await shot('trace-view');
  // Collapsing the root hides its children.
  await page.locator('[data-testid=span-row][data-span-name=chat] [data-testid=span-toggle]').click();
  assert.equal(await page.locator('[data-testid=span-row]').count(), 1);
  await page.locator('[data-testid=span-row][data-span-name=chat] [data-testid=span-toggle]').click();
  assert.equal(await page.locator('[data-testid=span-row]').count(), 4);
  await page.getByTestId('trace-run-link').click();
  await page.getByTestId('run-name').getByText('traced-run').waitFor();
  assert.ok(page.url().endsWith(`/runs/${seeded.run_id}`), page.url());
});

test('an exception is highlighted in the tree and in the span details', async () => {
  await at(`#/experiments/${seeded.experiment_id}/traces/${seeded.error_id}`);
  await page.locator('[data-testid=span-count][data-done]').waitFor();
  assert.equal(await page.getByTestId('trace-state').textContent(), 'ERROR');
  const failed = await page.locator('[data-testid=span-row][data-error]').evaluateAll((rows) => rows.map((r) => r.dataset.spanName));
  assert.deepEqual(failed.sort(), ['failing-chat', 'lookup']);
  await page.locator('[data-testid=span-row][data-span-name=lookup]').click();
  await page.getByTestId('span-detail-name').getByText('lookup').waitFor();
  assert.match(await page.getByTestId('span-exception').textContent(), /ValueError: no index for 'broken question'/);
  assert.equal(await page.getByTestId('span-status').textContent(), 'ERROR');
  assert.match(await page.locator('[data-testid=assessment-row][data-name=correct]').textContent(), /false.*it crashed/);
  await shot('trace-exception');
});

for (const spans of [100, 1000, 30000]) {
  test(`a ${spans}-span trace opens within ${BOUNDS_MS[spans]} ms without freezing the tab`, async () => {
    const result = await openTrace(seeded.big[String(spans)], spans);
    timings[spans] = result;
    const measured = spans === 30000 ? result.first : result.all;
    assert.ok(measured <= BOUNDS_MS[spans], `${spans} spans: ${JSON.stringify(result)}`);
    assert.ok(result.longestTask <= MAX_TASK_MS, `longest main-thread task ${result.longestTask} ms`);
    // The tree is virtual: a few dozen rows exist however many spans there are.
    assert.ok((await page.locator('[data-testid=span-row]').count()) < 120);
    assert.equal(await page.getByTestId('span-tree').getAttribute('data-rows'), String(spans));
    if (spans === 30000) {
      // The bottom of the tree renders on demand; its last span opens with its own payload.
      await page.getByTestId('span-tree').evaluate((el) => (el.scrollTop = el.scrollHeight));
      const last = page.locator(`[data-index="${spans - 1}"] [data-testid=span-row]`);
      await last.waitFor();
      const name = await last.getAttribute('data-span-name');
      assert.match(name, /^step-\d+$/);
      await last.click();
      await page.getByTestId('span-detail-name').getByText(name, { exact: true }).waitFor();
      assert.match(await page.getByTestId('span-inputs').textContent(), new RegExp(`input of step ${name.slice(5)}\\b`));
      // Find: a span deep in the middle is selected and scrolled into view.
      await page.getByLabel('Find span').fill('step-15151');
      await page.getByLabel('Find span').press('Enter');
      await page.getByTestId('span-detail-name').getByText('step-15151', { exact: true }).waitFor();
      assert.equal(await page.getByTestId('span-find-count').textContent(), '1 of 1');
      await page.locator('[data-testid=span-row][data-span-name="step-15151"]').waitFor();
    }
    await shot(`trace-${spans}-spans`);
  });
}

test('sessions group traces by session id and open as their turns in order', async () => {
  await at(`#/experiments/${seeded.experiment_id}?tab=sessions`);
  await page.locator('[data-testid=session-row][data-session=session-a]').waitFor();
  assert.equal(await page.locator('[data-testid=session-row]').count(), 2);
  const a = page.locator('[data-testid=session-row][data-session=session-a]');
  assert.match(await a.textContent(), /session-a\s*2.*what is runstash\?.*alice/);
  await shot('sessions');
  await a.getByRole('button', { name: 'session-a' }).click();
  await page.locator('[data-testid=session-turn]').nth(1).waitFor();
  const turns = await page.locator('[data-testid=session-turn]').evaluateAll((rows) => rows.map((r) => r.dataset.traceId));
  assert.deepEqual(turns, seeded.chat_ids.slice(0, 2));
  await shot('session-detail');
});

/** The trace's info as the server stores it (read outside the browser). */
async function storedTrace(traceId) {
  const response = await fetch(`${server.trackingUri}/api/3.0/mlflow/traces/${traceId}`);
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return JSON.parse(text).trace.trace_info;
}

const storedAssessment = async (traceId, name) => (await storedTrace(traceId)).assessments?.find((a) => a.assessment_name === name);

test('the assessments panel adds, edits and deletes feedback and expectations; trace tags are set and deleted', async () => {
  const traceId = seeded.chat_ids[2];
  await at(`#/experiments/${seeded.experiment_id}/traces/${traceId}`);
  await page.locator('[data-testid=span-count][data-done]').waitFor();
  const add = page.getByTestId('assessment-add-form');
  // Feedback: a typed JSON number, with a rationale.
  await add.getByTestId('assessment-name').fill('helpful');
  await add.getByTestId('assessment-value-input').fill('0.75');
  await add.getByTestId('assessment-rationale').fill('clear enough');
  await add.getByTestId('assessment-submit').click();
  const helpful = page.locator('[data-testid=assessment-row][data-name=helpful]');
  await helpful.getByTestId('assessment-value').getByText('0.75').waitFor();
  let stored = await storedAssessment(traceId, 'helpful');
  assert.deepEqual([stored.feedback.value, stored.rationale, stored.source.source_type], [0.75, 'clear enough', 'HUMAN']);
  // Expectation: a JSON list.
  await add.getByTestId('assessment-kind').selectOption('expectation');
  await add.getByTestId('assessment-name').fill('expected_facts');
  await add.getByTestId('assessment-value-input').fill('["tracks runs", "serves mlflow"]');
  await add.getByTestId('assessment-submit').click();
  const facts = page.locator('[data-testid=assessment-row][data-name=expected_facts]');
  await facts.getByText('expectation').waitFor();
  assert.deepEqual((await storedAssessment(traceId, 'expected_facts')).expectation.value, ['tracks runs', 'serves mlflow']);
  await shot('trace-assessments-added');
  // Edit the feedback: value and rationale change, the id stays.
  await helpful.getByTestId('assessment-edit').click();
  const edit = page.getByTestId('assessment-edit-form');
  await edit.getByTestId('assessment-value-input').fill('true');
  await edit.getByTestId('assessment-rationale').fill('on reflection, yes');
  await edit.getByTestId('assessment-submit').click();
  await helpful.getByTestId('assessment-rationale-text').getByText('on reflection, yes').waitFor();
  const edited = await storedAssessment(traceId, 'helpful');
  assert.deepEqual([edited.assessment_id, edited.feedback.value, edited.rationale], [stored.assessment_id, true, 'on reflection, yes']);
  // Delete the expectation.
  await facts.getByTestId('assessment-delete').click();
  await facts.waitFor({ state: 'detached' });
  assert.equal(await storedAssessment(traceId, 'expected_facts'), undefined);
  // Tags: set one, replace its value, delete it.
  const tags = page.getByTestId('trace-tags');
  await tags.getByTestId('trace-tag-key').fill('reviewed');
  await tags.getByTestId('trace-tag-value').fill('pending');
  await tags.getByTestId('trace-tag-submit').click();
  await tags.locator('[data-testid=trace-tag][data-key=reviewed]').getByText('reviewed=pending').waitFor();
  await tags.getByTestId('trace-tag-key').fill('reviewed');
  await tags.getByTestId('trace-tag-value').fill('done');
  await tags.getByTestId('trace-tag-submit').click();
  await tags.locator('[data-testid=trace-tag][data-key=reviewed]').getByText('reviewed=done').waitFor();
  assert.equal((await storedTrace(traceId)).tags.reviewed, 'done');
  await shot('trace-assessments-edited');
  await tags.locator('[data-testid=trace-tag][data-key=reviewed] [data-testid=trace-tag-delete]').click();
  await tags.locator('[data-testid=trace-tag][data-key=reviewed]').waitFor({ state: 'detached' });
  stored = await storedTrace(traceId);
  assert.equal(stored.tags.reviewed, undefined);
  assert.equal(stored.tags.team, 'search', 'the other tags stay');
});

/** A REST call to `base` as `user` ([name, password]). */
async function callAs(base, [user, password], method, path, body) {
  const headers = { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, 'Content-Type': 'application/json' };
  const response = await fetch(`${base}/${path}`, { method, headers, body: body && JSON.stringify(body) });
  return { status: response.status, body: await response.text() };
}

test('with auth on, a READ-only user sees assessments and tags without edit controls; EDIT gets them', async () => {
  const admin = ['admin', 'admin-password-e2e-t'];
  const reader = ['trace-reader', 'reader-password-e2e-t'];
  const editor = ['trace-editor', 'editor-password-e2e-t'];
  const configDir = mkdtempSync(join(tmpdir(), 'runstash-trace-auth-'));
  writeFileSync(join(configDir, 'auth.ini'), '[mlflow]\ndefault_permission = NO_PERMISSIONS\n');
  const authed = await startServer(undefined, {
    args: ['--app-name', 'basic-auth'],
    env: { MLFLOW_AUTH_CONFIG_PATH: join(configDir, 'auth.ini'), MLFLOW_AUTH_ADMIN_USERNAME: admin[0], MLFLOW_AUTH_ADMIN_PASSWORD: admin[1] },
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const view = await context.newPage();
  view.setDefaultTimeout(15_000);
  try {
    const base = authed.url;
    const created = await callAs(base, admin, 'POST', 'api/2.0/mlflow/experiments/create', { name: 'guarded-traces' });
    const experimentId = JSON.parse(created.body).experiment_id;
    for (const [user, level] of [[reader, 'READ'], [editor, 'EDIT']]) {
      assert.equal((await callAs(base, admin, 'POST', 'api/2.0/mlflow/users/create', { username: user[0], password: user[1] })).status, 200);
      const grant = { experiment_id: experimentId, username: user[0], permission: level };
      assert.equal((await callAs(base, admin, 'POST', 'api/2.0/mlflow/experiments/permissions/create', grant)).status, 200);
    }
    const now = BigInt(Date.now()) * 1_000_000n;
    const traceHex = randomBytes(16).toString('hex');
    const span = { traceId: traceHex, spanId: randomBytes(8).toString('hex'), name: 'guarded', startTimeUnixNano: String(now), endTimeUnixNano: String(now + 1_000_000n), status: { code: 1 } };
    const otlp = await fetch(`${base}/v1/traces`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'x-mlflow-experiment-id': experimentId, Authorization: `Basic ${Buffer.from(admin.join(':')).toString('base64')}` },
      body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }),
    });
    assert.equal(otlp.status, 200, await otlp.text());
    const traceId = `tr-${traceHex}`;
    await callAs(base, admin, 'PATCH', `api/3.0/mlflow/traces/${traceId}/tags`, { key: 'team', value: 'guards' });
    const signInAs = async ([user, password]) => {
      await view.goto(`${base}/#/experiments/${experimentId}/traces/${traceId}`);
      await view.getByTestId('signin-page').waitFor();
      await view.getByTestId('signin-username').fill(user);
      await view.getByTestId('signin-secret').fill(password);
      await view.getByTestId('signin-submit').click();
      await view.getByTestId('signed-in-as').getByText(user, { exact: true }).waitFor();
      await view.locator('[data-testid=span-count][data-done]').waitFor();
    };
    await signInAs(reader);
    await view.locator('[data-testid=trace-tag][data-key=team]').waitFor();
    await view.getByTestId('assessments').waitFor();
    // Absence means something only once the permission lookups have answered.
    await view.waitForLoadState('networkidle');
    assert.equal(await view.getByTestId('assessment-add-form').count(), 0);
    assert.equal(await view.getByTestId('trace-tag-form').count(), 0);
    assert.equal(await view.getByTestId('trace-tag-delete').count(), 0);
    await view.screenshot({ path: join(resultsDir, 'trace-read-only.png'), fullPage: true });
    // The server refuses what the page does not offer.
    assert.equal((await callAs(base, reader, 'PATCH', `api/3.0/mlflow/traces/${traceId}/tags`, { key: 'x', value: 'y' })).status, 403);
    await view.getByTestId('sign-out').click();
    await signInAs(editor);
    const add = view.getByTestId('assessment-add-form');
    await add.getByTestId('assessment-name').fill('guarded-ok');
    await add.getByTestId('assessment-value-input').fill('yes');
    await add.getByTestId('assessment-submit').click();
    await view.locator('[data-testid=assessment-row][data-name=guarded-ok]').getByText('yes').waitFor();
    const info = JSON.parse((await callAs(base, editor, 'GET', `api/3.0/mlflow/traces/${traceId}`)).body).trace.trace_info;
    const stored = info.assessments.find((a) => a.assessment_name === 'guarded-ok');
    assert.deepEqual([stored.feedback.value, stored.source.source_id], ['yes', editor[0]]);
    await view.screenshot({ path: join(resultsDir, 'trace-editor.png'), fullPage: true });
  } finally {
    await context.close();
    await authed.stop();
    rmSync(configDir, { recursive: true, force: true });
  }
});

/** Every trace of the seeded experiment, as the search route lists them. */
async function allTraces() {
  const found = [];
  let token;
  do {
    const body = { locations: [{ type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: seeded.experiment_id } }], max_results: 500, page_token: token };
    const response = await fetch(`${server.trackingUri}/api/3.0/mlflow/traces/search`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const page = await response.json();
    found.push(...(page.traces ?? []));
    token = page.next_page_token;
  } while (token);
  return found;
}

test('the Traces tab overview shows traces per day and the p95 latency of the last 14 days', async () => {
  const DAY = 86_400_000;
  const start = Math.floor(Date.now() / DAY) * DAY - 13 * DAY;
  const traces = (await allTraces()).filter((t) => Date.parse(t.request_time) >= start);
  // Expected figures from the listed traces: counts per UTC day, numpy's linear p95 of the latencies.
  const perDay = new Map();
  for (const t of traces) {
    const day = new Date(Math.floor(Date.parse(t.request_time) / DAY) * DAY).toISOString().slice(0, 10);
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }
  const latencies = traces.map((t) => Math.round(parseFloat(t.execution_duration) * 1000)).sort((a, b) => a - b);
  const position = 0.95 * (latencies.length - 1);
  const low = Math.floor(position);
  const p95 = latencies[low] + (latencies[Math.min(low + 1, latencies.length - 1)] - latencies[low]) * (position - low);
  await tracesTab();
  const overview = page.getByTestId('trace-overview');
  await overview.waitFor();
  assert.equal(Number(await overview.getAttribute('data-total')), traces.length);
  assert.ok(Math.abs(Number(await overview.getAttribute('data-p95-ms')) - p95) < 1e-6, `p95 ${await overview.getAttribute('data-p95-ms')} != ${p95}`);
  const bars = await page.getByTestId('overview-day').evaluateAll((els) => els.map((e) => [e.dataset.day, Number(e.dataset.count)]));
  assert.equal(bars.length, 14);
  assert.deepEqual(bars.filter(([, n]) => n > 0), [...perDay.entries()].sort());
  await shot('traces-overview');
});
