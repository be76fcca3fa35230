import { assertTopicPattern, HeraldError, isEventId, parseFilter, type EventFilter } from '@herald/protocol';

/** Validates a resume position; empty or absent means none. `name` is used in the error message. */
export function readPosition(value: string | null | undefined, name: string): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (!isEventId(value)) throw new HeraldError('invalid_since', `${name} is not a valid event id`);
  return value;
}

/** Reads the optional `filter` query parameter (needs at least one topic). */
export function readFilter(url: URL, topics: readonly string[]): EventFilter | undefined {
  const text = url.searchParams.get('filter');
  if (text === null || text === '') return undefined;
  if (topics.length === 0) throw new HeraldError('invalid_request', 'filter needs at least one ?topic=');
  return parseFilter(text);
}

/** Reads the repeatable `topic` query parameter as validated, de-duplicated patterns. */
export function readTopics(url: URL, maxTopics: number, required: boolean): string[] {
  const topics = [...new Set(url.searchParams.getAll('topic'))];
  if (required && topics.length === 0) {
    throw new HeraldError('invalid_request', 'name at least one topic: ?topic=<topic>, repeatable');
  }
  if (topics.length > maxTopics) {
    throw new HeraldError('too_many_topics', `${topics.length} topics requested; a connection may hold ${maxTopics}`);
  }
  for (const topic of topics) assertTopicPattern(topic);
  return topics;
}

/**
 * Checks the patterns a connection opens with, its own and the server-chosen ones
 * together: at least one (`required`, SSE), and at most `maxTopics`.
 */
export function checkOpeningTopics(topics: readonly string[], maxTopics: number, required: boolean): void {
  if (required && topics.length === 0) {
    throw new HeraldError('invalid_request', 'name at least one topic: ?topic=<topic>, repeatable (or use a token that names its topics)');
  }
  if (topics.length > maxTopics) {
    throw new HeraldError('too_many_topics', `the connection would hold ${topics.length} topics; a connection may hold ${maxTopics}`);
  }
}
