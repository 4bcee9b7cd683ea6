import { ApiClient, resolveApiTarget } from './api-client';

/** The API client of an admin command: reads need no token, commands need the admin one (api-client.ts says where from). */
export async function connect(needToken: boolean): Promise<ApiClient> {
  return new ApiClient(await resolveApiTarget(process.env, { needToken }));
}

/** A path segment for an id (task ids contain slashes: one URL-encoded segment). */
export const seg = (id: string) => encodeURIComponent(id);

/** `{ reason }` when `--reason` was given, else an empty body. */
export const reasonBody = (reason: string | undefined) => (reason ? { reason } : {});
