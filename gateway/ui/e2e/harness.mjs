// Starts (or finds) a runstash server, seeds it with the stock mlflow client and opens
// Debian's Chromium through playwright-core. Missing prerequisites fail loudly.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const uiRoot = resolve(here, '..');
const repoRoot = resolve(uiRoot, '../..');
export const resultsDir = join(uiRoot, 'test-results');

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SERVER_BIN = process.env.RUNSTASH_BIN ?? join(repoRoot, '.venv/bin/runstash');
/** The repo venv's Python (the runstash client), for the bench's bulk seeding. */
export const SERVER_PYTHON = join(dirname(SERVER_BIN), 'python');
const CLIENT_PYTHON = process.env.MLFLOW_PYTHON ?? join(repoRoot, '.venv-mlflow/bin/python');

function require(path, what) {
  if (!existsSync(path)) throw new Error(`${what} not found at ${path}`);
  return path;
}

export function freePort() {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => ok(port));
    });
  });
}

async function waitHealthy(url, child, log, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${log()}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server not healthy after ${timeoutMs} ms:\n${log()}`);
}

/**
 * A runstash server on a free port with a fresh SQLite store and artifact folder.
 * `external` instead points at an already running server (development only).
 */
export async function startServer(external = process.env.E2E_BASE_URL, { prefix = '', args: extraArgs = [], env: extraEnv = {}, grpc = false } = {}) {
  if (external) {
    const url = external.replace(/\/$/, '');
    return { url, trackingUri: process.env.E2E_TRACKING_URI ?? url, stop: async () => {} };
  }
  require(SERVER_BIN, 'runstash server (make install at the repo root)');
  const dir = mkdtempSync(join(tmpdir(), 'runstash-ui-e2e-'));
  const port = await freePort();
  const args = ['server', '--backend-store-uri', `sqlite:///${dir}/db`, '--artifacts-destination', `${dir}/art`, '--host', '127.0.0.1', '--port', String(port)];
  if (prefix) args.push('--static-prefix', prefix);
  args.push(...extraArgs);
  const grpcPort = grpc ? await freePort() : undefined;
  if (grpcPort) args.push('--grpc-port', String(grpcPort));
  // Serve this checkout's build, whichever tree the server package was installed from.
  const uiDist = join(uiRoot, 'dist');
  require(join(uiDist, 'index.html'), 'built UI (make build)');
  const env = { ...process.env, RUNSTASH_UI_DIR: uiDist, ...extraEnv };
  const child = spawn(SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${port}${prefix}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          r();
        }, 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          r();
        });
      });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(url, child, () => output.slice(-4000), 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const grpcTarget = grpcPort ? `127.0.0.1:${grpcPort}` : undefined;
  return { url, trackingUri: url, stop, log: () => output, sqlitePath: `${dir}/db`, grpcTarget };
}

export function run(command, args, options = {}) {
  return new Promise((ok, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? ok({ out, err }) : fail(new Error(`${command} ${args.join(' ')} exited ${code}:\n${err.slice(-4000)}`))));
  });
}

/** Seeds through the stock client; returns its ids and the run links it printed. */
export async function seed(trackingUri, script = 'seed.py', env = {}) {
  require(CLIENT_PYTHON, 'stock mlflow client venv (make client-venv at the repo root)');
  const { out, err } = await run(CLIENT_PYTHON, [join(here, script), trackingUri], { env: { ...process.env, ...env } });
  const ids = JSON.parse(out.trim().split('\n').pop());
  const links = [...`${out}\n${err}`.matchAll(/View run \S+ at: (\S+)/g)].map((m) => m[1]);
  return { ...ids, links };
}

export async function launchBrowser() {
  require(CHROMIUM, 'Chromium (apt-get install -y chromium)');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Counts canvas pixels close to a series colour (the first series is #1f77b4), so axes and
 * grid lines alone do not count as a drawn chart.
 */
export function seriesPixels(page, selector, rgb = [0x1f, 0x77, 0xb4]) {
  return page.$eval(
    selector,
    (canvas, [r, g, b]) => {
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let hits = 0;
      for (let i = 0; i < data.length; i += 4) {
        const close = Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b) < 60;
        if (data[i + 3] > 128 && close) hits += 1;
      }
      return hits;
    },
    rgb,
  );
}
