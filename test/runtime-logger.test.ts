import { Writable } from 'node:stream';
import { rolePino, type RoleLogOptions } from '../api/logger';
import { RoleRoutedLogger, roleOfQueue } from '../workers/runtime';

/** Role loggers writing into arrays instead of files. */
function capture(): { lines: Map<string, Array<Record<string, unknown>>>; make: (o: RoleLogOptions) => ReturnType<typeof rolePino> } {
  const lines = new Map<string, Array<Record<string, unknown>>>();
  const make = (o: RoleLogOptions) => {
    const got: Array<Record<string, unknown>> = [];
    lines.set(o.role, got);
    const stream = new Writable({ write: (chunk: Buffer, _enc, done) => { got.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done(); } });
    return rolePino({ ...o, stream });
  };
  return { lines, make };
}

describe('the Temporal SDK logger routed into the role loggers', () => {
  it.each([
    ['summit', 'summit'], ['vessel', 'vessel'], ['avalanche-x86_64', 'avalanche'], ['avalanche-builder-b1', 'avalanche'], ['other', undefined], [undefined, undefined],
  ])('knows which role serves task queue %s', (queue, role) => {
    expect(roleOfQueue(queue)).toBe(role);
  });

  it('writes each line to the role of its task queue, the rest to the fallback, at the configured level', () => {
    const { lines, make } = capture();
    const logger = new RoleRoutedLogger({ level: 'info', fallbackRole: 'summit' }, make);
    logger.info('build started', { taskQueue: 'avalanche-x86_64', buildId: 'build/x', taskToken: 'c2VjcmV0' });
    logger.warn('Activity failed', { taskQueue: 'vessel', error: new Error('boom') });
    logger.debug('too chatty', { taskQueue: 'vessel' });
    logger.info('Worker state changed', { sdkComponent: 'worker' });
    expect(lines.get('avalanche')).toEqual([expect.objectContaining({ role: 'avalanche', level: 'info', msg: 'build started', buildId: 'build/x' })]);
    expect(lines.get('avalanche')![0]).not.toHaveProperty('taskToken');
    expect(lines.get('vessel')).toEqual([expect.objectContaining({ level: 'warn', msg: 'Activity failed', error: expect.objectContaining({ type: 'Error', message: 'boom' }) })]);
    expect(lines.get('summit')).toEqual([expect.objectContaining({ msg: 'Worker state changed', sdkComponent: 'worker' })]);
  });
});
