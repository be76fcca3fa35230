// The team's status dot: green connected, yellow reconnecting (1, 2, 4, 8, 16 s apart),
// red "failed" once the retries are used up, with their German label.
import { useConnectionState, useHeraldClient } from '@herald/react';

const LABELS: Record<string, string> = {
  idle: 'Nicht verbunden',
  connecting: 'Verbinde…',
  connected: 'Verbunden',
  reconnecting: 'Verbinde neu…',
  failed: 'Verbindung fehlgeschlagen',
  closed: 'Getrennt',
};

export function StatusDot() {
  const state = useConnectionState();
  const client = useHeraldClient();
  return (
    <span id="status" className="status" data-state={state}>
      <span className={`dot ${state}`} /> {LABELS[state] ?? state}
      {/* The team's manual recovery was a page reload; reconnect() also resets the backoff. */}
      {state === 'failed' && <button onClick={() => client?.reconnect()}>Erneut verbinden</button>}
    </span>
  );
}
