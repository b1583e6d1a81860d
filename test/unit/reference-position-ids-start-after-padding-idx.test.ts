import { expect, it } from 'vitest';
import { robertaPositionIds } from '../helpers/reference-roberta.js';

it('gives the first real token position padTokenId + 1 and padding the position padTokenId', () => {
  // <s> This film </s> <pad> <pad>
  expect(robertaPositionIds([0, 713, 822, 2, 1, 1], 1)).toEqual([2, 3, 4, 5, 1, 1]);
  // Left padding shifts nothing: positions count real tokens only.
  expect(robertaPositionIds([1, 1, 0, 713, 2], 1)).toEqual([1, 1, 2, 3, 4]);
});
