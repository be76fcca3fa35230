// The team answers the app server owns (in memory), in the shape of the team's Django model.
import { HttpError } from '../../shared/http.js';

export interface TeamAnswer {
  id: number;
  video_name: string;
  frame_index: number;
  url: string;
  qa: string;
  query_index: number;
  round: string;
  created_at: string;
  updated_at: string;
}

export class AnswerStore {
  readonly #answers = new Map<number, TeamAnswer>();
  #nextId = 101;

  /** Newest first, as the team's page shows them. */
  list(): TeamAnswer[] {
    return [...this.#answers.values()].reverse();
  }

  create(input: Record<string, unknown>, now = new Date()): TeamAnswer {
    const videoName = input['video_name'];
    const frameIndex = input['frame_index'];
    const url = input['url'];
    if (typeof videoName !== 'string' || videoName.trim() === '') throw new HttpError(400, 'video_name is required');
    if (typeof frameIndex !== 'number' || !Number.isInteger(frameIndex) || frameIndex < 0) throw new HttpError(400, 'frame_index must be a whole number');
    if (typeof url !== 'string') throw new HttpError(400, 'url is required');
    const qa = input['qa'] ?? '';
    const queryIndex = input['query_index'] ?? 1;
    const round = input['round'] ?? 'prelims';
    if (typeof qa !== 'string' || typeof round !== 'string' || typeof queryIndex !== 'number')
      throw new HttpError(400, 'qa and round are text, query_index a number');
    const stamp = now.toISOString();
    const answer: TeamAnswer = {
      id: this.#nextId++,
      video_name: videoName,
      frame_index: frameIndex,
      url,
      qa,
      query_index: queryIndex,
      round,
      created_at: stamp,
      updated_at: stamp,
    };
    this.#answers.set(answer.id, answer);
    return answer;
  }

  /** Removes one; false when there was none. */
  delete(id: number): boolean {
    return this.#answers.delete(id);
  }

  /** Removes every answer (of one round, when given) and returns their ids. */
  deleteAll(round?: string): number[] {
    const ids = [...this.#answers.values()].filter((a) => round === undefined || a.round === round).map((a) => a.id);
    for (const id of ids) this.#answers.delete(id);
    return ids;
  }
}
