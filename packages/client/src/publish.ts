import { HeraldError, isErrorCode } from '@herald/protocol';
import type { ResolvedOptions } from './options.js';

/** Options of {@link HeraldClient.publish}. */
export interface PublishOptions {
  /** Event type. Default `message`. */
  type?: string;
  /** Publisher id: a retry with the same id cannot publish twice. Default: the hub generates one. */
  id?: string;
}

/** `POST <url>/publish` with the token as a bearer header; resolves with the event id or throws a HeraldError. */
export async function publishOverHttp(
  options: Pick<ResolvedOptions, 'url' | 'fetch'>,
  token: string | undefined,
  topic: string,
  data: unknown,
  extra: PublishOptions,
): Promise<string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
  const response = await options.fetch(`${options.url}/publish`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ topic, data, ...extra }),
  });
  const body = (await response.json().catch(() => ({}))) as { ids?: string[]; error?: { code?: string; message?: string } };
  if (response.ok && typeof body.ids?.[0] === 'string') return body.ids[0];
  const code = body.error?.code;
  throw new HeraldError(isErrorCode(code) ? code : 'internal_error', body.error?.message ?? `publish failed with HTTP ${response.status}`);
}
