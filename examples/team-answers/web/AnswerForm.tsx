// Adds a team answer through the API; the list shows it when the hub delivers the `create`
// (in this tab as in every other), not from the POST's answer.
import { useState, type FormEvent } from 'react';
import { createAnswer } from './api.js';

export function AnswerForm() {
  const [videoName, setVideoName] = useState('');
  const [frameIndex, setFrameIndex] = useState('');
  const [qa, setQa] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = (event: FormEvent): void => {
    event.preventDefault();
    createAnswer({ video_name: videoName, frame_index: Number(frameIndex), url: `https://frames.example/${videoName}/${frameIndex}.jpg`, qa }).then(
      () => {
        setError(undefined);
        setVideoName('');
        setFrameIndex('');
        setQa('');
      },
      (failure: unknown) => setError(String(failure)),
    );
  };
  return (
    <form id="new-answer" onSubmit={submit}>
      <input name="video_name" placeholder="video" required value={videoName} onChange={(e) => setVideoName(e.target.value)} />
      <input
        name="frame_index"
        placeholder="frame"
        required
        inputMode="numeric"
        pattern="[0-9]+"
        value={frameIndex}
        onChange={(e) => setFrameIndex(e.target.value)}
      />
      <input name="qa" placeholder="answer" value={qa} onChange={(e) => setQa(e.target.value)} />
      <button type="submit">Add answer</button>
      {error !== undefined && <span className="muted">{error}</span>}
    </form>
  );
}
