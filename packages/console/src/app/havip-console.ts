// The console's shell: sign-in, the header with navigation and the live indicator, the hash router, and
// the one copy of the state that every view renders — loaded once, then kept current by the event stream.
import { LitElement, css, html, type PropertyValues, type TemplateResult } from "lit";
import type { ChangeEvent, Eip, HaVip, Instance, Subnet, Vpc } from "@havip/control";
import { ApiClient, ApiFailure, errorText, formText } from "./api.ts";
import { LOCAL_CHANGE, type LocalChange } from "./events.ts";
import { savedToken, saveToken } from "./session.ts";
import { followEventStream, type StreamState } from "./sse.ts";
import { applyEvent, emptyState, stateOf, type ConsoleState } from "./state.ts";
import { shared } from "./styles.ts";
import "./havip-list.ts";
import "./havip-detail.ts";
import "./network-view.ts";

type Route = { view: "havips" } | { view: "havip"; id: string } | { view: "network" };

export function routeOf(hash: string): Route {
  const path = hash.replace(/^#/, "");
  const havip = /^\/havips\/([a-z0-9-]+)$/.exec(path);
  if (havip?.[1] !== undefined) return { view: "havip", id: havip[1] };
  if (path === "/network") return { view: "network" };
  return { view: "havips" };
}

const STREAM_LABEL: Record<StreamState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  stopped: "Not updating",
};

export class HavipConsole extends LitElement {
  static override properties = {
    client: { state: true },
    state: { state: true },
    route: { state: true },
    stream: { state: true },
    signInError: { state: true },
    loading: { state: true },
  };
  declare client: ApiClient | null;
  declare state: ConsoleState;
  declare route: Route;
  declare stream: StreamState;
  declare signInError: string;
  declare loading: boolean;
  private stopStream: (() => void) | null = null;
  private readonly onHash = () => {
    this.route = routeOf(location.hash);
  };

