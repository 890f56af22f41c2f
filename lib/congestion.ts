/**
 * Congestion control for forwarded channel data (docs/EXTENSIONS.md "Forwarding"; the path and
 * its round-trip time are those of docs/PROTOCOL.md §2.1): one controller per connection, shared
 * by all its channels, so a session's channels together back off under loss.
 *
 * NewReno-like in bytes: slow start from 10 segments, additive increase of one segment per window
 * acknowledged, halving at most once per round trip when a loss is detected, and back to two
 * segments on a retransmission timeout (the timeout doubles on each expiry, up to 8 s, and resets
 * on the next acknowledgement). The window never exceeds `cap` (the per-session cap).
 *
 * Delay: loss alone lets a queue build until something overflows, and that queue is where a
 * keystroke's echo frame waits (the sender's queue, the path, the receiver's socket buffer and
 * its busy event loop all sit behind the same round trip). So the controller also watches the
 * standing queue: once per round trip it takes the least sample of that round trip (a true queue
 * raises every sample, scheduling noise on a loaded machine only some) minus the least sample of
 * the last MIN_RTT_WINDOW ms. Above QUEUE_TARGET it leaves slow start, stops growing, and shrinks
 * the window to what would have kept the queue at the target (Vegas' rule, cwnd·(base+target)/
 * standing, at most halving). Below it the window grows as above. Data then waits behind about
 * QUEUE_TARGET ms of segments at most, wherever the queue is.
 */

import { RttEstimator } from "./rtt.ts";

/** Longest retransmission timeout after backoff, ms. */
export const MAX_CHANNEL_RTO = 8000;
/**
 * Added to the smoothed RTT for the least retransmission timeout, ms: §2.1's RTO (at least 50 ms)
 * is tuned for SSP's small instructions; bulk data queues behind itself, and a timeout that fires
 * while acks are merely late collapses the window to two segments (measured: 7% of window/RTT at
 * 50 ms RTT without it, 71% with 100 ms; with 200 ms the 10%-loss test took 51 s against 24 s,
 * though on a busier machine).
 */
export const RTO_SLACK = 100;
/** Initial congestion window, in segments. */
export const INITIAL_WINDOW_SEGMENTS = 10;
/** The window after a loss seen without a standing queue (docs/EXTENSIONS.md "Scheduling"). */
export const RANDOM_LOSS_FACTOR = 0.85;
/** Smallest congestion window, in segments. */
export const MIN_WINDOW_SEGMENTS = 2;

/**
 * Queueing delay the channels aim at, ms (docs/EXTENSIONS.md "Scheduling"): well under one frame
 * interval (20 ms, §7.3), and above the few milliseconds a loaded event loop adds anyway.
 */
export const QUEUE_TARGET = 4;
/**
 * A round trip is judged only once it has this many samples (it lasts longer otherwise): the
 * least of a few samples on a jittery path (the relay's ±3 ms each way) sits several ms above
 * the path's least and passed for a standing queue, cutting a small window further and further.
 */
export const ROUND_SAMPLES = 8;
/** The base round trip is the least sample within this long, ms (two halves, rotated). */
export const MIN_RTT_WINDOW = 10000;

/** The shared congestion state of one connection's channels. */
export class Congestion {
  /** Round-trip estimate from channel acknowledgements (Karn: first transmissions only). */
  readonly rtt = new RttEstimator();
  /** Congestion window, bytes. */
  cwnd: number;
  /** Slow-start threshold, bytes. */
  ssthresh = Infinity;
  /** Bytes sent, not acknowledged and not declared lost, over all channels. */
  inflight = 0;
  /** Losses counted (for `-v` and the benchmark). */
  losses = 0;
  /** Losses answered as random (no standing queue): the window shrank by RANDOM_LOSS_FACTOR. */
  randomLosses = 0;
  /** Timeouts counted. */
  timeouts = 0;
  /** Times the delay rule shrank the window (for `-v` and the benchmark). */
  delayCuts = 0;
  #backoff = 0;
  #recoveryUntil = -Infinity;
  #minNow = Infinity;
  #minBefore = Infinity;
  #minSince = -Infinity;
  /** The least sample of the current round trip, and when that round trip ends. */
  #roundMin = Infinity;
  #roundEnd = -Infinity;
  #roundSamples = 0;
  /** The least sample of the last whole round trip, and whether it still has to be judged. */
  #standing = 0;
  #judge = false;

  /**
   * @param mss the largest segment payload, bytes
   * @param cap the most bytes in flight for the whole connection
   */
  constructor(readonly mss: number, readonly cap: number) {
    this.cwnd = Math.min(INITIAL_WINDOW_SEGMENTS * mss, cap);
  }

  /** True when `bytes` more may be put in flight now. */
  canSend(bytes: number): boolean {
    return this.inflight + bytes <= this.cwnd || this.inflight === 0;
  }

