/**
 * Tests that need a tool the machine may lack (systemd-nspawn, docker-compose): locally they are skipped with the
 * reason in their name; on CI (CI=true) they fail instead, because .ci/run installs every such tool and a skip
 * there would hide a broken set-up.
 */

export function onCi(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

/** describe() when `unavailableReason` is undefined; otherwise a skip (locally) or one failing test (on CI). */
export function describeWhenAvailable(unavailableReason: string | undefined, name: string, body: () => void): void {
  if (unavailableReason === undefined) {
    describe(name, body);
  } else if (onCi()) {
    describe(name, () => {
      it(`has what it needs on CI (${unavailableReason})`, () => {
        throw new Error(`${unavailableReason}: .ci/run must install it`);
      });
    });
  } else {
    describe.skip(`${name} (skipped: ${unavailableReason})`, body);
  }
}
