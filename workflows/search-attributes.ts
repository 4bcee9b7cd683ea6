import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { BuildSearchAttribute } from '../core/contracts/search-attributes';

/** Typed keys for the build search attributes (names declared once in core/contracts/search-attributes). */
const key = (name: BuildSearchAttribute) => defineSearchAttributeKey(name, SearchAttributeType.KEYWORD);

export const BuildPackage = key('BuildPackage');
export const BuildIsa = key('BuildIsa');
export const BuildArchitecture = key('BuildArchitecture');
export const BuildBuilder = key('BuildBuilder');
export const BuildCommit = key('BuildCommit');
export const BuildStatus = key('BuildStatus');
export const BuildWave = key('BuildWave');
