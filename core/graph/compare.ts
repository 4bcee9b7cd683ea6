/**
 * Code-unit order for ids and provider strings: locale-independent, so every machine (and every replay of a
 * workflow) sorts names the same way. `localeCompare` would not be.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
