import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Config } from '../../core/config';
import { variantsFor } from '../../core/variants';
import { loadProfile } from '../../workers/profile';

/** What the dashboard needs beyond the API's own dependencies. */
export interface DashboardOptions {
  /** The Temporal UI's base URL (no trailing slash), for links to build workflows; none: no links. */
  temporalUiUrl?: string;
  namespace: string;
  /** Where the published repositories are: `<base>/<index>/moss-root-index.json` (file:// or http(s)://). */
  packagesBaseUrl?: string;
  /** The indexes (one per variant) the farm publishes to. */
  indexes: readonly string[];
  /** The profile's architectures (SUMMIT_PROFILE): each index has a stone.index per architecture. */
  architectures?: readonly string[];
}

/**
 * From the configuration: SUMMIT_TEMPORAL_UI_URL, else the UI origin the codec endpoint allows
 * (SUMMIT_CODEC_UI_ORIGIN, which `npm start` sets to its own UI); the published repositories where builders
 * fetch them from (SUMMIT_PACKAGES_URL, else vessel's folder in the data dir, as summit assumes).
 */
export function dashboardOptions(config: Config): DashboardOptions {
  const profile = loadProfile(config);
  const ui = config.SUMMIT_TEMPORAL_UI_URL ?? config.SUMMIT_CODEC_UI_ORIGIN;
  return {
    temporalUiUrl: ui?.replace(/\/+$/, ''),
    namespace: config.SUMMIT_TEMPORAL_NAMESPACE,
    packagesBaseUrl: config.SUMMIT_PACKAGES_URL ?? pathToFileURL(resolve(config.SUMMIT_DATA_DIR, 'vessel', 'repos')).href,
    indexes: variantsFor(config.SUMMIT_VARIANTS, profile).map((v) => v.index),
    architectures: profile.architectures,
  };
}
