import { LineChunker, LogRedactor } from './log-redaction';

describe('log redaction', () => {
  const redactor = new LogRedactor(['k1', 'c2VjcmV0LXBheWxvYWQta2V5LXZhbHVl']);
  it.each([
    ['cloning https://alice:hunter22@git.example.org/r.git', 'cloning https://**************@git.example.org/r.git'],
    ['Authorization: Bearer abcdefgh12345678', 'Authorization: Bearer ****************'],
    ['export GITHUB_TOKEN=ghp_abcdef123456', 'export GITHUB_TOKEN=****************'],
    ['"password": "s3cr3t-pw"', '"password": "*********"'],
    ['key c2VjcmV0LXBheWxvYWQta2V5LXZhbHVl used', `key ${'*'.repeat(32)} used`],
    [`token v1.${'Yg'}.1700000000.${'A'.repeat(43)} here`, `token ${'*'.repeat(`v1.Yg.1700000000.${'A'.repeat(43)}`.length)} here`],
  ])('masks %j keeping its length', (line, masked) => {
    const out = redactor.redact(Buffer.from(line, 'latin1')).toString('latin1');
    expect(out).toBe(masked);
    expect(out.length).toBe(line.length);
  });

  it('leaves ordinary build output alone, short literals included', () => {
    const line = 'make[2]: Entering directory /mason/build (k1 test) https://example.org/x.tar.xz';
    expect(redactor.redact(Buffer.from(line)).toString()).toBe(line);
  });

  it('keeps byte offsets with multi-byte text around a secret', () => {
    const line = Buffer.from('é https://bob:pässword@h/ ü\n', 'utf8');
    const out = redactor.redact(line);
    expect(out.length).toBe(line.length);
    expect(out.toString('utf8')).toMatch(/^é https:\/\/\*+@h\/ ü\n$/);
  });
});

describe('LineChunker', () => {
  it('hands out whole lines only, keeping the unfinished one until flushed', () => {
    const c = new LineChunker();
    expect(c.push(Buffer.from('one\ntw')).toString()).toBe('one\n');
    expect(c.pending).toBe(2);
    expect(c.push(Buffer.from('o\nthree')).toString()).toBe('two\n');
    expect(c.flush().toString()).toBe('three');
  });

  it('cuts a line longer than its limit', () => {
    const c = new LineChunker(4);
    expect(c.push(Buffer.from('abcdef')).toString()).toBe('abcdef');
    expect(c.pending).toBe(0);
  });
});
