// rbac.authorization.k8s.io/v1, authentication.k8s.io/v1 and authorization.k8s.io/v1 kinds.
import { atomicList, bool, kind, loose, object, ref, str, strings, type Schema } from './builders.ts';
import { labelSelector } from './meta.ts';

const rbac = (name: string) => `io.k8s.api.rbac.v1.${name}`;
const rbacKind = (kindName: string, description: string, properties: Record<string, Schema>) => kind('rbac.authorization.k8s.io', 'v1', kindName, description, properties);
const rules = atomicList(rbac('PolicyRule'), 'Rules holds all the PolicyRules for this Role');
const subjects = atomicList(rbac('Subject'), 'Subjects holds references to the objects the role applies to.');
const roleRef = ref(
  rbac('RoleRef'),
  'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.',
  { default: {} },
);

export const rbacSchemas: Record<string, Schema> = {
  [rbac('Role')]: rbacKind('Role', 'Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.', { rules }),
  [rbac('ClusterRole')]: rbacKind(
    'ClusterRole',
    'ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.',
    {
      rules,
      aggregationRule: ref(rbac('AggregationRule'), 'AggregationRule is an optional field that describes how to build the Rules for this ClusterRole.'),
    },
  ),
  [rbac('RoleBinding')]: rbacKind(
    'RoleBinding',
    'RoleBinding references a role, but does not contain it. It can reference a Role in the same namespace or a ClusterRole in the global namespace.',
    { subjects, roleRef },
  ),
  [rbac('ClusterRoleBinding')]: rbacKind(
    'ClusterRoleBinding',
    'ClusterRoleBinding references a ClusterRole, but not contain it. It can reference a ClusterRole in the global namespace, and adds who information via Subject.',
    { subjects, roleRef },
  ),
  [rbac('PolicyRule')]: object(
    'PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.',
    {
      verbs: strings("Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule. '*' represents all verbs."),
      apiGroups: strings('APIGroups is the name of the APIGroup that contains the resources.'),
      resources: strings("Resources is a list of resources this rule applies to. '*' represents all resources."),
      resourceNames: strings('ResourceNames is an optional white list of names that the rule applies to.'),
      nonResourceURLs: strings('NonResourceURLs is a set of partial urls that a user should have access to.'),
    },
    ['verbs'],
  ),
  [rbac('AggregationRule')]: object('AggregationRule describes how to locate ClusterRoles to aggregate into the ClusterRole', {
    clusterRoleSelectors: {
      type: 'array',
      items: labelSelector('A label selector.'),
      description: 'ClusterRoleSelectors holds a list of selectors which will be used to find ClusterRoles and create the rules.',
      'x-kubernetes-list-type': 'atomic',
    },
  }),
  [rbac('Subject')]: {
    ...object(
      'Subject contains a reference to the object or user identities a role binding applies to.',
      {
        kind: str('Kind of object being referenced. Values defined by this API group are "User", "Group", and "ServiceAccount".'),
        apiGroup: str('APIGroup holds the API group of the referenced subject.'),
        name: str('Name of the object being referenced.'),
        namespace: str('Namespace of the referenced object.'),
      },
      ['kind', 'name'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },
  [rbac('RoleRef')]: {
    ...object(
      'RoleRef contains information that points to the role being used',
      {
        apiGroup: str('APIGroup is the group for the resource being referenced'),
        kind: str('Kind is the type of resource being referenced'),
        name: str('Name is the name of resource being referenced'),
      },
      ['apiGroup', 'kind', 'name'],
    ),
    'x-kubernetes-map-type': 'atomic',
  },

  'io.k8s.api.authentication.v1.SelfSubjectReview': kind(
    'authentication.k8s.io',
    'v1',
    'SelfSubjectReview',
    'SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request.',
    {
      status: loose('Status is filled in by the server with the user attributes.'),
    },
  ),
  'io.k8s.api.authorization.v1.SelfSubjectAccessReview': kind(
    'authorization.k8s.io',
    'v1',
    'SelfSubjectAccessReview',
    'SelfSubjectAccessReview checks whether or the current user can perform an action.',
    {
      spec: object('SelfSubjectAccessReviewSpec is a description of the access request.', {
        resourceAttributes: object('ResourceAttributes describes information for a resource access request', {
          namespace: str('Namespace is the namespace of the action being requested.'),
          verb: str('Verb is a kubernetes resource API verb, like: get, list, watch, create, update, delete, proxy.'),
          group: str('Group is the API Group of the Resource.'),
          version: str('Version is the API Version of the Resource.'),
          resource: str('Resource is one of the existing resource types.'),
          subresource: str('Subresource is one of the existing resource types.'),
          name: str('Name is the name of the resource being requested for a "get" or deleted for a "delete".'),
          fieldSelector: loose('fieldSelector describes the limitation on access based on field.'),
          labelSelector: loose('labelSelector describes the limitation on access based on labels.'),
        }),
        nonResourceAttributes: object('NonResourceAttributes describes information for a non-resource access request', {
          path: str('Path is the URL path of the request'),
          verb: str('Verb is the standard HTTP verb'),
        }),
      }),
      status: object('SubjectAccessReviewStatus', {
        allowed: bool('Allowed is required. True if the action would be allowed, false otherwise.'),
        denied: bool('Denied is optional. True if the action would be denied, otherwise false.'),
        reason: str('Reason is optional. It indicates why a request was allowed or denied.'),
      }),
    },
  ),
};
