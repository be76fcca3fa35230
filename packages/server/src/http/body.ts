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
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (parsed !== undefined && !Buffer.isBuffer(parsed)) return parsed;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    throw new HeraldError('payload_too_large', `the body is ${declared} bytes; the limit is ${limit}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HeraldError('payload_too_large', `the body is larger than the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new HeraldError('invalid_json', 'the body is not valid JSON');
  }
}
