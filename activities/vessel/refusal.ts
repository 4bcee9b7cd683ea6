import { ApplicationFailure } from '@temporalio/common';
import { IMPORT_REFUSED, type ImportRefusal } from '../../core/contracts/build';

/**
 * A refusal is permanent: the artefact or the build is wrong (hash mismatch, broken stone, release rule), and
 * fetching it again would give the same answer. So it is a non-retryable ApplicationFailure of type
 * IMPORT_REFUSED carrying the ImportRefusal as its details; everything else vessel throws is retryable.
 */
export function importRefused(refusal: ImportRefusal): ApplicationFailure {
  return ApplicationFailure.create({ message: refusal.reason, type: IMPORT_REFUSED, nonRetryable: true, details: [refusal] });
}

export function isImportRefused(err: unknown): err is ApplicationFailure {
  return err instanceof ApplicationFailure && err.type === IMPORT_REFUSED;
}

/** The ImportRefusal an IMPORT_REFUSED failure carries. */
export function refusalOf(err: ApplicationFailure): ImportRefusal {
  return err.details?.[0] as ImportRefusal;
}
