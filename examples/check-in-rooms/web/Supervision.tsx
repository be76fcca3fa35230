// A logged-in supervisor's page: the groups the app server says they supervise, each
// live. The page never picks groups itself; after a revocation it asks the server again.
import { useCallback, useEffect, useState } from 'react';
import { getMe, type Group, type Supervisor } from './api.js';
import { GroupCard } from './GroupCard.js';

export function Supervision({ getToken }: { getToken: () => Promise<string> }) {
  const [me, setMe] = useState<{ supervisor: Supervisor; groups: Group[] } | undefined>(undefined);
  const reload = useCallback(() => {
    void getToken().then(getMe).then(setMe);
  }, [getToken]);
  useEffect(reload, [reload]);
  if (me === undefined) return <p className="muted">Loading…</p>;
  return (
    <main>
      <p className="muted">
        Logged in as <strong id="me">{me.supervisor.name}</strong>
      </p>
      {me.groups.length === 0 && <p className="muted">No active supervisions.</p>}
      {me.groups.map((group) => (
        <GroupCard key={group.id} group={group} getToken={getToken} onLost={reload} />
      ))}
    </main>
  );
}
