/**
 * The end of a build log that travels with a failure (BuildFailureDetails.logTail): small enough for a Temporal
 * payload and the task list, large enough to hold the compiler's error and the make line that failed.
 */
export const LOG_TAIL_MAX_LINES = 64;
export const LOG_TAIL_MAX_BYTES = 8 * 1024;

/** The last lines of `text` within both limits. A line cut by the byte limit loses its start, never its end. */
export function logTail(text: string, maxLines = LOG_TAIL_MAX_LINES, maxBytes = LOG_TAIL_MAX_BYTES): string {
  const joined = text.replace(/\n+$/, '').split('\n').slice(-maxLines).join('\n');
  const bytes = Buffer.from(joined, 'utf8');
  if (bytes.length <= maxBytes) return joined;
  // Cut on a character boundary: skip UTF-8 continuation bytes at the cut.
  let start = bytes.length - maxBytes;
  while (start < bytes.length && (bytes[start] & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString('utf8');
}