  /** The current retransmission timeout, ms, with backoff. */
  get rto(): number {
    const base = Math.max(this.rtt.rto, this.rtt.srtt + RTO_SLACK);
    return Math.min(base * (1 << this.#backoff), MAX_CHANNEL_RTO);
  }

  /** The least round trip of the last MIN_RTT_WINDOW ms: the path without our queue, ms. */
  get baseRtt(): number {
    return Math.min(this.#minNow, this.#minBefore);
  }

  /** One round-trip sample (first transmissions only), ms, taken at `now`. */
  onRtt(rtt: number, now: number): void {
    if (!this.rtt.sample(rtt)) return;
    if (now - this.#minSince >= MIN_RTT_WINDOW / 2) {
      this.#minBefore = this.#minNow;
      this.#minNow = Infinity;
      this.#minSince = now;
    }
    if (rtt < this.#minNow) this.#minNow = rtt;
    if (rtt < this.#roundMin) this.#roundMin = rtt;
    this.#roundSamples++;
    if (now >= this.#roundEnd && this.#roundSamples >= ROUND_SAMPLES) {
      this.#standing = this.#roundMin;
      this.#judge = true;
      this.#roundMin = Infinity;
      this.#roundSamples = 0;
      this.#roundEnd = now + Math.max(this.rtt.srtt, 1);
    }
  }

  /** The standing queue of the last round trip, ms. */
  get queueDelay(): number {
    return this.#standing === 0 ? 0 : this.#standing - this.baseRtt;
  }

  /** `bytes` were newly acknowledged at `now` (after `onRtt` for the same acknowledgement). */
  onAcked(bytes: number, now: number): void {
    this.#backoff = 0;
    const target = this.queueTarget;
    const queue = this.queueDelay;
    if (queue > target) {
      // A standing queue: no growth, and once per round trip back to the target.
      if (this.ssthresh > this.cwnd) this.ssthresh = this.cwnd;
      if (this.#judge && now >= this.#recoveryUntil) {
        // A window of a few segments cannot hold a queue worth cutting for: what looks like one
        // is noise (reordering, a busy machine), and halving it further only starves the channel.
        const floor = Math.min(this.cwnd, INITIAL_WINDOW_SEGMENTS * this.mss);
        const fit = this.cwnd * (this.baseRtt + target) / this.#standing;
        this.cwnd = Math.max(fit, this.cwnd / 2, floor);
        this.delayCuts++;
        this.#recoveryUntil = now + this.#standing;
      }
      this.#judge = false;
      return;
    }
    // Only a window in use grows (RFC 7661): one limited by the channels' own 256 KiB window or by
    // the application would otherwise grow without bound and then burst.
    if (this.inflight + bytes < this.cwnd / 2) return;
    // Slow start; on a long path (where one segment per round trip is slow) also whenever there
    // is no standing queue at all: the path has room. A short path's window is small anyway.
    const roomy = queue <= target / 2;
    if (this.cwnd < this.ssthresh || roomy) this.cwnd += bytes;
    else this.cwnd += (this.mss * bytes) / this.cwnd;
    if (this.cwnd > this.cap) this.cwnd = this.cap;
  }

  /**
   * The standing queue aimed at, ms: QUEUE_TARGET, or a quarter of the base round trip on a
   * longer path (where SSP's frame interval, §5.3, is longer too, and scheduling noise on a
   * loaded machine would otherwise pass for a queue).
   */
  get queueTarget(): number {
    return Math.max(QUEUE_TARGET, this.baseRtt / 4);
  }

  /**
   * Something authentic arrived from the peer (any datagram): a backed-off timer goes back to the
   * base RTO, so that segments stalled while the peer was unreachable (an outage, or a roam the
   * server had not yet seen) are resent at once rather than after seconds of backoff. True if the
   * timer was backed off.
   */
  peerHeard(): boolean {
    if (this.#backoff === 0) return false;
    this.#backoff = 0;
    return true;
  }

  /**
   * A loss was detected from acknowledgements at time `now`, once per round trip. With a standing
   * queue it is congestion: halve. Without one it is most likely random loss (a radio link, the
   * relay's 10%): shrink by RANDOM_LOSS_FACTOR, never below INITIAL_WINDOW_SEGMENTS, so that a
   * path losing a segment every round trip still carries a working window (at 10% loss halving
   * kept the window at two to four segments: 0.1 MB/s on a 10 ms path).
   */
  onLoss(now: number): void {
    this.losses++;
    if (now < this.#recoveryUntil) return;
    const congested = this.queueDelay > this.queueTarget;
    const floor = Math.min(this.cwnd, INITIAL_WINDOW_SEGMENTS * this.mss);
    this.cwnd = Math.max(this.cwnd * (congested ? 0.5 : RANDOM_LOSS_FACTOR), floor);
    this.ssthresh = this.cwnd;
    if (!congested) this.randomLosses++;
    this.#recoveryUntil = now + this.rtt.srtt;
  }

  /** The retransmission timer expired at `now`. */
  onTimeout(now: number): void {
    this.timeouts++;
    this.ssthresh = Math.max(this.cwnd / 2, MIN_WINDOW_SEGMENTS * this.mss);
    this.cwnd = MIN_WINDOW_SEGMENTS * this.mss;
    if (this.#backoff < 8) this.#backoff++;
    this.#recoveryUntil = now + this.rtt.srtt;
  }
}
