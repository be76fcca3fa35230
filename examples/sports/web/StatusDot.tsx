// The team's status dot (green "Live", grey "Offline"), with the states Herald adds in
// between: amber while connecting or reconnecting, red once the client has given up.
import { useConnectionState, useHeraldClient } from '@herald/react';

const LABELS = {
  idle: 'Offline',
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
  failed: 'Offline',
  closed: 'Offline',
} as const;

export function StatusDot() {
  const state = useConnectionState();
  // Read on every state change, which is when it can change.
  const transport = useHeraldClient()?.transport;
  return (
    <span id="status" className="status" data-state={state} data-transport={transport ?? ''}>
      <span className={`dot ${state}`} />
      <span>{LABELS[state]}</span>
      {state === 'connected' && transport !== undefined && <span className="muted">· {transport === 'sse' ? 'SSE' : 'WebSocket'}</span>}
    </span>
  );
}
