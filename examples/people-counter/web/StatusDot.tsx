// The team's "SSE status" indicator for all four views at once: they share one connection,
// so one dot tells the truth for the whole page (amber while the client reconnects by itself).
import { useConnectionState } from '@herald/react';

export function StatusDot() {
  const state = useConnectionState();
  const label = state === 'connected' ? 'Connected' : state === 'connecting' || state === 'reconnecting' ? 'Reconnecting…' : 'Disconnected';
  return (
    <span id="status" className="status" data-state={state}>
      Live: <span className={`dot ${state}`} /> {label}
    </span>
  );
}
