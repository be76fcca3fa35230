// The team answers, newest first, kept live from the bridged channel: `create` adds one,
// `delete` (always an array of ids in the team's format) removes them.
import type { HeraldEvent } from '@herald/client';
import { useLiveList, useTopic } from '@herald/react';
import { deleteAll, deleteAnswer, listAnswers, type TeamAnswer } from './api.js';

export function Answers({ topic }: { topic: string }) {
  const { items, state, reload } = useLiveList<TeamAnswer>({ topic, load: listAnswers, getKey: (answer) => answer.id });
  // useLiveList applies a `delete` of one item by its key, not the team's array of ids
  // (issue 12 adds that). Until then a bulk delete reloads the list: the app server has
  // already removed the rows when it publishes, so the reload shows the list without them.
  useTopic(topic, (event: HeraldEvent<unknown>) => {
    if (event.type === 'delete' && Array.isArray(event.data)) reload();
  });
  const newestFirst = [...items].sort((a, b) => b.id - a.id);
  return (
    <section id="answers" data-state={state}>
      <div className="toolbar">
        <span className="muted">
          <span id="count">{items.length}</span> answers
        </span>
        <button className="danger" id="delete-all" onClick={() => void deleteAll()} disabled={items.length === 0}>
          Delete all
        </button>
      </div>
      <table>
        <thead>
          <tr>
            <th>#</th>
            <th>Video</th>
            <th>Frame</th>
            <th>Answer</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {newestFirst.map((answer) => (
            <tr key={answer.id} data-answer={answer.id}>
              <td>{answer.id}</td>
              <td className="video">{answer.video_name}</td>
              <td>{answer.frame_index}</td>
              <td>{answer.qa}</td>
              <td>
                <button className="danger delete" onClick={() => void deleteAnswer(answer.id)}>
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
