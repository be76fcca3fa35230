// The session's people movements, newest first: inserts arrive live, and a movement deleted
// as a mistake disappears (a delete matches the filter on its old row).
import { useLiveList } from '@herald/react';
import { deleteMovement, listMovements, quoted, timeOf, type Movement } from './api.js';

/** The list keeps every movement it is sent; the page shows the latest few. */
const SHOWN = 12;

export function Movements({ sessionId }: { sessionId: string }) {
  const { items } = useLiveList<Movement>({
    topic: 'people_movements/**',
    filter: `data.session_id = ${quoted(sessionId)}`,
    load: () => listMovements(sessionId),
  });
  const newestFirst = [...items].sort((a, b) => b.id - a.id).slice(0, SHOWN);
  return (
    <section id="movements" className="panel">
      <h3>Movements</h3>
      <table>
        <tbody>
          {newestFirst.map((movement) => (
            <tr key={movement.id} data-movement={movement.id}>
              <td className="muted">#{movement.id}</td>
              <td className={`direction ${movement.direction}`}>
                {movement.direction === 'in' ? '→ in' : '← out'} {movement.count}
              </td>
              <td className="muted">{timeOf(movement.created_at)}</td>
              <td>
                <button className="link delete" title="recorded by mistake" onClick={() => void deleteMovement(movement.id)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
