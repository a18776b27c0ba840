import { useCallback, useEffect, useRef, useState } from 'react';
import { authorizedFetch, errorFrom } from '../../api/client';
import { traceSpansUrl } from '../../api/traces';
import { detailOf, type SpanDetail } from './spanJson';
import { prefixed, readHead, streamSpans } from './spanLoad';
import { SpanTree, type SpanRow } from './spanTree';
import type { WorkerReply, WorkerRequest } from './workerProtocol';

export interface TraceSpans {
  tree: SpanTree;
  /** Bumped whenever a page of spans was added, so views recompute their rows. */
  version: number;
  loaded: number;
  done: boolean;
  error: Error | undefined;
  detail: (id: string) => Promise<SpanDetail | undefined>;
}

interface State {
  traceId: string;
  tree: SpanTree;
  version: number;
  done: boolean;
  error?: Error;
}

/** Bodies up to this size are parsed on the main thread: quicker than starting the worker. */
const SMALL_BODY = 512 * 1024;

interface Sink {
  page: (rows: SpanRow[]) => void;
  done: () => void;
  fail: (error: Error) => void;
}

/** Where span details come from: the worker that parsed them, or this thread's copies. */
interface DetailSource {
  worker?: Worker;
  texts?: Map<string, string>;
}

function startWorker(sink: Sink, replies: Map<number, (d: SpanDetail | undefined) => void>): Worker {
  const worker = new Worker(new URL('./spanWorker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<WorkerReply>) => {
    const reply = event.data;
    if (reply.type === 'page') sink.page(reply.rows);
    else if (reply.type === 'done') sink.done();
    else if (reply.type === 'error') sink.fail(new Error(reply.message));
    else {
      replies.get(reply.requestId)?.(reply.detail);
      replies.delete(reply.requestId);
    }
  };
  return worker;
}

/**
 * Spans of one trace, page by page. The body is fetched here (with the session's credentials)
 * and its stream handed to a worker that parses it; without transferable streams it is parsed
 * here, still a page at a time.
 */
export function useTraceSpans(traceId: string): TraceSpans {
  const [state, setState] = useState<State>(() => ({ traceId, tree: new SpanTree(), version: 0, done: false }));
  const source = useRef<DetailSource>({});
  const replies = useRef(new Map<number, (d: SpanDetail | undefined) => void>());
  const nextRequest = useRef(0);
  const current = state.traceId === traceId ? state : undefined;
  if (!current) setState({ traceId, tree: new SpanTree(), version: 0, done: false });

  useEffect(() => {
    performance.mark('runstash:trace-open');
    const controller = new AbortController();
    const tree = new SpanTree();
    const mine: DetailSource = {};
    source.current = mine;
    const pending = replies.current;
    const live = (): boolean => !controller.signal.aborted;
    // Pages arriving faster than frames are drawn cost one render per frame, not one each.
    let frame = 0;
    const settle = (next: Omit<State, 'traceId' | 'tree' | 'version'>): void => {
      cancelAnimationFrame(frame);
      if (live()) setState({ traceId, tree, version: tree.size, ...next });
    };
    const sink: Sink = {
      page: (rows) => {
        const first = tree.size === 0;
        tree.add(rows);
        if (first) settle({ done: false });
        else if (frame === 0 && live()) {
          frame = requestAnimationFrame(() => {
            frame = 0;
            if (live()) setState({ traceId, tree, version: tree.size, done: false });
          });
        }
      },
      done: () => {
        performance.measure('runstash:trace-spans', 'runstash:trace-open');
        settle({ done: true });
      },
      fail: (error) => settle({ done: true, error }),
    };
    // The worker starts while the request is in flight, so its startup costs no time.
    mine.worker = startWorker(sink, pending);
    const parseHere = async (body: ReadableStream<Uint8Array>): Promise<void> => {
      mine.worker?.terminate();
      mine.worker = undefined;
      const texts = new Map<string, string>();
      mine.texts = texts;
      await streamSpans(body, { page: sink.page, keep: (id, text) => texts.set(id, text) });
      sink.done();
    };
    const load = async (): Promise<void> => {
      const response = await authorizedFetch(traceSpansUrl(traceId), { signal: controller.signal });
      if (!response.ok || !response.body) throw await errorFrom(response);
      const head = await readHead(response.body, SMALL_BODY);
      // A small trace is parsed here at once; a big one streams on through the worker.
      if (head.done) return parseHere(prefixed(head.chunks, undefined));
      try {
        const request: WorkerRequest = { type: 'stream', prefix: head.chunks, body: response.body };
        if (!mine.worker) throw new Error('no worker');
        mine.worker.postMessage(request, [response.body]);
      } catch {
        // No transferable streams here: parse on this thread, still a page at a time.
        await parseHere(prefixed(head.chunks, response.body));
      }
    };
    load().catch((error: unknown) => sink.fail(error instanceof Error ? error : new Error(String(error))));
    return () => {
      controller.abort();
      cancelAnimationFrame(frame);
      mine.worker?.terminate();
      for (const resolve of pending.values()) resolve(undefined);
      pending.clear();
    };
  }, [traceId]);

  const detail = useCallback((id: string): Promise<SpanDetail | undefined> => {
    const { worker, texts } = source.current;
    if (texts) {
      const text = texts.get(id);
      return Promise.resolve(text === undefined ? undefined : detailOf(JSON.parse(text) as Parameters<typeof detailOf>[0]));
    }
    if (!worker) return Promise.resolve(undefined);
    nextRequest.current += 1;
    const requestId = nextRequest.current;
    return new Promise((resolve) => {
      replies.current.set(requestId, resolve);
      const request: WorkerRequest = { type: 'detail', id, requestId };
      worker.postMessage(request);
    });
  }, []);

  const shown = current ?? { tree: new SpanTree(), version: 0, done: false, error: undefined };
  return { tree: shown.tree, version: shown.version, loaded: shown.tree.size, done: shown.done, error: shown.error, detail };
}
