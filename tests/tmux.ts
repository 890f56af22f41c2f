/**
 * A small tmux driver for end-to-end tests: run a program in a real terminal (a tmux pane),
 * type into it, resize it and read the screen back, as a person would.
 *
 * Every session gets its own tmux server on a private socket (`tmux -L <unique name>`), started
 * with no configuration file (`-f /dev/null`), in UTF-8 mode (`-u`), in the clean environment of
 * clean_env.ts (no locale but `LANG=C.UTF-8`, whatever the caller's environment holds), with
 * `remain-on-exit on` so the last screen can still be read after the program ends. `kill()` (or
 * `await using`) stops that server and everything running in it.
 *
 * @example
 * ```ts
 * await using t = await Tmux.start({ command: "bash --norc --noprofile", cols: 80, rows: 24 });
 * await t.sendText("echo hi\r");
 * await t.waitFor(/^hi$/m);
 * ```
 */

import { cleanEnv } from "./clean_env.ts";

/** Options for `Tmux.start`. */
export interface TmuxStartOptions {
  /** Shell command line run in the pane (through `sh -c` by tmux). Default: `sh`. */
  command?: string;
  /** Pane width in columns. Default 80. */
  cols?: number;
  /** Pane height in rows. Default 24. */
  rows?: number;
  /** Extra environment variables for the pane's command (tmux `new-session -e`). */
  env?: Record<string, string>;
  /** Environment variables removed from the pane's environment. */
  unsetEnv?: string[];
  /** `TERM` inside the pane (tmux `default-terminal`). Default `xterm-256color`. */
  term?: string;
  /** Working directory of the pane's command. Default: the current directory. */
  cwd?: string;
  /** Lines of scrollback the pane keeps (tmux `history-limit`). Default 5000. */
  historyLimit?: number;
}

/** Options for `capture`. */
export interface CaptureOptions {
  /** Join lines that the terminal wrapped (tmux `capture-pane -J`). Default false. */
  joinWrapped?: boolean;
  /** Include escape sequences for colours and attributes (tmux `-e`). Default false. */
  escapes?: boolean;
  /** Also include this many lines of scrollback above the visible screen. Default 0. */
  history?: number;
}

let counter = 0;

/**
 * Runs `tmux -u -f /dev/null -L <socket> <args>` in the clean environment and returns its stdout;
 * throws with stderr on failure. For tests that drive a tmux server of their own (many windows).
 */
export async function tmux(socket: string, args: string[]): Promise<string> {
  const cmd = new Deno.Command("tmux", {
    args: ["-u", "-f", "/dev/null", "-L", socket, ...args],
    env: cleanEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const out = await cmd.output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`tmux ${args[0]} failed (${out.code}): ${dec.decode(out.stderr).trim()}`);
  }
  return dec.decode(out.stdout);
}

/** One tmux server with one session (`main`) holding one pane. */
export class Tmux {
  private alive = true;
  /** The socket file, removed by kill() (tmux 3.3a's kill-server leaves it behind). */
  private socketPath: string | null = null;

  private constructor(
    /** The private socket name passed to `tmux -L`. */
    readonly socket: string,
  ) {}

  /** Starts a tmux server and a detached session running `opts.command`. */
  static async start(opts: TmuxStartOptions = {}): Promise<Tmux> {
    const socket = `mosh-ts-test-${Deno.pid}-${++counter}-${crypto.randomUUID().slice(0, 8)}`;
    const cols = opts.cols ?? 80, rows = opts.rows ?? 24;
    const envArgs: string[] = [];
    for (const [k, v] of Object.entries({ LANG: "C.UTF-8", ...opts.env })) {
      envArgs.push("-e", `${k}=${v}`);
    }
    const unset = (opts.unsetEnv ?? []).map((k) => `unset ${k}; `).join("");
    const command = unset + (opts.command ?? "sh");
    const t = new Tmux(socket);
    try {
      await tmux(socket, [
        "start-server",
        ";",
        "set-option",
        "-g",
        "default-terminal",
        opts.term ?? "xterm-256color",
        ";",
        "set-option",
        "-g",
        "remain-on-exit",
        "on",
        ";",
        "set-option",
        "-g",
        "history-limit",
        String(opts.historyLimit ?? 5000),
        ";",
        "set-option",
        "-g",
        "status",
        "off",
        ";",
        "new-session",
        "-d",
        "-s",
        "main",
        "-x",
        String(cols),
        "-y",
        String(rows),
        "-c",
        opts.cwd ?? Deno.cwd(),
        ...envArgs,
        command,
      ]);
      // A detached session follows the given size only while window-size is manual.
      await tmux(socket, ["set-option", "-g", "window-size", "manual"]);
      t.socketPath = (await tmux(socket, ["display-message", "-p", "#{socket_path}"])).trim();
    } catch (e) {
      await t.kill();
      throw e;
    }
    return t;
  }

