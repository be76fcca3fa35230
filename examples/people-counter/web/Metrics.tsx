// The session's `realtime_metrics` row, filtered by the hub to this session as the team's
// `/api/sse/metrics?session_id=` was.
import { useLiveList } from '@herald/react';
import { listMetrics, quoted, timeOf, type Metrics as MetricsRow } from './api.js';

export function Metrics({ sessionId }: { sessionId: string }) {
  const { items } = useLiveList<MetricsRow>({
    topic: 'realtime_metrics/**',
    filter: `data.session_id = ${quoted(sessionId)}`,
    load: () => listMetrics(sessionId),
  });
  const metrics = items[0];
  if (metrics === undefined) return <section id="metrics" className="panel muted" />;
  return (
    <section id="metrics" className="panel metrics">
      <div>
        <span className="muted">Inside</span>
        <strong data-field="current_count">{metrics.current_count}</strong>
      </div>
      <div>
        <span className="muted">Occupancy</span>
        <strong data-field="occupancy_percent">{metrics.occupancy_percent}%</strong>
      </div>
      <div>
        <span className="muted">Movements, last minute</span>
        <strong data-field="movements_last_minute">{metrics.movements_last_minute}</strong>
      </div>
      <div>
        <span className="muted">Updated</span>
        <strong>{timeOf(metrics.updated_at)}</strong>
      </div>
    </section>
  );
}
