// The HAVIP list: every HAVIP with its address, subnet (and broadcast mode), status, holder, members and
// EIP — live, as the shell's state follows the event stream — and the form that creates one.
import { LitElement, css, html, nothing, type TemplateResult } from "lit";
import type { HaVip, Subnet } from "@havip/control";
import { errorText, formText, type ApiClient } from "./api.ts";
import { contestedHavips, contestHeadline } from "./contest.ts";
import { localChange } from "./events.ts";
import { formatDuration, formatTime } from "./format.ts";
import { instanceOfVnic, sorted, type ConsoleState } from "./state.ts";
import { shared } from "./styles.ts";

/** "auto (broadcast domain)" or "auto (no HAVIP yet: unicast)" or "unicast-only": what the subnet carries now. */
export function broadcastLabel(subnet: Subnet, state: ConsoleState): string {
  if (subnet.broadcast === "unicast-only") return "unicast-only";
  const holdsHavip = [...state.havips.values()].some((h) => h.subnetId === subnet.id);
  return holdsHavip ? "auto · broadcast domain" : "auto · no HAVIP yet";
}

export function holderCell(havip: HaVip, state: ConsoleState, now: number): TemplateResult {
  const holder = havip.holder;
  if (holder === null) return html`<span class="muted">none</span>`;
  const instance = state.instances.get(holder.instanceId) ?? instanceOfVnic(state, holder.vnicId);
  return html`<div class="holder" data-holder-vnic=${holder.vnicId}>
    <strong>${instance?.name ?? holder.instanceId}</strong>
    <span class="mono">${holder.vnicId}</span>
    <span class="muted" title=${holder.since}
      >since ${formatTime(holder.since)} (${formatDuration(Math.max(0, now - Date.parse(holder.since)))}) · gen
      ${holder.generation}</span
    >
  </div>`;
}

/** The mark beside a contested HAVIP's status (list and page title). */
export function contestMark(havip: HaVip, state: ConsoleState): TemplateResult | typeof nothing {
  if (havip.contested === null) return nothing;
  return html`<span
    class="badge contested"
    data-testid="contested-mark"
    title="Split brain: ${contestHeadline(havip, state)}"
    >⚠ contested</span
  >`;
}

export function membersText(havip: HaVip, state: ConsoleState): string {
  if (havip.members === null) return "any vNIC of the subnet";
  if (havip.members.length === 0) return "none (no vNIC may claim it)";
  return havip.members.map((m) => state.instances.get(m.instanceId)?.name ?? m.vnicId).join(", ");
}

