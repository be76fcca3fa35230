import type { IncomingMessage } from 'node:http';
import { HeraldError } from '@herald/protocol';

/**
 * Reads a JSON request body of at most `limit` bytes. Refuses other content types
 * (415) so a plain HTML form cannot publish cross-site. Frameworks that parsed the
 * body already (Express with express.json()) leave it on `req.body`; that is used as is.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  // Checked before anything else, also for bodies a framework parsed already, so
  // that a form post parsed by express.urlencoded() can never publish.
  if (!/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type)) {
    throw new HeraldError('unsupported_media_type', `Content-Type must be application/json, got "${type.slice(0, 60)}"`);
  }
  // A framework that parsed the body (express.json(), even with strict: false) has
  // consumed the stream; its parse is used as is, and validation happens as usual.
  // One that only read it (express.raw(), express.text()) leaves the text to parse.
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  let text: string;
  if (Buffer.isBuffer(parsed) || typeof parsed === 'string') {
    const size = Buffer.byteLength(parsed);
    if (size > limit) throw new HeraldError('payload_too_large', `the body is ${size} bytes; the limit is ${limit}`);
    text = parsed.toString();
  } else if (parsed !== undefined) {
    return parsed;
  } else {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      throw new HeraldError('payload_too_large', `the body is ${declared} bytes; the limit is ${limit}`);
    }
    text = await readText(req, limit);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new HeraldError('invalid_json', 'the body is not valid JSON');
  }
}

// Plain 'data'/'end' listeners rather than `for await`: the async iterator costs a
// promise per chunk and a stream wrapper per request, a measurable share of a
// single-event publish.
function readText(req: IncomingMessage, limit: number): Promise<string> {
  // Read already by app code that kept nothing on req.body: there is nothing to parse.
  if (req.readableEnded) return Promise.resolve('');
  // Gone while the hub was still identifying the client: no 'end' or 'close' will follow.
  if (req.destroyed) {
    return Promise.reject(new HeraldError('invalid_request', 'the request ended before its body was complete'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        finish();
        req.pause();
        reject(new HeraldError('payload_too_large', `the body is larger than the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      finish();
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    };
    // The client went away mid-body (reset, abort): its fault, not the hub's, so no error log.
    const onError = (): void => {
      finish();
      reject(new HeraldError('invalid_request', 'the request body could not be read'));
    };
    const onClose = (): void => {
      finish();
      reject(new HeraldError('invalid_request', 'the request ended before its body was complete'));
    };
    function finish(): void {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
