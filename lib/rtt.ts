/**
 * The round-trip time estimator of docs/PROTOCOL.md §2.1: RFC 6298's smoothed RTT and variation
 * with mosh's constants, and the retransmission timeout derived from them. lib/connection.ts keeps
 * one per connection (fed by the timestamp replies of §2.1), lib/congestion.ts one per forwarding
 * link.
 */

/** RTO bounds, ms. */
export const MIN_RTO = 50;
/** RTO bounds, ms. */
export const MAX_RTO = 1000;

/**
 * The round-trip estimator of §2.1 (RFC 6298 with mosh's constants): SRTT 1000 ms and RTTVAR
 * 500 ms before the first sample; samples of 5000 ms or more are ignored.
 */
export class RttEstimator {
  /** Smoothed round-trip time, ms. */
  srtt = 1000;
  /** Round-trip time variation, ms. */
  rttvar = 500;
  #hit = false;

  /** Takes one sample in ms; returns false if it was ignored (≥ 5000 ms). */
  sample(rtt: number): boolean {
    if (rtt >= 5000) return false;
    if (!this.#hit) {
      this.srtt = rtt;
      this.rttvar = rtt / 2;
      this.#hit = true;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rtt);
      this.srtt = 0.875 * this.srtt + 0.125 * rtt;
    }
    return true;
  }

  /** ceil(SRTT + 4·RTTVAR) clamped to [50, 1000] ms (mosh's `Connection::timeout()`). */
  get rto(): number {
    const rto = Math.ceil(this.srtt + 4 * this.rttvar);
    return rto < MIN_RTO ? MIN_RTO : rto > MAX_RTO ? MAX_RTO : rto;
  }
}
