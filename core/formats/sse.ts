/**
 * Server-Sent Events (the WHATWG `text/event-stream` format), both ways: the builder and the API write build logs
 * as events, the API and the CLI read them.
 *
 * A log event carries whole lines of the log as its data (one `data:` field per line, so the data is the lines
 * joined by `\n`, without the last newline) and, as its id, the byte offset in the log just after them: a reader
 * that reconnects sends it back (`Last-Event-ID`, or `?from=`) and gets what follows. Carriage returns end a line
 * in this format, so a `\r` of a progress bar arrives as a line break.
 */
export interface SseEvent {
  event?: string;
  id?: string;
  data: string;
}

export function formatSse(e: SseEvent): string {
  let out = '';
  if (e.event) out += `event: ${oneLine(e.event)}\n`;
  if (e.id !== undefined) out += `id: ${oneLine(e.id)}\n`;
  for (const line of e.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A comment line: keeps proxies from closing an idle stream, ignored by readers. */
export const SSE_KEEPALIVE = ': keep-alive\n\n';

function oneLine(s: string): string {
  return s.replace(/[\r\n]/g, ' ');
}

/** Incremental parser: feed text as it arrives, get the complete events back. */
export class SseParser {
  private buffer = '';
  private event: { event?: string; id?: string; data: string[] } = { data: [] };

  push(text: string): SseEvent[] {
    this.buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\r|\n/.exec(this.buffer);
      // A lone \r at the end may be the start of \r\n: wait for the next chunk.
      if (!m || (m[0] === '\r' && m.index === this.buffer.length - 1)) break;
      const line = this.buffer.slice(0, m.index);
      this.buffer = this.buffer.slice(m.index + m[0].length);
      if (line === '') {
        if (this.event.data.length > 0 || this.event.event) out.push({ ...this.event, data: this.event.data.join('\n') });
        this.event = { data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') this.event.data.push(value);
      else if (field === 'event') this.event.event = value;
      else if (field === 'id') this.event.id = value;
    }
    return out;
  }
}
