/**
 * The one error type every format reader throws for bad input. Anything else escaping a reader is a bug:
 * the fuzz tests assert exactly that.
 */
export class FormatError extends Error {
  override readonly name = 'FormatError';
  constructor(
    /** Which format was being read: 'stone', 'recipe', 'manifest', 'index', 'root-index'. */
    readonly format: string,
    /** Where: a file path, payload name, YAML path or byte offset — whatever pins the problem down. */
    readonly where: string,
    /** What is wrong, in words a packager understands. */
    readonly problem: string,
  ) {
    super(where ? `${format}: ${where}: ${problem}` : `${format}: ${problem}`);
  }
}

export function isFormatError(err: unknown): err is FormatError {
  return err instanceof FormatError;
}
