// Off the main thread: splits and summarises the spans of a trace body as it streams in, and
// answers detail requests from the span texts it keeps, so a huge trace never blocks the tab.
import { detailOf } from './spanJson';
import { prefixed, streamSpans } from './spanLoad';
import type { WorkerReply, WorkerRequest } from './workerProtocol';

const scope = self as unknown as {
  postMessage: (message: WorkerReply) => void;
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
};
const texts = new Map<string, string>();

scope.onmessage = (event) => {
  const request = event.data;
  if (request.type === 'stream') {
    streamSpans(prefixed(request.prefix, request.body), {
      page: (rows) => scope.postMessage({ type: 'page', rows }),
      keep: (id, text) => texts.set(id, text),
    }).then(
      (total) => scope.postMessage({ type: 'done', total }),
      (error: unknown) => scope.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
    );
  } else {
    const text = texts.get(request.id);
    const detail = text === undefined ? undefined : detailOf(JSON.parse(text) as Parameters<typeof detailOf>[0]);
    scope.postMessage({ type: 'detail', requestId: request.requestId, detail });
  }
};
