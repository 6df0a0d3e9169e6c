/**
 * The users a poll round visits: every user MI sent a request for since activation, until
 * DeactivateUser, a rejected token or an expired credential takes them off. The state store has
 * no listing, so the roster is one record (user ids hashed would not do: the poll job needs the
 * id to find the credential; ids are the vendor's user ids, no secret). Two containers adding
 * at the same instant can lose one addition; the user's next MI request adds them again, since
 * every request checks that the user is listed. At about 40 bytes per id one record holds some
 * thousands of users (DynamoDB's 400 KB item limit).
 */
import { keys } from "../operations/keys.ts";
import type { StateStore } from "../store/store.ts";

interface RosterRecord {
  users: string[];
}

export class PollRoster {
  constructor(
    private readonly store: StateStore,
    private readonly connectorKey: string,
  ) {}

  async list(): Promise<string[]> {
    const rec = await this.store.get<RosterRecord>(keys.pollRoster(this.connectorKey));
    return Array.isArray(rec?.users) ? rec.users.filter((u): u is string => typeof u === "string") : [];
  }

  async add(userId: string): Promise<void> {
    const users = await this.list();
    if (users.includes(userId)) return;
    await this.store.put(keys.pollRoster(this.connectorKey), { users: [...users, userId] } satisfies RosterRecord);
  }

  async remove(userId: string): Promise<void> {
    const users = await this.list();
    if (!users.includes(userId)) return;
    await this.store.put(keys.pollRoster(this.connectorKey), { users: users.filter((u) => u !== userId) } satisfies RosterRecord);
  }
}
