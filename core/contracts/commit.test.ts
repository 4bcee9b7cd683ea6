import { isCommitId, isFullObjectId } from './commit';

const SHA1 = '0123456789abcdef0123456789abcdef01234567';
const SHA256 = `${SHA1}0123456789abcdef01234567`;

describe('git object ids', () => {
  test.each([
    ['1234567', true], [SHA1, true], [SHA256, true],
    ['123456', false], ['ABCDEF0', false], [`${SHA256}0`, false], ['main', false], ['-abcdef0', false], ['', false], ['abcdef0\n', false],
  ])('%j is a commit id: %s', (value, ok) => {
    expect(isCommitId(value)).toBe(ok);
  });

  test.each([
    [SHA1, true], [SHA256, true], ['1234567', false], [SHA1.slice(0, 41 - 2), false], [`${SHA1}0`, false], [SHA1.toUpperCase(), false],
  ])('%j is a full object id: %s', (value, ok) => {
    expect(isFullObjectId(value)).toBe(ok);
  });
});
