// The hub's authorization hook (`--authorize-url`), answered from the app's own data:
// at connect it names the supervisor's groups (server-chosen subscriptions), and on
// every later check (a subscribe, the periodic re-check) it allows only those groups.
import type { School } from './school.js';
import { groupTopic } from './school.js';

/** What the hub posts (docs/protocol.md, section 5.7). */
interface HookRequest {
  sub?: unknown;
  topics?: unknown;
  connect?: unknown;
}

export function answerHook(school: School, body: HookRequest): { allow: boolean; topics?: string[] } {
  if (typeof body.sub !== 'string' || !school.supervisors.has(body.sub)) return { allow: false };
  const allowed = school.groupsOf(body.sub).map((group) => groupTopic(group.id));
  const asked = Array.isArray(body.topics) ? body.topics : [];
  const allow = asked.every((topic) => typeof topic === 'string' && allowed.includes(topic));
  return body.connect === true ? { allow, topics: allowed } : { allow };
}
