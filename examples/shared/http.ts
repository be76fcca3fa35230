// The few HTTP helpers an example's JSON API needs, on node:http alone.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request the app refuses, with the HTTP status its API answers. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Reads a JSON object body of at most `maxBytes`; anything else is a 400 (or 413). */
export async function readJsonObject(req: IncomingMessage, maxBytes = 64 * 1024): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError(413, 'body too large');
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body must be JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Answers an error thrown while handling a request: its own status for an HttpError, 500 otherwise. */
export function sendError(res: ServerResponse, error: unknown, app: string): void {
  if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message });
  process.stderr.write(`${app}: ${String(error)}\n`);
  sendJson(res, 500, { error: 'internal error' });
}
