/**
 * The payload key of the recorded workflow histories (test/fixtures/histories): the recorder runs its farm with it
 * and the replay test decodes with it. A test fixture's key, deliberately public: nothing secret is ever encrypted
 * with it, and no farm outside these two tests uses it.
 */
export const REPLAY_PAYLOAD_KEYS = `replay:${Buffer.alloc(32, 7).toString('base64')}`;
