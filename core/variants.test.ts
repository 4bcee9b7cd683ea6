import { profileOf, variantsFor } from './variants';

describe('the build variants of the farm', () => {
  test('the x86_64 baseline publishes to main, each extra level to main-<suffix>', () => {
    expect(variantsFor([])).toEqual([{ isa: 'x86_64', index: 'main', architecture: 'x86_64' }]);
    expect(variantsFor(['x86_64-v3x'])).toEqual([{ isa: 'x86_64', index: 'main', architecture: 'x86_64' }, { isa: 'x86_64-v3x', index: 'main-v3x', architecture: 'x86_64' }]);
  });

  test('naming the baseline among the extra levels does not add it twice', () => {
    expect(variantsFor(['x86_64', 'x86_64-v3x']).map((v) => v.isa)).toEqual(['x86_64', 'x86_64-v3x']);
  });

  test('for the scheduler every extra level layers on the baseline', () => {
    expect(profileOf(variantsFor(['x86_64-v3x']))).toEqual({
      variants: [{ id: 'x86_64', index: 'main' }, { id: 'x86_64-v3x', index: 'main-v3x', layersOn: 'x86_64' }],
    });
  });
});
