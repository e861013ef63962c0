// VPCs and their subnets with each subnet's broadcast mode (and whether it is a broadcast domain now),
// and the project's EIPs with their bindings.
import { LitElement, css, html, type TemplateResult } from "lit";
import type { Eip, Vpc } from "@havip/control";
import { broadcastLabel } from "./havip-list.ts";
import { sorted, type ConsoleState } from "./state.ts";
import { shared } from "./styles.ts";

export class NetworkView extends LitElement {
  static override properties = { state: { attribute: false } };
  declare state: ConsoleState;

  private renderVpc(vpc: Vpc): TemplateResult {
    const subnets = sorted(this.state.subnets).filter((s) => s.vpcId === vpc.id);
    const count = <T extends { subnetId: string }>(items: Iterable<T>, subnetId: string) =>
      [...items].filter((x) => x.subnetId === subnetId).length;
    const vnics = [...this.state.instances.values()].flatMap((i) => i.vnics);
    return html`<section class="panel" aria-labelledby="vpc-${vpc.id}">
      <h2 id="vpc-${vpc.id}">
        ${vpc.name || vpc.id} <span class="mono muted">${vpc.cidr}</span>
        <span class="muted small">${vpc.region} · <span class="mono">${vpc.id}</span></span>
      </h2>
      ${
        subnets.length === 0
          ? html`<p class="muted">No subnets.</p>`
          : html`<table class="cards" aria-label="Subnets of ${vpc.name || vpc.id}">
              <thead>
                <tr>
                  <th scope="col">Subnet</th>
                  <th scope="col">CIDR</th>
                  <th scope="col">Zone</th>
                  <th scope="col">Broadcast mode</th>
                  <th scope="col">Gateway</th>
                  <th scope="col">vNICs</th>
                  <th scope="col">HAVIPs</th>
                </tr>
              </thead>
              <tbody>
                ${subnets.map(
                  (s) =>
                    html`<tr data-subnet=${s.id}>
                      <td data-label="Subnet">
                        ${s.name || s.id}
                        <div class="mono muted">${s.id}</div>
                      </td>
                      <td data-label="CIDR" class="mono">${s.cidr}</td>
                      <td data-label="Zone">${s.zone}</td>
                      <td data-label="Broadcast">
                        <span class="badge ${s.broadcast}">${broadcastLabel(s, this.state)}</span>
                      </td>
                      <td data-label="Gateway" class="mono">${s.gatewayIp}</td>
                      <td data-label="vNICs">${count(vnics, s.id)}</td>
                      <td data-label="HAVIPs">${count(this.state.havips.values(), s.id)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    </section>`;
  }

  private target(eip: Eip): TemplateResult {
    const target = eip.target;
    if (target === null) return html`<span class="muted">—</span>`;
    if (target.type === "havip") {
      const havip = this.state.havips.get(target.havipId);
      return html`HAVIP
        <a href="#/havips/${target.havipId}">${havip ? havip.name || havip.ipAddress : target.havipId}</a>`;
    }
    return html`vNIC <span class="mono">${target.vnicId}</span>`;
  }

  override render(): TemplateResult {
    const vpcs = sorted(this.state.vpcs);
    const eips = [...this.state.eips.values()].sort((a, b) => a.publicIp.localeCompare(b.publicIp));
    return html`
      <h1>VPCs &amp; subnets</h1>
      <p class="muted">
        A subnet in <strong>auto</strong> mode becomes a broadcast domain (VRRP multicast, gratuitous ARP) once it holds
        a HAVIP; <strong>unicast-only</strong> never carries broadcast or multicast.
      </p>
      ${vpcs.length === 0 ? html`<p class="panel">No VPCs.</p>` : vpcs.map((v) => this.renderVpc(v))}
      <section class="panel" aria-labelledby="eips-title">
        <h2 id="eips-title">EIPs</h2>
        ${
          eips.length === 0
            ? html`<p class="muted">No EIPs allocated.</p>`
            : html`<table class="cards" aria-labelledby="eips-title">
                <thead>
                  <tr>
                    <th scope="col">Public IP</th>
                    <th scope="col">Region</th>
                    <th scope="col">Status</th>
                    <th scope="col">Bound to</th>
                  </tr>
                </thead>
                <tbody>
                  ${eips.map(
                    (e) =>
                      html`<tr>
                        <td data-label="Public IP" class="mono">${e.publicIp}</td>
                        <td data-label="Region">${e.region}</td>
                        <td data-label="Status">${e.status}</td>
                        <td data-label="Bound to">${this.target(e)}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>`
        }
      </section>
    `;
  }

  static override styles = [
    shared,
    css`
      .small {
        font-size: 0.85rem;
        font-weight: 400;
      }
    `,
  ];
}

customElements.define("network-view", NetworkView);
