// Off the main thread: fetches a trace body, splits and summarises its spans, and answers
// detail requests from the span texts it keeps, so a huge trace never blocks the tab.
import { detailOf } from './spanJson';
import { streamSpans } from './spanLoad';
import type { WorkerReply, WorkerRequest } from './workerProtocol';

const scope = self as unknown as {
  postMessage: (message: WorkerReply) => void;
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
};
const texts = new Map<string, string>();

async function load(url: string): Promise<void> {
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok || !response.body) {
    const text = await response.text();
    let message = text.trim().slice(0, 500) || response.statusText;
    let code = String(response.status);
    try {
      const body = JSON.parse(text) as { error_code?: string; message?: string };
      message = body.message ?? message;
      code = body.error_code ?? code;
    } catch {
      // not JSON: keep the text
    }
    scope.postMessage({ type: 'error', status: response.status, code, message });
    return;
  }
  const total = await streamSpans(response.body, {
    page: (rows) => scope.postMessage({ type: 'page', rows }),
    keep: (id, text) => texts.set(id, text),
  });
  scope.postMessage({ type: 'done', total });
}

scope.onmessage = (event) => {
  const request = event.data;
  if (request.type === 'load') {
    load(request.url).catch((error: unknown) =>
      scope.postMessage({ type: 'error', status: 0, code: 'LOAD_FAILED', message: error instanceof Error ? error.message : String(error) }),
    );
  } else {
    const text = texts.get(request.id);
    const detail = text === undefined ? undefined : detailOf(JSON.parse(text) as Parameters<typeof detailOf>[0]);
    scope.postMessage({ type: 'detail', requestId: request.requestId, detail });
  }
};
