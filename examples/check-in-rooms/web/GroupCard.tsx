// One supervised group: its rooms and who is checked in to each, kept live from the
// group's topic with the team's `student_checkin` / `student_checkout` events.
import { useConnectionState, useLiveList, type LiveListOptions } from '@herald/react';
import { useEffect, useMemo, useRef } from 'react';
import { getVisits, type Group, type Visit } from './api.js';

// The team's event types are not change events, so the list applies them itself.
const applyVisitEvent: NonNullable<LiveListOptions<Visit>['apply']> = (visits, event) => {
  const data = event.data as Partial<Visit>;
  if (event.type === 'student_checkin') return [...visits.filter((v) => v.student_id !== data.student_id), data as Visit];
  if (event.type === 'student_checkout') return visits.filter((v) => v.student_id !== data.student_id);
  return visits;
};

export function GroupCard({ group, getToken, onLost }: { group: Group; getToken: () => Promise<string>; onLost: () => void }) {
  const options = useMemo<LiveListOptions<Visit>>(
    () => ({
      topic: `groups/${group.id}`,
      load: async () => getVisits(await getToken(), group.id),
      getKey: (visit) => visit.student_id,
      apply: applyVisitEvent,
    }),
    [group.id, getToken],
  );
  const { items, state, reload } = useLiveList<Visit>(options);
  // The hub subscribes a reconnecting WebSocket to the server-chosen groups before the
  // SDK's `subscribe … since` arrives, and a pattern already held is not replayed, so
  // check-ins made while the hub was away would be missed: load the group again instead.
  const connection = useConnectionState();
  const wasLost = useRef(false);
  useEffect(() => {
    if (connection === 'reconnecting' || connection === 'failed') wasLost.current = true;
    if (connection === 'connected' && wasLost.current) {
      wasLost.current = false;
      reload();
    }
  }, [connection, reload]);
  // The hub ended the subscription (`unsubscribed`, reason `forbidden`): the supervision was revoked.
  useEffect(() => {
    if (state === 'error') onLost();
  }, [state, onLost]);
  return (
    <section className="group" data-group={group.id} data-state={state}>
      <h2>{group.name}</h2>
      <div className="rooms">
        {group.rooms.map((room) => {
          const present = items.filter((visit) => visit.room_id === room.id);
          return (
            <div className="room" key={room.id} data-room={room.id}>
              <h3>
                {room.name} <span className="count">{present.length}</span>
              </h3>
              <ul>
                {present.map((visit) => (
                  <li key={visit.student_id} data-student={visit.student_id}>
                    {visit.student_name}
                  </li>
                ))}
              </ul>
            </div>
          );
        })}
      </div>
    </section>
  );
}
