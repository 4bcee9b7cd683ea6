import type { Store } from '../../db/store';
import type { PipelineControl } from '../pipeline';

/** Pushes and refresh requests: checked against the read model, then handed to the hub as a refresh signal. */
export interface RefreshDeps {
  store: Store;
  pipeline: PipelineControl;
}

export interface Push {
  repository: string;
  commit?: string;
  ref?: string;
}

/** The API's answer to a refresh request or a push: whether the hub was asked to refresh. */
export interface RefreshQueued {
  repository: string;
  queued: boolean;
  /** Why a push was not queued. */
  reason?: string;
}

/** `main` and `refs/heads/main` name the same branch; HEAD stays HEAD. */
function fullRef(ref: string): string {
  return ref === 'HEAD' || ref.startsWith('refs/') ? ref : `refs/heads/${ref}`;
}

/** An admin's "read this repository again now". Unknown repositories are a 404 here, not a signal the hub drops. */
export async function requestRefresh(deps: RefreshDeps, id: string): Promise<RefreshQueued> {
  const repo = await deps.store.getRepository(id);
  await deps.pipeline.refresh({ repository: repo.id, origin: 'api' });
  return { repository: repo.id, queued: true };
}

/**
 * A push reported by a repository's post-receive hook. A push to a branch summit does not watch is acknowledged
 * and ignored: building it would publish packages from an unreviewed branch. A repository watching HEAD accepts
 * any ref, because the hook itself only reports the bare repository's HEAD branch.
 */
export async function acceptPush(deps: RefreshDeps, push: Push): Promise<RefreshQueued> {
  const repo = await deps.store.getRepository(push.repository);
  const watched = fullRef(repo.ref);
  if (push.ref && watched !== 'HEAD' && fullRef(push.ref) !== watched) {
    return { repository: repo.id, queued: false, reason: `${push.ref} is not the watched ref ${watched}` };
  }
  await deps.pipeline.refresh({ repository: repo.id, commit: push.commit, origin: 'hook' });
  return { repository: repo.id, queued: true };
}
