// The team answers, newest first, kept live from the bridged channel: `create` adds one,
// `delete` (always an array of ids in the team's format) removes them.
import { useLiveList } from '@herald/react';
import { deleteAll, deleteAnswer, listAnswers, type TeamAnswer } from './api.js';

export function Answers({ topic }: { topic: string }) {
  // `delete` with the team's array of ids is a bulk delete useLiveList applies by key.
  const { items, state } = useLiveList<TeamAnswer>({ topic, load: listAnswers, getKey: (answer) => answer.id });
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
