import { formatSse, SseParser } from './sse';

describe('server-sent events', () => {
  it('round-trips events split at any byte', () => {
    const events = [
      { event: 'log', id: '12', data: 'first line\nsecond line' },
      { event: 'log', id: '20', data: 'progress 10%\rprogress 20%' },
      { event: 'end', id: '20', data: '{"status":"failed"}' },
    ];
    const text = events.map(formatSse).join(': keep-alive\n\n');
    for (const cut of [1, 7, 13, text.length - 1]) {
      const parser = new SseParser();
      const got = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      expect(got).toEqual([events[0], { ...events[1], data: 'progress 10%\nprogress 20%' }, events[2]]);
    }
  });
});
