// One HAVIP: a banner while it is contested (split brain), its holder (live), members and EIP (bind, unbind,
// allocate), the fabric's counters for it (polled), the timeline of holder changes (re-read on every new
// generation), a capture download and delete.
import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from "lit";
import type { Eip, HaVip, HolderHistoryEntry } from "@havip/control";
import { errorText, formText, type ApiClient } from "./api.ts";
import { localChange } from "./events.ts";
import { CONTEST_ADVICE, CONTEST_MEANING, claimants, contestHeadline, SPLIT_BRAIN_GUIDE } from "./contest.ts";
import { formatCount, formatDuration, formatTime, reasonText, timeline } from "./format.ts";
import { broadcastLabel, contestMark, holderCell, membersText } from "./havip-list.ts";
import { instanceOfVnic, type ConsoleState } from "./state.ts";
import { shared } from "./styles.ts";

/** GET /v1/havips/{id}/counters (served by havipd's fabric). */
export interface HaVipCounters {
  havipId: string;
  holderVnicId: string | null;
  generation: number;
  delivered: number;
  claims: number;
  holderChanges: number;
  deniedClaims: number;
  stormGuarded: number;
  fenced: number;
  verifications: number;
  probesSent: number;
  probeAnswers: number;
  verifiedChanges: number;
  withdrawals: number;
  contestDamped: number;
  at: string;
}

const COUNTER_POLL_MS = 3000;
const CAPTURE = { count: 100, timeoutMs: 10_000 } as const;

