/**
 * The wire's message wrapper (protocol §2): `{msgClass, date, payload,
 * retain?}`. State and analysis may come LZ-String compressed; `unwrap`
 * gives the payload as data whatever the class.
 */
import { decompressFromUTF16 } from "./lzstring.js";

export const MessageClass = Object.freeze({
  SERVICE_REGISTRATION: 2,
  SERVICE_DATA: 4,
  DIRECTORY_LISTING: 5,
  ANALYSIS_DATA: 7,
  SERVICE_DATA_COMPRESSED: 8,
  ANALYSIS_DATA_COMPRESSED: 9,
});

const COMPRESSED = new Set([MessageClass.SERVICE_DATA_COMPRESSED, MessageClass.ANALYSIS_DATA_COMPRESSED]);

/** {msgClass, date, payload} of a wrapper; payload decompressed when needed. Throws on garbage. */
export function unwrap(wrapper) {
  if (!wrapper || typeof wrapper !== "object") throw new Error("not a message wrapper");
  let payload = wrapper.payload;
  if (COMPRESSED.has(wrapper.msgClass)) {
    const text = decompressFromUTF16(payload);
    if (typeof text !== "string" || text === "") throw new Error("payload does not decompress");
    payload = JSON.parse(text);
  }
  return { msgClass: wrapper.msgClass, date: typeof wrapper.date === "number" ? wrapper.date : Date.now(), payload };
}

export const topics = Object.freeze({
  DIRECTORY: "livetiming.directory",
  LIST_SERVICES: "livetiming.directory.listServices",
  state: (uuid) => `livetiming.service.${uuid}`,
  requestState: (uuid) => `livetiming.service.requestState.${uuid}`,
  requestAnalysis: (uuid) => `livetiming.service.requestAnalysisData.${uuid}`,
  analysisPrefix: (uuid) => `livetiming.analysis/${uuid}/`,
});

/** FlagStatus names by value (constants.md), for analysis flag periods. */
export const FLAGS = ["none", "green", "white", "chequered", "yellow", "fcy", "code_60", "vsc", "sc", "caution",
  "red", "slow_zone", "code_60_zone"];
