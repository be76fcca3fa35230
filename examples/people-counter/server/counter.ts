// What the app server does with its data: plain SQL on the team's tables. Every write
// is one transaction, and Herald's triggers turn each row it changes into an event, so
// nothing here publishes anything.
import pg from 'pg';
import { HttpError } from '../../shared/http.js';

export interface Session {
  id: string;
  name: string;
  capacity: number;
  people_in: number;
  people_out: number;
  current_count: number;
  started_at: string;
}

export interface Movement {
  id: number;
  session_id: string;
  direction: 'in' | 'out';
  count: number;
  created_at: string;
}

export interface Alert {
  id: number;
  session_id: string;
  level: string;
  message: string;
  resolved: boolean;
  created_at: string;
  resolved_at: string | null;
}

export interface Metrics {
  id: string;
  session_id: string;
  current_count: number;
  occupancy_percent: number;
  movements_last_minute: number;
  updated_at: string;
}

/** How many movements the page loads; older ones stay in the table. */
const RECENT_MOVEMENTS = 20;

export class PeopleCounter {
  readonly #pool: pg.Pool;

  /** `url` must already select the app's schema (its search_path). */
  constructor(url: string) {
    this.#pool = new pg.Pool({ connectionString: url, max: 4 });
    this.#pool.on('error', () => undefined);
  }

  /** Adds a session and its metrics row unless it exists. */
  async ensureSession(id: string, name: string, capacity: number): Promise<void> {
    await this.#transaction(async (db) => {
      await db.query('INSERT INTO sessions (id, name, capacity) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [id, name, capacity]);
      await db.query('INSERT INTO realtime_metrics (id, session_id) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [id]);
    });
  }

  async sessions(): Promise<Session[]> {
    return (await this.#pool.query<Session>('SELECT * FROM sessions ORDER BY started_at, id')).rows;
  }

  async movements(sessionId: string): Promise<Movement[]> {
    const sql = 'SELECT * FROM (SELECT * FROM people_movements WHERE session_id = $1 ORDER BY id DESC LIMIT $2) recent ORDER BY id';
    return (await this.#pool.query<Movement>(sql, [sessionId, RECENT_MOVEMENTS])).rows;
  }

  /** The session's alerts; `resolved` narrows them, as the team's `?resolved=` did. */
  async alerts(sessionId: string, resolved?: boolean): Promise<Alert[]> {
    const sql = 'SELECT * FROM alert_logs WHERE session_id = $1 AND ($2::boolean IS NULL OR resolved = $2) ORDER BY id';
    return (await this.#pool.query<Alert>(sql, [sessionId, resolved ?? null])).rows;
  }

  async metrics(sessionId: string): Promise<Metrics[]> {
    return (await this.#pool.query<Metrics>('SELECT * FROM realtime_metrics WHERE session_id = $1', [sessionId])).rows;
  }

  /**
   * Records people passing the door: the movement row, the session's counts and its
   * metrics change together, and crossing the capacity raises an alert.
   */
  async move(sessionId: string, direction: unknown, count: unknown): Promise<Movement> {
    if (direction !== 'in' && direction !== 'out') throw new HttpError(400, "direction must be 'in' or 'out'");
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1000)
      throw new HttpError(400, 'count must be a whole number from 1 to 1000');
    return this.#transaction(async (db) => {
      const session = await this.#lockSession(db, sessionId);
      // A door sensor can miss someone; the count never goes below zero.
      const delta = direction === 'in' ? count : -Math.min(count, session.current_count);
      const inserted = await db.query<Movement>('INSERT INTO people_movements (session_id, direction, count) VALUES ($1, $2, $3) RETURNING *', [
        sessionId,
        direction,
        count,
      ]);
      await this.#applyCount(db, session, delta, direction === 'in' ? count : 0, direction === 'out' ? count : 0);
      return inserted.rows[0]!;
    });
  }

  /** Deletes a movement recorded by mistake and takes it back out of the counts. */
  async deleteMovement(id: number): Promise<void> {
    await this.#transaction(async (db) => {
      const found = await db.query<Movement>('DELETE FROM people_movements WHERE id = $1 RETURNING *', [id]);
      const movement = found.rows[0];
      if (movement === undefined) throw new HttpError(404, `no movement ${id}`);
      const session = await this.#lockSession(db, movement.session_id);
      const delta = movement.direction === 'in' ? -Math.min(movement.count, session.current_count) : movement.count;
      await this.#applyCount(db, session, delta, movement.direction === 'in' ? -movement.count : 0, movement.direction === 'out' ? -movement.count : 0);
    });
  }

  async resolveAlert(id: number): Promise<Alert> {
    const result = await this.#pool.query<Alert>('UPDATE alert_logs SET resolved = true, resolved_at = now() WHERE id = $1 AND NOT resolved RETURNING *', [id]);
    if (result.rows[0] === undefined) throw new HttpError(404, `no unresolved alert ${id}`);
    return result.rows[0];
  }

  close(): Promise<void> {
    return this.#pool.end();
  }

  async #lockSession(db: pg.PoolClient, id: string): Promise<Session> {
    const found = await db.query<Session>('SELECT * FROM sessions WHERE id = $1 FOR UPDATE', [id]);
    if (found.rows[0] === undefined) throw new HttpError(404, `no session ${id}`);
    return found.rows[0];
  }

  async #applyCount(db: pg.PoolClient, session: Session, delta: number, addIn: number, addOut: number): Promise<void> {
    const current = session.current_count + delta;
    await db.query('UPDATE sessions SET current_count = $2, people_in = people_in + $3, people_out = people_out + $4 WHERE id = $1', [
      session.id,
      current,
      addIn,
      addOut,
    ]);
    await db.query(
      `UPDATE realtime_metrics SET current_count = $2, occupancy_percent = round(100.0 * $2::integer / $3::integer),
         movements_last_minute = (SELECT count(*) FROM people_movements WHERE session_id = $1 AND created_at > now() - interval '1 minute'),
         updated_at = now()
       WHERE id = $1`,
      [session.id, current, session.capacity],
    );
    // An alert is raised when the count crosses the capacity, not on every movement above it.
    if (current > session.capacity && session.current_count <= session.capacity) {
      await db.query("INSERT INTO alert_logs (session_id, level, message) VALUES ($1, 'warning', $2)", [
        session.id,
        `${session.name} is over capacity: ${current} of ${session.capacity}`,
      ]);
    }
  }

  async #transaction<T>(work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    const db = await this.#pool.connect();
    try {
      await db.query('BEGIN');
      const result = await work(db);
      await db.query('COMMIT');
      return result;
    } catch (error) {
      await db.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      db.release();
    }
  }
}
