/**
 * Checks a WebSocket opening handshake (RFC 6455 section 4.2.1) before it reaches
 * `ws`, so that a malformed one gets Herald's JSON error body instead of the plain
 * text `ws` answers with. At least as strict as `ws` (8.x `handleUpgrade`), so what
 * passes here is never refused by it.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { HeraldError } from '@herald/protocol';
import { answerOnRawSocket } from './respond.js';

/** A refused handshake: the error and the headers its answer carries. */
interface HandshakeRefusal {
  error: HeraldError;
  headers: Record<string, string>;
}

// 16 random bytes in base64 (section 4.1): 22 characters and the padding.
const KEY = /^[+/0-9A-Za-z]{22}==$/;
// RFC 9110 token characters, the syntax of a subprotocol name.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// 13 is RFC 6455; `ws` also speaks 8 (the last draft), so both are let through.
const VERSIONS = new Set([13, 8]);

/** Why the handshake is malformed, or undefined when `ws` may take it. */
function checkHandshake(req: IncomingMessage): HandshakeRefusal | undefined {
  if (req.method !== 'GET') {
    return { error: new HeraldError('method_not_allowed', 'a WebSocket handshake must be a GET'), headers: { Allow: 'GET' } };
  }
  if (req.headers.upgrade?.toLowerCase() !== 'websocket') {
    return { error: new HeraldError('upgrade_required', 'the Upgrade header must be "websocket"'), headers: { Upgrade: 'websocket' } };
  }
  if (!VERSIONS.has(Number(req.headers['sec-websocket-version']))) {
    // Section 4.4: name the version the server speaks.
    return {
      error: new HeraldError('upgrade_required', 'Sec-WebSocket-Version must be 13'),
      headers: { 'Sec-WebSocket-Version': '13' },
    };
  }
  const key = req.headers['sec-websocket-key'];
  if (key === undefined || !KEY.test(key)) {
    return { error: new HeraldError('invalid_request', 'Sec-WebSocket-Key must be 16 bytes in base64'), headers: {} };
  }
  const protocols = req.headers['sec-websocket-protocol'];
  if (protocols !== undefined && !isProtocolList(protocols)) {
    return { error: new HeraldError('invalid_request', 'Sec-WebSocket-Protocol must be a list of distinct tokens'), headers: {} };
  }
  return undefined;
}

function isProtocolList(value: string): boolean {
  const names = value.split(',').map((name) => name.replace(/^[ \t]+|[ \t]+$/g, ''));
  return names.every((name) => TOKEN.test(name)) && new Set(names).size === names.length;
}

/**
 * Answers a malformed handshake on the raw socket (JSON body, `Connection: close`)
 * and returns true; returns false, answering nothing, for a well-formed one.
 * `rejected` counts the refusal under its code.
 */
export function refuseMalformedHandshake(req: IncomingMessage, socket: Duplex, rejected: (code: HeraldError['code']) => void): boolean {
  const refusal = checkHandshake(req);
  if (refusal === undefined) return false;
  rejected(refusal.error.code);
  answerOnRawSocket(socket, refusal.error, refusal.headers);
  return true;
}
