// The Forbidden Status kube-apiserver writes when authorization denies a request
// (responsewriters.Forbidden + errors.NewForbidden). The gateway answers an unknown workspace with
// exactly this, so a client cannot tell "does not exist" from "not yours".
import { GatewayError } from './gateway-error.ts';
import type { RequestAttributes } from './request-attributes.ts';
import type { StatusDetails } from './status.ts';

export function forbiddenMessage(user: string, attrs: RequestAttributes): string {
  if (!attrs.isResourceRequest) return `User ${goQuote(user)} cannot ${attrs.verb} path ${goQuote(attrs.path)}`;
  const resource = attrs.subresource === '' ? attrs.resource : `${attrs.resource}/${attrs.subresource}`;
  const scope = attrs.namespace === '' ? 'at the cluster scope' : `in the namespace ${goQuote(attrs.namespace)}`;
  return `User ${goQuote(user)} cannot ${attrs.verb} resource ${goQuote(resource)} in API group ${goQuote(attrs.apiGroup)} ${scope}`;
}

export function forbidden(user: string, attrs: RequestAttributes, reason = ''): GatewayError {
  const why = reason === '' ? forbiddenMessage(user, attrs) : `${forbiddenMessage(user, attrs)}: ${reason}`;
  const qualified = attrs.apiGroup === '' ? attrs.resource : `${attrs.resource}.${attrs.apiGroup}`;
  let message: string;
  if (attrs.resource === '' && attrs.apiGroup === '') message = `forbidden: ${why}`;
  else if (attrs.name === '') message = `${qualified} is forbidden: ${why}`;
  else message = `${qualified} ${goQuote(attrs.name)} is forbidden: ${why}`;
  // Go omits empty fields of StatusDetails but always writes the (non-nil) details object.
  const details: StatusDetails = {};
  if (attrs.name !== '') details.name = attrs.name;
  if (attrs.apiGroup !== '') details.group = attrs.apiGroup;
  if (attrs.resource !== '') details.kind = attrs.resource;
  return new GatewayError('FORBIDDEN', message, { details });
}

/** Go's %q for the strings that appear here (JSON escaping agrees with it for printable text). */
function goQuote(value: string): string {
  return JSON.stringify(value);
}
