/**
 * The minimal mosh client the server tests drive: a UserStream out, a TerminalState in, over a
 * real UDP connection (lib/connection.ts, lib/transport.ts), stepped by the test itself.
 */
import { Connection } from "../lib/connection.ts";
import { parseKey } from "../lib/key.ts";
import { TerminalState } from "../lib/terminal_state.ts";
import { Transport } from "../lib/transport.ts";
import { UserStream } from "../lib/user_stream.ts";
import { delay } from "./harness.ts";

const encoder = new TextEncoder();

/** The minimal mosh client: UserStream out, TerminalState in, over a real UDP connection. */
export class Probe {
  readonly connection: Connection;
  readonly transport: Transport<UserStream, TerminalState>;

  constructor(port: number, key: string, cols = 80, rows = 24, ip = "127.0.0.1") {
    this.connection = Connection.client({ key: parseKey(key), ip, port });
    this.transport = new Transport<UserStream, TerminalState>({
      link: this.connection,
      initialState: new UserStream(),
      initialRemoteState: new TerminalState(cols, rows),
      sendMinDelay: 1,
    });
    this.connection.listen((payload) => this.transport.recv(payload));
  }

  /** The newest server state. */
  get remote(): TerminalState {
    return this.transport.getLatestRemoteState().state;
  }

  /** The server's screen rows as text (trailing blanks removed). */
  get lines(): string[] {
    const text = this.remote.terminal.screenText();
    const rows = text.slice(0, text.lastIndexOf("cursor ")).split("\n").slice(0, -1);
    return rows.map((row) => row.trimEnd());
  }

  type(text: string | Uint8Array): void {
    this.transport.currentState.pushBytes(typeof text === "string" ? encoder.encode(text) : text);
  }

  resize(cols: number, rows: number): void {
    this.transport.currentState.pushResize(cols, rows);
  }

  /** Runs the client (send, receive) until `done()` holds; fails with the screen on timeout. */
  async until(what: string, done: () => boolean, ms = 5000): Promise<void> {
    const deadline = performance.now() + ms;
    for (;;) {
      this.transport.tick();
      if (done()) return;
      if (performance.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; screen:\n${this.lines.join("\n")}`);
      }
      await delay(Math.max(1, Math.min(this.transport.waitTime(), 10)));
    }
  }

  /** Runs the client for `ms` milliseconds. */
  async run(ms: number): Promise<void> {
    const end = performance.now() + ms;
    await this.until(`${ms} ms`, () => performance.now() >= end, ms + 1000);
  }

  /** Waits for `pattern` on the server's screen. */
  async waitFor(pattern: RegExp, ms = 5000): Promise<void> {
    await this.until(String(pattern), () => pattern.test(this.lines.join("\n")), ms);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}
