// Events the views raise to tell the shell about a change they made, so the page shows it at once even
// before the change arrives on the event stream (which then confirms it).
import type { Eip, HaVip } from "@havip/control";

export type LocalChange =
  { resource: "havip"; id: string; item: HaVip | null } | { resource: "eip"; id: string; item: Eip | null };

export const LOCAL_CHANGE = "havip-local-change";

export function localChange(change: LocalChange): CustomEvent<LocalChange> {
  return new CustomEvent(LOCAL_CHANGE, { detail: change, bubbles: true, composed: true });
}