  /** Sends key names as tmux understands them (`Enter`, `C-c`, `Up`, `C-^`...). */
  async sendKeys(...keys: string[]): Promise<void> {
    await tmux(this.socket, ["send-keys", "-t", "main", ...keys]);
  }

  /** Types `text` literally (tmux `send-keys -l`); use `\r` for Enter. */
  async sendText(text: string): Promise<void> {
    await tmux(this.socket, ["send-keys", "-t", "main", "-l", text]);
  }

  /** The pane's screen as text, one line per row, trailing blanks removed. */
  async capture(opts: CaptureOptions = {}): Promise<string> {
    const args = ["capture-pane", "-p", "-t", "main"];
    if (opts.joinWrapped) args.push("-J");
    if (opts.escapes) args.push("-e");
    if (opts.history) args.push("-S", String(-opts.history));
    return await tmux(this.socket, args);
  }

  /** Cursor position, 0-based. */
  async cursor(): Promise<{ row: number; col: number }> {
    const s = await this.display("#{cursor_y} #{cursor_x}");
    const [row, col] = s.split(" ").map(Number);
    return { row, col };
  }

  /** Expands a tmux format string for the pane (`display-message -p`). */
  async display(format: string): Promise<string> {
    return (await tmux(this.socket, ["display-message", "-p", "-t", "main", format])).trim();
  }

  /** True once the pane's command has exited (the pane stays, showing its last screen). */
  async dead(): Promise<boolean> {
    return (await this.display("#{pane_dead}")) === "1";
  }

  /**
   * Waits until the pane's command has exited (the pane is dead) and returns its exit status, or
   * null when tmux does not know it: tmux 3.3a learns the status a moment after the pane dies
   * and, now and then, not at all. A test that must check a status should therefore print it
   * from the shell (`command; echo EXIT=$?`) and read the screen. Throws with the screen if the
   * command is still running after `timeoutMs`.
   */
  async waitExit(timeoutMs = 10000): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.dead())) {
      if (Date.now() >= deadline) {
        const screen = await this.capture();
        throw new Error(`tmux: the command did not exit in ${timeoutMs} ms; screen:\n${screen}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const statusDeadline = Date.now() + 1000;
    for (;;) {
      const status = await this.display("#{pane_dead_status}");
      if (status !== "") return Number(status);
      if (Date.now() >= statusDeadline) return null;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Polls the screen every 50 ms until `pattern` occurs (a string is a plain substring; a
   * RegExp is tested against the whole capture; a function is called with the capture). Returns
   * the screen that matched; on timeout throws an error that includes the last screen, so a
   * failing test shows what was there.
   */
  async waitFor(
    pattern: string | RegExp | ((screen: string) => boolean),
    timeoutMs = 10000,
    opts: CaptureOptions = {},
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = "";
    for (;;) {
      screen = await this.capture(opts);
      const hit = typeof pattern === "string"
        ? screen.includes(pattern)
        : typeof pattern === "function"
        ? pattern(screen)
        : pattern.test(screen);
      if (hit) return screen;
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(
      `tmux: timed out after ${timeoutMs} ms waiting for ${
        typeof pattern === "function" ? "a condition" : String(pattern)
      }; screen:\n${screen}`,
    );
  }

  /**
   * From now on, appends every byte the pane's program writes to its terminal to `file` (tmux
   * `pipe-pane -O`): what a client wrote, escape sequences included.
   */
  async pipeOutput(file: string): Promise<void> {
    await tmux(this.socket, ["pipe-pane", "-O", "-t", "main", `cat >> ${file}`]);
  }

  /** Resizes the window (and so the pane); the program gets SIGWINCH. */
  async resize(cols: number, rows: number): Promise<void> {
    await tmux(this.socket, [
      "resize-window",
      "-t",
      "main",
      "-x",
      String(cols),
      "-y",
      String(rows),
    ]);
  }

  /** Stops the tmux server and every process in its panes (SIGHUP). Safe to call twice. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.alive = false;
    try {
      await tmux(this.socket, ["kill-server"]);
    } catch {
      // Already gone (the server exits by itself when its last session ends).
    }
    if (this.socketPath) await Deno.remove(this.socketPath).catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.kill();
  }
}
