// Query parameters read as kube's apimachinery converts them: a boolean is true whenever the parameter
// is present unless its first value is `0` or `false` (any case), so `?watch`, `?watch=` and `watch=True`
// are all watches; an integer that does not parse is a 400, not a silent zero.
import { badRequest } from './errors.ts';

export function queryBool(query: URLSearchParams, name: string): boolean {
  const first = query.getAll(name)[0];
  if (first === undefined) return false;
  return first !== '0' && first.toLowerCase() !== 'false';
}

export function queryInt(query: URLSearchParams, name: string): number | undefined {
  const first = query.getAll(name)[0];
  if (first === undefined || first === '') return undefined;
  if (!/^[+-]?\d+$/.test(first)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(first)}: must be an integer`);
  const value = Number(first);
  if (!Number.isSafeInteger(value)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(first)}: out of range`);
  return value;
}
