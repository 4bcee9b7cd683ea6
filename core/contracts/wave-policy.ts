/**
 * The promote policy of a repository (issue 9, item 5; db/entities.ts Repository.promote): `unstable` follows a
 * wave's histories when the wave ended with every build published — none failed, dropped (cancelled, superseded,
 * blocked) or left out of its publish — and its histories passed vessel's closure check (they were written). The
 * move is made by vessel's promote, as an admin's is, and recorded in the index's audit trail by `policy`.
 */
export const POLICY_ACTOR = 'policy';

export interface WavePromotePlan {
  /** The indexes whose `unstable` takes the history `volatile` names now (the wave's own, just written). */
  indexes: string[];
  /** Why nothing is promoted (no policy, a failed build, …), for the log. */
  reason?: string;
}

/** Summit's side of the policy (activities/summit/wave-policy.ts). */
export interface WavePolicyActivities {
  wavePromotePlan(waveId: string): Promise<WavePromotePlan>;
  /** Records a promote the policy made (or tried: `error`) in the index's audit trail. */
  recordPolicyPromote(waveId: string, index: string, outcome: { streams: Record<string, string> } | { error: string }): Promise<void>;
}
