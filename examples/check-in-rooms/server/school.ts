// The app's own data (in memory): groups and their rooms, supervisors, who supervises
// which group, and which student is checked in where. Everything the hub learns about
// rights comes from here, through the authorization hook.
import { HttpError } from '../../shared/http.js';

interface Room {
  id: string;
  name: string;
}

export interface Group {
  id: string;
  name: string;
  rooms: Room[];
}

export interface Supervisor {
  id: string;
  name: string;
}

/** A student present in a room of a group: the team's "visit", display-level data only. */
export interface Visit {
  student_id: string;
  student_name: string;
  room_id: string;
  checked_in_at: string;
}

export class School {
  readonly groups = new Map<string, Group>();
  readonly supervisors = new Map<string, Supervisor>();
  /** Supervisor id to the ids of the groups they supervise now. */
  readonly #supervisions = new Map<string, Set<string>>();
  /** Group id to its visits, by student id. */
  readonly #visits = new Map<string, Map<string, Visit>>();

  addGroup(group: Group): void {
    this.groups.set(group.id, group);
    this.#visits.set(group.id, new Map());
  }

  addSupervisor(supervisor: Supervisor, groupIds: readonly string[]): void {
    this.supervisors.set(supervisor.id, supervisor);
    this.#supervisions.set(supervisor.id, new Set(groupIds));
  }

  groupsOf(supervisorId: string): Group[] {
    return [...(this.#supervisions.get(supervisorId) ?? [])].map((id) => this.groups.get(id)!);
  }

  supervises(supervisorId: string, groupId: string): boolean {
    return this.#supervisions.get(supervisorId)?.has(groupId) === true;
  }

  /** Ends a supervision; false when there was none. */
  revoke(supervisorId: string, groupId: string): boolean {
    return this.#supervisions.get(supervisorId)?.delete(groupId) === true;
  }

  grant(supervisorId: string, groupId: string): void {
    if (!this.supervisors.has(supervisorId)) throw new HttpError(404, `no supervisor ${supervisorId}`);
    this.#group(groupId);
    this.#supervisions.get(supervisorId)!.add(groupId);
  }

  visits(groupId: string): Visit[] {
    return [...this.#visitsOf(groupId).values()];
  }

  checkIn(groupId: string, input: Record<string, unknown>, now = new Date()): Visit {
    const group = this.#group(groupId);
    const studentId = input['student_id'];
    const studentName = input['student_name'];
    const roomId = input['room_id'];
    if (typeof studentId !== 'string' || studentId === '') throw new HttpError(400, 'student_id is required');
    if (typeof studentName !== 'string' || studentName.trim() === '') throw new HttpError(400, 'student_name is required');
    if (typeof roomId !== 'string' || !group.rooms.some((room) => room.id === roomId)) throw new HttpError(400, `room_id must be a room of group ${groupId}`);
    const visit: Visit = { student_id: studentId, student_name: studentName, room_id: roomId, checked_in_at: now.toISOString() };
    // A student is in one room at a time: checking in again moves them.
    this.#visitsOf(groupId).set(studentId, visit);
    return visit;
  }

  /** Removes a student's visit; false when they were not checked in. */
  checkOut(groupId: string, studentId: string): boolean {
    return this.#visitsOf(groupId).delete(studentId);
  }

  #group(groupId: string): Group {
    const group = this.groups.get(groupId);
    if (group === undefined) throw new HttpError(404, `no group ${groupId}`);
    return group;
  }

  #visitsOf(groupId: string): Map<string, Visit> {
    this.#group(groupId);
    return this.#visits.get(groupId)!;
  }
}

/** Three groups, two supervisors: Anna supervises the first two, Ben the third. */
export function seedSchool(): School {
  const school = new School();
  school.addGroup({
    id: 'g7',
    name: 'Sunflowers',
    rooms: [
      { id: 'r1', name: 'Art room' },
      { id: 'r2', name: 'Gym' },
    ],
  });
  school.addGroup({
    id: 'g9',
    name: 'Foxes',
    rooms: [
      { id: 'r3', name: 'Library' },
      { id: 'r4', name: 'Garden' },
    ],
  });
  school.addGroup({ id: 'g12', name: 'Owls', rooms: [{ id: 'r5', name: 'Music room' }] });
  school.addSupervisor({ id: 'anna', name: 'Anna Berg' }, ['g7', 'g9']);
  school.addSupervisor({ id: 'ben', name: 'Ben Krause' }, ['g12']);
  return school;
}

/** The hub topic of a group's events. */
export const groupTopic = (groupId: string): string => `groups/${groupId}`;
