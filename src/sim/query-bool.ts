// kube-apiserver's reading of a boolean query parameter (apimachinery's Convert_Slice_string_To_bool):
// absent is false, the first value decides, and only "0" and "false" in any case are false, so `?watch`
// and `?watch=` are watches. The stand-in keeps its own copy: it imports nothing from the product.
export function queryBool(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  return value !== null && value !== '0' && value.toLowerCase() !== 'false';
}