export class HavipDetail extends LitElement {
  static override properties = {
    client: { attribute: false },
    state: { attribute: false },
    havipId: { attribute: false },
    history: { state: true },
    historyError: { state: true },
    counters: { state: true },
    countersError: { state: true },
    eipError: { state: true },
    eipBusy: { state: true },
    chosenEip: { state: true },
    captureMessage: { state: true },
    captureError: { state: true },
    capturing: { state: true },
    confirmingDelete: { state: true },
    deleteError: { state: true },
    now: { state: true },
  };
  declare client: ApiClient;
  declare state: ConsoleState;
  declare havipId: string;
  declare history: HolderHistoryEntry[] | null;
  declare historyError: string;
  declare counters: HaVipCounters | null;
  declare countersError: string;
  declare eipError: string;
  declare eipBusy: boolean;
  declare chosenEip: string;
  declare captureMessage: string;
  declare captureError: string;
  declare capturing: boolean;
  declare confirmingDelete: boolean;
  declare deleteError: string;
  declare now: number;
  private loadedGeneration = -1;
  private poller: ReturnType<typeof setInterval> | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.history = null;
    this.historyError = "";
    this.counters = null;
    this.countersError = "";
    this.eipError = "";
    this.eipBusy = false;
    this.chosenEip = "";
    this.captureMessage = "";
    this.captureError = "";
    this.capturing = false;
    this.confirmingDelete = false;
    this.deleteError = "";
    this.now = Date.now();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.poller = setInterval(() => void this.loadCounters(), COUNTER_POLL_MS);
    this.ticker = setInterval(() => (this.now = Date.now()), 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.poller);
    clearInterval(this.ticker);
  }

  private get havip(): HaVip | undefined {
    return this.state.havips.get(this.havipId);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("havipId")) {
      this.history = null;
      this.counters = null;
      this.loadedGeneration = -1;
      this.confirmingDelete = false;
    }
    // A new generation (seen on the event stream) means a new timeline entry: read the history again.
    const generation = this.havip?.generation;
    if (generation !== undefined && generation !== this.loadedGeneration) {
      this.loadedGeneration = generation;
      void this.loadHistory();
      void this.loadCounters();
    }
  }

  private async loadHistory(): Promise<void> {
    const id = this.havipId;
    try {
      const entries = await this.client.all<HolderHistoryEntry>(`/v1/havips/${id}/history`);
      if (id === this.havipId) {
        this.history = entries;
        this.historyError = "";
      }
    } catch (e) {
      this.historyError = errorText(e);
    }
  }

  private async loadCounters(): Promise<void> {
    const id = this.havipId;
    if (!this.havip) return;
    try {
      const counters = await this.client.get<HaVipCounters>(`/v1/havips/${id}/counters`);
      if (id === this.havipId) {
        this.counters = counters;
        this.countersError = "";
      }
    } catch (e) {
      this.countersError = errorText(e);
    }
  }

  /** The HAVIP again from the API (its `eip` changes with a binding), handed to the shell. */
  private async refresh(): Promise<void> {
    const havip = await this.client.get<HaVip>(`/v1/havips/${this.havipId}`);
    this.dispatchEvent(localChange({ resource: "havip", id: havip.id, item: havip }));
  }

  private async eipAction(action: () => Promise<void>): Promise<void> {
    this.eipBusy = true;
    this.eipError = "";
    try {
      await action();
    } catch (e) {
      this.eipError = errorText(e);
    } finally {
      this.eipBusy = false;
    }
  }

  private readonly bind = (e: SubmitEvent): void => {
    e.preventDefault();
    const eipId = formText(new FormData(e.target as HTMLFormElement), "eipId");
    void this.eipAction(async () => {
      const eip = await this.client.json<Eip>("POST", `/v1/eips/${eipId}/associate`, { havipId: this.havipId });
      this.dispatchEvent(localChange({ resource: "eip", id: eip.id, item: eip }));
      await this.refresh();
    });
  };

  private unbind(eipId: string): void {
    void this.eipAction(async () => {
      const eip = await this.client.json<Eip>("POST", `/v1/eips/${eipId}/disassociate`, {});
      this.dispatchEvent(localChange({ resource: "eip", id: eip.id, item: eip }));
      await this.refresh();
    });
  }

  private allocate(region: string): void {
    void this.eipAction(async () => {
      const eip = await this.client.json<Eip>("POST", "/v1/eips", { region });
      this.dispatchEvent(localChange({ resource: "eip", id: eip.id, item: eip }));
      this.chosenEip = eip.id;
    });
  }

  private async capture(): Promise<void> {
    this.captureError = "";
    this.capturing = true;
    this.captureMessage = `Capturing up to ${CAPTURE.count} frames (at most ${CAPTURE.timeoutMs / 1000} s)…`;
    try {
      const response = await this.client.raw("POST", "/v1/captures", {
        body: { target: this.havipId, ...CAPTURE },
      });
      const frames = response.headers.get("x-capture-frames");
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const link = document.createElement("a");
      link.href = url;
      link.download = `${this.havipId}-${new Date().toISOString().replace(/[:.]/g, "-")}.pcap`;
      link.click();
      setTimeout(() => {
        URL.revokeObjectURL(url);
      }, 10_000);
      const what =
        frames === null ? `${formatCount(blob.size)} bytes` : `${frames} frames, ${formatCount(blob.size)} bytes`;
      this.captureMessage = `Downloaded ${link.download} (${what}).`;
    } catch (e) {
      this.captureMessage = "";
      this.captureError = errorText(e);
    } finally {
      this.capturing = false;
    }
  }

  private async deleteHavip(): Promise<void> {
    this.deleteError = "";
    try {
      await this.client.json("DELETE", `/v1/havips/${this.havipId}`);
      this.dispatchEvent(localChange({ resource: "havip", id: this.havipId, item: null }));
      location.hash = "#/";
    } catch (e) {
      this.deleteError = errorText(e);
      this.confirmingDelete = false;
    }
  }

  private who(vnicId: string | null, instanceId: string | null): TemplateResult {
    if (vnicId === null) return html`<span class="muted">nobody (released)</span>`;
    const instance =
      (instanceId === null ? undefined : this.state.instances.get(instanceId)) ?? instanceOfVnic(this.state, vnicId);
    return html`<strong>${instance?.name ?? instanceId ?? "?"}</strong> <span class="mono muted">${vnicId}</span>`;
  }

  private renderEip(havip: HaVip): TemplateResult {
    const region = this.state.vpcs.get(havip.vpcId)?.region;
    const free = [...this.state.eips.values()].filter((e) => e.status === "available" && e.region === region);
    const chosen = free.some((e) => e.id === this.chosenEip) ? this.chosenEip : (free[0]?.id ?? "");
    return html`<section class="panel" aria-labelledby="eip-title">
      <h2 id="eip-title">EIP</h2>
      ${
        havip.eip
          ? html`<p>
                Bound: <strong class="mono" data-testid="eip-address">${havip.eip.publicIp}</strong>
                <span class="mono muted">${havip.eip.id}</span>. Inbound traffic goes to whichever vNIC holds the HAVIP.
              </p>
              <button
                class="secondary"
                ?disabled=${this.eipBusy}
                @click=${() => {
                  this.unbind(havip.eip!.id);
                }}
              >
                Unbind EIP
              </button>`
          : html`<p class="muted">No EIP bound.</p>
              <form class="row" @submit=${this.bind}>
                <div class="field grow">
                  <label for="eipId">Free EIP in ${region ?? "the VPC's region"}</label>
                  <select
                    id="eipId"
                    name="eipId"
                    required
                    @change=${(e: Event) => (this.chosenEip = (e.target as HTMLSelectElement).value)}
                  >
                    ${free.length === 0 ? html`<option value="">none: allocate one first</option>` : nothing}
                    ${free.map((e) => html`<option value=${e.id} ?selected=${e.id === chosen}>${e.publicIp} (${e.id})</option>`)}
                  </select>
                </div>
                <div class="field">
                  <button type="submit" ?disabled=${this.eipBusy || free.length === 0}>Bind EIP</button>
                </div>
                <div class="field">
                  <button
                    type="button"
                    class="secondary"
                    ?disabled=${this.eipBusy || region === undefined}
                    @click=${() => {
                      this.allocate(region ?? "");
                    }}
                  >
                    Allocate an EIP
                  </button>
                </div>
              </form>`
      }
      ${this.eipError ? html`<div class="error" role="alert">${this.eipError}</div>` : nothing}
    </section>`;
  }

  private renderCounters(): TemplateResult {
    const c = this.counters;
    const item = (label: string, value: number | undefined, hint: string) =>
      html`<div class="counter" title=${hint}>
        <dt>${label}</dt>
        <dd data-counter=${label}>${value === undefined ? "—" : formatCount(value)}</dd>
      </div>`;
    return html`<section class="panel" aria-labelledby="counters-title">
      <h2 id="counters-title">Counters <span class="muted small">(fabric, every ${COUNTER_POLL_MS / 1000} s)</span></h2>
      <dl class="counters">
        ${item("Delivered", c?.delivered, "Frames delivered to the holder for the HAVIP (its MAC, IP or EIP)")}
        ${item("Claims", c?.claims, "Valid announcements accepted (changes and refreshes)")}
        ${item("Denied", c?.deniedClaims, "Announcements refused: another subnet, not a member, spoofed")}
        ${item("Storm-guarded", c?.stormGuarded, "Changing claims dropped while holder changes came too fast")}
        ${item("Holder changes", c?.holderChanges, "Generations the fabric saw")}
        ${item("Fenced", c?.fenced, "Packets from the HAVIP by a non-holder, dropped")}
        ${item("Verifications", c?.verifications, "Rounds in which the fabric asked who has the address")}
        ${item("Withdrawn", c?.withdrawals, "Holders released because nobody answered for the address")}
        ${item("Contest-damped", c?.contestDamped, "Claims ignored while the HAVIP was contested")}
      </dl>
      ${this.countersError ? html`<div class="error" role="alert">${this.countersError}</div>` : nothing}
    </section>`;
  }

  private renderTimeline(): TemplateResult {
    const rows = this.history === null ? null : timeline(this.history);
    return html`<section class="panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Holder timeline</h2>
      ${
        rows === null
          ? html`<p class="muted">Loading…</p>`
          : rows.length === 0
            ? html`<p class="muted">No holder yet: no vNIC has announced the address.</p>`
            : html`<table class="cards" aria-labelledby="timeline-title" data-testid="timeline">
                <thead>
                  <tr>
                    <th scope="col">Gen</th>
                    <th scope="col">Holder</th>
                    <th scope="col">Reason</th>
                    <th scope="col">When</th>
                    <th scope="col">After previous</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows.map(
                    (r) =>
                      html`<tr data-generation=${r.generation}>
                        <td data-label="Gen">${r.generation}</td>
                        <td data-label="Holder">${this.who(r.vnicId, r.instanceId)}</td>
                        <td data-label="Reason">${reasonText(r.reason)}</td>
                        <td data-label="When" title=${r.at}>${formatTime(r.at)}</td>
                        <td data-label="After previous">
                          ${r.sincePreviousMs === null ? "first holder" : formatDuration(r.sincePreviousMs)}
                        </td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
      }
      ${this.historyError ? html`<div class="error" role="alert">${this.historyError}</div>` : nothing}
    </section>`;
  }

  private renderContest(havip: HaVip): TemplateResult | typeof nothing {
    const contest = havip.contested;
    if (contest === null) return nothing;
    return html`<section class="contest" role="alert" aria-labelledby="contest-title" data-testid="contest-banner">
      <h2 id="contest-title">⚠ Split brain: ${contestHeadline(havip, this.state)}</h2>
      <p>
        Contested since <span title=${contest.since}>${formatTime(contest.since)}</span>
        (${formatDuration(Math.max(0, this.now - Date.parse(contest.since)))}). Instances that answer for the address:
      </p>
      <ul>
        ${claimants(havip, this.state).map(
          (c) =>
            html`<li data-claimant=${c.vnicId}>
              <strong>${c.name}</strong> <span class="mono">${c.vnicId}</span>
              ${c.holder ? html`<span class="badge in-use">holder, kept</span>` : nothing}
            </li>`,
        )}
      </ul>
      <p>${CONTEST_MEANING}</p>
      <p><strong>What to do:</strong> ${CONTEST_ADVICE} The guide: <code>${SPLIT_BRAIN_GUIDE}</code>.</p>
    </section>`;
  }

  override render(): TemplateResult {
    const havip = this.havip;
    if (!havip) {
      return html`<p><a href="#/">← HAVIPs</a></p>
        <h1>HAVIP not found</h1>
        <p class="muted">${this.havipId} does not exist (any more), or belongs to another project.</p>`;
    }
    const subnet = this.state.subnets.get(havip.subnetId);
    const vpc = this.state.vpcs.get(havip.vpcId);
    return html`
      <p><a href="#/">← HAVIPs</a></p>
      <div class="title">
        <h1>${havip.name || havip.id} <span class="mono addr">${havip.ipAddress}</span></h1>
        <span class="badge ${havip.status}" data-testid="status">${havip.status}</span>
        ${contestMark(havip, this.state)}
      </div>
      ${this.renderContest(havip)} ${havip.description ? html`<p>${havip.description}</p>` : nothing}
      <section class="panel" aria-labelledby="holder-title">
        <h2 id="holder-title">Holder</h2>
        <div aria-live="polite" data-testid="holder">${holderCell(havip, this.state, this.now)}</div>
        <dl class="facts">
          <dt>ID</dt>
          <dd class="mono">${havip.id}</dd>
          <dt>Subnet</dt>
          <dd>
            ${
              subnet
                ? html`${subnet.name || subnet.id} <span class="mono">${subnet.cidr}</span>
                    <span class="badge ${subnet.broadcast}">${broadcastLabel(subnet, this.state)}</span>`
                : havip.subnetId
            }
          </dd>
          <dt>VPC</dt>
          <dd>
            ${vpc ? html`${vpc.name || vpc.id} <span class="mono">${vpc.cidr}</span> · ${vpc.region}` : havip.vpcId}
          </dd>
          <dt>Virtual MAC</dt>
          <dd class="mono">${havip.virtualMac}</dd>
          <dt>Members</dt>
          <dd>${membersText(havip, this.state)}</dd>
          <dt>Generation</dt>
          <dd>${havip.generation}</dd>
        </dl>
      </section>
      <div class="two">${this.renderEip(havip)} ${this.renderCounters()}</div>
      ${this.renderTimeline()}
      <section class="panel" aria-labelledby="actions-title">
        <h2 id="actions-title">Actions</h2>
        <div class="row">
          <button class="secondary" ?disabled=${this.capturing} @click=${() => void this.capture()}>
            Capture ${CAPTURE.count} frames
          </button>
          ${
            this.confirmingDelete
              ? html`<span>Delete ${havip.name || havip.id}?</span>
                  <button class="danger" @click=${() => void this.deleteHavip()}>Yes, delete</button>
                  <button class="secondary" @click=${() => (this.confirmingDelete = false)}>Cancel</button>`
              : html`<button class="danger" @click=${() => (this.confirmingDelete = true)}>Delete HAVIP</button>`
          }
        </div>
        ${this.captureMessage ? html`<div class="ok" role="status">${this.captureMessage}</div>` : nothing}
        ${this.captureError ? html`<div class="error" role="alert">${this.captureError}</div>` : nothing}
        ${this.deleteError ? html`<div class="error" role="alert">${this.deleteError}</div>` : nothing}
      </section>
    `;
  }

  static override styles = [
    shared,
    css`
      .title {
        display: flex;
        flex-wrap: wrap;
        gap: 0.75rem;
        align-items: center;
        margin-bottom: 1rem;
      }
      .title h1 {
        margin: 0;
      }
      .contest {
        background: #fef2f2;
        border: 2px solid #b91c1c;
        border-radius: 10px;
        color: #7f1d1d;
        padding: 0.9rem 1.25rem;
        margin: 0 0 1rem;
      }
      .contest h2 {
        color: #7f1d1d;
      }
      .contest p {
        margin: 0.4rem 0;
      }
      .contest ul {
        margin: 0.3rem 0 0.6rem;
        padding-left: 1.25rem;
      }
      .contest li {
        margin: 0.15rem 0;
      }
      .addr {
        font-weight: 400;
        color: #334e68;
      }
      .holder {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 0.75rem;
        align-items: baseline;
        font-size: 1.05rem;
        margin-bottom: 0.75rem;
      }
      dl.facts {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.3rem 1rem;
        margin: 0;
      }
      dl.facts dt {
        font-weight: 600;
        color: #52606d;
      }
      dl.facts dd {
        margin: 0;
      }
      .two {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 0 1rem;
      }
      dl.counters {
        display: grid;
        grid-template-columns: repeat(3, 1fr);
        gap: 0.75rem;
        margin: 0;
      }
      .counter {
        background: #f5f7fa;
        border-radius: 8px;
        padding: 0.5rem 0.75rem;
      }
      .counter dt {
        font-size: 0.8rem;
        color: #52606d;
        font-weight: 600;
      }
      .counter dd {
        margin: 0;
        font-size: 1.4rem;
        font-weight: 700;
        font-variant-numeric: tabular-nums;
      }
      .small {
        font-size: 0.8rem;
        font-weight: 400;
      }
      .grow {
        flex: 1;
        min-width: 14rem;
      }
      @media (max-width: 900px) {
        .two {
          grid-template-columns: 1fr;
        }
      }
      @media (max-width: 700px) {
        dl.counters {
          grid-template-columns: repeat(2, 1fr);
        }
        dl.facts {
          grid-template-columns: 1fr;
        }
        dl.facts dd {
          margin-bottom: 0.4rem;
        }
      }
    `,
  ];
}

customElements.define("havip-detail", HavipDetail);
