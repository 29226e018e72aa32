// The JSON text of stored objects, serialised once however often they are sent. A stored object never
// changes once written (writes store a new object; watchers and readers get the stored one itself), so
// its text can be shared by every watcher of the change and by the answer to the write that made it.
// Weak, so the text lives exactly as long as the object does in the store and the watch history.
const serialised = new WeakMap<object, string>();

/** JSON.stringify(object), remembered for `object`, which must never be changed afterwards. */
export function storedObjectJson(object: object): string {
  let json = serialised.get(object);
  if (json === undefined) serialised.set(object, (json = JSON.stringify(object)));
  return json;
}
