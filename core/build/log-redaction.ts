/**
 * Secrets out of build logs. A build log is written by strangers' recipes and by our own steps; what leaves the
 * builder (the live stream, the collected copy, a failure's tail) goes through here first.
 *
 * Masking keeps the length: every byte of a secret becomes `*`. Offsets in the log are then the same on the
 * builder's file, the live stream and the collected copy, so a reader can resume at a byte offset whichever of
 * them it reads next. Work is done on latin1 text (one char per byte) for the same reason.
 *
 * What is masked:
 * - the user-info of URLs (`https://user:pass@host` → `https://*********@host`);
 * - bearer credentials (`Authorization: Bearer …`, `Bearer …`) and summit artefact tokens (core/build/tokens.ts);
 * - values of assignments whose name says secret (`PASSWORD=…`, `api_token: …`, `SECRET_KEY="…"`);
 * - any literal the builder knows is secret (its token key, the payload keys), given by the caller.
 */
/**
 * Each pattern: what stays before the secret (group 1), then the secret (group 2), masked. No lookbehind of
 * variable length: the engine would try it at every byte of a 64 MiB log.
 */
const PATTERNS: ReadonlyArray<{ cheap: RegExp; re: RegExp }> = [
  // user-info of a URL: scheme://<user-info>@
  { cheap: /:\/\/[^\s/@]*@/, re: /(\b[a-z][a-z0-9+.-]*:\/\/)([^\s/@'"<>]+)(?=@)/gi },
  { cheap: /bearer/i, re: /(\bbearer\s+)([A-Za-z0-9._~+/=-]{8,})/gi },
  { cheap: /v1\./, re: /()(\bv1\.[A-Za-z0-9_-]+\.\d{1,15}\.[A-Za-z0-9_-]{43}\b)/g },
  // NAME=value, NAME: value, "name": "value" where NAME holds a secret-sounding word
  {
    cheap: /password|passwd|secret|token|api[_-]?key|private[_-]?key|credential/i,
    re: /((?:password|passwd|secret|token|api[_-]?key|private[_-]?key|credentials?)[A-Za-z0-9_.-]*["']?\s*[=:]\s*["']?)([^\s"',;]{4,})/gi,
  },
];

/** Literals shorter than this are not masked: masking `a` everywhere would destroy the log and hide nothing. */
const MIN_LITERAL = 8;

export class LogRedactor {
  private readonly literals: string[];

  constructor(literals: readonly string[] = []) {
    this.literals = [...new Set(literals.filter((l) => l.length >= MIN_LITERAL).map((l) => Buffer.from(l, 'utf8').toString('latin1')))];
  }

  /** Mask the secrets of `bytes` (whole lines: a secret cut by a chunk boundary would slip through). */
  redact(bytes: Buffer): Buffer {
    const text = bytes.toString('latin1');
    const masked = this.redactText(text);
    return masked === text ? bytes : Buffer.from(masked, 'latin1');
  }

  /** The same on latin1 text (one char per byte); returns text of the same length. */
  redactText(text: string): string {
    let out = text;
    for (const { cheap, re } of PATTERNS) if (cheap.test(out)) out = out.replace(re, (_m, keep: string, secret: string) => keep + '*'.repeat(secret.length));
    for (const literal of this.literals) out = out.split(literal).join('*'.repeat(literal.length));
    return out;
  }

  /** For text already decoded as UTF-8 (a failure's tail): masked, then decoded again. */
  redactString(text: string): string {
    return this.redact(Buffer.from(text, 'utf8')).toString('utf8');
  }
}

/**
 * Splits a byte stream into whole lines for redaction: `push` returns the complete lines of what came so far,
 * keeping an unfinished last line for later; `flush` returns it at the end. Lines longer than `maxLine` are
 * cut there, so a log without newlines cannot grow the buffer without bound.
 */
export class LineChunker {
  private rest: Buffer = Buffer.alloc(0);

  constructor(private readonly maxLine = 1 << 20) {}

  push(chunk: Buffer): Buffer {
    const all = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const cut = all.lastIndexOf(0x0a) + 1;
    if (cut === 0 && all.length < this.maxLine) {
      this.rest = all;
      return Buffer.alloc(0);
    }
    const end = cut === 0 ? all.length : cut;
    this.rest = all.subarray(end);
    return all.subarray(0, end);
  }

  /** Bytes held back (an unfinished line). */
  get pending(): number {
    return this.rest.length;
  }

  flush(): Buffer {
    const out = this.rest;
    this.rest = Buffer.alloc(0);
    return out;
  }
}
