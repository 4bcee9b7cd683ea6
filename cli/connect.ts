import { ApiClient, ApiUnreachableError, resolveApiTarget } from './api-client';

/**
 * The API client of an admin command: reads need no token, commands need the admin one (api-client.ts says where
 * from). A target that cannot be made (no token, a URL that is not http) is reported like an unreachable API:
 * its message and exit 1, no stack trace.
 */
export async function connect(needToken: boolean): Promise<ApiClient> {
  try {
    return new ApiClient(await resolveApiTarget(process.env, { needToken }));
  } catch (err) {
    throw new ApiUnreachableError((err as Error).message);
  }
}

/** A path segment for an id (task ids contain slashes: one URL-encoded segment). */
export const seg = (id: string) => encodeURIComponent(id);

/** `{ reason }` when `--reason` was given, else an empty body. */
export const reasonBody = (reason: string | undefined) => (reason ? { reason } : {});
