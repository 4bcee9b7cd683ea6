import { HasherPool, xxh3_128, xxh3_128Of } from './hash';

describe('a pool of hashers', () => {
  it('gives the same digest with a reused hasher as with a fresh one, even after a caller left one half-used', async () => {
    let made = 0;
    const pool = new HasherPool(() => {
      made++;
      return xxh3_128();
    }, 2);
    const data = Buffer.from('stone content');
    const first = await pool.take();
    first.update(Buffer.from('left half-used by a caller that failed'));
    pool.give(first);
    const again = await pool.take();
    expect(again).toBe(first);
    again.update(data);
    expect(Buffer.from(again.digest('binary'))).toEqual(Buffer.from(await xxh3_128Of(data)));
    pool.give(again);
    expect(made).toBe(1);
  });

  it('hands out a hasher to one caller at a time, and keeps no more than it was told', async () => {
    let made = 0;
    const pool = new HasherPool(() => {
      made++;
      return xxh3_128();
    }, 1);
    const [a, b] = await Promise.all([pool.take(), pool.take()]);
    expect(a).not.toBe(b);
    a.update(Buffer.from('a'));
    b.update(Buffer.from('b'));
    expect(Buffer.from(a.digest('binary'))).toEqual(Buffer.from(await xxh3_128Of(Buffer.from('a'))));
    expect(Buffer.from(b.digest('binary'))).toEqual(Buffer.from(await xxh3_128Of(Buffer.from('b'))));
    pool.give(a);
    pool.give(a);
    pool.give(b);
    expect(await pool.take()).toBe(a);
    // b was not kept (the pool holds one), so the next take makes a new hasher.
    expect(await pool.take()).not.toBe(b);
    expect(made).toBe(3);
  });
});
