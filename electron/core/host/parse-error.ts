/**
 * The error every host-fact parser throws on malformed input (mountinfo, ELF headers, Wayland wire
 * data): a plain `Error` with a stable `code` naming the format, and a message that says what was
 * wrong and where, without echoing the raw bytes.
 */
export class ParseError extends Error {
  readonly code: string;

  /**
   * @param code stable code of the format, e.g. `'EMOUNTINFO'`, `'EELF'`, `'EWAYLAND_PROTOCOL'`
   * @param message what was wrong and where
   */
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ParseError';
    this.code = code;
  }
}
