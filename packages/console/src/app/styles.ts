// The console's look: one shared sheet. Colours meet WCAG AA contrast on white (text ≥ 4.5:1); focus is
// always visible; tables turn into stacked cards on narrow screens.
import { css } from "lit";

export const shared = css`
  :host {
    display: block;
    color: #1f2933;
    font-family:
      system-ui,
      -apple-system,
      "Segoe UI",
      Roboto,
      "DejaVu Sans",
      sans-serif;
    font-size: 15px;
    line-height: 1.45;
  }
  h1 {
    font-size: 1.5rem;
    margin: 0 0 0.25rem;
  }
  h2 {
    font-size: 1.1rem;
    margin: 0 0 0.75rem;
  }
  a {
    color: #1d4ed8;
  }
  a:focus-visible,
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  textarea:focus-visible,
  summary:focus-visible {
    outline: 3px solid #f59e0b;
    outline-offset: 2px;
  }
  .muted {
    color: #52606d;
  }
  .mono {
    font-family: "DejaVu Sans Mono", ui-monospace, monospace;
    font-size: 0.9em;
    overflow-wrap: anywhere;
  }
  .panel {
    background: #fff;
    border: 1px solid #d9e2ec;
    border-radius: 10px;
    padding: 1rem 1.25rem;
    margin: 0 0 1rem;
    box-shadow: 0 1px 2px rgb(15 23 42 / 6%);
  }
  .badge {
    display: inline-block;
    border-radius: 999px;
    padding: 0.05rem 0.6rem;
    font-size: 0.8rem;
    font-weight: 600;
    white-space: nowrap;
  }
  .badge.in-use {
    background: #dcfce7;
    color: #14532d;
  }
  .badge.available {
    background: #e0e7ff;
    color: #312e81;
  }
  .badge.unicast-only {
    background: #fef3c7;
    color: #78350f;
  }
  .badge.contested {
    background: #fee2e2;
    color: #7f1d1d;
  }
  .badge.auto {
    background: #e0f2fe;
    color: #0c4a6e;
  }
  button {
    font: inherit;
    border-radius: 6px;
    border: 1px solid #1d4ed8;
    background: #1d4ed8;
    color: #fff;
    padding: 0.4rem 0.9rem;
    cursor: pointer;
    min-height: 2.25rem;
  }
  button.secondary {
    background: #fff;
    color: #1d4ed8;
  }
  button.danger {
    background: #b91c1c;
    border-color: #b91c1c;
  }
  button:disabled {
    opacity: 0.6;
    cursor: default;
  }
  label {
    display: block;
    font-weight: 600;
    font-size: 0.9rem;
    margin-bottom: 0.2rem;
  }
  .field {
    margin-bottom: 0.8rem;
  }
  .hint {
    font-size: 0.85rem;
    color: #52606d;
    margin-top: 0.15rem;
  }
  input,
  select,
  textarea {
    font: inherit;
    width: 100%;
    box-sizing: border-box;
    padding: 0.4rem 0.5rem;
    border: 1px solid #7b8794;
    border-radius: 6px;
    background: #fff;
    color: inherit;
  }
  input[type="checkbox"] {
    width: auto;
  }
  .error {
    background: #fef2f2;
    border: 1px solid #fca5a5;
    color: #7f1d1d;
    border-radius: 6px;
    padding: 0.5rem 0.75rem;
    margin: 0.5rem 0;
    overflow-wrap: anywhere;
  }
  .ok {
    background: #f0fdf4;
    border: 1px solid #86efac;
    color: #14532d;
    border-radius: 6px;
    padding: 0.5rem 0.75rem;
    margin: 0.5rem 0;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: end;
  }
  .grid {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr));
    gap: 0 1rem;
  }
  table {
    width: 100%;
    border-collapse: collapse;
  }
  caption {
    text-align: left;
    font-weight: 600;
    padding-bottom: 0.5rem;
  }
  th,
  td {
    text-align: left;
    padding: 0.55rem 0.6rem;
    border-bottom: 1px solid #e4e7eb;
    vertical-align: top;
  }
  td.mono {
    white-space: nowrap;
  }
  th {
    font-size: 0.8rem;
    text-transform: uppercase;
    letter-spacing: 0.03em;
    color: #52606d;
    background: #f5f7fa;
  }
  tbody tr:hover {
    background: #f8fafc;
  }
  @media (max-width: 700px) {
    .panel {
      padding: 0.75rem;
    }
    .badge {
      white-space: normal;
    }
    table.cards thead {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
    }
    table.cards tr {
      display: block;
      border: 1px solid #d9e2ec;
      border-radius: 10px;
      margin-bottom: 0.75rem;
      padding: 0.25rem 0.5rem;
      background: #fff;
    }
    table.cards,
    table.cards tbody {
      display: block;
    }
    table.cards td {
      display: block;
      position: relative;
      padding-left: 7.5rem;
      min-height: 1.4em;
      border-bottom: 1px solid #f0f2f5;
      overflow-wrap: anywhere;
    }
    table.cards td:last-child {
      border-bottom: none;
    }
    table.cards td::before {
      content: attr(data-label);
      position: absolute;
      left: 0.6rem;
      width: 6.5rem;
      font-weight: 600;
      font-size: 0.8rem;
      color: #52606d;
      text-transform: uppercase;
    }
  }
`;
