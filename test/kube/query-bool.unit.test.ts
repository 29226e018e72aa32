import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryBool } from '../../src/kube/query-bool.ts';

// What kube-apiserver decodes each query string to (apimachinery Convert_Slice_string_To_bool).
const cases: Array<[query: string, expected: boolean]> = [
  ['', false],
  ['other=1', false],
  ['watch', true],
  ['watch=', true],
  ['watch=1', true],
  ['watch=true', true],
  ['watch=True', true],
  ['watch=TRUE', true],
  ['watch=yes', true],
  ['watch=no', true],
  ['watch=2', true],
  ['watch=00', true],
  ['watch=%20', true],
  ['watch=false%20', true],
  ['watch=0', false],
  ['watch=false', false],
  ['watch=False', false],
  ['watch=FALSE', false],
  ['watch=fAlSe', false],
  ['watch=fal%C5%BFe', false], // U+017F folds to 's' in Go's EqualFold
  ['watch=%66alse', false],
  ['watch=0&watch=1', false], // the first value decides
  ['watch=1&watch=0', true],
  ['watch&watch=false', true],
];

for (const [query, expected] of cases) {
  test(`?${query} is ${expected ? 'a watch' : 'no watch'}`, () => {
    assert.equal(queryBool(new URLSearchParams(query), 'watch'), expected);
  });
}