  constructor() {
    super();
    this.client = null;
    this.state = emptyState();
    this.route = routeOf(location.hash);
    this.stream = "stopped";
    this.signInError = "";
    this.loading = false;
    this.addEventListener(LOCAL_CHANGE, (e) => {
      this.applyLocal((e as CustomEvent<LocalChange>).detail);
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener("hashchange", this.onHash);
    const token = savedToken();
    if (token !== null) void this.signIn(token);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener("hashchange", this.onHash);
    this.stopStream?.();
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has("route") || changed.has("client")) {
      const titles = { havips: "HAVIPs", havip: "HAVIP", network: "VPCs and subnets" } as const;
      document.title = this.client ? `${titles[this.route.view]} · havip console` : "Sign in · havip console";
    }
    // A new view: keyboard and screen-reader users continue from the top of it, not from the old link.
    if (changed.has("route") && changed.get("route") !== undefined) {
      this.renderRoot.querySelector<HTMLElement>("#main")?.focus({ preventScroll: false });
    }
  }

  private async signIn(token: string): Promise<void> {
    this.loading = true;
    this.signInError = "";
    const client = new ApiClient(token);
    try {
      await client.get("/v1/quotas"); // any valid token may read the quotas: a cheap check of the token
      const health = await client.get<{ revision: number }>("/v1/health");
      const [vpcs, subnets, instances, havips, eips] = await Promise.all([
        client.all<Vpc>("/v1/vpcs"),
        client.all<Subnet>("/v1/subnets"),
        client.all<Instance>("/v1/instances"),
        client.all<HaVip>("/v1/havips"),
        client.all<Eip>("/v1/eips"),
      ]);
      this.state = stateOf(health.revision, { vpcs, subnets, instances, havips, eips });
      saveToken(token);
      this.client = client;
      this.follow(client, health.revision);
    } catch (e) {
      saveToken(null);
      this.signInError = errorText(e);
    } finally {
      this.loading = false;
    }
  }

  private follow(client: ApiClient, since: number): void {
    this.stopStream?.();
    this.stopStream = followEventStream({
      open: (lastEventId, signal) =>
        client.raw("GET", `/v1/events?since=${since}`, {
          headers: { accept: "text/event-stream", ...(lastEventId === null ? {} : { "last-event-id": lastEventId }) },
          signal,
        }),
      onMessage: (message) => {
        if (message.event === "error") return; // the server ends the stream next; we reconnect
        try {
          this.state = applyEvent(this.state, JSON.parse(message.data) as ChangeEvent);
        } catch {
          // a message that is not a change event: nothing to apply
        }
      },
      onState: (state) => {
        this.stream = state;
      },
      isFatal: (e) => e instanceof ApiFailure && (e.status === 401 || e.status === 403),
    });
  }

  private applyLocal(change: LocalChange): void {
    const next = { ...this.state };
    if (change.resource === "havip") {
      const havips = new Map(next.havips);
      if (change.item === null) havips.delete(change.id);
      else havips.set(change.id, change.item);
      next.havips = havips;
    } else {
      const eips = new Map(next.eips);
      if (change.item === null) eips.delete(change.id);
      else eips.set(change.id, change.item);
      next.eips = eips;
    }
    this.state = next;
  }

  private readonly signOut = (): void => {
    this.stopStream?.();
    this.stopStream = null;
    saveToken(null);
    this.client = null;
    this.state = emptyState();
    this.stream = "stopped";
  };

  private readonly onSubmit = (e: SubmitEvent): void => {
    e.preventDefault();
    const token = formText(new FormData(e.target as HTMLFormElement), "token");
    if (token === "") {
      this.signInError = "Enter an API token.";
      return;
    }
    void this.signIn(token);
  };

  private renderSignIn(): TemplateResult {
    return html`
      <main class="sign-in">
        <form class="panel" @submit=${this.onSubmit} aria-labelledby="sign-in-title">
          <h1 id="sign-in-title">havip console</h1>
          <p class="muted">Sign in with a project token (or the operator token, to read every project).</p>
          <div class="field">
            <label for="token">API token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required />
            <div class="hint">Kept in this tab only (sessionStorage) until you sign out.</div>
          </div>
          ${this.signInError ? html`<div class="error" role="alert">${this.signInError}</div>` : null}
          <button type="submit" ?disabled=${this.loading}>${this.loading ? "Signing in…" : "Sign in"}</button>
        </form>
      </main>
    `;
  }

  private renderView(client: ApiClient): TemplateResult {
    switch (this.route.view) {
      case "havip":
        return html`<havip-detail .client=${client} .state=${this.state} .havipId=${this.route.id}></havip-detail>`;
      case "network":
        return html`<network-view .state=${this.state}></network-view>`;
      default:
        return html`<havip-list .client=${client} .state=${this.state}></havip-list>`;
    }
  }

  override render(): TemplateResult {
    const client = this.client;
    if (client === null) return this.renderSignIn();
    const current = (view: Route["view"]) =>
      this.route.view === view || (view === "havips" && this.route.view === "havip") ? "page" : "false";
    return html`
      <a class="skip" href="#main" @click=${this.skip}>Skip to content</a>
      <header>
        <span class="brand">havip <span>console</span></span>
        <nav aria-label="Main">
          <a href="#/" aria-current=${current("havips")}>HAVIPs</a>
          <a href="#/network" aria-current=${current("network")}>VPCs &amp; subnets</a>
        </nav>
        <span class="live ${this.stream}" role="status" data-testid="stream-state">
          <span class="dot" aria-hidden="true"></span>${STREAM_LABEL[this.stream]}
        </span>
        <button class="secondary" @click=${this.signOut}>Sign out</button>
      </header>
      <main id="main" tabindex="-1">${this.renderView(client)}</main>
    `;
  }

  private readonly skip = (e: Event): void => {
    e.preventDefault();
    this.renderRoot.querySelector<HTMLElement>("#main")?.focus();
  };

  static override styles = [
    shared,
    css`
      :host {
        min-height: 100vh;
        background: #f5f7fa;
      }
      .skip {
        position: absolute;
        left: -999px;
      }
      .skip:focus {
        left: 0.5rem;
        top: 0.5rem;
        background: #fff;
        padding: 0.5rem;
        z-index: 2;
      }
      header {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem 1.25rem;
        padding: 0.6rem 1.25rem;
        background: #102a43;
        color: #fff;
      }
      .brand {
        font-weight: 700;
        font-size: 1.1rem;
      }
      .brand span {
        font-weight: 400;
        color: #bcccdc;
      }
      nav {
        display: flex;
        gap: 0.25rem;
        flex: 1;
      }
      nav a {
        color: #d9e2ec;
        text-decoration: none;
        padding: 0.35rem 0.7rem;
        border-radius: 6px;
      }
      nav a[aria-current="page"] {
        background: #243b53;
        color: #fff;
        font-weight: 600;
      }
      nav a:hover {
        color: #fff;
        text-decoration: underline;
      }
      .live {
        font-size: 0.85rem;
        color: #d9e2ec;
        display: inline-flex;
        align-items: center;
        gap: 0.4rem;
      }
      .dot {
        width: 0.6rem;
        height: 0.6rem;
        border-radius: 50%;
        background: #9fb3c8;
      }
      .live.live .dot {
        background: #4ade80;
      }
      .live.reconnecting .dot,
      .live.connecting .dot {
        background: #fbbf24;
      }
      header button.secondary {
        background: transparent;
        color: #fff;
        border-color: #9fb3c8;
      }
      main {
        max-width: 75rem;
        margin: 0 auto;
        padding: 1.25rem;
        outline: none;
      }
      main.sign-in {
        max-width: 26rem;
        padding-top: 12vh;
      }
      @media (max-width: 700px) {
        header {
          padding: 0.6rem 0.75rem;
        }
        main {
          padding: 0.75rem;
        }
        nav {
          order: 3;
          flex-basis: 100%;
        }
      }
    `,
  ];
}

customElements.define("havip-console", HavipConsole);
