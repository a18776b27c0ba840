import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../../api/client';
import { traceSpansUrl } from '../../api/traces';
import type { SpanDetail } from './spanJson';
import { SpanTree } from './spanTree';
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

/** Spans of one trace, streamed and summarised by a worker, added to the tree page by page. */
export function useTraceSpans(traceId: string): TraceSpans {
  const [state, setState] = useState<State>(() => ({ traceId, tree: new SpanTree(), version: 0, done: false }));
  const worker = useRef<Worker | undefined>(undefined);
  const waiting = useRef(new Map<number, (d: SpanDetail | undefined) => void>());
  const nextRequest = useRef(0);
  const current = state.traceId === traceId ? state : undefined;
  if (!current) setState({ traceId, tree: new SpanTree(), version: 0, done: false });

  useEffect(() => {
    performance.mark('runstash:trace-open');
    const tree = new SpanTree();
    const w = new Worker(new URL('./spanWorker.ts', import.meta.url), { type: 'module' });
    worker.current = w;
    const pending = waiting.current;
    w.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      if (reply.type === 'page') {
        tree.add(reply.rows);
        setState({ traceId, tree, version: tree.size, done: false });
      } else if (reply.type === 'done') {
        performance.measure('runstash:trace-spans', 'runstash:trace-open');
        setState({ traceId, tree, version: tree.size, done: true });
      } else if (reply.type === 'error') {
        setState({ traceId, tree, version: tree.size, done: true, error: new ApiError(reply.status, reply.code, reply.message) });
      } else {
        pending.get(reply.requestId)?.(reply.detail);
        pending.delete(reply.requestId);
      }
    };
    const request: WorkerRequest = { type: 'load', url: new URL(traceSpansUrl(traceId), document.baseURI).href };
    w.postMessage(request);
    return () => {
      w.terminate();
      for (const resolve of pending.values()) resolve(undefined);
      pending.clear();
      if (worker.current === w) worker.current = undefined;
    };
  }, [traceId]);

  const detail = useCallback((id: string): Promise<SpanDetail | undefined> => {
    const w = worker.current;
    if (!w) return Promise.resolve(undefined);
    nextRequest.current += 1;
    const requestId = nextRequest.current;
    return new Promise((resolve) => {
      waiting.current.set(requestId, resolve);
      const request: WorkerRequest = { type: 'detail', id, requestId };
      w.postMessage(request);
    });
  }, []);

  const shown = current ?? { tree: new SpanTree(), version: 0, done: false, error: undefined };
  return { tree: shown.tree, version: shown.version, loaded: shown.tree.size, done: shown.done, error: shown.error, detail };
}
