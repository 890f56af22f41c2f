/**
 * `-R` and `-A` in place before the shell starts (docs/PROTOCOL.md §13; docs/EXTENSIONS.md
 * "Forwarding", "Before the shell"): our wrapper puts MOSH_DENO_FORWARD into the environment of
 * `mosh-server new` (C's mosh-server ignores it), naming each `-R` rule's number and listen
 * address and whether `-A` is wanted. The session makes those listeners and the agent socket
 * when it is created, before the shell is spawned, so the shell's first command can already
 * connect; connections wait in the kernel's accept queue until the first client connection that
 * announces forwarding adopts them (lib/forwarding_server.ts). Nothing here names a target: the
 * client still connects only to its own rule's target. The variable is removed from the shell's
 * environment.
 *
 * Format: words separated by spaces, `A` (agent) or `R<rule>:<port>:<address>`.
 */

import {
  type AgentSocket,
  closeListener,
  makeAgentSocket,
  type ServerForwarding,
} from "./forwarding_server.ts";
import { formatAddress } from "./connection.ts";
import { errorText } from "./errors.ts";
import { FORWARD_PRESET_VARIABLE } from "./forward_spec.ts";

/** Most `-R` rules honoured from the variable. */
const MAX_PRESET_LISTENERS = 16;

/** What a session made from the variable, until a connection adopts it. */
export class ForwardingPreset {
  readonly #listeners: { rule: number; listener: Deno.Listener<Deno.Conn> }[] = [];
  #agent: AgentSocket | null = null;

  /**
   * Makes the listeners and the agent socket `value` names (the agent's directory under
   * `agentParent`); failures are logged in one line each and skipped (the client's LISTEN then
   * reports an `-R` failure in its notification bar).
   */
  constructor(value: string, agentParent: string | undefined, log: (line: string) => void) {
    for (const word of value.split(" ")) {
      if (word === "") continue;
      if (word === "A") {
        if (this.#agent !== null) continue;
        try {
          this.#agent = makeAgentSocket(agentParent);
        } catch (e) {
          log(`mosh-server: agent forwarding: ${errorText(e)}`);
        }
        continue;
      }
      const m = /^R(\d{1,5}):(\d{1,5}):(.+)$/.exec(word);
      if (m === null || Number(m[2]) > 65535 || this.#listeners.length >= MAX_PRESET_LISTENERS) {
        log(`mosh-server: ${FORWARD_PRESET_VARIABLE}: ignoring '${word}'`);
        continue;
      }
      const rule = Number(m[1]), port = Number(m[2]), hostname = m[3];
      try {
        this.#listeners.push({ rule, listener: Deno.listen({ hostname, port }) });
      } catch (e) {
        log(`mosh-server: -R: cannot listen on ${formatAddress(hostname, port)}: ${errorText(e)}`);
      }
    }
  }

  /** The agent socket's path (for SSH_AUTH_SOCK), or null. */
  get agentPath(): string | null {
    return this.#agent?.path ?? null;
  }

  /** Hands everything to a connection's forwarding; the preset is empty afterwards. */
  adoptInto(f: ServerForwarding): void {
    for (const { rule, listener } of this.#listeners) f.adoptListener(rule, listener);
    this.#listeners.length = 0;
    if (this.#agent !== null) f.adoptAgent(this.#agent);
    this.#agent = null;
  }

  /** Closes whatever nobody adopted. */
  close(): void {
    for (const { listener } of this.#listeners) closeListener(listener);
    this.#listeners.length = 0;
    if (this.#agent !== null) {
      closeListener(this.#agent.listener as unknown as Deno.Listener<Deno.Conn>);
      try {
        Deno.removeSync(this.#agent.dir, { recursive: true });
      } catch {
        // already gone
      }
      this.#agent = null;
    }
  }
}