export class HavipList extends LitElement {
  static override properties = {
    client: { attribute: false },
    state: { attribute: false },
    createError: { state: true },
    created: { state: true },
    busy: { state: true },
    subnetId: { state: true },
    now: { state: true },
  };
  declare client: ApiClient;
  declare state: ConsoleState;
  declare createError: string;
  declare created: string;
  declare busy: boolean;
  declare subnetId: string;
  declare now: number;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.createError = "";
    this.created = "";
    this.busy = false;
    this.subnetId = "";
    this.now = Date.now();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.timer = setInterval(() => (this.now = Date.now()), 1000); // "since" durations keep counting
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
  }

  private readonly onCreate = (e: SubmitEvent): void => {
    void this.create(e);
  };

  private async create(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const text = (name: string) => formText(data, name);
    const members = data.getAll("members").map(String);
    const body: Record<string, unknown> = { subnetId: text("subnetId") };
    if (text("ipAddress") !== "") body.ipAddress = text("ipAddress");
    if (text("name") !== "") body.name = text("name");
    if (text("description") !== "") body.description = text("description");
    if (members.length > 0) body.members = members;
    this.busy = true;
    this.createError = "";
    this.created = "";
    try {
      const havip = await this.client.json<HaVip>("POST", "/v1/havips", body);
      this.dispatchEvent(localChange({ resource: "havip", id: havip.id, item: havip }));
      this.created = `Created ${havip.name || havip.id} at ${havip.ipAddress}.`;
      form.reset();
      this.subnetId = "";
    } catch (err) {
      this.createError = errorText(err);
    } finally {
      this.busy = false;
    }
  }

  private renderRow(havip: HaVip): TemplateResult {
    const subnet = this.state.subnets.get(havip.subnetId);
    const eip = havip.eip;
    return html`<tr data-havip=${havip.id} class=${havip.contested === null ? "" : "contested"}>
      <td data-label="Name">
        <a href="#/havips/${havip.id}">${havip.name || havip.id}</a>
        ${havip.name ? html`<div class="mono muted">${havip.id}</div>` : nothing}
      </td>
      <td data-label="Address" class="mono">${havip.ipAddress}</td>
      <td data-label="Subnet">
        ${
          subnet
            ? html`${subnet.name || subnet.id} <span class="mono muted">${subnet.cidr}</span>
                <div><span class="badge ${subnet.broadcast}">${broadcastLabel(subnet, this.state)}</span></div>`
            : html`<span class="mono">${havip.subnetId}</span>`
        }
      </td>
      <td data-label="Status">
        <span class="badge ${havip.status}">${havip.status}</span> ${contestMark(havip, this.state)}
      </td>
      <td data-label="Holder" class="holder-cell">${holderCell(havip, this.state, this.now)}</td>
      <td data-label="Members">${membersText(havip, this.state)}</td>
      <td data-label="EIP" class="mono">${eip ? eip.publicIp : html`<span class="muted">—</span>`}</td>
    </tr>`;
  }

  private renderForm(): TemplateResult {
    const subnets = sorted(this.state.subnets);
    const chosen = this.subnetId || subnets[0]?.id || "";
    const candidates = sorted(this.state.instances).filter((i) => i.vnics.some((v) => v.subnetId === chosen));
    return html`<section class="panel" aria-labelledby="create-title">
      <h2 id="create-title">Create a HAVIP</h2>
      <form @submit=${this.onCreate}>
        <div class="grid">
          <div class="field">
            <label for="subnetId">Subnet</label>
            <select
              id="subnetId"
              name="subnetId"
              required
              @change=${(e: Event) => (this.subnetId = (e.target as HTMLSelectElement).value)}
            >
              ${subnets.map(
                (s) =>
                  html`<option value=${s.id} ?selected=${s.id === chosen}>
                    ${s.name || s.id} (${s.cidr}, ${s.broadcast})
                  </option>`,
              )}
            </select>
          </div>
          <div class="field">
            <label for="ipAddress">IP address</label>
            <input
              id="ipAddress"
              name="ipAddress"
              inputmode="decimal"
              placeholder="automatic"
              aria-describedby="ip-hint"
            />
            <div class="hint" id="ip-hint">Empty: the lowest free address of the subnet.</div>
          </div>
          <div class="field">
            <label for="name">Name</label>
            <input id="name" name="name" maxlength="255" />
          </div>
          <div class="field">
            <label for="description">Description</label>
            <input id="description" name="description" maxlength="1024" />
          </div>
        </div>
        <fieldset class="field">
          <legend>Members</legend>
          ${
            candidates.length === 0
              ? html`<div class="hint">No instance has a vNIC in this subnet yet.</div>`
              : candidates.map(
                  (i) =>
                    html`<label class="check"
                      ><input type="checkbox" name="members" value=${i.id} /> ${i.name}
                      <span class="muted mono">${i.vnics.find((v) => v.subnetId === chosen)?.ipAddress}</span></label
                    >`,
                )
          }
          <div class="hint">None ticked: any vNIC of the subnet may claim the HAVIP.</div>
        </fieldset>
        ${this.createError ? html`<div class="error" role="alert">${this.createError}</div>` : nothing}
        ${this.created ? html`<div class="ok" role="status">${this.created}</div>` : nothing}
        <button type="submit" ?disabled=${this.busy || subnets.length === 0}>Create HAVIP</button>
      </form>
    </section>`;
  }

  private renderContestNote(): TemplateResult | typeof nothing {
    const contested = contestedHavips(this.state);
    if (contested.length === 0) return nothing;
    const one = contested.length === 1;
    return html`<div class="contest-note" role="status" data-testid="contest-note">
      <strong>⚠ ${contested.length} HAVIP${one ? " is" : "s are"} contested</strong> (split brain: several instances
      hold the address at once):
      ${contested.map((h, i) => html`${i > 0 ? ", " : ""}<a href="#/havips/${h.id}">${h.name || h.ipAddress}</a>`)}.
      Open ${one ? "it" : "each"} for the claimants and what to do.
    </div>`;
  }

  override render(): TemplateResult {
    const havips = sorted(this.state.havips);
    return html`
      <h1>HAVIPs</h1>
      <p class="muted">
        High-availability virtual IPs. The holder is the vNIC that has the address: it announced it last, and the fabric
        checks that it still answers for it. This page follows the event stream and updates by itself.
      </p>
      ${this.renderContestNote()}
      <section class="panel">
        ${
          havips.length === 0
            ? html`<p>No HAVIPs yet. Create one below.</p>`
            : html`<table class="cards" aria-label="HAVIPs">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Address</th>
                    <th scope="col">Subnet</th>
                    <th scope="col">Status</th>
                    <th scope="col">Holder</th>
                    <th scope="col">Members</th>
                    <th scope="col">EIP</th>
                  </tr>
                </thead>
                <tbody>
                  ${havips.map((h) => this.renderRow(h))}
                </tbody>
              </table>`
        }
      </section>
      ${this.renderForm()}
    `;
  }

  static override styles = [
    shared,
    css`
      .holder {
        display: flex;
        flex-direction: column;
      }
      tr.contested td:first-child {
        box-shadow: inset 4px 0 0 #b91c1c;
      }
      .contest-note {
        background: #fef2f2;
        border: 1px solid #fca5a5;
        color: #7f1d1d;
        border-radius: 8px;
        padding: 0.6rem 0.9rem;
        margin: 0 0 1rem;
      }
      .contest-note a {
        color: #7f1d1d;
        font-weight: 600;
      }
      fieldset {
        border: 1px solid #d9e2ec;
        border-radius: 6px;
        padding: 0.5rem 0.75rem;
      }
      legend {
        font-weight: 600;
        font-size: 0.9rem;
      }
      label.check {
        display: inline-flex;
        gap: 0.35rem;
        align-items: center;
        font-weight: 400;
        margin-right: 1rem;
      }
    `,
  ];
}

customElements.define("havip-list", HavipList);
