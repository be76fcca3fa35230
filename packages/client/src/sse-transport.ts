import { createSseParser } from '@herald/protocol';
import { parseHubJson, endpointUrl, type TransportFactory, type TransportHandlers, type TransportRequest } from './transport.js';

/**
 * A transport over `GET <url>/events`, read with `fetch` rather than `EventSource`:
 * EventSource hides the HTTP status of a refusal (a 401 looks like a network
 * error) and reconnects on its own schedule, and the client needs both decisions.
 * The hub's `retry:` field is therefore not used; the `retryAfter` of a goodbye is.
 */
export function sseTransport(fetchImpl: typeof fetch): TransportFactory {
  return (request, handlers) => {
    const controller = new AbortController();
    const state = { done: false, opened: false };
    const end: TransportHandlers['onEnd'] = (info) => {
      if (state.done) return;
      state.done = true;
      handlers.onEnd(info);
    };
    read(fetchImpl, request, controller.signal, state, handlers.onMessage).then(
      () => end({ opened: state.opened, reason: 'the stream ended' }),
      (error: unknown) => end(error instanceof RefusedError ? error.end : { opened: state.opened, reason: String(error) }),
    );
    return {
      send() {
        // SSE is one-way; the client only sends over WebSocket.
      },
      close() {
        state.done = true;
        controller.abort();
      },
    };
  };
}

class RefusedError extends Error {
  constructor(readonly end: { opened: false; status: number; code?: string; reason: string }) {
    super(end.reason);
  }
}

async function read(
  fetchImpl: typeof fetch,
  request: TransportRequest,
  signal: AbortSignal,
  state: { done: boolean; opened: boolean },
  onMessage: TransportHandlers['onMessage'],
): Promise<void> {
  const params: Array<[string, string]> = request.topics.map((topic) => ['topic', topic]);
  if (request.since !== undefined) params.push(['lastEventId', request.since]);
  if (request.filter !== undefined) params.push(['filter', request.filter]);
  if (request.token !== undefined) params.push(['token', request.token]);
  const response = await fetchImpl(endpointUrl(request.url, '/events', params), {
    headers: { accept: 'text/event-stream' },
    cache: 'no-store',
    signal,
  });
  if (response.status !== 200 || response.body === null) {
    const code = await errorCode(response);
    throw new RefusedError({
      opened: false,
      status: response.status,
      ...(code === undefined ? {} : { code }),
      reason: `HTTP ${response.status} ${code ?? ''}`,
    });
  }
  state.opened = true;
  const parser = createSseParser({
    onMessage: ({ data }) => {
      const message = parseHubJson(data);
      if (message !== undefined && !state.done) onMessage(message);
    },
  });
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done || state.done) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
}

/** The `code` of the hub's JSON error body, when there is one. */
async function errorCode(response: Response): Promise<string | undefined> {
  try {
    const body = (await response.json()) as { error?: { code?: unknown } };
    return typeof body.error?.code === 'string' ? body.error.code : undefined;
  } catch {
    return undefined;
  }
}
