// What the fabric found when it verified a holder reported by hand (`havip observe`), in one line: the report
// may have been corrected before the answer, and the operator must see that rather than the report alone.
import type { HolderVerification } from "@havip/control";

/** Labels by vNIC id ("vm-B (eni-…)"); the id alone when unknown. */
export type VnicLabels = ReadonlyMap<string, string>;

export function verificationLine(v: HolderVerification | null | undefined, labels: VnicLabels): string {
  if (v === undefined) return "";
  if (v === null) return "not verified: the fabric did not answer in time; the report stands\n";
  const label = (id: string) => labels.get(id) ?? id;
  const holder = v.holderVnicId === null ? "nobody" : label(v.holderVnicId);
  switch (v.outcome) {
    case "confirmed":
      return `verified: ${holder} answers for the address\n`;
    case "moved":
      return `corrected by verification: ${holder} has the address and holds it now, generation ${v.generation}\n`;
    case "contested":
      return (
        `CONTESTED: ${v.answered.map(label).join(", ")} all answer for the address (split brain); ` +
        `${holder} is kept; see docs/guides/split-brain.md\n`
      );
    case "silent":
      return `not confirmed: nobody answered the fabric's probe yet (the holder is released after 3 silent rounds)\n`;
    case "released":
      return `released by verification: nobody answers for the address, generation ${v.generation}\n`;
    case "unheld":
      return "verified: nobody has the address\n";
    case "unasked":
      return "not verified: no vNIC that may claim the HAVIP is attached to the fabric; the report stands\n";
  }
}
