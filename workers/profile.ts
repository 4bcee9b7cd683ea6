import { readFileSync } from 'node:fs';
import { ConfigError, type Config } from '../core/config';
import { DEFAULT_PROFILE, isInlineProfile, parseProfile, profileSettingProblems, ProfileError, type FarmProfile } from '../core/profile';

/** The largest profile file read: a profile is a few lines; anything this big is a mistake. */
const MAX_PROFILE_BYTES = 256 * 1024;

/**
 * The farm's profile (core/profile.ts) from SUMMIT_PROFILE: the document inline, a JSON or YAML file, or the
 * default. The settings naming levels (SUMMIT_VARIANTS, SUMMIT_BUILDER_ISA, SUMMIT_BUILDER_ARCH) are checked
 * against it; every problem is a ConfigError naming its variable, so an entry point fails at start, not mid-build.
 */
export function loadProfile(config: Pick<Config, 'SUMMIT_PROFILE' | 'SUMMIT_VARIANTS' | 'SUMMIT_BUILDER_ISA' | 'SUMMIT_BUILDER_ARCH'>): FarmProfile {
  const setting = config.SUMMIT_PROFILE;
  let profile: FarmProfile;
  try {
    profile = setting === undefined ? DEFAULT_PROFILE : isInlineProfile(setting) ? parseProfile(setting) : parseProfile(readProfileFile(setting), setting);
  } catch (err) {
    if (err instanceof ProfileError) throw new ConfigError(`invalid configuration:\n  SUMMIT_PROFILE: ${err.message}`);
    throw err;
  }
  const problems = profileSettingProblems(profile, config);
  if (problems.length) throw new ConfigError(`invalid configuration (profile ${setting ?? 'default'}):\n${problems.map((p) => `  ${p.field}: ${p.message}`).join('\n')}`);
  return profile;
}

function readProfileFile(path: string): string {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (err) {
    throw new ProfileError(`cannot read the profile file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (text.length > MAX_PROFILE_BYTES) throw new ProfileError(`the profile file ${path} is ${text.length} bytes; at most ${MAX_PROFILE_BYTES} are read`);
  return text.toString('utf8');
}
