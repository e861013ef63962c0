// The lab's one catalogue of error codes. Codes are stable strings; the message of each error says what
// went wrong in the operator's terms and what to do about it.

export const LAB_ERROR_CATALOGUE = {
  "Lab.NotRoot": "The lab needs root (EUID 0) for network namespaces, VXLAN devices and keepalived.",
  "Lab.ProgramMissing": "A program the lab runs is not installed.",
  "Lab.InvalidName": "A lab prefix or instance name does not have the allowed form.",
  "Lab.InvalidParameter": "A parameter (address, MAC, VNI, MTU, keepalived setting …) is not valid.",
  "Lab.NamespaceTaken": "A network namespace with the lab's name exists and was not made by this lab.",
  "Lab.AlreadyUp": "A lab is already up in this state directory.",
  "Lab.NotUp": "No lab is up in this state directory.",
  "Lab.UnknownInstance": "The lab has no instance (or role) of that name.",
  "Lab.InstanceExists": "The lab already has an instance of that name.",
  "Lab.StateCorrupt": "The lab's state file cannot be read.",
  "Lab.CommandFailed": "A command the lab ran exited with an error.",
  "Lab.CommandTimedOut": "A command the lab ran did not finish in time.",
  "Lab.ProcessFailed": "A process the lab started exited or did not become ready.",
} as const;

export type LabErrorCode = keyof typeof LAB_ERROR_CATALOGUE;

export class LabError extends Error {
  readonly code: LabErrorCode;
  constructor(code: LabErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LabError";
    this.code = code;
  }
}

export function isLabError(e: unknown, code?: LabErrorCode): e is LabError {
  return e instanceof LabError && (code === undefined || e.code === code);
}

/** The Debian package that provides each program the lab runs. */
export const DEBIAN_PACKAGE_OF = {
  ip: "iproute2",
  ethtool: "ethtool",
  sysctl: "procps",
  keepalived: "keepalived",
  arping: "arping",
  ping: "iputils-ping",
  tcpdump: "tcpdump",
} as const;

export type LabProgram = keyof typeof DEBIAN_PACKAGE_OF;

export function programMissing(program: string): LabError {
  const pkg = (DEBIAN_PACKAGE_OF as Record<string, string | undefined>)[program];
  const install = pkg === undefined ? "install it" : `install the Debian package ${pkg}: apt-get install -y ${pkg}`;
  return new LabError(
    "Lab.ProgramMissing",
    `The lab needs the program '${program}', which is not installed; ${install}`,
  );
}

export function notRoot(what: string): LabError {
  return new LabError(
    "Lab.NotRoot",
    `The lab needs root to ${what} (running as EUID ${String(process.geteuid?.() ?? "unknown")}); run it as root, e.g. with sudo.`,
  );
}
