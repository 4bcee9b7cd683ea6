/** The read model's answers that are not outages: an unknown id, a write that lost a race or breaks a rule. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(readonly kind: string, readonly id: string) {
    super(`${kind} "${id}" does not exist`);
  }
}

export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}
