// The team's "SSE Status: 🟢 Connected / 🔴 Disconnected", with amber while Herald's client
// reconnects by itself (the team relied on the browser's EventSource retry).
import { useConnectionState } from '@herald/react';

export function StatusDot() {
  const state = useConnectionState();
  const label = state === 'connected' ? 'Connected' : state === 'connecting' || state === 'reconnecting' ? 'Reconnecting…' : 'Disconnected';
  return (
    <span id="status" className="status" data-state={state}>
      SSE status: <span className={`dot ${state}`} /> {label}
    </span>
  );
}
