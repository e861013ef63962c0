// The classic pcap file format (microsecond timestamps, written little-endian), for capture taps and
// tests. The writer hands bytes to a sink and does no I/O itself.

export const PCAP_LINKTYPE_ETHERNET = 1;
export const PCAP_FILE_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

const MAGIC_MICROS = 0xa1b2c3d4;
const MAGIC_NANOS = 0xa1b23c4d;
const MICROS_PER_SECOND = 1_000_000n;

export function pcapFileHeader(snaplen = 65535, linktype = PCAP_LINKTYPE_ETHERNET): Uint8Array {
  const out = new Uint8Array(PCAP_FILE_HEADER_LEN);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC_MICROS, true);
  view.setUint16(4, 2, true); // version 2.4
  view.setUint16(6, 4, true);
  // thiszone and sigfigs (8-15) stay 0
  view.setUint32(16, snaplen, true);
  view.setUint32(20, linktype, true);
  return out;
}

function record(tsMicros: bigint, frame: Uint8Array, origLen: number, inclLen: number): Uint8Array {
  const out = new Uint8Array(PCAP_RECORD_HEADER_LEN + inclLen);
  const view = new DataView(out.buffer);
  view.setUint32(0, Number(tsMicros / MICROS_PER_SECOND), true);
  view.setUint32(4, Number(tsMicros % MICROS_PER_SECOND), true);
  view.setUint32(8, inclLen, true);
  view.setUint32(12, origLen, true);
  out.set(frame.subarray(0, inclLen), PCAP_RECORD_HEADER_LEN);
  return out;
}

/** One record: header and the first `len` bytes of `frame` (all of it by default). */
export function pcapRecord(tsMicros: bigint, frame: Uint8Array, len = frame.length): Uint8Array {
  return record(tsMicros, frame, len, len);
}

/** Writes a file header at construction, then one record per frame (cut to snaplen) to the sink. */
export class PcapWriter {
  readonly #sink: (chunk: Uint8Array) => void;
  readonly #snaplen: number;

  constructor(sink: (chunk: Uint8Array) => void, snaplen = 65535, linktype = PCAP_LINKTYPE_ETHERNET) {
    this.#sink = sink;
    this.#snaplen = snaplen;
    sink(pcapFileHeader(snaplen, linktype));
  }

  write(tsMicros: bigint, frame: Uint8Array, len = frame.length): void {
    this.#sink(record(tsMicros, frame, len, Math.min(len, this.#snaplen)));
  }
}

export interface PcapRecord {
  tsMicros: bigint;
  /** The captured bytes (a copy). */
  data: Uint8Array;
  /** The frame's length on the wire (more than data.length when the capture was cut to snaplen). */
  origLen: number;
}

export interface PcapFile {
  linktype: number;
  snaplen: number;
  records: PcapRecord[];
}

/**
 * Reads a classic pcap file in either byte order, with micro- or nanosecond timestamps (nanoseconds are
 * truncated to microseconds). For tests and tools: it throws an Error on a malformed file.
 */
export function readPcap(buf: Uint8Array): PcapFile {
  if (buf.length < PCAP_FILE_HEADER_LEN) throw new Error("pcap: shorter than the file header");
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let little: boolean;
  let nanos: boolean;
  const magicLe = view.getUint32(0, true);
  const magicBe = view.getUint32(0, false);
  if (magicLe === MAGIC_MICROS || magicLe === MAGIC_NANOS) {
    little = true;
    nanos = magicLe === MAGIC_NANOS;
  } else if (magicBe === MAGIC_MICROS || magicBe === MAGIC_NANOS) {
    little = false;
    nanos = magicBe === MAGIC_NANOS;
  } else {
    throw new Error("pcap: unknown magic number (pcapng is not supported)");
  }
  const snaplen = view.getUint32(16, little);
  const linktype = view.getUint32(20, little) & 0x0fff_ffff; // the high bits carry FCS information
  const records: PcapRecord[] = [];
  let at = PCAP_FILE_HEADER_LEN;
  while (at < buf.length) {
    if (at + PCAP_RECORD_HEADER_LEN > buf.length) throw new Error(`pcap: record header cut at byte ${at}`);
    const seconds = BigInt(view.getUint32(at, little));
    const fraction = BigInt(view.getUint32(at + 4, little));
    const inclLen = view.getUint32(at + 8, little);
    const origLen = view.getUint32(at + 12, little);
    const start = at + PCAP_RECORD_HEADER_LEN;
    if (start + inclLen > buf.length) throw new Error(`pcap: record data cut at byte ${start}`);
    records.push({
      tsMicros: seconds * MICROS_PER_SECOND + (nanos ? fraction / 1000n : fraction),
      data: new Uint8Array(buf.subarray(start, start + inclLen)),
      origLen,
    });
    at = start + inclLen;
  }
  return { linktype, snaplen, records };
}
