// The change log as actors see it: a project sees its own project's changes, the operator sees all.
import { ApiError } from "../errors.ts";
import type { ChangeEvent } from "../model.ts";
import type { Actor } from "../service.ts";
import type { Store } from "../store/index.ts";

const MAX_EVENTS = 1000;

export function eventServices(store: Store) {
  async function eventsSince(actor: Actor, since: number, limit: number): Promise<ChangeEvent[]> {
    if (!Number.isSafeInteger(since) || since < 0) {
      throw new ApiError("InvalidParameter", "since must be a revision (an integer ≥ 0).");
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS) {
      throw new ApiError("InvalidParameter", `limit must be an integer from 1 to ${MAX_EVENTS}.`);
    }
    return store.changesSince(since, limit, actor.kind === "project" ? actor.projectId : undefined);
  }
  return {
    eventsSince,
    currentRevision: () => store.currentRevision(),
    onChange: (listener: (event: ChangeEvent) => void) => store.onChange(listener),
  };
}
