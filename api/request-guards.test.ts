import { bodyIssues, MAX_BODY_DEPTH, urlIssues } from './request-guards';
import { pathPattern } from './route-table';

describe('urlIssues: what the edge refuses in a raw URL', () => {
  it.each([
    ['/api/tasks/build%2Fserpent%2Frecipes%2Fliba-1.0-1%2Fx86_64', []],
    ['/api/tasks?status=failed,blocked&limit=5', []],
    ['/api/tasks?source=caf%C3%A9&repository=a+b', []],
    ['/api/tasks/%F0%9F%98%80', []],
    ['/api/tasks/%E0%A4%A', ['path']],
    ['/api/tasks/%', ['path']],
    ['/api/tasks/%ED%A0%80', ['path']],
    ['/api/tasks/a%00b', ['path']],
    ['/api/tasks/%C2%85', ['path']],
    ['/api/tasks?repository=%00', ['query.repository']],
    ['/api/tasks?source=%ZZ', ['query.source']],
    ['/api/tasks?%ZZ=1', ['query']],
    ['/api/tasks?a%0A=1', ['query']],
    ['/api/tasks/%00?limit=%7F', ['path', 'query.limit']],
  ])('%s → %j', (url, where) => {
    expect(urlIssues(url).map((i) => i.path)).toEqual(where);
  });

  it('quotes hostile input in its messages, cut short and with control characters escaped', () => {
    const [issue] = urlIssues(`/api/tasks/${'x'.repeat(100)}%00`);
    expect(issue.message).toMatch(/^"x{40}…" holds a control character$/);
    expect(urlIssues('/api/tasks?a=%0A')[0].message).toBe('"\\n" holds a control character');
  });
});

describe('bodyIssues: what the edge refuses in a parsed JSON body', () => {
  const deep = (depth: number): unknown => Array.from({ length: depth }).reduce<unknown>((inner) => [inner], 'x');

  it.each([
    ['a flat command', { repository: 'recipes', commit: 'abc1234' }, []],
    ['unicode', { repository: 'ünïcødé 😀' }, []],
    ['a NUL in a value', { repository: 'a\u0000b' }, ['body.repository']],
    ['a control character in an array item', { list: ['ok', 'x\u001b[31m'] }, ['body.list.1']],
    ['a control character in a key', { 'a\u0007': 1 }, ['body']],
    ['a __proto__ key', JSON.parse('{"__proto__": {"admin": true}}'), ['body']],
    ['a nested constructor key', { a: { constructor: 1 } }, ['body.a']],
    ['nesting at the limit', deep(MAX_BODY_DEPTH), []],
  ])('%s', (_what, body, where) => {
    expect(bodyIssues(body).map((i) => i.path)).toEqual(where);
  });

  it('stops at the depth limit without walking further, however deep the body goes', () => {
    const issues = bodyIssues(deep(100_000));
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toBe(`nested deeper than ${MAX_BODY_DEPTH} levels`);
  });
});

describe('pathPattern: a declared route over the raw request path, as express matches it', () => {
  it.each([
    ['/api/tasks/:id/log', '/api/tasks/build%2Fa%2Fb/log', true],
    ['/api/tasks/:id/log', '/api/tasks/x/log/', true],
    ['/api/tasks/:id/log', '/API/TASKS/x/LOG', true],
    ['/api/tasks/:id/log', '/api/tasks/a/b/log', false],
    ['/api/tasks/:id', '/api/tasks/', false],
    ['/health', '/healthz', false],
  ])('%s matches %s: %s', (route, path, matches) => {
    expect(pathPattern(route).test(path)).toBe(matches);
  });

  it('refuses path syntax it cannot reproduce, naming the route', () => {
    expect(() => pathPattern('/files/*rest')).toThrow(/\/files\/\*rest/);
    expect(() => pathPattern('/a{/:b}')).toThrow(/method guard does not know/);
  });
});
