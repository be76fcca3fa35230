// What the app does to its data, and what it tells Herald about each change: the part the
// team's `realtime_service` and signal handlers did. Every change is made first, then
// published, so a page that reloads from the API after an event sees at least that event.
import { HttpError } from '../../shared/http.js';
import type { HttpPublisher } from '../../shared/publisher.js';
import { leaderboard, type Announcement, type Fixture, type FixtureStatus, type Priority, type SportsEvent } from './model.js';

/** The topics of one event: one per stream the team had (`event_{id}_results`, …). */
export function eventTopics(eventId: number): { results: string; schedule: string; announcements: string } {
  return { results: `events/${eventId}/results`, schedule: `events/${eventId}/schedule`, announcements: `events/${eventId}/announcements` };
}

export interface FixtureChange {
  start_at?: string;
  venue?: string;
  status?: FixtureStatus;
}

export class EventService {
  readonly #event: SportsEvent;
  readonly #publisher: HttpPublisher;
  #nextFixtureId: number;
  #nextAnnouncementId: number;

  constructor(event: SportsEvent, publisher: HttpPublisher) {
    this.#event = event;
    this.#publisher = publisher;
    this.#nextFixtureId = Math.max(100, ...event.fixtures.map((f) => f.id)) + 1;
    this.#nextAnnouncementId = Math.max(0, ...event.announcements.map((a) => a.id)) + 1;
  }

  get event(): SportsEvent {
    return this.#event;
  }

  get topics(): ReturnType<typeof eventTopics> {
    return eventTopics(this.#event.id);
  }

  leaderboard(): ReturnType<typeof leaderboard> {
    return leaderboard(this.#event);
  }

  /** Fixtures in kick-off order. */
  schedule(): Fixture[] {
    return [...this.#event.fixtures].sort((a, b) => a.start_at.localeCompare(b.start_at) || a.id - b.id);
  }

  /** Newest first. */
  announcements(): Announcement[] {
    return [...this.#event.announcements].reverse();
  }

  /** Records the final score of a fixture: the fixture is finished and the table changes. */
  recordResult(fixtureId: number, homeScore: number, awayScore: number): Fixture {
    if (!isScore(homeScore) || !isScore(awayScore)) throw new HttpError(400, 'scores must be whole numbers from 0 to 99');
    const fixture = this.#fixture(fixtureId);
    fixture.home_score = homeScore;
    fixture.away_score = awayScore;
    fixture.status = 'FINISHED';
    this.#publisher.publish({ topic: this.topics.schedule, type: 'update', data: fixture });
    this.#publisher.publish({
      topic: this.topics.results,
      type: 'results_update',
      data: { event_id: this.#event.id, leaderboard: this.leaderboard(), result: fixture, timestamp: new Date().toISOString() },
    });
    return fixture;
  }

  addFixture(homeTeamId: number, awayTeamId: number, startAt: string, venue: string): Fixture {
    const home = this.#team(homeTeamId);
    const away = this.#team(awayTeamId);
    if (home.id === away.id) throw new HttpError(400, 'a team cannot play itself');
    const fixture: Fixture = {
      id: this.#nextFixtureId++,
      home_team: home,
      away_team: away,
      start_at: isoTime(startAt),
      venue,
      status: 'SCHEDULED',
      home_score: null,
      away_score: null,
    };
    this.#event.fixtures.push(fixture);
    this.#publisher.publish({ topic: this.topics.schedule, type: 'create', data: fixture });
    return fixture;
  }

  /** Reschedules, moves or changes the status of a fixture (a finished one keeps its result). */
  changeFixture(fixtureId: number, change: FixtureChange): Fixture {
    const fixture = this.#fixture(fixtureId);
    if (change.start_at !== undefined) fixture.start_at = isoTime(change.start_at);
    if (change.venue !== undefined) fixture.venue = change.venue;
    if (change.status !== undefined) {
      if (!['SCHEDULED', 'LIVE', 'FINISHED', 'POSTPONED'].includes(change.status)) throw new HttpError(400, `unknown status ${change.status}`);
      fixture.status = change.status;
    }
    this.#publisher.publish({ topic: this.topics.schedule, type: 'update', data: fixture });
    return fixture;
  }

  /** Cancels a fixture; if it had a result, the table changes too. */
  removeFixture(fixtureId: number): void {
    const fixture = this.#fixture(fixtureId);
    this.#event.fixtures = this.#event.fixtures.filter((f) => f !== fixture);
    this.#publisher.publish({ topic: this.topics.schedule, type: 'delete', data: { id: fixture.id } });
    if (fixture.status === 'FINISHED') {
      this.#publisher.publish({
        topic: this.topics.results,
        type: 'results_update',
        data: { event_id: this.#event.id, leaderboard: this.leaderboard(), result: null, timestamp: new Date().toISOString() },
      });
    }
  }

  announce(title: string, message: string, priority: Priority = 'normal'): Announcement {
    if (title.trim() === '' || message.trim() === '') throw new HttpError(400, 'an announcement needs a title and a message');
    if (!['low', 'normal', 'high'].includes(priority)) throw new HttpError(400, `unknown priority ${priority}`);
    const announcement: Announcement = { id: this.#nextAnnouncementId++, title, message, priority, timestamp: new Date().toISOString() };
    this.#event.announcements.push(announcement);
    this.#publisher.publish({ topic: this.topics.announcements, type: 'create', data: announcement });
    return announcement;
  }

  #fixture(id: number): Fixture {
    const fixture = this.#event.fixtures.find((f) => f.id === id);
    if (fixture === undefined) throw new HttpError(404, `no fixture ${id}`);
    return fixture;
  }

  #team(id: number): { id: number; name: string } {
    const team = this.#event.teams.find((t) => t.id === id);
    if (team === undefined) throw new HttpError(400, `no team ${id}`);
    return team;
  }
}

const isScore = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < 100;

function isoTime(value: string): string {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw new HttpError(400, `not a time: ${value}`);
  return time.toISOString();
}
