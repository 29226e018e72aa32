// Boolean query parameters read exactly as kube-apiserver reads them (apimachinery's
// Convert_Slice_string_To_bool and its pointer twin): absent is false; the first value decides; only "0"
// and "false" in any case (Go's strings.EqualFold) are false. Anything else — `?watch`, `?watch=`,
// `watch=True`, `watch=yes` — is true. Every decision the gateway takes on such a parameter (watch,
// follow, sendInitialEvents…) goes through here, so no request is a watch at the shard and a list to us.

/** One parameter's first value (null when absent), as URLSearchParams.get gives it. */
export function parseQueryBool(value: string | null): boolean {
  if (value === null) return false;
  if (value === '0') return false;
  return !isFalseIgnoringCase(value);
}

/** The boolean value of query parameter `name` as kube-apiserver decodes it. */
export function queryBool(query: URLSearchParams, name: string): boolean {
  return parseQueryBool(query.get(name));
}

const falseLetters = 'false';

/**
 * strings.EqualFold(value, "false") without allocating. Simple case folding adds one non-ASCII member
 * to these letters' orbits: U+017F LATIN SMALL LETTER LONG S folds to 's'.
 */
function isFalseIgnoringCase(value: string): boolean {
  if (value.length !== 5) return false;
  for (let i = 0; i < 5; i++) {
    const c = value.charCodeAt(i);
    const want = falseLetters.charCodeAt(i);
    if (c === want || c === want - 32) continue; // ASCII lower or upper case
    if (want === 115 /* s */ && c === 0x17f) continue;
    return false;
  }
  return true;
}
