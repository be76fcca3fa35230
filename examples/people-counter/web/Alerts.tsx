// The session's open alerts: the filter `resolved = false` makes resolving one an update
// that leaves this view, which the hub sends as a removal and the list drops.
import { useLiveList } from '@herald/react';
import { listUnresolvedAlerts, quoted, resolveAlert, timeOf, type Alert } from './api.js';

export function Alerts({ sessionId }: { sessionId: string }) {
  const { items } = useLiveList<Alert>({
    topic: 'alert_logs/**',
    filter: `data.session_id = ${quoted(sessionId)} and data.resolved = false`,
    load: () => listUnresolvedAlerts(sessionId),
  });
  return (
    <section id="alerts" className="panel">
      <h3>
        Open alerts <span className="badge">{items.length}</span>
      </h3>
      {items.length === 0 && <p className="muted">None.</p>}
      <ul>
        {items.map((alert) => (
          <li key={alert.id} data-alert={alert.id} className={`alert ${alert.level}`}>
            <span>{alert.message}</span>
            <span className="muted"> {timeOf(alert.created_at)}</span>
            <button className="resolve" onClick={() => void resolveAlert(alert.id)}>
              Resolve
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
