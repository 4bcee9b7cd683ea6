import { parseArgs } from 'node:util';
import { UsageError } from './io';

/** node:util parseArgs with our UsageError, so every command reports bad flags the same way. */
export function parseCommandArgs<T extends Record<string, { type: 'boolean' | 'string'; multiple?: boolean }>>(
  args: string[],
  options: T,
  positionals: { min: number; max?: number; names: string },
): { values: { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string }; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const n = parsed.positionals.length;
  if (n < positionals.min || (positionals.max !== undefined && n > positionals.max)) {
    throw new UsageError(`expected ${positionals.names}, got ${n === 0 ? 'nothing' : parsed.positionals.join(' ')}`);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

export function printJson(out: (text: string) => void, value: unknown): void {
  out(JSON.stringify(value, null, 2));
}
